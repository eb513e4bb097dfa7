//! `siso import BUNDLE`: hand-back bundles come back losslessly.

mod common;

use std::path::{Path, PathBuf};

use common::{Backend, TestDb, json_of};

// The same two entes as tests/handback.rs (copied: a test binary cannot use
// another one's functions).
/// Two entes, AMB-DESIO and AMB-MONZA, whose case data cross: MONZA's
/// cartella 3 is about DESIO's persona 2, and DESIO's household (nucleo)
/// points to MONZA's persona 4. Texts carry commas, quotes, new lines and
/// accents; one timestamp has a fraction of a second.
fn seed(db: &TestDb) {
    let (hello, abc) = match db.backend {
        Backend::Sqlite => ("X'48656c6c6f'", "X'616263'"),
        Backend::Postgres => ("'\\x48656c6c6f'::bytea", "'\\x616263'::bytea"),
    };
    db.execute(
        "INSERT INTO ente (id, codice, tipo, denominazione, stato, sottoscritto_il, creato_il, aggiornato_il) VALUES \
         (1, 'AMB-DESIO', 'ambito', 'Ambito di Desio', 'aderente', '2019-03-01', '2024-01-15T10:00:00Z', '2024-01-15T10:00:00.5Z'), \
         (2, 'AMB-MONZA', 'ambito', 'Ambito di Monza', 'aderente', '2019-03-01', '2024-01-15T10:00:00Z', '2024-01-15T10:00:00Z');
         INSERT INTO appartenenza_ambito (id, ambito_id, comune_istat, valido_dal, valido_al) VALUES \
         (1, 1, '108023', '2019-01-01', NULL), (2, 2, '108033', '2019-01-01', '2023-12-31');
         INSERT INTO referente (id, ente_id, ruolo, nominativo, email, telefono, nominato_il, comunicazione_rif, revocato_il) VALUES \
         (1, 1, 'tavolo_operativo', 'Maria Rossi', 'm.rossi@example.it', NULL, '2019-03-20', 'PEC prot. 123', NULL);
         INSERT INTO ruolo_privacy (id, ente_id, ruolo, titolare_ente_id, nominativo, contatto, comunicato_il, valido_dal, valido_al) VALUES \
         (1, 1, 'titolare', 1, 'Ufficio di Piano di Desio', NULL, '2019-04-01', NULL, NULL);
         INSERT INTO adesione (id, ente_id, edizione_id, ricevuta_il, protocollo_ricezione, rappresentante_legale, ambito_id, scadenza_decisione, esito, atto_numero, atto_data, motivo_rifiuto, deciso_il) VALUES \
         (1, 1, NULL, '2019-01-10', 'prot. 1', 'Il Sindaco', NULL, '2019-03-11', 'approvata', '12', '2019-02-01', NULL, '2019-02-01T09:00:00Z');
         INSERT INTO recesso (id, ente_id, ricevuto_il, protocollo, efficace_il, atto_numero, atto_data, accettato_il) VALUES \
         (1, 1, '2024-09-30', 'prot. 99', '2024-12-31', NULL, NULL, NULL);
         INSERT INTO operatore (id, titolare_id, codice_fiscale, cognome, nome, professione, attivo_dal, attivo_al) VALUES \
         (1, 1, NULL, 'Bianchi', 'Anna', 'assistente_sociale', '2020-01-01', NULL), \
         (2, 2, NULL, 'Verdi', 'Luca', 'educatore', NULL, NULL);
         INSERT INTO persona (id, titolare_id, codice_fiscale, cf_chiave, id_temporaneo, cognome, nome, sesso, data_nascita, luogo_nascita_belfiore, residenza_istat, indirizzo, telefono, email, data_decesso) VALUES \
         (1, 1, 'RSSMRA80A01F704Y', 'RSSMRA80A01F704Y', NULL, 'Rossi', 'Mario', 'M', '1980-01-01', 'F704', '108023', 'Via Garibaldi, 3 \"B\"', NULL, NULL, NULL), \
         (2, 1, NULL, NULL, 'T-2', 'Cà Bianca', 'Luisa', 'F', '1950-02-28', NULL, NULL, 'riga uno
riga due', NULL, NULL, NULL), \
         (3, 2, 'VRDGNN70C41F205Z', 'VRDGNN70C41F205Z', NULL, 'Verdi', 'Giovanna', 'F', '1970-03-01', 'F205', '108033', NULL, NULL, NULL, NULL), \
         (4, 2, NULL, NULL, 'T-4', 'Neri', 'Paolo', 'M', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
         INSERT INTO persona_cittadinanza (id, titolare_id, persona_id, stato_codice_istat) VALUES \
         (1, 1, 1, '100'), (2, 1, 2, '100'), (3, 2, 3, '100');
         INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, operatore_id, categoria_siso, aperta_il, chiusa_il, stato) VALUES \
         (1, 1, 1, 'D-2024-001', '108023', 1, '1', '2024-01-15', NULL, 'presa_in_carico'), \
         (2, 1, 2, 'D-2023-002', '108023', 1, '4', '2023-05-02', '2024-02-01', 'chiusa'), \
         (3, 2, 2, 'M-2024-001', '108033', 2, '4', '2024-02-01', NULL, 'aperta'), \
         (4, 2, 3, 'M-2024-002', '108033', NULL, NULL, '2024-03-01', NULL, 'aperta');
         INSERT INTO cartella_stato (id, titolare_id, cartella_id, stato, dal, nota) VALUES \
         (1, 1, 1, 'aperta', '2024-01-15', NULL), (2, 1, 1, 'presa_in_carico', '2024-01-20', 'colloquio iniziale'), \
         (3, 2, 3, 'aperta', '2024-02-01', NULL);
         INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, area_utenza_inps, inizio, fine, periodicita, importo_previsto_cent, protocollo_domanda, presa_in_carico) VALUES \
         (1, 1, 1, 'A2.07', '2', '2024-01-20', NULL, 'periodica', 120000, 'PROT-1', TRUE), \
         (2, 2, 3, 'A1.04', '3', '2024-02-10', '2024-02-10', 'una_tantum', 50000, NULL, NULL);
         INSERT INTO erogazione (id, titolare_id, intervento_id, data, periodo_dal, periodo_al, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent, quantita_milli, unita) VALUES \
         (1, 1, 1, '2024-02-29', '2024-02-01', '2024-02-29', 30000, 5000, 0, 25000, 12500, 'ore'), \
         (2, 1, 1, '2024-03-31', NULL, NULL, -1500, 0, 0, -1500, NULL, 'euro'), \
         (3, 2, 2, '2024-02-10', NULL, NULL, 50000, 0, 0, 50000, NULL, 'euro');
         INSERT INTO valutazione_sina (id, titolare_id, persona_id, intervento_id, data, dati) VALUES \
         (1, 1, 1, 1, '2024-01-25', '{\"punteggio\": 12, \"note\": \"è\"}');
         INSERT INTO diario (id, titolare_id, cartella_id, data, tipo, testo, riservato, operatore_id) VALUES \
         (1, 1, 1, '2024-01-20', 'colloquio', 'Primo colloquio, \"sereno\".
Seconda riga: è', FALSE, 1), \
         (2, 1, 1, '2024-01-22', 'nota', 'Nota riservata', TRUE, 1), \
         (3, 2, 3, '2024-02-02', 'nota', 'Nota di Monza', FALSE, 2);
         INSERT INTO nucleo_componente (id, titolare_id, persona_id, componente_persona_id, cognome, nome, data_nascita, relazione) VALUES \
         (1, 1, 1, 4, NULL, NULL, NULL, 'coniuge'), (2, 1, 1, NULL, 'Rossi', 'Luigi', '2010-06-01', 'figlio'), \
         (3, 2, 3, NULL, 'Neri', 'Ada', NULL, 'madre');
         INSERT INTO import_batch (id, ente_id, avviato_il, concluso_il, operatore, formato, mappatura, mappatura_sha256, stato, conteggi) VALUES \
         (1, 1, '2024-01-10T08:00:00Z', '2024-01-10T08:05:00Z', 'tecnico', 'csv-siso', NULL, NULL, 'completato', '{\"inserite\": 2}'), \
         (2, 2, '2024-01-11T08:00:00Z', NULL, 'tecnico', 'csv', NULL, NULL, 'in_corso', NULL);
         INSERT INTO import_file (id, batch_id, percorso, sha256, dimensione) VALUES \
         (1, 1, 'export.csv', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0), \
         (2, 2, 'monza.csv', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0);
         INSERT INTO crosswalk (id, titolare_id, sistema_origine, entita, id_legacy, riga_id, batch_id) VALUES \
         (1, 1, 'cartella-vecchia', 'persona', 'L-001', 1, 1), (2, 2, 'altro', 'persona', 'M-1', 3, 2);
         INSERT INTO import_modifica (id, titolare_id, batch_id, tabella, riga_id, azione, prima) VALUES \
         (1, 1, 1, 'persona', 1, 'inserita', NULL), (2, 2, 2, 'persona', 3, 'inserita', NULL);
         INSERT INTO statistica_uso (id, ente_codice, periodo, indicatore, valore) VALUES \
         (1, 'AMB-DESIO', '2024-01', 'cartelle_aperte', 2), (2, 'AMB-MONZA', '2024-01', 'cartelle_aperte', 1);",
    );
    db.execute(&format!(
        "INSERT INTO documento (id, titolare_id, cartella_id, nome_file, tipo_mime, dimensione, sha256, contenuto, caricato_il) VALUES \
         (1, 1, 1, 'relazione.pdf', 'application/pdf', 5, '185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969', {hello}, '2024-01-21T08:30:00Z'), \
         (2, 1, 2, 'altrove.txt', NULL, 0, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', NULL, '2024-01-21T08:30:00Z'), \
         (3, 2, 3, 'monza.txt', 'text/plain', 3, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', {abc}, '2024-01-21T08:30:00Z')"
    ));
}

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
