//! Writes generated workloads and rule sets to stdout.
//!
//! * `rallypoint-bench-data generate --profile NAME (--rate R --duration S | …)` prints a
//!   workload as JSON lines, the format `rallypoint loadtest --replay` reads.
//! * `rallypoint-bench-data ruleset NAME` prints a profile's rule set.
//! * `rallypoint-bench-data large-ruleset [GROUPS]` prints the rule-set benchmark's rule set.
//!
//! `--help` on each command describes its options.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rallypoint_bench_data::generate::{WorkloadSpec, generate, write_jsonl};
use rallypoint_bench_data::profiles::Profile;

/// Seeded, reproducible matchmaking workloads and the rule-set profiles they are shaped for.
#[derive(Parser, Debug)]
#[command(name = "rallypoint-bench-data", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a workload as JSON lines: one `StartMatchmaking` or `StopMatchmaking` request
    /// per line, in time order (`rallypoint loadtest --replay FILE` runs it).
    ///
    /// The same options always give the same bytes.
    Generate(GenerateArgs),
    /// Print a profile's rule set (FlexMatch JSON).
    Ruleset {
        /// Profile: 1v1, 5v5, asymmetric, large, adversarial.
        #[arg(value_parser = profile)]
        profile: Profile,
    },
    /// Print the rule-set benchmark's rule set: GROUPS groups of rules of every type.
    LargeRuleset {
        #[arg(default_value_t = 40)]
        groups: usize,
    },
}

#[derive(clap::Args, Debug)]
struct GenerateArgs {
    /// Profile the tickets are shaped for: 1v1, 5v5, asymmetric, large, adversarial.
    #[arg(long, value_parser = profile)]
    profile: Profile,
    /// Mean arrivals per second (a Poisson process).
    #[arg(long, value_name = "R", value_parser = non_negative)]
    rate: f64,
    /// Seconds of arrivals.
    #[arg(long, value_name = "S", value_parser = non_negative)]
    duration: f64,
    /// Stop after this many tickets.
    #[arg(long, value_name = "N")]
    tickets: Option<usize>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Modulate arrivals by each home region's daily cycle (3:1 peak to trough, peaking at
    /// 20:00 local time).
    #[arg(long)]
    daily_cycle: bool,
    /// Add bursts of ten times the rate for 60 s, as after a maintenance window.
    #[arg(long)]
    bursts: bool,
    /// Share of tickets stopped with `StopMatchmaking`, after an exponential wait (mean 20 s).
    #[arg(long, value_name = "X", default_value_t = 0.02, value_parser = share)]
    cancel_share: f64,
    /// `ConfigurationName` of every request [default: the profile's name].
    #[arg(long, value_name = "NAME")]
    configuration: Option<String>,
}

fn profile(name: &str) -> Result<Profile, String> {
    Profile::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
        format!("unknown profile (expected one of: {})", names.join(", "))
    })
}

fn non_negative(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err("expected a non-negative number".to_owned()),
    }
}

fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err("expected a share between 0 and 1 (e.g. 0.05 for 5%)".to_owned()),
    }
}

fn generate_command(args: GenerateArgs) -> ExitCode {
    let mut spec = WorkloadSpec::new(args.profile, args.rate, args.duration, args.seed);
    spec.max_tickets = args.tickets;
    spec.daily_cycle = args.daily_cycle;
    spec.bursts = args.bursts;
    spec.cancel_share = args.cancel_share;
    if let Some(configuration) = args.configuration {
        spec.configuration = configuration;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match write_jsonl(generate(&spec), &mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write the workload: {e}");
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Generate(args) => generate_command(args),
        Command::Ruleset { profile } => {
            print!("{}", profile.rule_set_json());
            ExitCode::SUCCESS
        }
        Command::LargeRuleset { groups } => {
            print!("{}", rallypoint_bench_data::rulesets::large_rule_set(groups));
            ExitCode::SUCCESS
        }
    }
}
