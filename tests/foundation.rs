//! The foundation on both backends: init, migrations, reference codes, audit.

mod common;

use common::{Backend, TestDb, json_of, stdout_of};
use predicates::prelude::*;

/// How many migrations the binary carries (the SQLite and PostgreSQL folders match).
fn migrations() -> i64 {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".up.sql")
        })
        .count() as i64
}

both_backends!(init_creates_everything_and_is_idempotent, |db| {
    let first = json_of(db.siso().args(["init", "--json"]).assert().success());
    let steps = first.as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["step"] == "migration" && s["outcome"] == "applied")
    );
    assert!(
        steps
            .iter()
            .any(|s| s["name"] == "comuni" && s["outcome"] == "loaded")
    );
    let comuni = db.scalar("SELECT count(*) FROM comune");
    assert!(comuni > 7800, "{comuni} comuni loaded");

    let second = json_of(db.siso().args(["init", "--json"]).assert().success());
    for s in second.as_array().unwrap() {
        assert!(
            s["outcome"] == "already applied" || s["outcome"] == "unchanged",
            "second init changed something: {s}"
        );
    }
    assert_eq!(db.scalar("SELECT count(*) FROM comune"), comuni);
    // Only the first init changed something worth an audit entry.
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), 1);
});

#[test]
fn a_new_sqlite_file_is_private() {
    let db = TestDb::sqlite();
    db.init();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(db.sqlite_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_world_readable_database_is_warned_about() {
    let db = TestDb::sqlite();
    db.init();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(db.sqlite_file(), std::fs::Permissions::from_mode(0o644)).unwrap();
        db.siso()
            .args(["migrate", "status"])
            .assert()
            .success()
            .stderr(predicate::str::contains("chmod 600"));
    }
}

#[test]
fn the_default_database_is_siso_db_in_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    assert_cmd::Command::cargo_bin("siso")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("SISO_DATABASE_URL")
        .arg("init")
        .assert()
        .success();
    assert!(dir.path().join("siso.db").exists());
}

both_backends!(status_lists_pending_then_applied, |db| {
    let before = json_of(
        db.siso()
            .args(["migrate", "status", "--json"])
            .assert()
            .success(),
    );
    assert!(
        before
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "pending")
    );
    db.siso().args(["migrate", "run"]).assert().success();
    let after = json_of(
        db.siso()
            .args(["migrate", "status", "--format", "json"])
            .assert()
            .success(),
    );
    for s in after.as_array().unwrap() {
        assert_eq!(s["state"], "applied");
        assert_eq!(s["checksum"], s["applied_checksum"]);
    }
    let csv = stdout_of(
        db.siso()
            .args(["migrate", "status", "--format", "csv"])
            .assert()
            .success(),
    );
    assert!(
        csv.starts_with("version,name,state,checksum,applied_checksum,applied_at\n"),
        "{csv}"
    );
});

both_backends!(dry_run_really_runs_and_rolls_back, |db| {
    db.siso()
        .args(["migrate", "run", "--dry-run"])
        .assert()
        .success()
        .stderr(predicate::str::contains("rolled back"));
    let status = json_of(
        db.siso()
            .args(["migrate", "status", "--json"])
            .assert()
            .success(),
    );
    assert!(
        status
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "pending")
    );
    // Nothing but the bookkeeping table exists.
    let tables = match db.backend {
        Backend::Sqlite => {
            db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ente'")
        }
        Backend::Postgres => {
            db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'ente'")
        }
    };
    assert_eq!(tables, 0);
});

both_backends!(verify_reports_every_changed_migration, |db| {
    db.init();
    db.siso().args(["migrate", "verify"]).assert().success();
    db.execute("UPDATE siso_migrazioni SET checksum = 'aaaa' WHERE versione = 1");
    db.execute("UPDATE siso_migrazioni SET checksum = 'bbbb' WHERE versione = 3");
    let out = db.siso().args(["migrate", "verify"]).assert().code(1);
    let text = stdout_of(out);
    assert!(
        text.contains("migration 1 ") && text.contains("aaaa"),
        "{text}"
    );
    assert!(
        text.contains("migration 3 ") && text.contains("bbbb"),
        "{text}"
    );
    // status marks them, and exits 1 too
    let st = db
        .siso()
        .args(["migrate", "status", "--json"])
        .assert()
        .code(1);
    let st = json_of(st);
    assert_eq!(
        st.as_array()
            .unwrap()
            .iter()
            .filter(|s| s["state"] == "changed")
            .count(),
        2
    );
    // a run refuses while the schema is untrustworthy
    db.siso()
        .args(["migrate", "run"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("migrate repair"));
    // For scripts: one JSON document, one CSV table.
    let doc = json_of(
        db.siso()
            .args(["migrate", "verify", "--json"])
            .assert()
            .code(1),
    );
    assert_eq!(doc["problems"].as_array().unwrap().len(), 2, "{doc}");
    let csv = stdout_of(
        db.siso()
            .args(["migrate", "verify", "--format", "csv"])
            .assert()
            .code(1),
    );
    assert!(
        csv.starts_with("problem\n") && csv.lines().count() == 3,
        "{csv}"
    );
    // A repair that cannot be is refused before asking (no terminal here).
    for (version, says) in [("99", "there is no migration 99"), ("2", "not changed")] {
        db.siso()
            .args(["migrate", "repair", version])
            .assert()
            .failure()
            .stderr(predicate::str::contains(says))
            .stderr(predicate::str::contains("--yes").not());
    }
    // repair one, with an audit record; the other still fails
    db.siso()
        .args(["migrate", "repair", "1", "--yes"])
        .assert()
        .success();
    let text = stdout_of(db.siso().args(["migrate", "verify"]).assert().code(1));
    assert!(
        !text.contains("migration 1 ") && text.contains("migration 3 "),
        "{text}"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'migrate_repair'"),
        1
    );
});

both_backends!(a_newer_schema_is_refused, |db| {
    db.init();
    db.execute(
        "INSERT INTO siso_migrazioni (versione, nome, checksum, applicata_il, durata_ms) \
         VALUES (9999, 'dal_futuro', 'x', '2030-01-01T00:00:00Z', 1)",
    );
    db.siso()
        .args(["codes", "prestazioni", "A1"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("newer than this siso"));
    db.siso().args(["migrate", "run"]).assert().code(4);
    let st = json_of(
        db.siso()
            .args(["migrate", "status", "--json"])
            .assert()
            .code(1),
    );
    assert!(
        st.as_array()
            .unwrap()
            .iter()
            .any(|s| s["version"] == 9999 && s["state"] == "unknown")
    );
});

both_backends!(revert_asks_before_destroying_data, |db| {
    db.init();
    // Without a terminal and without --yes a data-bearing revert is refused
    // (down to 0: the latest migration alone may have nothing to destroy).
    db.siso()
        .args(["migrate", "revert", "--to", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    // 0012 holds the archived statistics of purged entes, which nothing can
    // rebuild: reverting down through it asks too.
    db.siso()
        .args(["migrate", "revert", "--to", "11"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    db.siso()
        .args(["migrate", "revert", "--dry-run"])
        .assert()
        .success();
    assert_eq!(
        db.scalar("SELECT count(*) FROM siso_migrazioni"),
        migrations()
    );
    db.siso()
        .args(["migrate", "revert", "--yes"])
        .assert()
        .success();
    assert_eq!(
        db.scalar("SELECT count(*) FROM siso_migrazioni"),
        migrations() - 1
    );
    db.siso()
        .args(["migrate", "revert", "--to", "0", "--yes"])
        .assert()
        .success();
    assert_eq!(db.scalar("SELECT count(*) FROM siso_migrazioni"), 0);
    // and back up again, reference data included
    db.init();
    assert!(db.scalar("SELECT count(*) FROM comune") > 7800);
});

both_backends!(commands_on_an_uninitialised_database_say_what_to_do, |db| {
    db.siso()
        .args(["codes", "comuni", "Monza"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("siso init"));
});

both_backends!(codes_look_up_comuni_and_prestazioni, |db| {
    db.init();
    let rows = json_of(
        db.siso()
            .args(["codes", "comuni", "108033", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(rows[0]["nome"], "Monza");
    assert_eq!(rows[0]["belfiore"], "F704");
    let rows = json_of(
        db.siso()
            .args(["codes", "comuni", "f205", "--json"])
            .assert()
            .success(),
    );
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["istat"] == "015146")
    );
    let rows = json_of(
        db.siso()
            .args(["codes", "prestazioni", "A3", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(rows.as_array().unwrap().len(), 3);
    let rows = json_of(
        db.siso()
            .args(["codes", "prestazioni", "mensa", "--json"])
            .assert()
            .success(),
    );
    let codes: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["codice"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["A2.01", "A2.12"]);
    db.siso()
        .args(["codes", "comuni", "Nessunluogo"])
        .assert()
        .code(1);
});

both_backends!(prestazioni_are_extensible_as_data, |db| {
    db.init();
    db.siso()
        .args([
            "codes",
            "add-prestazione",
            "A1.05.01",
            "--descrizione",
            "Contributo affitto",
            "--gruppo",
            "A1",
        ])
        .assert()
        .success();
    let rows = json_of(
        db.siso()
            .args(["codes", "prestazioni", "A1.05", "--json"])
            .assert()
            .success(),
    );
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["codice"] == "A1.05.01" && r["origine"] == "locale")
    );
    // official codes stay official
    db.siso()
        .args([
            "codes",
            "add-prestazione",
            "A1.05",
            "--descrizione",
            "x",
            "--gruppo",
            "A1",
        ])
        .assert()
        .code(1);
    db.siso()
        .args([
            "codes",
            "add-prestazione",
            "B7",
            "--descrizione",
            "x",
            "--gruppo",
            "A1",
        ])
        .assert()
        .code(2);
    // a reload of the reference data keeps the local code
    db.execute("UPDATE dataset_riferimento SET sha256 = '0000000000000000000000000000000000000000000000000000000000000000' WHERE nome = 'prestazioni'");
    db.init();
    assert_eq!(
        db.scalar("SELECT count(*) FROM prestazione WHERE codice = 'A1.05.01'"),
        1
    );
});

both_backends!(the_audit_chain_shows_tampering, |db| {
    db.init();
    db.siso()
        .args([
            "codes",
            "add-prestazione",
            "A2.16",
            "--descrizione",
            "Nuovo servizio",
            "--gruppo",
            "A2",
        ])
        .assert()
        .success();
    db.siso().args(["audit", "verify"]).assert().success();
    db.execute("UPDATE audit_log SET operatore = 'qualcun altro' WHERE id = 1");
    db.siso()
        .args(["audit", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("entry 1"));
});

both_backends!(an_anchor_catches_newest_entries_cut_off, |db| {
    db.init();
    db.siso()
        .args([
            "codes",
            "add-prestazione",
            "A2.16",
            "--descrizione",
            "Nuovo servizio",
            "--gruppo",
            "A2",
        ])
        .assert()
        .success();
    let head = db.text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1");
    db.siso()
        .args(["audit", "verify", "--anchor", &head])
        .assert()
        .success()
        .stderr(predicate::str::contains(head.as_str()));
    // Cutting off the newest entry leaves a valid chain: only the anchor tells.
    db.execute("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)");
    db.siso().args(["audit", "verify"]).assert().success();
    db.siso()
        .args(["audit", "verify", "--anchor", &head])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "anchor {head} is not in the audit log"
        )));
});

both_backends!(audit_entries_hold_no_option_values, |db| {
    db.siso()
        .args(["init", "--operator", "mrossi"])
        .assert()
        .success();
    let entries = json_of(
        db.siso()
            .args(["audit", "list", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(entries[0]["comando"], "siso --operator init");
    assert_eq!(entries[0]["operatore"], "mrossi");
});

#[test]
fn postgres_passwords_never_appear_in_errors() {
    let db = TestDb::sqlite();
    db.siso()
        .env(
            "SISO_DATABASE_URL",
            "postgres://siso:topsecret@127.0.0.1:1/nothing",
        )
        .args(["migrate", "status"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("topsecret").not())
        .stderr(predicate::str::contains("***"));
}

#[test]
fn wrong_usage_exits_2() {
    let db = TestDb::sqlite();
    db.siso().args(["migrate", "fly"]).assert().code(2);
    db.siso()
        .args(["--format", "xml", "migrate", "status"])
        .assert()
        .code(2);
}

#[test]
fn two_concurrent_migrations_on_postgres_do_not_race() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("siso"))
            .env("SISO_DATABASE_URL", &db.url)
            .args(["migrate", "run"])
            .output()
            .unwrap()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(
        db.scalar("SELECT count(*) FROM siso_migrazioni"),
        migrations()
    );
}

#[test]
fn two_concurrent_inits_on_sqlite_do_not_race() {
    let db = TestDb::sqlite();
    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("siso"))
            .env("SISO_DATABASE_URL", &db.url)
            .arg("init")
            .output()
            .unwrap()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(
        db.scalar("SELECT count(*) FROM siso_migrazioni"),
        migrations()
    );
}

/// Three audit entries to tamper with.
fn three_audit_entries(db: &TestDb) {
    db.init();
    for code in ["A2.16", "A2.17"] {
        db.siso()
            .args([
                "codes",
                "add-prestazione",
                code,
                "--descrizione",
                "Servizio locale",
                "--gruppo",
                "A2",
            ])
            .assert()
            .success();
    }
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), 3);
    db.siso().args(["audit", "verify"]).assert().success();
}

both_backends!(a_deleted_audit_entry_breaks_the_chain, |db| {
    three_audit_entries(&db);
    db.execute("DELETE FROM audit_log WHERE id = 2");
    db.siso()
        .args(["audit", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("entry 3"))
        .stdout(predicate::str::contains("deleted"));
});

both_backends!(reordered_audit_entries_break_the_chain, |db| {
    three_audit_entries(&db);
    // Swap the contents of entries 2 and 3, hashes included: each still
    // matches its own hash, but no longer follows the one before it.
    db.execute(
        "UPDATE audit_log SET id = 100 WHERE id = 2; \
         UPDATE audit_log SET id = 2 WHERE id = 3; \
         UPDATE audit_log SET id = 3 WHERE id = 100;",
    );
    db.siso()
        .args(["audit", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("entry 2"));
});
