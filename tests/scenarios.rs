//! Behaviour scenarios: one trial per `tests/conformance/scenarios/X.json`, run exactly as
//! `rallypoint simulate` runs it, with 1, 2 and 8 search threads.
//!
//! Each trial checks that
//!
//! * the events (FlexMatch envelopes, one JSON line each) and the final tickets are
//!   byte-identical for every thread count (the determinism guarantee), and
//! * a compact, human-reviewable log of the run equals `X.expected`.
//!
//! The log has one line per event (`t=<seconds> <EventType> …`; matches are numbered in
//! order of appearance and shown with their teams, `match#1 red[t0 t1] blue[t2 t3]`), one
//! line per rejected request, one line per ticket that starts with a status message (a
//! ticket that can never match says why), and a `final:` section with every ticket's status,
//! end time, reason, message and each player's team.
//!
//! `determinism/large` generates a workload big enough for the search to split the pool
//! into several segments (the unit of parallel work) and checks its events are identical
//! for every thread count.
//!
//! Run: `cargo test -p rallypoint-tests --test scenarios`
//! Bless: `UPDATE_EXPECT=1 cargo test -p rallypoint-tests --test scenarios`

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use rallypoint::api::{AttributeValue, MatchmakingTicket};
use rallypoint::diagnostic::Severity;
use rallypoint::events::{Event, EventDetail};
use rallypoint::matchmaker::MatchmakerOptions;
use rallypoint::ruleset::{self, RuleSet};
use rallypoint::scenario::{self, Request, Scenario, ScenarioRuleSet, SimulationStep, TimedRequest};
use rallypoint::source::Span;
use rallypoint::time::Time;
use rallypoint_tests::line_diff;

/// Thread counts every scenario runs with; the outputs must be identical.
const THREADS: [usize; 3] = [1, 2, 8];
/// Seed for generated ids, as `rallypoint simulate` uses by default.
const SEED: u64 = 0;
/// Tickets per search segment (`engine/src/search/cycle.rs`, `SEGMENT`).
const SEGMENT: usize = 4096;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let bless = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let mut trials: Vec<Trial> = scenario_files()
        .into_iter()
        .map(|json| {
            let name = format!("scenarios/{}", json.file_stem().unwrap().to_string_lossy());
            Trial::test(name, move || run_file(&json, bless))
        })
        .collect();
    trials.push(Trial::test("determinism/large", large_determinism));
    libtest_mimic::run(&args, trials).exit_code()
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance").join("scenarios")
}

/// Every `*.json` file of the scenario directory, sorted.
fn scenario_files() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(scenario_dir()) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

// ---------------------------------------------------------------------------------------
// One scenario file

fn run_file(json: &Path, bless: bool) -> Result<(), Failed> {
    let text = std::fs::read_to_string(json).map_err(|e| format!("cannot read {}: {e}", json.display()))?;
    let file = json.file_name().unwrap().to_string_lossy().into_owned();
    let checked = scenario::check(&text);
    let mut warnings = String::new();
    for d in &checked.diagnostics {
        match d.severity {
            Severity::Error => {}
            Severity::Warning => writeln!(warnings, "warning[{}] {}: {}", d.code, d.path, d.message).unwrap(),
        }
    }
    let Some(scenario) = checked.value else {
        return Err(rallypoint::diagnostic::render(&file, &text, &checked.diagnostics).into());
    };
    let rule_set = match &scenario.rule_set {
        ScenarioRuleSet::Parsed(rs) => rs.clone(),
        ScenarioRuleSet::Path { path, .. } => {
            let target = json.parent().unwrap_or(Path::new(".")).join(path);
            let rs_text =
                std::fs::read_to_string(&target).map_err(|e| format!("cannot read {}: {e}", target.display()))?;
            ruleset::check(&rs_text).value.ok_or_else(|| format!("{}: invalid rule set", target.display()))?
        }
    };

    let runs = THREADS.map(|threads| simulate(&scenario, &rule_set, threads));
    let first = runs[0].as_ref().map_err(Clone::clone)?;
    for (run, threads) in runs.iter().zip(THREADS).skip(1) {
        let run = run.as_ref().map_err(Clone::clone)?;
        same_output(first, run, threads)?;
    }

    let actual = format!("{warnings}{}", first.log);
    let expected_path = json.with_extension("expected");
    if bless {
        std::fs::write(&expected_path, &actual)
            .map_err(|e| format!("cannot write {}: {e}", expected_path.display()))?;
        return Ok(());
    }
    match std::fs::read_to_string(&expected_path) {
        Ok(expected) if expected == actual => Ok(()),
        Ok(expected) => Err(format!(
            "{} differs (- expected, + actual; bless with UPDATE_EXPECT=1):\n{}",
            expected_path.display(),
            line_diff(&expected, &actual)
        )
        .into()),
        Err(e) => Err(format!(
            "cannot read {} ({e}); create it with UPDATE_EXPECT=1\nactual output:\n{actual}",
            expected_path.display()
        )
        .into()),
    }
}

/// Fails unless `run` (with `threads` threads) produced exactly `first`'s events and tickets.
fn same_output(first: &Run, run: &Run, threads: usize) -> Result<(), Failed> {
    if let Some(i) = (0..first.events.len().max(run.events.len())).find(|&i| first.events.get(i) != run.events.get(i)) {
        return Err(format!(
            "events differ between {} and {threads} threads at event {i}:\n  {} threads: {}\n  {threads} threads: {}",
            THREADS[0],
            THREADS[0],
            first.events.get(i).map_or("(none)", String::as_str),
            run.events.get(i).map_or("(none)", String::as_str),
        )
        .into());
    }
    if first.tickets != run.tickets {
        return Err(format!(
            "final tickets differ between {} and {threads} threads:\n{}",
            THREADS[0],
            line_diff(&first.tickets, &run.tickets)
        )
        .into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The simulation loop (as `rallypoint simulate` runs it)

/// What one simulation produced.
struct Run {
    /// Every event as `rallypoint simulate` prints it (one envelope per line).
    events: Vec<String>,
    /// The final tickets, as `--tickets-out` writes them.
    tickets: String,
    /// The compact log compared with `.expected`.
    log: String,
    /// Tickets that ended up in a match.
    matched: usize,
    /// Most tickets waiting in the pool at the start of a cycle.
    peak_waiting: usize,
}

/// Runs `scenario` like `rallypoint simulate --threads <threads> --seed 0`: at each cycle
/// time `k × cycleSeconds` (k = 0 ..= ⌊until / cycleSeconds⌋), every request with
/// `at <= tick time` not yet sent is sent with its own time, then the matchmaker ticks.
fn simulate(scenario: &Scenario, rule_set: &RuleSet, threads: usize) -> Result<Run, String> {
    let mut options = MatchmakerOptions::new(SEED);
    options.threads = threads;
    options.retention_seconds = None;
    // Scenarios with plugin rules use the example plugins, built from rules-plugins/.
    if rule_set.rules.iter().any(|r| matches!(r.kind, ruleset::RuleKind::Plugin(_))) {
        options.plugins.dirs.push(rallypoint_tests::plugin_dir());
    }
    let envelope = rallypoint::events::EnvelopeContext::for_configuration(&scenario.configuration);
    let compiled = ruleset::compile(rule_set);
    let team_names: Vec<String> = compiled.teams().iter().map(|t| t.name.clone()).collect();
    let mut log = Log { start: scenario.start_time, team_names, matches: HashMap::new(), text: String::new() };
    let mut out = Vec::new();
    let mut peak_waiting = 0;
    let mm = scenario
        .simulate(rule_set, options, |step| match step {
            SimulationStep::Request { at, outcome: Ok(Some(ticket)), .. } => log.accepted(at, ticket),
            SimulationStep::Request { outcome: Ok(None), .. } => {}
            SimulationStep::Request { index, at, outcome: Err(err) } => {
                log.rejected(at, index, err.error_type(), err.message())
            }
            SimulationStep::Cycle { waiting, .. } => peak_waiting = peak_waiting.max(waiting),
            SimulationStep::Event(event) => {
                out.push(event.to_json(&envelope));
                log.event(event);
            }
        })
        .map_err(|e| format!("configuration '{}': {}: {}", scenario.configuration.name, e.error_type(), e.message()))?;
    let tickets = mm.all_tickets();
    let tickets_json = serde_json::to_string_pretty(&tickets).map_err(|e| e.to_string())? + "\n";
    // The log lists tickets in the order the scenario starts them (`all_tickets` sorts ids
    // as strings, which puts t10 before t2).
    let position: HashMap<&str, usize> = scenario
        .requests
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match &r.request {
            Request::StartMatchmaking(s) => s.ticket_id.as_deref().map(|id| (id, i)),
            Request::StopMatchmaking(_) => None,
        })
        .collect();
    let mut in_order: Vec<&MatchmakingTicket> = tickets.iter().collect();
    in_order.sort_by_key(|t| (t.start_time, position.get(t.ticket_id.as_str()).copied()));
    log.final_section(&in_order);
    let matched = tickets.iter().filter(|t| t.status.as_str() == "COMPLETED").count();
    Ok(Run { events: out, tickets: tickets_json, log: log.text, matched, peak_waiting })
}

// ---------------------------------------------------------------------------------------
// The compact log

struct Log {
    start: Time,
    /// Concrete team names in rule-set order.
    team_names: Vec<String>,
    /// Match id → its number, in order of appearance.
    matches: HashMap<String, usize>,
    text: String,
}

impl Log {
    /// Seconds since the scenario's start, without a fraction when whole.
    fn secs(&self, t: Time) -> String {
        let ms = t.0.saturating_sub(self.start.0);
        if ms.is_multiple_of(1000) { format!("{}", ms / 1000) } else { format!("{}", ms as f64 / 1000.0) }
    }

    fn rejected(&mut self, now: Time, index: usize, error_type: &str, message: &str) {
        let t = self.secs(now);
        writeln!(self.text, "t={t} requests[{index}] rejected: {error_type}: {message}").unwrap();
    }

    /// A started ticket that already carries a status message (one that can never match).
    fn accepted(&mut self, now: Time, ticket: &MatchmakingTicket) {
        if let Some(message) = &ticket.status_message {
            let t = self.secs(now);
            writeln!(
                self.text,
                "t={t} {} accepted as {}: message={message:?}",
                ticket.ticket_id,
                ticket.status.as_str()
            )
            .unwrap();
        }
    }

    fn event(&mut self, event: &Event) {
        let t = self.secs(event.time);
        let kind = event.type_name();
        let what = match &event.detail {
            EventDetail::PotentialMatchCreated { match_id, .. }
            | EventDetail::MatchmakingSucceeded { match_id, .. } => self.describe_match(match_id, event),
            _ => {
                let mut ids = event.ticket_ids().collect::<Vec<_>>().join(" ");
                if let Some(m) = event.match_id() {
                    let n = self.match_number(m);
                    write!(ids, " (match#{n})").unwrap();
                }
                ids
            }
        };
        writeln!(self.text, "t={t} {kind} {what}").unwrap();
    }

    fn match_number(&mut self, match_id: &str) -> usize {
        let next = self.matches.len() + 1;
        *self.matches.entry(match_id.to_owned()).or_insert(next)
    }

    /// `match#1 red[t0 t1] blue[t2 t3]`: teams in rule-set order, tickets in event order.
    fn describe_match(&mut self, match_id: &str, event: &Event) -> String {
        let n = self.match_number(match_id);
        let mut s = format!("match#{n}");
        let team_of = |t: &rallypoint::events::EventTicket| t.players.first().and_then(|p| p.team);
        for team in &self.team_names {
            let ids: Vec<&str> = event
                .tickets()
                .iter()
                .filter(|t| team_of(t).is_some_and(|name| &*name == team.as_str()))
                .map(|t| &*t.ticket_id)
                .collect();
            write!(s, " {team}[{}]", ids.join(" ")).unwrap();
        }
        // A ticket whose players are split over teams, or on no team, would break FlexMatch's
        // party rule: show it rather than hide it.
        for t in event.tickets() {
            let teams: Vec<Option<&str>> = t.players.iter().map(|p| p.team.as_deref()).collect();
            if teams.windows(2).any(|w| w[0] != w[1]) || teams.first().is_some_and(Option::is_none) {
                write!(s, " SPLIT-OR-UNASSIGNED({}: {teams:?})", t.ticket_id).unwrap();
            }
        }
        s
    }

    fn final_section(&mut self, tickets: &[&MatchmakingTicket]) {
        self.text.push_str("final:\n");
        for t in tickets {
            let mut line = format!("  {} {}", t.ticket_id, t.status.as_str());
            if let Some(end) = t.end_time {
                write!(line, " end={}", self.secs(end)).unwrap();
            }
            if let Some(reason) = &t.status_reason {
                write!(line, " reason={reason:?}").unwrap();
            }
            if let Some(message) = &t.status_message {
                write!(line, " message={message:?}").unwrap();
            }
            let players: Vec<String> = t
                .players
                .iter()
                .map(|p| match &p.team {
                    Some(team) => format!("{}:{team}", p.player_id),
                    None => p.player_id.clone(),
                })
                .collect();
            write!(line, " players=[{}]", players.join(" ")).unwrap();
            self.text.push_str(&line);
            self.text.push('\n');
        }
    }
}

// ---------------------------------------------------------------------------------------
// determinism/large

/// Tickets in the large run; the first `LARGE_AT_ZERO` arrive at once so that one shard holds
/// more than a segment, the rest arrive evenly over `LARGE_ARRIVAL_SECONDS`.
const LARGE_TICKETS: usize = 16_000;
const LARGE_AT_ZERO: usize = 10_000;
const LARGE_ARRIVAL_SECONDS: f64 = 60.0;

/// 16,000 tickets (parties of 1–5 with latencies, two game modes) for the
/// `bench-data/profiles/5v5-party.json` rule set: the events must be identical with 1, 2
/// and 8 threads, and the pool must have been large enough to be searched in several
/// segments, several segments' worth of tickets matched.
fn large_determinism() -> Result<(), Failed> {
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench-data/profiles/5v5-party.json");
    let rule_set_text =
        std::fs::read_to_string(&profile).map_err(|e| format!("cannot read {}: {e}", profile.display()))?;
    let text = format!(
        r#"{{"configuration": {{"Name": "squad-5v5", "RuleSetBody": {rule_set_text}, "RequestTimeoutSeconds": 120,
             "AcceptanceRequired": false, "FlexMatchMode": "STANDALONE"}},
           "cycleSeconds": 1, "requests": [], "until": 90}}"#
    );
    let checked = scenario::check(&text);
    let Some(mut scenario) = checked.value else {
        return Err(rallypoint::diagnostic::render("large", &text, &checked.diagnostics).into());
    };
    let ScenarioRuleSet::Parsed(rule_set) = scenario.rule_set.clone() else { unreachable!("inline rule set") };

    let spec = rallypoint_bench_data::workload::TicketSpec::five_v_five("squad-5v5");
    let requests = rallypoint_bench_data::workload::tickets(&spec, LARGE_TICKETS, 7);
    let later = (LARGE_TICKETS - LARGE_AT_ZERO) as f64;
    for (i, mut request) in requests.into_iter().enumerate() {
        // Every third ticket plays the other mode: a second shard.
        if i % 3 == 2 {
            for p in &mut request.players {
                p.attributes.push(("mode".to_owned(), AttributeValue::S("rush".to_owned())));
            }
        }
        let at = if i < LARGE_AT_ZERO {
            0.0
        } else {
            ((i - LARGE_AT_ZERO) as f64 * LARGE_ARRIVAL_SECONDS / later * 1000.0).round() / 1000.0
        };
        scenario.requests.push(TimedRequest { at, request: Request::StartMatchmaking(request), span: Span::new(0, 0) });
    }

    let runs = THREADS.map(|threads| simulate(&scenario, &rule_set, threads));
    let first = runs[0].as_ref().map_err(Clone::clone)?;
    for (run, threads) in runs.iter().zip(THREADS).skip(1) {
        same_output(first, run.as_ref().map_err(Clone::clone)?, threads)?;
    }
    if first.peak_waiting <= 2 * SEGMENT {
        return Err(format!("the pool peaked at {} tickets: too few for several segments", first.peak_waiting).into());
    }
    if first.matched < 3 * SEGMENT {
        return Err(format!("only {} tickets matched; expected several segments' worth", first.matched).into());
    }
    Ok(())
}
