//! Checks of the values that identify an ente, pure and reusable by the
//! command line, the interactive prompts and the onboarding file. Each
//! returns the normalised value or a sentence saying what is wrong.

use std::collections::HashMap;
use std::sync::OnceLock;

use time::Date;

use super::{Anagrafica, TipoEnte};
use crate::reference::{self, Comune};

/// An ente code: upper-case letters, digits, `-` and `_`, starting with a
/// letter or digit (the ISTAT code for a comune, e.g. `108033`; `AMB-MONZA`).
pub fn codice(text: &str) -> Result<String, String> {
    let code = text.trim().to_uppercase();
    let ok = code
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok && code.len() <= 40 {
        Ok(code)
    } else {
        Err(format!(
            "ente code {:?} is not valid: use letters, digits, '-' and '_' (e.g. AMB-MONZA, or the ISTAT code of a comune)",
            text.trim()
        ))
    }
}

/// A PEC address: one `@`, something before it, a dotted domain after it.
pub fn pec(text: &str) -> Result<String, String> {
    address(text, "PEC", "protocollo@pec.comune.monza.it")
}

/// A referent's e-mail address, checked as a PEC is.
pub fn email(text: &str) -> Result<String, String> {
    address(text, "e-mail", "m.rossi@comune.monza.it")
}

fn address(text: &str, what: &str, example: &str) -> Result<String, String> {
    let pec = text.trim().to_lowercase();
    let ok = match pec.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !pec.contains(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(pec)
    } else {
        Err(format!(
            "{what} {:?} is not an e-mail address (expected e.g. {example})",
            text.trim()
        ))
    }
}

/// The 11-digit codice fiscale or partita IVA of a public body, check digit included.
pub fn codice_fiscale(text: &str) -> Result<String, String> {
    crate::codes::piva::validate_11(text).map_err(|e| format!("codice fiscale / partita IVA: {e}"))
}

fn comuni_by_istat() -> &'static HashMap<String, Vec<Comune>> {
    static INDEX: OnceLock<HashMap<String, Vec<Comune>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: HashMap<String, Vec<Comune>> = HashMap::new();
        // The embedded data is checked by the foundation's tests; an
        // unreadable file leaves the index empty and every code unknown.
        if let Ok(data) = reference::comuni() {
            for c in data.rows {
                if let Some(istat) = c.istat.clone() {
                    index.entry(istat).or_default().push(c);
                }
            }
        }
        index
    })
}

/// The comune with ISTAT code `istat` in force on `on`, or why there is none.
pub fn comune_attivo(istat: &str, on: Date) -> Result<&'static Comune, String> {
    let istat = istat.trim();
    if istat.len() != 6 || !istat.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("ISTAT code {istat:?} is not 6 digits"));
    }
    let Some(periods) = comuni_by_istat().get(istat) else {
        return Err(format!(
            "unknown ISTAT code {istat}: not in the reference list of comuni (see `siso codes comuni`)"
        ));
    };
    periods
        .iter()
        .find(|c| c.valido_dal.is_none_or(|d| d <= on) && c.valido_al.is_none_or(|a| on <= a))
        .ok_or_else(|| {
            format!(
                "ISTAT code {istat} ({}) is not active on {on}",
                periods[0].nome
            )
        })
}

/// Checks an ente's identity on `on`; fills a comune's Belfiore code from
/// the reference data when missing. Returns every problem found.
pub fn anagrafica(a: &mut Anagrafica, on: Date) -> Vec<String> {
    let mut problems = Vec::new();
    match codice(&a.codice) {
        Ok(c) => a.codice = c,
        Err(e) => problems.push(e),
    }
    let tipo = TipoEnte::parse(&a.tipo);
    if tipo.is_none() {
        problems.push(format!(
            "kind {:?} is not one of comune, ambito, comunita_montana, associazione",
            a.tipo
        ));
    }
    if a.denominazione.trim().is_empty() {
        problems.push("the name (denominazione) is empty".into());
    }
    if let Some(cf) = &a.codice_fiscale {
        match codice_fiscale(cf) {
            Ok(cf) => a.codice_fiscale = Some(cf),
            Err(e) => problems.push(e),
        }
    }
    if let Some(p) = &a.pec {
        match pec(p) {
            Ok(p) => a.pec = Some(p),
            Err(e) => problems.push(e),
        }
    }
    if let Some(ats) = &a.ats_codice
        && !reference::ats()
            .map(|d| d.rows.iter().any(|r| &r.codice == ats))
            .unwrap_or(false)
    {
        problems.push(format!(
            "ATS code {ats} is not one of the 8 ATS of Lombardy (030321-030328)"
        ));
    }
    if tipo == Some(TipoEnte::Comune) {
        match &a.istat {
            None => problems.push("a comune needs its ISTAT code".into()),
            Some(istat) => match comune_attivo(istat, on) {
                Err(e) => problems.push(e),
                Ok(c) => {
                    if a.codice != *istat {
                        problems.push(format!(
                            "the code of a comune is its ISTAT code: use {istat}, not {}",
                            a.codice
                        ));
                    }
                    match &a.belfiore {
                        None => a.belfiore = Some(c.belfiore.clone()),
                        Some(b) if b.trim().to_uppercase() != c.belfiore => problems.push(format!(
                            "Belfiore code {b} does not match ISTAT {istat} ({}, Belfiore {})",
                            c.nome, c.belfiore
                        )),
                        Some(b) => a.belfiore = Some(b.trim().to_uppercase()),
                    }
                }
            },
        }
    } else if a.istat.is_some() || a.belfiore.is_some() {
        problems.push("only a comune has ISTAT and Belfiore codes".into());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn monza_codice_fiscale_has_a_valid_check_digit() {
        assert_eq!(codice_fiscale("02030880153").unwrap(), "02030880153");
        assert!(
            codice_fiscale("02030880154")
                .unwrap_err()
                .contains("check digit")
        );
    }

    #[test]
    fn codes_and_pec() {
        assert_eq!(codice(" amb-monza ").unwrap(), "AMB-MONZA");
        assert!(codice("-X").is_err());
        assert!(codice("AMB MONZA").is_err());
        assert!(pec("protocollo@pec.comune.monza.it").is_ok());
        assert!(pec("protocollo@localhost").is_err());
        assert!(pec("a@b@c.it").is_err());
    }

    #[test]
    fn comuni_must_exist_and_be_active() {
        assert_eq!(
            comune_attivo("108033", date!(2024 - 01 - 01)).unwrap().nome,
            "Monza"
        );
        assert!(
            comune_attivo("108999", date!(2024 - 01 - 01))
                .unwrap_err()
                .contains("unknown")
        );
        // Monza e Brianza codes exist only since 2009-06-30.
        assert!(
            comune_attivo("108033", date!(2009 - 06 - 29))
                .unwrap_err()
                .contains("not active")
        );
    }
}
