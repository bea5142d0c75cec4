//! The `rallypoint` command: argument parsing, file I/O, output and exit codes.
//!
//! Invariant: no matchmaking logic lives here. Everything this binary does, an embedding
//! program can do through the `rallypoint` crate's public API.

mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Rallypoint: a FlexMatch-compatible matchmaker.
#[derive(Parser, Debug)]
#[command(name = "rallypoint", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check FlexMatch rule sets and matchmaking configurations.
    ///
    /// Every problem in every file is reported, with its JSON path, line:column and,
    /// where a name is a near miss, a suggestion. Exit status: 0 when every file is
    /// valid (warnings allowed), 1 when any file is invalid, 2 on usage or I/O errors.
    Validate(validate::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
