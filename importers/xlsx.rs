//! Excel workbooks (.xlsx), through the same pipeline as delimited text: each
//! sheet row becomes a record of texts, dates as ISO `yyyy-mm-dd`, numbers
//! with a `.` decimal point, so the column typing downstream is the same.
//!
//! An .xlsx is a zip: before calamine inflates anything, the zip directory's
//! declared sizes are checked against limits, so a zip bomb is refused
//! without being expanded.

use std::path::Path;

use calamine::{Data, Reader as _};

use super::{
    Importer, Item, Layout, MAX_COLUMNS, Origin, Problem, RawRecord, csv::disambiguate,
    csv::known_header, dialect, display_name, numbered_columns, reasons, values,
};

/// Largest uncompressed part of the zip (a sheet's XML, shared strings).
pub const MAX_ENTRY_BYTES: u64 = 200 * 1024 * 1024;
/// Largest uncompressed total.
pub const MAX_TOTAL_BYTES: u64 = 400 * 1024 * 1024;
/// Most parts in the zip.
pub const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Default)]
pub struct Xlsx {
    /// The sheet to read; the first one when None.
    pub sheet: Option<String>,
    pub header: Option<bool>,
}

fn input(path: &Path, message: impl std::fmt::Display) -> crate::Error {
    crate::Error::Input(format!("{}: {message}", display_name(path)))
}

/// Refuses zips whose directory declares too much data, before inflating.
pub fn check_zip(path: &Path) -> crate::Result<()> {
    let file = std::fs::File::open(path)
        .map_err(|e| crate::Error::io(format!("cannot open {}", path.display()), e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| input(path, format!("not a valid .xlsx (zip) file: {e}")))?;
    if zip.len() > MAX_ENTRIES {
        return Err(input(
            path,
            format!(
                "{} parts in the zip, more than {MAX_ENTRIES}: refused as a zip bomb",
                zip.len()
            ),
        ));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| input(path, format!("damaged zip directory: {e}")))?;
        let size = entry.size();
        if size > MAX_ENTRY_BYTES {
            return Err(input(
                path,
                format!(
                    "part {} would expand to {size} bytes, more than {MAX_ENTRY_BYTES}: refused as a zip bomb (or export it as CSV)",
                    entry.name().unwrap_or_default()
                ),
            ));
        }
        total = total.saturating_add(size);
    }
    if total > MAX_TOTAL_BYTES {
        return Err(input(
            path,
            format!(
                "would expand to {total} bytes, more than {MAX_TOTAL_BYTES}: refused as a zip bomb"
            ),
        ));
    }
    Ok(())
}

/// A cell as text: dates ISO, numbers without thousands separators.
fn text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else if f.abs() < 1e9 {
                // Binary noise of a computed cell (1234.5600000000002) is
                // not a decimal the user wrote: nine places, zeros trimmed.
                let s = format!("{f:.9}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                format!("{f}")
            }
        }
        Data::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            let date = time::Month::try_from(m)
                .ok()
                .and_then(|m| time::Date::from_calendar_date(i32::from(y), m, d).ok())
                .ok_or_else(|| format!("date serial {} is out of range", dt.as_f64()))?;
            values::iso(date)
        }
        Data::DateTime(dt) => dt.as_f64().to_string(),
        Data::DateTimeIso(s) => s
            .get(..10)
            .filter(|p| p.as_bytes().get(4) == Some(&b'-'))
            .unwrap_or(s)
            .to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Err(format!("{e}")),
    })
}

impl Xlsx {
    fn range(&self, path: &Path) -> crate::Result<(String, calamine::Range<Data>)> {
        check_zip(path)?;
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(path)
            .map_err(|e| input(path, format!("cannot read the workbook: {e}")))?;
        let names = book.sheet_names();
        let sheet = match &self.sheet {
            Some(s) if names.contains(s) => s.clone(),
            Some(s) => {
                return Err(input(
                    path,
                    format!("no sheet {s:?} (sheets: {})", names.join(", ")),
                ));
            }
            None => names
                .first()
                .cloned()
                .ok_or_else(|| input(path, "the workbook has no sheets"))?,
        };
        let range = book
            .worksheet_range(&sheet)
            .map_err(|e| input(path, format!("cannot read sheet {sheet:?}: {e}")))?;
        if range.width() > MAX_COLUMNS {
            return Err(input(
                path,
                format!(
                    "sheet {sheet:?} has {} columns, more than {MAX_COLUMNS} ({})",
                    range.width(),
                    reasons::TOO_MANY_COLUMNS
                ),
            ));
        }
        Ok((sheet, range))
    }
}

fn row_texts(row: &[Data]) -> (Vec<String>, Option<String>) {
    let mut error = None;
    let fields = row
        .iter()
        .map(|c| {
            text(c).unwrap_or_else(|e| {
                error.get_or_insert(e);
                String::new()
            })
        })
        .collect();
    (fields, error)
}

/// The row as one `;`-separated line, for messages and reject files.
fn raw_line(fields: &[String]) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(fields);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

impl Importer for Xlsx {
    type Record = RawRecord;

    fn name(&self) -> &'static str {
        "xlsx"
    }

    fn detect(&self, path: &Path, head: &[u8]) -> bool {
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
        head.starts_with(b"PK\x03\x04") || matches!(ext.as_deref(), Some("xlsx" | "xlsm"))
    }

    fn sniff(&self, path: &Path) -> crate::Result<Layout> {
        let (sheet, range) = self.range(path)?;
        let sample: Vec<Vec<String>> = range.rows().take(200).map(|r| row_texts(r).0).collect();
        if sample.is_empty() {
            return Err(input(path, format!("sheet {sheet:?} is empty")));
        }
        let has_header = self
            .header
            .unwrap_or_else(|| dialect::looks_like_header(&sample, &known_header));
        let columns = if has_header {
            let mut names: Vec<String> = sample[0].iter().map(|s| s.trim().to_string()).collect();
            while names.last().is_some_and(String::is_empty) {
                names.pop();
            }
            disambiguate(&mut names);
            names
        } else {
            numbered_columns(range.width())
        };
        Ok(Layout {
            format: "xlsx",
            encoding: None,
            dialect: None,
            sheet: Some(sheet),
            has_header,
            columns,
        })
    }

    fn read(
        &self,
        path: &Path,
        layout: &Layout,
        sink: &mut dyn FnMut(Item<RawRecord>),
    ) -> crate::Result<()> {
        let (_, range) = self.range(path)?;
        let first_row = u64::from(range.start().map_or(0, |(r, _)| r)) + 1;
        let file = display_name(path);
        let n = layout.columns.len();
        for (i, row) in range
            .rows()
            .enumerate()
            .skip(usize::from(layout.has_header))
        {
            let origin = Origin {
                file: file.clone(),
                line: first_row + i as u64,
            };
            let (mut fields, error) = row_texts(row);
            if fields.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let raw = raw_line(&fields);
            if let Some(e) = error {
                sink(Err(Problem::new(
                    origin,
                    reasons::XLSX_CELL_ERROR,
                    format!("a cell holds the error {e}"),
                    raw,
                )
                .with_cells(fields)));
                continue;
            }
            // Cells right of the header are extra only when filled.
            while fields.len() > n && fields.last().is_some_and(|f| f.trim().is_empty()) {
                fields.pop();
            }
            if fields.len() > n {
                sink(Err(Problem::new(
                    origin,
                    reasons::CSV_FIELD_COUNT,
                    format!("{} cells where the header has {n}", fields.len()),
                    raw,
                )
                .with_cells(fields)));
                continue;
            }
            fields.resize(n, String::new());
            // Numbers keep their `.` point whatever decimal style the
            // column's text cells have (see `table::Reader::value`).
            let numeric: Vec<u32> = row
                .iter()
                .take(n)
                .enumerate()
                .filter(|(_, c)| matches!(c, Data::Int(_) | Data::Float(_)))
                .filter_map(|(i, _)| u32::try_from(i).ok())
                .collect();
            sink(Ok((
                origin,
                RawRecord::new(raw, &fields).with_numeric(numeric),
            )));
        }
        Ok(())
    }
}
