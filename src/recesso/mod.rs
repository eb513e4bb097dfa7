//! Art. 9 of the Protocollo d'Intesa: a signatory withdraws (recesso) with a
//! formal communication to the Capofila; the Capofila accepts it with an act
//! and informs the other signatories.
//!
//! The rule: a withdrawal received by 30 September takes effect on 31
//! December of that year; later, on 31 December of the next year
//! ([`effective_date`]). The ente is still a signatory on its effective date
//! and is withdrawn from the day after.
//!
//! Where the state lives: whether an ente is withdrawn is DERIVED from the
//! `recesso` table (accepted, and its `efficace_il` is before the day asked
//! about), so it never depends on some command having run on the right day.
//! `ente.stato` is changed to 'receduto' only by `accept` when the effective
//! date is already past at that moment; otherwise it stays 'aderente' until
//! then, and every check ([`withdrawn_on`], [`ensure_not_withdrawn`],
//! [`status`]) asks the derived state, also honouring a stored 'receduto'.
//! A withdrawn ente's data stays: what happens to it is the titolare's
//! decision (the hand-back), not this module's.

mod richiesta;
mod stato;

pub use richiesta::{Accettazione, Firmatario, Richiesta, accept, request};
pub use stato::{StatoRecesso, Voce, ensure_not_withdrawn, status, withdrawn_on};

use time::{Date, Month};

/// The rule in one sentence, for help texts and messages.
pub const RULE: &str = "A withdrawal received by 30 September takes effect on 31 December of \
that year; later, on 31 December of the next year (Art. 9).";

/// The note beside a signatory that has no PEC address on record.
pub const PEC_MISSING: &str = "PEC missing: inform by other formal means";

/// When a withdrawal received on `received` takes effect (Art. 9: "entro tre
/// mesi prima del termine di ogni anno"): 31 December of the same year if
/// received by 30 September, else 31 December of the next year.
///
/// # Panics
/// For a date after 30 September 9999, whose effective date cannot be
/// represented; `request` refuses dates in the future, so it never gets one.
pub fn effective_date(received: Date) -> Date {
    let year = if received.month() <= Month::September {
        received.year()
    } else {
        received.year() + 1
    };
    Date::from_calendar_date(year, Month::December, 31).expect("31 December exists in every year")
}

/// One recorded withdrawal, with its ente.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recesso {
    #[serde(skip)]
    pub id: i64,
    pub ente: String,
    pub denominazione: String,
    pub ricevuto_il: Date,
    pub protocollo: String,
    pub efficace_il: Date,
    pub atto_numero: Option<String>,
    pub atto_data: Option<Date>,
}

impl Recesso {
    pub fn accepted(&self) -> bool {
        self.atto_numero.is_some()
    }

    /// Where the withdrawal stands on `as_of`: an act dated after it had
    /// not accepted it yet.
    pub fn stato(&self, as_of: Date) -> StatoRecesso {
        if !self.accepted() || self.atto_data.is_some_and(|d| d > as_of) {
            StatoRecesso::Pending
        } else if self.efficace_il < as_of {
            StatoRecesso::Effective
        } else {
            StatoRecesso::Accepted
        }
    }

    /// Days from `as_of` to the effective date: 0 on the effective date
    /// itself (the last day as a signatory), negative after it.
    pub fn giorni_mancanti(&self, as_of: Date) -> i64 {
        (self.efficace_il - as_of).whole_days()
    }
}

/// Ente codes are upper case; people type them in any case.
fn normalise_codice(codice: &str) -> String {
    codice.trim().to_uppercase()
}

/// The caller's audit entry with the facts the library established (computed
/// dates, the request an act accepts) added to its dettaglio.
fn with_facts(entry: &crate::audit::Entry, facts: serde_json::Value) -> crate::audit::Entry {
    let mut entry = entry.clone();
    match (&mut entry.dettaglio, facts) {
        (serde_json::Value::Object(into), serde_json::Value::Object(from)) => {
            for (k, v) in from {
                into.entry(k).or_insert(v);
            }
        }
        (d @ serde_json::Value::Null, facts) => *d = facts,
        _ => {}
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn received_by_30_september_takes_effect_that_year() {
        assert_eq!(effective_date(date!(2025 - 09 - 30)), date!(2025 - 12 - 31));
        assert_eq!(effective_date(date!(2025 - 01 - 01)), date!(2025 - 12 - 31));
        assert_eq!(effective_date(date!(2025 - 09 - 01)), date!(2025 - 12 - 31));
    }

    #[test]
    fn received_from_1_october_takes_effect_next_year() {
        assert_eq!(effective_date(date!(2025 - 10 - 01)), date!(2026 - 12 - 31));
        assert_eq!(effective_date(date!(2025 - 12 - 31)), date!(2026 - 12 - 31));
        assert_eq!(effective_date(date!(2025 - 11 - 15)), date!(2026 - 12 - 31));
    }

    #[test]
    fn the_year_boundary_moves_the_effective_year() {
        // 31 December and the 1 January after it are a year apart in effect.
        assert_eq!(effective_date(date!(2024 - 12 - 31)), date!(2025 - 12 - 31));
        assert_eq!(effective_date(date!(2025 - 01 - 01)), date!(2025 - 12 - 31));
    }

    #[test]
    fn leap_years_change_nothing() {
        assert_eq!(effective_date(date!(2024 - 02 - 29)), date!(2024 - 12 - 31));
        assert_eq!(effective_date(date!(2000 - 02 - 29)), date!(2000 - 12 - 31));
        assert_eq!(effective_date(date!(2024 - 09 - 30)), date!(2024 - 12 - 31));
        assert_eq!(effective_date(date!(2024 - 10 - 01)), date!(2025 - 12 - 31));
        // Received in a leap year after September: effective in the next one.
        assert_eq!(effective_date(date!(2023 - 10 - 01)), date!(2024 - 12 - 31));
    }

    #[test]
    fn the_effective_date_is_always_a_31_december_not_before_receipt() {
        let mut day = date!(2023 - 01 - 01);
        while day <= date!(2025 - 12 - 31) {
            let effective = effective_date(day);
            assert_eq!((effective.month(), effective.day()), (Month::December, 31));
            assert!(effective >= day, "{day} -> {effective}");
            // At least three months' notice, at most fifteen.
            let notice = (effective - day).whole_days();
            assert!((92..=457).contains(&notice), "{day}: {notice} days");
            day = day.next_day().unwrap();
        }
    }

    fn recesso(accepted: bool) -> Recesso {
        Recesso {
            id: 1,
            ente: "108033".into(),
            denominazione: "Comune".into(),
            ricevuto_il: date!(2025 - 03 - 01),
            protocollo: "P1".into(),
            efficace_il: date!(2025 - 12 - 31),
            atto_numero: accepted.then(|| "12".into()),
            atto_data: accepted.then_some(date!(2025 - 03 - 10)),
        }
    }

    #[test]
    fn an_accepted_withdrawal_is_effective_from_the_day_after() {
        let r = recesso(true);
        assert_eq!(r.stato(date!(2025 - 12 - 30)), StatoRecesso::Accepted);
        assert_eq!(r.stato(date!(2025 - 12 - 31)), StatoRecesso::Accepted);
        assert_eq!(r.giorni_mancanti(date!(2025 - 12 - 31)), 0);
        assert_eq!(r.stato(date!(2026 - 01 - 01)), StatoRecesso::Effective);
        assert_eq!(r.giorni_mancanti(date!(2026 - 01 - 01)), -1);
        assert_eq!(r.giorni_mancanti(date!(2025 - 12 - 01)), 30);
    }

    #[test]
    fn a_pending_withdrawal_never_takes_effect_by_itself() {
        assert_eq!(
            recesso(false).stato(date!(2030 - 01 - 01)),
            StatoRecesso::Pending
        );
    }
}
