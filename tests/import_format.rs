//! `siso import --format auto|csv|xlsx|siuss|bundle` (issue 4) on both
//! backends: a forced format wins over the file's name, a file that is not
//! what it says is refused with nothing written, the summary still prints as
//! a table or JSON, and the other commands refuse the input formats.

mod common;

use std::path::{Path, PathBuf};

use common::{Backend, TestDb, cf, counts, json_of, ready, stdout_of, stored};
use predicates::prelude::*;

const FLOW_1: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/siuss/AMB-MONZA.PSA.INPS.20250228.0000001.xml"
);
const FLOW_2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/siuss/AMB-MONZA.PSA.INPS.20250331.0000002.xml"
);
const WORKBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/legacy/operatori.xlsx"
);

fn write(db: &TestDb, name: &str, text: &str) -> PathBuf {
    let path = db.path().join(name);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn copy(db: &TestDb, from: &str, name: &str) -> PathBuf {
    let path = db.path().join(name);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::copy(from, &path).unwrap();
    path
}

/// Persons, cartelle and interventi as delimited text under misleading
/// names (.txt, .dat, .xml), each with its mapping beside it.
fn text_exports(db: &TestDb) -> [PathBuf; 3] {
    write(
        db,
        "persone.toml",
        "entity = \"persona\"\n[columns]\nID = \"id_legacy\"\nCF = \"codice_fiscale\"\n\
         NASCITA = { field = \"data_nascita\", date_format = \"yyyy-mm-dd\" }\n",
    );
    let persone = write(
        db,
        "persone.txt",
        &format!(
            "ID;CF;COGNOME;NOME;SESSO;NASCITA\nA1;{};Rossi;Mario;M;1985-12-10\nA2;{};Bianchi;Laura;F;1990-01-01\n",
            cf("RSSMRA85T10F704"),
            cf("BNCLRA90A41F205")
        ),
    );
    write(
        db,
        "cartelle.toml",
        "entity = \"cartella\"\n[columns]\nID = \"id_legacy\"\nPERSONA = \"persona_id_legacy\"\nCOMUNE = \"comune_istat\"\n\
         APERTA = { field = \"aperta_il\", date_format = \"yyyy-mm-dd\" }\n",
    );
    let cartelle = write(
        db,
        "cartelle.dat",
        "ID;PERSONA;COMUNE;APERTA\nC1;A1;108033;2020-01-15\nC2;A2;108033;2021-03-01\n",
    );
    write(
        db,
        "interventi.toml",
        "entity = \"intervento\"\n[columns]\nID = \"id_legacy\"\nCARTELLA = \"cartella_id_legacy\"\nPRESTAZIONE = \"prestazione\"\n\
         INIZIO = { field = \"inizio\", date_format = \"yyyy-mm-dd\" }\nPERIODICITA = \"periodicita\"\n",
    );
    let interventi = write(
        db,
        "interventi.xml",
        "ID;CARTELLA;PRESTAZIONE;INIZIO;PERIODICITA\nI1;C1;A2.07;2020-02-01;periodica\n",
    );
    [persone, cartelle, interventi]
}

fn import(db: &TestDb, files: &[&Path], extra: &[&str]) -> assert_cmd::assert::Assert {
    db.siso()
        .arg("import")
        .args(files)
        .args(["--ente", "AMB-MONZA", "--no-progress", "--rejects"])
        .arg(db.path().join("scarti.csv"))
        .args(extra)
        .assert()
}

/// Nothing of an import is in the database: no batch, no case data, no
/// audit entry for it, and `siso import list` shows nothing.
fn nothing_imported(db: &TestDb) {
    assert_eq!(stored(db), [0, 0, 0, 0]);
    assert_eq!(db.scalar("SELECT count(*) FROM import_batch"), 0);
    assert_eq!(db.scalar("SELECT count(*) FROM import_file"), 0);
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE azione LIKE 'import%'"),
        0
    );
    let list = json_of(
        db.siso()
            .args(["import", "list", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(list, serde_json::json!([]));
}

both_backends!(forced_csv_reads_text_exports_whatever_their_name, |db| {
    ready(&db);
    let [persone, cartelle, interventi] = text_exports(&db);
    let files = [persone.as_path(), cartelle.as_path(), interventi.as_path()];
    // Detected, the .xml file is taken for a SIUSS flow and refuses the batch.
    import(&db, &files, &[])
        .code(3)
        .stderr(predicate::str::contains("interventi.xml line 1 column 1"));
    nothing_imported(&db);

    // Forced: all three are delimited text, and the summary is still a table.
    let out = stdout_of(import(&db, &files, &["--format", "csv"]).success());
    assert!(
        out.contains("┆ lette ┆") && out.contains("│ persona "),
        "not a table: {out}"
    );
    assert!(
        !out.contains("entita,lette"),
        "the summary came out as CSV: {out}"
    );
    assert_eq!(stored(&db), [2, 2, 1, 0]);
    assert_eq!(
        db.text("SELECT formato FROM import_batch"),
        "csv",
        "the batch records the format read"
    );
    assert_eq!(db.scalar("SELECT count(*) FROM import_file"), 3);

    // --format csv --json: CSV in, the JSON summary out.
    let again = json_of(import(&db, &files, &["--format", "csv", "--json"]).success());
    assert_eq!(counts(&again, "persona"), (0, 2, 0));
    assert_eq!(counts(&again, "cartella"), (0, 2, 0));
    assert_eq!(counts(&again, "intervento"), (0, 1, 0));
    assert_eq!(again[0]["ente"], "AMB-MONZA");
});

both_backends!(forced_siuss_reads_flows_whatever_their_name, |db| {
    ready(&db);
    let flow = copy(&db, FLOW_1, "flusso-febbraio.dat");
    // Detected, a .dat file is delimited text, which a flow is not.
    import(&db, &[&flow], &["--json"]).code(3);
    nothing_imported(&db);

    let out = json_of(import(&db, &[&flow], &["--format", "siuss", "--json"]).success());
    assert_eq!(counts(&out, "persona"), (2, 0, 0));
    assert_eq!(counts(&out, "intervento"), (2, 0, 0));
    assert_eq!(counts(&out, "valutazione_sina"), (1, 0, 0));
    assert_eq!(db.text("SELECT formato FROM import_batch"), "siuss-xml");

    // A folder stands for every file in it, whatever its name; subfolders
    // and hidden files (what macOS leaves beside copied files) are not read.
    copy(&db, FLOW_1, "flussi/primo");
    copy(&db, FLOW_2, "flussi/secondo.txt");
    write(&db, "flussi/.DS_Store", "\0\0\0\x01Bud1");
    write(&db, "flussi/._secondo.xml", "\0\x05\x16\x07");
    write(&db, "flussi/vecchi/non-un-flusso.csv", "ID;CF\n");
    let folder = db.path().join("flussi");
    import(&db, &[&folder], &["--json"])
        .code(3)
        .stderr(predicate::str::contains("(*.xml) and this one has none"));
    let out = json_of(import(&db, &[&folder], &["--format", "siuss", "--json"]).success());
    assert_eq!(counts(&out, "persona"), (1, 2, 0));
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM import_file f JOIN import_batch b ON b.id = f.batch_id \
             WHERE b.id = (SELECT max(id) FROM import_batch)"
        ),
        2
    );
});

both_backends!(forced_siuss_on_a_text_file_says_where_it_is_not_xml, |db| {
    ready(&db);
    let [persone, ..] = text_exports(&db);
    import(&db, &[&persone], &["--format", "siuss"])
        .code(3)
        .stderr(predicate::str::contains("persone.txt line 1 column 1"))
        .stderr(predicate::str::contains("not an XML file"))
        .stderr(predicate::str::contains("--format siuss reads every file"));
    // Options a flow has no use for are refused, not ignored.
    let flow = copy(&db, FLOW_1, "flusso.dat");
    import(&db, &[&flow], &["--format", "siuss", "--sheet", "Foglio1"])
        .code(2)
        .stderr(predicate::str::contains(
            "--sheet does not apply with --format siuss",
        ));
    import(&db, &[&persone], &["--format", "csv", "--sheet", "Foglio1"])
        .code(2)
        .stderr(predicate::str::contains(
            "--sheet does not apply with --format csv",
        ));
    nothing_imported(&db);
});

both_backends!(
    a_file_that_is_not_the_forced_format_is_refused_and_nothing_is_written,
    |db| {
        ready(&db);
        let [persone, cartelle, _] = text_exports(&db);
        let workbook = copy(&db, WORKBOOK, "operatori.xlsx");

        // xlsx on delimited text: the file is named, and what to use instead.
        import(&db, &[&persone, &cartelle], &["--format", "xlsx"])
            .code(3)
            .stderr(predicate::str::contains(
                "persone.txt: not an .xlsx workbook",
            ))
            .stderr(predicate::str::contains("--format csv"));
        nothing_imported(&db);

        // csv on a workbook: refused by its zip signature, even with an encoding
        // that would decode any byte.
        for extra in [&[][..], &["--encoding", "windows-1252"][..]] {
            import(
                &db,
                &[&persone, &workbook],
                &[&["--format", "csv"], extra].concat(),
            )
            .code(3)
            .stderr(predicate::str::contains(
                "operatori.xlsx: looks like a spreadsheet (.xlsx) or zip archive, not CSV",
            ))
            .stderr(predicate::str::contains("use --format xlsx"));
            nothing_imported(&db);
        }

        // bundle on a CSV file, on a folder without manifest.json, on two paths.
        import(&db, &[&persone], &["--format", "bundle"])
            .code(3)
            .stderr(predicate::str::contains(
                "--format bundle expects a hand-back bundle",
            ))
            .stderr(predicate::str::contains("persone.txt is neither"));
        import(&db, &[db.path()], &["--format", "bundle"])
            .code(3)
            .stderr(predicate::str::contains("has no manifest.json"));
        import(&db, &[&persone, &cartelle], &["--format", "bundle"])
            .code(2)
            .stderr(predicate::str::contains("2 paths were given"));
        // A table format names files, not a folder of flows.
        import(&db, &[db.path()], &["--format", "csv"])
            .code(2)
            .stderr(predicate::str::contains("name the files in it"));
        nothing_imported(&db);
    }
);

both_backends!(
    forced_bundle_restores_and_the_summary_prints_as_asked,
    |db| {
        ready(&db);
        let [persone, ..] = text_exports(&db);
        // --format json still means the JSON summary, the input detected.
        let out = json_of(import(&db, &[&persone], &["--format", "json"]).success());
        assert_eq!(counts(&out, "persona"), (2, 0, 0));
        let bundle = db.path().join("restituzione.tar.gz");
        db.siso()
            .args([
                "handback",
                "export",
                "--ente",
                "AMB-MONZA",
                "--archive",
                "--out",
            ])
            .arg(&bundle)
            .assert()
            .success();

        let target = match db.backend {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => TestDb::postgres().expect("PostgreSQL was reachable a moment ago"),
        };
        target.init();
        let report = json_of(
            target
                .siso()
                .arg("import")
                .arg(&bundle)
                .args(["--ente", "AMB-MONZA", "--format", "bundle", "--json"])
                .assert()
                .success(),
        );
        assert_eq!(report[0]["ente"], "AMB-MONZA", "{report}");
        assert!(report[0]["batch"].as_i64().is_some(), "{report}");
        assert_eq!(target.scalar("SELECT count(*) FROM persona"), 2);
        // The archive read as CSV is refused by its signature, not stored.
        let other = match db.backend {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => TestDb::postgres().expect("PostgreSQL was reachable a moment ago"),
        };
        ready(&other);
        other
            .siso()
            .arg("import")
            .arg(&bundle)
            .args(["--ente", "AMB-MONZA", "--format", "csv"])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(
                "restituzione.tar.gz: looks like a compressed or encrypted archive",
            ))
            .stderr(predicate::str::contains("--format bundle"));
        nothing_imported(&other);
    }
);

#[test]
fn the_other_commands_refuse_the_input_formats() {
    let db = TestDb::sqlite();
    db.init();
    for args in [
        &["migrate", "status", "--format", "siuss"][..],
        &["ente", "list", "--format", "auto"],
        &["import", "list", "--format", "bundle"],
        &["--format", "siuss", "audit", "verify"],
        &["codes", "comuni", "Monza", "--format", "bundle", "--json"],
    ] {
        let format = args[args.iter().position(|a| *a == "--format").unwrap() + 1];
        db.siso()
            .args(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(format!(
                "--format {format} names the input of `siso import FILE...`"
            )));
    }
    // Printing formats are as they were: csv on `import list` prints CSV.
    db.siso()
        .args(["import", "list", "--format", "csv"])
        .assert()
        .success();
}

both_backends!(md_and_html_are_refused_before_importing, |db| {
    ready(&db);
    let [persone, ..] = text_exports(&db);
    for format in ["md", "html"] {
        import(&db, &[&persone], &["--format", format])
            .code(2)
            .stderr(predicate::str::contains("are for `siso report`"));
    }
    nothing_imported(&db);
});

/// QA's persons file: its header, then lines 2 and 3 as given (bytes).
fn qa_persone(db: &TestDb, line2: &[u8], line3: &[u8]) -> PathBuf {
    let path = db.path().join("persone.csv");
    let bytes = [
        &b"ID_ASSISTITO;COGNOME;NOME;COD_FISCALE;SESSO;DT_NASCITA;COMUNE_NASCITA\n"[..],
        line2,
        b"\n",
        line3,
        b"\n",
    ]
    .concat();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// (reason, line, column, legacy id) of the only reject, and its message.
fn only_reject(out: &serde_json::Value) -> ((String, u64, String, String), String) {
    let rejects = out[0]["rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    let text = |key: &str| rejects[0][key].as_str().unwrap_or_default().to_string();
    (
        (
            text("reason"),
            rejects[0]["line"].as_u64().unwrap(),
            text("field"),
            text("legacy_id"),
        ),
        text("message"),
    )
}

/// QA's two-person export with `--max-errors 1`: line 2 (`good`) stored
/// with its name exactly "Nicolò", line 3 (`bad`) alone rejected
/// ENCODING_INVALID in COGNOME, with a message that says each of `says`.
fn only_the_bad_line_is_rejected(db: &TestDb, good: &[u8], bad: &[u8], says: &[&str]) {
    ready(db);
    let persone = qa_persone(db, good, bad);
    let out = json_of(import(db, &[&persone], &["--max-errors", "1", "--json"]).code(1));
    assert_eq!(out[0]["committed"], true, "{out}");
    let (reject, message) = only_reject(&out);
    assert_eq!(
        reject,
        (
            "ENCODING_INVALID".into(),
            3,
            "COGNOME".into(),
            "A0002".into()
        ),
        "{message}"
    );
    assert!(says.iter().all(|s| message.contains(s)), "{message}");
    assert_eq!(db.texts("SELECT nome FROM persona"), ["Nicolò"]);
}

// UTF-8 without a BOM, one Latin-1 "ù" (0xF9): once read whole as
// Windows-1252, storing "NicolÃ²".
both_backends!(
    a_stray_latin1_byte_in_utf8_rejects_its_line_never_stores_mojibake,
    |db| {
        only_the_bad_line_is_rejected(
            &db,
            b"A0001;Rossi;Nicol\xc3\xb2;RSSNCL50T25F704K;M;25/12/1950;F704",
            b"A0002;Cant\xf9;Anna;BRMNNA60B41F704O;F;01/02/1960;F704",
            &["--encoding windows-1252"],
        );
    }
);

// Windows-1252 (0xF2 is "ò"), with 0x81, which is no character in it.
both_backends!(
    a_byte_undefined_in_windows_1252_rejects_its_line_never_stores_a_control,
    |db| {
        only_the_bad_line_is_rejected(
            &db,
            b"A0001;Rossi;Nicol\xf2;RSSNCL50T25F704K;M;25/12/1950;F704",
            b"A0002;Bram\x81billa;Anna;BRMNNA60B41F704O;F;01/02/1960;F704",
            &["byte 0x81", "--encoding"],
        );
    }
);
