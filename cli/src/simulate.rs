//! `rallypoint simulate SCENARIO.json`: runs a scenario in simulated time.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use rallypoint::diagnostic::render;
use rallypoint::matchmaker::{MatchmakerOptions, PluginModules};
use rallypoint::ruleset;
use rallypoint::scenario::{self, Scenario, ScenarioRuleSet, SimulationStep};

use crate::plugins::PluginDirs;

/// Arguments of `rallypoint simulate`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Scenario file: a configuration, timed StartMatchmaking / StopMatchmaking requests
    /// in the GameLift API's shapes, the cycle length and the end time.
    #[arg(value_name = "SCENARIO")]
    scenario: PathBuf,
    /// Search worker threads (0 = one per core). The output does not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Seed for generated ticket, match and event ids.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write events here, one FlexMatch event envelope per line (default: stdout).
    #[arg(long, value_name = "EVENTS.jsonl")]
    out: Option<PathBuf>,
    /// Write the final MatchmakingTicket of every ticket here, as a JSON array.
    #[arg(long, value_name = "TICKETS.json")]
    tickets_out: Option<PathBuf>,
    #[command(flatten)]
    plugins: PluginDirs,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("cannot read scenario {}", args.scenario.display()))?;
    let file = args.scenario.display().to_string();
    let checked = scenario::check(&text);
    if !checked.diagnostics.is_empty() {
        eprint!("{}", render(&file, &text, &checked.diagnostics));
    }
    let Some(scenario) = checked.value else {
        eprintln!("{file}: invalid scenario");
        return Ok(ExitCode::from(1));
    };
    let scenario_dir = args.scenario.parent().unwrap_or(Path::new("."));
    let (rule_set, rule_set_dir) = match &scenario.rule_set {
        ScenarioRuleSet::Parsed(rs) => (rs.clone(), scenario_dir.to_path_buf()),
        ScenarioRuleSet::Path { path, .. } => {
            let target = scenario_dir.join(path);
            let rs_text = std::fs::read_to_string(&target)
                .with_context(|| format!("cannot read rule set {} (RuleSetPath)", target.display()))?;
            let checked = ruleset::check(&rs_text);
            if !checked.diagnostics.is_empty() {
                eprint!("{}", render(&target.display().to_string(), &rs_text, &checked.diagnostics));
            }
            match checked.value {
                Some(rs) => (rs, target.parent().unwrap_or(Path::new(".")).to_path_buf()),
                None => {
                    eprintln!("{}: invalid rule set", target.display());
                    return Ok(ExitCode::from(1));
                }
            }
        }
    };
    let plugins = args.plugins.modules(Some(&rule_set_dir));
    simulate(args, &scenario, &rule_set, plugins, &file)
}

fn simulate(
    args: &Args,
    scenario: &Scenario,
    rule_set: &ruleset::RuleSet,
    plugins: PluginModules,
    file: &str,
) -> anyhow::Result<ExitCode> {
    let mut options = MatchmakerOptions::new(args.seed);
    options.plugins = plugins;
    options.threads = args.threads;
    options.retention_seconds = None;
    let envelope = rallypoint::events::EnvelopeContext::for_configuration(&scenario.configuration);
    let mut out: Box<dyn std::io::Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let (mut n_events, mut rejected) = (0usize, 0usize);
    let mut write_error = None;
    let run = scenario.simulate(rule_set, options, |step| match step {
        SimulationStep::Request { index, outcome: Err(err), .. } => {
            rejected += 1;
            eprintln!("{file}: requests[{index}] at {}s: {}: {err}", scenario.requests[index].at, err.error_type());
        }
        SimulationStep::Event(event) => {
            n_events += 1;
            if let Err(e) = writeln!(out, "{}", event.to_json(&envelope)) {
                write_error.get_or_insert(e);
            }
        }
        _ => {}
    });
    let mm = match run {
        Ok(mm) => mm,
        Err(err) => {
            eprintln!("{file}: configuration '{}': {}: {err}", scenario.configuration.name, err.error_type());
            return Ok(ExitCode::from(1));
        }
    };
    if let Some(e) = write_error {
        return Err(e).context("cannot write events");
    }
    out.flush()?;
    drop(out);
    let tickets = mm.all_tickets();
    if let Some(path) = &args.tickets_out {
        // Serialised directly (not through serde_json::Value) to keep GameLift's key order.
        std::fs::write(path, serde_json::to_string_pretty(&tickets)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    crate::plugins::print_status(&mm.plugin_status());
    let count = |s: &str| tickets.iter().filter(|t| t.status.as_str() == s).count();
    eprintln!(
        "{file}: {} tickets ({} completed, {} timed out, {} cancelled, {} still searching), {n_events} events, {rejected} requests rejected, simulated {}s",
        tickets.len(),
        count("COMPLETED"),
        count("TIMED_OUT"),
        count("CANCELLED"),
        count("SEARCHING") + count("QUEUED"),
        scenario.until
    );
    Ok(ExitCode::SUCCESS)
}
