//! `siso report usage|monitoring|refresh`: Art. 5 reports for the Tavolo operativo.
//! The library builds the report and renders it to a string or bytes; this
//! file picks the period and the format and writes to stdout or --out.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use anyhow::Context as _;
use siso::report::{self, Lang, Period, Report, period::parse_date, render};

use crate::Outcome;
use crate::context::{Ctx, Format as ReportFormat};
use crate::output;

/// Usage and monitoring reports per ambito (Art. 5): counts only, never
/// personal data; counts of 1 and 2 are shown as "<3" in every format.
///
/// --format: table (a terminal, with a bar chart of the monthly trend), csv
/// (RFC 4180, one row per cell: tabella, riga, colonna, valore), json, md
/// (Markdown), html (one self-contained page with SVG charts, printable on
/// A4), xlsx (a workbook, one sheet per table; needs --out or a redirected
/// stdout). --csv-excel-it: CSV for Excel set to Italian.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

/// The formats of a report (the global --format takes them for `siso report`).
const FORMATS: &str = "\
Formats (--format):
  table  for a terminal; the monthly trend as a bar chart
  csv    RFC 4180, one row per cell (tabella, riga, colonna, valore), for scripts
  json   typed values, for scripts
  md     Markdown
  html   one self-contained page with SVG charts, printable on A4
  xlsx   a workbook, one sheet per table (needs --out or a redirected stdout)
  --csv-excel-it: CSV for Excel set to Italian (semicolons, decimal comma, BOM)

Privacy: counts from 1 to --min-cell - 1 read \"<3\" in every format; a value
hidden only because it would reveal one by subtraction reads \"X\".";

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Cartelle, persons in charge, interventions, spending, operators, rates,
    /// monthly trend and data quality per comune of an ambito (or per ambito).
    #[command(after_help = FORMATS)]
    Usage(UsageArgs),
    /// Degree of use of the system per comune and ente: last activity,
    /// activity in the last 30 and 90 days, imports, monthly adoption.
    /// Exit 1 when a comune has had no activity for 90 days.
    #[command(after_help = FORMATS)]
    Monitoring(MonitoringArgs),
    /// Recompute the daily usage statistics the usage report reads, from the
    /// case data of every titolare. siso keeps them up to date itself on
    /// every import, undo and restore: needed only after case data was
    /// changed outside siso (by SQL). Statistics kept from purged entes stay.
    Refresh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportLang {
    It,
    En,
}

#[derive(Debug, clap::Args)]
pub struct Output {
    /// CSV for Excel set to Italian: semicolons, decimal comma, UTF-8 with
    /// BOM, each table under its title (instead of --format csv).
    #[arg(long)]
    pub csv_excel_it: bool,
    /// Write to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Language of headers and notes.
    #[arg(long, value_enum, default_value = "it")]
    pub lang: ReportLang,
    /// Privacy threshold: counts from 1 to N-1 are shown as "<N", with
    /// whatever would reveal them by subtraction. Applied in EVERY format,
    /// the terminal included. 1 turns it off (never for reports that leave
    /// the office).
    #[arg(long, value_name = "N", default_value_t = report::MIN_CELL, value_parser = clap::value_parser!(i64).range(1..))]
    pub min_cell: i64,
}

#[derive(Debug, clap::Args)]
pub struct UsageArgs {
    /// The ambito (ente code, e.g. AMB-MONZA).
    #[arg(
        long,
        required_unless_present = "all_ambiti",
        conflicts_with = "all_ambiti"
    )]
    pub ambito: Option<String>,
    /// All ambiti side by side (for the Tavolo operativo and ANCI).
    #[arg(long)]
    pub all_ambiti: bool,
    /// A calendar year (1 January to 31 December). Without --year or
    /// --from/--to: the current year up to today.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub year: Option<i32>,
    /// First day of the period (YYYY-MM-DD, included).
    #[arg(long, requires = "to", value_name = "DATE")]
    pub from: Option<String>,
    /// Last day of the period (YYYY-MM-DD, included).
    #[arg(long, requires = "from", value_name = "DATE")]
    pub to: Option<String>,
    /// How many prestazione codes to list before summing the others.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, clap::Args)]
pub struct MonitoringArgs {
    /// One ambito (ente code); without it, all ambiti.
    #[arg(long, conflicts_with = "all_ambiti")]
    pub ambito: Option<String>,
    /// All ambiti (the default).
    #[arg(long)]
    pub all_ambiti: bool,
    /// The day the situation is looked at (YYYY-MM-DD; default today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Months of adoption trend, ending with the month of --as-of.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=120))]
    pub months: u32,
    #[command(flatten)]
    pub output: Output,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Sub::Usage(a) => usage(ctx, a).await,
        Sub::Monitoring(a) => monitoring(ctx, a).await,
        Sub::Refresh => refresh(ctx).await,
    }
}

fn lang(l: ReportLang) -> Lang {
    match l {
        ReportLang::It => Lang::It,
        ReportLang::En => Lang::En,
    }
}

async fn usage(ctx: &Ctx, a: UsageArgs) -> anyhow::Result<Outcome> {
    let today = siso::now_utc().date();
    let period = match (a.year, &a.from, &a.to) {
        (Some(y), _, _) => Period::year(y)?,
        (None, Some(from), Some(to)) => {
            Period::new(parse_date("--from", from)?, parse_date("--to", to)?)?
        }
        _ => Period::new(
            time::Date::from_calendar_date(today.year(), time::Month::January, 1)?,
            today,
        )?,
    };
    let db = ctx.open_current().await?;
    let opts = report::usage::UsageOptions {
        period,
        ambito: a.ambito.clone(),
        top: a.top,
        lang: lang(a.output.lang),
        min_cell: a.output.min_cell,
        today,
    };
    let mut r = report::usage::usage(&db, &opts).await?;
    db.close().await;
    emit(ctx, &a.output, &mut r)?;
    Ok(Outcome::Clean)
}

async fn monitoring(ctx: &Ctx, a: MonitoringArgs) -> anyhow::Result<Outcome> {
    let as_of = match &a.as_of {
        Some(d) => parse_date("--as-of", d)?,
        None => siso::now_utc().date(),
    };
    let db = ctx.open_current().await?;
    let opts = report::monitoring::MonitoringOptions {
        ambito: a.ambito.clone(),
        as_of,
        lang: lang(a.output.lang),
        min_cell: a.output.min_cell,
        months: a.months,
    };
    let mut m = report::monitoring::monitoring(&db, &opts).await?;
    db.close().await;
    emit(ctx, &a.output, &mut m.report)?;
    if m.inattivi.is_empty() {
        return Ok(Outcome::Clean);
    }
    output::note(
        ctx.global.quiet,
        format!(
            "{} comune/i without any activity in the 90 days up to {as_of}: {}",
            m.inattivi.len(),
            m.inattivi.join(", ")
        ),
    );
    Ok(Outcome::Problems)
}

async fn refresh(ctx: &Ctx) -> anyhow::Result<Outcome> {
    let db = ctx.open_current().await?;
    let n = report::statistica::refresh_all(&db).await?;
    db.close().await;
    output::note(
        ctx.global.quiet,
        format!("usage statistics recomputed for {n} titolare/i"),
    );
    Ok(Outcome::Clean)
}

/// Suppresses, renders and writes the report where it was asked.
fn emit(ctx: &Ctx, o: &Output, r: &mut Report) -> anyhow::Result<()> {
    if o.min_cell > 1 {
        r.apply_suppression();
    } else {
        output::note(
            ctx.global.quiet,
            "--min-cell 1: small counts are NOT hidden; this report may identify people and must not leave the office",
        );
    }
    let format = ctx.format();
    let bytes: Vec<u8> = if o.csv_excel_it {
        if !matches!(format, ReportFormat::Csv | ReportFormat::Table) {
            return Err(siso::Error::Usage(
                "--csv-excel-it is a CSV: do not combine it with --format other than csv".into(),
            )
            .into());
        }
        render::csv::excel_it(r)
    } else {
        match format {
            ReportFormat::Table => render::text::render(r).into_bytes(),
            ReportFormat::Csv => render::csv::plain(r),
            ReportFormat::Json => render::json::render(r).into_bytes(),
            ReportFormat::Md => render::md::render(r).into_bytes(),
            ReportFormat::Html => render::html::render(r).into_bytes(),
            ReportFormat::Xlsx => render::xlsx::render(r)?,
            ReportFormat::Auto | ReportFormat::Siuss | ReportFormat::Bundle => {
                return Err(crate::context::input_only(format).into());
            }
        }
    };
    match &o.out {
        Some(path) => {
            std::fs::write(path, &bytes)
                .map_err(|e| siso::Error::io(format!("cannot write {}", path.display()), e))?;
            output::note(
                ctx.global.quiet,
                format!("Report written to {}", path.display()),
            );
        }
        None => {
            let stdout = std::io::stdout();
            if format == ReportFormat::Xlsx && stdout.is_terminal() {
                return Err(siso::Error::Usage(
                    "an xlsx workbook is binary: give --out FILE.xlsx or redirect stdout".into(),
                )
                .into());
            }
            let mut out = stdout.lock();
            out.write_all(&bytes).context("cannot write the report")?;
            out.flush().context("cannot write the report")?;
        }
    }
    Ok(())
}
