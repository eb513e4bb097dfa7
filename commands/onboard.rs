//! `siso onboard FILE.toml...`: apply declarative onboarding files.

use std::path::PathBuf;

use siso::onboarding::plan::{self, PlanError};

use crate::context::Ctx;
use crate::{Outcome, output};

/// Create or update entes, comuni, referents and privacy roles from TOML files.
///
/// All files form one plan applied in one transaction: a file with any error
/// is rejected as a whole, every error listed as FILE:LINE, and nothing is
/// written. Applying the same files again changes nothing and says so. The
/// files add and update; they never delete. Format: examples/onboarding/README.md.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Onboarding files (TOML).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print the plan (create / update / unchanged per object), write nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let mut files = Vec::new();
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| siso::Error::Input(format!("cannot read {}: {e}", path.display())))?;
        files.push((path.display().to_string(), text));
    }
    let today = time::OffsetDateTime::now_utc().date();
    let decl = plan::parse(&files, today).map_err(|p| rejected(&p))?;
    let db = ctx.open_current().await?;
    let plan = match plan::plan(&db, &decl).await {
        Ok(p) => p,
        Err(PlanError::Problems(p)) => return Err(rejected(&p).into()),
        Err(PlanError::Other(e)) => return Err(e.into()),
    };
    output::print(ctx.format(), &plan.voci)?;
    let changes = plan.changes();
    if args.dry_run {
        output::note(
            ctx.global.quiet,
            format!("Dry run: {changes} change(s) planned, nothing written."),
        );
    } else if changes == 0 {
        output::note(
            ctx.global.quiet,
            "Nothing to change: the database already matches the files.",
        );
    } else {
        let entry = ctx.audit_entry(None, "onboard", serde_json::Value::Null);
        plan::apply(&db, &plan, &entry).await?;
        output::note(ctx.global.quiet, format!("Applied {changes} change(s)."));
    }
    db.close().await;
    Ok(Outcome::Clean)
}

fn rejected(problems: &[plan::Problema]) -> siso::Error {
    let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
    siso::Error::Input(format!(
        "the onboarding files were rejected as a whole ({} problem(s)); nothing was written:\n{}",
        problems.len(),
        list.join("\n")
    ))
}
