//! `siso import BUNDLE`: restores a hand-back bundle (written by `siso
//! handback export`) losslessly, with the bundle's own ids, so that exporting
//! the restored ente again gives the same data files byte for byte.
//!
//! Rules:
//! - The bundle must verify (`handback verify`) and be of the ente named on
//!   the command line; otherwise nothing is read into the database.
//! - A restore is into an EMPTY scope, never a merge: refused when the ente
//!   already owns case data (any table purge deletes) or when any of the
//!   bundle's case rows has an id already taken.
//! - Configuration rows (ente, adesione, appartenenza_ambito, referente,
//!   ruolo_privacy, recesso) and usage statistics are recreated when missing
//!   and kept when already present with identical content (after a purge they
//!   stay in the database); present with other content, the restore refuses.
//! - Persons of other titolari that the ente's cases point to (manifest
//!   `persone_condivise`) are restored under their own titolare, which must
//!   already exist in this database with the same id and code (restore or
//!   onboard it first): no placeholder ente is ever created. A shared person
//!   already present with identical content is kept.
//! - The bundle's audit_log entries are the history of the installation that
//!   wrote it; they are not replayed into this database's hash chain (that
//!   would break `audit verify`). The restore's own audit entry records the
//!   manifest's SHA-256, which proves exactly what was restored.
//! - Everything happens in one transaction, with an import_batch of formato
//!   `bundle` and an `import_bundle` audit entry; a dry run rolls it back.

use std::collections::HashMap;
use std::io::BufRead as _;
use std::path::Path;

use time::OffsetDateTime;

use crate::audit::{AuditWrite as _, Entry};
use crate::error::{DbContext as _, Error, Result};
use crate::handback::tables::{self, DELETE_ORDER, Kind, Purge, TABLES, Table};
use crate::handback::{self, Cell, DOCUMENTI, Manifest};
use crate::on_db;
use crate::report::statistica::StatisticaWrite as _;
use crate::store::{Backend, BeginWrite as _, Db};

/// `import_batch.formato` of a restore.
pub const FORMATO: &str = "bundle";

/// What a restore did (or, in a dry run, would do) to one table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCount {
    pub tabella: &'static str,
    /// Rows in the bundle.
    pub nel_pacchetto: u64,
    pub inserite: u64,
    /// Configuration rows and shared persons already present, identical.
    pub gia_presenti: u64,
    /// Rows deliberately not restored (the audit log, see the module doc).
    pub non_ripristinate: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreReport {
    pub ente: String,
    pub manifest_sha256: String,
    /// The import batch of the restore (None in a dry run).
    pub batch: Option<i64>,
    pub dry_run: bool,
    pub tabelle: Vec<TableCount>,
}

/// The tables in the order they are loaded: configuration first (in the
/// order of [`TABLES`]), then case data parents first (the reverse of the
/// purge's [`DELETE_ORDER`]). audit_log is not loaded.
pub fn load_order() -> Vec<&'static Table> {
    let mut order: Vec<&'static Table> = TABLES
        .iter()
        .filter(|t| t.purge == Purge::Keep && t.name != "audit_log")
        .collect();
    order.extend(DELETE_ORDER.iter().rev().map(|n| tables::table(n)));
    order
}

/// One value ready to bind, typed so that PostgreSQL accepts NULLs too.
#[derive(Debug, Clone)]
enum Param {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Date(Option<time::Date>),
    Timestamp(Option<OffsetDateTime>),
    Blob(Option<Vec<u8>>),
}

const DATE: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Columns added to a bundle table after format version 1 was first
/// written, as (table, column): a bundle without them restores them as NULL.
const ADDED_LATER: &[(&str, &str)] = &[
    // Migration 0014: inserted rows recorded as runs of ids.
    ("import_modifica", "ultimo_id"),
];

/// One row of a .jsonl file: its canonical cells (as the export wrote them)
/// and the values to bind.
struct Row {
    id: i64,
    cells: Vec<Cell>,
    params: Vec<Param>,
}

fn bad_line(table: &Table, line: usize, what: String) -> Error {
    Error::Input(format!(
        "{} line {line}: {what}; the bundle verifies, so it was written by a different version of siso: \
         restore it with the version named in manifest.json (versione_siso)",
        table.jsonl_name()
    ))
}

/// Parses one line of `table.jsonl` by the declared kinds; blobs are read
/// from documenti/<sha256>.
fn parse_row(dir: &Path, table: &Table, line: usize, text: &str) -> Result<Row> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| bad_line(table, line, format!("not JSON: {e}")))?;
    let names: Vec<&str> = object.keys().map(String::as_str).collect();
    let declared: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    // A bundle written before a column was added lacks just that column.
    let older: Vec<&str> = declared
        .iter()
        .copied()
        .filter(|c| !ADDED_LATER.contains(&(table.name, *c)))
        .collect();
    if names != declared && names != older {
        return Err(bad_line(
            table,
            line,
            format!("columns {names:?}, this siso expects {declared:?}"),
        ));
    }
    let mut cells = Vec::with_capacity(declared.len());
    let mut params = Vec::with_capacity(declared.len());
    for (name, kind) in table.columns {
        let value = object.get(*name).unwrap_or(&serde_json::Value::Null);
        let wrong = || {
            bad_line(
                table,
                line,
                format!("{name} is not a valid {kind:?}: {value}"),
            )
        };
        let (cell, param) = match (kind, value) {
            (Kind::Int, serde_json::Value::Null) => (Cell::Null, Param::Int(None)),
            (Kind::Bool, serde_json::Value::Null) => (Cell::Null, Param::Bool(None)),
            (Kind::Text, serde_json::Value::Null) => (Cell::Null, Param::Text(None)),
            (Kind::Date, serde_json::Value::Null) => (Cell::Null, Param::Date(None)),
            (Kind::Timestamp, serde_json::Value::Null) => (Cell::Null, Param::Timestamp(None)),
            (Kind::Blob, serde_json::Value::Null) => (Cell::Null, Param::Blob(None)),
            (Kind::Int, v) => {
                let n = v.as_i64().ok_or_else(wrong)?;
                (Cell::Int(n), Param::Int(Some(n)))
            }
            (Kind::Bool, v) => {
                let b = v.as_bool().ok_or_else(wrong)?;
                (Cell::Bool(b), Param::Bool(Some(b)))
            }
            (kind, serde_json::Value::String(s)) => {
                let param = match kind {
                    Kind::Text => Param::Text(Some(s.clone())),
                    Kind::Date => {
                        Param::Date(Some(time::Date::parse(s, DATE).map_err(|_| wrong())?))
                    }
                    Kind::Timestamp => Param::Timestamp(Some(
                        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                            .map_err(|_| wrong())?,
                    )),
                    Kind::Blob => Param::Blob(Some(read_document(dir, table, line, s)?)),
                    Kind::Int | Kind::Bool => unreachable!("matched above"),
                };
                (Cell::Str(s.clone()), param)
            }
            _ => return Err(wrong()),
        };
        cells.push(cell);
        params.push(param);
    }
    let Cell::Int(id) = cells[0] else {
        return Err(bad_line(table, line, "id is missing".into()));
    };
    Ok(Row { id, cells, params })
}

/// The bytes of documenti/<sha256> (verify already checked that each
/// document's name is the hash of its content).
fn read_document(dir: &Path, table: &Table, line: usize, hash: &str) -> Result<Vec<u8>> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad_line(
            table,
            line,
            format!("{hash:?} is not the SHA-256 of a document"),
        ));
    }
    let path = dir.join(DOCUMENTI).join(hash);
    std::fs::read(&path).map_err(|e| {
        Error::io(
            format!(
                "{} line {line} names the document {}, which cannot be read",
                table.jsonl_name(),
                path.display()
            ),
            e,
        )
    })
}

/// Every row of `table.jsonl`.
fn read_table(dir: &Path, table: &Table) -> Result<Vec<Row>> {
    let path = dir.join(table.jsonl_name());
    let file = std::fs::File::open(&path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let mut rows = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        rows.push(parse_row(dir, table, n + 1, &line)?);
    }
    Ok(rows)
}

/// Verifies the bundle and checks it is the ente's.
fn check(dir: &Path, ente: &str) -> Result<(Manifest, String)> {
    let report = handback::verify::verify(dir, None)?;
    if !report.ok() {
        let list: Vec<String> = report
            .problems
            .iter()
            .take(5)
            .map(|p| format!("{}: {}", p.file, p.problem))
            .collect();
        return Err(Error::Refused(format!(
            "the bundle {} does not verify ({} problem(s): {}{}): nothing was imported; \
             see `siso handback verify {}` and ask for a new export",
            dir.display(),
            report.problems.len(),
            list.join("; "),
            if report.problems.len() > 5 {
                "; ..."
            } else {
                ""
            },
            dir.display()
        )));
    }
    let sha = report
        .manifest_sha256
        .expect("a verified bundle has a manifest");
    let manifest = report.manifest.expect("a verified bundle has a manifest");
    let ente = ente.trim().to_uppercase();
    if manifest.ente.codice != ente {
        return Err(Error::Usage(format!(
            "the bundle {} is of ente {}, not {ente}: give --ente {}",
            dir.display(),
            manifest.ente.codice,
            manifest.ente.codice
        )));
    }
    Ok((manifest, sha))
}

/// A write refused by a constraint says which row of the bundle it was.
fn insert_error(table: &Table, id: i64, source: sqlx::Error) -> Error {
    use sqlx::error::ErrorKind;
    let kind = source.as_database_error().map(|d| d.kind());
    match kind {
        Some(ErrorKind::ForeignKeyViolation) => Error::Refused(format!(
            "{} id {id} refers to a row that is not in this database nor in the bundle \
             (e.g. another ente or a protocol edition): create it first; nothing was imported ({source})",
            table.name
        )),
        Some(ErrorKind::UniqueViolation) => Error::Refused(format!(
            "{} id {id} clashes with a row already in this database ({source}): \
             a restore goes into an empty scope, never a merge; nothing was imported",
            table.name
        )),
        _ => Error::Database {
            context: format!("cannot insert {} id {id}", table.name),
            source,
        },
    }
}

/// Restores the bundle in `dir` for ente `ente` (its code; it must be the
/// bundle's). `entry` is the audit entry of the command; its dettaglio gets
/// the ente, the manifest's SHA-256, the batch and the row counts.
pub async fn restore(
    db: &Db,
    dir: &Path,
    ente: &str,
    dry_run: bool,
    mut entry: Entry,
) -> Result<RestoreReport> {
    let (manifest, manifest_sha256) = check(dir, ente)?;
    let codice = manifest.ente.codice.clone();

    // The ente's own row tells its id, which every other row refers to.
    let ente_rows = read_table(dir, tables::table("ente"))?;
    let ente_id = match ente_rows.as_slice() {
        [row] if row.cells[1] == Cell::Str(codice.clone()) => row.id,
        _ => {
            return Err(Error::Input(format!(
                "ente.jsonl of {} must hold exactly the row of {codice}",
                dir.display()
            )));
        }
    };
    let condivise: HashMap<i64, &str> = manifest
        .persone_condivise
        .iter()
        .map(|p| (p.id, p.titolare.as_str()))
        .collect();

    let order = load_order();
    let backend = db.backend();
    let mut counts: Vec<TableCount> = Vec::new();
    let batch = on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;

        // Empty scope: the ente owns no case data here.
        for table in DELETE_ORDER.iter().map(|n| tables::table(n)) {
            let owner = table.owner.expect("purged tables have an owner");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {} WHERE {owner} = $1",
                table.name
            )))
            .bind(ente_id)
            .fetch_one(&mut *tx)
            .await
            .db("cannot check that the ente has no data")?;
            if n > 0 {
                return Err(Error::Refused(format!(
                    "{codice} already has {n} row(s) in {} in this database: a bundle is restored \
                     only into an empty scope, never merged; nothing was imported",
                    table.name
                )));
            }
        }

        for table in &order {
            let rows = read_table(dir, table)?;
            let mut count = TableCount {
                tabella: table.name,
                nel_pacchetto: rows.len() as u64,
                inserite: 0,
                gia_presenti: 0,
                non_ripristinate: 0,
            };
            let cols: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
            let select = format!("SELECT {} FROM {} WHERE id = $1", cols.join(", "), table.name);
            let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
            let insert = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                table.name,
                cols.join(", "),
                placeholders.join(", ")
            );
            for row in rows {
                // A person of another titolare: that titolare must be here.
                let shared = table.name == "persona" && row.cells[1] != Cell::Int(ente_id);
                if shared {
                    let titolare_id = match row.cells[1] { Cell::Int(t) => t, _ => -1 };
                    let Some(titolare) = condivise.get(&row.id) else {
                        return Err(Error::Input(format!(
                            "persona id {} of the bundle belongs to another titolare but is not listed \
                             in manifest.json persone_condivise",
                            row.id
                        )));
                    };
                    let here: Option<String> = sqlx::query_scalar("SELECT codice FROM ente WHERE id = $1")
                        .bind(titolare_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .db("cannot read ente")?;
                    if here.as_deref() != Some(*titolare) {
                        return Err(Error::Refused(format!(
                            "the bundle holds persona id {} of titolare {titolare} (ente id {titolare_id}), \
                             shared with {codice}'s cases, but {}: restore or onboard {titolare} first so \
                             that it has id {titolare_id}, then run the restore again; nothing was imported",
                            row.id,
                            match here {
                                None => format!("this database has no ente with id {titolare_id}"),
                                Some(other) => format!("ente id {titolare_id} is {other} here"),
                            }
                        )));
                    }
                }
                let existing = sqlx::query(sqlx::AssertSqlSafe(select.clone()))
                    .bind(row.id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|source| Error::Database {
                        context: format!("cannot read {}", table.name),
                        source,
                    })?;
                if let Some(existing) = existing {
                    let mut cells = Vec::with_capacity(cols.len());
                    for (i, (name, kind)) in table.columns.iter().enumerate() {
                        let cell = handback::decode(&existing, i, *kind).map_err(|source| {
                            Error::Database { context: format!("cannot decode {}.{name}", table.name), source }
                        })?;
                        cells.push(match cell {
                            Cell::Blob(bytes) => Cell::Str(crate::sha256_hex(&bytes)),
                            other => other,
                        });
                    }
                    let keepable = table.purge == Purge::Keep || shared;
                    if keepable && cells == row.cells {
                        count.gia_presenti += 1;
                        continue;
                    }
                    return Err(Error::Refused(format!(
                        "{} id {} of the bundle already exists in this database{}: a bundle is restored \
                         only into an empty scope, never merged; nothing was imported",
                        table.name,
                        row.id,
                        if keepable { " with different content" } else { "" }
                    )));
                }
                let mut query = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
                for param in row.params {
                    query = match param {
                        Param::Int(v) => query.bind(v),
                        Param::Bool(v) => query.bind(v),
                        Param::Text(v) => query.bind(v),
                        Param::Date(v) => query.bind(v),
                        Param::Timestamp(v) => query.bind(v),
                        Param::Blob(v) => query.bind(v),
                    };
                }
                query
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| insert_error(table, row.id, e))?;
                count.inserite += 1;
            }
            if backend == Backend::Postgres && count.inserite > 0 {
                // Explicit ids do not move identity sequences: later inserts
                // would collide with the restored rows.
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT setval(pg_get_serial_sequence('{0}', 'id'), m) FROM (SELECT max(id) AS m FROM {0}) s",
                    table.name
                )))
                .execute(&mut *tx)
                .await
                .db("cannot advance the id sequence")?;
            }
            counts.push(count);
        }
        let audit_rows = read_table(dir, tables::table("audit_log"))?.len() as u64;
        counts.push(TableCount {
            tabella: "audit_log",
            nel_pacchetto: audit_rows,
            inserite: 0,
            gia_presenti: 0,
            non_ripristinate: audit_rows,
        });

        let righe: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|c| (c.tabella.to_string(), c.inserite.into()))
            .collect();
        let now = crate::now_utc();
        let conteggi = serde_json::json!({
            "manifest_sha256": manifest_sha256,
            "inserite": righe,
        });
        let batch: i64 = sqlx::query_scalar(
            "INSERT INTO import_batch (ente_id, avviato_il, concluso_il, operatore, formato, stato, conteggi) \
             VALUES ($1, $2, $2, $3, $4, 'completato', $5) RETURNING id",
        )
        .bind(ente_id)
        .bind(now)
        .bind(&entry.operator)
        .bind(FORMATO)
        .bind(conteggi.to_string())
        .fetch_one(&mut *tx)
        .await
        .db("cannot record the import batch")?;

        let mut dettaglio = serde_json::Map::new();
        dettaglio.insert("ente".into(), codice.clone().into());
        dettaglio.insert("manifest_sha256".into(), manifest_sha256.clone().into());
        dettaglio.insert("batch".into(), batch.into());
        dettaglio.insert("righe".into(), righe.into());
        if let serde_json::Value::Object(extra) = &entry.dettaglio {
            dettaglio.extend(extra.clone());
        }
        entry.dettaglio = dettaglio.into();
        // The usage statistics count the restored case data; those archived
        // when the same data was purged here would count it twice.
        tx.forget_archived_statistica(ente_id).await?;
        tx.refresh_statistica(ente_id).await?;
        tx.append_audit(&entry).await?;

        if dry_run {
            tx.rollback().await.db("cannot roll back the dry run")?;
            None
        } else {
            tx.commit().await.db("cannot commit the restore")?;
            Some(batch)
        }
    });
    Ok(RestoreReport {
        ente: codice,
        manifest_sha256,
        batch,
        dry_run,
        tabelle: counts,
    })
}

/// Restores a hand-back archive (`.tar.gz`, or encrypted with age:
/// `identity` is the age identity file that decrypts it). The archive is
/// extracted into a private temporary folder (mode 0700, under TMPDIR),
/// restored from there like a folder, and the folder is removed afterwards,
/// on failure too.
pub async fn restore_archive(
    db: &Db,
    archive: &Path,
    identity: Option<&Path>,
    ente: &str,
    dry_run: bool,
    entry: Entry,
) -> Result<RestoreReport> {
    let scratch = handback::archive::ScratchDir::new("restore")?;
    handback::archive::extract(archive, identity, scratch.path())?;
    restore(db, scratch.path(), ente, dry_run, entry)
        .await
        .map_err(|e| {
            // Messages name the archive the user gave, not the temporary folder.
            let from = scratch.path().display().to_string();
            let to = archive.display().to_string();
            match e {
                Error::Usage(m) => Error::Usage(m.replace(&from, &to)),
                Error::Input(m) => Error::Input(m.replace(&from, &to)),
                Error::Refused(m) => Error::Refused(m.replace(&from, &to)),
                other => other,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_but_the_audit_log_is_loaded_once_parents_first() {
        let order = load_order();
        for t in TABLES {
            let n = order.iter().filter(|o| o.name == t.name).count();
            assert_eq!(n, usize::from(t.name != "audit_log"), "{}", t.name);
        }
        let pos = |n: &str| order.iter().position(|t| t.name == n).unwrap();
        for (child, parent) in [
            ("persona", "ente"),
            ("cartella", "persona"),
            ("cartella", "operatore"),
            ("erogazione", "intervento"),
            ("valutazione_sina", "intervento"),
            ("import_file", "import_batch"),
            ("crosswalk", "import_batch"),
            ("import_modifica", "import_batch"),
            ("documento", "cartella"),
            ("nucleo_componente", "persona"),
        ] {
            assert!(pos(parent) < pos(child), "{parent} before {child}");
        }
    }
}
