//! `siso migrate`: the schema's versions, on either backend.

use siso::store::migrate::{self, State};

use crate::context::{Ctx, Format};
use crate::{Outcome, output};

/// Apply, inspect, verify, revert or repair schema migrations.
///
/// Migrations are embedded in the binary, one set per backend (SQLite,
/// PostgreSQL). On PostgreSQL a run holds an advisory lock, so two runs at once
/// never race: the second waits, then finds nothing to do.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Apply every pending migration, all in one transaction.
    Run {
        /// Execute the migrations inside a transaction, then roll it back.
        #[arg(long)]
        dry_run: bool,
    },
    /// List applied, pending and changed migrations with their checksums.
    Status,
    /// Compare every applied migration with this binary; report every mismatch.
    ///
    /// Exit 1 if any applied migration was changed or is unknown to this binary.
    Verify,
    /// Undo applied migrations, newest first (one by default).
    ///
    /// Reverting a migration that holds data (entes, cases, audit) destroys that
    /// data, so it asks for confirmation unless --yes.
    Revert {
        /// Revert down to this version (it stays applied); 0 reverts everything.
        #[arg(long, conflicts_with = "steps")]
        to: Option<i64>,
        /// How many migrations to revert.
        #[arg(long)]
        steps: Option<usize>,
        /// Execute the down scripts inside a transaction, then roll it back.
        #[arg(long)]
        dry_run: bool,
    },
    /// Accept the binary's version of one changed migration (recorded in the audit log).
    ///
    /// Use it only after checking that the applied schema matches the new file:
    /// it updates the recorded checksum, it does not run any SQL.
    Repair {
        /// The migration version to repair.
        #[arg(value_name = "VERSION")]
        migration: i64,
    },
}

#[derive(serde::Serialize)]
struct StatusRow {
    version: i64,
    name: String,
    state: State,
    checksum: Option<String>,
    applied_checksum: Option<String>,
    applied_at: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let db = ctx.open().await?;
    let outcome = match args.command {
        Sub::Run { dry_run } => {
            let report = migrate::run(&db, dry_run).await?;
            output::print(ctx.format(), &report.applied)?;
            let what = if report.applied.is_empty() {
                "Nothing to apply: the schema is up to date.".to_string()
            } else if dry_run {
                format!(
                    "Dry run: {} migration(s) ran and were rolled back; nothing changed.",
                    report.applied.len()
                )
            } else {
                format!("Applied {} migration(s).", report.applied.len())
            };
            output::note(ctx.global.quiet, what);
            if !dry_run && !report.applied.is_empty() {
                let versions: Vec<i64> = report.applied.iter().map(|a| a.version).collect();
                siso::audit::record(
                    &db,
                    &ctx.audit_entry(
                        None,
                        "migrate_run",
                        serde_json::json!({ "versioni": versions }),
                    ),
                )
                .await?;
            }
            Outcome::Clean
        }
        Sub::Status => {
            let statuses = migrate::status(&db).await?;
            // A table shows checksum prefixes to fit a terminal; scripts get them whole.
            let shown = |c: &Option<String>| match ctx.format() {
                Format::Table => c.as_ref().map(|c| c.chars().take(12).collect()),
                _ => c.clone(),
            };
            let rows: Vec<StatusRow> = statuses
                .iter()
                .map(|s| StatusRow {
                    version: s.version,
                    name: s.name.clone(),
                    state: s.state.clone(),
                    checksum: shown(&s.checksum),
                    applied_checksum: shown(&s.applied_checksum),
                    applied_at: s.applied_at.clone(),
                })
                .collect();
            output::print(ctx.format(), &rows)?;
            let problems = migrate::problems(&statuses);
            for p in &problems {
                tracing::warn!("{p}");
            }
            if problems.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Problems
            }
        }
        Sub::Verify => {
            let statuses = migrate::status(&db).await?;
            let problems = migrate::problems(&statuses);
            let applied = statuses
                .iter()
                .filter(|s| s.state != State::Pending)
                .count();
            // For scripts: one document or one table of the problems.
            match ctx.format() {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "applied": applied, "problems": problems })
                    )?
                ),
                Format::Csv => {
                    let rows: Vec<serde_json::Value> = problems
                        .iter()
                        .map(|p| serde_json::json!({ "problem": p }))
                        .collect();
                    output::print(Format::Csv, &rows)?;
                }
                _ => problems.iter().for_each(|p| println!("{p}")),
            }
            if problems.is_empty() {
                output::note(
                    ctx.global.quiet,
                    format!("All {applied} applied migration(s) match this siso."),
                );
                Outcome::Clean
            } else {
                output::note(
                    ctx.global.quiet,
                    format!(
                        "{} problem(s) among {applied} applied migration(s).",
                        problems.len()
                    ),
                );
                Outcome::Problems
            }
        }
        Sub::Revert { to, steps, dry_run } => {
            let applied: Vec<i64> = migrate::status(&db)
                .await?
                .iter()
                .filter(|s| s.state != State::Pending)
                .map(|s| s.version)
                .collect();
            let current = applied.last().copied().unwrap_or(0);
            // The version that stays applied.
            let target = match (to, steps.unwrap_or(1)) {
                (Some(to), _) => to,
                (None, n) if n >= applied.len() => 0,
                (None, n) => applied[applied.len() - n - 1],
            };
            let plan = migrate::plan_revert(&db, target).await?;
            if plan.is_empty() {
                output::note(
                    ctx.global.quiet,
                    format!("Nothing to revert: the schema is at version {current}."),
                );
                return Ok(Outcome::Clean);
            }
            output::print(ctx.format(), &plan)?;
            let destroys: Vec<String> = plan
                .iter()
                .filter(|s| s.data_bearing)
                .map(|s| format!("{} ({})", s.version, s.name))
                .collect();
            if !dry_run
                && !destroys.is_empty()
                && !ctx.confirm(&format!(
                    "Reverting {} deletes the data those tables hold. Continue",
                    destroys.join(", ")
                ))?
            {
                output::note(ctx.global.quiet, "Nothing reverted.");
                return Ok(Outcome::Clean);
            }
            migrate::revert(&db, &plan, dry_run).await?;
            if dry_run {
                output::note(
                    ctx.global.quiet,
                    format!(
                        "Dry run: {} migration(s) reverted and rolled back; nothing changed.",
                        plan.len()
                    ),
                );
            } else {
                output::note(
                    ctx.global.quiet,
                    format!("Reverted {} migration(s).", plan.len()),
                );
                if siso::audit::available(&db).await {
                    let versions: Vec<i64> = plan.iter().map(|s| s.version).collect();
                    siso::audit::record(
                        &db,
                        &ctx.audit_entry(
                            None,
                            "migrate_revert",
                            serde_json::json!({ "versioni": versions }),
                        ),
                    )
                    .await?;
                }
            }
            Outcome::Clean
        }
        Sub::Repair { migration: version } => {
            migrate::check_repair(&db, version).await?;
            if !ctx.confirm(&format!(
                "Record the current file of migration {version} as applied, without running it"
            ))? {
                output::note(ctx.global.quiet, "Nothing repaired.");
                return Ok(Outcome::Clean);
            }
            let (old, new) = migrate::repair(&db, version).await?;
            if siso::audit::available(&db).await {
                siso::audit::record(
                    &db,
                    &ctx.audit_entry(
                        None,
                        "migrate_repair",
                        serde_json::json!({ "versione": version, "checksum_precedente": old, "checksum_nuovo": new }),
                    ),
                )
                .await?;
            }
            output::note(
                ctx.global.quiet,
                format!("Migration {version}: checksum {old} replaced by {new}."),
            );
            Outcome::Clean
        }
    };
    db.close().await;
    Ok(outcome)
}
