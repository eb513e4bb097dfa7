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

/// Writes one table as CSV (RFC 4180: CRLF, quotes only where needed, with a
/// header) and as JSON Lines at once, hashing both.
pub struct TableWriter<W: Write> {
    columns: &'static [(&'static str, Kind)],
    csv: csv::Writer<Hashing<W>>,
    jsonl: Hashing<W>,
    rows: u64,
    fields: Vec<String>,
    line: Vec<u8>,
}

impl<W: Write> TableWriter<W> {
    pub fn new(
        columns: &'static [(&'static str, Kind)],
        csv_out: W,
        jsonl_out: W,
    ) -> std::io::Result<Self> {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Hashing::new(csv_out));
        csv.write_record(columns.iter().map(|(c, _)| *c))?;
        Ok(TableWriter {
            columns,
            csv,
            jsonl: Hashing::new(jsonl_out),
            rows: 0,
            fields: Vec::with_capacity(columns.len()),
            line: Vec::with_capacity(256),
        })
    }

    /// Writes one row; blobs must already be replaced by their hash
    /// ([`Cell::Str`]).
    pub fn write_row(&mut self, cells: &[Cell]) -> std::io::Result<()> {
        self.fields.clear();
        for cell in cells {
            self.fields.push(match cell {
                Cell::Null => String::new(),
                Cell::Int(v) => v.to_string(),
                Cell::Bool(b) => b.to_string(),
                Cell::Str(s) => s.clone(),
                Cell::Blob(_) => {
                    return Err(std::io::Error::other("a blob reached the table writer"));
                }
            });
        }
        json_line(self.columns, cells, &mut self.line)?;
        self.csv.write_record(&self.fields)?;
        self.jsonl.write_all(&self.line)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written, and the hashes of the CSV and of the JSON Lines file
    /// (both flushed).
    pub fn finish(self) -> std::io::Result<(u64, String, String)> {
        let (_, csv) = self
            .csv
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?
            .finish()?;
        let (_, jsonl) = self.jsonl.finish()?;
        Ok((self.rows, csv, jsonl))
    }
}

/// The canonical JSON Lines form of one row (with its newline) into `line`.
pub fn json_line(
    columns: &[(&'static str, Kind)],
    cells: &[Cell],
    line: &mut Vec<u8>,
) -> std::io::Result<()> {
    line.clear();
    line.push(b'{');
    for (n, ((name, _), cell)) in columns.iter().zip(cells).enumerate() {
        if n > 0 {
            line.push(b',');
        }
        line.push(b'"');
        line.extend_from_slice(name.as_bytes());
        line.extend_from_slice(b"\":");
        match cell {
            Cell::Null => line.extend_from_slice(b"null"),
            Cell::Int(v) => line.extend_from_slice(v.to_string().as_bytes()),
            Cell::Bool(true) => line.extend_from_slice(b"true"),
            Cell::Bool(false) => line.extend_from_slice(b"false"),
            Cell::Str(s) => serde_json::to_writer(&mut *line, s)?,
            Cell::Blob(b) => serde_json::to_writer(&mut *line, &crate::sha256_hex(b))?,
        }
    }
    line.extend_from_slice(b"}\n");
    Ok(())
}

/// The error for a file of the bundle.
pub(crate) fn io_err(path: &std::path::Path, what: &str) -> impl FnOnce(std::io::Error) -> Error {
    let context = format!("cannot {what} {}", path.display());
    move |e| Error::io(context, e)
}
