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

use common::{Backend, TestDb, json_of};
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
        assert!(
            out.status.success(),
            "import for {ente}: {:?}\n{stderr}",
            out.status
        );
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(inserted(&summary, "persona"), n, "{ente}: {summary}");
        assert_eq!(persons_of(&db, ente), n as i64, "{ente}");
    }
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 5000);
    assert_eq!(
        db.scalar("SELECT count(*) FROM import_batch WHERE stato = 'completato'"),
        2
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log"),
        audit_before + 2
    );
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
        .env(
            "SISO_DATABASE_URL",
            "postgres://siso:s3cret@127.0.0.1:1/siso",
        )
        .env_remove("RUST_LOG")
        .args(["audit", "list"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains(
                "cannot connect to PostgreSQL at postgres://siso:***@127.0.0.1:1/siso",
            )
            .and(predicate::str::contains("Connection refused"))
            .and(predicate::str::contains(LOST))
            .and(predicate::str::contains("s3cret").not()),
        );
    // The cause is told at the first refusal, not after the pool's retries.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// Ends every session of `db` but the caller's; how many it ended.
fn terminate_sessions(db: &TestDb, only_writers: bool) -> i64 {
    let name = db.url.rsplit('/').next().unwrap();
    let writers = if only_writers {
        "AND backend_xid IS NOT NULL"
    } else {
        ""
    };
    db.scalar(&format!(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid() {writers}) t"
    ))
}

/// How a PostgreSQL import is interrupted while it writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    /// `pg_terminate_backend` of its session: an administrator, or a server
    /// going down.
    SessionEnded,
    /// SIGKILL of siso itself: the server sees the client vanish.
    Killed,
}

/// Runs an import of 20,000 persons three times, interrupting each run by
/// `fault` at its first write and some time into writing; every interrupted
/// run must leave the database as it was (a run that committed first must be
/// whole, and is undone). Then the import runs to the end.
fn interrupt_imports_on_postgres(fault: Fault) {
    let Some(db) = TestDb::postgres() else { return };
    monza(&db);
    let file = persons(&db, "P", 20_000);
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let mut interrupted = Vec::new();
    for delay_ms in [0u64, 300, 1000] {
        let audit_before = db.scalar("SELECT count(*) FROM audit_log");
        let batches_before = db.scalar("SELECT count(*) FROM import_batch");
        let mut child = spawn_import(&db, &file, "AMB-MONZA", &[]);
        // Wait until the import's transaction has written something (it
        // holds a transaction id).
        let deadline = Instant::now() + Duration::from_secs(120);
        while child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the import never started writing"
            );
            std::thread::sleep(Duration::from_millis(10));
            let writing = db.scalar(&format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND backend_xid IS NOT NULL"
            ));
            if writing > 0 {
                std::thread::sleep(Duration::from_millis(delay_ms));
                match fault {
                    Fault::SessionEnded => {
                        terminate_sessions(&db, true);
                    }
                    Fault::Killed => {
                        let _ = child.kill();
                    }
                }
                break;
            }
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            // It committed before the fault: then it is whole.
            assert_eq!(db.scalar("SELECT count(*) FROM persona"), 20_000);
            let last = db.scalar("SELECT max(id) FROM import_batch").to_string();
            db.siso()
                .args(["import", "undo", &last, "--yes"])
                .assert()
                .success();
            continue;
        }
        interrupted.push(delay_ms);
        if fault == Fault::SessionEnded {
            assert_eq!(out.status.code(), Some(4), "{stderr}");
            assert!(stderr.contains("error: "), "{stderr}");
            assert!(stderr.contains(LOST), "{stderr}");
        }
        // Nothing half written (a killed client's transaction is rolled
        // back once the server notices; the session is gone by then).
        let gone = Instant::now() + Duration::from_secs(30);
        while db.scalar(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )) > 0
        {
            assert!(Instant::now() < gone, "the killed import's session stays");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            db.scalar("SELECT count(*) FROM persona"),
            0,
            "{fault:?} after {delay_ms} ms"
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM crosswalk WHERE entita = 'persona'"),
            0
        );
        assert_eq!(
            db.scalar("SELECT count(*) FROM import_batch"),
            batches_before
        );
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), audit_before);
    }
    assert!(
        interrupted.contains(&0),
        "the import was never caught while writing: {interrupted:?}"
    );
    // And the same import, run again, lands whole.
    let again = spawn_import(&db, &file, "AMB-MONZA", &[])
        .wait_with_output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 20_000);
    db.siso().args(["audit", "verify"]).assert().success();
}

#[test]
fn postgres_going_away_in_the_middle_of_an_import_writes_nothing() {
    interrupt_imports_on_postgres(Fault::SessionEnded);
}

#[test]
fn an_import_killed_on_postgres_writes_nothing() {
    interrupt_imports_on_postgres(Fault::Killed);
}

#[test]
fn postgres_connections_dropped_while_the_file_is_read_are_replaced_or_a_clear_error() {
    // Sessions ended while siso is busy reading the file (its pool's
    // connection idle): the pool checks a connection before handing it out
    // and opens a new one, so the import goes on and lands whole (what
    // happens today); were it to fail, it must fail cleanly, exit 4.
    let Some(db) = TestDb::postgres() else { return };
    monza(&db);
    let file = persons(&db, "Q", 20_000);
    let mut child = spawn_import(&db, &file, "AMB-MONZA", &[]);
    // While the file is read (siso's connection idle for a while, between
    // the checks and the write), drop every connection of the database.
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ended = 0;
    while ended == 0 && child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
        ended = db.scalar(&format!(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid() AND state = 'idle' \
               AND state_change < now() - interval '50 milliseconds') t"
        ));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(ended > 0);
    if out.status.success() {
        // The pool reconnected before the write: then the import is whole.
        assert_eq!(
            db.scalar("SELECT count(*) FROM persona"),
            20_000,
            "{stderr}"
        );
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
                sqlx::raw_sql("BEGIN EXCLUSIVE")
                    .execute(&mut c)
                    .await
                    .unwrap();
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
                .and(predicate::str::contains(
                    "locked by another process, and siso waited 1 s",
                ))
                .and(predicate::str::contains("--lock-timeout")),
        );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "gave up before the timeout: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(8),
        "waited past the timeout: {waited:?}"
    );
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
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "it did not wait for the lock"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 10);
}

// ---------------------------------------------------------------------------
// A technician's audit entries (PostgreSQL, row-level security)

/// A login of this test (its name carries the test database's, unique), and
/// its removal from the cluster at the end, even when the test fails.
struct Login {
    name: String,
    url: String,
    admin_url: String,
}

impl Login {
    fn grant(db: &TestDb, prefix: &str, ambito: &str, role: &str) -> Login {
        let dbname = db.url.rsplit('/').next().unwrap().to_string();
        let name = format!("{prefix}_{dbname}");
        let mut url = url::Url::parse(&db.url).unwrap();
        url.set_username(&name).unwrap();
        url.set_password(None).unwrap();
        let login = Login {
            name,
            url: url.to_string(),
            admin_url: db.url.clone(),
        };
        db.siso()
            .args([
                "access",
                "grant",
                "--ambito",
                ambito,
                "--role",
                role,
                &login.name,
            ])
            .assert()
            .success();
        login
    }

    /// Runs `sql` as the login; the first column of every row as integers.
    fn ids(&self, sql: &str) -> Result<Vec<Option<i64>>, String> {
        let sql = sql.to_string();
        block_on(async {
            let mut c = sqlx::PgConnection::connect(&self.url)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let out = sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut c)
                .await
                .map_err(|e| e.to_string());
            let _ = c.close().await;
            out
        })
    }

    /// Appends an audit entry through siso's library, connected as the login.
    fn append(&self, entry: &siso::audit::Entry) -> siso::Result<()> {
        block_on(async {
            let (db, _) = siso::store::Db::connect(&self.url).await?;
            let out = siso::audit::record(&db, entry).await;
            db.close().await;
            out
        })
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        let sql = format!("DROP ROLE IF EXISTS \"{}\"", self.name);
        block_on(async {
            if let Ok(mut c) = sqlx::PgConnection::connect(&self.admin_url).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
            }
        });
    }
}

/// AMB-MONZA (with the Comune di Monza) and AMB-DESIO on PostgreSQL.
fn two_ambiti() -> Option<TestDb> {
    let db = TestDb::postgres()?;
    db.init();
    db.siso()
        .arg("onboard")
        .args([
            onboarding("00-capofila-monza.toml"),
            onboarding("12-ambito-desio.toml"),
            onboarding("17-ambito-monza.toml"),
        ])
        .assert()
        .success();
    Some(db)
}

fn entry(operator: &str, ente: Option<&str>, dettaglio: serde_json::Value) -> siso::audit::Entry {
    siso::audit::Entry {
        operator: operator.to_string(),
        command: format!("siso import --ente {operator}"),
        ente_codice: ente.map(str::to_string),
        azione: "import".into(),
        dettaglio,
    }
}

#[test]
fn a_tecnico_appends_audit_entries_that_keep_the_chain_whole() {
    let Some(db) = two_ambiti() else { return };
    let tec = Login::grant(&db, "tec", "AMB-MONZA", "tecnico");
    let desio_entries = db.scalar("SELECT count(*) FROM audit_log WHERE ente_codice = 'AMB-DESIO'");
    assert!(desio_entries > 0);
    let before = db.scalar("SELECT count(*) FROM audit_log");

    // Entries of its ambito and of the ambito's comune, interleaved with
    // entries the owner writes about Desio, with every character JSON
    // escapes and text from outside ASCII. Many of them, so that the
    // timestamps' fractions end in zeros now and then.
    let awkward = "quote \" backslash \\ slash / nl \n cr \r tab \t bs \u{8} ff \u{c} \
                   ctl \u{1}\u{1f} del \u{7f} àèìòù € 𝄞 \u{2028} '; DROP TABLE x; --";
    for i in 0..40 {
        let ente = if i % 2 == 0 { "AMB-MONZA" } else { "108033" };
        let dettaglio = match i % 3 {
            0 => serde_json::Value::Null,
            1 => serde_json::json!({"persona": {"inserite": i}, "nota": awkward}),
            _ => serde_json::json!([i, awkward]),
        };
        tec.append(&entry(
            &format!("tecnico {i} {awkward}"),
            Some(ente),
            dettaglio,
        ))
        .unwrap_or_else(|e| panic!("entry {i}: {e:?}"));
        if i % 10 == 0 {
            block_on(async {
                let (owner, _) = siso::store::Db::connect(&db.url).await.unwrap();
                siso::audit::record(
                    &owner,
                    &entry("admin", Some("AMB-DESIO"), serde_json::Value::Null),
                )
                .await
                .unwrap();
                owner.close().await;
            });
        }
    }
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), before + 44);
    db.siso().args(["audit", "verify"]).assert().success();
    let doc = json_of(
        db.siso()
            .args(["audit", "verify", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc["intatto"], true, "{doc}");
    assert_eq!(doc["voci"], before + 44, "{doc}");
    db.siso()
        .args(["audit", "verify", "--anchor", "zz"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("64 hexadecimal"));

    // Verifying needs the whole log: the technician is told so, instead of
    // a chain that looks broken at every entry it cannot see.
    db.siso()
        .env("SISO_DATABASE_URL", &tec.url)
        .args(["audit", "verify"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot verify the chain"));

    // Still only its own entries are visible to it, never Desio's.
    assert_eq!(
        tec.ids("SELECT count(*) FROM audit_log WHERE ente_codice = 'AMB-DESIO'"),
        Ok(vec![Some(0)])
    );
    assert_eq!(
        tec.ids("SELECT count(*) FROM audit_log WHERE ente_codice IS NULL"),
        Ok(vec![Some(0)])
    );
    assert_eq!(
        tec.ids("SELECT count(*) FROM audit_log WHERE ente_codice IN ('AMB-MONZA', '108033') AND operatore LIKE 'tecnico %'"),
        Ok(vec![Some(40)])
    );
    assert!(
        db.scalar("SELECT count(*) FROM audit_log WHERE ente_codice = 'AMB-DESIO'") > desio_entries
    );

    // It cannot write about another ambito, nor about no ente, nor forge an
    // entry by inserting it directly; and nothing of those attempts remains.
    let count = db.scalar("SELECT count(*) FROM audit_log");
    for ente in [Some("AMB-DESIO"), None] {
        let err = tec
            .append(&entry("tecnico", ente, serde_json::Value::Null))
            .unwrap_err();
        let text = format!("{err:#}: {:?}", std::error::Error::source(&err));
        assert!(text.contains("outside the ambiti granted to it"), "{text}");
        assert_eq!(err.exit_code(), 4);
    }
    let direct = tec.ids(
        "INSERT INTO audit_log (registrato_il, operatore, comando, ente_codice, azione, hash_precedente, hash) \
         VALUES (now(), 'x', 'x', 'AMB-MONZA', 'x', 'x', 'x') RETURNING id",
    );
    assert!(
        direct
            .as_ref()
            .is_err_and(|e| e.contains("permission denied")),
        "{direct:?}"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), count);
    db.siso().args(["audit", "verify"]).assert().success();
}

// ---------------------------------------------------------------------------
// Small counts in the lettore's aggregate view

#[test]
fn the_lettore_view_hides_counts_of_one_and_two() {
    let Some(db) = two_ambiti() else { return };
    let lettore = Login::grant(&db, "let", "AMB-DESIO", "lettore");
    // Desio: January 2024 opens 1 cartella, February 2, March 3 and April 0
    // (one closed only); the closures: 1 in March, 3 in April.
    let mut sql = String::from(
        "INSERT INTO persona (titolare_id, id_temporaneo, cognome, nome) \
         SELECT id, 'TMP-' || codice, 'Cognome', 'Nome' FROM ente WHERE codice IN ('AMB-DESIO', 'AMB-MONZA');",
    );
    let cartelle = [
        ("2024-01-10", Some("2024-03-05")),
        ("2024-02-01", Some("2024-04-01")),
        ("2024-02-02", Some("2024-04-02")),
        ("2024-03-01", Some("2024-04-03")),
        ("2024-03-02", None),
        ("2024-03-03", None),
    ];
    for (n, (aperta, chiusa)) in cartelle.iter().enumerate() {
        let chiusa = chiusa.map_or("NULL".to_string(), |d| format!("DATE '{d}'"));
        let stato = if chiusa == "NULL" { "aperta" } else { "chiusa" };
        sql.push_str(&format!(
            "INSERT INTO cartella (titolare_id, persona_id, numero, comune_istat, aperta_il, chiusa_il, stato) \
             SELECT p.titolare_id, p.id, 'C-{n}', '108023', DATE '{aperta}', {chiusa}, '{stato}' \
               FROM persona p JOIN ente e ON e.id = p.titolare_id WHERE e.codice = 'AMB-DESIO';"
        ));
    }
    db.execute(&sql);
    let row = |mese: &str| {
        lettore
            .ids(&format!(
                "SELECT aperte FROM v_uso_mensile WHERE mese = '{mese}' \
                 UNION ALL SELECT chiuse FROM v_uso_mensile WHERE mese = '{mese}'"
            ))
            .unwrap()
    };
    assert_eq!(row("2024-01"), vec![None, Some(0)]);
    assert_eq!(row("2024-02"), vec![None, Some(0)]);
    assert_eq!(row("2024-03"), vec![Some(3), None]);
    assert_eq!(row("2024-04"), vec![Some(0), Some(3)]);
    // A filter on the counts sees the suppressed value, not the real one.
    assert_eq!(
        lettore
            .ids("SELECT count(*) FROM v_uso_mensile WHERE aperte IN (1, 2) OR chiuse IN (1, 2)"),
        Ok(vec![Some(0)])
    );
    // Only its ambito, as before.
    assert_eq!(
        lettore.ids("SELECT count(*) FROM v_uso_mensile WHERE titolare <> 'AMB-DESIO'"),
        Ok(vec![Some(0)])
    );
}
