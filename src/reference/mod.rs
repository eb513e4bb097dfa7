//! Reference data embedded in the binary: Italian comuni (with history), foreign
//! states, INPS prestazioni, aree di utenza and the ATS of Lombardy.
//!
//! The CSV files live in `src/reference/data/` (their sources, dates and
//! licences are in `data/SOURCES.md`) and are compiled in with `include_str!`.
//! Every loader parses its file strictly and reports the file and line of the
//! first bad row. Nothing here prints or touches a database.

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use time::Date;
use time::macros::format_description;

const COMUNI_CSV: &str = include_str!("data/comuni.csv");
const STATI_ESTERI_CSV: &str = include_str!("data/stati_esteri.csv");
const PRESTAZIONI_CSV: &str = include_str!("data/prestazioni.csv");
const AREE_UTENZA_CSV: &str = include_str!("data/aree_utenza.csv");
const ATS_CSV: &str = include_str!("data/ats.csv");

const COMUNI_HEADER: &[&str] = &[
    "istat",
    "belfiore",
    "nome",
    "sigla_provincia",
    "codice_provincia",
    "codice_regione",
    "regione",
    "popolazione",
    "valido_dal",
    "valido_al",
];
const STATI_ESTERI_HEADER: &[&str] = &[
    "belfiore",
    "nome",
    "codice_istat",
    "sigla_iso2",
    "valido_dal",
    "valido_al",
];
const PRESTAZIONI_HEADER: &[&str] = &["codice", "descrizione", "gruppo"];
const AREE_UTENZA_HEADER: &[&str] = &["sistema", "codice", "descrizione"];
const ATS_HEADER: &[&str] = &["codice", "nome"];

/// The groups of the INPS prestazioni table: A1 contributi economici,
/// A2 servizi, A3 strutture, Z9 altro.
pub const GRUPPI_PRESTAZIONI: &[&str] = &["A1", "A2", "A3", "Z9"];

/// The classification systems of `aree_utenza.csv`.
pub const SISTEMI_AREA_UTENZA: &[&str] = &["inps", "siso", "istat"];

/// An Italian comune in one validity period (a comune that changed name,
/// province or territory has one row per period).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comune {
    /// ISTAT code, 6 digits (province 3 + serial 3); `None` where no source has it.
    pub istat: Option<String>,
    /// Belfiore (cadastral) code, `A000`-`M999`.
    pub belfiore: String,
    pub nome: String,
    pub sigla_provincia: String,
    pub codice_provincia: Option<String>,
    pub codice_regione: Option<String>,
    pub regione: Option<String>,
    pub popolazione: Option<u32>,
    pub valido_dal: Option<Date>,
    /// Last day of validity; `None` while the record is in force.
    pub valido_al: Option<Date>,
}

/// A foreign state as coded for birthplaces (Belfiore `Z###`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatoEstero {
    pub belfiore: String,
    pub nome: String,
    /// 3-digit ISTAT/INPS country code; `None` where not known.
    pub codice_istat: Option<String>,
    pub sigla_iso2: Option<String>,
    pub valido_dal: Option<Date>,
    pub valido_al: Option<Date>,
}

/// A social-services benefit code (INPS Casellario dell'Assistenza).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prestazione {
    pub codice: String,
    pub descrizione: String,
    /// One of [`GRUPPI_PRESTAZIONI`].
    pub gruppo: String,
}

/// A user area in one classification system (`inps`, `siso` or `istat`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaUtenza {
    pub sistema: String,
    pub codice: String,
    pub descrizione: String,
}

/// An Agenzia di Tutela della Salute of Lombardy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ats {
    /// 6-digit Ministry code.
    pub codice: String,
    pub nome: String,
}

/// One embedded data file: its name (e.g. "comuni"), its SHA-256 hex, and its parsed rows.
#[derive(Debug, Clone, Serialize)]
pub struct Dataset<T> {
    pub name: &'static str,
    pub sha256: String,
    pub rows: Vec<T>,
}

/// A reference file that does not parse. `file` is the data file name
/// (e.g. `comuni.csv`), `line` its 1-based line number.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("{file}: header is {found:?}, expected {expected:?}")]
    Header {
        file: &'static str,
        expected: Vec<&'static str>,
        found: Vec<String>,
    },
    #[error("{file} line {line}: {message}")]
    Row {
        file: &'static str,
        line: u64,
        message: String,
    },
    #[error("{file}: {source}")]
    Csv {
        file: &'static str,
        #[source]
        source: csv::Error,
    },
}

/// The comuni, current and ceased, one row per validity period.
pub fn comuni() -> Result<Dataset<Comune>, ReferenceError> {
    load("comuni", COMUNI_CSV, COMUNI_HEADER, |r| {
        let istat = r.opt(0)?;
        if let Some(code) = &istat {
            r.check(is_digits(code, 6), "istat", code, "6 digits")?;
        }
        let belfiore = r.req(1)?;
        r.check(
            is_belfiore_comune(&belfiore),
            "belfiore",
            &belfiore,
            "A000-M999",
        )?;
        let codice_provincia = r.opt(4)?;
        if let Some(code) = &codice_provincia {
            r.check(is_digits(code, 3), "codice_provincia", code, "3 digits")?;
        }
        let codice_regione = r.opt(5)?;
        if let Some(code) = &codice_regione {
            r.check(is_digits(code, 2), "codice_regione", code, "2 digits")?;
        }
        let popolazione = match r.opt(7)? {
            None => None,
            Some(p) => Some(
                p.parse::<u32>()
                    .map_err(|_| r.bad("popolazione", &p, "a number"))?,
            ),
        };
        let (valido_dal, valido_al) = r.period(8, 9)?;
        Ok(Comune {
            istat,
            belfiore,
            nome: r.req(2)?,
            sigla_provincia: r.req(3)?,
            codice_provincia,
            codice_regione,
            regione: r.opt(6)?,
            popolazione,
            valido_dal,
            valido_al,
        })
    })
}

/// The foreign states (Belfiore `Z###`), current and ceased.
pub fn stati_esteri() -> Result<Dataset<StatoEstero>, ReferenceError> {
    load("stati_esteri", STATI_ESTERI_CSV, STATI_ESTERI_HEADER, |r| {
        let belfiore = r.req(0)?;
        r.check(
            is_belfiore_estero(&belfiore),
            "belfiore",
            &belfiore,
            "Z000-Z999",
        )?;
        let codice_istat = r.opt(2)?;
        if let Some(code) = &codice_istat {
            r.check(is_digits(code, 3), "codice_istat", code, "3 digits")?;
        }
        let sigla_iso2 = r.opt(3)?;
        if let Some(code) = &sigla_iso2 {
            let ok = code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
            r.check(ok, "sigla_iso2", code, "2 capital letters")?;
        }
        let (valido_dal, valido_al) = r.period(4, 5)?;
        Ok(StatoEstero {
            belfiore,
            nome: r.req(1)?,
            codice_istat,
            sigla_iso2,
            valido_dal,
            valido_al,
        })
    })
}

/// The INPS prestazioni sociali (2015 table).
pub fn prestazioni() -> Result<Dataset<Prestazione>, ReferenceError> {
    load("prestazioni", PRESTAZIONI_CSV, PRESTAZIONI_HEADER, |r| {
        Ok(Prestazione {
            codice: r.req(0)?,
            descrizione: r.req(1)?,
            gruppo: r.req(2)?,
        })
    })
}

/// The aree di utenza of the INPS, SISO and ISTAT classifications.
pub fn aree_utenza() -> Result<Dataset<AreaUtenza>, ReferenceError> {
    load("aree_utenza", AREE_UTENZA_CSV, AREE_UTENZA_HEADER, |r| {
        Ok(AreaUtenza {
            sistema: r.req(0)?,
            codice: r.req(1)?,
            descrizione: r.req(2)?,
        })
    })
}

/// The 8 ATS of Lombardy.
pub fn ats() -> Result<Dataset<Ats>, ReferenceError> {
    load("ats", ATS_CSV, ATS_HEADER, |r| {
        let codice = r.req(0)?;
        r.check(is_digits(&codice, 6), "codice", &codice, "6 digits")?;
        Ok(Ats {
            codice,
            nome: r.req(1)?,
        })
    })
}

/// What a birthplace code designates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum BirthplaceKind {
    Comune { sigla_provincia: String },
    StatoEstero,
}

/// A birthplace as coded in a codice fiscale (positions 12-15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Birthplace {
    pub belfiore: String,
    pub nome: String,
    pub kind: BirthplaceKind,
    /// Validity of the record that was chosen.
    pub valido_dal: Option<Date>,
    pub valido_al: Option<Date>,
}

/// In-memory index for codice fiscale birthplaces: Belfiore -> comune or foreign state,
/// choosing the record valid on `on` when given (else the most recent).
#[derive(Debug, Clone)]
pub struct Birthplaces {
    /// Per Belfiore code, its records sorted by `valido_dal` (unknown first).
    by_code: HashMap<String, Vec<Birthplace>>,
}

impl Birthplaces {
    /// Builds the index from the embedded comuni and foreign states.
    pub fn load() -> Result<Self, ReferenceError> {
        let mut by_code: HashMap<String, Vec<Birthplace>> = HashMap::new();
        for c in comuni()?.rows {
            by_code
                .entry(c.belfiore.clone())
                .or_default()
                .push(Birthplace {
                    belfiore: c.belfiore,
                    nome: c.nome,
                    kind: BirthplaceKind::Comune {
                        sigla_provincia: c.sigla_provincia,
                    },
                    valido_dal: c.valido_dal,
                    valido_al: c.valido_al,
                });
        }
        for s in stati_esteri()?.rows {
            by_code
                .entry(s.belfiore.clone())
                .or_default()
                .push(Birthplace {
                    belfiore: s.belfiore,
                    nome: s.nome,
                    kind: BirthplaceKind::StatoEstero,
                    valido_dal: s.valido_dal,
                    valido_al: s.valido_al,
                });
        }
        for records in by_code.values_mut() {
            records.sort_by_key(|b| b.valido_dal);
        }
        Ok(Self { by_code })
    }

    /// The place coded `belfiore` (case-insensitive). With `on`, the record in
    /// force on that date, or `None` if the code designated nothing then; without,
    /// the most recent record (the current one, else the last to cease).
    pub fn lookup(&self, belfiore: &str, on: Option<Date>) -> Option<Birthplace> {
        let records = self.by_code.get(&belfiore.trim().to_ascii_uppercase())?;
        match on {
            None => records
                .iter()
                .max_by_key(|b| (b.valido_al.is_none(), b.valido_dal, b.valido_al))
                .cloned(),
            Some(day) => records
                .iter()
                .rev()
                .find(|b| {
                    b.valido_dal.is_none_or(|dal| dal <= day)
                        && b.valido_al.is_none_or(|al| day <= al)
                })
                .cloned(),
        }
    }

    /// Every record of `belfiore` (case-insensitive), oldest first.
    pub fn history(&self, belfiore: &str) -> &[Birthplace] {
        self.by_code
            .get(&belfiore.trim().to_ascii_uppercase())
            .map_or(&[], Vec::as_slice)
    }

    /// Number of distinct Belfiore codes indexed.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

// --------------------------------------------------------------------------
// Parsing helpers
// --------------------------------------------------------------------------

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_belfiore_comune(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 4 && (b'A'..=b'M').contains(&b[0]) && b[1..].iter().all(u8::is_ascii_digit)
}

fn is_belfiore_estero(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 4 && b[0] == b'Z' && b[1..].iter().all(u8::is_ascii_digit)
}

/// One CSV record with the file name and line, for error messages.
struct Row<'a> {
    file: &'static str,
    header: &'static [&'static str],
    line: u64,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    fn err(&self, message: String) -> ReferenceError {
        ReferenceError::Row {
            file: self.file,
            line: self.line,
            message,
        }
    }

    fn bad(&self, column: &str, value: &str, expected: &str) -> ReferenceError {
        self.err(format!("{column} is {value:?}, expected {expected}"))
    }

    fn check(
        &self,
        ok: bool,
        column: &str,
        value: &str,
        expected: &str,
    ) -> Result<(), ReferenceError> {
        if ok {
            Ok(())
        } else {
            Err(self.bad(column, value, expected))
        }
    }

    fn opt(&self, i: usize) -> Result<Option<String>, ReferenceError> {
        let value = self
            .record
            .get(i)
            .ok_or_else(|| self.err(format!("missing column {}", self.header[i])))?;
        let value = value.trim();
        Ok((!value.is_empty()).then(|| value.to_owned()))
    }

    fn req(&self, i: usize) -> Result<String, ReferenceError> {
        self.opt(i)?
            .ok_or_else(|| self.err(format!("{} is empty", self.header[i])))
    }

    fn date(&self, i: usize) -> Result<Option<Date>, ReferenceError> {
        let format = format_description!("[year]-[month]-[day]");
        match self.opt(i)? {
            None => Ok(None),
            Some(text) => Date::parse(&text, format)
                .map(Some)
                .map_err(|_| self.bad(self.header[i], &text, "a date YYYY-MM-DD")),
        }
    }

    fn period(
        &self,
        from: usize,
        to: usize,
    ) -> Result<(Option<Date>, Option<Date>), ReferenceError> {
        let dal = self.date(from)?;
        let al = self.date(to)?;
        if let (Some(d), Some(a)) = (dal, al)
            && a < d
        {
            return Err(self.err(format!(
                "{} {a} is before {} {d}",
                self.header[to], self.header[from]
            )));
        }
        Ok((dal, al))
    }
}

fn load<T>(
    name: &'static str,
    text: &'static str,
    header: &'static [&'static str],
    parse: impl Fn(&Row<'_>) -> Result<T, ReferenceError>,
) -> Result<Dataset<T>, ReferenceError> {
    let file = match name {
        "comuni" => "comuni.csv",
        "stati_esteri" => "stati_esteri.csv",
        "prestazioni" => "prestazioni.csv",
        "aree_utenza" => "aree_utenza.csv",
        "ats" => "ats.csv",
        _ => name,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let found = reader
        .headers()
        .map_err(|source| ReferenceError::Csv { file, source })?;
    if found.iter().ne(header.iter().copied()) {
        return Err(ReferenceError::Header {
            file,
            expected: header.to_vec(),
            found: found.iter().map(str::to_owned).collect(),
        });
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|source| ReferenceError::Csv { file, source })?;
        let line = record.position().map_or(0, |p| p.line());
        let row = Row {
            file,
            header,
            line,
            record: &record,
        };
        if record.len() != header.len() {
            return Err(row.err(format!(
                "{} fields, expected {}",
                record.len(),
                header.len()
            )));
        }
        rows.push(parse(&row)?);
    }
    Ok(Dataset {
        name,
        sha256: sha256_hex(text.as_bytes()),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use time::macros::date;

    use super::*;

    #[test]
    fn comuni_parse_and_counts_are_sane() {
        let ds = comuni().unwrap();
        assert_eq!(ds.name, "comuni");
        assert_eq!(ds.sha256.len(), 64);
        let current = ds.rows.iter().filter(|c| c.valido_al.is_none()).count();
        assert!(current > 7800, "{current} current comuni");
        assert!(current < 8200, "{current} current comuni");
        assert!(ds.rows.len() > 15_000, "{} rows", ds.rows.len());
        let ceased = ds.rows.iter().filter(|c| c.valido_al.is_some()).count();
        assert!(ceased > 5_000, "{ceased} ceased rows");
        // nearly every current comune has its ISTAT code
        let with_istat = ds
            .rows
            .iter()
            .filter(|c| c.valido_al.is_none() && c.istat.is_some())
            .count();
        assert!(with_istat + 10 >= current, "{with_istat} of {current}");
    }

    fn current<'a>(rows: &'a [Comune], belfiore: &str) -> &'a Comune {
        let found: Vec<_> = rows
            .iter()
            .filter(|c| c.belfiore == belfiore && c.valido_al.is_none())
            .collect();
        assert_eq!(found.len(), 1, "{belfiore}");
        found[0]
    }

    #[test]
    fn monza_and_milano() {
        let ds = comuni().unwrap();
        let monza = current(&ds.rows, "F704");
        assert_eq!(monza.istat.as_deref(), Some("108033"));
        assert_eq!(monza.nome, "Monza");
        assert_eq!(monza.sigla_provincia, "MB");
        assert_eq!(monza.codice_provincia.as_deref(), Some("108"));
        assert_eq!(monza.codice_regione.as_deref(), Some("03"));
        assert_eq!(monza.regione.as_deref(), Some("Lombardia"));
        let milano = current(&ds.rows, "F205");
        assert_eq!(milano.istat.as_deref(), Some("015146"));
        assert_eq!(milano.nome, "Milano");
        assert_eq!(milano.sigla_provincia, "MI");
        let by_istat: Vec<_> = ds
            .rows
            .iter()
            .filter(|c| c.istat.as_deref() == Some("108033"))
            .collect();
        assert!(by_istat.iter().all(|c| c.belfiore == "F704"));
    }

    #[test]
    fn codes_are_well_formed() {
        let ds = comuni().unwrap();
        for c in &ds.rows {
            if let Some(istat) = &c.istat {
                assert!(is_digits(istat, 6), "{c:?}");
                assert_eq!(c.codice_provincia.as_deref(), Some(&istat[..3]), "{c:?}");
            }
            assert!(is_belfiore_comune(&c.belfiore), "{c:?}");
            assert!(!c.nome.is_empty() && !c.sigla_provincia.is_empty(), "{c:?}");
            assert!(
                !c.nome.contains('\u{FFFD}') && !c.nome.contains('Ã'),
                "{c:?}"
            );
        }
        for s in &stati_esteri().unwrap().rows {
            assert!(is_belfiore_estero(&s.belfiore), "{s:?}");
        }
    }

    #[test]
    fn no_duplicate_periods() {
        let mut seen = HashSet::new();
        for c in comuni().unwrap().rows {
            assert!(seen.insert((c.belfiore.clone(), c.valido_dal)), "{c:?}");
        }
        let mut seen = HashSet::new();
        for s in stati_esteri().unwrap().rows {
            assert!(seen.insert((s.belfiore.clone(), s.valido_dal)), "{s:?}");
        }
        // a current ISTAT code designates one current comune
        let mut seen = HashSet::new();
        for c in comuni().unwrap().rows {
            if c.valido_al.is_none()
                && let Some(istat) = c.istat
            {
                assert!(seen.insert(istat.clone()), "{istat}");
            }
        }
    }

    #[test]
    fn stati_esteri_are_sane() {
        let ds = stati_esteri().unwrap();
        assert!(ds.rows.len() > 200, "{}", ds.rows.len());
        let usa = ds.rows.iter().find(|s| s.belfiore == "Z404").unwrap();
        assert_eq!(usa.sigla_iso2.as_deref(), Some("US"));
        assert!(usa.valido_al.is_none());
    }

    #[test]
    fn prestazioni_match_the_2015_table() {
        let ds = prestazioni().unwrap();
        assert_eq!(ds.rows.len(), 20 + 12 + 3 + 1);
        let mut seen = HashSet::new();
        for p in &ds.rows {
            assert!(GRUPPI_PRESTAZIONI.contains(&p.gruppo.as_str()), "{p:?}");
            assert!(p.codice.starts_with(&p.gruppo), "{p:?}");
            assert!(seen.insert(p.codice.clone()), "{p:?}");
        }
        for code in [
            "A1.01", "A1.20", "A2.01", "A2.12", "A3.01", "A3.03", "Z9.99",
        ] {
            assert!(seen.contains(code), "{code}");
        }
        assert!(!seen.contains("A1.23") && !seen.contains("A2.14"));
    }

    #[test]
    fn aree_utenza_and_ats() {
        let aree = aree_utenza().unwrap();
        for a in &aree.rows {
            assert!(SISTEMI_AREA_UTENZA.contains(&a.sistema.as_str()), "{a:?}");
        }
        let count = |s: &str| aree.rows.iter().filter(|a| a.sistema == s).count();
        assert_eq!((count("inps"), count("siso"), count("istat")), (3, 4, 7));
        let ats = ats().unwrap();
        assert_eq!(ats.rows.len(), 8);
        assert!(
            ats.rows
                .iter()
                .any(|a| a.codice == "030324" && a.nome.contains("Brianza"))
        );
        assert!(ats.rows.iter().all(|a| a.codice.starts_with("0303")));
    }

    #[test]
    fn birthplaces_lookup() {
        let bp = Birthplaces::load().unwrap();
        assert!(bp.len() > 8000);

        let monza = bp.lookup("F704", None).unwrap();
        assert_eq!(monza.nome, "Monza");
        assert_eq!(
            monza.kind,
            BirthplaceKind::Comune {
                sigla_provincia: "MB".into()
            }
        );
        // before Monza e Brianza existed, Monza was in the province of Milano
        let old = bp.lookup("f704", Some(date!(1970 - 05 - 01))).unwrap();
        assert_eq!(
            old.kind,
            BirthplaceKind::Comune {
                sigla_provincia: "MI".into()
            }
        );

        // Abano (A001) became Abano Terme in 1924
        let abano = bp.lookup("A001", Some(date!(1900 - 01 - 01))).unwrap();
        assert_eq!(abano.nome, "Abano");
        assert_eq!(bp.lookup("A001", None).unwrap().nome, "Abano Terme");

        // a ceased comune: Castegnero (C056) merged into Castegnero Nanto in 2026
        let ceased = bp.lookup("C056", None).unwrap();
        assert_eq!(ceased.nome, "Castegnero");
        assert!(ceased.valido_al.is_some());
        assert!(bp.lookup("C056", Some(date!(1980 - 01 - 01))).is_some());
        assert!(bp.lookup("C056", Some(date!(2026 - 06 - 01))).is_none());

        let usa = bp.lookup("Z404", Some(date!(1980 - 01 - 01))).unwrap();
        assert_eq!(usa.kind, BirthplaceKind::StatoEstero);
        assert!(usa.nome.starts_with("Stati Uniti"));
        let cs = bp.lookup("Z105", None).unwrap();
        assert_eq!(cs.nome, "Cecoslovacchia");
        assert!(cs.valido_al.is_some());

        assert!(bp.lookup("Z999", None).is_none());
        assert!(bp.lookup("", None).is_none());
        assert!(!bp.history("F205").is_empty());
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad = "codice,nome\n030321,ATS Milano\nXX,Bad\n";
        let err = load("ats", bad, ATS_HEADER, |r| {
            let codice = r.req(0)?;
            r.check(is_digits(&codice, 6), "codice", &codice, "6 digits")?;
            Ok(codice)
        })
        .unwrap_err();
        assert!(
            matches!(
                err,
                ReferenceError::Row {
                    file: "ats.csv",
                    line: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().starts_with("ats.csv line 3:"), "{err}");
        let err = load("ats", "a,b\n", ATS_HEADER, |_| Ok(())).unwrap_err();
        assert!(matches!(
            err,
            ReferenceError::Header {
                file: "ats.csv",
                ..
            }
        ));
    }
}
