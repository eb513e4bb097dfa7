//! Loads the reference data files embedded in the binary into the database.
//!
//! Idempotent: a dataset whose SHA-256 matches the one recorded at the last
//! load is left alone. Tables other rows point to (prestazioni, ATS, foreign
//! states, aree utenza) are upserted, never emptied; locally added prestazioni
//! (`origine = 'locale'`) are never touched.

use sqlx::QueryBuilder;

use super::{BeginWrite as _, Db};
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;
use crate::reference;

/// Rows per multi-row INSERT: well under both backends' parameter limits.
const CHUNK: usize = 500;

#[derive(Debug, Clone, serde::Serialize)]
pub struct DatasetLoad {
    pub dataset: String,
    pub rows: usize,
    pub sha256: String,
    /// `loaded` or `unchanged`.
    pub outcome: &'static str,
}

fn reference_error(e: reference::ReferenceError) -> Error {
    Error::Input(format!(
        "embedded reference data is broken (a bug in this build of siso): {e}"
    ))
}

/// Loads every dataset that changed since the last load, in one transaction.
pub async fn load_all(db: &Db) -> Result<Vec<DatasetLoad>> {
    let comuni = reference::comuni().map_err(reference_error)?;
    let stati = reference::stati_esteri().map_err(reference_error)?;
    let prestazioni = reference::prestazioni().map_err(reference_error)?;
    let aree = reference::aree_utenza().map_err(reference_error)?;
    let ats = reference::ats().map_err(reference_error)?;

    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let mut report = Vec::new();
        let recorded: Vec<(String, String)> = sqlx::query_as("SELECT nome, sha256 FROM dataset_riferimento")
            .fetch_all(&mut *tx)
            .await
            .db("cannot read dataset_riferimento")?;
        let unchanged = |name: &str, sha: &str| recorded.iter().any(|(n, s)| n == name && s == sha);
        let mut record = |name: &str, sha: &str, rows: usize, loaded: bool| {
            report.push(DatasetLoad {
                dataset: name.to_string(),
                rows,
                sha256: sha.to_string(),
                outcome: if loaded { "loaded" } else { "unchanged" },
            })
        };

        // ATS first: ente rows refer to them.
        let load = !unchanged(ats.name, &ats.sha256);
        if load {
            for chunk in ats.rows.chunks(CHUNK) {
                let mut q = QueryBuilder::new("INSERT INTO ats (codice, nome) ");
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.codice).push_bind(&r.nome);
                });
                q.push(" ON CONFLICT (codice) DO UPDATE SET nome = excluded.nome");
                q.build().execute(&mut *tx).await.db("cannot load ats")?;
            }
        }
        record(ats.name, &ats.sha256, ats.rows.len(), load);

        // Comuni: nothing refers to their rows (cases keep the ISTAT code), so
        // the table is replaced whole, keeping ceased comuni as the file does.
        let load = !unchanged(comuni.name, &comuni.sha256);
        if load {
            sqlx::query("DELETE FROM comune").execute(&mut *tx).await.db("cannot empty comune")?;
            for chunk in comuni.rows.chunks(CHUNK) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO comune (istat, belfiore, nome, sigla_provincia, codice_provincia, codice_regione, \
                     regione, popolazione, valido_dal, valido_al) ",
                );
                q.push_values(chunk, |mut b, c| {
                    b.push_bind(&c.istat)
                        .push_bind(&c.belfiore)
                        .push_bind(&c.nome)
                        .push_bind(&c.sigla_provincia)
                        .push_bind(&c.codice_provincia)
                        .push_bind(&c.codice_regione)
                        .push_bind(&c.regione)
                        .push_bind(c.popolazione.map(i64::from))
                        .push_bind(c.valido_dal)
                        .push_bind(c.valido_al);
                });
                q.build().execute(&mut *tx).await.db("cannot load comune")?;
            }
        }
        record(comuni.name, &comuni.sha256, comuni.rows.len(), load);

        let load = !unchanged(stati.name, &stati.sha256);
        if load {
            for chunk in stati.rows.chunks(CHUNK) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO stato_estero (belfiore, nome, codice_istat, sigla_iso2, valido_dal, valido_al) ",
                );
                q.push_values(chunk, |mut b, s| {
                    b.push_bind(&s.belfiore)
                        .push_bind(&s.nome)
                        .push_bind(&s.codice_istat)
                        .push_bind(&s.sigla_iso2)
                        .push_bind(s.valido_dal)
                        .push_bind(s.valido_al);
                });
                q.push(
                    " ON CONFLICT (belfiore) DO UPDATE SET nome = excluded.nome, codice_istat = excluded.codice_istat, \
                     sigla_iso2 = excluded.sigla_iso2, valido_dal = excluded.valido_dal, valido_al = excluded.valido_al",
                );
                q.build().execute(&mut *tx).await.db("cannot load stato_estero")?;
            }
        }
        record(stati.name, &stati.sha256, stati.rows.len(), load);

        let load = !unchanged(prestazioni.name, &prestazioni.sha256);
        if load {
            for chunk in prestazioni.rows.chunks(CHUNK) {
                let mut q = QueryBuilder::new("INSERT INTO prestazione (codice, descrizione, gruppo, origine) ");
                q.push_values(chunk, |mut b, p| {
                    b.push_bind(&p.codice).push_bind(&p.descrizione).push_bind(&p.gruppo).push_bind("inps");
                });
                q.push(
                    " ON CONFLICT (codice) DO UPDATE SET descrizione = excluded.descrizione, gruppo = excluded.gruppo \
                     WHERE prestazione.origine = 'inps'",
                );
                q.build().execute(&mut *tx).await.db("cannot load prestazione")?;
            }
        }
        record(prestazioni.name, &prestazioni.sha256, prestazioni.rows.len(), load);

        let load = !unchanged(aree.name, &aree.sha256);
        if load {
            for chunk in aree.rows.chunks(CHUNK) {
                let mut q = QueryBuilder::new("INSERT INTO area_utenza (sistema, codice, descrizione) ");
                q.push_values(chunk, |mut b, a| {
                    b.push_bind(&a.sistema).push_bind(&a.codice).push_bind(&a.descrizione);
                });
                q.push(" ON CONFLICT (sistema, codice) DO UPDATE SET descrizione = excluded.descrizione");
                q.build().execute(&mut *tx).await.db("cannot load area_utenza")?;
            }
        }
        record(aree.name, &aree.sha256, aree.rows.len(), load);

        let now = crate::now_utc();
        for r in &report {
            if r.outcome == "loaded" {
                sqlx::query(
                    "INSERT INTO dataset_riferimento (nome, sha256, righe, caricato_il) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (nome) DO UPDATE SET sha256 = excluded.sha256, righe = excluded.righe, \
                     caricato_il = excluded.caricato_il",
                )
                .bind(&r.dataset)
                .bind(&r.sha256)
                .bind(r.rows as i64)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db("cannot record the reference load")?;
            }
        }
        tx.commit().await.db("cannot commit the reference data")?;
        Ok(report)
    })
}
