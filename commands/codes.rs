//! `siso codes`: look up the reference codes loaded by `siso init`.

use siso::store::lookup;

use crate::context::Ctx;
use crate::{Outcome, output};

/// Look up reference codes: comuni (ISTAT, Belfiore), INPS prestazioni, and
/// the reason codes of import rejects and warnings.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Comuni by name (part of it), ISTAT code or Belfiore code; ceased ones too.
    Comuni {
        /// Text to look for; nothing lists all.
        text: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// INPS prestazioni sociali by code prefix (e.g. A1) or words of the label.
    Prestazioni {
        /// Text to look for; nothing lists all.
        text: Option<String>,
    },
    /// What each reason code of `siso import` and `siso inspect` means: those
    /// of rows refused while reading, of records refused by the checks, and
    /// of warnings (stored, but worth a look).
    ///
    /// The codes are stable: rejects files and summaries carry them, and a
    /// published code never changes meaning.
    Reasons {
        /// Only this code.
        code: Option<String>,
    },
    /// Add a local prestazione code that the INPS 2015 table lacks (e.g. A1.05.01).
    ///
    /// The code table is data: new INPS codes can be added without a new release
    /// of siso. Official codes cannot be redefined.
    AddPrestazione {
        /// The code, e.g. A2.16 or A1.05.01.
        codice: String,
        /// Its label.
        #[arg(long)]
        descrizione: String,
        /// Its macro group.
        #[arg(long, value_parser = ["A1", "A2", "A3", "Z9"])]
        gruppo: String,
    },
}

/// One reason code and what it means.
#[derive(serde::Serialize)]
struct Reason {
    codice: &'static str,
    /// `lettura` (the row could not be read), `verifica` (the record broke
    /// a rule) or `avviso` (stored, with a warning).
    fase: &'static str,
    significato: &'static str,
}

fn reasons(code: Option<&str>) -> Vec<Reason> {
    let phases: [(&str, &[(&'static str, &'static str)]); 3] = [
        ("lettura", siso::importers::reasons::REASONS),
        ("verifica", siso::import::reasons::REASONS),
        ("avviso", siso::import::reasons::WARNINGS),
    ];
    phases
        .into_iter()
        .flat_map(|(fase, list)| {
            list.iter().map(move |&(codice, significato)| Reason {
                codice,
                fase,
                significato,
            })
        })
        .filter(|r| code.is_none_or(|c| r.codice.eq_ignore_ascii_case(c.trim())))
        .collect()
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    // The reason codes are part of siso, not of the database.
    let command = match args.command {
        Sub::Reasons { code } => {
            let rows = reasons(code.as_deref());
            output::print(ctx.format(), &rows)?;
            return Ok(if rows.is_empty() {
                Outcome::Problems
            } else {
                Outcome::Clean
            });
        }
        other => other,
    };
    let db = ctx.open_current().await?;
    let outcome = match command {
        Sub::Comuni { text, limit } => {
            let rows = lookup::comuni(&db, text.as_deref().unwrap_or(""), limit).await?;
            output::print(ctx.format(), &rows)?;
            if rows.is_empty() {
                Outcome::Problems
            } else {
                Outcome::Clean
            }
        }
        Sub::Prestazioni { text } => {
            let rows = lookup::prestazioni(&db, text.as_deref().unwrap_or("")).await?;
            output::print(ctx.format(), &rows)?;
            if rows.is_empty() {
                Outcome::Problems
            } else {
                Outcome::Clean
            }
        }
        Sub::Reasons { .. } => Outcome::Clean, // answered above, without the database
        Sub::AddPrestazione {
            codice,
            descrizione,
            gruppo,
        } => {
            let codice = codice.trim().to_uppercase();
            if !valid_prestazione_code(&codice) || !codice.starts_with(&gruppo) {
                return Err(siso::Error::Usage(format!(
                    "{codice} is not a prestazione code of group {gruppo}: expected {gruppo}.NN or {gruppo}.NN.NN"
                ))
                .into());
            }
            let created =
                lookup::add_prestazione(&db, &codice, descrizione.trim(), &gruppo).await?;
            siso::audit::record(
                &db,
                &ctx.audit_entry(
                    None,
                    "prestazione_locale",
                    serde_json::json!({ "codice": codice, "nuova": created }),
                ),
            )
            .await?;
            output::note(
                ctx.global.quiet,
                format!(
                    "{} local prestazione {codice}.",
                    if created { "Added" } else { "Updated" }
                ),
            );
            Outcome::Clean
        }
    };
    db.close().await;
    Ok(outcome)
}

/// `A1.05` or `A1.05.01`: a group, then one or two two-digit parts.
fn valid_prestazione_code(code: &str) -> bool {
    let mut parts = code.split('.');
    let group_ok = parts.next().is_some_and(|g| {
        g.len() == 2 && g.as_bytes()[0].is_ascii_uppercase() && g.as_bytes()[1].is_ascii_digit()
    });
    let rest: Vec<&str> = parts.collect();
    group_ok
        && (1..=2).contains(&rest.len())
        && rest
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
}
