//! `siso import`: legacy case data into SISO; `import list|show|undo`.

use std::path::PathBuf;

use siso::import::{self, Threshold, undo};

use crate::context::{Ctx, Format};
use crate::{Outcome, output};

/// Import legacy case data (CSV or XLSX exports of old cartella systems).
///
/// Reads every file first, checks every record (codice fiscale, dates,
/// codes, references between persons, cases, interventions and deliveries),
/// then writes in one transaction. By default it is all or nothing: one
/// rejected record and nothing is stored; --max-errors / --max-error-rate
/// let the valid records in when the rejects stay within the threshold.
/// Rejected records go to a CSV file with their file, line, legacy id,
/// reason code and original text. Running the same files again changes
/// nothing. Each run is a batch that `siso import undo` can take back.
///
/// A mapping (TOML) says which column is which field; without --mapping, a
/// NAME.toml next to NAME.csv is used, else the usual Italian headers are
/// recognised (see `siso inspect FILE --suggest-mapping`).
///
/// SIUSS XML flows (INPS Casellario, PS_PSA_SINA201812.xsd), the export every
/// cartella product can make, are read without a mapping: give the .xml
/// files, or a folder to read every *.xml in it. Each beneficiary becomes a
/// person (birth year only in SIUSS: no birth date is invented) with one
/// cartella `SIUSS-<CF>`, each prestazione an intervento with its erogazione,
/// each SINA a valutazione_sina. Files with a DTD (<!DOCTYPE) are refused.
/// A flow names its sender (<IdentificazioneFlusso><Ente Codice>): when that
/// code is the codice or codice fiscale of a siso ente other than --ente, the
/// flow is that ente's and the whole batch is refused, nothing written, unless
/// --sent-by names it; a sender code siso does not know imports.
///
/// A hand-back bundle (a folder with manifest.json written by `siso handback
/// export`, or its .tar.gz archive; an archive encrypted with age needs
/// --identity) is restored as it is, with its own ids: it must verify and be of
/// the --ente given. A restore goes into an empty scope, never a merge: it is
/// refused, and nothing is written, when the ente already has case data here
/// or any id of the bundle is taken. Configuration rows already present with
/// identical content are kept. Persons of other titolari that the cases point
/// to are restored under their titolare, which must already exist here with
/// the same id (restore or onboard it first). The bundle's audit entries are
/// not replayed into this audit log; the restore records the manifest's SHA-256.
///
/// What the files are is detected: SIUSS flows by the .xml name, workbooks by
/// the zip signature or the .xlsx name, a bundle by its manifest.json or its
/// archive, anything else as delimited text. When a name misleads, --format
/// says it: `csv` reads every file as delimited text whatever its name (.txt,
/// .dat, even .xml; a workbook or archive is refused), `xlsx` every file as a
/// workbook, `siuss` every file as a SIUSS flow (a folder: every regular file
/// in it, whatever its name; subfolders and hidden files are not read), `bundle` the one path
/// as a hand-back bundle. A file that is not what --format says is refused,
/// and nothing is written. --format auto, table (the default) and json detect
/// the input; the summary prints as JSON with --format json or --json, else as
/// a table (so `--format csv --json` reads CSV and prints JSON).
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,
    /// Files to import: CSV or XLSX (one per entity, or flat exports), SIUSS
    /// .xml flows or a folder of them; or one hand-back bundle (folder or archive).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The ente whose data this is (its code, see `siso ente list`).
    #[arg(long, required = true)]
    pub ente: Option<String>,
    /// Mapping file for every file (default: NAME.toml beside each NAME.csv).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Spreadsheet sheet to read (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Force the encoding (utf-8, windows-1252, utf-16...) instead of detecting it.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Name of the legacy system: legacy ids are unique within it.
    #[arg(long, default_value = "legacy")]
    pub source: String,
    /// A siso ente that sends SIUSS flows on behalf of --ente: flows whose
    /// <Ente Codice> is its codice or codice fiscale are imported for --ente
    /// instead of refused as another ente's (repeat for several; recorded in
    /// the audit log).
    #[arg(long, value_name = "ENTE")]
    pub sent_by: Vec<String>,
    /// Do everything, then roll back: the summary says what would happen.
    #[arg(long)]
    pub dry_run: bool,
    /// Commit the valid records if there are at most N rejects.
    #[arg(long, conflicts_with = "max_error_rate")]
    pub max_errors: Option<u64>,
    /// Commit the valid records if rejects are at most this share (0-1) of the records.
    #[arg(long)]
    pub max_error_rate: Option<f64>,
    /// Where to write rejected records (default: siso-scarti-ENTE-TIME.csv here).
    ///
    /// Checked before anything is read: a folder, one of the files being
    /// imported, or a folder siso cannot write to stops the run with nothing
    /// stored. An existing file is replaced.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// The age identity file (AGE-SECRET-KEY-1...) that decrypts an encrypted
    /// hand-back archive.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// List import batches.
    List {
        /// Only this ente's batches.
        #[arg(long)]
        ente: Option<String>,
    },
    /// One batch: its files (SHA-256, size) and counts.
    ///
    /// --json prints one object (batch, files, counts); --format csv prints
    /// the counts per entity.
    Show { batch: i64 },
    /// Take a batch back: remove what it inserted, restore what it updated.
    ///
    /// Refused when later batches of the same ente exist, unless --cascade
    /// (which undoes them too, newest first). Asks unless --yes.
    Undo {
        batch: i64,
        /// Also undo the later batches of the same ente.
        #[arg(long)]
        cascade: bool,
        /// Do it, then roll back.
        #[arg(long)]
        dry_run: bool,
    },
}

/// What `siso import FILE...` reads.
enum Source {
    /// Case data, read as the input format says.
    Files(import::Input),
    /// One hand-back bundle, restored as it is.
    Bundle,
}

/// On `siso import FILE...`, --format names either the input (auto, csv,
/// xlsx, siuss, bundle: the summary is then a table, or JSON with --json) or
/// how the summary prints (table, json: the input is detected). Decided
/// before the database is opened: a refusal touches nothing.
fn source(ctx: &Ctx, files: &[PathBuf]) -> anyhow::Result<(Source, Format)> {
    let summary = match ctx.format() {
        Format::Json => Format::Json,
        _ => Format::Table,
    };
    let source = match ctx.global.format {
        Format::Table | Format::Json | Format::Auto if is_bundle(files) => Source::Bundle,
        Format::Table | Format::Json | Format::Auto => Source::Files(import::Input::Auto),
        Format::Csv => Source::Files(import::Input::Csv),
        Format::Xlsx => Source::Files(import::Input::Xlsx),
        Format::Siuss => Source::Files(import::Input::Siuss),
        Format::Bundle => {
            ensure_bundle(files)?;
            Source::Bundle
        }
        Format::Md | Format::Html => {
            return Err(siso::Error::Usage(
                "--format md and html are for `siso report`; on `siso import FILE...` --format names the \
                 input (auto, csv, xlsx, siuss, bundle) or prints the summary as table or json"
                    .into(),
            )
            .into());
        }
    };
    Ok((source, summary))
}

/// Refuses --format bundle on anything but one hand-back bundle, saying what was expected.
fn ensure_bundle(files: &[PathBuf]) -> anyhow::Result<()> {
    let [path] = files else {
        return Err(siso::Error::Usage(format!(
            "--format bundle restores one hand-back bundle, and {} paths were given: give its folder or archive alone",
            files.len()
        ))
        .into());
    };
    if is_bundle(files) {
        return Ok(());
    }
    let what = if path.is_dir() {
        format!(
            "the folder {} has no {}",
            path.display(),
            siso::handback::MANIFEST
        )
    } else if path.is_file() {
        format!(
            "{} is neither (not a .tar.gz or age-encrypted archive)",
            path.display()
        )
    } else {
        format!("{} does not exist", path.display())
    };
    Err(siso::Error::Input(format!(
        "--format bundle expects a hand-back bundle, the folder holding {} that `siso handback export` \
         writes or its archive, and {what}: for case data leave --format out or name its format \
         (csv, xlsx, siuss)",
        siso::handback::MANIFEST
    ))
    .into())
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let source = match args.command {
        None => Some(source(ctx, &args.files)?),
        Some(_) => None,
    };
    let db = ctx.open_current().await?;
    let outcome = match args.command {
        Some(Sub::List { ente }) => {
            output::print(ctx.format(), &undo::list(&db, ente.as_deref(), None).await?)?;
            Outcome::Clean
        }
        Some(Sub::Show { batch }) => {
            let batches = undo::list(&db, None, Some(batch)).await?;
            if batches.is_empty() {
                return Err(siso::Error::Refused(format!(
                    "there is no import batch {batch}: see `siso import list`"
                ))
                .into());
            }
            let (files, counts) = undo::files(&db, batch).await?;
            let counts: Vec<serde_json::Value> = counts
                .and_then(|c| serde_json::from_str(&c).ok())
                .unwrap_or_default();
            match ctx.format() {
                // One document for scripts.
                Format::Json => {
                    let doc = serde_json::json!({
                        "batch": batches[0],
                        "files": files,
                        "counts": counts,
                    });
                    println!("{}", serde_json::to_string_pretty(&doc)?);
                }
                // One table: the counts per entity (the batch's own row is
                // in `import list`, its files in --json).
                Format::Csv => output::print(Format::Csv, &counts)?,
                format => {
                    output::print(format, &batches)?;
                    output::print(format, &files)?;
                    if !counts.is_empty() {
                        output::print(format, &counts)?;
                    }
                }
            }
            Outcome::Clean
        }
        Some(Sub::Undo {
            batch,
            cascade,
            dry_run,
        }) => {
            if !dry_run
                && !ctx.confirm(&format!(
                    "Undo import batch {batch}{}",
                    if cascade { " and the later ones" } else { "" }
                ))?
            {
                output::note(ctx.global.quiet, "Nothing undone.");
                return Ok(Outcome::Clean);
            }
            let report = undo::undo(
                &db,
                batch,
                cascade,
                dry_run,
                &ctx.audit_entry(None, "import_undo", serde_json::Value::Null),
            )
            .await?;
            output::print(ctx.format(), std::slice::from_ref(&report))?;
            output::note(
                ctx.global.quiet,
                format!(
                    "{}batch(es) {:?}: {} row(s) removed, {} restored.",
                    if dry_run {
                        "Dry run (rolled back): "
                    } else {
                        "Undone "
                    },
                    report.batches,
                    report.deleted,
                    report.restored
                ),
            );
            Outcome::Clean
        }
        None => match source.expect("decided above for FILE...") {
            (Source::Bundle, summary) => restore(ctx, &db, args, summary).await?,
            (Source::Files(input), summary) => import(ctx, &db, args, input, summary).await?,
        },
    };
    db.close().await;
    Ok(outcome)
}

/// One folder holding a manifest.json, or one hand-back archive: a
/// hand-back bundle.
fn is_bundle(files: &[PathBuf]) -> bool {
    matches!(files, [path] if path.join(siso::handback::MANIFEST).is_file()
        || (path.is_file() && siso::handback::archive::sniff(path).is_some()))
}

async fn restore(
    ctx: &Ctx,
    db: &siso::store::Db,
    args: Args,
    summary: Format,
) -> anyhow::Result<Outcome> {
    let ente = args.ente.expect("clap requires --ente");
    if args.mapping.is_some()
        || args.sheet.is_some()
        || args.encoding.is_some()
        || args.max_errors.is_some()
        || args.max_error_rate.is_some()
        || args.rejects.is_some()
        || !args.sent_by.is_empty()
    {
        return Err(siso::Error::Usage(
            "a hand-back bundle is restored as it is: --mapping, --sheet, --encoding, --max-errors, \
             --max-error-rate, --rejects and --sent-by do not apply"
                .into(),
        )
        .into());
    }
    let entry = ctx.audit_entry(
        Some(&ente.trim().to_uppercase()),
        "import_bundle",
        serde_json::Value::Null,
    );
    let path = &args.files[0];
    let report = if path.is_dir() {
        import::bundle::restore(db, path, &ente, args.dry_run, entry).await?
    } else {
        import::bundle::restore_archive(
            db,
            path,
            args.identity.as_deref(),
            &ente,
            args.dry_run,
            entry,
        )
        .await?
    };
    match summary {
        Format::Json => output::print(Format::Json, std::slice::from_ref(&report))?,
        format => output::print(format, &report.tabelle)?,
    }
    let rows: u64 = report.tabelle.iter().map(|t| t.inserite).sum();
    output::note(
        ctx.global.quiet,
        match report.batch {
            Some(b) => format!(
                "Restored {rows} row(s) of {} as import batch {b} (manifest SHA-256 {}).",
                report.ente, report.manifest_sha256
            ),
            None => format!(
                "Dry run (rolled back): {rows} row(s) of {} would be restored; nothing changed.",
                report.ente
            ),
        },
    );
    Ok(Outcome::Clean)
}

#[derive(serde::Serialize)]
struct CountsRow {
    entita: &'static str,
    lette: u64,
    inserite: u64,
    aggiornate: u64,
    invariate: u64,
    unificate: u64,
    scartate: u64,
}

fn counts_rows(s: &[import::EntitySummary]) -> Vec<CountsRow> {
    s.iter()
        .map(|e| CountsRow {
            entita: e.entita,
            lette: e.lette,
            inserite: e.inserite,
            aggiornate: e.aggiornate,
            invariate: e.invariate,
            unificate: e.unificate,
            scartate: e.scartate,
        })
        .collect()
}

async fn import(
    ctx: &Ctx,
    db: &siso::store::Db,
    args: Args,
    input: import::Input,
    summary_format: Format,
) -> anyhow::Result<Outcome> {
    let ente = args.ente.expect("clap requires --ente");
    if args.identity.is_some() {
        return Err(siso::Error::Usage(
            "--identity decrypts a hand-back archive encrypted with age; these files are not one"
                .into(),
        )
        .into());
    }
    let threshold = match (args.max_errors, args.max_error_rate) {
        (Some(n), _) => Threshold::MaxErrors(n),
        (None, Some(r)) if (0.0..=1.0).contains(&r) => Threshold::MaxRate(r),
        (None, Some(r)) => {
            return Err(siso::Error::Usage(format!(
                "--max-error-rate {r} must be between 0 and 1 (e.g. 0.01 for 1%)"
            ))
            .into());
        }
        (None, None) => Threshold::AllOrNothing,
    };
    // The rejects file is made ready first: a path that cannot be written
    // stops the run before anything is read or stored.
    let rejects_path = args.rejects.clone().unwrap_or_else(|| {
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]"
            ))
            .unwrap_or_default();
        PathBuf::from(format!("siso-scarti-{ente}-{stamp}.csv"))
    });
    let rejects_file = import::RejectsFile::prepare(rejects_path)?;
    let request = import::Request {
        ente: ente.clone(),
        files: args.files,
        input,
        mapping: args.mapping,
        sheet: args.sheet,
        encoding: args.encoding,
        source: args.source,
        sent_by: args.sent_by,
        dry_run: args.dry_run,
        threshold,
        today: time::OffsetDateTime::now_utc().date(),
        audit: ctx.audit_entry(Some(&ente), "import", serde_json::Value::Null),
        progress: Box::new(Bar::new(ctx)),
        rejects_file: Some(rejects_file),
    };
    let summary = import::run(db, request).await?;
    // The bar is gone with the request: what follows is the summary.
    let rejects_path = summary.rejects_file.clone();
    match summary_format {
        Format::Json => output::print(Format::Json, std::slice::from_ref(&summary))?,
        format => {
            output::print(format, &counts_rows(&summary.entities))?;
            let quiet = ctx.global.quiet;
            for w in summary.warnings.iter().take(10) {
                output::note(
                    quiet,
                    format!(
                        "warning: {} line {} ({} {}): {} [{}]",
                        w.file, w.line, w.entity, w.legacy_id, w.message, w.code
                    ),
                );
            }
            if summary.warnings.len() > 10 {
                output::note(
                    quiet,
                    format!("… and {} more warning(s)", summary.warnings.len() - 10),
                );
            }
            for r in summary.rejects.first(10)? {
                output::note(
                    quiet,
                    format!(
                        "rejected: {} line {}{}{}: {} [{}]",
                        r.file,
                        r.line,
                        r.legacy_id
                            .as_ref()
                            .map(|id| format!(" ({} {id})", r.entity.unwrap_or("row")))
                            .unwrap_or_default(),
                        r.field
                            .as_ref()
                            .map(|f| format!(", field {f}"))
                            .unwrap_or_default(),
                        r.message,
                        r.reason
                    ),
                );
            }
            if summary.rejects.len() > 10 {
                output::note(
                    quiet,
                    format!(
                        "… and {} more rejected record(s) (the list above is capped at 10)",
                        summary.rejects.len() - 10
                    ),
                );
            }
        }
    }
    if let Some(path) = &rejects_path {
        output::note(
            ctx.global.quiet,
            format!(
                "All {} rejected record(s), with their original lines: {}",
                summary.rejects.len(),
                path.display()
            ),
        );
    }
    let verdict = match (
        &summary.not_committed_because,
        summary.dry_run,
        summary.batch,
    ) {
        (Some(why), _, _) => why.clone(),
        (None, true, _) => {
            "Dry run: everything was checked and written, then rolled back; nothing changed.".into()
        }
        (None, false, Some(b)) => {
            format!("Imported as batch {b} (undo with `siso import undo {b}`).")
        }
        (None, false, None) => "Nothing imported.".into(),
    };
    output::note(ctx.global.quiet, verdict);
    Ok(if summary.rejects.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

/// A spinner with the rows read, on stderr when it is a terminal.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(ctx: &Ctx) -> Bar {
        let bar = if ctx.global.no_progress || ctx.global.quiet {
            indicatif::ProgressBar::hidden()
        } else {
            // Hidden by indicatif itself when stderr is not a terminal.
            indicatif::ProgressBar::new_spinner()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} {human_pos} rows read [{elapsed}]",
            )
            .expect("static template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar(bar)
    }
}

impl import::Progress for Bar {
    fn total(&self, rows: u64) {
        // Every file was read once to profile it: the rows are known.
        self.0.set_length(rows);
        self.0.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {human_pos}/{human_len} rows, {per_sec}, {eta} left",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
    }
    fn file(&self, name: &str) {
        self.0.set_message(format!("reading {name}:"));
    }
    fn rows(&self, rows: u64) {
        self.0.set_position(rows);
    }
    fn phase(&self, what: &str) {
        self.0.set_message(format!("{what}:"));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
