//! Writes a checked batch in one transaction: ids reserved per table, rows
//! inserted in multi-row statements (a round trip per row is 20-30 times
//! too slow, see shared/notes/bulk-loading.md), updates with the row before
//! kept for `import undo`, the crosswalk, and the batch's own bookkeeping.

use std::collections::HashMap;

use super::spec::{self, Db, Kind, Spec};
use crate::error::{Error, Result};
use crate::importers::fields::Entity;

/// Rows per multi-row INSERT (SQLite allows 32,766 parameters, PostgreSQL 65,535).
pub const CHUNK: usize = 500;

/// Binds one value, resolving references to imported rows through `ids`.
macro_rules! push_db {
    ($b:expr, $v:expr, $kind:expr, $ids:expr) => {
        match $v {
            // PostgreSQL wants a NULL of the column's own type.
            $crate::import::spec::Db::Null => match $kind {
                $crate::import::spec::Kind::Text => $b.push_bind(None::<String>),
                $crate::import::spec::Kind::Int => $b.push_bind(None::<i64>),
                $crate::import::spec::Kind::Date => $b.push_bind(None::<time::Date>),
                $crate::import::spec::Kind::Bool => $b.push_bind(None::<bool>),
            },
            $crate::import::spec::Db::Text(s) => $b.push_bind(s.clone()),
            $crate::import::spec::Db::Int(i) => $b.push_bind(*i),
            $crate::import::spec::Db::Date(d) => $b.push_bind(*d),
            $crate::import::spec::Db::Bool(x) => $b.push_bind(*x),
            $crate::import::spec::Db::Id(id) => $b.push_bind(*id),
            $crate::import::spec::Db::Ref(entity, legacy) => {
                $b.push_bind($ids.get(&(*entity, legacy.clone())).copied())
            }
        }
    };
}
pub(crate) use push_db;

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

/// Ids of imported rows by (entity, legacy id): existing, merged and new.
pub type Ids = HashMap<(Entity, String), i64>;

pub fn table_sql(spec: &Spec) -> String {
    let cols: Vec<&str> = spec.columns.iter().map(|(c, _)| *c).collect();
    format!(
        "INSERT INTO {} (id, titolare_id, {}) ",
        spec.table,
        cols.join(", ")
    )
}

pub fn update_sql(spec: &Spec) -> String {
    let sets: Vec<String> = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("{c} = ${}", i + 1))
        .collect();
    let n = spec.columns.len();
    format!(
        "UPDATE {} SET {} WHERE id = ${} AND titolare_id = ${}",
        spec.table,
        sets.join(", "),
        n + 1,
        n + 2
    )
}

pub fn all_tables() -> impl Iterator<Item = &'static Spec> {
    spec::ORDER.iter().copied()
}
