//! Every reason code `siso codes reasons` lists, earned end to end on both
//! backends by a small legacy export with that one fault: the import names
//! the code with the line and field a technician would fix, or refuses the
//! file whole for the codes that are about a whole column or file. The
//! last check makes a new code without a case here fail.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{TestDb, cf, ready};

const PERSONE_MAP: &str = "entity = \"persona\"\n[columns]\nID = \"id_legacy\"\nCF = \"codice_fiscale\"\n\
     LUOGO = \"luogo_nascita\"\nNASCITA = { field = \"data_nascita\", date_format = \"yyyy-mm-dd\" }\n";
const PERSONE_HEAD: &str = "ID;CF;COGNOME;NOME;SESSO;NASCITA;LUOGO\n";
const CARTELLE_MAP: &str = "entity = \"cartella\"\n[columns]\nID = \"id_legacy\"\nPERSONA = \"persona_id_legacy\"\n\
     NUMERO = \"numero\"\nCOMUNE = \"comune_istat\"\n\
     APERTA = { field = \"aperta_il\", date_format = \"yyyy-mm-dd\" }\nCHIUSA = { field = \"chiusa_il\", date_format = \"yyyy-mm-dd\" }\n";
const CARTELLE_HEAD: &str = "ID;PERSONA;NUMERO;COMUNE;APERTA;CHIUSA\n";
const INTERVENTI_MAP: &str = "entity = \"intervento\"\n[columns]\nID = \"id_legacy\"\nCARTELLA = \"cartella_id_legacy\"\n\
     PRESTAZIONE = \"prestazione\"\nINIZIO = { field = \"inizio\", date_format = \"yyyy-mm-dd\" }\n\
     PERIODICITA = \"periodicita\"\nIMPORTO = { field = \"importo_previsto\", decimal = \",\" }\n";
const INTERVENTI_HEAD: &str = "ID;CARTELLA;PRESTAZIONE;INIZIO;PERIODICITA;IMPORTO\n";
const FLOW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/siuss/AMB-MONZA.PSA.INPS.20250228.0000001.xml"
);

fn rossi() -> String {
    format!("A1;{};Rossi;Mario;M;1985-12-10;", cf("RSSMRA85T10F704"))
}
fn verdi() -> String {
    format!("A3;{};Verdi;Anna;F;1970-05-20;", cf("VRDNNA70E60F205"))
}

/// What the import must say of a case.
enum Earned {
    /// A rejected record: its file, line and field.
    Reject(&'static str, u64, Option<&'static str>),
    /// A stored record with a warning: its file and line.
    Warning(&'static str, u64),
    /// The whole batch refused before anything is stored (exit 3).
    Refused,
}

struct Case {
    code: &'static str,
    /// File name and contents; a `.toml` beside a file is its mapping.
    files: Files,
    earned: Earned,
}

/// Files of a case: name and contents.
type Files = Vec<(&'static str, Vec<u8>)>;

fn text(name: &'static str, body: impl Into<String>) -> (&'static str, Vec<u8>) {
    (name, body.into().into_bytes())
}
/// A legacy export with its mapping beside it: `NAME.csv` and `NAME.toml`.
fn export(
    [csv, toml]: [&'static str; 2],
    map: &str,
    head: &str,
    rows: &[impl AsRef<str>],
) -> Files {
    let body: String = rows.iter().map(|r| format!("{}\n", r.as_ref())).collect();
    vec![text(toml, map), text(csv, format!("{head}{body}"))]
}
fn persone(rows: &[String]) -> Files {
    export(
        ["persone.csv", "persone.toml"],
        PERSONE_MAP,
        PERSONE_HEAD,
        rows,
    )
}
fn cartelle(rows: &[&str]) -> Files {
    export(
        ["cartelle.csv", "cartelle.toml"],
        CARTELLE_MAP,
        CARTELLE_HEAD,
        rows,
    )
}
fn interventi(rows: &[&str]) -> Files {
    export(
        ["interventi.csv", "interventi.toml"],
        INTERVENTI_MAP,
        INTERVENTI_HEAD,
        rows,
    )
}
fn flow(from: &str, to: &str) -> Files {
    let xml = std::fs::read_to_string(FLOW).unwrap();
    assert!(xml.contains(from), "the example flow has {from}");
    vec![text("flusso.xml", xml.replacen(from, to, 1))]
}

fn spreadsheet_with_an_error_cell() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["ID_PERSONA", "CF", "COGNOME", "NOME", "SESSO"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let row = ["A3", &cf("VRDNNA70E60F205"), "Verdi", "Anna", "F"];
    for (c, v) in row.iter().enumerate() {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    sheet
        .write_formula(
            1,
            2,
            rust_xlsxwriter::Formula::new("=NA()").set_result("#N/A"),
        )
        .unwrap();
    book.save_to_buffer().unwrap()
}

fn cases() -> Vec<Case> {
    use Earned::*;
    let long = format!(
        "A3;{};Verdi;{};F;1970-05-20;",
        cf("VRDNNA70E60F205"),
        "x".repeat(1_100_000)
    );
    let wide = format!("{};{}", verdi(), ";".repeat(1_100));
    let mut latin1 = format!("{PERSONE_HEAD}{}\n", verdi()).into_bytes();
    latin1.extend_from_slice(b"A4;;Nicol\xf2;Luca;M;1970-05-20;\n");
    vec![
        // The readers' codes.
        Case {
            code: "ENCODING_INVALID",
            files: vec![
                text(
                    "persone.toml",
                    format!("encoding = \"utf-8\"\n{PERSONE_MAP}"),
                ),
                ("persone.csv", latin1),
            ],
            // The reject names the column holding the bad byte.
            earned: Reject("persone.csv", 3, Some("COGNOME")),
        },
        Case {
            code: "CSV_FIELD_COUNT",
            files: persone(&[verdi(), format!("{};extra", rossi().replace("A1;", "A4;"))]),
            earned: Reject("persone.csv", 3, None),
        },
        Case {
            code: "LINE_TOO_LONG",
            files: persone(&[rossi(), long]),
            earned: Reject("persone.csv", 3, None),
        },
        Case {
            code: "TOO_MANY_COLUMNS",
            files: persone(&[rossi(), wide]),
            earned: Reject("persone.csv", 3, None),
        },
        Case {
            code: "DATE_INVALID",
            files: persone(&[verdi().replace("1970-05-20", "1970-02-30")]),
            earned: Reject("persone.csv", 2, Some("NASCITA")),
        },
        Case {
            code: "DATE_AMBIGUOUS",
            files: vec![text(
                "persone.csv",
                "ID_PERSONA;COGNOME;NOME;DATA_NASCITA\nA3;Verdi;Anna;01/02/1970\nA4;Neri;Luca;03/04/1971\n",
            )],
            earned: Refused,
        },
        Case {
            code: "DATE_FORMAT_UNKNOWN",
            files: vec![text(
                "persone.csv",
                "ID_PERSONA;COGNOME;NOME;DATA_NASCITA\nA3;Verdi;Anna;ieri\nA4;Neri;Luca;boh\n",
            )],
            earned: Refused,
        },
        Case {
            code: "AMOUNT_INVALID",
            files: interventi(&["I3;C1;A2.07;2020-02-01;periodica;12,345"]),
            earned: Reject("interventi.csv", 2, Some("IMPORTO")),
        },
        Case {
            code: "AMOUNT_AMBIGUOUS",
            files: vec![text(
                "interventi.csv",
                "ID_INTERVENTO;ID_CARTELLA;COD_PRESTAZIONE;DATA_INIZIO;PERIODICITA;IMPORTO_PREVISTO\n\
                 I3;C1;A2.07;2020-02-01;periodica;1.234\nI4;C1;A2.07;2020-02-01;periodica;2.500\n",
            )],
            earned: Refused,
        },
        Case {
            code: "FLAG_INVALID",
            files: vec![
                text(
                    "diario.toml",
                    "entity = \"diario\"\n[columns]\nID = \"id_legacy\"\nCARTELLA = \"cartella_id_legacy\"\n\
                     DATA = { field = \"data\", date_format = \"yyyy-mm-dd\" }\nTESTO = \"testo\"\nRISERVATO = \"riservato\"\n",
                ),
                text(
                    "diario.csv",
                    "ID;CARTELLA;DATA;TESTO;RISERVATO\nD1;C1;2020-03-01;colloquio;S\nD2;C1;2020-03-02;visita;forse\n",
                ),
            ],
            earned: Reject("diario.csv", 3, Some("RISERVATO")),
        },
        Case {
            code: "VALUE_UNMAPPED",
            files: vec![
                text(
                    "interventi.toml",
                    format!("{INTERVENTI_MAP}[values.prestazione]\nSAD = \"A2.07\"\n"),
                ),
                text(
                    "interventi.csv",
                    format!(
                        "{INTERVENTI_HEAD}I3;C1;SAD;2020-02-01;periodica;10,00\nI4;C1;PASTI;2020-02-01;periodica;10,00\n"
                    ),
                ),
            ],
            earned: Reject("interventi.csv", 3, Some("PRESTAZIONE")),
        },
        Case {
            code: "XLSX_CELL_ERROR",
            files: vec![("persone.xlsx", spreadsheet_with_an_error_cell())],
            earned: Reject("persone.xlsx", 2, None),
        },
        Case {
            code: "XML_DTD_REFUSED",
            files: vec![text(
                "flusso.xml",
                "<?xml version=\"1.0\"?>\n<!DOCTYPE Flusso [ <!ENTITY x \"y\"> ]>\n<Flusso xmlns=\"http://inps.it/Casellario\">&x;</Flusso>\n",
            )],
            earned: Refused,
        },
        Case {
            code: "SIUSS_CANCELLAZIONE",
            files: flow(
                "TipoOperazione=\"I\" PresenzaProvaMezzi",
                "TipoOperazione=\"C\" PresenzaProvaMezzi",
            ),
            earned: Reject("flusso.xml", 17, None),
        },
        // The storing half's codes.
        Case {
            code: "REQUIRED_MISSING",
            files: persone(&[verdi().replace(";Verdi;", ";;")]),
            earned: Reject("persone.csv", 2, Some("cognome")),
        },
        Case {
            code: "LEGACY_ID_MISSING",
            files: cartelle(&["C3;A1;3;108033;2022-01-10;", ";A1;4;108033;2022-01-10;"]),
            earned: Reject("cartelle.csv", 3, Some("id_legacy")),
        },
        Case {
            code: "DUPLICATE_LEGACY_ID",
            files: persone(&[verdi(), verdi().replace(";Anna;", ";Annamaria;")]),
            earned: Reject("persone.csv", 3, Some("id_legacy")),
        },
        Case {
            code: "PARENT_MISSING",
            files: cartelle(&["C3;A9;3;108033;2022-01-10;"]),
            earned: Reject("cartelle.csv", 2, Some("persona_id_legacy")),
        },
        Case {
            code: "PARENT_REJECTED",
            files: [
                persone(&[verdi().replace(";F;", ";X;")]),
                cartelle(&["C3;A3;3;108033;2022-01-10;"]),
            ]
            .concat(),
            earned: Reject("cartelle.csv", 2, Some("persona_id_legacy")),
        },
        Case {
            code: "CF_INVALID",
            files: persone(&[verdi().replace(&cf("VRDNNA70E60F205"), "VRDNNA70E60F205A")]),
            earned: Reject("persone.csv", 2, Some("codice_fiscale")),
        },
        Case {
            code: "CF_BIRTHDATE_MISMATCH",
            files: persone(&[verdi().replace("1970-05-20", "1970-05-21")]),
            earned: Reject("persone.csv", 2, Some("codice_fiscale")),
        },
        Case {
            code: "CF_SEX_MISMATCH",
            files: persone(&[verdi().replace(";F;", ";M;")]),
            earned: Reject("persone.csv", 2, Some("codice_fiscale")),
        },
        Case {
            code: "CF_BIRTHPLACE_MISMATCH",
            files: persone(&[format!("{}H501", verdi())]),
            earned: Reject("persone.csv", 2, Some("codice_fiscale")),
        },
        Case {
            code: "DATE_IN_FUTURE",
            files: cartelle(&["C3;A1;3;108033;2090-01-10;"]),
            earned: Reject("cartelle.csv", 2, Some("aperta_il")),
        },
        Case {
            code: "DATES_ORDER",
            files: cartelle(&["C3;A1;3;108033;2022-01-10;2021-12-31"]),
            earned: Reject("cartelle.csv", 2, Some("chiusa_il")),
        },
        Case {
            code: "CODE_UNKNOWN",
            files: interventi(&["I3;C1;Q9.99;2020-02-01;periodica;10,00"]),
            earned: Reject("interventi.csv", 2, Some("prestazione")),
        },
        Case {
            code: "VALUE_INVALID",
            files: persone(&[verdi().replace(";F;", ";X;")]),
            earned: Reject("persone.csv", 2, Some("sesso")),
        },
        Case {
            code: "CARTELLA_NUMERO_TAKEN",
            files: cartelle(&["C3;A1;7;108033;2022-01-10;", "C4;A1;7;108033;2022-02-10;"]),
            earned: Reject("cartelle.csv", 3, Some("numero")),
        },
        Case {
            code: "CELL_INVALID",
            files: flow("2025-01-31", "2025-02-30"),
            earned: Reject("flusso.xml", 17, Some("data")),
        },
        // Stored A2 given the code and birth date of stored A1.
        Case {
            code: "PERSONA_DUPLICATA",
            files: persone(&[format!(
                "A2;{};Rossi;Mario;M;1985-12-10;",
                cf("RSSMRA85T10F704")
            )]),
            earned: Reject("persone.csv", 2, Some("codice_fiscale")),
        },
        // Warnings: the record is stored.
        Case {
            code: "PERSONA_SENZA_CF",
            files: persone(&[verdi().replace(&cf("VRDNNA70E60F205"), "")]),
            earned: Warning("persone.csv", 2),
        },
        Case {
            code: "CF_SHARED",
            files: persone(&[rossi().replace("A1;", "A8;").replace("1985", "1885")]),
            earned: Warning("persone.csv", 2),
        },
        Case {
            code: "PERSONA_MERGED",
            files: persone(&[rossi().replace("A1;", "B7;")]),
            earned: Warning("persone.csv", 2),
        },
    ]
}

/// What the batch already holds: persons A1 and A2, case C1 (number 1) of
/// A1, intervention I1 of C1.
fn base(db: &TestDb) {
    ready(db);
    let dir = db.path().join("base");
    std::fs::create_dir(&dir).unwrap();
    let mut files = persone(&[
        rossi(),
        format!("A2;{};Bianchi;Laura;F;1990-01-01;", cf("BNCLRA90A41F205")),
    ]);
    files.extend(cartelle(&["C1;A1;1;108033;2020-01-15;"]));
    files.extend(interventi(&["I1;C1;A2.07;2020-02-01;periodica;10,00"]));
    let paths = place(&dir, &files);
    db.siso()
        .arg("import")
        .args(&paths)
        .args(["--ente", "AMB-MONZA"])
        .assert()
        .success();
}

/// Writes the files; returns the data files (not the mappings).
fn place(dir: &Path, files: &[(&'static str, Vec<u8>)]) -> Vec<PathBuf> {
    let mut data = Vec::new();
    for (name, body) in files {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        if !name.ends_with(".toml") {
            data.push(path);
        }
    }
    data
}

fn all_codes(db: &TestDb) -> BTreeSet<String> {
    let out = db
        .siso()
        .args(["codes", "reasons", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["codice"].as_str().unwrap().to_string())
        .collect()
}

both_backends!(
    every_reason_code_is_earned_by_an_export_with_that_fault,
    |db| {
        base(&db);
        let before = [
            db.scalar("SELECT count(*) FROM persona"),
            db.scalar("SELECT count(*) FROM cartella"),
            db.scalar("SELECT count(*) FROM intervento"),
            db.scalar("SELECT count(*) FROM crosswalk"),
        ];
        let mut earned = BTreeSet::new();
        let mut failed = Vec::new();
        for case in cases() {
            let dir = db.path().join(case.code);
            std::fs::create_dir(&dir).unwrap();
            let paths = place(&dir, &case.files);
            let out = db
                .siso()
                .arg("import")
                .args(&paths)
                .args([
                    "--ente",
                    "AMB-MONZA",
                    "--json",
                    "--dry-run",
                    "--max-errors",
                    "100",
                ])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let code = case.code;
            let json = || -> serde_json::Value {
                serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
            };
            let status = out.status.code();
            let ok = match case.earned {
                Earned::Refused => status == Some(3) && stderr.contains(code),
                Earned::Reject(file, line, field) => {
                    // A batch with rejects is never "every record unchanged".
                    let why = json()[0]["not_committed_because"]
                        .as_str()
                        .map(str::to_string);
                    status == Some(1)
                        && why.is_none_or(|w| !w.contains("every record is already"))
                        && json()[0]["rejects"].as_array().is_some_and(|rejects| {
                            rejects.iter().any(|r| {
                                r["reason"] == code
                                    && r["file"].as_str().is_some_and(|f| f.ends_with(file))
                                    && r["line"] == line
                                    && r["field"].as_str() == field
                            })
                        })
                }
                Earned::Warning(file, line) => {
                    let json = json();
                    status == Some(0)
                        && json[0]["rejects"].as_array().is_some_and(Vec::is_empty)
                        && json[0]["warnings"].as_array().is_some_and(|warnings| {
                            warnings.iter().any(|w| {
                                w["code"] == code
                                    && w["file"].as_str().is_some_and(|f| f.ends_with(file))
                                    && w["line"] == line
                            })
                        })
                }
            };
            if !ok {
                failed.push(format!(
                    "{code}: exit {status:?}\n{}\n{stderr}",
                    String::from_utf8_lossy(&out.stdout)
                ));
            }
            earned.insert(code.to_string());
        }
        assert!(failed.is_empty(), "{}", failed.join("\n\n"));
        // Dry runs: nothing of any case stayed.
        assert_eq!(
            before,
            [
                db.scalar("SELECT count(*) FROM persona"),
                db.scalar("SELECT count(*) FROM cartella"),
                db.scalar("SELECT count(*) FROM intervento"),
                db.scalar("SELECT count(*) FROM crosswalk"),
            ]
        );
        let all = all_codes(&db);
        let missing: Vec<_> = all.difference(&earned).collect();
        assert!(
            missing.is_empty(),
            "reason codes without a case here: {missing:?}"
        );
        let unknown: Vec<_> = earned.difference(&all).collect();
        assert!(
            unknown.is_empty(),
            "cases for codes siso does not list: {unknown:?}"
        );
    }
);
