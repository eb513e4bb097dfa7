//! Stable reason codes for rows and columns the readers refuse. The storing
//! half writes them in rejects files and reports, so they never change
//! meaning once published: add new codes, never rename old ones.

/// Every code with its meaning, for documentation and `siso inspect`.
pub const REASONS: &[(&str, &str)] = &[
    (
        ENCODING_INVALID,
        "bytes that are not valid in the file's encoding (the row would be mojibake)",
    ),
    (
        CSV_FIELD_COUNT,
        "the record has a different number of fields than the header",
    ),
    (
        LINE_TOO_LONG,
        "the record is longer than the limit (1 MiB): not a legacy export row",
    ),
    (
        TOO_MANY_COLUMNS,
        "the record has more fields than the limit (1,000)",
    ),
    (
        DATE_INVALID,
        "the value is not a date in the column's format, or not a real calendar day",
    ),
    (
        DATE_AMBIGUOUS,
        "the column's dates read both as dd/mm and as mm/dd: the mapping must say date_format",
    ),
    (
        DATE_FORMAT_UNKNOWN,
        "no supported date format fits the column's values",
    ),
    (
        AMOUNT_INVALID,
        "the value is not a decimal amount in the column's style, or has too many decimals",
    ),
    (
        AMOUNT_AMBIGUOUS,
        "values like 1.234 read both as thousands and as decimals: the mapping must say decimal",
    ),
    (
        FLAG_INVALID,
        "the value is not a yes/no flag (S/N, SI/NO, 1/0, true/false, X/empty)",
    ),
    (
        VALUE_UNMAPPED,
        "the mapping has a value map for the field and the value is not in it",
    ),
    (
        XLSX_CELL_ERROR,
        "the spreadsheet cell holds an error (#N/A, #VALUE!...)",
    ),
    (
        XML_DTD_REFUSED,
        "the XML file declares a DTD or uses a non-predefined entity: refused whole (external entities, entity expansion)",
    ),
    (
        SIUSS_CANCELLAZIONE,
        "a SIUSS prestazione with TipoOperazione C (cancellation of an earlier submission): not applied",
    ),
];

pub const ENCODING_INVALID: &str = "ENCODING_INVALID";
pub const CSV_FIELD_COUNT: &str = "CSV_FIELD_COUNT";
pub const LINE_TOO_LONG: &str = "LINE_TOO_LONG";
pub const TOO_MANY_COLUMNS: &str = "TOO_MANY_COLUMNS";
pub const DATE_INVALID: &str = "DATE_INVALID";
pub const DATE_AMBIGUOUS: &str = "DATE_AMBIGUOUS";
pub const DATE_FORMAT_UNKNOWN: &str = "DATE_FORMAT_UNKNOWN";
pub const AMOUNT_INVALID: &str = "AMOUNT_INVALID";
pub const AMOUNT_AMBIGUOUS: &str = "AMOUNT_AMBIGUOUS";
pub const FLAG_INVALID: &str = "FLAG_INVALID";
pub const VALUE_UNMAPPED: &str = "VALUE_UNMAPPED";
pub const XLSX_CELL_ERROR: &str = "XLSX_CELL_ERROR";
pub const XML_DTD_REFUSED: &str = "XML_DTD_REFUSED";
pub const SIUSS_CANCELLAZIONE: &str = "SIUSS_CANCELLAZIONE";

/// The meaning of a code, if it is one of ours.
pub fn meaning(code: &str) -> Option<&'static str> {
    REASONS.iter().find(|(c, _)| *c == code).map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for (code, meaning) in REASONS {
            assert!(seen.insert(*code), "{code} listed twice");
            assert!(!meaning.is_empty());
            assert!(code.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        }
        assert_eq!(
            super::meaning(DATE_AMBIGUOUS).map(|m| m.contains("dd/mm")),
            Some(true)
        );
    }
}
