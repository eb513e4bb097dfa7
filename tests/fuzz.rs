//! Fuzzing with shrinking (proptest) of the two parsers that see raw input
//! first: the codice fiscale parser and the CSV sniffer and reader (issue 7).
//! Whatever the input: no panic, and an answer in bounded time.
//!
//! `cargo test` runs a few hundred cases of each; `.ci/run` runs a longer
//! pass (about a minute) with `PROPTEST_CASES` raised. A failure shrinks to a
//! minimal input, which proptest saves in `tests/fuzz.proptest-regressions`
//! (commit it: those cases run first, every time); inputs that once broke
//! something are also kept below as plain tests.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use siso::codes::cf;
use siso::importers::csv::Delimited;
use siso::importers::{Importer as _, dialect, encoding};
use time::macros::date;

/// The most one input may take (debug build, on a loaded 2-core machine).
const BOUND: Duration = Duration::from_secs(5);

/// `default` cases for `cargo test`, or `PROPTEST_CASES` when set (the
/// longer pass of `.ci/run`).
fn cases(default: u32) -> ProptestConfig {
    match std::env::var("PROPTEST_CASES") {
        Ok(_) => ProptestConfig::default(),
        Err(_) => ProptestConfig::with_cases(default),
    }
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    prop_assert!(took < BOUND, "{what} took {took:?}");
    Ok(out)
}

/// Everything the cf module offers, on one input.
fn all_cf(s: &str) {
    for today in [
        date!(2026 - 11 - 26),
        date!(1900 - 01 - 01),
        time::Date::MAX,
    ] {
        let _ = cf::parse(s, today);
    }
    let _ = cf::person_key(s);
    let _ = cf::omocodes(s);
    let _ = cf::check_char(s);
    if let Ok(cf::CodiceFiscale::Personal(p)) = cf::parse(s, date!(2026 - 11 - 26)) {
        let _ = cf::consistency(&p, None, None, None);
        let _ = cf::omocodes(&p.code);
        // The master data compared with it may be anything too.
        for (date, belfiore) in [
            (date!(2000 - 02 - 29), s),
            (time::Date::MIN, ""),
            (time::Date::MAX, "  f205 "),
        ] {
            let _ = cf::consistency(&p, Some(date), Some(cf::Sex::F), Some(belfiore));
            let _ = cf::consistency(
                &p,
                Some(date),
                Some(cf::Sex::M),
                Some(&p.belfiore.to_lowercase()),
            );
        }
    }
}

/// A character anywhere in Unicode, weighted towards the ones a codice
/// fiscale is made of and the ones that break byte slicing (multi-byte).
fn cf_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('A', 'Z'),
        3 => proptest::char::range('0', '9'),
        1 => proptest::char::range('a', 'z'),
        1 => Just(' '),
        1 => prop_oneof![Just('à'), Just('€'), Just('𝄞'), Just('\u{0}'), Just('\u{301}'), Just('Ａ'), Just('٣')],
        1 => any::<char>(),
    ]
}

/// CSV-ish bytes: delimiters, quotes, line ends of every kind, byte order
/// marks, NULs, Latin-1 and UTF-8 letters, broken UTF-8, and plain runs.
fn csv_token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[A-Za-z0-9 ]{1,8}".prop_map(String::into_bytes),
        3 => prop_oneof![Just(b";"), Just(b","), Just(b"|"), Just(b"\t")].prop_map(|b| b.to_vec()),
        2 => prop_oneof![Just(&b"\""[..]), Just(&b"\"\""[..])].prop_map(<[u8]>::to_vec),
        2 => prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..])].prop_map(<[u8]>::to_vec),
        1 => prop_oneof![
            Just(&b"\xEF\xBB\xBF"[..]),
            Just(&b"\xFF\xFE"[..]),
            Just(&b"\xFE\xFF"[..]),
            Just(&b"\0"[..]),
            Just(&b"\xE9"[..]),
            Just("è€𝄞".as_bytes()),
            Just(&b"\xC3"[..]),
            Just(&b"\xF0\x9D"[..]),
        ]
        .prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(any::<u8>(), 1..16),
    ]
}

fn csv_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(csv_token(), 0..120).prop_map(|t| t.concat())
}

/// Sniffs and reads `bytes` as a file, the way `siso import` does.
fn read_file(dir: &Path, bytes: &[u8], importer: &Delimited) -> Result<(), TestCaseError> {
    let path = dir.join("f.csv");
    std::fs::write(&path, bytes).unwrap();
    timed("sniff + read", || {
        if let Ok(layout) = importer.sniff(&path) {
            let mut records = 0usize;
            let _ = importer.read(&path, &layout, &mut |item| {
                if let Ok((_, r)) = item {
                    // Every cell of every record can be looked at.
                    records += r.fields().map(str::len).count().min(1);
                }
            });
        }
    })
}

fn forced_encoding() -> impl Strategy<Value = Option<&'static encoding_rs::Encoding>> {
    prop_oneof![
        Just(None),
        Just(Some(encoding_rs::UTF_8)),
        Just(Some(encoding_rs::UTF_16LE)),
        Just(Some(encoding_rs::UTF_16BE)),
        Just(Some(encoding_rs::WINDOWS_1252)),
    ]
}

proptest! {
    #![proptest_config(cases(256))]

    /// Arbitrary bytes, as a technician may paste anything into a cell.
    #[test]
    fn cf_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let s = String::from_utf8_lossy(&bytes);
        timed("cf", || all_cf(&s))?;
    }

    /// Strings of about a code's length, from any characters.
    #[test]
    fn cf_never_panics_near_the_length_of_a_code(chars in proptest::collection::vec(cf_char(), 0..24)) {
        let s: String = chars.into_iter().collect();
        timed("cf", || all_cf(&s))?;
    }

    /// A well-formed code with one character replaced by anything, at any
    /// position, or with characters added around it.
    #[test]
    fn cf_never_panics_on_a_damaged_code(
        first15 in "[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-MZ][0-9LMNPQRSTUV]{3}",
        pos in 0usize..16,
        ch in cf_char(),
        before in proptest::collection::vec(cf_char(), 0..3),
        after in proptest::collection::vec(cf_char(), 0..3),
    ) {
        let code = format!("{first15}{}", cf::check_char(&first15).unwrap());
        let mut chars: Vec<char> = code.chars().collect();
        chars[pos] = ch;
        let damaged: String = before.iter().chain(chars.iter()).chain(after.iter()).collect();
        timed("cf", || all_cf(&damaged))?;
    }

}

proptest! {
    #![proptest_config(cases(128))]

    /// The CSV sniffer on arbitrary bytes, with and without the user's
    /// choices of delimiter and header.
    #[test]
    fn the_sniffer_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        truncated in any::<bool>(),
        forced in forced_encoding(),
        delimiter in prop_oneof![Just(None), Just(Some(b';')), Just(Some(b',')), Just(Some(b'|')), Just(Some(b'\t'))],
        header in prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
    ) {
        timed("sniff", || {
            if let Ok(d) = encoding::detect(&bytes, truncated, forced) {
                let text = encoding::decode_sample(&bytes, &d);
                let _ = dialect::sniff(&text, truncated, delimiter, header, &|_| false);
                let _ = dialect::sniff(&text, truncated, delimiter, header, &|_| true);
            }
        })?;
    }

    /// The sniffer and the splitter on CSV-ish text.
    #[test]
    fn the_sniffer_never_panics_on_csv_like_text(
        bytes in csv_bytes(),
        truncated in any::<bool>(),
        max in 0usize..50,
    ) {
        timed("sniff", || {
            if let Ok(d) = encoding::detect(&bytes, truncated, None) {
                let text = encoding::decode_sample(&bytes, &d);
                if let Ok(dialect) = dialect::sniff(&text, truncated, None, None, &siso::importers::csv::known_header) {
                    let records = dialect::split(&text, dialect.delimiter, max, truncated);
                    let _ = dialect::looks_like_header(&records, &|_| false);
                }
                for d in [b';', b',', b'|', b'\t'] {
                    let _ = dialect::split(&text, d, max, truncated);
                }
            }
        })?;
    }

    /// The user's --delimiter, whatever they type.
    #[test]
    fn parsing_a_delimiter_never_panics(s in any::<String>()) {
        if let Ok(d) = dialect::parse_delimiter(&s) {
            prop_assert!(matches!(d, b';' | b',' | b'|' | b'\t'));
        }
    }

}

proptest! {
    #![proptest_config(cases(64))]

    /// The whole CSV importer (sniff, then read every record) on a file of
    /// CSV-ish bytes, with and without the user's choices.
    #[test]
    fn the_csv_reader_never_panics(
        bytes in csv_bytes(),
        forced in forced_encoding(),
        delimiter in prop_oneof![Just(None), Just(Some(b';')), Just(Some(b','))],
        header in prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
    ) {
        let dir = tempfile::tempdir().unwrap();
        read_file(dir.path(), &bytes, &Delimited { encoding: forced, delimiter, header })?;
    }

    /// The same on arbitrary bytes.
    #[test]
    fn the_csv_reader_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().unwrap();
        read_file(dir.path(), &bytes, &Delimited::default())?;
    }
}

// ---------------------------------------------------------------------------
// The corpus: inputs that break naive parsers (byte slicing in the middle of
// a character, a lone byte order mark, an unterminated quote...), run on
// every `cargo test`. Add here any input a fuzz pass finds.

const CF_CORPUS: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "RSSMRA85T10F704",                  // 15: one short
    "RSSMRA85T10F704XX",                // 17: one long
    "RSSMRA85T10F704\u{e0}",            // a 2-byte character as the check
    "RSSMRA85T10F70\u{20ac}X",          // a 3-byte character inside
    "\u{1d11e}SSMRA85T10F704X",         // a 4-byte character first
    "RSSMRA85T10F704X\u{301}",          // a combining accent after the last
    "ＲＳＳＭＲＡ85T10F704X",           // full-width letters
    "\u{3000}RSSMRA85T10F704X\u{3000}", // ideographic spaces, trimmed
    "rssmra85t10f704x",
    "RSSMRA85T10F7O4X",  // letter O for digit 0
    "RSSMRA00B30F205X",  // 30 February
    "RSSMRA85T99F205X",  // day 99
    "RSSMRA85Z10F205X",  // no month Z
    "RSSMRAVVTMVFVVVX",  // omocodia letters everywhere
    "00000000000",       // temporary code
    "0000000000\u{663}", // Arabic-Indic digit
    "12345678901234567890123456789012345678901234567890",
];

#[test]
fn cf_corpus() {
    for s in CF_CORPUS {
        all_cf(s);
    }
    // and every one of them with the check character recomputed
    for s in CF_CORPUS {
        if let Some(first15) = s.get(..15)
            && let Some(c) = cf::check_char(first15)
        {
            all_cf(&format!("{first15}{c}"));
        }
    }
}

const CSV_CORPUS: &[&[u8]] = &[
    b"",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xFE\xFF\x00",
    b"\"",
    b"\"\"\"",
    b"a;b\n\"unterminated;c\n",
    b"\n\n\n",
    b"\r\r\r",
    b";;;\n;;;\n",
    b"\0\0\0;\0\n",
    b"ID;NOME\n1;Nicol\xF2\n",
    b"ID;NOME\n1;Nicol\xC3\n",
    b"ID;NOME\r\n1;\"a\r\nb\";x;y;z\r\n",
    b"\xEF\xBB\xBFID,NOME\n\xEF\xBB\xBF1,x\n",
    b"ID\tNOME\n\t\t\t\t\n",
    b"|||",
    b"a\"b;c\"d\n",
];

#[test]
fn csv_corpus() {
    let dir = tempfile::tempdir().unwrap();
    for bytes in CSV_CORPUS {
        for importer in [
            Delimited::default(),
            Delimited {
                header: Some(true),
                ..Delimited::default()
            },
            Delimited {
                delimiter: Some(b','),
                header: Some(false),
                encoding: Some(encoding_rs::UTF_16LE),
            },
        ] {
            read_file(dir.path(), bytes, &importer).unwrap();
        }
        for truncated in [false, true] {
            if let Ok(d) = encoding::detect(bytes, truncated, None) {
                let text = encoding::decode_sample(bytes, &d);
                let _ = dialect::sniff(&text, truncated, None, None, &|_| false);
            }
        }
    }
}
