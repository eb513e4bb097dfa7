//! Italian personal and fiscal codes: the 16-character codice fiscale
//! (with omocodia), and the 11-digit code shared by the partita IVA, the
//! codice fiscale of companies and public bodies, and the temporary codice
//! fiscale of people.
//!
//! Everything here is pure: no I/O, no logging, and no panics on any input.
//! Error messages never repeat the whole code (it is personal data), only the
//! offending character or digit.

pub mod cf;
pub mod piva;

pub use cf::{CfError, CodiceFiscale, Mismatch, PersonalCf, Sex};
pub use piva::PivaError;
