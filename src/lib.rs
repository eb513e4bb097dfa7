//! `siso`: the domain of the SISO Cartella Sociale Informatizzata and its rules.
//!
//! Data flows one way: file -> importer -> validation -> store -> report. This
//! library holds the rules and the storage; it never prints. The `siso` binary
//! (in `commands/`) does all terminal input and output.

pub mod accesso;
pub mod audit;
pub mod codes;
pub mod error;
pub mod handback;
pub mod import;
#[path = "../importers/mod.rs"]
pub mod importers;
pub mod onboarding;
pub mod recesso;
pub mod reference;
pub mod report;
pub mod store;

pub use error::{Error, Result};

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Now, in UTC, truncated to microseconds (what PostgreSQL keeps).
pub fn now_utc() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .expect("a truncated nanosecond is valid")
}

/// Now as RFC 3339 text, for bookkeeping columns kept as text on both backends.
pub fn now_rfc3339() -> String {
    rfc3339(now_utc())
}

pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formats every UTC time")
}
