//! Readers of legacy formats: one module per source format, behind one trait.
//!
//! An importer reads bytes and yields records of text cells and per-row
//! problems; it knows nothing of the database. The reading pipeline is:
//!
//! file -> [`Importer::sniff`] (encoding, dialect, header: a [`Layout`])
//!      -> [`Importer::read`] (a [`RawRecord`] per row, or a [`Problem`])
//!      -> [`table::Table`] (mapping to fields, column types, typed [`values::Value`]s)
//!
//! Validation and storage happen later, in the library, on [`table::Row`]s.

pub mod csv;
pub mod dialect;
pub mod encoding;
pub mod fields;
pub mod mapping;
pub mod reasons;
pub mod siuss;
pub mod table;
pub mod values;
pub mod xlsx;

use std::path::Path;

/// Longest record accepted (decoded bytes): legacy rows are a few hundred bytes.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Most fields accepted in a record.
pub const MAX_COLUMNS: usize = 1000;

/// Where a record or a problem comes from, so a technician can find the row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub file: String,
    /// 1-based physical line (or spreadsheet row) where the record starts.
    pub line: u64,
}

/// A row (or a cell of it) the reader could not accept: kept whole, never dropped.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    pub origin: Origin,
    /// Stable reason code from [`reasons`], e.g. `CSV_FIELD_COUNT`.
    pub code: &'static str,
    /// The column (header name) the problem is in, when it is one cell.
    pub field: Option<String>,
    /// The row's legacy identifier, when it could be read.
    pub legacy_id: Option<String>,
    pub message: String,
    /// The original record as read (decoded), for the rejects file.
    pub raw: String,
    /// The record's cells when it could be split (to find its legacy id).
    #[serde(skip)]
    pub cells: Vec<String>,
}

impl Problem {
    pub fn new(origin: Origin, code: &'static str, message: String, raw: String) -> Problem {
        Problem {
            origin,
            code,
            field: None,
            legacy_id: None,
            message,
            raw,
            cells: Vec::new(),
        }
    }

    pub fn with_cells(mut self, cells: Vec<String>) -> Problem {
        self.cells = cells;
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}", self.origin.file, self.origin.line)?;
        if let Some(field) = &self.field {
            write!(f, ", column {field}")?;
        }
        write!(f, ": {} [{}]", self.message, self.code)
    }
}

/// One record as the file holds it: its cells as text, and the raw text.
/// The cells live in one buffer (one allocation per record, not per cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// The record as read (decoded), line breaks of multi-line fields included.
    pub raw: String,
    text: String,
    ends: Vec<usize>,
    /// Cells a spreadsheet holds as numbers (written with a `.` decimal
    /// point whatever the column's decimal style), by index, ascending.
    numeric: Vec<u32>,
}

impl RawRecord {
    /// A record of `fields` (spreadsheet dates already ISO, numbers with a
    /// `.` decimal point).
    pub fn new<S: AsRef<str>>(raw: String, fields: &[S]) -> RawRecord {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(fields.len());
        for f in fields {
            text.push_str(f.as_ref());
            ends.push(text.len());
        }
        RawRecord {
            raw,
            text,
            ends,
            numeric: Vec::new(),
        }
    }

    /// A record whose cells are `text` cut at `ends` (char boundaries).
    pub fn from_parts(raw: String, text: String, ends: Vec<usize>) -> RawRecord {
        debug_assert!(ends.iter().all(|&e| text.is_char_boundary(e)));
        RawRecord {
            raw,
            text,
            ends,
            numeric: Vec::new(),
        }
    }

    /// Marks the cells a spreadsheet holds as numbers (ascending indices).
    pub fn with_numeric(mut self, numeric: Vec<u32>) -> RawRecord {
        debug_assert!(numeric.is_sorted());
        self.numeric = numeric;
        self
    }

    /// Whether cell `i` is a spreadsheet number rather than text.
    pub fn is_numeric(&self, i: usize) -> bool {
        u32::try_from(i).is_ok_and(|i| self.numeric.binary_search(&i).is_ok())
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The text of cell `i`.
    pub fn field(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..end])
    }

    /// The cells, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len()).map(|i| self.field(i).unwrap_or_default())
    }
}

/// What an importer hands on for each row: a record, or why there is none.
pub type Item<R> = Result<(Origin, R), Problem>;

/// What sniffing found out about a file.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The importer's name (`csv`, `xlsx`).
    pub format: &'static str,
    /// e.g. "Windows-1252/Latin-1", "UTF-8 with BOM"; None for spreadsheets.
    pub encoding: Option<encoding::Detected>,
    /// Delimited text only.
    pub dialect: Option<dialect::Dialect>,
    /// Spreadsheets only: the sheet read.
    pub sheet: Option<String>,
    /// Whether the first row names the columns.
    pub has_header: bool,
    /// Column names: the header, or `COL1`, `COL2`... without one.
    pub columns: Vec<String>,
}

/// One legacy source format.
pub trait Importer {
    /// The record this format yields.
    type Record;

    /// Short name (e.g. `csv`, `xlsx`).
    fn name(&self) -> &'static str;

    /// Whether the file looks like this format, from its name and first bytes.
    fn detect(&self, path: &Path, head: &[u8]) -> bool;

    /// Reads as little as needed to tell the file's layout.
    fn sniff(&self, path: &Path) -> crate::Result<Layout>;

    /// Reads the whole source, handing each record or problem to `sink` in order.
    fn read(
        &self,
        path: &Path,
        layout: &Layout,
        sink: &mut dyn FnMut(Item<Self::Record>),
    ) -> crate::Result<()>;
}

/// Names for the columns of a file without a header.
pub fn numbered_columns(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("COL{i}")).collect()
}

/// The file name used in messages and origins.
pub fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A long raw text cut for messages and reject files of hostile rows.
pub fn excerpt(raw: &str, max: usize) -> String {
    if raw.len() <= max {
        return raw.to_string();
    }
    let mut end = max;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &raw[..end], raw.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_record_cells_come_back_as_given() {
        let r = RawRecord::new("x".into(), &["Nicolò", "", "Città"]);
        assert_eq!(r.fields().collect::<Vec<_>>(), vec!["Nicolò", "", "Città"]);
        assert_eq!((r.len(), r.field(2), r.field(3)), (3, Some("Città"), None));
        assert!(RawRecord::new::<&str>("".into(), &[]).is_empty());
        assert_eq!(excerpt("àààà", 3), "à… (8 bytes in all)");
    }
}
