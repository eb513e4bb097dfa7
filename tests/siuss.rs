//! `siso import` of SIUSS XML flows (INPS Casellario, PS_PSA_SINA201812.xsd)
//! on both backends: the example flows (SINA kept), re-import, a folder,
//! malformed and hostile XML, a wrong codice fiscale, a cancellation.

mod common;

use std::path::{Path, PathBuf};

use common::{TestDb, counts, json_of, ready, stored};
use predicates::prelude::*;

const FLOW_1: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/siuss/AMB-MONZA.PSA.INPS.20250228.0000001.xml"
);
const FOLDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/siuss");

fn write(db: &TestDb, name: &str, text: &str) -> PathBuf {
    let path = db.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(db: &TestDb, files: &[&Path]) -> assert_cmd::Command {
    let mut cmd = db.siso();
    cmd.arg("import")
        .args(files)
        .args(["--ente", "AMB-MONZA", "--json", "--rejects"])
        .arg(db.path().join("scarti.csv"));
    cmd
}

both_backends!(
    the_example_flow_imports_and_a_second_run_changes_nothing,
    |db| {
        ready(&db);
        let out = json_of(import(&db, &[Path::new(FLOW_1)]).assert().success());
        assert_eq!(counts(&out, "persona"), (2, 0, 0));
        assert_eq!(counts(&out, "cartella"), (2, 0, 0));
        assert_eq!(counts(&out, "intervento"), (2, 0, 0));
        assert_eq!(counts(&out, "erogazione"), (2, 0, 0));
        assert_eq!(counts(&out, "valutazione_sina"), (1, 0, 0));
        // The SINA assessment, kept whole as JSON, tied to person and
        // intervento; the flow has no assessment date.
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM valutazione_sina v JOIN intervento i ON i.id = v.intervento_id \
                 JOIN persona p ON p.id = v.persona_id WHERE p.codice_fiscale = 'RSSGLI48C52F704P' \
                 AND i.prestazione_codice = 'A2.07' AND v.data IS NULL \
                 AND v.dati LIKE '%\"Mobilita\":\"2\"%' AND v.dati LIKE '%\"InvaliditaCivile\":[\"1\"]%'"
            ),
            1
        );
        // SIUSS gives the birth year only: no invented birth date.
        assert_eq!(
            db.scalar("SELECT count(*) FROM persona WHERE data_nascita IS NULL"),
            2
        );
        assert_eq!(
        db.scalar(
            "SELECT count(*) FROM persona WHERE codice_fiscale = 'RSSGLI48C52F704P' AND sesso = 'F' \
             AND luogo_nascita_belfiore = 'F704' AND residenza_istat = '108033'"
        ),
        1
    );
        assert_eq!(
        db.scalar(
            "SELECT count(*) FROM cartella WHERE numero = 'SIUSS-RSSGLI48C52F704P' AND comune_istat = '108033' \
             AND aperta_il = '2025-01-07' AND stato = 'presa_in_carico'"
        ),
        1
    );
        assert_eq!(
        db.scalar(
            "SELECT count(*) FROM intervento WHERE prestazione_codice = 'A1.04' AND periodicita = 'una_tantum' \
             AND area_utenza_inps = '3' AND importo_previsto_cent = 50000"
        ),
        1
    );
        assert_eq!(
        db.scalar(
            "SELECT count(*) FROM erogazione WHERE data = '2025-01-31' AND importo_cent = 32000 \
             AND quota_utente_cent = 4000 AND quota_ente_cent = 28000 AND quantita_milli = 16000 AND unita = 'ore'"
        ),
        1
    );
        let again = json_of(import(&db, &[Path::new(FLOW_1)]).assert().success());
        assert_eq!(counts(&again, "persona"), (0, 2, 0));
        assert_eq!(counts(&again, "erogazione"), (0, 2, 0));
        assert_eq!(counts(&again, "valutazione_sina"), (0, 1, 0));
        assert_eq!(db.scalar("SELECT count(*) FROM import_batch"), 1);
        assert_eq!(stored(&db), [2, 2, 2, 2]);
    }
);

both_backends!(
    a_folder_imports_its_flows_with_one_cartella_per_person,
    |db| {
        ready(&db);
        write(&db, "notes.txt", "not a flow: ignored in a folder");
        let out = json_of(import(&db, &[Path::new(FOLDER)]).assert().success());
        // Giulia Rossi is in both flows: one person, one case, one intervento,
        // two deliveries (January and February).
        assert_eq!(counts(&out, "persona"), (3, 0, 0));
        assert_eq!(counts(&out, "cartella"), (3, 0, 0));
        assert_eq!(counts(&out, "intervento"), (3, 0, 0));
        assert_eq!(counts(&out, "erogazione"), (4, 0, 0));
        assert_eq!(
            db.scalar("SELECT count(*) FROM import_file"),
            2,
            "both flows recorded"
        );
        // The folder after the single flow adds only what is new.
        let out = json_of(import(&db, &[Path::new(FOLDER)]).assert().success());
        assert_eq!(counts(&out, "erogazione"), (0, 4, 0));
    }
);

both_backends!(a_folder_without_flows_is_refused, |db| {
    ready(&db);
    let empty = db.path().join("vuota");
    std::fs::create_dir(&empty).unwrap();
    import(&db, &[&empty])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("has none"));
});

both_backends!(malformed_xml_names_its_line_and_column, |db| {
    ready(&db);
    let bad = write(
        &db,
        "rotto.xml",
        "<?xml version=\"1.0\"?>\n<Flusso xmlns=\"http://inps.it/Casellario\">\n  <IdentificazioneFlusso Nome=\"x\">\n  </Identificazione>\n</Flusso>\n",
    );
    import(&db, &[&bad])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("rotto.xml line 4 column 3"));
    assert_eq!(stored(&db), [0, 0, 0, 0]);
});

both_backends!(a_file_that_is_not_a_siuss_flow_is_refused, |db| {
    ready(&db);
    let other = write(&db, "altro.xml", "<Flusso><Beneficiario/></Flusso>");
    import(&db, &[&other])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not a SIUSS flow"));
});

both_backends!(external_entities_and_billion_laughs_are_refused, |db| {
    ready(&db);
    let xxe = write(
        &db,
        "xxe.xml",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE Flusso [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n\
         <Flusso xmlns=\"http://inps.it/Casellario\">&xxe;</Flusso>\n",
    );
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    laughs.push_str("]>\n<Flusso xmlns=\"http://inps.it/Casellario\">&lol9;</Flusso>\n");
    let laughs = write(&db, "laughs.xml", &laughs);
    // Without a DTD an undeclared entity is no way in either.
    let undeclared = write(
        &db,
        "entity.xml",
        "<Flusso xmlns=\"http://inps.it/Casellario\">&lol9;</Flusso>",
    );
    for (file, at) in [
        (&xxe, "xxe.xml line 2 column 1"),
        (&laughs, "laughs.xml line 2 column 1"),
        (&undeclared, "entity.xml line 1 column 43"),
    ] {
        import(&db, &[file])
            .assert()
            .code(3)
            .stderr(predicate::str::contains("XML_DTD_REFUSED"))
            .stderr(predicate::str::contains(at));
    }
    assert_eq!(stored(&db), [0, 0, 0, 0]);
});

both_backends!(an_endless_tag_is_refused_with_bounded_memory, |db| {
    ready(&db);
    let text = format!(
        "<Flusso xmlns=\"http://inps.it/Casellario\"><Beneficiario CodiceFiscale=\"{}",
        "X".repeat(2 * 1024 * 1024)
    );
    let big = write(&db, "enorme.xml", &text);
    import(&db, &[&big])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("longer than 64 KiB"));
});

both_backends!(a_wrong_cf_in_the_flow_rejects_and_stores_nothing, |db| {
    ready(&db);
    let flow = std::fs::read_to_string(FLOW_1)
        .unwrap()
        .replace("CLMMRC85L03F205K", "CLMMRC85L03F205X");
    let bad = write(&db, "cf_errato.xml", &flow);
    let out = json_of(import(&db, &[&bad]).assert().code(1));
    assert_eq!(out[0]["committed"], false);
    assert_eq!(counts(&out, "persona").2, 1);
    assert_eq!(out[0]["rejected_by_reason"]["CF_INVALID"], 1);
    assert_eq!(
        out[0]["rejected_by_reason"]["PARENT_REJECTED"], 3,
        "its cartella, intervento and erogazione follow it"
    );
    assert_eq!(stored(&db), [0, 0, 0, 0]);
    let rejects = std::fs::read_to_string(db.path().join("scarti.csv")).unwrap();
    assert!(
        rejects.contains("cf_errato.xml,35,CLMMRC85L03F205X,persona,codice_fiscale,CF_INVALID,"),
        "{rejects}"
    );
});

both_backends!(a_cancellation_is_rejected_not_applied, |db| {
    ready(&db);
    let flow = std::fs::read_to_string(FLOW_1).unwrap().replace(
        "TipoOperazione=\"I\" PresenzaProvaMezzi=\"1\" CaratterePrestazione=\"2\"",
        "TipoOperazione=\"C\" PresenzaProvaMezzi=\"1\" CaratterePrestazione=\"2\"",
    );
    let cancel = write(&db, "annullo.xml", &flow);
    let out = json_of(import(&db, &[&cancel]).assert().code(1));
    assert_eq!(out[0]["rejected_by_reason"]["SIUSS_CANCELLAZIONE"], 1);
    assert_eq!(stored(&db), [0, 0, 0, 0]);
});

both_backends!(
    without_an_italian_residence_the_case_takes_the_ente_seat,
    |db| {
        ready(&db);
        let flow = std::fs::read_to_string(FLOW_1).unwrap().replace(
            "<Indirizzo CodiceRegione=\"03\" CodiceComune=\"108028\" CodiceNazione=\"380\"/>",
            "<Indirizzo CodiceNazione=\"756\"/>",
        );
        let abroad = write(&db, "estero.xml", &flow);
        import(&db, &[&abroad]).assert().success();
        assert_eq!(
        db.scalar(
            "SELECT count(*) FROM persona WHERE codice_fiscale = 'CLMMRC85L03F205K' AND residenza_istat IS NULL"
        ),
        1
    );
        assert_eq!(
        db.scalar(
            "SELECT count(*) FROM cartella WHERE numero = 'SIUSS-CLMMRC85L03F205K' AND comune_istat = '108033'"
        ),
        1,
        "Monza, seat of the sending ente (F704)"
    );
    }
);

const FLOW_2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/siuss/AMB-MONZA.PSA.INPS.20250331.0000002.xml"
);

/// AMB-MONZA and AMB-DESIO onboarded, each its own titolare.
fn ready_both(db: &TestDb) {
    ready(db);
    let desio = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/onboarding/12-ambito-desio.toml"
    );
    db.siso().args(["onboard", desio]).assert().success();
}

fn import_as(db: &TestDb, ente: &str, files: &[&Path], more: &[&str]) -> assert_cmd::Command {
    let mut cmd = db.siso();
    cmd.arg("import")
        .args(files)
        .args(["--ente", ente, "--json", "--rejects"])
        .arg(db.path().join("scarti.csv"))
        .args(more);
    cmd
}

/// A flow whose sender is `codice`.
fn sent_by(db: &TestDb, from: &str, name: &str, codice: &str) -> PathBuf {
    let flow = std::fs::read_to_string(from).unwrap();
    let needle = "<Ente Codice=\"AMB-MONZA\"";
    assert!(flow.contains(needle));
    write(
        db,
        name,
        &flow.replace(needle, &format!("<Ente Codice=\"{codice}\"")),
    )
}

/// Nothing of either ente stored, no batch, no import audit entry.
fn nothing_imported(db: &TestDb) {
    for ente in ["AMB-MONZA", "AMB-DESIO"] {
        for table in ["persona", "cartella"] {
            assert_eq!(
                db.scalar(&format!(
                    "SELECT count(*) FROM {table} t JOIN ente e ON e.id = t.titolare_id WHERE e.codice = '{ente}'"
                )),
                0,
                "{table} of {ente}"
            );
        }
        assert_eq!(
            db.scalar(&format!(
                "SELECT count(*) FROM import_batch b JOIN ente e ON e.id = b.ente_id WHERE e.codice = '{ente}'"
            )),
            0,
            "import_batch of {ente}"
        );
    }
    assert_eq!(stored(db), [0, 0, 0, 0]);
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'import'"),
        0
    );
}

both_backends!(
    a_flow_another_siso_ente_sent_is_refused_and_nothing_written,
    |db| {
        ready_both(&db);
        import_as(&db, "AMB-DESIO", &[Path::new(FLOW_1)], &[])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(
                "AMB-MONZA.PSA.INPS.20250228.0000001.xml: its sender, <IdentificazioneFlusso><Ente Codice=\"AMB-MONZA\">, \
                 is siso ente AMB-MONZA (its codice), not --ente AMB-DESIO",
            ))
            .stderr(predicate::str::contains("nothing was imported"))
            .stderr(predicate::str::contains("--ente AMB-MONZA"))
            .stderr(predicate::str::contains("--sent-by AMB-MONZA"));
        nothing_imported(&db);
        // The sender named by its codice fiscale, in lower case with blanks.
        db.execute("UPDATE ente SET codice_fiscale = '85001870151' WHERE codice = 'AMB-MONZA'");
        let by_cf = sent_by(&db, FLOW_1, "cf.xml", " 85001870151 ");
        import_as(&db, "AMB-DESIO", &[&by_cf], &[])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(
                "is siso ente AMB-MONZA (its codice fiscale), not --ente AMB-DESIO",
            ));
        let lower = sent_by(&db, FLOW_1, "minuscolo.xml", "amb-monza");
        import_as(&db, "AMB-DESIO", &[&lower], &[])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(
                "is siso ente AMB-MONZA (its codice)",
            ));
        nothing_imported(&db);
    }
);

both_backends!(
    with_sent_by_the_flow_of_that_ente_imports_for_the_titolare,
    |db| {
        ready_both(&db);
        let out = json_of(
            import_as(
                &db,
                "AMB-DESIO",
                &[Path::new(FLOW_1)],
                &["--sent-by", "AMB-MONZA"],
            )
            .assert()
            .success(),
        );
        assert_eq!(counts(&out, "persona"), (2, 0, 0));
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM persona p JOIN ente e ON e.id = p.titolare_id WHERE e.codice = 'AMB-DESIO'"
            ),
            2
        );
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM persona p JOIN ente e ON e.id = p.titolare_id WHERE e.codice = 'AMB-MONZA'"
            ),
            0
        );
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM audit_log WHERE azione = 'import' AND ente_codice = 'AMB-DESIO' \
                 AND dettaglio LIKE '%\"inviato_da\":[\"AMB-MONZA\"]%'"
            ),
            1,
            "the audit entry says who sent the flow"
        );
        // --sent-by names a siso ente: a typo is refused, not ignored.
        import_as(
            &db,
            "AMB-DESIO",
            &[Path::new(FLOW_1)],
            &["--sent-by", "AMB-MONZZA"],
        )
        .assert()
        .failure()
        .stderr(predicate::str::contains("there is no ente AMB-MONZZA"));
        // And on a batch without flows it applies to nothing: refused.
        let csv = db.path().join("persone.csv");
        std::fs::write(&csv, "ID;COGNOME;NOME\nX1;Rossi;Anna\n").unwrap();
        import_as(&db, "AMB-DESIO", &[&csv], &["--sent-by", "AMB-MONZA"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("this batch has none"));
    }
);

both_backends!(
    a_sender_unknown_to_siso_or_the_titolare_itself_imports,
    |db| {
        ready_both(&db);
        // The code the sender uses with INPS, that siso does not know.
        let unknown = sent_by(&db, FLOW_1, "inps.xml", "SP-0815");
        let out = json_of(
            import_as(&db, "AMB-DESIO", &[&unknown], &[])
                .assert()
                .success(),
        );
        assert_eq!(counts(&out, "persona"), (2, 0, 0));
        // The titolare's own codice fiscale.
        db.execute("UPDATE ente SET codice_fiscale = '91079940150' WHERE codice = 'AMB-DESIO'");
        let own = sent_by(&db, FLOW_2, "proprio.xml", "91079940150");
        json_of(import_as(&db, "AMB-DESIO", &[&own], &[]).assert().success());
        assert_eq!(
            db.scalar(
                "SELECT count(*) FROM persona p JOIN ente e ON e.id = p.titolare_id WHERE e.codice = 'AMB-DESIO'"
            ),
            3
        );
    }
);

both_backends!(
    one_flow_of_another_ente_in_a_folder_refuses_the_whole_batch,
    |db| {
        ready_both(&db);
        let folder = db.path().join("flussi");
        std::fs::create_dir(&folder).unwrap();
        let own = std::fs::read_to_string(FLOW_1)
            .unwrap()
            .replace("<Ente Codice=\"AMB-MONZA\"", "<Ente Codice=\"AMB-DESIO\"");
        std::fs::write(folder.join("AMB-DESIO.PSA.INPS.20250228.0000001.xml"), own).unwrap();
        std::fs::copy(
            FLOW_2,
            folder.join("AMB-MONZA.PSA.INPS.20250331.0000002.xml"),
        )
        .unwrap();
        import_as(&db, "AMB-DESIO", &[&folder], &[])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(
                "AMB-MONZA.PSA.INPS.20250331.0000002.xml: its sender",
            ))
            .stderr(predicate::str::contains("AMB-DESIO.PSA.INPS.20250228.0000001.xml").not());
        nothing_imported(&db);
    }
);
