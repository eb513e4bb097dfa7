//! The append-only audit log, each entry chained to the previous by a hash so
//! that an edited, deleted or reordered entry shows.
//!
//! Entries never hold personal data: command lines are recorded without option
//! values, and details carry codes of entes and counts, never names or codici
//! fiscali.

use sqlx::Row as _;
use time::OffsetDateTime;

use crate::error::{DbContext as _, Result};
use crate::on_db;
use crate::store::Db;

/// The `hash_precedente` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a command records.
#[derive(Debug, Clone)]
pub struct Entry {
    pub operator: String,
    pub command: String,
    pub ente_codice: Option<String>,
    pub azione: String,
    pub dettaglio: serde_json::Value,
}

/// The hash of an entry given the previous one's.
pub fn chain_hash(
    previous: &str,
    at: OffsetDateTime,
    operator: &str,
    command: &str,
    ente_codice: Option<&str>,
    azione: &str,
    dettaglio: Option<&str>,
) -> String {
    // A JSON array keeps field boundaries unambiguous.
    let canonical = serde_json::json!([
        previous,
        crate::rfc3339(at),
        operator,
        command,
        ente_codice,
        azione,
        dettaglio
    ]);
    crate::sha256_hex(canonical.to_string().as_bytes())
}

/// Appends to the audit log inside the caller's transaction, so the entry
/// lands if and only if the change it describes does.
pub trait AuditWrite {
    fn append_audit(
        &mut self,
        entry: &Entry,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
}

/// Whether this PostgreSQL session must append through the server
/// (migration 0011): true for a login restricted by row-level security (a
/// technician), which sees only its own entes' entries and so not the last
/// hash of the log. The owner (siso's admin) reads the whole log and chains
/// entries itself, like on SQLite.
const PG_APPEND_ON_SERVER: &str = "SELECT NOT pg_has_role(current_user, c.relowner, 'MEMBER') \
       AND to_regprocedure('siso_audit_append(text, text, text, text, text)') IS NOT NULL \
     FROM pg_class c WHERE c.oid = 'audit_log'::regclass";

macro_rules! impl_audit_write {
    ($database:ty, $serialise:expr, $on_server:expr) => {
        impl AuditWrite for sqlx::Transaction<'_, $database> {
            async fn append_audit(&mut self, entry: &Entry) -> Result<()> {
                if let Some(check) = $on_server {
                    let on_server: bool = sqlx::query_scalar(check)
                        .fetch_one(&mut **self)
                        .await
                        .db("cannot read who owns the audit log")?;
                    if on_server {
                        // The server takes the lock, reads the last hash past
                        // row-level security, and computes chain_hash itself.
                        let dettaglio =
                            (!entry.dettaglio.is_null()).then(|| entry.dettaglio.to_string());
                        sqlx::query("SELECT siso_audit_append($1, $2, $3, $4, $5)")
                            .bind(&entry.operator)
                            .bind(&entry.command)
                            .bind(&entry.ente_codice)
                            .bind(&entry.azione)
                            .bind(&dettaglio)
                            .execute(&mut **self)
                            .await
                            .db("cannot write the audit log")?;
                        return Ok(());
                    }
                }
                if let Some(lock) = $serialise {
                    // Two writers must not both chain onto the same last entry.
                    sqlx::query(lock).execute(&mut **self).await.db("cannot lock the audit log")?;
                }
                let previous: Option<String> =
                    sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
                        .fetch_optional(&mut **self)
                        .await
                        .db("cannot read the audit log")?;
                let previous = previous.unwrap_or_else(|| GENESIS.to_string());
                let at = crate::now_utc();
                let dettaglio = (!entry.dettaglio.is_null()).then(|| entry.dettaglio.to_string());
                let hash = chain_hash(
                    &previous,
                    at,
                    &entry.operator,
                    &entry.command,
                    entry.ente_codice.as_deref(),
                    &entry.azione,
                    dettaglio.as_deref(),
                );
                sqlx::query(
                    "INSERT INTO audit_log (registrato_il, operatore, comando, ente_codice, azione, dettaglio, hash_precedente, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(at)
                .bind(&entry.operator)
                .bind(&entry.command)
                .bind(&entry.ente_codice)
                .bind(&entry.azione)
                .bind(&dettaglio)
                .bind(&previous)
                .bind(&hash)
                .execute(&mut **self)
                .await
                .db("cannot write the audit log")?;
                Ok(())
            }
        }
    };
}

impl_audit_write!(sqlx::Sqlite, None::<&'static str>, None::<&'static str>);
impl_audit_write!(
    sqlx::Postgres,
    Some("SELECT pg_advisory_xact_lock(1397314383, 1)"),
    Some(PG_APPEND_ON_SERVER)
);

/// One entry as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Record {
    pub id: i64,
    pub registrato_il: String,
    pub operatore: String,
    pub comando: String,
    pub ente_codice: Option<String>,
    pub azione: String,
    pub dettaglio: Option<String>,
    #[serde(skip)]
    pub at: OffsetDateTime,
    #[serde(skip)]
    pub hash_precedente: String,
    #[serde(skip)]
    pub hash: String,
}

/// Entries, oldest first, optionally for one ente only.
pub async fn list(db: &Db, ente_codice: Option<&str>) -> Result<Vec<Record>> {
    on_db!(db, pool => {
        let rows = sqlx::query(
            "SELECT id, registrato_il, operatore, comando, ente_codice, azione, dettaglio, hash_precedente, hash \
             FROM audit_log WHERE ($1 IS NULL OR ente_codice = $1) ORDER BY id",
        )
        .bind(ente_codice)
        .fetch_all(pool)
        .await
        .db("cannot read the audit log")?;
        rows.iter()
            .map(|r| {
                let at: OffsetDateTime = r.try_get(1).db("audit_log.registrato_il")?;
                Ok(Record {
                    id: r.try_get(0).db("audit_log.id")?,
                    registrato_il: crate::rfc3339(at),
                    operatore: r.try_get(2).db("audit_log.operatore")?,
                    comando: r.try_get(3).db("audit_log.comando")?,
                    ente_codice: r.try_get(4).db("audit_log.ente_codice")?,
                    azione: r.try_get(5).db("audit_log.azione")?,
                    dettaglio: r.try_get(6).db("audit_log.dettaglio")?,
                    at,
                    hash_precedente: r.try_get(7).db("audit_log.hash_precedente")?,
                    hash: r.try_get(8).db("audit_log.hash")?,
                })
            })
            .collect()
    })
}

/// Where the chain breaks, if it does.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Break {
    pub id: i64,
    pub reason: String,
}

/// Walks the whole chain; returns the first entry that was altered, or that
/// does not follow the entry before it (deleted or reordered).
pub async fn verify(db: &Db) -> Result<(usize, Option<Break>)> {
    if let Db::Postgres(pool) = db {
        // A login under row-level security sees only its own entes' entries:
        // the chain would look broken at every gap.
        let restricted: bool = sqlx::query_scalar(
            "SELECT NOT pg_has_role(current_user, c.relowner, 'MEMBER') \
             FROM pg_class c WHERE c.oid = 'audit_log'::regclass",
        )
        .fetch_one(pool)
        .await
        .db("cannot read who owns the audit log")?;
        if restricted {
            return Err(crate::Error::Refused(
                "this login sees only the audit entries of its own ambito, so it cannot verify the chain: \
                 run `siso audit verify` connected as siso's administrator (the owner of the tables)"
                    .into(),
            ));
        }
    }
    let records = list(db, None).await?;
    let mut previous = GENESIS.to_string();
    for r in &records {
        if r.hash_precedente != previous {
            return Ok((
                records.len(),
                Some(Break {
                    id: r.id,
                    reason: "does not follow the entry before it: an entry was deleted, inserted or reordered here".into(),
                }),
            ));
        }
        let expected = chain_hash(
            &previous,
            r.at,
            &r.operatore,
            &r.comando,
            r.ente_codice.as_deref(),
            &r.azione,
            r.dettaglio.as_deref(),
        );
        if expected != r.hash {
            return Ok((
                records.len(),
                Some(Break {
                    id: r.id,
                    reason: "its content no longer matches its hash: the entry was altered".into(),
                }),
            ));
        }
        previous = r.hash.clone();
    }
    Ok((records.len(), None))
}

/// The newest entry of the chain (id and hash): written down outside the
/// database, it is an anchor that [`missing_anchors`] checks later. The
/// chain alone cannot show that its newest entries were cut off.
pub async fn head(db: &Db) -> Result<Option<(i64, String)>> {
    on_db!(db, pool => sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
        .fetch_optional(pool)
        .await
        .db("cannot read the audit log"))
}

/// The anchors (entry hashes recorded earlier) that no entry of the log
/// carries any more: the log was cut off or rewritten after them.
pub async fn missing_anchors(db: &Db, anchors: &[String]) -> Result<Vec<String>> {
    let mut missing = Vec::new();
    for anchor in anchors {
        let a = anchor.trim().to_lowercase();
        let found: Option<i64> = on_db!(db, pool => sqlx::query_scalar("SELECT id FROM audit_log WHERE hash = $1")
            .bind(&a)
            .fetch_optional(pool)
            .await
            .db("cannot read the audit log")?);
        if found.is_none() {
            missing.push(a);
        }
    }
    Ok(missing)
}

/// Appends one entry in a transaction of its own, for commands whose change
/// is already committed by a lower layer (migrations).
pub async fn record(db: &Db, entry: &Entry) -> Result<()> {
    use crate::store::BeginWrite as _;
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        tx.append_audit(entry).await?;
        tx.commit().await.db("cannot commit the audit entry")
    })
}

/// Whether the audit log exists yet (it comes with a migration).
pub async fn available(db: &Db) -> bool {
    on_db!(db, pool => sqlx::query("SELECT 1 FROM audit_log LIMIT 1").fetch_optional(pool).await.is_ok())
}
