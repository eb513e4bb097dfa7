//! `siso import` on both backends: rules and reason codes, all or nothing,
//! thresholds, idempotence, updates, undo, dry run, an interrupted run.

mod common;

use std::path::{Path, PathBuf};

use common::{TestDb, cf, json_of, ready};
use predicates::prelude::*;

fn write(db: &TestDb, name: &str, text: &str) -> PathBuf {
    let path = db.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A legacy export: its header line, then the rows, one per line.
fn table(db: &TestDb, name: &str, header: &str, rows: &[impl AsRef<str>]) -> PathBuf {
    let mut text = String::from(header);
    for r in rows {
        text.push_str(r.as_ref());
        text.push('\n');
    }
    write(db, name, &text)
}

fn persone(db: &TestDb, rows: &[String]) -> PathBuf {
    write(
        db,
        "persone.toml",
        "entity = \"persona\"\n[columns]\nID = \"id_legacy\"\nCF = \"codice_fiscale\"\nNASCITA = { field = \"data_nascita\", date_format = \"yyyy-mm-dd\" }\n",
    );
    table(
        db,
        "persone.csv",
        "ID;CF;COGNOME;NOME;SESSO;NASCITA\n",
        rows,
    )
}

fn cartelle(db: &TestDb, rows: &[&str]) -> PathBuf {
    write(
        db,
        "cartelle.toml",
        "entity = \"cartella\"\n[columns]\nID = \"id_legacy\"\nPERSONA = \"persona_id_legacy\"\nCOMUNE = \"comune_istat\"\n\
         APERTA = { field = \"aperta_il\", date_format = \"yyyy-mm-dd\" }\nCHIUSA = { field = \"chiusa_il\", date_format = \"yyyy-mm-dd\" }\n",
    );
    table(
        db,
        "cartelle.csv",
        "ID;PERSONA;COMUNE;APERTA;CHIUSA\n",
        rows,
    )
}

fn interventi(db: &TestDb, rows: &[&str]) -> PathBuf {
    write(
        db,
        "interventi.toml",
        "entity = \"intervento\"\n[columns]\nID = \"id_legacy\"\nCARTELLA = \"cartella_id_legacy\"\nPRESTAZIONE = \"prestazione\"\n\
         INIZIO = { field = \"inizio\", date_format = \"yyyy-mm-dd\" }\nPERIODICITA = \"periodicita\"\n\
         IMPORTO = { field = \"importo_previsto\", decimal = \",\" }\n",
    );
    table(
        db,
        "interventi.csv",
        "ID;CARTELLA;PRESTAZIONE;INIZIO;PERIODICITA;IMPORTO\n",
        rows,
    )
}

fn rossi() -> String {
    format!("A1;{};Rossi;Mario;M;1985-12-10", cf("RSSMRA85T10F704"))
}
fn bianchi() -> String {
    format!("A2;{};Bianchi;Laura;F;1990-01-01", cf("BNCLRA90A41F205"))
}

fn import(db: &TestDb, files: &[&Path]) -> assert_cmd::Command {
    let mut cmd = db.siso();
    cmd.arg("import")
        .args(files)
        .args(["--ente", "AMB-MONZA", "--json"]);
    cmd
}

fn counts(summary: &serde_json::Value, entity: &str) -> (u64, u64, u64, u64) {
    let e = summary[0]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entita"] == entity)
        .unwrap()
        .clone();
    let n = |k: &str| e[k].as_u64().unwrap();
    (
        n("inserite"),
        n("aggiornate"),
        n("invariate"),
        n("scartate"),
    )
}

both_backends!(a_clean_batch_lands_and_a_second_run_changes_nothing, |db| {
    ready(&db);
    let p = persone(&db, &[rossi(), bianchi()]);
    let c = cartelle(
        &db,
        &[
            "C1;A1;108033;2020-01-15;",
            "C2;A2;108033;2021-03-01;2022-03-01",
        ],
    );
    let i = interventi(&db, &["I1;C1;A2.07;2020-02-01;periodica;1.234,56"]);
    let out = json_of(import(&db, &[&p, &c, &i]).assert().success());
    assert_eq!(counts(&out, "persona"), (2, 0, 0, 0));
    assert_eq!(counts(&out, "cartella"), (2, 0, 0, 0));
    assert_eq!(
        db.scalar("SELECT importo_previsto_cent FROM intervento"),
        123456
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM cartella WHERE stato = 'chiusa'"),
        1
    );
    // every row carries the ente's titolare
    assert_eq!(
        db.scalar("SELECT count(*) FROM persona p JOIN ente e ON e.id = p.titolare_id WHERE e.codice = 'AMB-MONZA'"),
        2
    );
    assert_eq!(db.scalar("SELECT count(*) FROM crosswalk"), 5);
    let again = json_of(import(&db, &[&p, &c, &i]).assert().success());
    assert_eq!(counts(&again, "persona"), (0, 0, 2, 0));
    assert_eq!(counts(&again, "intervento"), (0, 0, 1, 0));
    assert_eq!(
        db.scalar("SELECT count(*) FROM import_batch"),
        1,
        "an unchanged re-run records no batch"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 2);

    // `import show`: one JSON document, one CSV table, for scripts.
    let show = |args: &[&str]| {
        let out = db
            .siso()
            .args(["import", "show", "1"])
            .args(args)
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    let doc: serde_json::Value = serde_json::from_str(&show(&["--json"])).unwrap();
    assert_eq!(doc["batch"]["batch"], 1, "{doc}");
    assert_eq!(doc["files"].as_array().unwrap().len(), 3, "{doc}");
    let persone = doc["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["entita"] == "persona")
        .unwrap()
        .clone();
    assert_eq!(persone["inserite"], 2, "{doc}");
    let csv = show(&["--format", "csv"]);
    let mut lines = csv.lines();
    assert!(
        lines.next().unwrap().starts_with("entita,lette,inserite"),
        "{csv}"
    );
    assert!(lines.all(|l| l.split(',').count() == 7), "{csv}");
    assert!(show(&[]).contains("persone.csv"));
    db.siso()
        .args(["import", "show", "9"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("there is no import batch 9"));
});

both_backends!(
    stored_records_that_wait_for_a_new_parent_are_updated_not_doubled,
    |db| {
        // A later flat export (persons and their interventions, one row each)
        // moves intervention I1 to a case C3 that only the case file, read
        // after it, brings: I1 (stored) waits for its parent, then is updated.
        ready(&db);
        let p = persone(&db, &[rossi(), bianchi()]);
        let c = cartelle(
            &db,
            &["C1;A1;108033;2020-01-15;", "C2;A2;108033;2021-03-01;"],
        );
        let i = interventi(
            &db,
            &[
                "I1;C1;A2.07;2020-02-01;periodica;10,00",
                "I2;C2;A2.07;2021-04-01;periodica;20,00",
            ],
        );
        import(&db, &[&p, &c, &i]).assert().success();
        write(
            &db,
            "flat.toml",
            "entity = \"flat\"\n[columns]\nID = \"persona.id_legacy\"\nCF = \"persona.codice_fiscale\"\n\
         COGNOME = \"persona.cognome\"\nNOME = \"persona.nome\"\nSESSO = \"persona.sesso\"\n\
         NASCITA = { field = \"persona.data_nascita\", date_format = \"yyyy-mm-dd\" }\n\
         INTERVENTO = \"intervento.id_legacy\"\nCARTELLA = \"intervento.cartella_id_legacy\"\n\
         PRESTAZIONE = \"intervento.prestazione\"\nINIZIO = { field = \"intervento.inizio\", date_format = \"yyyy-mm-dd\" }\n\
         PERIODICITA = \"intervento.periodicita\"\nIMPORTO = { field = \"intervento.importo_previsto\", decimal = \",\" }\n",
        );
        let flat = table(
            &db,
            "flat.csv",
            "ID;CF;COGNOME;NOME;SESSO;NASCITA;INTERVENTO;CARTELLA;PRESTAZIONE;INIZIO;PERIODICITA;IMPORTO\n",
            &[
                format!("{};I1;C3;A2.07;2020-02-01;periodica;10,00", rossi()),
                format!("{};I2;C2;A2.07;2021-04-01;periodica;20,00", bianchi()),
            ],
        );
        let c = cartelle(
            &db,
            &[
                "C1;A1;108033;2020-01-15;",
                "C2;A2;108033;2021-03-01;",
                "C3;A1;108033;2022-06-01;",
            ],
        );
        let out = json_of(import(&db, &[&flat, &c]).assert().success());
        assert_eq!(counts(&out, "persona"), (0, 0, 2, 0));
        assert_eq!(counts(&out, "cartella"), (1, 0, 2, 0));
        assert_eq!(counts(&out, "intervento"), (0, 1, 1, 0));
        assert_eq!(db.scalar("SELECT count(*) FROM intervento"), 2);
        assert_eq!(
            db.text(
                "SELECT k.id_legacy FROM intervento i \
             JOIN crosswalk x ON x.riga_id = i.id AND x.entita = 'intervento' \
             JOIN crosswalk k ON k.riga_id = i.cartella_id AND k.entita = 'cartella' \
             WHERE x.id_legacy = 'I1'"
            ),
            "C3"
        );
    }
);

both_backends!(
    text_with_backslashes_tabs_and_line_breaks_is_stored_as_read,
    |db| {
        // PostgreSQL receives rows through COPY, whose text format escapes these.
        ready(&db);
        write(
            &db,
            "persone.toml",
            "entity = \"persona\"\n[columns]\nID = \"id_legacy\"\nCF = \"codice_fiscale\"\nINDIRIZZO = \"indirizzo\"\n",
        );
        let address = "Via \\N Roma\t12 \\ int. 3\r\nscala \"B\"";
        let text = format!(
            "ID;CF;COGNOME;NOME;INDIRIZZO\nA1;{};Rossi;Mario;\"{}\"\n",
            cf("RSSMRA85T10F704"),
            address.replace('"', "\"\"")
        );
        let p = write(&db, "persone.csv", &text);
        import(&db, &[&p]).assert().success();
        assert_eq!(db.text("SELECT indirizzo FROM persona"), address);
        let again = json_of(import(&db, &[&p]).assert().success());
        assert_eq!(counts(&again, "persona"), (0, 0, 1, 0));
    }
);

both_backends!(the_audit_log_holds_no_personal_data_after_imports, |db| {
    ready(&db);
    let p = persone(&db, &[rossi(), bianchi()]);
    let c = cartelle(&db, &["C1;A1;108033;2020-01-15;"]);
    import(&db, &[&p, &c]).assert().success();
    // a rejected run (wrong CF) and an undo write audit entries too
    let bad = persone(
        &db,
        &["A9;RSSMRA85T10F704X;Verdi;Anna;F;1985-12-10".to_string()],
    );
    import(&db, &[&bad]).assert().code(1);
    db.siso()
        .args(["import", "undo", "1", "--yes"])
        .assert()
        .success();
    assert!(db.scalar("SELECT count(*) FROM audit_log WHERE azione LIKE 'import%'") >= 2);
    let everything = "COALESCE(operatore, '') || ' ' || COALESCE(comando, '') || ' ' || COALESCE(ente_codice, '') \
                      || ' ' || COALESCE(dettaglio, '')";
    for needle in [
        "RSSMRA85T10F704",
        "BNCLRA90A41F205",
        "Rossi",
        "Bianchi",
        "Mario",
        "Laura",
        "Verdi",
        "1985-12-10",
        "persone.csv",
    ] {
        assert_eq!(
            db.scalar(&format!(
                "SELECT count(*) FROM audit_log WHERE upper({everything}) LIKE upper('%{needle}%')"
            )),
            0,
            "{needle} in the audit log"
        );
    }
});

both_backends!(one_reject_and_nothing_is_stored, |db| {
    ready(&db);
    let wrong_check = format!(
        "A3;{}X;Verdi;Paolo;M;1970-05-05",
        &cf("VRDPLA70E05F704")[..15]
    );
    let p = persone(&db, &[rossi(), wrong_check]);
    let c = cartelle(
        &db,
        &["C1;A1;108033;2020-01-15;", "C3;A3;108033;2020-01-15;"],
    );
    let rejects = db.path().join("scarti.csv");
    let out = import(&db, &[&p, &c])
        .arg("--rejects")
        .arg(&rejects)
        .assert()
        .code(1);
    let out = json_of(out);
    assert_eq!(out[0]["committed"], false);
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM import_batch"), 0);
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert!(
        text.starts_with("file,line,legacy_id,entity,field,reason,message,raw\n"),
        "{text}"
    );
    assert!(
        text.contains("persone.csv,3,A3,persona,codice_fiscale,CF_INVALID,"),
        "{text}"
    );
    assert!(
        text.contains("cartelle.csv,3,C3,cartella,persona_id_legacy,PARENT_REJECTED,"),
        "{text}"
    );
    assert!(
        text.contains("A3;VRDPLA70E05F704X;Verdi;Paolo;M;1970-05-05"),
        "the raw line is kept: {text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&rejects).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
});

// A rejects file that cannot be written stops the run before anything is
// stored: never a committed batch whose rejected lines went nowhere. And the
// rejects never overwrite the export being imported.
both_backends!(a_rejects_file_that_cannot_be_written_stores_nothing, |db| {
    ready(&db);
    let wrong_check = format!(
        "A3;{}X;Verdi;Paolo;M;1970-05-05",
        &cf("VRDPLA70E05F704")[..15]
    );
    let p = persone(&db, &[rossi(), wrong_check]);
    let before = std::fs::read(&p).unwrap();
    let folder = db.path().join("scarti");
    std::fs::create_dir(&folder).unwrap();
    for (rejects, code) in [
        (folder.clone(), 2),
        (db.path().join("nowhere").join("scarti.csv"), 4),
        (p.clone(), 2),
    ] {
        import(&db, &[&p])
            .args(["--max-errors", "5", "--rejects"])
            .arg(&rejects)
            .assert()
            .code(code);
        assert_eq!(
            db.scalar("SELECT count(*) FROM import_batch"),
            0,
            "{rejects:?}"
        );
        assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0, "{rejects:?}");
    }
    assert_eq!(
        std::fs::read(&p).unwrap(),
        before,
        "the export is untouched"
    );
    // A file that exists (the last run's rejects) is replaced; no temporary
    // file stays beside it.
    let rejects = folder.join("scarti.csv");
    std::fs::write(&rejects, "old").unwrap();
    import(&db, &[&p])
        .args(["--max-errors", "5", "--rejects"])
        .arg(&rejects)
        .assert()
        .code(1);
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 1);
    assert!(
        std::fs::read_to_string(&rejects)
            .unwrap()
            .contains("CF_INVALID")
    );
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);
});

// Files named twice, or not there, are refused before anything is read,
// with the README's exit codes: 2 for usage, 3 for input that cannot be read.
both_backends!(a_file_named_twice_or_missing_is_refused_up_front, |db| {
    ready(&db);
    let p = persone(&db, &[rossi()]);
    let also = db.path().join(".").join("persone.csv");
    for dry in [false, true] {
        let mut cmd = import(&db, &[&p, &also]);
        if dry {
            cmd.arg("--dry-run");
        }
        cmd.assert()
            .code(2)
            .stderr(predicate::str::contains("is given twice"));
    }
    import(&db, &[&p, &db.path().join("manca.csv")])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("manca.csv: no such file"));
    assert_eq!(db.scalar("SELECT count(*) FROM import_batch"), 0);
});

both_backends!(a_threshold_lets_the_valid_rows_in, |db| {
    ready(&db);
    let p = persone(
        &db,
        &[
            rossi(),
            format!("A3;{};Verdi;Paolo;M;1971-05-05", cf("VRDPLA70E05F704")),
        ],
    );
    // the birth date disagrees with the codice fiscale
    let out = json_of(
        import(&db, &[&p])
            .args(["--max-errors", "1"])
            .assert()
            .code(1),
    );
    assert_eq!(out[0]["committed"], true);
    assert_eq!(out[0]["rejects"][0]["reason"], "CF_BIRTHDATE_MISMATCH");
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 1);
    // a rate over the rejects refuses
    db.execute("DELETE FROM crosswalk; DELETE FROM import_modifica; DELETE FROM persona; DELETE FROM import_file; DELETE FROM import_batch;");
    import(&db, &[&p])
        .args(["--max-error-rate", "0.4"])
        .assert()
        .code(1);
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0);
    import(&db, &[&p])
        .args(["--max-error-rate", "0.5"])
        .assert()
        .code(1);
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 1);
});

both_backends!(each_rule_has_its_reason_code, |db| {
    ready(&db);
    let p = persone(
        &db,
        &[
            rossi(),
            format!("A4;{};Neri;Anna;F;2090-01-01", cf("NRENNA90A41F704")), // born in the future
            "A5;;Senza;Codice;M;1950-01-01".to_string(), // no CF: stored, with a warning
            format!("A6;{};Gialli;Ugo;X;1950-01-01", cf("GLLGUO50A01F704")), // sex X
            format!("A7;{};Viola;Ugo;M;1950-13-45", cf("VLOGUO50A01F704")), // no such date
        ],
    );
    let c = cartelle(
        &db,
        &[
            "C1;A1;108033;2020-01-15;2019-01-01", // closed before opened
            "C2;A1;999999;2020-01-15;",           // unknown comune
            "C3;A9;108033;2020-01-15;",           // no such person
            "C4;A5;108033;2020-01-15;",
        ],
    );
    let i = interventi(
        &db,
        &[
            "I1;C4;A9.99;2020-02-01;periodica;",
            "I2;C4;A2.07;2020-02-01;;",
            "I3;C4;A2.07;2020-02-01;periodica;",
        ],
    );
    let out = json_of(
        import(&db, &[&p, &c, &i])
            .args(["--max-errors", "100"])
            .assert()
            .code(1),
    );
    let reasons: Vec<(String, String)> = out[0]["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["legacy_id"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (id, reason) in [
        ("A4", "DATE_IN_FUTURE"),
        ("A6", "VALUE_INVALID"),
        ("C1", "DATES_ORDER"),
        ("C2", "CODE_UNKNOWN"),
        ("C3", "PARENT_MISSING"),
        ("I1", "CODE_UNKNOWN"),
        ("I2", "REQUIRED_MISSING"),
        ("A7", "DATE_INVALID"),
    ] {
        assert!(
            reasons.contains(&(id.to_string(), reason.to_string())),
            "{id} {reason} not in {reasons:?}"
        );
    }
    // every code met is explained by `siso codes reasons`
    let listed = json_of(
        db.siso()
            .args(["codes", "reasons", "--json"])
            .assert()
            .success(),
    );
    for (_, reason) in &reasons {
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["codice"] == reason.as_str()),
            "{reason} is not explained by siso codes reasons"
        );
    }
    // every record read is accounted for, the ones refused while reading included
    for e in out[0]["entities"].as_array().unwrap() {
        let n = |k: &str| e[k].as_u64().unwrap();
        assert_eq!(
            n("lette"),
            n("inserite") + n("aggiornate") + n("invariate") + n("unificate") + n("scartate"),
            "{e}"
        );
    }
    assert!(
        out[0]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "PERSONA_SENZA_CF")
    );
    assert_eq!(db.scalar("SELECT count(*) FROM persona WHERE id_temporaneo IS NOT NULL AND codice_fiscale IS NULL"), 1);
    assert_eq!(db.scalar("SELECT count(*) FROM intervento"), 1);
});

both_backends!(the_same_person_under_two_ids_becomes_one, |db| {
    ready(&db);
    let code = cf("RSSMRA85T10F704");
    let omocode = {
        // the same person written with an omocodia letter in the last digit position
        let first15 = format!("{}Q", &code[..14]); // 4 -> Q
        cf(&first15)
    };
    let p = persone(
        &db,
        &[
            format!("A1;{code};Rossi;Mario;M;1985-12-10"),
            format!("B7;{omocode};Rossi;Mario;M;1985-12-10"),
            // same CF, other birth data: a different person, not merged
            format!("A8;{code};Rossi;Mario;M;1885-12-10"),
        ],
    );
    let out = json_of(import(&db, &[&p]).assert().code(0));
    let persona = out[0]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entita"] == "persona")
        .unwrap()
        .clone();
    assert_eq!(persona["inserite"], 2);
    assert_eq!(persona["unificate"], 1);
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 2);
    assert_eq!(
        db.scalar("SELECT count(DISTINCT riga_id) FROM crosswalk WHERE id_legacy IN ('A1', 'B7')"),
        1,
        "both legacy ids point to one persona"
    );
    // The code shared with other birth data is reported, naming the other record.
    let shared = |out: &serde_json::Value| -> Vec<(String, String)> {
        out[0]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["code"] == "CF_SHARED")
            .map(|w| {
                (
                    w["legacy_id"].as_str().unwrap().to_string(),
                    w["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let warned = shared(&out);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert_eq!(warned[0].0, "A8");
    assert!(warned[0].1.contains("legacy id A1"), "{warned:?}");

    // A later batch meets the code of a person already in SISO with other
    // birth data: reported against that person, and not merged.
    let p = persone(&db, &[bianchi()]);
    import(&db, &[&p]).assert().success();
    let other = format!("A9;{};Bianchi;Laura;F;1890-01-01", cf("BNCLRA90A41F205"));
    let p = persone(&db, &[other]);
    let out = json_of(import(&db, &[&p]).assert().code(0));
    let warned = shared(&out);
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].1.contains("already in SISO"), "{warned:?}");
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 4);
    // The same person again (A8's data under a new id) is merged, not reported.
    let p = persone(&db, &[format!("C1;{code};Rossi;Mario;M;1885-12-10")]);
    let out = json_of(import(&db, &[&p]).assert().code(0));
    assert!(shared(&out).is_empty(), "{out}");
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 4);
});

both_backends!(a_changed_source_updates_and_undo_restores, |db| {
    ready(&db);
    let p = persone(&db, &[rossi(), bianchi()]);
    import(&db, &[&p]).assert().success();
    let changed = format!(
        "A1;{};Rossi;Mario Luigi;M;1985-12-10",
        cf("RSSMRA85T10F704")
    );
    let p = persone(
        &db,
        &[
            changed,
            bianchi(),
            format!("A3;{};Verdi;Paolo;M;1970-05-05", cf("VRDPLA70E05F704")),
        ],
    );
    let out = json_of(import(&db, &[&p]).assert().success());
    assert_eq!(counts(&out, "persona"), (1, 1, 1, 0));
    assert_eq!(
        db.scalar("SELECT count(*) FROM persona WHERE nome = 'Mario Luigi'"),
        1
    );
    // undo of the first batch is refused while the second builds on it
    db.siso()
        .args(["import", "undo", "1", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--cascade"));
    db.siso()
        .args(["import", "undo", "2", "--dry-run"])
        .assert()
        .success();
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 3);
    db.siso()
        .args(["import", "undo", "2", "--yes"])
        .assert()
        .success();
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 2);
    assert_eq!(
        db.scalar("SELECT count(*) FROM persona WHERE nome = 'Mario'"),
        1,
        "the update was taken back"
    );
    // the crosswalk forgot the undone change: importing the changed file again updates again
    let out = json_of(import(&db, &[&p]).assert().success());
    assert_eq!(counts(&out, "persona"), (1, 1, 1, 0));
    db.siso()
        .args(["import", "undo", "1", "--cascade", "--yes"])
        .assert()
        .success();
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM crosswalk"), 0);
    let batches = json_of(
        db.siso()
            .args(["import", "list", "--json"])
            .assert()
            .success(),
    );
    assert!(
        batches
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["stato"] == "annullato")
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'import_undo'"),
        2
    );
});

// A file that lacks columns updates what it carries and leaves the rest of
// a stored row alone: an export of names and telephone numbers must not
// erase the codice fiscale and the birth data it does not have.
both_backends!(
    a_file_without_some_columns_keeps_what_it_does_not_carry,
    |db| {
        ready(&db);
        let p = persone(&db, &[rossi()]);
        import(&db, &[&p]).assert().success();
        let before = db.text(
        "SELECT codice_fiscale || '|' || cf_chiave || '|' || sesso || '|' || CAST(data_nascita AS TEXT) FROM persona",
    );
        write(
            &db,
            "telefoni.toml",
            "entity = \"persona\"\n[columns]\nID = \"id_legacy\"\n",
        );
        let t = table(
            &db,
            "telefoni.csv",
            "ID;COGNOME;NOME;TELEFONO\n",
            &["A1;Rossi;Mario;039 999999"],
        );
        let out = json_of(import(&db, &[&t]).assert().success());
        assert_eq!(counts(&out, "persona"), (0, 1, 0, 0));
        assert_eq!(out[0]["warnings"], serde_json::json!([]), "{out}");
        assert_eq!(
        db.text(
            "SELECT codice_fiscale || '|' || cf_chiave || '|' || sesso || '|' || CAST(data_nascita AS TEXT) FROM persona"
        ),
        before
    );
        assert_eq!(db.text("SELECT telefono FROM persona"), "039 999999");
        assert_eq!(
            db.scalar("SELECT count(*) FROM persona WHERE id_temporaneo IS NULL"),
            1
        );
        // Again: unchanged. Then undo puts the number back as it was (none).
        let out = json_of(import(&db, &[&t]).assert().success());
        assert_eq!(counts(&out, "persona"), (0, 0, 1, 0));
        db.siso()
            .args(["import", "undo", "2", "--yes"])
            .assert()
            .success();
        assert_eq!(
            db.scalar("SELECT count(*) FROM persona WHERE telefono IS NULL"),
            1
        );
        // A column that is there but empty still clears the field.
        let t = table(
            &db,
            "telefoni.csv",
            "ID;COGNOME;NOME;TELEFONO;SESSO\n",
            &["A1;Rossi;Mario;039 999999;"],
        );
        import(&db, &[&t]).assert().success();
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM persona WHERE sesso IS NULL AND codice_fiscale IS NOT NULL"
            ),
            1
        );
    }
);

// A person stored without a codice fiscale, given later the code and birth
// date of another stored person, would be the same person twice: the update
// is refused (a new person would be merged instead).
both_backends!(an_update_that_would_store_a_person_twice_is_refused, |db| {
    ready(&db);
    let senza_cf = "A9;;Rossi;Mario;M;1985-12-10".to_string();
    let p = persone(&db, &[senza_cf, rossi()]);
    import(&db, &[&p]).assert().success();
    let p = persone(
        &db,
        &[
            format!("A9;{};Rossi;Mario;M;1985-12-10", cf("RSSMRA85T10F704")),
            rossi(),
        ],
    );
    let out = json_of(
        import(&db, &[&p])
            .args(["--max-errors", "1"])
            .assert()
            .code(1),
    );
    let want: Vec<(String, String, u64)> = vec![("A9".into(), "PERSONA_DUPLICATA".into(), 2)];
    assert_eq!(rejects_of(&out), want, "{out}");
    assert!(
        out[0]["rejects"][0]["message"]
            .as_str()
            .unwrap()
            .contains("legacy id A1")
            || out[0]["rejects"][0]["message"]
                .as_str()
                .unwrap()
                .contains("already in SISO"),
        "{out}"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM persona WHERE codice_fiscale IS NOT NULL"),
        1
    );
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 2);

    // Within one batch: two stored persons both given one new identity. The
    // first update stands, the second would make a twin.
    let verdi = "Verdi;Paolo;M;1970-05-05";
    let p = persone(
        &db,
        &[
            format!("A9;{};{verdi}", cf("VRDPLA70E05F704")),
            format!("A1;{};{verdi}", cf("VRDPLA70E05F704")),
        ],
    );
    let out = json_of(
        import(&db, &[&p])
            .args(["--max-errors", "1"])
            .assert()
            .code(1),
    );
    let want: Vec<(String, String, u64)> = vec![("A1".into(), "PERSONA_DUPLICATA".into(), 3)];
    assert_eq!(rejects_of(&out), want, "{out}");
    assert_eq!(
        db.scalar("SELECT count(*) FROM persona WHERE cognome = 'Verdi'"),
        1
    );

    // A stored person updated to a new identity, then a new legacy id with
    // that identity: one person, the new id linked to it.
    let neri = format!("{};Neri;Paolo;M;1960-05-05", cf("NREPLA60E05F704"));
    let p = persone(&db, &[format!("A9;{neri}"), format!("N1;{neri}")]);
    let out = json_of(import(&db, &[&p]).assert().success());
    assert_eq!(counts(&out, "persona"), (0, 1, 0, 0));
    assert_eq!(
        db.scalar("SELECT count(*) FROM persona WHERE cognome = 'Neri'"),
        1
    );
    assert_eq!(
        db.scalar("SELECT count(DISTINCT riga_id) FROM crosswalk WHERE id_legacy IN ('A9', 'N1')"),
        1
    );
});

both_backends!(a_dry_run_changes_nothing, |db| {
    ready(&db);
    let p = persone(&db, &[rossi()]);
    let out = json_of(import(&db, &[&p]).arg("--dry-run").assert().success());
    assert_eq!(counts(&out, "persona"), (1, 0, 0, 0));
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM import_batch"), 0);
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'import'"),
        0
    );
});

both_backends!(entes_without_approval_or_titolare_are_refused, |db| {
    db.init();
    let p = persone(&db, &[rossi()]);
    db.siso()
        .args(["import"])
        .arg(&p)
        .args(["--ente", "AMB-NESSUNO"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("siso ente list"));
    let onboarding = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/onboarding/17-ambito-monza.toml"
    );
    db.siso().args(["onboard", onboarding]).assert().success();
    db.execute("DELETE FROM ruolo_privacy WHERE ruolo = 'titolare'");
    db.siso()
        .args(["import"])
        .arg(&p)
        .args(["--ente", "AMB-MONZA"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no titolare"));
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0);
});

both_backends!(the_bundled_examples_import, |db| {
    ready(&db);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/legacy");
    let files = [
        "operatori.xlsx",
        "cartella_old_persone.csv",
        "cartella_old_cartelle.csv",
        "cartella_old_interventi.csv",
    ]
    .map(|f| dir.join(f));
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = json_of(import(&db, &refs).assert().success());
    assert_eq!(out[0]["rejects"].as_array().unwrap().len(), 0);
    assert!(db.scalar("SELECT count(*) FROM persona") > 0);
    assert_eq!(
        db.scalar("SELECT count(*) FROM cartella WHERE operatore_id IS NULL"),
        0
    );
    // Windows-1252 names arrive as real letters, not mojibake
    assert_eq!(
        db.scalar("SELECT count(*) FROM persona WHERE nome = 'Nicolò'"),
        1
    );
});

#[test]
fn a_killed_import_leaves_the_database_as_it_was() {
    let db = TestDb::sqlite();
    ready(&db);
    // a batch big enough to be killed while it runs
    let mut rows = Vec::new();
    for n in 0..20_000 {
        rows.push(format!("P{n};;Cognome{n};Nome;M;1950-01-01"));
    }
    let p = persone(&db, &rows);
    for delay_ms in [50u64, 200, 600] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("siso"))
            .current_dir(db.path())
            .env("SISO_DATABASE_URL", &db.url)
            .args(["-q", "import"])
            .arg(&p)
            .args(["--ente", "AMB-MONZA"])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let persons = db.scalar("SELECT count(*) FROM persona");
        if status.success() {
            // it finished before the kill: then it is whole
            assert_eq!(persons, 20_000);
            let last = db.scalar("SELECT max(id) FROM import_batch").to_string();
            db.siso()
                .args(["import", "undo", &last, "--yes"])
                .assert()
                .success();
        } else {
            assert_eq!(
                persons, 0,
                "killed after {delay_ms} ms: nothing half-written"
            );
            assert_eq!(
                db.scalar("SELECT count(*) FROM import_batch WHERE stato = 'completato'"),
                0
            );
        }
        assert_eq!(
            db.scalar("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"),
            0
        );
    }
    // and a run to the end succeeds afterwards (persons without CF are warnings, not rejects)
    db.siso()
        .arg("import")
        .arg(&p)
        .args(["--ente", "AMB-MONZA", "-q"])
        .assert()
        .success();
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 20_000);
}

both_backends!(
    a_flat_export_imports_persons_cases_and_interventions_from_one_file,
    |db| {
        ready(&db);
        let flat =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/legacy/estrazione_flat.csv");
        let out = json_of(import(&db, &[&flat]).assert().success());
        let (p, c, i) = (
            counts(&out, "persona"),
            counts(&out, "cartella"),
            counts(&out, "intervento"),
        );
        assert_eq!((p.0, c.0, i.0), (5, 5, 5), "{out}");
        // every intervention hangs on the case of its own row, every case on its person
        assert_eq!(
        db.scalar(
            "SELECT count(*) FROM intervento i JOIN cartella c ON c.id = i.cartella_id \
             JOIN crosswalk x ON x.riga_id = c.id AND x.entita = 'cartella' WHERE x.id_legacy = 'C101'"
        ),
        1
    );
        let again = json_of(import(&db, &[&flat]).assert().success());
        assert_eq!(counts(&again, "intervento"), (0, 0, 5, 0));
    }
);

/// SQLite sets a table's non-unique indexes aside while a batch at least
/// doubles it, and builds them again inside the same transaction.
#[test]
fn a_big_load_sets_indexes_aside_and_builds_them_again() {
    let db = TestDb::sqlite();
    ready(&db);
    let indexes = |db: &TestDb| {
        db.text(
            "SELECT group_concat(name || ': ' || sql, char(10)) FROM \
             (SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name)",
        )
    };
    let before = indexes(&db);
    assert!(before.contains("persona_cf_chiave_idx"), "{before}");
    assert!(before.contains("crosswalk_batch_id_idx"), "{before}");
    let mut rows = Vec::new();
    for n in 0..12_000 {
        rows.push(format!("P{n};;Cognome{n};Nome;M;1950-01-01"));
    }
    rows.push("BAD;XXXXXXXXXXXXXXXX;Rossi;Mario;M;1950-01-01".into());
    let p = persone(&db, &rows);
    // All or nothing: refused after the rows were loaded, indexes untouched.
    let refused = json_of(import(&db, &[&p]).assert().code(1));
    assert_eq!(refused[0]["committed"], false);
    assert_eq!(indexes(&db), before);
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 0);
    // Accepted under a threshold: the same indexes, consistent with the rows.
    let done = json_of(
        import(&db, &[&p])
            .args(["--max-errors", "1"])
            .assert()
            .code(1),
    );
    assert_eq!(done[0]["committed"], true);
    assert_eq!(indexes(&db), before);
    assert_eq!(db.scalar("SELECT count(*) FROM persona"), 12_000);
    assert_eq!(db.scalar("SELECT count(*) FROM crosswalk"), 12_000);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"),
        0
    );
}

both_backends!(a_case_number_taken_is_refused_with_its_reason, |db| {
    ready(&db);
    let p = persone(&db, &[rossi(), bianchi()]);
    let c = cartelle(
        &db,
        &["C1;A1;108033;2020-01-15;", "C2;A2;108033;2020-01-15;"],
    );
    import(&db, &[&p, &c]).assert().success();

    // A second legacy system of the same titolare, whose case ids (used as
    // case numbers, having no number of their own) overlap the first one's.
    let mut cmd = import(&db, &[&p, &c]);
    cmd.args(["--source", "altro", "--rejects"])
        .arg(db.path().join("scarti.csv"));
    let out = json_of(cmd.assert().code(1));
    let rejects = out[0]["rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    for r in rejects {
        assert_eq!(r["reason"], "CARTELLA_NUMERO_TAKEN", "{r}");
        assert_eq!(r["field"], "numero", "{r}");
        assert!(
            r["message"].as_str().unwrap().contains("no case number"),
            "{r}"
        );
    }
    assert_eq!(out[0]["committed"], false);
    assert_eq!(db.scalar("SELECT count(*) FROM cartella"), 2);
    assert_eq!(
        db.scalar("SELECT count(*) FROM import_batch WHERE stato = 'completato'"),
        1
    );

    // Two cases of one batch with the same number: the second is refused,
    // the first goes in when the threshold allows.
    write(
        &db,
        "numerate.toml",
        "entity = \"cartella\"\n[columns]\nID = \"id_legacy\"\nPERSONA = \"persona_id_legacy\"\nNUMERO = \"numero\"\n\
         COMUNE = \"comune_istat\"\nAPERTA = { field = \"aperta_il\", date_format = \"yyyy-mm-dd\" }\n",
    );
    let n = write(
        &db,
        "numerate.csv",
        "ID;PERSONA;NUMERO;COMUNE;APERTA\nD1;A1;2024/7;108033;2024-03-01\nD2;A2;2024/7;108033;2024-03-02\n",
    );
    let out = json_of(
        import(&db, &[&p, &n])
            .args(["--max-errors", "1"])
            .assert()
            .code(1),
    );
    let rejects = out[0]["rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["legacy_id"], "D2");
    assert_eq!(rejects[0]["reason"], "CARTELLA_NUMERO_TAKEN");
    assert!(
        rejects[0]["message"]
            .as_str()
            .unwrap()
            .contains("its own number"),
        "{}",
        rejects[0]
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM cartella WHERE numero = '2024/7'"),
        1
    );

    // The same files again: the cases keep their own numbers, nothing is refused.
    let out = json_of(import(&db, &[&p, &c]).assert().success());
    assert_eq!(counts(&out, "cartella").2, 2, "both unchanged: {out}");
});

fn erogazioni(db: &TestDb, rows: &[&str]) -> PathBuf {
    write(
        db,
        "erogazioni.toml",
        "entity = \"erogazione\"\n[columns]\nID = \"id_legacy\"\nINTERVENTO = \"intervento_id_legacy\"\n\
         DATA = { field = \"data\", date_format = \"yyyy-mm-dd\" }\nIMPORTO = { field = \"importo\", decimal = \",\" }\n",
    );
    table(db, "erogazioni.csv", "ID;INTERVENTO;DATA;IMPORTO\n", rows)
}

/// (legacy id, reason, line) of every reject.
fn rejects_of(out: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut v: Vec<(String, String, u64)> = out[0]["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["legacy_id"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
                r["line"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

// A legacy id met again in a batch: the same record is passed over, other
// contents are DUPLICATE_LEGACY_ID, whether it was accepted, rejected or
// stored by an earlier batch. Deliveries (a leaf entity) are decided with
// the crosswalk instead of an in-memory slot, so both kinds are checked.
both_backends!(a_legacy_id_met_again_is_passed_over_or_refused, |db| {
    ready(&db);
    let p = persone(&db, &[rossi()]);
    let c = cartelle(
        &db,
        &[
            "C1;A1;108033;2020-01-15;",
            "C1;A1;108033;2020-01-15;",
            "C2;A1;108033;2020-01-15;",
            "C2;A1;108033;2020-01-16;", // other contents
        ],
    );
    let i = interventi(&db, &["I1;C1;A2.07;2020-02-01;periodica;"]);
    let e = erogazioni(
        &db,
        &[
            "E1;I1;2020-03-01;100,00",
            "E2;I1;2020-03-02;50,00",
            "E2;I1;2020-03-02;50,00", // the same again
            "E3;I1;2020-03-03;10,00",
            "E3;I1;2020-03-03;11,00", // other contents
            "E4;I1;2090-03-04;10,00", // in the future: refused by the rules
            "E4;I1;2020-03-04;10,00", // the refused one, mended in the same batch
            "E6;I1;2020-02-30;10,00", // no such date: the line cannot be read
            "E6;I1;2020-03-06;10,00", // so this line is judged on its own
        ],
    );
    let out = json_of(
        import(&db, &[&p, &c, &i, &e])
            .args(["--max-errors", "10"])
            .assert()
            .code(1),
    );
    let want = |v: &[(&str, &str, u64)]| -> Vec<(String, String, u64)> {
        let mut v: Vec<_> = v
            .iter()
            .map(|(a, b, l)| (a.to_string(), b.to_string(), *l))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        rejects_of(&out),
        want(&[
            ("C2", "DUPLICATE_LEGACY_ID", 5),
            ("E3", "DUPLICATE_LEGACY_ID", 6),
            ("E4", "DATE_IN_FUTURE", 7),
            ("E4", "DUPLICATE_LEGACY_ID", 8),
            ("E6", "DATE_INVALID", 9),
        ]),
        "{out}"
    );
    assert_eq!(counts(&out, "cartella"), (2, 0, 0, 1));
    assert_eq!(counts(&out, "erogazione"), (4, 0, 0, 4));
    assert_eq!(db.scalar("SELECT count(*) FROM erogazione"), 4);
    assert_eq!(
        db.scalar("SELECT importo_cent FROM erogazione WHERE data = '2020-03-03'"),
        1000,
        "the first E3 is kept"
    );

    // The next batch: E1 unchanged, E2 changed, E5 new; each then again.
    let e = erogazioni(
        &db,
        &[
            "E1;I1;2020-03-01;100,00",
            "E2;I1;2020-03-02;55,00",
            "E2;I1;2020-03-02;55,00",  // the same change again
            "E1;I1;2020-03-01;101,00", // other contents than a moment ago
            "E5;I1;2020-03-05;5,00",
            "E5;I1;2020-03-05;6,00", // other contents
        ],
    );
    let c = cartelle(&db, &["C1;A1;108033;2020-01-15;"]);
    let out = json_of(
        import(&db, &[&p, &c, &i, &e])
            .args(["--max-errors", "10"])
            .assert()
            .code(1),
    );
    assert_eq!(
        rejects_of(&out),
        want(&[
            ("E1", "DUPLICATE_LEGACY_ID", 5),
            ("E5", "DUPLICATE_LEGACY_ID", 7),
        ]),
        "{out}"
    );
    assert_eq!(counts(&out, "erogazione"), (1, 1, 1, 2));
    assert_eq!(db.scalar("SELECT count(*) FROM erogazione"), 5);
    assert_eq!(
        db.scalar("SELECT importo_cent FROM erogazione WHERE data = '2020-03-02'"),
        5500
    );
    assert_eq!(
        db.scalar("SELECT importo_cent FROM erogazione WHERE data = '2020-03-05'"),
        500
    );
});

// The crosswalk lookup of leaf records (deliveries met again, or maybe
// known) must seek each legacy id in the unique index even when the
// statistics predate a big load: an `IN (...)` list was planned as a scan
// of every line of the table there, which made a re-import of 5M rows
// take hours on PostgreSQL.
#[test]
fn the_crosswalk_lookup_seeks_each_id_on_postgresql_whatever_the_statistics() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    ready(&db);
    db.execute(
        "ALTER TABLE crosswalk SET (autovacuum_enabled = false); \
         INSERT INTO crosswalk (titolare_id, sistema_origine, entita, id_legacy, riga_id) \
         SELECT e.id, 'legacy', 'erogazione', 'E' || g, g FROM ente e, generate_series(1, 200000) g \
         WHERE e.codice = 'AMB-MONZA'",
    );
    let titolare = db.scalar("SELECT id FROM ente WHERE codice = 'AMB-MONZA'");
    let sql = siso::import::CROSSWALK_LINES_POSTGRES
        .replace("$1", &titolare.to_string())
        .replace("$2", "'legacy'")
        .replace("$3", "'erogazione'")
        .replace("$4", "ARRAY['E7', 'E70000', 'nessuno']");
    let plan = db.texts(&format!("EXPLAIN {sql}")).join("\n");
    assert!(
        plan.contains("Index Cond: ((titolare_id = ") && plan.contains("(id_legacy = l.id))"),
        "{plan}"
    );
    assert!(!plan.contains("Filter"), "{plan}");
    let found = db.texts(&format!(
        "SELECT id || ':' || riga_id FROM ({sql}) x ORDER BY riga_id"
    ));
    assert_eq!(found, ["E7:7", "E70000:70000"]);
}

#[test]
fn reason_codes_are_explained_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("siso")
        .unwrap()
        .env(
            "SISO_DATABASE_URL",
            format!("sqlite:{}", dir.path().join("none.db").display()),
        )
        .args(["codes", "reasons", "--json"])
        .assert()
        .success();
    let rows: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let rows = rows.as_array().unwrap();
    for (code, phase) in [
        ("DATE_AMBIGUOUS", "lettura"),
        ("CARTELLA_NUMERO_TAKEN", "verifica"),
        ("CF_SHARED", "avviso"),
    ] {
        assert!(
            rows.iter()
                .any(|r| r["codice"] == code && r["fase"] == phase && r["significato"] != ""),
            "{code} ({phase}) missing"
        );
    }
    let mut codes: Vec<&str> = rows.iter().map(|r| r["codice"].as_str().unwrap()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), rows.len(), "a code listed twice");
    assert!(
        !dir.path().join("none.db").exists(),
        "no database is created to answer"
    );
}

// A legacy id given other contents later in the batch counts as rejected
// for what comes after: its children cannot tell which version they belong
// to, and attaching them to the first could put one person's case under
// another person. Children met before the conflict stay with their version.
both_backends!(
    children_of_a_conflicting_legacy_id_are_refused_not_attached,
    |db| {
        ready(&db);
        // One flat row per intervention: line 3 gives case C1 another person
        // and number, so its intervention must not land in line 2's case.
        let flat = write(
            &db,
            "flat.csv",
            &format!(
                "ID_PERSONA,CF,COGNOME,NOME,DATA_NASCITA,ID_CARTELLA,NUMERO_CARTELLA,COMUNE_ISTAT,DATA_APERTURA,STATO,\
             ID_INTERVENTO,COD_PRESTAZIONE,DATA_INIZIO,PERIODICITA,IMPORTO_PREVISTO\n\
             A1,{},Rossi,Mario,1985-12-10,C1,2019/001,108033,2019-01-15,aperta,I1,A2.07,2019-02-01,periodica,100.00\n\
             A2,{},Bianchi,Laura,1990-01-01,C1,2019/002,108033,2019-01-15,aperta,I2,A1.04,2019-03-01,una_tantum,500.00\n",
                cf("RSSMRA85T10F704"),
                cf("BNCLRA90A41F205")
            ),
        );
        let out = json_of(
            import(&db, &[&flat])
                .args(["--max-errors", "5"])
                .assert()
                .code(1),
        );
        let flat_rejects: Vec<(String, String, u64)> = vec![
            ("C1".into(), "DUPLICATE_LEGACY_ID".into(), 3),
            ("I2".into(), "PARENT_REJECTED".into(), 3),
        ];
        assert_eq!(rejects_of(&out), flat_rejects, "{out}");
        assert_eq!(db.scalar("SELECT count(*) FROM intervento"), 1);
        assert_eq!(
        db.scalar(
            "SELECT count(*) FROM intervento i JOIN cartella c ON c.id = i.cartella_id \
             JOIN persona p ON p.id = c.persona_id WHERE p.cognome = 'Rossi' AND i.prestazione_codice = 'A2.07'"
        ),
        1
    );

        // One file per entity: person P1 twice, as two different people. Case
        // K1, read after, names P1: refused, not given to the first of them.
        let p = table(
            &db,
            "persone.csv",
            "ID;CF;COGNOME;NOME;SESSO;NASCITA\n",
            &[
                format!("P1;{};Verdi;Giovanna;F;1970-03-01", cf("VRDGNN70C41F205")),
                format!("P1;{};Neri;Paolo;M;1960-05-05", cf("NREPLA60E05F704")),
            ],
        );
        write(
            &db,
            "persone.toml",
            "entity = \"persona\"\n[columns]\nID = \"id_legacy\"\nCF = \"codice_fiscale\"\nNASCITA = { field = \"data_nascita\", date_format = \"yyyy-mm-dd\" }\n",
        );
        let c = cartelle(&db, &["K1;P1;108033;2020-01-15;"]);
        let out = json_of(
            import(&db, &[&p, &c])
                .args(["--max-errors", "5"])
                .assert()
                .code(1),
        );
        let file_rejects: Vec<(String, String, u64)> = vec![
            ("K1".into(), "PARENT_REJECTED".into(), 2),
            ("P1".into(), "DUPLICATE_LEGACY_ID".into(), 3),
        ];
        assert_eq!(rejects_of(&out), file_rejects, "{out}");
        assert_eq!(
        db.scalar("SELECT count(*) FROM cartella c JOIN persona p ON p.id = c.persona_id WHERE p.cognome = 'Verdi'"),
        0
    );
    }
);

// Cron jobs and containers often run without USER or LOGNAME: the batch and
// its audit entry then name the system's user, not "sconosciuto".
#[test]
fn the_operator_is_the_system_user_when_the_environment_does_not_say() {
    let db = TestDb::sqlite();
    ready(&db);
    let p = persone(&db, &[rossi()]);
    import(&db, &[&p])
        .env_remove("SISO_OPERATOR")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .assert()
        .success();
    let operatore = db.text("SELECT operatore FROM import_batch");
    let id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    assert!(
        id.status.success(),
        "id -un names the user running the tests"
    );
    assert_eq!(operatore, String::from_utf8(id.stdout).unwrap().trim());
}

// A big batch on PostgreSQL refreshes the planner's statistics of the case
// tables before the usage statistics are recomputed (ANALYZE, by siso, not
// by autovacuum some time later); a small one leaves that to autovacuum.
#[test]
fn a_big_batch_on_postgresql_refreshes_the_planner_statistics() {
    let Some(db) = TestDb::postgres() else { return };
    ready(&db);
    let analyzed = |db: &TestDb| {
        db.scalar("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'persona' AND last_analyze IS NOT NULL")
    };
    let p = persone(&db, &[rossi()]);
    import(&db, &[&p]).assert().success();
    assert_eq!(analyzed(&db), 0, "a small batch");
    let rows: Vec<String> = (0..50_000)
        .map(|n| format!("P{n};;Cognome{n};Nome;M;1950-01-01"))
        .collect();
    let p = persone(&db, &rows);
    import(&db, &[&p]).assert().success();
    assert_eq!(analyzed(&db), 1, "a batch of 50,000 persons");
    assert!(
        db.scalar("SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE relname = 'persona'")
            > 45_000
    );
}
