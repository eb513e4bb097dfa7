//! Readers of legacy formats: one module per source format, behind one trait.
//!
//! An importer reads bytes and yields typed records and per-row problems; it
//! knows nothing of the database. Validation and storage happen in the library.

use std::path::Path;

/// Where a record or a problem comes from, so a technician can find the row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub file: String,
    /// 1-based physical line (or XML line) where the record starts.
    pub line: u64,
}

/// A row the importer could not turn into a record: kept whole, never dropped.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    pub origin: Origin,
    /// Stable reason code, e.g. `CSV_FIELD_COUNT`.
    pub code: &'static str,
    pub field: Option<String>,
    pub message: String,
    /// The original line as read (decoded), for the rejects file.
    pub raw: String,
}

/// What an importer hands on for each row: a record, or why there is none.
pub type Item<R> = Result<(Origin, R), Problem>;

/// One legacy source format.
pub trait Importer {
    /// The typed record this format yields.
    type Record;

    /// Short name used by `--format` (e.g. `csv`, `siuss`).
    fn name(&self) -> &'static str;

    /// Whether the file looks like this format (for `--format auto`).
    fn detect(&self, path: &Path, head: &[u8]) -> bool;

    /// Reads the whole source, handing each record or problem to `sink` in order.
    fn read(&self, path: &Path, sink: &mut dyn FnMut(Item<Self::Record>)) -> crate::Result<()>;
}
