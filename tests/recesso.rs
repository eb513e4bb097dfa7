//! Art. 9 withdrawals on both backends: the effective date on the edge days,
//! the refusals, the signatories to inform, status on a given day, and the
//! check importers make.

mod common;

use common::{TestDb, json_of, stdout_of};
use predicates::prelude::*;
use time::macros::date;

/// Entes as onboarding would leave them (its commands are not merged yet):
/// the Capofila (Monza) and Lissone in ambito AMB-MONZA, Desio (no PEC) in
/// AMB-DESIO, and a Lecco request not yet approved.
fn seed(db: &TestDb) {
    db.init();
    db.execute(
        "INSERT INTO ente (codice, tipo, denominazione, istat, pec, capofila, stato, sottoscritto_il) VALUES \
         ('AMB-MONZA', 'ambito', 'Ambito di Monza', NULL, 'udp@pec.ambitomonza.it', FALSE, 'aderente', '2020-01-15'), \
         ('AMB-DESIO', 'ambito', 'Ambito di Desio', NULL, 'udp@pec.ambitodesio.it', FALSE, 'aderente', '2020-01-15'), \
         ('108033', 'comune', 'Comune di Monza', '108033', 'protocollo@pec.comune.monza.it', TRUE, 'aderente', '2020-01-15'), \
         ('108028', 'comune', 'Comune di Lissone', '108028', 'protocollo@pec.comune.lissone.mb.it', FALSE, 'aderente', '2020-01-15'), \
         ('108023', 'comune', 'Comune di Desio', '108023', NULL, FALSE, 'aderente', '2021-03-01'), \
         ('097042', 'comune', 'Comune di Lecco', '097042', 'comune@pec.comune.lecco.it', FALSE, 'richiesta', NULL);",
    );
    db.execute(
        "INSERT INTO appartenenza_ambito (ambito_id, comune_istat, valido_dal) \
         SELECT id, '108033', '2015-01-01' FROM ente WHERE codice = 'AMB-MONZA'; \
         INSERT INTO appartenenza_ambito (ambito_id, comune_istat, valido_dal) \
         SELECT id, '108028', '2015-01-01' FROM ente WHERE codice = 'AMB-MONZA'; \
         INSERT INTO appartenenza_ambito (ambito_id, comune_istat, valido_dal) \
         SELECT id, '108023', '2015-01-01' FROM ente WHERE codice = 'AMB-DESIO';",
    );
}

fn request(db: &TestDb, ente: &str, received: &str, protocol: &str) -> assert_cmd::assert::Assert {
    db.siso()
        .args([
            "recesso",
            "request",
            ente,
            "--received",
            received,
            "--protocol",
            protocol,
            "--json",
        ])
        .assert()
}

fn accept(db: &TestDb, ente: &str, act: &str, date: &str) -> assert_cmd::assert::Assert {
    db.siso()
        .args([
            "recesso", "accept", ente, "--act", act, "--date", date, "--json",
        ])
        .assert()
}

fn status(db: &TestDb, as_of: &str) -> serde_json::Value {
    json_of(
        db.siso()
            .args(["recesso", "status", "--as-of", as_of, "--json"])
            .assert()
            .success(),
    )
}

fn audit_count(db: &TestDb) -> i64 {
    db.scalar("SELECT count(*) FROM audit_log")
}

both_backends!(request_computes_the_effective_date_on_the_edge_days, |db| {
    seed(&db);
    let by_30_september = json_of(request(&db, "108028", "2024-09-30", "PG-2024-1001").success());
    assert_eq!(by_30_september[0]["efficace_il"], "2024-12-31");
    assert_eq!(by_30_september[0]["ricevuto_il"], "2024-09-30");
    assert_eq!(by_30_september[0]["protocollo"], "PG-2024-1001");

    let from_1_october = json_of(request(&db, "108023", "2024-10-01", "PG-2024-1002").success());
    assert_eq!(from_1_october[0]["efficace_il"], "2025-12-31");

    // Codes are matched in any case; 29 February of a leap year, same year.
    let leap = json_of(request(&db, "amb-desio", "2024-02-29", "PG-2024-0050").success());
    assert_eq!(leap[0]["ente"], "AMB-DESIO");
    assert_eq!(leap[0]["efficace_il"], "2024-12-31");

    assert_eq!(
        db.scalar("SELECT count(*) FROM recesso WHERE efficace_il = '2024-12-31'"),
        2
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'recesso_richiesta' AND ente_codice = '108023' \
                   AND dettaglio LIKE '%\"efficace_il\":\"2025-12-31\"%' AND dettaglio LIKE '%PG-2024-1002%'"),
        1
    );
    db.siso().args(["audit", "verify"]).assert().success();
});

both_backends!(request_help_states_the_rule, |db| {
    let help = stdout_of(
        db.siso()
            .args(["recesso", "request", "--help"])
            .assert()
            .success(),
    );
    assert!(
        help.replace('\n', " ").replace("  ", " ").contains(
            "A withdrawal received by 30 September takes effect on 31 December of that year; later, on 31 December of the next year (Art. 9)"
        ),
        "{help}"
    );
});

both_backends!(
    requests_that_break_a_rule_are_refused_and_change_nothing,
    |db| {
        seed(&db);
        let before = audit_count(&db);
        request(&db, "999999", "2024-05-01", "P1").code(1).stderr(
            predicate::str::contains("no ente with code 999999")
                .and(predicate::str::contains("siso ente list")),
        );
        request(&db, "097042", "2024-05-01", "P1").code(1).stderr(
            predicate::str::contains("not an approved signatory")
                .and(predicate::str::contains("'richiesta'")),
        );
        request(&db, "108028", "2019-12-31", "P1")
            .code(1)
            .stderr(predicate::str::contains("signed on 2020-01-15"));
        request(&db, "108028", "9999-01-01", "P1")
            .code(1)
            .stderr(predicate::str::contains("in the future"));
        request(&db, "108028", "2024-05-01", "  ")
            .code(2)
            .stderr(predicate::str::contains("protocol number is empty"));
        request(&db, "108028", "01/05/2024", "P1")
            .code(2)
            .stderr(predicate::str::contains("YYYY-MM-DD"));
        request(&db, "108028", "2023-02-29", "P1")
            .code(2)
            .stderr(predicate::str::contains("YYYY-MM-DD"));
        assert_eq!(db.scalar("SELECT count(*) FROM recesso"), 0);
        assert_eq!(audit_count(&db), before);

        request(&db, "108028", "2024-05-01", "P1").success();
        request(&db, "108028", "2024-06-01", "P2")
            .code(1)
            .stderr(predicate::str::contains(
                "already has an open withdrawal request (received 2024-05-01, protocol P1)",
            ));
        accept(&db, "108028", "DG-77", "2024-05-20").success();
        // Effective 2024-12-31, already past: the ente is 'receduto'.
        request(&db, "108028", "2024-06-01", "P2")
            .code(1)
            .stderr(predicate::str::contains(
                "ente 108028 has already withdrawn",
            ));
        // Accepted but not yet effective: still 'aderente', still refused.
        let today = time::OffsetDateTime::now_utc().date().to_string();
        request(&db, "108023", &today, "P3").success();
        accept(&db, "108023", "DG-78", &today).success();
        let effective = siso::recesso::effective_date(time::OffsetDateTime::now_utc().date());
        request(&db, "108023", &today, "P4")
            .code(1)
            .stderr(predicate::str::contains(format!(
                "ente 108023 is already withdrawing (accepted by act DG-78, effective {effective})"
            )));
        assert_eq!(db.scalar("SELECT count(*) FROM recesso"), 2);
    }
);

both_backends!(
    acceptances_that_break_a_rule_are_refused_and_change_nothing,
    |db| {
        seed(&db);
        accept(&db, "999999", "DG-1", "2024-05-20")
            .code(1)
            .stderr(predicate::str::contains("no ente with code 999999"));
        accept(&db, "108028", "DG-1", "2024-05-20").code(1).stderr(
            predicate::str::contains("no open withdrawal request")
                .and(predicate::str::contains("siso recesso request 108028")),
        );
        request(&db, "108028", "2024-05-02", "P1").success();
        let before = audit_count(&db);
        // The act cannot precede the communication it accepts; the day itself is fine.
        accept(&db, "108028", "DG-1", "2024-05-01")
            .code(1)
            .stderr(predicate::str::contains(
                "before the withdrawal of ente 108028 was received (2024-05-02)",
            ));
        accept(&db, "108028", "DG-1", "9999-12-31")
            .code(1)
            .stderr(predicate::str::contains("in the future"));
        accept(&db, "108028", "", "2024-05-10").code(2);
        assert_eq!(audit_count(&db), before);
        assert_eq!(
            db.scalar("SELECT count(*) FROM recesso WHERE atto_numero IS NOT NULL"),
            0
        );

        accept(&db, "108028", "DG-1", "2024-05-02").success();
        accept(&db, "108028", "DG-2", "2024-05-03")
            .code(1)
            .stderr(predicate::str::contains(
                "already accepted by act DG-1 of 2024-05-02",
            ));
        assert_eq!(
            db.scalar("SELECT count(*) FROM recesso WHERE atto_numero = 'DG-1'"),
            1
        );
        assert_eq!(audit_count(&db), before + 1);
    }
);

both_backends!(accept_lists_the_other_signatories_with_their_pec, |db| {
    seed(&db);
    request(&db, "108028", "2024-09-30", "P1").success();
    let listed = json_of(accept(&db, "108028", "DG-77", "2024-10-15").success());
    let codes: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["ente"].as_str().unwrap())
        .collect();
    // Every other approved signatory; not Lissone itself, not Lecco (not approved).
    assert_eq!(codes, ["108023", "108033", "AMB-DESIO", "AMB-MONZA"]);
    let desio = &listed[0];
    assert_eq!(desio["pec"], serde_json::Value::Null);
    assert_eq!(desio["nota"], "PEC missing: inform by other formal means");
    assert_eq!(listed[1]["pec"], "protocollo@pec.comune.monza.it");
    assert_eq!(listed[1]["nota"], serde_json::Value::Null);

    // Effective 2024-12-31, already past: the stored state says so too.
    assert_eq!(
        db.scalar("SELECT count(*) FROM ente WHERE codice = '108028' AND stato = 'receduto'"),
        1
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM audit_log WHERE azione = 'recesso_accettazione' AND ente_codice = '108028' \
                   AND dettaglio LIKE '%DG-77%' AND dettaglio LIKE '%\"atto_data\":\"2024-10-15\"%' \
                   AND dettaglio LIKE '%\"efficace_il\":\"2024-12-31\"%'"),
        1
    );
    db.siso().args(["audit", "verify"]).assert().success();
});

both_backends!(accept_writes_the_signatories_as_csv, |db| {
    seed(&db);
    request(&db, "AMB-DESIO", "2024-03-01", "P9").success();
    let csv = stdout_of(
        db.siso()
            .args([
                "recesso",
                "accept",
                "AMB-DESIO",
                "--act",
                "DG-5",
                "--date",
                "2024-03-10",
                "--format",
                "csv",
            ])
            .assert()
            .success(),
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "ente,denominazione,pec,nota");
    assert_eq!(
        lines[1],
        "108023,Comune di Desio,,PEC missing: inform by other formal means"
    );
    assert!(
        lines.contains(&"AMB-MONZA,Ambito di Monza,udp@pec.ambitomonza.it,"),
        "{csv}"
    );
    assert_eq!(lines.len(), 5, "{csv}");
});

both_backends!(an_ente_already_withdrawn_is_not_informed, |db| {
    seed(&db);
    request(&db, "108023", "2022-03-01", "P1").success();
    accept(&db, "108023", "DG-1", "2022-03-10").success();
    // As if accepted before its effective date: the stored state is still
    // 'aderente', yet the derived state says it is out.
    db.execute("UPDATE ente SET stato = 'aderente' WHERE codice = '108023'");
    request(&db, "108028", "2024-03-01", "P2").success();
    let listed = json_of(accept(&db, "108028", "DG-2", "2024-03-10").success());
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["ente"] != "108023"),
        "{listed}"
    );
});

both_backends!(
    accept_before_the_effective_date_keeps_the_ente_aderente,
    |db| {
        seed(&db);
        let today = time::OffsetDateTime::now_utc().date();
        let effective = siso::recesso::effective_date(today);
        request(&db, "108028", &today.to_string(), "P1").success();
        accept(&db, "108028", "DG-1", &today.to_string()).success();
        assert_eq!(
            db.scalar("SELECT count(*) FROM ente WHERE codice = '108028' AND stato = 'aderente'"),
            1
        );
        let voci = json_of(
            db.siso()
                .args(["recesso", "status", "--json"])
                .assert()
                .success(),
        );
        assert_eq!(voci[0]["stato"], "accepted");
        assert_eq!(voci[0]["efficace_il"], effective.to_string());
        assert_eq!(voci[0]["giorni_mancanti"], (effective - today).whole_days());
    }
);

both_backends!(status_on_the_edge_days, |db| {
    seed(&db);
    request(&db, "108028", "2024-09-30", "P1").success();
    accept(&db, "108028", "DG-77", "2024-10-15").success();
    request(&db, "108023", "2024-10-01", "P2").success();

    // On the effective date the ente is still a signatory.
    let on = status(&db, "2024-12-31");
    assert_eq!(on[0]["ente"], "108028");
    assert_eq!(on[0]["stato"], "accepted");
    assert_eq!(on[0]["giorni_mancanti"], 0);
    assert_eq!(on[0]["atto"], "DG-77");
    assert_eq!(on[1]["ente"], "108023");
    assert_eq!(on[1]["stato"], "pending");
    assert_eq!(on[1]["giorni_mancanti"], 365);

    let after = status(&db, "2025-01-01");
    assert_eq!(after[0]["stato"], "effective");
    assert_eq!(after[0]["giorni_mancanti"], -1);
    assert_eq!(after[1]["stato"], "pending");

    let before = status(&db, "2024-12-30");
    assert_eq!(before[0]["stato"], "accepted");
    assert_eq!(before[0]["giorni_mancanti"], 1);

    // A pending request never takes effect by itself, and says so.
    db.siso()
        .args(["recesso", "status", "--as-of", "2026-01-01"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "1 withdrawal(s) are past their effective date but not yet accepted",
        ));
});

both_backends!(status_by_ambito, |db| {
    seed(&db);
    request(&db, "108028", "2024-09-30", "P1").success();
    request(&db, "108023", "2024-10-01", "P2").success();
    request(&db, "AMB-MONZA", "2024-04-01", "P3").success();
    let monza = json_of(
        db.siso()
            .args([
                "recesso",
                "status",
                "--ambito",
                "AMB-MONZA",
                "--as-of",
                "2024-11-01",
                "--json",
            ])
            .assert()
            .success(),
    );
    let codes: Vec<&str> = monza
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["ente"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["108028", "AMB-MONZA"]);
    db.siso()
        .args(["recesso", "status", "--ambito", "AMB-NOWHERE"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no ambito with code AMB-NOWHERE"));
    db.siso()
        .args(["recesso", "status", "--ambito", "108028"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is a comune, not an ambito"));
    let csv = stdout_of(
        db.siso()
            .args([
                "recesso",
                "status",
                "--format",
                "csv",
                "--as-of",
                "2024-11-01",
            ])
            .assert()
            .success(),
    );
    assert!(
        csv.starts_with("ente,denominazione,ricevuto_il,protocollo,efficace_il,stato,giorni_mancanti,atto,atto_data\n"),
        "{csv}"
    );
});

both_backends!(the_capofila_may_withdraw_with_a_warning, |db| {
    seed(&db);
    request(&db, "108033", "2024-05-01", "P1")
        .success()
        .stderr(predicate::str::contains("108033 is the Ente Capofila"));
    assert_eq!(db.scalar("SELECT count(*) FROM recesso"), 1);
});

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

both_backends!(
    imports_are_refused_only_once_the_withdrawal_is_effective,
    |db| {
        seed(&db);
        request(&db, "108028", "2024-09-30", "P1").success();
        request(&db, "108023", "2023-01-10", "P2").success();
        block_on(async {
            let (store, _) = siso::store::Db::connect(&db.url).await.unwrap();
            use siso::recesso::withdrawn_on;
            // Pending: never withdrawn, however late.
            assert!(
                withdrawn_on(&store, "108028", date!(2030 - 01 - 01))
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(
                withdrawn_on(&store, "108023", date!(2030 - 01 - 01))
                    .await
                    .unwrap()
                    .is_none()
            );
            store.close().await;
        });
        accept(&db, "108028", "DG-77", "2024-10-15").success();
        block_on(async {
            let (store, _) = siso::store::Db::connect(&db.url).await.unwrap();
            use siso::recesso::{ensure_not_withdrawn, withdrawn_on};
            assert!(
                withdrawn_on(&store, "108028", date!(2024 - 12 - 31))
                    .await
                    .unwrap()
                    .is_none()
            );
            ensure_not_withdrawn(&store, "108023", date!(2025 - 06 - 01))
                .await
                .unwrap();
            let withdrawn = withdrawn_on(&store, "108028", date!(2025 - 01 - 01))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(withdrawn.efficace_il, date!(2024 - 12 - 31));
            let refused = ensure_not_withdrawn(&store, "108028", date!(2025 - 01 - 01))
                .await
                .unwrap_err();
            assert_eq!(refused.exit_code(), 1);
            assert_eq!(
                refused.to_string(),
                "ente 108028 withdrew on 2024-12-31 (recesso accepted by act DG-77): new imports are refused; \
             its data stays until the titolare decides (siso handback)"
            );
            let unknown = withdrawn_on(&store, "NOPE", date!(2025 - 01 - 01))
                .await
                .unwrap_err();
            assert!(unknown.to_string().contains("siso ente list"), "{unknown}");
            store.close().await;
        });
        // Its rows stay: withdrawing deletes nothing.
        assert_eq!(
            db.scalar("SELECT count(*) FROM ente WHERE codice = '108028'"),
            1
        );
    }
);

both_backends!(a_stored_receduto_state_refuses_imports_too, |db| {
    seed(&db);
    db.execute("UPDATE ente SET stato = 'receduto' WHERE codice = '108023'");
    block_on(async {
        let (store, _) = siso::store::Db::connect(&db.url).await.unwrap();
        let refused = siso::recesso::ensure_not_withdrawn(&store, "108023", date!(2025 - 01 - 01))
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("recorded as withdrawn"),
            "{refused}"
        );
        siso::recesso::ensure_not_withdrawn(&store, "108028", date!(2025 - 01 - 01))
            .await
            .unwrap();
        store.close().await;
    });
});

// A past day shows what was known then: withdrawals received later are not
// there yet, an act dated later had not accepted one, and an ente withdrawn
// since still had its duties (compliance).
both_backends!(a_past_day_shows_what_stood_then, |db| {
    seed(&db);
    request(&db, "108028", "2024-09-30", "P1").success();
    accept(&db, "108028", "DG-77", "2024-10-15").success();
    request(&db, "108023", "2024-10-01", "P2").success();
    assert_eq!(status(&db, "2024-06-01"), serde_json::json!([]));
    let early = status(&db, "2024-10-05");
    assert_eq!(early.as_array().unwrap().len(), 2, "{early}");
    assert_eq!(early[0]["ente"], "108028");
    assert_eq!(early[0]["stato"], "pending");
    assert_eq!(early[0]["atto"], serde_json::Value::Null);
    assert_eq!(status(&db, "2024-10-15")[0]["stato"], "accepted");

    // 108028 is out since 2025-01-01; in 2024 its Art. 6 referents were due.
    db.execute("UPDATE ente SET stato = 'receduto' WHERE codice = '108028'");
    let due = |as_of: &str| {
        json_of(
            db.siso()
                .args(["compliance", "--as-of", as_of, "--json"])
                .assert(),
        )
    };
    let then = due("2024-06-01");
    assert!(
        then.as_array()
            .unwrap()
            .iter()
            .any(|a| a["ente"] == "108028" && a["articolo"] == "Art. 6"),
        "{then}"
    );
    let now = due("2025-02-01");
    assert!(
        now.as_array()
            .unwrap()
            .iter()
            .all(|a| a["ente"] != "108028"),
        "{now}"
    );
});

// A withdrawn ambito takes no new comuni.
both_backends!(a_withdrawn_ambito_takes_no_new_comuni, |db| {
    seed(&db);
    db.execute("UPDATE ente SET stato = 'receduto' WHERE codice = 'AMB-DESIO'");
    db.siso()
        .args([
            "ente",
            "join",
            "AMB-DESIO",
            "--comune",
            "108015",
            "--from",
            "2025-06-01",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("AMB-DESIO has withdrawn"));
    assert_eq!(
        db.scalar("SELECT count(*) FROM appartenenza_ambito WHERE comune_istat = '108015'"),
        0
    );
});
