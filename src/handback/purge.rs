//! `handback purge`: on the titolare's written choice, after a verified
//! hand-back, delete the ente's personal data (or record that it is retained
//! under legal retention), and prove what happened.
//!
//! Italian archival law makes deletion the exception: it happens only when
//! the bundle verifies AND still matches the data (nothing changed since the
//! export), in one transaction, with the choice's reference in the audit log.
//! Kept: the protocol's own records (ente, adesione, recesso, referents,
//! privacy roles), aggregate statistics and the audit log, none of which holds
//! the titolare's case data; persons another titolare still refers to.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use futures_util::TryStreamExt as _;
use sha2::Digest as _;

use super::export::{Ente, Sink, dump_tables};
use super::tables::{self, Purge, TABLES};
use super::{Manifest, Value};
use crate::audit::{AuditWrite as _, Entry};
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;
use crate::report::statistica::StatisticaWrite as _;
use crate::store::{Backend, BeginWrite as _, Db};

/// The controller's written choice (GDPR Art. 28(3)(g)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    /// Delete the data that was returned.
    Delete,
    /// The data was returned and is kept under legal retention.
    Retain,
}

/// One line of the proof: a table of one ente, before and after.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProofRow {
    pub ente: String,
    pub tabella: String,
    pub righe_prima: u64,
    pub righe_dopo: u64,
    pub sha256_prima: String,
    pub sha256_dopo: String,
    /// `eliminate`, `conservate (persone condivise)`, `conservati
    /// (operatori condivisi)`, `invariate`.
    pub esito: String,
}

#[derive(Debug, Clone)]
pub struct PurgeReport {
    pub choice: Choice,
    pub dry_run: bool,
    pub manifest_sha256: String,
    /// Rows deleted per table (empty when retained).
    pub deleted: Vec<(&'static str, u64)>,
    /// Persons of the ente kept because another titolare refers to them.
    pub persone_conservate: u64,
    /// Operators of the ente kept because another titolare's cases or
    /// diary notes name them.
    pub operatori_conservati: u64,
    /// The ente's tables, then every other ente's, before and after.
    pub proof: Vec<ProofRow>,
}

/// The bundle (a folder, or an archive that `identity` decrypts when it is
/// encrypted) must verify and be the ente's; returns its manifest and the
/// manifest's SHA-256.
pub fn check_bundle(
    bundle: &Path,
    identity: Option<&Path>,
    ente: &Ente,
) -> Result<(Manifest, String)> {
    let report = super::verify::verify(bundle, identity)?;
    if !report.ok() {
        let list: Vec<String> = report
            .problems
            .iter()
            .take(5)
            .map(|p| format!("{}: {}", p.file, p.problem))
            .collect();
        return Err(Error::Refused(format!(
            "the bundle {} does not verify ({} problems: {}{}): nothing was deleted; export again and have \
             the titolare confirm the new bundle",
            bundle.display(),
            report.problems.len(),
            list.join("; "),
            if report.problems.len() > 5 {
                "; ..."
            } else {
                ""
            }
        )));
    }
    let sha = report
        .manifest_sha256
        .expect("a verified bundle has a manifest");
    let manifest = report.manifest.expect("a verified bundle has a manifest");
    if manifest.ente.codice != ente.codice {
        return Err(Error::Refused(format!(
            "the bundle {} is of ente {}, not {}: give the bundle exported for {}",
            bundle.display(),
            manifest.ente.codice,
            ente.codice,
            ente.codice
        )));
    }
    Ok((manifest, sha))
}

/// Rows and content hash per (table, owning ente id) of the purged tables.
type Digests = BTreeMap<(&'static str, i64), (u64, String)>;

macro_rules! owned_digests {
    ($conn:expr) => {{
        let mut hashers: BTreeMap<(&'static str, i64), (u64, sha2::Sha256)> = BTreeMap::new();
        let mut line = Vec::new();
        for table in TABLES.iter().filter(|t| t.purge == Purge::Delete) {
            let sql = table
                .select_owned_sql()
                .expect("purged tables have an owner");
            let keys = super::json_keys(table.columns);
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *$conn);
            while let Some(row) = rows.try_next().await.map_err(|source| Error::Database {
                context: format!("cannot read {}", table.name),
                source,
            })? {
                let owner =
                    match super::decode_value(&row, 0, tables::Kind::Int).map_err(|source| {
                        Error::Database {
                            context: format!("cannot decode the owner of {}", table.name),
                            source,
                        }
                    })? {
                        Value::Int(id) => id,
                        _ => -1,
                    };
                // The row's canonical JSON line, as the bundle has it.
                line.clear();
                for (i, ((name, kind), key)) in table.columns.iter().zip(&keys).enumerate() {
                    let value = super::decode_value(&row, i + 1, *kind).map_err(|source| {
                        Error::Database {
                            context: format!("cannot decode {}.{name}", table.name),
                            source,
                        }
                    })?;
                    line.extend_from_slice(key);
                    super::push_json(&mut line, value)
                        .map_err(|e| Error::io("cannot encode a row", e))?;
                }
                line.extend_from_slice(b"}\n");
                let entry = hashers
                    .entry((table.name, owner))
                    .or_insert_with(|| (0, sha2::Sha256::new()));
                entry.0 += 1;
                entry.1.update(&line);
            }
        }
        hashers
            .into_iter()
            .map(|(k, (n, h))| (k, (n, hex::encode(h.finalize()))))
            .collect::<Digests>()
    }};
}

/// Checks the bundle against the current data and, for `Choice::Delete`,
/// deletes the ente's rows; everything in one write transaction, which a
/// dry run rolls back. The audit `entry` gets the manifest's hash and the
/// counts and lands in the same transaction.
pub async fn purge(
    db: &Db,
    ente: &Ente,
    bundle: &Path,
    identity: Option<&Path>,
    choice: Choice,
    dry_run: bool,
    mut entry: Entry,
) -> Result<PurgeReport> {
    let (manifest, manifest_sha256) = check_bundle(bundle, identity, ente)?;
    let backend = db.backend();
    let purged: Vec<&'static tables::Table> =
        TABLES.iter().filter(|t| t.purge == Purge::Delete).collect();
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        if backend == Backend::Postgres {
            // Nobody writes these tables between the comparison and the deletion.
            let names: Vec<&str> = purged.iter().map(|t| t.name).collect();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
                names.join(", ")
            )))
            .execute(&mut *tx)
            .await
            .db("cannot lock the tables to purge")?;
        }

        // 1. The data to delete is exactly what was handed back.
        let mut sink = Sink::HashOnly;
        let now = dump_tables!(tx, ente.id, &mut sink, purged.iter().copied());
        let mut changed = Vec::new();
        for d in &now {
            let table = tables::table(d.table);
            let entry = |name: String| manifest.file.iter().find(|f| f.nome == name);
            match (entry(table.csv_name()), entry(table.jsonl_name())) {
                (Some(c), Some(j))
                    if c.righe == Some(d.rows)
                        && j.righe == Some(d.rows)
                        && c.sha256 == d.csv_sha256
                        && j.sha256 == d.jsonl_sha256 => {}
                (Some(c), Some(_)) => changed.push(format!(
                    "{} ({} rows now, {} in the bundle{})",
                    d.table,
                    d.rows,
                    c.righe.unwrap_or(0),
                    if c.righe == Some(d.rows) { ", content differs" } else { "" }
                )),
                _ => changed.push(format!("{} (not in the bundle)", d.table)),
            }
        }
        if !changed.is_empty() {
            tx.rollback().await.db("cannot roll back")?;
            return Err(Error::Refused(format!(
                "the data of {} changed since the bundle was exported: {}. Nothing was deleted: export again, \
                 hand the new bundle back and purge with it",
                ente.codice,
                changed.join(", ")
            )));
        }

        let mut deleted = Vec::new();
        let mut persone_conservate = 0;
        let mut operatori_conservati = 0;
        let mut proof = Vec::new();
        if choice == Choice::Delete {
            let codes: BTreeMap<i64, String> = sqlx::query_as::<_, (i64, String)>("SELECT id, codice FROM ente")
                .fetch_all(&mut *tx)
                .await
                .db("cannot read ente")?
                .into_iter()
                .collect();
            // Past usage statistics survive the purge (issue 5): brought up to
            // date, then archived; the cases still open leave the stocks today.
            tx.refresh_statistica(ente.id).await?;
            tx.archive_statistica(ente.id, crate::now_utc().date()).await?;
            let before = owned_digests!(tx);
            // 2. Delete, children first.
            for name in tables::DELETE_ORDER {
                let table = tables::table(name);
                let n = sqlx::query(sqlx::AssertSqlSafe(tables::delete_sql(table)))
                    .bind(ente.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|source| Error::Database { context: format!("cannot delete the rows of {} from {name}", ente.codice), source })?
                    .rows_affected();
                deleted.push((*name, n));
            }
            // 3. Prove it.
            let after = owned_digests!(tx);
            persone_conservate = after.get(&("persona", ente.id)).map_or(0, |(n, _)| *n);
            operatori_conservati = after.get(&("operatore", ente.id)).map_or(0, |(n, _)| *n);
            // What may remain must be referenced by another titolare's rows.
            let unreferenced: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM persona WHERE titolare_id = $1 AND id NOT IN ({})",
                tables::PERSONE_REFERENZIATE
            )))
            .bind(ente.id)
            .fetch_one(&mut *tx)
            .await
            .db("cannot count the remaining persons")?;
            let operatori_liberi: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM operatore WHERE titolare_id = $1 AND id NOT IN ({})",
                tables::OPERATORI_REFERENZIATI
            )))
            .bind(ente.id)
            .fetch_one(&mut *tx)
            .await
            .db("cannot count the remaining operators")?;
            let empty = (0, String::new());
            let keys: BTreeSet<(&'static str, i64)> = before.keys().chain(after.keys()).copied().collect();
            let mut broken = Vec::new();
            // The ente's own rows first, in table order, then the others'.
            let mut ordered: Vec<(&'static str, i64)> = purged
                .iter()
                .map(|t| (t.name, ente.id))
                .collect();
            ordered.extend(keys.iter().filter(|(_, owner)| *owner != ente.id));
            for key in ordered {
                let (t, owner) = key;
                let (n0, h0) = before.get(&key).unwrap_or(&empty);
                let (n1, h1) = after.get(&key).unwrap_or(&empty);
                let esito = if owner == ente.id {
                    let persona = matches!(t, "persona" | "persona_cittadinanza");
                    if *n1 == 0 {
                        "eliminate"
                    } else if persona && unreferenced == 0 {
                        "conservate (persone condivise)"
                    } else if t == "operatore" && operatori_liberi == 0 {
                        "conservati (operatori condivisi)"
                    } else {
                        broken.push(format!("{n1} rows of {} remain in {t}", ente.codice));
                        "RIMASTE"
                    }
                } else if n0 == n1 && h0 == h1 {
                    "invariate"
                } else {
                    broken.push(format!("{t} of another ente (id {owner}) changed"));
                    "MODIFICATE"
                };
                proof.push(ProofRow {
                    ente: codes.get(&owner).cloned().unwrap_or_else(|| format!("id {owner}")),
                    tabella: t.to_string(),
                    righe_prima: *n0,
                    righe_dopo: *n1,
                    sha256_prima: h0.clone(),
                    sha256_dopo: h1.clone(),
                    esito: esito.to_string(),
                });
            }
            if !broken.is_empty() {
                tx.rollback().await.db("cannot roll back")?;
                return Err(Error::Refused(format!(
                    "the purge of {} could not be proven ({}): everything was rolled back, nothing was deleted",
                    ente.codice,
                    broken.join("; ")
                )));
            }
        }

        if let serde_json::Value::Object(map) = &mut entry.dettaglio {
            map.insert("scelta".into(), serde_json::to_value(choice).expect("a choice serialises"));
            map.insert("manifest_sha256".into(), manifest_sha256.clone().into());
            map.insert("bundle_generato_il".into(), manifest.generato_il.clone().into());
            if choice == Choice::Delete {
                map.insert(
                    "eliminate".into(),
                    deleted
                        .iter()
                        .map(|(t, n)| (t.to_string(), (*n).into()))
                        .collect::<serde_json::Map<_, _>>()
                        .into(),
                );
                map.insert("persone_conservate".into(), persone_conservate.into());
                map.insert("operatori_conservati".into(), operatori_conservati.into());
            }
        }
        tx.append_audit(&entry).await?;
        if dry_run {
            tx.rollback().await.db("cannot roll back the dry run")?;
        } else {
            tx.commit().await.db("cannot commit the purge")?;
        }
        Ok(PurgeReport {
            choice,
            dry_run,
            manifest_sha256,
            deleted,
            persone_conservate,
            operatori_conservati,
            proof,
        })
    })
}
