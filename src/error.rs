//! The library's error, classed by whose fault it is so the binary can pick the
//! exit code the README documents.

/// Everything that can stop a library call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself is wrong (missing or contradictory options): exit 2.
    #[error("{0}")]
    Usage(String),
    /// An input file or value could not be read or parsed: exit 3.
    #[error("{0}")]
    Input(String),
    /// A rule of the protocol or of the data refuses the action: exit 1.
    #[error("{0}")]
    Refused(String),
    /// The database schema does not match this binary: exit 4.
    #[error("{0}")]
    Schema(String),
    /// The database failed or could not be reached: exit 4.
    #[error("{context}")]
    Database {
        context: String,
        #[source]
        source: sqlx::Error,
    },
    /// A file could not be read or written: exit 4.
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code documented in the README and the man page.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Refused(_) => 1,
            Error::Usage(_) => 2,
            Error::Input(_) => 3,
            Error::Schema(_) | Error::Database { .. } | Error::Io { .. } => 4,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches a sentence of context to a database error.
pub trait DbContext<T> {
    fn db(self, context: &str) -> Result<T>;
}

impl<T> DbContext<T> for std::result::Result<T, sqlx::Error> {
    fn db(self, context: &str) -> Result<T> {
        self.map_err(|source| Error::Database {
            context: context.to_string(),
            source,
        })
    }
}
