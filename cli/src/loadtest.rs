//! `rallypoint loadtest`: drives a matchmaker with a generated (or replayed) workload and
//! reports throughput, cycle times, CPU, memory and match quality.
//!
//! Simulated clock: arrivals are applied at their simulated times and a cycle runs every
//! `--cycle` simulated seconds, as fast as the machine allows. Real clock: a producer thread
//! submits arrivals at their wall-clock times through [`Matchmaker::intake`] while the owning
//! thread ticks every cycle interval. Either way a consumer thread reads the event stream, as
//! an embedding program would, and measures quality from the events.

mod consumer;
mod report;
mod sample;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rallypoint::config;
use rallypoint::diagnostic::render;
use rallypoint::matchmaker::{Matchmaker, MatchmakerOptions};
use rallypoint::ruleset::{
    self, DistanceReference, ExpansionAgeSelection, ExpansionTarget, ExpansionValue, RuleKind, RuleProperty, RuleSet,
};
use rallypoint::time::Time;

use self::consumer::{Consumer, ConsumerSetup, LatencyRule, TicketFacts, TicketMsg};
use self::report::{CycleSample, RunFacts};
use rallypoint_bench_data::generate::{WorkloadItem, WorkloadRequest, WorkloadSpec, generate, read_jsonl};
use rallypoint_bench_data::profiles::Profile;

use crate::plugins::PluginDirs;

/// Arrivals per simulated second of the default demo (a popular game's busy hour): with
/// [`DEFAULT_DURATION`], 630k tickets and 8–9 seconds of wall time on the 2-core build
/// machine.
const DEFAULT_RATE: f64 = 7000.0;
/// Simulated seconds of arrivals of the default demo.
const DEFAULT_DURATION: f64 = 90.0;

/// Which clock drives the run.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clock {
    /// Simulated time: as fast as possible, deterministic matching.
    Simulated,
    /// Wall-clock time: arrivals and cycles at their real times.
    Real,
}

/// Arguments of `rallypoint loadtest`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Workload profile (1v1, 5v5, asymmetric, large, adversarial), or a rule-set file to run
    /// the 5v5 ticket generator against.
    #[arg(long, value_name = "NAME|FILE", default_value = "5v5")]
    profile: String,
    /// Arrivals per second (average; the generator draws a Poisson process).
    #[arg(long, value_name = "R", conflicts_with = "tickets")]
    rate: Option<f64>,
    /// Total tickets to generate over --duration (sets the rate to N / duration).
    #[arg(long, value_name = "N")]
    tickets: Option<usize>,
    /// Seconds of arrivals [default: 90 simulated, 30 real].
    #[arg(long, value_name = "S")]
    duration: Option<f64>,
    /// Search worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Seed of the workload generator and of generated ids.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Modulate arrivals by each home region's daily cycle (3:1 peak to trough, peaking at
    /// 20:00 local time; the simulated clock starts at a random UTC hour).
    #[arg(long, conflicts_with = "replay")]
    daily_cycle: bool,
    /// Add bursts of ten times the rate for 60 s, as after a maintenance window (the first in
    /// the first 20-60% of the run, then every ~30 min).
    #[arg(long, conflicts_with = "replay")]
    bursts: bool,
    /// Share of tickets cancelled with StopMatchmaking, after an exponential wait (mean 20 s).
    #[arg(long, value_name = "X", default_value_t = 0.02, value_parser = share, conflicts_with = "replay")]
    cancel_share: f64,
    /// Simulated (as fast as possible) or real (wall-clock) time.
    #[arg(long, value_enum, default_value_t = Clock::Simulated)]
    clock: Clock,
    /// RequestTimeoutSeconds of the configuration.
    #[arg(long, value_name = "S", default_value_t = 120)]
    timeout: u32,
    /// Seconds between matchmaking cycles.
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    cycle: f64,
    /// After the last arrival, keep cycling at most this long for tickets to finish
    /// [default: timeout + one cycle simulated, 10 s real].
    #[arg(long, value_name = "S")]
    grace: Option<f64>,
    /// Run this workload file (JSON lines from `rallypoint-bench-data`) instead of generating.
    #[arg(long, value_name = "WORKLOAD.jsonl")]
    replay: Option<PathBuf>,
    /// Also write the report here: `.json` (numbers) or `.html` (a page with charts).
    #[arg(long, value_name = "FILE.html|FILE.json")]
    report: Option<PathBuf>,
    /// Most player (and match) records kept for the quality figures. A run with more players
    /// reports its percentiles, groups and histograms from a uniform random sample of this
    /// many, so its memory stays bounded (~20 bytes per kept player and per kept match);
    /// counts, shares, means and maxima stay exact.
    #[arg(long, value_name = "N", default_value_t = 1 << 21, value_parser = clap::value_parser!(u64).range(1..=1 << 32))]
    quality_sample: u64,
    #[command(flatten)]
    plugins: PluginDirs,
}

fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("`{text}` is not a share between 0 and 1 (e.g. 0.05 for 5%)")),
    }
}

/// Where the arrivals come from.
#[derive(Debug)]
enum Source {
    /// Generated lazily, in order.
    Generate(Box<WorkloadSpec>),
    /// Read from a workload file.
    Replay(Vec<WorkloadItem>),
}

impl Source {
    fn items(&self) -> Box<dyn Iterator<Item = WorkloadItem> + '_> {
        match self {
            Source::Generate(spec) => Box::new(generate(spec)),
            Source::Replay(items) => Box::new(items.iter().cloned()),
        }
    }
}

pub(crate) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if !(args.cycle > 0.0 && args.cycle.is_finite()) {
        anyhow::bail!("--cycle must be a positive number of seconds");
    }
    if args.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        anyhow::bail!("--rate must be positive");
    }
    if args.report.as_ref().is_some_and(|p| report::Format::of(p).is_none()) {
        anyhow::bail!("--report must name a .json or .html file");
    }
    // The rule set: a named profile's, or a file (run with the 5v5 generator).
    let (profile, profile_label, rule_text, rule_file, from_file) = match Profile::from_name(&args.profile) {
        Some(p) => (p, p.name().to_owned(), p.rule_set_json().to_owned(), p.name().to_owned(), false),
        None => {
            let path = PathBuf::from(&args.profile);
            if !path.exists() {
                let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
                eprintln!("error: '{}' is neither a profile ({}) nor a rule-set file", args.profile, names.join(", "));
                return Ok(ExitCode::from(2));
            }
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("cannot read rule set {}", path.display()))?;
            (Profile::FiveVFive, format!("{} (5v5 tickets)", path.display()), text, path.display().to_string(), true)
        }
    };
    let checked = ruleset::check(&rule_text);
    if !checked.diagnostics.is_empty() {
        eprint!("{}", render(&rule_file, &rule_text, &checked.diagnostics));
    }
    let Some(rule_set) = checked.value else {
        eprintln!("{rule_file}: invalid rule set");
        return Ok(ExitCode::from(1));
    };

    // The workload.
    let duration = args.duration.unwrap_or(match args.clock {
        Clock::Simulated => DEFAULT_DURATION,
        Clock::Real => 30.0,
    });
    if !(duration > 0.0 && duration.is_finite()) {
        anyhow::bail!("--duration must be positive");
    }
    let (source, configuration, rate, expected, span): (Source, String, f64, Option<usize>, f64) = match &args.replay {
        Some(path) => {
            let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let items =
                read_jsonl(std::io::BufReader::new(file)).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let configuration = items
                .iter()
                .find_map(|i| match &i.request {
                    WorkloadRequest::Start(r) => Some(r.configuration_name.clone()),
                    WorkloadRequest::Stop { .. } => None,
                })
                .ok_or_else(|| anyhow::anyhow!("{}: the workload has no StartMatchmaking request", path.display()))?;
            let starts = items.iter().filter(|i| matches!(i.request, WorkloadRequest::Start(_))).count();
            let span = items.last().map_or(0.0, |i| i.at);
            let rate = starts as f64 / span.max(1e-9);
            (Source::Replay(items), configuration, rate, Some(starts), span)
        }
        None => {
            let rate = match (args.rate, args.tickets) {
                (Some(r), _) => r,
                (None, Some(n)) => n as f64 / duration,
                (None, None) => DEFAULT_RATE,
            };
            let mut spec = WorkloadSpec::new(profile, rate, duration, args.seed);
            spec.max_tickets = args.tickets;
            spec.daily_cycle = args.daily_cycle;
            spec.bursts = args.bursts;
            spec.cancel_share = args.cancel_share;
            // Known up front only without the cycle and bursts, which move the count.
            let expected = args
                .tickets
                .or_else(|| (!args.daily_cycle && !args.bursts).then_some((rate * duration).round() as usize));
            let configuration = spec.configuration.clone();
            (Source::Generate(Box::new(spec)), configuration, rate, expected, duration)
        }
    };

    // The matchmaker.
    let config_text = serde_json::json!({
        "Name": configuration,
        "RuleSetName": configuration,
        "RequestTimeoutSeconds": args.timeout,
        "AcceptanceRequired": false,
        "FlexMatchMode": "STANDALONE",
    })
    .to_string();
    let checked = config::check(&config_text);
    let Some(configuration_value) = checked.value else {
        eprint!("{}", render("configuration", &config_text, &checked.diagnostics));
        eprintln!("error: cannot build a configuration named '{configuration}' (check --timeout)");
        return Ok(ExitCode::from(1));
    };
    let mut options = MatchmakerOptions::new(args.seed);
    options.threads = args.threads;
    let rule_set_dir = if from_file { Path::new(&args.profile).parent() } else { None };
    options.plugins = args.plugins.modules(rule_set_dir);
    // Finished tickets are forgotten at once: the load test reads outcomes from events, and
    // retained records would blur the memory figures.
    options.retention_seconds = Some(0.0);
    let (mut mm, events) = Matchmaker::new(options);
    if let Err(err) = mm.add_configuration(configuration_value, &rule_set) {
        eprintln!("error: profile {profile_label}: the engine refuses this rule set: {err}");
        return Ok(ExitCode::from(1));
    }

    let grace = args.grace.unwrap_or(match args.clock {
        Clock::Simulated => f64::from(args.timeout) + args.cycle,
        Clock::Real => 10.0,
    });
    let setup = ConsumerSetup {
        skill_attribute: if from_file { Profile::FiveVFive.skill_attribute() } else { profile.skill_attribute() }
            .to_owned(),
        expansion_steps: expansion_steps(&rule_set),
        expansion_oldest: rule_set.algorithm.expansion_age_selection == ExpansionAgeSelection::Oldest,
        latency_rules: latency_rules(&rule_set),
        sample_cap: usize::try_from(args.quality_sample).unwrap_or(usize::MAX),
        seed: args.seed,
    };
    let facts = RunFacts {
        profile: profile_label,
        configuration,
        clock: match args.clock {
            Clock::Simulated => "simulated",
            Clock::Real => "real",
        },
        rate,
        duration: span,
        seed: args.seed,
        threads: args.threads,
        timeout: args.timeout,
        cycle: args.cycle,
        replay: args.replay.as_ref().map(|p| p.display().to_string()),
        generator: args.replay.is_none().then_some(report::Shape {
            daily_cycle: args.daily_cycle,
            bursts: args.bursts,
            cancel_share: args.cancel_share,
        }),
        expansion_steps: setup.expansion_steps.clone(),
    };
    let cpu0 = report::cpu_seconds();
    // SAFETY: mi_collect has no preconditions; it only purges the allocator's free pages.
    unsafe { mi_collect(true) };
    let rss0 = report::proc_status_kib("VmRSS");
    let outcome = match args.clock {
        Clock::Simulated => run_simulated(mm, events, &source, setup, args.cycle, span, grace, expected, rss0)?,
        Clock::Real => run_real(mm, events, source, setup, args.cycle, span, grace, expected, rss0)?,
    };
    let cpu = match (cpu0, report::cpu_seconds()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let memory = report::Memory {
        baseline_rss_bytes: rss0.map(|k| k * 1024),
        peak_rss_bytes: report::proc_status_kib("VmHWM").map(|k| k * 1024),
    };
    if outcome.accepted == 0 && outcome.rejected > 0 {
        eprintln!("error: every StartMatchmaking request was rejected; does the generator fit the rule set?");
        return Ok(ExitCode::from(1));
    }
    let report = report::build(&facts, &outcome, cpu, memory);
    print!("{}", report::text(&report));
    crate::plugins::print_status(&report.plugins);
    if let Some(path) = &args.report {
        let body = match report::Format::of(path) {
            Some(report::Format::Json) => serde_json::to_string_pretty(&report)? + "\n",
            _ => report::html(&report),
        };
        std::fs::write(path, body).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The distinct wait times at which some expansion step starts, ascending.
fn expansion_steps(rule_set: &RuleSet) -> Vec<f64> {
    let mut steps: Vec<f64> =
        rule_set.expansions.iter().flat_map(|e| e.steps.iter().map(|s| s.wait_time_seconds)).collect();
    steps.sort_by(f64::total_cmp);
    steps.dedup();
    steps
}

/// The rule set's latency rules (those enforced on their own), with their expansions.
fn latency_rules(rule_set: &RuleSet) -> Vec<LatencyRule> {
    let steps = |rule: usize, property: RuleProperty, base: Option<f64>| -> Vec<(f64, f64)> {
        let Some(base) = base else { return Vec::new() };
        let mut steps = vec![(0.0, base)];
        for expansion in &rule_set.expansions {
            if expansion.target != (ExpansionTarget::Rule { rule, property }) {
                continue;
            }
            for step in &expansion.steps {
                if let ExpansionValue::Number(value) = step.value {
                    steps.push((step.wait_time_seconds, value));
                }
            }
        }
        steps
    };
    rule_set
        .rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| !rule.is_compound_operand)
        .filter_map(|(i, rule)| match rule.kind {
            RuleKind::Latency { max_latency, max_distance, distance_reference, party_aggregation } => {
                Some(LatencyRule {
                    max_latency: steps(i, RuleProperty::MaxLatency, Some(max_latency)),
                    max_distance: steps(i, RuleProperty::MaxDistance, max_distance),
                    from_min: distance_reference == Some(DistanceReference::Min),
                    party_aggregation,
                })
            }
            _ => None,
        })
        .collect()
}

/// What the drive loop measured, with the consumer's findings.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// StartMatchmaking requests accepted (tickets ingested).
    pub(crate) accepted: usize,
    /// StartMatchmaking requests rejected.
    pub(crate) rejected: usize,
    /// StopMatchmaking requests that cancelled a ticket.
    pub(crate) stops: usize,
    /// Wall seconds until the last arrival was submitted.
    pub(crate) arrival_wall: f64,
    /// Wall seconds of the whole run.
    pub(crate) total_wall: f64,
    /// Simulated (or real) seconds covered by the cycles.
    pub(crate) covered: f64,
    /// Wall time of each `tick`, in seconds.
    pub(crate) tick_seconds: Vec<f64>,
    /// One sample per cycle.
    pub(crate) samples: Vec<CycleSample>,
    /// Most tickets waiting in the pool after a cycle.
    pub(crate) peak_waiting: usize,
    /// Resident bytes the engine held per waiting ticket, at the largest pool sampled.
    pub(crate) engine_bytes_per_waiting_ticket: Option<f64>,
    /// Tickets waiting at that sample.
    pub(crate) memory_sampled_waiting: Option<usize>,
    /// The consumer's measurements.
    pub(crate) consumer: Consumer,
    /// Health of each plugin rule at the end of the run.
    pub(crate) plugins: Vec<rallypoint::matchmaker::PluginStatus>,
}

fn progress_bar(len: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:36} {pos}/{len} s  {msg}")
    {
        bar.set_style(style);
    }
    bar
}

unsafe extern "C" {
    /// mimalloc's (the binary's global allocator): returns freed memory to the system.
    fn mi_collect(force: bool);
}

/// How much larger than at the last memory sample the pool must be for the next: by 5%
/// while sampling has taken under [`SAMPLE_BUDGET`] of the run's wall time, else by a
/// quarter.
const SAMPLE_GROWTH: (f64, f64) = (1.05, 1.25);
/// The share of wall time memory samples may take before they are taken less often.
const SAMPLE_BUDGET: f64 = 0.02;

/// Measures what the engine holds per waiting ticket while a run goes on.
///
/// Each time the pool reaches a new high (see [`SAMPLE_GROWTH`]), it waits briefly for the
/// consumer to catch up with the events and submitted tickets, has the allocator return
/// freed pages, and takes the process's resident memory minus its resident memory before
/// the run minus what the consumer holds (the facts of tickets still waiting, and the
/// quality samples of finished tickets and matches). The sample with the most waiting
/// tickets gives the report's figure.
struct MemorySampler {
    baseline_kib: Option<u64>,
    events: crossbeam_channel::Receiver<Vec<rallypoint::events::Event>>,
    tickets: crossbeam_channel::Receiver<TicketMsg>,
    consumer_held: Arc<AtomicU64>,
    /// Whether the consumer is working through a batch of events it took off the channel
    /// (a cycle's worth, which is not the engine's memory).
    consumer_busy: Arc<AtomicBool>,
    /// `(engine bytes, waiting tickets)` at the largest pool sampled.
    best: Option<(u64, usize)>,
    /// When sampling began, and the wall time samples took since.
    started: Instant,
    spent: Duration,
}

impl MemorySampler {
    /// Samples the engine's memory if the pool has grown enough since the last sample. A
    /// sample waits for the consumer to catch up and has the allocator return its free
    /// pages, 20–40 ms in a busy run, which the engine pays again in page faults afterwards:
    /// sampling at every 5% of growth cost a 1v1 run ~15% of its wall time.
    fn after_cycle(&mut self, waiting: usize) {
        let Some(baseline) = self.baseline_kib else { return };
        let cheap = self.spent.as_secs_f64() < SAMPLE_BUDGET * self.started.elapsed().as_secs_f64();
        let growth = if cheap { SAMPLE_GROWTH.0 } else { SAMPLE_GROWTH.1 };
        if waiting == 0 || self.best.is_some_and(|(_, w)| waiting as f64 <= w as f64 * growth) {
            return;
        }
        let sampling = Instant::now();
        let give_up = Instant::now() + Duration::from_millis(200);
        let behind =
            || !self.events.is_empty() || !self.tickets.is_empty() || self.consumer_busy.load(Ordering::Acquire);
        while behind() && Instant::now() < give_up {
            std::thread::yield_now();
        }
        // SAFETY: mi_collect has no preconditions; it only purges the allocator's free pages.
        unsafe { mi_collect(true) };
        let Some(rss) = report::proc_status_kib("VmRSS") else { return };
        let engine = (rss.saturating_sub(baseline) * 1024).saturating_sub(self.consumer_held.load(Ordering::Acquire));
        self.best = Some((engine, waiting));
        self.spent += sampling.elapsed();
    }

    fn sampled_waiting(&self) -> Option<usize> {
        self.best.map(|(_, waiting)| waiting)
    }

    fn bytes_per_waiting_ticket(&self) -> Option<f64> {
        self.best.map(|(bytes, waiting)| bytes as f64 / waiting as f64)
    }
}

/// Starts the consumer thread on `events`; returns the channel that tells it each new
/// ticket's players, the memory sampler that watches both channels and the consumer's
/// holdings (baseline RSS `rss0`), and the thread.
fn spawn_consumer(
    mut events: rallypoint::events::EventReceiver,
    setup: ConsumerSetup,
    base: Time,
    real: Option<Instant>,
    rss0: Option<u64>,
) -> (crossbeam_channel::Sender<TicketMsg>, MemorySampler, std::thread::JoinHandle<Consumer>) {
    let (ticket_tx, tickets) = crossbeam_channel::unbounded();
    let held = Arc::new(AtomicU64::new(0));
    let busy = Arc::new(AtomicBool::new(false));
    let memory = MemorySampler {
        baseline_kib: rss0,
        events: events.batches().clone(),
        tickets: tickets.clone(),
        consumer_held: held.clone(),
        consumer_busy: busy.clone(),
        best: None,
        started: Instant::now(),
        spent: Duration::ZERO,
    };
    let thread = std::thread::Builder::new()
        .name("loadtest-consumer".into())
        .spawn(move || {
            let mut consumer = Consumer::new(setup, base, real, held);
            // A batch is a cycle's events (or a cancellation's): the tickets submitted
            // before it are known by the time it arrives.
            while let Ok(batch) = events.recv_batch() {
                busy.store(true, Ordering::Release);
                consumer.take_tickets(&tickets);
                for event in &batch {
                    consumer.event(event);
                }
                drop(batch);
                consumer.publish_held();
                busy.store(false, Ordering::Release);
            }
            consumer.take_tickets(&tickets);
            consumer.finish();
            consumer
        })
        .expect("cannot start the consumer thread");
    (ticket_tx, memory, thread)
}

/// Simulated start: 2026-01-01T00:00:00Z.
const SIM_BASE: Time = Time::from_millis(1_767_225_600_000);

/// `done/expected`, or `done` when the total is not known in advance.
fn of_expected(done: usize, expected: Option<usize>) -> String {
    match expected {
        Some(total) => format!("{done}/{total}"),
        None => done.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn run_simulated(
    mut mm: Matchmaker,
    events: rallypoint::events::EventReceiver,
    source: &Source,
    setup: ConsumerSetup,
    cycle: f64,
    span: f64,
    grace: f64,
    expected: Option<usize>,
    rss0: Option<u64>,
) -> anyhow::Result<Outcome> {
    let mut facts = TicketFacts::new(&setup.skill_attribute);
    let (ticket_tx, mut memory, consumer) = spawn_consumer(events, setup, SIM_BASE, None, rss0);
    let bar = progress_bar(span.ceil() as u64);
    let mut arrivals = source.items().peekable();
    let (mut accepted, mut rejected, mut stops, mut shown_errors) = (0usize, 0usize, 0usize, 0usize);
    let (mut matched, mut timed_out) = (0usize, 0usize);
    let mut tick_seconds = Vec::new();
    let mut samples = Vec::new();
    let mut peak_waiting = 0;
    let started = Instant::now();
    let mut arrival_wall = None;
    let mut last_at = 0.0f64;
    let mut k = 0u64;
    loop {
        let t = k as f64 * cycle;
        let mut ingested = 0;
        while let Some(item) = arrivals.next_if(|i| i.at <= t) {
            last_at = last_at.max(item.at);
            let now = SIM_BASE.plus_secs(item.at);
            match item.request {
                WorkloadRequest::Start(request) => {
                    let id = request.ticket_id.clone();
                    let mut msg = facts.of(&request.players);
                    match mm.start_matchmaking(now, request) {
                        Ok(ticket) => {
                            accepted += 1;
                            ingested += 1;
                            msg.ticket_id = ticket.ticket_id;
                            let _ = ticket_tx.send(msg);
                        }
                        Err(err) => {
                            rejected += 1;
                            if !msg.new_locations.is_empty() {
                                // (Only the location names, which the next tickets number on.)
                                let _ = ticket_tx
                                    .send(TicketMsg { new_locations: msg.new_locations, ..TicketMsg::default() });
                            }
                            if shown_errors < 5 {
                                shown_errors += 1;
                                bar.suspend(|| {
                                    eprintln!(
                                        "rejected StartMatchmaking {} at {:.3}s: {}: {err}",
                                        id.as_deref().unwrap_or("(no id)"),
                                        item.at,
                                        err.error_type()
                                    )
                                });
                            }
                        }
                    }
                }
                WorkloadRequest::Stop { ticket_id } => {
                    if mm.stop_matchmaking(now, &ticket_id).is_ok() {
                        stops += 1;
                    }
                }
            }
        }
        let done_arriving = arrivals.peek().is_none();
        if done_arriving && arrival_wall.is_none() {
            arrival_wall = Some(started.elapsed().as_secs_f64());
        }
        let tick_start = Instant::now();
        let stats = mm.tick(SIM_BASE.plus_secs(t));
        tick_seconds.push(tick_start.elapsed().as_secs_f64());
        matched += stats.matched_tickets;
        timed_out += stats.timed_out;
        peak_waiting = peak_waiting.max(stats.waiting);
        memory.after_cycle(stats.waiting);
        samples.push(CycleSample {
            t,
            ingested,
            matched_tickets: stats.matched_tickets,
            matches: stats.matches,
            timed_out: stats.timed_out,
            waiting: stats.waiting,
            searched: stats.searched,
            skipped: stats.skipped,
        });
        if k.is_multiple_of(16) {
            bar.set_position(t.min(span).max(0.0) as u64);
            bar.set_message(format!(
                "{} tickets, {matched} matched, {} waiting{}",
                of_expected(accepted, expected),
                stats.waiting,
                if done_arriving { ", draining" } else { "" }
            ));
        }
        let active = accepted.saturating_sub(matched + timed_out + stops);
        if done_arriving && (active == 0 || t >= last_at.max(span) + grace) {
            break;
        }
        k += 1;
    }
    bar.finish_and_clear();
    let total_wall = started.elapsed().as_secs_f64();
    drop(ticket_tx);
    let plugins = mm.plugin_status();
    // Dropping the matchmaker closes the event channel, which ends the consumer.
    drop(mm);
    let consumer = consumer.join().map_err(|_| anyhow::anyhow!("the event consumer panicked"))?;
    Ok(Outcome {
        accepted,
        rejected,
        stops,
        arrival_wall: arrival_wall.unwrap_or(total_wall),
        total_wall,
        covered: samples.last().map_or(0.0, |s| s.t),
        tick_seconds,
        samples,
        peak_waiting,
        engine_bytes_per_waiting_ticket: memory.bytes_per_waiting_ticket(),
        memory_sampled_waiting: memory.sampled_waiting(),
        consumer,
        plugins,
    })
}

#[allow(clippy::too_many_arguments)]
fn run_real(
    mut mm: Matchmaker,
    events: rallypoint::events::EventReceiver,
    source: Source,
    setup: ConsumerSetup,
    cycle: f64,
    span: f64,
    grace: f64,
    expected: Option<usize>,
    rss0: Option<u64>,
) -> anyhow::Result<Outcome> {
    let base = Time::from_millis(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
    );
    let started = Instant::now();
    let now_time = move || base.plus_secs(started.elapsed().as_secs_f64());
    let mut facts = TicketFacts::new(&setup.skill_attribute);
    let (ticket_tx, mut memory, consumer) = spawn_consumer(events, setup, base, Some(started), rss0);
    let intake = mm.intake();
    let done = Arc::new(AtomicBool::new(false));
    let submitted = Arc::new(AtomicU64::new(0));
    let arrival_done_ms = Arc::new(AtomicU64::new(0));
    let producer = {
        let (done, submitted, arrival_done_ms) = (done.clone(), submitted.clone(), arrival_done_ms.clone());
        std::thread::Builder::new().name("loadtest-producer".into()).spawn(move || {
            let mut stops = 0usize;
            let mut last_at = 0.0f64;
            // Answers to StartMatchmaking, settled as they arrive (in submission order).
            let mut replies = Replies::default();
            for item in source.items() {
                replies.settle();
                last_at = last_at.max(item.at);
                let due = started + Duration::from_secs_f64(item.at.max(0.0));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let now = now_time();
                match item.request {
                    WorkloadRequest::Start(request) => {
                        if let Some(id) = &request.ticket_id {
                            let msg = facts.of(&request.players);
                            let _ = ticket_tx.send(TicketMsg { ticket_id: id.clone(), ..msg });
                        }
                        replies.pending.push_back(intake.start_matchmaking(now, request));
                        submitted.fetch_add(1, Ordering::Relaxed);
                    }
                    WorkloadRequest::Stop { ticket_id } => {
                        drop(intake.stop_matchmaking(now, &ticket_id));
                        stops += 1;
                    }
                }
            }
            arrival_done_ms.store(started.elapsed().as_millis() as u64, Ordering::SeqCst);
            done.store(true, Ordering::SeqCst);
            (stops, last_at, replies)
        })?
    };
    let bar = progress_bar(span.ceil() as u64);
    let mut matched = 0usize;
    let mut tick_seconds = Vec::new();
    let mut samples = Vec::new();
    let mut peak_waiting = 0;
    let mut k = 0u64;
    let mut finishing_since: Option<f64> = None;
    loop {
        let due = started + Duration::from_secs_f64(k as f64 * cycle);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let arrivals_done = done.load(Ordering::SeqCst);
        let t = started.elapsed().as_secs_f64();
        let tick_start = Instant::now();
        let stats = mm.tick(base.plus_secs(t));
        tick_seconds.push(tick_start.elapsed().as_secs_f64());
        matched += stats.matched_tickets;
        peak_waiting = peak_waiting.max(stats.waiting);
        memory.after_cycle(stats.waiting);
        samples.push(CycleSample {
            t,
            ingested: stats.searching,
            matched_tickets: stats.matched_tickets,
            matches: stats.matches,
            timed_out: stats.timed_out,
            waiting: stats.waiting,
            searched: stats.searched,
            skipped: stats.skipped,
        });
        bar.set_position(t.min(span) as u64);
        bar.set_message(format!(
            "{} submitted, {matched} matched, {} waiting{}",
            of_expected(submitted.load(Ordering::Relaxed) as usize, expected),
            stats.waiting,
            if arrivals_done { ", draining" } else { "" }
        ));
        if arrivals_done {
            let since = *finishing_since.get_or_insert(t);
            if stats.waiting == 0 || t - since >= grace {
                break;
            }
        }
        k += 1;
    }
    bar.finish_and_clear();
    let total_wall = started.elapsed().as_secs_f64();
    let (stops, _, mut replies) = producer.join().map_err(|_| anyhow::anyhow!("the producer panicked"))?;
    // The last cycle applied every submitted request, so every answer is in.
    replies.settle();
    let plugins = mm.plugin_status();
    drop(mm);
    let consumer = consumer.join().map_err(|_| anyhow::anyhow!("the event consumer panicked"))?;
    Ok(Outcome {
        accepted: replies.accepted,
        rejected: replies.rejected,
        stops: stops.min(consumer.cancelled_tickets),
        arrival_wall: arrival_done_ms.load(Ordering::SeqCst) as f64 / 1000.0,
        total_wall,
        covered: samples.last().map_or(0.0, |s| s.t),
        tick_seconds,
        samples,
        peak_waiting,
        engine_bytes_per_waiting_ticket: memory.bytes_per_waiting_ticket(),
        memory_sampled_waiting: memory.sampled_waiting(),
        consumer,
        plugins,
    })
}

/// The answers to a real-clock run's `StartMatchmaking` requests, counted as they arrive.
#[derive(Default)]
struct Replies {
    pending: std::collections::VecDeque<
        crossbeam_channel::Receiver<Result<rallypoint::api::MatchmakingTicket, rallypoint::api::ApiError>>,
    >,
    accepted: usize,
    rejected: usize,
}

impl Replies {
    /// Counts the answers that arrived, oldest first, up to the first still pending.
    fn settle(&mut self) {
        while let Some(front) = self.pending.front() {
            match front.try_recv() {
                Ok(Ok(_)) => self.accepted += 1,
                Ok(Err(_)) => self.rejected += 1,
                Err(crossbeam_channel::TryRecvError::Empty) => break,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {}
            }
            self.pending.pop_front();
        }
    }
}
