//! The declarative onboarding file (`siso onboard FILE.toml...`): parse it,
//! check every entry (reporting each problem with its line), compare it with
//! the database, and apply exactly what differs in one transaction.
//!
//! The format is documented in `examples/onboarding/README.md`. In short:
//! `[[ente]]` tables with the identity, an optional `[ente.richiesta]` (Art. 7
//! request) and/or `[ente.approvazione]` (the act), and arrays
//! `[[ente.comune]]` (ambito membership), `[[ente.referente]]` (Art. 6) and
//! `[[ente.privacy]]` (Art. 10). The file adds and updates; it never deletes.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::{Date, Month};
use toml::Spanned;

use super::ambito::{self, Appartenenza};
use super::privacy::{self, Effetto, Ruolo};
use super::referenti::{self, Referente};
use super::tx::{Domanda, Esito, NuovoReferente, NuovoRuolo, OnboardingWrite as _};
use super::{Anagrafica, Atto, deadlines, ente, validate};
use crate::audit::{AuditWrite as _, Entry};
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;
use crate::store::{BeginWrite as _, Db};

type D = Spanned<toml::value::Datetime>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    ente: Vec<Spanned<EnteToml>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnteToml {
    codice: Spanned<String>,
    tipo: Spanned<String>,
    denominazione: String,
    istat: Option<String>,
    belfiore: Option<String>,
    codice_fiscale: Option<Spanned<String>>,
    pec: Option<Spanned<String>>,
    ats: Option<String>,
    #[serde(default)]
    capofila: bool,
    richiesta: Option<Spanned<RichiestaToml>>,
    approvazione: Option<Spanned<ApprovazioneToml>>,
    #[serde(default)]
    comune: Vec<Spanned<ComuneToml>>,
    #[serde(default)]
    referente: Vec<Spanned<ReferenteToml>>,
    #[serde(default)]
    privacy: Vec<Spanned<PrivacyToml>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RichiestaToml {
    ricevuta_il: D,
    protocollo: String,
    rappresentante_legale: String,
    ambito: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovazioneToml {
    atto: String,
    data: D,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComuneToml {
    istat: String,
    dal: D,
    al: Option<D>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenteToml {
    ruolo: String,
    nominativo: String,
    email: Option<String>,
    telefono: Option<String>,
    nominato_il: D,
    comunicazione: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivacyToml {
    ruolo: String,
    nominativo: Option<String>,
    /// For the titolare: the code of the ente that is the controller.
    titolare: Option<String>,
    contatto: Option<String>,
    comunicato_il: D,
}

/// One ente as the files declare it, checked.
#[derive(Debug, Clone)]
pub struct Dichiarazione {
    pub anagrafica: Anagrafica,
    pub capofila: bool,
    pub domanda: Option<Domanda>,
    pub atto: Option<Atto>,
    pub comuni: Vec<(String, Date, Option<Date>)>,
    pub referenti: Vec<NuovoReferente>,
    /// Roles with the titolare's ente code (resolved to an id when applied).
    pub privacy: Vec<(NuovoRuolo, Option<String>)>,
    /// Where it is written, for messages: "FILE:LINE: [[ente]] #N (code X)".
    pub posizione: String,
}

/// One problem in a file, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problema {
    pub file: String,
    pub riga: usize,
    pub messaggio: String,
}

impl std::fmt::Display for Problema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.riga, self.messaggio)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

fn to_date(d: &toml::value::Datetime) -> Option<Date> {
    if d.time.is_some() || d.offset.is_some() {
        return None;
    }
    let date = d.date?;
    Date::from_calendar_date(
        i32::from(date.year),
        Month::try_from(date.month).ok()?,
        date.day,
    )
    .ok()
}

/// Parses and checks the files, each given as (name, text). Returns every
/// entry, or every problem found in all of them (nothing partial).
pub fn parse(files: &[(String, String)], today: Date) -> Result<Vec<Dichiarazione>, Vec<Problema>> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (name, text) in files {
        let parsed: FileToml = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                let riga = e.span().map_or(1, |s| line_of(text, s.start));
                problems.push(Problema {
                    file: name.clone(),
                    riga,
                    messaggio: format!("not a valid onboarding file: {}", e.message()),
                });
                continue;
            }
        };
        if parsed.ente.is_empty() {
            problems.push(Problema {
                file: name.clone(),
                riga: 1,
                messaggio: "no [[ente]] table: nothing to onboard".into(),
            });
        }
        for (n, spanned) in parsed.ente.into_iter().enumerate() {
            let ente_line = line_of(text, spanned.span().start);
            let e = spanned.into_inner();
            let label = format!("[[ente]] #{} (code {})", n + 1, e.codice.get_ref().trim());
            let mut here = |span: std::ops::Range<usize>, msg: String| {
                problems.push(Problema {
                    file: name.clone(),
                    riga: line_of(text, span.start),
                    messaggio: format!("{label}: {msg}"),
                });
            };
            let date = |d: &D, what: &str, here: &mut dyn FnMut(std::ops::Range<usize>, String)| {
                to_date(d.get_ref()).or_else(|| {
                    here(
                        d.span(),
                        format!("{what} must be a date like 2024-03-01, not {}", d.get_ref()),
                    );
                    None
                })
            };
            let domanda = e.richiesta.as_ref().and_then(|r| {
                let r2 = r.get_ref();
                let ricevuta_il = date(&r2.ricevuta_il, "richiesta.ricevuta_il", &mut here)?;
                if r2.protocollo.trim().is_empty() || r2.rappresentante_legale.trim().is_empty() {
                    here(
                        r.span(),
                        "richiesta needs protocollo and rappresentante_legale".into(),
                    );
                }
                Some(Domanda {
                    ricevuta_il,
                    protocollo: r2.protocollo.trim().to_string(),
                    rappresentante_legale: r2.rappresentante_legale.trim().to_string(),
                    ambito: r2.ambito.as_deref().map(|a| a.trim().to_uppercase()),
                })
            });
            let atto = e.approvazione.as_ref().and_then(|a| {
                let data = date(&a.get_ref().data, "approvazione.data", &mut here)?;
                if a.get_ref().atto.trim().is_empty() {
                    here(
                        a.span(),
                        "approvazione.atto (the act number) is empty".into(),
                    );
                }
                if let Some(d) = &domanda
                    && data < d.ricevuta_il
                {
                    here(
                        a.span(),
                        format!(
                            "the act date {data} is before the request was received ({})",
                            d.ricevuta_il
                        ),
                    );
                }
                Some(ente::atto(&a.get_ref().atto, data))
            });
            if e.richiesta.is_none() && e.approvazione.is_none() {
                here(e.codice.span(), "give [ente.richiesta] (a request to decide) or [ente.approvazione] (an approved signatory), or both".into());
            }
            if e.capofila && e.approvazione.is_none() {
                here(
                    e.codice.span(),
                    "the Capofila must be approved ([ente.approvazione])".into(),
                );
            }
            let on = atto
                .as_ref()
                .map(|a| a.data)
                .or(domanda.as_ref().map(|d| d.ricevuta_il))
                .unwrap_or(today);
            let mut anagrafica = Anagrafica {
                codice: e.codice.get_ref().clone(),
                tipo: e.tipo.get_ref().trim().to_string(),
                denominazione: e.denominazione.trim().to_string(),
                istat: e.istat.as_deref().map(|s| s.trim().to_string()),
                belfiore: e.belfiore.as_deref().map(|s| s.trim().to_uppercase()),
                codice_fiscale: e.codice_fiscale.as_ref().map(|s| s.get_ref().clone()),
                pec: e.pec.as_ref().map(|s| s.get_ref().clone()),
                ats_codice: e.ats.as_deref().map(|s| s.trim().to_string()),
            };
            for p in validate::anagrafica(&mut anagrafica, on) {
                let span = if p.contains("codice fiscale") {
                    e.codice_fiscale
                        .as_ref()
                        .map_or(e.codice.span(), |s| s.span())
                } else if p.contains("PEC") {
                    e.pec.as_ref().map_or(e.codice.span(), |s| s.span())
                } else if p.contains("kind") {
                    e.tipo.span()
                } else {
                    e.codice.span()
                };
                here(span, p);
            }
            let mut comuni = Vec::new();
            if !e.comune.is_empty()
                && !matches!(anagrafica.tipo.as_str(), "ambito" | "comunita_montana")
            {
                here(
                    e.codice.span(),
                    "only an ambito or a comunità montana has [[ente.comune]] members".into(),
                );
            }
            for c in &e.comune {
                let c2 = c.get_ref();
                let dal = date(&c2.dal, "comune.dal", &mut here);
                let al = c2.al.as_ref().map(|d| date(d, "comune.al", &mut here));
                let (Some(dal), Some(al)) = (dal, al.unwrap_or(Some(Date::MAX)).map(Some)) else {
                    continue;
                };
                let al = al.filter(|d| *d != Date::MAX);
                let istat = c2.istat.trim().to_string();
                for p in ambito::check_period(&istat, dal, al) {
                    here(c.span(), p);
                }
                comuni.push((istat, dal, al));
            }
            let mut referenti_out = Vec::new();
            for r in &e.referente {
                let r2 = r.get_ref();
                if let Err(p) = referenti::check_ruolo(r2.ruolo.trim()) {
                    here(r.span(), p);
                }
                if r2.nominativo.trim().is_empty() || r2.comunicazione.trim().is_empty() {
                    here(r.span(), "a referent needs nominativo and comunicazione (the reference of the formal communication)".into());
                }
                let email = match r2.email.as_deref().map(validate::email).transpose() {
                    Ok(email) => email,
                    Err(p) => {
                        here(r.span(), p);
                        None
                    }
                };
                let Some(nominato_il) = date(&r2.nominato_il, "referente.nominato_il", &mut here)
                else {
                    continue;
                };
                referenti_out.push(NuovoReferente {
                    ruolo: r2.ruolo.trim().to_string(),
                    nominativo: r2.nominativo.trim().to_string(),
                    email,
                    telefono: r2.telefono.clone(),
                    nominato_il,
                    comunicazione_rif: r2.comunicazione.trim().to_string(),
                });
            }
            let mut privacy_out = Vec::new();
            for p in &e.privacy {
                let p2 = p.get_ref();
                let ruolo = p2.ruolo.trim().to_string();
                if let Err(msg) = privacy::check_ruolo(&ruolo) {
                    here(p.span(), msg);
                }
                let titolare = p2.titolare.as_deref().map(|t| t.trim().to_uppercase());
                if ruolo == "titolare" && titolare.is_none() {
                    here(p.span(), "the titolare needs `titolare = \"CODE\"`: the ente itself or its Ufficio di Piano (ambito)".into());
                }
                if ruolo != "titolare" && titolare.is_some() {
                    here(p.span(), "only the titolare role takes `titolare`".into());
                }
                let nominativo = match (&p2.nominativo, &titolare) {
                    (Some(n), _) if !n.trim().is_empty() => n.trim().to_string(),
                    (_, Some(t)) => t.clone(),
                    _ => {
                        here(
                            p.span(),
                            format!(
                                "the {ruolo} needs nominativo (a name, or the office that holds the role)"
                            ),
                        );
                        continue;
                    }
                };
                let Some(comunicato_il) =
                    date(&p2.comunicato_il, "privacy.comunicato_il", &mut here)
                else {
                    continue;
                };
                privacy_out.push((
                    NuovoRuolo {
                        ruolo,
                        titolare_ente_id: None,
                        nominativo,
                        contatto: p2.contatto.clone(),
                        comunicato_il,
                    },
                    titolare,
                ));
            }
            out.push(Dichiarazione {
                posizione: format!("{name}:{ente_line}: {label}"),
                anagrafica,
                capofila: e.capofila,
                domanda,
                atto,
                comuni,
                referenti: referenti_out,
                privacy: privacy_out,
            });
        }
    }
    // Checks across entries and files.
    let mut seen: HashMap<String, &str> = HashMap::new();
    let mut capofila: Vec<&str> = Vec::new();
    for d in &out {
        if let Some(first) = seen.insert(d.anagrafica.codice.clone(), &d.posizione) {
            problems.push(problem_at(
                &d.posizione,
                format!(
                    "ente code {} is declared twice (first at {first})",
                    d.anagrafica.codice
                ),
            ));
        }
        if d.capofila {
            capofila.push(&d.posizione);
        }
    }
    if capofila.len() > 1 {
        problems.push(problem_at(
            capofila[1],
            format!("a second Capofila (the first is at {})", capofila[0]),
        ));
    }
    for (i, d) in out.iter().enumerate() {
        for (k, (istat, dal, al)) in d.comuni.iter().enumerate() {
            for other in &out[i..] {
                let same = std::ptr::eq(other, d);
                // Within one ente, each pair once.
                let skip = if same { k + 1 } else { 0 };
                for (istat2, dal2, al2) in other.comuni.iter().skip(skip) {
                    if istat == istat2 && overlaps(*dal, *al, *dal2, *al2) {
                        let message = if same {
                            format!(
                                "comune {istat} is listed twice in {} with overlapping dates (from {dal} and from {dal2}): \
                                 give each stretch once, the earlier one with its end (al)",
                                d.anagrafica.codice
                            )
                        } else {
                            format!(
                                "comune {istat} would be in {} and {} on the same days: a comune is never in two ambiti \
                                 on the same day",
                                d.anagrafica.codice, other.anagrafica.codice
                            )
                        };
                        problems.push(problem_at(&d.posizione, message));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn problem_at(posizione: &str, messaggio: String) -> Problema {
    // posizione is "FILE:LINE: label"
    let mut parts = posizione.splitn(3, ':');
    let file = parts.next().unwrap_or_default().to_string();
    let riga = parts.next().and_then(|l| l.parse().ok()).unwrap_or(1);
    let label = parts.next().unwrap_or_default().trim();
    Problema {
        file,
        riga,
        messaggio: format!("{label}: {messaggio}"),
    }
}

fn overlaps(a1: Date, a2: Option<Date>, b1: Date, b2: Option<Date>) -> bool {
    a1 <= b2.unwrap_or(Date::MAX) && b1 <= a2.unwrap_or(Date::MAX)
}

/// One line of the plan: what happens to one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Voce {
    pub ente: String,
    pub oggetto: String,
    pub azione: &'static str,
    pub dettaglio: String,
}

#[derive(Debug, Clone)]
enum Op {
    CreaEnte {
        a: Anagrafica,
        capofila: bool,
    },
    AggiornaEnte {
        id: i64,
        a: Anagrafica,
        capofila: bool,
        changes: serde_json::Value,
    },
    Domanda {
        codice: String,
        d: Domanda,
    },
    Approva {
        codice: String,
        atto: Atto,
    },
    Atto {
        codice: String,
        atto: Atto,
    },
    Appartenenza {
        ambito: String,
        istat: String,
        dal: Date,
        al: Option<Date>,
        existing: Option<i64>,
    },
    Referente {
        codice: String,
        r: NuovoReferente,
        existing: Option<i64>,
    },
    Privacy {
        codice: String,
        r: NuovoRuolo,
        titolare: Option<String>,
        existing: Vec<Ruolo>,
        effetto: Effetto,
    },
}

/// What applying the files would do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub voci: Vec<Voce>,
    ops: Vec<Op>,
}

impl Plan {
    /// Whether anything would change.
    pub fn changes(&self) -> usize {
        self.voci.iter().filter(|v| v.azione != "unchanged").count()
    }
}

fn diff_ente(
    old: &Anagrafica,
    new: &Anagrafica,
    old_capofila: bool,
    capofila: bool,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    let mut field = |name: &str, a: Option<&str>, b: Option<&str>| {
        if a != b {
            m.insert(name.into(), serde_json::json!({"prima": a, "dopo": b}));
        }
    };
    field("tipo", Some(&old.tipo), Some(&new.tipo));
    field(
        "denominazione",
        Some(&old.denominazione),
        Some(&new.denominazione),
    );
    field("istat", old.istat.as_deref(), new.istat.as_deref());
    field("belfiore", old.belfiore.as_deref(), new.belfiore.as_deref());
    field(
        "codice_fiscale",
        old.codice_fiscale.as_deref(),
        new.codice_fiscale.as_deref(),
    );
    field("pec", old.pec.as_deref(), new.pec.as_deref());
    field(
        "ats_codice",
        old.ats_codice.as_deref(),
        new.ats_codice.as_deref(),
    );
    if old_capofila != capofila {
        m.insert(
            "capofila".into(),
            serde_json::json!({"prima": old_capofila, "dopo": capofila}),
        );
    }
    m
}

/// Compares the declarations with the database; refuses (listing every
/// problem with its position) what the database makes impossible.
pub async fn plan(db: &Db, decl: &[Dichiarazione]) -> Result<Plan, PlanError> {
    let entes = ente::all(db).await?;
    let by_code: BTreeMap<&str, &ente::EnteRow> =
        entes.iter().map(|e| (e.codice.as_str(), e)).collect();
    let memberships: Vec<Appartenenza> = ambito::all(db).await?;
    let referenti_db: Vec<Referente> = referenti::list(db, None, false).await?;
    let ruoli_db: Vec<Ruolo> = privacy::current(db, None).await?;
    let pending: Vec<String> = on_db!(db, pool => {
        sqlx::query_scalar("SELECT e.codice FROM adesione a JOIN ente e ON e.id = a.ente_id WHERE a.esito IS NULL")
            .fetch_all(pool).await.db("cannot read adesione")?
    });
    let known =
        |code: &str| by_code.contains_key(code) || decl.iter().any(|d| d.anagrafica.codice == code);
    let capofila_db = entes.iter().find(|e| e.capofila);
    let capofila_after = capofila_db.is_some() || decl.iter().any(|d| d.capofila);

    let mut problems = Vec::new();
    let mut voci = Vec::new();
    let mut ops = Vec::new();
    for d in decl {
        let code = d.anagrafica.codice.clone();
        let mut voce = |oggetto: String, azione: &'static str, dettaglio: String| {
            voci.push(Voce {
                ente: code.clone(),
                oggetto,
                azione,
                dettaglio,
            });
        };
        if d.capofila
            && let Some(c) = capofila_db.filter(|c| c.codice != code)
        {
            problems.push(problem_at(
                &d.posizione,
                format!("{} is already the Capofila; there is only one", c.codice),
            ));
        }
        if let Some(a) = d.domanda.as_ref().and_then(|r| r.ambito.as_ref())
            && !known(a)
        {
            problems.push(problem_at(
                &d.posizione,
                format!("ambito {a} is neither recorded nor in the files"),
            ));
        }
        match by_code.get(code.as_str()) {
            None => {
                ops.push(Op::CreaEnte {
                    a: d.anagrafica.clone(),
                    capofila: d.capofila,
                });
                voce("ente".into(), "create", d.anagrafica.denominazione.clone());
                if let Some(r) = &d.domanda {
                    ops.push(Op::Domanda {
                        codice: code.clone(),
                        d: r.clone(),
                    });
                    voce(
                        "adesione".into(),
                        "create",
                        format!("richiesta ricevuta il {}", r.ricevuta_il),
                    );
                }
                match (&d.domanda, &d.atto) {
                    (Some(_), Some(atto)) => {
                        if !capofila_after {
                            problems.push(problem_at(&d.posizione, "no Capofila recorded or declared: only the Capofila approves a request".into()));
                        }
                        ops.push(Op::Approva {
                            codice: code.clone(),
                            atto: atto.clone(),
                        });
                        voce(
                            "approvazione".into(),
                            "create",
                            format!("atto {} del {}", atto.numero, atto.data),
                        );
                    }
                    (None, Some(atto)) => {
                        ops.push(Op::Atto {
                            codice: code.clone(),
                            atto: atto.clone(),
                        });
                        voce(
                            "approvazione".into(),
                            "create",
                            format!("atto {} del {}", atto.numero, atto.data),
                        );
                    }
                    _ => {}
                }
            }
            Some(old) => {
                // The reports and checks of an ambito go through its
                // memberships, past ones included: it keeps its kind.
                if old.tipo != d.anagrafica.tipo
                    && !matches!(d.anagrafica.tipo.as_str(), "ambito" | "comunita_montana")
                    && memberships.iter().any(|m| m.ambito == code)
                {
                    problems.push(problem_at(&d.posizione, format!(
                        "ente {code} has member comuni (see `siso ente show {code}`), so it cannot become '{}': \
                         its usage reports and deadlines go through them",
                        d.anagrafica.tipo
                    )));
                }
                let changes = diff_ente(&old.anagrafica(), &d.anagrafica, old.capofila, d.capofila);
                if changes.is_empty() {
                    voce("ente".into(), "unchanged", String::new());
                } else {
                    voce(
                        "ente".into(),
                        "update",
                        changes.keys().cloned().collect::<Vec<_>>().join(", "),
                    );
                    ops.push(Op::AggiornaEnte {
                        id: old.id,
                        a: d.anagrafica.clone(),
                        capofila: d.capofila,
                        changes: changes.into(),
                    });
                }
                if let Some(atto) = &d.atto {
                    let same = old.atto_numero.as_deref() == Some(atto.numero.as_str())
                        && old.atto_data == Some(atto.data);
                    match old.stato.as_str() {
                        "aderente" if same => voce("approvazione".into(), "unchanged", String::new()),
                        "aderente" => {
                            ops.push(Op::Atto { codice: code.clone(), atto: atto.clone() });
                            voce("approvazione".into(), "update", format!("atto {} del {}", atto.numero, atto.data));
                        }
                        "richiesta" if pending.contains(&code) => {
                            if !capofila_after {
                                problems.push(problem_at(&d.posizione, "no Capofila recorded or declared: only the Capofila approves a request".into()));
                            }
                            ops.push(Op::Approva { codice: code.clone(), atto: atto.clone() });
                            voce("approvazione".into(), "create", format!("atto {} del {}", atto.numero, atto.data));
                        }
                        other => problems.push(problem_at(&d.posizione, format!(
                            "ente {code} is '{other}': its request was already decided, it cannot be approved again"
                        ))),
                    }
                }
            }
        }
        for (istat, dal, al) in &d.comuni {
            let same = memberships
                .iter()
                .find(|m| m.ambito == code && &m.comune_istat == istat && m.valido_dal == *dal);
            let others: Vec<&Appartenenza> = memberships
                .iter()
                .filter(|m| &m.comune_istat == istat && same.is_none_or(|s| s.id != m.id))
                .filter(|m| overlaps(m.valido_dal, m.valido_al, *dal, *al))
                .filter(|m| !(m.ambito == code && same.is_none()) || m.valido_dal != *dal)
                .collect();
            if let Some(o) = others.first() {
                problems.push(problem_at(&d.posizione, format!(
                    "comune {istat} is already in ambito {} from {}{}: a comune is never in two ambiti on the same day",
                    o.ambito, o.valido_dal, o.valido_al.map(|a| format!(" to {a}")).unwrap_or_default()
                )));
                continue;
            }
            let oggetto = format!("comune {istat} dal {dal}");
            match same {
                Some(s) if s.valido_al == *al => voce(oggetto, "unchanged", String::new()),
                Some(s) => {
                    ops.push(Op::Appartenenza {
                        ambito: code.clone(),
                        istat: istat.clone(),
                        dal: *dal,
                        al: *al,
                        existing: Some(s.id),
                    });
                    voce(oggetto, "update", {
                        let day = |d: Option<Date>| {
                            d.map_or("none (open)".to_string(), |d| d.to_string())
                        };
                        format!("valido_al {} -> {}", day(s.valido_al), day(*al))
                    });
                }
                None => {
                    ops.push(Op::Appartenenza {
                        ambito: code.clone(),
                        istat: istat.clone(),
                        dal: *dal,
                        al: *al,
                        existing: None,
                    });
                    voce(
                        oggetto,
                        "create",
                        al.map(|a| format!("fino al {a}")).unwrap_or_default(),
                    );
                }
            }
        }
        for r in &d.referenti {
            let oggetto = format!("referente {} {}", r.ruolo, r.nominativo);
            let same = referenti_db
                .iter()
                .find(|x| x.ente == code && x.ruolo == r.ruolo && x.nominativo == r.nominativo);
            match same {
                Some(x)
                    if x.email == r.email
                        && x.telefono == r.telefono
                        && x.nominato_il == r.nominato_il
                        && x.comunicazione_rif == r.comunicazione_rif =>
                {
                    voce(oggetto, "unchanged", String::new())
                }
                Some(x) => {
                    ops.push(Op::Referente {
                        codice: code.clone(),
                        r: r.clone(),
                        existing: Some(x.id),
                    });
                    voce(oggetto, "update", String::new());
                }
                None => {
                    ops.push(Op::Referente {
                        codice: code.clone(),
                        r: r.clone(),
                        existing: None,
                    });
                    voce(oggetto, "create", format!("nominato il {}", r.nominato_il));
                }
            }
        }
        let existing: Vec<Ruolo> = ruoli_db
            .iter()
            .filter(|r| r.ente == code)
            .cloned()
            .collect();
        for (r, titolare) in &d.privacy {
            if let Some(t) = titolare
                && !known(t)
            {
                problems.push(problem_at(
                    &d.posizione,
                    format!("titolare {t} is neither recorded nor in the files"),
                ));
            }
            let effetto = privacy::effetto(&existing, r, titolare.as_deref());
            let oggetto = format!("privacy {} {}", r.ruolo, r.nominativo);
            let azione = match &effetto {
                Effetto::Unchanged => "unchanged",
                Effetto::Update(_) => "update",
                Effetto::Insert { .. } => "create",
            };
            voce(oggetto, azione, String::new());
            if effetto != Effetto::Unchanged {
                ops.push(Op::Privacy {
                    codice: code.clone(),
                    r: r.clone(),
                    titolare: titolare.clone(),
                    existing: existing.clone(),
                    effetto,
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(Plan { voci, ops })
    } else {
        Err(PlanError::Problems(problems))
    }
}

/// Why a plan could not be made.
#[derive(Debug)]
pub enum PlanError {
    Problems(Vec<Problema>),
    Other(Error),
}

impl From<Error> for PlanError {
    fn from(e: Error) -> Self {
        PlanError::Other(e)
    }
}

/// Applies the plan in one transaction with one audit entry per change;
/// `audit` is the template (operator, command) for every entry.
pub async fn apply(db: &Db, plan: &Plan, audit: &Entry) -> Result<()> {
    if plan.ops.is_empty() {
        return Ok(());
    }
    let entry = |codice: &str, azione: &str, dettaglio: serde_json::Value| Entry {
        ente_codice: Some(codice.to_string()),
        azione: azione.to_string(),
        dettaglio,
        ..audit.clone()
    };
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        // Checked once every ente and membership of the files is in place.
        let mut titolari: Vec<(&str, &str, Date)> = Vec::new();
        for op in &plan.ops {
            match op {
                Op::CreaEnte { a, capofila } => {
                    tx.insert_ente(a, *capofila).await?;
                    tx.append_audit(&entry(&a.codice, "ente_creato", serde_json::json!({
                        "ente": a.codice, "tipo": a.tipo, "denominazione": a.denominazione, "istat": a.istat,
                        "codice_fiscale": a.codice_fiscale, "pec": a.pec, "ats_codice": a.ats_codice, "capofila": capofila,
                    }))).await?;
                }
                Op::AggiornaEnte { id, a, capofila, changes } => {
                    tx.update_ente(*id, a, *capofila).await?;
                    tx.append_audit(&entry(&a.codice, "ente_aggiornato", changes.clone())).await?;
                }
                Op::Domanda { codice, d } => {
                    let id = need(tx.ente_id(codice).await?, codice)?;
                    let ambito_id = match &d.ambito {
                        Some(a) => Some(need(tx.ente_id(a).await?, a)?),
                        None => None,
                    };
                    let scadenza = deadlines::deadline(d.ricevuta_il, deadlines::DECISIONE_ADESIONE);
                    tx.insert_adesione(id, d, ambito_id, scadenza).await?;
                    tx.append_audit(&entry(codice, "adesione_richiesta", serde_json::json!({
                        "ente": codice, "ambito": d.ambito, "ricevuta_il": d.ricevuta_il.to_string(),
                        "protocollo": d.protocollo, "scadenza_decisione": scadenza.to_string(),
                    }))).await?;
                }
                Op::Approva { codice, atto } => {
                    let id = need(tx.ente_id(codice).await?, codice)?;
                    let Some((capofila_id, capofila_code)) = tx.capofila().await? else {
                        return Err(Error::Refused("no Ente Capofila is recorded: only the Capofila decides adhesions".into()));
                    };
                    if !tx.decide(id, &Esito::Approvata(atto.clone()), capofila_id).await? {
                        return Err(Error::Refused(format!("ente {codice} has no request awaiting a decision")));
                    }
                    tx.append_audit(&entry(codice, "adesione_approvata", serde_json::json!({
                        "ente": codice, "atto_numero": atto.numero, "atto_data": atto.data.to_string(), "capofila": capofila_code,
                    }))).await?;
                }
                Op::Atto { codice, atto } => {
                    let id = need(tx.ente_id(codice).await?, codice)?;
                    tx.set_aderente(id, atto).await?;
                    tx.append_audit(&entry(codice, "ente_aderente", serde_json::json!({
                        "ente": codice, "atto_numero": atto.numero, "atto_data": atto.data.to_string(),
                    }))).await?;
                }
                Op::Appartenenza { ambito: code, istat, dal, al, existing } => {
                    let ambito_id = need(tx.ente_id(code).await?, code)?;
                    match existing {
                        Some(id) => tx.set_membership_end(*id, *al).await?,
                        None => ambito::join(&mut tx, ambito_id, code, istat, *dal, *al).await?,
                    }
                    tx.append_audit(&entry(code, "appartenenza_ambito", serde_json::json!({
                        "ambito": code, "comune_istat": istat, "valido_dal": dal.to_string(), "valido_al": al.map(|d| d.to_string()),
                    }))).await?;
                }
                Op::Referente { codice, r, existing } => {
                    let id = need(tx.ente_id(codice).await?, codice)?;
                    match existing {
                        Some(x) => tx.update_referente(*x, r).await?,
                        None => tx.insert_referente(id, r).await?,
                    }
                    tx.append_audit(&entry(codice, if existing.is_some() { "referente_aggiornato" } else { "referente_nominato" }, serde_json::json!({
                        "ente": codice, "ruolo": r.ruolo, "nominato_il": r.nominato_il.to_string(), "comunicazione_rif": r.comunicazione_rif,
                    }))).await?;
                }
                Op::Privacy { codice, r, titolare, existing, effetto } => {
                    let id = need(tx.ente_id(codice).await?, codice)?;
                    let mut r = r.clone();
                    if let Some(t) = titolare {
                        r.titolare_ente_id = Some(need(tx.ente_id(t).await?, t)?);
                        titolari.push((codice, t, r.comunicato_il));
                    }
                    privacy::apply(&mut tx, id, existing, &r, effetto).await?;
                    tx.append_audit(&entry(codice, "ruolo_privacy", serde_json::json!({
                        "ente": codice, "ruolo": r.ruolo, "titolare": titolare, "comunicato_il": r.comunicato_il.to_string(),
                    }))).await?;
                }
            }
        }
        for (ente, titolare, day) in titolari {
            tx.check_titolare(ente, titolare, day).await?;
        }
        tx.commit().await.db("cannot commit the onboarding")?;
    });
    Ok(())
}

fn need(id: Option<i64>, codice: &str) -> Result<i64> {
    id.ok_or_else(|| Error::Refused(format!("ente {codice} is not recorded")))
}
