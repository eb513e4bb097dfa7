//! The writes of onboarding, written once for both backends (like the audit
//! log's): each runs inside the caller's transaction, so a command or an
//! onboarding file and its audit entries land together or not at all.

use std::future::Future;

use time::Date;

use super::{Anagrafica, Atto};
use crate::error::{DbContext as _, Error, Result};

/// An Art. 7 request as received by the Capofila.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Domanda {
    pub ricevuta_il: Date,
    pub protocollo: String,
    pub rappresentante_legale: String,
    /// Code of the ambito the ente belongs to, if any.
    pub ambito: Option<String>,
}

/// The Capofila's decision on a pending request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Esito {
    Approvata(Atto),
    Respinta { motivo: String },
}

/// A privacy role row to insert (Art. 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuovoRuolo {
    pub ruolo: String,
    pub titolare_ente_id: Option<i64>,
    pub nominativo: String,
    pub contatto: Option<String>,
    pub comunicato_il: Date,
}

/// A referent row to insert (Art. 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuovoReferente {
    pub ruolo: String,
    pub nominativo: String,
    pub email: Option<String>,
    pub telefono: Option<String>,
    pub nominato_il: Date,
    pub comunicazione_rif: String,
}

pub trait OnboardingWrite {
    fn ente_id(&mut self, codice: &str) -> impl Future<Output = Result<Option<i64>>> + Send;
    /// The ente's state (richiesta, aderente, respinta, receduto).
    fn ente_stato(&mut self, codice: &str) -> impl Future<Output = Result<Option<String>>> + Send;
    /// Refuses a titolare (Art. 10) that is neither the ente itself nor an
    /// ambito (or comunità montana) whose member the ente (a comune) is on
    /// `day` or after: an
    /// import for the ente writes into its titolare's records, so any other
    /// ente named there would mix two controllers' data.
    fn check_titolare(
        &mut self,
        ente: &str,
        titolare: &str,
        day: Date,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The Capofila's id and code, if one is recorded.
    fn capofila(&mut self) -> impl Future<Output = Result<Option<(i64, String)>>> + Send;
    fn insert_ente(
        &mut self,
        a: &Anagrafica,
        capofila: bool,
    ) -> impl Future<Output = Result<i64>> + Send;
    fn update_ente(
        &mut self,
        id: i64,
        a: &Anagrafica,
        capofila: bool,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Makes the ente a signatory from the date of `atto`.
    fn set_aderente(&mut self, id: i64, atto: &Atto) -> impl Future<Output = Result<()>> + Send;
    fn insert_adesione(
        &mut self,
        ente_id: i64,
        d: &Domanda,
        ambito_id: Option<i64>,
        scadenza: Date,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Decides the pending request; false when there is none.
    fn decide(
        &mut self,
        ente_id: i64,
        esito: &Esito,
        capofila_id: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// The ambito holding `istat` on some day of [dal, al], other than row `except`.
    fn overlapping_membership(
        &mut self,
        istat: &str,
        dal: Date,
        al: Option<Date>,
        except: Option<i64>,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
    fn insert_membership(
        &mut self,
        ambito_id: i64,
        istat: &str,
        dal: Date,
        al: Option<Date>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn set_membership_end(
        &mut self,
        id: i64,
        al: Option<Date>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn insert_referente(
        &mut self,
        ente_id: i64,
        r: &NuovoReferente,
    ) -> impl Future<Output = Result<()>> + Send;
    fn update_referente(
        &mut self,
        id: i64,
        r: &NuovoReferente,
    ) -> impl Future<Output = Result<()>> + Send;
    fn revoke_referente(&mut self, id: i64, on: Date) -> impl Future<Output = Result<()>> + Send;
    fn insert_ruolo(
        &mut self,
        ente_id: i64,
        r: &NuovoRuolo,
    ) -> impl Future<Output = Result<()>> + Send;
    fn update_ruolo(&mut self, id: i64, r: &NuovoRuolo) -> impl Future<Output = Result<()>> + Send;
    fn close_ruolo(&mut self, id: i64, al: Date) -> impl Future<Output = Result<()>> + Send;
}

macro_rules! impl_onboarding_write {
    ($database:ty) => {
        impl OnboardingWrite for sqlx::Transaction<'_, $database> {
            async fn ente_id(&mut self, codice: &str) -> Result<Option<i64>> {
                sqlx::query_scalar("SELECT id FROM ente WHERE codice = $1")
                    .bind(codice)
                    .fetch_optional(&mut **self)
                    .await
                    .db("cannot read ente")
            }

            async fn ente_stato(&mut self, codice: &str) -> Result<Option<String>> {
                sqlx::query_scalar("SELECT stato FROM ente WHERE codice = $1")
                    .bind(codice)
                    .fetch_optional(&mut **self)
                    .await
                    .db("cannot read ente")
            }

            async fn check_titolare(&mut self, ente: &str, titolare: &str, day: Date) -> Result<()> {
                if ente == titolare {
                    return Ok(());
                }
                let ok: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM ente e JOIN ente t ON t.codice = $2 \
                     JOIN appartenenza_ambito a ON a.ambito_id = t.id AND a.comune_istat = e.istat \
                     WHERE e.codice = $1 AND t.tipo IN ('ambito', 'comunita_montana') AND (a.valido_al IS NULL OR a.valido_al >= $3)",
                )
                .bind(ente)
                .bind(titolare)
                .bind(day)
                .fetch_one(&mut **self)
                .await
                .db("cannot read the ambito memberships")?;
                if ok > 0 {
                    return Ok(());
                }
                Err(Error::Refused(format!(
                    "{titolare} cannot be the titolare of {ente}: the titolare is the ente itself or, for a \
                     comune, the ambito it belongs to (see `siso ente show {titolare}`); an import for \
                     {ente} would write into {titolare}'s records"
                )))
            }

            async fn capofila(&mut self) -> Result<Option<(i64, String)>> {
                sqlx::query_as("SELECT id, codice FROM ente WHERE capofila = $1")
                    .bind(true)
                    .fetch_optional(&mut **self)
                    .await
                    .db("cannot read the Capofila")
            }

            async fn insert_ente(&mut self, a: &Anagrafica, capofila: bool) -> Result<i64> {
                let now = crate::now_utc();
                sqlx::query_scalar(
                    "INSERT INTO ente (codice, tipo, denominazione, istat, belfiore, codice_fiscale, pec, ats_codice, capofila, creato_il, aggiornato_il) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                )
                .bind(&a.codice)
                .bind(&a.tipo)
                .bind(&a.denominazione)
                .bind(&a.istat)
                .bind(&a.belfiore)
                .bind(&a.codice_fiscale)
                .bind(&a.pec)
                .bind(&a.ats_codice)
                .bind(capofila)
                .bind(now)
                .fetch_one(&mut **self)
                .await
                .db(&format!("cannot record ente {}", a.codice))
            }

            async fn update_ente(&mut self, id: i64, a: &Anagrafica, capofila: bool) -> Result<()> {
                sqlx::query(
                    "UPDATE ente SET tipo = $2, denominazione = $3, istat = $4, belfiore = $5, codice_fiscale = $6, \
                     pec = $7, ats_codice = $8, capofila = $9, aggiornato_il = $10 WHERE id = $1",
                )
                .bind(id)
                .bind(&a.tipo)
                .bind(&a.denominazione)
                .bind(&a.istat)
                .bind(&a.belfiore)
                .bind(&a.codice_fiscale)
                .bind(&a.pec)
                .bind(&a.ats_codice)
                .bind(capofila)
                .bind(crate::now_utc())
                .execute(&mut **self)
                .await
                .db(&format!("cannot update ente {}", a.codice))?;
                Ok(())
            }

            async fn set_aderente(&mut self, id: i64, atto: &Atto) -> Result<()> {
                sqlx::query(
                    "UPDATE ente SET stato = 'aderente', sottoscritto_il = $2, atto_numero = $3, atto_data = $2, aggiornato_il = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(atto.data)
                .bind(&atto.numero)
                .bind(crate::now_utc())
                .execute(&mut **self)
                .await
                .db("cannot record the adhesion act")?;
                Ok(())
            }

            async fn insert_adesione(&mut self, ente_id: i64, d: &Domanda, ambito_id: Option<i64>, scadenza: Date) -> Result<()> {
                sqlx::query(
                    "INSERT INTO adesione (ente_id, ricevuta_il, protocollo_ricezione, rappresentante_legale, ambito_id, scadenza_decisione) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(ente_id)
                .bind(d.ricevuta_il)
                .bind(&d.protocollo)
                .bind(&d.rappresentante_legale)
                .bind(ambito_id)
                .bind(scadenza)
                .execute(&mut **self)
                .await
                .db("cannot record the adhesion request")?;
                Ok(())
            }

            async fn decide(&mut self, ente_id: i64, esito: &Esito, capofila_id: i64) -> Result<bool> {
                let (label, numero, data, motivo) = match esito {
                    Esito::Approvata(a) => ("approvata", Some(a.numero.clone()), Some(a.data), None),
                    Esito::Respinta { motivo } => ("respinta", None, None, Some(motivo.clone())),
                };
                let done = sqlx::query(
                    "UPDATE adesione SET esito = $2, atto_numero = $3, atto_data = $4, motivo_rifiuto = $5, deciso_il = $6, deciso_da_ente_id = $7 \
                     WHERE ente_id = $1 AND esito IS NULL",
                )
                .bind(ente_id)
                .bind(label)
                .bind(&numero)
                .bind(data)
                .bind(&motivo)
                .bind(crate::now_utc())
                .bind(capofila_id)
                .execute(&mut **self)
                .await
                .db("cannot record the decision")?
                .rows_affected();
                if done == 0 {
                    return Ok(false);
                }
                match esito {
                    Esito::Approvata(atto) => self.set_aderente(ente_id, atto).await?,
                    Esito::Respinta { .. } => {
                        sqlx::query("UPDATE ente SET stato = 'respinta', aggiornato_il = $2 WHERE id = $1")
                            .bind(ente_id)
                            .bind(crate::now_utc())
                            .execute(&mut **self)
                            .await
                            .db("cannot record the rejection")?;
                    }
                }
                Ok(true)
            }

            async fn overlapping_membership(&mut self, istat: &str, dal: Date, al: Option<Date>, except: Option<i64>) -> Result<Option<String>> {
                sqlx::query_scalar(
                    "SELECT e.codice FROM appartenenza_ambito a JOIN ente e ON e.id = a.ambito_id \
                     WHERE a.comune_istat = $1 AND ($3 IS NULL OR a.valido_dal <= $3) \
                     AND (a.valido_al IS NULL OR a.valido_al >= $2) AND ($4 IS NULL OR a.id <> $4) LIMIT 1",
                )
                .bind(istat)
                .bind(dal)
                .bind(al)
                .bind(except)
                .fetch_optional(&mut **self)
                .await
                .db("cannot read ambito memberships")
            }

            async fn insert_membership(&mut self, ambito_id: i64, istat: &str, dal: Date, al: Option<Date>) -> Result<()> {
                sqlx::query("INSERT INTO appartenenza_ambito (ambito_id, comune_istat, valido_dal, valido_al) VALUES ($1, $2, $3, $4)")
                    .bind(ambito_id)
                    .bind(istat)
                    .bind(dal)
                    .bind(al)
                    .execute(&mut **self)
                    .await
                    .db(&format!("cannot record comune {istat} in its ambito"))?;
                Ok(())
            }

            async fn set_membership_end(&mut self, id: i64, al: Option<Date>) -> Result<()> {
                sqlx::query("UPDATE appartenenza_ambito SET valido_al = $2 WHERE id = $1")
                    .bind(id)
                    .bind(al)
                    .execute(&mut **self)
                    .await
                    .db("cannot end the ambito membership")?;
                Ok(())
            }

            async fn insert_referente(&mut self, ente_id: i64, r: &NuovoReferente) -> Result<()> {
                sqlx::query(
                    "INSERT INTO referente (ente_id, ruolo, nominativo, email, telefono, nominato_il, comunicazione_rif) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(ente_id)
                .bind(&r.ruolo)
                .bind(&r.nominativo)
                .bind(&r.email)
                .bind(&r.telefono)
                .bind(r.nominato_il)
                .bind(&r.comunicazione_rif)
                .execute(&mut **self)
                .await
                .db("cannot record the referent")?;
                Ok(())
            }

            async fn update_referente(&mut self, id: i64, r: &NuovoReferente) -> Result<()> {
                sqlx::query(
                    "UPDATE referente SET email = $2, telefono = $3, nominato_il = $4, comunicazione_rif = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(&r.email)
                .bind(&r.telefono)
                .bind(r.nominato_il)
                .bind(&r.comunicazione_rif)
                .execute(&mut **self)
                .await
                .db("cannot update the referent")?;
                Ok(())
            }

            async fn revoke_referente(&mut self, id: i64, on: Date) -> Result<()> {
                sqlx::query("UPDATE referente SET revocato_il = $2 WHERE id = $1")
                    .bind(id)
                    .bind(on)
                    .execute(&mut **self)
                    .await
                    .db("cannot revoke the referent")?;
                Ok(())
            }

            async fn insert_ruolo(&mut self, ente_id: i64, r: &NuovoRuolo) -> Result<()> {
                sqlx::query(
                    "INSERT INTO ruolo_privacy (ente_id, ruolo, titolare_ente_id, nominativo, contatto, comunicato_il, valido_dal) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(ente_id)
                .bind(&r.ruolo)
                .bind(r.titolare_ente_id)
                .bind(&r.nominativo)
                .bind(&r.contatto)
                .bind(r.comunicato_il)
                .execute(&mut **self)
                .await
                .db("cannot record the privacy role")?;
                Ok(())
            }

            async fn update_ruolo(&mut self, id: i64, r: &NuovoRuolo) -> Result<()> {
                sqlx::query("UPDATE ruolo_privacy SET contatto = $2, comunicato_il = $3 WHERE id = $1")
                    .bind(id)
                    .bind(&r.contatto)
                    .bind(r.comunicato_il)
                    .execute(&mut **self)
                    .await
                    .db("cannot update the privacy role")?;
                Ok(())
            }

            async fn close_ruolo(&mut self, id: i64, al: Date) -> Result<()> {
                sqlx::query("UPDATE ruolo_privacy SET valido_al = $2 WHERE id = $1")
                    .bind(id)
                    .bind(al)
                    .execute(&mut **self)
                    .await
                    .db("cannot close the privacy role")?;
                Ok(())
            }
        }
    };
}

impl_onboarding_write!(sqlx::Sqlite);
impl_onboarding_write!(sqlx::Postgres);
