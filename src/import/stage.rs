//! Reads every file of a batch into per-entity records: one source row may
//! carry a person, a case and an intervention (a flat export), or one entity
//! only (one file per entity). Rows the readers refuse become rejects here,
//! with their raw text and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::reasons as r;
use super::spec;
use super::validate::{Reject, Staged};
use crate::importers::Problem;
use crate::importers::fields::Entity;
use crate::importers::siuss;
use crate::importers::table::{self, Options, Row, Table};
use crate::importers::values::Value;

/// What a source row (or a SIUSS beneficiary) gives the importer.
pub enum Out {
    Record(Staged),
    /// Refused while reading; the record it names (when known) counts as
    /// rejected, so its children follow it.
    Reject(Reject, Option<(Entity, String)>),
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

/// One entity's columns in a file: (index, field) and the header names.
type EntityColumns = (Entity, Vec<(usize, &'static str)>, Vec<String>);

/// How the rows of one file become records: which columns feed which
/// entity, parents first.
pub struct Shape {
    pub file: Arc<str>,
    pub entities: Vec<Entity>,
    columns: Vec<EntityColumns>,
}

impl Shape {
    pub fn of(t: &Table) -> Shape {
        let mut entities = t.resolved.entities.clone();
        entities.sort_by_key(|e| spec::rank(*e));
        let columns = entities
            .iter()
            .map(|e| {
                let cols: Vec<(usize, &'static str)> = t
                    .columns
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| c.field().filter(|f| f.entity == *e).map(|f| (i, f.name)))
                    .collect();
                let names = cols
                    .iter()
                    .map(|(i, _)| t.columns[*i].name.clone())
                    .collect();
                (*e, cols, names)
            })
            .collect();
        Shape {
            file: t.file.as_str().into(),
            entities,
            columns,
        }
    }

    /// The rank of the file's topmost entity: files are read parents first.
    pub fn rank(&self) -> usize {
        self.entities
            .iter()
            .map(|e| spec::rank(*e))
            .min()
            .unwrap_or(usize::MAX)
    }

    /// Splits one typed row into its records (moving the cells out).
    pub fn stage(&self, item: Result<Row, Problem>, sink: &mut dyn FnMut(Out)) {
        let mut row = match item {
            Err(problem) => {
                let entity = self.entities.first().copied();
                let mark = entity.zip(problem.legacy_id.clone());
                sink(Out::Reject(from_problem(&problem, entity), mark));
                return;
            }
            Ok(row) => row,
        };
        let raw: Arc<str> = std::mem::take(&mut row.raw).into();
        let mut legacy_in_row: Vec<(Entity, String)> = Vec::new();
        for (entity, cols, names) in &self.columns {
            if cols.is_empty() {
                continue;
            }
            let mut fields: BTreeMap<&'static str, Value> = BTreeMap::new();
            for (i, name) in cols {
                fields.insert(name, std::mem::replace(&mut row.cells[*i], Value::Empty));
            }
            if fields.values().all(|v| *v == Value::Empty) {
                continue;
            }
            // A child in a flat row points to the parent on the same row.
            if let Some((parent, field)) = entity.parent()
                && matches!(fields.get(field), None | Some(Value::Empty))
                && let Some((_, parent_legacy)) = legacy_in_row.iter().find(|(e, _)| *e == parent)
            {
                fields.insert(field, Value::Text(parent_legacy.clone()));
            }
            let reject = |reason, field: &str, legacy: Option<String>, message: String| Reject {
                file: row.origin.file.clone(),
                line: row.origin.line,
                legacy_id: legacy,
                entity: Some(entity.name()),
                field: Some(field.to_string()),
                reason,
                message,
                raw: raw.to_string(),
            };
            let legacy = match fields
                .get("id_legacy")
                .map(Value::to_text)
                .filter(|s| !s.trim().is_empty())
            {
                Some(id) => id.trim().to_string(),
                None => match (entity, fields.get("codice_fiscale").map(Value::to_text)) {
                    // Persons without their own id: the codice fiscale identifies the row.
                    (Entity::Persona, Some(cf)) if !cf.trim().is_empty() => {
                        cf.trim().to_uppercase()
                    }
                    _ => {
                        sink(Out::Reject(
                            reject(
                                r::LEGACY_ID_MISSING,
                                "id_legacy",
                                None,
                                format!(
                                    "the {} has no legacy id: map the column that identifies it to id_legacy",
                                    entity.name()
                                ),
                            ),
                            None,
                        ));
                        continue;
                    }
                },
            };
            legacy_in_row.push((*entity, legacy.clone()));
            // A cell of this entity that could not be read rejects the record.
            if let Some(p) = row.problems.iter().find(|p| {
                p.field
                    .as_deref()
                    .is_some_and(|f| names.iter().any(|n| n == f))
            }) {
                let mut rej = from_problem(p, Some(*entity));
                rej.legacy_id = Some(legacy.clone());
                sink(Out::Reject(rej, Some((*entity, legacy))));
                continue;
            }
            sink(Out::Record(Staged {
                entity: *entity,
                legacy,
                file: self.file.clone(),
                line: row.origin.line,
                raw: raw.clone(),
                fields,
            }));
        }
    }
}

/// Whether a file goes through the SIUSS XML reader rather than [`open`].
pub fn is_siuss(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
}

/// Reads the batch's SIUSS XML flows together (a beneficiary may be in
/// several of them, with one cartella for all: see `importers::siuss`).
/// Gives the records, and the sending ente of each flow, in the order of `paths`.
pub fn read_siuss(paths: &[PathBuf]) -> crate::Result<(Vec<Out>, Vec<siuss::EnteFlusso>)> {
    let comuni = crate::reference::comuni()
        .map_err(|e| crate::Error::Input(format!("embedded reference data is broken: {e}")))?;
    let mut records = Vec::new();
    let mut senders = Vec::with_capacity(paths.len());
    for path in paths {
        let mut beneficiari = Vec::new();
        let ente = siuss::read(path, &mut |b, origin| beneficiari.push((b, origin.clone())))?;
        let seat = comuni
            .rows
            .iter()
            .find(|c| c.belfiore == ente.belfiore && c.valido_al.is_none())
            .and_then(|c| c.istat.clone());
        for (b, origin) in &beneficiari {
            records.extend(siuss::records(b, origin, seat.as_deref()));
        }
        senders.push(ente);
    }
    let mut out = Vec::new();
    for rec in siuss::merge_cartelle(records) {
        if let Some((code, message)) = rec.refused {
            out.push(Out::Reject(
                Reject {
                    file: rec.origin.file,
                    line: rec.origin.line,
                    legacy_id: Some(rec.legacy.clone()),
                    entity: Some(rec.entity.name()),
                    field: None,
                    reason: code,
                    message,
                    raw: rec.raw,
                },
                Some((rec.entity, rec.legacy)),
            ));
            continue;
        }
        out.push(Out::Record(Staged {
            entity: rec.entity,
            legacy: rec.legacy,
            file: rec.origin.file.as_str().into(),
            line: rec.origin.line,
            raw: rec.raw.into(),
            fields: rec.fields,
        }));
    }
    Ok((out, senders))
}
