//! `siso audit`: read and verify the hash-chained audit log.

use crate::context::{Ctx, Format};
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
    ///
    /// The chain cannot show that its newest entries were cut off: write down
    /// the head it prints (e.g. in the Tavolo operativo's minutes, or a PEC)
    /// and pass it later with --anchor; a missing anchor exits 1.
    Verify {
        /// The hash of an entry that must still be in the log (a head printed
        /// by an earlier verify). Repeatable.
        #[arg(long = "anchor", value_name = "HASH")]
        anchors: Vec<String>,
    },
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let db = ctx.open_current().await?;
    let outcome = match args.command {
        Sub::List { ente } => {
            let records = siso::audit::list(&db, ente.as_deref()).await?;
            output::print(ctx.format(), &records)?;
            Outcome::Clean
        }
        Sub::Verify { anchors }
            if anchors.iter().any(|a| {
                a.trim().len() != 64 || !a.trim().bytes().all(|b| b.is_ascii_hexdigit())
            }) =>
        {
            return Err(siso::Error::Usage(
                "--anchor takes the hash `siso audit verify` printed: 64 hexadecimal characters"
                    .into(),
            )
            .into());
        }
        Sub::Verify { anchors } => {
            let (n, broken) = siso::audit::verify(&db).await?;
            // Anchors and the head mean something only on an intact chain.
            let (missing, head) = match &broken {
                None => (
                    siso::audit::missing_anchors(&db, &anchors).await?,
                    siso::audit::head(&db).await?,
                ),
                Some(_) => (Vec::new(), None),
            };
            if ctx.format() == Format::Json {
                // One document for scripts.
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "intatto": broken.is_none() && missing.is_empty(),
                        "voci": n,
                        "testa": head.as_ref().map(|(id, hash)| serde_json::json!({ "id": id, "hash": hash })),
                        "interruzione": broken.as_ref().map(|b| serde_json::json!({ "id": b.id, "motivo": b.reason })),
                        "ancore_mancanti": missing,
                    }))?
                );
            } else {
                if let Some(b) = &broken {
                    println!("audit log broken at entry {}: {}", b.id, b.reason);
                }
                for a in &missing {
                    println!(
                        "anchor {a} is not in the audit log: entries were cut off or rewritten after it"
                    );
                }
            }
            output::note(
                ctx.global.quiet,
                match (&broken, head) {
                    (Some(b), _) => {
                        format!("{n} entries read; the chain breaks at entry {}.", b.id)
                    }
                    (None, Some((id, hash))) => format!(
                        "The audit log is intact: {n} entries chained; head is entry {id}, hash {hash} \
                         (keep it outside the database and check it later with --anchor)."
                    ),
                    (None, None) => "The audit log is empty.".into(),
                },
            );
            if broken.is_none() && missing.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Problems
            }
        }
    };
    db.close().await;
    Ok(outcome)
}
