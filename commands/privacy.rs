//! `siso privacy`: Art. 10 roles of each ente.

use siso::audit::AuditWrite as _;
use siso::onboarding::privacy::{self, Effetto};
use siso::onboarding::tx::{NuovoRuolo, OnboardingWrite as _};
use siso::onboarding::{ente, parse_date};
use siso::store::BeginWrite as _;

use crate::context::Ctx;
use crate::{Outcome, output};

/// Titolare, DPO, responsabili (Art. 28) and amministratori di sistema (Art. 10).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Set a role; a new titolare or DPO replaces the current one (history kept).
    Set {
        /// Code of the ente.
        #[arg(long)]
        ente: String,
        /// titolare, dpo, responsabile or amministratore_sistema.
        #[arg(long)]
        role: String,
        /// For the titolare: code of the controller (the comune itself or its ambito).
        #[arg(long)]
        titolare: Option<String>,
        /// Name, or the office that holds the role (defaults to the titolare's code).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        contact: Option<String>,
        /// Date communicated to the Capofila, YYYY-MM-DD.
        #[arg(long)]
        communicated: String,
    },
    /// Show the current roles (all, or of one ente).
    Show {
        #[arg(long)]
        ente: Option<String>,
    },
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let db = ctx.open_current().await?;
    match args.command {
        Sub::Set {
            ente: code,
            role,
            titolare,
            name,
            contact,
            communicated,
        } => {
            let role = role.trim().to_string();
            privacy::check_ruolo(&role).map_err(siso::Error::Usage)?;
            let e = ente::get(&db, &code).await?;
            let titolare = match (&role[..], titolare) {
                ("titolare", Some(t)) => Some(ente::get(&db, &t).await?),
                ("titolare", None) => {
                    return Err(siso::Error::Usage(
                        "--titolare CODE is required for the titolare role".into(),
                    )
                    .into());
                }
                (_, Some(_)) => {
                    return Err(siso::Error::Usage(
                        "--titolare is only for the titolare role".into(),
                    )
                    .into());
                }
                _ => None,
            };
            let nominativo = match (name, &titolare) {
                (Some(n), _) if !n.trim().is_empty() => n.trim().to_string(),
                (_, Some(t)) => t.codice.clone(),
                _ => return Err(siso::Error::Usage("--name is required".into()).into()),
            };
            let r = NuovoRuolo {
                ruolo: role.clone(),
                titolare_ente_id: titolare.as_ref().map(|t| t.id),
                nominativo,
                contatto: contact,
                comunicato_il: parse_date(&communicated, "--communicated")?,
            };
            let existing = privacy::current(&db, Some(&e.codice)).await?;
            let effetto =
                privacy::effetto(&existing, &r, titolare.as_ref().map(|t| t.codice.as_str()));
            if effetto == Effetto::Unchanged {
                output::note(
                    ctx.global.quiet,
                    "Unchanged: this role is already recorded.",
                );
            } else {
                let entry = ctx.audit_entry(Some(&e.codice), "ruolo_privacy", serde_json::json!({
                    "ente": e.codice, "ruolo": role, "titolare": titolare.as_ref().map(|t| &t.codice),
                    "comunicato_il": r.comunicato_il.to_string(), "sostituisce": matches!(effetto, Effetto::Insert { closes: Some(_) }),
                }));
                siso::on_db!(&db, pool => {
                    let mut tx = pool.begin_write().await?;
                    if let Some(t) = &titolare {
                        tx.check_titolare(&e.codice, &t.codice, r.comunicato_il).await?;
                    }
                    privacy::apply(&mut tx, e.id, &existing, &r, &effetto).await?;
                    tx.append_audit(&entry).await?;
                    tx.commit().await?;
                });
                output::note(
                    ctx.global.quiet,
                    format!("{role} of {} recorded.", e.codice),
                );
            }
        }
        Sub::Show { ente: code } => {
            let code = code.map(|c| c.trim().to_uppercase());
            if let Some(c) = &code {
                ente::get(&db, c).await?;
            }
            let rows = privacy::current(&db, code.as_deref()).await?;
            output::print(ctx.format(), &rows)?;
        }
    }
    db.close().await;
    Ok(Outcome::Clean)
}
