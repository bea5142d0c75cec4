//! Scenario files: the input of `rallypoint simulate`.
//!
//! A scenario is one matchmaking configuration (with its rule set embedded or named by path),
//! a cycle length, and a time-ordered list of API requests:
//!
//! ```json
//! { "configuration": { "Name": "ranked", "RuleSetBody": { … }, "RequestTimeoutSeconds": 120,
//!                      "AcceptanceRequired": false },
//!   "cycleSeconds": 1.0,
//!   "startTime": "2026-01-01T00:00:00Z",
//!   "requests": [
//!     { "at": 0.0, "StartMatchmaking": { "TicketId": "t1", "ConfigurationName": "ranked",
//!                                        "Players": [ { "PlayerId": "p1" } ] } },
//!     { "at": 3.5, "StopMatchmaking": { "TicketId": "t1" } } ],
//!   "until": 300.0 }
//! ```
//!
//! [`check`] reports every problem at once, each naming its JSON path
//! (`requests[3].StartMatchmaking.Players[0].PlayerId`) and position. Rule-set problems of
//! an inline `RuleSetBody` point into the scenario; those of a string `RuleSetBody` point at
//! the string, prefixed with `in RuleSetBody: `.
//!
//! Decisions:
//!
//! * `at` is seconds after `startTime` (default [`DEFAULT_START_TIME`]); requests must be in
//!   non-decreasing `at` order. A request after `until` is a warning (it is never sent).
//! * `ConfigurationName` must be the configuration's `Name` or its ARN; an ARN is replaced by
//!   the name.
//! * Two `StartMatchmaking` requests with the same `TicketId` are an error; a
//!   `StopMatchmaking` for a ticket no earlier request started is a warning (GameLift would
//!   answer `NotFoundException`).
//! * `AcceptMatch`, `StartMatchBackfill` and `DescribeMatchmaking` requests are rejected:
//!   the first two are not implemented yet, and ticket states are written by `--tickets-out`.
//! * A configuration that only names its rule set (`RuleSetName`) is an error: a scenario
//!   must carry the rule set (`RuleSetBody`) or point at its file (`RuleSetPath`).

use std::collections::HashMap;

use crate::Checked;
use crate::api::{self, ApiError, MatchmakingTicket, StartMatchmakingRequest, StopMatchmakingRequest};
use crate::config::{self, MatchmakingConfiguration, RuleSetSource};
use crate::diagnostic::{Diagnostic, Sink};
use crate::events::Event;
use crate::json::{self, Kind, Value};
use crate::matchmaker::{Matchmaker, MatchmakerOptions};
use crate::ruleset::{self, RuleSet};
use crate::source::Span;
use crate::time::Time;

/// `startTime` when the scenario gives none: 2026-01-01T00:00:00Z.
pub const DEFAULT_START_TIME: Time = Time(1_767_225_600_000);
/// `cycleSeconds` when the scenario gives none.
pub const DEFAULT_CYCLE_SECONDS: f64 = 1.0;

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The matchmaking configuration every request uses.
    pub configuration: MatchmakingConfiguration,
    /// Its rule set, validated, or the file to read it from.
    pub rule_set: ScenarioRuleSet,
    /// Seconds between matchmaking cycles (> 0).
    pub cycle_seconds: f64,
    /// The requests, in non-decreasing `at` order.
    pub requests: Vec<TimedRequest>,
    /// Seconds after `start_time` at which the simulation stops (> 0).
    pub until: f64,
    /// The instant `at = 0` stands for.
    pub start_time: Time,
}

impl Scenario {
    /// The instant `at` seconds into the scenario.
    pub fn time_of(&self, at: f64) -> Time {
        self.start_time.plus_secs(at)
    }

    /// The instant the simulation stops.
    pub fn end_time(&self) -> Time {
        self.time_of(self.until)
    }

    /// Runs the scenario in simulated time with `rule_set` (the scenario's own, or the one
    /// its `RuleSetPath` names), reporting every step to `observe`, and returns the
    /// matchmaker for a final look at its tickets.
    ///
    /// Cycles run at `k × cycleSeconds` for every `k` up to `until`; before each cycle, the
    /// requests with `at` at or before it are applied at their own time, in order. A
    /// request the API rejects is reported and the run goes on. This is exactly what
    /// `rallypoint simulate` does, so the same scenario gives the same events everywhere.
    ///
    /// # Errors
    /// The configuration is refused (a capability this version does not have yet).
    pub fn simulate(
        &self,
        rule_set: &RuleSet,
        options: MatchmakerOptions,
        mut observe: impl FnMut(SimulationStep<'_>),
    ) -> Result<Matchmaker, ApiError> {
        let (mut mm, mut events) = Matchmaker::new(options);
        mm.add_configuration(self.configuration.clone(), rule_set)?;
        let mut next = 0;
        let cycles = (self.until / self.cycle_seconds).floor() as u64;
        for k in 0..=cycles {
            let tick_at = k as f64 * self.cycle_seconds;
            while let Some(timed) = self.requests.get(next).filter(|r| r.at <= tick_at) {
                let now = self.time_of(timed.at);
                let outcome = match &timed.request {
                    Request::StartMatchmaking(req) => mm.start_matchmaking(now, req.clone()).map(Some),
                    Request::StopMatchmaking(req) => mm.stop_matchmaking(now, &req.ticket_id).map(|()| None),
                };
                observe(SimulationStep::Request {
                    index: next,
                    at: now,
                    outcome: outcome.as_ref().map(Option::as_ref),
                });
                next += 1;
            }
            let now = self.time_of(tick_at);
            observe(SimulationStep::Cycle { at: now, waiting: mm.waiting() });
            mm.tick(now);
            for event in events.try_iter() {
                observe(SimulationStep::Event(&event));
            }
        }
        Ok(mm)
    }
}

/// One step of [`Scenario::simulate`].
#[derive(Debug)]
pub enum SimulationStep<'a> {
    /// Request `index` was applied at `at`: the ticket it created (StartMatchmaking), or
    /// nothing (StopMatchmaking), or the API's refusal.
    Request {
        /// Index in `Scenario::requests`.
        index: usize,
        /// When it was applied.
        at: Time,
        /// What the API answered.
        outcome: Result<Option<&'a MatchmakingTicket>, &'a ApiError>,
    },
    /// A cycle is about to run at `at`, with `waiting` tickets in the pool.
    Cycle {
        /// The cycle's time.
        at: Time,
        /// Tickets waiting before it.
        waiting: usize,
    },
    /// The cycle emitted this event (events come in emission order).
    Event(&'a Event),
}

/// A scenario's rule set.
#[derive(Debug, Clone)]
pub enum ScenarioRuleSet {
    /// `RuleSetBody`, validated (with the configuration).
    Parsed(RuleSet),
    /// `RuleSetPath`: the caller reads and validates the file.
    Path {
        /// The path as written (relative paths are the caller's business).
        path: String,
        /// The `RuleSetPath` string in the scenario, for diagnostics about the file.
        span: Span,
    },
}

/// One request and when it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedRequest {
    /// Seconds after the scenario's start.
    pub at: f64,
    /// The request.
    pub request: Request,
    /// The request object in the scenario.
    pub span: Span,
}

/// The requests a scenario can send.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `StartMatchmaking`.
    StartMatchmaking(StartMatchmakingRequest),
    /// `StopMatchmaking`.
    StopMatchmaking(StopMatchmakingRequest),
}

const TOP_FIELDS: &[&str] = &["configuration", "cycleSeconds", "requests", "until", "startTime"];
const SUPPORTED_KINDS: &[&str] = &["StartMatchmaking", "StopMatchmaking"];
const UNSUPPORTED_KINDS: &[&str] = &["AcceptMatch", "StartMatchBackfill", "DescribeMatchmaking"];
const REQUEST_EXAMPLE: &str = r#"{"at": 0, "StartMatchmaking": {"ConfigurationName": "…", "Players": [ … ]}}"#;
const RULE_SET_BODY_PATH: &str = "configuration.RuleSetBody";

/// Parses and validates a scenario document.
///
/// The value is `Some` only when there are no errors; warnings may accompany it. A
/// [`ScenarioRuleSet::Path`] rule set is still to be read and validated by the caller.
pub fn check(text: &str) -> Checked<Scenario> {
    let mut sink = Sink::new(text);
    let scenario = match json::parse(text) {
        Ok(value) => document(&value, text, &mut sink),
        Err(e) => {
            sink.error_help("json-syntax", "", e.span, e.message, e.help);
            None
        }
    };
    let value = if sink.has_errors() { None } else { scenario };
    Checked { value, diagnostics: sink.finish() }
}

fn document(value: &Value, text: &str, sink: &mut Sink<'_>) -> Option<Scenario> {
    let example = r#"{"configuration": { … }, "requests": [ … ], "until": 300}"#;
    let members = api::object(value, "", "a scenario", example, sink)?;
    let (slots, suggested) = api::fields(members, "", TOP_FIELDS, "scenario", sink);
    let [configuration_m, cycle_m, requests_m, until_m, start_m] = slots[..] else {
        unreachable!("one slot per field")
    };

    let (configuration, rule_set) = match configuration_m {
        Some(m) => configuration(&m.value, text, sink),
        None => api::missing(
            value,
            "",
            "configuration",
            &suggested,
            "add the matchmaking configuration: \"configuration\": {\"Name\": …, \"RuleSetBody\": …, …}",
            sink,
        )
        .unzip(),
    };
    let cycle_seconds = match api::present(cycle_m) {
        Some(m) => positive_seconds(&m.value, "cycleSeconds", sink),
        None => Some(DEFAULT_CYCLE_SECONDS),
    };
    let until = match until_m {
        Some(m) => positive_seconds(&m.value, "until", sink),
        None => api::missing(
            value,
            "",
            "until",
            &suggested,
            "add \"until\": the number of seconds to simulate, e.g. \"until\": 300",
            sink,
        ),
    };
    let start_time = match api::present(start_m) {
        Some(m) => start_time(&m.value, sink),
        None => Some(DEFAULT_START_TIME),
    };
    let requests = match requests_m {
        Some(m) => requests(&m.value, configuration.as_ref().map(|c| c.name.as_str()), until, sink),
        None => {
            api::missing(value, "", "requests", &suggested, &format!("add \"requests\": [{REQUEST_EXAMPLE}]"), sink)
        }
    };
    Some(Scenario {
        configuration: configuration?,
        rule_set: rule_set?,
        cycle_seconds: cycle_seconds?,
        requests: requests?,
        until: until?,
        start_time: start_time?,
    })
}

/// The configuration and its rule set. The rule set is checked even when the rest of the
/// configuration is broken, so all problems are reported at once.
fn configuration(
    value: &Value,
    text: &str,
    sink: &mut Sink<'_>,
) -> (Option<MatchmakingConfiguration>, Option<ScenarioRuleSet>) {
    let configuration = config::check_value(value, text, "configuration", sink);
    let rule_set = match &configuration {
        Some(c) => match &c.rule_set {
            RuleSetSource::Body { text: body, span, inline, .. } => {
                let checked = if *inline {
                    // Paths relative to the rule set: `rule_set_diagnostics` prefixes them.
                    ruleset::check_with_configuration_at(text, *span, c, "")
                } else {
                    ruleset::check_with_configuration(body, Span::new(0, body.len()), c)
                };
                rule_set_diagnostics(checked.diagnostics, *inline, *span, sink);
                checked.value.map(ScenarioRuleSet::Parsed)
            }
            RuleSetSource::Path(path) => {
                let span = value.get("RuleSetPath").map_or(value.span, |v| v.span);
                Some(ScenarioRuleSet::Path { path: path.clone(), span })
            }
            RuleSetSource::Name(name) => {
                let span = value.get("RuleSetName").map_or(value.span, |v| v.span);
                sink.error_help(
                    "rule-set-not-embedded",
                    "configuration.RuleSetName",
                    span,
                    format!("a scenario cannot look up the rule set '{name}' by name"),
                    Some(
                        "embed the rule set with \"RuleSetBody\", or point at its file with \"RuleSetPath\"".to_owned(),
                    ),
                );
                None
            }
        },
        None => {
            // Still report the rule set's own problems.
            if let Some(body) = value.get("RuleSetBody") {
                match &body.kind {
                    Kind::Object(_) => {
                        let checked = ruleset::check_range(text, body.span);
                        rule_set_diagnostics(checked.diagnostics, true, body.span, sink);
                    }
                    Kind::String(s) if !s.is_empty() => {
                        let checked = ruleset::check(s);
                        rule_set_diagnostics(checked.diagnostics, false, body.span, sink);
                    }
                    _ => {}
                }
            }
            None
        }
    };
    (configuration, rule_set)
}

/// Moves a rule set's diagnostics into the scenario's: paths are prefixed with the body's
/// path; a string body's diagnostics point at the string and say where in it they are.
fn rule_set_diagnostics(diagnostics: Vec<Diagnostic>, inline: bool, literal: Span, sink: &mut Sink<'_>) {
    for d in diagnostics {
        let path = prefixed(RULE_SET_BODY_PATH, &d.path);
        if inline {
            sink.diagnostics.push(Diagnostic { path, ..d });
        } else {
            let (line, column) = (d.location.line, d.location.column);
            let message = format!("in RuleSetBody: {} (at {line}:{column} of the rule set text)", d.message);
            sink.push(d.severity, d.code, &path, literal, message, d.help);
        }
    }
}

fn prefixed(prefix: &str, path: &str) -> String {
    if path.is_empty() {
        prefix.to_owned()
    } else if path.starts_with('[') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}.{path}")
    }
}

/// A finite number of seconds > 0.
fn positive_seconds(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<f64> {
    match &v.kind {
        Kind::Number(n) if *n > 0.0 => Some(*n),
        Kind::Number(n) => {
            sink.error(
                "out-of-range",
                path,
                v.span,
                format!("{path} must be a number of seconds greater than 0, found {}", api::number(*n)),
            );
            None
        }
        other => {
            let help = match other {
                Kind::String(s) if s.parse::<f64>().is_ok_and(f64::is_finite) => {
                    Some(format!("write {s} without quotes"))
                }
                _ => None,
            };
            sink.error_help(
                "wrong-type",
                path,
                v.span,
                format!("{path} must be a number of seconds, found {}", other.describe()),
                help,
            );
            None
        }
    }
}

fn start_time(v: &Value, sink: &mut Sink<'_>) -> Option<Time> {
    let Some(s) = v.as_str() else {
        sink.error_help(
            "wrong-type",
            "startTime",
            v.span,
            format!("startTime must be an RFC 3339 timestamp string, found {}", v.kind.describe()),
            Some("write e.g. \"startTime\": \"2026-01-01T00:00:00Z\"".to_owned()),
        );
        return None;
    };
    match Time::parse_rfc3339(s) {
        Ok(t) => Some(t),
        Err(problem) => {
            sink.error_help(
                "bad-timestamp",
                "startTime",
                v.span,
                format!("startTime \"{s}\" is not a valid timestamp: {problem}"),
                Some("write e.g. \"2026-01-01T00:00:00Z\" or \"2026-01-01T09:30:00.250+02:00\"".to_owned()),
            );
            None
        }
    }
}

/// What earlier requests established, for checks across requests.
struct Seen {
    /// The latest `at` so far and the index of its request.
    latest: Option<(f64, usize)>,
    /// `TicketId`s of `StartMatchmaking` requests → request index.
    tickets: HashMap<String, usize>,
}

fn requests(
    v: &Value,
    configuration_name: Option<&str>,
    until: Option<f64>,
    sink: &mut Sink<'_>,
) -> Option<Vec<TimedRequest>> {
    let Some(items) = v.as_array() else {
        sink.error_help(
            "wrong-type",
            "requests",
            v.span,
            format!("requests must be an array of requests, found {}", v.kind.describe()),
            Some(format!("write \"requests\": [{REQUEST_EXAMPLE}]")),
        );
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    let mut seen = Seen { latest: None, tickets: HashMap::new() };
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match request(item, i, configuration_name, until, &mut seen, sink) {
            Some(r) => out.push(r),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn request(
    v: &Value,
    index: usize,
    configuration_name: Option<&str>,
    until: Option<f64>,
    seen: &mut Seen,
    sink: &mut Sink<'_>,
) -> Option<TimedRequest> {
    let path = format!("requests[{index}]");
    let errors = api::error_count(sink);
    let members = api::object(v, &path, "a request", REQUEST_EXAMPLE, sink)?;
    let mut at_m = None;
    let mut kind_m: Option<&json::Member> = None;
    let mut unknown = false;
    let mut suggested_at = false;
    for member in members {
        let key = member.key.as_str();
        let member_path = api::join(&path, key);
        if key == "at" {
            if at_m.is_some() {
                sink.error_help(
                    "duplicate-field",
                    &member_path,
                    member.key_span,
                    "'at' is given more than once",
                    Some("delete one of them; JSON readers disagree about which one wins".to_owned()),
                );
            } else {
                at_m = Some(member);
            }
        } else if SUPPORTED_KINDS.contains(&key) || UNSUPPORTED_KINDS.contains(&key) {
            if let Some(first) = kind_m {
                sink.error_help(
                    "conflicting-fields",
                    &member_path,
                    member.key_span,
                    format!("this request is already a {}; a request has exactly one kind", first.key),
                    Some("put each request in its own object with its own \"at\"".to_owned()),
                );
            } else {
                kind_m = Some(member);
            }
        } else {
            unknown = true;
            let candidates = ["at", "StartMatchmaking", "StopMatchmaking", "DescribeMatchmaking"];
            let suggestion = api::closest(key, &candidates);
            suggested_at |= suggestion == Some("at");
            let noun = if suggestion == Some("at") { "field" } else { "kind" };
            sink.error_help(
                "unknown-field",
                &member_path,
                member.key_span,
                format!("unknown request {noun} '{key}'"),
                Some(suggestion.map_or_else(
                    || "a request has \"at\" and one of StartMatchmaking or StopMatchmaking".to_owned(),
                    api::did_you_mean,
                )),
            );
        }
    }

    let at = match at_m {
        Some(m) => at(&m.value, &api::join(&path, "at"), index, until, seen, sink),
        None if suggested_at => None,
        None => api::missing(
            v,
            &path,
            "at",
            &[],
            "add \"at\": when to send the request, in seconds from the start of the scenario",
            sink,
        ),
    };

    let Some(kind_m) = kind_m else {
        if !unknown {
            sink.error_help(
                "missing-field",
                &path,
                api::opening(v),
                format!("{path} has no request; give StartMatchmaking or StopMatchmaking"),
                Some(format!("write e.g. {REQUEST_EXAMPLE}")),
            );
        }
        return None;
    };
    let kind_path = api::join(&path, &kind_m.key);
    let body = &kind_m.value;
    let request = match kind_m.key.as_str() {
        "StartMatchmaking" => {
            let start = api::parse_start_matchmaking(body, &kind_path, sink);
            start.and_then(|r| start_request(r, body, &kind_path, index, configuration_name, seen, sink))
        }
        "StopMatchmaking" => {
            let stop = api::parse_stop_matchmaking(body, &kind_path, sink);
            if let Some(stop) = &stop
                && !seen.tickets.contains_key(&stop.ticket_id)
            {
                let span = body.get("TicketId").map_or(body.span, |t| t.span);
                sink.warning(
                    "unknown-ticket",
                    &api::join(&kind_path, "TicketId"),
                    span,
                    format!(
                        "no earlier StartMatchmaking request has TicketId '{}'; GameLift would answer NotFoundException",
                        stop.ticket_id
                    ),
                    Some("stop a ticket that an earlier request started with this TicketId".to_owned()),
                );
            }
            stop.map(Request::StopMatchmaking)
        }
        other => {
            let (message, help) = match other {
                "AcceptMatch" => (
                    "AcceptMatch requests are not supported yet (acceptance is not implemented in this version)",
                    "remove this request, and set AcceptanceRequired to false in the configuration",
                ),
                "StartMatchBackfill" => (
                    "StartMatchBackfill requests are not supported yet (backfill is not implemented in this version)",
                    "remove this request",
                ),
                _ => (
                    "DescribeMatchmaking requests are not supported in scenarios; use --tickets-out",
                    "`rallypoint simulate --tickets-out <file>` writes the tickets as DescribeMatchmaking returns them",
                ),
            };
            sink.error_help("unsupported-request", &kind_path, kind_m.key_span, message, Some(help.to_owned()));
            None
        }
    };
    if api::error_count(sink) > errors {
        return None;
    }
    Some(TimedRequest { at: at?, request: request?, span: v.span })
}

fn at(v: &Value, path: &str, index: usize, until: Option<f64>, seen: &mut Seen, sink: &mut Sink<'_>) -> Option<f64> {
    let n = match &v.kind {
        Kind::Number(n) if *n >= 0.0 => *n,
        Kind::Number(n) => {
            sink.error_help(
                "out-of-range",
                path,
                v.span,
                format!("'at' must be 0 or more seconds, found {}", api::number(*n)),
                Some("'at' counts seconds from the start of the scenario".to_owned()),
            );
            return None;
        }
        other => {
            let help = match other {
                Kind::String(s) if s.parse::<f64>().is_ok_and(f64::is_finite) => {
                    format!("write {s} without quotes")
                }
                _ => "write the number of seconds from the start of the scenario, e.g. \"at\": 2.5".to_owned(),
            };
            sink.error_help(
                "wrong-type",
                path,
                v.span,
                format!("'at' must be a number of seconds, found {}", other.describe()),
                Some(help),
            );
            return None;
        }
    };
    match seen.latest {
        Some((latest, j)) if n < latest => {
            sink.error_help(
                "out-of-order",
                path,
                v.span,
                format!(
                    "requests[{index}] is at {} s, before requests[{j}] at {} s; requests must be in time order",
                    api::number(n),
                    api::number(latest)
                ),
                Some("sort the requests by \"at\"".to_owned()),
            );
            return None;
        }
        _ => seen.latest = Some((n, index)),
    }
    if let Some(until) = until
        && n > until
    {
        sink.warning(
            "after-until",
            path,
            v.span,
            format!(
                "requests[{index}] at {} s comes after the end of the simulation (until = {} s); it is never sent",
                api::number(n),
                api::number(until)
            ),
            Some("raise \"until\" or remove the request".to_owned()),
        );
    }
    Some(n)
}

/// Checks a parsed `StartMatchmaking` against the scenario: its configuration, and ticket IDs
/// used before.
fn start_request(
    mut r: StartMatchmakingRequest,
    body: &Value,
    path: &str,
    index: usize,
    configuration_name: Option<&str>,
    seen: &mut Seen,
    sink: &mut Sink<'_>,
) -> Option<Request> {
    let mut ok = true;
    if let Some(expected) = configuration_name {
        let given = r.configuration_name.as_str();
        let arn_name = given.strip_prefix("arn:").and_then(|_| given.rsplit_once(":matchmakingconfiguration/"));
        if arn_name.is_some_and(|(_, name)| name == expected) {
            r.configuration_name = expected.to_owned();
        } else if given != expected {
            let span = body.get("ConfigurationName").map_or(body.span, |c| c.span);
            sink.error_help(
                "unknown-configuration",
                &api::join(path, "ConfigurationName"),
                span,
                format!("ConfigurationName '{given}' is not the scenario's configuration '{expected}'"),
                Some(format!("a scenario has one configuration; write \"ConfigurationName\": \"{expected}\"")),
            );
            ok = false;
        }
    }
    if let Some(id) = &r.ticket_id {
        if let Some(first) = seen.tickets.get(id) {
            let span = body.get("TicketId").map_or(body.span, |t| t.span);
            sink.error_help(
                "duplicate-ticket-id",
                &api::join(path, "TicketId"),
                span,
                format!("TicketId '{id}' is already used by requests[{first}]"),
                Some("give each ticket its own ID, or omit TicketId to have one generated".to_owned()),
            );
            ok = false;
        } else {
            seen.tickets.insert(id.clone(), index);
        }
    }
    ok.then_some(Request::StartMatchmaking(r))
}

#[cfg(test)]
mod tests;
