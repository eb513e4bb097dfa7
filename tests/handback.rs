//! `siso handback`: export, verify and purge of an ente's data.

mod common;

use std::path::{Path, PathBuf};

use common::seed::seed;
use common::{TestDb, json_of};

fn seeded(db: &TestDb) {
    db.init();
    seed(db);
}

/// Exports `ente` into `<test dir>/<name>`, which must succeed.
fn export(db: &TestDb, ente: &str, name: &str) -> PathBuf {
    let out = db.path().join(name);
    db.siso()
        .args(["handback", "export", "--ente", ente, "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

fn rows_of(manifest: &serde_json::Value, file: &str) -> u64 {
    manifest["file"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["nome"] == file)
        .unwrap_or_else(|| panic!("{file} not in the manifest"))["righe"]
        .as_u64()
        .unwrap()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

both_backends!(export_writes_every_row_of_the_ente_and_only_those, |db| {
    seeded(&db);
    let out = export(&db, "AMB-DESIO", "bundle");
    let m = manifest(&out);
    assert_eq!(m["formato"], "siso-handback");
    assert_eq!(m["ente"]["codice"], "AMB-DESIO");
    // Own persons 1 and 2, plus MONZA's persona 4 in DESIO's household.
    assert_eq!(rows_of(&m, "persona.csv"), 3);
    assert_eq!(
        m["persone_condivise"],
        serde_json::json!([{"id": 4, "titolare": "AMB-MONZA"}])
    );
    for (file, rows) in [
        ("ente.csv", 1),
        ("cartella.jsonl", 2),
        ("diario.csv", 2),
        ("erogazione.csv", 2),
        ("nucleo_componente.csv", 2),
        ("documento.csv", 2),
        ("crosswalk.csv", 1),
        ("import_file.csv", 1),
        ("statistica_uso.csv", 1),
        ("referente.csv", 1),
        ("appartenenza_ambito.csv", 1),
    ] {
        assert_eq!(rows_of(&m, file), rows, "{file}");
    }
    // The confidential diary entry is there, and marked.
    let diario = read(&out, "diario.jsonl");
    assert!(
        diario.contains(r#""testo":"Nota riservata","riservato":true"#),
        "{diario}"
    );
    assert!(!diario.contains("Monza"), "{diario}");
    // Canonical values: RFC 4180 quoting, booleans, dates, timestamps, NULLs.
    let csv = read(&out, "diario.csv");
    assert!(
        csv.starts_with("id,titolare_id,cartella_id,data,tipo,testo,riservato,operatore_id\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("1,1,1,2024-01-20,colloquio,\"Primo colloquio, \"\"sereno\"\".\nSeconda riga: è\",false,1\r\n"),
        "{csv}"
    );
    let ente = read(&out, "ente.jsonl");
    assert!(ente.contains(r#""capofila":false"#), "{ente}");
    assert!(
        ente.contains(r#""aggiornato_il":"2024-01-15T10:00:00.5Z""#),
        "{ente}"
    );
    assert!(ente.contains(r#""istat":null"#), "{ente}");
    // Documents: bytes in documenti/<sha256>, the hash in the table.
    let doc = "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969";
    assert_eq!(
        std::fs::read(out.join("documenti").join(doc)).unwrap(),
        b"Hello"
    );
    assert!(read(&out, "documento.csv").contains(&format!(",{doc},2024-01-21T08:30:00Z")));
    assert!(
        !out.join("documenti")
            .join("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            .exists()
    );
    assert!(read(&out, "LEGGIMI.txt").contains("sha256sum -c SHA256SUMS"));
    // Owner-only permissions.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), 0o700);
        assert_eq!(mode(&out.join("documenti")), 0o700);
        for f in ["persona.csv", "manifest.json", "SHA256SUMS", "LEGGIMI.txt"] {
            assert_eq!(mode(&out.join(f)), 0o600, "{f}");
        }
    }
    // Standard tools agree.
    let sums = std::process::Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(
        sums.status.success(),
        "{}",
        String::from_utf8_lossy(&sums.stdout)
    );
    db.siso()
        .args(["handback", "verify"])
        .arg(&out)
        .assert()
        .success();
    // The export is in the audit log, with the manifest's hash.
    let last = last_audit(&db, "AMB-DESIO");
    assert_eq!(last["azione"], "handback_export");
    let manifest_sha = siso::sha256_hex(&std::fs::read(out.join("manifest.json")).unwrap());
    assert!(
        last["dettaglio"].as_str().unwrap().contains(&manifest_sha),
        "{last}"
    );
    // No leftover temporary folder.
    let names: Vec<String> = std::fs::read_dir(db.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
});

both_backends!(export_refuses_a_used_folder_and_an_unknown_ente, |db| {
    seeded(&db);
    let out = db.path().join("used");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("x"), "x").unwrap();
    db.siso()
        .args(["handback", "export", "--ente", "AMB-DESIO", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not empty"));
    db.siso()
        .args(["handback", "export", "--ente", "AMB-NESSUNO", "--out"])
        .arg(db.path().join("new"))
        .assert()
        .code(3)
        .stderr(predicates::str::contains("AMB-NESSUNO"));
    assert!(!db.path().join("new").exists());
    // An empty folder is fine.
    let empty = db.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    export(&db, "AMB-MONZA", "empty");
    assert_eq!(rows_of(&manifest(&empty), "persona.csv"), 3);
});

/// The same data on SQLite and on PostgreSQL gives byte-identical files.
#[test]
fn bundles_are_identical_on_both_backends() {
    let Some(pg) = TestDb::postgres() else {
        return;
    };
    let lite = TestDb::sqlite();
    seeded(&lite);
    seeded(&pg);
    for ente in ["AMB-DESIO", "AMB-MONZA"] {
        let a = export(&lite, ente, ente);
        let b = export(&pg, ente, ente);
        let mut files: Vec<String> = Vec::new();
        for f in manifest(&a)["file"].as_array().unwrap() {
            let name = f["nome"].as_str().unwrap().to_string();
            assert_eq!(
                std::fs::read(a.join(&name)).unwrap(),
                std::fs::read(b.join(&name)).unwrap(),
                "{ente}: {name} differs between SQLite and PostgreSQL"
            );
            files.push(name);
        }
        assert!(files.len() > 40, "{files:?}");
        let (mut ma, mut mb) = (manifest(&a), manifest(&b));
        ma["generato_il"] = serde_json::Value::Null;
        mb["generato_il"] = serde_json::Value::Null;
        assert_eq!(ma, mb, "{ente}: manifests differ beyond generato_il");
    }
}

#[test]
fn verify_names_every_altered_missing_and_extra_file() {
    let db = TestDb::sqlite();
    seeded(&db);
    let out = export(&db, "AMB-DESIO", "bundle");
    db.siso()
        .args(["handback", "verify"])
        .arg(&out)
        .assert()
        .success();

    // A changed value, same number of rows.
    let persona = read(&out, "persona.csv").replace("Mario", "Marco");
    std::fs::write(out.join("persona.csv"), persona).unwrap();
    // A row removed from the JSON Lines.
    let diario = read(&out, "diario.jsonl");
    let first = diario.lines().next().unwrap().len() + 1;
    std::fs::write(out.join("diario.jsonl"), &diario[first..]).unwrap();
    std::fs::remove_file(out.join("cartella.csv")).unwrap();
    std::fs::write(out.join("intruso.csv"), "id\r\n1\r\n").unwrap();

    let problems = json_of(
        db.siso()
            .args(["handback", "verify", "--json"])
            .arg(&out)
            .assert()
            .code(1),
    );
    let text = problems.to_string();
    let about = |file: &str| -> Vec<String> {
        problems
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["file"] == file)
            .map(|p| p["problem"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        about("persona.csv").iter().any(|p| p.contains("SHA-256")),
        "{text}"
    );
    assert!(
        about("diario.jsonl")
            .iter()
            .any(|p| p.contains("1 rows, the manifest says 2")),
        "{text}"
    );
    assert_eq!(about("cartella.csv"), ["missing"], "{text}");
    assert!(
        about("intruso.csv").iter().any(|p| p.contains("extra")),
        "{text}"
    );
    assert!(!text.contains("ente.csv"), "{text}");
}

#[test]
fn verify_catches_an_edited_manifest_and_a_missing_one() {
    let db = TestDb::sqlite();
    seeded(&db);
    let out = export(&db, "AMB-DESIO", "bundle");
    let m = read(&out, "manifest.json").replace("Ambito di Desio", "Ambito di Lissone");
    std::fs::write(out.join("manifest.json"), m).unwrap();
    db.siso()
        .args(["handback", "verify"])
        .arg(&out)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("manifest.json"));
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    db.siso()
        .args(["handback", "verify"])
        .arg(&out)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("missing"));
    db.siso()
        .args(["handback", "verify"])
        .arg(db.path().join("nowhere"))
        .assert()
        .code(3);
}

const REFERENCE: &str = "PEC prot. 4567 del 2025-01-15";

fn purge(db: &TestDb, bundle: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
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
        .arg(bundle)
        .args(extra)
        .assert()
}

/// Rows of AMB-DESIO (ente 1) across the case tables.
fn desio_rows(db: &TestDb) -> i64 {
    [
        "operatore",
        "persona",
        "persona_cittadinanza",
        "cartella",
        "cartella_stato",
        "intervento",
        "erogazione",
        "valutazione_sina",
        "diario",
        "nucleo_componente",
        "documento",
        "crosswalk",
        "import_modifica",
    ]
    .iter()
    .map(|t| db.scalar(&format!("SELECT count(*) FROM {t} WHERE titolare_id = 1")))
    .sum::<i64>()
        + db.scalar("SELECT count(*) FROM import_batch WHERE ente_id = 1")
}

/// The newest audit entry about `ente`.
fn last_audit(db: &TestDb, ente: &str) -> serde_json::Value {
    let audit = json_of(
        db.siso()
            .args(["audit", "list", "--ente", ente, "--json"])
            .assert()
            .success(),
    );
    audit.as_array().unwrap().last().unwrap().clone()
}

/// The proof's row of `ente`'s table `t`.
fn proof_row(proof: &serde_json::Value, ente: &str, t: &str) -> serde_json::Value {
    proof
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ente"] == ente && r["tabella"] == t)
        .unwrap_or_else(|| panic!("no proof for {ente} {t}"))
        .clone()
}

both_backends!(purge_deletes_only_the_entes_rows_and_proves_it, |db| {
    seeded(&db);
    let monza_before = export(&db, "AMB-MONZA", "monza-before");
    let bundle = export(&db, "AMB-DESIO", "desio");
    let proof = json_of(purge(&db, &bundle, &["--yes", "--json"]).success());
    let row = |ente: &str, t: &str| proof_row(&proof, ente, t);
    let proof = proof.as_array().unwrap();
    assert_eq!(row("AMB-DESIO", "diario")["righe_prima"], 2);
    assert_eq!(row("AMB-DESIO", "diario")["righe_dopo"], 0);
    assert_eq!(row("AMB-DESIO", "diario")["esito"], "eliminate");
    assert_eq!(row("AMB-DESIO", "persona")["righe_dopo"], 1);
    let monza = row("AMB-MONZA", "cartella");
    assert_eq!(monza["esito"], "invariate");
    assert_eq!(monza["righe_prima"], 2);
    assert_eq!(monza["sha256_prima"], monza["sha256_dopo"]);
    assert!(
        proof
            .iter()
            .filter(|r| r["ente"] == "AMB-MONZA")
            .all(|r| r["esito"] == "invariate")
    );

    // Only the shared persona 2 (MONZA's cartella 3 is about her) and her
    // citizenship remain of DESIO.
    assert_eq!(
        db.scalar("SELECT count(*) FROM persona WHERE titolare_id = 1"),
        1
    );
    assert_eq!(db.scalar("SELECT count(*) FROM persona WHERE id = 2"), 1);
    assert_eq!(desio_rows(&db), 2);
    assert_eq!(
        db.scalar("SELECT count(*) FROM cartella WHERE titolare_id = 1"),
        0
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM import_file WHERE batch_id = 1"),
        0
    );
    // Kept: protocol records, statistics, the audit log.
    assert_eq!(db.scalar("SELECT count(*) FROM ente WHERE id = 1"), 1);
    assert_eq!(
        db.scalar("SELECT count(*) FROM statistica_uso WHERE ente_codice = 'AMB-DESIO'"),
        1
    );
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'handback_export' AND ente_codice = 'AMB-DESIO'"), 1);
    let last = last_audit(&db, "AMB-DESIO");
    assert_eq!(last["azione"], "handback_purge");
    let dettaglio = last["dettaglio"].as_str().unwrap();
    assert!(
        dettaglio.contains(REFERENCE) && dettaglio.contains("\"scelta\":\"delete\""),
        "{dettaglio}"
    );
    assert!(!dettaglio.contains("Rossi"), "{dettaglio}");
    db.siso().args(["audit", "verify"]).assert().success();

    // MONZA's data, shared persona included, is byte for byte what it was.
    let monza_after = export(&db, "AMB-MONZA", "monza-after");
    for f in manifest(&monza_before)["file"].as_array().unwrap() {
        let name = f["nome"].as_str().unwrap();
        if name.starts_with("audit_log") {
            // MONZA's own first export added a handback_export entry about it.
            continue;
        }
        assert_eq!(
            std::fs::read(monza_before.join(name)).unwrap(),
            std::fs::read(monza_after.join(name)).unwrap(),
            "{name} of AMB-MONZA changed"
        );
    }
    // A second purge with the same bundle is refused: the data no longer matches.
    purge(&db, &bundle, &["--yes"]).code(1);
});

// The schema lets a case name any operator: MONZA's cartella 4 and diary
// note 3 name DESIO's operator 1, who stays like a shared person, and MONZA's
// rows do not change.
both_backends!(purge_keeps_an_operator_another_titolare_names, |db| {
    seeded(&db);
    db.execute("UPDATE cartella SET operatore_id = 1 WHERE id = 4");
    db.execute("UPDATE diario SET operatore_id = 1 WHERE id = 3");
    let bundle = export(&db, "AMB-DESIO", "desio");
    let out = purge(&db, &bundle, &["--yes", "--json"]).success();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("1 persons and 1 operators kept"),
        "{stderr}"
    );
    let proof = json_of(out);
    let row = |ente: &str, t: &str| proof_row(&proof, ente, t);
    assert_eq!(row("AMB-DESIO", "operatore")["righe_prima"], 1);
    assert_eq!(row("AMB-DESIO", "operatore")["righe_dopo"], 1);
    assert_eq!(
        row("AMB-DESIO", "operatore")["esito"],
        "conservati (operatori condivisi)"
    );
    for t in ["cartella", "diario", "operatore"] {
        assert_eq!(row("AMB-MONZA", t)["esito"], "invariate", "{t}");
    }
    assert_eq!(db.scalar("SELECT count(*) FROM operatore WHERE id = 1"), 1);
    assert_eq!(
        db.scalar("SELECT count(*) FROM cartella WHERE titolare_id = 1"),
        0
    );
    assert_eq!(desio_rows(&db), 3);
    let last = last_audit(&db, "AMB-DESIO");
    assert!(
        last["dettaglio"]
            .as_str()
            .unwrap()
            .contains("\"operatori_conservati\":1"),
        "{last}"
    );

    // Once MONZA no longer names the operator, a new bundle purges it.
    db.execute("UPDATE cartella SET operatore_id = NULL WHERE id = 4");
    db.execute("UPDATE diario SET operatore_id = 2 WHERE id = 3");
    let again = export(&db, "AMB-DESIO", "desio-2");
    purge(&db, &again, &["--yes"]).success();
    assert_eq!(db.scalar("SELECT count(*) FROM operatore WHERE id = 1"), 0);
});

both_backends!(purge_refuses_an_altered_bundle_and_changed_data, |db| {
    seeded(&db);
    let bundle = export(&db, "AMB-DESIO", "desio");
    let before = desio_rows(&db);
    let csv = read(&bundle, "diario.csv").replace("riservata", "riservatA");
    std::fs::write(bundle.join("diario.csv"), csv).unwrap();
    purge(&db, &bundle, &["--yes"])
        .code(1)
        .stderr(predicates::str::contains("diario.csv"));
    assert_eq!(desio_rows(&db), before);

    let fresh = export(&db, "AMB-DESIO", "desio-2");
    db.execute(
        "INSERT INTO diario (id, titolare_id, cartella_id, data, tipo, testo, riservato, operatore_id) \
         VALUES (10, 1, 1, '2025-01-10', 'nota', 'scritta dopo l''esportazione', FALSE, 1)",
    );
    purge(&db, &fresh, &["--yes"])
        .code(1)
        .stderr(predicates::str::contains(
            "changed since the bundle was exported",
        ))
        .stderr(predicates::str::contains(
            "diario (3 rows now, 2 in the bundle)",
        ));
    assert_eq!(desio_rows(&db), before + 1);

    // Another ente's bundle is refused too.
    let monza = export(&db, "AMB-MONZA", "monza");
    purge(&db, &monza, &["--yes"])
        .code(1)
        .stderr(predicates::str::contains("of ente AMB-MONZA"));
    assert_eq!(desio_rows(&db), before + 1);
});

both_backends!(
    purge_dry_run_writes_nothing_and_confirmation_is_required,
    |db| {
        seeded(&db);
        let bundle = export(&db, "AMB-DESIO", "desio");
        let before = desio_rows(&db);
        let audit = db.scalar("SELECT count(*) FROM audit_log");
        let out = purge(&db, &bundle, &["--dry-run", "--json"]).success();
        let said = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(
            said.contains("Would be recorded in the audit log") && !said.contains(" Recorded"),
            "a dry run writes no audit entry and says so: {said}"
        );
        let proof = json_of(out);
        let cartella = proof_row(&proof, "AMB-DESIO", "cartella");
        assert_eq!(
            (
                cartella["righe_prima"].as_u64(),
                cartella["righe_dopo"].as_u64()
            ),
            (Some(2), Some(0))
        );
        assert_eq!(desio_rows(&db), before);
        assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), audit);

        // No terminal and no --yes: refused, nothing changed.
        purge(&db, &bundle, &[])
            .code(2)
            .stderr(predicates::str::contains("--yes"));
        assert_eq!(desio_rows(&db), before);
        // An empty reference is refused.
        db.siso()
            .args([
                "handback",
                "purge",
                "--ente",
                "AMB-DESIO",
                "--choice",
                "delete",
                "--reference",
                " ",
                "--yes",
                "--bundle",
            ])
            .arg(&bundle)
            .assert()
            .code(2);
        assert_eq!(desio_rows(&db), before);
    }
);

both_backends!(retain_records_the_choice_and_deletes_nothing, |db| {
    seeded(&db);
    let bundle = export(&db, "AMB-DESIO", "desio");
    let before = desio_rows(&db);
    db.siso()
        .args([
            "handback",
            "purge",
            "--ente",
            "AMB-DESIO",
            "--choice",
            "retain",
            "--reference",
            REFERENCE,
            "--yes",
            "--bundle",
        ])
        .arg(&bundle)
        .assert()
        .success();
    assert_eq!(desio_rows(&db), before);
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'handback_retain' AND ente_codice = 'AMB-DESIO'"),
        1
    );
});

/// A 200 KB document of random bytes for DESIO: the largest file of its
/// bundle, which a compressed archive cannot shrink.
fn big_document(db: &TestDb) {
    let random = match db.backend {
        common::Backend::Sqlite => "randomblob(200000)",
        common::Backend::Postgres => {
            "(SELECT decode(string_agg(md5(random()::text), ''), 'hex') FROM generate_series(1, 12500))"
        }
    };
    // The declared hash is not the content's: the export names the file by
    // the content it reads.
    let zeros = "0".repeat(64);
    db.execute(&format!(
        "INSERT INTO documento (id, titolare_id, cartella_id, nome_file, tipo_mime, dimensione, sha256, contenuto, caricato_il) \
         VALUES (10, 1, 1, 'scansione.pdf', 'application/pdf', 200000, '{zeros}', {random}, '2024-01-22T08:30:00Z')"
    ));
}

/// Issue 7, disk full while writing a hand-back bundle: `siso handback
/// export` run with a 64 KiB limit on the size of any file it writes
/// (RLIMIT_FSIZE, with SIGXFSZ ignored so that the write fails with EFBIG as
/// on a full disk). The export must fail with a message naming --out and
/// leave nothing behind: no bundle at --out, no temporary folder, nothing
/// that holds a manifest.json.
#[cfg(unix)]
fn export_with_a_full_disk(db: &TestDb, out: &Path, extra: &[&str]) {
    let before: std::collections::BTreeSet<_> = std::fs::read_dir(db.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let output = std::process::Command::new("sh")
        .arg("-c")
        // 128 blocks of 512 bytes (POSIX `ulimit -f`).
        .arg("trap '' XFSZ; ulimit -f 128 && exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin("siso"))
        .args(["handback", "export", "--ente", "AMB-DESIO", "--out"])
        .arg(out)
        .args(extra)
        .current_dir(db.path())
        .env("SISO_DATABASE_URL", &db.url)
        .env("SISO_OPERATOR", "test-operator")
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains(&out.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("File too large") && stderr.contains("free some space"),
        "{stderr}"
    );
    assert!(
        !out.exists(),
        "a partial bundle was left at {}",
        out.display()
    );
    let after: std::collections::BTreeSet<_> = std::fs::read_dir(db.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let left: Vec<_> = after.difference(&before).collect();
    // SQLite's shared-memory and WAL files may appear; nothing of the bundle.
    assert!(
        left.iter()
            .all(|n| n.to_string_lossy().starts_with("siso.db")),
        "left behind: {left:?}"
    );
    fn holds_manifest(dir: &Path) -> bool {
        std::fs::read_dir(dir).unwrap().any(|e| {
            let e = e.unwrap();
            e.file_name() == "manifest.json" || (e.path().is_dir() && holds_manifest(&e.path()))
        })
    }
    assert!(!holds_manifest(db.path()));
    // No export is recorded: none happened.
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'handback_export'"),
        0
    );
}

#[cfg(unix)]
both_backends!(a_full_disk_leaves_no_bundle_that_looks_complete, |db| {
    seeded(&db);
    big_document(&db);
    export_with_a_full_disk(&db, &db.path().join("desio"), &[]);
    export_with_a_full_disk(&db, &db.path().join("desio.tar.gz"), &["--archive"]);
    // With room, the same exports succeed.
    export(&db, "AMB-DESIO", "desio");
    db.siso()
        .args([
            "handback",
            "export",
            "--ente",
            "AMB-DESIO",
            "--archive",
            "--out",
        ])
        .arg(db.path().join("desio.tar.gz"))
        .assert()
        .success();
});
