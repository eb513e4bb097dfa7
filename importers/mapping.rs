//! Which legacy column fills which field, read from a TOML mapping file or
//! worked out from the usual Italian header names.
//!
//! ```toml
//! entity = "persona"            # or cartella, intervento, ..., or "flat"
//! # header = true               # force (or deny) a header row
//! # encoding = "windows-1252"   # force the encoding
//! # delimiter = ";"             # force the delimiter
//! # century_pivot = 26          # d/m/yy: yy <= 26 is 20yy, else 19yy
//!
//! [columns]
//! COGNOME = "cognome"                                        # field of `entity`
//! "DT NASC" = { field = "data_nascita", date_format = "dd/mm/yyyy" }
//! IMPORTO = { field = "intervento.importo_previsto", decimal = "," }
//! VECCHIO = { ignore = true }
//!
//! [values."cartella.stato"]                                  # legacy -> new
//! APERTO = "aperta"
//! ```
//!
//! Columns the mapping does not list are mapped automatically when their
//! header is a known legacy name; `ignore = true` leaves one out.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::fields::{self, ENTITIES, Entity, Field, Kind};
use super::values::{DateFormat, DecimalStyle};

/// A mapping file as written.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub entity: Option<String>,
    pub header: Option<bool>,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub sheet: Option<String>,
    pub century_pivot: Option<u8>,
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSpec>,
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

/// A column's line in the mapping: `COL = "field"` or `COL = { field = ...,
/// date_format = ..., decimal = ..., ignore = ... }`.
#[derive(Debug, Clone)]
pub enum ColumnSpec {
    Field(String),
    Detailed(ColumnDetail),
}

/// By hand rather than `untagged`, so that a mistyped key in a table says
/// which key and which ones exist, instead of "did not match any variant".
impl<'de> serde::Deserialize<'de> for ColumnSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ColumnSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field name, or a table with field, date_format, decimal or ignore")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ColumnSpec, E> {
                Ok(ColumnSpec::Field(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ColumnSpec, A::Error> {
                serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(ColumnSpec::Detailed)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDetail {
    pub field: Option<String>,
    pub date_format: Option<String>,
    pub decimal: Option<String>,
    #[serde(default)]
    pub ignore: bool,
}

impl Mapping {
    pub fn parse(text: &str) -> Result<Mapping, String> {
        toml::from_str(text).map_err(|e| format!("not a valid mapping: {e}"))
    }

    pub fn load(path: &std::path::Path) -> crate::Result<Mapping> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            crate::Error::io(format!("cannot read the mapping {}", path.display()), e)
        })?;
        Mapping::parse(&text).map_err(|m| crate::Error::Input(format!("{}: {m}", path.display())))
    }
}

/// What one column of the file becomes.
#[derive(Debug, Clone, Default)]
pub struct ColumnMap {
    pub field: Option<&'static Field>,
    pub date_format: Option<DateFormat>,
    pub decimal: Option<DecimalStyle>,
    /// Legacy value -> new value, for this column's field.
    pub values: Option<Arc<BTreeMap<String, String>>>,
    /// Whether the mapping file named it (rather than the header names).
    pub explicit: bool,
}

/// The mapping applied to a file's columns.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The entities the rows carry, in their order of dependency.
    pub entities: Vec<Entity>,
    /// How they were chosen: "mapping", "--entity", "file name", "header names", "none".
    pub entities_from: &'static str,
    pub columns: Vec<ColumnMap>,
}

impl Resolved {
    pub fn is_flat(&self) -> bool {
        self.entities.len() > 1
    }

    /// "persona", or "flat: persona + cartella + intervento".
    pub fn entities_label(&self) -> String {
        let names: Vec<&str> = self.entities.iter().map(|e| e.name()).collect();
        match names.len() {
            0 => "unknown".into(),
            1 => names[0].into(),
            _ => format!("flat: {}", names.join(" + ")),
        }
    }
}

/// The fields of an entity's own that a record cannot do without (the
/// `required` ones of `src/import/validate.rs`, references to a parent left
/// out: a flat row gives them).
fn core_fields(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Persona => &["cognome", "nome"],
        Entity::Cartella => &["comune_istat"],
        Entity::CartellaStato => &["stato"],
        Entity::Intervento => &["periodicita"],
        Entity::Diario => &["testo"],
        Entity::Nucleo => &["relazione"],
        Entity::Operatore => &["cognome", "nome", "professione"],
        Entity::Erogazione | Entity::ValutazioneSina => &[],
    }
}

/// Entities whose own (non-identifier) fields a header names, e.g. COGNOME ->
/// persona, nucleo, operatore.
fn entities_of_header(norm: &str) -> BTreeSet<Entity> {
    fields::FIELDS
        .iter()
        .filter(|f| f.name != "id_legacy" && f.headers.contains(&norm))
        .map(|f| f.entity)
        .collect()
}

/// Guesses the entities from header names: headers that only one entity uses
/// ("NUMERO_CARTELLA", "COD_PRESTAZIONE") decide; two or more such entities
/// make a flat file.
///
/// An entity that one header alone points to, with no identifier column of
/// its own and no column for a field it cannot do without, is not part of
/// the file: a NOTE column beside a person's columns is a note on the
/// person, not a case state change.
fn entities_from_headers(columns: &[String]) -> Vec<Entity> {
    let norms: Vec<String> = columns
        .iter()
        .map(|c| fields::normalise_header(c))
        .collect();
    let mut single: BTreeMap<Entity, usize> = BTreeMap::new();
    let mut votes: BTreeMap<Entity, usize> = BTreeMap::new();
    for norm in &norms {
        let set = entities_of_header(norm);
        if set.len() == 1 {
            set.iter().for_each(|e| *single.entry(*e).or_default() += 1);
        }
        for e in set {
            *votes.entry(e).or_default() += 1;
        }
    }
    let has_column = |e: Entity, field: &str| {
        fields::of(e)
            .any(|f| f.name == field && f.headers.iter().any(|h| norms.iter().any(|n| n == h)))
    };
    let mut distinctive: BTreeSet<Entity> = single
        .into_iter()
        .filter(|&(e, n)| {
            n > 1 || has_column(e, "id_legacy") || core_fields(e).iter().all(|f| has_column(e, f))
        })
        .map(|(e, _)| e)
        .collect();
    match distinctive.len() {
        0 => votes
            .into_iter()
            .max_by_key(|&(e, n)| (n, std::cmp::Reverse(e)))
            .map(|(e, _)| vec![e])
            .unwrap_or_default(),
        1 => distinctive.into_iter().collect(),
        _ => {
            // A flat row names a person by her columns (COGNOME, CF) without
            // any header unique to persona.
            if votes.contains_key(&Entity::Persona) {
                distinctive.insert(Entity::Persona);
            }
            distinctive.into_iter().collect()
        }
    }
}

fn field_spec(spec: &str, default: Option<Entity>) -> Result<&'static Field, String> {
    fields::find(spec, default).ok_or_else(|| {
        let known: Vec<String> = match default {
            Some(e) => fields::of(e).map(|f| f.name.to_string()).collect(),
            None => vec!["entity.field, e.g. persona.cognome".into()],
        };
        format!("unknown field {spec:?} (fields: {})", known.join(", "))
    })
}

/// Applies `mapping` (or none) to the file's `columns`. `entity` is the
/// caller's choice (`--entity`), `file_name` a hint ("..._interventi.csv").
pub fn resolve(
    mapping: Option<&Mapping>,
    columns: &[String],
    entity: Option<Entity>,
    file_name: &str,
) -> Result<Resolved, String> {
    let empty = Mapping::default();
    let mapping = mapping.unwrap_or(&empty);
    let declared = match mapping.entity.as_deref() {
        None => None,
        Some("flat") => Some(None),
        Some(name) => Some(Some(Entity::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = ENTITIES.iter().map(|e| e.name()).collect();
            format!(
                "unknown entity {name:?} (entities: {}, or flat)",
                names.join(", ")
            )
        })?)),
    };
    let (mut entities, from) = match (declared, entity) {
        (Some(Some(e)), _) => (vec![e], "mapping"),
        (_, Some(e)) => (vec![e], "--entity"),
        (Some(None), None) => (entities_from_headers(columns), "mapping (flat)"),
        (None, None) => match Entity::from_file_name(file_name) {
            Some(e) => (vec![e], "file name"),
            None => {
                let found = entities_from_headers(columns);
                let from = if found.is_empty() {
                    "none"
                } else {
                    "header names"
                };
                (found, from)
            }
        },
    };
    let default = (entities.len() == 1).then(|| entities[0]);

    // Explicit columns first.
    let mut maps = vec![ColumnMap::default(); columns.len()];
    let mut ignored = vec![false; columns.len()];
    for (name, spec) in &mapping.columns {
        let index = columns.iter().position(|c| c == name).ok_or_else(|| {
            format!(
                "the mapping names column {name:?}, which the file does not have (columns: {})",
                columns.join(", ")
            )
        })?;
        let detail = match spec {
            ColumnSpec::Field(f) => ColumnDetail {
                field: Some(f.clone()),
                ..ColumnDetail::default()
            },
            ColumnSpec::Detailed(d) => d.clone(),
        };
        if detail.ignore {
            ignored[index] = true;
            continue;
        }
        let field = match &detail.field {
            Some(f) => Some(field_spec(f, default).map_err(|m| format!("column {name:?}: {m}"))?),
            None => None,
        };
        let date_format = detail
            .date_format
            .as_deref()
            .map(DateFormat::from_label)
            .transpose()
            .map_err(|m| format!("column {name:?}: {m}"))?;
        let decimal = detail
            .decimal
            .as_deref()
            .map(DecimalStyle::from_label)
            .transpose()
            .map_err(|m| format!("column {name:?}: {m}"))?;
        if let Some(f) = field {
            if date_format.is_some() && f.kind != Kind::Date {
                return Err(format!(
                    "column {name:?}: date_format given for {}, which is not a date",
                    f.qualified()
                ));
            }
            if decimal.is_some() && !matches!(f.kind, Kind::Cents | Kind::Milli) {
                return Err(format!(
                    "column {name:?}: decimal given for {}, which is not an amount",
                    f.qualified()
                ));
            }
            if !entities.contains(&f.entity) {
                entities.push(f.entity);
            }
        }
        maps[index] = ColumnMap {
            field,
            date_format,
            decimal,
            values: None,
            explicit: true,
        };
    }
    entities.sort();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (i, m) in maps.iter().enumerate() {
        if let Some(f) = m.field
            && !taken.insert(f.qualified())
        {
            let first = maps
                .iter()
                .position(|o| o.field.is_some_and(|g| g.qualified() == f.qualified()))
                .expect("the field was taken by an earlier column");
            return Err(format!(
                "two columns map to {}: {:?} and {:?}; map one of them to nothing with ignore = true",
                f.qualified(),
                columns[first],
                columns[i]
            ));
        }
    }

    // Then the usual header names, for the columns left.
    for (i, name) in columns.iter().enumerate() {
        if maps[i].explicit || ignored[i] {
            continue;
        }
        let norm = fields::normalise_header(name);
        let own = entities
            .iter()
            .flat_map(|e| fields::of(*e))
            .find(|f| f.headers.contains(&norm.as_str()) && !taken.contains(&f.qualified()));
        // In a one-entity file, its parent's identifier is the reference.
        let reference = || {
            let &[e] = entities.as_slice() else {
                return None;
            };
            let (parent, field) = e.parent()?;
            let parent_id = fields::find("id_legacy", Some(parent))?;
            parent_id
                .headers
                .contains(&norm.as_str())
                .then(|| fields::find(field, Some(e)))
                .flatten()
        };
        if let Some(f) = own.or_else(|| reference().filter(|f| !taken.contains(&f.qualified()))) {
            taken.insert(f.qualified());
            maps[i].field = Some(f);
        }
    }

    // Value maps, by field.
    for (spec, table) in &mapping.values {
        let field = field_spec(spec, default).map_err(|m| format!("[values.{spec:?}]: {m}"))?;
        let table = Arc::new(table.clone());
        for m in maps.iter_mut().filter(|m| m.field == Some(field)) {
            m.values = Some(table.clone());
        }
    }
    Ok(Resolved {
        entities,
        entities_from: from,
        columns: maps,
    })
}

/// Fields whose legacy values usually need a value map to the new codes.
pub fn wants_value_map(field: &Field) -> bool {
    matches!(
        (field.entity, field.name),
        (
            _,
            "stato"
                | "categoria"
                | "prestazione"
                | "area_utenza"
                | "periodicita"
                | "unita"
                | "tipo"
                | "relazione"
                | "professione"
        )
    )
}

/// A TOML string literal.
pub fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn fields_of(r: &Resolved) -> Vec<Option<String>> {
        r.columns
            .iter()
            .map(|c| c.field.map(|f| f.qualified()))
            .collect()
    }

    #[test]
    fn usual_italian_headers_map_automatically() {
        let r = resolve(
            None,
            &cols(&[
                "ID_PERSONA",
                "COGNOME",
                "NOME",
                "COD_FISCALE",
                "DT_NASCITA",
                "Comune residenza",
                "BOH",
            ]),
            None,
            "x.csv",
        )
        .unwrap();
        assert_eq!(r.entities, vec![Entity::Persona]);
        assert_eq!(
            fields_of(&r),
            vec![
                Some("persona.id_legacy".into()),
                Some("persona.cognome".into()),
                Some("persona.nome".into()),
                Some("persona.codice_fiscale".into()),
                Some("persona.data_nascita".into()),
                Some("persona.residenza_istat".into()),
                None
            ]
        );
    }

    #[test]
    fn a_child_file_maps_its_parent_identifier_as_reference() {
        let r = resolve(
            None,
            &cols(&["ID_INTERVENTO", "ID_CARTELLA", "COD_SERVIZIO", "IMPORTO"]),
            None,
            "old_interventi.csv",
        )
        .unwrap();
        assert_eq!(
            (r.entities.as_slice(), r.entities_from),
            ([Entity::Intervento].as_slice(), "file name")
        );
        assert_eq!(
            fields_of(&r)[1].as_deref(),
            Some("intervento.cartella_id_legacy")
        );
        assert_eq!(
            fields_of(&r)[3].as_deref(),
            Some("intervento.importo_previsto")
        );
    }

    #[test]
    fn a_lone_note_column_does_not_make_a_case_state_file() {
        for headers in [
            &[
                "ID_ASSISTITO",
                "COGNOME",
                "NOME",
                "COD_FISCALE",
                "SESSO",
                "DT_NASCITA",
                "INDIRIZZO",
                "NOTE",
            ][..],
            &["ID_ASSISTITO", "COGNOME", "NOME", "NOTE"][..],
        ] {
            let r = resolve(None, &cols(headers), None, "export.csv").unwrap();
            assert_eq!(r.entities, [Entity::Persona], "{headers:?}");
        }
        // With its state and date a NOTE column is a case state change.
        let r = resolve(
            None,
            &cols(&["ID_CARTELLA", "STATO", "DATA_STATO", "NOTE"]),
            None,
            "export.csv",
        )
        .unwrap();
        assert_eq!(r.entities, [Entity::CartellaStato]);
    }

    #[test]
    fn a_flat_export_maps_several_entities() {
        let r = resolve(
            None,
            &cols(&[
                "ID_PERSONA",
                "CF",
                "COGNOME",
                "ID_CARTELLA",
                "NUMERO_CARTELLA",
                "ID_INTERVENTO",
                "COD_PRESTAZIONE",
                "DATA_INIZIO",
            ]),
            None,
            "estrazione.csv",
        )
        .unwrap();
        assert_eq!(
            r.entities,
            vec![Entity::Persona, Entity::Cartella, Entity::Intervento]
        );
        assert!(r.is_flat());
        assert_eq!(fields_of(&r)[3].as_deref(), Some("cartella.id_legacy"));
        assert_eq!(fields_of(&r)[5].as_deref(), Some("intervento.id_legacy"));
        assert_eq!(r.entities_label(), "flat: persona + cartella + intervento");
    }

    #[test]
    fn explicit_mapping_with_formats_and_value_maps() {
        let m = Mapping::parse(
            r#"
entity = "cartella"
[columns]
"DT APERTURA" = { field = "aperta_il", date_format = "dd/mm/yyyy" }
ST = "stato"
OLD = { ignore = true }
[values.stato]
APERTO = "aperta"
"#,
        )
        .unwrap();
        let r = resolve(
            Some(&m),
            &cols(&["ID_CARTELLA", "DT APERTURA", "ST", "OLD"]),
            None,
            "x.csv",
        )
        .unwrap();
        assert_eq!(
            fields_of(&r),
            vec![
                Some("cartella.id_legacy".into()),
                Some("cartella.aperta_il".into()),
                Some("cartella.stato".into()),
                None
            ]
        );
        assert_eq!(r.columns[1].date_format, Some(DateFormat::DayMonthYear));
        assert_eq!(
            r.columns[2]
                .values
                .as_ref()
                .unwrap()
                .get("APERTO")
                .map(String::as_str),
            Some("aperta")
        );
    }

    #[test]
    fn mapping_mistakes_are_explained() {
        let bad = |text: &str| {
            resolve(
                Some(&Mapping::parse(text).unwrap()),
                &cols(&["A", "B"]),
                None,
                "x.csv",
            )
            .unwrap_err()
        };
        assert!(bad("entity = \"persona\"\n[columns]\nZ = \"cognome\"").contains("does not have"));
        assert!(bad("entity = \"persona\"\n[columns]\nA = \"cognomen\"").contains("unknown field"));
        assert!(
            bad("entity = \"persona\"\n[columns]\nA = \"cognome\"\nB = \"cognome\"")
                .contains("two columns map to persona.cognome: \"A\" and \"B\"")
        );
        assert!(bad("entity = \"persona\"\n[columns]\nA = { field = \"cognome\", date_format = \"dd/mm/yyyy\" }").contains("not a date"));
        assert!(bad("entity = \"persone\"").contains("unknown entity"));
        assert!(Mapping::parse("colonne = 1").is_err());
        // A mistyped key in a column's table is named, with the keys there are.
        let typo = Mapping::parse(
            "entity = \"persona\"\n[columns]\nA = { field = \"data_nascita\", date_fromat = \"dd/mm/yyyy\" }",
        )
        .unwrap_err();
        assert!(
            typo.contains("unknown field `date_fromat`") && typo.contains("`date_format`"),
            "{typo}"
        );
        assert!(
            Mapping::parse("[columns]\nA = 3")
                .unwrap_err()
                .contains("a field name")
        );
    }
}
