//! Typed values read from legacy cells: dates in explicit formats, decimal
//! amounts as integers (cents, thousandths) without floating point, flags.
//!
//! Nothing here guesses silently. A date column is read dd/mm or mm/dd only
//! when its own values prove it (a day above 12) or the mapping says so; a
//! column whose every value reads both ways is refused (`DATE_AMBIGUOUS`).
//!
//! Two-digit years (d/m/yy): a year `yy` at or below the pivot (by default the
//! current year's last two digits) is 20yy, above it 19yy. So in 2026 "25" is
//! 2025 and "27" is 1927. The mapping can set another pivot (`century_pivot`).

use time::{Date, Month};

/// A cell after typing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    Empty,
    Text(String),
    Date(Date),
    /// A decimal as an integer of units of 10^-scale (cents: scale 2).
    Decimal {
        units: i64,
        scale: u8,
    },
    Flag(bool),
}

impl Value {
    /// The clean text of the value: ISO dates, `.` decimals, `1`/`0` flags.
    pub fn to_text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Text(s) => s.clone(),
            Value::Date(d) => iso(*d),
            Value::Decimal { units, scale } => format_decimal(*units, *scale),
            Value::Flag(b) => if *b { "1" } else { "0" }.to_string(),
        }
    }
}

pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `units` with `scale` decimals, e.g. (123456, 2) -> "1234.56".
pub fn format_decimal(units: i64, scale: u8) -> String {
    if scale == 0 {
        return units.to_string();
    }
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let div = 10u64.pow(u32::from(scale));
    format!(
        "{sign}{}.{:0width$}",
        abs / div,
        abs % div,
        width = usize::from(scale)
    )
}

/// Order of the parts of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum DateFormat {
    /// dd/mm/yyyy, d/m/yy, dd-mm-yyyy, dd.mm.yyyy
    DayMonthYear,
    /// mm/dd/yyyy, m/d/yy
    MonthDayYear,
    /// yyyy-mm-dd, yyyy/mm/dd
    YearMonthDay,
    /// yyyymmdd
    Compact,
}

pub const DATE_FORMATS: [DateFormat; 4] = [
    DateFormat::DayMonthYear,
    DateFormat::MonthDayYear,
    DateFormat::YearMonthDay,
    DateFormat::Compact,
];

impl DateFormat {
    /// The spelling used in mappings and by `siso inspect`.
    pub fn label(self) -> &'static str {
        match self {
            DateFormat::DayMonthYear => "dd/mm/yyyy",
            DateFormat::MonthDayYear => "mm/dd/yyyy",
            DateFormat::YearMonthDay => "yyyy-mm-dd",
            DateFormat::Compact => "yyyymmdd",
        }
    }

    /// Reads a mapping's `date_format`. Separators and the width of the year
    /// do not matter: "d/m/yy" and "dd-mm-yyyy" are both day-month-year.
    pub fn from_label(label: &str) -> Result<DateFormat, String> {
        let l = label.trim().to_ascii_lowercase();
        let letters: String = l.chars().filter(|c| c.is_ascii_alphabetic()).collect();
        let order: String = {
            let mut o = String::new();
            for c in letters.chars() {
                if !o.ends_with(c) {
                    o.push(c);
                }
            }
            o
        };
        let has_separator = l.chars().any(|c| !c.is_ascii_alphabetic());
        match (order.as_str(), has_separator) {
            ("dmy", true) => Ok(DateFormat::DayMonthYear),
            ("mdy", true) => Ok(DateFormat::MonthDayYear),
            ("ymd", true) => Ok(DateFormat::YearMonthDay),
            ("ymd", false) => Ok(DateFormat::Compact),
            _ => Err(format!(
                "unknown date_format {label:?}: use \"dd/mm/yyyy\", \"d/m/yy\", \"mm/dd/yyyy\", \"yyyy-mm-dd\" or \"yyyymmdd\""
            )),
        }
    }
}

/// The rule for two-digit years: `yy <= pivot` is 20yy, otherwise 19yy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CenturyPivot(pub u8);

impl CenturyPivot {
    /// The current year's last two digits: no two-digit year lands in the future.
    pub fn current() -> CenturyPivot {
        CenturyPivot((time::OffsetDateTime::now_utc().year().rem_euclid(100)) as u8)
    }

    pub fn year(self, yy: u16) -> i32 {
        if yy <= u16::from(self.0) {
            2000 + i32::from(yy)
        } else {
            1900 + i32::from(yy)
        }
    }
}

/// Splits off a time part legacy exports often glue to dates ("15/03/2020 00:00:00").
fn date_part(s: &str) -> &str {
    let s = s.trim();
    match s.bytes().position(|b| b == b' ' || b == b'T') {
        Some(i) if s.as_bytes()[i + 1..].contains(&b':') => &s[..i],
        _ => s,
    }
}

/// The three numbers of a date like 15/03/2020 with their digit counts.
fn numbers(s: &str) -> Option<[(u16, usize); 3]> {
    let bytes = s.as_bytes();
    let sep = *bytes.iter().find(|b| matches!(b, b'/' | b'-' | b'.'))?;
    let mut out = [(0u16, 0usize); 3];
    let mut part = 0;
    for &b in bytes {
        if b == sep {
            part += 1;
            if part > 2 {
                return None;
            }
        } else if b.is_ascii_digit() {
            let (value, len) = &mut out[part];
            if *len == 4 {
                return None;
            }
            *value = *value * 10 + u16::from(b - b'0');
            *len += 1;
        } else {
            return None;
        }
    }
    (part == 2 && out.iter().all(|(_, len)| *len > 0)).then_some(out)
}

fn make(year: i32, month: u16, day: u16) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

fn year_of((y, len): (u16, usize), pivot: CenturyPivot) -> Option<i32> {
    match len {
        4 if y >= 1800 => Some(i32::from(y)),
        2 => Some(pivot.year(y)),
        _ => None,
    }
}

/// Reads `s` as a date in `format`, or as an ISO date (unambiguous, and what
/// spreadsheet date cells become); None when it is neither.
pub fn read_date(s: &str, format: DateFormat, pivot: CenturyPivot) -> Option<Date> {
    parse_date(s, format, pivot).or_else(|| parse_date(s, DateFormat::YearMonthDay, pivot))
}

/// Reads `s` as a date in exactly `format`; None when it is not one.
pub fn parse_date(s: &str, format: DateFormat, pivot: CenturyPivot) -> Option<Date> {
    let s = date_part(s);
    if format == DateFormat::Compact {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = |r: std::ops::Range<usize>| s[r].parse::<u16>().ok();
        return make(i32::from(n(0..4)?), n(4..6)?, n(6..8)?).filter(|d| d.year() >= 1800);
    }
    let [a, b, c] = numbers(s)?;
    match format {
        DateFormat::DayMonthYear if a.1 <= 2 && b.1 <= 2 => make(year_of(c, pivot)?, b.0, a.0),
        DateFormat::MonthDayYear if a.1 <= 2 && b.1 <= 2 => make(year_of(c, pivot)?, a.0, b.0),
        DateFormat::YearMonthDay if a.1 == 4 && b.1 <= 2 && c.1 <= 2 => {
            make(year_of(a, pivot)?, b.0, c.0)
        }
        _ => None,
    }
}

/// Which of [`DATE_FORMATS`] read `s` as a date, parsing it once.
pub fn date_hits(s: &str, pivot: CenturyPivot) -> [bool; 4] {
    let s = date_part(s);
    if s.len() == 8 && digits(s) {
        return [
            false,
            false,
            false,
            parse_date(s, DateFormat::Compact, pivot).is_some(),
        ];
    }
    let Some([a, b, c]) = numbers(s) else {
        return [false; 4];
    };
    let short = a.1 <= 2 && b.1 <= 2;
    [
        short && year_of(c, pivot).and_then(|y| make(y, b.0, a.0)).is_some(),
        short && year_of(c, pivot).and_then(|y| make(y, a.0, b.0)).is_some(),
        a.1 == 4
            && b.1 <= 2
            && c.1 <= 2
            && year_of(a, pivot).and_then(|y| make(y, b.0, c.0)).is_some(),
        false,
    ]
}

/// Decimal convention of an amount column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum DecimalStyle {
    /// Italian: `1.234,56`
    Comma,
    /// `1,234.56` or `1234.56`
    Dot,
}

impl DecimalStyle {
    pub fn label(self) -> &'static str {
        match self {
            DecimalStyle::Comma => ",",
            DecimalStyle::Dot => ".",
        }
    }

    pub fn from_label(label: &str) -> Result<DecimalStyle, String> {
        match label.trim() {
            "," | "comma" | "virgola" => Ok(DecimalStyle::Comma),
            "." | "dot" | "punto" => Ok(DecimalStyle::Dot),
            _ => Err(format!(
                "unknown decimal {label:?}: use \",\" (1.234,56) or \".\" (1,234.56)"
            )),
        }
    }
}

/// What a single amount text says about its column's convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountEvidence {
    /// Not an amount at all.
    NotAmount,
    /// An integer without separators: fits both conventions.
    Neutral,
    /// Fits only this convention.
    Only(DecimalStyle),
    /// "1.234" or "1,234": thousands in one convention, decimals in the other.
    Either,
}

fn strip_amount(s: &str) -> (bool, std::borrow::Cow<'_, str>) {
    let s = s.trim();
    // Most cells carry no currency or spacing: no allocation for them.
    let t: std::borrow::Cow<'_, str> = if s.contains(['€', ' ', '\u{a0}', '\'', 'E']) {
        let mut t: String = s
            .chars()
            .filter(|c| !matches!(c, '€' | ' ' | '\u{a0}' | '\''))
            .collect();
        if let Some(rest) = t.strip_prefix("EUR") {
            t = rest.to_string();
        }
        t.into()
    } else {
        s.into()
    };
    let negative = t.starts_with('-');
    let t = match t {
        std::borrow::Cow::Borrowed(b) => {
            std::borrow::Cow::Borrowed(b.trim_start_matches(['-', '+']))
        }
        std::borrow::Cow::Owned(o) => {
            std::borrow::Cow::Owned(o.trim_start_matches(['-', '+']).to_string())
        }
    };
    (negative, t)
}

fn grouped(int: &str, sep: char) -> bool {
    let mut groups = int.split(sep);
    let Some(first) = groups.next() else {
        return false;
    };
    if !(1..=3).contains(&first.len()) || !digits(first) {
        return false;
    }
    let mut more = 0;
    for g in groups {
        if g.len() != 3 || !digits(g) {
            return false;
        }
        more += 1;
    }
    more > 0
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn amount_evidence(s: &str) -> AmountEvidence {
    let s = s.trim();
    // Fast answers for the commonest cells: plain integers, and words.
    if digits(s) {
        return AmountEvidence::Neutral;
    }
    if s.bytes()
        .any(|b| b.is_ascii_alphabetic() && !matches!(b, b'E' | b'U' | b'R'))
    {
        return AmountEvidence::NotAmount;
    }
    let (_, t) = strip_amount(s);
    let fits = |style| parse_units(&t, style, 6).is_some();
    let (comma, dot) = (fits(DecimalStyle::Comma), fits(DecimalStyle::Dot));
    match (comma, dot) {
        (false, false) => AmountEvidence::NotAmount,
        (true, false) => AmountEvidence::Only(DecimalStyle::Comma),
        (false, true) => AmountEvidence::Only(DecimalStyle::Dot),
        (true, true) if digits(&t) => AmountEvidence::Neutral,
        (true, true) => AmountEvidence::Either,
    }
}

/// The absolute value of `t` (already stripped of sign and currency) in units
/// of 10^-scale; None when it is not an amount in `style` or has more decimals
/// than `scale` allows (beyond trailing zeros).
fn parse_units(t: &str, style: DecimalStyle, scale: u8) -> Option<u64> {
    let (thousands, decimal) = match style {
        DecimalStyle::Comma => ('.', ','),
        DecimalStyle::Dot => (',', '.'),
    };
    let (int, frac) = match t.split_once(decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    if int.contains(thousands) {
        if !grouped(int, thousands) {
            return None;
        }
    } else if !(digits(int) || (int.is_empty() && frac.is_some())) {
        return None;
    }
    let frac = frac.unwrap_or("");
    if frac.contains(decimal) || (!frac.is_empty() && !digits(frac)) {
        return None;
    }
    let significant = frac.trim_end_matches('0');
    if significant.len() > usize::from(scale) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let mut units: u64 = 0;
    for b in int.bytes().filter(u8::is_ascii_digit) {
        units = units.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    for i in 0..usize::from(scale) {
        let d = significant
            .as_bytes()
            .get(i)
            .map_or(0, |b| u64::from(b - b'0'));
        units = units.checked_mul(10)?.checked_add(d)?;
    }
    Some(units)
}

/// Reads an amount such as `1.234,56` (Comma) or `1234.56` (Dot) as an
/// integer of 10^-scale units: ("1.234,56", Comma, 2) -> 123456.
pub fn parse_decimal(s: &str, style: DecimalStyle, scale: u8) -> Option<i64> {
    let (negative, t) = strip_amount(s);
    let units = i64::try_from(parse_units(&t, style, scale)?).ok()?;
    Some(if negative { -units } else { units })
}

/// Reads a yes/no flag as legacy exports write it.
pub fn parse_flag(s: &str) -> Option<bool> {
    match s.trim().to_ascii_uppercase().as_str() {
        "S" | "SI" | "SÌ" | "Y" | "YES" | "1" | "TRUE" | "VERO" | "X" => Some(true),
        "N" | "NO" | "0" | "FALSE" | "FALSO" => Some(false),
        _ => None,
    }
}

/// What a column's values say about their type, gathered one value at a time.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub filled: u64,
    /// Values that read as a date in each of [`DATE_FORMATS`].
    pub dates: [u64; 4],
    /// Values that are amounts: neutral integers, comma-only, dot-only, either.
    pub neutral: u64,
    pub comma: u64,
    pub dot: u64,
    pub either: u64,
}

/// The type a column's values support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inferred {
    Empty,
    Text,
    Date(DateFormat),
    /// Dates that read both day-first and month-first.
    DateAmbiguous,
    Integer,
    Amount(DecimalStyle),
    /// Amounts like 1.234 that read both as thousands and as decimals.
    AmountAmbiguous,
}

impl Evidence {
    pub fn add(&mut self, s: &str, pivot: CenturyPivot) {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        self.filled += 1;
        // Text cells (names, codes) start with a letter: neither date nor amount.
        let first = s.as_bytes()[0];
        if first.is_ascii_alphabetic() && first != b'E' {
            return;
        }
        if first.is_ascii_digit() {
            for (i, hit) in date_hits(s, pivot).into_iter().enumerate() {
                self.dates[i] += u64::from(hit);
            }
        }
        match amount_evidence(s) {
            AmountEvidence::NotAmount => {}
            AmountEvidence::Neutral => self.neutral += 1,
            AmountEvidence::Only(DecimalStyle::Comma) => self.comma += 1,
            AmountEvidence::Only(DecimalStyle::Dot) => self.dot += 1,
            AmountEvidence::Either => self.either += 1,
        }
    }

    /// The best date format for the column, if most values (`share` of the
    /// filled ones) are dates; Err(()) when day-first and month-first tie.
    /// ISO dates (what spreadsheet date cells become) fit every format, since
    /// every reading also accepts them: they never decide between dd/mm and mm/dd.
    pub fn date_format(&self, share: f64) -> Option<Result<DateFormat, ()>> {
        let [dmy, mdy, iso, compact] = self.dates;
        let (format, hits) = if dmy == 0 && mdy == 0 {
            if compact > iso {
                (Ok(DateFormat::Compact), compact + iso)
            } else {
                (Ok(DateFormat::YearMonthDay), iso)
            }
        } else if dmy == mdy {
            (Err(()), dmy + iso)
        } else if dmy > mdy {
            (Ok(DateFormat::DayMonthYear), dmy + iso)
        } else {
            (Ok(DateFormat::MonthDayYear), mdy + iso)
        };
        if hits == 0 || (hits as f64) < share * self.filled as f64 {
            return None;
        }
        Some(format)
    }

    /// The decimal style the column's amounts prove, if they are amounts.
    pub fn decimal_style(&self) -> Option<Result<DecimalStyle, ()>> {
        let amounts = self.neutral + self.comma + self.dot + self.either;
        if amounts == 0 || amounts < self.filled {
            return None;
        }
        Some(match self.comma.cmp(&self.dot) {
            std::cmp::Ordering::Greater => Ok(DecimalStyle::Comma),
            std::cmp::Ordering::Less => Ok(DecimalStyle::Dot),
            std::cmp::Ordering::Equal if self.either == 0 => Ok(DecimalStyle::Dot),
            std::cmp::Ordering::Equal => Err(()),
        })
    }

    pub fn inferred(&self) -> Inferred {
        if self.filled == 0 {
            return Inferred::Empty;
        }
        if let Some(d) = self.date_format(1.0) {
            return d.map_or(Inferred::DateAmbiguous, Inferred::Date);
        }
        if self.neutral == self.filled {
            return Inferred::Integer;
        }
        match self.decimal_style() {
            Some(Ok(style)) => Inferred::Amount(style),
            Some(Err(())) => Inferred::AmountAmbiguous,
            None => Inferred::Text,
        }
    }
}

impl Inferred {
    pub fn label(self) -> String {
        match self {
            Inferred::Empty => "empty".into(),
            Inferred::Text => "text".into(),
            Inferred::Date(f) => format!("date {}", f.label()),
            Inferred::DateAmbiguous => "date, AMBIGUOUS dd/mm or mm/dd".into(),
            Inferred::Integer => "integer".into(),
            Inferred::Amount(s) => format!("amount (decimal {})", s.label()),
            Inferred::AmountAmbiguous => "amount, AMBIGUOUS 1.234 (thousands or decimals)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const P26: CenturyPivot = CenturyPivot(26);

    #[test]
    fn day_month_year_with_any_separator_and_a_time_suffix() {
        for s in [
            "15/03/2020",
            "15-03-2020",
            "15.03.2020",
            "15/3/2020",
            "15/03/2020 00:00:00",
        ] {
            assert_eq!(
                parse_date(s, DateFormat::DayMonthYear, P26),
                Some(date!(2020 - 03 - 15)),
                "{s}"
            );
        }
        assert_eq!(
            parse_date("31/02/2020", DateFormat::DayMonthYear, P26),
            None
        );
        assert_eq!(
            parse_date("15/03/2020", DateFormat::MonthDayYear, P26),
            None
        );
        assert_eq!(
            parse_date("2020-03-15", DateFormat::DayMonthYear, P26),
            None
        );
    }

    #[test]
    fn iso_and_compact() {
        assert_eq!(
            parse_date("2020-03-15", DateFormat::YearMonthDay, P26),
            Some(date!(2020 - 03 - 15))
        );
        assert_eq!(
            parse_date("2020-03-15T00:00:00", DateFormat::YearMonthDay, P26),
            Some(date!(2020 - 03 - 15))
        );
        assert_eq!(
            parse_date("20200315", DateFormat::Compact, P26),
            Some(date!(2020 - 03 - 15))
        );
        assert_eq!(parse_date("20201315", DateFormat::Compact, P26), None);
    }

    #[test]
    fn two_digit_years_follow_the_pivot() {
        assert_eq!(
            parse_date("1/2/26", DateFormat::DayMonthYear, P26),
            Some(date!(2026 - 02 - 01))
        );
        assert_eq!(
            parse_date("1/2/27", DateFormat::DayMonthYear, P26),
            Some(date!(1927 - 02 - 01))
        );
        assert_eq!(
            parse_date("1/2/00", DateFormat::DayMonthYear, P26),
            Some(date!(2000 - 02 - 01))
        );
        assert_eq!(
            parse_date("1/2/99", DateFormat::DayMonthYear, P26),
            Some(date!(1999 - 02 - 01))
        );
        // Three-digit years are no year at all.
        assert_eq!(parse_date("1/2/199", DateFormat::DayMonthYear, P26), None);
    }

    #[test]
    fn date_format_labels_round_trip() {
        for f in DATE_FORMATS {
            assert_eq!(DateFormat::from_label(f.label()), Ok(f));
        }
        assert_eq!(
            DateFormat::from_label("d/m/yy"),
            Ok(DateFormat::DayMonthYear)
        );
        assert_eq!(
            DateFormat::from_label("DD-MM-YYYY"),
            Ok(DateFormat::DayMonthYear)
        );
        assert!(DateFormat::from_label("yyyy/dd").is_err());
    }

    fn evidence(values: &[&str]) -> Evidence {
        let mut e = Evidence::default();
        for v in values {
            e.add(v, P26);
        }
        e
    }

    #[test]
    fn a_day_above_12_proves_day_first() {
        let e = evidence(&["01/02/1950", "03/04/1960", "25/12/1970"]);
        assert_eq!(e.inferred(), Inferred::Date(DateFormat::DayMonthYear));
        let e = evidence(&["01/02/1950", "12/25/1970"]);
        assert_eq!(e.inferred(), Inferred::Date(DateFormat::MonthDayYear));
    }

    #[test]
    fn a_column_that_reads_both_ways_is_ambiguous() {
        let e = evidence(&["01/02/1950", "03/04/1960", "", "12/11/1970"]);
        assert_eq!(e.inferred(), Inferred::DateAmbiguous);
        assert_eq!(e.date_format(0.8), Some(Err(())));
    }

    #[test]
    fn iso_dates_from_date_cells_fit_any_column_format() {
        let e = evidence(&["2015-09-01", "16/03/2020", "2018-01-08"]);
        assert_eq!(e.inferred(), Inferred::Date(DateFormat::DayMonthYear));
        assert_eq!(
            read_date("2015-09-01", DateFormat::DayMonthYear, P26),
            Some(date!(2015 - 09 - 01))
        );
        // ...but they do not settle dd/mm against mm/dd.
        assert_eq!(
            evidence(&["2015-09-01", "01/02/2020"]).inferred(),
            Inferred::DateAmbiguous
        );
    }

    #[test]
    fn iso_dates_are_never_ambiguous() {
        assert_eq!(
            evidence(&["2020-01-02", "2021-03-04"]).inferred(),
            Inferred::Date(DateFormat::YearMonthDay)
        );
    }

    #[test]
    fn decimal_comma_with_thousands_dots() {
        assert_eq!(
            parse_decimal("1.234,56", DecimalStyle::Comma, 2),
            Some(123_456)
        );
        assert_eq!(
            parse_decimal("1.234.567,5", DecimalStyle::Comma, 2),
            Some(123_456_750)
        );
        assert_eq!(parse_decimal("-0,5", DecimalStyle::Comma, 2), Some(-50));
        assert_eq!(parse_decimal("€ 12,00", DecimalStyle::Comma, 2), Some(1200));
        assert_eq!(parse_decimal(",50", DecimalStyle::Comma, 2), Some(50));
        assert_eq!(parse_decimal("1234", DecimalStyle::Comma, 2), Some(123_400));
        assert_eq!(parse_decimal("1.23,4", DecimalStyle::Comma, 2), None);
        assert_eq!(
            parse_decimal("1,234", DecimalStyle::Comma, 2),
            None,
            "three decimals for cents"
        );
        assert_eq!(
            parse_decimal("1,230", DecimalStyle::Comma, 2),
            Some(123),
            "trailing zero"
        );
        assert_eq!(parse_decimal("12a", DecimalStyle::Comma, 2), None);
        assert_eq!(parse_decimal("", DecimalStyle::Comma, 2), None);
        assert_eq!(
            parse_decimal("99999999999999999999", DecimalStyle::Comma, 2),
            None
        );
    }

    #[test]
    fn dot_decimals_and_thousands_commas() {
        assert_eq!(
            parse_decimal("1234.56", DecimalStyle::Dot, 2),
            Some(123_456)
        );
        assert_eq!(
            parse_decimal("1,234.5", DecimalStyle::Dot, 2),
            Some(123_450)
        );
        assert_eq!(parse_decimal("2.5", DecimalStyle::Dot, 3), Some(2500));
        assert_eq!(format_decimal(123_456, 2), "1234.56");
        assert_eq!(format_decimal(-5, 2), "-0.05");
        assert_eq!(format_decimal(2500, 3), "2.500");
    }

    #[test]
    fn amount_columns_prove_their_style_or_are_ambiguous() {
        assert_eq!(
            evidence(&["1.234,56", "12", "1.000"]).inferred(),
            Inferred::Amount(DecimalStyle::Comma)
        );
        assert_eq!(
            evidence(&["1234.56", "12"]).inferred(),
            Inferred::Amount(DecimalStyle::Dot)
        );
        assert_eq!(
            evidence(&["1.000", "2.500"]).inferred(),
            Inferred::AmountAmbiguous
        );
        assert_eq!(evidence(&["12", "100"]).inferred(), Inferred::Integer);
        assert_eq!(evidence(&["12", "abc"]).inferred(), Inferred::Text);
    }

    #[test]
    fn date_hits_agree_with_parse_date() {
        for s in [
            "15/03/2020",
            "03/04/20",
            "2020-03-15",
            "20200315",
            "31/02/2020",
            "12/25/1970",
            "x",
            "1.234,56",
            "2020-3-5",
            "1/2/3",
        ] {
            let hits = date_hits(s, P26);
            for (i, f) in DATE_FORMATS.iter().enumerate() {
                assert_eq!(hits[i], parse_date(s, *f, P26).is_some(), "{s} {f:?}");
            }
        }
    }

    #[test]
    fn flags() {
        assert_eq!(parse_flag("S"), Some(true));
        assert_eq!(parse_flag(" no "), Some(false));
        assert_eq!(parse_flag("forse"), None);
    }
}
