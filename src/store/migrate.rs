//! Versioned schema migrations, embedded in the binary, one folder per backend.
//!
//! Better than a bare runner in the ways that matter to a shared platform:
//! every checksum mismatch is reported (not just the first), a changed
//! migration can be repaired on purpose with an audit entry, a dry run really
//! executes and rolls back, PostgreSQL runs are serialised with an advisory
//! lock, and a database newer than the binary is refused.

use sqlx::Row as _;
use time::OffsetDateTime;

use super::{Backend, BeginWrite as _, Db};
use crate::error::{DbContext as _, Error, Result};
use crate::on_db;

/// One migration as compiled into the binary.
#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub up: &'static str,
    pub down: &'static str,
}

/// Marker line of a down script that destroys data; reverting it asks first.
const DATA_BEARING_MARKER: &str = "-- siso:data-bearing";

/// Key of the PostgreSQL advisory lock held while migrating ("SISO" in ASCII).
const PG_LOCK_KEY: i64 = 0x5349_534f;

static SQLITE: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations_sqlite.rs"));
static POSTGRES: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations_postgres.rs"));

impl Migration {
    /// SHA-256 of the up script, hex.
    pub fn checksum(&self) -> String {
        crate::sha256_hex(self.up.as_bytes())
    }

    pub fn data_bearing(&self) -> bool {
        self.down.lines().any(|l| l.trim() == DATA_BEARING_MARKER)
    }
}

/// The migrations this binary carries for a backend, by ascending version.
pub fn embedded(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// The newest schema version this binary knows for a backend.
pub fn latest_version(backend: Backend) -> i64 {
    embedded(backend).last().map_or(0, |m| m.version)
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Applied,
    Pending,
    /// Applied, but the file in this binary differs from what was applied.
    Changed,
    /// Applied by a newer siso: this binary does not know it.
    Unknown,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub version: i64,
    pub name: String,
    pub state: State,
    /// Checksum of the file in this binary (none for unknown migrations).
    pub checksum: Option<String>,
    /// Checksum recorded when it was applied.
    pub applied_checksum: Option<String>,
    pub applied_at: Option<String>,
}

#[derive(Debug, Clone)]
struct AppliedRow {
    version: i64,
    name: String,
    checksum: String,
    applied_at: String,
}

const CREATE_BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS siso_migrazioni (
    versione BIGINT PRIMARY KEY,
    nome TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applicata_il TEXT NOT NULL,
    durata_ms BIGINT NOT NULL
)";

async fn bookkeeping_exists(db: &Db) -> Result<bool> {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'siso_migrazioni'",
        )
        .fetch_one(pool)
        .await
        .map(|n| n > 0),
        Db::Postgres(pool) => {
            sqlx::query_scalar::<_, bool>("SELECT to_regclass('siso_migrazioni') IS NOT NULL")
                .fetch_one(pool)
                .await
        }
    }
    .db("cannot look for the migrations table")
}

/// What the database says was applied; nothing when it was never migrated.
/// Reading never creates the table: only a locked `run` does, so concurrent
/// readers and runners cannot race on its creation.
async fn applied(db: &Db) -> Result<Vec<AppliedRow>> {
    if !bookkeeping_exists(db).await? {
        return Ok(Vec::new());
    }
    on_db!(db, pool => {
        let rows = sqlx::query("SELECT versione, nome, checksum, applicata_il FROM siso_migrazioni ORDER BY versione")
            .fetch_all(pool)
            .await
            .db("cannot read the migrations table")?;
        rows.iter()
            .map(|r| {
                Ok(AppliedRow {
                    version: r.try_get(0).db("siso_migrazioni.versione")?,
                    name: r.try_get(1).db("siso_migrazioni.nome")?,
                    checksum: r.try_get(2).db("siso_migrazioni.checksum")?,
                    applied_at: r.try_get(3).db("siso_migrazioni.applicata_il")?,
                })
            })
            .collect()
    })
}

fn compare(backend: Backend, applied: &[AppliedRow]) -> Vec<Status> {
    let mut out = Vec::new();
    for m in embedded(backend) {
        let checksum = m.checksum();
        let row = applied.iter().find(|a| a.version == m.version);
        let state = match row {
            None => State::Pending,
            Some(a) if a.checksum == checksum => State::Applied,
            Some(_) => State::Changed,
        };
        out.push(Status {
            version: m.version,
            name: m.name.to_string(),
            state,
            checksum: Some(checksum),
            applied_checksum: row.map(|a| a.checksum.clone()),
            applied_at: row.map(|a| a.applied_at.clone()),
        });
    }
    for a in applied {
        if !embedded(backend).iter().any(|m| m.version == a.version) {
            out.push(Status {
                version: a.version,
                name: a.name.clone(),
                state: State::Unknown,
                checksum: None,
                applied_checksum: Some(a.checksum.clone()),
                applied_at: Some(a.applied_at.clone()),
            });
        }
    }
    out.sort_by_key(|s| s.version);
    out
}

/// Applied, pending, changed and unknown migrations, with both checksums.
pub async fn status(db: &Db) -> Result<Vec<Status>> {
    Ok(compare(db.backend(), &applied(db).await?))
}

/// Every problem that makes the applied schema untrustworthy, in one list.
pub fn problems(statuses: &[Status]) -> Vec<String> {
    statuses
        .iter()
        .filter_map(|s| match s.state {
            State::Changed => Some(format!(
                "migration {} ({}) was changed after it was applied: applied checksum {}, file checksum {}",
                s.version,
                s.name,
                s.applied_checksum.as_deref().unwrap_or("-"),
                s.checksum.as_deref().unwrap_or("-")
            )),
            State::Unknown => Some(format!(
                "migration {} ({}) is applied but unknown to this siso: the database is newer than this binary",
                s.version, s.name
            )),
            _ => None,
        })
        .collect()
}

fn newer_schema_error(statuses: &[Status], backend: Backend) -> Option<Error> {
    let newest = statuses
        .iter()
        .filter(|s| s.state == State::Unknown)
        .map(|s| s.version)
        .max()?;
    Some(Error::Schema(format!(
        "the database schema is at version {newest}, newer than this siso (it knows up to version {}): \
         upgrade siso before using this database",
        latest_version(backend)
    )))
}

/// Refuses a database whose schema is not exactly the one this binary expects.
/// Every command that reads or writes domain data calls this first.
pub async fn ensure_current(db: &Db) -> Result<()> {
    let statuses = status(db).await?;
    if let Some(e) = newer_schema_error(&statuses, db.backend()) {
        return Err(e);
    }
    let pending: Vec<i64> = statuses
        .iter()
        .filter(|s| s.state == State::Pending)
        .map(|s| s.version)
        .collect();
    if !pending.is_empty() {
        return Err(Error::Schema(format!(
            "the database is not initialised or not up to date ({} migration(s) pending): run `siso init` \
             (or `siso migrate run`) first",
            pending.len()
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Applied {
    pub version: i64,
    pub name: String,
    pub millis: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunReport {
    pub dry_run: bool,
    pub applied: Vec<Applied>,
}

/// Applies every pending migration in one transaction (all or nothing).
/// With `dry_run` the scripts really run, then everything is rolled back.
pub async fn run(db: &Db, dry_run: bool) -> Result<RunReport> {
    let backend = db.backend();
    on_db!(db, pool => {
        let mut conn = pool.acquire().await.db("cannot get a database connection")?;
        if backend == Backend::Postgres {
            // Session-level lock: a second `migrate run` waits here, then finds nothing pending.
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(PG_LOCK_KEY)
                .execute(&mut *conn)
                .await
                .db("cannot take the migration lock")?;
        }
        let result = async {
            // The transaction runs on the connection that holds the lock.
            let begin: &'static str = match backend {
                Backend::Sqlite => "BEGIN IMMEDIATE",
                Backend::Postgres => "BEGIN",
            };
            let mut tx = sqlx::Connection::begin_with(&mut *conn, begin)
                .await
                .db("cannot start the migration transaction (is another siso writing to this database?)")?;
            sqlx::query(CREATE_BOOKKEEPING).execute(&mut *tx).await.db("cannot create the migrations table")?;
            // Re-read inside the transaction: another run may have finished meanwhile.
            let rows = sqlx::query("SELECT versione, nome, checksum, applicata_il FROM siso_migrazioni ORDER BY versione")
                .fetch_all(&mut *tx)
                .await
                .db("cannot read the migrations table")?;
            let applied_rows: Vec<AppliedRow> = rows
                .iter()
                .map(|r| AppliedRow {
                    version: r.get(0),
                    name: r.get(1),
                    checksum: r.get(2),
                    applied_at: r.get(3),
                })
                .collect();
            let statuses = compare(backend, &applied_rows);
            if let Some(e) = newer_schema_error(&statuses, backend) {
                return Err(e);
            }
            let problems = problems(&statuses);
            if !problems.is_empty() {
                return Err(Error::Schema(format!(
                    "refusing to migrate:\n  {}\nrestore the original migration files, or accept the change with `siso migrate repair VERSION`",
                    problems.join("\n  ")
                )));
            }
            let mut report = RunReport { dry_run, applied: Vec::new() };
            for m in embedded(backend) {
                if statuses.iter().any(|s| s.version == m.version && s.state != State::Pending) {
                    continue;
                }
                let started = std::time::Instant::now();
                sqlx::raw_sql(sqlx::AssertSqlSafe(m.up))
                    .execute(&mut *tx)
                    .await
                    .db(&format!("migration {} ({}) failed; nothing was applied", m.version, m.name))?;
                let millis = started.elapsed().as_millis() as u64;
                sqlx::query("INSERT INTO siso_migrazioni (versione, nome, checksum, applicata_il, durata_ms) VALUES ($1, $2, $3, $4, $5)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(m.checksum())
                    .bind(crate::now_rfc3339())
                    .bind(millis as i64)
                    .execute(&mut *tx)
                    .await
                    .db("cannot record the migration")?;
                report.applied.push(Applied { version: m.version, name: m.name.to_string(), millis });
            }
            if dry_run {
                tx.rollback().await.db("cannot roll back the dry run")?;
            } else {
                tx.commit().await.db("cannot commit the migrations")?;
            }
            Ok(report)
        }
        .await;
        if backend == Backend::Postgres {
            // Closing the session would release it too; say it explicitly.
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(PG_LOCK_KEY).execute(&mut *conn).await;
        }
        result
    })
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RevertStep {
    pub version: i64,
    pub name: String,
    pub data_bearing: bool,
}

/// Which applied migrations a revert down to `to_version` (exclusive: that
/// version stays applied) would undo, newest first.
pub async fn plan_revert(db: &Db, to_version: i64) -> Result<Vec<RevertStep>> {
    let backend = db.backend();
    let statuses = status(db).await?;
    if let Some(e) = newer_schema_error(&statuses, backend) {
        return Err(e);
    }
    let mut steps = Vec::new();
    for s in statuses.iter().rev() {
        if s.version <= to_version || s.state == State::Pending {
            continue;
        }
        let m = embedded(backend)
            .iter()
            .find(|m| m.version == s.version)
            .expect("known, since unknown versions were refused");
        steps.push(RevertStep {
            version: m.version,
            name: m.name.to_string(),
            data_bearing: m.data_bearing(),
        });
    }
    Ok(steps)
}

/// Runs the down scripts of `steps` in one transaction.
pub async fn revert(db: &Db, steps: &[RevertStep], dry_run: bool) -> Result<()> {
    let backend = db.backend();
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        for step in steps {
            let m = embedded(backend)
                .iter()
                .find(|m| m.version == step.version)
                .ok_or_else(|| Error::Schema(format!("migration {} is unknown to this siso", step.version)))?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(m.down))
                .execute(&mut *tx)
                .await
                .db(&format!("reverting migration {} ({}) failed; nothing was reverted", m.version, m.name))?;
            sqlx::query("DELETE FROM siso_migrazioni WHERE versione = $1")
                .bind(m.version)
                .execute(&mut *tx)
                .await
                .db("cannot update the migrations table")?;
        }
        if dry_run {
            tx.rollback().await.db("cannot roll back the dry run")?;
        } else {
            tx.commit().await.db("cannot commit the revert")?;
        }
        Ok(())
    })
}

/// The status of migration `version` if it is one [`repair`] can accept.
fn repairable(statuses: &[Status], version: i64) -> Result<&Status> {
    let s = statuses
        .iter()
        .find(|s| s.version == version)
        .ok_or_else(|| Error::Usage(format!("there is no migration {version}")))?;
    if s.state != State::Changed {
        return Err(Error::Refused(format!(
            "migration {version} ({}) is {:?}, not changed: nothing to repair",
            s.name, s.state
        )));
    }
    Ok(s)
}

/// Refuses, before anyone is asked to confirm, a repair [`repair`] would refuse.
pub async fn check_repair(db: &Db, version: i64) -> Result<()> {
    repairable(&status(db).await?, version).map(|_| ())
}

/// Accepts the binary's version of one changed migration: records its
/// checksum in place of the applied one. The caller writes the audit entry.
pub async fn repair(db: &Db, version: i64) -> Result<(String, String)> {
    let statuses = status(db).await?;
    let s = repairable(&statuses, version)?;
    let old = s.applied_checksum.clone().unwrap_or_default();
    let new = s.checksum.clone().unwrap_or_default();
    on_db!(db, pool => {
        sqlx::query("UPDATE siso_migrazioni SET checksum = $1 WHERE versione = $2")
            .bind(&new)
            .bind(version)
            .execute(pool)
            .await
            .db("cannot update the migrations table")?;
    });
    Ok((old, new))
}

/// Time of an applied migration, for display.
pub fn applied_time(s: &Status) -> Option<OffsetDateTime> {
    s.applied_at
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_carry_the_same_versions() {
        let s: Vec<_> = SQLITE.iter().map(|m| (m.version, m.name)).collect();
        let p: Vec<_> = POSTGRES.iter().map(|m| (m.version, m.name)).collect();
        assert_eq!(
            s, p,
            "every migration needs a SQLite and a PostgreSQL version"
        );
        assert!(!s.is_empty());
    }

    #[test]
    fn a_changed_file_is_reported_with_both_checksums() {
        let m = &SQLITE[0];
        let applied = vec![AppliedRow {
            version: m.version,
            name: m.name.into(),
            checksum: "0000".into(),
            applied_at: "2026-01-01T00:00:00Z".into(),
        }];
        let st = compare(Backend::Sqlite, &applied);
        assert_eq!(st[0].state, State::Changed);
        let p = problems(&st);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("0000") && p[0].contains(&m.checksum()));
    }

    #[test]
    fn an_unknown_version_means_a_newer_database() {
        let applied = vec![AppliedRow {
            version: 9999,
            name: "futuro".into(),
            checksum: "x".into(),
            applied_at: "2030-01-01T00:00:00Z".into(),
        }];
        let st = compare(Backend::Postgres, &applied);
        assert!(st.iter().any(|s| s.state == State::Unknown));
        assert!(newer_schema_error(&st, Backend::Postgres).is_some());
    }
}
