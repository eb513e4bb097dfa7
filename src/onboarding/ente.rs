//! Entes and their Art. 7 adhesion: the written request, the Capofila's
//! decision (approval with act number and date, or rejection with a reason),
//! and the views `siso ente list` / `show` print.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row as _;
use time::Date;

use super::deadlines::{self, COMUNICAZIONE_PRIVACY, DECISIONE_ADESIONE, NOMINA_REFERENTI};
use super::tx::{Domanda, Esito, OnboardingWrite as _};
use super::{Anagrafica, Atto, validate};
use crate::audit::{AuditWrite as _, Entry};
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;
use crate::store::{BeginWrite as _, Db};

/// An ente as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EnteRow {
    pub id: i64,
    pub codice: String,
    pub tipo: String,
    pub denominazione: String,
    pub istat: Option<String>,
    pub belfiore: Option<String>,
    pub codice_fiscale: Option<String>,
    pub pec: Option<String>,
    pub ats_codice: Option<String>,
    pub capofila: bool,
    pub stato: String,
    pub sottoscritto_il: Option<Date>,
    pub atto_numero: Option<String>,
    pub atto_data: Option<Date>,
}

impl EnteRow {
    pub fn anagrafica(&self) -> Anagrafica {
        Anagrafica {
            codice: self.codice.clone(),
            tipo: self.tipo.clone(),
            denominazione: self.denominazione.clone(),
            istat: self.istat.clone(),
            belfiore: self.belfiore.clone(),
            codice_fiscale: self.codice_fiscale.clone(),
            pec: self.pec.clone(),
            ats_codice: self.ats_codice.clone(),
        }
    }
}

const ENTE_COLUMNS: &str = "id, codice, tipo, denominazione, istat, belfiore, codice_fiscale, pec, ats_codice, \
     capofila, stato, sottoscritto_il, atto_numero, atto_data";

/// Every ente, by code.
pub async fn all(db: &Db) -> Result<Vec<EnteRow>> {
    on_db!(db, pool => {
        sqlx::query_as::<_, EnteRow>(sqlx::AssertSqlSafe(format!("SELECT {ENTE_COLUMNS} FROM ente ORDER BY codice")))
            .fetch_all(pool)
            .await
            .db("cannot read ente")
    })
}

/// One ente by code, or a refusal naming the code.
pub async fn get(db: &Db, codice: &str) -> Result<EnteRow> {
    let codice = codice.trim().to_uppercase();
    all(db)
        .await?
        .into_iter()
        .find(|e| e.codice == codice)
        .ok_or_else(|| {
            Error::Refused(format!(
                "no ente with code {codice}: see `siso ente list` for the codes"
            ))
        })
}

/// The ambito (or comunità montana: both have member comuni, see `ente
/// join`) with this code: a filter such as `--ambito` with a mistyped code
/// is refused, never an empty list that a scheduled check reads as
/// "nothing to do".
pub async fn get_ambito(db: &Db, codice: &str) -> Result<EnteRow> {
    let e = get(db, codice).await?;
    if !matches!(e.tipo.as_str(), "ambito" | "comunita_montana") {
        return Err(Error::Refused(format!(
            "{} is a {}, not an ambito: see `siso ente list` for the codes",
            e.codice, e.tipo
        )));
    }
    Ok(e)
}

/// Records a written adhesion request (Art. 7); returns the decision deadline.
pub async fn request(db: &Db, mut a: Anagrafica, d: Domanda, audit: Entry) -> Result<Date> {
    let problems = validate::anagrafica(&mut a, d.ricevuta_il);
    let mut problems = problems;
    if d.protocollo.trim().is_empty() {
        problems.push("the protocol number of the request is empty".into());
    }
    if d.rappresentante_legale.trim().is_empty() {
        problems.push("the legal representative is empty".into());
    }
    if !problems.is_empty() {
        return Err(Error::Input(format!(
            "the request for {} is not valid:\n  - {}",
            a.codice,
            problems.join("\n  - ")
        )));
    }
    let scadenza = deadlines::deadline(d.ricevuta_il, DECISIONE_ADESIONE);
    let mut audit = audit;
    audit.dettaglio = serde_json::json!({
        "ente": a.codice, "tipo": a.tipo, "ambito": d.ambito,
        "ricevuta_il": d.ricevuta_il.to_string(), "protocollo": d.protocollo,
        "scadenza_decisione": scadenza.to_string(),
    });
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        if tx.ente_id(&a.codice).await?.is_some() {
            return Err(Error::Refused(format!(
                "ente {} is already recorded: see `siso ente show {}`",
                a.codice, a.codice
            )));
        }
        let ambito_id = match &d.ambito {
            None => None,
            Some(code) => Some(tx.ente_id(code).await?.ok_or_else(|| {
                Error::Refused(format!("ambito {code} is not recorded: onboard it first"))
            })?),
        };
        let id = tx.insert_ente(&a, false).await?;
        tx.insert_adesione(id, &d, ambito_id, scadenza).await?;
        tx.append_audit(&audit).await?;
        tx.commit().await.db("cannot commit the request")?;
    });
    Ok(scadenza)
}

/// The Capofila decides a pending request, once.
pub async fn decide(db: &Db, codice: &str, esito: Esito, audit: Entry) -> Result<()> {
    let codice = codice.trim().to_uppercase();
    if let Esito::Approvata(atto) = &esito
        && atto.numero.trim().is_empty()
    {
        return Err(Error::Usage("the act number (--act) is empty".into()));
    }
    if let Esito::Respinta { motivo } = &esito
        && motivo.trim().is_empty()
    {
        return Err(Error::Usage("the reason (--reason) is empty".into()));
    }
    let ente = get(db, &codice).await?;
    let pending = pending_request(db, ente.id).await?;
    let Some((ricevuta_il, _)) = pending else {
        return Err(Error::Refused(format!(
            "ente {codice} has no request awaiting a decision (state: {}); a request is decided once",
            ente.stato
        )));
    };
    if let Esito::Approvata(atto) = &esito
        && atto.data < ricevuta_il
    {
        return Err(Error::Usage(format!(
            "the act date {} is before the request was received ({ricevuta_il})",
            atto.data
        )));
    }
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let Some((capofila_id, capofila_code)) = tx.capofila().await? else {
            return Err(Error::Refused(
                "no Ente Capofila is recorded: only the Capofila decides adhesions; onboard it first (capofila = true)".into(),
            ));
        };
        let mut audit = audit.clone();
        audit.dettaglio = match &esito {
            Esito::Approvata(a) => serde_json::json!({
                "ente": codice, "esito": "approvata", "atto_numero": a.numero,
                "atto_data": a.data.to_string(), "capofila": capofila_code,
                "stato": {"prima": ente.stato, "dopo": "aderente"},
            }),
            Esito::Respinta { .. } => serde_json::json!({
                "ente": codice, "esito": "respinta", "capofila": capofila_code,
                "stato": {"prima": ente.stato, "dopo": "respinta"},
            }),
        };
        if !tx.decide(ente.id, &esito, capofila_id).await? {
            return Err(Error::Refused(format!("the request of {codice} was decided meanwhile")));
        }
        tx.append_audit(&audit).await?;
        tx.commit().await.db("cannot commit the decision")?;
    });
    Ok(())
}

/// The pending request of an ente: (received, deadline).
async fn pending_request(db: &Db, ente_id: i64) -> Result<Option<(Date, Date)>> {
    on_db!(db, pool => {
        sqlx::query_as("SELECT ricevuta_il, scadenza_decisione FROM adesione WHERE ente_id = $1 AND esito IS NULL")
            .bind(ente_id)
            .fetch_optional(pool)
            .await
            .db("cannot read adesione")
    })
}

/// What `siso ente list` prints for each ente.
#[derive(Debug, Clone, Serialize)]
pub struct Vista {
    pub codice: String,
    pub tipo: String,
    pub denominazione: String,
    pub stato: String,
    pub capofila: bool,
    pub ambito: Option<String>,
    pub ricevuta_il: Option<Date>,
    pub scadenza_decisione: Option<Date>,
    pub sottoscritto_il: Option<Date>,
    pub atto: Option<String>,
    pub scadenza_referenti: Option<Date>,
    pub scadenza_privacy: Option<Date>,
    pub comuni: String,
    pub referenti: String,
    pub privacy: String,
}

/// Filters of `siso ente list`.
#[derive(Debug, Clone, Default)]
pub struct Filtro {
    pub stato: Option<String>,
    pub ambito: Option<String>,
}

/// The entes with their state, dates, deadlines, comuni, referents and
/// privacy roles, as of `today` (current memberships, referents and roles).
pub async fn list(db: &Db, filtro: &Filtro, today: Date) -> Result<Vec<Vista>> {
    let entes = all(db).await?;
    let codes: BTreeMap<i64, String> = entes.iter().map(|e| (e.id, e.codice.clone())).collect();
    let (adesioni, membri, referenti, ruoli) = on_db!(db, pool => {
        let adesioni = sqlx::query(
            "SELECT ente_id, ambito_id, ricevuta_il, scadenza_decisione, esito FROM adesione ORDER BY ricevuta_il, id",
        )
        .fetch_all(pool).await.db("cannot read adesione")?
        .iter()
        .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<Option<i64>, _>(1)?, r.try_get::<Date, _>(2)?, r.try_get::<Date, _>(3)?, r.try_get::<Option<String>, _>(4)?)))
        .collect::<std::result::Result<Vec<_>, sqlx::Error>>().db("adesione")?;
        let membri: Vec<(i64, String)> = sqlx::query_as(
            "SELECT ambito_id, comune_istat FROM appartenenza_ambito WHERE valido_dal <= $1 AND (valido_al IS NULL OR valido_al >= $1) ORDER BY comune_istat",
        )
        .bind(today)
        .fetch_all(pool).await.db("cannot read appartenenza_ambito")?;
        let referenti: Vec<(i64, String)> = sqlx::query_as(
            "SELECT ente_id, ruolo FROM referente WHERE revocato_il IS NULL OR revocato_il >= $1",
        )
        .bind(today)
        .fetch_all(pool).await.db("cannot read referente")?;
        let ruoli: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT ente_id, ruolo, titolare_ente_id FROM ruolo_privacy WHERE valido_al IS NULL OR valido_al >= $1 ORDER BY id",
        )
        .bind(today)
        .fetch_all(pool).await.db("cannot read ruolo_privacy")?;
        (adesioni, membri, referenti, ruoli)
    });
    let mut out = Vec::new();
    for e in entes {
        let last = adesioni.iter().rev().find(|a| a.0 == e.id);
        let ambito = last
            .and_then(|a| a.1)
            .and_then(|id| codes.get(&id).cloned())
            .or_else(|| {
                e.istat.as_ref().and_then(|istat| {
                    membri
                        .iter()
                        .find(|m| &m.1 == istat)
                        .and_then(|m| codes.get(&m.0).cloned())
                })
            });
        let comuni: Vec<&str> = membri
            .iter()
            .filter(|m| m.0 == e.id)
            .map(|m| m.1.as_str())
            .collect();
        if let Some(s) = &filtro.stato
            && &e.stato != s
        {
            continue;
        }
        if let Some(a) = &filtro.ambito
            && e.codice != *a
            && ambito.as_deref() != Some(a.as_str())
        {
            continue;
        }
        let count = |ruolo: &str| {
            referenti
                .iter()
                .filter(|r| r.0 == e.id && r.1 == ruolo)
                .count()
        };
        let mut privacy = Vec::new();
        for (_, ruolo, titolare) in ruoli.iter().filter(|r| r.0 == e.id) {
            match (ruolo.as_str(), titolare) {
                ("titolare", Some(t)) => privacy.push(format!(
                    "titolare {}",
                    codes.get(t).cloned().unwrap_or_default()
                )),
                (r, _) => privacy.push(r.to_string()),
            }
        }
        let pending = last.filter(|a| a.4.is_none());
        out.push(Vista {
            ambito,
            ricevuta_il: last.map(|a| a.2),
            scadenza_decisione: pending.map(|a| a.3),
            scadenza_referenti: e
                .sottoscritto_il
                .map(|d| deadlines::deadline(d, NOMINA_REFERENTI)),
            scadenza_privacy: e
                .sottoscritto_il
                .map(|d| deadlines::deadline(d, COMUNICAZIONE_PRIVACY)),
            atto: e.atto_numero.as_ref().map(|n| match e.atto_data {
                Some(d) => format!("{n} del {d}"),
                None => n.clone(),
            }),
            comuni: comuni.join(" "),
            referenti: format!(
                "politico {}, tecnico {}, tavolo {}",
                count("cabina_politico"),
                count("cabina_tecnico"),
                count("tavolo_operativo")
            ),
            privacy: privacy.join(", "),
            codice: e.codice,
            tipo: e.tipo,
            denominazione: e.denominazione,
            stato: e.stato,
            capofila: e.capofila,
            sottoscritto_il: e.sottoscritto_il,
        });
    }
    Ok(out)
}

/// Turns an [`Atto`] from parts given on the command line.
pub fn atto(numero: &str, data: Date) -> Atto {
    Atto {
        numero: numero.trim().to_string(),
        data,
    }
}
