//! A legacy file as a clean table: the layout sniffed, the mapping applied,
//! each column's type settled over the whole file, then rows of typed values.
//!
//! This is what the storing half calls:
//!
//! ```no_run
//! # fn main() -> siso::Result<()> {
//! use siso::importers::table::{self, Options};
//! let t = table::open(std::path::Path::new("legacy.csv"), &Options::default())?;
//! if let Some(issue) = t.blocking_issues().first() {
//!     // e.g. DATE_AMBIGUOUS: refuse before storing anything.
//!     # let _ = issue;
//! }
//! let cf = t.column("persona.codice_fiscale");
//! t.read(&mut |row| match row {
//!     Ok(row) => { let _ = (cf.map(|i| &row.cells[i]), &row.problems); }
//!     Err(rejected) => { let _ = (rejected.code, rejected.origin.line, &rejected.raw); }
//! })?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use super::fields::{Entity, Field, Kind};
use super::mapping::{self, Mapping, Resolved};
use super::values::{self, CenturyPivot, DateFormat, DecimalStyle, Evidence, Inferred, Value};
use super::{
    Importer, Layout, Origin, Problem, RawRecord, csv::Delimited, display_name, reasons, xlsx::Xlsx,
};

/// How to open a file; everything `None` is detected. Options given here win
/// over the mapping file's.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub sheet: Option<String>,
    pub header: Option<bool>,
    pub entity: Option<Entity>,
    pub mapping: Option<Mapping>,
    /// Two-digit years: default the current year ([`CenturyPivot::current`]).
    pub pivot: Option<CenturyPivot>,
}

/// How a column's cells become values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    Text,
    Code,
    Date(DateFormat),
    Decimal {
        style: DecimalStyle,
        scale: u8,
    },
    Flag,
    /// The column cannot be read (see its issue): cells are kept as text.
    Refused,
}

impl Reading {
    pub fn label(self) -> String {
        match self {
            Reading::Text => "text".into(),
            Reading::Code => "code".into(),
            Reading::Date(f) => format!("date {}", f.label()),
            Reading::Decimal { style, scale } => {
                format!("decimal {} ({scale} places)", style.label())
            }
            Reading::Flag => "flag".into(),
            Reading::Refused => "REFUSED".into(),
        }
    }
}

/// Why a mapped column cannot be read: it blocks the import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnIssue {
    pub column: String,
    pub code: &'static str,
    pub message: String,
}

/// One column, as the whole file showed it.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub map: mapping::ColumnMap,
    pub reading: Reading,
    pub inferred: Inferred,
    pub evidence: Evidence,
    /// The first distinct values (up to [`SAMPLES`]).
    pub samples: Vec<String>,
    /// Distinct values up to [`DISTINCT`], for value maps; None beyond.
    pub distinct: Option<std::collections::BTreeSet<String>>,
    pub issue: Option<ColumnIssue>,
}

pub const SAMPLES: usize = 3;
pub const DISTINCT: usize = 40;

impl Column {
    pub fn field(&self) -> Option<&'static Field> {
        self.map.field
    }
}

/// A row of typed values, one per column, with what was wrong in its cells.
#[derive(Debug, Clone)]
pub struct Row {
    pub origin: Origin,
    pub raw: String,
    pub cells: Vec<Value>,
    /// Cells that could not be read; the row is still whole.
    pub problems: Vec<Problem>,
    pub legacy_id: Option<String>,
}

/// Rows read, and rows the reader rejected whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub rows: u64,
    pub rejected: u64,
    pub cell_problems: u64,
}

pub struct Table {
    pub path: PathBuf,
    pub file: String,
    pub layout: Layout,
    pub resolved: Resolved,
    pub columns: Vec<Column>,
    /// What the profiling pass counted.
    pub counts: Counts,
    pivot: CenturyPivot,
    importer: Box<dyn Importer<Record = RawRecord>>,
    legacy_id_column: Option<usize>,
}

fn input(file: &str, message: impl std::fmt::Display) -> crate::Error {
    crate::Error::Input(format!("{file}: {message}"))
}

/// Picks the importer for a file from its name and first bytes.
fn importer_for(
    path: &Path,
    options: &Options,
) -> crate::Result<Box<dyn Importer<Record = RawRecord>>> {
    let file = display_name(path);
    let mut head = [0u8; 8];
    let n = {
        use std::io::Read as _;
        let mut f = std::fs::File::open(path)
            .map_err(|e| crate::Error::io(format!("cannot open {}", path.display()), e))?;
        f.read(&mut head)
            .map_err(|e| crate::Error::io(format!("cannot read {}", path.display()), e))?
    };
    let head = &head[..n];
    let mapping = options.mapping.as_ref();
    let sheet = options
        .sheet
        .clone()
        .or_else(|| mapping.and_then(|m| m.sheet.clone()));
    let xlsx = Xlsx {
        sheet: sheet.clone(),
        header: options.header.or(mapping.and_then(|m| m.header)),
    };
    if xlsx.detect(path, head) {
        return Ok(Box::new(xlsx));
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(input(
            &file,
            "an old binary Excel (.xls) file: save it as .xlsx or CSV first",
        ));
    }
    if sheet.is_some() {
        return Err(crate::Error::Usage(format!(
            "{file}: --sheet applies to .xlsx files only"
        )));
    }
    let encoding = options
        .encoding
        .clone()
        .or_else(|| mapping.and_then(|m| m.encoding.clone()));
    let delimiter = options
        .delimiter
        .clone()
        .or_else(|| mapping.and_then(|m| m.delimiter.clone()));
    Ok(Box::new(Delimited {
        encoding: encoding
            .as_deref()
            .map(super::encoding::by_label)
            .transpose()
            .map_err(crate::Error::Usage)?,
        delimiter: delimiter
            .as_deref()
            .map(super::dialect::parse_delimiter)
            .transpose()
            .map_err(crate::Error::Usage)?,
        header: options.header.or(mapping.and_then(|m| m.header)),
    }))
}

/// Opens a legacy file: sniffs it, applies the mapping and reads it once to
/// settle each column's type. Errors are about the whole file; row problems
/// come from [`Table::read`].
pub fn open(path: &Path, options: &Options) -> crate::Result<Table> {
    let file = display_name(path);
    let importer = importer_for(path, options)?;
    let layout = importer.sniff(path)?;
    let resolved = mapping::resolve(
        options.mapping.as_ref(),
        &layout.columns,
        options.entity,
        &file,
    )
    .map_err(|m| input(&file, m))?;
    let pivot = options
        .pivot
        .or_else(|| {
            options
                .mapping
                .as_ref()
                .and_then(|m| m.century_pivot)
                .map(CenturyPivot)
        })
        .unwrap_or_else(CenturyPivot::current);
    let mut columns: Vec<Column> = layout
        .columns
        .iter()
        .zip(&resolved.columns)
        .map(|(name, map)| Column {
            name: name.clone(),
            map: map.clone(),
            reading: Reading::Text,
            inferred: Inferred::Empty,
            evidence: Evidence::default(),
            samples: Vec::new(),
            distinct: Some(Default::default()),
            issue: None,
        })
        .collect();
    let mut counts = Counts::default();
    importer.read(path, &layout, &mut |item| match item {
        Ok((_, record)) => {
            counts.rows += 1;
            for (c, v) in columns.iter_mut().zip(&record.fields) {
                let v = v.trim();
                if v.is_empty() {
                    continue;
                }
                c.evidence.add(v, pivot);
                if let Some(d) = &mut c.distinct
                    && !d.contains(v)
                {
                    if d.len() >= DISTINCT {
                        c.distinct = None;
                    } else {
                        d.insert(v.to_string());
                    }
                }
                if c.samples.len() < SAMPLES && !c.samples.iter().any(|s| s == v) {
                    c.samples.push(v.to_string());
                }
            }
        }
        Err(_) => counts.rejected += 1,
    })?;
    for c in &mut columns {
        c.inferred = c.evidence.inferred();
        let (reading, issue) = settle(c);
        c.reading = reading;
        c.issue = issue.map(|(code, message)| ColumnIssue {
            column: c.name.clone(),
            code,
            message,
        });
    }
    let legacy_id_column = resolved.entities.iter().rev().find_map(|e| {
        columns.iter().position(|c| {
            c.field()
                .is_some_and(|f| f.entity == *e && f.name == "id_legacy")
        })
    });
    Ok(Table {
        path: path.to_path_buf(),
        file,
        layout,
        resolved,
        columns,
        counts,
        pivot,
        importer,
        legacy_id_column,
    })
}

/// The amount style of a mapped column: what its values prove, refusing a tie
/// between styles when some value reads both ways.
fn style_of(e: &Evidence) -> Result<DecimalStyle, ()> {
    match e.comma.cmp(&e.dot) {
        std::cmp::Ordering::Greater => Ok(DecimalStyle::Comma),
        std::cmp::Ordering::Less => Ok(DecimalStyle::Dot),
        std::cmp::Ordering::Equal if e.either > 0 => Err(()),
        // Only plain integers: both styles read them the same.
        std::cmp::Ordering::Equal => Ok(DecimalStyle::Comma),
    }
}

/// How a column is read, and why not when it cannot be.
fn settle(c: &Column) -> (Reading, Option<(&'static str, String)>) {
    let Some(field) = c.map.field else {
        return (Reading::Text, None);
    };
    let e = &c.evidence;
    match field.kind {
        Kind::Text => (Reading::Text, None),
        Kind::Code => (Reading::Code, None),
        Kind::Flag => (Reading::Flag, None),
        Kind::Date => match (c.map.date_format, e.date_format(0.5)) {
            (Some(f), _) => (Reading::Date(f), None),
            (None, Some(Ok(f))) => (Reading::Date(f), None),
            (None, Some(Err(()))) => (
                Reading::Refused,
                Some((
                    reasons::DATE_AMBIGUOUS,
                    format!(
                        "every date reads both as dd/mm and as mm/dd (samples: {}); say which in the mapping: \
                         {} = {{ field = \"{}\", date_format = \"dd/mm/yyyy\" }}",
                        c.samples.join(", "),
                        mapping::quote(&c.name),
                        field.qualified()
                    ),
                )),
            ),
            (None, None) if e.filled == 0 => (Reading::Date(DateFormat::YearMonthDay), None),
            (None, None) => (
                Reading::Refused,
                Some((
                    reasons::DATE_FORMAT_UNKNOWN,
                    format!(
                        "most values are not dates in a known format (samples: {}); set date_format in the mapping",
                        c.samples.join(", ")
                    ),
                )),
            ),
        },
        Kind::Cents | Kind::Milli => {
            let scale = field.kind.scale();
            match c.map.decimal.map(Ok).unwrap_or_else(|| style_of(e)) {
                Ok(style) => (Reading::Decimal { style, scale }, None),
                Err(()) => (
                    Reading::Refused,
                    Some((
                        reasons::AMOUNT_AMBIGUOUS,
                        format!(
                            "values like {} read both as thousands and as decimals; say which in the mapping: \
                             {} = {{ field = \"{}\", decimal = \",\" }}",
                            c.samples.join(", "),
                            mapping::quote(&c.name),
                            field.qualified()
                        ),
                    )),
                ),
            }
        }
    }
}

impl Table {
    /// Column issues that forbid importing: nothing may be stored while any remains.
    pub fn blocking_issues(&self) -> Vec<&ColumnIssue> {
        self.columns
            .iter()
            .filter_map(|c| c.issue.as_ref())
            .collect()
    }

    /// The index of the column mapped to `entity.field`, e.g. "persona.cognome".
    pub fn column(&self, qualified: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.field().is_some_and(|f| f.qualified() == qualified))
    }

    /// The column names, as the file (or `COL1`...) names them.
    pub fn header(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// Reads every row again, typed: `Ok(row)` (perhaps with cell problems),
    /// or `Err(problem)` for a record that could not be split into columns.
    pub fn read(&self, sink: &mut dyn FnMut(Result<Row, Problem>)) -> crate::Result<Counts> {
        let mut counts = Counts::default();
        self.importer
            .read(&self.path, &self.layout, &mut |item| match item {
                Ok((origin, record)) => {
                    let row = self.typed(origin, record);
                    counts.rows += 1;
                    counts.cell_problems += row.problems.len() as u64;
                    sink(Ok(row));
                }
                Err(mut problem) => {
                    counts.rejected += 1;
                    if let Some(i) = self.legacy_id_column {
                        problem.legacy_id = problem
                            .cells
                            .get(i)
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty());
                    }
                    sink(Err(problem));
                }
            })?;
        Ok(counts)
    }

    fn typed(&self, origin: Origin, record: RawRecord) -> Row {
        let legacy_id = self
            .legacy_id_column
            .and_then(|i| record.fields.get(i))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let mut problems = Vec::new();
        let mut cells = Vec::with_capacity(self.columns.len());
        for (c, text) in self.columns.iter().zip(record.fields) {
            match self.value(c, text) {
                Ok(v) => cells.push(v),
                Err((code, message, text)) => {
                    problems.push(Problem {
                        origin: origin.clone(),
                        code,
                        field: Some(c.name.clone()),
                        legacy_id: legacy_id.clone(),
                        message,
                        raw: record.raw.clone(),
                        cells: Vec::new(),
                    });
                    cells.push(Value::Text(text));
                }
            }
        }
        Row {
            origin,
            raw: record.raw,
            cells,
            problems,
            legacy_id,
        }
    }

    #[allow(clippy::type_complexity)]
    fn value(&self, c: &Column, text: String) -> Result<Value, (&'static str, String, String)> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(Value::Empty);
        }
        let mapped = |v: &str| -> Result<String, (&'static str, String, String)> {
            let Some(map) = &c.map.values else {
                return Ok(v.to_string());
            };
            if let Some(new) = map.get(v).or_else(|| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(v))
                    .map(|(_, n)| n)
            }) {
                return Ok(new.clone());
            }
            if map.values().any(|n| n == v) {
                return Ok(v.to_string());
            }
            Err((
                reasons::VALUE_UNMAPPED,
                format!("{v:?} is not in the mapping's value map for this column"),
                v.to_string(),
            ))
        };
        match c.reading {
            Reading::Text => Ok(Value::Text(mapped(t)?)),
            Reading::Code => Ok(Value::Text(mapped(&t.to_uppercase())?)),
            Reading::Refused => Ok(Value::Text(t.to_string())),
            Reading::Date(f) => values::parse_date(t, f, self.pivot)
                .map(Value::Date)
                .ok_or_else(|| {
                    (
                        reasons::DATE_INVALID,
                        format!("{t:?} is not a date {}", f.label()),
                        t.to_string(),
                    )
                }),
            Reading::Decimal { style, scale } => values::parse_decimal(t, style, scale)
                .map(|units| Value::Decimal { units, scale })
                .ok_or_else(|| {
                    let example = match style {
                        DecimalStyle::Comma => "1.234,56",
                        DecimalStyle::Dot => "1234.56",
                    };
                    (
                        reasons::AMOUNT_INVALID,
                        format!(
                            "{t:?} is not an amount like {example} with at most {scale} decimals"
                        ),
                        t.to_string(),
                    )
                }),
            Reading::Flag => values::parse_flag(t).map(Value::Flag).ok_or_else(|| {
                (
                    reasons::FLAG_INVALID,
                    format!("{t:?} is not S/N, SI/NO or 1/0"),
                    t.to_string(),
                )
            }),
        }
    }
}
