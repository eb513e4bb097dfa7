//! `siso handback`: return an ente's data at the end of the service, verify
//! the bundle, and delete or retain the data on the controller's written
//! choice.

use std::path::PathBuf;

use siso::handback::purge::Choice;
use siso::handback::{archive, export, purge, verify};

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
    ///
    /// With --archive, one .tar.gz file instead (the same folder inside; open
    /// it with `tar -xzf`); with --encrypt-to, that archive encrypted with age
    /// for the titolare's public key (decrypt it with `age -d -i KEYFILE`).
    /// Everything is written under a temporary name and renamed at the end: a
    /// failed export (a full disk) leaves nothing at --out.
    Export {
        /// The ente's code (e.g. AMB-MONZA).
        #[arg(long)]
        ente: String,
        /// Folder to create (must not exist, or be empty); with --archive, the
        /// file to create (e.g. AMB-MONZA.tar.gz, or .tar.gz.age encrypted).
        #[arg(long)]
        out: PathBuf,
        /// Write one compressed archive (tar + gzip) instead of a folder.
        #[arg(long)]
        archive: bool,
        /// Encrypt the archive with age for this X25519 public key (age1...,
        /// from `age-keygen`); repeat for several recipients. Implies --archive.
        #[arg(long, value_name = "RECIPIENT")]
        encrypt_to: Vec<String>,
    },
    /// Recompute every file's rows and SHA-256; exit 1 naming every altered,
    /// missing or extra file. Reads a folder or an archive (without
    /// extracting it).
    Verify {
        /// The bundle: its folder, or its archive.
        path: PathBuf,
        /// The age identity file (AGE-SECRET-KEY-1...) that decrypts an
        /// encrypted archive.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// On the titolare's written choice, delete the ente's personal data or
    /// record that it is retained. Refused unless the bundle verifies and
    /// still matches the data (nothing changed since the export). Deletes in
    /// one transaction only rows whose titolare is the ente (persons and
    /// operators another titolare refers to stay); keeps the protocol
    /// records, aggregate statistics and the audit log; then proves that none
    /// of the ente's rows remain and that every other ente's rows are
    /// unchanged.
    Purge {
        /// The ente's code (e.g. AMB-MONZA).
        #[arg(long)]
        ente: String,
        /// The bundle handed back to the titolare (its folder or its archive).
        #[arg(long)]
        bundle: PathBuf,
        /// The age identity file that decrypts an encrypted archive.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// The titolare's written choice: delete the data, or retain it under
        /// legal retention (recorded, nothing deleted).
        #[arg(long, value_enum)]
        choice: ChoiceArg,
        /// The written choice's reference, e.g. "PEC prot. 1234 del 2025-01-15".
        #[arg(long)]
        reference: String,
        /// Run everything, print what would be deleted, then roll back.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ChoiceArg {
    Delete,
    Retain,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Sub::Export {
            ente,
            out,
            archive,
            encrypt_to,
        } => {
            let recipients = encrypt_to
                .iter()
                .map(|r| archive::parse_recipient(r))
                .collect::<Result<Vec<_>, _>>()?;
            let encrypted = !recipients.is_empty();
            let form = if archive || encrypted {
                export::Form::Archive { recipients }
            } else {
                export::Form::Folder
            };
            let is_archive = matches!(form, export::Form::Archive { .. });
            let db = ctx.open_current().await?;
            let ente = export::find_ente(&db, &ente).await?;
            let entry = ctx.audit_entry(
                Some(&ente.codice),
                "handback_export",
                serde_json::json!({ "cifrato": encrypted }),
            );
            let report = export::export(&db, &ente, &out, form, entry).await?;
            db.close().await;
            output::print(ctx.format(), &report.manifest.file)?;
            let rows: u64 = report
                .manifest
                .file
                .iter()
                .filter(|f| f.nome.ends_with(".csv"))
                .filter_map(|f| f.righe)
                .sum();
            let path = report.path.display();
            let check = if encrypted {
                format!(
                    "Encrypted with age: check it with `siso handback verify {path} --identity KEYFILE`; \
                     the titolare opens it with `age -d -i KEYFILE {path} | tar -xz`."
                )
            } else if is_archive {
                format!(
                    "Check it with `siso handback verify {path}`, or `tar -xzf {path}` and \
                     `sha256sum -c SHA256SUMS` in the folder it holds."
                )
            } else {
                format!(
                    "Check it with `siso handback verify {path}` or `sha256sum -c SHA256SUMS` in the folder."
                )
            };
            output::note(
                ctx.global.quiet,
                format!(
                    "Bundle of {} written to {path}: {rows} rows, {} files, manifest SHA-256 {}. {check}",
                    ente.codice,
                    report.manifest.file.len(),
                    report.manifest_sha256,
                ),
            );
            Ok(Outcome::Clean)
        }
        Sub::Purge {
            ente,
            bundle,
            identity,
            choice,
            reference,
            dry_run,
        } => {
            let reference = reference.trim().to_string();
            if reference.is_empty() {
                return Err(siso::Error::Usage(
                    "--reference is empty: give the reference of the titolare's written choice \
                     (e.g. \"PEC prot. 1234 del 2025-01-15\")"
                        .into(),
                )
                .into());
            }
            let choice = match choice {
                ChoiceArg::Delete => Choice::Delete,
                ChoiceArg::Retain => Choice::Retain,
            };
            let db = ctx.open_current().await?;
            let ente = export::find_ente(&db, &ente).await?;
            // Cheap checks before asking; purge repeats them under its lock.
            purge::check_bundle(&bundle, identity.as_deref(), &ente)?;
            if !dry_run {
                let question = match choice {
                    Choice::Delete => format!(
                        "Delete ALL personal data of {} ({}) as chosen in {reference}? This cannot be undone",
                        ente.codice, ente.denominazione
                    ),
                    Choice::Retain => format!(
                        "Record that the data of {} was returned and is retained, as chosen in {reference}?",
                        ente.codice
                    ),
                };
                if !ctx.confirm(&question)? {
                    output::note(ctx.global.quiet, "Nothing was changed.");
                    db.close().await;
                    return Ok(Outcome::Clean);
                }
            }
            let azione = match choice {
                Choice::Delete => "handback_purge",
                Choice::Retain => "handback_retain",
            };
            let entry = ctx.audit_entry(
                Some(&ente.codice),
                azione,
                serde_json::json!({ "riferimento": reference, "dry_run": dry_run }),
            );
            let report = purge::purge(
                &db,
                &ente,
                &bundle,
                identity.as_deref(),
                choice,
                dry_run,
                entry,
            )
            .await?;
            db.close().await;
            let prefix = if dry_run {
                "DRY RUN, rolled back: "
            } else {
                ""
            };
            match choice {
                Choice::Delete => {
                    output::print(ctx.format(), &report.proof)?;
                    let total: u64 = report.deleted.iter().map(|(_, n)| n).sum();
                    output::note(
                        ctx.global.quiet,
                        format!(
                            "{prefix}{total} rows of {} {}deleted; {} persons and {} operators kept because another \
                             titolare refers to them; every other ente's rows unchanged. {} in the audit log \
                             with the reference and the bundle's manifest SHA-256 {}.",
                            ente.codice,
                            if dry_run { "would be " } else { "" },
                            report.persone_conservate,
                            report.operatori_conservati,
                            if dry_run {
                                "Would be recorded"
                            } else {
                                "Recorded"
                            },
                            report.manifest_sha256
                        ),
                    );
                }
                Choice::Retain => output::note(
                    ctx.global.quiet,
                    format!(
                        "{prefix}The bundle matches the data of {}; {} that the data was returned and is \
                         retained ({reference}). Nothing was deleted.",
                        ente.codice,
                        if dry_run { "would record" } else { "recorded" }
                    ),
                ),
            }
            Ok(Outcome::Clean)
        }
        Sub::Verify { path, identity } => {
            let report = verify::verify(&path, identity.as_deref())?;
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
