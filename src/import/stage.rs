//! Reads every file of a batch into per-entity records: one source row may
//! carry a person, a case and an intervention (a flat export), or one entity
//! only (one file per entity). Rows the readers refuse become rejects here,
//! with their raw text and line.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::reasons as r;
use super::validate::{Reject, Staged};
use crate::importers::Problem;
use crate::importers::fields::Entity;
use crate::importers::siuss;
use crate::importers::table::{self, Options, Table};
use crate::importers::values::Value;

/// What reading the batch's files gave.
#[derive(Default)]
pub struct Read {
    pub staged: Vec<Staged>,
    pub rejects: Vec<Reject>,
    /// Records refused before validation (their children follow them).
    pub rejected_keys: HashSet<(Entity, String)>,
    /// Source rows read, per file.
    pub rows: u64,
}

fn from_problem(p: &Problem, entity: Option<Entity>) -> Reject {
    Reject {
        file: p.origin.file.clone(),
        line: p.origin.line,
        legacy_id: p.legacy_id.clone(),
        entity: entity.map(Entity::name),
        field: p.field.clone(),
        reason: p.code,
        message: p.message.clone(),
        raw: p.raw.clone(),
    }
}

/// Opens a file and refuses it whole when a column cannot be read safely
/// (an ambiguous date column, say): nothing of the batch is stored then.
pub fn open(path: &Path, options: &Options) -> crate::Result<Table> {
    let t = table::open(path, options)?;
    if t.resolved.entities.is_empty() {
        return Err(crate::Error::Input(format!(
            "{}: cannot tell what this file holds (persons, cases, interventions...): give a mapping with \
             entity = \"...\" (start from `siso inspect {} --suggest-mapping`)",
            t.file,
            path.display()
        )));
    }
    let issues = t.blocking_issues();
    if !issues.is_empty() {
        let list: Vec<String> = issues
            .iter()
            .map(|i| format!("column {}: {} [{}]", i.column, i.message, i.code))
            .collect();
        return Err(crate::Error::Input(format!(
            "{}: {} column(s) cannot be read safely, so nothing was imported:\n  {}\nfix the mapping (see `siso inspect {}`)",
            t.file,
            list.len(),
            list.join("\n  "),
            path.display()
        )));
    }
    Ok(t)
}

/// Reads every row of `t` into staged records.
pub fn read(
    t: &Table,
    out: &mut Read,
    seen: &mut HashMap<(Entity, String), String>,
    progress: &dyn super::Progress,
) -> crate::Result<()> {
    // Which columns feed which entity, and the entity's legacy-id column.
    let entities = t.resolved.entities.clone();
    let mut columns: BTreeMap<Entity, Vec<(usize, &'static str)>> = BTreeMap::new();
    for (i, c) in t.columns.iter().enumerate() {
        if let Some(f) = c.field() {
            columns.entry(f.entity).or_default().push((i, f.name));
        }
    }
    t.read(&mut |item| {
        out.rows += 1;
        if out.rows.is_multiple_of(4096) {
            progress.rows(out.rows);
        }
        let row = match item {
            Err(problem) => {
                out.rejects.push(from_problem(&problem, entities.first().copied()));
                return;
            }
            Ok(row) => row,
        };
        let mut legacy_in_row: BTreeMap<Entity, String> = BTreeMap::new();
        for entity in &entities {
            let Some(cols) = columns.get(entity) else { continue };
            let mut fields: BTreeMap<&'static str, Value> = BTreeMap::new();
            for (i, name) in cols {
                fields.insert(name, row.cells[*i].clone());
            }
            if fields.values().all(|v| *v == Value::Empty) {
                continue;
            }
            // A child in a flat row points to the parent on the same row.
            if let Some((parent, field)) = entity.parent()
                && matches!(fields.get(field), None | Some(Value::Empty))
                && let Some(parent_legacy) = legacy_in_row.get(&parent)
            {
                fields.insert(field, Value::Text(parent_legacy.clone()));
            }
            let legacy = match fields.get("id_legacy").map(Value::to_text).filter(|s| !s.trim().is_empty()) {
                Some(id) => id.trim().to_string(),
                None => match (entity, fields.get("codice_fiscale").map(Value::to_text)) {
                    // Persons without their own id: the codice fiscale identifies the row.
                    (Entity::Persona, Some(cf)) if !cf.trim().is_empty() => cf.trim().to_uppercase(),
                    _ => {
                        out.rejects.push(Reject {
                            file: row.origin.file.clone(),
                            line: row.origin.line,
                            legacy_id: None,
                            entity: Some(entity.name()),
                            field: Some("id_legacy".into()),
                            reason: r::LEGACY_ID_MISSING,
                            message: format!(
                                "the {} has no legacy id: map the column that identifies it to id_legacy",
                                entity.name()
                            ),
                            raw: row.raw.clone(),
                        });
                        continue;
                    }
                },
            };
            legacy_in_row.insert(*entity, legacy.clone());
            let key = (*entity, legacy.clone());
            // A cell of this entity that could not be read rejects the record.
            let column_names: Vec<&str> = cols.iter().map(|(i, _)| t.columns[*i].name.as_str()).collect();
            if let Some(p) = row.problems.iter().find(|p| p.field.as_deref().is_some_and(|f| column_names.contains(&f))) {
                let mut rej = from_problem(p, Some(*entity));
                rej.legacy_id = Some(legacy.clone());
                out.rejects.push(rej);
                out.rejected_keys.insert(key);
                continue;
            }
            let fingerprint = serde_json::to_string(&fields.iter().map(|(k, v)| (*k, v.to_text())).collect::<Vec<_>>())
                .unwrap_or_default();
            match seen.get(&key) {
                // Flat exports repeat the person on every row of their cases.
                Some(previous) if *previous == fingerprint => continue,
                Some(_) => {
                    out.rejects.push(Reject {
                        file: row.origin.file.clone(),
                        line: row.origin.line,
                        legacy_id: Some(legacy.clone()),
                        entity: Some(entity.name()),
                        field: Some("id_legacy".into()),
                        reason: r::DUPLICATE_LEGACY_ID,
                        message: format!(
                            "{} {legacy} appears earlier in the batch with different contents",
                            entity.name()
                        ),
                        raw: row.raw.clone(),
                    });
                    continue;
                }
                None => {
                    seen.insert(key, fingerprint);
                }
            }
            out.staged.push(Staged {
                entity: *entity,
                legacy,
                origin: row.origin.clone(),
                raw: row.raw.clone(),
                fields,
            });
        }
    })?;
    Ok(())
}

/// Whether a file goes through the SIUSS XML reader rather than [`open`].
pub fn is_siuss(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
}

/// Reads the batch's SIUSS XML flows together (a beneficiary may be in
/// several of them, with one cartella for all: see `importers::siuss`).
pub fn read_siuss(
    paths: &[PathBuf],
    out: &mut Read,
    seen: &mut HashMap<(Entity, String), String>,
) -> crate::Result<()> {
    let comuni = crate::reference::comuni()
        .map_err(|e| crate::Error::Input(format!("embedded reference data is broken: {e}")))?;
    let mut records = Vec::new();
    for path in paths {
        let mut beneficiari = Vec::new();
        let ente = siuss::read(path, &mut |b, origin| beneficiari.push((b, origin.clone())))?;
        let seat = comuni
            .rows
            .iter()
            .find(|c| c.belfiore == ente.belfiore && c.valido_al.is_none())
            .and_then(|c| c.istat.clone());
        for (b, origin) in &beneficiari {
            out.rows += 1;
            records.extend(siuss::records(b, origin, seat.as_deref()));
        }
    }
    for rec in siuss::merge_cartelle(records) {
        let key = (rec.entity, rec.legacy.clone());
        if let Some((code, message)) = rec.refused {
            out.rejects.push(Reject {
                file: rec.origin.file,
                line: rec.origin.line,
                legacy_id: Some(rec.legacy),
                entity: Some(rec.entity.name()),
                field: None,
                reason: code,
                message,
                raw: rec.raw,
            });
            out.rejected_keys.insert(key);
            continue;
        }
        let fingerprint = serde_json::to_string(
            &rec.fields
                .iter()
                .map(|(k, v)| (*k, v.to_text()))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default();
        match seen.get(&key) {
            // The same beneficiary sent again in another flow.
            Some(previous) if *previous == fingerprint => continue,
            Some(_) => {
                out.rejects.push(Reject {
                    file: rec.origin.file,
                    line: rec.origin.line,
                    legacy_id: Some(rec.legacy.clone()),
                    entity: Some(rec.entity.name()),
                    field: Some("id_legacy".into()),
                    reason: r::DUPLICATE_LEGACY_ID,
                    message: format!(
                        "{} {} appears earlier in the batch with different contents",
                        rec.entity.name(),
                        rec.legacy
                    ),
                    raw: rec.raw,
                });
                out.rejected_keys.insert(key);
                continue;
            }
            None => {
                seen.insert(key, fingerprint);
            }
        }
        out.staged.push(Staged {
            entity: rec.entity,
            legacy: rec.legacy,
            origin: rec.origin,
            raw: rec.raw,
            fields: rec.fields,
        });
    }
    Ok(())
}
