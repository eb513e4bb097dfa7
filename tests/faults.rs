//! Faults (issue 7): concurrent imports, a PostgreSQL server that cannot be
//! reached or goes away in the middle of an import, a SQLite file locked by
//! another process, a technician's writes keeping the audit chain whole, and
//! small counts hidden from a lettore.
//!
//! Each test checks afterwards that nothing was half written: the counts are
//! those from before the fault, or those of a complete run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, TestDb};
use predicates::prelude::*;
use sqlx::Connection as _;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn onboarding(name: &str) -> String {
    format!("{}/examples/onboarding/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// AMB-MONZA and its comune, the Comune di Monza (108033), both approved.
fn monza(db: &TestDb) {
    db.init();
    db.siso()
        .arg("onboard")
        .args([
            onboarding("00-capofila-monza.toml"),
            onboarding("17-ambito-monza.toml"),
        ])
        .assert()
        .success();
}

/// `n` persons without codice fiscale (accepted with a warning), legacy ids
/// prefixed by `prefix`, and the mapping next to them; returns the CSV file.
fn persons(db: &TestDb, prefix: &str, n: usize) -> PathBuf {
    let dir = db.path().join(prefix);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("persone.toml"),
        "entity = \"persona\"\n[columns]\nID = \"id_legacy\"\nCF = \"codice_fiscale\"\n\
         NASCITA = { field = \"data_nascita\", date_format = \"yyyy-mm-dd\" }\n",
    )
    .unwrap();
    let mut text = String::from("ID;CF;COGNOME;NOME;SESSO;NASCITA\n");
    for i in 0..n {
        text.push_str(&format!("{prefix}{i};;Cognome{i};Nome;M;1950-01-01\n"));
    }
    let csv = dir.join("persone.csv");
    std::fs::write(&csv, text).unwrap();
    csv
}

/// `siso import FILE --ente ENTE` as a child process, not waited for.
fn spawn_import(db: &TestDb, file: &Path, ente: &str, env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("siso"));
    cmd.current_dir(db.path())
        .env("SISO_DATABASE_URL", &db.url)
        .env("SISO_OPERATOR", "test-operator")
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .args(["import", "--json", "--no-progress"])
        .arg(file)
        .args(["--ente", ente])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn inserted(summary: &serde_json::Value, entity: &str) -> u64 {
    summary[0]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entita"] == entity)
        .unwrap_or_else(|| panic!("no {entity} in {summary}"))["inserite"]
        .as_u64()
        .unwrap()
}

fn persons_of(db: &TestDb, ente: &str) -> i64 {
    db.scalar(&format!(
        "SELECT count(*) FROM persona p JOIN ente e ON e.id = p.titolare_id WHERE e.codice = '{ente}'"
    ))
}

// ---------------------------------------------------------------------------
// Two imports at once

both_backends!(two_imports_for_entes_of_one_ambito_run_at_once, |db| {
    monza(&db);
    let a = persons(&db, "A", 3000);
    let b = persons(&db, "B", 2000);
    let audit_before = db.scalar("SELECT count(*) FROM audit_log");
    // Both start together; on SQLite the second queues on the write lock.
    let first = spawn_import(&db, &a, "AMB-MONZA", &[]);
    let second = spawn_import(&db, &b, "108033", &[]);
    for (child, ente, n) in [(first, "AMB-MONZA", 3000), (second, "108033", 2000)] {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "import for {ente}: {:?}\n{stderr}", out.status);
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(inserted(&summary, "persona"), n, "{ente}: {summary}");
        assert_eq!(persons_of(&db, ente), n as i64, "{ente}");
    }
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 5000);
    assert_eq!(
        db.scalar("SELECT count(*) FROM import_batch WHERE stato = 'completato'"),
        2
    );
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), audit_before + 2);
    db.siso().args(["audit", "verify"]).assert().success();
});

// ---------------------------------------------------------------------------
// PostgreSQL unreachable, or going away in the middle of a command

const LOST: &str = "the database server could not be reached, or the connection to it was lost";

#[test]
fn an_unreachable_postgres_is_a_clear_error_at_once() {
    // Port 1 on the loopback: nothing listens there, the connection is refused.
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    assert_cmd::Command::cargo_bin("siso")
        .unwrap()
        .current_dir(dir.path())
        .env("SISO_DATABASE_URL", "postgres://siso:s3cret@127.0.0.1:1/siso")
        .env_remove("RUST_LOG")
        .args(["audit", "list"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("cannot connect to PostgreSQL at postgres://siso:***@127.0.0.1:1/siso")
                .and(predicate::str::contains("Connection refused"))
                .and(predicate::str::contains(LOST))
                .and(predicate::str::contains("s3cret").not()),
        );
    // The cause is told at the first refusal, not after the pool's retries.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// Ends every session of `db` but the caller's; how many it ended.
fn terminate_sessions(db: &TestDb, only_writers: bool) -> i64 {
    let name = db.url.rsplit('/').next().unwrap();
    let writers = if only_writers { "AND backend_xid IS NOT NULL" } else { "" };
    db.scalar(&format!(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid() {writers}) t"
    ))
}

#[test]
fn postgres_going_away_in_the_middle_of_an_import_writes_nothing() {
    let Some(db) = TestDb::postgres() else { return };
    monza(&db);
    let file = persons(&db, "P", 30_000);
    let audit_before = db.scalar("SELECT count(*) FROM audit_log");
    let batches_before = db.scalar("SELECT count(*) FROM import_batch");
    let mut child = spawn_import(&db, &file, "AMB-MONZA", &[]);
    // Wait until the import's transaction has written something (it holds a
    // transaction id), then end that session, as an administrator or a
    // server restart would.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut ended = 0;
    while ended == 0 {
        assert!(Instant::now() < deadline, "the import never started writing");
        if child.try_wait().unwrap().is_some() {
            panic!("the import finished before its session could be ended: make the file bigger");
        }
        std::thread::sleep(Duration::from_millis(20));
        ended = terminate_sessions(&db, true);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains(LOST), "{stderr}");
    assert!(stderr.contains("error: "), "{stderr}");
    // Nothing half written.
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM crosswalk"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM import_batch"), batches_before);
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), audit_before);
    // And the same import, run again, lands whole.
    let again = spawn_import(&db, &file, "AMB-MONZA", &[]).wait_with_output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 30_000);
    db.siso().args(["audit", "verify"]).assert().success();
}

#[test]
fn postgres_connections_dropped_while_idle_are_a_clear_error() {
    // Sessions ended while siso waits between statements (its pool's
    // connections dropped): the next statement fails cleanly, exit 4.
    let Some(db) = TestDb::postgres() else { return };
    monza(&db);
    let file = persons(&db, "Q", 20_000);
    let mut child = spawn_import(&db, &file, "AMB-MONZA", &[]);
    // While the file is read (before writing), drop every connection of the database.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ended = 0;
    while ended == 0 && child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
        ended = terminate_sessions(&db, false);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        // The pool reconnected before the write: then the import is whole.
        assert_eq!(db.scalar("SELECT count(*) FROM persona"), 20_000, "{stderr}");
    } else {
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains(LOST), "{stderr}");
        assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0);
        assert_eq!(db.scalar("SELECT count(*) FROM import_batch"), 0);
    }
}

// ---------------------------------------------------------------------------
// A SQLite file locked by another process

/// Holds the write lock of a SQLite file (`BEGIN EXCLUSIVE`), as another
/// program would, from a thread of its own; released after `hold`, or when
/// dropped.
struct SqliteLock {
    release: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SqliteLock {
    fn hold(db: &TestDb, hold: Duration) -> SqliteLock {
        assert_eq!(db.backend, Backend::Sqlite);
        let url = db.url.clone();
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            block_on(async {
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql("BEGIN EXCLUSIVE").execute(&mut c).await.unwrap();
                locked_tx.send(()).unwrap();
                let _ = release_rx.recv_timeout(hold);
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
                c.close().await.unwrap();
            })
        });
        locked_rx.recv().unwrap();
        SqliteLock {
            release,
            thread: Some(thread),
        }
    }
}

impl Drop for SqliteLock {
    fn drop(&mut self) {
        let _ = self.release.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_sqlite_lock_held_too_long_is_a_clear_error_after_the_wait() {
    let db = TestDb::sqlite();
    monza(&db);
    let file = persons(&db, "L", 10);
    let lock = SqliteLock::hold(&db, Duration::from_secs(60));
    let started = Instant::now();
    db.siso()
        .args(["import", "--lock-timeout", "1"])
        .arg(&file)
        .args(["--ente", "AMB-MONZA"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("database is locked")
                .and(predicate::str::contains("locked by another process, and siso waited 1 s"))
                .and(predicate::str::contains("--lock-timeout")),
        );
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "gave up before the timeout: {waited:?}");
    assert!(waited < Duration::from_secs(8), "waited past the timeout: {waited:?}");
    // The environment variable does the same.
    db.siso()
        .env("SISO_LOCK_TIMEOUT_SECS", "1")
        .arg("import")
        .arg(&file)
        .args(["--ente", "AMB-MONZA"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("siso waited 1 s"));
    drop(lock);
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM import_batch"), 0);
    // Once the other program is done, the same import goes through.
    db.siso()
        .args(["import", "-q"])
        .arg(&file)
        .args(["--ente", "AMB-MONZA"])
        .assert()
        .success();
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 10);
}

#[test]
fn a_sqlite_lock_released_within_the_wait_is_waited_for() {
    let db = TestDb::sqlite();
    monza(&db);
    let file = persons(&db, "W", 10);
    let _lock = SqliteLock::hold(&db, Duration::from_millis(1500));
    let started = Instant::now();
    db.siso()
        .args(["import", "-q", "--lock-timeout", "30"])
        .arg(&file)
        .args(["--ente", "AMB-MONZA"])
        .assert()
        .success();
    assert!(started.elapsed() >= Duration::from_millis(1000), "it did not wait for the lock");
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 10);
}
