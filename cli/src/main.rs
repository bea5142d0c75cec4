//! The `rallypoint` command: argument parsing, file I/O, output and exit codes.
//!
//! Invariant: no matchmaking logic lives here. Everything this binary does, an embedding
//! program can do through the `rallypoint` crate's public API.

mod loadtest;
mod plugin;
mod plugin_check;
mod plugins;
mod simulate;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the matchmaker allocates many small, short-lived objects (tickets, events);
/// glibc's allocator spent a quarter of a cycle in malloc/free in profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Run a scenario of GameLift API requests in simulated time.
    ///
    /// Writes one FlexMatch event envelope per line (time from the simulated clock) and,
    /// with --tickets-out, the final MatchmakingTicket of every ticket. The same scenario,
    /// seed and engine version always give byte-identical output, whatever --threads is.
    /// Exit status: 0 after a run, 1 for an invalid scenario or rule set, 2 on usage or I/O
    /// errors.
    Simulate(simulate::Args),
    /// Load-test the matchmaker with a generated or replayed workload and report on it.
    ///
    /// Reports throughput, cycle times, CPU and memory, and match quality (waits by skill
    /// decile, region and party size, skill spread, team imbalance, latency, expansion
    /// steps) on stdout, and with --report as JSON or as an HTML page with charts. With no
    /// arguments it runs a ~10-second demo on the 5v5 profile. Exit status: 0 after a run,
    /// 1 when the engine refuses the profile or rule set, 2 on usage or I/O errors.
    Loadtest(loadtest::Args),
    /// Work with WebAssembly rule plugins.
    ///
    /// `plugin new` scaffolds a plugin crate. Exit status: 0 on success, 1 when the command
    /// refuses its input (see each subcommand), 2 on usage or I/O errors.
    Plugin(plugin::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Loadtest(args) => loadtest::run(&args),
        Command::Plugin(args) => plugin::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
