//! Storage: one database, SQLite (the embedded default) or PostgreSQL (production).
//!
//! Both backends hold the same logical model in their own migration folder. Code
//! that reads or writes is written once and compiled for both pools through
//! [`on_db!`]: every query uses `$1`-style parameters, which both drivers accept.

pub mod lookup;
pub mod migrate;
pub mod reference;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::error::{Error, Result};

/// The URL used when none is given: a SQLite file in the current directory.
pub const DEFAULT_URL: &str = "sqlite:siso.db";

/// How long a command waits, by default, for a SQLite file locked by another
/// process before giving up (see [`Db::connect_with`]).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connecting to PostgreSQL may take (an unreachable host that
/// drops packets would otherwise hang until the kernel gives up).
const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// An open database.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code against whichever pool `$db` holds; the body is compiled
/// once per backend, so it must use only types both drivers encode.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}

/// What a connection found worth telling the technician.
#[derive(Debug, Default)]
pub struct ConnectNotes {
    /// The SQLite file did not exist and was created (with mode 0600).
    pub created: Option<PathBuf>,
    /// Warnings, e.g. a database file readable by other users.
    pub warnings: Vec<String>,
}

/// Where a URL points, decided without touching the network or the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    SqliteFile(PathBuf),
    SqliteMemory,
    Postgres(String),
}

impl Target {
    pub fn parse(url: &str) -> Result<Target> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::Usage("the database URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let path = rest.split('?').next().unwrap_or_default();
            if path == ":memory:" || path.is_empty() {
                return Ok(Target::SqliteMemory);
            }
            return Ok(Target::SqliteFile(PathBuf::from(path)));
        }
        if url.contains("://") {
            return Err(Error::Usage(format!(
                "unsupported database URL {}: use sqlite:FILE or postgres://USER@HOST/DB",
                redact_url(url)
            )));
        }
        // A bare path is a SQLite file.
        Ok(Target::SqliteFile(PathBuf::from(url)))
    }
}

/// The URL with any password replaced, safe for logs and messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparseable: hide everything between "://" and "@" to be safe.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                format!("{}***{}", &url[..start + 3], &url[at..])
            }
            _ => url.to_string(),
        },
    }
}

impl Db {
    /// Opens the database at `url`, creating a missing SQLite file with
    /// owner-only permissions.
    pub async fn connect(url: &str) -> Result<(Db, ConnectNotes)> {
        Db::connect_with(url, DEFAULT_LOCK_TIMEOUT).await
    }

    /// Like [`Db::connect`]; a SQLite file locked by another process (a
    /// writer, a `sqlite3` shell, a backup) is waited for up to
    /// `lock_timeout`, then the statement fails with SQLITE_BUSY (see
    /// [`is_locked`]). PostgreSQL waits on its own locks as long as needed.
    pub async fn connect_with(url: &str, lock_timeout: Duration) -> Result<(Db, ConnectNotes)> {
        let mut notes = ConnectNotes::default();
        match Target::parse(url)? {
            Target::Postgres(url) => {
                let options = PgConnectOptions::from_str(&url).map_err(|e| {
                    Error::Usage(format!("invalid PostgreSQL URL {}: {e}", redact_url(&url)))
                })?;
                let cannot_connect = |source| Error::Database {
                    context: format!(
                        "cannot connect to PostgreSQL at {} (is the server running and the database created?)",
                        redact_url(&url)
                    ),
                    source,
                };
                // One plain attempt first: the pool retries a refused
                // connection until its timeout and then reports only that it
                // timed out, hiding the cause ("connection refused", "database
                // does not exist", a wrong password).
                let probe = tokio::time::timeout(
                    PG_CONNECT_TIMEOUT,
                    sqlx::ConnectOptions::connect(&options),
                )
                .await
                .unwrap_or_else(|_| {
                    Err(sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no answer within {} s", PG_CONNECT_TIMEOUT.as_secs()),
                    )))
                })
                .map_err(cannot_connect)?;
                let _ = sqlx::Connection::close(probe).await;
                let pool = PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(PG_CONNECT_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(cannot_connect)?;
                Ok((Db::Postgres(pool), notes))
            }
            Target::SqliteMemory => {
                let options = SqliteConnectOptions::from_str("sqlite::memory:")
                    .expect("static URL")
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await
                    .map_err(|source| Error::Database {
                        context: "cannot open an in-memory SQLite database".into(),
                        source,
                    })?;
                Ok((Db::Sqlite(pool), notes))
            }
            Target::SqliteFile(path) => {
                if create_private_file(&path)? {
                    notes.created = Some(path.clone());
                } else if let Some(warning) = permission_warning(&path) {
                    notes.warnings.push(warning);
                }
                let options = SqliteConnectOptions::new()
                    .filename(&path)
                    .foreign_keys(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(lock_timeout);
                // One connection: a single-user embedded file, and transactions
                // never wait on another connection of the same process.
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(lock_timeout + Duration::from_secs(5))
                    .connect_with(options)
                    .await
                    .map_err(|source| Error::Database {
                        context: format!("cannot open the SQLite database {}", path.display()),
                        source,
                    })?;
                Ok((Db::Sqlite(pool), notes))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

/// Creates `path` empty with mode 0600 if it does not exist; says whether it did.
fn create_private_file(path: &Path) -> Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    if let Some(parent) = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty() && !p.exists())
    {
        return Err(Error::Usage(format!(
            "cannot create the database {}: the folder {} does not exist",
            path.display(),
            parent.display()
        )));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(format!("cannot create {}", path.display()), e)),
    }
}

/// A warning when a database file full of personal data is readable by others.
fn permission_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return Some(format!(
                "{} is accessible by group or others (mode {:o}); it holds personal data: run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

/// Whether a database error is SQLite's "the file is locked by another
/// process" (SQLITE_BUSY or SQLITE_LOCKED, any extended code), which comes
/// once the lock timeout has run out.
pub fn is_locked(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(e) = error else {
        return false;
    };
    if e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_none() {
        return false;
    }
    e.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// Whether a PostgreSQL error means the connection to the server was lost
/// or could not be made: the server is down or unreachable, restarted, or an
/// administrator ended the session (or the pool found no connection within
/// its timeout). A transaction open at that moment was rolled back by the
/// server.
pub fn is_connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            // Class 57 "operator intervention" (57P01 admin shutdown, 57P02
            // crash shutdown, 57P03 cannot connect now) and class 08
            // "connection exception".
            .is_some_and(|e| e.code().starts_with("57P") || e.code().starts_with("08")),
        _ => false,
    }
}

/// Opens a transaction that will write: on SQLite it takes the write lock at
/// once (`BEGIN IMMEDIATE`), so two processes queue instead of failing later
/// with a lock upgrade error.
pub trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Database>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        use crate::error::DbContext;
        self.begin_with("BEGIN IMMEDIATE")
            .await
            .db("cannot start a write transaction (is another siso writing to this file?)")
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        use crate::error::DbContext;
        self.begin().await.db("cannot start a transaction")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_redaction() {
        let red = redact_url("postgres://siso:s3cret@db.example:5432/siso");
        assert!(!red.contains("s3cret"), "{red}");
        assert!(red.contains("siso:***@db.example"), "{red}");
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert!(!redact_url("postgres://u:p@ss@h/d").contains("p@ss"));
    }

    #[test]
    fn lost_connections_and_locks_are_told_apart() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_connection_lost(&io));
        assert!(!is_locked(&io));
        assert!(is_connection_lost(&sqlx::Error::PoolTimedOut));
        assert!(!is_connection_lost(&sqlx::Error::RowNotFound));
        assert!(!is_locked(&sqlx::Error::RowNotFound));
    }

    #[tokio::test]
    async fn a_locked_file_is_recognised_after_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("t.db").display());
        let (a, _) = Db::connect_with(&url, Duration::from_millis(50))
            .await
            .unwrap();
        let (b, _) = Db::connect_with(&url, Duration::from_millis(50))
            .await
            .unwrap();
        let (Db::Sqlite(a), Db::Sqlite(b)) = (a, b) else {
            unreachable!()
        };
        let _held = a.begin_write().await.unwrap();
        let started = std::time::Instant::now();
        let Err(Error::Database { source, .. }) = b.begin_write().await else {
            panic!("a second writer got the lock");
        };
        assert!(is_locked(&source), "{source}");
        assert!(!is_connection_lost(&source));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn urls_are_classified() {
        assert_eq!(
            Target::parse("sqlite:siso.db").unwrap(),
            Target::SqliteFile("siso.db".into())
        );
        assert_eq!(
            Target::parse("sqlite://x/y.db").unwrap(),
            Target::SqliteFile("x/y.db".into())
        );
        assert_eq!(
            Target::parse("sqlite::memory:").unwrap(),
            Target::SqliteMemory
        );
        assert_eq!(
            Target::parse("data/siso.db").unwrap(),
            Target::SqliteFile("data/siso.db".into())
        );
        assert!(matches!(
            Target::parse("postgresql://h/d").unwrap(),
            Target::Postgres(_)
        ));
        assert!(Target::parse("mysql://h/d").is_err());
        assert!(Target::parse("  ").is_err());
    }
}
