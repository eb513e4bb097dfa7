//! Options every subcommand shares, and what they give a command: the
//! database, the output format, the operator, confirmations.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use siso::store::{DEFAULT_URL, Db};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    /// Markdown: `siso report` only (hidden elsewhere).
    #[value(hide = true)]
    Md,
    /// Self-contained HTML: `siso report` only.
    #[value(hide = true)]
    Html,
    /// xlsx workbook: `siso report`; on `siso import FILE...` the input's format.
    #[value(hide = true)]
    Xlsx,
    /// `siso import FILE...` only: detect each file's format (the default).
    #[value(hide = true)]
    Auto,
    /// `siso import FILE...` only: the files are SIUSS XML flows.
    #[value(hide = true)]
    Siuss,
    /// `siso import FILE...` only: the path is a hand-back bundle.
    #[value(hide = true)]
    Bundle,
}

impl Format {
    /// The name typed after --format.
    pub fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }

    /// Whether it names the input of `siso import FILE...` and nothing a
    /// command can print.
    pub fn is_input_only(self) -> bool {
        matches!(self, Format::Auto | Format::Siuss | Format::Bundle)
    }
}

/// The refusal of an input format (auto, siuss, bundle) by a command that
/// is not `siso import FILE...`.
pub fn input_only(format: Format) -> siso::Error {
    siso::Error::Usage(format!(
        "--format {} names the input of `siso import FILE...` (auto, csv, xlsx, siuss, bundle); \
         this command prints table, json or csv",
        format.name()
    ))
}

#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Database to use: sqlite:FILE or postgres://USER@HOST/DB. A new SQLite
    /// file is created readable by its owner only.
    #[arg(long, env = "SISO_DATABASE_URL", global = true, default_value = DEFAULT_URL, hide_env_values = true)]
    pub database_url: String,

    /// Seconds to wait for a SQLite file locked by another process (another
    /// siso, a sqlite3 shell, a backup) before giving up with exit 4.
    #[arg(
        long,
        env = "SISO_LOCK_TIMEOUT_SECS",
        global = true,
        default_value_t = 10,
        value_name = "SECS",
        hide_env_values = true
    )]
    pub lock_timeout: u64,

    /// How to print records: a table for people, JSON or CSV for scripts. On
    /// `siso import FILE...` it can name the input instead (see its help).
    #[arg(long, value_enum, global = true, default_value = "table")]
    pub format: Format,

    /// Same as --format json.
    #[arg(long, global = true)]
    pub json: bool,

    /// Answer yes to confirmations (needed when stdin is not a terminal).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,

    /// Never draw progress bars.
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(long, short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Who is acting, for the audit log (default: the OS user).
    #[arg(long, env = "SISO_OPERATOR", global = true, hide_env_values = true)]
    pub operator: Option<String>,
}

pub fn init_logging(global: &GlobalArgs) {
    let default = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}

pub struct Ctx {
    pub global: GlobalArgs,
    command_line: String,
}

impl Ctx {
    pub fn new(global: GlobalArgs, command_line: String) -> Self {
        Ctx {
            global,
            command_line,
        }
    }

    pub fn format(&self) -> Format {
        if self.global.json {
            Format::Json
        } else {
            self.global.format
        }
    }

    /// Opens the database, telling what connecting found.
    pub async fn open(&self) -> anyhow::Result<Db> {
        let lock_timeout = std::time::Duration::from_secs(self.global.lock_timeout);
        let (db, notes) = Db::connect_with(&self.global.database_url, lock_timeout).await?;
        if let Some(path) = notes.created {
            tracing::info!("created the SQLite database {} (mode 0600)", path.display());
        }
        for warning in notes.warnings {
            tracing::warn!("{warning}");
        }
        Ok(db)
    }

    /// Opens the database and refuses it unless its schema is the one this
    /// binary expects.
    pub async fn open_current(&self) -> anyhow::Result<Db> {
        let db = self.open().await?;
        siso::store::migrate::ensure_current(&db).await?;
        Ok(db)
    }

    /// What to do about an error whose cause is a locked SQLite file or a
    /// lost database connection; None for other errors.
    pub fn hint(&self, err: &anyhow::Error) -> Option<String> {
        let db_error = err
            .chain()
            .find_map(|e| match e.downcast_ref::<siso::Error>() {
                Some(siso::Error::Database { source, .. }) => Some(source),
                _ => e.downcast_ref::<sqlx::Error>(),
            })?;
        if siso::store::is_locked(db_error) {
            return Some(format!(
                "the SQLite database is locked by another process, and siso waited {} s for it: let the other \
                 program (another siso, a sqlite3 shell, a backup) finish, then run this command again \
                 (the change that was waiting was not written). To wait longer, pass --lock-timeout SECS \
                 (or set SISO_LOCK_TIMEOUT_SECS)",
                self.global.lock_timeout
            ));
        }
        let postgres = matches!(
            siso::store::Target::parse(&self.global.database_url),
            Ok(siso::store::Target::Postgres(_))
        );
        let denied = db_error
            .as_database_error()
            .and_then(|e| e.code())
            .is_some_and(|code| code == "42501");
        if postgres && denied {
            return Some(
                "this login's rights are limited to one ambito (see `siso access list`): a lettore reads the \
                 report views (v_uso_mensile) with SQL, a tecnico works on its ambito's case rows. Commands that \
                 read or change the whole register (report usage, onboard, import, migrate...) run as the owner \
                 of the tables: ask whoever administers SISO"
                    .into(),
            );
        }
        if postgres && siso::store::is_connection_lost(db_error) {
            return Some(
                "the database server could not be reached, or the connection to it was lost (server down \
                 or unreachable, restarted, or the session ended by an administrator): what this command \
                 had not committed was rolled back by the server, nothing of it was written. Check the \
                 server and the URL (--database-url, SISO_DATABASE_URL), then run this command again"
                    .into(),
            );
        }
        None
    }

    pub fn operator(&self) -> String {
        self.global
            .operator
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .filter(|s| !s.trim().is_empty())
            // Cron jobs, services and containers often set neither: the
            // system's name for the process's user.
            .or_else(|| whoami::fallible::username().ok())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "sconosciuto".into())
    }

    /// The command line for the audit log: subcommands and option names only,
    /// since option values may carry personal data or secrets.
    pub fn command_line(&self) -> String {
        self.command_line.clone()
    }

    pub fn audit_entry(
        &self,
        ente: Option<&str>,
        azione: &str,
        dettaglio: serde_json::Value,
    ) -> siso::audit::Entry {
        siso::audit::Entry {
            operator: self.operator(),
            command: self.command_line(),
            ente_codice: ente.map(str::to_string),
            azione: azione.to_string(),
            dettaglio,
        }
    }

    /// Asks before a destructive step; `--yes` answers for scripts. Without a
    /// terminal and without `--yes` it refuses rather than guessing.
    pub fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        if self.global.yes {
            return Ok(true);
        }
        if !std::io::stdin().is_terminal() {
            return Err(siso::Error::Usage(format!(
                "{question}: confirmation needed but stdin is not a terminal; pass --yes to confirm"
            ))
            .into());
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .context("cannot read the answer")
    }
}

/// Describes what was typed for the audit log: the subcommand path and the
/// names of the options given, never their values (values may carry personal
/// data or secrets).
pub fn redacted_command_line(cmd: &clap::Command, matches: &clap::ArgMatches) -> String {
    let mut parts = vec!["siso".to_string()];
    let (mut cmd, mut matches) = (cmd, matches);
    loop {
        let mut given: Vec<String> = matches
            .ids()
            .filter(|id| {
                matches.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
            })
            .filter_map(|id| cmd.get_arguments().find(|a| a.get_id() == id))
            .map(|a| match a.get_long() {
                Some(long) => format!("--{long}"),
                None => format!("<{}>", a.get_id().as_str().to_uppercase()),
            })
            .collect();
        given.sort();
        parts.extend(given);
        match matches.subcommand() {
            Some((name, sub)) => {
                parts.push(name.to_string());
                match cmd.find_subcommand(name) {
                    Some(c) => cmd = c,
                    None => break,
                }
                matches = sub;
            }
            None => break,
        }
    }
    parts.join(" ")
}
