//! Benchmark of `siso report usage` (not a test: no timing is asserted).
//!
//! Generates a synthetic territory with fast bulk SQL (a recursive CTE on
//! SQLite, generate_series on PostgreSQL), then times the usage report of
//! the first ambito and the all-ambiti report, queries and rendering.
//!
//!     cargo run --release --example bench_report -- --backend sqlite --cartelle 1000000
//!     cargo run --release --example bench_report -- --backend postgres --cartelle 1000000 --ambiti 100
//!
//! Options: --backend sqlite|postgres; --url URL (default: a file under
//! target/ for SQLite; a fresh database `siso_bench` on
//! postgres://postgres@127.0.0.1:5432 for PostgreSQL, dropped and created);
//! --cartelle N (default 100000; persons = N, interventions = 3N, deliveries
//! = 3N, diary notes = N/2); --ambiti A (default 1) with --comuni K comuni
//! each (default 10, real ISTAT codes with their population); --reuse to
//! time an existing generated database again.
//!
//! Synthetic data only: no real person is in it.

use std::time::Instant;

use siso::report::{Lang, Period, render, usage};
use siso::store::{Backend, Db, migrate, reference};
use sqlx::{AssertSqlSafe, Connection as _};

struct Opts {
    backend: Backend,
    url: Option<String>,
    cartelle: i64,
    ambiti: i64,
    comuni: i64,
    reuse: bool,
}

fn parse() -> Opts {
    let mut o = Opts {
        backend: Backend::Sqlite,
        url: None,
        cartelle: 100_000,
        ambiti: 1,
        comuni: 10,
        reuse: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).cloned().expect("a value after the option");
        match args[i].as_str() {
            "--backend" => {
                o.backend = match value().as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" => Backend::Postgres,
                    other => panic!("--backend sqlite|postgres, not {other}"),
                };
                i += 1;
            }
            "--url" => {
                o.url = Some(value());
                i += 1;
            }
            "--cartelle" => {
                o.cartelle = value().parse().expect("--cartelle N");
                i += 1;
            }
            "--ambiti" => {
                o.ambiti = value().parse().expect("--ambiti N");
                i += 1;
            }
            "--comuni" => {
                o.comuni = value().parse().expect("--comuni N");
                i += 1;
            }
            "--reuse" => o.reuse = true,
            other => {
                panic!("unknown option {other}; see the doc comment of examples/bench_report.rs")
            }
        }
        i += 1;
    }
    o
}

/// The pieces of SQL that differ between the backends.
struct Dialect(Backend);

impl Dialect {
    /// (prefix, from-item) of a series 1..=n named s(x).
    fn series(&self, n: i64) -> (String, String) {
        match self.0 {
            Backend::Sqlite => (
                format!(
                    "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {n}) "
                ),
                "s".into(),
            ),
            Backend::Postgres => (
                String::new(),
                format!("generate_series(1::bigint, {n}::bigint) AS s(x)"),
            ),
        }
    }
    fn add_days(&self, date: &str, days: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("date({date}, '+' || ({days}) || ' days')"),
            Backend::Postgres => format!("({date} + ({days})::int)"),
        }
    }
    fn day(&self, iso: &str) -> String {
        match self.0 {
            Backend::Sqlite => format!("'{iso}'"),
            Backend::Postgres => format!("DATE '{iso}'"),
        }
    }
}

async fn exec(db: &Db, sql: &str) {
    let sql = sql.to_string();
    siso::on_db!(db, pool => {
        sqlx::raw_sql(AssertSqlSafe(sql.clone()))
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{sql}"));
    });
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    let sql = sql.to_string();
    siso::on_db!(db, pool => sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql)).fetch_one(pool).await.unwrap())
}

async fn generate(db: &Db, o: &Opts) {
    let d = Dialect(db.backend());
    let n = o.cartelle;
    let nk = o.ambiti * o.comuni;
    // Ambiti, their comuni (real codes with a population), 50 operators each.
    let comuni: Vec<String> = siso::on_db!(db, pool => sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT istat FROM comune WHERE valido_al IS NULL AND istat IS NOT NULL AND popolazione IS NOT NULL ORDER BY istat LIMIT {nk}"
    ))).fetch_all(pool).await.unwrap());
    assert_eq!(
        comuni.len() as i64,
        nk,
        "not enough comuni in the reference data"
    );
    let mut sql = String::from(
        "CREATE TABLE bench_comune (k BIGINT PRIMARY KEY, istat TEXT NOT NULL, ambito_id BIGINT NOT NULL);\n",
    );
    for a in 0..o.ambiti {
        sql += &format!(
            "INSERT INTO ente (codice, tipo, denominazione, stato, sottoscritto_il) VALUES ('AMB-BENCH-{a:03}', 'ambito', 'Ambito di prova {a:03}', 'aderente', '2020-01-01');\n"
        );
    }
    exec(db, &sql).await;
    let first = scalar(
        db,
        "SELECT min(id) FROM ente WHERE codice LIKE 'AMB-BENCH-%'",
    )
    .await;
    let mut sql = String::new();
    for (k, istat) in comuni.iter().enumerate() {
        let ambito = first + k as i64 / o.comuni;
        sql += &format!(
            "INSERT INTO bench_comune (k, istat, ambito_id) VALUES ({k}, '{istat}', {ambito});\n\
             INSERT INTO appartenenza_ambito (ambito_id, comune_istat, valido_dal) VALUES ({ambito}, '{istat}', '2018-01-01');\n"
        );
    }
    for a in 0..o.ambiti {
        for j in 1..=50 {
            sql += &format!(
                "INSERT INTO operatore (id, titolare_id, cognome, nome, professione) VALUES ({}, {}, 'Operatore', '{j}', 'assistente_sociale');\n",
                a * 50 + j,
                first + a
            );
        }
    }
    let codici = [
        "A1.01", "A1.02", "A1.04", "A1.05", "A1.06", "A1.07", "A1.11", "A1.12", "A1.14", "A1.16",
        "A2.01", "A2.02", "A2.07", "A2.08", "A2.10", "A2.11", "A2.12", "A3.01", "A3.02", "A3.03",
    ];
    sql += "CREATE TABLE bench_codice (k BIGINT PRIMARY KEY, codice TEXT NOT NULL);\n";
    for (k, c) in codici.iter().enumerate() {
        sql += &format!("INSERT INTO bench_codice (k, codice) VALUES ({k}, '{c}');\n");
    }
    exec(db, &format!("BEGIN;\n{sql}COMMIT;")).await;

    let base = d.day("2018-01-01");
    let step = |what: &str, sql: String| {
        let what = what.to_string();
        async move {
            let t = Instant::now();
            exec(db, &sql).await;
            eprintln!("  generated {what} in {:.1} s", t.elapsed().as_secs_f64());
        }
    };
    let (w, s) = d.series(n);
    step(
        "persone",
        format!(
            "{w}INSERT INTO persona (id, titolare_id, codice_fiscale, id_temporaneo, cognome, nome) \
             SELECT x, b.ambito_id, NULL, 'T' || x, 'Cognome', 'Nome' FROM {s} JOIN bench_comune b ON b.k = x % {nk}"
        ),
    )
    .await;
    let aperta = d.add_days(&base, "(x * 7919) % 2900");
    let chiusa = d.add_days(&aperta, "x % 700");
    step(
        "cartelle",
        format!(
            "{w}INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, operatore_id, categoria_siso, aperta_il, chiusa_il, stato) \
             SELECT x, b.ambito_id, x, 'N' || x, b.istat, \
               CASE WHEN x % 37 = 0 THEN NULL ELSE (b.k / {k}) * 50 + x % 50 + 1 END, \
               CASE WHEN x % 20 = 0 THEN NULL ELSE CAST(x % 4 + 1 AS TEXT) END, \
               {aperta}, CASE WHEN x % 3 = 0 THEN {chiusa} END, CASE WHEN x % 3 = 0 THEN 'chiusa' ELSE 'aperta' END \
             FROM {s} JOIN bench_comune b ON b.k = x % {nk}",
            k = o.comuni
        ),
    )
    .await;
    let (w3, s3) = d.series(3 * n);
    step(
        "interventi",
        format!(
            "{w3}INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, inizio, periodicita) \
             SELECT x, c.titolare_id, c.id, CASE WHEN x % 101 = 0 THEN NULL ELSE bc.codice END, {inizio}, 'periodica' \
             FROM {s3} JOIN cartella c ON c.id = (x + 2) / 3 JOIN bench_codice bc ON bc.k = (x * 7) % 20",
            inizio = d.add_days("c.aperta_il", "x % 200")
        ),
    )
    .await;
    step(
        "erogazioni",
        format!(
            "{w3}INSERT INTO erogazione (id, titolare_id, intervento_id, data, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent) \
             SELECT x, i.titolare_id, i.id, {data}, (x % 500) * 100, (x % 5) * 100, 0, (x % 500) * 100 - (x % 5) * 100 \
             FROM {s3} JOIN intervento i ON i.id = x",
            data = d.add_days("i.inizio", "x % 60")
        ),
    )
    .await;
    let (wh, sh) = d.series(n / 2);
    step(
        "diario",
        format!(
            "{wh}INSERT INTO diario (id, titolare_id, cartella_id, data, tipo, testo, operatore_id) \
             SELECT x, c.titolare_id, c.id, {data}, 'nota', '-', c.operatore_id FROM {sh} JOIN cartella c ON c.id = 2 * x",
            data = d.add_days("c.aperta_il", "x % 90")
        ),
    )
    .await;
    exec(db, "DROP TABLE bench_comune; DROP TABLE bench_codice;").await;
    let t = Instant::now();
    // PostgreSQL needs VACUUM for index-only scans (the visibility map).
    exec(
        db,
        if db.backend() == Backend::Postgres {
            "VACUUM ANALYZE"
        } else {
            "ANALYZE"
        },
    )
    .await;
    eprintln!("  ANALYZE in {:.1} s", t.elapsed().as_secs_f64());
    // Written by SQL, not by siso's import: the usage statistics by hand.
    let t = Instant::now();
    siso::report::statistica::refresh_all(db).await.unwrap();
    eprintln!(
        "  usage statistics refreshed in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

async fn time_report(db: &Db, ambito: Option<String>, what: &str) {
    let opts = usage::UsageOptions {
        period: Period::year(2024).unwrap(),
        ambito,
        top: 10,
        lang: Lang::It,
        min_cell: siso::report::MIN_CELL,
        today: siso::now_utc().date(),
    };
    // One warm-up run (caches), then the timed runs.
    let _ = usage::usage(db, &opts).await.unwrap();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut r = usage::usage(db, &opts).await.unwrap();
        let q = t.elapsed().as_secs_f64();
        r.apply_suppression();
        let text = render::text::render(&r);
        let html = render::html::render(&r);
        let total = t.elapsed().as_secs_f64();
        best = best.min(total);
        eprintln!(
            "  {what}: queries {q:.3} s, with suppression and text+html rendering {total:.3} s ({} + {} bytes)",
            text.len(),
            html.len()
        );
    }
    println!("{what}: best {best:.3} s");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let o = parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let url = match (&o.url, o.backend) {
        (Some(u), _) => u.clone(),
        (None, Backend::Sqlite) => {
            let path =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-report.db");
            if !o.reuse {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
                }
            }
            format!("sqlite:{}", path.display())
        }
        (None, Backend::Postgres) => {
            let admin = "postgres://postgres@127.0.0.1:5432/postgres";
            if !o.reuse {
                let mut c = sqlx::PgConnection::connect(admin)
                    .await
                    .expect("PostgreSQL at 127.0.0.1:5432");
                // Two statements: together they would run in one implicit transaction.
                for sql in [
                    "DROP DATABASE IF EXISTS siso_bench WITH (FORCE)",
                    "CREATE DATABASE siso_bench",
                ] {
                    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
                }
            }
            "postgres://postgres@127.0.0.1:5432/siso_bench".to_string()
        }
    };
    let (db, _) = Db::connect(&url).await.unwrap();
    if !o.reuse {
        migrate::run(&db, false).await.unwrap();
        reference::load_all(&db).await.unwrap();
        eprintln!(
            "generating {} cartelle, {} interventi, {} erogazioni over {} ambiti of {} comuni ({})",
            o.cartelle,
            3 * o.cartelle,
            3 * o.cartelle,
            o.ambiti,
            o.comuni,
            db.backend().name()
        );
        let t = Instant::now();
        generate(&db, &o).await;
        eprintln!("generated in {:.1} s", t.elapsed().as_secs_f64());
    }
    let first: String = siso::on_db!(&db, pool => sqlx::query_scalar(
        "SELECT codice FROM ente WHERE codice LIKE 'AMB-BENCH-%' ORDER BY codice LIMIT 1"
    ).fetch_one(pool).await.unwrap());
    let cartelle = scalar(&db, "SELECT count(*) FROM cartella").await;
    let interventi = scalar(&db, "SELECT count(*) FROM intervento").await;
    println!(
        "{}: {cartelle} cartelle, {interventi} interventi, {} ambiti",
        db.backend().name(),
        scalar(
            &db,
            "SELECT count(*) FROM ente WHERE codice LIKE 'AMB-BENCH-%'"
        )
        .await
    );
    time_report(
        &db,
        Some(first.clone()),
        &format!("usage --ambito {first} --year 2024"),
    )
    .await;
    time_report(&db, None, "usage --all-ambiti --year 2024").await;
    db.close().await;
}
