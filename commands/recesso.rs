//! `siso recesso`: Art. 9 withdrawals: record the formal communication, the
//! Capofila's act of acceptance (and whom to inform), and where they stand.

use siso::recesso::{self, Recesso};
use time::Date;

use crate::context::Ctx;
use crate::{Outcome, output};

/// Withdrawals from the protocol (Art. 9); the help text is on the
/// `Command::Recesso` variant in main.rs.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Record an ente's formal communication of withdrawal and compute when it takes effect.
    ///
    /// A withdrawal received by 30 September takes effect on 31 December of
    /// that year; later, on 31 December of the next year (Art. 9). Refused
    /// (exit 1) for an unknown ente, an ente that is not an approved
    /// signatory, a date in the future, or while another request of the same
    /// ente is open or accepted.
    Request {
        /// Code of the withdrawing ente (see `siso ente list`).
        ente: String,
        /// Day the Capofila received the communication (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        received: Date,
        /// The Capofila's protocol number of the communication.
        #[arg(long)]
        protocol: String,
    },
    /// Record the Capofila's act accepting a withdrawal; list the signatories to inform.
    ///
    /// Prints every other approved signatory with its PEC address (with
    /// `--format csv`, a file to mail-merge); those without one are flagged
    /// to be informed by other formal means. If the effective date is already
    /// past, the ente's state becomes 'receduto'.
    Accept {
        /// Code of the withdrawing ente.
        ente: String,
        /// Number of the Capofila's act of acceptance.
        #[arg(long)]
        act: String,
        /// Date of the act (YYYY-MM-DD); not before the request was received.
        #[arg(long, value_parser = parse_date)]
        date: Date,
    },
    /// List withdrawals: pending, accepted, effective, and days left.
    ///
    /// A withdrawal received by 30 September takes effect on 31 December of
    /// that year; later, on 31 December of the next year (Art. 9).
    /// giorni_mancanti is 0 on the effective date and negative after it.
    Status {
        /// Only this ambito and the comuni belonging to it.
        #[arg(long)]
        ambito: Option<String>,
        /// Judge the state as on this day instead of today (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        as_of: Option<Date>,
    },
}

/// Parses a command-line date, saying which format is expected.
fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(
        s.trim(),
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("{s:?} is not a date: use YYYY-MM-DD, e.g. 2025-09-30"))
}

fn today() -> Date {
    siso::now_utc().date()
}

/// The table `request` prints: the withdrawal as recorded.
#[derive(serde::Serialize)]
struct Recorded<'a> {
    ente: &'a str,
    denominazione: &'a str,
    ricevuto_il: Date,
    protocollo: &'a str,
    efficace_il: Date,
    atto: Option<&'a str>,
    atto_data: Option<Date>,
}

impl<'a> From<&'a Recesso> for Recorded<'a> {
    fn from(r: &'a Recesso) -> Self {
        Recorded {
            ente: &r.ente,
            denominazione: &r.denominazione,
            ricevuto_il: r.ricevuto_il,
            protocollo: &r.protocollo,
            efficace_il: r.efficace_il,
            atto: r.atto_numero.as_deref(),
            atto_data: r.atto_data,
        }
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let db = ctx.open_current().await?;
    let outcome = match args.command {
        Sub::Request {
            ente,
            received,
            protocol,
        } => {
            let entry = ctx.audit_entry(
                Some(&ente.trim().to_uppercase()),
                "recesso_richiesta",
                serde_json::json!({}),
            );
            let done = recesso::request(&db, &ente, received, &protocol, today(), &entry).await?;
            output::print(ctx.format(), &[Recorded::from(&done.recesso)])?;
            if done.capofila {
                tracing::warn!(
                    "{} is the Ente Capofila, which receives withdrawals: the protocol does not \
                     forbid it to withdraw, but the signatories must agree who takes over its role",
                    done.recesso.ente
                );
            }
            output::note(
                ctx.global.quiet,
                format!(
                    "Withdrawal of {} recorded: received {}, effective {}. {} \
                     Next: the Capofila's act, with `siso recesso accept {} --act N --date D`.",
                    done.recesso.ente,
                    done.recesso.ricevuto_il,
                    done.recesso.efficace_il,
                    recesso::RULE,
                    done.recesso.ente
                ),
            );
            Outcome::Clean
        }
        Sub::Accept { ente, act, date } => {
            let entry = ctx.audit_entry(
                Some(&ente.trim().to_uppercase()),
                "recesso_accettazione",
                serde_json::json!({}),
            );
            let done = recesso::accept(&db, &ente, &act, date, today(), &entry).await?;
            output::print(ctx.format(), &done.da_informare)?;
            let r = &done.recesso;
            if done.capofila {
                tracing::warn!("{} is the Ente Capofila itself", r.ente);
            }
            let missing = done.da_informare.iter().filter(|f| f.pec.is_none()).count();
            output::note(
                ctx.global.quiet,
                format!(
                    "Withdrawal of {} accepted by act {act} of {date}; effective {}{}. \
                     Inform the {} signatories listed above{}.",
                    r.ente,
                    r.efficace_il,
                    if done.receduto_ora {
                        " (already past: the ente is now 'receduto')"
                    } else {
                        ""
                    },
                    done.da_informare.len(),
                    if missing > 0 {
                        format!(" ({missing} without PEC: inform them by other formal means)")
                    } else {
                        String::new()
                    }
                ),
            );
            Outcome::Clean
        }
        Sub::Status { ambito, as_of } => {
            let as_of = as_of.unwrap_or_else(today);
            let voci = recesso::status(&db, ambito.as_deref(), as_of).await?;
            output::print(ctx.format(), &voci)?;
            let overdue = voci
                .iter()
                .filter(|v| v.stato == recesso::StatoRecesso::Pending && v.efficace_il < as_of)
                .count();
            if overdue > 0 {
                output::note(
                    ctx.global.quiet,
                    format!(
                        "{overdue} withdrawal(s) are past their effective date but not yet accepted: \
                         record the Capofila's act with `siso recesso accept`."
                    ),
                );
            }
            Outcome::Clean
        }
    };
    db.close().await;
    Ok(outcome)
}
