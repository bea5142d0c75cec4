//! Plugin rules end to end, with the example plugins built from `rules-plugins/` (see
//! [`rallypoint_tests::plugin_dir`]).
//!
//! * A plugin rule makes exactly the matches the same rule written natively makes.
//! * The role-queue plugin forms teams whose players can cover the required roles.
//! * Misbehaving plugins (an infinite loop, a memory hog, a panic, bad output) are
//!   contained: the engine keeps matching, every ticket ends in exactly one terminal
//!   status with its event, `onError` decides, and the failure is visible and named.
//! * A plugin that imports anything is refused when its configuration is added.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rallypoint::api::{AttributeValue, Player, StartMatchmakingRequest};
use rallypoint::config::{self, MatchmakingConfiguration};
use rallypoint::events::Event;
use rallypoint::matchmaker::{Matchmaker, MatchmakerOptions, PluginModules};
use rallypoint::ruleset::{self, RuleSet};
use rallypoint::time::Time;
use rallypoint_bench_data::drive::{EPOCH, run_simulated};
use rallypoint_bench_data::generate::{WorkloadItem, WorkloadSpec, generate};
use rallypoint_bench_data::profiles::Profile;
use rallypoint_tests::plugin_dir;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root").to_path_buf()
}

fn rule_set(text: &str) -> RuleSet {
    let checked = ruleset::check(text);
    checked.value.unwrap_or_else(|| panic!("invalid rule set: {:?}", checked.diagnostics))
}

fn configuration(name: &str, timeout: u32) -> MatchmakingConfiguration {
    let text = format!(
        r#"{{"Name": "{name}", "RuleSetName": "{name}", "RequestTimeoutSeconds": {timeout}, "AcceptanceRequired": false}}"#
    );
    config::check(&text).value.expect("valid configuration")
}

fn options(threads: usize) -> MatchmakerOptions {
    let mut options = MatchmakerOptions::new(7);
    options.threads = threads;
    options.retention_seconds = None;
    options.plugins = PluginModules { dirs: vec![plugin_dir()], ..PluginModules::default() };
    options
}

/// A match as `t=<s> team[ticket ticket] team[…]`, without generated ids.
fn describe_match(e: &Event) -> String {
    let mut teams: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in e.tickets() {
        let team = t.players.first().and_then(|p| p.team.as_deref()).unwrap_or("-");
        teams.entry(team).or_default().push(&t.ticket_id);
    }
    let mut out = format!("t={}", (e.time.0 - EPOCH.0) / 1000);
    for (team, mut tickets) in teams {
        tickets.sort_unstable();
        out += &format!(" {team}[{}]", tickets.join(" "));
    }
    out
}

/// Runs the 5v5 workload against `rule_set_file` and returns its matches.
fn matches_of(rule_set_file: &str, items: &[WorkloadItem], threads: usize) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(rule_set_file)).expect("profile file");
    let (mut mm, events) = Matchmaker::new(options(threads));
    mm.add_configuration(configuration(Profile::FiveVFive.name(), 90), &rule_set(&text))
        .expect("configuration accepted");
    run_simulated(&mut mm, items.iter().cloned(), 1.0, 150.0);
    let status = mm.plugin_status();
    assert!(status.iter().all(|s| s.health.failures == 0), "a well-behaved plugin failed: {status:?}");
    drop(mm);
    events.into_iter().filter(|e| e.type_name() == "PotentialMatchCreated").map(|e| describe_match(&e)).collect()
}

#[test]
fn plugin_rule_makes_the_same_matches_as_the_native_rule() {
    // `bench-data/profiles/5v5-odds-{native,plugin}.json` differ in one rule: the native
    // `max(avg(team skill)) - min(avg(team skill)) <= 99.88 (199.88 after 20 s)` and the
    // win_probability plugin with the equivalent expected-score bound (0.6399, 0.7596).
    let items: Vec<WorkloadItem> = generate(&WorkloadSpec::new(Profile::FiveVFive, 60.0, 40.0, 11)).collect();
    let native = matches_of("bench-data/profiles/5v5-odds-native.json", &items, 2);
    assert!(native.len() > 100, "the workload should form many matches, formed {}", native.len());
    let plugin = matches_of("bench-data/profiles/5v5-odds-plugin.json", &items, 2);
    for (i, (p, n)) in plugin.iter().zip(&native).enumerate() {
        assert_eq!(p, n, "match {i} differs");
    }
    assert_eq!(plugin.len(), native.len(), "plugin and native rules formed different numbers of matches");
    // The rule decides: without it the same workload forms other matches.
    let unconstrained = matches_of("bench-data/profiles/5v5-party.json", &items, 2);
    assert_ne!(unconstrained, native, "the odds rule changed nothing; the comparison would prove nothing");
    // And the plugin's own results do not depend on the worker count.
    assert_eq!(matches_of("bench-data/profiles/5v5-odds-plugin.json", &items, 1), plugin);
}

/// A deterministic stream of numbers in [0, 1) (tests need no statistical quality).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn solo(config: &str, id: String, attributes: Vec<(&str, AttributeValue)>) -> StartMatchmakingRequest {
    StartMatchmakingRequest {
        ticket_id: Some(id.clone()),
        configuration_name: config.to_owned(),
        players: vec![Player {
            player_id: format!("p-{id}"),
            attributes: attributes.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            team: None,
            latency_in_ms: Vec::new(),
        }],
    }
}

fn at(seconds: f64) -> Time {
    EPOCH.plus_secs(seconds)
}

/// Whether players with these role lists can fill one of each `needed` role.
fn covers(lists: &[&Vec<String>], needed: &[&str]) -> bool {
    fn go(lists: &[&Vec<String>], needed: &[&str], used: &mut Vec<bool>) -> bool {
        let Some((first, rest)) = lists.split_first() else { return true };
        for (i, role) in needed.iter().enumerate() {
            if !used[i] && first.iter().any(|r| r == role) {
                used[i] = true;
                if go(rest, needed, used) {
                    return true;
                }
                used[i] = false;
            }
        }
        false
    }
    lists.len() <= needed.len() && go(lists, needed, &mut vec![false; needed.len()])
}

const ROLE_QUEUE: &str = r#"{
  "name": "trios",
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [
    { "name": "skill", "type": "number", "default": 1500 },
    { "name": "roles", "type": "string_list", "default": ["dps"] }
  ],
  "teams": [
    { "name": "sun", "minPlayers": 3, "maxPlayers": 3 },
    { "name": "moon", "minPlayers": 3, "maxPlayers": 3 }
  ],
  "rules": [
    { "name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 400 }
    ROLE_RULE
  ]
}"#;

/// A match as `(team, the role list of each of its players)`.
type RoleMatch = Vec<(String, Vec<Vec<String>>)>;

/// Runs 300 solo tickets with role lists through the trios rule set, with or without the
/// role-queue rule; returns the matches as `(team, [roles per player])` and the tickets.
fn role_queue_run(with_rule: bool) -> (Vec<RoleMatch>, Vec<rallypoint::api::MatchmakingTicket>) {
    let rule = if with_rule {
        r#", { "name": "Roles", "type": "plugin", "plugin": "role_queue", "attributes": ["roles"],
            "parameters": { "tank": 1, "healer": 1, "dps": 1 } }"#
    } else {
        ""
    };
    let text = ROLE_QUEUE.replace("ROLE_RULE", rule);
    let (mut mm, mut events) = Matchmaker::new(options(2));
    mm.add_configuration(configuration("trios", 60), &rule_set(&text)).expect("configuration accepted");
    let mut rng = Lcg(3);
    let mut roles_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..300 {
        let roll = rng.next();
        let roles: Vec<&str> = match roll {
            r if r < 0.30 => vec!["dps"],
            r if r < 0.50 => vec!["tank"],
            r if r < 0.70 => vec!["healer"],
            r if r < 0.80 => vec!["healer", "dps"],
            r if r < 0.95 => vec!["tank", "dps"],
            // Not a role this queue has: the plugin's filter keeps these out.
            _ => vec!["spectator"],
        };
        let id = format!("t{i:03}");
        roles_of.insert(id.clone(), roles.iter().map(|r| (*r).to_owned()).collect());
        let skill = 1200.0 + 600.0 * rng.next();
        let request = solo(
            "trios",
            id,
            vec![
                ("skill", AttributeValue::N(skill)),
                ("roles", AttributeValue::SL(roles.iter().map(|r| (*r).to_owned()).collect())),
            ],
        );
        mm.start_matchmaking(at(f64::from(i) * 0.1), request).expect("accepted");
        if i % 10 == 9 {
            mm.tick(at(f64::from(i) * 0.1));
        }
    }
    for k in 30..100 {
        mm.tick(at(f64::from(k)));
    }
    let tickets = mm.all_tickets();
    drop(mm);
    let matches = events
        .iter()
        .filter(|e| e.type_name() == "PotentialMatchCreated")
        .map(|e| {
            let mut teams: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
            for t in e.tickets() {
                let team = t.players[0].team.as_deref().unwrap_or("-").to_owned();
                teams.entry(team).or_default().push(roles_of[&*t.ticket_id].clone());
            }
            teams.into_iter().collect()
        })
        .collect();
    (matches, tickets)
}

#[test]
fn role_queue_plugin_forms_teams_that_cover_every_role() {
    let needed = ["tank", "healer", "dps"];
    let (matches, tickets) = role_queue_run(true);
    let matched = tickets.iter().filter(|t| t.status.as_str() == "COMPLETED").count();
    assert!(matched >= 150, "only {matched} of 300 tickets matched");
    for m in &matches {
        for (team, lists) in m {
            let lists: Vec<&Vec<String>> = lists.iter().collect();
            assert!(covers(&lists, &needed), "team {team} of {m:?} cannot cover tank, healer and dps");
        }
    }
    // The filter kept every spectator out; they waited and timed out.
    for t in tickets
        .iter()
        .filter(|t| matches!(t.players[0].attribute("roles"), Some(AttributeValue::SL(r)) if r == &["spectator"]))
    {
        assert_eq!(t.status.as_str(), "TIMED_OUT", "{} should never have matched", t.ticket_id);
    }
    // Without the rule, the same players form teams that miss roles.
    let (unconstrained, _) = role_queue_run(false);
    let broken =
        unconstrained.iter().flatten().filter(|(_, lists)| !covers(&lists.iter().collect::<Vec<_>>(), &needed)).count();
    assert!(broken > 10, "without the rule only {broken} teams missed a role; the test would prove nothing");
}

const DUEL: &str = r#"{
  "name": "duel",
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [{ "name": "skill", "type": "number", "default": 1500 }],
  "teams": [
    { "name": "left", "minPlayers": 1, "maxPlayers": 1 },
    { "name": "right", "minPlayers": 1, "maxPlayers": 1 }
  ],
  "rules": [
    { "name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 200 }
    PLUGIN_RULE
  ]
}"#;

fn duel(plugin: Option<(&str, &str)>) -> RuleSet {
    let rule = match plugin {
        Some((name, on_error)) => format!(
            r#", {{ "name": "Bad", "type": "plugin", "plugin": "{name}", "attributes": ["skill"], "onError": "{on_error}" }}"#
        ),
        None => String::new(),
    };
    rule_set(&DUEL.replace("PLUGIN_RULE", &rule))
}

/// Every ticket ends in exactly one terminal status, announced by exactly one event.
fn assert_one_terminal_event_each(events: &[Event], tickets: &[rallypoint::api::MatchmakingTicket]) {
    let terminal = ["MatchmakingSucceeded", "MatchmakingTimedOut", "MatchmakingCancelled", "MatchmakingFailed"];
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events.iter().filter(|e| terminal.contains(&e.type_name())) {
        for id in e.ticket_ids() {
            *seen.entry(id).or_default() += 1;
        }
    }
    for t in tickets {
        assert!(
            ["COMPLETED", "TIMED_OUT", "CANCELLED", "FAILED"].contains(&t.status.as_str()),
            "{} ended {}",
            t.ticket_id,
            t.status.as_str()
        );
        assert_eq!(seen.get(t.ticket_id.as_str()), Some(&1), "{}: terminal events", t.ticket_id);
    }
}

/// Runs 40 duel tickets per configuration — the plugin failing closed, failing open, and
/// no plugin — in one matchmaker; checks containment and returns the plugin's health of
/// the fail-closed rule.
fn contain(plugin: &str) -> rallypoint::matchmaker::PluginStatus {
    let (mut mm, events) = Matchmaker::new(options(2));
    mm.add_configuration(configuration("reject", 20), &duel(Some((plugin, "reject")))).expect("loads");
    mm.add_configuration(configuration("skip", 20), &duel(Some((plugin, "skip")))).expect("loads");
    mm.add_configuration(configuration("native", 20), &duel(None)).expect("loads");
    let mut rng = Lcg(5);
    let mut slowest = Duration::ZERO;
    for k in 0..40 {
        let skill = 1400.0 + 200.0 * rng.next();
        for config in ["reject", "skip", "native"] {
            let request = solo(config, format!("{config}-{k}"), vec![("skill", AttributeValue::N(skill))]);
            mm.start_matchmaking(at(f64::from(k) * 0.25), request).expect("accepted");
        }
        if k % 4 == 3 {
            let started = Instant::now();
            mm.tick(at(f64::from(k) * 0.25));
            slowest = slowest.max(started.elapsed());
        }
    }
    for k in 10..40 {
        let started = Instant::now();
        mm.tick(at(f64::from(k)));
        slowest = slowest.max(started.elapsed());
    }
    // Generous: a hung worker would take forever; an infinite loop costs a few ms per call.
    assert!(slowest < Duration::from_secs(2), "{plugin}: a cycle took {slowest:?}");
    let tickets = mm.all_tickets();
    let status = mm.plugin_status();
    drop(mm);
    let events: Vec<Event> = events.into_iter().collect();
    assert_one_terminal_event_each(&events, &tickets);
    let completed = |config: &str| {
        tickets.iter().filter(|t| t.configuration_name == config && t.status.as_str() == "COMPLETED").count()
    };
    assert!(completed("native") >= 36, "{plugin}: the engine stopped matching ({} of 40)", completed("native"));
    assert_eq!(completed("reject"), 0, "{plugin}: fail-closed rule let matches through");
    assert_eq!(completed("skip"), completed("native"), "{plugin}: fail-open rule should match like no rule");
    let reject = status.iter().find(|s| s.configuration == "reject").expect("status of the reject rule").clone();
    assert!(reject.health.failures > 0, "{plugin}: no failure recorded: {reject:?}");
    let message = reject.health.last_error.clone().unwrap_or_default();
    assert!(message.contains(plugin), "{plugin}: the error does not name the plugin: {message}");
    reject
}

#[test]
fn infinite_loop_is_cut_off_and_contained() {
    let s = contain("misbehaving_infinite_loop");
    assert!(s.health.timeouts > 0, "{s:?}");
    assert!(s.health.breaker_trips > 0, "a plugin that times out is taken out of the search: {s:?}");
}

#[test]
fn memory_hog_is_contained() {
    let s = contain("misbehaving_memory_hog");
    assert!(s.health.memory_refusals + s.health.traps > 0, "{s:?}");
}

#[test]
fn panicking_plugin_is_contained() {
    let s = contain("misbehaving_panic");
    assert!(s.health.traps > 0, "{s:?}");
}

#[test]
fn bad_output_is_contained() {
    let s = contain("misbehaving_bad_output");
    assert!(s.health.invalid_outputs > 0, "{s:?}");
}

#[test]
fn plugin_with_an_import_is_refused_at_load() {
    let (mut mm, _events) = Matchmaker::new(options(1));
    let err = mm
        .add_configuration(configuration("imports", 20), &duel(Some(("misbehaving_forbidden_import", "reject"))))
        .expect_err("a plugin that imports is refused");
    let message = err.to_string();
    assert!(message.contains("misbehaving_forbidden_import") && message.contains("import"), "{message}");
}

#[test]
fn missing_plugin_is_reported_with_where_it_was_looked_for() {
    let (mut mm, _events) = Matchmaker::new(options(1));
    let err = mm
        .add_configuration(configuration("missing", 20), &duel(Some(("no_such_plugin", "reject"))))
        .expect_err("refused");
    let message = err.to_string();
    assert!(message.contains("no_such_plugin") && message.contains("not found"), "{message}");
}
