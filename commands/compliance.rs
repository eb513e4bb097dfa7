//! `siso compliance`: the protocol's duties overdue or due within 10 days.

use siso::onboarding::{compliance, deadlines::Urgenza, parse_date};

use crate::context::Ctx;
use crate::{Outcome, output};

/// List duties overdue or due within 10 days; exit 1 if anything is overdue.
///
/// Requests without a decision 60 days after receipt (Art. 7); entes without
/// Cabina di Regia referents 30 days after signing (Art. 6); entes without
/// titolare, DPO or responsabili 60 days after signing (Art. 10); withdrawals
/// received but not yet accepted (Art. 9). Day 30 / day 60 is the last day on
/// time. Meant for a scheduled CI job.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The day to judge, YYYY-MM-DD (default: today).
    #[arg(long)]
    as_of: Option<String>,
    /// Only this ambito, its comuni and the entes adhering through it.
    #[arg(long)]
    ambito: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let as_of = match &args.as_of {
        Some(d) => parse_date(d, "--as-of")?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let db = ctx.open_current().await?;
    let ambito = args.ambito.map(|a| a.trim().to_uppercase());
    if let Some(a) = &ambito {
        siso::onboarding::ente::get_ambito(&db, a).await?;
    }
    let items = compliance::check(&db, as_of, ambito.as_deref()).await?;
    db.close().await;
    output::print(ctx.format(), &items)?;
    let overdue = items
        .iter()
        .filter(|i| i.urgenza == Urgenza::Scaduto)
        .count();
    output::note(
        ctx.global.quiet,
        format!(
            "{overdue} overdue, {} due within 10 days, as of {as_of}.",
            items.len() - overdue
        ),
    );
    Ok(if overdue > 0 {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
