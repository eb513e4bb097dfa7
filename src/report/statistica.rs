//! The daily aggregates the usage report reads (migration 0012:
//! `statistica_cartelle`, `statistica_prestazioni`), and keeping them true.
//!
//! A row is one (titolare, comune of the cartella, day): cartelle opened and
//! closed, interventi started, erogazioni dated that day. They hold counts
//! and sums only. The report joins them to the ambito memberships of the
//! day exactly as [`super::query`]'s direct queries join the case rows, so
//! every figure is the same for any period (tests/reports.rs checks both
//! paths agree).
//!
//! The persons in charge and those without a valid codice fiscale are
//! distinct counts, not additive over days: migration 0013 keeps, per
//! (titolare, comune, SISO category), the stretches in which persons are
//! in charge, counted by the day they start and end, and the pauses
//! between them (see there how a period is counted). They are computed
//! here in Rust, where the codice fiscale is checked as the report would.
//!
//! Whoever writes cartelle, interventi, erogazioni (or persone) calls
//! [`StatisticaWrite::refresh_statistica`] for the titolare, in the same
//! transaction, after the writes: the titolare's live rows are recomputed
//! from its case data. A purge of the titolare's case data calls
//! [`StatisticaWrite::archive_statistica`] first instead: its rows stay
//! (archived, so a later refresh does not recompute them from nothing),
//! and the cartelle still open leave the stocks on the day of the purge.

use std::collections::{HashMap, HashSet};

use futures_util::TryStreamExt as _;
use time::Date;

use crate::error::{DbContext as _, Result};
use crate::on_db;
use crate::store::{BeginWrite as _, Db};

/// Live rows of titolare $1, recomputed from its case data.
const REFRESH: [&str; 3] = [
    "DELETE FROM statistica_cartelle WHERE titolare_id = $1 AND archiviata = 0",
    "INSERT INTO statistica_cartelle (titolare_id, archiviata, comune_istat, giorno, categoria_siso, \
       aperte, chiuse, aperte_senza_operatore, chiuse_senza_operatore) \
     SELECT $1, 0, comune_istat, giorno, categoria, SUM(aperte), SUM(chiuse), SUM(aperte_so), SUM(chiuse_so) FROM ( \
       SELECT comune_istat, aperta_il AS giorno, COALESCE(categoria_siso, '') AS categoria, 1 AS aperte, 0 AS chiuse, \
         CASE WHEN operatore_id IS NULL THEN 1 ELSE 0 END AS aperte_so, 0 AS chiuse_so \
       FROM cartella WHERE titolare_id = $1 \
       UNION ALL \
       SELECT comune_istat, chiusa_il, COALESCE(categoria_siso, ''), 0, 1, 0, CASE WHEN operatore_id IS NULL THEN 1 ELSE 0 END \
       FROM cartella WHERE titolare_id = $1 AND chiusa_il IS NOT NULL \
     ) x GROUP BY comune_istat, giorno, categoria",
    "DELETE FROM statistica_prestazioni WHERE titolare_id = $1 AND archiviata = 0",
];

/// The live prestazioni rows of titolare $1 (after [`REFRESH`] deleted
/// them); `scan`: see [`SCAN_SHARE`].
fn prestazioni_sql(scan: bool) -> String {
    let p = if scan { "+" } else { "" };
    format!(
        "INSERT INTO statistica_prestazioni (titolare_id, archiviata, comune_istat, giorno, prestazione_codice, \
       interventi, erogazioni, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent) \
     SELECT $1, 0, comune_istat, giorno, codice, SUM(interventi), SUM(erogazioni), \
       SUM(importo), SUM(utente), SUM(ssn), SUM(ente) FROM ( \
       SELECT c.comune_istat, i.inizio AS giorno, COALESCE(i.prestazione_codice, '') AS codice, \
         1 AS interventi, 0 AS erogazioni, CAST(0 AS BIGINT) AS importo, CAST(0 AS BIGINT) AS utente, \
         CAST(0 AS BIGINT) AS ssn, CAST(0 AS BIGINT) AS ente \
       FROM intervento i JOIN cartella c ON c.id = i.cartella_id WHERE {p}i.titolare_id = $1 \
       UNION ALL \
       SELECT c.comune_istat, e.data, COALESCE(i.prestazione_codice, ''), 0, 1, \
         e.importo_cent, e.quota_utente_cent, e.quota_ssn_cent, e.quota_ente_cent \
       FROM erogazione e JOIN intervento i ON i.id = e.intervento_id JOIN cartella c ON c.id = i.cartella_id \
       WHERE {p}e.titolare_id = $1 \
     ) x GROUP BY comune_istat, giorno, codice"
    )
}

/// SQLite reads the case tables whole rather than follow their
/// `titolare_id` indexes when the titolare owns at least 1/SCAN_SHARE of
/// the cartelle (by the highest id): when it owns a good share of
/// them (one ente's first big import, say), a scan in row order is several
/// times faster than jumping through the index (statistics of 1M imported
/// rows: prestazioni 1.4 s -> 0.4 s, dormant cases 3.6 s -> 1.9 s); when it
/// owns a small share of a big shared database, the index is. A `+` before
/// the column keeps SQLite off the index. PostgreSQL's planner chooses
/// for itself.
const SCAN_SHARE: i64 = 8;

/// The first day E on which `years_before(E, n) >= x` (see
/// [`super::period::years_before`]): the same day n years later, and 1
/// March for 29 February when the year is not a leap year.
fn years_after(postgres: bool, x: &str, n: i32) -> String {
    if postgres {
        format!(
            "(CASE WHEN EXTRACT(MONTH FROM {x}) = 2 AND EXTRACT(DAY FROM {x}) = 29 \
               THEN CAST({x} + INTERVAL '{n} years' AS DATE) + 1 ELSE CAST({x} + INTERVAL '{n} years' AS DATE) END)"
        )
    } else {
        // SQLite carries 29 February of a common year over to 1 March.
        format!("date({x}, '+{n} years')")
    }
}

/// The dormancy intervals of the cartelle of titolare $1 (`$1` read as a
/// column: `titolare` selects every titolare, for the migration's first
/// fill), counted by the day they start (dal) and end (al, exclusive).
///
/// A case with events d1 < ... < dn (any day, before or after its
/// opening) has no event in the year ending on E exactly when E falls in
/// a gap: before d1, or from years_after(d_i, 1) up to d_(i+1)
/// (exclusive), or from years_after(dn, 1) on. Intersected with "opened by
/// E minus 3 years" (from years_after(aperta_il, 3)) and "not closed by E"
/// (up to chiusa_il, exclusive).
pub(crate) fn dormienti_sql(postgres: bool, titolare: &str, scan: bool) -> String {
    let p = if scan { "+" } else { "" };
    let only = |col: &str| {
        if titolare == "$1" {
            format!(" WHERE {p}{col} = $1")
        } else {
            String::new()
        }
    };
    let f1 = years_after(postgres, "giorno", 1);
    let f3 = years_after(postgres, "c.aperta_il", 3);
    format!(
        "WITH ev AS MATERIALIZED ( \
           SELECT cartella_id, dal AS giorno FROM cartella_stato{w_stato} \
           UNION SELECT cartella_id, inizio FROM intervento{w_int} \
           UNION SELECT i.cartella_id, e.data FROM erogazione e JOIN intervento i ON i.id = e.intervento_id{w_erog} \
           UNION SELECT cartella_id, data FROM diario{w_diario} \
         ), seq AS ( \
           SELECT cartella_id, giorno, \
             LAG(giorno) OVER (PARTITION BY cartella_id ORDER BY giorno) AS prima, \
             LEAD(giorno) OVER (PARTITION BY cartella_id ORDER BY giorno) AS dopo \
           FROM ev \
         ), gap AS ( \
           SELECT cartella_id, {f1} AS lo, dopo AS hi FROM seq \
           UNION ALL SELECT cartella_id, NULL, giorno FROM seq WHERE prima IS NULL \
           UNION ALL SELECT c.id, NULL, NULL FROM cartella c \
             LEFT JOIN (SELECT DISTINCT cartella_id FROM ev) x ON x.cartella_id = c.id \
             WHERE x.cartella_id IS NULL{and_cartella} \
         ), iv AS ( \
           SELECT c.titolare_id AS titolare, c.comune_istat, \
             CASE WHEN g.lo IS NULL OR g.lo < {f3} THEN {f3} ELSE g.lo END AS dal, \
             CASE WHEN c.chiusa_il IS NULL THEN g.hi WHEN g.hi IS NULL OR c.chiusa_il < g.hi THEN c.chiusa_il ELSE g.hi END AS al \
           FROM gap g JOIN cartella c ON c.id = g.cartella_id \
         ), ok AS (SELECT titolare, comune_istat, dal, al FROM iv WHERE al IS NULL OR dal < al) \
         INSERT INTO statistica_dormienti (titolare_id, archiviata, comune_istat, giorno, dal, al) \
         SELECT {titolare}, 0, comune_istat, giorno, SUM(dal), SUM(al) FROM ( \
           SELECT titolare, comune_istat, dal AS giorno, 1 AS dal, 0 AS al FROM ok \
           UNION ALL SELECT titolare, comune_istat, al, 0, 1 FROM ok WHERE al IS NOT NULL \
         ) x GROUP BY titolare, comune_istat, giorno",
        w_stato = only("titolare_id"),
        w_int = only("titolare_id"),
        w_erog = only("e.titolare_id"),
        w_diario = only("titolare_id"),
        and_cartella = if titolare == "$1" {
            format!(" AND {p}c.titolare_id = $1")
        } else {
            String::new()
        },
    )
}

/// Archives the rows of titolare $1 (merged into any archived before) and
/// records the cartelle open on day $2 as leaving on it; dormancy ends on
/// the next day ($3).
const ARCHIVE: [(&str, usize); 10] = [
    (
        "INSERT INTO statistica_cartelle (titolare_id, archiviata, comune_istat, giorno, categoria_siso, \
       aperte, chiuse, aperte_senza_operatore, chiuse_senza_operatore, uscite, uscite_senza_operatore) \
     SELECT $1, 1, comune_istat, giorno, categoria_siso, aperte, chiuse, aperte_senza_operatore, \
       chiuse_senza_operatore, uscite, uscite_senza_operatore \
     FROM statistica_cartelle WHERE titolare_id = $1 AND archiviata = 0 \
     ON CONFLICT (titolare_id, archiviata, comune_istat, giorno, categoria_siso) DO UPDATE SET \
       aperte = statistica_cartelle.aperte + excluded.aperte, \
       chiuse = statistica_cartelle.chiuse + excluded.chiuse, \
       aperte_senza_operatore = statistica_cartelle.aperte_senza_operatore + excluded.aperte_senza_operatore, \
       chiuse_senza_operatore = statistica_cartelle.chiuse_senza_operatore + excluded.chiuse_senza_operatore, \
       uscite = statistica_cartelle.uscite + excluded.uscite, \
       uscite_senza_operatore = statistica_cartelle.uscite_senza_operatore + excluded.uscite_senza_operatore",
        0,
    ),
    (
        "DELETE FROM statistica_cartelle WHERE titolare_id = $1 AND archiviata = 0",
        0,
    ),
    (
        "INSERT INTO statistica_cartelle (titolare_id, archiviata, comune_istat, giorno, categoria_siso, \
       uscite, uscite_senza_operatore) \
     SELECT $1, 1, comune_istat, $2, COALESCE(categoria_siso, ''), COUNT(*), \
       SUM(CASE WHEN operatore_id IS NULL THEN 1 ELSE 0 END) \
     FROM cartella WHERE titolare_id = $1 AND aperta_il <= $2 AND chiusa_il IS NULL \
     GROUP BY comune_istat, COALESCE(categoria_siso, '') \
     ON CONFLICT (titolare_id, archiviata, comune_istat, giorno, categoria_siso) DO UPDATE SET \
       uscite = statistica_cartelle.uscite + excluded.uscite, \
       uscite_senza_operatore = statistica_cartelle.uscite_senza_operatore + excluded.uscite_senza_operatore",
        1,
    ),
    (
        "INSERT INTO statistica_prestazioni (titolare_id, archiviata, comune_istat, giorno, prestazione_codice, \
       interventi, erogazioni, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent) \
     SELECT $1, 1, comune_istat, giorno, prestazione_codice, interventi, erogazioni, importo_cent, \
       quota_utente_cent, quota_ssn_cent, quota_ente_cent \
     FROM statistica_prestazioni WHERE titolare_id = $1 AND archiviata = 0 \
     ON CONFLICT (titolare_id, archiviata, comune_istat, giorno, prestazione_codice) DO UPDATE SET \
       interventi = statistica_prestazioni.interventi + excluded.interventi, \
       erogazioni = statistica_prestazioni.erogazioni + excluded.erogazioni, \
       importo_cent = statistica_prestazioni.importo_cent + excluded.importo_cent, \
       quota_utente_cent = statistica_prestazioni.quota_utente_cent + excluded.quota_utente_cent, \
       quota_ssn_cent = statistica_prestazioni.quota_ssn_cent + excluded.quota_ssn_cent, \
       quota_ente_cent = statistica_prestazioni.quota_ente_cent + excluded.quota_ente_cent",
        0,
    ),
    (
        "DELETE FROM statistica_prestazioni WHERE titolare_id = $1 AND archiviata = 0",
        0,
    ),
    (
        "INSERT INTO statistica_dormienti (titolare_id, archiviata, comune_istat, giorno, dal, al) \
         SELECT $1, 1, comune_istat, giorno, dal, al FROM statistica_dormienti \
         WHERE titolare_id = $1 AND archiviata = 0 AND giorno <= $2 \
         ON CONFLICT (titolare_id, archiviata, comune_istat, giorno) DO UPDATE SET \
           dal = statistica_dormienti.dal + excluded.dal, al = statistica_dormienti.al + excluded.al",
        1,
    ),
    (
        "INSERT INTO statistica_dormienti (titolare_id, archiviata, comune_istat, giorno, dal, al) \
         SELECT $1, 1, comune_istat, $3, 0, SUM(dal - al) FROM statistica_dormienti \
         WHERE titolare_id = $1 AND archiviata = 0 AND giorno <= $2 \
         GROUP BY comune_istat HAVING SUM(dal - al) <> 0 \
         ON CONFLICT (titolare_id, archiviata, comune_istat, giorno) DO UPDATE SET \
           al = statistica_dormienti.al + excluded.al",
        2,
    ),
    (
        "DELETE FROM statistica_dormienti WHERE titolare_id = $1 AND archiviata = 0",
        0,
    ),
    // The persons in charge follow the case rows (migration 0013).
    ("DELETE FROM statistica_persone WHERE titolare_id = $1", 0),
    (
        "DELETE FROM statistica_persone_pause WHERE titolare_id = $1",
        0,
    ),
];

/// Archived rows of titolare $1: dropped when its case data comes back
/// (bundle restore), which the live rows then count again.
const FORGET_ARCHIVE: [&str; 3] = [
    "DELETE FROM statistica_cartelle WHERE titolare_id = $1 AND archiviata = 1",
    "DELETE FROM statistica_prestazioni WHERE titolare_id = $1 AND archiviata = 1",
    "DELETE FROM statistica_dormienti WHERE titolare_id = $1 AND archiviata = 1",
];

/// The persons statistics (migration 0013) of one titolare, recomputed
/// from its cartelle; part of [`StatisticaWrite::refresh_statistica`].
trait RefreshPersone {
    fn refresh_persone(
        &mut self,
        titolare_id: i64,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
}

/// Keeping the aggregates true inside a write transaction.
pub trait StatisticaWrite {
    /// Recomputes the live aggregate rows of `titolare_id` from its
    /// cartelle, interventi and erogazioni. Call it after every write of
    /// those tables, before the commit.
    fn refresh_statistica(
        &mut self,
        titolare_id: i64,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
    /// Before the case data of `titolare_id` is purged: its rows are kept
    /// (archived) and the cartelle open on `day` leave the stocks on it.
    fn archive_statistica(
        &mut self,
        titolare_id: i64,
        day: Date,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
    /// Before the case data of `titolare_id` is restored from a bundle:
    /// the archived rows would count it twice.
    fn forget_archived_statistica(
        &mut self,
        titolare_id: i64,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
}

macro_rules! impl_statistica_write {
    ($database:ty, $postgres:expr) => {
        impl RefreshPersone for sqlx::Transaction<'_, $database> {
            async fn refresh_persone(&mut self, titolare_id: i64) -> Result<()> {
                for sql in PERSONE_DELETE {
                    sqlx::query(sql)
                        .bind(titolare_id)
                        .execute(&mut **self)
                        .await
                        .db("cannot refresh the statistics of persons in charge")?;
                }
                let mut comuni: Vec<String> = Vec::new();
                let mut indice: HashMap<String, u32> = HashMap::new();
                let mut esterni: HashSet<u32> = HashSet::new();
                let mut casi: Vec<Caso> = Vec::new();
                {
                    type Riga = (
                        String,
                        String,
                        i64,
                        String,
                        Option<String>,
                        Option<String>,
                        i64,
                    );
                    let mut rows = sqlx::query_as::<_, Riga>(PERSONE_CASI)
                        .bind(titolare_id)
                        .fetch(&mut **self);
                    while let Some((
                        comune,
                        categoria,
                        persona,
                        aperta,
                        chiusa,
                        cf,
                        titolare_persona,
                    )) = rows
                        .try_next()
                        .await
                        .db("cannot read the cartelle to count the persons in charge")?
                    {
                        // Dates are checked by the schema on both backends.
                        let Some(dal) = giorno(&aperta) else { continue };
                        let al = match chiusa.as_deref() {
                            None => APERTA,
                            Some(text) => match giorno(text) {
                                Some(al) => al,
                                None => continue,
                            },
                        };
                        let next =
                            u32::try_from(comuni.len()).expect("fewer than 4 billion comuni");
                        let c = *indice.entry(comune).or_insert_with_key(|k| {
                            comuni.push(k.clone());
                            next
                        });
                        if titolare_persona != titolare_id {
                            esterni.insert(c);
                        }
                        let categoria = CATEGORIE.iter().position(|k| *k == categoria).unwrap_or(0);
                        casi.push(Caso {
                            comune: c,
                            categoria: u8::try_from(categoria).expect("5 categories"),
                            persona,
                            dal,
                            al,
                            senza_cf: cf_mai_valido(cf.as_deref()),
                        });
                    }
                }
                let persone = Persone::from_casi(casi, &esterni);
                let giorni: Vec<_> = persone.giorni.into_iter().collect();
                for lotto in giorni.chunks(PERSONE_LOTTO) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO statistica_persone (titolare_id, comune_istat, categoria_siso, senza_cf, giorno, inizi, fini, diretta) ",
                    );
                    q.push_values(lotto, |mut row, ((c, k, senza_cf, g), (inizi, fini, diretta))| {
                        row.push_bind(titolare_id)
                            .push_bind(&comuni[*c as usize])
                            .push_bind(CATEGORIE[usize::from(*k)])
                            .push_bind(i16::from(*senza_cf))
                            .push_bind(data(*g))
                            .push_bind(*inizi)
                            .push_bind(*fini)
                            .push_bind(i16::from(*diretta));
                    });
                    q.build()
                        .execute(&mut **self)
                        .await
                        .db("cannot write the statistics of persons in charge")?;
                }
                let pause: Vec<_> = persone.pause.into_iter().collect();
                for lotto in pause.chunks(PERSONE_LOTTO) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO statistica_persone_pause (titolare_id, comune_istat, categoria_siso, senza_cf, ultimo, ripresa, persone) ",
                    );
                    q.push_values(lotto, |mut row, ((c, k, senza_cf, ultimo, ripresa), n)| {
                        row.push_bind(titolare_id)
                            .push_bind(&comuni[*c as usize])
                            .push_bind(CATEGORIE[usize::from(*k)])
                            .push_bind(i16::from(*senza_cf))
                            .push_bind(data(*ultimo))
                            .push_bind(data(*ripresa))
                            .push_bind(*n);
                    });
                    q.build()
                        .execute(&mut **self)
                        .await
                        .db("cannot write the statistics of persons in charge")?;
                }
                Ok(())
            }
        }

        impl StatisticaWrite for sqlx::Transaction<'_, $database> {
            async fn refresh_statistica(&mut self, titolare_id: i64) -> Result<()> {
                let scan = !$postgres
                    && sqlx::query_scalar::<_, bool>(
                        "SELECT (SELECT COUNT(*) FROM cartella WHERE titolare_id = $1) * $2 \
                           >= (SELECT COALESCE(MAX(id), 0) FROM cartella)",
                    )
                    .bind(titolare_id)
                    .bind(SCAN_SHARE)
                    .fetch_one(&mut **self)
                    .await
                    .db("cannot refresh the usage statistics")?;
                for sql in REFRESH {
                    sqlx::query(sql)
                        .bind(titolare_id)
                        .execute(&mut **self)
                        .await
                        .db("cannot refresh the usage statistics")?;
                }
                sqlx::query(sqlx::AssertSqlSafe(prestazioni_sql(scan)))
                    .bind(titolare_id)
                    .execute(&mut **self)
                    .await
                    .db("cannot refresh the usage statistics")?;
                sqlx::query(
                    "DELETE FROM statistica_dormienti WHERE titolare_id = $1 AND archiviata = 0",
                )
                .bind(titolare_id)
                .execute(&mut **self)
                .await
                .db("cannot refresh the usage statistics")?;
                sqlx::query(sqlx::AssertSqlSafe(dormienti_sql($postgres, "$1", scan)))
                    .bind(titolare_id)
                    .execute(&mut **self)
                    .await
                    .db("cannot refresh the usage statistics of dormant cases")?;
                self.refresh_persone(titolare_id).await
            }

            async fn archive_statistica(&mut self, titolare_id: i64, day: Date) -> Result<()> {
                let next = day.next_day().unwrap_or(day);
                for (sql, days) in ARCHIVE {
                    let q = sqlx::query(sql).bind(titolare_id);
                    let q = if days > 0 { q.bind(day) } else { q };
                    let q = if days > 1 { q.bind(next) } else { q };
                    q.execute(&mut **self)
                        .await
                        .db("cannot archive the usage statistics")?;
                }
                Ok(())
            }

            async fn forget_archived_statistica(&mut self, titolare_id: i64) -> Result<()> {
                for sql in FORGET_ARCHIVE {
                    sqlx::query(sql)
                        .bind(titolare_id)
                        .execute(&mut **self)
                        .await
                        .db("cannot drop the archived usage statistics")?;
                }
                Ok(())
            }
        }
    };
}

impl_statistica_write!(sqlx::Sqlite, false);
impl_statistica_write!(sqlx::Postgres, true);

/// Recomputes the live rows of every titolare that has case data or live
/// rows (`siso report refresh`: after case data was written outside siso).
/// Returns how many titolari were refreshed.
pub async fn refresh_all(db: &Db) -> Result<usize> {
    const TITOLARI: &str = "SELECT titolare_id FROM cartella UNION SELECT titolare_id FROM intervento \
         UNION SELECT titolare_id FROM erogazione \
         UNION SELECT titolare_id FROM statistica_cartelle WHERE archiviata = 0 \
         UNION SELECT titolare_id FROM statistica_prestazioni WHERE archiviata = 0 \
         UNION SELECT titolare_id FROM statistica_dormienti WHERE archiviata = 0 \
         UNION SELECT titolare_id FROM statistica_persone";
    on_db!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let titolari: Vec<i64> = sqlx::query_scalar(TITOLARI)
            .fetch_all(&mut *tx)
            .await
            .db("cannot list the titolari with case data")?;
        for &t in &titolari {
            tx.refresh_statistica(t).await?;
        }
        tx.commit().await.db("cannot commit the usage statistics")?;
        Ok(titolari.len())
    })
}

/// The cartelle of titolare $1 as the persons statistics (migration 0013)
/// read them, with the codice fiscale and the titolare of their person.
const PERSONE_CASI: &str = "SELECT c.comune_istat, COALESCE(c.categoria_siso, ''), c.persona_id, \
       CAST(c.aperta_il AS TEXT), CAST(c.chiusa_il AS TEXT), pe.codice_fiscale, pe.titolare_id \
     FROM cartella c JOIN persona pe ON pe.id = c.persona_id WHERE c.titolare_id = $1";

const PERSONE_DELETE: [&str; 2] = [
    "DELETE FROM statistica_persone WHERE titolare_id = $1",
    "DELETE FROM statistica_persone_pause WHERE titolare_id = $1",
];

/// A day as a number (Julian day), the end of a case still open as
/// [`APERTA`].
type Giorno = i32;
const APERTA: Giorno = Giorno::MAX;

fn giorno(text: &str) -> Option<Giorno> {
    let b = text.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<u16>().ok();
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let year = i32::from(num(0..4)?);
    Some(
        Date::from_calendar_date(year, month, day)
            .ok()?
            .to_julian_day(),
    )
}

fn data(g: Giorno) -> Date {
    Date::from_julian_day(g).expect("a day read from a date")
}

/// The SISO categories in the order of the `categoria` index; 0 is "not
/// given" (and every category together for the senza_cf rows).
const CATEGORIE: [&str; 5] = ["", "1", "2", "3", "4"];

/// A codice fiscale missing or not valid on any day: for periods ending on
/// or after 29 February 2000 (see [`CF_SEMPRE_GIUDICABILE`]) exactly the
/// codes `cf::parse` refuses at the end of the period.
pub(crate) fn cf_mai_valido(cf: Option<&str>) -> bool {
    let far = Date::from_calendar_date(9999, time::Month::December, 31).expect("a date");
    cf.is_none_or(|cf| crate::codes::cf::parse(cf, far).is_err())
}

/// From this day on, a code valid on some day is valid on every later
/// day: its birth date is in 1900-1999 (yy read as 19yy) or is 29 February
/// 2000 (when 1900 is no leap year). Earlier periods count from the case
/// rows.
pub const CF_SEMPRE_GIUDICABILE: Date = time::macros::date!(2000 - 02 - 29);

/// One cartella of the titolare, reduced to what the counts need.
struct Caso {
    comune: u32,
    categoria: u8,
    persona: i64,
    dal: Giorno,
    al: Giorno,
    senza_cf: bool,
}

/// (comune, categoria, senza_cf, giorno) of a statistica_persone row.
type ChiaveGiorno = (u32, u8, bool, Giorno);
/// (comune, categoria, senza_cf, ultimo, ripresa) of a pause.
type ChiavePausa = (u32, u8, bool, Giorno, Giorno);

/// The rows of statistica_persone (inizi, fini, diretta) and
/// statistica_persone_pause (persone) of one titolare.
#[derive(Default)]
struct Persone {
    giorni: std::collections::BTreeMap<ChiaveGiorno, (i64, i64, bool)>,
    pause: std::collections::BTreeMap<ChiavePausa, i64>,
}

impl Persone {
    /// The stretches in charge of one person, from cases sorted by opening.
    fn persona(&mut self, comune: u32, categoria: u8, senza_cf: bool, casi: &[(Giorno, Giorno)]) {
        let Some(&(first, mut fine)) = casi.first() else {
            return;
        };
        self.giorni
            .entry((comune, categoria, senza_cf, first))
            .or_default()
            .0 += 1;
        for &(dal, al) in &casi[1..] {
            // The next day after `fine` still continues the stretch.
            if fine == APERTA || dal <= fine + 1 {
                fine = fine.max(al);
            } else {
                *self
                    .pause
                    .entry((comune, categoria, senza_cf, fine, dal))
                    .or_default() += 1;
                fine = al;
            }
        }
        if fine != APERTA {
            self.giorni
                .entry((comune, categoria, senza_cf, fine))
                .or_default()
                .1 += 1;
        }
    }

    fn from_casi(mut casi: Vec<Caso>, esterni: &HashSet<u32>) -> Persone {
        casi.sort_unstable_by_key(|c| (c.comune, c.persona, c.dal));
        let mut out = Persone::default();
        let mut primo: HashMap<u32, Giorno> = HashMap::new();
        let mut per_categoria: [Vec<(Giorno, Giorno)>; 5] = Default::default();
        let mut tutti: Vec<(Giorno, Giorno)> = Vec::new();
        for gruppo in casi.chunk_by(|a, b| (a.comune, a.persona) == (b.comune, b.persona)) {
            let comune = gruppo[0].comune;
            for v in &mut per_categoria {
                v.clear();
            }
            tutti.clear();
            for c in gruppo {
                per_categoria[usize::from(c.categoria)].push((c.dal, c.al));
                tutti.push((c.dal, c.al));
            }
            for (k, v) in per_categoria.iter().enumerate() {
                out.persona(comune, u8::try_from(k).expect("5 categories"), false, v);
            }
            if gruppo[0].senza_cf {
                out.persona(comune, 0, true, &tutti);
            }
            let p = primo.entry(comune).or_insert(Giorno::MAX);
            *p = (*p).min(gruppo[0].dal);
        }
        for comune in esterni {
            if let Some(&day) = primo.get(comune) {
                out.giorni.entry((*comune, 0, false, day)).or_default().2 = true;
            }
        }
        out
    }
}

/// Rows per INSERT statement (8 values each: well under SQLite's limit).
const PERSONE_LOTTO: usize = 500;
