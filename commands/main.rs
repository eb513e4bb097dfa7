//! The `siso` binary: clap definitions and all terminal input and output.
//! Each subcommand lives in its own file and reads like a short story of calls
//! into the library.

mod access;
mod audit;
mod check;
mod codes;
mod compliance;
mod context;
mod ente;
mod generate;
mod handback;
mod import;
mod init;
mod inspect;
mod migrate;
mod onboard;
mod output;
mod privacy;
mod recesso;
mod referente;
mod report;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the command ran and found problems (invalid codes, overdue deadlines, rejected rows)
  2  wrong usage (unknown option, missing argument)
  3  input could not be read or parsed
  4  database or I/O failure";

/// Administer the SISO Cartella Sociale Informatizzata.
///
/// siso onboards the entes adhering to the Protocollo d'Intesa, imports legacy
/// case data, runs schema migrations on SQLite (the embedded default) and
/// PostgreSQL, handles withdrawals (recesso) with a verifiable hand-back, and
/// produces usage reports for the Tavolo operativo.
#[derive(Debug, Parser)]
#[command(name = "siso", version, after_help = EXIT_CODES, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: context::GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::Args),
    Migrate(migrate::Args),
    Codes(codes::Args),
    Check(check::Args),
    Audit(audit::Args),
    /// Entes of the protocol: adhesion requests, decisions, ambito membership.
    Ente(ente::Args),
    /// Art. 6 referents: Cabina di Regia and Tavolo operativo.
    Referente(referente::Args),
    /// Art. 10 privacy roles: titolare, DPO, responsabili, amministratori di sistema.
    Privacy(privacy::Args),
    /// Apply declarative onboarding files (TOML); --dry-run prints the plan.
    Onboard(onboard::Args),
    /// Protocol deadlines overdue or due within 10 days; exit 1 if overdue.
    Compliance(compliance::Args),
    /// Withdrawals from the protocol (Art. 9): request, acceptance, status.
    ///
    /// A withdrawal received by 30 September takes effect on 31 December of
    /// that year; later, on 31 December of the next year (Art. 9). The ente is
    /// a signatory until its effective date included; from the day after, new
    /// imports for it are refused, and its data stays until the titolare
    /// decides what happens to it.
    Recesso(recesso::Args),
    Handback(handback::Args),
    /// Limit PostgreSQL logins to one ambito's data (row-level security).
    ///
    /// A tecnico reads and writes only the rows whose titolare is the ambito
    /// or one of its comuni (membership valid today); a lettore reads only
    /// the aggregate report views (v_uso_mensile), never personal data. The
    /// roles siso_tecnico and siso_lettore and the policies come with the
    /// migrations; `grant` and `revoke` manage the logins.
    ///
    /// A technician then connects with their own login, e.g.
    /// `siso --database-url postgres://LOGIN@HOST/DB ...` or psql. siso's own
    /// commands (init, migrate, onboard, access...) must run as the owner of
    /// the tables, the admin who ran the migrations: the owner is not subject
    /// to row-level security. PostgreSQL only: on SQLite (a single-user file
    /// protected by its 0600 permissions) it exits 2.
    Access(access::Args),
    /// Show how a legacy file is read: encoding, dialect, columns, mapping.
    ///
    /// Detects the encoding (UTF-8 with or without BOM, UTF-16 with BOM,
    /// Windows-1252/Latin-1), the delimiter (; , tab |), quoting, line endings
    /// and the header row; lists each column with the field it maps to, the
    /// type its values show and samples. A date column that reads both as
    /// dd/mm and mm/dd, or amounts like 1.234 that read both ways, are refused
    /// until the mapping says which. Two-digit years (d/m/yy) are 20yy up to
    /// the current year's yy, 19yy above (century_pivot in the mapping).
    /// Reads .xlsx too (first sheet, or --sheet). No database needed. Exit 1
    /// if a column or a row cannot be read.
    Inspect(inspect::Args),
    Import(import::Args),
    /// Usage and monitoring reports per ambito for the Tavolo operativo (Art. 5).
    Report(report::Args),
    #[command(hide = true)]
    Generate(generate::Args),
}

/// What a command that ran to the end found.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: it ran, and found problems worth a non-zero exit.
    Problems,
}

fn main() -> ExitCode {
    let command = Cli::command();
    let matches = command.clone().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let command_line = context::redacted_command_line(&command, &matches);
    context::init_logging(&cli.global);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(4);
        }
    };
    // Refused before any command runs, whatever it would print or not.
    let refused = (cli.global.format.is_input_only()
        && !matches!(&cli.command, Command::Import(args) if args.command.is_none()))
    .then(|| context::input_only(cli.global.format));
    let ctx = context::Ctx::new(cli.global, command_line);
    let result = runtime.block_on(async {
        if let Some(refusal) = refused {
            return Err(refusal.into());
        }
        match cli.command {
            Command::Init(args) => init::run(&ctx, args).await,
            Command::Migrate(args) => migrate::run(&ctx, args).await,
            Command::Codes(args) => codes::run(&ctx, args).await,
            Command::Check(args) => check::run(&ctx, args).await,
            Command::Audit(args) => audit::run(&ctx, args).await,
            Command::Ente(args) => ente::run(&ctx, args).await,
            Command::Referente(args) => referente::run(&ctx, args).await,
            Command::Privacy(args) => privacy::run(&ctx, args).await,
            Command::Onboard(args) => onboard::run(&ctx, args).await,
            Command::Compliance(args) => compliance::run(&ctx, args).await,
            Command::Recesso(args) => recesso::run(&ctx, args).await,
            Command::Handback(args) => handback::run(&ctx, args).await,
            Command::Access(args) => access::run(&ctx, args).await,
            Command::Inspect(args) => inspect::run(&ctx, args).await,
            Command::Import(args) => import::run(&ctx, args).await,
            Command::Report(args) => report::run(&ctx, args).await,
            Command::Generate(args) => generate::run(args),
        }
    });
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(err) => {
            eprintln!("error: {}", chain_text(&err));
            if let Some(hint) = ctx.hint(&err) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(exit_code(&err))
        }
    }
}

/// The error and its causes, `: `-separated, each said once: sqlx's database
/// errors repeat their driver's message as their own source ("database is
/// locked: database is locked").
fn chain_text(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if parts.last().is_some_and(|last| last.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// The documented exit code of an error: the library's class when there is one.
fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<siso::Error>())
        .map_or(4, siso::Error::exit_code)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn a_cause_that_repeats_the_one_before_is_said_once() {
        #[derive(Debug)]
        struct Driver;
        impl std::fmt::Display for Driver {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("(code: 5) database is locked")
            }
        }
        impl std::error::Error for Driver {}
        #[derive(Debug)]
        struct Wrapper(Driver);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = anyhow::Error::new(Wrapper(Driver)).context("cannot read ente");
        assert_eq!(
            super::chain_text(&err),
            "cannot read ente: (code: 5) database is locked"
        );
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
