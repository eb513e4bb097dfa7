//! `siso inspect FILE`: what siso reads in a legacy export, before importing
//! anything. No database needed.

use std::path::PathBuf;

use anyhow::Context as _;
use siso::importers::fields::Entity;
use siso::importers::mapping::Mapping;
use siso::importers::table::{self, Options, Table};
use siso::importers::{Problem, reasons};

use crate::context::Ctx;
use crate::{Outcome, output};

/// Options of `siso inspect` (its help is on the `Command` variant).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The legacy file (.csv, .txt, .xlsx).
    pub file: PathBuf,
    /// Encoding instead of detecting it: utf-8, utf-16le, utf-16be, windows-1252, latin1.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Delimiter instead of detecting it: ';', ',', '|' or tab.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// The sheet of an .xlsx file (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// A TOML mapping: column -> field, date formats, value maps.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// What the file holds, instead of guessing from its name and header:
    /// persona, cartella, cartella_stato, intervento, erogazione, diario, nucleo, operatore.
    #[arg(long, value_parser = parse_entity)]
    pub entity: Option<Entity>,
    /// The first row is data, not a header.
    #[arg(long)]
    pub no_header: bool,
    /// Write the parsed table to stdout as clean UTF-8 CSV (RFC 4180, comma,
    /// header row): dates ISO, amounts with a '.' decimal point. Rows that
    /// cannot be read are left out and listed on stderr.
    #[arg(long, conflicts_with = "suggest_mapping")]
    pub normalize: bool,
    /// Write a starting mapping file (TOML) to stdout.
    #[arg(long)]
    pub suggest_mapping: bool,
}

fn parse_entity(s: &str) -> Result<Entity, String> {
    Entity::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = siso::importers::fields::ENTITIES
            .iter()
            .map(|e| e.name())
            .collect();
        format!("unknown entity {s:?} (entities: {})", names.join(", "))
    })
}

/// How many row problems are listed on stderr.
const SHOWN: usize = 20;

#[derive(serde::Serialize)]
struct ColumnRow {
    n: usize,
    column: String,
    field: String,
    mapped_by: &'static str,
    values: String,
    read_as: String,
    filled: u64,
    samples: String,
    issue: String,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let mapping = args.mapping.as_deref().map(Mapping::load).transpose()?;
    let options = Options {
        encoding: args.encoding,
        delimiter: args.delimiter,
        sheet: args.sheet,
        header: args.no_header.then_some(false),
        entity: args.entity,
        mapping,
        pivot: None,
        format: None,
    };
    let table = table::open(&args.file, &options)?;
    if args.suggest_mapping {
        print!("{}", table.suggest_mapping());
        return Ok(Outcome::Clean);
    }
    if args.normalize {
        return normalize(ctx, &table);
    }
    describe(ctx, &table)
}

fn describe(ctx: &Ctx, table: &Table) -> anyhow::Result<Outcome> {
    let quiet = ctx.global.quiet;
    output::note(quiet, format!("file:     {}", table.file));
    output::note(quiet, format!("detected: {}", table.describe()));
    if let Some(d) = &table.layout.dialect {
        output::note(
            quiet,
            format!(
                "quoting:  {}; trailing delimiter: {}",
                if d.quoted {
                    "quoted fields seen"
                } else {
                    "no quoted fields seen"
                },
                if d.trailing_delimiter {
                    "yes (ignored)"
                } else {
                    "no"
                }
            ),
        );
    }
    output::note(
        quiet,
        format!(
            "entity:   {} (from {})",
            table.resolved.entities_label(),
            table.resolved.entities_from
        ),
    );
    let records: Vec<ColumnRow> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| ColumnRow {
            n: i + 1,
            column: c.name.clone(),
            field: c.field().map(|f| f.qualified()).unwrap_or_default(),
            mapped_by: match (c.field(), c.map.explicit) {
                (None, _) => "",
                (Some(_), true) => "mapping",
                (Some(_), false) => "header",
            },
            values: c.inferred.label(),
            read_as: if c.field().is_some() {
                c.reading.label()
            } else {
                "(not imported)".into()
            },
            filled: c.evidence.filled,
            samples: c.samples.join(" | "),
            issue: c
                .issue
                .as_ref()
                .map(|i| i.code.to_string())
                .unwrap_or_default(),
        })
        .collect();
    output::print(ctx.format(), &records)?;
    let mut problems = Vec::new();
    let counts = table.read(&mut |row| match row {
        Ok(row) => problems.extend(row.problems),
        Err(p) => problems.push(p),
    })?;
    output::note(
        quiet,
        format!(
            "rows:     {} read, {} rejected whole, {} cell problems",
            counts.rows + counts.rejected,
            counts.rejected,
            counts.cell_problems
        ),
    );
    let issues = table.blocking_issues();
    report(&issues, &problems);
    Ok(if issues.is_empty() && problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

/// Column issues and the first row problems, on stderr: they matter even with --quiet.
fn report(issues: &[&table::ColumnIssue], problems: &[Problem]) {
    for i in issues {
        eprintln!("column {}: {} [{}]", i.column, i.message, i.code);
    }
    for p in problems.iter().take(SHOWN) {
        eprintln!("{p}");
        if !p.raw.is_empty() {
            eprintln!(
                "    {}",
                siso::importers::excerpt(&p.raw, 200).replace(['\r', '\n'], "⏎")
            );
        }
    }
    if problems.len() > SHOWN {
        eprintln!(
            "... and {} more problems (list capped at {SHOWN})",
            problems.len() - SHOWN
        );
    }
    if !problems.is_empty() {
        let mut codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
        codes.sort_unstable();
        codes.dedup();
        for code in codes {
            let n = problems.iter().filter(|p| p.code == code).count();
            eprintln!("{code}: {n} ({})", reasons::meaning(code).unwrap_or(""));
        }
    }
}

fn normalize(ctx: &Ctx, table: &Table) -> anyhow::Result<Outcome> {
    let issues = table.blocking_issues();
    if !issues.is_empty() {
        report(&issues, &[]);
        return Err(siso::Error::Refused(format!(
            "{}: {} column(s) cannot be read without a decision in the mapping; nothing written",
            table.file,
            issues.len()
        ))
        .into());
    }
    output::note(
        ctx.global.quiet,
        format!("{}: {}", table.file, table.describe()),
    );
    let stdout = std::io::stdout();
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(stdout.lock());
    w.write_record(table.header())
        .context("cannot write to stdout")?;
    let mut problems = Vec::new();
    let mut failed: Option<csv::Error> = None;
    let counts = table.read(&mut |row| match row {
        Ok(row) if row.problems.is_empty() => {
            if failed.is_none()
                && let Err(e) = w.write_record(row.cells.iter().map(|v| v.to_text()))
            {
                failed = Some(e);
            }
        }
        Ok(row) => problems.extend(row.problems),
        Err(p) => problems.push(p),
    })?;
    if let Some(e) = failed {
        return Err(e).context("cannot write to stdout");
    }
    w.flush().context("cannot write to stdout")?;
    output::note(
        ctx.global.quiet,
        format!(
            "{} rows written, {} left out",
            counts.rows + counts.rejected - left_out(&problems),
            left_out(&problems)
        ),
    );
    report(&[], &problems);
    Ok(if problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

/// Rows left out: one per line with a problem.
fn left_out(problems: &[Problem]) -> u64 {
    let mut lines: Vec<u64> = problems.iter().map(|p| p.origin.line).collect();
    lines.dedup();
    lines.len() as u64
}
