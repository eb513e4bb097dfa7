//! Onboarding the entes that adhere to the Protocollo d'Intesa, and tracking
//! the protocol's deadlines: Art. 7 adhesions decided by the Capofila, ambito
//! membership of comuni, Art. 6 referents, Art. 10 privacy roles, and the
//! declarative onboarding file used by CI.
//!
//! Every write goes through [`tx::OnboardingWrite`] inside one transaction
//! that also appends the audit entry; nothing here prints.

pub mod ambito;
pub mod compliance;
pub mod deadlines;
pub mod ente;
pub mod plan;
pub mod privacy;
pub mod referenti;
pub mod tx;
pub mod validate;

use serde::Serialize;

/// The kinds of ente the protocol knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TipoEnte {
    Comune,
    Ambito,
    ComunitaMontana,
    Associazione,
}

impl TipoEnte {
    pub const ALL: [TipoEnte; 4] = [
        TipoEnte::Comune,
        TipoEnte::Ambito,
        TipoEnte::ComunitaMontana,
        TipoEnte::Associazione,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TipoEnte::Comune => "comune",
            TipoEnte::Ambito => "ambito",
            TipoEnte::ComunitaMontana => "comunita_montana",
            TipoEnte::Associazione => "associazione",
        }
    }

    pub fn parse(s: &str) -> Option<TipoEnte> {
        Self::ALL.into_iter().find(|t| t.as_str() == s.trim())
    }
}

/// Identity of an ente, as requested or declared.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Anagrafica {
    pub codice: String,
    pub tipo: String,
    pub denominazione: String,
    pub istat: Option<String>,
    pub belfiore: Option<String>,
    pub codice_fiscale: Option<String>,
    pub pec: Option<String>,
    pub ats_codice: Option<String>,
}

/// The act of the Capofila that made an ente a signatory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Atto {
    pub numero: String,
    pub data: time::Date,
}

/// Parses an ISO date given for `what`, saying the expected format on error.
pub fn parse_date(text: &str, what: &str) -> crate::Result<time::Date> {
    time::Date::parse(
        text.trim(),
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        crate::Error::Usage(format!(
            "{what}: {:?} is not a date; expected YYYY-MM-DD, e.g. 2024-03-01",
            text.trim()
        ))
    })
}
