//! Where withdrawals stand on a given day, and the check other parts of siso
//! (imports) make before adding data for an ente.

use sqlx::Row as _;
use time::Date;

use super::{Recesso, normalise_codice};
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;
use crate::store::Db;

/// The state of one withdrawal on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatoRecesso {
    /// Received, not yet accepted by the Capofila's act.
    Pending,
    /// Accepted; the ente is a signatory until the effective date included.
    Accepted,
    /// Accepted and past its effective date: the ente has withdrawn.
    Effective,
}

/// One line of `siso recesso status`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Voce {
    pub ente: String,
    pub denominazione: String,
    pub ricevuto_il: Date,
    pub protocollo: String,
    pub efficace_il: Date,
    pub stato: StatoRecesso,
    /// Days from the as-of date to the effective date; 0 on it, negative after.
    pub giorni_mancanti: i64,
    pub atto: Option<String>,
    pub atto_data: Option<Date>,
}

const SELECT_RECESSO: &str = "SELECT r.id, e.codice, e.denominazione, r.ricevuto_il, r.protocollo, \
    r.efficace_il, r.atto_numero, r.atto_data FROM recesso r JOIN ente e ON e.id = r.ente_id";

/// Reads a row of [`SELECT_RECESSO`]; a macro because each backend has its
/// own row type.
macro_rules! recesso_from_row {
    ($row:expr) => {{
        let row = $row;
        Recesso {
            id: row.try_get(0).db("recesso.id")?,
            ente: row.try_get(1).db("ente.codice")?,
            denominazione: row.try_get(2).db("ente.denominazione")?,
            ricevuto_il: row.try_get(3).db("recesso.ricevuto_il")?,
            protocollo: row.try_get(4).db("recesso.protocollo")?,
            efficace_il: row.try_get(5).db("recesso.efficace_il")?,
            atto_numero: row.try_get(6).db("recesso.atto_numero")?,
            atto_data: row.try_get(7).db("recesso.atto_data")?,
        }
    }};
}

/// Every recorded withdrawal as it stands on `as_of`, soonest effective
/// first; with `ambito`, only that ambito itself and the comuni that belong
/// to it on `as_of`. Refuses an unknown ambito code.
pub async fn status(db: &Db, ambito: Option<&str>, as_of: Date) -> Result<Vec<Voce>> {
    let ambito = ambito.map(normalise_codice);
    on_db!(db, pool => {
        if let Some(code) = &ambito {
            let tipo: Option<String> = sqlx::query_scalar("SELECT tipo FROM ente WHERE codice = $1")
                .bind(code)
                .fetch_optional(pool)
                .await
                .db("cannot read the ambito")?;
            match tipo.as_deref() {
                Some("ambito") => {}
                Some(other) => {
                    return Err(Error::Refused(format!(
                        "ente {code} is a {other}, not an ambito: give an ambito's code (see `siso ente list`)"
                    )))
                }
                None => {
                    return Err(Error::Refused(format!(
                        "no ambito with code {code}: run `siso ente list` to see the codes"
                    )))
                }
            }
        }
        let sql = format!(
            "{SELECT_RECESSO} WHERE $1 IS NULL OR e.codice = $1 OR e.istat IN ( \
                 SELECT aa.comune_istat FROM appartenenza_ambito aa JOIN ente amb ON amb.id = aa.ambito_id \
                 WHERE amb.codice = $1 AND aa.valido_dal <= $2 AND (aa.valido_al IS NULL OR aa.valido_al >= $2)) \
             ORDER BY r.efficace_il, e.codice, r.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&ambito)
            .bind(as_of)
            .fetch_all(pool)
            .await
            .db("cannot read the withdrawals")?;
        let mut out = Vec::new();
        for row in &rows {
            let r = recesso_from_row!(row);
            // Not yet received on as_of: not there yet.
            if r.ricevuto_il > as_of {
                continue;
            }
            let stato = r.stato(as_of);
            let (atto, atto_data) = match stato {
                StatoRecesso::Pending => (None, None),
                _ => (r.atto_numero.clone(), r.atto_data),
            };
            out.push(Voce {
                stato,
                giorni_mancanti: r.giorni_mancanti(as_of),
                ente: r.ente,
                denominazione: r.denominazione,
                ricevuto_il: r.ricevuto_il,
                protocollo: r.protocollo,
                efficace_il: r.efficace_il,
                atto,
                atto_data,
            });
        }
        Ok(out)
    })
}

/// The accepted withdrawal by which `ente_codice` is out of the protocol on
/// `date` (its effective date is before `date`), if any. A withdrawal
/// followed by a new signing no longer counts. Refuses an unknown ente.
pub async fn withdrawn_on(db: &Db, ente_codice: &str, date: Date) -> Result<Option<Recesso>> {
    let codice = normalise_codice(ente_codice);
    on_db!(db, pool => {
        let known: Option<i64> = sqlx::query_scalar("SELECT id FROM ente WHERE codice = $1")
            .bind(&codice)
            .fetch_optional(pool)
            .await
            .db("cannot read the ente")?;
        if known.is_none() {
            return Err(Error::Refused(format!(
                "no ente with code {codice}: run `siso ente list` to see the codes"
            )));
        }
        let sql = format!(
            "{SELECT_RECESSO} WHERE e.codice = $1 AND r.atto_numero IS NOT NULL AND r.efficace_il < $2 \
               AND (e.sottoscritto_il IS NULL OR r.efficace_il >= e.sottoscritto_il) \
             ORDER BY r.efficace_il DESC, r.id DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&codice)
            .bind(date)
            .fetch_optional(pool)
            .await
            .db("cannot read the ente's withdrawals")?;
        Ok(match row {
            Some(row) => Some(recesso_from_row!(&row)),
            None => None,
        })
    })
}

/// Refuses (exit 1) to add data for an ente that has withdrawn by `today`,
/// by an accepted withdrawal past its effective date or by a stored state
/// 'receduto'. Its existing data stays: the titolare decides its fate.
/// Importers call this before writing anything for the ente.
pub async fn ensure_not_withdrawn(db: &Db, ente_codice: &str, today: Date) -> Result<()> {
    let codice = normalise_codice(ente_codice);
    if let Some(r) = withdrawn_on(db, &codice, today).await? {
        return Err(Error::Refused(format!(
            "ente {codice} withdrew on {} (recesso accepted by act {}): new imports are refused; \
             its data stays until the titolare decides (siso handback)",
            r.efficace_il,
            r.atto_numero.as_deref().unwrap_or("?")
        )));
    }
    let stato: Option<String> = on_db!(db, pool => sqlx::query_scalar("SELECT stato FROM ente WHERE codice = $1")
        .bind(&codice)
        .fetch_optional(pool)
        .await
        .db("cannot read the ente")?);
    if stato.as_deref() == Some("receduto") {
        return Err(Error::Refused(format!(
            "ente {codice} is recorded as withdrawn ('receduto'): new imports are refused; \
             its data stays until the titolare decides (siso handback)"
        )));
    }
    Ok(())
}
