//! The protocol's clocks, as pure date arithmetic.
//!
//! "Within N days of X" is read as: day N after X is the last day on time,
//! so the deadline is X + N days and the duty is overdue from day N + 1.
//! Calendar days, not working days: the protocol says "giorni".

use time::{Date, Duration};

/// Art. 7: the Capofila decides within 60 days of receiving a request.
pub const DECISIONE_ADESIONE: i64 = 60;
/// Art. 6: Cabina di Regia referents within 30 days of signing.
pub const NOMINA_REFERENTI: i64 = 30;
/// Art. 10: titolare, DPO and responsabili within 60 days of signing.
pub const COMUNICAZIONE_PRIVACY: i64 = 60;
/// How far ahead `siso compliance` warns of deadlines still to come.
pub const PREAVVISO: i64 = 10;

/// The last day on time for a duty of `days` days starting on `from`.
pub fn deadline(from: Date, days: i64) -> Date {
    from.checked_add(Duration::days(days)).unwrap_or(Date::MAX)
}

/// Where a duty stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgenza {
    /// The deadline has passed: `days` days late.
    Scaduto,
    /// Due within the warning window (deadline included).
    InScadenza,
    /// Not yet worth mentioning.
    NelTermine,
}

/// How urgent a duty with `deadline` is on `as_of`.
pub fn urgenza(deadline: Date, as_of: Date) -> Urgenza {
    if as_of > deadline {
        Urgenza::Scaduto
    } else if (deadline - as_of).whole_days() <= PREAVVISO {
        Urgenza::InScadenza
    } else {
        Urgenza::NelTermine
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn sixty_days_from_receipt_across_a_leap_february() {
        // 2024 is a leap year: January 31 + February 29 = 60 days.
        assert_eq!(deadline(date!(2024 - 01 - 01), 60), date!(2024 - 03 - 01));
        assert_eq!(deadline(date!(2023 - 01 - 01), 60), date!(2023 - 03 - 02));
    }

    #[test]
    fn a_request_received_on_31_december_runs_into_the_next_year() {
        assert_eq!(deadline(date!(2023 - 12 - 31), 60), date!(2024 - 02 - 29));
        assert_eq!(deadline(date!(2024 - 12 - 31), 60), date!(2025 - 03 - 01));
        assert_eq!(deadline(date!(2024 - 12 - 31), 30), date!(2025 - 01 - 30));
    }

    #[test]
    fn day_sixty_is_on_time_and_day_sixty_one_is_late() {
        let received = date!(2024 - 01 - 01);
        let due = deadline(received, DECISIONE_ADESIONE);
        assert_eq!(urgenza(due, date!(2024 - 03 - 01)), Urgenza::InScadenza);
        assert_eq!(urgenza(due, date!(2024 - 03 - 02)), Urgenza::Scaduto);
    }

    #[test]
    fn day_thirty_is_on_time_and_day_thirty_one_is_late() {
        let signed = date!(2024 - 02 - 15);
        let due = deadline(signed, NOMINA_REFERENTI);
        assert_eq!(due, date!(2024 - 03 - 16));
        assert_eq!(urgenza(due, date!(2024 - 03 - 16)), Urgenza::InScadenza);
        assert_eq!(urgenza(due, date!(2024 - 03 - 17)), Urgenza::Scaduto);
    }

    #[test]
    fn the_warning_window_is_ten_days_wide() {
        let due = date!(2024 - 03 - 31);
        assert_eq!(urgenza(due, date!(2024 - 03 - 21)), Urgenza::InScadenza);
        assert_eq!(urgenza(due, date!(2024 - 03 - 20)), Urgenza::NelTermine);
    }

    #[test]
    fn no_overflow_at_the_end_of_time() {
        assert_eq!(deadline(Date::MAX, 60), Date::MAX);
    }
}
