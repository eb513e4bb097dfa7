//! `siso generate` (hidden): man pages and shell completions from the same
//! clap definitions as the help text, so the three never disagree.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::{Cli, Outcome};

/// Generate man pages or shell completions.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Write one man page per command and subcommand into DIR.
    Man { dir: PathBuf },
    /// Print the completion script for SHELL on stdout.
    Completions { shell: clap_complete::Shell },
    /// Print every command path, one per line (for tests of the help texts).
    Commands,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    cmd.build();
    match args.command {
        Sub::Man { dir } => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            write_man(&cmd, "siso", &dir)?;
        }
        Sub::Completions { shell } => {
            clap_complete::generate(shell, &mut cmd, "siso", &mut std::io::stdout());
        }
        Sub::Commands => {
            for path in command_paths(&cmd, Vec::new()) {
                println!("{}", path.join(" "));
            }
        }
    }
    Ok(Outcome::Clean)
}

fn visible(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

fn command_paths(cmd: &clap::Command, prefix: Vec<String>) -> Vec<Vec<String>> {
    let mut out = vec![prefix.clone()];
    for sub in visible(cmd) {
        let mut path = prefix.clone();
        path.push(sub.get_name().to_string());
        out.extend(command_paths(sub, path));
    }
    out
}

fn write_man(cmd: &clap::Command, name: &str, dir: &Path) -> anyhow::Result<()> {
    let page = cmd
        .clone()
        .name(name.to_string())
        .display_name(name.replace('-', " "));
    let mut buf = Vec::new();
    let man = clap_mangen::Man::new(page);
    man.render(&mut buf)?;
    if name == "siso" {
        // The exit codes belong in the main page too.
        buf.extend_from_slice(b".SH \"EXIT STATUS\"\n");
        for line in crate::EXIT_CODES.lines().skip(1) {
            let line = line.trim();
            let (code, text) = line.split_once(' ').unwrap_or((line, ""));
            buf.extend_from_slice(format!(".TP\n{code}\n{}\n", text.trim()).as_bytes());
        }
    }
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, buf).with_context(|| format!("cannot write {}", path.display()))?;
    for sub in visible(cmd) {
        write_man(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}
