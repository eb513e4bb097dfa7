//! Usage and monitoring reports for the Tavolo operativo (Art. 5 of the
//! protocol: each ente monitors how much the system is used in its territory).
//!
//! - [`model`]: the report as plain data (sections, typed cells, footnotes);
//! - [`query`]: the SQL, written once for both backends;
//! - [`statistica`]: the daily aggregates the usage report reads (and the
//!   stretches of persons in charge), kept true by every write of case data
//!   (`refresh_statistica`);
//! - [`usage`] and [`monitoring`]: the two reports;
//! - [`suppress`]: the privacy rule (no count between 1 and min_cell - 1,
//!   nor anything that reveals one by subtraction);
//! - [`render`]: text, CSV, JSON, Markdown, HTML, xlsx (returns, never prints).
//!
//! Reports hold counts and sums only: no names, no codici fiscali, no case
//! numbers.

pub mod model;
pub mod monitoring;
pub mod period;
pub mod query;
pub mod render;
pub mod statistica;
pub mod suppress;
pub mod usage;

pub use model::{Cell, Lang, Report};
pub use period::Period;

/// The default threshold of the privacy rule: counts 1 and 2 are hidden.
pub const MIN_CELL: i64 = 3;
