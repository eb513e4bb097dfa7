//! `siso report` on both backends, against a small dataset whose expected
//! figures are worked out by hand in the comments below (not by the code
//! under test). The period 2024-11-01..2025-02-28 crosses a year boundary,
//! and comune C (Concorezzo) moves from AMB-TEST to AMB-ALTRO on 2025-01-01,
//! so the "ambito on the date of the event" rule is exercised too.

mod common;

use common::{TestDb, json_of, stdout_of};
use serde_json::{Value, json};

const ONBOARD: &str = r#"
[[ente]]
codice = "AMB-TEST"
tipo = "ambito"
denominazione = "Ambito di prova Alfa"
[ente.approvazione]
atto = "Delibera 1/2020"
data = 2020-01-01
[[ente.comune]]
istat = "108033"
dal = 2020-01-01
[[ente.comune]]
istat = "108015"
dal = 2020-01-01
[[ente.comune]]
istat = "108021"
dal = 2020-01-01
al = 2024-12-31

[[ente]]
codice = "AMB-ALTRO"
tipo = "ambito"
denominazione = "Ambito di prova Beta"
[ente.approvazione]
atto = "Delibera 2/2020"
data = 2020-01-01
[[ente.comune]]
istat = "108021"
dal = 2025-01-01
[[ente.comune]]
istat = "108023"
dal = 2020-01-01
"#;

/// A valid codice fiscale per n (different birth days).
fn cf(n: u32) -> String {
    let first = format!("RSSMRA85T{:02}F704", 10 + n);
    let check = siso::codes::cf::check_char(&first).unwrap();
    format!("{first}{check}")
}

/// The same code with a wrong check character.
fn bad_cf(n: u32) -> String {
    let good = cf(n);
    let last = good.chars().last().unwrap();
    let wrong = if last == 'A' { 'B' } else { 'A' };
    format!("{}{wrong}", &good[..15])
}

/// Comuni: A = Monza 108033 (119,856 inhabitants), B = Carate Brianza
/// 108015 (17,684), C = Concorezzo 108021 (15,193; AMB-TEST until
/// 2024-12-31, then AMB-ALTRO), D = Desio 108023 (AMB-ALTRO).
fn seed(db: &TestDb) {
    db.init();
    let file = db.path().join("ambiti.toml");
    std::fs::write(&file, ONBOARD).unwrap();
    db.siso().arg("onboard").arg(&file).assert().success();
    let t = db.scalar("SELECT id FROM ente WHERE codice = 'AMB-TEST'");
    let mut sql = String::new();
    for (id, cognome) in [(1, "Uno"), (2, "Due"), (3, "Tre")] {
        sql += &format!(
            "INSERT INTO operatore (id, titolare_id, cognome, nome, professione) VALUES ({id}, {t}, '{cognome}', 'Op', 'assistente_sociale');\n"
        );
    }
    // Persons: p2 and p6 have a wrong check character, p3 and p10 no CF.
    let persone: [(i64, Option<String>); 14] = [
        (1, Some(cf(1))),
        (2, Some(bad_cf(2))),
        (3, None),
        (4, Some(cf(4))),
        (5, Some(cf(5))),
        (6, Some(bad_cf(6))),
        (7, Some(cf(7))),
        (8, Some(cf(8))),
        (9, Some(cf(9))),
        (10, None),
        (11, Some(cf(11))),
        (12, Some(cf(12))),
        (13, Some(cf(13))),
        (14, Some(cf(14))),
    ];
    for (id, cf) in persone {
        let (cf, tmp) = match cf {
            Some(cf) => (format!("'{cf}'"), "NULL".to_string()),
            None => ("NULL".to_string(), format!("'TMP{id}'")),
        };
        sql += &format!(
            "INSERT INTO persona (id, titolare_id, codice_fiscale, id_temporaneo, cognome, nome) VALUES ({id}, {t}, {cf}, {tmp}, 'P', 'P{id}');\n"
        );
    }
    // (cartella, comune, persona, categoria, aperta, chiusa, operatore)
    let cartelle: [(i64, &str, i64, &str, &str, &str, &str); 14] = [
        (1, "108033", 1, "'1'", "2023-05-10", "NULL", "1"),
        (2, "108033", 2, "'1'", "2024-10-31", "'2024-11-01'", "1"),
        (3, "108033", 3, "'4'", "2024-11-01", "NULL", "2"),
        (4, "108033", 4, "'2'", "2025-02-28", "NULL", "NULL"),
        (5, "108033", 5, "'4'", "2020-01-15", "NULL", "2"),
        (6, "108033", 1, "'3'", "2024-12-15", "'2025-01-20'", "1"),
        (7, "108015", 6, "'2'", "2024-06-01", "'2025-03-01'", "3"),
        (8, "108015", 7, "NULL", "2025-01-10", "NULL", "3"),
        (9, "108015", 8, "'1'", "2019-01-01", "'2024-10-31'", "3"),
        (10, "108021", 9, "'4'", "2024-11-20", "'2025-01-15'", "3"),
        (11, "108021", 10, "'3'", "2024-01-01", "NULL", "NULL"),
        (13, "108033", 11, "'1'", "2025-03-01", "NULL", "1"),
        (14, "108015", 12, "'4'", "2021-06-01", "NULL", "3"),
        (16, "108015", 14, "'4'", "2021-06-01", "NULL", "3"),
    ];
    for (id, comune, persona, cat, aperta, chiusa, op) in cartelle {
        let stato = if chiusa == "NULL" { "aperta" } else { "chiusa" };
        sql += &format!(
            "INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, operatore_id, categoria_siso, aperta_il, chiusa_il, stato) \
             VALUES ({id}, {t}, {persona}, 'C{id}', '{comune}', {op}, {cat}, '{aperta}', {chiusa}, '{stato}');\n"
        );
    }
    sql += &format!(
        "INSERT INTO cartella_stato (id, titolare_id, cartella_id, stato, dal) VALUES (1, {t}, 5, 'presa_in_carico', '2023-01-01');\n\
         INSERT INTO cartella_stato (id, titolare_id, cartella_id, stato, dal) VALUES (2, {t}, 16, 'presa_in_carico', '2024-12-01');\n"
    );
    // (intervento, cartella, codice, inizio)
    let interventi: [(i64, i64, &str, &str); 10] = [
        (1, 1, "'A2.07'", "2024-11-05"),
        (2, 1, "'A1.04'", "2024-12-31"),
        (3, 3, "'A2.07'", "2025-01-01"),
        (4, 6, "NULL", "2025-01-10"),
        (5, 7, "'A3.02'", "2025-02-01"),
        (6, 10, "'A1.04'", "2024-11-25"),
        (7, 11, "'A2.07'", "2025-01-05"),
        (8, 1, "'A2.07'", "2024-10-31"),
        (9, 8, "'Z9.99'", "2025-03-01"),
        (10, 14, "'A2.02'", "2024-06-01"),
    ];
    for (id, cartella, codice, inizio) in interventi {
        sql += &format!(
            "INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, inizio, periodicita) \
             VALUES ({id}, {t}, {cartella}, {codice}, '{inizio}', 'periodica');\n"
        );
    }
    // (erogazione, intervento, data, importo, utente, ssn, ente) in cents
    let erogazioni: [(i64, i64, &str, i64, i64, i64, i64); 8] = [
        (1, 8, "2024-11-10", 10000, 1000, 0, 9000),
        (2, 1, "2024-12-10", 20000, 2000, 5000, 13000),
        (3, 1, "2025-01-10", 20000, 2000, 5000, 13000),
        (4, 5, "2025-02-15", 150050, 0, 0, 150050),
        (5, 6, "2024-12-01", 5000, 0, 0, 5000),
        (6, 7, "2025-02-01", 7000, 0, 0, 7000),
        (7, 1, "2024-10-31", 99900, 0, 0, 99900),
        (8, 3, "2025-02-28", -2000, 0, 0, -2000),
    ];
    for (id, intervento, data, imp, ut, ssn, ente) in erogazioni {
        sql += &format!(
            "INSERT INTO erogazione (id, titolare_id, intervento_id, data, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent) \
             VALUES ({id}, {t}, {intervento}, '{data}', {imp}, {ut}, {ssn}, {ente});\n"
        );
    }
    sql += &format!(
        "INSERT INTO diario (id, titolare_id, cartella_id, data, tipo, testo, operatore_id) VALUES (1, {t}, 1, '2024-12-01', 'nota', 'x', 3);\n\
         INSERT INTO diario (id, titolare_id, cartella_id, data, tipo, testo, operatore_id) VALUES (2, {t}, 7, '2024-10-01', 'nota', 'x', 1);\n\
         INSERT INTO import_batch (id, ente_id, avviato_il, concluso_il, operatore, formato, stato) \
         VALUES (1, {t}, '2025-01-15T10:00:00Z', '2025-01-15T10:05:00Z', 'test', 'csv', 'completato');\n"
    );
    db.execute(&sql);
    // Written by SQL, not by siso: the usage statistics are recomputed by hand.
    db.siso().args(["report", "refresh"]).assert().success();
}

fn usage(db: &TestDb, extra: &[&str]) -> assert_cmd::assert::Assert {
    db.siso()
        .args([
            "report",
            "usage",
            "--from",
            "2024-11-01",
            "--to",
            "2025-02-28",
        ])
        .args(extra)
        .assert()
}

fn report_json(db: &TestDb, extra: &[&str]) -> Value {
    json_of(usage(db, &[&["--format", "json"], extra].concat()).success())
}

/// The rows of table `id`.
fn table(report: &Value, id: &str) -> Vec<Vec<Value>> {
    for s in report["sezioni"].as_array().unwrap() {
        for t in s["tabelle"].as_array().unwrap() {
            if t["id"] == id {
                return serde_json::from_value(t["righe"].clone()).unwrap();
            }
        }
    }
    panic!("no table {id} in {report}");
}

/// The row of `table` whose first cell is `label`, without the label.
fn row(rows: &[Vec<Value>], label: &str) -> Vec<Value> {
    rows.iter()
        .find(|r| r[0] == label)
        .unwrap_or_else(|| panic!("no row {label} in {rows:?}"))[1..]
        .to_vec()
}

fn rate(n: f64) -> Value {
    json!((n * 100.0).round() / 100.0)
}

both_backends!(usage_figures_over_a_year_boundary, |db| {
    seed(&db);
    let r = report_json(&db, &["--ambito", "AMB-TEST", "--min-cell", "1"]);
    assert_eq!(r["soglia_minima"], 1);

    // Cartelle. A (Monza): open at start c1, c2 (closed on the first day),
    // c5 = 3; opened c3 (first day), c6, c4 (last day) = 3; closed c2, c6 =
    // 2; open at end c1, c3, c4, c5 = 4. B: start c7, c14, c16 = 3; opened
    // c8; closed none (c7 closes after the period); end 4. C (in AMB-TEST
    // until 2024-12-31): start c11; opened c10 (November); its closing
    // (January) and the end stock belong to AMB-ALTRO.
    let t = table(&r, "cartelle");
    assert_eq!(
        row(&t, "Monza"),
        [
            json!(119856),
            json!(3),
            json!(3),
            json!(2),
            json!(4),
            rate(3000.0 / 119856.0),
            rate(4000.0 / 119856.0)
        ]
    );
    assert_eq!(
        row(&t, "Carate Brianza"),
        [
            json!(17684),
            json!(3),
            json!(1),
            json!(0),
            json!(4),
            rate(1000.0 / 17684.0),
            rate(4000.0 / 17684.0)
        ]
    );
    assert_eq!(
        row(&t, "Concorezzo")[1..5],
        [json!(1), json!(1), json!(0), json!(0)]
    );
    let pop = 119856 + 17684 + 15193;
    assert_eq!(
        row(&t, "Totale"),
        [
            json!(pop),
            json!(7),
            json!(5),
            json!(2),
            json!(8),
            rate(5000.0 / pop as f64),
            rate(8000.0 / pop as f64)
        ]
    );

    // Persons by SISO category (1 famiglia, 2 disabili, 3 adulti, 4 anziani,
    // none). A: p1, p2 in 1; p4 in 2; p1 in 3 (second case); p3, p5 in 4.
    // B: p6 in 2; p12, p14 in 4; p7 none. C: p10 in 3, p9 in 4.
    let t = table(&r, "persone_area");
    assert_eq!(
        row(&t, "Monza"),
        [json!(2), json!(1), json!(1), json!(2), json!(0), json!(6)]
    );
    assert_eq!(
        row(&t, "Carate Brianza"),
        [json!(0), json!(1), json!(0), json!(2), json!(1), json!(4)]
    );
    assert_eq!(
        row(&t, "Concorezzo"),
        [json!(0), json!(0), json!(1), json!(1), json!(0), json!(2)]
    );
    assert_eq!(
        row(&t, "Totale"),
        [json!(2), json!(2), json!(2), json!(5), json!(1), json!(12)]
    );

    // Interventions started: A i1 (A2), i2 (A1), i3 (A2), i4 (no code); B i5
    // (A3); C i6 (A1, November). i7 is C's in January: AMB-ALTRO. i8 started
    // before, i9 after the period.
    let t = table(&r, "macro_gruppi");
    assert_eq!(
        row(&t, "Monza"),
        [json!(1), json!(2), json!(0), json!(0), json!(1), json!(4)]
    );
    assert_eq!(
        row(&t, "Carate Brianza"),
        [json!(0), json!(0), json!(1), json!(0), json!(0), json!(1)]
    );
    assert_eq!(
        row(&t, "Concorezzo"),
        [json!(1), json!(0), json!(0), json!(0), json!(0), json!(1)]
    );
    assert_eq!(
        row(&t, "Totale"),
        [json!(2), json!(2), json!(1), json!(0), json!(1), json!(6)]
    );

    // By code, with deliveries in the period (whatever the intervention's
    // start): A2.07 gets e1 (of i8), e2, e3, e8 (a -20 € correction).
    let t = table(&r, "prestazioni");
    assert_eq!(t.len(), 5, "{t:?}");
    assert!(t[0][0].as_str().unwrap().starts_with("A2.07"), "{t:?}");
    assert_eq!(
        t[0][1..],
        [
            json!(2),
            json!(4),
            json!(480.0),
            json!(50.0),
            json!(100.0),
            json!(330.0)
        ]
    );
    assert!(t[1][0].as_str().unwrap().starts_with("A1.04"), "{t:?}");
    assert_eq!(
        t[1][1..],
        [
            json!(2),
            json!(1),
            json!(50.0),
            json!(0.0),
            json!(0.0),
            json!(50.0)
        ]
    );
    assert!(t[2][0].as_str().unwrap().starts_with("A3.02"), "{t:?}");
    assert_eq!(
        t[2][1..],
        [
            json!(1),
            json!(1),
            json!(1500.5),
            json!(0.0),
            json!(0.0),
            json!(1500.5)
        ]
    );
    assert_eq!(
        row(&t, "Senza codice prestazione"),
        [
            json!(1),
            json!(0),
            json!(0.0),
            json!(0.0),
            json!(0.0),
            json!(0.0)
        ]
    );
    assert_eq!(
        row(&t, "Totale"),
        [
            json!(6),
            json!(6),
            json!(2030.5),
            json!(50.0),
            json!(100.0),
            json!(1880.5)
        ]
    );
    // --top 1: the others are summed in one row.
    let top1 = report_json(
        &db,
        &["--ambito", "AMB-TEST", "--min-cell", "1", "--top", "1"],
    );
    let t1 = table(&top1, "prestazioni");
    assert_eq!(t1[1][0], "Altre prestazioni (2 codici)");
    assert_eq!(t1[1][1..3], [json!(3), json!(2)]);

    // Spending by comune: A e1, e2, e3, e8; B e4; C e5 (December).
    let t = table(&r, "spesa");
    assert_eq!(
        row(&t, "Monza"),
        [
            json!(4),
            json!(480.0),
            json!(50.0),
            json!(100.0),
            json!(330.0),
            rate(480.0 / 119856.0)
        ]
    );
    assert_eq!(row(&t, "Concorezzo")[..2], [json!(1), json!(50.0)]);
    assert_eq!(
        row(&t, "Totale")[..5],
        [
            json!(6),
            json!(2030.5),
            json!(50.0),
            json!(100.0),
            json!(1880.5)
        ]
    );

    // Operators: A op2 (opened c3), op1 (opened c6, closed c2), op3 (diary
    // on c1); B op3 (opened c8); C op3 (opened c10). Total: 3 distinct.
    let t = table(&r, "operatori");
    assert_eq!(row(&t, "Monza"), [json!(3), json!(4), rate(4.0 / 3.0)]);
    assert_eq!(row(&t, "Carate Brianza"), [json!(1), json!(4), rate(4.0)]);
    assert_eq!(row(&t, "Concorezzo"), [json!(1), json!(0), rate(0.0)]);
    assert_eq!(row(&t, "Totale"), [json!(3), json!(8), rate(8.0 / 3.0)]);

    // Monthly: openings Nov c3, c10; Dec c6; Jan c8; Feb c4. Closings Nov
    // c2; Jan c6. Deliveries Nov e1; Dec e2, e5; Jan e3; Feb e4, e8.
    let t = table(&r, "andamento_mensile");
    assert_eq!(
        row(&t, "2024-11"),
        [json!(2), json!(1), json!(1), json!(100.0)]
    );
    assert_eq!(
        row(&t, "2024-12"),
        [json!(1), json!(0), json!(2), json!(250.0)]
    );
    assert_eq!(
        row(&t, "2025-01"),
        [json!(1), json!(1), json!(1), json!(200.0)]
    );
    assert_eq!(
        row(&t, "2025-02"),
        [json!(1), json!(0), json!(2), json!(1480.5)]
    );
    assert_eq!(
        row(&t, "Totale"),
        [json!(5), json!(2), json!(6), json!(2030.5)]
    );

    // Quality. CF: A p2 (wrong check), p3 (none); B p6; C p10. Without an
    // operator: A c4, C c11. No code: i4. Dormant: c5 (opened 2020, its
    // only state change in 2023); c14 had an intervention and c16 a state
    // change in the last year.
    let t = table(&r, "qualita_dati");
    assert_eq!(row(&t, "Monza"), [json!(2), json!(1), json!(1), json!(1)]);
    assert_eq!(
        row(&t, "Carate Brianza"),
        [json!(1), json!(0), json!(0), json!(0)]
    );
    assert_eq!(
        row(&t, "Concorezzo"),
        [json!(1), json!(1), json!(0), json!(0)]
    );
    assert_eq!(row(&t, "Totale"), [json!(4), json!(2), json!(1), json!(1)]);
});

both_backends!(all_ambiti_side_by_side, |db| {
    seed(&db);
    let r = report_json(&db, &["--all-ambiti", "--min-cell", "1"]);
    let t = table(&r, "cartelle");
    // AMB-ALTRO: C from 2025-01-01 (c10 closed in January, c11 open at the
    // end), D without cases. Population C + D.
    assert_eq!(
        row(&t, "Ambito di prova Beta")[..5],
        [json!(15193 + 40397), json!(0), json!(0), json!(1), json!(1)]
    );
    assert_eq!(
        row(&t, "Ambito di prova Alfa")[1..5],
        [json!(7), json!(5), json!(2), json!(8)]
    );
    assert_eq!(
        row(&t, "Totale")[1..5],
        [json!(7), json!(5), json!(3), json!(9)]
    );
    let t = table(&r, "spesa");
    assert_eq!(
        row(&t, "Ambito di prova Beta")[..2],
        [json!(1), json!(70.0)]
    );
    let t = table(&r, "macro_gruppi");
    assert_eq!(
        row(&t, "Ambito di prova Beta"),
        [json!(0), json!(1), json!(0), json!(0), json!(0), json!(1)]
    );
    let t = table(&r, "andamento_mensile");
    // Closings in January: c6 (AMB-TEST) and c10 (AMB-ALTRO).
    assert_eq!(row(&t, "2025-01")[1], json!(2));
});

both_backends!(small_counts_are_hidden_with_what_reveals_them, |db| {
    seed(&db);
    let r = report_json(&db, &["--ambito", "AMB-TEST"]);
    assert_eq!(r["soglia_minima"], 3);
    // Cartelle with the default threshold 3. Small: A closed 2, B opened 1,
    // C start 1 and opened 1, total closed 2. Then each line with a single
    // hidden cell hides its smallest non-zero other: row A (start 3 + opened
    // 3 - closed = end 4) hides start (first of the two 3s); row B hides
    // start 3; the total row hides opened 5. Rates of a hidden count: X.
    let t = table(&r, "cartelle");
    assert_eq!(
        row(&t, "Monza")[1..6],
        [
            json!("X"),
            json!(3),
            json!("<3"),
            json!(4),
            rate(3000.0 / 119856.0)
        ]
    );
    assert_eq!(
        row(&t, "Carate Brianza")[1..6],
        [json!("X"), json!("<3"), json!(0), json!(4), json!("X")]
    );
    assert_eq!(
        row(&t, "Concorezzo")[1..6],
        [json!("<3"), json!("<3"), json!(0), json!(0), json!("X")]
    );
    assert_eq!(
        row(&t, "Totale")[1..6],
        [json!(7), json!("X"), json!("<3"), json!(8), json!("X")]
    );

    // Persons (rows + total column + total row): no row or column may be
    // left with exactly one hidden cell, and every 1 or 2 is hidden.
    let t = table(&r, "persone_area");
    let hidden = |v: &Value| v == "<3" || v == "X";
    for r in &t {
        assert!(
            r[1..].iter().filter(|v| hidden(v)).count() != 1,
            "row {r:?}"
        );
        assert!(!r[1..].iter().any(|v| v == 1 || v == 2), "row {r:?}");
    }
    for c in 1..7 {
        assert!(
            t.iter().filter(|r| hidden(&r[c])).count() != 1,
            "column {c}: {t:?}"
        );
    }
    // Monza: 2, 1, 1, 2, 0 | 6 -> all small ones hidden, 0 and 6 remain.
    assert_eq!(
        row(&t, "Monza"),
        ["<3", "<3", "<3", "<3"]
            .map(|s| json!(s))
            .into_iter()
            .chain([json!(0), json!(6)])
            .collect::<Vec<_>>()
    );

    // The footnote says so.
    let notes = r["note"].as_array().unwrap();
    assert!(notes[0].as_str().unwrap().contains("«<3»"), "{notes:?}");
    // Every format that leaves the terminal hides them too, and the table
    // for the terminal as well.
    let md = stdout_of(usage(&db, &["--ambito", "AMB-TEST", "--format", "md"]).success());
    assert!(md.contains("&lt;3") && !md.contains("| 1 |"), "{md}");
    let csv = stdout_of(usage(&db, &["--ambito", "AMB-TEST", "--format", "csv"]).success());
    assert!(
        csv.contains("cartelle,Carate Brianza,Aperte nel periodo,<3\n"),
        "{csv}"
    );
    let text = stdout_of(usage(&db, &["--ambito", "AMB-TEST"]).success());
    assert!(text.contains("<3"), "{text}");
});

both_backends!(formats_for_paper_screen_and_spreadsheets, |db| {
    seed(&db);
    let html = stdout_of(usage(&db, &["--ambito", "AMB-TEST", "--format", "html"]).success());
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("<svg"),
        "{}",
        &html[..200]
    );
    for external in ["http://", "https://", "<script", "<link", "@import", "url("] {
        assert!(
            !html.contains(external),
            "HTML is not self-contained: {external}"
        );
    }
    assert!(html.contains("@page { size: A4"));

    let csv = stdout_of(
        usage(
            &db,
            &["--ambito", "AMB-TEST", "--format", "csv", "--min-cell", "1"],
        )
        .success(),
    );
    assert!(csv.starts_with("tabella,riga,colonna,valore\n"), "{csv}");
    assert!(csv.contains("spesa,Monza,Spesa (€),480.00\n"), "{csv}");

    let it = usage(
        &db,
        &["--ambito", "AMB-TEST", "--csv-excel-it", "--min-cell", "1"],
    )
    .success();
    let bytes = it.get_output().stdout.clone();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(
        text.contains("Monza;4;480,00;50,00;100,00;330,00;"),
        "{text}"
    );

    let en = stdout_of(
        usage(
            &db,
            &["--ambito", "AMB-TEST", "--lang", "en", "--format", "md"],
        )
        .success(),
    );
    assert!(
        en.contains("Open at end") && en.contains("## Data quality"),
        "{en}"
    );

    let out = db.path().join("usage.xlsx");
    usage(
        &db,
        &[
            "--ambito",
            "AMB-TEST",
            "--format",
            "xlsx",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .success();
    let xlsx = std::fs::read(&out).unwrap();
    assert!(xlsx.starts_with(b"PK"), "not a zip");
    // Names in a zip's directory are stored uncompressed: one sheet per table + the cover.
    let names = String::from_utf8_lossy(&xlsx);
    assert!(
        names.contains("xl/worksheets/sheet9.xml") && !names.contains("xl/worksheets/sheet10.xml")
    );

    let text = stdout_of(usage(&db, &["--ambito", "AMB-TEST", "--min-cell", "1"]).success());
    assert!(text.contains("█") && text.contains("2024-12"), "{text}");
});

both_backends!(a_calendar_year_is_the_period, |db| {
    seed(&db);
    let r = json_of(
        db.siso()
            .args([
                "report",
                "usage",
                "--ambito",
                "AMB-TEST",
                "--year",
                "2024",
                "--min-cell",
                "1",
                "--format",
                "json",
            ])
            .assert()
            .success(),
    );
    // 2024 in Monza: opened c2 (31 Oct), c3 (1 Nov), c6 (15 Dec); closed
    // c2; open at start (1 Jan) c1, c5; at the end (31 Dec) c1, c3, c5, c6.
    let t = table(&r, "cartelle");
    assert_eq!(
        row(&t, "Monza")[1..5],
        [json!(2), json!(3), json!(1), json!(4)]
    );
    assert_eq!(table(&r, "andamento_mensile").len(), 13);
});

both_backends!(monitoring_flags_comuni_without_activity, |db| {
    seed(&db);
    let ok = db
        .siso()
        .args([
            "report",
            "monitoring",
            "--ambito",
            "AMB-TEST",
            "--as-of",
            "2025-02-28",
            "--min-cell",
            "1",
            "--format",
            "json",
        ])
        .assert()
        .success();
    let r = json_of(ok);
    // On 2025-02-28 AMB-TEST has Monza and Carate Brianza (Concorezzo left).
    // Monza, 90 days (after 2024-11-30): c4 and c6 opened, c6 closed, i2,
    // i3, i4 started, e2, e3, e8, diary d1 = 10; 30 days (after
    // 2025-01-29): c4, e8 = 2. Carate: c8, the state change of c16, i5,
    // e4 = 4; 30 days: i5, e4 = 2. c13 and i9 (March) are after as_of.
    let t = table(&r, "attivita_comuni");
    assert_eq!(t.len(), 2, "{t:?}");
    let monza = t.iter().find(|r| r[1] == "Monza").unwrap();
    assert_eq!(monza[2..5], [json!("2025-02-28"), json!(2), json!(10)]);
    let carate = t.iter().find(|r| r[1] == "Carate Brianza").unwrap();
    assert_eq!(carate[2..5], [json!("2025-02-15"), json!(2), json!(4)]);
    let t = table(&r, "utilizzo_ambiti");
    assert_eq!(
        t[0][1..6],
        [
            json!(2),
            json!(2),
            json!(100.0),
            json!(1),
            json!("2025-01-15")
        ]
    );
    let t = table(&r, "adozione_mensile");
    assert_eq!(t.len(), 12);
    assert_eq!(t[11][0], "2025-02");
    assert_eq!(t[10][3], json!(1), "the import of January: {t:?}");

    // Ninety days later nothing happened anywhere: exit 1, comuni named.
    db.siso()
        .args([
            "report",
            "monitoring",
            "--ambito",
            "AMB-TEST",
            "--as-of",
            "2025-06-01",
        ])
        .assert()
        .code(1)
        .stderr(
            predicates::str::contains("Monza").and(predicates::str::contains("Carate Brianza")),
        );
    // Both comuni's last events are on 2025-03-01 (c7 closed, c13 opened,
    // i9 started): the 90 days ending 2025-05-29 hold it, those ending
    // 2025-05-30 do not.
    db.siso()
        .args([
            "report",
            "monitoring",
            "--ambito",
            "AMB-TEST",
            "--as-of",
            "2025-05-29",
        ])
        .assert()
        .success();
    db.siso()
        .args([
            "report",
            "monitoring",
            "--ambito",
            "AMB-TEST",
            "--as-of",
            "2025-05-30",
        ])
        .assert()
        .code(1);
});

use predicates::prelude::PredicateBooleanExt as _;

both_backends!(bad_requests_are_refused_with_the_way_out, |db| {
    seed(&db);
    db.siso()
        .args([
            "report",
            "usage",
            "--ambito",
            "AMB-NESSUNO",
            "--year",
            "2025",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("siso ente list"));
    db.siso()
        .args(["report", "usage", "--year", "2025"])
        .assert()
        .code(2);
    db.siso()
        .args([
            "report",
            "usage",
            "--ambito",
            "AMB-TEST",
            "--from",
            "2025-01-01",
        ])
        .assert()
        .code(2);
    db.siso()
        .args([
            "report",
            "usage",
            "--ambito",
            "AMB-TEST",
            "--from",
            "2025-02-01",
            "--to",
            "2025-01-31",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("before it starts"));
    db.siso()
        .args([
            "report",
            "usage",
            "--ambito",
            "AMB-TEST",
            "--from",
            "01/01/2025",
            "--to",
            "2025-01-31",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("YYYY-MM-DD"));
    db.siso()
        .args([
            "report",
            "usage",
            "--ambito",
            "AMB-TEST",
            "--year",
            "2025",
            "--min-cell",
            "0",
        ])
        .assert()
        .code(2);
    db.siso()
        .args([
            "report",
            "usage",
            "--ambito",
            "AMB-TEST",
            "--year",
            "2025",
            "--format",
            "html",
            "--csv-excel-it",
        ])
        .assert()
        .code(2);
    // The other commands refuse the report-only formats.
    db.siso()
        .args(["ente", "list", "--format", "html"])
        .assert()
        .code(2);
});

/// More cartelle, interventi and erogazioni than the hand-made seed, spread
/// by a fixed pseudo-random rule over the four comuni and 2019-2026, for
/// the two query paths to disagree on if they can.
fn seed_more(db: &TestDb) {
    let t = db.scalar("SELECT id FROM ente WHERE codice = 'AMB-ALTRO'");
    let comuni = ["108033", "108015", "108021", "108023"];
    let day = |n: u64| {
        let d = time::Date::from_calendar_date(2019, time::Month::January, 1).unwrap()
            + time::Duration::days(n as i64);
        d.to_string()
    };
    let mut x: u64 = 42;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    let mut sql = format!(
        "INSERT INTO persona (id, titolare_id, id_temporaneo, cognome, nome) VALUES (100, {t}, 'TMP100', 'P', 'P');\n"
    );
    for id in 100..400u64 {
        let comune = comuni[(next() % 4) as usize];
        let aperta = next() % 2900;
        let chiusa = match next() % 3 {
            0 => format!("'{}'", day(aperta + next() % 400)),
            _ => "NULL".to_string(),
        };
        let cat = match next() % 5 {
            0 => "NULL".to_string(),
            k => format!("'{k}'"),
        };
        let op = if next() % 4 == 0 { "NULL" } else { "2" };
        let stato = if chiusa == "NULL" { "aperta" } else { "chiusa" };
        sql += &format!(
            "INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, operatore_id, categoria_siso, aperta_il, chiusa_il, stato) \
             VALUES ({id}, {t}, 100, 'X{id}', '{comune}', {op}, {cat}, '{}', {chiusa}, '{stato}');\n",
            day(aperta)
        );
        for k in 0..(next() % 4) {
            let iid = id * 10 + k;
            let codice = ["'A2.07'", "'A1.04'", "NULL", "'A3.02'"][(next() % 4) as usize];
            let inizio = aperta + next() % 1500;
            sql += &format!(
                "INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, inizio, periodicita) \
                 VALUES ({iid}, {t}, {id}, {codice}, '{}', 'periodica');\n",
                day(inizio)
            );
            for j in 0..(next() % 3) {
                let imp = next() % 100_000;
                sql += &format!(
                    "INSERT INTO erogazione (id, titolare_id, intervento_id, data, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent) \
                     VALUES ({}, {t}, {iid}, '{}', {imp}, {}, 0, {});\n",
                    iid * 10 + j,
                    day(inizio + next() % 200),
                    imp / 10,
                    imp - imp / 10
                );
            }
        }
    }
    // Persona 101: short closed cases with pauses between them, some
    // touching (closed one day, the next opened the day after).
    sql += &format!(
        "INSERT INTO persona (id, titolare_id, id_temporaneo, cognome, nome) VALUES (101, {t}, 'TMP101', 'P', 'P');\n"
    );
    let mut giorno = 0;
    for id in 500..560u64 {
        let comune = comuni[(next() % 2) as usize];
        let cat = ["NULL", "'1'", "'4'"][(next() % 3) as usize];
        let aperta = giorno + next() % 40;
        let chiusa = aperta + next() % 30;
        giorno = if next() % 4 == 0 {
            chiusa + 1
        } else {
            chiusa + 2 + next() % 20
        };
        sql += &format!(
            "INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, categoria_siso, aperta_il, chiusa_il, stato) \
             VALUES ({id}, {t}, 101, 'X{id}', '{comune}', {cat}, '{}', '{}', 'chiusa');\n",
            day(aperta),
            day(chiusa)
        );
    }
    // Diary notes and state changes on scattered days, 29 February included.
    for k in 0..200u64 {
        let cartella = 100 + next() % 300;
        let giorno = if k % 50 == 0 { 1885 } else { next() % 2900 };
        sql += &format!(
            "INSERT INTO diario (id, titolare_id, cartella_id, data, tipo, testo) VALUES ({}, {t}, {cartella}, '{}', 'nota', 'x');\n\
             INSERT INTO cartella_stato (id, titolare_id, cartella_id, stato, dal) VALUES ({}, {t}, {cartella}, 'presa_in_carico', '{}');\n",
            100 + k,
            day(giorno),
            100 + k,
            day((giorno * 7) % 2900)
        );
    }
    // A person of AMB-TEST (p6, wrong check character, cartella 7 in
    // Carate) in charge of AMB-ALTRO too, in the same comune: counted once.
    sql += &format!(
        "INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, categoria_siso, aperta_il, chiusa_il, stato) \
         VALUES (400, {t}, 6, 'X400', '108015', '2', '2024-09-01', '2025-01-31', 'chiusa');\n"
    );
    db.execute(&sql);
    db.siso().args(["report", "refresh"]).assert().success();
}

// The report reads daily aggregates (siso::report::statistica); the direct
// queries over the case rows are the independent path: both agree, figure
// by figure, over periods that cut months, years and a membership change.
both_backends!(aggregates_agree_with_the_case_rows, |db| {
    use siso::report::{Period, query};
    seed(&db);
    seed_more(&db);
    // One titolare holds under an eighth of the cartelle, one more: SQLite
    // refreshes the first through the titolare_id indexes and the second by
    // reading the tables whole (statistica.rs, SCAN_SHARE): both are checked.
    let titolari = |cmp: &str| {
        db.scalar(&format!(
            "SELECT COUNT(*) FROM (SELECT titolare_id FROM cartella GROUP BY titolare_id \
             HAVING COUNT(*) * 8 {cmp} (SELECT MAX(id) FROM cartella)) x"
        ))
    };
    assert!(titolari("<") >= 1 && titolari(">=") >= 1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (conn, _) = siso::store::Db::connect(&db.url).await.unwrap();
        let seeded: i64 = siso::on_db!(&conn, pool => sqlx::query_scalar("SELECT COUNT(*) FROM statistica_prestazioni WHERE erogazioni > 0").fetch_one(pool).await.unwrap());
        assert!(seeded > 100, "too few aggregate rows ({seeded}) for the test to prove anything");
        let dormant: i64 = siso::on_db!(&conn, pool => sqlx::query_scalar("SELECT COUNT(*) FROM statistica_dormienti").fetch_one(pool).await.unwrap());
        assert!(dormant > 50, "too few dormancy rows ({dormant}) for the test to prove anything");
        let d = |s: &str| siso::report::period::parse_date("date", s).unwrap();
        let periods = [
            ("2024-11-01", "2025-02-28"),
            ("2024-01-01", "2024-12-31"),
            ("2024-12-31", "2025-01-01"),
            ("2025-01-15", "2025-01-15"),
            ("2019-01-01", "2026-12-31"),
            ("2021-03-10", "2022-07-19"),
            ("2023-03-01", "2024-02-29"),
            ("2024-03-01", "2025-02-28"),
            ("2020-01-01", "2025-02-28"),
        ];
        let ambiti = query::ambiti(&conn, None).await.unwrap();
        let mut scopes: Vec<Option<i64>> = ambiti.iter().map(|a| Some(a.id)).collect();
        scopes.push(None);
        for (from, to) in periods {
            let p = Period::new(d(from), d(to)).unwrap();
            for scope in scopes.iter().copied() {
                let what = format!("{from}..{to} scope {scope:?}");
                let mut direct: Vec<(i64, String, [i64; 5])> = Vec::new();
                let senza = query::senza_operatore(&conn, &p, scope).await.unwrap();
                for (a, c, v) in query::flows(&conn, &p, scope).await.unwrap() {
                    let so = senza.iter().filter(|r| r.0 == a && r.1 == c).map(|r| r.2).sum();
                    direct.push((a, c, [v[0], v[1], v[2], v[3], so]));
                }
                for (a, c, so) in &senza {
                    if !direct.iter().any(|r| r.0 == *a && r.1 == *c) {
                        direct.push((*a, c.clone(), [0, 0, 0, 0, *so]));
                    }
                }
                let mut agg = query::flows_aggregati(&conn, &p, scope).await.unwrap();
                agg.retain(|r| r.2 != [0; 5]);
                direct.retain(|r| r.2 != [0; 5]);
                direct.sort();
                agg.sort();
                assert_eq!(direct, agg, "cartelle {what}");

                let key = |r: &query::InterventiRow| {
                    (r.ambito_id, r.comune.clone(), r.codice.clone(), r.gruppo.clone(), r.avviati)
                };
                let mut i1: Vec<_> = query::interventi(&conn, &p, scope).await.unwrap().iter().map(key).collect();
                let mut i2: Vec<_> = query::interventi_aggregati(&conn, &p, scope).await.unwrap().iter().map(key).collect();
                i1.sort();
                i2.sort();
                assert_eq!(i1, i2, "interventi {what}");

                let key = |r: &query::ErogazioniRow| {
                    (r.ambito_id, r.comune.clone(), r.codice.clone(), r.gruppo.clone(), r.mese.clone(), r.erogazioni, r.importi)
                };
                let mut e1: Vec<_> = query::erogazioni(&conn, &p, scope).await.unwrap().iter().map(key).collect();
                let mut e2: Vec<_> = query::erogazioni_aggregati(&conn, &p, scope).await.unwrap().iter().map(key).collect();
                e1.sort();
                e2.sort();
                assert_eq!(e1, e2, "erogazioni {what}");

                let sum = |rows: Vec<(i64, String, i64)>| {
                    let mut by: std::collections::BTreeMap<(i64, String), i64> = Default::default();
                    for (a, c, n) in rows {
                        *by.entry((a, c)).or_default() += n;
                    }
                    by.retain(|_, n| *n != 0);
                    by
                };
                let d1 = sum(query::dormienti(&conn, &p, scope).await.unwrap());
                let d2 = sum(query::dormienti_aggregati(&conn, &p, scope).await.unwrap());
                assert_eq!(d1, d2, "dormienti {what}");

                let mut m1 = query::mesi_cartelle(&conn, &p, scope).await.unwrap();
                let mut m2 = query::mesi_cartelle_aggregati(&conn, &p, scope).await.unwrap();
                m2.retain(|r| (r.2, r.3) != (0, 0));
                m1.sort();
                m2.sort();
                assert_eq!(m1, m2, "mesi {what}");

                persone_agree(&conn, &p, scope, &what).await;
            }
        }
        // Persons in charge over many more periods: every start and end day
        // of the cases of personae 100 and 101 in Monza (pauses, stretches
        // that touch, a case inside another) and the days around them.
        let days: Vec<time::Date> = siso::on_db!(&conn, pool => sqlx::query_scalar::<_, String>(
            "SELECT DISTINCT CAST(aperta_il AS TEXT) FROM cartella WHERE persona_id IN (100, 101) AND comune_istat = '108033' \
             UNION SELECT DISTINCT CAST(chiusa_il AS TEXT) FROM cartella WHERE persona_id IN (100, 101) AND comune_istat = '108033' AND chiusa_il IS NOT NULL")
            .fetch_all(pool).await.unwrap())
            .iter()
            .map(|t| d(t))
            .collect();
        let pauses: i64 = siso::on_db!(&conn, pool => sqlx::query_scalar("SELECT COUNT(*) FROM statistica_persone_pause").fetch_one(pool).await.unwrap());
        assert!(pauses > 20, "too few pauses ({pauses}) for the test to prove anything");
        let mut checked = 0;
        for (k, &a) in days.iter().enumerate().step_by(3) {
            for &b in days.iter().skip(k).step_by(7) {
                for (da, db) in [(-1, 1), (0, 0), (1, -1), (1, 1)] {
                    let (from, to) = (a + time::Duration::days(da), b + time::Duration::days(db));
                    if let Ok(p) = Period::new(from, to) {
                        persone_agree(&conn, &p, None, &format!("{from}..{to}")).await;
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100, "only {checked} periods checked");
        conn.close().await;
    });
});

/// The persons figures from the persons statistics equal the direct
/// count over the case rows.
async fn persone_agree(
    conn: &siso::store::Db,
    p: &siso::report::Period,
    scope: Option<i64>,
    what: &str,
) {
    use siso::report::query;
    let mut direct = query::persone(conn, p, scope).await.unwrap();
    let agg = query::persone_aggregati(conn, p, scope).await.unwrap();
    let mut per_area = agg.per_area;
    direct.retain(|r| r.3 != 0);
    direct.sort();
    per_area.sort();
    assert_eq!(direct, per_area, "persone {what}");
    let mut direct = query::persone_senza_cf(conn, p, scope).await.unwrap();
    let mut senza_cf = agg.senza_cf;
    direct.retain(|r| r.2 != 0);
    senza_cf.retain(|r| r.2 != 0);
    direct.sort();
    senza_cf.sort();
    assert_eq!(direct, senza_cf, "senza cf {what}");
}

// The persons statistics follow the importer: a codice fiscale corrected,
// a case closed, a category changed, a case added, an undo; after each the
// figures equal the direct count, and the expected numbers by hand.
both_backends!(persons_statistics_follow_the_importer, |db| {
    use siso::report::{Period, query};
    db.init();
    let onboarding = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/onboarding/17-ambito-monza.toml"
    );
    db.siso().args(["onboard", onboarding]).assert().success();
    let write = |name: &str, text: &str| {
        let path = db.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    write(
        "persone.toml",
        "entity = \"persona\"\n[columns]\nID = \"id_legacy\"\nCF = \"codice_fiscale\"\n",
    );
    write(
        "cartelle.toml",
        "entity = \"cartella\"\n[columns]\nID = \"id_legacy\"\nPERSONA = \"persona_id_legacy\"\nCOMUNE = \"comune_istat\"\n\
         CATEGORIA = \"categoria\"\nAPERTA = { field = \"aperta_il\", date_format = \"yyyy-mm-dd\" }\n\
         CHIUSA = { field = \"chiusa_il\", date_format = \"yyyy-mm-dd\" }\n",
    );
    let import = |persone: &[String], cartelle: &[&str]| {
        let p = write(
            "persone.csv",
            &format!("ID;CF;COGNOME;NOME\n{}\n", persone.join("\n")),
        );
        let c = write(
            "cartelle.csv",
            &format!(
                "ID;PERSONA;COMUNE;CATEGORIA;APERTA;CHIUSA\n{}\n",
                cartelle.join("\n")
            ),
        );
        db.siso()
            .arg("import")
            .args([&p, &c])
            .args(["--ente", "AMB-MONZA", "--json"])
            .assert()
            .success();
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let d = |s: &str| siso::report::period::parse_date("date", s).unwrap();
    let p = Period::new(d("2024-01-01"), d("2024-12-31")).unwrap();
    // (persons in charge by category, persons without a valid CF) in Monza, 2024.
    let figures = || -> (Vec<(String, i64)>, i64) {
        rt.block_on(async {
            let (conn, _) = siso::store::Db::connect(&db.url).await.unwrap();
            persone_agree(&conn, &p, None, "after import").await;
            let agg = query::persone_aggregati(&conn, &p, None).await.unwrap();
            conn.close().await;
            let mut area: Vec<(String, i64)> = agg
                .per_area
                .into_iter()
                .filter(|r| r.1 == "108033")
                .map(|r| (r.2, r.3))
                .collect();
            area.sort();
            let senza = agg
                .senza_cf
                .iter()
                .filter(|r| r.1 == "108033")
                .map(|r| r.2)
                .sum();
            (area, senza)
        })
    };
    let rossi = cf(3);
    import(
        &[
            format!("A1;{rossi};Rossi;Mario"),
            "A2;;Bianchi;Laura".to_string(),
        ],
        &[
            "C1;A1;108033;1;2023-05-01;",
            "C2;A2;108033;1;2024-03-01;2024-04-30",
            "C3;A2;108033;1;2024-08-01;",
        ],
    );
    // Bianchi: two cases, one person; no codice fiscale.
    assert_eq!(figures(), (vec![("1".to_string(), 2)], 1));
    // Her codice fiscale found.
    let bianchi = cf(5);
    import(
        &[
            format!("A1;{rossi};Rossi;Mario"),
            format!("A2;{bianchi};Bianchi;Laura"),
        ],
        &[],
    );
    assert_eq!(figures(), (vec![("1".to_string(), 2)], 0));
    // Rossi's case closed before 2024, Bianchi's second case in another category.
    import(
        &[],
        &[
            "C1;A1;108033;1;2023-05-01;2023-12-31",
            "C2;A2;108033;1;2024-03-01;2024-04-30",
            "C3;A2;108033;4;2024-08-01;",
        ],
    );
    assert_eq!(
        figures(),
        (vec![("1".to_string(), 1), ("4".to_string(), 1)], 0)
    );
    // Undo of the last batch: as before it.
    let last = db.scalar("SELECT MAX(id) FROM import_batch").to_string();
    db.siso()
        .args(["import", "undo", &last, "--yes"])
        .assert()
        .success();
    assert_eq!(figures(), (vec![("1".to_string(), 2)], 0));
});

// A person is in charge in every ambito the comune belonged to on a day the
// case was open in the period: Concorezzo moves from AMB-TEST to AMB-ALTRO
// on 2025-01-01, and its two persons in charge then (p10's case open, p9's
// until 2025-01-15) count for both, not only for the ambito of the
// period's first day.
both_backends!(
    persons_in_charge_count_for_each_ambito_of_the_days_open,
    |db| {
        seed(&db);
        for ambito in ["AMB-TEST", "AMB-ALTRO"] {
            let r = report_json(&db, &["--ambito", ambito, "--min-cell", "1"]);
            let t = table(&r, "persone_area");
            assert_eq!(
                row(&t, "Concorezzo"),
                [json!(0), json!(0), json!(1), json!(1), json!(0), json!(2)],
                "{ambito}"
            );
        }
    }
);
