//! The period of a report: both ends INCLUSIVE, like every date range of the
//! schema. `--year 2025` is 2025-01-01..2025-12-31.

use time::{Date, Month};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    pub start: Date,
    pub end: Date,
}

impl Period {
    pub fn new(start: Date, end: Date) -> Result<Period> {
        if end < start {
            return Err(Error::Usage(format!(
                "the period ends ({end}) before it starts ({start}): give --from before --to"
            )));
        }
        Ok(Period { start, end })
    }

    pub fn year(year: i32) -> Result<Period> {
        let start = Date::from_calendar_date(year, Month::January, 1)
            .map_err(|_| Error::Usage(format!("{year} is not a year this tool handles")))?;
        let end = Date::from_calendar_date(year, Month::December, 31).expect("31 December exists");
        Ok(Period { start, end })
    }

    /// The months the period touches, as `YYYY-MM`, in order.
    pub fn months(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (mut y, mut m) = (self.start.year(), self.start.month());
        loop {
            out.push(format!("{y:04}-{:02}", m as u8));
            if (y, m as u8) >= (self.end.year(), self.end.month() as u8) {
                return out;
            }
            m = m.next();
            if m == Month::January {
                y += 1;
            }
        }
    }
}

/// The same day `years` years earlier (29 February becomes 28 February).
pub fn years_before(date: Date, years: i32) -> Date {
    let year = date.year() - years;
    date.replace_year(year).unwrap_or_else(|_| {
        Date::from_calendar_date(year, date.month(), 28).expect("28th exists in every month")
    })
}

/// Parses an ISO date given on the command line, naming the option.
pub fn parse_date(option: &str, text: &str) -> Result<Date> {
    Date::parse(
        text.trim(),
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| {
        Error::Usage(format!(
            "{option} {text:?} is not a date: expected YYYY-MM-DD, e.g. 2025-01-31"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_cross_the_year_boundary() {
        let p = Period::new(date!(2024 - 11 - 15), date!(2025 - 02 - 01)).unwrap();
        assert_eq!(p.months(), ["2024-11", "2024-12", "2025-01", "2025-02"]);
        assert_eq!(Period::year(2025).unwrap().months().len(), 12);
        assert!(Period::new(date!(2025 - 01 - 02), date!(2025 - 01 - 01)).is_err());
        let one_day = Period::new(date!(2025 - 03 - 31), date!(2025 - 03 - 31)).unwrap();
        assert_eq!(one_day.months(), ["2025-03"]);
    }

    #[test]
    fn leap_days_step_back_to_the_28th() {
        assert_eq!(
            years_before(date!(2024 - 02 - 29), 3),
            date!(2021 - 02 - 28)
        );
        assert_eq!(
            years_before(date!(2025 - 12 - 31), 1),
            date!(2024 - 12 - 31)
        );
    }

    #[test]
    fn bad_dates_name_the_expected_format() {
        let err = parse_date("--from", "31/01/2025").unwrap_err().to_string();
        assert!(err.contains("YYYY-MM-DD"), "{err}");
    }
}
