//! Which encoding a legacy text export is in, decided before reading a row.
//!
//! Rule, on the first [`SAMPLE_BYTES`]:
//!
//! 1. `--encoding` decides, whatever the bytes.
//! 2. A BOM decides (UTF-8, UTF-16LE, UTF-16BE).
//! 3. Many NUL bytes (UTF-16 without a BOM) or binary: refused.
//! 4. A sample that is valid UTF-8 is UTF-8.
//! 5. A sample that is not valid UTF-8 but holds at least one well-formed
//!    multi-byte UTF-8 sequence (2 to 4 bytes) is UTF-8 with some bad bytes
//!    (a stray Latin-1 byte pasted into a UTF-8 export): it is read as UTF-8
//!    and only the lines with invalid bytes are rejected (`ENCODING_INVALID`),
//!    never the whole file decoded into mojibake.
//! 6. Otherwise (non-ASCII bytes, none of them forming UTF-8) Windows-1252,
//!    the superset of Latin-1's printable range that Italian Windows software
//!    writes. Its five undefined bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) decode to
//!    C1 control characters, which the readers reject, never store.
//!
//! The choice in 5 errs toward UTF-8 on purpose. A Windows-1252 file whose
//! accents happen to form one valid UTF-8 pair (an accented capital from
//! 0xC2-0xDF followed by a byte from 0x80-0xBF, such as `Ã©`: vanishingly rare
//! in Italian exports) is then read as UTF-8 and its accented lines are
//! rejected with advice to pass `--encoding windows-1252`: a loud failure,
//! fixed by one option. The other way round, a UTF-8 file read as
//! Windows-1252 would silently store mojibake (`NicolÃ²`) on every line.

use encoding_rs::Encoding;

/// How many bytes the detection looks at.
pub const SAMPLE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub encoding: &'static Encoding,
    /// Length of the byte order mark to skip (0 when none).
    pub bom_len: usize,
    /// Whether the user chose it (`--encoding`) rather than the detection.
    pub forced: bool,
}

impl Detected {
    /// The name people know: Windows-1252 is also what "Latin-1" means in practice.
    pub fn label(&self) -> String {
        let name = match self.encoding.name() {
            "windows-1252" => "Windows-1252/Latin-1",
            other => other,
        };
        let bom = if self.bom_len > 0 { " with BOM" } else { "" };
        format!("{name}{bom}")
    }
}

/// The encoding named by `--encoding` (WHATWG labels: utf-8, utf-16le,
/// windows-1252, latin1, iso-8859-15...).
pub fn by_label(label: &str) -> Result<&'static Encoding, String> {
    Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        format!("unknown encoding {label:?}: use utf-8, utf-16le, utf-16be, windows-1252 or latin1")
    })
}

/// Detects the encoding of a file from its first bytes (`head`, up to
/// [`SAMPLE_BYTES`]); `forced` is the user's choice, if any. `truncated`
/// tells whether the file goes on after `head`.
pub fn detect(
    head: &[u8],
    truncated: bool,
    forced: Option<&'static Encoding>,
) -> Result<Detected, String> {
    let bom = Encoding::for_bom(head);
    if let Some(encoding) = forced {
        // A BOM of the chosen encoding is still skipped, never read as text.
        let bom_len = match bom {
            Some((e, len)) if e == encoding => len,
            _ => 0,
        };
        return Ok(Detected {
            encoding,
            bom_len,
            forced: true,
        });
    }
    if let Some((encoding, bom_len)) = bom {
        return Ok(Detected {
            encoding,
            bom_len,
            forced: false,
        });
    }
    let nuls = head.iter().filter(|&&b| b == 0).count();
    if nuls > 0 {
        let even = head.iter().step_by(2).filter(|&&b| b == 0).count();
        let odd = nuls - even;
        if nuls * 4 >= head.len() && (even == 0 || odd == 0) {
            let guess = if even == 0 { "utf-16le" } else { "utf-16be" };
            return Err(format!(
                "looks like UTF-16 without a byte order mark; pass --encoding {guess} if it is"
            ));
        }
        return Err("contains NUL bytes: a binary file, not a text export (for a spreadsheet use the .xlsx file)".into());
    }
    match std::str::from_utf8(head) {
        Ok(_) => Ok(utf8()),
        // A multi-byte character cut by the end of the sample is still UTF-8.
        Err(e) if e.error_len().is_none() && truncated => Ok(utf8()),
        // UTF-8 with some bad bytes: those lines are rejected, not the file misread.
        Err(_) if has_multi_byte_utf8(head) => Ok(utf8()),
        Err(_) => Ok(Detected {
            encoding: encoding_rs::WINDOWS_1252,
            bom_len: 0,
            forced: false,
        }),
    }
}

/// Whether `bytes` hold at least one well-formed multi-byte UTF-8 sequence.
fn has_multi_byte_utf8(bytes: &[u8]) -> bool {
    bytes.utf8_chunks().any(|chunk| !chunk.valid().is_ascii())
}

fn utf8() -> Detected {
    Detected {
        encoding: encoding_rs::UTF_8,
        bom_len: 0,
        forced: false,
    }
}

/// Decodes a whole sample (for sniffing): lossy, the rows are checked later.
pub fn decode_sample(head: &[u8], detected: &Detected) -> String {
    let body = &head[detected.bom_len.min(head.len())..];
    let (text, _) = detected.encoding.decode_without_bom_handling(body);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_without_bom() {
        let d = detect("COGNOME;NOME\nRossi;Nicolò\n".as_bytes(), false, None).unwrap();
        assert_eq!((d.encoding, d.bom_len), (encoding_rs::UTF_8, 0));
        assert_eq!(d.label(), "UTF-8");
    }

    #[test]
    fn utf8_with_bom() {
        let d = detect(b"\xEF\xBB\xBFCOGNOME\n", false, None).unwrap();
        assert_eq!((d.encoding, d.bom_len), (encoding_rs::UTF_8, 3));
        assert_eq!(decode_sample(b"\xEF\xBB\xBFCOGNOME\n", &d), "COGNOME\n");
    }

    #[test]
    fn utf16_with_bom_both_orders() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Città".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let d = detect(&le, false, None).unwrap();
        assert_eq!((d.encoding, d.bom_len), (encoding_rs::UTF_16LE, 2));
        assert_eq!(decode_sample(&le, &d), "Città");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Città".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let d = detect(&be, false, None).unwrap();
        assert_eq!(d.encoding, encoding_rs::UTF_16BE);
        assert_eq!(decode_sample(&be, &d), "Città");
    }

    #[test]
    fn windows_1252_accents_decode_correctly() {
        // "Nicolò;Città;€" as Windows-1252 bytes.
        let bytes = b"Nicol\xF2;Citt\xE0;\x80";
        let d = detect(bytes, false, None).unwrap();
        assert_eq!(d.encoding, encoding_rs::WINDOWS_1252);
        assert_eq!(d.label(), "Windows-1252/Latin-1");
        assert_eq!(decode_sample(bytes, &d), "Nicolò;Città;€");
    }

    #[test]
    fn a_utf8_character_cut_by_the_sample_end_is_still_utf8() {
        let bytes = "Nicolò".as_bytes();
        let cut = &bytes[..bytes.len() - 1];
        assert_eq!(
            detect(cut, true, None).unwrap().encoding,
            encoding_rs::UTF_8
        );
        assert_eq!(
            detect(cut, false, None).unwrap().encoding,
            encoding_rs::WINDOWS_1252
        );
    }

    #[test]
    fn utf8_with_a_stray_latin1_byte_is_still_utf8() {
        // QA's file: "Nicolò" in UTF-8, then "Cantù" with a Latin-1 ù (0xF9).
        let bytes = b"COGNOME;NOME\nRossi;Nicol\xC3\xB2\nCant\xF9;Anna\n";
        let d = detect(bytes, false, None).unwrap();
        assert_eq!((d.encoding, d.bom_len), (encoding_rs::UTF_8, 0));
        // The good line decodes right, the bad byte is marked for the reader to reject.
        assert_eq!(
            decode_sample(bytes, &d),
            "COGNOME;NOME\nRossi;Nicolò\nCant\u{FFFD};Anna\n"
        );
        // Whatever the order, and with 3- and 4-byte sequences alone.
        let d = detect(b"Cant\xF9\nNicol\xC3\xB2\n", false, None).unwrap();
        assert_eq!(d.encoding, encoding_rs::UTF_8);
        for good in ["\u{20AC}", "\u{1F600}"] {
            let bytes = [good.as_bytes(), b" \xE0"].concat();
            let d = detect(&bytes, false, None).unwrap();
            assert_eq!(d.encoding, encoding_rs::UTF_8, "{good}");
        }
    }

    #[test]
    fn only_invalid_utf8_sequences_mean_windows_1252() {
        // Lone lead bytes, lone continuation bytes, overlong and surrogate
        // forms: no well-formed multi-byte sequence, so Windows-1252.
        for bytes in [
            &b"Citt\xE0;Nicol\xF2\n"[..],
            b"\x80 \xA9 \xBF",
            b"\xC0\xAF overlong",
            b"\xED\xA0\x80 surrogate",
            b"\xC3 then space",
        ] {
            let d = detect(bytes, false, None).unwrap();
            assert_eq!(d.encoding, encoding_rs::WINDOWS_1252, "{bytes:?}");
        }
        // The forced encoding still wins over a mixed sample.
        let mixed = b"Nicol\xC3\xB2;Cant\xF9";
        let d = detect(mixed, false, Some(encoding_rs::WINDOWS_1252)).unwrap();
        assert_eq!(d.encoding, encoding_rs::WINDOWS_1252);
    }

    #[test]
    fn a_chance_utf8_pair_in_windows_1252_errs_toward_utf8() {
        // "Città Ã©" in Windows-1252: 0xC3 0xA9 is a well-formed "é" in UTF-8.
        // Read as UTF-8, "Citt\xE0" is then rejected (loud), rather than a
        // UTF-8 file ever being read as Windows-1252 (silent mojibake).
        let d = detect(b"Citt\xE0;\xC3\xA9\n", false, None).unwrap();
        assert_eq!(d.encoding, encoding_rs::UTF_8);
    }

    #[test]
    fn utf16_without_bom_and_binary_are_refused() {
        let le: Vec<u8> = "COGNOME;NOME"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(detect(&le, false, None).unwrap_err().contains("utf-16le"));
        assert!(
            detect(b"\x00\x01\x02PK", false, None)
                .unwrap_err()
                .contains("binary")
        );
    }

    #[test]
    fn forced_encoding_wins_and_latin1_is_windows_1252() {
        let latin1 = by_label("latin1").unwrap();
        let d = detect("plain".as_bytes(), false, Some(latin1)).unwrap();
        assert!(d.forced);
        assert_eq!(d.encoding, encoding_rs::WINDOWS_1252);
        assert!(by_label("klingon").is_err());
    }
}
