//! `siso referente`: Art. 6 referents of each ente.

use siso::audit::AuditWrite as _;
use siso::onboarding::tx::{NuovoReferente, OnboardingWrite as _};
use siso::onboarding::{ente, parse_date, referenti};
use siso::store::BeginWrite as _;

use crate::context::Ctx;
use crate::{Outcome, output};

/// Cabina di Regia (political, technical) and Tavolo operativo referents (Art. 6).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Record a referent nominated by formal communication.
    Add {
        /// Code of the ente.
        #[arg(long)]
        ente: String,
        /// cabina_politico, cabina_tecnico or tavolo_operativo.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// Date of nomination, YYYY-MM-DD.
        #[arg(long)]
        nominated: String,
        /// Reference of the formal communication (e.g. its protocol number).
        #[arg(long)]
        communication: String,
    },
    /// Revoke a referent (by the id `siso referente list` shows).
    Remove {
        id: i64,
        /// Day of revocation, YYYY-MM-DD (default today).
        #[arg(long)]
        on: Option<String>,
    },
    /// List current referents (all, or of one ente).
    List {
        #[arg(long)]
        ente: Option<String>,
        /// Include revoked referents.
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let db = ctx.open_current().await?;
    match args.command {
        Sub::Add {
            ente: code,
            role,
            name,
            email,
            phone,
            nominated,
            communication,
        } => {
            referenti::check_ruolo(role.trim()).map_err(siso::Error::Usage)?;
            let email = email
                .as_deref()
                .map(siso::onboarding::validate::email)
                .transpose()
                .map_err(siso::Error::Usage)?;
            let e = ente::get(&db, &code).await?;
            let r = NuovoReferente {
                ruolo: role.trim().to_string(),
                nominativo: name.trim().to_string(),
                email,
                telefono: phone,
                nominato_il: parse_date(&nominated, "--nominated")?,
                comunicazione_rif: communication.trim().to_string(),
            };
            if r.nominativo.is_empty() || r.comunicazione_rif.is_empty() {
                return Err(siso::Error::Usage(
                    "--name and --communication must not be empty".into(),
                )
                .into());
            }
            let entry = ctx.audit_entry(Some(&e.codice), "referente_nominato", serde_json::json!({
                "ente": e.codice, "ruolo": r.ruolo, "nominato_il": r.nominato_il.to_string(), "comunicazione_rif": r.comunicazione_rif,
            }));
            siso::on_db!(&db, pool => {
                let mut tx = pool.begin_write().await?;
                tx.insert_referente(e.id, &r).await?;
                tx.append_audit(&entry).await?;
                tx.commit().await?;
            });
            output::note(
                ctx.global.quiet,
                format!("Referent {} recorded for {}.", r.ruolo, e.codice),
            );
        }
        Sub::Remove { id, on } => {
            let on = match on {
                Some(d) => parse_date(&d, "--on")?,
                None => time::OffsetDateTime::now_utc().date(),
            };
            let r = referenti::list(&db, None, false)
                .await?
                .into_iter()
                .find(|r| r.id == id)
                .ok_or_else(|| {
                    siso::Error::Refused(format!(
                        "no current referent with id {id}: see `siso referente list`"
                    ))
                })?;
            if on < r.nominato_il {
                return Err(siso::Error::Usage(format!(
                    "--on {on} is before the nomination ({})",
                    r.nominato_il
                ))
                .into());
            }
            let entry = ctx.audit_entry(
                Some(&r.ente),
                "referente_revocato",
                serde_json::json!({
                    "ente": r.ente, "ruolo": r.ruolo, "revocato_il": on.to_string(),
                }),
            );
            siso::on_db!(&db, pool => {
                let mut tx = pool.begin_write().await?;
                tx.revoke_referente(id, on).await?;
                tx.append_audit(&entry).await?;
                tx.commit().await?;
            });
            output::note(
                ctx.global.quiet,
                format!("Referent {id} of {} revoked from {on}.", r.ente),
            );
        }
        Sub::List { ente: code, all } => {
            let code = code.map(|c| c.trim().to_uppercase());
            if let Some(c) = &code {
                ente::get(&db, c).await?;
            }
            let rows = referenti::list(&db, code.as_deref(), all).await?;
            output::print(ctx.format(), &rows)?;
        }
    }
    db.close().await;
    Ok(Outcome::Clean)
}
