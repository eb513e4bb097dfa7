//! SIUSS (INPS Casellario dell'Assistenza) XML flows, `PS_PSA_SINA201812.xsd`:
//! namespace `http://inps.it/Casellario`, root `Flusso`, one or many
//! `Beneficiario` each with `Anagrafica`, `Indirizzo` and `PrestazioniSociali`
//! (optionally with a `SINA` assessment). Every cartella product can export
//! them, so they are the one "other cartella" format all sources share.
//!
//! Safety: the file is read as a stream (one tag at a time). A `<!DOCTYPE`
//! refuses the whole file (`XML_DTD_REFUSED`): nothing here ever resolves a
//! DTD or an entity beyond the five predefined ones and character references,
//! so external entities and "billion laughs" expansions cannot happen. Element
//! depth and the size of a single tag or text are capped, so memory stays
//! bounded whatever the file holds.
//!
//! What SIUSS has and SISO wants differ, and the choices are:
//! - Beneficiario -> persona, legacy id = the codice fiscale. SIUSS gives the
//!   birth YEAR only: the birth date is left empty, never invented.
//! - SIUSS has no case: one cartella per beneficiary (legacy id `SIUSS-<CF>`)
//!   across all the XML files of a batch; its comune is the residence comune
//!   (first `Indirizzo` with an ISTAT code), else the comune of the sending
//!   ente's seat; it opens on the earliest prestazione date; it is
//!   `presa_in_carico` when any prestazione says PresaCarico 1.
//! - Each PrestazioniSociali -> intervento, legacy id
//!   `SIUSS-<CF>-<ProtocolloDomanda>-<CodicePrestazione>-<start>` (the CF is in
//!   it because a protocollo may cover a whole household), and one erogazione
//!   when it has a payment date or an amount, legacy id `<intervento>-<date>`.
//!   Planned amount: ImportoMensile, or ImportoPrestazione for a one-off.
//! - A prestazione with TipoOperazione C cancels an earlier submission: it is
//!   rejected (`SIUSS_CANCELLAZIONE`), never applied silently.
//! - SINA -> valutazione_sina of the person and the intervento, `dati` = the
//!   SINA element as JSON (attributes, then the lists NecessitaInterventiSociali
//!   and InvaliditaCivile); legacy id `<intervento>-SINA`. The flow gives no
//!   assessment date, so `data` stays empty.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read as _};
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::Origin;
use super::fields::Entity;
use super::reasons::{SIUSS_CANCELLAZIONE, XML_DTD_REFUSED};
use super::values::{DecimalStyle, Value, parse_decimal};

pub const NAMESPACE: &str = "http://inps.it/Casellario";
/// Deepest nesting the XSD allows is 6 (Flusso/Beneficiario/PrestazioniSociali/SINA/InvaliditaCivile/InvCiv).
pub const MAX_DEPTH: usize = 16;
/// Largest single tag or text: a SIUSS tag is a few hundred bytes.
pub const MAX_EVENT_BYTES: u64 = 64 * 1024;

/// The sending ente (`IdentificazioneFlusso/Ente`).
#[derive(Debug, Clone, Default)]
pub struct EnteFlusso {
    pub codice: String,
    /// Belfiore code of the ente's seat.
    pub belfiore: String,
}

/// One element's attributes by local name, where it starts, and its tag.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub line: u64,
    pub raw: String,
    pub attrs: BTreeMap<String, String>,
}

impl Element {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

#[derive(Debug, Clone, Default)]
pub struct Prestazione {
    pub element: Element,
    /// The SINA assessment as a JSON object: its attributes, and the lists
    /// `NecessitaInterventiSociali` and `InvaliditaCivile`.
    pub sina: Option<serde_json::Value>,
    pub sina_line: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Beneficiario {
    pub element: Element,
    pub anagrafica: Element,
    pub indirizzi: Vec<Element>,
    pub prestazioni: Vec<Prestazione>,
}

impl Beneficiario {
    /// The codice fiscale as SIUSS pads it (temporary codes carry trailing blanks).
    pub fn cf(&self) -> String {
        self.element
            .get("CodiceFiscale")
            .unwrap_or("")
            .to_uppercase()
    }
}

/// A `BufRead` that refuses to hand out more than [`MAX_EVENT_BYTES`] between
/// two resets, so one endless tag cannot fill memory; it also counts lines.
struct Capped<R> {
    inner: R,
    since_reset: u64,
    consumed: u64,
    lines: u64,
}

impl<R: BufRead> std::io::Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(buf.len());
            buf[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Capped<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.since_reset > MAX_EVENT_BYTES {
            return Err(std::io::Error::other(format!(
                "a single tag or text is longer than {} KiB: not a SIUSS flow",
                MAX_EVENT_BYTES / 1024
            )));
        }
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            self.lines += buf[..amt.min(buf.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
        }
        self.since_reset += amt as u64;
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

/// 1-based line and column (in characters) of byte `offset` of the file.
pub fn line_column(path: &Path, offset: u64) -> (u64, u64) {
    let Ok(f) = std::fs::File::open(path) else {
        return (0, 0);
    };
    let (mut line, mut column) = (1u64, 1u64);
    for byte in BufReader::new(f).bytes().take(offset as usize) {
        match byte {
            Ok(b'\n') => {
                line += 1;
                column = 1;
            }
            // UTF-8 continuation bytes belong to the character before.
            Ok(b) if (0x80..0xC0).contains(&b) => {}
            Ok(_) => column += 1,
            Err(_) => break,
        }
    }
    (line, column)
}

fn at(path: &Path, offset: u64, message: impl std::fmt::Display) -> crate::Error {
    let (line, column) = line_column(path, offset);
    crate::Error::Input(format!(
        "{} line {line} column {column}: {message}",
        path.display()
    ))
}

fn element(e: &BytesStart<'_>, line: u64) -> Result<Element, String> {
    let mut attrs = BTreeMap::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        let key = a.key.local_name().as_ref().to_string();
        if key == "xmlns" || a.key.as_ref().starts_with("xmlns:") {
            continue;
        }
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| format!("attribute {key}: {err}"))?;
        attrs.insert(key, value.into_owned());
    }
    Ok(Element {
        line,
        raw: super::excerpt(&format!("<{}>", &**e), 2000),
        attrs,
    })
}

/// Reads one flow, handing each complete beneficiary to `sink`; returns the
/// sending ente. Malformed or hostile files are an [`crate::Error::Input`]
/// naming the line and column.
pub fn read(path: &Path, sink: &mut dyn FnMut(Beneficiario, &Origin)) -> crate::Result<EnteFlusso> {
    let file = std::fs::File::open(path)
        .map_err(|e| crate::Error::io(format!("cannot read {}", path.display()), e))?;
    let mut reader = NsReader::from_reader(Capped {
        inner: BufReader::new(file),
        since_reset: 0,
        consumed: 0,
        lines: 0,
    });
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut ente = EnteFlusso::default();
    let mut current: Option<Beneficiario> = None;
    // SINA being read: the object, and the text of the list item inside it.
    let mut sina: Option<serde_json::Map<String, serde_json::Value>> = None;
    let mut text = String::new();
    let mut seen_root = false;
    let name = super::display_name(path);
    loop {
        buf.clear();
        let start = reader.get_ref().consumed;
        let line = reader.get_ref().lines + 1;
        reader.get_mut().since_reset = 0;
        let (ns, event) = match reader.read_resolved_event_into(&mut buf) {
            Ok(x) => x,
            Err(e) => return Err(at(path, reader.error_position(), e)),
        };
        let ours = matches!(&ns, ResolveResult::Bound(n) if n.0 == NAMESPACE);
        match event {
            Event::DocType(_) => {
                return Err(at(
                    path,
                    start,
                    format!(
                        "the file declares a DTD (<!DOCTYPE ...>): SIUSS flows have none, and DTDs can \
                         pull external files or expand entities without bound, so the file is refused \
                         [{XML_DTD_REFUSED}]"
                    ),
                ));
            }
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding() {
                    let enc = enc.to_ascii_lowercase();
                    if enc != "utf-8" && enc != "utf8" {
                        return Err(at(
                            path,
                            start,
                            format!(
                                "encoding {enc:?}: SIUSS flows are UTF-8; convert the file first"
                            ),
                        ));
                    }
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name().as_ref().to_string();
                let is_empty = matches!(event, Event::Empty(_));
                if stack.len() >= MAX_DEPTH {
                    return Err(at(
                        path,
                        start,
                        format!("elements nested deeper than {MAX_DEPTH}: not a SIUSS flow"),
                    ));
                }
                if !seen_root {
                    if !(ours && local == "Flusso") {
                        return Err(at(
                            path,
                            start,
                            format!(
                                "the root element is <{}>, not <Flusso> of namespace {NAMESPACE}: not a SIUSS flow",
                                e.name().as_ref()
                            ),
                        ));
                    }
                    seen_root = true;
                }
                let el = element(e, line).map_err(|m| at(path, start, m))?;
                let parent = stack.last().map(String::as_str);
                if ours {
                    match (parent, local.as_str()) {
                        (Some("IdentificazioneFlusso"), "Ente") => {
                            ente.codice = el.get("Codice").unwrap_or("").to_string();
                            ente.belfiore = el.get("Indirizzo").unwrap_or("").to_uppercase();
                        }
                        (Some("Flusso"), "Beneficiario") => {
                            if el.get("CodiceFiscale").is_none() {
                                return Err(at(path, start, "Beneficiario without CodiceFiscale"));
                            }
                            current = Some(Beneficiario {
                                element: el,
                                ..Default::default()
                            });
                        }
                        (Some("Beneficiario"), "Anagrafica") => {
                            if let Some(b) = current.as_mut() {
                                b.anagrafica = el;
                            }
                        }
                        (Some("Beneficiario"), "Indirizzo") => {
                            if let Some(b) = current.as_mut() {
                                b.indirizzi.push(el);
                            }
                        }
                        (Some("Beneficiario"), "PrestazioniSociali") => {
                            if let Some(b) = current.as_mut() {
                                b.prestazioni.push(Prestazione {
                                    element: el,
                                    sina: None,
                                    sina_line: 0,
                                });
                            }
                        }
                        (Some("PrestazioniSociali"), "SINA") => {
                            if let Some(p) = current.as_mut().and_then(|b| b.prestazioni.last_mut())
                            {
                                p.sina_line = line;
                            }
                            sina = Some(
                                el.attrs
                                    .into_iter()
                                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                                    .collect(),
                            );
                        }
                        (Some("NecessitaInterventiSociali" | "InvaliditaCivile"), _) => {
                            text.clear()
                        }
                        _ => {}
                    }
                }
                if is_empty {
                    close(
                        &local,
                        &mut current,
                        &mut sina,
                        &mut text,
                        &stack,
                        sink,
                        &name,
                    );
                } else {
                    stack.push(local);
                }
            }
            Event::End(_) => {
                let Some(local) = stack.pop() else {
                    return Err(at(path, start, "closing tag without an opening one"));
                };
                close(
                    &local,
                    &mut current,
                    &mut sina,
                    &mut text,
                    &stack,
                    sink,
                    &name,
                );
            }
            Event::Text(t) => {
                // Character data outside the root: not XML at all (a CSV
                // export given as a flow, say). Said where it starts.
                if !seen_root && !t.trim().is_empty() {
                    return Err(at(
                        path,
                        start,
                        "text before the root element: not an XML file (a SIUSS flow starts with \
                         <?xml ...?> and <Flusso>)",
                    ));
                }
                if sina.is_some() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if sina.is_some() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    Ok(None) => {
                        quick_xml::escape::resolve_predefined_entity(&r).map(str::to_string)
                    }
                    Err(e) => return Err(at(path, start, e)),
                };
                match resolved {
                    Some(s) if sina.is_some() => text.push_str(&s),
                    Some(_) => {}
                    None => {
                        return Err(at(
                            path,
                            start,
                            format!(
                                "entity &{}; is not one of the five XML defines: entities are never expanded \
                                 [{XML_DTD_REFUSED}]",
                                &*r
                            ),
                        ));
                    }
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
        if text.len() as u64 > MAX_EVENT_BYTES {
            return Err(at(path, start, "text too long: not a SIUSS flow"));
        }
    }
    if !seen_root {
        return Err(crate::Error::Input(format!(
            "{}: no <Flusso> element: the file is empty or not a SIUSS flow",
            path.display()
        )));
    }
    Ok(ente)
}

/// An element ends: finish what it completes.
fn close(
    local: &str,
    current: &mut Option<Beneficiario>,
    sina: &mut Option<serde_json::Map<String, serde_json::Value>>,
    text: &mut String,
    stack: &[String],
    sink: &mut dyn FnMut(Beneficiario, &Origin),
    file: &str,
) {
    let parent = stack.last().map(String::as_str);
    match (parent, local) {
        (Some("Flusso"), "Beneficiario") => {
            if let Some(b) = current.take() {
                let origin = Origin {
                    file: file.to_string(),
                    line: b.element.line,
                };
                sink(b, &origin);
            }
        }
        (Some("PrestazioniSociali"), "SINA") => {
            if let (Some(s), Some(p)) = (
                sina.take(),
                current.as_mut().and_then(|b| b.prestazioni.last_mut()),
            ) {
                p.sina = Some(serde_json::Value::Object(s));
            }
        }
        (Some(list @ ("NecessitaInterventiSociali" | "InvaliditaCivile")), _) => {
            if let Some(s) = sina.as_mut() {
                let item = serde_json::Value::String(text.trim().to_string());
                match s
                    .entry(list.to_string())
                    .or_insert_with(|| serde_json::Value::Array(Vec::new()))
                {
                    serde_json::Value::Array(a) => a.push(item),
                    other => *other = serde_json::Value::Array(vec![item]),
                }
            }
            text.clear();
        }
        _ => {}
    }
}

/// One record for the storing half: an entity's fields, keyed like
/// [`super::fields`] names them.
#[derive(Debug, Clone)]
pub struct Record {
    pub entity: Entity,
    pub legacy: String,
    pub origin: Origin,
    pub raw: String,
    pub fields: BTreeMap<&'static str, Value>,
    /// Refused by the reader: reason code and message.
    pub refused: Option<(&'static str, String)>,
}

fn text(s: Option<&str>) -> Value {
    s.map_or(Value::Empty, |s| Value::Text(s.to_string()))
}

/// The records of one beneficiary: persona, cartella, interventi, erogazioni.
/// `seat_istat` is the ISTAT code of the sending ente's seat, the cartella's
/// comune when the beneficiary has no Italian residence.
pub fn records(b: &Beneficiario, origin: &Origin, seat_istat: Option<&str>) -> Vec<Record> {
    let cf = b.cf();
    let a = &b.anagrafica;
    let at = |line| Origin {
        file: origin.file.clone(),
        line,
    };
    let mut out = Vec::new();
    let mut persona = BTreeMap::new();
    persona.insert("id_legacy", Value::Text(cf.clone()));
    persona.insert("codice_fiscale", Value::Text(cf.clone()));
    persona.insert("cognome", text(a.get("Cognome")));
    persona.insert("nome", text(a.get("Nome")));
    persona.insert("sesso", text(a.get("Genere")));
    persona.insert("luogo_nascita", text(a.get("LuogoNascita")));
    persona.insert("cittadinanza", text(a.get("CodiceCittadinanza")));
    let residenza = b.indirizzi.iter().find_map(|i| i.get("CodiceComune"));
    persona.insert("residenza_istat", text(residenza));
    out.push(Record {
        entity: Entity::Persona,
        legacy: cf.clone(),
        origin: origin.clone(),
        raw: format!("{}{}", b.element.raw, a.raw),
        fields: persona,
        refused: None,
    });

    let cartella_legacy = format!("SIUSS-{cf}");
    let mut aperta: Option<time::Date> = None;
    let mut presa_in_carico = false;
    for p in &b.prestazioni {
        let e = &p.element;
        let inizio = date(
            e.get("DataInizioPrestazione")
                .or(e.get("DataErogazionePrestazione"))
                .or(e.get("DataEvento")),
        );
        let inizio_text = inizio.to_text();
        if let Value::Date(d) = inizio {
            aperta = Some(aperta.map_or(d, |a| a.min(d)));
        }
        presa_in_carico |= e.get("PresaCarico") == Some("1");
        let codice = e.get("CodicePrestazione").unwrap_or("").to_uppercase();
        let legacy = format!(
            "SIUSS-{cf}-{}-{codice}-{inizio_text}",
            e.get("ProtocolloDomanda").unwrap_or("")
        );
        let fine = e.get("DataFinePrestazione");
        let periodicita = match e.get("CaratterePrestazione") {
            Some("1") => Value::Text("periodica".into()),
            Some("2") => Value::Text("una_tantum".into()),
            Some(other) => Value::Text(other.to_string()),
            // Optional in the XSD: a period, a monthly amount or an end date say periodic.
            None if fine.is_some()
                || e.get("PeriodoErogazione").is_some()
                || e.get("ImportoMensile").is_some() =>
            {
                Value::Text("periodica".into())
            }
            None => Value::Text("una_tantum".into()),
        };
        let previsto = match e.get("ImportoMensile") {
            Some(m) => decimal(Some(m), 2),
            None if periodicita == Value::Text("una_tantum".into()) => {
                decimal(e.get("ImportoPrestazione"), 2)
            }
            None => Value::Empty,
        };
        let mut f = BTreeMap::new();
        f.insert("id_legacy", Value::Text(legacy.clone()));
        f.insert("cartella_id_legacy", Value::Text(cartella_legacy.clone()));
        f.insert("prestazione", Value::Text(codice));
        f.insert("area_utenza", text(e.get("AreaUtenza")));
        f.insert("inizio", inizio.clone());
        f.insert("fine", date(fine));
        f.insert("periodicita", periodicita);
        f.insert("importo_previsto", previsto);
        let refused = (e.get("TipoOperazione") == Some("C")).then(|| {
            (
                SIUSS_CANCELLAZIONE,
                "TipoOperazione C cancels a prestazione sent earlier: siso does not apply cancellations \
                 from a flow; drop it from the file (or undo the batch that brought it)"
                    .to_string(),
            )
        });
        out.push(Record {
            entity: Entity::Intervento,
            legacy: legacy.clone(),
            origin: at(e.line),
            raw: e.raw.clone(),
            fields: f,
            refused: refused.clone(),
        });
        if let Some(sina) = &p.sina {
            let mut v = BTreeMap::new();
            v.insert("id_legacy", Value::Text(format!("{legacy}-SINA")));
            v.insert("persona_id_legacy", Value::Text(cf.clone()));
            v.insert("intervento_id_legacy", Value::Text(legacy.clone()));
            v.insert("dati", Value::Text(sina.to_string()));
            out.push(Record {
                entity: Entity::ValutazioneSina,
                legacy: format!("{legacy}-SINA"),
                origin: at(p.sina_line),
                raw: e.raw.clone(),
                fields: v,
                refused: None,
            });
        }
        let pagata = e.get("DataErogazionePrestazione");
        if refused.is_none() && (pagata.is_some() || e.get("ImportoPrestazione").is_some()) {
            let data = date(pagata).to_text();
            let data = if data.is_empty() {
                inizio_text.clone()
            } else {
                data
            };
            let mut g = BTreeMap::new();
            g.insert("id_legacy", Value::Text(format!("{legacy}-{data}")));
            g.insert("intervento_id_legacy", Value::Text(legacy.clone()));
            g.insert("data", date(Some(&data)));
            g.insert("periodo_dal", inizio.clone());
            g.insert("periodo_al", date(fine));
            g.insert("importo", decimal(e.get("ImportoPrestazione"), 2));
            g.insert("quota_utente", decimal(e.get("ImportoQuotaUtente"), 2));
            g.insert("quota_ssn", decimal(e.get("ImportoQuotaSSN"), 2));
            g.insert("quota_ente", decimal(e.get("ImportoQuotaEnte"), 2));
            if let Some(ore) = e.get("OreServizioMensile") {
                g.insert("quantita", decimal(Some(ore), 3));
                g.insert("unita", Value::Text("ore".into()));
            }
            out.push(Record {
                entity: Entity::Erogazione,
                legacy: format!("{legacy}-{data}"),
                origin: at(e.line),
                raw: e.raw.clone(),
                fields: g,
                refused: None,
            });
        }
    }
    let mut c = BTreeMap::new();
    c.insert("id_legacy", Value::Text(cartella_legacy.clone()));
    c.insert("persona_id_legacy", Value::Text(cf.clone()));
    c.insert("comune_istat", text(residenza.or(seat_istat)));
    c.insert("aperta_il", aperta.map_or(Value::Empty, Value::Date));
    c.insert(
        "stato",
        Value::Text(
            if presa_in_carico {
                "presa_in_carico"
            } else {
                "aperta"
            }
            .into(),
        ),
    );
    // Parents before children, as a flat export would give them.
    out.insert(
        1,
        Record {
            entity: Entity::Cartella,
            legacy: cartella_legacy,
            origin: origin.clone(),
            raw: b.element.raw.clone(),
            fields: c,
            refused: None,
        },
    );
    out
}

/// One cartella per beneficiary across the batch: a beneficiary found in
/// several files (one flow a month, say) opens on the earliest prestazione
/// of all, and is taken in charge if any file says so.
pub fn merge_cartelle(records: Vec<Record>) -> Vec<Record> {
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<Record> = Vec::with_capacity(records.len());
    for r in records {
        if r.entity != Entity::Cartella {
            out.push(r);
            continue;
        }
        match first.get(&r.legacy) {
            None => {
                first.insert(r.legacy.clone(), out.len());
                out.push(r);
            }
            Some(&i) => {
                let kept = &mut out[i].fields;
                if let (Some(Value::Date(new)), Some(Value::Date(old))) =
                    (r.fields.get("aperta_il"), kept.get("aperta_il"))
                    && new < old
                {
                    kept.insert("aperta_il", Value::Date(*new));
                }
                if kept.get("aperta_il") == Some(&Value::Empty) {
                    kept.insert("aperta_il", r.fields["aperta_il"].clone());
                }
                if r.fields.get("stato") == Some(&Value::Text("presa_in_carico".into())) {
                    kept.insert("stato", Value::Text("presa_in_carico".into()));
                }
            }
        }
    }
    out
}

/// An `xs:date` (`2024-03-01`, possibly with a time zone) as a date; a value
/// that is not one stays text, so validation rejects it with its reason.
pub fn date(s: Option<&str>) -> Value {
    let Some(s) = s else { return Value::Empty };
    let day = s.get(..10).unwrap_or(s);
    let rest = s.get(10..).unwrap_or("");
    let zone_ok = rest.is_empty()
        || rest == "Z"
        || (rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')));
    match time::Date::parse(
        day,
        &time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        Ok(d) if zone_ok => Value::Date(d),
        _ => Value::Text(s.to_string()),
    }
}

/// An `xs:decimal` in units of 10^-scale; text when it is not one.
pub fn decimal(s: Option<&str>, scale: u8) -> Value {
    let Some(s) = s else { return Value::Empty };
    let plain = s.trim_start_matches(['+', '-']);
    let well_formed = !plain.is_empty()
        && plain.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && plain.bytes().filter(|b| *b == b'.').count() <= 1;
    match parse_decimal(s, DecimalStyle::Dot, scale) {
        Some(units) if well_formed => Value::Decimal { units, scale },
        _ => Value::Text(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn xsd_dates_and_decimals() {
        assert_eq!(date(Some("2024-03-01")), Value::Date(date!(2024 - 03 - 01)));
        assert_eq!(
            date(Some("2024-03-01+01:00")),
            Value::Date(date!(2024 - 03 - 01))
        );
        assert_eq!(date(Some("01/03/2024")), Value::Text("01/03/2024".into()));
        assert_eq!(date(None), Value::Empty);
        assert_eq!(
            decimal(Some("1234.5"), 2),
            Value::Decimal {
                units: 123_450,
                scale: 2
            }
        );
        assert_eq!(
            decimal(Some("1,234.50"), 2),
            Value::Text("1,234.50".into()),
            "xs:decimal has no thousands separator"
        );
        assert_eq!(decimal(Some("1.234"), 2), Value::Text("1.234".into()));
    }

    #[test]
    fn text_before_the_root_is_not_xml_and_is_placed() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("persone.txt");
        std::fs::write(&csv, "\n  ID;CF\nA1;RSSMRA85T10F704X\n").unwrap();
        let err = read(&csv, &mut |_, _| {}).unwrap_err().to_string();
        assert!(err.contains("persone.txt line 1 column 1"), "{err}");
        assert!(err.contains("not an XML file"), "{err}");
        // A byte order mark and blank lines before the root are still XML.
        let bom = dir.path().join("flusso.dat");
        std::fs::write(
            &bom,
            "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Flusso xmlns=\"http://inps.it/Casellario\"></Flusso>\n",
        )
        .unwrap();
        read(&bom, &mut |_, _| {}).unwrap();
    }
}
