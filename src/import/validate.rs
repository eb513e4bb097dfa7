//! From typed rows to records ready to store: one record per entity found in
//! a row, each checked against the rules, each kept or rejected with a stable
//! reason. Pure: no database (what the database already holds comes in as a
//! [`Known`] snapshot).

// Rejects are the rare path and carry the raw line by design; boxing them buys nothing.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use time::Date;

use super::reasons as r;
use super::spec::{self, Db};
use crate::codes::cf::{self, CodiceFiscale, Sex};
use crate::importers::fields::Entity;
use crate::importers::values::Value;

/// One entity's share of a source row.
#[derive(Debug, Clone)]
pub struct Staged {
    pub entity: Entity,
    pub legacy: String,
    /// Source file and line, shared by the records of one row.
    pub file: Arc<str>,
    pub line: u64,
    /// The original line, for the rejects file.
    pub raw: Arc<str>,
    pub fields: BTreeMap<&'static str, Value>,
}

/// A record that will not be stored, with everything needed to fix it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reject {
    pub file: String,
    pub line: u64,
    pub legacy_id: Option<String>,
    pub entity: Option<&'static str>,
    pub field: Option<String>,
    pub reason: &'static str,
    pub message: String,
    pub raw: String,
}

/// A record that passed every rule: its column values for the table.
#[derive(Debug, Clone)]
pub struct Valid {
    /// Aligned with the table's [`spec::Spec::columns`].
    pub values: Vec<Db>,
    /// Persons: normalised CF key and birth date, to merge the same person
    /// found under two legacy ids.
    pub person_key: Option<(String, Date)>,
}

/// A warning: the record is stored, but deserves a look.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Warning {
    pub file: String,
    pub line: u64,
    pub legacy_id: String,
    pub entity: &'static str,
    pub code: &'static str,
    pub message: String,
}

/// What the database and the reference data already know.
pub struct Known {
    pub today: Date,
    pub source: String,
    pub comuni_istat: HashSet<String>,
    pub comuni_by_name: HashMap<String, Vec<(String, String)>>,
    pub belfiori: HashSet<String>,
    pub prestazioni: HashSet<String>,
}

impl Known {
    fn comune_istat(&self, text: &str) -> Result<String, String> {
        let t = text.trim();
        if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
            return if self.comuni_istat.contains(t) {
                Ok(t.to_string())
            } else {
                Err(format!(
                    "ISTAT code {t} is not a comune in the reference data"
                ))
            };
        }
        self.by_name(t, "ISTAT").map(|(istat, _)| istat.clone())
    }

    /// The one current comune called `name` (ISTAT, Belfiore); `code` names
    /// the code the technician should write instead when the name is ambiguous.
    fn by_name(&self, name: &str, code: &str) -> Result<&(String, String), String> {
        match self
            .comuni_by_name
            .get(&name.to_lowercase())
            .map(Vec::as_slice)
        {
            Some([one]) => Ok(one),
            Some(many) if many.len() > 1 => Err(format!(
                "{name:?} names {} comuni: write the {code} code instead (see `siso codes comuni {name}`)",
                many.len()
            )),
            _ => Err(format!(
                "{name:?} is neither a valid {code} code nor the name of a current comune"
            )),
        }
    }

    fn belfiore(&self, text: &str) -> Result<String, String> {
        let t = text.trim().to_uppercase();
        if self.belfiori.contains(&t) {
            return Ok(t);
        }
        self.by_name(&t, "Belfiore")
            .map(|(_, belfiore)| belfiore.clone())
    }
}

pub(crate) fn reject(
    s: &Staged,
    field: Option<&str>,
    reason: &'static str,
    message: impl Into<String>,
) -> Reject {
    Reject {
        file: s.file.to_string(),
        line: s.line,
        legacy_id: Some(s.legacy.clone()),
        entity: Some(s.entity.name()),
        field: field.map(str::to_string),
        reason,
        message: message.into(),
        raw: s.raw.to_string(),
    }
}

struct Fields<'a>(&'a Staged);

impl Fields<'_> {
    fn text(&self, f: &str) -> Option<String> {
        match self.0.fields.get(f) {
            None | Some(Value::Empty) => None,
            Some(Value::Text(t)) => Some(t.trim()).filter(|s| !s.is_empty()).map(str::to_string),
            Some(v) => Some(v.to_text().trim().to_string()).filter(|s| !s.is_empty()),
        }
    }
    fn date(&self, f: &str) -> Result<Option<Date>, Reject> {
        match self.0.fields.get(f) {
            None | Some(Value::Empty) => Ok(None),
            Some(Value::Date(d)) => Ok(Some(*d)),
            Some(other) => Err(reject(
                self.0,
                Some(f),
                r::CELL_INVALID,
                format!("{} is not a date", other.to_text()),
            )),
        }
    }
    fn units(&self, f: &str, scale: u8) -> Result<Option<i64>, Reject> {
        match self.0.fields.get(f) {
            None | Some(Value::Empty) => Ok(None),
            Some(Value::Decimal { units, scale: s }) if *s == scale => Ok(Some(*units)),
            Some(other) => Err(reject(
                self.0,
                Some(f),
                r::CELL_INVALID,
                format!("{} is not an amount", other.to_text()),
            )),
        }
    }
    fn flag(&self, f: &str) -> Result<Option<bool>, Reject> {
        match self.0.fields.get(f) {
            None | Some(Value::Empty) => Ok(None),
            Some(Value::Flag(b)) => Ok(Some(*b)),
            Some(other) => Err(reject(
                self.0,
                Some(f),
                r::CELL_INVALID,
                format!("{} is not a yes/no flag", other.to_text()),
            )),
        }
    }
    fn required(&self, f: &str) -> Result<String, Reject> {
        self.text(f).ok_or_else(|| {
            reject(
                self.0,
                Some(f),
                r::REQUIRED_MISSING,
                format!("{f} is empty"),
            )
        })
    }
    fn required_date(&self, f: &str) -> Result<Date, Reject> {
        self.date(f)?.ok_or_else(|| {
            reject(
                self.0,
                Some(f),
                r::REQUIRED_MISSING,
                format!("{f} is empty"),
            )
        })
    }
}

fn opt_text(v: Option<String>) -> Db {
    v.map_or(Db::Null, Db::Text)
}
fn opt_date(v: Option<Date>) -> Db {
    v.map_or(Db::Null, Db::Date)
}
fn opt_int(v: Option<i64>) -> Db {
    v.map_or(Db::Null, Db::Int)
}

fn one_of(s: &Staged, f: &str, value: String, allowed: &[&str]) -> Result<String, Reject> {
    let norm = value.trim().to_lowercase().replace([' ', '-'], "_");
    if allowed.contains(&norm.as_str()) {
        Ok(norm)
    } else {
        Err(reject(
            s,
            Some(f),
            r::CODE_UNKNOWN,
            format!(
                "{value:?} is not one of {} (a value map in the mapping can translate it)",
                allowed.join(", ")
            ),
        ))
    }
}

fn not_after(s: &Staged, f: &str, d: Option<Date>, today: Date) -> Result<(), Reject> {
    match d {
        Some(d) if d > today => Err(reject(
            s,
            Some(f),
            r::DATE_IN_FUTURE,
            format!("{f} {d} is after today ({today})"),
        )),
        _ => Ok(()),
    }
}

fn ordered(s: &Staged, from: (&str, Option<Date>), to: (&str, Option<Date>)) -> Result<(), Reject> {
    match (from.1, to.1) {
        (Some(a), Some(b)) if b < a => Err(reject(
            s,
            Some(to.0),
            r::DATES_ORDER,
            format!("{} {b} comes before {} {a}", to.0, from.0),
        )),
        _ => Ok(()),
    }
}

const STATI_CARTELLA: &[&str] = &[
    "aperta",
    "presa_in_carico",
    "segnalata",
    "chiusa",
    "riaperta",
];
const PROFESSIONI: &[&str] = &[
    "assistente_sociale",
    "educatore",
    "psicologo",
    "amministrativo",
    "oss",
    "altro",
];
const UNITA: &[&str] = &["euro", "ore", "giorni", "accessi", "pasti", "km"];
const TIPI_DIARIO: &[&str] = &["nota", "colloquio", "relazione", "visita", "altro"];

/// What the batch and the database know of a record another one points to.
pub enum Parent {
    /// Stored before, or accepted in this batch: its row id.
    Id(i64),
    /// Rejected in this batch.
    Rejected,
    /// Not seen (yet).
    Unknown,
}

/// Resolves references to other records by legacy id.
pub trait Lookup {
    fn parent(&self, entity: Entity, legacy: &str) -> Parent;
}

fn resolve(
    lookup: &dyn Lookup,
    known: &Known,
    s: &Staged,
    field: &str,
    entity: Entity,
    legacy: &str,
) -> Result<Db, Reject> {
    match lookup.parent(entity, legacy) {
        Parent::Id(id) => Ok(Db::Id(id)),
        Parent::Rejected => Err(reject(
            s,
            Some(field),
            r::PARENT_REJECTED,
            format!(
                "{} {legacy} was rejected in this batch (or a line gives it other contents), so this \
                 record is too: fix that line first",
                entity.name()
            ),
        )),
        Parent::Unknown => Err(reject(
            s,
            Some(field),
            r::PARENT_MISSING,
            format!(
                "{} {legacy} is neither in this batch nor imported before from source {:?}",
                entity.name(),
                known.source
            ),
        )),
    }
}

/// SHA-256 of what the source said about a record: the JSON text
/// `["entity",{"field":"text",...}]` (fields in name order), written
/// without building a JSON tree. `buf` is scratch space, reused.
pub fn content_hash(s: &Staged, buf: &mut Vec<u8>) -> [u8; 32] {
    use sha2::Digest as _;
    buf.clear();
    buf.push(b'[');
    serde_json::to_writer(&mut *buf, s.entity.name()).expect("writing to a Vec");
    buf.extend_from_slice(b",{");
    for (n, (k, v)) in s.fields.iter().enumerate() {
        if n > 0 {
            buf.push(b',');
        }
        serde_json::to_writer(&mut *buf, k).expect("writing to a Vec");
        buf.push(b':');
        match v {
            Value::Text(t) => serde_json::to_writer(&mut *buf, t),
            other => serde_json::to_writer(&mut *buf, &other.to_text()),
        }
        .expect("writing to a Vec");
    }
    buf.extend_from_slice(b"}]");
    sha2::Sha256::digest(&buf[..]).into()
}

/// Checks one record against the rules; references go through `lookup`.
/// The record's content hash is the caller's (it was needed first, to tell
/// a repeated record from a conflicting one).
pub fn check_one(
    s: &Staged,
    known: &Known,
    lookup: &dyn Lookup,
    warnings: &mut Vec<Warning>,
) -> Result<Valid, Reject> {
    let f = Fields(s);
    let today = known.today;
    let mut person_key = None;
    let values = match s.entity {
        Entity::Operatore => {
            let cf = match f.text("codice_fiscale") {
                None => None,
                Some(code) => Some(match cf::parse(&code, today) {
                    Ok(CodiceFiscale::Personal(p)) => p.code,
                    Ok(CodiceFiscale::Temporary(t)) => t,
                    Err(e) => {
                        return Err(reject(
                            s,
                            Some("codice_fiscale"),
                            r::CF_INVALID,
                            e.to_string(),
                        ));
                    }
                }),
            };
            let professione = one_of(s, "professione", f.required("professione")?, PROFESSIONI)?;
            let (dal, al) = (f.date("attivo_dal")?, f.date("attivo_al")?);
            ordered(s, ("attivo_dal", dal), ("attivo_al", al))?;
            vec![
                opt_text(cf),
                Db::Text(f.required("cognome")?),
                Db::Text(f.required("nome")?),
                Db::Text(professione),
                opt_date(dal),
                opt_date(al),
            ]
        }
        Entity::Persona => {
            let cognome = f.required("cognome")?;
            let nome = f.required("nome")?;
            let sesso = match f.text("sesso").map(|x| x.to_uppercase()) {
                None => None,
                Some(x) if x == "M" || x == "1" => Some(Sex::M),
                Some(x) if x == "F" || x == "2" => Some(Sex::F),
                Some(x) => {
                    return Err(reject(
                        s,
                        Some("sesso"),
                        r::VALUE_INVALID,
                        format!("sex {x:?} is not M or F (or INPS 1/2)"),
                    ));
                }
            };
            let nascita = f.date("data_nascita")?;
            not_after(s, "data_nascita", nascita, today)?;
            let decesso = f.date("data_decesso")?;
            not_after(s, "data_decesso", decesso, today)?;
            ordered(s, ("data_nascita", nascita), ("data_decesso", decesso))?;
            let belfiore = match f.text("luogo_nascita") {
                None => None,
                Some(t) => Some(
                    known
                        .belfiore(&t)
                        .map_err(|m| reject(s, Some("luogo_nascita"), r::CODE_UNKNOWN, m))?,
                ),
            };
            let residenza = match f.text("residenza_istat") {
                None => None,
                Some(t) => Some(
                    known
                        .comune_istat(&t)
                        .map_err(|m| reject(s, Some("residenza_istat"), r::CODE_UNKNOWN, m))?,
                ),
            };
            let (codice, chiave, temporaneo) = match f.text("codice_fiscale") {
                Some(code) => match cf::parse(&code, today) {
                    Ok(CodiceFiscale::Personal(p)) => {
                        if let Some(m) =
                            cf::consistency(&p, nascita, sesso, belfiore.as_deref()).first()
                        {
                            let reason = match m.code() {
                                "CF_BIRTHDATE_MISMATCH" => r::CF_BIRTHDATE_MISMATCH,
                                "CF_SEX_MISMATCH" => r::CF_SEX_MISMATCH,
                                _ => r::CF_BIRTHPLACE_MISMATCH,
                            };
                            return Err(reject(s, Some("codice_fiscale"), reason, m.to_string()));
                        }
                        (Some(p.code), Some(p.key), None)
                    }
                    Ok(CodiceFiscale::Temporary(t)) => (Some(t.clone()), Some(t), None),
                    Err(e) => {
                        return Err(reject(
                            s,
                            Some("codice_fiscale"),
                            r::CF_INVALID,
                            format!("{} [{}]", e, e.code()),
                        ));
                    }
                },
                // A file without the column updates a stored person's
                // other fields and keeps its code (see `spec::source_field`).
                None if !s.fields.contains_key("codice_fiscale")
                    && matches!(lookup.parent(Entity::Persona, &s.legacy), Parent::Id(_)) =>
                {
                    (None, None, None)
                }
                None => {
                    warnings.push(Warning {
                        file: s.file.to_string(),
                        line: s.line,
                        legacy_id: s.legacy.clone(),
                        entity: "persona",
                        code: r::PERSONA_SENZA_CF,
                        message: "no codice fiscale: stored with a temporary identifier, never merged with anyone".into(),
                    });
                    let id =
                        crate::sha256_hex(format!("{}\u{1f}{}", known.source, s.legacy).as_bytes());
                    (None, None, Some(format!("TMP-{}", &id[..16])))
                }
            };
            if let (Some(k), Some(d)) = (&chiave, nascita) {
                person_key = Some((k.clone(), d));
            }
            vec![
                opt_text(codice),
                opt_text(chiave),
                opt_text(temporaneo),
                Db::Text(cognome),
                Db::Text(nome),
                opt_text(sesso.map(|x| x.to_string())),
                opt_date(nascita),
                opt_text(belfiore),
                opt_text(residenza),
                opt_text(f.text("indirizzo")),
                opt_text(f.text("telefono")),
                opt_text(f.text("email")),
                opt_date(decesso),
            ]
        }
        Entity::Cartella => {
            let persona = resolve(
                lookup,
                known,
                s,
                "persona_id_legacy",
                Entity::Persona,
                &f.required("persona_id_legacy")?,
            )?;
            let comune = known
                .comune_istat(&f.required("comune_istat")?)
                .map_err(|m| reject(s, Some("comune_istat"), r::CODE_UNKNOWN, m))?;
            let operatore = match f.text("operatore") {
                None => Db::Null,
                Some(op) => resolve(lookup, known, s, "operatore", Entity::Operatore, &op)?,
            };
            let categoria = match f.text("categoria") {
                None => None,
                Some(c) if ["1", "2", "3", "4"].contains(&c.as_str()) => Some(c),
                Some(c) => {
                    return Err(reject(
                        s,
                        Some("categoria"),
                        r::CODE_UNKNOWN,
                        format!(
                            "category {c:?} is not 1-4 (famiglia e minori, disabili, adulti, anziani)"
                        ),
                    ));
                }
            };
            let aperta = f.required_date("aperta_il")?;
            not_after(s, "aperta_il", Some(aperta), today)?;
            let chiusa = f.date("chiusa_il")?;
            not_after(s, "chiusa_il", chiusa, today)?;
            ordered(s, ("aperta_il", Some(aperta)), ("chiusa_il", chiusa))?;
            let stato = match f.text("stato") {
                Some(st) => one_of(s, "stato", st, STATI_CARTELLA)?,
                None if chiusa.is_some() => "chiusa".into(),
                None => "aperta".into(),
            };
            if stato == "chiusa" && chiusa.is_none() {
                return Err(reject(
                    s,
                    Some("chiusa_il"),
                    r::REQUIRED_MISSING,
                    "the case is closed but has no closing date",
                ));
            }
            vec![
                persona,
                Db::Text(f.text("numero").unwrap_or_else(|| s.legacy.clone())),
                Db::Text(comune),
                operatore,
                opt_text(categoria),
                Db::Date(aperta),
                opt_date(chiusa),
                Db::Text(stato),
            ]
        }
        Entity::CartellaStato => {
            let cartella = resolve(
                lookup,
                known,
                s,
                "cartella_id_legacy",
                Entity::Cartella,
                &f.required("cartella_id_legacy")?,
            )?;
            let stato = one_of(s, "stato", f.required("stato")?, STATI_CARTELLA)?;
            let dal = f.required_date("dal")?;
            not_after(s, "dal", Some(dal), today)?;
            vec![
                cartella,
                Db::Text(stato),
                Db::Date(dal),
                opt_text(f.text("nota")),
            ]
        }
        Entity::Intervento => {
            let cartella = resolve(
                lookup,
                known,
                s,
                "cartella_id_legacy",
                Entity::Cartella,
                &f.required("cartella_id_legacy")?,
            )?;
            let prestazione = match f.text("prestazione").map(|p| p.to_uppercase()) {
                Some(p) if !known.prestazioni.contains(&p) => {
                    return Err(reject(
                        s,
                        Some("prestazione"),
                        r::CODE_UNKNOWN,
                        format!(
                            "prestazione {p:?} is not an INPS code known to siso (see `siso codes prestazioni`; a value map can translate legacy codes)"
                        ),
                    ));
                }
                p => p,
            };
            let area = match f.text("area_utenza") {
                Some(a) if !["1", "2", "3"].contains(&a.as_str()) => {
                    return Err(reject(
                        s,
                        Some("area_utenza"),
                        r::CODE_UNKNOWN,
                        format!("area utenza {a:?} is not 1, 2 or 3 (INPS)"),
                    ));
                }
                a => a,
            };
            let inizio = f.required_date("inizio")?;
            let fine = f.date("fine")?;
            ordered(s, ("inizio", Some(inizio)), ("fine", fine))?;
            let periodicita = one_of(
                s,
                "periodicita",
                f.required("periodicita")?,
                &["periodica", "una_tantum"],
            )?;
            let importo = f.units("importo_previsto", 2)?;
            if importo.is_some_and(|i| i < 0) {
                return Err(reject(
                    s,
                    Some("importo_previsto"),
                    r::VALUE_INVALID,
                    "the planned amount is negative",
                ));
            }
            vec![
                cartella,
                opt_text(prestazione),
                opt_text(area),
                Db::Date(inizio),
                opt_date(fine),
                Db::Text(periodicita),
                opt_int(importo),
            ]
        }
        Entity::Erogazione => {
            let intervento = resolve(
                lookup,
                known,
                s,
                "intervento_id_legacy",
                Entity::Intervento,
                &f.required("intervento_id_legacy")?,
            )?;
            let data = f.required_date("data")?;
            not_after(s, "data", Some(data), today)?;
            let (dal, al) = (f.date("periodo_dal")?, f.date("periodo_al")?);
            ordered(s, ("periodo_dal", dal), ("periodo_al", al))?;
            let unita = match f.text("unita") {
                Some(u) => one_of(s, "unita", u, UNITA)?,
                None => "euro".into(),
            };
            vec![
                intervento,
                Db::Date(data),
                opt_date(dal),
                opt_date(al),
                Db::Int(f.units("importo", 2)?.unwrap_or(0)),
                Db::Int(f.units("quota_utente", 2)?.unwrap_or(0)),
                Db::Int(f.units("quota_ssn", 2)?.unwrap_or(0)),
                Db::Int(f.units("quota_ente", 2)?.unwrap_or(0)),
                opt_int(f.units("quantita", 3)?),
                Db::Text(unita),
            ]
        }
        Entity::Diario => {
            let cartella = resolve(
                lookup,
                known,
                s,
                "cartella_id_legacy",
                Entity::Cartella,
                &f.required("cartella_id_legacy")?,
            )?;
            let data = f.required_date("data")?;
            not_after(s, "data", Some(data), today)?;
            let tipo = match f.text("tipo") {
                Some(t) => one_of(s, "tipo", t, TIPI_DIARIO)?,
                None => "nota".into(),
            };
            let operatore = match f.text("operatore") {
                None => Db::Null,
                Some(op) => resolve(lookup, known, s, "operatore", Entity::Operatore, &op)?,
            };
            vec![
                cartella,
                Db::Date(data),
                Db::Text(tipo),
                Db::Text(f.required("testo")?),
                Db::Bool(f.flag("riservato")?.unwrap_or(false)),
                operatore,
            ]
        }
        Entity::ValutazioneSina => {
            let persona = resolve(
                lookup,
                known,
                s,
                "persona_id_legacy",
                Entity::Persona,
                &f.required("persona_id_legacy")?,
            )?;
            let intervento = match f.text("intervento_id_legacy") {
                None => Db::Null,
                Some(i) => resolve(
                    lookup,
                    known,
                    s,
                    "intervento_id_legacy",
                    Entity::Intervento,
                    &i,
                )?,
            };
            let data = f.date("data")?;
            not_after(s, "data", data, today)?;
            let dati = f.required("dati")?;
            if !serde_json::from_str::<serde_json::Value>(&dati).is_ok_and(|v| v.is_object()) {
                return Err(reject(
                    s,
                    Some("dati"),
                    r::VALUE_INVALID,
                    "the assessment is not a JSON object",
                ));
            }
            vec![persona, intervento, opt_date(data), Db::Text(dati)]
        }
        Entity::Nucleo => {
            let persona = resolve(
                lookup,
                known,
                s,
                "persona_id_legacy",
                Entity::Persona,
                &f.required("persona_id_legacy")?,
            )?;
            let componente = match f.text("componente_id_legacy") {
                None => Db::Null,
                Some(c) => resolve(
                    lookup,
                    known,
                    s,
                    "componente_id_legacy",
                    Entity::Persona,
                    &c,
                )?,
            };
            let (cognome, nome) = (f.text("cognome"), f.text("nome"));
            if componente == Db::Null && cognome.is_none() && nome.is_none() {
                return Err(reject(
                    s,
                    Some("cognome"),
                    r::REQUIRED_MISSING,
                    "a household member needs a name or a componente_id_legacy",
                ));
            }
            vec![
                persona,
                componente,
                opt_text(cognome),
                opt_text(nome),
                opt_date(f.date("data_nascita")?),
                Db::Text(f.required("relazione")?),
            ]
        }
    };
    debug_assert_eq!(values.len(), spec::of(s.entity).columns.len());
    Ok(Valid { values, person_key })
}
