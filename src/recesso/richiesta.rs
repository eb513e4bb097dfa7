//! Recording a withdrawal (the formal communication received by the Capofila)
//! and its acceptance (the Capofila's act), each with its audit entry in the
//! same transaction.

use sqlx::Row as _;
use time::Date;

use super::{PEC_MISSING, Recesso, effective_date, normalise_codice, with_facts};
use crate::audit::{AuditWrite as _, Entry};
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;
use crate::store::{BeginWrite as _, Db};

/// What `request` recorded.
#[derive(Debug, Clone)]
pub struct Richiesta {
    pub recesso: Recesso,
    /// The withdrawing ente is the Capofila itself: the protocol does not
    /// forbid it, but someone else will have to receive withdrawals.
    pub capofila: bool,
}

/// A signatory to inform of an accepted withdrawal (Art. 9).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Firmatario {
    pub ente: String,
    pub denominazione: String,
    pub pec: Option<String>,
    pub nota: Option<&'static str>,
}

/// What `accept` recorded, and whom to tell.
#[derive(Debug, Clone)]
pub struct Accettazione {
    pub recesso: Recesso,
    pub capofila: bool,
    /// The effective date was already past, so `ente.stato` became 'receduto'.
    pub receduto_ora: bool,
    /// Every other approved signatory not already withdrawn, by code.
    pub da_informare: Vec<Firmatario>,
}

/// The ente row both operations start from.
struct Ente {
    id: i64,
    codice: String,
    denominazione: String,
    stato: String,
    capofila: bool,
    sottoscritto_il: Option<Date>,
}

fn unknown_ente(codice: &str) -> Error {
    Error::Refused(format!(
        "no ente with code {codice}: run `siso ente list` to see the codes"
    ))
}

fn not_in_future(what: &str, date: Date, today: Date) -> Result<()> {
    if date > today {
        return Err(Error::Refused(format!(
            "the {what} {date} is in the future (today is {today}): record it once it has happened"
        )));
    }
    Ok(())
}

fn required(what: &str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::Usage(format!(
            "the {what} is empty: give its number"
        )));
    }
    Ok(value.to_string())
}

/// Whether an accepted withdrawal still binds the ente: not when the ente
/// signed again after it took effect (a new adhesion).
fn still_binding(efficace_il: Date, sottoscritto_il: Option<Date>) -> bool {
    sottoscritto_il.is_none_or(|s| s <= efficace_il)
}

/// Records the formal communication of withdrawal of `ente_codice`, received
/// on `received` with the Capofila's protocol number `protocol`, and computes
/// its effective date. Refuses an unknown ente, an ente that is not an
/// approved signatory, a date in the future or before the ente signed, and
/// a second request while one is open or accepted.
pub async fn request(
    db: &Db,
    ente_codice: &str,
    received: Date,
    protocol: &str,
    today: Date,
    audit: &Entry,
) -> Result<Richiesta> {
    let codice = normalise_codice(ente_codice);
    let protocol = required("protocol number", protocol)?;
    not_in_future("date of receipt", received, today)?;
    let efficace_il = effective_date(received);
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        // Touching the row first locks it on PostgreSQL, so two requests for
        // the same ente cannot both pass the checks below (SQLite's BEGIN
        // IMMEDIATE already serialises writers).
        let touched = sqlx::query("UPDATE ente SET aggiornato_il = $2 WHERE codice = $1")
            .bind(&codice)
            .bind(crate::now_utc())
            .execute(&mut *tx)
            .await
            .db("cannot lock the ente")?;
        if touched.rows_affected() == 0 {
            return Err(unknown_ente(&codice));
        }
        let row = sqlx::query(
            "SELECT id, codice, denominazione, stato, capofila, sottoscritto_il FROM ente WHERE codice = $1",
        )
        .bind(&codice)
        .fetch_one(&mut *tx)
        .await
        .db("cannot read the ente")?;
        let ente = Ente {
            id: row.try_get(0).db("ente.id")?,
            codice: row.try_get(1).db("ente.codice")?,
            denominazione: row.try_get(2).db("ente.denominazione")?,
            stato: row.try_get(3).db("ente.stato")?,
            capofila: row.try_get(4).db("ente.capofila")?,
            sottoscritto_il: row.try_get(5).db("ente.sottoscritto_il")?,
        };
        if ente.stato == "receduto" {
            return Err(Error::Refused(format!(
                "ente {} has already withdrawn (its state is 'receduto'): see `siso recesso status`",
                ente.codice
            )));
        }
        if ente.stato != "aderente" {
            return Err(Error::Refused(format!(
                "ente {} is not an approved signatory (its state is '{}'): only an 'aderente' can withdraw",
                ente.codice, ente.stato
            )));
        }
        if let Some(signed) = ente.sottoscritto_il.filter(|s| received < *s) {
            return Err(Error::Refused(format!(
                "ente {} signed on {signed}: a withdrawal cannot be received before that ({received}); check the date",
                ente.codice
            )));
        }
        let previous = sqlx::query(
            "SELECT ricevuto_il, protocollo, efficace_il, atto_numero FROM recesso WHERE ente_id = $1 ORDER BY id",
        )
        .bind(ente.id)
        .fetch_all(&mut *tx)
        .await
        .db("cannot read the ente's withdrawals")?;
        for p in &previous {
            let ricevuto: Date = p.try_get(0).db("recesso.ricevuto_il")?;
            let prot: String = p.try_get(1).db("recesso.protocollo")?;
            let efficace: Date = p.try_get(2).db("recesso.efficace_il")?;
            let atto: Option<String> = p.try_get(3).db("recesso.atto_numero")?;
            match atto {
                None => {
                    return Err(Error::Refused(format!(
                        "ente {} already has an open withdrawal request (received {ricevuto}, protocol {prot}): \
                         accept it with `siso recesso accept {} --act N --date D`",
                        ente.codice, ente.codice
                    )))
                }
                Some(atto) if still_binding(efficace, ente.sottoscritto_il) => {
                    return Err(Error::Refused(format!(
                        "ente {} is already withdrawing (accepted by act {atto}, effective {efficace}): \
                         see `siso recesso status`",
                        ente.codice
                    )))
                }
                Some(_) => {}
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO recesso (ente_id, ricevuto_il, protocollo, efficace_il) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(ente.id)
        .bind(received)
        .bind(&protocol)
        .bind(efficace_il)
        .fetch_one(&mut *tx)
        .await
        .db("cannot record the withdrawal")?;
        tx.append_audit(&with_facts(
            audit,
            serde_json::json!({
                "ricevuto_il": received.to_string(),
                "protocollo": protocol,
                "efficace_il": efficace_il.to_string(),
                "capofila": ente.capofila,
            }),
        ))
        .await?;
        tx.commit().await.db("cannot commit the withdrawal")?;
        Ok(Richiesta {
            recesso: Recesso {
                id,
                ente: ente.codice,
                denominazione: ente.denominazione,
                ricevuto_il: received,
                protocollo: protocol,
                efficace_il,
                atto_numero: None,
                atto_data: None,
            },
            capofila: ente.capofila,
        })
    })
}

/// Records the Capofila's act `act` of `act_date` accepting the open
/// withdrawal of `ente_codice`, and lists the other signatories to inform.
/// Sets `ente.stato` to 'receduto' only if the effective date is already
/// before `today` (see the module doc). Refuses an unknown ente, an ente
/// without an open request, an act dated before the request was received or
/// in the future.
pub async fn accept(
    db: &Db,
    ente_codice: &str,
    act: &str,
    act_date: Date,
    today: Date,
    audit: &Entry,
) -> Result<Accettazione> {
    let codice = normalise_codice(ente_codice);
    let act = required("act number", act)?;
    not_in_future("act date", act_date, today)?;
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let touched = sqlx::query("UPDATE ente SET aggiornato_il = $2 WHERE codice = $1")
            .bind(&codice)
            .bind(crate::now_utc())
            .execute(&mut *tx)
            .await
            .db("cannot lock the ente")?;
        if touched.rows_affected() == 0 {
            return Err(unknown_ente(&codice));
        }
        let row = sqlx::query(
            "SELECT e.id, e.codice, e.denominazione, e.capofila, e.sottoscritto_il, \
                    r.id, r.ricevuto_il, r.protocollo, r.efficace_il, r.atto_numero, r.atto_data \
             FROM ente e LEFT JOIN recesso r ON r.ente_id = e.id \
             WHERE e.codice = $1 ORDER BY r.id DESC LIMIT 1",
        )
        .bind(&codice)
        .fetch_one(&mut *tx)
        .await
        .db("cannot read the withdrawal")?;
        let ente_id: i64 = row.try_get(0).db("ente.id")?;
        let capofila: bool = row.try_get(3).db("ente.capofila")?;
        let sottoscritto_il: Option<Date> = row.try_get(4).db("ente.sottoscritto_il")?;
        let recesso_id: Option<i64> = row.try_get(5).db("recesso.id")?;
        let no_request = || {
            Error::Refused(format!(
                "ente {codice} has no open withdrawal request: record it first with \
                 `siso recesso request {codice} --received DATE --protocol N`"
            ))
        };
        let Some(recesso_id) = recesso_id else {
            return Err(no_request());
        };
        let mut recesso = Recesso {
            id: recesso_id,
            ente: row.try_get(1).db("ente.codice")?,
            denominazione: row.try_get(2).db("ente.denominazione")?,
            ricevuto_il: row.try_get(6).db("recesso.ricevuto_il")?,
            protocollo: row.try_get(7).db("recesso.protocollo")?,
            efficace_il: row.try_get(8).db("recesso.efficace_il")?,
            atto_numero: row.try_get(9).db("recesso.atto_numero")?,
            atto_data: row.try_get(10).db("recesso.atto_data")?,
        };
        if let Some(previous) = &recesso.atto_numero {
            if !still_binding(recesso.efficace_il, sottoscritto_il) {
                return Err(no_request());
            }
            return Err(Error::Refused(format!(
                "the withdrawal of ente {codice} (protocol {}) was already accepted by act {previous}{}; \
                 effective {}",
                recesso.protocollo,
                recesso.atto_data.map(|d| format!(" of {d}")).unwrap_or_default(),
                recesso.efficace_il
            )));
        }
        if act_date < recesso.ricevuto_il {
            return Err(Error::Refused(format!(
                "the act date {act_date} is before the withdrawal of ente {codice} was received ({}): \
                 check the date",
                recesso.ricevuto_il
            )));
        }
        let accepted = sqlx::query(
            "UPDATE recesso SET atto_numero = $1, atto_data = $2, accettato_il = $3 \
             WHERE id = $4 AND atto_numero IS NULL",
        )
        .bind(&act)
        .bind(act_date)
        .bind(crate::now_utc())
        .bind(recesso_id)
        .execute(&mut *tx)
        .await
        .db("cannot record the acceptance")?;
        if accepted.rows_affected() != 1 {
            return Err(Error::Refused(format!(
                "the withdrawal of ente {codice} was accepted by someone else meanwhile: see `siso recesso status`"
            )));
        }
        recesso.atto_numero = Some(act.clone());
        recesso.atto_data = Some(act_date);
        let receduto_ora = recesso.efficace_il < today;
        if receduto_ora {
            sqlx::query("UPDATE ente SET stato = 'receduto' WHERE id = $1")
                .bind(ente_id)
                .execute(&mut *tx)
                .await
                .db("cannot mark the ente as withdrawn")?;
        }
        // Signatories today: approved, and not already out by a withdrawal
        // that took effect and was not followed by a new signing.
        let others = sqlx::query(
            "SELECT e.codice, e.denominazione, e.pec FROM ente e \
             WHERE e.stato = 'aderente' AND e.id <> $1 \
               AND NOT EXISTS (SELECT 1 FROM recesso r WHERE r.ente_id = e.id AND r.atto_numero IS NOT NULL \
                               AND r.efficace_il < $2 AND r.efficace_il >= e.sottoscritto_il) \
             ORDER BY e.codice",
        )
        .bind(ente_id)
        .bind(today)
        .fetch_all(&mut *tx)
        .await
        .db("cannot list the signatories")?;
        let da_informare = others
            .iter()
            .map(|r| {
                let pec: Option<String> = r.try_get(2).db("ente.pec")?;
                let pec = pec.filter(|p| !p.trim().is_empty());
                Ok(Firmatario {
                    ente: r.try_get(0).db("ente.codice")?,
                    denominazione: r.try_get(1).db("ente.denominazione")?,
                    nota: pec.is_none().then_some(PEC_MISSING),
                    pec,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        tx.append_audit(&with_facts(
            audit,
            serde_json::json!({
                "atto_numero": act,
                "atto_data": act_date.to_string(),
                "ricevuto_il": recesso.ricevuto_il.to_string(),
                "protocollo": recesso.protocollo,
                "efficace_il": recesso.efficace_il.to_string(),
                "stato_receduto": receduto_ora,
                "firmatari_da_informare": da_informare.len(),
            }),
        ))
        .await?;
        tx.commit().await.db("cannot commit the acceptance")?;
        Ok(Accettazione {
            recesso,
            capofila,
            receduto_ora,
            da_informare,
        })
    })
}
