//! The shape of a delimited text export: delimiter, quoting, line endings,
//! header row, trailing delimiters. Sniffed from the decoded sample.
//!
//! The delimiter is the candidate (`;` `,` tab `|`) that splits the sample's
//! records into the most consistent number of fields (more than one),
//! honouring quotes; ties go to `;`, what Italian Excel writes.

use super::values::{CenturyPivot, Evidence, Inferred};

pub const DELIMITERS: [u8; 4] = [b';', b',', b'\t', b'|'];

/// How many records of the sample the sniffer looks at.
const SNIFF_RECORDS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum LineEnding {
    #[serde(rename = "CRLF")]
    CrLf,
    #[serde(rename = "LF")]
    Lf,
    #[serde(rename = "CR")]
    Cr,
}

impl LineEnding {
    pub fn label(self) -> &'static str {
        match self {
            LineEnding::CrLf => "CRLF",
            LineEnding::Lf => "LF",
            LineEnding::Cr => "CR",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    /// Whether any field of the sample is quoted.
    pub quoted: bool,
    pub line_ending: LineEnding,
    /// Whether records end with an extra, empty field (`a;b;`).
    pub trailing_delimiter: bool,
    pub header: bool,
    /// The first record's fields (the header when there is one).
    pub first: Vec<String>,
    /// Columns the records have (trailing empty field dropped).
    pub columns: usize,
}

pub fn delimiter_label(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        other => (other as char).to_string(),
    }
}

/// Reads `--delimiter`: one of `;` `,` `|` or `tab`.
pub fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" | "TAB" => Ok(b'\t'),
        ";" | "," | "|" => Ok(s.as_bytes()[0]),
        other => Err(format!(
            "unknown delimiter {other:?}: use ';', ',', '|' or tab"
        )),
    }
}

/// Splits `text` into at most `max` records with `delimiter`, honouring quotes.
/// A record cut by the end of a truncated sample is left out.
pub fn split(text: &str, delimiter: u8, max: usize, truncated: bool) -> Vec<Vec<String>> {
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut input = text.as_bytes();
    let mut out = vec![0u8; text.len() + 1];
    let mut ends = vec![0usize; text.len() + 2];
    let mut records = Vec::new();
    while records.len() < max {
        let (res, nin, nout, nend) = reader.read_record(input, &mut out, &mut ends);
        input = &input[nin..];
        match res {
            csv_core::ReadRecordResult::Record => {
                let mut fields = Vec::with_capacity(nend);
                let mut start = 0;
                for &end in &ends[..nend] {
                    fields.push(String::from_utf8_lossy(&out[start..end]).into_owned());
                    start = end;
                }
                let _ = nout;
                records.push(fields);
            }
            csv_core::ReadRecordResult::InputEmpty if !input.is_empty() => {}
            csv_core::ReadRecordResult::InputEmpty => {
                if truncated {
                    break;
                }
                // Feed the end of input once so the last record is finished.
                let (res, _, _, nend) = reader.read_record(&[], &mut out, &mut ends);
                if res == csv_core::ReadRecordResult::Record {
                    let mut fields = Vec::with_capacity(nend);
                    let mut start = 0;
                    for &end in &ends[..nend] {
                        fields.push(String::from_utf8_lossy(&out[start..end]).into_owned());
                        start = end;
                    }
                    records.push(fields);
                }
                break;
            }
            // Buffers are as large as the input: neither can fill up.
            csv_core::ReadRecordResult::OutputFull | csv_core::ReadRecordResult::OutputEndsFull => {
                break;
            }
            csv_core::ReadRecordResult::End => break,
        }
    }
    records.retain(|r| !(r.len() == 1 && r[0].is_empty()));
    records
}

fn effective_len(r: &[String]) -> usize {
    if r.len() > 1 && r.last().is_some_and(String::is_empty) {
        r.len() - 1
    } else {
        r.len()
    }
}

/// (records with the most common field count, that count)
fn consistency(records: &[Vec<String>]) -> (usize, usize) {
    let mut counts = std::collections::HashMap::new();
    for r in records {
        *counts.entry(effective_len(r)).or_insert(0usize) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&(len, n)| (n, len))
        .map_or((0, 0), |(len, n)| (n, len))
}

fn line_ending(text: &str) -> LineEnding {
    let bytes = text.as_bytes();
    let (mut crlf, mut lf, mut cr) = (0, 0, 0);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => crlf += 1,
            b'\r' => cr += 1,
            b'\n' if i > 0 && bytes[i - 1] == b'\r' => {}
            b'\n' => lf += 1,
            _ => {}
        }
    }
    if crlf >= lf && crlf >= cr && crlf > 0 {
        LineEnding::CrLf
    } else if cr > lf {
        LineEnding::Cr
    } else {
        LineEnding::Lf
    }
}

/// Whether the first record is a header: every cell filled with text that is
/// neither a date nor a number, while the data rows below have at least one
/// column of dates or numbers, or the cells are known legacy header names.
pub fn looks_like_header(records: &[Vec<String>], known: &dyn Fn(&str) -> bool) -> bool {
    let Some(first) = records.first() else {
        return false;
    };
    let first = &first[..effective_len(first)];
    let pivot = CenturyPivot(0);
    let is_text = |s: &str| {
        let mut e = Evidence::default();
        e.add(s, pivot);
        e.inferred() == Inferred::Text
    };
    if first.iter().any(|c| c.trim().is_empty() || !is_text(c)) {
        return false;
    }
    if first.iter().any(|c| known(c)) {
        return true;
    }
    let rest = &records[1..];
    if rest.is_empty() {
        return true;
    }
    // Some column is typed below a text cell: the first row names it.
    (0..first.len()).any(|col| {
        let mut e = Evidence::default();
        for r in rest {
            if let Some(v) = r.get(col) {
                e.add(v, pivot);
            }
        }
        !matches!(e.inferred(), Inferred::Text | Inferred::Empty)
    })
}

/// A delimiter, the records it splits the sample into, and its score.
type Candidate = (u8, Vec<Vec<String>>, (bool, usize, usize));

/// Sniffs the dialect of a decoded sample. `forced_delimiter` and
/// `forced_header` are the user's choices, if any.
pub fn sniff(
    sample: &str,
    truncated: bool,
    forced_delimiter: Option<u8>,
    forced_header: Option<bool>,
    known_header: &dyn Fn(&str) -> bool,
) -> Result<Dialect, String> {
    let candidates: Vec<u8> = match forced_delimiter {
        Some(d) => vec![d],
        None => DELIMITERS.to_vec(),
    };
    let mut best: Option<Candidate> = None;
    for d in candidates {
        let records = split(sample, d, SNIFF_RECORDS, truncated);
        let (agree, len) = consistency(&records);
        // Prefer splitting at all, then the share of agreeing records, then more fields.
        let score = (len > 1, agree * 1000 / records.len().max(1), len);
        if best.as_ref().is_none_or(|(_, _, s)| score > *s) {
            best = Some((d, records, score));
        }
    }
    let (delimiter, records, (_, _, columns)) = best.expect("at least one candidate");
    if records.is_empty() {
        return Err(if truncated {
            "no complete line in the first 64 KiB: not a delimited text export (LINE_TOO_LONG)"
                .into()
        } else {
            "the file holds no records".into()
        });
    }
    let first = records[0].clone();
    let trailing_delimiter = first.len() > 1
        && first.last().is_some_and(String::is_empty)
        && records.iter().skip(1).all(|r| r.len() >= first.len());
    let header = forced_header.unwrap_or_else(|| looks_like_header(&records, known_header));
    let quoted = sample.contains('"');
    Ok(Dialect {
        delimiter,
        quoted,
        line_ending: line_ending(sample),
        trailing_delimiter,
        header,
        columns: if header {
            effective_len(&first)
        } else {
            columns.max(effective_len(&first))
        },
        first,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> bool {
        false
    }

    fn sniffed(text: &str) -> Dialect {
        sniff(text, false, None, None, &none).unwrap()
    }

    #[test]
    fn each_delimiter() {
        for d in DELIMITERS {
            let sep = d as char;
            let text = format!(
                "COGNOME{sep}NOME{sep}DATA_NASCITA\nRossi{sep}Nicolò{sep}01/02/1950\nBianchi{sep}Anna{sep}25/12/1960\n"
            );
            let dialect = sniffed(&text);
            assert_eq!(dialect.delimiter, d, "{}", delimiter_label(d));
            assert_eq!(dialect.columns, 3);
            assert!(dialect.header);
        }
    }

    #[test]
    fn a_comma_inside_decimal_values_does_not_fool_the_sniffer() {
        let text = "ID;IMPORTO;NOTE\n1;1.234,56;a, b\n2;12,00;c\n3;7,5;d\n";
        assert_eq!(sniffed(text).delimiter, b';');
    }

    #[test]
    fn quoted_delimiters_are_honoured() {
        let text = "A,B,C\n\"x;y;z\",2,3\n\"p;q\",5,6\n";
        let d = sniffed(text);
        assert_eq!((d.delimiter, d.quoted), (b',', true));
    }

    #[test]
    fn line_endings() {
        assert_eq!(sniffed("A;B\r\n1;2\r\n").line_ending, LineEnding::CrLf);
        assert_eq!(sniffed("A;B\n1;2\n").line_ending, LineEnding::Lf);
        let cr = sniffed("A;B\r1;2\r3;4\r");
        assert_eq!((cr.line_ending, cr.columns), (LineEnding::Cr, 2));
    }

    #[test]
    fn trailing_delimiter() {
        let d = sniffed("A;B;\n1;2;\n3;4;\n");
        assert!(d.trailing_delimiter);
        assert_eq!(d.columns, 2);
        assert!(!sniffed("A;B\n1;2\n").trailing_delimiter);
    }

    #[test]
    fn header_or_not() {
        assert!(!sniffed("1;Rossi;01/02/1950\n2;Bianchi;25/12/1960\n").header);
        assert!(sniffed("ID;COGNOME;NATO\n1;Rossi;01/02/1950\n").header);
        // Known names make a header even over text-only columns.
        let known = |s: &str| s == "COGNOME";
        assert!(
            sniff("COGNOME;NOME\nRossi;Anna\n", false, None, None, &known)
                .unwrap()
                .header
        );
        assert!(
            !sniff(
                "COGNOME;NOME\nRossi;Anna\n",
                false,
                None,
                Some(false),
                &none
            )
            .unwrap()
            .header
        );
    }

    #[test]
    fn multi_line_quoted_field_is_one_record() {
        let records = split("A;B\n1;\"riga uno\nriga due\"\n2;x\n", b';', 10, false);
        assert_eq!(records.len(), 3);
        assert_eq!(records[1][1], "riga uno\nriga due");
    }

    #[test]
    fn a_truncated_sample_drops_its_cut_record() {
        let records = split("A;B\n1;2\n3;", b';', 10, true);
        assert_eq!(records.len(), 2);
    }

    #[test]
    fn one_long_line_without_end_is_refused() {
        let err = sniff(&"x".repeat(1000), true, None, None, &none).unwrap_err();
        assert!(err.contains("LINE_TOO_LONG"), "{err}");
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::super::{encoding, table};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the bytes, detection and sniffing answer (maybe "no"), never panic.
        #[test]
        fn the_sniffer_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), truncated in any::<bool>()) {
            if let Ok(d) = encoding::detect(&bytes, truncated, None) {
                let text = encoding::decode_sample(&bytes, &d);
                let _ = super::sniff(&text, truncated, None, None, &|_| false);
            }
        }

        /// Nor does the whole pipeline on a file of arbitrary delimited-ish text.
        #[test]
        fn reading_never_panics(text in "[A-Za-z0-9;,|\t\"\r\n/.\\- àò]{0,400}") {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f.csv");
            std::fs::write(&path, text.as_bytes()).unwrap();
            if let Ok(t) = table::open(&path, &table::Options::default()) {
                let _ = t.suggest_mapping();
                t.read(&mut |_| {}).unwrap();
            }
        }
    }
}
