//! `siso handback`: return an ente's data at the end of the service, verify
//! the bundle, and delete or retain the data on the controller's written
//! choice.

use std::path::PathBuf;

use siso::handback::{export, verify};

use crate::context::Ctx;
use crate::{Outcome, output};

/// Hand back an ente's data (GDPR Art. 28(3)(g)): export a verifiable bundle,
/// verify it, then delete or retain the data on the titolare's written choice.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Write everything whose titolare is the ente into a new folder: one CSV
    /// and one JSON Lines file per table, documents, manifest.json with row
    /// counts and SHA-256 of every file, SHA256SUMS and LEGGIMI.txt. Files are
    /// readable by their owner only: the bundle holds health data.
    Export {
        /// The ente's code (e.g. AMB-MONZA).
        #[arg(long)]
        ente: String,
        /// Folder to create (must not exist, or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Recompute every file's rows and SHA-256; exit 1 naming every altered,
    /// missing or extra file.
    Verify {
        /// The bundle folder.
        path: PathBuf,
    },
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Sub::Export { ente, out } => {
            let db = ctx.open_current().await?;
            let ente = export::find_ente(&db, &ente).await?;
            let entry =
                ctx.audit_entry(Some(&ente.codice), "handback_export", serde_json::json!({}));
            let report = export::export(&db, &ente, &out, entry).await?;
            db.close().await;
            output::print(ctx.format(), &report.manifest.file)?;
            let rows: u64 = report
                .manifest
                .file
                .iter()
                .filter(|f| f.nome.ends_with(".csv"))
                .filter_map(|f| f.righe)
                .sum();
            output::note(
                ctx.global.quiet,
                format!(
                    "Bundle of {} written to {}: {rows} rows, {} files, manifest SHA-256 {}. \
                     Check it with `siso handback verify {}` or `sha256sum -c SHA256SUMS` in the folder.",
                    ente.codice,
                    report.dir.display(),
                    report.manifest.file.len(),
                    report.manifest_sha256,
                    report.dir.display()
                ),
            );
            Ok(Outcome::Clean)
        }
        Sub::Verify { path } => {
            let report = verify::verify(&path)?;
            if report.ok() {
                output::note(
                    ctx.global.quiet,
                    format!(
                        "The bundle {} is intact: {} files, {} rows match the manifest.",
                        path.display(),
                        report.files_checked,
                        report.rows
                    ),
                );
                Ok(Outcome::Clean)
            } else {
                output::print(ctx.format(), &report.problems)?;
                output::note(
                    ctx.global.quiet,
                    format!(
                        "The bundle {} does NOT match its manifest: {} problems.",
                        path.display(),
                        report.problems.len()
                    ),
                );
                Ok(Outcome::Problems)
            }
        }
    }
}
