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
