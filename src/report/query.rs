//! The queries of the reports, written once for both backends.
//!
//! Which comune a cartella counts for: `cartella.comune_istat`, the comune
//! whose services hold the case (reports are by territory, not by titolare).
//! Which ambito: the one the comune belonged to (appartenenza_ambito, both
//! ends inclusive) ON THE DATE OF THE EVENT counted: the opening date for an
//! opening, the closing date for a closing, the first and last day of the
//! period for the cases open at its start and at its end, the start of an
//! intervention, the date of a delivery, the date of a diary note. So a
//! comune that leaves an ambito mid-period counts for it for the days it
//! belonged. Every row is grouped by (ambito ente id, comune ISTAT code);
//! the report sums them by comune or by ambito.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use time::Date;

use super::period::Period;
use crate::error::{DbContext as _, Result};
use crate::on_db;
use crate::store::Db;

/// The SQL condition "the membership row `m` is valid on `day`".
fn member(day: &str) -> String {
    format!("(m.valido_dal <= {day} AND (m.valido_al IS NULL OR m.valido_al >= {day}))")
}

/// Restricts `m` to one ambito (an id read from the database, not user text).
fn scope_sql(scope: Option<i64>) -> String {
    scope.map_or(String::new(), |id| format!(" AND m.ambito_id = {id}"))
}

/// The membership row overlaps the period ($1..$2).
const MEMBER_IN_PERIOD: &str = "m.valido_dal <= $2 AND (m.valido_al IS NULL OR m.valido_al >= $1)";

/// First day of the period on which a case open in the period was open.
const FIRST_OPEN_DAY: &str = "(CASE WHEN c.aperta_il > $1 THEN c.aperta_il ELSE $1 END)";

fn parse_day(text: &str) -> Option<Date> {
    let day = text.get(..10)?;
    Date::parse(
        day,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

#[derive(Debug, Clone)]
pub struct AmbitoRow {
    pub id: i64,
    pub codice: String,
    pub denominazione: String,
}

/// The ambiti (one by code, or all).
pub async fn ambiti(db: &Db, codice: Option<&str>) -> Result<Vec<AmbitoRow>> {
    let rows: Vec<(i64, String, String)> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, codice, denominazione FROM ente WHERE tipo = 'ambito' \
             AND ($1 = '' OR codice = $1) ORDER BY denominazione, codice",
        )
        .bind(codice.unwrap_or(""))
        .fetch_all(pool)
        .await
        .db("cannot read the ambiti")?
    });
    Ok(rows
        .into_iter()
        .map(|(id, codice, denominazione)| AmbitoRow {
            id,
            codice,
            denominazione,
        })
        .collect())
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub ambito_id: i64,
    pub comune: String,
    pub dal: Date,
    pub al: Option<Date>,
}

impl Membership {
    pub fn valid_on(&self, day: Date) -> bool {
        self.dal <= day && self.al.is_none_or(|al| al >= day)
    }
}

/// Memberships that overlap the period.
pub async fn memberships(db: &Db, period: &Period, scope: Option<i64>) -> Result<Vec<Membership>> {
    let sql = format!(
        "SELECT m.ambito_id, m.comune_istat, CAST(m.valido_dal AS TEXT), CAST(m.valido_al AS TEXT) \
         FROM appartenenza_ambito m WHERE {MEMBER_IN_PERIOD}{} ORDER BY m.ambito_id, m.comune_istat, m.valido_dal",
        scope_sql(scope)
    );
    let rows: Vec<(i64, String, String, Option<String>)> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(period.start)
            .bind(period.end)
            .fetch_all(pool)
            .await
            .db("cannot read the ambito memberships")?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(ambito_id, comune, dal, al)| {
            Some(Membership {
                ambito_id,
                comune,
                dal: parse_day(&dal)?,
                al: al.as_deref().and_then(parse_day),
            })
        })
        .collect())
}

#[derive(Debug, Clone, Default)]
pub struct ComuneInfo {
    pub nome: String,
    pub popolazione: Option<i64>,
}

/// Names and populations of the given comuni by ISTAT code (the current row of each).
pub async fn comuni(db: &Db, codes: &[String]) -> Result<HashMap<String, ComuneInfo>> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT istat, nome, popolazione FROM comune WHERE istat IN ({}) \
         ORDER BY CASE WHEN valido_al IS NULL THEN 1 ELSE 0 END, valido_dal",
        sql_list(codes)
    );
    let rows: Vec<(String, String, Option<i64>)> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .db("cannot read the comuni")?
    });
    // Later rows (current ones last) win.
    Ok(rows
        .into_iter()
        .map(|(istat, nome, popolazione)| (istat, ComuneInfo { nome, popolazione }))
        .collect())
}

/// Cases per (ambito, comune): open at the start, opened, closed, open at the end.
pub async fn flows(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, [i64; 4])>> {
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, \
           SUM(CASE WHEN c.aperta_il < $1 AND {at_start} THEN 1 ELSE 0 END), \
           SUM(CASE WHEN c.aperta_il >= $1 AND {at_open} THEN 1 ELSE 0 END), \
           SUM(CASE WHEN c.chiusa_il >= $1 AND c.chiusa_il <= $2 AND {at_close} THEN 1 ELSE 0 END), \
           SUM(CASE WHEN (c.chiusa_il IS NULL OR c.chiusa_il > $2) AND {at_end} THEN 1 ELSE 0 END) \
         FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.aperta_il <= $2 AND (c.chiusa_il IS NULL OR c.chiusa_il >= $1) AND {MEMBER_IN_PERIOD} \
         GROUP BY m.ambito_id, c.comune_istat",
        at_start = member("$1"),
        at_open = member("c.aperta_il"),
        at_close = member("c.chiusa_il"),
        at_end = member("$2"),
        scope = scope_sql(scope),
    );
    let rows: Vec<(i64, String, i64, i64, i64, i64)> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the cartelle")?
    });
    Ok(rows
        .into_iter()
        .map(|(a, c, s, o, cl, e)| (a, c, [s, o, cl, e]))
        .collect())
}

/// Distinct persons in charge (a case open on some day of the period) per
/// (ambito, comune, SISO category; '' when not given).
pub async fn persone(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, String, i64)>> {
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, COALESCE(c.categoria_siso, ''), COUNT(DISTINCT c.persona_id) \
         FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.aperta_il <= $2 AND (c.chiusa_il IS NULL OR c.chiusa_il >= $1) AND {at} \
         GROUP BY m.ambito_id, c.comune_istat, COALESCE(c.categoria_siso, '')",
        at = member(FIRST_OPEN_DAY),
        scope = scope_sql(scope),
    );
    on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the persons in charge")
    })
}

#[derive(Debug, Clone)]
pub struct InterventiRow {
    pub ambito_id: i64,
    pub comune: String,
    pub codice: Option<String>,
    pub gruppo: Option<String>,
    pub avviati: i64,
}

/// Interventions started in the period per (ambito, comune, prestazione).
pub async fn interventi(db: &Db, p: &Period, scope: Option<i64>) -> Result<Vec<InterventiRow>> {
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, i.prestazione_codice, pr.gruppo, COUNT(*) \
         FROM intervento i JOIN cartella c ON c.id = i.cartella_id \
         JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         LEFT JOIN prestazione pr ON pr.codice = i.prestazione_codice \
         WHERE i.inizio >= $1 AND i.inizio <= $2 AND {at} \
         GROUP BY m.ambito_id, c.comune_istat, i.prestazione_codice, pr.gruppo",
        at = member("i.inizio"),
        scope = scope_sql(scope),
    );
    type Raw = (i64, String, Option<String>, Option<String>, i64);
    let rows: Vec<Raw> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the interventions")?
    });
    Ok(rows
        .into_iter()
        .map(
            |(ambito_id, comune, codice, gruppo, avviati)| InterventiRow {
                ambito_id,
                comune,
                codice,
                gruppo,
                avviati,
            },
        )
        .collect())
}

#[derive(Debug, Clone)]
pub struct ErogazioniRow {
    pub ambito_id: i64,
    pub comune: String,
    pub codice: Option<String>,
    pub gruppo: Option<String>,
    /// YYYY-MM
    pub mese: String,
    pub erogazioni: i64,
    /// importo, quota utente, quota SSN, quota ente (cents).
    pub importi: [i64; 4],
}

/// Deliveries dated in the period per (ambito, comune, prestazione, month).
pub async fn erogazioni(db: &Db, p: &Period, scope: Option<i64>) -> Result<Vec<ErogazioniRow>> {
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, i.prestazione_codice, pr.gruppo, substr(CAST(e.data AS TEXT), 1, 7), \
           COUNT(*), CAST(SUM(e.importo_cent) AS BIGINT), CAST(SUM(e.quota_utente_cent) AS BIGINT), \
           CAST(SUM(e.quota_ssn_cent) AS BIGINT), CAST(SUM(e.quota_ente_cent) AS BIGINT) \
         FROM erogazione e JOIN intervento i ON i.id = e.intervento_id JOIN cartella c ON c.id = i.cartella_id \
         JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         LEFT JOIN prestazione pr ON pr.codice = i.prestazione_codice \
         WHERE e.data >= $1 AND e.data <= $2 AND {at} \
         GROUP BY m.ambito_id, c.comune_istat, i.prestazione_codice, pr.gruppo, substr(CAST(e.data AS TEXT), 1, 7)",
        at = member("e.data"),
        scope = scope_sql(scope),
    );
    type Raw = (
        i64,
        String,
        Option<String>,
        Option<String>,
        String,
        i64,
        i64,
        i64,
        i64,
        i64,
    );
    let rows: Vec<Raw> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot sum the deliveries")?
    });
    Ok(rows
        .into_iter()
        .map(
            |(ambito_id, comune, codice, gruppo, mese, erogazioni, a, u, s, e)| ErogazioniRow {
                ambito_id,
                comune,
                codice,
                gruppo,
                mese,
                erogazioni,
                importi: [a, u, s, e],
            },
        )
        .collect())
}

/// Operators active in the period, as distinct (ambito, comune, operatore):
/// responsible for a case opened or closed in the period, or author of a
/// diary note dated in it.
pub async fn operatori(db: &Db, p: &Period, scope: Option<i64>) -> Result<Vec<(i64, String, i64)>> {
    let scope = scope_sql(scope);
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, c.operatore_id \
         FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.operatore_id IS NOT NULL AND c.aperta_il >= $1 AND c.aperta_il <= $2 AND {at_open} \
         UNION \
         SELECT m.ambito_id, c.comune_istat, c.operatore_id \
         FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.operatore_id IS NOT NULL AND c.chiusa_il >= $1 AND c.chiusa_il <= $2 AND {at_close} \
         UNION \
         SELECT m.ambito_id, c.comune_istat, d.operatore_id \
         FROM diario d JOIN cartella c ON c.id = d.cartella_id \
         JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE d.operatore_id IS NOT NULL AND d.data >= $1 AND d.data <= $2 AND {at_note}",
        at_open = member("c.aperta_il"),
        at_close = member("c.chiusa_il"),
        at_note = member("d.data"),
    );
    on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot find the active operators")
    })
}

/// Openings and closings per (ambito, month).
pub async fn mesi_cartelle(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, i64, i64)>> {
    let scope = scope_sql(scope);
    let sql = format!(
        "SELECT ambito_id, mese, CAST(SUM(aperte) AS BIGINT), CAST(SUM(chiuse) AS BIGINT) FROM ( \
           SELECT m.ambito_id AS ambito_id, substr(CAST(c.aperta_il AS TEXT), 1, 7) AS mese, 1 AS aperte, 0 AS chiuse \
           FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
           WHERE c.aperta_il >= $1 AND c.aperta_il <= $2 AND {at_open} \
           UNION ALL \
           SELECT m.ambito_id, substr(CAST(c.chiusa_il AS TEXT), 1, 7), 0, 1 \
           FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
           WHERE c.chiusa_il >= $1 AND c.chiusa_il <= $2 AND {at_close} \
         ) x GROUP BY ambito_id, mese",
        at_open = member("c.aperta_il"),
        at_close = member("c.chiusa_il"),
    );
    on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the cartelle by month")
    })
}

/// Data quality per (ambito, comune) over the cases open on some day of the
/// period: without a responsible operator; open at the end of the period,
/// opened more than 3 years before it and with no event in its last year
/// (state change, intervention start, delivery, diary note).
///
/// Two queries: the NOT EXISTS tests stand in a WHERE clause, where
/// PostgreSQL turns them into anti-joins (inside a CASE they ran once per
/// case, ten times slower).
pub async fn qualita(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, i64, i64)>> {
    let three_years = super::period::years_before(p.end, 3);
    let one_year = super::period::years_before(p.end, 1);
    let scope = scope_sql(scope);
    let at = member(FIRST_OPEN_DAY);
    let senza_operatore = format!(
        "SELECT m.ambito_id, c.comune_istat, COUNT(*) \
         FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.operatore_id IS NULL AND c.aperta_il <= $2 AND (c.chiusa_il IS NULL OR c.chiusa_il >= $1) AND {at} \
         GROUP BY m.ambito_id, c.comune_istat"
    );
    let dormienti = format!(
        "SELECT m.ambito_id, c.comune_istat, COUNT(*) \
         FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.aperta_il <= $3 AND (c.chiusa_il IS NULL OR c.chiusa_il > $2) AND {at} \
           AND NOT EXISTS (SELECT 1 FROM cartella_stato s WHERE s.cartella_id = c.id AND s.dal > $4 AND s.dal <= $2) \
           AND NOT EXISTS (SELECT 1 FROM intervento i WHERE i.cartella_id = c.id AND i.inizio > $4 AND i.inizio <= $2) \
           AND NOT EXISTS (SELECT 1 FROM intervento i JOIN erogazione e ON e.intervento_id = i.id \
                           WHERE i.cartella_id = c.id AND e.data > $4 AND e.data <= $2) \
           AND NOT EXISTS (SELECT 1 FROM diario d WHERE d.cartella_id = c.id AND d.data > $4 AND d.data <= $2) \
         GROUP BY m.ambito_id, c.comune_istat"
    );
    type Counts = Vec<(i64, String, i64)>;
    let (senza, dormienti): (Counts, Counts) = on_db!(db, pool => {
        let senza = sqlx::query_as(AssertSqlSafe(senza_operatore))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the cartelle without an operator")?;
        let dormienti = sqlx::query_as(AssertSqlSafe(dormienti))
            .bind(p.start)
            .bind(p.end)
            .bind(three_years)
            .bind(one_year)
            .fetch_all(pool)
            .await
            .db("cannot count the cartelle without recent activity")?;
        (senza, dormienti)
    });
    let mut out: HashMap<(i64, String), (i64, i64)> = HashMap::new();
    for (a, c, n) in senza {
        out.entry((a, c)).or_default().0 += n;
    }
    for (a, c, n) in dormienti {
        out.entry((a, c)).or_default().1 += n;
    }
    Ok(out
        .into_iter()
        .map(|((a, c), (s, d))| (a, c, s, d))
        .collect())
}

/// Distinct persons in charge in the period per (ambito, comune) whose
/// codice fiscale is missing or not valid (checked in Rust, check character
/// included; only the count leaves this function).
pub async fn persone_senza_cf(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, i64)>> {
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, pe.id, pe.codice_fiscale \
         FROM cartella c JOIN persona pe ON pe.id = c.persona_id \
         JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.aperta_il <= $2 AND (c.chiusa_il IS NULL OR c.chiusa_il >= $1) AND {at}",
        at = member(FIRST_OPEN_DAY),
        scope = scope_sql(scope),
    );
    let rows: Vec<(i64, String, i64, Option<String>)> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot read the codici fiscali to check")?
    });
    // Distinct persons per (ambito, comune) here rather than with SQL
    // DISTINCT: a sort of a million rows costs SQLite more than this set.
    let mut seen: std::collections::HashSet<(i64, String, i64)> = std::collections::HashSet::new();
    let mut counts: HashMap<(i64, String), i64> = HashMap::new();
    for (ambito, comune, persona, cf) in rows {
        if !seen.insert((ambito, comune.clone(), persona)) {
            continue;
        }
        let n = counts.entry((ambito, comune)).or_default();
        if cf.is_none_or(|cf| crate::codes::cf::parse(&cf, p.end).is_err()) {
            *n += 1;
        }
    }
    Ok(counts.into_iter().map(|((a, c), n)| (a, c, n)).collect())
}

/// Every dated event of the cartelle of a comune, up to `as_of`, for the
/// monitoring report; see [`super::monitoring`].
const EVENTS: &str = "SELECT c.comune_istat AS comune, c.aperta_il AS giorno FROM cartella c WHERE c.aperta_il <= $1 \
     UNION ALL SELECT c.comune_istat, c.chiusa_il FROM cartella c WHERE c.chiusa_il <= $1 \
     UNION ALL SELECT c.comune_istat, s.dal FROM cartella_stato s JOIN cartella c ON c.id = s.cartella_id WHERE s.dal <= $1 \
     UNION ALL SELECT c.comune_istat, i.inizio FROM intervento i JOIN cartella c ON c.id = i.cartella_id WHERE i.inizio <= $1 \
     UNION ALL SELECT c.comune_istat, e.data FROM erogazione e JOIN intervento i ON i.id = e.intervento_id \
       JOIN cartella c ON c.id = i.cartella_id WHERE e.data <= $1 \
     UNION ALL SELECT c.comune_istat, d.data FROM diario d JOIN cartella c ON c.id = d.cartella_id WHERE d.data <= $1";

#[derive(Debug, Clone)]
pub struct Attivita {
    pub ultima: Option<Date>,
    pub ultimi_30: i64,
    pub ultimi_90: i64,
}

/// Per comune: last event, events in the last 30 and 90 days (as_of included).
pub async fn attivita(
    db: &Db,
    as_of: Date,
    comuni: &[String],
) -> Result<HashMap<String, Attivita>> {
    if comuni.is_empty() {
        return Ok(HashMap::new());
    }
    let list = sql_list(comuni);
    let sql = format!(
        "SELECT comune, CAST(MAX(giorno) AS TEXT), \
           SUM(CASE WHEN giorno > $2 THEN 1 ELSE 0 END), SUM(CASE WHEN giorno > $3 THEN 1 ELSE 0 END) \
         FROM ({EVENTS}) ev WHERE comune IN ({list}) GROUP BY comune"
    );
    let rows: Vec<(String, Option<String>, i64, i64)> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(as_of)
            .bind(as_of - time::Duration::days(30))
            .bind(as_of - time::Duration::days(90))
            .fetch_all(pool)
            .await
            .db("cannot read the activity of the comuni")?
    });
    Ok(rows
        .into_iter()
        .map(|(comune, ultima, u30, u90)| {
            (
                comune,
                Attivita {
                    ultima: ultima.as_deref().and_then(parse_day),
                    ultimi_30: u30,
                    ultimi_90: u90,
                },
            )
        })
        .collect())
}

/// Events per (comune, month) from `since` to `as_of`.
pub async fn attivita_mensile(
    db: &Db,
    since: Date,
    as_of: Date,
    comuni: &[String],
) -> Result<Vec<(String, String, i64)>> {
    if comuni.is_empty() {
        return Ok(Vec::new());
    }
    let list = sql_list(comuni);
    let sql = format!(
        "SELECT comune, substr(CAST(giorno AS TEXT), 1, 7), COUNT(*) FROM ({EVENTS}) ev \
         WHERE comune IN ({list}) AND giorno >= $2 GROUP BY comune, substr(CAST(giorno AS TEXT), 1, 7)"
    );
    on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(as_of)
            .bind(since)
            .fetch_all(pool)
            .await
            .db("cannot read the monthly activity")
    })
}

#[derive(Debug, Clone)]
pub struct ImportRow {
    pub ente_id: i64,
    pub giorno: Date,
    pub stato: String,
}

/// Import batches of the given entes (few rows: filtered by date in Rust).
pub async fn imports(db: &Db) -> Result<Vec<ImportRow>> {
    let rows: Vec<(i64, String, String)> = on_db!(db, pool => {
        sqlx::query_as("SELECT ente_id, substr(CAST(avviato_il AS TEXT), 1, 10), stato FROM import_batch")
            .fetch_all(pool)
            .await
            .db("cannot read the import batches")?
    });
    Ok(rows
        .into_iter()
        .filter_map(|(ente_id, giorno, stato)| {
            Some(ImportRow {
                ente_id,
                giorno: parse_day(&giorno)?,
                stato,
            })
        })
        .collect())
}

/// Entes that are comuni, by ISTAT code: (id, istat, denominazione).
pub async fn enti_comune(db: &Db) -> Result<Vec<(i64, String, String)>> {
    on_db!(db, pool => {
        sqlx::query_as("SELECT id, istat, denominazione FROM ente WHERE tipo = 'comune' AND istat IS NOT NULL")
            .fetch_all(pool)
            .await
            .db("cannot read the comuni entes")
    })
}

/// `'a', 'b'` for codes that are checked to be digits (ISTAT codes).
fn sql_list(codes: &[String]) -> String {
    codes
        .iter()
        .filter(|c| c.chars().all(|ch| ch.is_ascii_digit()))
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Descriptions and groups of the prestazione codes.
pub async fn prestazioni(db: &Db) -> Result<HashMap<String, (String, String)>> {
    let rows: Vec<(String, String, String)> = on_db!(db, pool => {
        sqlx::query_as("SELECT codice, descrizione, gruppo FROM prestazione")
            .fetch_all(pool)
            .await
            .db("cannot read the prestazione codes")?
    });
    Ok(rows.into_iter().map(|(c, d, g)| (c, (d, g))).collect())
}
