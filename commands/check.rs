//! `siso check cf`: validate and decode codici fiscali, one verdict per code.

use std::io::BufRead as _;

use anyhow::Context as _;
use siso::codes::cf::{self, CodiceFiscale};
use siso::reference::{BirthplaceKind, Birthplaces};

use crate::context::Ctx;
use crate::{Outcome, output};

/// Validate codes without touching the database.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Validate and decode codici fiscali (16 characters, or 11-digit temporary codes).
    ///
    /// Checks format, check character and omocodia (letters in place of digits,
    /// as the Agenzia delle Entrate assigns on collisions), decodes birth date
    /// (the century is chosen so the person is not born in the future), sex
    /// and birthplace. An unknown birthplace code is a warning, not an error.
    /// Exit 1 if any code is invalid.
    Cf {
        /// Codes to check; `-` reads one per line from stdin.
        #[arg(required = true)]
        codes: Vec<String>,
    },
}

#[derive(serde::Serialize)]
struct Verdict {
    input: String,
    valid: bool,
    reason: Option<&'static str>,
    message: Option<String>,
    kind: Option<&'static str>,
    key: Option<String>,
    omocodia_level: Option<u8>,
    birth_date: Option<String>,
    sex: Option<String>,
    belfiore: Option<String>,
    birthplace: Option<String>,
    warning: Option<String>,
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<Outcome> {
    let Sub::Cf { codes } = args.command;
    let inputs = if codes.len() == 1 && codes[0] == "-" {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<Result<Vec<_>, _>>()
            .context("cannot read codes from stdin")
            .map_err(|e| siso::Error::Input(format!("{e:#}")))?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        codes
    };
    let birthplaces =
        Birthplaces::load().map_err(|e| siso::Error::Input(format!("reference data: {e}")))?;
    let today = time::OffsetDateTime::now_utc().date();
    let verdicts: Vec<Verdict> = inputs
        .iter()
        .map(|input| verdict(input, today, &birthplaces))
        .collect();
    output::print(ctx.format(), &verdicts)?;
    let invalid = verdicts.iter().filter(|v| !v.valid).count();
    if invalid > 0 {
        output::note(
            ctx.global.quiet,
            format!("{invalid} of {} code(s) invalid.", verdicts.len()),
        );
        Ok(Outcome::Problems)
    } else {
        Ok(Outcome::Clean)
    }
}

fn verdict(input: &str, today: time::Date, birthplaces: &Birthplaces) -> Verdict {
    let mut v = Verdict {
        input: input.to_string(),
        valid: false,
        reason: None,
        message: None,
        kind: None,
        key: None,
        omocodia_level: None,
        birth_date: None,
        sex: None,
        belfiore: None,
        birthplace: None,
        warning: None,
    };
    match cf::parse(input, today) {
        Err(e) => {
            v.reason = Some(e.code());
            v.message = Some(e.to_string());
        }
        Ok(CodiceFiscale::Temporary(code)) => {
            v.valid = true;
            v.kind = Some("temporary");
            v.key = Some(code);
        }
        Ok(CodiceFiscale::Personal(p)) => {
            v.valid = true;
            v.kind = Some("personal");
            v.omocodia_level = Some(p.omocodia_level);
            v.birth_date = Some(p.birth_date.to_string());
            v.sex = Some(p.sex.to_string());
            // The record valid at birth, else the latest one (the data's dates are not exhaustive).
            let place = birthplaces
                .lookup(&p.belfiore, Some(p.birth_date))
                .or_else(|| birthplaces.lookup(&p.belfiore, None));
            match place {
                Some(place) => {
                    v.birthplace = Some(match place.kind {
                        BirthplaceKind::Comune { sigla_provincia } => {
                            format!("{} ({sigla_provincia})", place.nome)
                        }
                        BirthplaceKind::StatoEstero => place.nome,
                    })
                }
                None => {
                    v.reason = Some("CF_BIRTHPLACE_UNKNOWN");
                    v.warning = Some(format!(
                        "birthplace code {} is not in the reference data (a comune or state not listed): check it",
                        p.belfiore
                    ));
                }
            }
            v.belfiore = Some(p.belfiore);
            v.key = Some(p.key);
        }
    }
    v
}
