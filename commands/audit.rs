//! `siso audit`: read and verify the hash-chained audit log.

use crate::context::Ctx;
use crate::{Outcome, output};

/// Read the audit log, or verify that no entry was altered, deleted or reordered.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// List entries, oldest first.
    List {
        /// Only entries about this ente (its code).
        #[arg(long)]
        ente: Option<String>,
    },
    /// Walk the hash chain; exit 1 at the first altered, deleted or reordered entry.
    Verify,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let db = ctx.open_current().await?;
    let outcome = match args.command {
        Sub::List { ente } => {
            let records = siso::audit::list(&db, ente.as_deref()).await?;
            output::print(ctx.format(), &records)?;
            Outcome::Clean
        }
        Sub::Verify => match siso::audit::verify(&db).await? {
            (n, None) => {
                output::note(
                    ctx.global.quiet,
                    format!("The audit log is intact: {n} entries chained."),
                );
                Outcome::Clean
            }
            (n, Some(b)) => {
                println!("audit log broken at entry {}: {}", b.id, b.reason);
                output::note(
                    ctx.global.quiet,
                    format!("{n} entries read; the chain breaks at entry {}.", b.id),
                );
                Outcome::Problems
            }
        },
    };
    db.close().await;
    Ok(outcome)
}
