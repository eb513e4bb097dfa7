//! `siso import BUNDLE`: hand-back bundles come back losslessly.

mod common;

use std::path::{Path, PathBuf};

use common::seed::seed;
use common::{Backend, TestDb, json_of};

const REFERENCE: &str = "PEC prot. 2024/77 del titolare";

/// A fresh database of `backend` with `siso init` run.
fn fresh(backend: Backend) -> TestDb {
    let db = match backend {
        Backend::Sqlite => TestDb::sqlite(),
        Backend::Postgres => TestDb::postgres().expect("PostgreSQL was reachable a moment ago"),
    };
    db.init();
    db
}

/// AMB-MONZA onboarded first with the id it has in the seed (2), so the
/// persons of its own that DESIO's cases point to can be restored under it.
fn with_monza(db: &TestDb) {
    db.execute(
        "INSERT INTO ente (id, codice, tipo, denominazione, stato, sottoscritto_il, creato_il, aggiornato_il) VALUES \
         (2, 'AMB-MONZA', 'ambito', 'Ambito di Monza', 'aderente', '2019-03-01', '2024-01-15T10:00:00Z', '2024-01-15T10:00:00Z')",
    );
}

fn export(db: &TestDb, ente: &str, name: &str) -> PathBuf {
    let out = db.path().join(name);
    db.siso()
        .args(["handback", "export", "--ente", ente, "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

fn restore(db: &TestDb, bundle: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    db.siso()
        .arg("import")
        .arg(bundle)
        .args(["--ente", "AMB-DESIO"])
        .args(extra)
        .assert()
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn data_files(dir: &Path) -> Vec<String> {
    manifest(dir)["file"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["nome"].as_str().unwrap().to_string())
        .filter(|n| n != "LEGGIMI.txt")
        .collect()
}

/// Tables whose files may differ by the rows the round trip itself added.
fn grows(name: &str) -> Option<&'static str> {
    if name.starts_with("audit_log.") {
        Some("import_bundle")
    } else if name.starts_with("import_batch.") {
        Some("bundle")
    } else {
        None
    }
}

/// `after` holds the same data files as `before`, byte for byte, except
/// that audit_log and import_batch have exactly one more row, the restore's;
/// the manifests differ only in generato_il and in those files' entries.
fn assert_same_data(before: &Path, after: &Path) {
    let files = data_files(before);
    assert!(files.len() > 40, "{files:?}");
    assert_eq!(files, data_files(after));
    for name in &files {
        let a = std::fs::read_to_string(before.join(name)).unwrap_or_else(|_| {
            String::from_utf8_lossy(&std::fs::read(before.join(name)).unwrap()).into()
        });
        let b = std::fs::read_to_string(after.join(name)).unwrap_or_else(|_| {
            String::from_utf8_lossy(&std::fs::read(after.join(name)).unwrap()).into()
        });
        match grows(name) {
            None => assert!(a == b, "{name} differs:\n{a}\n---\n{b}"),
            Some(marker) => {
                let added = b
                    .strip_prefix(a.as_str())
                    .unwrap_or_else(|| panic!("{name}: rows were lost or changed:\n{a}\n---\n{b}"));
                assert_eq!(added.trim_end().lines().count(), 1, "{name}: {added}");
                assert!(added.contains(marker), "{name}: {added}");
            }
        }
    }
    let strip = |dir: &Path| {
        let mut m = manifest(dir);
        m["generato_il"] = serde_json::Value::Null;
        m["file"]
            .as_array_mut()
            .unwrap()
            .retain(|f| grows(f["nome"].as_str().unwrap()).is_none());
        m
    };
    assert_eq!(
        strip(before),
        strip(after),
        "manifests differ beyond generato_il"
    );
}

/// Rows the restore may have written anywhere.
fn footprint(db: &TestDb) -> Vec<i64> {
    [
        "ente",
        "referente",
        "persona",
        "cartella",
        "documento",
        "import_batch",
        "statistica_uso",
        "audit_log",
    ]
    .iter()
    .map(|t| db.scalar(&format!("SELECT count(*) FROM {t}")))
    .collect()
}

both_backends!(round_trip_export_purge_restore_export_is_lossless, |db| {
    db.init();
    seed(&db);
    let monza_before = export(&db, "AMB-MONZA", "monza-before");
    let bundle = export(&db, "AMB-DESIO", "desio");
    // The bundle holds no audit entry of DESIO (the seed writes none, the
    // export records itself after writing): nothing of the source's audit
    // chain is lost by not replaying it.
    assert_eq!(
        std::fs::read_to_string(bundle.join("audit_log.jsonl")).unwrap(),
        ""
    );
    db.siso()
        .args([
            "handback",
            "purge",
            "--ente",
            "AMB-DESIO",
            "--choice",
            "delete",
        ])
        .args(["--reference", REFERENCE, "--bundle"])
        .arg(&bundle)
        .arg("--yes")
        .assert()
        .success();
    // The other ente is intact (its audit log grew by its own exports).
    let monza_after = export(&db, "AMB-MONZA", "monza-after");
    for name in data_files(&monza_before) {
        if !name.starts_with("audit_log.") {
            assert_eq!(
                std::fs::read(monza_before.join(&name)).unwrap(),
                std::fs::read(monza_after.join(&name)).unwrap(),
                "AMB-MONZA's {name} changed"
            );
        }
    }

    let target = fresh(db.backend);
    with_monza(&target);
    let report = json_of(restore(&target, &bundle, &["--json"]).success());
    assert_eq!(report[0]["ente"], "AMB-DESIO");
    let count = |t: &str, k: &str| {
        report[0]["tabelle"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tabella"] == t)
            .unwrap()[k]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("persona", "inserite"), 3);
    assert_eq!(count("diario", "inserite"), 2);
    assert_eq!(count("documento", "inserite"), 2);
    // MONZA's persona 4 is restored under MONZA.
    assert_eq!(
        target.scalar("SELECT titolare_id FROM persona WHERE id = 4"),
        2
    );
    let again = export(&target, "AMB-DESIO", "desio-again");
    assert_same_data(&bundle, &again);

    // The restore is one audited batch; the audit chain still verifies.
    assert_eq!(
        target.scalar("SELECT count(*) FROM import_batch WHERE formato = 'bundle' AND ente_id = 1"),
        1
    );
    assert_eq!(
        target.scalar("SELECT count(*) FROM audit_log WHERE azione = 'import_bundle' AND ente_codice = 'AMB-DESIO'"),
        1
    );
    target.siso().args(["audit", "verify"]).assert().success();
    // Identity sequences moved past the restored ids: new rows get new ids
    // (without setval PostgreSQL would hand out operatore id 1 again).
    target.execute(
        "INSERT INTO operatore (titolare_id, cognome, nome, professione) VALUES (1, 'Nuovo', 'Operatore', 'educatore'); \
         INSERT INTO persona (titolare_id, id_temporaneo, cognome, nome) VALUES (1, 'T-5', 'Nuova', 'Persona')",
    );
    assert_eq!(target.scalar("SELECT max(id) FROM operatore"), 2);
    assert_eq!(target.scalar("SELECT max(id) FROM persona"), 5);
});

both_backends!(
    restore_into_a_non_empty_scope_is_refused_and_writes_nothing,
    |db| {
        db.init();
        seed(&db);
        let bundle = export(&db, "AMB-DESIO", "desio");
        // Into the database it came from: DESIO still has its data.
        let before = footprint(&db);
        restore(&db, &bundle, &[])
            .code(1)
            .stderr(predicates::str::contains("empty scope"));
        assert_eq!(footprint(&db), before);

        // A fresh database where one of the bundle's ids is already taken.
        let target = fresh(db.backend);
        with_monza(&target);
        target.execute(
        "INSERT INTO operatore (id, titolare_id, cognome, nome, professione) VALUES (1, 2, 'Verdi', 'Luca', 'educatore')",
    );
        let before = footprint(&target);
        restore(&target, &bundle, &[])
            .code(1)
            .stderr(predicates::str::contains("operatore id 1"))
            .stderr(predicates::str::contains("never merged"));
        assert_eq!(footprint(&target), before);

        // The ente exists with other content: not overwritten.
        let other = fresh(db.backend);
        with_monza(&other);
        other.execute(
        "INSERT INTO ente (id, codice, tipo, denominazione, stato, sottoscritto_il, creato_il, aggiornato_il) VALUES \
         (1, 'AMB-DESIO', 'ambito', 'Ambito di Desio (rinominato)', 'aderente', '2019-03-01', '2024-01-15T10:00:00Z', '2024-01-15T10:00:00.5Z')",
    );
        let before = footprint(&other);
        restore(&other, &bundle, &[])
            .code(1)
            .stderr(predicates::str::contains("ente id 1"))
            .stderr(predicates::str::contains("different content"));
        assert_eq!(footprint(&other), before);
    }
);

both_backends!(shared_persons_need_their_titolare, |db| {
    db.init();
    seed(&db);
    let bundle = export(&db, "AMB-DESIO", "desio");
    // No AMB-MONZA here: its persona 4 has no titolare to go to, and no
    // placeholder ente is made up.
    let target = fresh(db.backend);
    let before = footprint(&target);
    restore(&target, &bundle, &[])
        .code(1)
        .stderr(predicates::str::contains("AMB-MONZA"))
        .stderr(predicates::str::contains("id 2"));
    assert_eq!(footprint(&target), before);
});

both_backends!(an_altered_bundle_or_another_entes_is_refused, |db| {
    db.init();
    seed(&db);
    let bundle = export(&db, "AMB-DESIO", "desio");
    let target = fresh(db.backend);
    with_monza(&target);
    let before = footprint(&target);
    // Wrong ente: a usage error.
    target
        .siso()
        .arg("import")
        .arg(&bundle)
        .args(["--ente", "AMB-MONZA"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--ente AMB-DESIO"));
    // One changed byte in the data.
    let path = bundle.join("persona.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("Rossi", "Rossa", 1)).unwrap();
    restore(&target, &bundle, &[])
        .code(1)
        .stderr(predicates::str::contains("does not verify"))
        .stderr(predicates::str::contains("persona.jsonl"));
    assert_eq!(footprint(&target), before);
});

both_backends!(dry_run_writes_nothing, |db| {
    db.init();
    seed(&db);
    let bundle = export(&db, "AMB-DESIO", "desio");
    let target = fresh(db.backend);
    with_monza(&target);
    let before = footprint(&target);
    let report = json_of(restore(&target, &bundle, &["--dry-run", "--json"]).success());
    assert_eq!(report[0]["dry_run"], true);
    assert_eq!(report[0]["batch"], serde_json::Value::Null);
    let cartelle = report[0]["tabelle"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tabella"] == "cartella")
        .unwrap()["inserite"]
        .as_u64();
    assert_eq!(cartelle, Some(2));
    assert_eq!(footprint(&target), before);
    // And the real restore still works afterwards.
    restore(&target, &bundle, &[]).success();
    assert_eq!(target.scalar("SELECT count(*) FROM cartella"), 2);
});

/// Exported from SQLite, restored into PostgreSQL, exported again: the same
/// data files.
#[test]
fn round_trip_across_backends() {
    let Some(pg) = TestDb::postgres() else {
        return;
    };
    let lite = TestDb::sqlite();
    lite.init();
    seed(&lite);
    let bundle = export(&lite, "AMB-DESIO", "desio");
    pg.init();
    with_monza(&pg);
    restore(&pg, &bundle, &[]).success();
    let again = export(&pg, "AMB-DESIO", "desio-again");
    assert_same_data(&bundle, &again);
}

/// Exports `ente` as an archive at `<test dir>/<name>` with `extra` options.
fn export_archive(db: &TestDb, ente: &str, name: &str, extra: &[&str]) -> PathBuf {
    let out = db.path().join(name);
    db.siso()
        .args(["handback", "export", "--ente", ente, "--out"])
        .arg(&out)
        .args(extra)
        .assert()
        .success();
    out
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Opens a .tar.gz with the system's `tar` into `dest`.
fn untar(archive: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    let out = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(dest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sha256sum_ok(dir: &Path) {
    let sums = std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        sums.status.success(),
        "{}",
        String::from_utf8_lossy(&sums.stdout)
    );
}

both_backends!(
    an_archive_opens_with_tar_verifies_purges_and_restores,
    |db| {
        db.init();
        seed(&db);
        let archive = export_archive(&db, "AMB-DESIO", "desio.tar.gz", &["--archive"]);
        #[cfg(unix)]
        assert_eq!(mode(&archive), 0o600);
        // Standard tools open it: one folder named like the archive, which
        // `sha256sum -c` accepts and which holds what a folder export holds.
        let opened = db.path().join("opened");
        untar(&archive, &opened);
        let inside = opened.join("desio");
        sha256sum_ok(&inside);
        #[cfg(unix)]
        assert_eq!(mode(&inside.join("persona.csv")), 0o600);
        let leggimi = std::fs::read_to_string(inside.join("LEGGIMI.txt")).unwrap();
        assert!(leggimi.contains("tar -xzf NOME.tar.gz"), "{leggimi}");
        assert!(leggimi.contains("age -d -i CHIAVE.txt"), "{leggimi}");
        db.siso()
            .args(["handback", "verify"])
            .arg(&archive)
            .assert()
            .success()
            .stderr(predicates::str::contains("intact"));
        // The archive is the bundle purge checks against.
        db.siso()
            .args([
                "handback",
                "purge",
                "--ente",
                "AMB-DESIO",
                "--choice",
                "delete",
            ])
            .args(["--reference", REFERENCE, "--bundle"])
            .arg(&archive)
            .arg("--yes")
            .assert()
            .success();
        assert_eq!(
            db.scalar("SELECT count(*) FROM cartella WHERE titolare_id = 1"),
            0
        );
        // Restored from the archive, exported again as a folder: the same data.
        let target = fresh(db.backend);
        with_monza(&target);
        restore(&target, &archive, &[]).success();
        let again = export(&target, "AMB-DESIO", "desio-again");
        assert_same_data(&inside, &again);
        // The temporary extraction is gone.
        let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&format!("siso-restore-{}-", std::process::id())))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
);

#[test]
fn an_altered_archive_is_reported_and_not_restored() {
    let db = TestDb::sqlite();
    db.init();
    seed(&db);
    let archive = export_archive(&db, "AMB-DESIO", "desio.tar.gz", &["--archive"]);
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&archive, &bytes).unwrap();
    db.siso()
        .args(["handback", "verify"])
        .arg(&archive)
        .assert()
        .code(1);
    let target = fresh(Backend::Sqlite);
    with_monza(&target);
    let before = footprint(&target);
    restore(&target, &archive, &[])
        .failure()
        .stderr(predicates::str::contains("desio.tar.gz"));
    assert_eq!(footprint(&target), before);
}

/// A new age key pair: the identity file's path and the public key.
fn age_key(dir: &Path, name: &str) -> (PathBuf, String) {
    use age::secrecy::ExposeSecret as _;
    let key = age::x25519::Identity::generate();
    let path = dir.join(name);
    std::fs::write(&path, format!("{}\n", key.to_string().expose_secret())).unwrap();
    (path, key.to_public().to_string())
}

both_backends!(an_encrypted_archive_needs_the_right_identity, |db| {
    db.init();
    seed(&db);
    let (identity, recipient) = age_key(db.path(), "titolare.key");
    let (wrong, _) = age_key(db.path(), "altro.key");
    // First, so that its audit log does not hold the archive's export.
    let folder = export(&db, "AMB-DESIO", "desio-folder");
    let archive = export_archive(
        &db,
        "AMB-DESIO",
        "desio.tar.gz.age",
        &["--encrypt-to", &recipient],
    );
    #[cfg(unix)]
    assert_eq!(mode(&archive), 0o600);
    let bytes = std::fs::read(&archive).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    let verify = |extra: &[&std::ffi::OsStr]| {
        db.siso()
            .args(["handback", "verify"])
            .arg(&archive)
            .args(extra)
            .assert()
    };
    verify(&[])
        .code(2)
        .stderr(predicates::str::contains("encrypted with age"))
        .stderr(predicates::str::contains("--identity"));
    verify(&["--identity".as_ref(), wrong.as_os_str()])
        .code(3)
        .stderr(predicates::str::contains("wrong key"))
        .stderr(predicates::str::contains("altro.key"));
    verify(&["--identity".as_ref(), identity.as_os_str()])
        .success()
        .stderr(predicates::str::contains("intact"));

    let target = fresh(db.backend);
    with_monza(&target);
    let before = footprint(&target);
    restore(&target, &archive, &[])
        .code(2)
        .stderr(predicates::str::contains("--identity"));
    restore(&target, &archive, &["--identity", wrong.to_str().unwrap()])
        .code(3)
        .stderr(predicates::str::contains("wrong key"));
    assert_eq!(footprint(&target), before);
    restore(
        &target,
        &archive,
        &["--identity", identity.to_str().unwrap()],
    )
    .success();
    let again = export(&target, "AMB-DESIO", "desio-again");
    assert_same_data(&folder, &again);

    // The age command-line tool decrypts it too, when installed.
    if let Ok(out) = std::process::Command::new("age")
        .args(["-d", "-i"])
        .arg(&identity)
        .arg("-o")
        .arg(db.path().join("desio.tar.gz"))
        .arg(&archive)
        .output()
    {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opened = db.path().join("opened");
        untar(&db.path().join("desio.tar.gz"), &opened);
        sha256sum_ok(&opened.join("desio"));
    }
});

#[test]
fn encrypt_to_must_be_an_age_public_key() {
    let db = TestDb::sqlite();
    db.init();
    seed(&db);
    let out = db.path().join("desio.tar.gz.age");
    db.siso()
        .args(["handback", "export", "--ente", "AMB-DESIO", "--out"])
        .arg(&out)
        .args(["--encrypt-to", "AGE-SECRET-KEY-1QQQ"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("age1"));
    assert!(!out.exists());
}

/// SHA-256 of a file, hex.
fn sha256_file(path: &Path) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

both_backends!(a_bundle_written_before_migration_0014_restores, |db| {
    db.init();
    seed(&db);
    let bundle = export(&db, "AMB-DESIO", "desio");
    let old = export(&db, "AMB-DESIO", "desio-0013");
    // Make `old` what a siso before 0014 wrote: import_modifica without
    // ultimo_id (its last column), with manifest and SHA256SUMS to match.
    let jsonl = old.join("import_modifica.jsonl");
    let text = std::fs::read_to_string(&jsonl).unwrap();
    assert!(text.contains("\"ultimo_id\":null"), "{text}");
    let mut lines = String::new();
    for line in text.lines() {
        let mut row: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).unwrap();
        assert_eq!(
            row.keys().next_back().map(String::as_str),
            Some("ultimo_id")
        );
        row.shift_remove("ultimo_id");
        lines.push_str(&serde_json::to_string(&row).unwrap());
        lines.push('\n');
    }
    std::fs::write(&jsonl, lines).unwrap();
    let csv_path = old.join("import_modifica.csv");
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = reader.headers().unwrap().clone();
    assert_eq!(header.iter().next_back(), Some("ultimo_id"));
    out.write_record(header.iter().take(header.len() - 1))
        .unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        out.write_record(record.iter().take(record.len() - 1))
            .unwrap();
    }
    std::fs::write(&csv_path, out.into_inner().unwrap()).unwrap();
    let mut m = manifest(&old);
    for f in m["file"].as_array_mut().unwrap() {
        let name = f["nome"].as_str().unwrap().to_string();
        f["sha256"] = sha256_file(&old.join(&name)).into();
    }
    std::fs::write(
        old.join("manifest.json"),
        serde_json::to_string_pretty(&m).unwrap(),
    )
    .unwrap();
    let sums: String = std::fs::read_to_string(old.join("SHA256SUMS"))
        .unwrap()
        .lines()
        .map(|l| {
            let name = l.split_once("  ").unwrap().1;
            format!("{}  {name}\n", sha256_file(&old.join(name)))
        })
        .collect();
    std::fs::write(old.join("SHA256SUMS"), sums).unwrap();
    db.siso()
        .args(["handback", "verify"])
        .arg(&old)
        .assert()
        .success();

    let target = fresh(db.backend);
    with_monza(&target);
    restore(&target, &old, &[]).success();
    assert!(target.scalar("SELECT count(*) FROM import_modifica") > 0);
    assert_eq!(
        target.scalar("SELECT count(*) FROM import_modifica WHERE ultimo_id IS NOT NULL"),
        0
    );
    // Restored as if it had been written today.
    let again = export(&target, "AMB-DESIO", "desio-again");
    assert_same_data(&bundle, &again);
});
