//! `handback purge`.
