//! Art. 10 privacy roles: the titolare (the Comune itself or its Ufficio di
//! Piano), the DPO (Art. 37), responsabili (Art. 28) and amministratori di
//! sistema, each with the date it was communicated to the Capofila.
//! One current titolare and one current DPO per ente; a new one closes the
//! previous (history kept with `valido_al`).

use serde::Serialize;
use time::Date;

use super::tx::{NuovoRuolo, OnboardingWrite};
use crate::error::{DbContext as _, Result};
use crate::on_db;
use crate::store::Db;

pub const RUOLI: [&str; 4] = ["titolare", "dpo", "responsabile", "amministratore_sistema"];

/// A privacy role as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Ruolo {
    pub id: i64,
    pub ente: String,
    pub ruolo: String,
    pub titolare: Option<String>,
    pub nominativo: String,
    pub contatto: Option<String>,
    pub comunicato_il: Date,
    pub valido_dal: Option<Date>,
    pub valido_al: Option<Date>,
}

/// Current roles (valido_al empty) of one ente or all.
pub async fn current(db: &Db, ente: Option<&str>) -> Result<Vec<Ruolo>> {
    on_db!(db, pool => {
        sqlx::query_as::<_, Ruolo>(
            "SELECT r.id, e.codice AS ente, r.ruolo, t.codice AS titolare, r.nominativo, r.contatto, r.comunicato_il, r.valido_dal, r.valido_al \
             FROM ruolo_privacy r JOIN ente e ON e.id = r.ente_id LEFT JOIN ente t ON t.id = r.titolare_ente_id \
             WHERE ($1 IS NULL OR e.codice = $1) AND r.valido_al IS NULL ORDER BY e.codice, r.ruolo, r.id",
        )
        .bind(ente)
        .fetch_all(pool)
        .await
        .db("cannot read ruolo_privacy")
    })
}

pub fn check_ruolo(ruolo: &str) -> Result<(), String> {
    if RUOLI.contains(&ruolo) {
        Ok(())
    } else {
        Err(format!(
            "privacy role {ruolo:?} is not one of {}",
            RUOLI.join(", ")
        ))
    }
}

/// Whether a role is held by one person at a time (titolare, DPO).
pub fn unico(ruolo: &str) -> bool {
    ruolo == "titolare" || ruolo == "dpo"
}

/// What setting `new` on an ente whose current roles are `existing` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effetto {
    Unchanged,
    /// Same holder, other contact or date.
    Update(i64),
    /// A new holder; for titolare / DPO the current one (if any) is closed.
    Insert {
        closes: Option<i64>,
    },
}

pub fn effetto(existing: &[Ruolo], new: &NuovoRuolo, titolare_code: Option<&str>) -> Effetto {
    let same_holder = |r: &&Ruolo| {
        r.ruolo == new.ruolo
            && r.nominativo == new.nominativo
            && r.titolare.as_deref() == titolare_code
    };
    if let Some(r) = existing.iter().find(same_holder) {
        return if r.contatto == new.contatto && r.comunicato_il == new.comunicato_il {
            Effetto::Unchanged
        } else {
            Effetto::Update(r.id)
        };
    }
    let closes = unico(&new.ruolo)
        .then(|| existing.iter().find(|r| r.ruolo == new.ruolo).map(|r| r.id))
        .flatten();
    Effetto::Insert { closes }
}

/// Applies an [`Effetto`] inside the caller's transaction.
pub async fn apply<T: OnboardingWrite + Send>(
    tx: &mut T,
    ente_id: i64,
    existing: &[Ruolo],
    new: &NuovoRuolo,
    effetto: &Effetto,
) -> Result<()> {
    match effetto {
        Effetto::Unchanged => Ok(()),
        Effetto::Update(id) => tx.update_ruolo(*id, new).await,
        Effetto::Insert { closes } => {
            if let Some(id) = closes {
                let from = existing
                    .iter()
                    .find(|r| r.id == *id)
                    .and_then(|r| r.valido_dal);
                // The old holder's last day is the day before the new one starts.
                let mut al = new
                    .comunicato_il
                    .previous_day()
                    .unwrap_or(new.comunicato_il);
                if let Some(from) = from
                    && al < from
                {
                    al = from;
                }
                tx.close_ruolo(*id, al).await?;
            }
            tx.insert_ruolo(ente_id, new).await
        }
    }
}
