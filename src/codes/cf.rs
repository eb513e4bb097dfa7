//! The codice fiscale of a person: 16 characters (surname 3, name 3, year 2,
//! month letter, day (+40 for women), Belfiore birthplace 4, check letter),
//! with omocodia, or the 11-digit temporary code.
//!
//! Omocodia: when two people would get the same code, the Agenzia delle
//! Entrate replaces digits with letters (0 L, 1 M, 2 N, 3 P, 4 Q, 5 R, 6 S,
//! 7 T, 8 U, 9 V), starting from the right, over positions 7, 8, 10, 11, 13,
//! 14 and 15 (1-based), and recomputes the check letter. All 2^7 = 128
//! variants of a code share one person *key*: the code with every omocodia
//! letter mapped back to its digit and the check letter recomputed.
//!
//! A code, or a key, is not a person: two real people may share a computed
//! code. Never merge records on the code alone without the birth data
//! agreeing (see [`consistency`]).

use std::fmt;

use serde::{Serialize, Serializer};
use time::{Date, Month};

use super::piva;

/// Length of the personal codice fiscale.
pub const LEN: usize = 16;

/// 0-based positions where omocodia may replace a digit with a letter
/// (1-based: 7, 8, 10, 11, 13, 14, 15).
const OMOCODIA_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
/// The omocodia letter of each digit 0..=9.
const OMOCODIA_LETTERS: [u8; 10] = *b"LMNPQRSTUV";
/// Month letters, January to December.
const MONTH_LETTERS: [u8; 12] = *b"ABCDEHLMPRST";
/// Values of `0-9`/`A-Z` at the odd (1st, 3rd, ...) positions: `0`/`A` 1,
/// `1`/`B` 0, ... Digits share the value of the letter with the same index.
const ODD_VALUES: [u8; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// Sex as encoded in the day field (women: day + 40).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sex {
    M,
    F,
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sex::M => "M",
            Sex::F => "F",
        })
    }
}

/// A valid codice fiscale of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CodiceFiscale {
    /// The 16-character code.
    Personal(PersonalCf),
    /// An 11-digit temporary code (same form and check digit as a partita
    /// IVA), trimmed. It encodes no birth data.
    Temporary(String),
}

/// A decoded 16-character codice fiscale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonalCf {
    /// The code as given, trimmed and uppercased (omocodia letters kept).
    pub code: String,
    /// The person key: the code with every omocodia letter mapped back to
    /// its digit and the check letter recomputed. All 128 omocodia variants
    /// of a code have the same key.
    pub key: String,
    /// How many of the seven omocodia positions hold a letter (0..=7).
    pub omocodia_level: u8,
    /// Birth date. The code holds only two year digits: the century is the
    /// 2000s unless that date is after `today`, then the 1900s, so a person
    /// over 100 may be decoded 100 years too young. Serialised `YYYY-MM-DD`.
    #[serde(serialize_with = "serialize_date")]
    pub birth_date: Date,
    pub sex: Sex,
    /// Belfiore code of the birthplace (comune `A000`-`M999`, foreign state
    /// `Z` + 3 digits), with omocodia letters restored to digits.
    pub belfiore: String,
}

/// Why a codice fiscale is rejected. [`CfError::code`] gives a stable reason
/// code; `Display` gives a message in English that says what is wrong and
/// what to do. Messages never repeat the whole code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfError {
    /// Nothing but whitespace.
    #[error(
        "the codice fiscale is empty: enter the 16-character code, or the 11-digit temporary code"
    )]
    Empty,
    /// Not 16 (or 11) characters after trimming.
    #[error(
        "the code has {len} characters but a codice fiscale has 16 (or 11 digits for a temporary code): check for missing or extra characters"
    )]
    Length { len: usize },
    /// A character that is not an ASCII letter or digit (1-based position,
    /// counted in characters after trimming).
    #[error(
        "character {ch:?} at position {pos} is not allowed: a codice fiscale has only letters A-Z and digits 0-9, without spaces or punctuation"
    )]
    Charset { pos: usize, ch: char },
    /// A letter where a digit belongs or the other way round, a wrong month
    /// letter, a wrong birthplace letter (1-based position).
    #[error("character {found} at position {pos} is wrong there: expected {expected}")]
    Format {
        pos: usize,
        found: char,
        expected: &'static str,
    },
    /// The check letter does not match the first 15 characters.
    #[error("check character is {found} but should be {expected}: a typo in the code?")]
    Check { expected: char, found: char },
    /// The encoded day is 00, 32-40 or above 71.
    #[error(
        "the day of birth is encoded as {encoded:02}, which is impossible: it must be 01-31 for men or 41-71 for women (day + 40); check the two characters after the month letter"
    )]
    DayOutOfRange { encoded: u8 },
    /// Day and month exist, but not together (31 April, 30 February, 29
    /// February of a year that is not a leap year).
    #[error(
        "the birth date {day:02}/{month:02}/{yy:02} (day/month/year) does not exist: check the year digits, the month letter and the day"
    )]
    NoSuchDate { day: u8, month: u8, yy: u8 },
    /// The birth date is after `today` in both the 1900s and the 2000s.
    #[error(
        "the birth date {day:02}/{month:02}/{yy:02} (day/month/year) is not on or before today's date {today} in either the 1900s or the 2000s: check the year digits and the system date"
    )]
    FutureBirth {
        day: u8,
        month: u8,
        yy: u8,
        today: Date,
    },
    /// An 11-digit temporary code whose check digit is wrong.
    #[error(
        "check digit is {found} but should be {expected}: a typo in the 11-digit temporary code?"
    )]
    TempCheck { expected: u8, found: u8 },
}

impl CfError {
    /// Stable reason code: `CF_EMPTY`, `CF_LENGTH`, `CF_CHARSET`,
    /// `CF_FORMAT`, `CF_CHECK`, `CF_DATE` or `CF_TEMP_CHECK`.
    pub fn code(&self) -> &'static str {
        match self {
            CfError::Empty => "CF_EMPTY",
            CfError::Length { .. } => "CF_LENGTH",
            CfError::Charset { .. } => "CF_CHARSET",
            CfError::Format { .. } => "CF_FORMAT",
            CfError::Check { .. } => "CF_CHECK",
            CfError::DayOutOfRange { .. }
            | CfError::NoSuchDate { .. }
            | CfError::FutureBirth { .. } => "CF_DATE",
            CfError::TempCheck { .. } => "CF_TEMP_CHECK",
        }
    }
}

/// A disagreement between a decoded code and the master data of a person.
/// Serialised with its stable reason code in the field `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code")]
pub enum Mismatch {
    /// Day, month or two-digit year differ (the century is not compared: the
    /// code does not hold it).
    #[serde(rename = "CF_BIRTHDATE_MISMATCH")]
    BirthDate {
        #[serde(serialize_with = "serialize_date")]
        from_cf: Date,
        #[serde(serialize_with = "serialize_date")]
        recorded: Date,
    },
    #[serde(rename = "CF_SEX_MISMATCH")]
    Sex { from_cf: Sex, recorded: Sex },
    #[serde(rename = "CF_BIRTHPLACE_MISMATCH")]
    Birthplace { from_cf: String, recorded: String },
}

impl Mismatch {
    /// Stable reason code: `CF_BIRTHDATE_MISMATCH`, `CF_SEX_MISMATCH` or
    /// `CF_BIRTHPLACE_MISMATCH`.
    pub fn code(&self) -> &'static str {
        match self {
            Mismatch::BirthDate { .. } => "CF_BIRTHDATE_MISMATCH",
            Mismatch::Sex { .. } => "CF_SEX_MISMATCH",
            Mismatch::Birthplace { .. } => "CF_BIRTHPLACE_MISMATCH",
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::BirthDate { from_cf, recorded } => write!(
                f,
                "the codice fiscale encodes the birth date {:02}/{:02}/{:02} (day/month/year) but the record says {recorded}: correct the record or the code, and do not merge people on the code alone",
                from_cf.day(),
                u8::from(from_cf.month()),
                from_cf.year().rem_euclid(100),
            ),
            Mismatch::Sex { from_cf, recorded } => write!(
                f,
                "the codice fiscale encodes sex {from_cf} but the record says {recorded}: correct the record or the code, and do not merge people on the code alone"
            ),
            Mismatch::Birthplace { from_cf, recorded } => write!(
                f,
                "the codice fiscale encodes the birthplace {from_cf} but the record says {recorded}: correct the record or the code (a comune may have changed its Belfiore code after a merger)"
            ),
        }
    }
}

fn serialize_date<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(date)
}

/// Value of an uppercase ASCII letter or digit in the check sum; `odd` is
/// for the 1st, 3rd, ... position (1-based).
fn char_value(b: u8, odd: bool) -> Option<u32> {
    let idx = match b {
        b'0'..=b'9' => b - b'0',
        b'A'..=b'Z' => b - b'A',
        _ => return None,
    };
    let value = if odd {
        ODD_VALUES[usize::from(idx)]
    } else {
        idx
    };
    Some(u32::from(value))
}

/// Check letter of 15 uppercase ASCII letters/digits.
fn check_of(first15: &[u8]) -> Option<u8> {
    if first15.len() != LEN - 1 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &b) in first15.iter().enumerate() {
        sum += char_value(b, i % 2 == 0)?;
    }
    // sum % 26 < 26, so the result is in A..=Z.
    Some(b'A' + (sum % 26) as u8)
}

/// The check letter for the first 15 characters of a codice fiscale, or
/// `None` unless `first15` is exactly 15 ASCII letters or digits (lowercase
/// is accepted; no trimming; the format is not checked).
pub fn check_char(first15: &str) -> Option<char> {
    let bytes = first15.as_bytes();
    if bytes.len() != LEN - 1 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let upper: Vec<u8> = bytes.iter().map(u8::to_ascii_uppercase).collect();
    check_of(&upper).map(char::from)
}

/// Trimmed, checked for charset and length, uppercased.
enum Shape {
    Personal([u8; LEN]),
    Temporary([u8; piva::LEN]),
}

fn normalise(input: &str) -> Result<Shape, CfError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(CfError::Empty);
    }
    if let Some((i, ch)) = trimmed
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        return Err(CfError::Charset { pos: i + 1, ch });
    }
    // Only ASCII remains: bytes == chars.
    let bytes = trimmed.as_bytes();
    if let Ok(arr) = <[u8; LEN]>::try_from(bytes) {
        Ok(Shape::Personal(arr.map(|b| b.to_ascii_uppercase())))
    } else if let Ok(arr) = <[u8; piva::LEN]>::try_from(bytes) {
        Ok(Shape::Temporary(arr.map(|b| b.to_ascii_uppercase())))
    } else {
        Err(CfError::Length { len: bytes.len() })
    }
}

fn is_omocodia_letter(b: u8) -> bool {
    OMOCODIA_LETTERS.contains(&b)
}

/// The digit behind a digit or an omocodia letter.
fn restore_digit(b: u8) -> Option<u8> {
    if b.is_ascii_digit() {
        Some(b)
    } else {
        let i = OMOCODIA_LETTERS.iter().position(|&l| l == b)?;
        // i < 10
        Some(b'0' + i as u8)
    }
}

const EXPECT_NAME: &str = "a letter (positions 1-6 are surname and name)";
const EXPECT_YEAR: &str = "a digit of the year of birth, or an omocodia letter L M N P Q R S T U V";
const EXPECT_MONTH: &str = "a month letter: A B C D E H L M P R S T";
const EXPECT_DAY: &str = "a digit of the day of birth, or an omocodia letter L M N P Q R S T U V";
const EXPECT_PLACE_LETTER: &str =
    "a letter A-M (Italian comune) or Z (foreign state) starting the birthplace code";
const EXPECT_PLACE_DIGIT: &str =
    "a digit of the birthplace code, or an omocodia letter L M N P Q R S T U V";
const EXPECT_CHECK: &str = "a letter (the check character)";

/// What belongs at a 0-based position, if `b` does not.
fn position_problem(pos: usize, b: u8) -> Option<&'static str> {
    let digitish = b.is_ascii_digit() || is_omocodia_letter(b);
    match pos {
        0..=5 if !b.is_ascii_uppercase() => Some(EXPECT_NAME),
        6 | 7 if !digitish => Some(EXPECT_YEAR),
        8 if !MONTH_LETTERS.contains(&b) => Some(EXPECT_MONTH),
        9 | 10 if !digitish => Some(EXPECT_DAY),
        11 if !matches!(b, b'A'..=b'M' | b'Z') => Some(EXPECT_PLACE_LETTER),
        12..=14 if !digitish => Some(EXPECT_PLACE_DIGIT),
        15 if !b.is_ascii_uppercase() => Some(EXPECT_CHECK),
        _ => None,
    }
}

/// A 16-character code that passed every check that does not need `today`.
struct Decoded {
    code: [u8; LEN],
    key: [u8; LEN],
    level: u8,
    yy: u8,
    month: Month,
    day: u8,
    sex: Sex,
    belfiore: [u8; 4],
}

fn two_digits(a: u8, b: u8) -> u8 {
    (a - b'0') * 10 + (b - b'0')
}

fn days_in_month(year: i32, month: Month) -> u8 {
    time::util::days_in_month(month, year)
}

/// Format, check character and a date check that holds in either century.
fn decode_personal(code: [u8; LEN]) -> Result<Decoded, CfError> {
    for (pos, &b) in code.iter().enumerate() {
        if let Some(expected) = position_problem(pos, b) {
            return Err(CfError::Format {
                pos: pos + 1,
                found: char::from(b),
                expected,
            });
        }
    }
    let expected = check_of(&code[..LEN - 1]).ok_or(CfError::Format {
        pos: 1,
        found: char::from(code[0]),
        expected: EXPECT_NAME,
    })?;
    if code[LEN - 1] != expected {
        return Err(CfError::Check {
            expected: char::from(expected),
            found: char::from(code[LEN - 1]),
        });
    }

    let mut key = code;
    let mut level = 0u8;
    for &pos in &OMOCODIA_POSITIONS {
        let b = code[pos];
        if !b.is_ascii_digit() {
            level += 1;
        }
        // Format was checked: digit or omocodia letter.
        key[pos] = restore_digit(b).unwrap_or(b'0');
    }
    if let Some(check) = check_of(&key[..LEN - 1]) {
        key[LEN - 1] = check;
    }

    let yy = two_digits(key[6], key[7]);
    let month_index = MONTH_LETTERS.iter().position(|&m| m == key[8]).unwrap_or(0);
    // 1..=12
    let month_number = month_index as u8 + 1;
    let month = Month::try_from(month_number).unwrap_or(Month::January);
    let encoded_day = two_digits(key[9], key[10]);
    let (day, sex) = match encoded_day {
        1..=31 => (encoded_day, Sex::M),
        41..=71 => (encoded_day - 40, Sex::F),
        _ => {
            return Err(CfError::DayOutOfRange {
                encoded: encoded_day,
            });
        }
    };
    // February 29 exists in 2000 but not in 1900: accept it if either
    // century has it; `parse` then picks the century.
    let max_day =
        days_in_month(2000 + i32::from(yy), month).max(days_in_month(1900 + i32::from(yy), month));
    if day > max_day {
        return Err(CfError::NoSuchDate {
            day,
            month: month_number,
            yy,
        });
    }
    let belfiore = [key[11], key[12], key[13], key[14]];
    Ok(Decoded {
        code,
        key,
        level,
        yy,
        month,
        day,
        sex,
        belfiore,
    })
}

/// 20yy unless that date is after `today` (or does not exist), then 19yy.
fn birth_date(d: &Decoded, today: Date) -> Result<Date, CfError> {
    let yy = i32::from(d.yy);
    if let Ok(date) = Date::from_calendar_date(2000 + yy, d.month, d.day)
        && date <= today
    {
        return Ok(date);
    }
    match Date::from_calendar_date(1900 + yy, d.month, d.day) {
        Ok(date) if date <= today => Ok(date),
        // Also 29 February of year 00 when 2000 is after today: 1900 is
        // not a leap year.
        _ => Err(CfError::FutureBirth {
            day: d.day,
            month: u8::from(d.month),
            yy: d.yy,
            today,
        }),
    }
}

fn ascii_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Validate and decode a codice fiscale of a person.
///
/// The input is trimmed and uppercased; internal spaces are rejected. A
/// 16-character code is checked in this order: characters, length, format
/// (letters and digits in their places, month letter, birthplace letter,
/// omocodia letters only where allowed), check character, then the birth
/// date (day range, day of month, not after `today`). An 11-character code
/// must be all digits with a valid check digit (a temporary code).
pub fn parse(input: &str, today: Date) -> Result<CodiceFiscale, CfError> {
    match normalise(input)? {
        Shape::Temporary(code) => {
            if let Some(pos) = code.iter().position(|b| !b.is_ascii_digit()) {
                return Err(CfError::Format {
                    pos: pos + 1,
                    found: char::from(code[pos]),
                    expected: "a digit (an 11-character code is a temporary codice fiscale, only digits)",
                });
            }
            let mut digits = [0u8; 10];
            for (slot, b) in digits.iter_mut().zip(&code) {
                *slot = b - b'0';
            }
            let expected = piva::check_of_digits(&digits);
            let found = code[10] - b'0';
            if expected != found {
                return Err(CfError::TempCheck { expected, found });
            }
            Ok(CodiceFiscale::Temporary(ascii_string(&code)))
        }
        Shape::Personal(code) => {
            let d = decode_personal(code)?;
            let birth_date = birth_date(&d, today)?;
            Ok(CodiceFiscale::Personal(PersonalCf {
                code: ascii_string(&d.code),
                key: ascii_string(&d.key),
                omocodia_level: d.level,
                birth_date,
                sex: d.sex,
                belfiore: ascii_string(&d.belfiore),
            }))
        }
    }
}

/// Decode a 16-character code without the `today` check (the century is
/// not needed for the key).
fn decode_str(code: &str) -> Option<Decoded> {
    match normalise(code).ok()? {
        Shape::Personal(code) => decode_personal(code).ok(),
        Shape::Temporary(_) => None,
    }
}

/// All 128 omocodia variants of a valid 16-character code (any variant may
/// be given; it is trimmed and uppercased), each with its check letter, or
/// an empty vector if the code is not valid. The birth date is checked only
/// for day and month, not against today.
///
/// Order: index `i` substitutes the omocodia positions of the bits set in
/// `i`, bit 0 being the rightmost position (15), so index 0 is the key and
/// indexes 1, 3, 7, ... 127 are the Agenzia's sequence (from the right).
pub fn omocodes(key: &str) -> Vec<String> {
    let Some(d) = decode_str(key) else {
        return Vec::new();
    };
    (0u32..128)
        .map(|mask| {
            let mut variant = d.key;
            for (bit, &pos) in OMOCODIA_POSITIONS.iter().rev().enumerate() {
                if mask & (1 << bit) != 0 {
                    let digit = usize::from(variant[pos].wrapping_sub(b'0'));
                    if let Some(&letter) = OMOCODIA_LETTERS.get(digit) {
                        variant[pos] = letter;
                    }
                }
            }
            if let Some(check) = check_of(&variant[..LEN - 1]) {
                variant[LEN - 1] = check;
            }
            ascii_string(&variant)
        })
        .collect()
}

/// The person key of a valid 16-character code (any omocodia variant; it is
/// trimmed and uppercased): the same as [`PersonalCf::key`]. `None` if the
/// code is not valid (the birth date is checked only for day and month).
pub fn person_key(code: &str) -> Option<String> {
    decode_str(code).map(|d| ascii_string(&d.key))
}

/// Compare a decoded code with the master data of a person; `None` fields
/// are not compared. Returns the disagreements, in the order birth date,
/// sex, birthplace.
///
/// The birth date is compared on day, month and the two year digits only,
/// since the code does not hold the century. The birthplace is compared
/// trimmed and case-insensitively; an empty one is not compared.
pub fn consistency(
    cf: &PersonalCf,
    birth_date: Option<Date>,
    sex: Option<Sex>,
    belfiore: Option<&str>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if let Some(recorded) = birth_date {
        let same = recorded.day() == cf.birth_date.day()
            && recorded.month() == cf.birth_date.month()
            && recorded.year().rem_euclid(100) == cf.birth_date.year().rem_euclid(100);
        if !same {
            out.push(Mismatch::BirthDate {
                from_cf: cf.birth_date,
                recorded,
            });
        }
    }
    if let Some(recorded) = sex
        && recorded != cf.sex
    {
        out.push(Mismatch::Sex {
            from_cf: cf.sex,
            recorded,
        });
    }
    if let Some(recorded) = belfiore {
        let recorded = recorded.trim();
        if !recorded.is_empty() && !recorded.eq_ignore_ascii_case(&cf.belfiore) {
            out.push(Mismatch::Birthplace {
                from_cf: cf.belfiore.clone(),
                recorded: recorded.to_owned(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2025 - 06 - 15);

    /// `first15` + its check letter.
    fn with_check(first15: &str) -> String {
        format!("{first15}{}", check_char(first15).unwrap())
    }

    fn personal(input: &str, today: Date) -> PersonalCf {
        match parse(input, today) {
            Ok(CodiceFiscale::Personal(p)) => p,
            other => panic!("{input}: {other:?}"),
        }
    }

    fn err(input: &str, today: Date) -> CfError {
        parse(input, today).unwrap_err()
    }

    // Check letters computed by hand from the DOMAIN.md tables.
    // RSSMRA85T10A562: odd R8 S12 R8 '8'19 T14 '0'1 '5'13 '2'5 = 80,
    //   even S18 M12 A0 '5'5 '1'1 A0 '6'6 = 42; 122 mod 26 = 18 -> S.
    // BNCLRA90A41F205: odd B0 C5 R8 '9'21 A1 '1'0 '2'5 '5'13 = 53,
    //   even N13 L11 A0 '0'0 '4'4 F5 '0'0 = 33; 86 mod 26 = 8 -> I.
    // RSSMRA85T10A56N (level 1, '2' -> N at odd position 15: 5 -> 20):
    //   95 + 42 = 137 mod 26 = 7 -> H.
    // RSSMRAURTMLARSN (level 7): odd R8 S12 R8 U16 T14 L4 R8 N20 = 90,
    //   even S18 M12 A0 R17 M12 A0 S18 = 77; 167 mod 26 = 11 -> L.
    #[test]
    fn hand_computed_check_letters() {
        assert_eq!(check_char("RSSMRA85T10A562"), Some('S'));
        assert_eq!(check_char("rssmra85t10a562"), Some('S'));
        assert_eq!(check_char("BNCLRA90A41F205"), Some('I'));
        assert_eq!(check_char("RSSMRA85T10A56N"), Some('H'));
        assert_eq!(check_char("RSSMRAURTMLARSN"), Some('L'));
        // Fifteen zeros: odd 8 * 1, even 0 -> 8 -> I.
        assert_eq!(check_char("000000000000000"), Some('I'));
    }

    /// Every entry of both value tables, one character at a time, the
    /// expected letters transcribed by hand from the DOMAIN.md tables
    /// (value v -> letter 'A' + v).
    #[test]
    fn value_tables_entry_by_entry() {
        let chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        // Odd: 0/A 1 B, 1/B 0 A, 2/C 5 F, 3/D 7 H, 4/E 9 J, 5/F 13 N,
        // 6/G 15 P, 7/H 17 R, 8/I 19 T, 9/J 21 V, K 2 C, L 4 E, M 18 S,
        // N 20 U, O 11 L, P 3 D, Q 6 G, R 8 I, S 12 M, T 14 O, U 16 Q,
        // V 10 K, W 22 W, X 25 Z, Y 24 Y, Z 23 X.
        let odd = "BAFHJNPRTVBAFHJNPRTVCESULDGIMOQKWZYX";
        // Even: digits their value, letters their index.
        let even = "ABCDEFGHIJABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for ((c, o), e) in chars.chars().zip(odd.chars()).zip(even.chars()) {
            // The character at position 1, then 'B' (odd value 0) at the
            // other odd positions and '0' (even value 0) at the even ones.
            assert_eq!(
                check_char(&format!("{c}0B0B0B0B0B0B0B")),
                Some(o),
                "odd {c}"
            );
            // The character at position 2, 'B' and '0' as above.
            assert_eq!(
                check_char(&format!("B{c}B0B0B0B0B0B0B")),
                Some(e),
                "even {c}"
            );
            // And at the last odd and even positions.
            assert_eq!(
                check_char(&format!("B0B0B0B0B0B0B0{c}")),
                Some(o),
                "odd 15 {c}"
            );
            assert_eq!(
                check_char(&format!("B0B0B0B0B0B0B{c}B")),
                Some(e),
                "even 14 {c}"
            );
        }
    }

    #[test]
    fn check_char_rejects_bad_input() {
        assert_eq!(check_char(""), None);
        assert_eq!(check_char("RSSMRA85T10A56"), None);
        assert_eq!(check_char("RSSMRA85T10A5622"), None);
        assert_eq!(check_char("RSSMRA85T10A56 "), None);
        assert_eq!(check_char("RSSMRA85T10A56È"), None);
        assert_eq!(check_char("RSSMRA85T10A5-2"), None);
    }

    #[test]
    fn decodes_a_man() {
        let p = personal("RSSMRA85T10A562S", TODAY);
        assert_eq!(
            p,
            PersonalCf {
                code: "RSSMRA85T10A562S".into(),
                key: "RSSMRA85T10A562S".into(),
                omocodia_level: 0,
                birth_date: date!(1985 - 12 - 10),
                sex: Sex::M,
                belfiore: "A562".into(),
            }
        );
    }

    #[test]
    fn decodes_a_woman() {
        let p = personal("BNCLRA90A41F205I", TODAY);
        assert_eq!(p.birth_date, date!(1990 - 01 - 01));
        assert_eq!(p.sex, Sex::F);
        assert_eq!(p.belfiore, "F205");
        // Day 71 = 31 for a woman.
        let p = personal(&with_check("BNCLRA90A71F205"), TODAY);
        assert_eq!((p.birth_date, p.sex), (date!(1990 - 01 - 31), Sex::F));
        // Foreign state.
        let p = personal(&with_check("BNCLRA90A41Z404"), TODAY);
        assert_eq!(p.belfiore, "Z404");
    }

    #[test]
    fn normalises_input() {
        let p = personal("  rssmra85t10a562s\t\n", TODAY);
        assert_eq!(p.code, "RSSMRA85T10A562S");
        // Non-breaking space around (copied from a document).
        let p = personal("\u{a0}RSSMRA85T10A562S\u{a0}", TODAY);
        assert_eq!(p.code, "RSSMRA85T10A562S");
    }

    #[test]
    fn omocodic_codes() {
        let p = personal("RSSMRA85T10A56NH", TODAY);
        assert_eq!(p.omocodia_level, 1);
        assert_eq!(p.key, "RSSMRA85T10A562S");
        assert_eq!(p.belfiore, "A562");
        assert_eq!(p.code, "RSSMRA85T10A56NH");

        let p = personal("RSSMRAURTMLARSNL", TODAY);
        assert_eq!(p.omocodia_level, 7);
        assert_eq!(p.key, "RSSMRA85T10A562S");
        assert_eq!(p.birth_date, date!(1985 - 12 - 10));
        assert_eq!(p.sex, Sex::M);
        assert_eq!(p.belfiore, "A562");

        // The plain key with its check letter, but a letter put in without
        // recomputing the check: rejected.
        assert_eq!(err("RSSMRA85T10A56NS", TODAY).code(), "CF_CHECK");
        // A letter that is not an omocodia letter in a digit place.
        assert_eq!(
            err(&with_check("RSSMRA85T10A56A"), TODAY),
            CfError::Format {
                pos: 15,
                found: 'A',
                expected: EXPECT_PLACE_DIGIT
            }
        );
    }

    #[test]
    fn omocodes_list() {
        let all = omocodes("RSSMRA85T10A562S");
        assert_eq!(all.len(), 128);
        assert_eq!(all[0], "RSSMRA85T10A562S");
        assert_eq!(all[1], "RSSMRA85T10A56NH");
        assert_eq!(all[127], "RSSMRAURTMLARSNL");
        let set: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(set.len(), 128);
        // Agenzia's sequence: from the right.
        assert_eq!(all[3], with_check("RSSMRA85T10A5SN"));
        assert_eq!(all[7], with_check("RSSMRA85T10ARSN"));
        assert_eq!(all[15], with_check("RSSMRA85T1LARSN"));
        // From any variant, in any case, the same list.
        assert_eq!(omocodes(" rssmraurtmlarsnl "), all);
        assert!(omocodes("RSSMRA85T10A562K").is_empty());
        assert!(omocodes("02030880153").is_empty());
        assert!(omocodes("").is_empty());
    }

    #[test]
    fn person_key_of_variants() {
        assert_eq!(
            person_key("RSSMRAURTMLARSNL").as_deref(),
            Some("RSSMRA85T10A562S")
        );
        assert_eq!(
            person_key("rssmra85t10a56nh").as_deref(),
            Some("RSSMRA85T10A562S")
        );
        assert_eq!(person_key("RSSMRA85T10A562K"), None);
        assert_eq!(person_key(&with_check("RSSMRA85B30A562")), None);
        assert_eq!(person_key("02030880153"), None);
    }

    #[test]
    fn century_rule() {
        // Born today in 2025: 2025.
        let p = personal(&with_check("RSSMRA25H15A562"), TODAY);
        assert_eq!(p.birth_date, date!(2025 - 06 - 15));
        // 2025-06-16 would be tomorrow: 1925.
        let p = personal(&with_check("RSSMRA25H16A562"), TODAY);
        assert_eq!(p.birth_date, date!(1925 - 06 - 16));
        // Yesterday.
        let p = personal(&with_check("RSSMRA25H14A562"), TODAY);
        assert_eq!(p.birth_date, date!(2025 - 06 - 14));
        // 99 -> 1999; 00 -> 2000.
        let p = personal(&with_check("RSSMRA99A01A562"), TODAY);
        assert_eq!(p.birth_date, date!(1999 - 01 - 01));
        let p = personal(&with_check("RSSMRA00A01A562"), TODAY);
        assert_eq!(p.birth_date, date!(2000 - 01 - 01));
        // Omocodic year digits follow the same rule (Q = 4, S = 6).
        let p = personal(&with_check("RSSMRA2RH16A562"), TODAY);
        assert_eq!(p.birth_date, date!(1925 - 06 - 16));
        // An earlier today moves the century.
        let p = personal(&with_check("RSSMRA10A01A562"), date!(2009 - 12 - 31));
        assert_eq!(p.birth_date, date!(1910 - 01 - 01));
    }

    #[test]
    fn leap_days() {
        // 2024 is a leap year.
        let p = personal(&with_check("RSSMRA24B29A562"), TODAY);
        assert_eq!(p.birth_date, date!(2024 - 02 - 29));
        // 1996 too.
        let p = personal(&with_check("RSSMRA96B69A562"), TODAY);
        assert_eq!((p.birth_date, p.sex), (date!(1996 - 02 - 29), Sex::F));
        // 2023 / 1923 are not.
        assert_eq!(
            err(&with_check("RSSMRA23B29A562"), TODAY),
            CfError::NoSuchDate {
                day: 29,
                month: 2,
                yy: 23
            }
        );
        // 2000 is, 1900 is not.
        let p = personal(&with_check("RSSMRA00B29A562"), TODAY);
        assert_eq!(p.birth_date, date!(2000 - 02 - 29));
        let e = err(&with_check("RSSMRA00B29A562"), date!(1999 - 12 - 31));
        assert_eq!(e.code(), "CF_DATE");
        assert!(matches!(e, CfError::FutureBirth { .. }), "{e:?}");
        // 1 March 00 before 2000: 1900.
        let p = personal(&with_check("RSSMRA00C01A562"), date!(1999 - 12 - 31));
        assert_eq!(p.birth_date, date!(1900 - 03 - 01));
    }

    #[test]
    fn impossible_dates() {
        let cases = [
            (
                "RSSMRA85B31A562",
                CfError::NoSuchDate {
                    day: 31,
                    month: 2,
                    yy: 85,
                },
            ),
            (
                "RSSMRA85B30A562",
                CfError::NoSuchDate {
                    day: 30,
                    month: 2,
                    yy: 85,
                },
            ),
            (
                "RSSMRA85B70A562",
                CfError::NoSuchDate {
                    day: 30,
                    month: 2,
                    yy: 85,
                },
            ),
            (
                "RSSMRA85D31A562",
                CfError::NoSuchDate {
                    day: 31,
                    month: 4,
                    yy: 85,
                },
            ),
            ("RSSMRA85T00A562", CfError::DayOutOfRange { encoded: 0 }),
            ("RSSMRA85T32A562", CfError::DayOutOfRange { encoded: 32 }),
            ("RSSMRA85T40A562", CfError::DayOutOfRange { encoded: 40 }),
            ("RSSMRA85T72A562", CfError::DayOutOfRange { encoded: 72 }),
            ("RSSMRA85T99A562", CfError::DayOutOfRange { encoded: 99 }),
            // Omocodic day: P L = 30, in February.
            (
                "RSSMRA85BPLA562",
                CfError::NoSuchDate {
                    day: 30,
                    month: 2,
                    yy: 85,
                },
            ),
        ];
        for (first15, expected) in cases {
            let e = err(&with_check(first15), TODAY);
            assert_eq!(e, expected, "{first15}");
            assert_eq!(e.code(), "CF_DATE");
        }
        // Valid limits.
        assert_eq!(
            personal(&with_check("RSSMRA85T31A562"), TODAY).birth_date,
            date!(1985 - 12 - 31)
        );
        assert_eq!(
            personal(&with_check("RSSMRA85D30A562"), TODAY).birth_date,
            date!(1985 - 04 - 30)
        );
        assert_eq!(
            personal(&with_check("RSSMRA85T41A562"), TODAY).birth_date,
            date!(1985 - 12 - 01)
        );
        // Any date is after a today before 1900.
        let e = err("RSSMRA85T10A562S", date!(1899 - 01 - 01));
        assert_eq!(e.code(), "CF_DATE");
    }

    #[test]
    fn format_errors() {
        let cases = [
            ("1SSMRA85T10A562", 1, '1'),  // digit in surname
            ("RSSMR485T10A562", 6, '4'),  // digit in name
            ("RSSMRAA5T10A562", 7, 'A'),  // non-omocodia letter in year
            ("RSSMRA8KT10A562", 8, 'K'),  // idem
            ("RSSMRA85F10A562", 9, 'F'),  // F is not a month letter
            ("RSSMRA85510A562", 9, '5'),  // digit for month
            ("RSSMRA85TX0A562", 10, 'X'), // day
            ("RSSMRA85T10N562", 12, 'N'), // birthplace letter beyond M
            ("RSSMRA85T102562", 12, '2'), // birthplace needs a letter
            ("RSSMRA85T10AB62", 13, 'B'), // birthplace digits
        ];
        for (first15, pos, found) in cases {
            // The check letter is right, so the format is what fails.
            let e = err(&with_check(first15), TODAY);
            assert_eq!(e.code(), "CF_FORMAT", "{first15}: {e:?}");
            assert!(
                matches!(e, CfError::Format { pos: p, found: f, .. } if p == pos && f == found),
                "{first15}: {e:?}"
            );
        }
        // Check character that is a digit.
        assert!(matches!(
            err("RSSMRA85T10A5620", TODAY),
            CfError::Format {
                pos: 16,
                found: '0',
                ..
            }
        ));
        // Format problems are reported before the check character.
        assert_eq!(err("RSSMRA85F10A562S", TODAY).code(), "CF_FORMAT");
    }

    #[test]
    fn check_error() {
        let e = err("RSSMRA85T10A562K", TODAY);
        assert_eq!(
            e,
            CfError::Check {
                expected: 'S',
                found: 'K'
            }
        );
        assert_eq!(e.code(), "CF_CHECK");
        assert_eq!(
            e.to_string(),
            "check character is K but should be S: a typo in the code?"
        );
        // A typo in the day is caught by the check before the date.
        assert_eq!(err("RSSMRA85T32A562S", TODAY).code(), "CF_CHECK");
    }

    #[test]
    fn charset_length_empty() {
        assert_eq!(err("", TODAY), CfError::Empty);
        assert_eq!(err(" \t\n ", TODAY).code(), "CF_EMPTY");
        assert_eq!(
            err("RSS MRA 85T10 A562S", TODAY),
            CfError::Charset { pos: 4, ch: ' ' }
        );
        assert_eq!(err("RSSMRA85T10A562-", TODAY).code(), "CF_CHARSET");
        assert_eq!(
            err("RSSMRA85T10À562S", TODAY),
            CfError::Charset { pos: 12, ch: 'À' }
        );
        assert_eq!(err("RSSMRA85T10A562🙂", TODAY).code(), "CF_CHARSET");
        // Fullwidth letters are not ASCII.
        assert_eq!(err("ＲSSMRA85T10A562S", TODAY).code(), "CF_CHARSET");
        assert_eq!(err("RSSMRA85T10A562", TODAY), CfError::Length { len: 15 });
        assert_eq!(err("RSSMRA85T10A562SS", TODAY), CfError::Length { len: 17 });
        assert_eq!(err("020308801530", TODAY).code(), "CF_LENGTH");
        assert_eq!(err("X", TODAY).code(), "CF_LENGTH");
    }

    #[test]
    fn huge_inputs() {
        let long = "A".repeat(5_000_000);
        assert_eq!(err(&long, TODAY), CfError::Length { len: 5_000_000 });
        let long = "€".repeat(1_000_000);
        assert_eq!(err(&long, TODAY).code(), "CF_CHARSET");
        assert!(omocodes(&long).is_empty());
        assert_eq!(person_key(&long), None);
        assert_eq!(check_char(&long), None);
    }

    #[test]
    fn temporary_codes() {
        // Comune di Monza's codice fiscale (check digit hand-computed in
        // piva.rs): the 11-digit form is accepted as a temporary code.
        assert_eq!(
            parse(" 02030880153 ", TODAY),
            Ok(CodiceFiscale::Temporary("02030880153".into()))
        );
        assert_eq!(
            err("02030880154", TODAY),
            CfError::TempCheck {
                expected: 3,
                found: 4
            }
        );
        assert_eq!(err("02030880154", TODAY).code(), "CF_TEMP_CHECK");
        assert_eq!(
            err("0203088015a", TODAY),
            CfError::Format {
                pos: 11,
                found: 'A',
                expected: "a digit (an 11-character code is a temporary codice fiscale, only digits)"
            }
        );
    }

    #[test]
    fn messages_say_what_to_do() {
        let errors = [
            err("", TODAY),
            err("RSSMRA85T10A562", TODAY),
            err("RSS MRA85T10A562", TODAY),
            err("RSSMRA85F10A562S", TODAY),
            err("RSSMRA85T10A562K", TODAY),
            err(&with_check("RSSMRA85T32A562"), TODAY),
            err(&with_check("RSSMRA85B30A562"), TODAY),
            err("RSSMRA85T10A562S", date!(1899 - 01 - 01)),
            err("02030880154", TODAY),
        ];
        let codes: Vec<_> = errors.iter().map(CfError::code).collect();
        assert_eq!(
            codes,
            [
                "CF_EMPTY",
                "CF_LENGTH",
                "CF_CHARSET",
                "CF_FORMAT",
                "CF_CHECK",
                "CF_DATE",
                "CF_DATE",
                "CF_DATE",
                "CF_TEMP_CHECK"
            ]
        );
        for e in &errors {
            let msg = e.to_string();
            assert!(msg.contains(':'), "{msg}");
            // Personal data stays out of messages.
            assert!(!msg.contains("RSSMRA"), "{msg}");
            assert!(!msg.contains("0203088015"), "{msg}");
        }
        assert_eq!(
            err("RSSMRA85F10A562S", TODAY).to_string(),
            "character F at position 9 is wrong there: expected a month letter: A B C D E H L M P R S T"
        );
    }

    #[test]
    fn consistency_checks() {
        let p = personal("RSSMRAURTMLARSNL", TODAY);
        assert!(
            consistency(&p, Some(date!(1985 - 12 - 10)), Some(Sex::M), Some("A562")).is_empty()
        );
        assert!(consistency(&p, None, None, None).is_empty());
        // Century is not in the code: 1885 agrees.
        assert!(consistency(&p, Some(date!(1885 - 12 - 10)), None, None).is_empty());
        // Case and spaces do not matter; empty is not compared.
        assert!(consistency(&p, None, None, Some(" a562 ")).is_empty());
        assert!(consistency(&p, None, None, Some("  ")).is_empty());

        let m = consistency(&p, Some(date!(1985 - 12 - 11)), Some(Sex::F), Some("H501"));
        let codes: Vec<_> = m.iter().map(Mismatch::code).collect();
        assert_eq!(
            codes,
            [
                "CF_BIRTHDATE_MISMATCH",
                "CF_SEX_MISMATCH",
                "CF_BIRTHPLACE_MISMATCH"
            ]
        );
        assert_eq!(
            m[0],
            Mismatch::BirthDate {
                from_cf: date!(1985 - 12 - 10),
                recorded: date!(1985 - 12 - 11)
            }
        );
        assert!(m[0].to_string().contains("10/12/85"), "{}", m[0]);
        assert!(
            m[1].to_string().contains("sex M but the record says F"),
            "{}",
            m[1]
        );
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"code": "CF_BIRTHDATE_MISMATCH", "from_cf": "1985-12-10", "recorded": "1985-12-11"},
                {"code": "CF_SEX_MISMATCH", "from_cf": "M", "recorded": "F"},
                {"code": "CF_BIRTHPLACE_MISMATCH", "from_cf": "A562", "recorded": "H501"},
            ])
        );
        // Another year in the same century.
        let m = consistency(&p, Some(date!(1986 - 12 - 10)), None, None);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn serialises() {
        let cf = parse("RSSMRA85T10A56NH", TODAY).unwrap();
        assert_eq!(
            serde_json::to_value(&cf).unwrap(),
            serde_json::json!({"Personal": {
                "code": "RSSMRA85T10A56NH",
                "key": "RSSMRA85T10A562S",
                "omocodia_level": 1,
                "birth_date": "1985-12-10",
                "sex": "M",
                "belfiore": "A562",
            }})
        );
        let cf = parse("02030880153", TODAY).unwrap();
        assert_eq!(
            serde_json::to_value(&cf).unwrap(),
            serde_json::json!({"Temporary": "02030880153"})
        );
    }

    // ---- property tests ----

    /// A valid code built independently of the parser (only the check
    /// letter comes from `check_char`), with what it encodes.
    #[derive(Debug, Clone)]
    struct Generated {
        code: String,
        key: String,
        birth_date: Date,
        sex: Sex,
        belfiore: String,
        level: u8,
    }

    /// Birth dates within the last 100 years (36,500 days) of `TODAY`, so
    /// the century rule gives back exactly the generated date.
    fn generated() -> impl Strategy<Value = Generated> {
        (
            "[A-Z]{6}",
            0i32..36_500,
            any::<bool>(),
            "[A-MZ][0-9]{3}",
            0u8..128,
        )
            .prop_map(|(letters, days_back, female, belfiore, mask)| {
                let birth_date = Date::from_julian_day(TODAY.to_julian_day() - days_back).unwrap();
                let month_letter =
                    char::from(MONTH_LETTERS[usize::from(u8::from(birth_date.month())) - 1]);
                let day = birth_date.day() + if female { 40 } else { 0 };
                let plain = format!(
                    "{letters}{:02}{month_letter}{day:02}{belfiore}",
                    birth_date.year() % 100
                );
                let mut chars: Vec<char> = plain.chars().collect();
                let mut level = 0;
                for (bit, &pos) in OMOCODIA_POSITIONS.iter().enumerate() {
                    if mask & (1 << bit) != 0 {
                        let digit = chars[pos].to_digit(10).unwrap() as usize;
                        chars[pos] = char::from(b"LMNPQRSTUV"[digit]);
                        level += 1;
                    }
                }
                let omocode: String = chars.into_iter().collect();
                Generated {
                    code: with_check(&omocode),
                    key: with_check(&plain),
                    birth_date,
                    sex: if female { Sex::F } else { Sex::M },
                    belfiore,
                    level,
                }
            })
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (Date::MIN.to_julian_day()..=Date::MAX.to_julian_day())
            .prop_map(|j| Date::from_julian_day(j).unwrap())
    }

    proptest! {
        /// (1) Nothing panics, on any string and any `today`.
        #[test]
        fn never_panics_any_string(s in any::<String>(), today in any_date()) {
            let _ = parse(&s, today);
            let _ = person_key(&s);
            let _ = omocodes(&s);
            let _ = check_char(&s);
        }

        /// (1b) Nothing panics on strings close to a code, which reach the
        /// format, check and date paths.
        #[test]
        fn never_panics_near_codes(
            s in "[ a-zA-Z0-9]{0,2}[A-Z0-9LMNPQRSTUV]{11,16}[ à]{0,2}",
            first15 in "[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-MZ][0-9LMNPQRSTUV]{3}",
            today in any_date(),
        ) {
            let _ = parse(&s, today);
            let _ = omocodes(&s);
            let code = with_check(&first15);
            // Structurally valid: only the date can fail.
            match parse(&code, today) {
                Ok(CodiceFiscale::Personal(p)) => {
                    prop_assert!(p.birth_date <= today);
                    prop_assert_eq!(person_key(&code), Some(p.key));
                }
                Ok(other) => prop_assert!(false, "{other:?}"),
                Err(e) => prop_assert_eq!(e.code(), "CF_DATE"),
            }
        }

        /// A generated code decodes to what it encodes.
        #[test]
        fn generated_codes_decode(g in generated()) {
            let p = match parse(&g.code, TODAY) {
                Ok(CodiceFiscale::Personal(p)) => p,
                other => return Err(TestCaseError::fail(format!("{}: {other:?}", g.code))),
            };
            prop_assert_eq!(&p.code, &g.code);
            prop_assert_eq!(&p.key, &g.key);
            prop_assert_eq!(p.birth_date, g.birth_date);
            prop_assert_eq!(p.sex, g.sex);
            prop_assert_eq!(&p.belfiore, &g.belfiore);
            prop_assert_eq!(p.omocodia_level, g.level);
            prop_assert_eq!(person_key(&g.code), Some(g.key.clone()));
            prop_assert!(consistency(&p, Some(g.birth_date), Some(g.sex), Some(&g.belfiore)).is_empty());
        }

        /// (2) A single-character change anywhere, to any character: either
        /// the code is rejected, or it is the same person (e.g. a letter
        /// turned lowercase) and one of the omocodes of the key.
        #[test]
        fn single_change_rejected_or_same_person(g in generated(), pos in 0usize..16, ch in any::<char>()) {
            let mut chars: Vec<char> = g.code.chars().collect();
            prop_assume!(chars[pos] != ch);
            chars[pos] = ch;
            let changed: String = chars.into_iter().collect();
            match parse(&changed, TODAY) {
                Err(_) => {}
                Ok(CodiceFiscale::Personal(p)) => {
                    prop_assert_eq!(&p.key, &g.key);
                    prop_assert!(omocodes(&g.key).contains(&p.code), "{} -> {}", g.code, p.code);
                }
                Ok(other) => prop_assert!(false, "{changed}: {other:?}"),
            }
        }

        /// (2b) The stronger fact behind (2): a change to a *different*
        /// uppercase letter or digit is always rejected. At each position
        /// distinct characters have distinct values, except a digit and the
        /// letter of the same index (0/A ... 9/J), which never fit the same
        /// position (A-J are not omocodia letters); so the check fails.
        #[test]
        fn single_change_to_other_alnum_is_rejected(g in generated(), pos in 0usize..16, ch in "[A-Z0-9]") {
            let mut chars: Vec<char> = g.code.chars().collect();
            let ch = ch.chars().next().unwrap();
            prop_assume!(chars[pos] != ch);
            chars[pos] = ch;
            let changed: String = chars.into_iter().collect();
            let result = parse(&changed, TODAY);
            prop_assert!(result.is_err(), "{} -> {}: {:?}", g.code, changed, result);
        }

        /// (3) All 128 omocodes parse, share the key and the birth data.
        #[test]
        fn all_omocodes_share_key(g in generated()) {
            let all = omocodes(&g.code);
            prop_assert_eq!(all.len(), 128);
            prop_assert_eq!(&all[0], &g.key);
            prop_assert!(all.contains(&g.code));
            prop_assert_eq!(&omocodes(&g.key), &all);
            let distinct: std::collections::BTreeSet<_> = all.iter().collect();
            prop_assert_eq!(distinct.len(), 128);
            for (i, code) in all.iter().enumerate() {
                let p = match parse(code, TODAY) {
                    Ok(CodiceFiscale::Personal(p)) => p,
                    other => return Err(TestCaseError::fail(format!("{code}: {other:?}"))),
                };
                prop_assert_eq!(&p.code, code);
                prop_assert_eq!(&p.key, &g.key);
                prop_assert_eq!(p.birth_date, g.birth_date);
                prop_assert_eq!(p.sex, g.sex);
                prop_assert_eq!(&p.belfiore, &g.belfiore);
                prop_assert_eq!(u32::from(p.omocodia_level), (i as u32).count_ones());
            }
        }
    }
}
