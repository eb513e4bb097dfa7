//! `siso check cf`: one verdict per code, reason codes, stdin, exit codes.
//! It needs no database.

mod common;

use common::{TestDb, json_of};
use predicates::prelude::*;

#[test]
fn valid_codes_are_decoded() {
    let db = TestDb::sqlite();
    let out = json_of(
        db.siso()
            .args([
                "check",
                "cf",
                "RSSMRA85T10A562S",
                "bnclra90a41f205i",
                "--json",
            ])
            .assert()
            .success(),
    );
    assert_eq!(out[0]["valid"], true);
    assert_eq!(out[0]["birth_date"], "1985-12-10");
    assert_eq!(out[0]["sex"], "M");
    assert_eq!(out[0]["belfiore"], "A562");
    assert_eq!(out[1]["sex"], "F");
    assert_eq!(out[1]["birth_date"], "1990-01-01");
    assert!(out[1]["birthplace"].as_str().unwrap().starts_with("Milano"));
    // no database file was created for a pure check
    assert!(!db.sqlite_file().exists());
}

#[test]
fn omocodes_share_the_key_of_the_original() {
    let db = TestDb::sqlite();
    let out = json_of(
        db.siso()
            .args([
                "check",
                "cf",
                "RSSMRA85T10A56NH",
                "RSSMRAURTMLARSNL",
                "--json",
            ])
            .assert()
            .success(),
    );
    for v in out.as_array().unwrap() {
        assert_eq!(v["key"], "RSSMRA85T10A562S", "{v}");
    }
    assert_eq!(out[1]["omocodia_level"], 7);
}

#[test]
fn invalid_codes_get_a_reason_and_exit_1() {
    let db = TestDb::sqlite();
    let out = db
        .siso()
        .args([
            "check",
            "cf",
            "RSSMRA85T10A562X",
            "RSSMRA85",
            "RSS MRA85T10A562S",
            "--json",
        ])
        .assert()
        .code(1);
    let out = json_of(out);
    let reasons: Vec<&str> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["CF_CHECK", "CF_LENGTH", "CF_CHARSET"]);
}

#[test]
fn temporary_codes_are_checked_too() {
    let db = TestDb::sqlite();
    // Comune di Monza's 11-digit code has a valid check digit; change the last digit and it fails.
    db.siso()
        .args(["check", "cf", "02030880153"])
        .assert()
        .success();
    let out = json_of(
        db.siso()
            .args(["check", "cf", "02030880154", "--json"])
            .assert()
            .code(1),
    );
    assert_eq!(out[0]["reason"], "CF_TEMP_CHECK");
}

#[test]
fn an_unknown_birthplace_is_a_warning_not_an_error() {
    let db = TestDb::sqlite();
    // Z999 is not a foreign state in the reference data; compute a valid check letter for it.
    let first15 = "RSSMRA85T10Z999";
    let check = siso::codes::cf::check_char(first15).unwrap();
    let code = format!("{first15}{check}");
    let out = json_of(
        db.siso()
            .args(["check", "cf", &code, "--json"])
            .assert()
            .success(),
    );
    assert_eq!(out[0]["valid"], true);
    assert_eq!(out[0]["reason"], "CF_BIRTHPLACE_UNKNOWN");
    assert!(out[0]["warning"].as_str().unwrap().contains("Z999"));
}

#[test]
fn codes_can_come_from_stdin_one_per_line() {
    let db = TestDb::sqlite();
    db.siso()
        .args(["check", "cf", "-", "--format", "csv"])
        .write_stdin("RSSMRA85T10A562S\n\nRSSMRA85T10A562X\n")
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("input,valid,reason"))
        .stdout(predicate::str::contains("RSSMRA85T10A562X,false,CF_CHECK"));
}

#[test]
fn garbage_never_panics() {
    let db = TestDb::sqlite();
    for junk in [
        "",
        "ÀÈÌÒÙàèìòù0123456",
        "\u{1}\u{2}",
        "ZZZZZZZZZZZZZZZZ",
        "0000000000000000000000",
    ] {
        let assert = db.siso().args(["check", "cf", junk]).assert();
        let code = assert.get_output().status.code();
        assert_eq!(code, Some(1), "input {junk:?}");
    }
}
