//! `import list`, `import show` and `import undo`: batches as the database
//! remembers them, and taking one back exactly.

use sqlx::Row as _;

use super::spec;
use super::write::{self, push_db};
use crate::audit::{AuditWrite as _, Entry};
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;
use crate::report::statistica::StatisticaWrite as _;
use crate::store::{BeginWrite as _, Db as Database};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Batch {
    pub batch: i64,
    pub ente: String,
    pub avviato_il: String,
    pub operatore: String,
    pub formato: String,
    pub stato: String,
    pub file: i64,
    pub righe_inserite: i64,
    pub righe_aggiornate: i64,
}

const LIST_SQL: &str = "SELECT b.id, e.codice, b.avviato_il, b.operatore, b.formato, b.stato, \
     (SELECT count(*) FROM import_file f WHERE f.batch_id = b.id), \
     (SELECT CAST(COALESCE(SUM(COALESCE(m.ultimo_id, m.riga_id) - m.riga_id + 1), 0) AS BIGINT) FROM import_modifica m \
      WHERE m.batch_id = b.id AND m.azione = 'inserita'), \
     (SELECT count(*) FROM import_modifica m WHERE m.batch_id = b.id AND m.azione = 'aggiornata') \
     FROM import_batch b JOIN ente e ON e.id = b.ente_id \
     WHERE ($1 IS NULL OR e.codice = $1) AND ($2 IS NULL OR b.id = $2) ORDER BY b.id";

pub async fn list(db: &Database, ente: Option<&str>, batch: Option<i64>) -> Result<Vec<Batch>> {
    on_db!(db, pool => {
        let rows = sqlx::query(LIST_SQL).bind(ente).bind(batch).fetch_all(pool).await.db("cannot read import batches")?;
        rows.iter()
            .map(|r| {
                let at: time::OffsetDateTime = r.try_get(2).db("import_batch.avviato_il")?;
                Ok(Batch {
                    batch: r.try_get(0).db("import_batch.id")?,
                    ente: r.try_get(1).db("ente.codice")?,
                    avviato_il: crate::rfc3339(at),
                    operatore: r.try_get(3).db("import_batch.operatore")?,
                    formato: r.try_get(4).db("import_batch.formato")?,
                    stato: r.try_get(5).db("import_batch.stato")?,
                    file: r.try_get(6).db("import_file")?,
                    righe_inserite: r.try_get(7).db("import_modifica")?,
                    righe_aggiornate: r.try_get(8).db("import_modifica")?,
                })
            })
            .collect()
    })
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchFile {
    pub percorso: String,
    pub sha256: String,
    pub dimensione: i64,
}

/// The batch's files and its counts as recorded.
pub async fn files(db: &Database, batch: i64) -> Result<(Vec<BatchFile>, Option<String>)> {
    on_db!(db, pool => {
        let files: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT percorso, sha256, dimensione FROM import_file WHERE batch_id = $1 ORDER BY id")
                .bind(batch)
                .fetch_all(pool)
                .await
                .db("cannot read import_file")?;
        let counts: Option<String> = sqlx::query_scalar("SELECT conteggi FROM import_batch WHERE id = $1")
            .bind(batch)
            .fetch_optional(pool)
            .await
            .db("cannot read import_batch")?
            .flatten();
        Ok((files.into_iter().map(|(percorso, sha256, dimensione)| BatchFile { percorso, sha256, dimensione }).collect(), counts))
    })
}

/// An `import_modifica` line: riga_id, ultimo_id, titolare_id, azione, prima.
type Modifica = (i64, Option<i64>, i64, String, Option<String>);

#[derive(Debug, Clone, serde::Serialize)]
pub struct UndoReport {
    /// Batches taken back, newest first.
    pub batches: Vec<i64>,
    pub deleted: u64,
    pub restored: u64,
    pub dry_run: bool,
}

/// Takes back what `batch` inserted and restores what it updated, in one
/// transaction. Later batches of the same ente may build on it: refused
/// unless `cascade`, which undoes them first, newest first.
pub async fn undo(
    db: &Database,
    batch: i64,
    cascade: bool,
    dry_run: bool,
    entry: &Entry,
) -> Result<UndoReport> {
    let all = list(db, None, None).await?;
    let Some(target) = all.iter().find(|b| b.batch == batch) else {
        return Err(Error::Refused(format!(
            "there is no import batch {batch}: see `siso import list`"
        )));
    };
    if target.formato == "bundle" {
        return Err(Error::Refused(format!(
            "batch {batch} restored a hand-back bundle, which records no row-by-row changes: to take it back, \
             export and purge the ente (`siso handback export`, `siso handback purge`)"
        )));
    }
    if target.stato != "completato" {
        return Err(Error::Refused(format!(
            "import batch {batch} is {}: nothing to undo",
            target.stato
        )));
    }
    let later: Vec<i64> = all
        .iter()
        .filter(|b| b.ente == target.ente && b.batch > batch && b.stato == "completato")
        .map(|b| b.batch)
        .collect();
    if !later.is_empty() && !cascade {
        return Err(Error::Refused(format!(
            "later import batches of {} may build on batch {batch} ({}): undo them first, or pass --cascade \
             to undo them all, newest first",
            target.ente,
            later
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut order: Vec<i64> = later.into_iter().rev().collect();
    order.push(batch);
    let mut report = UndoReport {
        batches: order.clone(),
        deleted: 0,
        restored: 0,
        dry_run,
    };
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        // Titolari whose cartelle, interventi or erogazioni change: their
        // usage statistics are recomputed before the commit.
        let mut titolari = std::collections::BTreeSet::new();
        for b in &order {
            for sp in spec::ORDER.iter().rev() {
                // Inserted rows come as runs riga_id..=ultimo_id (migration 0014).
                let rows: Vec<Modifica> = sqlx::query_as(
                    "SELECT riga_id, ultimo_id, titolare_id, azione, prima FROM import_modifica WHERE batch_id = $1 AND tabella = $2 ORDER BY id DESC",
                )
                .bind(b)
                .bind(sp.table)
                .fetch_all(&mut *tx)
                .await
                .db("cannot read import_modifica")?;
                for (riga, ultimo, titolare, azione, prima) in rows {
                    if matches!(sp.table, "cartella" | "intervento" | "erogazione") {
                        titolari.insert(titolare);
                    }
                    if azione == "inserita" {
                        let ultimo = ultimo.unwrap_or(riga);
                        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DELETE FROM {} WHERE id BETWEEN $1 AND $2 AND titolare_id = $3",
                            sp.table
                        )))
                        .bind(riga)
                        .bind(ultimo)
                        .bind(titolare)
                        .execute(&mut *tx)
                        .await
                        .db(&format!("cannot delete {} {riga}..{ultimo}", sp.table))?;
                        report.deleted += done.rows_affected();
                    } else {
                        let json: serde_json::Value = serde_json::from_str(prima.as_deref().unwrap_or("null"))
                            .map_err(|e| Error::Schema(format!("import_modifica.prima of {} {riga}: {e}", sp.table)))?;
                        let values = write::values_from_json(sp, &json)?;
                        let mut q = sqlx::QueryBuilder::new(format!("UPDATE {} SET ", sp.table));
                        for (n, ((col, kind), value)) in sp.columns.iter().zip(values).enumerate() {
                            q.push(if n == 0 { "" } else { ", " }).push(format!("{col} = "));
                            push_db!(q, value, kind);
                        }
                        q.push(" WHERE id = ").push_bind(riga).push(" AND titolare_id = ").push_bind(titolare);
                        q.build().execute(&mut *tx).await.db(&format!("cannot restore {} {riga}", sp.table))?;
                        let cw = &json["_crosswalk"];
                        sqlx::query(
                            "UPDATE crosswalk SET contenuto_sha256 = $1 WHERE titolare_id = $2 AND entita = $3 AND id_legacy = $4 AND riga_id = $5",
                        )
                        .bind(cw["contenuto_sha256"].as_str())
                        .bind(titolare)
                        .bind(sp.table)
                        .bind(cw["id_legacy"].as_str().unwrap_or_default())
                        .bind(riga)
                        .execute(&mut *tx)
                        .await
                        .db("cannot restore the crosswalk")?;
                        report.restored += 1;
                    }
                }
            }
            sqlx::query("DELETE FROM crosswalk WHERE batch_id = $1")
                .bind(b)
                .execute(&mut *tx)
                .await
                .db("cannot remove the batch's crosswalk entries")?;
            sqlx::query("UPDATE import_batch SET stato = 'annullato' WHERE id = $1")
                .bind(b)
                .execute(&mut *tx)
                .await
                .db("cannot mark the batch undone")?;
        }
        for t in titolari {
            tx.refresh_statistica(t).await?;
        }
        let mut entry = entry.clone();
        entry.ente_codice = Some(target.ente.clone());
        entry.azione = "import_undo".into();
        entry.dettaglio = serde_json::json!({
            "batch": order,
            "righe_eliminate": report.deleted,
            "righe_ripristinate": report.restored,
        });
        tx.append_audit(&entry).await?;
        if dry_run {
            tx.rollback().await.db("cannot roll back the dry run")?;
        } else {
            tx.commit().await.db("cannot commit the undo")?;
        }
        Ok::<(), Error>(())
    })?;
    Ok(report)
}
