//! Access boundaries on PostgreSQL (issue 7): logins granted an ambito by
//! `siso access grant` connect AS THEMSELVES and try to read and change
//! another ambito's persons, cases and audit entries. Every attempt must fail
//! or touch nothing, while their own ambito's rows stay usable.
//!
//! Roles are cluster-wide: every login here carries the test database's name
//! (unique), and is dropped when the test ends, even when it fails.

mod common;

use common::{TestDb, json_of, stdout_of};
use predicates::prelude::*;
use sqlx::Connection as _;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn example(name: &str) -> String {
    format!("{}/examples/onboarding/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A login of this test, and its removal from the cluster at the end.
struct Login {
    name: String,
    url: String,
    admin_url: String,
}

impl Login {
    fn new(db: &TestDb, prefix: &str) -> Login {
        let dbname = db.url.rsplit('/').next().unwrap().to_string();
        let name = format!("{prefix}_{dbname}");
        let mut url = url::Url::parse(&db.url).unwrap();
        url.set_username(&name).unwrap();
        url.set_password(None).unwrap();
        Login {
            name,
            url: url.to_string(),
            admin_url: db.url.clone(),
        }
    }

    /// The first column (an integer) of every row the login can read.
    fn ids(&self, sql: &str) -> Result<Vec<i64>, String> {
        let sql = sql.to_string();
        block_on(async {
            let mut c = sqlx::PgConnection::connect(&self.url)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let out = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut c)
                .await
                .map_err(|e| e.to_string());
            let _ = c.close().await;
            out
        })
    }

    /// Rows affected by a statement run as the login.
    fn exec(&self, sql: &str) -> Result<u64, String> {
        let sql = sql.to_string();
        block_on(async {
            let mut c = sqlx::PgConnection::connect(&self.url)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let out = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| e.to_string());
            let _ = c.close().await;
            out
        })
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        // Best effort: the role would otherwise outlive the test database.
        let sql = format!("DROP ROLE IF EXISTS \"{}\"", self.name);
        block_on(async {
            if let Ok(mut c) = sqlx::PgConnection::connect(&self.admin_url).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
            }
        });
    }
}

#[track_caller]
fn refused(result: Result<u64, String>, why: &str) {
    match result {
        Err(e) => assert!(e.contains(why), "expected {why:?}, got: {e}"),
        Ok(n) => panic!("expected {why:?}, but it succeeded ({n} rows)"),
    }
}

#[track_caller]
fn refused_read(result: Result<Vec<i64>, String>, why: &str) {
    match result {
        Err(e) => assert!(e.contains(why), "expected {why:?}, got: {e}"),
        Ok(rows) => panic!("expected {why:?}, but it read {rows:?}"),
    }
}

const RLS: &str = "violates row-level security policy";
const DENIED: &str = "permission denied";

/// The ids seeded in each ambito.
struct Seed {
    persona_monza: i64,
    /// Titolare: Comune di Monza (108033), a member of AMB-MONZA.
    persona_comune_monza: i64,
    persona_desio: i64,
    cartella_monza: i64,
    cartella_desio: i64,
}

/// A fresh PostgreSQL database with AMB-MONZA (and the Comune di Monza) and
/// AMB-DESIO onboarded, one persona and cartella each; None without a server.
fn setup() -> Option<(TestDb, Seed)> {
    let db = TestDb::postgres()?;
    db.init();
    db.siso()
        .arg("onboard")
        .args([
            example("00-capofila-monza.toml"),
            example("12-ambito-desio.toml"),
            example("17-ambito-monza.toml"),
        ])
        .assert()
        .success();
    db.execute(
        "INSERT INTO persona (titolare_id, id_temporaneo, cognome, nome) \
           SELECT id, 'TMP-' || codice, 'Cognome', 'Nome' FROM ente WHERE codice IN ('AMB-MONZA', 'AMB-DESIO', '108033'); \
         INSERT INTO cartella (titolare_id, persona_id, numero, comune_istat, aperta_il, chiusa_il, stato) \
           SELECT p.titolare_id, p.id, 'C-1', '108033', DATE '2024-01-10', DATE '2024-03-05', 'chiusa' \
             FROM persona p JOIN ente e ON e.id = p.titolare_id WHERE e.codice IN ('AMB-MONZA', 'AMB-DESIO');",
    );
    let id = |sql: &str| db.scalar(sql);
    let seed = Seed {
        persona_monza: id("SELECT id FROM persona WHERE id_temporaneo = 'TMP-AMB-MONZA'"),
        persona_comune_monza: id("SELECT id FROM persona WHERE id_temporaneo = 'TMP-108033'"),
        persona_desio: id("SELECT id FROM persona WHERE id_temporaneo = 'TMP-AMB-DESIO'"),
        cartella_monza: id(
            "SELECT c.id FROM cartella c JOIN ente e ON e.id = c.titolare_id WHERE e.codice = 'AMB-MONZA'",
        ),
        cartella_desio: id(
            "SELECT c.id FROM cartella c JOIN ente e ON e.id = c.titolare_id WHERE e.codice = 'AMB-DESIO'",
        ),
    };
    Some((db, seed))
}

fn grant(db: &TestDb, ambito: &str, role: &str, login: &Login) -> assert_cmd::assert::Assert {
    db.siso()
        .args([
            "access",
            "grant",
            "--ambito",
            ambito,
            "--role",
            role,
            &login.name,
        ])
        .assert()
}

fn desio_id(db: &TestDb) -> i64 {
    db.scalar("SELECT id FROM ente WHERE codice = 'AMB-DESIO'")
}

#[test]
fn a_tecnico_cannot_read_or_change_another_ambito() {
    let Some((db, s)) = setup() else { return };
    let tec = Login::new(&db, "tec");
    grant(&db, "AMB-MONZA", "tecnico", &tec).success();
    let desio = desio_id(&db);

    // Reads: only the ambito itself and its comune, never Desio.
    let mut seen = tec.ids("SELECT id FROM persona ORDER BY id").unwrap();
    seen.sort();
    let mut own = vec![s.persona_monza, s.persona_comune_monza];
    own.sort();
    assert_eq!(seen, own);
    assert_eq!(
        tec.ids("SELECT id FROM cartella").unwrap(),
        vec![s.cartella_monza]
    );
    assert!(
        tec.ids(&format!(
            "SELECT id FROM persona WHERE id = {}",
            s.persona_desio
        ))
        .unwrap()
        .is_empty()
    );
    assert!(
        tec.ids(&format!(
            "SELECT id FROM cartella WHERE id = {}",
            s.cartella_desio
        ))
        .unwrap()
        .is_empty()
    );
    assert!(db.scalar("SELECT count(*) FROM audit_log WHERE ente_codice = 'AMB-DESIO'") > 0);
    assert!(
        tec.ids("SELECT id FROM audit_log WHERE ente_codice = 'AMB-DESIO'")
            .unwrap()
            .is_empty()
    );
    assert!(
        tec.ids("SELECT id FROM audit_log WHERE ente_codice IS NULL")
            .unwrap()
            .is_empty()
    );
    assert!(
        !tec.ids("SELECT id FROM audit_log WHERE ente_codice = 'AMB-MONZA'")
            .unwrap()
            .is_empty()
    );

    // Inserts with another titolare are refused by the policy.
    refused(
        tec.exec(&format!(
            "INSERT INTO persona (titolare_id, id_temporaneo, cognome, nome) VALUES ({desio}, 'X', 'A', 'B')"
        )),
        RLS,
    );
    refused(
        tec.exec(&format!(
            "INSERT INTO cartella (titolare_id, persona_id, numero, comune_istat, aperta_il) \
             VALUES ({desio}, {}, 'C-2', '108023', DATE '2024-02-01')",
            s.persona_desio
        )),
        RLS,
    );
    refused(
        tec.exec(
            "INSERT INTO audit_log (registrato_il, operatore, comando, ente_codice, azione, hash_precedente, hash) \
             VALUES (now(), 'x', 'x', 'AMB-DESIO', 'x', 'x', 'x')",
        ),
        DENIED,
    );
    refused(
        tec.exec("SELECT siso_audit_append('x', 'x', 'AMB-DESIO', 'x', NULL)"),
        "outside the ambiti granted to it",
    );

    // Updates and deletes of Desio's rows find nothing to touch.
    for sql in [
        format!(
            "UPDATE persona SET cognome = 'Cambiato' WHERE id = {}",
            s.persona_desio
        ),
        format!("DELETE FROM persona WHERE id = {}", s.persona_desio),
        format!(
            "UPDATE cartella SET numero = 'C-9' WHERE id = {}",
            s.cartella_desio
        ),
        format!("DELETE FROM cartella WHERE id = {}", s.cartella_desio),
    ] {
        assert_eq!(tec.exec(&sql), Ok(0), "{sql}");
    }
    // Moving an own row to Desio is refused (WITH CHECK).
    refused(
        tec.exec(&format!(
            "UPDATE persona SET titolare_id = {desio} WHERE id = {}",
            s.persona_monza
        )),
        RLS,
    );
    // The audit log is append-only for technicians.
    refused(tec.exec("UPDATE audit_log SET azione = 'x'"), DENIED);
    refused(tec.exec("DELETE FROM audit_log"), DENIED);
    // Officials' names are not for technicians.
    refused_read(tec.ids("SELECT id FROM referente"), DENIED);
    refused_read(tec.ids("SELECT id FROM ruolo_privacy"), DENIED);

    // Desio's rows are untouched.
    assert_eq!(
        db.scalar(&format!(
            "SELECT count(*) FROM persona WHERE id = {} AND cognome = 'Cognome' AND titolare_id = {desio}",
            s.persona_desio
        )),
        1
    );
    assert_eq!(
        db.scalar(&format!(
            "SELECT count(*) FROM cartella WHERE id = {} AND numero = 'C-1'",
            s.cartella_desio
        )),
        1
    );

    // The policies are what holds: without RLS on persona, Desio shows.
    db.execute("ALTER TABLE persona DISABLE ROW LEVEL SECURITY");
    assert!(
        tec.ids("SELECT id FROM persona")
            .unwrap()
            .contains(&s.persona_desio),
        "without row-level security the tecnico must see Desio: the assertions above would catch it"
    );
    db.execute(
        "ALTER TABLE persona ENABLE ROW LEVEL SECURITY; DROP POLICY siso_titolare ON persona",
    );
    assert!(tec.ids("SELECT id FROM persona").unwrap().is_empty());
}

#[test]
fn a_tecnico_works_on_its_own_ambito() {
    let Some((db, s)) = setup() else { return };
    let tec = Login::new(&db, "tec");
    grant(&db, "AMB-MONZA", "tecnico", &tec).success();
    let monza = db.scalar("SELECT id FROM ente WHERE codice = 'AMB-MONZA'");

    // Its own ambito's usage report, yes; another's, or all of them, would
    // count only what row-level security lets it see: refused, saying so.
    let report = |ambito: Option<&str>| {
        let mut cmd = db.siso();
        cmd.env("SISO_DATABASE_URL", &tec.url)
            .args(["report", "usage", "--year", "2024"]);
        match ambito {
            Some(a) => cmd.args(["--ambito", a]),
            None => cmd.arg("--all-ambiti"),
        };
        cmd.assert()
    };
    report(Some("AMB-MONZA")).success();
    for other in [Some("AMB-DESIO"), None] {
        report(other).code(1).stderr(predicate::str::contains(
            "this login sees only the case data of its own ambito",
        ));
    }

    let new = tec
        .ids(&format!(
            "INSERT INTO persona (titolare_id, id_temporaneo, cognome, nome) VALUES ({monza}, 'NEW', 'A', 'B') RETURNING id"
        ))
        .unwrap();
    assert_eq!(new.len(), 1);
    assert_eq!(
        tec.exec(&format!(
            "INSERT INTO cartella (titolare_id, persona_id, numero, comune_istat, aperta_il) \
             VALUES ({monza}, {}, 'C-2', '108033', DATE '2024-02-01')",
            new[0]
        )),
        Ok(1)
    );
    assert_eq!(
        tec.exec(&format!(
            "UPDATE persona SET cognome = 'Nuovo' WHERE id = {}",
            s.persona_monza
        )),
        Ok(1)
    );
    assert_eq!(tec.exec("DELETE FROM cartella WHERE numero = 'C-2'"), Ok(1));
    assert_eq!(
        tec.exec(&format!("DELETE FROM persona WHERE id = {}", new[0])),
        Ok(1)
    );
    // Audit entries go through siso_audit_append (migration 0011), which
    // chains them to the whole log; inserting directly is not allowed.
    refused(
        tec.exec(
            "INSERT INTO audit_log (registrato_il, operatore, comando, ente_codice, azione, hash_precedente, hash) \
             VALUES (now(), 'x', 'x', 'AMB-MONZA', 'x', 'x', 'x')",
        ),
        DENIED,
    );
    assert_eq!(
        tec.exec("SELECT siso_audit_append('x', 'x', 'AMB-MONZA', 'x', NULL)"),
        Ok(1)
    );
    // Reference data is readable.
    assert!(tec.ids("SELECT count(*) FROM ente").unwrap()[0] >= 3);
    // siso itself, connected as the technician, reads only the entries of
    // AMB-MONZA and its comune.
    let entries = json_of(
        db.siso()
            .env("SISO_DATABASE_URL", &tec.url)
            .args(["audit", "list", "--json"])
            .assert()
            .success(),
    );
    let codes: std::collections::BTreeSet<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ente_codice"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["108033", "AMB-MONZA"].into_iter().collect());
    assert!(db.scalar("SELECT count(*) FROM audit_log WHERE ente_codice = 'AMB-DESIO'") > 0);
    assert_eq!(
        db.scalar("SELECT count(*) FROM persona WHERE cognome = 'Nuovo'"),
        1
    );
}

#[test]
fn a_lettore_reads_aggregates_of_its_ambito_only() {
    let Some((db, _s)) = setup() else { return };
    let let_ = Login::new(&db, "let");
    grant(&db, "AMB-DESIO", "lettore", &let_).success();

    let personal: Vec<String> = {
        let n = db.scalar(
            "SELECT count(DISTINCT attrelid) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE a.attname = 'titolare_id' AND c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace",
        );
        assert!(n >= 13, "{n}");
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
            "audit_log",
            "referente",
            "ruolo_privacy",
            "adesione",
            "accesso_ambito",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect()
    };
    for table in &personal {
        refused_read(let_.ids(&format!("SELECT count(*) FROM {table}")), DENIED);
    }
    refused(
        let_.exec("INSERT INTO persona (titolare_id, id_temporaneo, cognome, nome) VALUES (1, 'X', 'A', 'B')"),
        DENIED,
    );

    // The view shows Desio's cartella only: opened in January, closed in
    // March; single cases are counted but hidden (small-cell suppression,
    // migration 0011; see tests/faults.rs).
    assert_eq!(
        let_.ids("SELECT count(*) FROM v_uso_mensile WHERE titolare <> 'AMB-DESIO'")
            .unwrap(),
        vec![0]
    );
    assert_eq!(
        let_.ids("SELECT count(*) FROM v_uso_mensile WHERE mese = '2024-01' AND aperte IS NULL AND chiuse = 0")
            .unwrap(),
        vec![1]
    );
    assert_eq!(
        let_.ids("SELECT count(*) FROM v_uso_mensile WHERE mese = '2024-03' AND aperte = 0 AND chiuse IS NULL")
            .unwrap(),
        vec![1]
    );
    // A lettore's grant gives no personal data through the policies either.
    assert!(
        let_.ids("SELECT * FROM siso_titolari_visibili()")
            .unwrap()
            .is_empty()
    );

    // siso's own report reads the whole register: a lettore gets a refusal
    // that says why and where its figures are, each cause said once.
    let out = db
        .siso()
        .env("SISO_DATABASE_URL", &let_.url)
        .args(["report", "usage", "--ambito", "AMB-DESIO", "--year", "2024"])
        .assert()
        .code(4);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("hint: this login's rights are limited") && err.contains("v_uso_mensile"),
        "{err}"
    );
    assert_eq!(err.matches("permission denied").count(), 1, "{err}");

    // A tecnico has no report view (a lettore grant is needed).
    let tec = Login::new(&db, "tec");
    grant(&db, "AMB-MONZA", "tecnico", &tec).success();
    refused_read(tec.ids("SELECT count(*) FROM v_uso_mensile"), DENIED);
}

#[test]
fn every_table_with_a_titolare_has_the_policy() {
    let Some((db, _s)) = setup() else { return };
    let unprotected = db.scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid \
         WHERE a.attname = 'titolare_id' AND NOT a.attisdropped AND c.relkind = 'r' \
           AND c.relnamespace = current_schema()::regnamespace \
           AND (NOT c.relrowsecurity OR NOT EXISTS (SELECT 1 FROM pg_policy p \
                 WHERE p.polrelid = c.oid AND p.polname = 'siso_titolare'))",
    );
    assert_eq!(
        unprotected, 0,
        "a table with titolare_id lacks row-level security"
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_class WHERE relname = 'audit_log' AND relrowsecurity"),
        1
    );
}

#[test]
fn membership_follows_the_ambito_on_the_edge_days() {
    let Some((db, s)) = setup() else { return };
    let (mon, des) = (Login::new(&db, "mon"), Login::new(&db, "des"));
    grant(&db, "AMB-MONZA", "tecnico", &mon).success();
    grant(&db, "AMB-DESIO", "tecnico", &des).success();
    // The Comune di Monza leaves AMB-MONZA: today is its last day (inclusive),
    // and it joins AMB-DESIO tomorrow.
    db.execute(
        "UPDATE appartenenza_ambito SET valido_al = CURRENT_DATE WHERE comune_istat = '108033'; \
         INSERT INTO appartenenza_ambito (ambito_id, comune_istat, valido_dal) \
           SELECT id, '108033', CURRENT_DATE + 1 FROM ente WHERE codice = 'AMB-DESIO'",
    );
    let q = format!(
        "SELECT id FROM persona WHERE id = {}",
        s.persona_comune_monza
    );
    assert_eq!(mon.ids(&q).unwrap(), vec![s.persona_comune_monza]);
    assert!(des.ids(&q).unwrap().is_empty());
    // One day earlier: yesterday was the last day, Desio from today.
    db.execute(
        "UPDATE appartenenza_ambito SET valido_al = CURRENT_DATE - 1 WHERE valido_al = CURRENT_DATE; \
         UPDATE appartenenza_ambito SET valido_dal = CURRENT_DATE WHERE valido_dal = CURRENT_DATE + 1",
    );
    assert!(mon.ids(&q).unwrap().is_empty());
    assert_eq!(des.ids(&q).unwrap(), vec![s.persona_comune_monza]);
}

fn member_of(db: &TestDb, login: &Login, group: &str) -> bool {
    db.scalar(&format!(
        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid \
         JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = '{group}' AND u.rolname = '{}'",
        login.name
    )) == 1
}

fn audit(db: &TestDb, azione: &str) -> i64 {
    db.scalar(&format!(
        "SELECT count(*) FROM audit_log WHERE azione = '{azione}'"
    ))
}

#[test]
fn grant_list_revoke_and_their_audit() {
    let Some((db, s)) = setup() else { return };
    let tec = Login::new(&db, "tec");
    grant(&db, "amb-monza", "tecnico", &tec)
        .success()
        .stderr(predicate::str::contains("login role created"));
    grant(&db, "AMB-DESIO", "tecnico", &tec).success();
    assert_eq!(audit(&db, "accesso_concesso"), 2);
    assert!(member_of(&db, &tec, "siso_tecnico"));
    // Again: nothing changes, nothing is logged.
    grant(&db, "AMB-MONZA", "tecnico", &tec)
        .success()
        .stderr(predicate::str::contains("nothing to change"));
    assert_eq!(audit(&db, "accesso_concesso"), 2);

    let list = json_of(
        db.siso()
            .args(["access", "list", "--json"])
            .assert()
            .success(),
    );
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["ambito"], "AMB-DESIO");
    assert_eq!(rows[1]["login"], tec.name.as_str());
    assert_eq!(rows[1]["ruolo"], "tecnico");
    assert!(rows[1]["concesso_il"].as_str().unwrap().ends_with('Z'));
    let csv = stdout_of(
        db.siso()
            .args(["access", "list", "--ambito", "AMB-MONZA", "--format", "csv"])
            .assert()
            .success(),
    );
    assert!(csv.starts_with("login,ambito,ruolo,concesso_il\n"), "{csv}");
    assert_eq!(csv.lines().count(), 2);

    // Desio becomes read-only: still a tecnico through Monza.
    grant(&db, "AMB-DESIO", "lettore", &tec)
        .success()
        .stderr(predicate::str::contains("from tecnico to lettore"));
    assert!(member_of(&db, &tec, "siso_tecnico") && member_of(&db, &tec, "siso_lettore"));
    assert!(
        tec.ids(&format!(
            "SELECT id FROM persona WHERE id = {}",
            s.persona_desio
        ))
        .unwrap()
        .is_empty()
    );

    // Revoke asks; without a terminal and without --yes it refuses.
    db.siso()
        .args(["access", "revoke", "--ambito", "AMB-MONZA", &tec.name])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    let before = db.scalar("SELECT count(*) FROM audit_log");
    db.siso()
        .args([
            "access",
            "revoke",
            "--ambito",
            "AMB-MONZA",
            "--dry-run",
            &tec.name,
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "would lose AMB-MONZA and leaves siso_tecnico",
        ));
    assert_eq!(db.scalar("SELECT count(*) FROM audit_log"), before);
    assert!(member_of(&db, &tec, "siso_tecnico"));
    assert_eq!(tec.ids("SELECT id FROM persona").unwrap().len(), 2);

    db.siso()
        .args([
            "access",
            "revoke",
            "--ambito",
            "AMB-MONZA",
            "--yes",
            &tec.name,
        ])
        .assert()
        .success();
    assert_eq!(audit(&db, "accesso_revocato"), 1);
    assert!(!member_of(&db, &tec, "siso_tecnico"));
    assert!(member_of(&db, &tec, "siso_lettore"));
    refused_read(tec.ids("SELECT id FROM persona"), DENIED);
    assert_eq!(db.scalar("SELECT count(*) FROM accesso_ambito"), 1);
    // Twice: nothing to revoke.
    db.siso()
        .args([
            "access",
            "revoke",
            "--ambito",
            "AMB-MONZA",
            "--yes",
            &tec.name,
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("has no access to AMB-MONZA"));
    // The audit entries name the ambito, never personal data.
    assert_eq!(
        db.scalar(
            "SELECT count(*) FROM audit_log WHERE azione LIKE 'accesso_%' AND ente_codice IS NULL"
        ),
        0
    );
}

#[test]
fn grants_are_refused_for_bad_logins_and_non_ambiti() {
    let Some((db, _s)) = setup() else { return };
    let access = |args: &[&str]| db.siso().arg("access").args(args).assert();
    access(&[
        "grant",
        "--ambito",
        "AMB-MONZA",
        "--role",
        "tecnico",
        "Mario.Rossi",
    ])
    .code(2)
    .stderr(predicate::str::contains("invalid login"));
    access(&[
        "grant",
        "--ambito",
        "AMB-MONZA",
        "--role",
        "tecnico",
        "x\"; DROP ROLE postgres; --",
    ])
    .code(2);
    access(&[
        "grant",
        "--ambito",
        "AMB-MONZA",
        "--role",
        "tecnico",
        "siso_tecnico",
    ])
    .code(2);
    access(&[
        "grant",
        "--ambito",
        "AMB-MONZA",
        "--role",
        "admin",
        "mrossi",
    ])
    .code(2);
    access(&[
        "grant", "--ambito", "108033", "--role", "tecnico", "mrossi_x",
    ])
    .code(1)
    .stderr(predicate::str::contains("not an ambito"));
    access(&[
        "grant",
        "--ambito",
        "AMB-NESSUNO",
        "--role",
        "tecnico",
        "mrossi_x",
    ])
    .code(1)
    .stderr(predicate::str::contains("no ente with code AMB-NESSUNO"));
    // The superuser running the tests: RLS would not restrict it.
    access(&[
        "grant",
        "--ambito",
        "AMB-MONZA",
        "--role",
        "tecnico",
        "postgres",
    ])
    .code(1)
    .stderr(predicate::str::contains("is a superuser"));
    assert_eq!(db.scalar("SELECT count(*) FROM accesso_ambito"), 0);
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_roles WHERE rolname = 'mrossi_x'"),
        0
    );
}

#[test]
fn sqlite_has_no_access_boundaries() {
    let db = TestDb::sqlite();
    db.init();
    for args in [
        vec!["access", "list"],
        vec![
            "access",
            "grant",
            "--ambito",
            "AMB-MONZA",
            "--role",
            "tecnico",
            "mrossi",
        ],
    ] {
        db.siso().args(&args).assert().code(2).stderr(predicate::str::contains(
            "access boundaries need PostgreSQL: SQLite is a single-user file protected by its permissions (0600)",
        ));
    }
}
