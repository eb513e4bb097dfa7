//! Delimited text exports (CSV with `;` `,` tab or `|`), streamed.
//!
//! The bytes are decoded to UTF-8 on the fly (encoding_rs_io), then split
//! into records by csv_core with the sniffed delimiter. Each record keeps its
//! first physical line and its raw text. Records longer than
//! [`MAX_RECORD_BYTES`] or wider than [`MAX_COLUMNS`] are skipped to their end
//! and reported, so a hostile file never grows memory beyond those limits.

use std::io::{BufReader, Read as _, Seek as _};
use std::path::Path;

use super::{
    Importer, Item, Layout, MAX_COLUMNS, MAX_RECORD_BYTES, Origin, Problem, RawRecord, dialect,
    display_name, encoding, excerpt, fields, numbered_columns, reasons,
};

/// Delimited text; `None` options are detected.
#[derive(Debug, Clone, Default)]
pub struct Delimited {
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub delimiter: Option<u8>,
    pub header: Option<bool>,
}

fn open(path: &Path) -> crate::Result<std::fs::File> {
    std::fs::File::open(path)
        .map_err(|e| crate::Error::io(format!("cannot open {}", path.display()), e))
}

/// Whether a header cell is a legacy name the automatic mapping knows.
pub fn known_header(cell: &str) -> bool {
    let h = fields::normalise_header(cell);
    fields::FIELDS
        .iter()
        .any(|f| f.headers.contains(&h.as_str()))
}

impl Importer for Delimited {
    type Record = RawRecord;

    fn name(&self) -> &'static str {
        "csv"
    }

    fn detect(&self, path: &Path, head: &[u8]) -> bool {
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
        matches!(ext.as_deref(), Some("csv" | "txt" | "tsv" | "tab" | "dat"))
            || (!head.starts_with(b"PK\x03\x04") && !head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]))
    }

    fn sniff(&self, path: &Path) -> crate::Result<Layout> {
        let name = display_name(path);
        let mut head = Vec::with_capacity(encoding::SAMPLE_BYTES + 1);
        open(path)?
            .take(encoding::SAMPLE_BYTES as u64 + 1)
            .read_to_end(&mut head)
            .map_err(|e| crate::Error::io(format!("cannot read {}", path.display()), e))?;
        let truncated = head.len() > encoding::SAMPLE_BYTES;
        head.truncate(encoding::SAMPLE_BYTES);
        let detected = encoding::detect(&head, truncated, self.encoding)
            .map_err(|m| crate::Error::Input(format!("{name}: {m}")))?;
        let sample = encoding::decode_sample(&head, &detected);
        let dialect = dialect::sniff(
            &sample,
            truncated,
            self.delimiter,
            self.header,
            &known_header,
        )
        .map_err(|m| crate::Error::Input(format!("{name}: {m}")))?;
        if dialect.columns > MAX_COLUMNS {
            return Err(crate::Error::Input(format!(
                "{name}: {} columns, more than the {MAX_COLUMNS} a legacy export can have ({})",
                dialect.columns,
                reasons::TOO_MANY_COLUMNS
            )));
        }
        let columns = if dialect.header {
            let mut names: Vec<String> = dialect.first[..dialect.columns]
                .iter()
                .map(|s| s.trim().to_string())
                .collect();
            disambiguate(&mut names);
            names
        } else {
            numbered_columns(dialect.columns)
        };
        Ok(Layout {
            format: "csv",
            encoding: Some(detected),
            has_header: dialect.header,
            dialect: Some(dialect),
            sheet: None,
            columns,
        })
    }

    fn read(
        &self,
        path: &Path,
        layout: &Layout,
        sink: &mut dyn FnMut(Item<RawRecord>),
    ) -> crate::Result<()> {
        let (Some(detected), Some(dialect)) = (layout.encoding, layout.dialect.as_ref()) else {
            return Err(crate::Error::Usage(
                "the layout is not of a delimited text file".into(),
            ));
        };
        let mut file = open(path)?;
        file.seek(std::io::SeekFrom::Start(detected.bom_len as u64))
            .map_err(|e| crate::Error::io(format!("cannot read {}", path.display()), e))?;
        let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(detected.encoding))
            .bom_sniffing(false)
            .strip_bom(false)
            .build(file);
        let reader = BufReader::with_capacity(256 * 1024, decoder);
        Records::new(
            reader,
            dialect.delimiter,
            display_name(path),
            layout.columns.clone(),
            layout.has_header,
            detected.encoding,
        )
        .run(sink)
        .map_err(|e| crate::Error::io(format!("cannot read {}", path.display()), e))
    }
}

/// Duplicate or empty header names get a suffix, so every column has a name.
pub fn disambiguate(names: &mut [String]) {
    let mut seen = std::collections::HashSet::new();
    for (i, n) in names.iter_mut().enumerate() {
        if n.is_empty() {
            *n = format!("COL{}", i + 1);
        }
        if !seen.insert(n.clone()) {
            *n = format!("{n}_{}", i + 1);
            seen.insert(n.clone());
        }
    }
}

/// The record loop over decoded text.
struct Records<R> {
    input: R,
    core: csv_core::Reader,
    file: String,
    columns: usize,
    /// The column names, for the messages.
    names: Vec<String>,
    skip_header: bool,
    /// The encoding the bytes were decoded from, for the messages and the
    /// check on control characters.
    encoding: &'static encoding_rs::Encoding,
    lines: LineCounter,
}

/// Physical lines: CRLF, LF and CR each end one (a CRLF split across reads once).
struct LineCounter {
    /// Physical line of the next byte.
    line: u64,
    prev_cr: bool,
}

impl LineCounter {
    fn count(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else { return };
        let lf = bytes.iter().filter(|&&b| b == b'\n').count();
        let cr = bytes.iter().filter(|&&b| b == b'\r').count();
        let mut crlf = 0;
        let mut rest = bytes;
        while let Some(i) = rest.iter().position(|&b| b == b'\r') {
            crlf += usize::from(rest.get(i + 1) == Some(&b'\n'));
            rest = &rest[i + 1..];
        }
        if self.prev_cr && bytes[0] == b'\n' {
            crlf += 1;
        }
        self.line += (lf + cr - crlf) as u64;
        self.prev_cr = last == b'\r';
    }
}

impl<R: std::io::BufRead> Records<R> {
    fn new(
        input: R,
        delimiter: u8,
        file: String,
        names: Vec<String>,
        skip_header: bool,
        encoding: &'static encoding_rs::Encoding,
    ) -> Self {
        Records {
            input,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            file,
            columns: names.len(),
            names,
            skip_header,
            encoding,
            lines: LineCounter {
                line: 1,
                prev_cr: false,
            },
        }
    }

    fn run(mut self, sink: &mut dyn FnMut(Item<RawRecord>)) -> std::io::Result<()> {
        let mut out = vec![0u8; 4096];
        let mut ends = vec![0usize; 64];
        let mut raw: Vec<u8> = Vec::with_capacity(4096);
        let (mut nout_total, mut nend_total) = (0usize, 0usize);
        let mut start_line: Option<u64> = None;
        let (mut too_long, mut too_wide) = (false, false);
        let mut raw_len = 0usize;
        loop {
            let chunk = self.input.fill_buf()?;
            let at_eof = chunk.is_empty();
            let (res, nin, nout, nend) =
                self.core
                    .read_record(chunk, &mut out[nout_total..], &mut ends[nend_total..]);
            // Keep the raw text and count physical lines of what was consumed.
            let mut consumed = &chunk[..nin];
            if start_line.is_none() {
                // Line breaks before a record (its predecessor's, blank lines) are not its text.
                let skip = consumed
                    .iter()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .count();
                self.lines.count(&consumed[..skip]);
                consumed = &consumed[skip..];
                if !consumed.is_empty() {
                    start_line = Some(self.lines.line);
                }
            }
            raw_len += consumed.len();
            let room = MAX_RECORD_BYTES.saturating_sub(raw.len());
            raw.extend_from_slice(&consumed[..consumed.len().min(room)]);
            self.lines.count(consumed);
            self.input.consume(nin);
            nout_total += nout;
            nend_total += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {
                    if at_eof {
                        // csv_core answers End on the next empty call.
                        continue;
                    }
                }
                csv_core::ReadRecordResult::OutputFull => {
                    if out.len() >= MAX_RECORD_BYTES {
                        // Skip the rest of the record, keeping nothing more.
                        too_long = true;
                        nout_total = 0;
                    } else {
                        out.resize(out.len() * 2, 0);
                    }
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    if ends.len() > MAX_COLUMNS {
                        too_wide = true;
                        nend_total = 0;
                    } else {
                        ends.resize(ends.len() * 2, 0);
                    }
                }
                csv_core::ReadRecordResult::Record => {
                    let line = start_line.unwrap_or(self.lines.line);
                    let item = self.finish(
                        line,
                        &raw,
                        raw_len,
                        &out[..nout_total],
                        &ends[..nend_total],
                        too_long,
                        too_wide,
                    );
                    if let Some(item) = item {
                        sink(item);
                    }
                    raw.clear();
                    (nout_total, nend_total, raw_len) = (0, 0, 0);
                    (too_long, too_wide) = (false, false);
                    start_line = None;
                }
                csv_core::ReadRecordResult::End => return Ok(()),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        line: u64,
        raw: &[u8],
        raw_len: usize,
        out: &[u8],
        ends: &[usize],
        too_long: bool,
        too_wide: bool,
    ) -> Option<Item<RawRecord>> {
        let end = raw.len()
            - raw
                .iter()
                .rev()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        let raw_text = match std::str::from_utf8(&raw[..end]) {
            Ok(s) => s.to_string(),
            // Only a record cut at the length limit can end inside a character.
            Err(_) => String::from_utf8_lossy(&raw[..end]).into_owned(),
        };
        let origin = Origin {
            file: self.file.clone(),
            line,
        };
        let header = std::mem::take(&mut self.skip_header);
        if too_long {
            return Some(Err(Problem::new(
                origin,
                reasons::LINE_TOO_LONG,
                format!(
                    "record longer than the {MAX_RECORD_BYTES}-byte limit ({raw_len} bytes; an unclosed quote?)"
                ),
                excerpt(&raw_text, 1024),
            )));
        }
        if too_wide {
            return Some(Err(Problem::new(
                origin,
                reasons::TOO_MANY_COLUMNS,
                format!("more than {MAX_COLUMNS} fields"),
                excerpt(&raw_text, 1024),
            )));
        }
        if header {
            return None;
        }
        // The decoder wrote UTF-8 and csv_core splits only at ASCII bytes, so
        // the record's cells are valid UTF-8 at their ends.
        let Ok(text) = std::str::from_utf8(out) else {
            return Some(Err(Problem::new(
                origin,
                reasons::ENCODING_INVALID,
                "bytes that are not valid UTF-8; re-export the file, or pass --encoding".into(),
                raw_text,
            )));
        };
        let record = RawRecord::from_parts(raw_text, text.to_string(), ends.to_vec());
        // Blank rows (an empty line, or only delimiters) carry nothing.
        if record.fields().all(|f| f.trim().is_empty()) {
            return None;
        }
        if let Some((field, message)) = self.invalid_bytes(&record) {
            let cells: Vec<String> = record.fields().map(str::to_string).collect();
            let mut problem = Problem::new(origin, reasons::ENCODING_INVALID, message, record.raw)
                .with_cells(cells);
            problem.field = field;
            return Some(Err(problem));
        }
        // Trailing delimiters: extra fields that are all empty are dropped.
        let mut n = record.len();
        while n > self.columns && record.field(n - 1).is_some_and(str::is_empty) {
            n -= 1;
        }
        if n != self.columns {
            let hint = if n > self.columns {
                "a delimiter inside an unquoted value?"
            } else {
                "a line break inside an unquoted value, or a cut row?"
            };
            let cells: Vec<String> = record.fields().map(str::to_string).collect();
            return Some(Err(Problem::new(
                origin,
                reasons::CSV_FIELD_COUNT,
                format!("{n} fields where the header has {} ({hint})", self.columns),
                record.raw,
            )
            .with_cells(cells)));
        }
        if n < record.len() {
            let fields: Vec<&str> = record.fields().take(n).collect();
            return Some(Ok((origin, RawRecord::new(record.raw.clone(), &fields))));
        }
        Some(Ok((origin, record)))
    }

    /// Why a decoded record holds no trustworthy text, if it does not: bytes
    /// the decoder replaced (U+FFFD), or C1 control characters (U+0080 to
    /// U+009F), which a single-byte encoding yields only for bytes that are
    /// no character in it (Windows-1252's 0x81, 0x8D, 0x8F, 0x90, 0x9D).
    /// The column is the first one holding such a character (`None` when it
    /// is in the raw text only).
    fn invalid_bytes(&self, record: &RawRecord) -> Option<(Option<String>, String)> {
        let name = self.encoding.name();
        let label = match name {
            "windows-1252" => "Windows-1252/Latin-1",
            other => other,
        };
        let replaced = |c: char| c == '\u{FFFD}';
        let c1 = |c: char| ('\u{80}'..='\u{9F}').contains(&c);
        if record.raw.contains(replaced) {
            let advice = if self.encoding == encoding_rs::UTF_8 {
                "the file is read as UTF-8; re-export it as UTF-8, or, if all of it is \
                 Windows-1252/Latin-1, pass --encoding windows-1252"
                    .to_string()
            } else {
                "re-export the file, or pass --encoding with its real encoding".to_string()
            };
            return Some((
                self.column_of(record, replaced),
                format!("bytes that are not valid {label} ({advice})"),
            ));
        }
        if self.encoding.is_single_byte()
            && let Some(c) = record.raw.chars().find(|&c| c1(c))
        {
            // Single-byte encodings decode these bytes to the code point of the same value.
            return Some((
                self.column_of(record, c1),
                format!(
                    "byte 0x{:02X} is no character in {label} (it would be stored as the \
                     control character U+{:04X}); re-export the file, or pass --encoding with \
                     its real encoding",
                    u32::from(c),
                    u32::from(c)
                ),
            ));
        }
        None
    }

    /// The name of the first column holding such a character.
    fn column_of(&self, record: &RawRecord, bad: impl Fn(char) -> bool) -> Option<String> {
        let i = record.fields().position(|f| f.contains(&bad))?;
        Some(
            self.names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("COL{}", i + 1)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str, delimiter: u8, columns: usize, header: bool) -> Vec<Item<RawRecord>> {
        let mut items = Vec::new();
        Records::new(
            std::io::Cursor::new(text.as_bytes().to_vec()),
            delimiter,
            "t.csv".into(),
            numbered_columns(columns),
            header,
            encoding_rs::UTF_8,
        )
        .run(&mut |i| items.push(i))
        .unwrap();
        items
    }

    fn lines_and_fields(items: &[Item<RawRecord>]) -> Vec<(u64, Vec<String>)> {
        items
            .iter()
            .map(|i| match i {
                Ok((o, r)) => (o.line, r.fields().map(str::to_string).collect()),
                Err(p) => panic!("unexpected problem {p}"),
            })
            .collect()
    }

    #[test]
    fn lf_crlf_and_cr_give_the_same_records_and_lines() {
        for eol in ["\n", "\r\n", "\r"] {
            let text = format!("A;B{eol}1;x{eol}{eol}2;y{eol}");
            let got = lines_and_fields(&read_str(&text, b';', 2, true));
            assert_eq!(
                got,
                vec![
                    (2, vec!["1".into(), "x".into()]),
                    (4, vec!["2".into(), "y".into()])
                ],
                "{eol:?}"
            );
        }
    }

    #[test]
    fn line_numbers_survive_reads_that_split_a_crlf() {
        let text = "A;B\r\n1;\"x\r\ny\"\r\n\r\n2;z\r\n";
        let mut items = Vec::new();
        let one_byte_reads =
            std::io::BufReader::with_capacity(1, std::io::Cursor::new(text.as_bytes().to_vec()));
        Records::new(
            one_byte_reads,
            b';',
            "t.csv".into(),
            numbered_columns(2),
            true,
            encoding_rs::UTF_8,
        )
        .run(&mut |i| items.push(i))
        .unwrap();
        let lines: Vec<u64> = items.iter().map(|i| i.as_ref().unwrap().0.line).collect();
        assert_eq!(lines, vec![2, 5]);
        assert_eq!(items[0].as_ref().unwrap().1.raw, "1;\"x\r\ny\"");
    }

    #[test]
    fn multi_line_quoted_field_keeps_its_first_line_and_raw_text() {
        let items = read_str(
            "A;B\n1;\"riga uno\r\nriga \"\"due\"\"\"\n2;z",
            b';',
            2,
            true,
        );
        let (o, r) = items[0].as_ref().unwrap();
        assert_eq!(o.line, 2);
        assert_eq!(r.field(1), Some("riga uno\r\nriga \"due\""));
        assert_eq!(r.raw, "1;\"riga uno\r\nriga \"\"due\"\"\"");
        let (o, r) = items[1].as_ref().unwrap();
        assert_eq!(
            (o.line, r.fields().map(str::to_string).collect::<Vec<_>>()),
            (4, vec!["2".to_string(), "z".to_string()])
        );
    }

    #[test]
    fn trailing_delimiters_are_dropped() {
        let got = lines_and_fields(&read_str("A;B;\n1;2;\n3;4;;\n", b';', 2, true));
        assert_eq!(got[0].1, vec!["1", "2"]);
        assert_eq!(got[1].1, vec!["3", "4"]);
    }

    #[test]
    fn a_wrong_field_count_is_a_problem_with_the_raw_line() {
        let items = read_str("ID;A;B\n7;1;2\n8;1;2;3\n9;1\n", b';', 3, true);
        assert!(items[0].is_ok());
        let p = items[1].as_ref().unwrap_err();
        assert_eq!(
            (p.code, p.origin.line, p.raw.as_str()),
            (reasons::CSV_FIELD_COUNT, 3, "8;1;2;3")
        );
        assert_eq!(p.cells, vec!["8", "1", "2", "3"]);
        assert!(
            p.message.contains("4 fields where the header has 3"),
            "{}",
            p.message
        );
        assert!(items[2].as_ref().unwrap_err().message.contains("cut row"));
    }

    #[test]
    fn a_hostile_long_line_is_rejected_and_reading_goes_on() {
        let text = format!("A;B\n{};x\n1;2\n", "y".repeat(3 * MAX_RECORD_BYTES));
        let items = read_str(&text, b';', 2, true);
        assert_eq!(items.len(), 2);
        let p = items[0].as_ref().unwrap_err();
        assert_eq!((p.code, p.origin.line), (reasons::LINE_TOO_LONG, 2));
        assert!(p.raw.len() < 2048);
        assert_eq!(items[1].as_ref().unwrap().0.line, 3);
    }

    #[test]
    fn a_row_with_too_many_columns_is_rejected() {
        let text = format!("A;B\n{}\n1;2\n", ";".repeat(100_000));
        let items = read_str(&text, b';', 2, true);
        assert_eq!(
            items[0].as_ref().unwrap_err().code,
            reasons::TOO_MANY_COLUMNS
        );
        assert!(items[1].is_ok());
    }

    #[test]
    fn replacement_characters_mean_invalid_encoding() {
        let items = read_str("A;B\n1;Nicol\u{FFFD}\n", b';', 2, true);
        assert_eq!(
            items[0].as_ref().unwrap_err().code,
            reasons::ENCODING_INVALID
        );
    }

    /// Decodes `bytes` as `encoding` the way [`Delimited::read`] does, then reads them.
    fn read_encoded(
        bytes: &[u8],
        encoding: &'static encoding_rs::Encoding,
        names: &[&str],
    ) -> Vec<Item<RawRecord>> {
        let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .bom_sniffing(false)
            .build(std::io::Cursor::new(bytes.to_vec()));
        let mut items = Vec::new();
        Records::new(
            BufReader::new(decoder),
            b';',
            "t.csv".into(),
            names.iter().map(|n| n.to_string()).collect(),
            true,
            encoding,
        )
        .run(&mut |i| items.push(i))
        .unwrap();
        items
    }

    #[test]
    fn undefined_windows_1252_bytes_are_rejected_not_stored_as_controls() {
        let items = read_encoded(
            b"ID;COGNOME\n1;Ros\x81si\n2;Citt\xE0\n3;\x9D\n",
            encoding_rs::WINDOWS_1252,
            &["ID", "COGNOME"],
        );
        let p = items[0].as_ref().unwrap_err();
        assert_eq!((p.code, p.origin.line), (reasons::ENCODING_INVALID, 2));
        assert_eq!(p.field.as_deref(), Some("COGNOME"));
        assert!(
            p.message
                .contains("byte 0x81 is no character in Windows-1252/Latin-1"),
            "{}",
            p.message
        );
        assert_eq!(p.cells, vec!["1", "Ros\u{81}si"]);
        assert!(p.message.contains("--encoding"), "{}", p.message);
        let (_, r) = items[1].as_ref().unwrap();
        assert_eq!(r.field(1), Some("Città"));
        let p = items[2].as_ref().unwrap_err();
        assert!(p.message.contains("byte 0x9D"), "{}", p.message);
    }

    #[test]
    fn invalid_utf8_bytes_are_rejected_naming_the_column() {
        let items = read_encoded(
            b"ID;COGNOME;NOME\n1;Rossi;Nicol\xC3\xB2\n2;Cant\xF9;Anna\n",
            encoding_rs::UTF_8,
            &["ID", "COGNOME", "NOME"],
        );
        assert_eq!(items[0].as_ref().unwrap().1.field(2), Some("Nicolò"));
        let p = items[1].as_ref().unwrap_err();
        assert_eq!((p.code, p.origin.line), (reasons::ENCODING_INVALID, 3));
        assert_eq!(p.field.as_deref(), Some("COGNOME"));
        assert!(
            p.message.contains("bytes that are not valid UTF-8"),
            "{}",
            p.message
        );
        assert!(
            p.message.contains("--encoding windows-1252"),
            "{}",
            p.message
        );
    }

    #[test]
    fn duplicate_and_empty_headers_get_names() {
        let mut names = vec!["A".to_string(), String::new(), "A".to_string()];
        disambiguate(&mut names);
        assert_eq!(names, vec!["A", "COL2", "A_3"]);
    }
}
