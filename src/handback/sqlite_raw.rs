//! The export's fast path on SQLite: the ente's tables read straight from
//! SQLite's C API on the connection's own handle, inside the caller's
//! transaction.
//!
//! Why: through sqlx every row is stepped on the driver's worker thread,
//! each of its values copied into its own allocation (`sqlite3_value_dup`)
//! and the row handed to this thread over a channel; at a million rows that
//! per-row cost, not the encoding or the hashing, kept the export under
//! 200,000 rows per second (issue 5). Here a row's values are read in place
//! and written before the next step.
//!
//! The values decode exactly as sqlx decodes them (same accepted storage
//! classes, dates parsed with the same format), so the files are byte for
//! byte what the sqlx path writes; the tests comparing SQLite with
//! PostgreSQL bundles check it. Tables with a timestamp column (small:
//! ente, documento, import_batch, audit_log) stay on sqlx, whose several
//! accepted timestamp forms are not repeated here.

use std::ffi::{CStr, c_int};
use std::ptr::NonNull;

use libsqlite3_sys as ffi;

use super::export::{Sink, TableDigest};
use super::tables::{Kind, Table};
use super::{DATE, Value};
use crate::error::{Error, Result};

/// Whether [`dump_table`] reads `table` (otherwise the sqlx path does).
pub(crate) fn handles(table: &Table) -> bool {
    table
        .columns
        .iter()
        .all(|(_, kind)| *kind != Kind::Timestamp)
}

/// A backend's own way of reading a table for [`super::export::dump_tables`],
/// where it has one.
pub(crate) trait FastDump {
    /// Writes the rows of `table` that belong to ente `ente_id` through
    /// `sink` (in the caller's transaction); `None` when the table is left to
    /// the sqlx path.
    fn fast_dump(
        &mut self,
        ente_id: i64,
        table: &Table,
        sink: &mut Sink,
    ) -> impl Future<Output = Result<Option<TableDigest>>>;
}

/// PostgreSQL streams fast enough through sqlx (issue 5's figures).
impl FastDump for sqlx::PgConnection {
    async fn fast_dump(&mut self, _: i64, _: &Table, _: &mut Sink) -> Result<Option<TableDigest>> {
        Ok(None)
    }
}

impl FastDump for sqlx::SqliteConnection {
    async fn fast_dump(
        &mut self,
        ente_id: i64,
        table: &Table,
        sink: &mut Sink,
    ) -> Result<Option<TableDigest>> {
        if !handles(table) {
            return Ok(None);
        }
        dump_table(self, ente_id, table, sink).await.map(Some)
    }
}

async fn dump_table(
    conn: &mut sqlx::SqliteConnection,
    ente_id: i64,
    table: &Table,
    sink: &mut Sink,
) -> Result<TableDigest> {
    let mut locked = conn.lock_handle().await.map_err(|source| Error::Database {
        context: format!("cannot read {}", table.name),
        source,
    })?;
    let handle = locked.as_raw_handle();
    // SAFETY: the guard `locked` keeps sqlx's worker thread off the
    // connection until it is dropped, after the statement is finalized.
    let mut stmt = unsafe { Statement::prepare(handle, &table.select_sql()) }
        .map_err(|source| read_error(table, source))?;
    stmt.bind_i64(1, ente_id)
        .map_err(|source| read_error(table, source))?;
    let mut writer = sink.table_writer(table)?;
    let write_error = |e| Error::io(format!("cannot write {}", table.csv_name()), e);
    while stmt.step().map_err(|source| read_error(table, source))? {
        for (i, (name, kind)) in table.columns.iter().enumerate() {
            let value = decode(stmt.column(i), *kind).map_err(|e| Error::Database {
                context: format!("cannot decode {}.{name}", table.name),
                source: sqlx::Error::Decode(e.into()),
            })?;
            match value {
                Value::Blob(bytes) => {
                    let hash = sink.blob(bytes)?;
                    writer.value(Value::Text(&hash))
                }
                other => writer.value(other),
            }
            .map_err(write_error)?;
        }
        writer.end_row().map_err(write_error)?;
    }
    drop(stmt);
    drop(locked);
    let (rows, csv_sha256, jsonl_sha256) = writer.finish().map_err(write_error)?;
    sink.table_done(table)?;
    Ok(TableDigest {
        table: table.name,
        rows,
        csv_sha256,
        jsonl_sha256,
    })
}

fn read_error(table: &Table, source: sqlx::Error) -> Error {
    Error::Database {
        context: format!("cannot read {}", table.name),
        source,
    }
}

/// One column of the current row, as SQLite stores it.
#[derive(Debug, Clone, Copy)]
enum Stored<'r> {
    Null,
    Integer(i64),
    Real,
    Text(&'r [u8]),
    Blob(&'r [u8]),
    /// SQLite could not allocate the text's UTF-8 form.
    NoMemory,
}

/// The value of kind `kind`, accepting the storage classes sqlx accepts
/// (`Type::compatible`) and converting as its `Decode` impls do.
fn decode(stored: Stored<'_>, kind: Kind) -> std::result::Result<Value<'_>, String> {
    let text = |bytes| std::str::from_utf8(bytes).map_err(|e| e.to_string());
    Ok(match (kind, stored) {
        (_, Stored::Null) => Value::Null,
        (_, Stored::NoMemory) => return Err("out of memory".into()),
        (Kind::Int, Stored::Integer(v)) => Value::Int(v),
        (Kind::Bool, Stored::Integer(v)) => Value::Bool(v != 0),
        (Kind::Text, Stored::Text(bytes)) => Value::Text(text(bytes)?),
        (Kind::Date, Stored::Text(bytes)) => {
            let s = text(bytes)?;
            Value::Date(time::Date::parse(s, DATE).map_err(|e| format!("{e}: {s:?}"))?)
        }
        (Kind::Blob, Stored::Blob(bytes) | Stored::Text(bytes)) => Value::Blob(bytes),
        (kind, stored) => {
            return Err(format!(
                "mismatched types: {kind:?} column holds {}",
                match stored {
                    Stored::Integer(_) => "an INTEGER",
                    Stored::Real => "a REAL",
                    Stored::Text(_) => "a TEXT",
                    Stored::Blob(_) => "a BLOB",
                    Stored::Null | Stored::NoMemory => "nothing",
                }
            ));
        }
    })
}

/// A prepared statement, finalized on drop. Values read from it borrow it
/// until the next [`Statement::step`].
struct Statement {
    db: *mut ffi::sqlite3,
    stmt: NonNull<ffi::sqlite3_stmt>,
}

impl Statement {
    /// SAFETY: `db` must be an open connection that nothing else uses for
    /// as long as the statement lives.
    unsafe fn prepare(
        db: NonNull<ffi::sqlite3>,
        sql: &str,
    ) -> std::result::Result<Self, sqlx::Error> {
        let db = db.as_ptr();
        let len = c_int::try_from(sql.len()).map_err(|_| protocol("statement too long"))?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `sql` is valid for `len` bytes; SQLite copies what it needs.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                db,
                sql.as_ptr().cast(),
                len,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            // SAFETY: `db` is open (above).
            return Err(unsafe { error(db, rc) });
        }
        let stmt = NonNull::new(stmt).ok_or_else(|| protocol("empty statement"))?;
        Ok(Statement { db, stmt })
    }

    fn bind_i64(&mut self, index: c_int, value: i64) -> std::result::Result<(), sqlx::Error> {
        // SAFETY: a live statement; an index out of range is an error code.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.stmt.as_ptr(), index, value) };
        if rc != ffi::SQLITE_OK {
            // SAFETY: the statement's connection is open.
            return Err(unsafe { error(self.db, rc) });
        }
        Ok(())
    }

    /// Moves to the next row; false after the last one.
    fn step(&mut self) -> std::result::Result<bool, sqlx::Error> {
        // SAFETY: a live statement; `&mut self` ends every borrow of the
        // previous row's values.
        match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            // SAFETY: the statement's connection is open.
            rc => Err(unsafe { error(self.db, rc) }),
        }
    }

    /// Column `i` of the current row (after `step` returned true).
    fn column(&self, i: usize) -> Stored<'_> {
        let stmt = self.stmt.as_ptr();
        let i = i as c_int;
        // SAFETY: a statement positioned on a row. The text and blob
        // pointers stay valid until the next step or finalize, which both
        // need `&mut self` while the returned value borrows `&self`; the
        // length is asked after the pointer, as SQLite documents.
        unsafe {
            match ffi::sqlite3_column_type(stmt, i) {
                ffi::SQLITE_NULL => Stored::Null,
                ffi::SQLITE_INTEGER => Stored::Integer(ffi::sqlite3_column_int64(stmt, i)),
                ffi::SQLITE_FLOAT => Stored::Real,
                ffi::SQLITE_TEXT => {
                    let ptr = ffi::sqlite3_column_text(stmt, i);
                    if ptr.is_null() {
                        return Stored::NoMemory;
                    }
                    let len = ffi::sqlite3_column_bytes(stmt, i) as usize;
                    Stored::Text(bytes(ptr, len))
                }
                _ => {
                    let ptr = ffi::sqlite3_column_blob(stmt, i).cast::<u8>();
                    let len = ffi::sqlite3_column_bytes(stmt, i) as usize;
                    Stored::Blob(bytes(ptr, len))
                }
            }
        }
    }
}

/// `len` bytes at `ptr`; SQLite gives a null pointer for an empty blob.
///
/// SAFETY: a non-null `ptr` points to `len` readable bytes that outlive `'r`.
unsafe fn bytes<'r>(ptr: *const u8, len: usize) -> &'r [u8] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller's promise.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: finalized once, here; its errors repeat the last step's.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

fn protocol(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(what.to_string())
}

/// The connection's last error, as a message with its code.
///
/// SAFETY: `db` is an open connection.
unsafe fn error(db: *mut ffi::sqlite3, rc: c_int) -> sqlx::Error {
    // SAFETY: the caller's promise; SQLite always returns a message.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) };
    sqlx::Error::Protocol(format!("SQLite error {rc}: {}", message.to_string_lossy()))
}

#[cfg(test)]
mod tests {
    use sqlx::Connection as _;

    use super::*;
    use crate::handback::tables::TABLES;
    use crate::handback::{TableWriter, decode_value};

    /// What the sqlx path writes for `table`: rows and both hashes, or the
    /// decoding error.
    async fn via_sqlx(
        conn: &mut sqlx::SqliteConnection,
        ente_id: i64,
        table: &Table,
    ) -> std::result::Result<(u64, String, String), String> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(table.select_sql()))
            .bind(ente_id)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let mut w = TableWriter::new(table.columns, std::io::sink(), std::io::sink()).unwrap();
        for row in &rows {
            for (i, (_, kind)) in table.columns.iter().enumerate() {
                let value = decode_value(row, i, *kind).map_err(|e| e.to_string())?;
                w.value(value).unwrap();
            }
            w.end_row().unwrap();
        }
        Ok(w.finish().unwrap())
    }

    async fn via_raw(
        conn: &mut sqlx::SqliteConnection,
        ente_id: i64,
        table: &Table,
    ) -> std::result::Result<(u64, String, String), String> {
        dump_table(conn, ente_id, table, &mut Sink::HashOnly)
            .await
            .map(|d| (d.rows, d.csv_sha256, d.jsonl_sha256))
            .map_err(|e| format!("{e}: {:?}", std::error::Error::source(&e)))
    }

    /// Awkward values (quotes, line breaks, control characters, empty texts,
    /// NULLs, the first and last dates, extreme integers, booleans) come out byte for byte as the sqlx path writes them, and
    /// values of the wrong storage class fail on both paths.
    #[test]
    fn the_raw_path_writes_what_the_sqlx_path_writes() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (db, _) = crate::store::Db::connect("sqlite::memory:").await.unwrap();
            crate::store::migrate::run(&db, false).await.unwrap();
            let crate::store::Db::Sqlite(pool) = &db else {
                unreachable!()
            };
            let mut conn = pool.acquire().await.unwrap();
            // Without the reference codes (comuni, prestazioni) they point to.
            sqlx::raw_sql(
                "PRAGMA foreign_keys = OFF;
                 INSERT INTO ente (id, codice, tipo, denominazione, stato, sottoscritto_il) VALUES \
                   (1, 'AMB-A', 'ambito', 'A', 'aderente', '2019-03-01'), \
                   (2, 'AMB-B', 'ambito', 'B', 'aderente', '2019-03-01');
                 INSERT INTO operatore (id, titolare_id, codice_fiscale, cognome, nome, professione, attivo_dal, attivo_al) VALUES \
                   (1, 1, NULL, 'Cognome, \"detto\" X', '', 'altro', '0000-01-01', '9999-12-31'), \
                   (2, 1, NULL, 'Zoë 😀 ' || char(1) || char(9) || '\\ \u{2028}', 'a' || char(13) || char(10) || 'b', 'oss', NULL, NULL), \
                   (3, 2, NULL, 'Altro', 'Ente', 'oss', '2020-02-29', NULL);
                 INSERT INTO persona (id, titolare_id, id_temporaneo, cognome, nome, data_nascita, indirizzo) VALUES \
                   (1, 1, 'T-1', '\"', ',', '1950-01-01', ''), (2, 2, 'T-2', 'B', 'B', NULL, NULL);
                 INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, aperta_il, stato) VALUES \
                   (1, 1, 1, 'C-1', '108033', '2024-01-15', 'aperta'), (2, 1, 2, 'C-2', '108033', '2024-01-15', 'aperta');
                 INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, inizio, periodicita, importo_previsto_cent, presa_in_carico) VALUES \
                   (1, 1, 1, 'A2.07', '2024-01-20', 'periodica', 0, 1), \
                   (2, 1, 2, 'A2.07', '2024-01-20', 'periodica', 9223372036854775807, 0), \
                   (3, 1, 2, 'A2.07', '2024-01-20', 'periodica', NULL, NULL);
                 INSERT INTO erogazione (id, titolare_id, intervento_id, data, importo_cent, quantita_milli, unita) VALUES \
                   (1, 1, 3, '2024-02-01', -1, -9223372036854775808, 'ore'), (2, 1, 3, '2024-02-02', 0, NULL, 'euro');
                 INSERT INTO diario (id, titolare_id, cartella_id, data, tipo, testo, riservato) VALUES \
                   (1, 1, 1, '2024-01-21', 'nota', 'Riga uno\nRiga due \"x\"', 1), (2, 1, 2, '2024-01-22', 'nota', '', 0);",
            )
            .execute(&mut *conn)
            .await
            .unwrap();
            let mut compared = 0;
            for table in TABLES.iter().filter(|t| handles(t)) {
                for ente in [1, 2] {
                    let want = via_sqlx(&mut conn, ente, table).await;
                    let got = via_raw(&mut conn, ente, table).await;
                    assert_eq!(got, want, "{} of ente {ente}", table.name);
                    assert!(want.is_ok());
                    compared += want.unwrap().0;
                }
            }
            assert_eq!(compared, 15, "rows compared");

            // A text where an integer belongs, a real: both paths refuse.
            for bad in ["'molti'", "1.5"] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "UPDATE erogazione SET quantita_milli = {bad} WHERE id = 2"
                )))
                .execute(&mut *conn)
                .await
                .unwrap();
                let table = crate::handback::tables::table("erogazione");
                let want = via_sqlx(&mut conn, 1, table).await;
                let got = via_raw(&mut conn, 1, table).await;
                assert!(want.is_err(), "{bad}: {want:?}");
                assert!(got.unwrap_err().contains("mismatched types"), "{bad}");
            }
            // The connection is still usable by sqlx afterwards.
            conn.ping().await.unwrap();
        });
    }

    #[test]
    fn blobs_read_as_bytes_from_blob_and_text() {
        assert!(matches!(
            decode(Stored::Blob(b"ab"), Kind::Blob),
            Ok(Value::Blob(b"ab"))
        ));
        assert!(matches!(
            decode(Stored::Text(b"ab"), Kind::Blob),
            Ok(Value::Blob(b"ab"))
        ));
        assert!(matches!(
            decode(Stored::Blob(b""), Kind::Blob),
            Ok(Value::Blob(b""))
        ));
        assert!(decode(Stored::Integer(1), Kind::Blob).is_err());
        assert!(decode(Stored::Text(b"\xff"), Kind::Text).is_err());
        assert!(decode(Stored::Text(b"2024-02-30"), Kind::Date).is_err());
    }
}
