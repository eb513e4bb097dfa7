//! `siso access`: PostgreSQL logins limited to one ambito's data by
//! row-level security (migration 0009).

use siso::accesso::{self, Esito, Ruolo};

use crate::context::Ctx;
use crate::{Outcome, output};

/// Access boundaries per ambito (PostgreSQL only); the help text is on the
/// `Command::Access` variant in main.rs.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    /// Read and write the personal data of the ambito's titolari.
    Tecnico,
    /// Read the aggregate report views of the ambito only (e.g. v_uso_mensile).
    Lettore,
}

impl From<RoleArg> for Ruolo {
    fn from(r: RoleArg) -> Ruolo {
        match r {
            RoleArg::Tecnico => Ruolo::Tecnico,
            RoleArg::Lettore => Ruolo::Lettore,
        }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Let a login work on one ambito's data; creates the login role if missing.
    ///
    /// The login becomes a member of siso_tecnico or siso_lettore. Granting
    /// the same login another role on the same ambito replaces the role.
    /// Refused (exit 1) for an ente that is not an approved ambito, and for a
    /// superuser, a BYPASSRLS role or the owner of the tables, which
    /// row-level security would not restrict. The login gets no password
    /// from siso: set one (ALTER ROLE ... PASSWORD) or configure pg_hba.conf.
    Grant {
        /// Code of the ambito ente (e.g. AMB-MONZA).
        #[arg(long)]
        ambito: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// PostgreSQL login: lower-case letters, digits and '_', at most 63.
        login: String,
    },
    /// Remove a login's access to an ambito (asks unless --yes).
    ///
    /// The login also leaves its group role unless it holds the same role on
    /// another ambito of this database. The login role itself is kept, since
    /// roles are shared by every database of the PostgreSQL cluster: drop it
    /// with DROP ROLE when no database uses it.
    Revoke {
        /// Code of the ambito ente.
        #[arg(long)]
        ambito: String,
        login: String,
        /// Show what would be revoked, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List the grants: login, ambito, role, when granted.
    List {
        /// Only the grants on this ambito.
        #[arg(long)]
        ambito: Option<String>,
    },
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let db = ctx.open().await?;
    if db.backend() == siso::store::Backend::Sqlite {
        db.close().await;
        return Err(siso::Error::Usage(accesso::SQLITE_REFUSAL.into()).into());
    }
    siso::store::migrate::ensure_current(&db).await?;
    match args.command {
        Sub::Grant {
            ambito,
            role,
            login,
        } => {
            let ambito = ambito.trim().to_uppercase();
            let ruolo = Ruolo::from(role);
            accesso::check_login(&login)?;
            let entry = ctx.audit_entry(
                Some(&ambito),
                "accesso_concesso",
                serde_json::json!({ "ambito": ambito, "login": login, "ruolo": ruolo.as_str() }),
            );
            let message = match accesso::grant(&db, &login, &ambito, ruolo, &entry).await? {
                Esito::Concesso { login_creato } => format!(
                    "{login} may now work on {ambito} as {}{}.",
                    ruolo.as_str(),
                    if login_creato {
                        " (login role created: give it a password or a pg_hba.conf rule)"
                    } else {
                        ""
                    }
                ),
                Esito::RuoloCambiato { da } => format!(
                    "{login} on {ambito}: role changed from {} to {}.",
                    da.as_str(),
                    ruolo.as_str()
                ),
                Esito::GiaConcesso => format!(
                    "{login} already works on {ambito} as {}: nothing to change.",
                    ruolo.as_str()
                ),
            };
            output::note(ctx.global.quiet, message);
        }
        Sub::Revoke {
            ambito,
            login,
            dry_run,
        } => {
            let ambito = ambito.trim().to_uppercase();
            let current = accesso::find(&db, &login, &ambito).await?;
            if !dry_run
                && !ctx.confirm(&format!(
                    "Revoke the {} access of {login} to {ambito}?",
                    current.ruolo.as_str()
                ))?
            {
                output::note(ctx.global.quiet, "Nothing revoked.");
                db.close().await;
                return Ok(Outcome::Clean);
            }
            let entry = ctx.audit_entry(
                Some(&ambito),
                "accesso_revocato",
                serde_json::json!({ "ambito": ambito, "login": login, "ruolo": current.ruolo.as_str() }),
            );
            let revoca = accesso::revoke(&db, &login, &ambito, dry_run, &entry).await?;
            output::print(ctx.format(), std::slice::from_ref(&revoca))?;
            let gruppo = if revoca.gruppo_revocato {
                format!(" and leaves {}", revoca.ruolo.gruppo())
            } else {
                String::new()
            };
            output::note(
                ctx.global.quiet,
                if dry_run {
                    format!("Dry run: {login} would lose {ambito}{gruppo}; nothing changed.")
                } else {
                    format!("{login} no longer has access to {ambito}{gruppo}.")
                },
            );
        }
        Sub::List { ambito } => {
            let ambito = ambito.map(|a| a.trim().to_uppercase());
            let rows = accesso::list(&db, ambito.as_deref()).await?;
            output::print(ctx.format(), &rows)?;
        }
    }
    db.close().await;
    Ok(Outcome::Clean)
}
