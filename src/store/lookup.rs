//! Look-ups in the reference tables, for `siso codes`.

use sqlx::Row as _;

use super::Db;
use crate::error::{DbContext as _, Result};
use crate::on_db;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ComuneRow {
    pub istat: Option<String>,
    pub belfiore: String,
    pub nome: String,
    pub provincia: String,
    pub regione: Option<String>,
    pub popolazione: Option<i64>,
    pub valido_dal: Option<time::Date>,
    pub valido_al: Option<time::Date>,
}

/// Comuni whose name contains `text` (any case), or whose ISTAT or Belfiore
/// code is `text`; all when `text` is empty. Current comuni first.
pub async fn comuni(db: &Db, text: &str, limit: i64) -> Result<Vec<ComuneRow>> {
    let text = text.trim();
    let pattern = format!("%{}%", text.to_lowercase());
    on_db!(db, pool => {
        let rows = sqlx::query(
            "SELECT istat, belfiore, nome, sigla_provincia, regione, popolazione, valido_dal, valido_al FROM comune \
             WHERE $1 = '' OR lower(nome) LIKE $2 OR istat = $1 OR belfiore = upper($1) \
             ORDER BY CASE WHEN valido_al IS NULL THEN 0 ELSE 1 END, nome, valido_dal LIMIT $3",
        )
        .bind(text)
        .bind(&pattern)
        .bind(limit)
        .fetch_all(pool)
        .await
        .db("cannot search comune")?;
        rows.iter()
            .map(|r| {
                Ok(ComuneRow {
                    istat: r.try_get(0).db("comune.istat")?,
                    belfiore: r.try_get(1).db("comune.belfiore")?,
                    nome: r.try_get(2).db("comune.nome")?,
                    provincia: r.try_get(3).db("comune.sigla_provincia")?,
                    regione: r.try_get(4).db("comune.regione")?,
                    popolazione: r.try_get(5).db("comune.popolazione")?,
                    valido_dal: r.try_get(6).db("comune.valido_dal")?,
                    valido_al: r.try_get(7).db("comune.valido_al")?,
                })
            })
            .collect()
    })
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct PrestazioneRow {
    pub codice: String,
    pub descrizione: String,
    pub gruppo: String,
    pub origine: String,
}

/// Prestazioni whose code starts with `text` or whose label contains it.
pub async fn prestazioni(db: &Db, text: &str) -> Result<Vec<PrestazioneRow>> {
    let text = text.trim();
    let prefix = format!("{}%", text.to_uppercase());
    let pattern = format!("%{}%", text.to_lowercase());
    on_db!(db, pool => {
        sqlx::query_as::<_, PrestazioneRow>(
            "SELECT codice, descrizione, gruppo, origine FROM prestazione \
             WHERE upper(codice) LIKE $1 OR lower(descrizione) LIKE $2 ORDER BY codice",
        )
        .bind(&prefix)
        .bind(&pattern)
        .fetch_all(pool)
        .await
        .db("cannot search prestazione")
    })
}

/// Adds or relabels a locally defined prestazione (codes the 2015 table lacks).
pub async fn add_prestazione(
    db: &Db,
    codice: &str,
    descrizione: &str,
    gruppo: &str,
) -> Result<bool> {
    on_db!(db, pool => {
        let existing: Option<String> = sqlx::query_scalar("SELECT origine FROM prestazione WHERE codice = $1")
            .bind(codice)
            .fetch_optional(pool)
            .await
            .db("cannot read prestazione")?;
        if existing.as_deref() == Some("inps") {
            return Err(crate::Error::Refused(format!(
                "{codice} is an official INPS code: it cannot be redefined locally"
            )));
        }
        sqlx::query(
            "INSERT INTO prestazione (codice, descrizione, gruppo, origine) VALUES ($1, $2, $3, 'locale') \
             ON CONFLICT (codice) DO UPDATE SET descrizione = excluded.descrizione, gruppo = excluded.gruppo",
        )
        .bind(codice)
        .bind(descrizione)
        .bind(gruppo)
        .execute(pool)
        .await
        .db("cannot write prestazione")?;
        Ok(existing.is_none())
    })
}
