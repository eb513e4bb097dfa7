//! Writes an import batch as it is read, inside one open transaction:
//! accepted records wait in [`Pending`] and go out in multi-row statements
//! of [`CHUNK`] rows (a round trip per row is 20-30 times too slow, see
//! shared/notes/bulk-loading.md), parents before children, with the
//! crosswalk and the batch's record of what it inserted and updated (for
//! `import undo`). Ids are handed out before the rows are written, so a
//! child can point to a parent still waiting in memory.

use std::collections::{HashMap, VecDeque};

use super::engine::Crosswalked;
use super::spec::{self, Db, Kind, ORDER, Spec};
use crate::error::{DbContext as _, Error, Result};

/// Rows per multi-row statement: persona's 15 columns x 1,000 stays under
/// SQLite's 32,766 bound parameters (PostgreSQL allows 65,535).
pub const CHUNK: usize = 1000;

/// How many ids PostgreSQL hands out per round trip.
const ID_BLOCK: i64 = 4096;

/// Binds one value; PostgreSQL wants a NULL of the column's own type.
macro_rules! push_db {
    ($b:expr, $v:expr, $kind:expr) => {
        match $v {
            $crate::import::spec::Db::Null => match $kind {
                $crate::import::spec::Kind::Text => $b.push_bind(None::<String>),
                $crate::import::spec::Kind::Int => $b.push_bind(None::<i64>),
                $crate::import::spec::Kind::Date => $b.push_bind(None::<time::Date>),
                $crate::import::spec::Kind::Bool => $b.push_bind(None::<bool>),
            },
            $crate::import::spec::Db::Text(s) => $b.push_bind(s),
            $crate::import::spec::Db::Int(i) => $b.push_bind(i),
            $crate::import::spec::Db::Date(d) => $b.push_bind(d),
            $crate::import::spec::Db::Bool(x) => $b.push_bind(x),
            $crate::import::spec::Db::Id(id) => $b.push_bind(id),
        }
    };
}
pub(crate) use push_db;

/// A new row: its id and its values, aligned with the table's columns.
pub struct NewRow {
    pub id: i64,
    pub values: Vec<Db>,
}

/// A row the source changed since it was imported.
pub struct Changed {
    pub id: i64,
    pub legacy: String,
    pub values: Vec<Db>,
    pub hash: String,
    /// Columns (bit n: the spec's column n) the source does not carry:
    /// left as stored (see [`crate::import::spec::source_field`]).
    pub keep: u64,
}

/// A legacy id linked to a row (new, or merged into an existing person).
pub struct Link {
    pub table: &'static str,
    pub legacy: String,
    pub id: i64,
    pub hash: String,
}

/// What waits to be written, per table in [`ORDER`].
pub struct Pending {
    inserts: Vec<Vec<NewRow>>,
    updates: Vec<Vec<Changed>>,
    links: Vec<Link>,
    rows: usize,
    /// Every id the batch inserted, as runs of consecutive ids per table:
    /// written once, at the end, as `import_modifica` lines (migration 0014).
    inserted: Vec<Vec<(i64, i64)>>,
    /// Crosswalk lines written so far.
    linked: usize,
    /// SQLite: indexes set aside for the load (see [`set_aside`]).
    aside: Aside,
}

/// Indexes dropped inside the import's transaction, to be built again
/// before anything reads them.
#[derive(Default)]
pub struct Aside {
    tables: Vec<&'static str>,
    /// Rows each table held before the batch (about: its largest id then).
    before: Vec<(&'static str, i64)>,
    /// The `CREATE INDEX` statements, as `sqlite_master` keeps them.
    create: Vec<String>,
}

impl Default for Pending {
    fn default() -> Pending {
        Pending {
            inserts: ORDER.iter().map(|_| Vec::new()).collect(),
            updates: ORDER.iter().map(|_| Vec::new()).collect(),
            links: Vec::new(),
            rows: 0,
            inserted: ORDER.iter().map(|_| Vec::new()).collect(),
            linked: 0,
            aside: Aside::default(),
        }
    }
}

impl Pending {
    pub fn insert(&mut self, rank: usize, row: NewRow) {
        let runs = &mut self.inserted[rank];
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == row.id => *last = row.id,
            _ => runs.push((row.id, row.id)),
        }
        self.inserts[rank].push(row);
        self.rows += 1;
    }
    pub fn update(&mut self, rank: usize, row: Changed) {
        self.updates[rank].push(row);
        self.rows += 1;
    }
    pub fn link(&mut self, link: Link) {
        self.links.push(link);
        self.linked += 1;
    }
    /// Rows of table `rank` the batch has inserted so far, pending included.
    fn inserted_rows(&self, rank: usize) -> usize {
        self.inserted[rank]
            .iter()
            .map(|(first, last)| (last - first + 1) as usize)
            .sum()
    }
    /// Enough waiting to write: `rows` (see [`Store::FLUSH_ROWS`]).
    pub fn full(&self, rows: usize) -> bool {
        self.rows >= rows || self.links.len() >= rows
    }
}

/// Row ids not yet used, per table: handed out one by one while records are
/// accepted; refilled (an await) between chunks of source rows.
#[derive(Default)]
pub struct Ids {
    /// SQLite: the last id given, per table (the write lock makes it ours).
    last: HashMap<usize, i64>,
    /// PostgreSQL: ids taken from the sequence and not used yet.
    free: HashMap<usize, VecDeque<i64>>,
}

impl Ids {
    pub fn available(&self, rank: usize) -> i64 {
        if self.last.contains_key(&rank) {
            return i64::MAX;
        }
        self.free.get(&rank).map_or(0, |f| f.len() as i64)
    }
    /// The next id of the table; [`Store::reserve`] made sure there is one.
    pub fn take(&mut self, rank: usize) -> i64 {
        if let Some(last) = self.last.get_mut(&rank) {
            *last += 1;
            return *last;
        }
        self.free
            .get_mut(&rank)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| panic!("ids of {} were not reserved", ORDER[rank].table))
    }
}

/// The batch every row is recorded under.
pub struct BatchInfo<'a> {
    pub titolare_id: i64,
    pub batch_id: i64,
    pub source: &'a str,
}

/// Writing into an open transaction, on either backend.
pub trait Store {
    /// Rows to gather before writing. SQLite writes 1,000-row INSERTs either
    /// way; on PostgreSQL every COPY costs a round trip and its end-of-
    /// statement checks, so fewer, bigger ones are faster.
    const FLUSH_ROWS: usize;

    /// Makes at least `n` ids of table `rank` available in `ids`.
    fn reserve(
        &mut self,
        ids: &mut Ids,
        rank: usize,
        n: i64,
    ) -> impl std::future::Future<Output = Result<()>> + Send;

    /// Writes everything pending, parents first, and empties it.
    fn flush(
        &mut self,
        pending: &mut Pending,
        batch: &BatchInfo<'_>,
    ) -> impl std::future::Future<Output = Result<()>> + Send;

    /// The crosswalk lines of these legacy ids of table `rank` (each at most
    /// once), by legacy id: those written so far, this batch's included.
    fn crosswalk_lines(
        &mut self,
        rank: usize,
        legacy: &[String],
        batch: &BatchInfo<'_>,
    ) -> impl std::future::Future<Output = Result<HashMap<String, Crosswalked>>> + Send;

    /// Records what the batch inserted (for `import undo` and `import
    /// list`): one `import_modifica` line per run of consecutive ids, and
    /// builds again any index set aside for the load. Called once, after the
    /// last [`Store::flush`], before anything else reads the tables.
    fn record_inserted(
        &mut self,
        pending: &mut Pending,
        batch: &BatchInfo<'_>,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
}

/// Runs sorted and merged where they touch: ids are handed out in order,
/// but records are not always accepted in that order.
fn merged(mut runs: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    runs.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(runs.len());
    for (first, last) in runs {
        match out.last_mut() {
            Some((_, end)) if first <= *end + 1 => *end = (*end).max(last),
            _ => out.push((first, last)),
        }
    }
    out
}

/// One changed row: the row before goes into `import_modifica.prima` (with
/// its crosswalk hash), so `import undo` can put it back.
macro_rules! update_body {
    ($tx:expr, $sp:expr, $u:expr, $b:expr, $postgres:expr) => {{
        let (tx, sp, u, b) = ($tx, $sp, $u, $b);
        let before: String = sqlx::query_scalar(sqlx::AssertSqlSafe(row_as_json_sql(sp, $postgres)))
            .bind(u.id)
            .fetch_one(&mut **tx)
            .await
            .db(&format!("cannot read {} {} before updating it", sp.table, u.id))?;
        let old_hash: Option<String> = sqlx::query_scalar(
            "SELECT contenuto_sha256 FROM crosswalk WHERE titolare_id = $1 AND sistema_origine = $2 AND entita = $3 AND id_legacy = $4",
        )
        .bind(b.titolare_id)
        .bind(b.source)
        .bind(sp.table)
        .bind(&u.legacy)
        .fetch_optional(&mut **tx)
        .await
        .db("cannot read the crosswalk")?
        .flatten();
        let mut prima: serde_json::Value = serde_json::from_str(&before).unwrap_or_default();
        prima["_crosswalk"] = serde_json::json!({
            "id_legacy": u.legacy,
            "contenuto_sha256": old_hash,
        });
        let mut q = sqlx::QueryBuilder::new(format!("UPDATE {} SET ", sp.table));
        let mut set = 0;
        for (n, ((col, kind), value)) in sp.columns.iter().zip(u.values).enumerate() {
            if u.keep & (1 << n) != 0 {
                continue;
            }
            q.push(if set == 0 { "" } else { ", " }).push(format!("{col} = "));
            push_db!(q, value, kind);
            set += 1;
        }
        if set > 0 {
            q.push(" WHERE id = ")
                .push_bind(u.id)
                .push(" AND titolare_id = ")
                .push_bind(b.titolare_id);
            q.build()
                .execute(&mut **tx)
                .await
                .db(&format!("cannot update {} {}", sp.table, u.id))?;
        }
        sqlx::query(
            "INSERT INTO import_modifica (titolare_id, batch_id, tabella, riga_id, azione, prima) VALUES ($1, $2, $3, $4, 'aggiornata', $5)",
        )
        .bind(b.titolare_id)
        .bind(b.batch_id)
        .bind(sp.table)
        .bind(u.id)
        .bind(prima.to_string())
        .execute(&mut **tx)
        .await
        .db("cannot record the updated row")?;
        sqlx::query(
            "UPDATE crosswalk SET contenuto_sha256 = $1 WHERE titolare_id = $2 AND sistema_origine = $3 AND entita = $4 AND id_legacy = $5",
        )
        .bind(&u.hash)
        .bind(b.titolare_id)
        .bind(b.source)
        .bind(sp.table)
        .bind(&u.legacy)
        .execute(&mut **tx)
        .await
        .db("cannot update the crosswalk")?;
    }};
}

macro_rules! impl_store {
    ($database:ty, $postgres:expr, $rows:path, $links:path, $lines:path, $aside:path) => {
        impl Store for sqlx::Transaction<'_, $database> {
            const FLUSH_ROWS: usize = if $postgres { 10 * CHUNK } else { CHUNK };

            async fn reserve(&mut self, ids: &mut Ids, rank: usize, n: i64) -> Result<()> {
                if ids.available(rank) >= n {
                    return Ok(());
                }
                let table = ORDER[rank].table;
                if $postgres {
                    // Blocks from the sequence: safe beside concurrent writers;
                    // ids left unused are gaps, as sequences have anyway.
                    let want = (n - ids.available(rank)).max(ID_BLOCK);
                    let fresh: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
                    )))
                    .bind(want)
                    .fetch_all(&mut **self)
                    .await
                    .db("cannot reserve ids")?;
                    ids.free.entry(rank).or_default().extend(fresh);
                } else {
                    let max: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT COALESCE(MAX(id), 0) FROM {table}"
                    )))
                    .fetch_one(&mut **self)
                    .await
                    .db("cannot reserve ids")?;
                    ids.last.insert(rank, max);
                }
                Ok(())
            }

            async fn flush(&mut self, pending: &mut Pending, b: &BatchInfo<'_>) -> Result<()> {
                for (rank, sp) in ORDER.iter().enumerate() {
                    let rows = std::mem::take(&mut pending.inserts[rank]);
                    if !rows.is_empty() {
                        let n = pending.inserted_rows(rank);
                        $aside(self, &mut pending.aside, sp.table, n).await?;
                        $rows(self, sp, rows, b).await?;
                    }
                    // Updates are rare (a source that changed): one statement each.
                    for u in std::mem::take(&mut pending.updates[rank]) {
                        update_body!(&mut *self, sp, u, b, $postgres);
                    }
                }
                let links = std::mem::take(&mut pending.links);
                if !links.is_empty() {
                    $aside(self, &mut pending.aside, "crosswalk", pending.linked).await?;
                    $links(self, links, b).await?;
                }
                pending.rows = 0;
                Ok(())
            }

            async fn crosswalk_lines(
                &mut self,
                rank: usize,
                legacy: &[String],
                b: &BatchInfo<'_>,
            ) -> Result<HashMap<String, Crosswalked>> {
                let mut out = HashMap::with_capacity(legacy.len());
                for chunk in legacy.chunks(CHUNK) {
                    for (legacy, id, hash, batch) in $lines(self, ORDER[rank].table, chunk, b).await? {
                        out.insert(legacy, Crosswalked { id, hash, batch });
                    }
                }
                Ok(out)
            }

            async fn record_inserted(&mut self, pending: &mut Pending, b: &BatchInfo<'_>) -> Result<()> {
                for (rank, sp) in ORDER.iter().enumerate() {
                    let runs = merged(std::mem::take(&mut pending.inserted[rank]));
                    for chunk in runs.chunks(CHUNK) {
                        let mut q = sqlx::QueryBuilder::new(
                            "INSERT INTO import_modifica (titolare_id, batch_id, tabella, riga_id, ultimo_id, azione) ",
                        );
                        q.push_values(chunk, |mut row, (first, last)| {
                            row.push_bind(b.titolare_id)
                                .push_bind(b.batch_id)
                                .push_bind(sp.table)
                                .push_bind(*first)
                                .push_bind(*last)
                                .push_bind("inserita");
                        });
                        q.build()
                            .execute(&mut **self)
                            .await
                            .db("cannot record the inserted rows")?;
                    }
                }
                for create in std::mem::take(&mut pending.aside.create) {
                    sqlx::query(sqlx::AssertSqlSafe(create))
                        .execute(&mut **self)
                        .await
                        .db("cannot build an index again after the load")?;
                }
                pending.aside.tables.clear();
                Ok(())
            }
        }
    };
}

/// Rows a batch must have inserted into a table before its indexes are set
/// aside (and at least as many as the table held before).
const SET_ASIDE_AT: usize = 10_000;

/// SQLite: a batch that at least doubles a big table loads it without the
/// table's non-unique indexes, and [`Store::record_inserted`] builds them
/// again: SQLite builds an index from sorted keys many times faster than it
/// inserts the same keys one by one in random order. It all happens inside
/// the import's transaction (SQLite's DDL is transactional): a rollback, a
/// refused batch or a killed process leaves the indexes as they were.
/// Unique indexes stay, as they check constraints; nothing the load itself
/// queries needs the others (lookups go by id or by the crosswalk's unique
/// key). Not on PostgreSQL, where dropping an index locks out every reader.
async fn set_aside(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    aside: &mut Aside,
    table: &'static str,
    inserted: usize,
) -> Result<()> {
    if inserted < SET_ASIDE_AT || aside.tables.contains(&table) {
        return Ok(());
    }
    // The rows the table held before the batch: read once per table.
    let before = match aside.before.iter().find(|(t, _)| *t == table) {
        Some(&(_, rows)) => rows,
        None => {
            let max: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COALESCE(MAX(id), 0) FROM {table}"
            )))
            .fetch_one(&mut **tx)
            .await
            .db("cannot size the table")?;
            let rows = max - inserted as i64;
            aside.before.push((table, rows));
            rows
        }
    };
    if before > inserted as i64 {
        return Ok(());
    }
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 \
         AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
    )
    .bind(table)
    .fetch_all(&mut **tx)
    .await
    .db("cannot read the table's indexes")?;
    for (name, create) in indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP INDEX \"{}\"",
            name.replace('"', "\"\"")
        )))
        .execute(&mut **tx)
        .await
        .db("cannot set an index aside for the load")?;
        aside.create.push(create);
    }
    aside.tables.push(table);
    Ok(())
}

/// PostgreSQL keeps its indexes (see [`set_aside`]).
async fn keep_indexes(
    _: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    _: &mut Aside,
    _: &'static str,
    _: usize,
) -> Result<()> {
    Ok(())
}

impl_store!(
    sqlx::Sqlite,
    false,
    insert_rows,
    insert_links,
    lines_in,
    set_aside
);
impl_store!(
    sqlx::Postgres,
    true,
    copy_rows,
    copy_links,
    lines_lateral,
    keep_indexes
);

/// SQLite: new rows in multi-row INSERTs.
async fn insert_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    sp: &'static Spec,
    rows: Vec<NewRow>,
    b: &BatchInfo<'_>,
) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<NewRow> = rows.by_ref().take(CHUNK).collect();
        let mut q = sqlx::QueryBuilder::new(insert_sql(sp));
        q.push_values(chunk, |mut row, r| {
            row.push_bind(r.id).push_bind(b.titolare_id);
            for ((_, kind), value) in sp.columns.iter().zip(r.values) {
                push_db!(row, value, kind);
            }
        });
        q.build()
            .execute(&mut **tx)
            .await
            .db(&format!("cannot insert into {}", sp.table))?;
    }
    Ok(())
}

/// A crosswalk line as read back: legacy id, row id, hash, batch.
type Line = (String, i64, Option<String>, Option<i64>);

/// SQLite: the crosswalk lines of these legacy ids of a table, in one
/// `IN (...)` query (SQLite's planner seeks each id in the unique index).
async fn lines_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    table: &str,
    legacy: &[String],
    b: &BatchInfo<'_>,
) -> Result<Vec<Line>> {
    let mut q = sqlx::QueryBuilder::new(
        "SELECT id_legacy, riga_id, contenuto_sha256, batch_id FROM crosswalk WHERE titolare_id = ",
    );
    q.push_bind(b.titolare_id)
        .push(" AND sistema_origine = ")
        .push_bind(b.source)
        .push(" AND entita = ")
        .push_bind(table)
        .push(" AND id_legacy IN (");
    let mut list = q.separated(", ");
    for l in legacy {
        list.push_bind(l.as_str());
    }
    q.push(")");
    q.build_query_as()
        .fetch_all(&mut **tx)
        .await
        .db("cannot read the crosswalk")
}

/// The query of [`lines_lateral`]: titolare, source, table, legacy ids.
pub const CROSSWALK_LINES_POSTGRES: &str = "SELECT l.id, c.riga_id, c.contenuto_sha256, c.batch_id \
     FROM unnest($4::text[]) AS l(id) CROSS JOIN LATERAL (SELECT riga_id, contenuto_sha256, batch_id \
     FROM crosswalk WHERE titolare_id = $1 AND sistema_origine = $2 AND entita = $3 AND id_legacy = l.id \
     OFFSET 0) c";

/// PostgreSQL: the same, one index lookup per id. Written as `IN (...)`
/// (or `= ANY`), the planner may seek only the first three columns of the
/// unique index and filter every line of the table, when the crosswalk's
/// statistics predate a big load (right after one, or inside it): that
/// made a re-import of 5M rows read 2.3M lines per 1,000 ids. `OFFSET 0`
/// keeps the subquery apart, so each id is an index condition whatever
/// the statistics say.
async fn lines_lateral(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    table: &str,
    legacy: &[String],
    b: &BatchInfo<'_>,
) -> Result<Vec<Line>> {
    sqlx::query_as(CROSSWALK_LINES_POSTGRES)
        .bind(b.titolare_id)
        .bind(b.source)
        .bind(table)
        .bind(legacy)
        .fetch_all(&mut **tx)
        .await
        .db("cannot read the crosswalk")
}

/// SQLite: crosswalk lines in multi-row INSERTs.
async fn insert_links(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    links: Vec<Link>,
    b: &BatchInfo<'_>,
) -> Result<()> {
    for chunk in links.chunks(CHUNK) {
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO crosswalk (titolare_id, sistema_origine, entita, id_legacy, riga_id, batch_id, contenuto_sha256) ",
        );
        q.push_values(chunk, |mut row, l| {
            row.push_bind(b.titolare_id)
                .push_bind(b.source)
                .push_bind(l.table)
                .push_bind(l.legacy.as_str())
                .push_bind(l.id)
                .push_bind(b.batch_id)
                .push_bind(l.hash.as_str());
        });
        q.build()
            .execute(&mut **tx)
            .await
            .db("cannot write the crosswalk")?;
    }
    Ok(())
}

/// One field in PostgreSQL's COPY text format: `\N` for NULL, and the
/// backslash, tab, newline and carriage return escaped.
fn copy_text(out: &mut Vec<u8>, text: &str) {
    for b in text.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

fn copy_value(out: &mut Vec<u8>, v: &Db) {
    use std::io::Write as _;
    match v {
        Db::Null => out.extend_from_slice(b"\\N"),
        Db::Text(s) => copy_text(out, s),
        Db::Int(i) | Db::Id(i) => write!(out, "{i}").expect("writing to a Vec"),
        Db::Date(d) => write!(
            out,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
        .expect("writing to a Vec"),
        Db::Bool(b) => out.push(if *b { b't' } else { b'f' }),
    }
}

/// Sends `data` (COPY text rows) through `COPY ... FROM STDIN`.
async fn copy_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    statement: &str,
    data: Vec<u8>,
    what: &str,
) -> Result<()> {
    let mut copy = tx
        .copy_in_raw(statement)
        .await
        .db(&format!("cannot start writing {what}"))?;
    if let Err(e) = copy.send(data).await {
        // The connection must hear the end of the COPY before anything else.
        let _ = copy.abort("siso: write failed").await;
        return Err(e).db(&format!("cannot write {what}"));
    }
    copy.finish().await.db(&format!("cannot write {what}"))?;
    Ok(())
}

/// PostgreSQL: new rows through COPY (several times faster than INSERT,
/// see shared/notes/bulk-loading.md).
async fn copy_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    sp: &'static Spec,
    rows: Vec<NewRow>,
    b: &BatchInfo<'_>,
) -> Result<()> {
    use std::io::Write as _;
    let mut data = Vec::with_capacity(rows.len() * 128);
    for r in &rows {
        write!(data, "{}\t{}", r.id, b.titolare_id).expect("writing to a Vec");
        for v in &r.values {
            data.push(b'\t');
            copy_value(&mut data, v);
        }
        data.push(b'\n');
    }
    let cols: Vec<&str> = sp.columns.iter().map(|(c, _)| *c).collect();
    copy_in(
        tx,
        &format!(
            "COPY {} (id, titolare_id, {}) FROM STDIN",
            sp.table,
            cols.join(", ")
        ),
        data,
        sp.table,
    )
    .await
}

/// PostgreSQL: crosswalk lines through COPY.
async fn copy_links(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    links: Vec<Link>,
    b: &BatchInfo<'_>,
) -> Result<()> {
    use std::io::Write as _;
    let mut data = Vec::with_capacity(links.len() * 128);
    for l in &links {
        write!(data, "{}\t", b.titolare_id).expect("writing to a Vec");
        copy_text(&mut data, b.source);
        write!(data, "\t{}\t", l.table).expect("writing to a Vec");
        copy_text(&mut data, &l.legacy);
        writeln!(data, "\t{}\t{}\t{}", l.id, b.batch_id, l.hash).expect("writing to a Vec");
    }
    copy_in(
        tx,
        "COPY crosswalk (titolare_id, sistema_origine, entita, id_legacy, riga_id, batch_id, contenuto_sha256) FROM STDIN",
        data,
        "the crosswalk",
    )
    .await
}

/// A SELECT that returns a row of `spec` as a JSON object, for `prima`.
pub fn row_as_json_sql(spec: &Spec, postgres: bool) -> String {
    let pairs: Vec<String> = spec
        .columns
        .iter()
        .map(|(c, _)| format!("'{c}', {c}"))
        .collect();
    if postgres {
        format!(
            "SELECT json_build_object({})::text FROM {} WHERE id = $1",
            pairs.join(", "),
            spec.table
        )
    } else {
        format!(
            "SELECT json_object({}) FROM {} WHERE id = $1",
            pairs.join(", "),
            spec.table
        )
    }
}

/// Turns a stored JSON row back into values, for undo.
pub fn values_from_json(spec: &Spec, json: &serde_json::Value) -> Result<Vec<Db>> {
    spec.columns
        .iter()
        .map(|(c, kind)| {
            let v = json.get(*c).unwrap_or(&serde_json::Value::Null);
            let bad = || {
                Error::Schema(format!(
                    "import_modifica.prima: {}.{c} holds {v}, which cannot be restored",
                    spec.table
                ))
            };
            Ok(match (kind, v) {
                (_, serde_json::Value::Null) => Db::Null,
                (Kind::Text, serde_json::Value::String(s)) => Db::Text(s.clone()),
                (Kind::Int, serde_json::Value::Number(n)) => Db::Int(n.as_i64().ok_or_else(bad)?),
                (Kind::Date, serde_json::Value::String(s)) => Db::Date(
                    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                        .map_err(|_| bad())?,
                ),
                (Kind::Bool, serde_json::Value::Bool(b)) => Db::Bool(*b),
                (Kind::Bool, serde_json::Value::Number(n)) => Db::Bool(n.as_i64() == Some(1)),
                _ => return Err(bad()),
            })
        })
        .collect()
}

pub fn insert_sql(spec: &Spec) -> String {
    let cols: Vec<&str> = spec.columns.iter().map(|(c, _)| *c).collect();
    format!(
        "INSERT INTO {} (id, titolare_id, {}) ",
        spec.table,
        cols.join(", ")
    )
}

pub fn all_tables() -> impl Iterator<Item = &'static Spec> {
    spec::ORDER.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::merged;

    #[test]
    fn runs_are_sorted_and_merged_where_they_touch() {
        assert_eq!(
            merged(vec![(10, 12), (1, 3), (4, 4), (13, 20), (30, 30), (6, 8)]),
            vec![(1, 4), (6, 8), (10, 20), (30, 30)]
        );
        assert_eq!(merged(vec![]), vec![]);
    }
}
