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
    /// The format the operator named; None: from the name and first bytes.
    pub format: Option<FileFormat>,
}

/// A table format named by the operator rather than detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Delimited text, whatever the file's name.
    Csv,
    /// An .xlsx workbook, whatever the file's name.
    Xlsx,
}

const ZIP: &[u8] = b"PK\x03\x04";
const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];
const GZIP: &[u8] = &[0x1F, 0x8B];
const AGE: &[u8] = b"age-encryption.org/";

/// What a file that is certainly not text is, from its first bytes.
fn binary_kind(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(ZIP) {
        Some("a spreadsheet (.xlsx) or zip archive")
    } else if head.starts_with(OLE) {
        Some("an old binary Excel (.xls) file")
    } else if head.starts_with(GZIP) || head.starts_with(AGE) {
        Some("a compressed or encrypted archive (a hand-back bundle?)")
    } else {
        None
    }
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
    /// Records the profiling pass rejected for bytes invalid in the encoding.
    pub encoding_invalid: u64,
    pivot: CenturyPivot,
    importer: Box<dyn Importer<Record = RawRecord> + Send>,
    legacy_id_column: Option<usize>,
}

fn input(file: &str, message: impl std::fmt::Display) -> crate::Error {
    crate::Error::Input(format!("{file}: {message}"))
}

/// Picks the importer for a file from its name and first bytes.
fn importer_for(
    path: &Path,
    options: &Options,
) -> crate::Result<Box<dyn Importer<Record = RawRecord> + Send>> {
    let file = display_name(path);
    let mut head = [0u8; 20];
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
    if options.format.is_none() && xlsx.detect(path, head) {
        return Ok(Box::new(xlsx));
    }
    if head.starts_with(OLE) {
        return Err(input(
            &file,
            "an old binary Excel (.xls) file: save it as .xlsx or CSV first",
        ));
    }
    match options.format {
        Some(FileFormat::Xlsx) if head.starts_with(ZIP) => return Ok(Box::new(xlsx)),
        Some(FileFormat::Xlsx) => {
            return Err(input(
                &file,
                "not an .xlsx workbook (an .xlsx file is a zip, and this one does not start as one), \
                 yet --format xlsx was given: for delimited text use --format csv, or leave --format out \
                 to detect the format",
            ));
        }
        Some(FileFormat::Csv) => {
            if let Some(kind) = binary_kind(head) {
                return Err(input(
                    &file,
                    format!(
                        "looks like {kind}, not CSV, yet --format csv was given: for a workbook use \
                         --format xlsx, for a hand-back bundle --format bundle, or leave --format out \
                         to detect the format"
                    ),
                ));
            }
        }
        None => {}
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
    let mut encoding_invalid = 0;
    importer.read(path, &layout, &mut |item| match item {
        Ok((_, record)) => {
            counts.rows += 1;
            for (i, (c, v)) in columns.iter_mut().zip(record.fields()).enumerate() {
                let v = v.trim();
                if v.is_empty() {
                    continue;
                }
                // A spreadsheet number says nothing of how the column's
                // text writes decimals (it is read with its `.` point).
                if !record.is_numeric(i) {
                    c.evidence.add(v, pivot);
                }
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
        Err(p) => {
            counts.rejected += 1;
            encoding_invalid += u64::from(p.code == reasons::ENCODING_INVALID);
        }
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
        encoding_invalid,
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
            .and_then(|i| record.field(i))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let mut problems = Vec::new();
        let mut cells = Vec::with_capacity(self.columns.len());
        for (i, (c, text)) in self.columns.iter().zip(record.fields()).enumerate() {
            match self.value(c, text, record.is_numeric(i)) {
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

    /// `number`: a spreadsheet number, written with a `.` decimal point.
    fn value(
        &self,
        c: &Column,
        text: &str,
        number: bool,
    ) -> Result<Value, (&'static str, String, String)> {
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
            Reading::Date(f) => values::read_date(t, f, self.pivot)
                .map(Value::Date)
                .ok_or_else(|| {
                    (
                        reasons::DATE_INVALID,
                        format!("{t:?} is not a date {}", f.label()),
                        t.to_string(),
                    )
                }),
            Reading::Decimal { style, scale } => {
                let style = if number { DecimalStyle::Dot } else { style };
                values::parse_decimal(t, style, scale)
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
                })
            }
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

impl Table {
    /// A starting mapping file for this table, in TOML: the fields the header
    /// names gave, the formats the values proved, the value maps to fill in.
    /// What needs a decision (an ambiguous column) is said in a comment, never
    /// chosen here.
    pub fn suggest_mapping(&self) -> String {
        let q = mapping::quote;
        let single = (self.resolved.entities.len() == 1).then(|| self.resolved.entities[0]);
        let field_name = |f: &Field| {
            if single == Some(f.entity) {
                f.name.to_string()
            } else {
                f.qualified()
            }
        };
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line(format!(
            "# siso mapping suggested for {} ({}).",
            self.file,
            self.describe()
        ));
        line(
            "# Check every line: fields come from the header names, formats from the values."
                .into(),
        );
        line(match single {
            Some(e) => format!("entity = {}", q(e.name())),
            None if self.resolved.entities.is_empty() => "# entity = \"persona\"  # persona, cartella, cartella_stato, intervento, erogazione, diario, nucleo, operatore or flat".into(),
            None => "entity = \"flat\"".into(),
        });
        if !self.layout.has_header {
            line("header = false".into());
        }
        line(format!(
            "# century_pivot = {}  # d/m/yy: yy <= pivot is 20yy, else 19yy",
            self.pivot.0
        ));
        line(String::new());
        line("[columns]".into());
        for c in &self.columns {
            let name = q(&c.name);
            let seen = if c.samples.is_empty() {
                String::new()
            } else {
                format!(" (e.g. {})", c.samples.join(", "))
            };
            let Some(f) = c.field() else {
                line(format!(
                    "# {name} = \"\"  # not mapped: {}{seen}",
                    c.inferred.label()
                ));
                continue;
            };
            let field = q(&field_name(f));
            match (c.reading, c.issue.as_ref()) {
                (Reading::Date(fmt), None) => line(format!(
                    "{name} = {{ field = {field}, date_format = {} }}",
                    q(fmt.label())
                )),
                (Reading::Decimal { style, .. }, None) => line(format!(
                    "{name} = {{ field = {field}, decimal = {} }}",
                    q(style.label())
                )),
                (_, Some(issue)) => line(format!(
                    "{name} = {field}  # {}: add {}{seen}",
                    issue.code,
                    if issue.code == reasons::DATE_AMBIGUOUS {
                        "date_format = \"dd/mm/yyyy\" or \"mm/dd/yyyy\""
                    } else if issue.code == reasons::AMOUNT_AMBIGUOUS {
                        "decimal = \",\" or \".\""
                    } else {
                        "date_format"
                    }
                )),
                _ => line(format!("{name} = {field}")),
            }
        }
        for c in &self.columns {
            let Some(f) = c.field().filter(|f| mapping::wants_value_map(f)) else {
                continue;
            };
            let Some(distinct) = &c.distinct else {
                continue;
            };
            line(String::new());
            line(format!(
                "# Legacy values of {} -> new codes; uncomment and fill in.",
                c.name
            ));
            line(format!("# [values.{}]", q(&field_name(f))));
            for v in distinct {
                line(format!("# {} = \"\"", q(v)));
            }
        }
        out
    }

    /// One line on what was detected: format, encoding, dialect, header.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.layout.format.to_string()];
        if let Some(e) = &self.layout.encoding {
            parts.push(match self.encoding_invalid {
                0 => e.label(),
                1 => format!("{} (1 line with invalid bytes)", e.label()),
                n => format!("{} ({n} lines with invalid bytes)", e.label()),
            });
        }
        if let Some(d) = &self.layout.dialect {
            parts.push(format!(
                "delimiter {}",
                super::dialect::delimiter_label(d.delimiter)
            ));
            parts.push(format!("{} line endings", d.line_ending.label()));
        }
        if let Some(s) = &self.layout.sheet {
            parts.push(format!("sheet {s}"));
        }
        parts.push(if self.layout.has_header {
            "header row".into()
        } else {
            "no header row".into()
        });
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn rows(t: &Table) -> Vec<Result<Row, Problem>> {
        let mut out = Vec::new();
        t.read(&mut |r| out.push(r)).unwrap();
        out
    }

    const P: Option<CenturyPivot> = Some(CenturyPivot(26));

    #[test]
    fn windows_1252_persons_read_into_typed_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(&dir, "old_persone.csv", b"ID_PERSONA;COGNOME;NOME;DT_NASCITA\r\nP1;Rossi;Nicol\xF2;25/12/1950\r\nP2;Citt\xE0;Anna;01/02/1960\r\n");
        let t = open(
            &p,
            &Options {
                pivot: P,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(
            t.layout.encoding.unwrap().encoding,
            encoding_rs::WINDOWS_1252
        );
        assert!(t.blocking_issues().is_empty());
        let r = rows(&t);
        let row = r[0].as_ref().unwrap();
        assert_eq!(row.cells[2], Value::Text("Nicolò".into()));
        assert_eq!(row.cells[3], Value::Date(date!(1950 - 12 - 25)));
        assert_eq!((row.origin.line, row.legacy_id.as_deref()), (2, Some("P1")));
        assert_eq!(r[1].as_ref().unwrap().cells[1], Value::Text("Città".into()));
    }

    #[test]
    fn an_ambiguous_date_column_blocks_until_the_mapping_says() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(
            &dir,
            "p.csv",
            b"ID_PERSONA;COGNOME;DT_NASCITA\nP1;Rossi;01/02/1950\nP2;Verdi;03/04/1960\n",
        );
        let t = open(
            &p,
            &Options {
                pivot: P,
                ..Options::default()
            },
        )
        .unwrap();
        let issues = t.blocking_issues();
        assert_eq!(issues.len(), 1);
        assert_eq!(
            (issues[0].code, issues[0].column.as_str()),
            (reasons::DATE_AMBIGUOUS, "DT_NASCITA")
        );
        let m = Mapping::parse("[columns]\nDT_NASCITA = { field = \"persona.data_nascita\", date_format = \"mm/dd/yyyy\" }").unwrap();
        let t = open(
            &p,
            &Options {
                pivot: P,
                mapping: Some(m),
                ..Options::default()
            },
        )
        .unwrap();
        assert!(t.blocking_issues().is_empty());
        assert_eq!(
            rows(&t)[0].as_ref().unwrap().cells[2],
            Value::Date(date!(1950 - 01 - 02))
        );
    }

    #[test]
    fn bad_cells_are_row_problems_with_codes() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(
            &dir,
            "erogazioni.csv",
            b"ID_EROGAZIONE;DATA_EROGAZIONE;IMPORTO_EROGATO\nE1;15/03/2024;1.234,56\nE2;31/02/2024;12,5\nE3;16/03/2024;dodici\n",
        );
        let t = open(
            &p,
            &Options {
                pivot: P,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(t.resolved.entities, vec![Entity::Erogazione]);
        let r = rows(&t);
        assert_eq!(
            r[0].as_ref().unwrap().cells[2],
            Value::Decimal {
                units: 123_456,
                scale: 2
            }
        );
        let bad_date = &r[1].as_ref().unwrap().problems[0];
        assert_eq!(
            (
                bad_date.code,
                bad_date.legacy_id.as_deref(),
                bad_date.origin.line
            ),
            (reasons::DATE_INVALID, Some("E2"), 3)
        );
        assert_eq!(
            r[1].as_ref().unwrap().cells[2],
            Value::Decimal {
                units: 1250,
                scale: 2
            }
        );
        assert_eq!(
            r[2].as_ref().unwrap().problems[0].code,
            reasons::AMOUNT_INVALID
        );
    }

    #[test]
    fn value_maps_translate_and_refuse_unknown_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(
            &dir,
            "cartelle.csv",
            b"ID_CARTELLA;STATO\nC1;APERTO\nC2;chiusa\nC3;SOSPESA\n",
        );
        let m = Mapping::parse(
            "entity = \"cartella\"\n[values.stato]\nAPERTO = \"aperta\"\nCHIUSO = \"chiusa\"",
        )
        .unwrap();
        let t = open(
            &p,
            &Options {
                pivot: P,
                mapping: Some(m),
                ..Options::default()
            },
        )
        .unwrap();
        let r = rows(&t);
        assert_eq!(
            r[0].as_ref().unwrap().cells[1],
            Value::Text("aperta".into())
        );
        assert_eq!(
            r[1].as_ref().unwrap().cells[1],
            Value::Text("chiusa".into())
        );
        assert_eq!(
            r[2].as_ref().unwrap().problems[0].code,
            reasons::VALUE_UNMAPPED
        );
    }

    #[test]
    fn structural_rejects_carry_the_legacy_id() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(
            &dir,
            "p.csv",
            b"COGNOME;ID_PERSONA;NOME\nRossi;P1;Anna\nVerdi;P2;Lu;ca\n",
        );
        let t = open(
            &p,
            &Options {
                pivot: P,
                ..Options::default()
            },
        )
        .unwrap();
        assert_eq!(
            t.counts,
            Counts {
                rows: 1,
                rejected: 1,
                cell_problems: 0
            }
        );
        let r = rows(&t);
        let p = r[1].as_ref().unwrap_err();
        assert_eq!(
            (p.code, p.legacy_id.as_deref(), p.raw.as_str()),
            (reasons::CSV_FIELD_COUNT, Some("P2"), "Verdi;P2;Lu;ca")
        );
    }

    #[test]
    fn the_suggested_mapping_parses_back_to_the_same_fields() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(&dir, "x.csv", b"ID_PERSONA;COGNOME;DT_NASCITA;IMPORTO;STATO;ALTRO\nP1;Rossi;25/12/1950;1.234,56;APERTO;x\n");
        let t = open(
            &p,
            &Options {
                pivot: P,
                entity: Some(Entity::Persona),
                ..Options::default()
            },
        )
        .unwrap();
        let text = t.suggest_mapping();
        let m = Mapping::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let again = open(
            &p,
            &Options {
                pivot: P,
                mapping: Some(m),
                ..Options::default()
            },
        )
        .unwrap();
        let fields = |t: &Table| {
            t.columns
                .iter()
                .map(|c| c.field().map(|f| f.qualified()))
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&again), fields(&t));
        assert!(text.contains("date_format = \"dd/mm/yyyy\""), "{text}");
    }

    #[test]
    fn a_forced_format_wins_over_the_name_and_refuses_what_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"ID_PERSONA;COGNOME\nP1;Rossi\n";
        let named_xlsx = file(&dir, "persone.xlsx", text);
        let forced = |format, encoding: Option<&str>| Options {
            pivot: P,
            entity: Some(Entity::Persona),
            encoding: encoding.map(str::to_string),
            format: Some(format),
            ..Options::default()
        };
        let t = open(&named_xlsx, &forced(FileFormat::Csv, None)).unwrap();
        assert_eq!((t.layout.format, t.counts.rows), ("csv", 1));
        // Detected by its name, the same file is a (broken) workbook.
        assert!(open(&named_xlsx, &Options::default()).is_err());

        let zip = file(&dir, "persone.txt", b"PK\x03\x04\x14\x00\x00\x00binary");
        for encoding in [None, Some("windows-1252")] {
            let err = open(&zip, &forced(FileFormat::Csv, encoding))
                .err()
                .unwrap()
                .to_string();
            assert!(
                err.starts_with(
                    "persone.txt: looks like a spreadsheet (.xlsx) or zip archive, not CSV"
                ) && err.contains("--format xlsx"),
                "{err}"
            );
        }
        let gz = file(&dir, "bundle.dat", &[0x1F, 0x8B, 8, 0, 0, 0]);
        let err = open(&gz, &forced(FileFormat::Csv, None))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("--format bundle"), "{err}");

        let err = open(&named_xlsx, &forced(FileFormat::Xlsx, None))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("persone.xlsx: not an .xlsx workbook") && err.contains("--format csv"),
            "{err}"
        );
    }
}
