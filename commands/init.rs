//! `siso init`: create the database, bring its schema up to date, load the
//! reference data. Safe to run again: it only does what is missing.

use siso::store::{migrate, reference};

use crate::context::Ctx;
use crate::{Outcome, output};

/// Create the database if missing, run migrations, load reference data.
///
/// Idempotent: a second run applies nothing and reloads nothing that did not
/// change.
#[derive(Debug, clap::Args)]
pub struct Args {}

#[derive(serde::Serialize)]
struct Step {
    step: &'static str,
    name: String,
    outcome: String,
    rows: Option<usize>,
}

pub async fn run(ctx: &Ctx, _args: Args) -> anyhow::Result<Outcome> {
    let db = ctx.open().await?;
    let migrated = migrate::run(&db, false).await?;
    let loads = reference::load_all(&db).await?;

    let mut steps: Vec<Step> = migrate::status(&db)
        .await?
        .into_iter()
        .map(|s| Step {
            step: "migration",
            outcome: if migrated.applied.iter().any(|a| a.version == s.version) {
                "applied".into()
            } else {
                "already applied".into()
            },
            name: format!("{:04}_{}", s.version, s.name),
            rows: None,
        })
        .collect();
    steps.extend(loads.iter().map(|l| Step {
        step: "reference data",
        name: l.dataset.clone(),
        outcome: l.outcome.into(),
        rows: Some(l.rows),
    }));

    let changed_datasets: Vec<&str> = loads
        .iter()
        .filter(|l| l.outcome == "loaded")
        .map(|l| l.dataset.as_str())
        .collect();
    if !migrated.applied.is_empty() || !changed_datasets.is_empty() {
        let versions: Vec<i64> = migrated.applied.iter().map(|a| a.version).collect();
        siso::audit::record(
            &db,
            &ctx.audit_entry(
                None,
                "init",
                serde_json::json!({ "migrazioni_applicate": versions, "dati_riferimento_caricati": changed_datasets }),
            ),
        )
        .await?;
    }
    output::print(ctx.format(), &steps)?;
    if migrated.applied.is_empty() && changed_datasets.is_empty() {
        output::note(
            ctx.global.quiet,
            "The database was already up to date: nothing changed.",
        );
    }
    db.close().await;
    Ok(Outcome::Clean)
}
