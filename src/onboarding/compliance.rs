//! `siso compliance`: the protocol's duties that are overdue or due soon.
//! Art. 7 decisions (60 days from receipt), Art. 6 Cabina di Regia referents
//! (30 days from signing), Art. 10 titolare, DPO and responsabili (60 days
//! from signing), and Art. 9 withdrawals received but not yet accepted.

use serde::Serialize;
use time::Date;

use super::deadlines::{
    self, COMUNICAZIONE_PRIVACY, DECISIONE_ADESIONE, NOMINA_REFERENTI, Urgenza,
};
use super::ente;
use crate::error::{DbContext as _, Result};
use crate::on_db;
use crate::store::Db;

/// One duty that needs attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adempimento {
    pub ente: String,
    pub articolo: &'static str,
    pub adempimento: String,
    pub dal: Date,
    pub scadenza: Option<Date>,
    pub urgenza: Urgenza,
    /// Days late (positive) or days left (zero or negative).
    pub giorni_di_ritardo: Option<i64>,
}

/// Everything overdue or due within the warning window on `as_of`, for one ambito or all.
pub async fn check(db: &Db, as_of: Date, ambito: Option<&str>) -> Result<Vec<Adempimento>> {
    let filtro = ente::Filtro {
        stato: None,
        ambito: ambito.map(str::to_string),
    };
    let entes = ente::list(db, &filtro, as_of).await?;
    let (pendenti, cabina, privacy, recessi, usciti) = on_db!(db, pool => {
        let pendenti: Vec<(String, Date)> = sqlx::query_as(
            "SELECT e.codice, a.ricevuta_il FROM adesione a JOIN ente e ON e.id = a.ente_id WHERE a.esito IS NULL",
        ).fetch_all(pool).await.db("cannot read adesione")?;
        // Referents count if nominated by as_of and not revoked before it.
        let cabina: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT e.codice FROM referente r JOIN ente e ON e.id = r.ente_id \
             WHERE r.ruolo IN ('cabina_politico', 'cabina_tecnico') AND r.nominato_il <= $1 \
             AND (r.revocato_il IS NULL OR r.revocato_il >= $1)",
        ).bind(as_of).fetch_all(pool).await.db("cannot read referente")?;
        let privacy: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT e.codice, r.ruolo FROM ruolo_privacy r JOIN ente e ON e.id = r.ente_id \
             WHERE r.comunicato_il <= $1 AND (r.valido_al IS NULL OR r.valido_al >= $1)",
        ).bind(as_of).fetch_all(pool).await.db("cannot read ruolo_privacy")?;
        let recessi: Vec<(String, Date, Date)> = sqlx::query_as(
            "SELECT e.codice, r.ricevuto_il, r.efficace_il FROM recesso r JOIN ente e ON e.id = r.ente_id \
             WHERE r.accettato_il IS NULL AND r.ricevuto_il <= $1 ORDER BY r.ricevuto_il",
        ).bind(as_of).fetch_all(pool).await.db("cannot read recesso")?;
        // When an ente withdrawn today stopped being a signatory: on an
        // earlier as_of it still had its duties.
        let usciti: Vec<(String, Date)> = sqlx::query_as(
            "SELECT e.codice, MAX(r.efficace_il) FROM recesso r JOIN ente e ON e.id = r.ente_id \
             WHERE r.accettato_il IS NOT NULL GROUP BY e.codice",
        ).fetch_all(pool).await.db("cannot read recesso")?;
        (pendenti, cabina, privacy, recessi, usciti)
    });
    let mut out = Vec::new();
    let mut push = |ente: &str, articolo, adempimento: String, dal: Date, days: i64| {
        let scadenza = deadlines::deadline(dal, days);
        let urgenza = deadlines::urgenza(scadenza, as_of);
        if urgenza != Urgenza::NelTermine && dal <= as_of {
            out.push(Adempimento {
                ente: ente.to_string(),
                articolo,
                adempimento,
                dal,
                scadenza: Some(scadenza),
                urgenza,
                giorni_di_ritardo: Some((as_of - scadenza).whole_days()),
            });
        }
    };
    for e in &entes {
        if let Some((_, ricevuta)) = pendenti.iter().find(|p| p.0 == e.codice) {
            push(
                &e.codice,
                "Art. 7",
                "decisione sulla richiesta di adesione".into(),
                *ricevuta,
                DECISIONE_ADESIONE,
            );
        }
        let aderente_allora = match e.stato.as_str() {
            "aderente" => true,
            "receduto" => usciti
                .iter()
                .any(|(codice, efficace)| *codice == e.codice && *efficace >= as_of),
            _ => false,
        };
        if !aderente_allora {
            continue;
        }
        let Some(signed) = e.sottoscritto_il else {
            continue;
        };
        if !cabina.contains(&e.codice) {
            push(
                &e.codice,
                "Art. 6",
                "nomina dei referenti della Cabina di Regia".into(),
                signed,
                NOMINA_REFERENTI,
            );
        }
        let missing: Vec<&str> = ["titolare", "dpo", "responsabile"]
            .into_iter()
            .filter(|r| !privacy.iter().any(|p| p.0 == e.codice && p.1 == *r))
            .collect();
        if !missing.is_empty() {
            push(
                &e.codice,
                "Art. 10",
                format!("comunicazione privacy: manca {}", missing.join(", ")),
                signed,
                COMUNICAZIONE_PRIVACY,
            );
        }
    }
    // A withdrawal has no deadline of its own for the acceptance, but it must
    // be accepted before it takes effect: that day is its deadline.
    for (codice, ricevuto, efficace) in recessi {
        if entes.iter().any(|e| e.codice == codice) {
            let urgenza = match deadlines::urgenza(efficace, as_of) {
                Urgenza::NelTermine => Urgenza::InScadenza,
                u => u,
            };
            out.push(Adempimento {
                ente: codice,
                articolo: "Art. 9",
                adempimento: "recesso ricevuto, non ancora accolto".into(),
                dal: ricevuto,
                scadenza: Some(efficace),
                urgenza,
                giorni_di_ritardo: Some((as_of - efficace).whole_days()),
            });
        }
    }
    Ok(out)
}
