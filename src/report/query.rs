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
//! belonged. A person is in charge in every ambito the comune belonged to
//! on some day the case was open in the period. Every row is grouped by (ambito ente id, comune ISTAT code);
//! the report sums them by comune or by ambito.
//!
//! The `*_aggregati` functions read the daily aggregates of
//! [`super::statistica`] instead of the case rows, with the same membership
//! rule, and return the same figures (tests/reports.rs compares them with
//! the direct queries here, which stay as the independent path).

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

/// The membership row `m` covers a day on which the case `c` was open in
/// the period: its person was in charge in that ambito then.
fn member_while_open() -> String {
    format!(
        "(m.valido_dal <= (CASE WHEN c.chiusa_il IS NOT NULL AND c.chiusa_il < $2 THEN c.chiusa_il ELSE $2 END) \
          AND (m.valido_al IS NULL OR m.valido_al >= {FIRST_OPEN_DAY}))"
    )
}

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

/// [`flows`] read from the daily aggregates ([`super::statistica`]), with a
/// fifth figure: the cases without a responsible operator open on some day
/// of the period (the first figure of [`senza_operatore`]).
///
/// Stocks are running sums: open on day D = opened before D - closed before
/// D - left the records before D (purged while open). A case counts for
/// the ambito of its comune on the day of the event, as in [`flows`].
pub async fn flows_aggregati(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, [i64; 5])>> {
    let sql = format!(
        "SELECT m.ambito_id, s.comune_istat, \
           CAST(SUM(CASE WHEN s.giorno < $1 AND {at_start} THEN s.aperte - s.chiuse - s.uscite ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN s.giorno >= $1 AND {at_day} THEN s.aperte ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN s.giorno >= $1 AND {at_day} THEN s.chiuse ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN {at_end} THEN s.aperte - s.chiuse - s.uscite ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN s.giorno < $1 AND {at_start} \
                           THEN s.aperte_senza_operatore - s.chiuse_senza_operatore - s.uscite_senza_operatore \
                         WHEN s.giorno >= $1 AND {at_day} THEN s.aperte_senza_operatore ELSE 0 END) AS BIGINT) \
         FROM statistica_cartelle s JOIN appartenenza_ambito m ON m.comune_istat = s.comune_istat{scope} \
         WHERE s.giorno <= $2 AND {MEMBER_IN_PERIOD} \
         GROUP BY m.ambito_id, s.comune_istat",
        at_start = member("$1"),
        at_day = member("s.giorno"),
        at_end = member("$2"),
        scope = scope_sql(scope),
    );
    let rows: Vec<(i64, String, i64, i64, i64, i64, i64)> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the cartelle")?
    });
    Ok(rows
        .into_iter()
        .map(|(a, c, s, o, cl, e, so)| (a, c, [s, o, cl, e, so]))
        .collect())
}

/// [`mesi_cartelle`] read from the daily aggregates.
pub async fn mesi_cartelle_aggregati(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, i64, i64)>> {
    let sql = format!(
        "SELECT m.ambito_id, substr(CAST(s.giorno AS TEXT), 1, 7), CAST(SUM(s.aperte) AS BIGINT), CAST(SUM(s.chiuse) AS BIGINT) \
         FROM statistica_cartelle s JOIN appartenenza_ambito m ON m.comune_istat = s.comune_istat{scope} \
         WHERE s.giorno >= $1 AND s.giorno <= $2 AND {at} \
         GROUP BY m.ambito_id, substr(CAST(s.giorno AS TEXT), 1, 7)",
        at = member("s.giorno"),
        scope = scope_sql(scope),
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

/// Distinct persons in charge (a case open on some day of the period) per
/// (ambito, comune, SISO category; '' when not given).
pub async fn persone(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, String, i64)>> {
    persone_in(db, p, scope, None).await
}

/// [`persone`], of the given comuni only when `comuni` is given.
async fn persone_in(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
    comuni: Option<&[String]>,
) -> Result<Vec<(i64, String, String, i64)>> {
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, COALESCE(c.categoria_siso, ''), COUNT(DISTINCT c.persona_id) \
         FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.aperta_il <= $2 AND (c.chiusa_il IS NULL OR c.chiusa_il >= $1) AND {at}{only} \
         GROUP BY m.ambito_id, c.comune_istat, COALESCE(c.categoria_siso, '')",
        at = member_while_open(),
        scope = scope_sql(scope),
        only = only_comuni(comuni),
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

/// [`interventi`] read from the daily aggregates.
pub async fn interventi_aggregati(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<InterventiRow>> {
    let sql = format!(
        "SELECT m.ambito_id, s.comune_istat, NULLIF(s.prestazione_codice, ''), pr.gruppo, CAST(SUM(s.interventi) AS BIGINT) \
         FROM statistica_prestazioni s JOIN appartenenza_ambito m ON m.comune_istat = s.comune_istat{scope} \
         LEFT JOIN prestazione pr ON pr.codice = s.prestazione_codice \
         WHERE s.giorno >= $1 AND s.giorno <= $2 AND s.interventi > 0 AND {at} \
         GROUP BY m.ambito_id, s.comune_istat, s.prestazione_codice, pr.gruppo",
        at = member("s.giorno"),
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

/// [`erogazioni`] read from the daily aggregates.
pub async fn erogazioni_aggregati(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<ErogazioniRow>> {
    let sql = format!(
        "SELECT m.ambito_id, s.comune_istat, NULLIF(s.prestazione_codice, ''), pr.gruppo, substr(CAST(s.giorno AS TEXT), 1, 7), \
           CAST(SUM(s.erogazioni) AS BIGINT), CAST(SUM(s.importo_cent) AS BIGINT), CAST(SUM(s.quota_utente_cent) AS BIGINT), \
           CAST(SUM(s.quota_ssn_cent) AS BIGINT), CAST(SUM(s.quota_ente_cent) AS BIGINT) \
         FROM statistica_prestazioni s JOIN appartenenza_ambito m ON m.comune_istat = s.comune_istat{scope} \
         LEFT JOIN prestazione pr ON pr.codice = s.prestazione_codice \
         WHERE s.giorno >= $1 AND s.giorno <= $2 AND s.erogazioni > 0 AND {at} \
         GROUP BY m.ambito_id, s.comune_istat, s.prestazione_codice, pr.gruppo, substr(CAST(s.giorno AS TEXT), 1, 7)",
        at = member("s.giorno"),
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
/// diary note dated in it. The notes are read by date first (CROSS JOIN
/// fixes that order on SQLite, which otherwise walked every case of the
/// comune looking for notes; PostgreSQL plans it the same either way).
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
         FROM diario d CROSS JOIN cartella c \
         JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.id = d.cartella_id AND d.operatore_id IS NOT NULL AND d.data >= $1 AND d.data <= $2 AND {at_note}",
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

/// Cases without a responsible operator per (ambito, comune), over the cases
/// open on some day of the period (direct query; the report reads the fifth
/// figure of [`flows_aggregati`]).
pub async fn senza_operatore(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, i64)>> {
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, COUNT(*) \
         FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.operatore_id IS NULL AND c.aperta_il <= $2 AND (c.chiusa_il IS NULL OR c.chiusa_il >= $1) AND {at} \
         GROUP BY m.ambito_id, c.comune_istat",
        at = member(FIRST_OPEN_DAY),
        scope = scope_sql(scope),
    );
    on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the cartelle without an operator")
    })
}

/// Dormant cases per (ambito, comune) among those open on some day of the
/// period: open at its end, opened more than 3 years before it and with no
/// event in its last year (state change, intervention start, delivery,
/// diary note).
///
/// The NOT EXISTS tests stand in a WHERE clause, where PostgreSQL turns them
/// into anti-joins (inside a CASE they ran once per case, ten times slower).
pub async fn dormienti(db: &Db, p: &Period, scope: Option<i64>) -> Result<Vec<(i64, String, i64)>> {
    let three_years = super::period::years_before(p.end, 3);
    let one_year = super::period::years_before(p.end, 1);
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, COUNT(*) \
         FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.aperta_il <= $3 AND (c.chiusa_il IS NULL OR c.chiusa_il > $2) AND {at} \
           AND NOT EXISTS (SELECT 1 FROM cartella_stato s WHERE s.cartella_id = c.id AND s.dal > $4 AND s.dal <= $2) \
           AND NOT EXISTS (SELECT 1 FROM intervento i WHERE i.cartella_id = c.id AND i.inizio > $4 AND i.inizio <= $2) \
           AND NOT EXISTS (SELECT 1 FROM intervento i JOIN erogazione e ON e.intervento_id = i.id \
                           WHERE i.cartella_id = c.id AND e.data > $4 AND e.data <= $2) \
           AND NOT EXISTS (SELECT 1 FROM diario d WHERE d.cartella_id = c.id AND d.data > $4 AND d.data <= $2) \
         GROUP BY m.ambito_id, c.comune_istat",
        at = member(FIRST_OPEN_DAY),
        scope = scope_sql(scope),
    );
    on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .bind(three_years)
            .bind(one_year)
            .fetch_all(pool)
            .await
            .db("cannot count the cartelle without recent activity")
    })
}

/// [`dormienti`] from the daily aggregates: the dormant cases on the last
/// day of the period, by membership on its first day. Cases opened inside
/// the period count by membership on their opening day instead: only
/// possible in periods longer than 3 years, corrected by a direct query.
pub async fn dormienti_aggregati(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, i64)>> {
    let three_years = super::period::years_before(p.end, 3);
    let one_year = super::period::years_before(p.end, 1);
    let scope = scope_sql(scope);
    let sql = format!(
        "SELECT m.ambito_id, s.comune_istat, CAST(SUM(s.dal - s.al) AS BIGINT) \
         FROM statistica_dormienti s JOIN appartenenza_ambito m ON m.comune_istat = s.comune_istat{scope} \
         WHERE s.giorno <= $2 AND {at} \
         GROUP BY m.ambito_id, s.comune_istat",
        at = member("$1"),
    );
    let mut rows: Vec<(i64, String, i64)> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the cartelle without recent activity")?
    });
    if three_years >= p.start {
        let correction = format!(
            "SELECT m.ambito_id, c.comune_istat, \
               SUM(CASE WHEN {at_open} THEN 1 ELSE 0 END) - SUM(CASE WHEN {at_start} THEN 1 ELSE 0 END) \
             FROM cartella c JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
             WHERE c.aperta_il >= $1 AND c.aperta_il <= $3 AND (c.chiusa_il IS NULL OR c.chiusa_il > $2) \
               AND ({at_open} OR {at_start}) \
               AND NOT EXISTS (SELECT 1 FROM cartella_stato s WHERE s.cartella_id = c.id AND s.dal > $4 AND s.dal <= $2) \
               AND NOT EXISTS (SELECT 1 FROM intervento i WHERE i.cartella_id = c.id AND i.inizio > $4 AND i.inizio <= $2) \
               AND NOT EXISTS (SELECT 1 FROM intervento i JOIN erogazione e ON e.intervento_id = i.id \
                               WHERE i.cartella_id = c.id AND e.data > $4 AND e.data <= $2) \
               AND NOT EXISTS (SELECT 1 FROM diario d WHERE d.cartella_id = c.id AND d.data > $4 AND d.data <= $2) \
             GROUP BY m.ambito_id, c.comune_istat",
            at_open = member("c.aperta_il"),
            at_start = member("$1"),
        );
        let more: Vec<(i64, String, i64)> = on_db!(db, pool => {
            sqlx::query_as(AssertSqlSafe(correction))
                .bind(p.start)
                .bind(p.end)
                .bind(three_years)
                .bind(one_year)
                .fetch_all(pool)
                .await
                .db("cannot count the cartelle without recent activity")?
        });
        rows.extend(more);
    }
    Ok(rows)
}

/// Distinct persons in charge in the period per (ambito, comune) whose
/// codice fiscale is missing or not valid (checked in Rust, check character
/// included; only the count leaves this function).
///
/// SQL counts the distinct persons per codice fiscale (NULL included), so
/// Rust checks each code once and never sees a person: persons without a
/// code, common in old records, come back as one row per comune.
pub async fn persone_senza_cf(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
) -> Result<Vec<(i64, String, i64)>> {
    persone_senza_cf_in(db, p, scope, None).await
}

/// [`persone_senza_cf`], of the given comuni only when `comuni` is given.
async fn persone_senza_cf_in(
    db: &Db,
    p: &Period,
    scope: Option<i64>,
    comuni: Option<&[String]>,
) -> Result<Vec<(i64, String, i64)>> {
    let sql = format!(
        "SELECT m.ambito_id, c.comune_istat, pe.codice_fiscale, COUNT(DISTINCT pe.id) \
         FROM cartella c JOIN persona pe ON pe.id = c.persona_id \
         JOIN appartenenza_ambito m ON m.comune_istat = c.comune_istat{scope} \
         WHERE c.aperta_il <= $2 AND (c.chiusa_il IS NULL OR c.chiusa_il >= $1) AND {at}{only} \
         GROUP BY m.ambito_id, c.comune_istat, pe.codice_fiscale",
        at = member_while_open(),
        scope = scope_sql(scope),
        only = only_comuni(comuni),
    );
    let rows: Vec<(i64, String, Option<String>, i64)> = on_db!(db, pool => {
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot read the codici fiscali to check")?
    });
    let mut counts: HashMap<(i64, String), i64> = HashMap::new();
    for (ambito, comune, cf, persone) in rows {
        let n = counts.entry((ambito, comune)).or_default();
        if cf.is_none_or(|cf| crate::codes::cf::parse(&cf, p.end).is_err()) {
            *n += persone;
        }
    }
    Ok(counts.into_iter().map(|((a, c), n)| (a, c, n)).collect())
}

/// PostgreSQL's row-level security shows a tecnico login only its own
/// ambito's rows, so a report of another ambito (or of all of them) would
/// count part of the data and look complete: refused, saying why. The owner
/// of the tables, and SQLite, see everything.
pub async fn check_sees_all(db: &Db, scope: Option<i64>, what: &str) -> Result<()> {
    let Db::Postgres(pool) = db else {
        return Ok(());
    };
    let owner: bool = sqlx::query_scalar(
        "SELECT pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = 'cartella'::regclass), 'MEMBER')",
    )
    .fetch_one(pool)
    .await
    .db("cannot read the login's rights")?;
    if owner {
        return Ok(());
    }
    let visible: Vec<i64> = sqlx::query_scalar("SELECT siso_titolari_visibili()")
        .fetch_all(pool)
        .await
        .db("cannot read the login's rights")?;
    if scope.is_some_and(|id| visible.contains(&id)) {
        return Ok(());
    }
    Err(crate::Error::Refused(format!(
        "this login sees only the case data of its own ambito (row-level security, see `siso access list`): \
         the report of {what} would count only part of it and show the rest as zeros. Ask for the report of \
         your ambito with --ambito, or ask whoever administers SISO for this one"
    )))
}

/// ` AND c.comune_istat IN (...)` when `comuni` is given.
fn only_comuni(comuni: Option<&[String]>) -> String {
    match comuni {
        None => String::new(),
        Some([]) => " AND 1 = 0".to_string(),
        Some(codes) => format!(" AND c.comune_istat IN ({})", sql_list(codes)),
    }
}

/// The two figures of distinct persons: in charge per (ambito, comune,
/// SISO category), and without a valid codice fiscale per (ambito, comune).
#[derive(Debug, Clone, Default)]
pub struct Persone {
    pub per_area: Vec<(i64, String, String, i64)>,
    pub senza_cf: Vec<(i64, String, i64)>,
}

/// [`persone`] and [`persone_senza_cf`] from the persons statistics
/// (migration 0013, see there how a period is counted), where they can
/// answer exactly: a comune belonging to the ambito by one membership row
/// for the whole period (otherwise which ambiti count a person depends on
/// the days its cases were open) and not marked `diretta`. The other
/// (ambito, comune) pairs, and the codici fiscali of periods ending before
/// [`super::statistica::CF_SEMPRE_GIUDICABILE`], are counted from the case
/// rows.
pub async fn persone_aggregati(db: &Db, p: &Period, scope: Option<i64>) -> Result<Persone> {
    let covers = "m.valido_dal <= $1 AND (m.valido_al IS NULL OR m.valido_al >= $2)";
    let scope_sql = scope_sql(scope);
    let sql = format!(
        "SELECT m.ambito_id, s.comune_istat, s.categoria_siso, CAST(s.senza_cf AS BIGINT), \
           CAST(SUM(s.inizi) - SUM(CASE WHEN s.giorno < $1 THEN s.fini ELSE 0 END) AS BIGINT), \
           CAST(MAX(s.diretta) AS BIGINT) \
         FROM statistica_persone s JOIN appartenenza_ambito m ON m.comune_istat = s.comune_istat{scope_sql} \
         WHERE s.giorno <= $2 AND {covers} \
         GROUP BY m.ambito_id, s.comune_istat, s.categoria_siso, s.senza_cf"
    );
    let pause = format!(
        "SELECT m.ambito_id, s.comune_istat, s.categoria_siso, CAST(s.senza_cf AS BIGINT), CAST(SUM(s.persone) AS BIGINT) \
         FROM statistica_persone_pause s JOIN appartenenza_ambito m ON m.comune_istat = s.comune_istat{scope_sql} \
         WHERE s.ultimo < $1 AND s.ripresa > $2 AND {covers} \
         GROUP BY m.ambito_id, s.comune_istat, s.categoria_siso, s.senza_cf"
    );
    type Raw = (i64, String, String, i64, i64, i64);
    type Pausa = (i64, String, String, i64, i64);
    let (rows, pauses): (Vec<Raw>, Vec<Pausa>) = on_db!(db, pool => {
        let rows = sqlx::query_as(AssertSqlSafe(sql))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the persons in charge")?;
        let pauses = sqlx::query_as(AssertSqlSafe(pause))
            .bind(p.start)
            .bind(p.end)
            .fetch_all(pool)
            .await
            .db("cannot count the persons in charge")?;
        (rows, pauses)
    });

    // Which (ambito, comune) pairs the aggregates answer.
    let memberships = memberships(db, p, scope).await?;
    let mut covered: HashMap<(i64, String), bool> = HashMap::new();
    for m in &memberships {
        let whole = m.dal <= p.start && m.al.is_none_or(|al| al >= p.end);
        *covered.entry((m.ambito_id, m.comune.clone())).or_default() |= whole;
    }
    for (a, c, _, _, _, diretta) in &rows {
        if *diretta > 0 {
            covered.insert((*a, c.clone()), false);
        }
    }
    let cf_aggregati = p.end >= super::statistica::CF_SEMPRE_GIUDICABILE;

    let mut counts: HashMap<(i64, String, String, i64), i64> = HashMap::new();
    for (a, c, k, senza_cf, n, _) in rows {
        *counts.entry((a, c, k, senza_cf)).or_default() += n;
    }
    for (a, c, k, senza_cf, n) in pauses {
        *counts.entry((a, c, k, senza_cf)).or_default() -= n;
    }
    let mut out = Persone::default();
    for ((a, c, k, senza_cf), n) in counts {
        if !covered.get(&(a, c.clone())).copied().unwrap_or(false) || n == 0 {
            continue;
        }
        if senza_cf == 0 {
            out.per_area.push((a, c, k, n));
        } else if cf_aggregati {
            out.senza_cf.push((a, c, n));
        }
    }

    // The rest from the case rows.
    let direct = |all: bool| -> Vec<String> {
        let mut codes: Vec<String> = covered
            .iter()
            .filter(|(_, ok)| all || !**ok)
            .map(|((_, c), _)| c.clone())
            .collect();
        codes.sort();
        codes.dedup();
        codes
    };
    let is_direct = |a: i64, c: &str, all: bool| {
        all || !covered.get(&(a, c.to_string())).copied().unwrap_or(true)
    };
    let codes = direct(false);
    if !codes.is_empty() {
        for r in persone_in(db, p, scope, Some(&codes)).await? {
            if is_direct(r.0, &r.1, false) {
                out.per_area.push(r);
            }
        }
    }
    let codes = direct(!cf_aggregati);
    if !codes.is_empty() {
        for r in persone_senza_cf_in(db, p, scope, Some(&codes)).await? {
            if is_direct(r.0, &r.1, !cf_aggregati) {
                out.senza_cf.push(r);
            }
        }
    }
    Ok(out)
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
