//! Art. 6 referents: Cabina di Regia (political and technical) and Tavolo
//! operativo, each nominated by a formal communication.

use serde::Serialize;
use time::Date;

use crate::error::{DbContext as _, Result};
use crate::on_db;
use crate::store::Db;

pub const RUOLI: [&str; 3] = ["cabina_politico", "cabina_tecnico", "tavolo_operativo"];

/// A referent as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Referente {
    pub id: i64,
    pub ente: String,
    pub ruolo: String,
    pub nominativo: String,
    pub email: Option<String>,
    pub telefono: Option<String>,
    pub nominato_il: Date,
    pub comunicazione_rif: String,
    pub revocato_il: Option<Date>,
}

/// Referents, of one ente or all; revoked ones only when asked.
pub async fn list(db: &Db, ente: Option<&str>, with_revoked: bool) -> Result<Vec<Referente>> {
    on_db!(db, pool => {
        sqlx::query_as::<_, Referente>(
            "SELECT r.id, e.codice AS ente, r.ruolo, r.nominativo, r.email, r.telefono, r.nominato_il, r.comunicazione_rif, r.revocato_il \
             FROM referente r JOIN ente e ON e.id = r.ente_id \
             WHERE ($1 IS NULL OR e.codice = $1) AND ($2 OR r.revocato_il IS NULL) ORDER BY e.codice, r.ruolo, r.id",
        )
        .bind(ente)
        .bind(with_revoked)
        .fetch_all(pool)
        .await
        .db("cannot read referente")
    })
}

pub fn check_ruolo(ruolo: &str) -> Result<(), String> {
    if RUOLI.contains(&ruolo) {
        Ok(())
    } else {
        Err(format!(
            "referent role {ruolo:?} is not one of {}",
            RUOLI.join(", ")
        ))
    }
}
