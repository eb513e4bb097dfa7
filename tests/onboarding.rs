//! Onboarding on both backends: requests and decisions, memberships,
//! referents, privacy roles, the onboarding file and the deadlines.

mod common;

use common::{TestDb, json_of};
use predicates::prelude::*;

fn examples() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/onboarding");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    files
}

fn onboard_examples(db: &TestDb) {
    db.siso().arg("onboard").args(examples()).assert().success();
}

fn write(db: &TestDb, name: &str, text: &str) -> String {
    let path = db.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn request(db: &TestDb, code: &str, received: &str) -> assert_cmd::assert::Assert {
    db.siso()
        .args([
            "ente",
            "request",
            "--code",
            code,
            "--kind",
            "ambito",
            "--name",
            "Ambito di prova",
        ])
        .args(["--legal-representative", "Presidente Assemblea dei Sindaci"])
        .args(["--received", received, "--protocol", "1/2024"])
        .assert()
}

both_backends!(examples_apply_cleanly_twice, |db| {
    db.init();
    let audit_before = db.scalar("SELECT count(*) FROM audit_log");
    onboard_examples(&db);
    assert_eq!(
        db.scalar("SELECT count(*) FROM ente WHERE stato = 'aderente'"),
        13
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM ente WHERE capofila = true"),
        1
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM ruolo_privacy WHERE ruolo IN ('titolare', 'dpo')"),
        26
    );
    let audit_after = db.scalar("SELECT count(*) FROM audit_log");
    assert!(audit_after > audit_before);
    let again = db
        .siso()
        .arg("onboard")
        .args(examples())
        .args(["--json"])
        .assert()
        .success()
        .stderr(predicate::str::contains("Nothing to change"));
    let plan = json_of(again);
    assert!(
        plan.as_array()
            .unwrap()
            .iter()
            .all(|v| v["azione"] == "unchanged")
    );
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), audit_after);
    let list = json_of(
        db.siso()
            .args(["ente", "list", "--json", "--ambito", "AMB-MONZA"])
            .assert()
            .success(),
    );
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["codice"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"AMB-MONZA") && codes.contains(&"108033"),
        "{codes:?}"
    );
});

both_backends!(dry_run_writes_nothing, |db| {
    db.init();
    let plan = json_of(
        db.siso()
            .arg("onboard")
            .args(examples())
            .args(["--dry-run", "--json"])
            .assert()
            .success(),
    );
    assert!(
        plan.as_array()
            .unwrap()
            .iter()
            .all(|v| v["azione"] == "create")
    );
    assert_eq!(db.scalar("SELECT count(*) FROM ente"), 0);
});

both_backends!(request_approve_and_no_second_decision, |db| {
    db.init();
    // No Capofila yet: the decision is refused.
    request(&db, "AMB-PROVA", "2024-01-01")
        .success()
        .stderr(predicate::str::contains("2024-03-01"));
    db.siso()
        .args([
            "ente",
            "approve",
            "AMB-PROVA",
            "--act",
            "D/1",
            "--date",
            "2024-02-01",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Capofila"));
    onboard_examples(&db);
    db.siso()
        .args([
            "ente",
            "approve",
            "AMB-PROVA",
            "--act",
            "D/1",
            "--date",
            "2024-02-01",
        ])
        .assert()
        .success();
    db.siso()
        .args([
            "ente",
            "approve",
            "AMB-PROVA",
            "--act",
            "D/2",
            "--date",
            "2024-02-02",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("decided once"));
    db.siso()
        .args(["ente", "reject", "AMB-PROVA", "--reason", "x"])
        .assert()
        .code(1);
    assert_eq!(db.scalar("SELECT count(*) FROM adesione WHERE esito = 'approvata' AND deciso_da_ente_id IS NOT NULL"), 1);
    assert_eq!(
        db.scalar("SELECT count(*) FROM ente WHERE codice = 'AMB-PROVA' AND stato = 'aderente'"),
        1
    );
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'adesione_approvata' AND ente_codice = 'AMB-PROVA'"), 1);
});

both_backends!(bad_identity_is_refused, |db| {
    db.init();
    db.siso()
        .args([
            "ente", "request", "--code", "108999", "--kind", "comune", "--name", "X", "--istat",
            "108999",
        ])
        .args([
            "--legal-representative",
            "Sindaco",
            "--received",
            "2024-01-01",
            "--protocol",
            "1",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("unknown ISTAT code 108999"));
    db.siso()
        .args([
            "ente",
            "request",
            "--code",
            "AMB-X",
            "--kind",
            "ambito",
            "--name",
            "X",
            "--codice-fiscale",
            "02030880154",
        ])
        .args([
            "--legal-representative",
            "Sindaco",
            "--received",
            "2024-01-01",
            "--protocol",
            "1",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("check digit"));
    db.siso()
        .args(["ente", "request", "--code", "AMB-X"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--kind").and(predicate::str::contains("--received")));
    assert_eq!(db.scalar("SELECT count(*) FROM ente"), 0);
});

both_backends!(a_comune_is_never_in_two_ambiti, |db| {
    db.init();
    onboard_examples(&db);
    // 108033 (Monza) is in AMB-MONZA from 2020-01-01, open-ended.
    db.siso()
        .args([
            "ente",
            "join",
            "AMB-DESIO",
            "--comune",
            "108033",
            "--from",
            "2024-01-01",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("never in two ambiti"));
    db.siso()
        .args([
            "ente",
            "leave",
            "AMB-MONZA",
            "--comune",
            "108033",
            "--on",
            "2023-12-31",
        ])
        .assert()
        .success();
    db.siso()
        .args([
            "ente",
            "join",
            "AMB-DESIO",
            "--comune",
            "108033",
            "--from",
            "2023-12-31",
        ])
        .assert()
        .code(1);
    db.siso()
        .args([
            "ente",
            "join",
            "AMB-DESIO",
            "--comune",
            "108033",
            "--from",
            "2024-01-01",
        ])
        .assert()
        .success();
    db.siso()
        .args([
            "ente",
            "join",
            "AMB-DESIO",
            "--comune",
            "108999",
            "--from",
            "2024-01-01",
        ])
        .assert()
        .code(3);
});

both_backends!(a_bad_file_is_rejected_whole_with_positions, |db| {
    db.init();
    let bad = write(
        &db,
        "bad.toml",
        r#"[[ente]]
codice = "AMB-A"
tipo = "ambito"
denominazione = "A"
[ente.approvazione]
atto = "1"
data = 2024-01-01
[[ente.comune]]
istat = "108999"
dal = 2024-01-01

[[ente]]
codice = "AMB-B"
tipo = "ambito"
denominazione = "B"
codice_fiscale = "02030880154"
[ente.approvazione]
atto = "2"
data = 2024-01-01
[[ente.comune]]
istat = "108033"
dal = 2024-01-01
[[ente.comune]]
istat = "108033"
dal = 2024-06-01
"#,
    );
    db.siso().args(["onboard", &bad]).assert().code(3).stderr(
        predicate::str::contains("bad.toml:8: [[ente]] #1 (code AMB-A): unknown ISTAT code 108999")
            .and(predicate::str::contains(
                "bad.toml:16: [[ente]] #2 (code AMB-B): codice fiscale",
            ))
            .and(predicate::str::contains("108033 is listed twice in AMB-B")),
    );
    let malformed = write(&db, "malformed.toml", "[[ente]]\ncodice = \"X\"\ntipo = \n");
    db.siso()
        .args(["onboard", &malformed])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("malformed.toml:3:"));
    assert_eq!(db.scalar("SELECT count(*) FROM ente"), 0);
});

both_backends!(a_file_overlapping_the_database_is_refused, |db| {
    db.init();
    onboard_examples(&db);
    let other = write(
        &db,
        "desio.toml",
        "[[ente]]\ncodice = \"AMB-DESIO\"\ntipo = \"ambito\"\ndenominazione = \"Ambito Distrettuale di Desio\"\nats = \"030324\"\n[ente.approvazione]\natto = \"Protocollo d'Intesa SISO (sottoscrizione)\"\ndata = 2020-01-01\n[[ente.comune]]\nistat = \"108033\"\ndal = 2021-01-01\n",
    );
    db.siso()
        .args(["onboard", &other])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("already in ambito AMB-MONZA"));
});

both_backends!(referents_privacy_and_compliance_edges, |db| {
    db.init();
    onboard_examples(&db);
    // Signed 2020-01-01: day 30 is 2020-01-31 (on time), overdue from 2020-02-01.
    let due = json_of(
        db.siso()
            .args([
                "compliance",
                "--as-of",
                "2020-01-31",
                "--json",
                "--ambito",
                "AMB-LECCO",
            ])
            .assert()
            .success(),
    );
    assert_eq!(due[0]["urgenza"], "in_scadenza");
    db.siso()
        .args([
            "compliance",
            "--as-of",
            "2020-02-01",
            "--ambito",
            "AMB-LECCO",
        ])
        .assert()
        .code(1);
    db.siso()
        .args([
            "referente",
            "add",
            "--ente",
            "AMB-LECCO",
            "--role",
            "cabina_politico",
            "--name",
            "Assessore",
        ])
        .args([
            "--nominated",
            "2020-01-20",
            "--communication",
            "prot. 1/2020",
        ])
        .assert()
        .success();
    // Day 60 (2020-03-01, leap year) on time for privacy; responsabile missing is due.
    let items = json_of(
        db.siso()
            .args([
                "compliance",
                "--as-of",
                "2020-03-01",
                "--json",
                "--ambito",
                "AMB-LECCO",
            ])
            .assert()
            .success(),
    );
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["articolo"], "Art. 10");
    db.siso()
        .args([
            "compliance",
            "--as-of",
            "2020-03-02",
            "--ambito",
            "AMB-LECCO",
        ])
        .assert()
        .code(1);
    db.siso()
        .args([
            "privacy",
            "set",
            "--ente",
            "AMB-LECCO",
            "--role",
            "responsabile",
            "--name",
            "Fornitore SISO",
        ])
        .args(["--communicated", "2020-02-15"])
        .assert()
        .success();
    db.siso()
        .args([
            "compliance",
            "--as-of",
            "2020-03-02",
            "--ambito",
            "AMB-LECCO",
        ])
        .assert()
        .success();
    // Audit of referents keeps no names.
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE dettaglio LIKE '%Assessore%'"),
        0
    );
});

both_backends!(a_request_on_31_december_is_due_on_29_february, |db| {
    db.init();
    request(&db, "AMB-NYE", "2023-12-31").success();
    let items = json_of(
        db.siso()
            .args(["compliance", "--as-of", "2024-02-29", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(items[0]["scadenza"], "2024-02-29");
    db.siso()
        .args(["compliance", "--as-of", "2024-03-01"])
        .assert()
        .code(1);
});

both_backends!(ente_show_gives_comuni_referents_and_privacy, |db| {
    db.init();
    let onboarding = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/onboarding/17-ambito-monza.toml"
    );
    db.siso().args(["onboard", onboarding]).assert().success();
    let out = json_of(
        db.siso()
            .args(["ente", "show", "AMB-MONZA", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(out["ente"]["codice"], "AMB-MONZA");
    assert_eq!(out["comuni"][0]["comune_istat"], "108033");
    let ruoli: Vec<&str> = out["privacy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruolo"].as_str().unwrap())
        .collect();
    assert!(
        ruoli.contains(&"titolare") && ruoli.contains(&"dpo"),
        "{ruoli:?}"
    );
    assert_eq!(out["referenti"].as_array().unwrap().len(), 0);
    db.siso()
        .args(["ente", "show", "AMB-MONZA"])
        .assert()
        .success()
        .stdout(predicates::str::contains("Ruoli privacy (Art. 10)"));
});

// Art. 10: an import for an ente writes into its titolare's records, so the
// titolare is the ente itself or, for a comune, the ambito it belongs to;
// any other ente would mix two controllers' data. Refused by `privacy set`
// and by an onboarding file (whole), accepted for the comune's own ambito.
both_backends!(a_titolare_must_be_the_ente_or_its_ambito, |db| {
    db.init();
    onboard_examples(&db);
    let set = |ente: &str, titolare: &str| {
        db.siso()
            .args(["privacy", "set", "--ente", ente, "--role", "titolare"])
            .args(["--titolare", titolare, "--communicated", "2024-03-01"])
            .assert()
    };
    let before = db.scalar("SELECT count(*) FROM ruolo_privacy");
    set("AMB-DESIO", "AMB-MONZA")
        .code(1)
        .stderr(predicate::str::contains(
            "AMB-MONZA cannot be the titolare of AMB-DESIO",
        ));
    // Monza (108033) is in AMB-MONZA, not in AMB-DESIO.
    set("108033", "AMB-DESIO").code(1);
    assert_eq!(db.scalar("SELECT count(*) FROM ruolo_privacy"), before);
    let file = write(
        &db,
        "desio.toml",
        "[[ente]]\ncodice = \"AMB-DESIO\"\ntipo = \"ambito\"\ndenominazione = \"Ambito Distrettuale di Desio\"\n\
         ats = \"030324\"\n[ente.approvazione]\natto = \"Protocollo d'Intesa SISO (sottoscrizione)\"\ndata = 2020-01-01\n\
         [[ente.comune]]\nistat = \"108023\"\ndal = 2020-01-01\n\
         [[ente.privacy]]\nruolo = \"titolare\"\ntitolare = \"AMB-MONZA\"\nnominativo = \"Monza\"\ncomunicato_il = 2024-03-01\n",
    );
    db.siso()
        .args(["onboard", &file])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot be the titolare of AMB-DESIO",
        ));
    assert_eq!(db.scalar("SELECT count(*) FROM ruolo_privacy"), before);
    // The comune's own ambito is a titolare it may have.
    set("108033", "AMB-MONZA").success();
});

// A mistyped code in a filter is refused: an empty list, exit 0, would make
// a scheduled `compliance --ambito` check pass for ever.
both_backends!(a_filter_naming_no_ente_is_refused, |db| {
    db.init();
    onboard_examples(&db);
    for args in [
        &["compliance", "--ambito", "AMB-NOPE"][..],
        &["ente", "list", "--ambito", "AMB-NOPE"],
        &["privacy", "show", "--ente", "AMB-NOPE"],
        &["referente", "list", "--ente", "AMB-NOPE"],
    ] {
        db.siso()
            .args(args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("no ente with code AMB-NOPE"));
    }
    db.siso()
        .args(["compliance", "--ambito", "108033"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "108033 is a comune, not an ambito",
        ));
    db.siso()
        .args([
            "compliance",
            "--ambito",
            "amb-monza",
            "--as-of",
            "2019-03-01",
        ])
        .assert()
        .success();
});

// An ambito with member comuni keeps its kind: as an associazione it would
// drop out of its usage reports and deadlines while its comuni stay in it.
both_backends!(an_ambito_with_comuni_stays_an_ambito, |db| {
    db.init();
    onboard_examples(&db);
    let file = write(
        &db,
        "desio.toml",
        "[[ente]]\ncodice = \"AMB-DESIO\"\ntipo = \"associazione\"\ndenominazione = \"Ambito Distrettuale di Desio\"\n\
         ats = \"030324\"\n[ente.approvazione]\natto = \"Protocollo d'Intesa SISO (sottoscrizione)\"\ndata = 2020-01-01\n",
    );
    db.siso()
        .args(["onboard", &file])
        .assert()
        .failure()
        .stderr(predicate::str::contains("ente AMB-DESIO has member comuni"));
    assert_eq!(
        db.text("SELECT tipo FROM ente WHERE codice = 'AMB-DESIO'"),
        "ambito"
    );
});

// A comune listed twice in one ente is one problem, said as such; a
// membership's end in the plan reads as dates, not as program text.
both_backends!(onboarding_messages_read_as_prose, |db| {
    db.init();
    let ente = |comuni: &str| {
        format!(
            "[[ente]]\ncodice = \"AMB-T1\"\ntipo = \"ambito\"\ndenominazione = \"Ambito di prova\"\n\
             [ente.approvazione]\natto = \"Delibera 1\"\ndata = 2020-01-01\n{comuni}"
        )
    };
    let twice = write(
        &db,
        "twice.toml",
        &ente(
            "[[ente.comune]]\nistat = \"108033\"\ndal = 2024-01-01\n[[ente.comune]]\nistat = \"108033\"\ndal = 2024-03-01\n",
        ),
    );
    let out = db.siso().args(["onboard", &twice]).assert().failure();
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(err.matches("listed twice in AMB-T1").count(), 1, "{err}");
    assert!(!err.contains("AMB-T1 and AMB-T1"), "{err}");

    let open = write(
        &db,
        "open.toml",
        &ente("[[ente.comune]]\nistat = \"108033\"\ndal = 2024-01-01\n"),
    );
    db.siso().args(["onboard", &open]).assert().success();
    let closed = write(
        &db,
        "closed.toml",
        &ente("[[ente.comune]]\nistat = \"108033\"\ndal = 2024-01-01\nal = 2024-12-31\n"),
    );
    db.siso()
        .args(["onboard", "--dry-run", &closed])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "valido_al none (open) -> 2024-12-31",
        ))
        .stdout(predicate::str::contains("Some(").not());
});

// A referent's e-mail is checked as a PEC is, by the command and the file.
both_backends!(a_referent_email_must_be_an_address, |db| {
    db.init();
    onboard_examples(&db);
    db.siso()
        .args([
            "referente",
            "add",
            "--ente",
            "AMB-LECCO",
            "--role",
            "cabina_politico",
        ])
        .args(["--name", "Assessore", "--email", "notanemail"])
        .args([
            "--nominated",
            "2020-01-20",
            "--communication",
            "prot. 1/2020",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "e-mail \"notanemail\" is not an e-mail address",
        ));
    assert_eq!(
        db.scalar("SELECT count(*) FROM referente WHERE nominativo = 'Assessore'"),
        0
    );
});
