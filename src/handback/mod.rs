//! Hand-back of an ente's data at the end of the service (GDPR Art. 28(3)(g)):
//! a verifiable bundle of everything whose titolare is the ente, and, only on
//! the controller's written choice and after a verified hand-back, the
//! deletion of those rows.
//!
//! The bundle is canonical: every value is written from its declared kind
//! ([`tables`]), never from how a backend stores it, so the same data on
//! SQLite and on PostgreSQL gives byte-identical files.

pub mod archive;
pub mod export;
pub mod purge;
mod sqlite_raw;
pub mod tables;
pub mod verify;

use std::io::Write;

use sha2::Digest as _;
use sqlx::Row;

use crate::error::Error;
use tables::Kind;

/// `formato` of manifest.json.
pub const FORMATO: &str = "siso-handback";
/// Bumped when the layout of the bundle changes.
pub const VERSIONE_FORMATO: i64 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const SHA256SUMS: &str = "SHA256SUMS";
pub const LEGGIMI: &str = "LEGGIMI.txt";
pub const DOCUMENTI: &str = "documenti";

/// manifest.json.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub formato: String,
    pub versione_formato: i64,
    pub versione_schema: i64,
    pub versione_siso: String,
    pub ente: EnteRef,
    pub generato_il: String,
    /// Persons of other titolari included because the ente's case data points
    /// to them: their ids in persona.csv.
    pub persone_condivise: Vec<PersonaCondivisa>,
    pub file: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnteRef {
    pub codice: String,
    pub denominazione: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PersonaCondivisa {
    pub id: i64,
    pub titolare: String,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FileEntry {
    pub nome: String,
    /// Data rows (header excluded) for tables; absent for documents and LEGGIMI.txt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub righe: Option<u64>,
    pub sha256: String,
}

/// One decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    /// Text, dates and timestamps, already in canonical form.
    Str(String),
    Blob(Vec<u8>),
}

impl Cell {
    pub fn as_value(&self) -> Value<'_> {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(v) => Value::Int(*v),
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Str(s) => Value::Text(s),
            Cell::Blob(b) => Value::Blob(b),
        }
    }
}

const DATE: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Decodes column `i` of `row` by its declared kind.
pub fn decode<R: Row>(row: &R, i: usize, kind: Kind) -> std::result::Result<Cell, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> time::Date: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> time::OffsetDateTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(match kind {
        Kind::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Cell::Null, Cell::Int),
        Kind::Bool => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Cell::Null, Cell::Bool),
        Kind::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Cell::Null, Cell::Str),
        Kind::Blob => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Cell::Null, Cell::Blob),
        Kind::Date => row
            .try_get::<Option<time::Date>, _>(i)?
            .map_or(Cell::Null, |d| {
                Cell::Str(d.format(DATE).expect("every date formats"))
            }),
        Kind::Timestamp => row
            .try_get::<Option<time::OffsetDateTime>, _>(i)?
            .map_or(Cell::Null, |t| Cell::Str(crate::rfc3339(t))),
    })
}

/// A writer that hashes and counts what passes through it.
pub struct Hashing<W> {
    inner: W,
    hasher: sha2::Sha256,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Hashing {
            inner,
            hasher: sha2::Sha256::new(),
        }
    }

    /// Flushes and returns the inner writer and the hex SHA-256.
    pub fn finish(mut self) -> std::io::Result<(W, String)> {
        self.inner.flush()?;
        Ok((self.inner, hex::encode(self.hasher.finalize())))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One value as read from a row, borrowing text and bytes from it: the
/// export's hot path allocates nothing per value.
#[derive(Debug, Clone, Copy)]
pub enum Value<'r> {
    Null,
    Int(i64),
    Bool(bool),
    Text(&'r str),
    Blob(&'r [u8]),
    Date(time::Date),
    Timestamp(time::OffsetDateTime),
}

/// Decodes column `i` of `row` by its declared kind, borrowing from the row.
pub fn decode_value<'r, R: Row>(
    row: &'r R,
    i: usize,
    kind: Kind,
) -> std::result::Result<Value<'r>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    &'r [u8]: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    time::Date: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    time::OffsetDateTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(match kind {
        Kind::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::Int),
        Kind::Bool => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, Value::Bool),
        Kind::Text => row
            .try_get::<Option<&'r str>, _>(i)?
            .map_or(Value::Null, Value::Text),
        Kind::Blob => row
            .try_get::<Option<&'r [u8]>, _>(i)?
            .map_or(Value::Null, Value::Blob),
        Kind::Date => row
            .try_get::<Option<time::Date>, _>(i)?
            .map_or(Value::Null, Value::Date),
        Kind::Timestamp => row
            .try_get::<Option<time::OffsetDateTime>, _>(i)?
            .map_or(Value::Null, Value::Timestamp),
    })
}

/// `n` as exactly `width` decimal digits.
fn push_digits(out: &mut Vec<u8>, mut n: u32, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `YYYY-MM-DD`, as `[year]-[month]-[day]` formats it.
pub fn push_date(out: &mut Vec<u8>, d: time::Date) {
    if !(0..=9999).contains(&d.year()) {
        out.extend_from_slice(d.format(DATE).expect("every date formats").as_bytes());
        return;
    }
    push_digits(out, d.year() as u32, 4);
    out.push(b'-');
    push_digits(out, u8::from(d.month()).into(), 2);
    out.push(b'-');
    push_digits(out, d.day().into(), 2);
}

/// RFC 3339 in UTC, as [`crate::rfc3339`] formats it (fraction without
/// trailing zeros, `Z`).
pub fn push_timestamp(out: &mut Vec<u8>, t: time::OffsetDateTime) {
    let t = t.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&t.year()) {
        out.extend_from_slice(crate::rfc3339(t).as_bytes());
        return;
    }
    push_date(out, t.date());
    out.push(b'T');
    push_digits(out, t.hour().into(), 2);
    out.push(b':');
    push_digits(out, t.minute().into(), 2);
    out.push(b':');
    push_digits(out, t.second().into(), 2);
    let mut nanos = t.nanosecond();
    if nanos != 0 {
        let mut width = 9;
        while nanos.is_multiple_of(10) {
            nanos /= 10;
            width -= 1;
        }
        out.push(b'.');
        push_digits(out, nanos, width);
    }
    out.push(b'Z');
}

/// JSON Lines are handed to the file in chunks of about this size.
const CHUNK: usize = 1 << 16;

/// Writes one table as CSV (RFC 4180: CRLF, quotes only where needed, with a
/// header) and as JSON Lines at once, hashing both; one value at a time,
/// with no allocation per row.
pub struct TableWriter<W: Write> {
    columns: &'static [(&'static str, Kind)],
    csv: csv::Writer<Hashing<W>>,
    jsonl: Hashing<W>,
    rows: u64,
    /// The next column of the current row.
    column: usize,
    /// `{"name":` for the first column, `,"name":` for the others.
    keys: Vec<Vec<u8>>,
    /// JSON Lines not yet handed to `jsonl`.
    lines: Vec<u8>,
    text: Vec<u8>,
    int: itoa::Buffer,
}

impl<W: Write> TableWriter<W> {
    pub fn new(
        columns: &'static [(&'static str, Kind)],
        csv_out: W,
        jsonl_out: W,
    ) -> std::io::Result<Self> {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .buffer_capacity(CHUNK)
            .from_writer(Hashing::new(csv_out));
        csv.write_record(columns.iter().map(|(c, _)| *c))?;
        let keys = json_keys(columns);
        Ok(TableWriter {
            columns,
            csv,
            jsonl: Hashing::new(jsonl_out),
            rows: 0,
            column: 0,
            keys,
            lines: Vec::with_capacity(CHUNK + 4096),
            text: Vec::with_capacity(64),
            int: itoa::Buffer::new(),
        })
    }

    /// The next value of the current row; blobs must already be replaced by
    /// their hash ([`Value::Text`]).
    pub fn value(&mut self, value: Value<'_>) -> std::io::Result<()> {
        let Some(key) = self.keys.get(self.column) else {
            return Err(std::io::Error::other("more values than columns"));
        };
        self.lines.extend_from_slice(key);
        self.column += 1;
        match value {
            Value::Null => self.csv.write_field(b"")?,
            Value::Int(v) => self.csv.write_field(self.int.format(v))?,
            Value::Bool(b) => self.csv.write_field(if b { "true" } else { "false" })?,
            Value::Text(s) => self.csv.write_field(s)?,
            Value::Date(d) => {
                self.text.clear();
                push_date(&mut self.text, d);
                self.csv.write_field(&self.text)?;
            }
            Value::Timestamp(t) => {
                self.text.clear();
                push_timestamp(&mut self.text, t);
                self.csv.write_field(&self.text)?;
            }
            Value::Blob(_) => {
                return Err(std::io::Error::other("a blob reached the table writer"));
            }
        }
        push_json(&mut self.lines, value)
    }

    /// Ends the current row, which must have had a value for every column.
    pub fn end_row(&mut self) -> std::io::Result<()> {
        if self.column != self.columns.len() {
            return Err(std::io::Error::other(format!(
                "a row of {} values for {} columns",
                self.column,
                self.columns.len()
            )));
        }
        self.column = 0;
        self.csv.write_record(None::<&[u8]>)?;
        self.lines.extend_from_slice(b"}\n");
        if self.lines.len() >= CHUNK {
            self.jsonl.write_all(&self.lines)?;
            self.lines.clear();
        }
        self.rows += 1;
        Ok(())
    }

    /// Writes one row of owned cells.
    pub fn write_row(&mut self, cells: &[Cell]) -> std::io::Result<()> {
        for cell in cells {
            self.value(cell.as_value())?;
        }
        self.end_row()
    }

    /// Rows written, and the hashes of the CSV and of the JSON Lines file
    /// (both flushed).
    pub fn finish(mut self) -> std::io::Result<(u64, String, String)> {
        self.jsonl.write_all(&self.lines)?;
        let (_, csv) = self
            .csv
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?
            .finish()?;
        let (_, jsonl) = self.jsonl.finish()?;
        Ok((self.rows, csv, jsonl))
    }
}

/// `{"name":` for the first column, `,"name":` for the others: what comes
/// before each value of a JSON line.
pub fn json_keys(columns: &[(&'static str, Kind)]) -> Vec<Vec<u8>> {
    columns
        .iter()
        .enumerate()
        .map(|(n, (name, _))| {
            let mut key = Vec::with_capacity(name.len() + 4);
            key.push(if n == 0 { b'{' } else { b',' });
            serde_json::to_writer(&mut key, name).expect("a name serialises");
            key.push(b':');
            key
        })
        .collect()
}

/// Appends the canonical JSON form of `value` (a blob stands as its SHA-256).
pub fn push_json(line: &mut Vec<u8>, value: Value<'_>) -> std::io::Result<()> {
    match value {
        Value::Null => line.extend_from_slice(b"null"),
        Value::Int(v) => line.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        Value::Bool(true) => line.extend_from_slice(b"true"),
        Value::Bool(false) => line.extend_from_slice(b"false"),
        Value::Text(s) => serde_json::to_writer(&mut *line, s)?,
        // Digits, '-', ':', '.', 'T', 'Z': nothing to escape.
        Value::Date(d) => {
            line.push(b'"');
            push_date(line, d);
            line.push(b'"');
        }
        Value::Timestamp(t) => {
            line.push(b'"');
            push_timestamp(line, t);
            line.push(b'"');
        }
        Value::Blob(b) => serde_json::to_writer(&mut *line, &crate::sha256_hex(b))?,
    }
    Ok(())
}

/// The canonical JSON Lines form of one row (with its newline) into `line`.
pub fn json_line(
    columns: &[(&'static str, Kind)],
    cells: &[Cell],
    line: &mut Vec<u8>,
) -> std::io::Result<()> {
    line.clear();
    for (key, cell) in json_keys(columns).iter().zip(cells) {
        line.extend_from_slice(key);
        push_json(line, cell.as_value())?;
    }
    line.extend_from_slice(b"}\n");
    Ok(())
}

/// The error for a file of the bundle.
pub(crate) fn io_err(path: &std::path::Path, what: &str) -> impl FnOnce(std::io::Error) -> Error {
    let context = format!("cannot {what} {}", path.display());
    move |e| Error::io(context, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast formatting is byte for byte what `time` writes, which the
    /// bundles written before it used.
    #[test]
    fn dates_and_instants_format_as_time_does() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut out = Vec::new();
        for n in 0..20_000 {
            // From year 0 to 9999, with every kind of fraction.
            let secs = (next() % 315_537_897_600) as i64 - 62_167_219_200;
            let nanos = match n % 4 {
                0 => 0,
                1 => (next() % 1_000) as u32 * 1_000_000,
                2 => (next() % 1_000_000_000) as u32,
                _ => 500_000_000,
            };
            let t = time::OffsetDateTime::from_unix_timestamp(secs)
                .unwrap()
                .replace_nanosecond(nanos)
                .unwrap()
                .to_offset(time::UtcOffset::from_hms(((n % 25) - 12) as i8, 0, 0).unwrap());
            out.clear();
            push_timestamp(&mut out, t);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), crate::rfc3339(t));
            out.clear();
            push_date(&mut out, t.date());
            assert_eq!(
                String::from_utf8(out.clone()).unwrap(),
                t.date().format(DATE).unwrap()
            );
        }
    }

    #[test]
    fn a_row_is_written_as_csv_and_json_lines() {
        static COLUMNS: &[(&str, Kind)] = &[
            ("id", Kind::Int),
            ("testo", Kind::Text),
            ("ok", Kind::Bool),
            ("data", Kind::Date),
            ("nulla", Kind::Text),
        ];
        let mut w = TableWriter::new(COLUMNS, Vec::new(), Vec::new()).unwrap();
        w.write_row(&[
            Cell::Int(-7),
            Cell::Str("a, \"b\"\nc".into()),
            Cell::Bool(true),
            Cell::Str("2024-01-15".into()),
            Cell::Null,
        ])
        .unwrap();
        let (rows, csv, jsonl) = w.finish().unwrap();
        assert_eq!(rows, 1);
        assert_eq!(
            csv,
            crate::sha256_hex(
                b"id,testo,ok,data,nulla\r\n-7,\"a, \"\"b\"\"\nc\",true,2024-01-15,\r\n"
            )
        );
        assert_eq!(
            jsonl,
            crate::sha256_hex(
                b"{\"id\":-7,\"testo\":\"a, \\\"b\\\"\\nc\",\"ok\":true,\"data\":\"2024-01-15\",\"nulla\":null}\n"
            )
        );
    }
}
