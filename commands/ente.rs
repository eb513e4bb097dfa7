//! `siso ente`: Art. 7 adhesion requests, the Capofila's decisions, ambito
//! membership of comuni, and the list of entes with their deadlines.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use siso::onboarding::tx::{Domanda, Esito, OnboardingWrite as _};
use siso::onboarding::{Anagrafica, TipoEnte, ambito, ente, parse_date, validate};

use crate::context::{Ctx, Format};
use crate::{Outcome, output};

/// Entes of the protocol: requests, decisions, ambito membership, lists.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Record a written adhesion request received by the Capofila (Art. 7).
    ///
    /// The decision deadline (60 days after receipt; day 60 is the last day
    /// on time) is computed and stored. On a terminal, missing values are
    /// asked for; otherwise every missing option is listed and nothing is written.
    Request(RequestArgs),
    /// Approve a pending request: the Capofila's act (number and date). The
    /// act date starts the 30-day (referents) and 60-day (privacy) clocks.
    Approve {
        /// Code of the ente.
        code: String,
        /// Number of the Capofila's act of approval.
        #[arg(long)]
        act: String,
        /// Date of the act, YYYY-MM-DD.
        #[arg(long)]
        date: String,
    },
    /// Reject a pending request, with the reason.
    Reject {
        code: String,
        #[arg(long)]
        reason: String,
    },
    /// List entes with state, dates, deadlines, comuni, referents and privacy roles.
    List {
        /// Only entes in this state: richiesta, aderente, respinta, receduto.
        #[arg(long)]
        state: Option<String>,
        /// Only this ambito, its comuni and the entes that adhere through it.
        #[arg(long)]
        ambito: Option<String>,
    },
    /// One ente in detail.
    Show { code: String },
    /// A comune joins an ambito from a date (never two ambiti on the same day).
    Join {
        /// Code of the ambito.
        ambito: String,
        /// ISTAT code of the comune.
        #[arg(long)]
        comune: String,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day (inclusive), YYYY-MM-DD; open-ended when omitted.
        #[arg(long)]
        to: Option<String>,
    },
    /// A comune leaves an ambito: its current membership ends on a day (inclusive).
    Leave {
        ambito: String,
        #[arg(long)]
        comune: String,
        /// Last day of membership, YYYY-MM-DD.
        #[arg(long)]
        on: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct RequestArgs {
    /// Short stable code: the ISTAT code for a comune, e.g. AMB-LECCO otherwise.
    #[arg(long)]
    code: Option<String>,
    /// comune, ambito, comunita_montana or associazione.
    #[arg(long)]
    kind: Option<String>,
    #[arg(long)]
    name: Option<String>,
    /// ISTAT code (comuni only).
    #[arg(long)]
    istat: Option<String>,
    /// Belfiore code (comuni only; filled from the ISTAT code when omitted).
    #[arg(long)]
    belfiore: Option<String>,
    /// Codice fiscale or partita IVA (11 digits, check digit verified).
    #[arg(long)]
    codice_fiscale: Option<String>,
    #[arg(long)]
    pec: Option<String>,
    /// ATS code (030321-030328).
    #[arg(long)]
    ats: Option<String>,
    /// Code of the ambito the ente belongs to.
    #[arg(long)]
    ambito: Option<String>,
    /// Legal representative who signed the request.
    #[arg(long)]
    legal_representative: Option<String>,
    /// Date the Capofila received the request, YYYY-MM-DD.
    #[arg(long)]
    received: Option<String>,
    /// Protocol number of the request at the Capofila.
    #[arg(long)]
    protocol: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let db = ctx.open_current().await?;
    let today = time::OffsetDateTime::now_utc().date();
    match args.command {
        Sub::Request(r) => {
            let r = complete(r)?;
            let received = parse_date(r.received.as_deref().unwrap_or_default(), "--received")?;
            let anagrafica = Anagrafica {
                codice: r.code.unwrap_or_default(),
                tipo: r.kind.unwrap_or_default(),
                denominazione: r.name.unwrap_or_default(),
                istat: r.istat,
                belfiore: r.belfiore,
                codice_fiscale: r.codice_fiscale,
                pec: r.pec,
                ats_codice: r.ats,
            };
            let domanda = Domanda {
                ricevuta_il: received,
                protocollo: r.protocol.unwrap_or_default(),
                rappresentante_legale: r.legal_representative.unwrap_or_default(),
                ambito: r.ambito.map(|a| a.trim().to_uppercase()),
            };
            let code = anagrafica.codice.trim().to_uppercase();
            let entry = ctx.audit_entry(Some(&code), "adesione_richiesta", serde_json::Value::Null);
            let deadline = ente::request(&db, anagrafica, domanda, entry).await?;
            output::note(
                ctx.global.quiet,
                format!("Request of {code} recorded; the Capofila must decide by {deadline}."),
            );
        }
        Sub::Approve { code, act, date } => {
            let atto = ente::atto(&act, parse_date(&date, "--date")?);
            let code = code.trim().to_uppercase();
            let entry = ctx.audit_entry(Some(&code), "adesione_approvata", serde_json::Value::Null);
            ente::decide(&db, &code, Esito::Approvata(atto.clone()), entry).await?;
            output::note(
                ctx.global.quiet,
                format!(
                    "{code} approved with act {} of {}: it is a signatory from that date.",
                    atto.numero, atto.data
                ),
            );
        }
        Sub::Reject { code, reason } => {
            let code = code.trim().to_uppercase();
            let entry = ctx.audit_entry(Some(&code), "adesione_respinta", serde_json::Value::Null);
            ente::decide(&db, &code, Esito::Respinta { motivo: reason }, entry).await?;
            output::note(ctx.global.quiet, format!("Request of {code} rejected."));
        }
        Sub::List { state, ambito } => {
            if let Some(a) = &ambito {
                ente::get_ambito(&db, a).await?;
            }
            let filtro = ente::Filtro {
                stato: state,
                ambito: ambito.map(|a| a.trim().to_uppercase()),
            };
            let rows = ente::list(&db, &filtro, today).await?;
            output::print(ctx.format(), &rows)?;
        }
        Sub::Show { code } => {
            let e = ente::get(&db, &code).await?;
            let filtro = ente::Filtro::default();
            let rows: Vec<_> = ente::list(&db, &filtro, today)
                .await?
                .into_iter()
                .filter(|v| v.codice == e.codice)
                .collect();
            // The whole picture: the ente, its comuni, referents and privacy roles.
            let comuni: Vec<_> = siso::onboarding::ambito::all(&db)
                .await?
                .into_iter()
                .filter(|a| a.ambito == e.codice)
                .collect();
            let referenti = siso::onboarding::referenti::list(&db, Some(&e.codice), true).await?;
            let privacy = siso::onboarding::privacy::current(&db, Some(&e.codice)).await?;
            match ctx.format() {
                Format::Json => {
                    let all = serde_json::json!({
                        "ente": rows.first(),
                        "comuni": comuni,
                        "referenti": referenti,
                        "privacy": privacy,
                    });
                    println!("{}", serde_json::to_string_pretty(&all)?);
                }
                // One table per CSV: the ente's row; --json gives everything.
                Format::Csv => output::print(Format::Csv, &rows)?,
                _ => {
                    output::print(ctx.format(), &rows)?;
                    section("Comuni dell'ambito", &comuni)?;
                    section("Referenti (Art. 6)", &referenti)?;
                    section("Ruoli privacy (Art. 10)", &privacy)?;
                }
            }
        }
        Sub::Join {
            ambito: code,
            comune,
            from,
            to,
        } => {
            let code = code.trim().to_uppercase();
            let dal = parse_date(&from, "--from")?;
            let al = to.as_deref().map(|t| parse_date(t, "--to")).transpose()?;
            let istat = comune.trim().to_string();
            let problems = ambito::check_period(&istat, dal, al);
            if !problems.is_empty() {
                return Err(siso::Error::Input(problems.join("; ")).into());
            }
            let target = ente::get(&db, &code).await?;
            if !matches!(target.tipo.as_str(), "ambito" | "comunita_montana") {
                return Err(siso::Error::Refused(format!(
                    "{code} is a {}, not an ambito",
                    target.tipo
                ))
                .into());
            }
            let entry = ctx.audit_entry(
                Some(&code),
                "appartenenza_ambito",
                serde_json::json!({"ambito": code, "comune_istat": istat, "valido_dal": dal.to_string(), "valido_al": al.map(|d| d.to_string())}),
            );
            siso::on_db!(&db, pool => {
                use siso::audit::AuditWrite as _;
                use siso::store::BeginWrite as _;
                let mut tx = pool.begin_write().await?;
                ambito::join(&mut tx, target.id, &code, &istat, dal, al).await?;
                tx.append_audit(&entry).await?;
                tx.commit().await.context("cannot commit")?;
            });
            output::note(
                ctx.global.quiet,
                format!("Comune {istat} is in {code} from {dal}."),
            );
        }
        Sub::Leave {
            ambito: code,
            comune,
            on,
        } => {
            let code = code.trim().to_uppercase();
            let al = parse_date(&on, "--on")?;
            let istat = comune.trim().to_string();
            let current = ambito::all(&db)
                .await?
                .into_iter()
                .find(|m| m.ambito == code && m.comune_istat == istat && m.valido_al.is_none())
                .ok_or_else(|| {
                    siso::Error::Refused(format!("comune {istat} has no open membership in {code}"))
                })?;
            if al < current.valido_dal {
                return Err(siso::Error::Usage(format!(
                    "--on {al} is before the membership began ({})",
                    current.valido_dal
                ))
                .into());
            }
            let entry = ctx.audit_entry(
                Some(&code),
                "appartenenza_ambito_chiusa",
                serde_json::json!({"ambito": code, "comune_istat": istat, "valido_al": al.to_string()}),
            );
            siso::on_db!(&db, pool => {
                use siso::audit::AuditWrite as _;
                use siso::store::BeginWrite as _;
                let mut tx = pool.begin_write().await?;
                tx.set_membership_end(current.id, Some(al)).await?;
                tx.append_audit(&entry).await?;
                tx.commit().await.context("cannot commit")?;
            });
            output::note(
                ctx.global.quiet,
                format!("Comune {istat} leaves {code} after {al}."),
            );
        }
    }
    db.close().await;
    Ok(Outcome::Clean)
}

/// Fills missing values by asking on a terminal; without one, lists them all.
fn complete(mut r: RequestArgs) -> anyhow::Result<RequestArgs> {
    let missing: Vec<&str> = [
        ("--code", r.code.is_none()),
        ("--kind", r.kind.is_none()),
        ("--name", r.name.is_none()),
        ("--legal-representative", r.legal_representative.is_none()),
        ("--received", r.received.is_none()),
        ("--protocol", r.protocol.is_none()),
        (
            "--istat",
            r.istat.is_none() && r.kind.as_deref() == Some("comune"),
        ),
    ]
    .into_iter()
    .filter_map(|(name, missing)| missing.then_some(name))
    .collect();
    if missing.is_empty() {
        return Ok(r);
    }
    if !std::io::stdin().is_terminal() {
        return Err(siso::Error::Usage(format!(
            "missing required options: {} (stdin is not a terminal, so siso does not ask)",
            missing.join(", ")
        ))
        .into());
    }
    let text = |prompt: &str, check: fn(&str) -> Result<(), String>| -> anyhow::Result<String> {
        dialoguer::Input::<String>::new()
            .with_prompt(prompt)
            // Emptiness is the validator's call (the PEC may be unknown).
            .allow_empty(true)
            .validate_with(move |s: &String| check(s))
            .interact_text()
            .context("cannot read the answer")
    };
    if r.kind.is_none() {
        let kinds: Vec<&str> = TipoEnte::ALL.iter().map(|t| t.as_str()).collect();
        let i = dialoguer::Select::new()
            .with_prompt("Kind of ente")
            .items(&kinds)
            .default(0)
            .interact()?;
        r.kind = Some(kinds[i].to_string());
    }
    let today = time::OffsetDateTime::now_utc().date();
    if r.kind.as_deref() == Some("comune") && r.istat.is_none() {
        let istat = dialoguer::Input::<String>::new()
            .with_prompt("ISTAT code")
            .validate_with(move |s: &String| validate::comune_attivo(s, today).map(|_| ()))
            .interact_text()?;
        r.code.get_or_insert(istat.clone());
        r.istat = Some(istat);
    }
    if r.code.is_none() {
        r.code = Some(text("Ente code (e.g. AMB-LECCO)", |s| {
            validate::codice(s).map(|_| ())
        })?);
    }
    if r.name.is_none() {
        r.name = Some(text("Name (denominazione)", non_empty)?);
    }
    if r.pec.is_none() {
        let pec = text("PEC (empty if unknown)", |s| {
            if s.trim().is_empty() {
                Ok(())
            } else {
                validate::pec(s).map(|_| ())
            }
        })?;
        r.pec = Some(pec).filter(|p| !p.trim().is_empty());
    }
    if r.legal_representative.is_none() {
        r.legal_representative = Some(text("Legal representative", non_empty)?);
    }
    if r.received.is_none() {
        r.received = Some(text("Received by the Capofila on (YYYY-MM-DD)", |s| {
            parse_date(s, "date").map(|_| ()).map_err(|e| e.to_string())
        })?);
    }
    if r.protocol.is_none() {
        r.protocol = Some(text("Protocol number of the request", non_empty)?);
    }
    Ok(r)
}

fn non_empty(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        Err("required".into())
    } else {
        Ok(())
    }
}

fn section<T: serde::Serialize>(title: &str, rows: &[T]) -> anyhow::Result<()> {
    println!("\n{title}");
    if rows.is_empty() {
        println!("(none recorded)");
        Ok(())
    } else {
        output::print(Format::Table, rows)
    }
}
