//! The 11-digit code: partita IVA, codice fiscale of companies and public
//! bodies (for example a Comune), and the temporary codice fiscale that the
//! Agenzia delle Entrate gives to a person while the 16-character one is not
//! yet available. All of them end with the same Luhn-like check digit.
//!
//! Only the check digit is verified: the office code in digits 8-10 and the
//! registry state of the code are not.

/// Number of digits of the code.
pub const LEN: usize = 11;

/// Why an 11-digit code is rejected. [`PivaError::code`] gives a stable
/// reason code; `Display` gives a message in English that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PivaError {
    /// Not 11 characters after trimming.
    #[error(
        "the code has {len} characters but a partita IVA or 11-digit codice fiscale has 11 digits: check for missing or extra digits"
    )]
    Length { len: usize },
    /// A character that is not a digit (1-based position).
    #[error(
        "character {ch:?} at position {pos} is not a digit: the code has only digits 0-9, without spaces, punctuation or a country prefix such as IT"
    )]
    Charset { pos: usize, ch: char },
    /// The last digit does not match the check digit of the first ten.
    #[error("check digit is {found} but should be {expected}: a typo in the code?")]
    Check { expected: u8, found: u8 },
}

impl PivaError {
    /// Stable reason code: `PIVA_LENGTH`, `PIVA_CHARSET` or `PIVA_CHECK`.
    pub fn code(&self) -> &'static str {
        match self {
            PivaError::Length { .. } => "PIVA_LENGTH",
            PivaError::Charset { .. } => "PIVA_CHARSET",
            PivaError::Check { .. } => "PIVA_CHECK",
        }
    }
}

/// Check digit over ten digit values (each 0..=9).
pub(crate) fn check_of_digits(digits: &[u8; 10]) -> u8 {
    let mut sum: u32 = 0;
    for (i, &d) in digits.iter().enumerate() {
        let d = u32::from(d % 10);
        if i % 2 == 0 {
            // 1st, 3rd, ... (odd positions counting from 1)
            sum += d;
        } else {
            let doubled = d * 2;
            sum += if doubled > 9 { doubled - 9 } else { doubled };
        }
    }
    // The value is always in 0..=9.
    ((10 - sum % 10) % 10) as u8
}

/// The check digit for the first ten digits of an 11-digit code, or `None`
/// unless `first10` is exactly ten ASCII digits (no trimming).
pub fn check_digit(first10: &str) -> Option<u8> {
    let bytes = first10.as_bytes();
    if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut digits = [0u8; 10];
    for (slot, b) in digits.iter_mut().zip(bytes) {
        *slot = b - b'0';
    }
    Some(check_of_digits(&digits))
}

/// Validate an 11-digit code (surrounding whitespace is ignored) and return
/// it normalised (trimmed).
///
/// Checks, in order: characters (digits only), length (11), check digit.
pub fn validate_11(code: &str) -> Result<String, PivaError> {
    let code = code.trim();
    if let Some((i, ch)) = code.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(PivaError::Charset { pos: i + 1, ch });
    }
    // Only ASCII digits remain, so bytes == chars.
    let bytes = code.as_bytes();
    if bytes.len() != LEN {
        return Err(PivaError::Length { len: bytes.len() });
    }
    let mut digits = [0u8; 10];
    for (slot, b) in digits.iter_mut().zip(bytes) {
        *slot = b - b'0';
    }
    let expected = check_of_digits(&digits);
    let found = bytes[10] - b'0';
    if expected != found {
        return Err(PivaError::Check { expected, found });
    }
    Ok(code.to_owned())
}

/// Whether `code` (surrounding whitespace ignored) is a valid 11-digit code.
pub fn is_valid_11(code: &str) -> bool {
    validate_11(code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Real codici fiscali of public bodies; each expected check digit below
    // was computed by hand with the algorithm (odd positions summed, even
    // positions doubled minus 9 if > 9, (10 - sum mod 10) mod 10):
    // Comune di Monza 02030880153: 0+0+0+8+1 = 9; 4+6+7+0+1 = 18; 27 -> 3.
    // Comune di Milano 01199250158: 0+1+9+5+1 = 16; 2+9+4+0+1 = 16; 32 -> 8.
    // Roma Capitale 02438750586: 0+4+8+5+5 = 22; 4+6+5+0+7 = 22; 44 -> 6.
    #[test]
    fn real_public_bodies() {
        assert_eq!(check_digit("0203088015"), Some(3));
        assert_eq!(check_digit("0119925015"), Some(8));
        assert_eq!(check_digit("0243875058"), Some(6));
        for code in ["02030880153", "01199250158", "02438750586"] {
            assert!(is_valid_11(code), "{code}");
            assert_eq!(validate_11(code).as_deref(), Ok(code));
        }
    }

    #[test]
    fn hand_computed_edges() {
        // All zeros: sum 0 -> check 0 (valid by the algorithm alone).
        assert_eq!(check_digit("0000000000"), Some(0));
        // 1 at position 1: sum 1 -> 9.
        assert_eq!(check_digit("1000000000"), Some(9));
        // 5 at position 2: doubled 10 -> 1 -> check 9.
        assert_eq!(check_digit("0500000000"), Some(9));
        // 9 at position 2: doubled 18 -> 9 -> check 1.
        assert_eq!(check_digit("0900000000"), Some(1));
        // 9 everywhere: odd 5*9 = 45, even 5*9 = 45 -> 90 -> 0.
        assert_eq!(check_digit("9999999999"), Some(0));
    }

    #[test]
    fn errors_and_codes() {
        assert_eq!(
            validate_11("02030880154"),
            Err(PivaError::Check {
                expected: 3,
                found: 4
            })
        );
        assert_eq!(validate_11("02030880154").unwrap_err().code(), "PIVA_CHECK");
        assert_eq!(
            validate_11("0203088015"),
            Err(PivaError::Length { len: 10 })
        );
        assert_eq!(validate_11("").unwrap_err().code(), "PIVA_LENGTH");
        assert_eq!(
            validate_11("IT02030880153"),
            Err(PivaError::Charset { pos: 1, ch: 'I' })
        );
        assert_eq!(
            validate_11("0203 0880153").unwrap_err().code(),
            "PIVA_CHARSET"
        );
        assert_eq!(validate_11(" 02030880153\n").as_deref(), Ok("02030880153"));
        assert_eq!(check_digit("020308801"), None);
        assert_eq!(check_digit("020308801x"), None);
        assert_eq!(check_digit(" 0203088015"), None);
        assert_eq!(check_digit("٠١٢٣٤٥٦٧٨٩"), None); // Arabic-Indic digits
        let msg = validate_11("02030880154").unwrap_err().to_string();
        assert!(msg.contains("is 4 but should be 3"), "{msg}");
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = validate_11(&s);
            let _ = is_valid_11(&s);
            let _ = check_digit(&s);
        }

        #[test]
        fn computed_check_is_valid_and_every_other_digit_is_not(first in "[0-9]{10}", other in 0u8..10) {
            let d = check_digit(&first).unwrap();
            prop_assert!(d <= 9);
            let good = format!("{first}{d}");
            prop_assert!(is_valid_11(&good));
            if other != d {
                let bad = format!("{first}{other}");
                prop_assert_eq!(validate_11(&bad), Err(PivaError::Check { expected: d, found: other }));
            }
        }

        /// Any single-digit change is caught (the doubling map is a
        /// permutation of 0..=9, so every digit change shifts the sum).
        #[test]
        fn single_digit_change_is_caught(first in "[0-9]{10}", pos in 0usize..11, new in 0u8..10) {
            let d = check_digit(&first).unwrap();
            let mut bytes = format!("{first}{d}").into_bytes();
            prop_assume!(bytes[pos] != b'0' + new);
            bytes[pos] = b'0' + new;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(!is_valid_11(&changed));
        }
    }
}
