//! Shared test harness: every test runs the real binary against a database of
//! its own, on SQLite always and on PostgreSQL when one is reachable.
//!
//! PostgreSQL: `SISO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) is the server where each test
//! creates and drops its own uniquely named database, so tests run in
//! parallel. Without a server the PostgreSQL half is skipped and says so on
//! stderr; `SISO_REQUIRE_POSTGRES=1` (set by `.ci/run`) turns that into a failure.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection as _;

pub mod seed;

pub const DEFAULT_PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    /// Working directory of the commands (holds the SQLite file).
    pub dir: tempfile::TempDir,
    pg_admin: Option<(String, String)>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn pg_admin_url() -> String {
    std::env::var("SISO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG_ADMIN_URL.to_string())
}

fn postgres_required() -> bool {
    std::env::var("SISO_REQUIRE_POSTGRES").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Whether the PostgreSQL server answers; asked once per test binary.
fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let url = pg_admin_url();
        let ok = runtime().block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(5), sqlx::PgConnection::connect(&url))
                .await
                .is_ok_and(|r| r.is_ok())
        });
        if !ok {
            if postgres_required() {
                panic!("SISO_REQUIRE_POSTGRES is set but PostgreSQL is not reachable at {url}");
            }
            // Straight to the process's stderr, past the test harness's capture.
            let _ = writeln!(
                std::io::stderr(),
                "\nNOTE: PostgreSQL is not reachable at {url}: the PostgreSQL half of these tests was SKIPPED \
                 (only SQLite ran). Set SISO_TEST_POSTGRES_URL, or SISO_REQUIRE_POSTGRES=1 to fail instead.\n"
            );
        }
        ok
    })
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "siso_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("siso.db").display());
        TestDb {
            backend: Backend::Sqlite,
            url,
            dir,
            pg_admin: None,
        }
    }

    /// A fresh PostgreSQL database, or None (after saying so) when no server
    /// is reachable and none is required.
    pub fn postgres() -> Option<TestDb> {
        if !postgres_available() {
            return None;
        }
        let admin = pg_admin_url();
        let name = unique_name();
        runtime().block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
        });
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        Some(TestDb {
            backend: Backend::Postgres,
            url: url.to_string(),
            dir: tempfile::tempdir().unwrap(),
            pg_admin: Some((admin, name)),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite file, for tests of file permissions.
    pub fn sqlite_file(&self) -> PathBuf {
        self.dir.path().join("siso.db")
    }

    /// The `siso` binary, pointed at this database, run in its folder.
    pub fn siso(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("siso").unwrap();
        cmd.current_dir(self.dir.path())
            .env("SISO_DATABASE_URL", &self.url)
            .env("SISO_OPERATOR", "test-operator")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1");
        cmd
    }

    /// `siso init`, which must succeed.
    pub fn init(&self) {
        self.siso().arg("init").assert().success();
    }

    /// Runs SQL directly (to tamper with data, or to check what is stored).
    pub fn execute(&self, sql: &str) {
        let sql = sql.to_string();
        runtime().block_on(async {
            match self.backend {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await
                        .unwrap();
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await
                        .unwrap();
                }
            }
        })
    }

    /// A single integer from a query (`SELECT count(*) ...`).
    pub fn scalar(&self, sql: &str) -> i64 {
        let sql = sql.to_string();
        runtime().block_on(async {
            match self.backend {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                        .fetch_one(&mut c)
                        .await
                        .unwrap()
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                        .fetch_one(&mut c)
                        .await
                        .unwrap()
                }
            }
        })
    }

    /// The first column of every row, as text (an `EXPLAIN`'s lines, say).
    pub fn texts(&self, sql: &str) -> Vec<String> {
        let sql = sql.to_string();
        runtime().block_on(async {
            match self.backend {
                Backend::Sqlite => {
                    let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                    sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&mut c)
                        .await
                        .unwrap()
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                    sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&mut c)
                        .await
                        .unwrap()
                }
            }
        })
    }

    /// A single text from a query, exactly as stored.
    pub fn text(&self, sql: &str) -> String {
        self.texts(sql)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no row from {sql}"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take() {
            runtime().block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        }
    }
}

/// Declares one test per backend from one body:
/// `both_backends!(name, |db| { ... })` gives `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                let $db = $crate::common::TestDb::sqlite();
                $body
            }

            #[test]
            fn postgres() {
                let Some($db) = $crate::common::TestDb::postgres() else {
                    return;
                };
                $body
            }
        }
    };
}

/// Stdout of a command that must succeed, as text.
pub fn stdout_of(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// Parses the JSON a `--json` command printed.
pub fn json_of(assert: assert_cmd::assert::Assert) -> serde_json::Value {
    serde_json::from_slice(&assert.get_output().stdout).expect("stdout is JSON")
}

/// AMB-MONZA onboarded (approved, with its titolare), ready for imports.
pub fn ready(db: &TestDb) {
    db.init();
    let onboarding = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/onboarding/17-ambito-monza.toml"
    );
    db.siso().args(["onboard", onboarding]).assert().success();
}

/// A valid codice fiscale from its first 15 characters.
pub fn cf(first15: &str) -> String {
    format!("{first15}{}", siso::codes::cf::check_char(first15).unwrap())
}

/// (inserite, invariate, scartate) of one entity in a JSON import summary.
pub fn counts(summary: &serde_json::Value, entity: &str) -> (u64, u64, u64) {
    let e = summary[0]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entita"] == entity)
        .unwrap_or_else(|| panic!("no {entity} in {summary}"))
        .clone();
    let n = |k: &str| e[k].as_u64().unwrap();
    (n("inserite"), n("invariate"), n("scartate"))
}

/// Rows of persona, cartella, intervento, erogazione.
pub fn stored(db: &TestDb) -> [i64; 4] {
    ["persona", "cartella", "intervento", "erogazione"]
        .map(|t| db.scalar(&format!("SELECT count(*) FROM {t}")))
}
