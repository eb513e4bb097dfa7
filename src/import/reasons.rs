//! Stable reason codes of the storing half (the readers' own codes are in
//! `importers::reasons`). Rejects files and summaries carry them; add new
//! codes, never rename old ones.

pub const REASONS: &[(&str, &str)] = &[
    (
        REQUIRED_MISSING,
        "a field the record cannot do without is empty",
    ),
    (
        LEGACY_ID_MISSING,
        "the record has no legacy identifier, so it could not be found again on a re-import",
    ),
    (
        DUPLICATE_LEGACY_ID,
        "the same legacy id appears twice in the batch with different contents",
    ),
    (
        PARENT_MISSING,
        "the record refers to a legacy id that is neither in the batch nor already imported",
    ),
    (
        PARENT_REJECTED,
        "the record refers to a record that was itself rejected",
    ),
    (
        CF_INVALID,
        "the codice fiscale is present but wrong (format or check character): it would create a false identity",
    ),
    (
        CF_BIRTHDATE_MISMATCH,
        "the codice fiscale does not match the recorded birth date",
    ),
    (
        CF_SEX_MISMATCH,
        "the codice fiscale does not match the recorded sex",
    ),
    (
        CF_BIRTHPLACE_MISMATCH,
        "the codice fiscale does not match the recorded birthplace",
    ),
    (DATE_IN_FUTURE, "a birth or event date lies after today"),
    (
        DATES_ORDER,
        "an end date comes before its start date (closed before opened, death before birth...)",
    ),
    (
        CODE_UNKNOWN,
        "a code (prestazione, comune, area, state, profession...) is not in the reference data",
    ),
    (
        VALUE_INVALID,
        "a value is not one the field accepts (sex other than M/F, negative amount...)",
    ),
    (
        CARTELLA_NUMERO_TAKEN,
        "another cartella of the titolare already has this case number (numbers are unique per titolare)",
    ),
    (
        CELL_INVALID,
        "a cell could not be read (see the message: date, amount or value map)",
    ),
    (
        PERSONA_DUPLICATA,
        "an update would give a person already in SISO the codice fiscale and birth date of another person \
         already there: the same person would be stored twice",
    ),
];

pub const REQUIRED_MISSING: &str = "REQUIRED_MISSING";
pub const LEGACY_ID_MISSING: &str = "LEGACY_ID_MISSING";
pub const DUPLICATE_LEGACY_ID: &str = "DUPLICATE_LEGACY_ID";
pub const PARENT_MISSING: &str = "PARENT_MISSING";
pub const PARENT_REJECTED: &str = "PARENT_REJECTED";
pub const CF_INVALID: &str = "CF_INVALID";
pub const CF_BIRTHDATE_MISMATCH: &str = "CF_BIRTHDATE_MISMATCH";
pub const CF_SEX_MISMATCH: &str = "CF_SEX_MISMATCH";
pub const CF_BIRTHPLACE_MISMATCH: &str = "CF_BIRTHPLACE_MISMATCH";
pub const DATE_IN_FUTURE: &str = "DATE_IN_FUTURE";
pub const DATES_ORDER: &str = "DATES_ORDER";
pub const CODE_UNKNOWN: &str = "CODE_UNKNOWN";
pub const VALUE_INVALID: &str = "VALUE_INVALID";
pub const CELL_INVALID: &str = "CELL_INVALID";
pub const CARTELLA_NUMERO_TAKEN: &str = "CARTELLA_NUMERO_TAKEN";
pub const PERSONA_DUPLICATA: &str = "PERSONA_DUPLICATA";

/// Warnings, with their meaning: the record is stored, and the summary says
/// why it deserves a look.
pub const WARNINGS: &[(&str, &str)] = &[
    (
        PERSONA_SENZA_CF,
        "the person has no codice fiscale: stored with a temporary identifier and never merged with anyone",
    ),
    (
        CF_SHARED,
        "another person has the same codice fiscale with a different birth date: stored apart, not merged",
    ),
    (
        PERSONA_MERGED,
        "the same codice fiscale and birth date as another legacy id: linked to that person, not duplicated",
    ),
];

/// Warnings: the record is stored, and the summary says why it deserves a look.
pub const PERSONA_SENZA_CF: &str = "PERSONA_SENZA_CF";
pub const CF_SHARED: &str = "CF_SHARED";
pub const PERSONA_MERGED: &str = "PERSONA_MERGED";

#[cfg(test)]
mod tests {
    #[test]
    fn every_code_declared_here_has_its_meaning() {
        let declared: Vec<&str> = include_str!("reasons.rs")
            .lines()
            .filter(|l| l.starts_with("pub const ") && l.contains(": &str = \""))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        assert!(declared.len() > 15, "{declared:?}");
        for code in declared {
            assert!(
                super::REASONS
                    .iter()
                    .chain(super::WARNINGS)
                    .any(|(c, m)| *c == code && !m.is_empty()),
                "{code} has no meaning in REASONS or WARNINGS"
            );
        }
    }

    #[test]
    fn codes_are_unique() {
        let mut codes: Vec<&str> = super::REASONS.iter().map(|(c, _)| *c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), super::REASONS.len());
    }
}
