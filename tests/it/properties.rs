//! Engine invariants on random pools, checked by an oracle written independently of the engine.
//!
//! Four rule-set templates ([`Kind`]) each get random pools of 5–40 tickets (random party sizes,
//! attribute values from small domains, latencies over four locations, arrivals over 30 s,
//! occasional `StopMatchmaking` and duplicate players). Each pool runs through a [`Matchmaker`]
//! in simulated time (a cycle every second, `RequestTimeoutSeconds` 20) until every ticket has
//! finished, and the oracle checks:
//!
//! 1. every match satisfies every rule of the template and the team sizes, at the expansion
//!    level in force for it (the match's age by `expansionAgeSelection` at the event time);
//! 2. no ticket or player is in two matches, and matched tickets were searching when matched;
//! 3. every ticket ends in one terminal status that agrees with the events (and duplicate-player
//!    cancellations have their status reason and no event);
//! 4. per ticket, events follow the lifecycle; `PotentialMatchCreated` immediately precedes the
//!    `MatchmakingSucceeded` of the same match; event times never decrease;
//! 5. the event JSON is byte-identical with 1 and 3 worker threads;
//!
//! and, for the 1v1 template, that after every cycle no two waiting tickets could form a valid
//! match at their expansion level (the search is complete for 1v1).
//!
//! The oracle reads only the requests as sent and the events: it never calls the engine's
//! rule evaluation. `PROPTEST_CASES` overrides the default of 64 cases per template.

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use rallypoint::api::{AttributeValue, MatchmakingTicket, Player, StartMatchmakingRequest, TicketStatus};
use rallypoint::events::{Event, EventDetail, EventTicket};
use rallypoint::matchmaker::{Matchmaker, MatchmakerOptions};
use rallypoint::time::Time;
use rallypoint::{config, ruleset};

/// 2026-01-01T00:00:00Z: simulated time starts here.
const BASE_MS: u64 = 1_767_225_600_000;
const TIMEOUT_S: u64 = 20;
const CYCLE_MS: u64 = 1000;
const CONFIG_NAME: &str = "props";
const LOCATIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-south-1"];
const MAPS: [&str; 3] = ["alpha", "beta", "gamma"];
const DUPLICATE_REASON: &str = "Cancelled due to duplicate player";

// ---------------------------------------------------------------------------------------------
// Templates and their oracle descriptions
// ---------------------------------------------------------------------------------------------

/// (a) 1v1, numeric batchDistance band with an expansion.
const DUEL: &str = r#"{
  "name": "duel", "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
  "teams": [{"name": "duelist", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}],
  "rules": [{"name": "SkillBand", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 2}],
  "expansions": [{"target": "rules[SkillBand].maxDistance",
                  "steps": [{"waitTimeSeconds": 5, "value": 5}, {"waitTimeSeconds": 12, "value": 10}]}]
}"#;

/// (b) 2v2, parties of 1–2, team-average distance (party max) and equal game mode.
const PAIRS: &str = r#"{
  "name": "pairs", "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 10},
                       {"name": "mode", "type": "string", "default": "ranked"}],
  "teams": [{"name": "red", "minPlayers": 2, "maxPlayers": 2}, {"name": "blue", "minPlayers": 2, "maxPlayers": 2}],
  "rules": [
    {"name": "FairTeams", "type": "distance", "measurements": "avg(teams[*].players.attributes[skill])",
     "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))", "maxDistance": 2,
     "partyAggregation": "max"},
    {"name": "SameMode", "type": "comparison", "measurements": "flatten(teams[*].players.attributes[mode])",
     "operation": "="}],
  "expansions": [{"target": "rules[FairTeams].maxDistance", "steps": [{"waitTimeSeconds": 8, "value": 5}]}]
}"#;

/// (c) 3 teams of 1–2, a common map (intersection minCount 1) and a latency cap with an
/// expansion; oldest-ticket expansion clock.
const TRIO: &str = r#"{
  "name": "trio", "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "maps", "type": "string_list", "default": ["alpha"]}],
  "algorithm": {"expansionAgeSelection": "oldest"},
  "teams": [{"name": "squad", "minPlayers": 1, "maxPlayers": 2, "quantity": 3}],
  "rules": [
    {"name": "CommonMap", "type": "collection", "operation": "intersection",
     "measurements": "flatten(teams[*].players.attributes[maps])", "minCount": 1},
    {"name": "Ping", "type": "latency", "maxLatency": 60}],
  "expansions": [{"target": "rules[Ping].maxLatency", "steps": [{"waitTimeSeconds": 6, "value": 120}]}]
}"#;

/// (d) 2 teams of 2..3 (minPlayers 3 expanding to 2), equal counts, a skill band (party min).
const SQUADS: &str = r#"{
  "name": "squads", "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
  "teams": [{"name": "red", "minPlayers": 3, "maxPlayers": 3}, {"name": "blue", "minPlayers": 3, "maxPlayers": 3}],
  "rules": [
    {"name": "EqualTeams", "type": "comparison", "measurements": "count(teams[red].players)",
     "referenceValue": "count(teams[blue].players)", "operation": "="},
    {"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 6, "partyAggregation": "min"}],
  "expansions": [{"target": "teams[red, blue].minPlayers", "steps": [{"waitTimeSeconds": 8, "value": 2}]}]
}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Duel,
    Pairs,
    Trio,
    Squads,
}

/// A value relaxed by an expansion: `base`, then each `(waitTimeSeconds, value)` from that age.
#[derive(Debug, Clone, Copy)]
struct Sched {
    base: f64,
    steps: &'static [(u64, f64)],
}

impl Sched {
    const fn fixed(base: f64) -> Sched {
        Sched { base, steps: &[] }
    }

    fn at(&self, age_ms: u64) -> f64 {
        let mut v = self.base;
        for &(wait_s, value) in self.steps {
            if age_ms >= wait_s * 1000 {
                v = value;
            }
        }
        v
    }
}

#[derive(Debug, Clone, Copy)]
enum Agg {
    Min,
    Max,
    Avg,
}

#[derive(Debug, Clone, Copy)]
enum ListAgg {
    Union,
}

#[derive(Debug, Clone, Copy)]
enum OracleRule {
    /// batchDistance on a number: spread of the tickets' party values ≤ max.
    BatchSpread { attr: &'static str, agg: Agg, max: Sched },
    /// distance: |avg(team) − avg(all players)| ≤ max for every team.
    TeamAvgDistance { attr: &'static str, agg: Agg, max: Sched },
    /// comparison `=` without reference: every player's string value is the same.
    AllEqual { attr: &'static str },
    /// collection intersection: values common to every player's list ≥ min.
    CommonItems { attr: &'static str, agg: ListAgg, min: Sched },
    /// latency: some location where every ticket's aggregated latency ≤ max.
    Latency { agg: Agg, max: Sched },
    /// comparison `count(teams[a].players) = count(teams[b].players)`.
    EqualCounts { a: &'static str, b: &'static str },
}

#[derive(Debug, Clone, Copy)]
struct OracleTeam {
    name: &'static str,
    min: Sched,
    max: u32,
}

#[derive(Debug, Clone)]
struct Oracle {
    oldest: bool,
    teams: Vec<OracleTeam>,
    rules: Vec<(&'static str, OracleRule)>,
}

const SKILL_DEFAULT: f64 = 10.0;
const MODE_DEFAULT: &str = "ranked";
const MAPS_DEFAULT: &[&str] = &["alpha"];

impl Kind {
    const ALL: [Kind; 4] = [Kind::Duel, Kind::Pairs, Kind::Trio, Kind::Squads];

    fn rule_set(self) -> &'static str {
        match self {
            Kind::Duel => DUEL,
            Kind::Pairs => PAIRS,
            Kind::Trio => TRIO,
            Kind::Squads => SQUADS,
        }
    }

    fn oracle(self) -> Oracle {
        let team = |name, min, max| OracleTeam { name, min, max };
        match self {
            Kind::Duel => Oracle {
                oldest: false,
                teams: vec![team("duelist_1", Sched::fixed(1.0), 1), team("duelist_2", Sched::fixed(1.0), 1)],
                rules: vec![(
                    "SkillBand",
                    OracleRule::BatchSpread {
                        attr: "skill",
                        agg: Agg::Avg,
                        max: Sched { base: 2.0, steps: &[(5, 5.0), (12, 10.0)] },
                    },
                )],
            },
            Kind::Pairs => Oracle {
                oldest: false,
                teams: vec![team("red", Sched::fixed(2.0), 2), team("blue", Sched::fixed(2.0), 2)],
                rules: vec![
                    (
                        "FairTeams",
                        OracleRule::TeamAvgDistance {
                            attr: "skill",
                            agg: Agg::Max,
                            max: Sched { base: 2.0, steps: &[(8, 5.0)] },
                        },
                    ),
                    ("SameMode", OracleRule::AllEqual { attr: "mode" }),
                ],
            },
            Kind::Trio => Oracle {
                oldest: true,
                teams: (1..=3).map(|i| team(["squad_1", "squad_2", "squad_3"][i - 1], Sched::fixed(1.0), 2)).collect(),
                rules: vec![
                    (
                        "CommonMap",
                        OracleRule::CommonItems { attr: "maps", agg: ListAgg::Union, min: Sched::fixed(1.0) },
                    ),
                    ("Ping", OracleRule::Latency { agg: Agg::Avg, max: Sched { base: 60.0, steps: &[(6, 120.0)] } }),
                ],
            },
            Kind::Squads => {
                const MIN: Sched = Sched { base: 3.0, steps: &[(8, 2.0)] };
                Oracle {
                    oldest: false,
                    teams: vec![team("red", MIN, 3), team("blue", MIN, 3)],
                    rules: vec![
                        ("EqualTeams", OracleRule::EqualCounts { a: "red", b: "blue" }),
                        ("Band", OracleRule::BatchSpread { attr: "skill", agg: Agg::Min, max: Sched::fixed(6.0) }),
                    ],
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------------------------

/// One player as generated; fields a template does not declare are `None`/ignored.
#[derive(Debug, Clone)]
struct PlayerSpec {
    /// `None`: the attribute is omitted and the rule set's default applies.
    skill: Option<i32>,
    mode: Option<&'static str>,
    maps: Option<Vec<&'static str>>,
    /// Milliseconds per entry of [`LOCATIONS`]; only the ticket's `locations` are sent.
    latency: [u32; 4],
    /// A location of the ticket's that this player does not report (index into [`LOCATIONS`]).
    missing: Option<usize>,
}

#[derive(Debug, Clone)]
struct TicketSpec {
    arrival_ms: u64,
    players: Vec<PlayerSpec>,
    /// Indices into [`LOCATIONS`] the ticket's players report (less each player's `missing`).
    locations: Vec<usize>,
    /// `StopMatchmaking` this long after arrival.
    stop_after_ms: Option<u64>,
    /// Raw picks `(earlier ticket, member)`: the last player reuses that player's id.
    duplicate_of: Option<(u8, u8)>,
}

fn player_strategy(kind: Kind) -> impl Strategy<Value = PlayerSpec> {
    let skill = prop_oneof![9 => (0i32..=30).prop_map(Some), 1 => Just(None)];
    let mode = prop_oneof![6 => Just(Some("ranked")), 3 => Just(Some("casual")), 1 => Just(None)];
    let maps = prop_oneof![9 => proptest::sample::subsequence(MAPS.to_vec(), 0..=3).prop_map(Some), 1 => Just(None)];
    let latency = proptest::array::uniform4(20u32..=200);
    let missing = prop_oneof![9 => Just(None), 1 => (0usize..4).prop_map(Some)];
    (skill, mode, maps, latency, missing).prop_map(move |(skill, mode, maps, latency, missing)| {
        // Trio does not declare `skill`: sent anyway, it must be ignored.
        let skill = if kind == Kind::Duel || kind == Kind::Trio { skill } else { skill.map(|s| s % 21) };
        let mode = if kind == Kind::Pairs { mode } else { None };
        let maps = if kind == Kind::Trio { maps } else { None };
        let (latency, missing) = if kind == Kind::Trio { (latency, missing) } else { ([0; 4], None) };
        PlayerSpec { skill, mode, maps, latency, missing }
    })
}

fn ticket_strategy(kind: Kind) -> impl Strategy<Value = TicketSpec> {
    // Sizes no team can hold are rare: such tickets can only time out.
    let size = match kind {
        Kind::Duel => prop_oneof![9 => Just(1usize), 1 => Just(2)].boxed(),
        Kind::Pairs | Kind::Trio => prop_oneof![6 => Just(1usize), 3 => Just(2), 1 => Just(3)].boxed(),
        Kind::Squads => prop_oneof![5 => Just(1usize), 3 => Just(2), 2 => Just(3), 1 => Just(4)].boxed(),
    };
    let players = size.prop_flat_map(move |n| proptest::collection::vec(player_strategy(kind), n));
    let locations = if kind == Kind::Trio {
        prop_oneof![
            12 => proptest::sample::subsequence(vec![0usize, 1, 2, 3], 1..=4),
            1 => Just(Vec::new()),
        ]
        .boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    // Whole seconds put arrivals, stops, timeouts and expansion steps exactly on a cycle.
    let arrival = prop_oneof![3 => 0u64..30_000, 1 => (0u64..30).prop_map(|s| s * 1000)];
    let stop = prop_oneof![
        18 => Just(None),
        1 => (0u64..15_000).prop_map(Some),
        1 => (0u64..15).prop_map(|s| Some(s * 1000)),
    ];
    let duplicate = prop_oneof![12 => Just(None), 1 => any::<(u8, u8)>().prop_map(Some)];
    (arrival, players, locations, stop, duplicate).prop_map(
        |(arrival_ms, players, locations, stop_after_ms, duplicate_of)| TicketSpec {
            arrival_ms,
            players,
            locations,
            stop_after_ms,
            duplicate_of,
        },
    )
}

fn pool_strategy(kind: Kind) -> impl Strategy<Value = Vec<TicketSpec>> {
    proptest::collection::vec(ticket_strategy(kind), 5..=40)
}

/// The requests of a pool, in arrival order, with ticket `i` named `t{i}` and its players
/// `p{i}-{j}` (except a duplicate).
#[derive(Debug)]
struct Script {
    requests: Vec<StartMatchmakingRequest>,
    start_ms: Vec<u64>,
    stop_ms: Vec<Option<u64>>,
}

fn script(kind: Kind, pool: &[TicketSpec]) -> Script {
    let mut order: Vec<usize> = (0..pool.len()).collect();
    order.sort_by_key(|&i| (pool[i].arrival_ms, i));
    let mut requests: Vec<StartMatchmakingRequest> = Vec::new();
    let mut start_ms = Vec::new();
    let mut stop_ms = Vec::new();
    for (i, &k) in order.iter().enumerate() {
        let spec = &pool[k];
        let mut players: Vec<Player> = spec
            .players
            .iter()
            .enumerate()
            .map(|(j, p)| {
                let mut attributes = Vec::new();
                if let Some(s) = p.skill {
                    attributes.push(("skill".to_owned(), AttributeValue::N(f64::from(s))));
                }
                if let Some(m) = p.mode {
                    attributes.push(("mode".to_owned(), AttributeValue::S(m.to_owned())));
                }
                if let Some(maps) = &p.maps {
                    attributes
                        .push(("maps".to_owned(), AttributeValue::SL(maps.iter().map(|s| s.to_string()).collect())));
                }
                let latency_in_ms = if kind == Kind::Trio {
                    spec.locations
                        .iter()
                        .filter(|&&l| p.missing != Some(l))
                        .map(|&l| (LOCATIONS[l].to_owned(), p.latency[l]))
                        .collect()
                } else {
                    Vec::new()
                };
                Player { player_id: format!("p{i}-{j}"), attributes, team: None, latency_in_ms }
            })
            .collect();
        if let (Some((a, b)), true) = (spec.duplicate_of, i > 0) {
            let earlier: &StartMatchmakingRequest = &requests[a as usize % i];
            let id = earlier.players[b as usize % earlier.players.len()].player_id.clone();
            players.last_mut().expect("a ticket has players").player_id = id;
        }
        requests.push(StartMatchmakingRequest {
            ticket_id: Some(format!("t{i}")),
            configuration_name: CONFIG_NAME.to_owned(),
            players,
        });
        start_ms.push(spec.arrival_ms);
        stop_ms.push(spec.stop_after_ms.map(|d| spec.arrival_ms + d));
    }
    Script { requests, start_ms, stop_ms }
}

// ---------------------------------------------------------------------------------------------
// Simulation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Start(usize),
    /// `StopMatchmaking` and whether it was accepted.
    Stop(usize, bool),
    Tick,
}

#[derive(Debug)]
struct Run {
    script: Script,
    /// `(time in ms since BASE_MS, operation)`, in the order applied.
    ops: Vec<(u64, Op)>,
    /// Every event with the index of the operation that produced it.
    events: Vec<(usize, Event)>,
    json: Vec<String>,
    /// `all_tickets()` after the last cycle.
    tickets: Vec<MatchmakingTicket>,
    /// After each cycle: its time and the tickets still `SEARCHING`.
    searching: Vec<(u64, Vec<usize>)>,
}

fn time(ms: u64) -> Time {
    Time::from_millis(BASE_MS + ms)
}

fn simulate(kind: Kind, pool: &[TicketSpec], threads: usize) -> Run {
    let script = script(kind, pool);
    let checked = ruleset::check(kind.rule_set());
    let rule_set = checked.value.unwrap_or_else(|| panic!("{kind:?} template is invalid: {:?}", checked.diagnostics));
    let config_text = format!(
        r#"{{"Name": "{CONFIG_NAME}", "RuleSetName": "rs", "RequestTimeoutSeconds": {TIMEOUT_S}, "AcceptanceRequired": false}}"#
    );
    let configuration = config::check(&config_text).value.expect("valid configuration");
    let mut options = MatchmakerOptions::new(42);
    options.threads = threads;
    options.retention_seconds = None;
    let (mut mm, mut rx) = Matchmaker::new(options);
    mm.add_configuration(configuration, &rule_set).expect("configuration accepted");
    let ctx = mm.envelope(CONFIG_NAME);

    // Starts before stops at the same instant; both before the cycle at that instant.
    let mut actions: Vec<(u64, u8, usize)> = Vec::new();
    for (i, &s) in script.start_ms.iter().enumerate() {
        actions.push((s, 0, i));
        if let Some(t) = script.stop_ms[i] {
            actions.push((t, 1, i));
        }
    }
    actions.sort();
    let id_index: HashMap<String, usize> =
        script.requests.iter().enumerate().map(|(i, r)| (r.ticket_id.clone().unwrap(), i)).collect();

    let mut run = Run {
        script,
        ops: Vec::new(),
        events: Vec::new(),
        json: Vec::new(),
        tickets: Vec::new(),
        searching: Vec::new(),
    };
    let mut next = 0;
    let mut cycle = 1u64;
    loop {
        let now = cycle * CYCLE_MS;
        while next < actions.len() && actions[next].0 <= now {
            let (t, what, i) = actions[next];
            next += 1;
            let op = if what == 0 {
                let ticket = mm.start_matchmaking(time(t), run.script.requests[i].clone());
                let ticket = ticket.unwrap_or_else(|e| panic!("StartMatchmaking t{i} refused: {}", e.message()));
                assert_eq!(ticket.status, TicketStatus::Queued, "StartMatchmaking returns a QUEUED ticket");
                Op::Start(i)
            } else {
                Op::Stop(i, mm.stop_matchmaking(time(t), &format!("t{i}")).is_ok())
            };
            run.ops.push((t, op));
            for e in rx.try_iter() {
                run.json.push(e.to_json(&ctx));
                run.events.push((run.ops.len() - 1, e));
            }
        }
        mm.tick(time(now));
        run.ops.push((now, Op::Tick));
        for e in rx.try_iter() {
            run.json.push(e.to_json(&ctx));
            run.events.push((run.ops.len() - 1, e));
        }
        let tickets = mm.all_tickets();
        run.searching.push((
            now,
            tickets.iter().filter(|t| t.status == TicketStatus::Searching).map(|t| id_index[&t.ticket_id]).collect(),
        ));
        if next == actions.len() && tickets.iter().all(|t| t.status.is_terminal()) {
            run.tickets = tickets;
            break;
        }
        cycle += 1;
        assert!(cycle < 200, "tickets still active long after every timeout");
    }
    run
}

// ---------------------------------------------------------------------------------------------
// Oracle
// ---------------------------------------------------------------------------------------------

fn number(p: &Player, attr: &str) -> f64 {
    match p.attribute(attr) {
        Some(AttributeValue::N(v)) => *v,
        None if attr == "skill" => SKILL_DEFAULT,
        other => panic!("unexpected value of {attr}: {other:?}"),
    }
}

fn string(p: &Player, attr: &str) -> String {
    match p.attribute(attr) {
        Some(AttributeValue::S(s)) => s.clone(),
        None if attr == "mode" => MODE_DEFAULT.to_owned(),
        other => panic!("unexpected value of {attr}: {other:?}"),
    }
}

fn list(p: &Player, attr: &str) -> Vec<String> {
    match p.attribute(attr) {
        Some(AttributeValue::SL(l)) => l.clone(),
        None if attr == "maps" => MAPS_DEFAULT.iter().map(|s| s.to_string()).collect(),
        other => panic!("unexpected value of {attr}: {other:?}"),
    }
}

fn aggregate(values: &[f64], agg: Agg) -> f64 {
    match agg {
        Agg::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Agg::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Agg::Avg => values.iter().sum::<f64>() / values.len() as f64,
    }
}

/// The party's value of a number attribute, which stands in for each member.
fn party_number(r: &StartMatchmakingRequest, attr: &str, agg: Agg) -> f64 {
    aggregate(&r.players.iter().map(|p| number(p, attr)).collect::<Vec<_>>(), agg)
}

fn party_list(r: &StartMatchmakingRequest, attr: &str, agg: ListAgg) -> HashSet<String> {
    match agg {
        ListAgg::Union => r.players.iter().flat_map(|p| list(p, attr)).collect(),
    }
}

/// The party's latency per location every member reported.
fn party_latency(r: &StartMatchmakingRequest, agg: Agg) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for loc in LOCATIONS {
        let values: Vec<f64> = r.players.iter().filter_map(|p| p.latency(loc)).map(f64::from).collect();
        if !values.is_empty() && values.len() == r.players.len() {
            out.insert(loc.to_owned(), aggregate(&values, agg));
        }
    }
    out
}

const EPS: f64 = 1e-9;

/// Checks one match (the tickets of a `PotentialMatchCreated`) at `now_ms`.
fn check_match(
    oracle: &Oracle,
    script: &Script,
    index: &HashMap<&str, usize>,
    now_ms: u64,
    tickets: &[EventTicket],
) -> Vec<String> {
    let mut errors = Vec::new();
    let ids: Vec<&str> = tickets.iter().map(|t| &*t.ticket_id).collect();
    let mut members: Vec<usize> = Vec::new();
    // teams[concrete team] = (ticket, player) per member
    let mut teams: Vec<Vec<(usize, usize)>> = vec![Vec::new(); oracle.teams.len()];
    for t in tickets {
        let Some(&i) = index.get(&*t.ticket_id) else {
            errors.push(format!("match {ids:?}: unknown ticket {}", t.ticket_id));
            continue;
        };
        if members.contains(&i) {
            errors.push(format!("match {ids:?}: ticket {} twice", t.ticket_id));
        }
        members.push(i);
        if t.start_time != time(script.start_ms[i]) {
            errors.push(format!(
                "match {ids:?}: {} has startTime {:?}, started at {}",
                t.ticket_id, t.start_time, script.start_ms[i]
            ));
        }
        let req = &script.requests[i];
        let sent: Vec<&str> = req.players.iter().map(|p| &*p.player_id).collect();
        let shown: Vec<&str> = t.players.iter().map(|p| &*p.player_id).collect();
        if sent != shown {
            errors.push(format!("match {ids:?}: {} shows players {shown:?}, request had {sent:?}", t.ticket_id));
        }
        let team_names: HashSet<Option<&str>> = t.players.iter().map(|p| p.team.as_deref()).collect();
        if team_names.len() != 1 {
            errors.push(format!("match {ids:?}: party {} is split over teams {team_names:?}", t.ticket_id));
            continue;
        }
        let name = team_names.into_iter().next().unwrap();
        match oracle.teams.iter().position(|team| Some(team.name) == name) {
            Some(k) => teams[k].extend((0..req.players.len()).map(|j| (i, j))),
            None => errors.push(format!("match {ids:?}: {} is on unknown team {name:?}", t.ticket_id)),
        }
    }
    if !errors.is_empty() {
        return errors;
    }
    let starts = members.iter().map(|&i| script.start_ms[i]);
    let clock = if oracle.oldest { starts.min() } else { starts.max() }.unwrap_or(now_ms);
    let age = now_ms.saturating_sub(clock);
    let at = format!("match {ids:?} at {now_ms} ms (expansion age {age} ms)");

    for (k, team) in oracle.teams.iter().enumerate() {
        let n = teams[k].len() as f64;
        let min = team.min.at(age);
        if n < min || n > f64::from(team.max) {
            errors.push(format!("{at}: team {} has {n} players, allowed {min}..={}", team.name, team.max));
        }
    }
    let all: Vec<(usize, usize)> = teams.iter().flatten().copied().collect();
    for (name, rule) in &oracle.rules {
        match *rule {
            OracleRule::BatchSpread { attr, agg, max } => {
                let values: Vec<f64> = members.iter().map(|&i| party_number(&script.requests[i], attr, agg)).collect();
                let spread = aggregate(&values, Agg::Max) - aggregate(&values, Agg::Min);
                if spread > max.at(age) + EPS {
                    errors.push(format!("{at}: {name} fails: spread {spread} of {values:?} > {}", max.at(age)));
                }
            }
            OracleRule::TeamAvgDistance { attr, agg, max } => {
                let value = |&(i, _): &(usize, usize)| party_number(&script.requests[i], attr, agg);
                let overall = aggregate(&all.iter().map(value).collect::<Vec<_>>(), Agg::Avg);
                for (k, team) in teams.iter().enumerate() {
                    if team.is_empty() {
                        continue; // no value: passes
                    }
                    let avg = aggregate(&team.iter().map(value).collect::<Vec<_>>(), Agg::Avg);
                    if (avg - overall).abs() > max.at(age) + EPS {
                        errors.push(format!(
                            "{at}: {name} fails: team {} average {avg} is {} from the match average {overall} (max {})",
                            oracle.teams[k].name,
                            (avg - overall).abs(),
                            max.at(age)
                        ));
                    }
                }
            }
            OracleRule::AllEqual { attr } => {
                let values: HashSet<String> =
                    all.iter().map(|&(i, j)| string(&script.requests[i].players[j], attr)).collect();
                if values.len() > 1 {
                    errors.push(format!("{at}: {name} fails: players have {attr} values {values:?}"));
                }
            }
            OracleRule::CommonItems { attr, agg, min } => {
                let mut common: Option<HashSet<String>> = None;
                for &(i, _) in &all {
                    let l = party_list(&script.requests[i], attr, agg);
                    common = Some(match common {
                        None => l,
                        Some(c) => c.intersection(&l).cloned().collect(),
                    });
                }
                let count = common.map_or(0, |c| c.len()) as f64;
                if count < min.at(age) {
                    errors.push(format!("{at}: {name} fails: {count} common values < {}", min.at(age)));
                }
            }
            OracleRule::Latency { agg, max } => {
                let limit = max.at(age);
                let ok = LOCATIONS.iter().any(|loc| {
                    members
                        .iter()
                        .all(|&i| party_latency(&script.requests[i], agg).get(*loc).is_some_and(|&ms| ms <= limit))
                });
                if !ok {
                    let lat: Vec<_> = members.iter().map(|&i| party_latency(&script.requests[i], agg)).collect();
                    errors.push(format!("{at}: {name} fails: no location with every ticket ≤ {limit} ms: {lat:?}"));
                }
            }
            OracleRule::EqualCounts { a, b } => {
                let count = |n: &str| oracle.teams.iter().position(|t| t.name == n).map_or(0, |k| teams[k].len());
                if count(a) != count(b) {
                    errors.push(format!("{at}: {name} fails: {a} has {}, {b} has {}", count(a), count(b)));
                }
            }
        }
    }
    errors
}

fn ticket_ids(e: &Event) -> Vec<&str> {
    e.ticket_ids().collect()
}

/// Checks properties 1–4 (and, for the 1v1 template, completeness) on one run.
fn check_run(kind: Kind, run: &Run) -> Result<(), String> {
    let oracle = kind.oracle();
    let script = &run.script;
    let n = script.requests.len();
    let index: HashMap<&str, usize> =
        script.requests.iter().enumerate().map(|(i, r)| (r.ticket_id.as_deref().unwrap(), i)).collect();
    let mut errors: Vec<String> = Vec::new();
    let mut err = |m: String| errors.push(m);

    // 4. Event times never decrease and match the operation's time.
    for w in run.events.windows(2) {
        if w[1].1.time < w[0].1.time {
            err(format!("event times decrease: {:?} then {:?}", w[0].1.time, w[1].1.time));
        }
    }
    for (op, e) in &run.events {
        if e.time != time(run.ops[*op].0) {
            err(format!("{} at {:?} produced by an operation at {}", e.type_name(), e.time, run.ops[*op].0));
        }
    }
    // 4. PotentialMatchCreated is immediately followed by MatchmakingSucceeded of the same match.
    for (k, (_, e)) in run.events.iter().enumerate() {
        match &e.detail {
            EventDetail::PotentialMatchCreated { tickets, match_id, acceptance_required, .. } => {
                if *acceptance_required {
                    err(format!("match {match_id}: acceptanceRequired without acceptance"));
                }
                match run.events.get(k + 1).map(|(_, e)| &e.detail) {
                    Some(EventDetail::MatchmakingSucceeded { tickets: t2, match_id: m2, .. })
                        if m2 == match_id && t2 == tickets => {}
                    other => err(format!("PotentialMatchCreated {match_id} is followed by {other:?}")),
                }
            }
            EventDetail::MatchmakingSucceeded { match_id, .. } => {
                let prev = k.checked_sub(1).map(|p| &run.events[p].1.detail);
                if !matches!(prev, Some(EventDetail::PotentialMatchCreated { match_id: m, .. }) if m == match_id) {
                    err(format!("MatchmakingSucceeded {match_id} does not follow its PotentialMatchCreated"));
                }
            }
            _ => {}
        }
    }

    // Model of which tickets are active, replayed over the operations: gives the expected
    // duplicate-player cancellations and whether each matched ticket was searching.
    let mut active: HashSet<usize> = HashSet::new();
    let mut searching: HashSet<usize> = HashSet::new();
    let mut expected_duplicate: HashMap<usize, usize> = HashMap::new(); // cancelled → by
    let mut stopped_ok: HashMap<usize, usize> = HashMap::new(); // ticket → op
    let mut match_of_ticket: HashMap<usize, Vec<(usize, String)>> = HashMap::new(); // ticket → (op, match)
    let mut per_op: Vec<Vec<&Event>> = vec![Vec::new(); run.ops.len()];
    for (op, e) in &run.events {
        per_op[*op].push(e);
    }
    for (op_index, &(t, op)) in run.ops.iter().enumerate() {
        match op {
            Op::Start(u) => {
                let ids: HashSet<&str> = script.requests[u].players.iter().map(|p| &*p.player_id).collect();
                let mut olds: Vec<usize> = active
                    .iter()
                    .copied()
                    .filter(|&o| script.requests[o].players.iter().any(|p| ids.contains(&*p.player_id)))
                    .collect();
                olds.sort();
                for o in olds {
                    active.remove(&o);
                    searching.remove(&o);
                    expected_duplicate.insert(o, u);
                }
                active.insert(u);
            }
            Op::Stop(i, ok) => {
                if ok != active.contains(&i) {
                    err(format!(
                        "StopMatchmaking t{i} at {t}: accepted={ok}, but the ticket was active={}",
                        active.contains(&i)
                    ));
                }
                if ok {
                    stopped_ok.insert(i, op_index);
                    active.remove(&i);
                    searching.remove(&i);
                }
            }
            Op::Tick => {}
        }
        for e in &per_op[op_index] {
            let ids = ticket_ids(e);
            let idx: Vec<usize> = ids.iter().filter_map(|id| index.get(id).copied()).collect();
            if idx.len() != ids.len() {
                err(format!("{} names unknown tickets {ids:?}", e.type_name()));
            }
            match &e.detail {
                EventDetail::MatchmakingSearching { .. } => {
                    for &i in &idx {
                        if !active.contains(&i) {
                            err(format!("t{i} starts searching at {t} but is not active"));
                        }
                        searching.insert(i);
                    }
                }
                EventDetail::PotentialMatchCreated { tickets, match_id, .. } => {
                    if op != Op::Tick {
                        err(format!("match {match_id} outside a cycle"));
                    }
                    // 2. Every matched ticket was searching (and not timed out) at match time.
                    for &i in &idx {
                        if !searching.contains(&i) || !active.contains(&i) {
                            err(format!("t{i} matched in {match_id} at {t} but was not searching"));
                        }
                        if t >= script.start_ms[i] + TIMEOUT_S * 1000 {
                            err(format!("t{i} matched in {match_id} at {t}, past its timeout"));
                        }
                        match_of_ticket.entry(i).or_default().push((op_index, match_id.clone()));
                    }
                    // 1. The match satisfies the rule set.
                    errors_extend(&mut err, check_match(&oracle, script, &index, t, tickets));
                }
                EventDetail::MatchmakingSucceeded { .. } => {
                    for &i in &idx {
                        active.remove(&i);
                        searching.remove(&i);
                    }
                }
                EventDetail::MatchmakingTimedOut { .. } => {
                    for &i in &idx {
                        if !active.contains(&i) {
                            err(format!("t{i} times out at {t} but was not active"));
                        }
                        if t < script.start_ms[i] + TIMEOUT_S * 1000 {
                            err(format!("t{i} times out at {t}, before its timeout"));
                        }
                        active.remove(&i);
                        searching.remove(&i);
                    }
                }
                EventDetail::MatchmakingCancelled { .. } => {
                    for &i in &idx {
                        if op != Op::Stop(i, true) {
                            err(format!("t{i} cancelled at {t} without a StopMatchmaking"));
                        }
                    }
                }
                other => err(format!("unexpected event {other:?}")),
            }
        }
        if op == Op::Tick {
            // Nothing active may outlive its timeout.
            for &i in &active {
                if t >= script.start_ms[i] + TIMEOUT_S * 1000 {
                    err(format!("t{i} still active at {t}, past its timeout"));
                }
            }
        }
    }

    // 2. No ticket in two matches; no player in two matches at once.
    for (i, ms) in &match_of_ticket {
        if ms.len() > 1 {
            err(format!("t{i} is in matches {ms:?}"));
        }
    }
    let start_op: HashMap<usize, usize> = run
        .ops
        .iter()
        .enumerate()
        .filter_map(|(k, (_, op))| if let Op::Start(i) = op { Some((*i, k)) } else { None })
        .collect();
    let mut player_matches: HashMap<&str, Vec<(usize, usize)>> = HashMap::new(); // player → (ticket, match op)
    for (i, ms) in &match_of_ticket {
        for p in &script.requests[*i].players {
            player_matches.entry(&p.player_id).or_default().push((*i, ms[0].0));
        }
    }
    for (p, mut ms) in player_matches {
        ms.sort_by_key(|m| m.1);
        for w in ms.windows(2) {
            // The later match's ticket must have started after the earlier match ended.
            if start_op[&w[1].0] < w[0].1 {
                err(format!("player {p} is in the matches of t{} and t{} at once", w[0].0, w[1].0));
            }
        }
    }

    // 3. Terminal statuses agree with the events.
    if run.tickets.len() != n {
        err(format!("all_tickets() has {} tickets, {n} were started", run.tickets.len()));
    }
    let mut seen = HashSet::new();
    for ticket in &run.tickets {
        let Some(&i) = index.get(ticket.ticket_id.as_str()) else {
            err(format!("unknown ticket {}", ticket.ticket_id));
            continue;
        };
        if !seen.insert(i) {
            err(format!("t{i} listed twice"));
        }
        let events: Vec<&Event> =
            run.events.iter().map(|(_, e)| e).filter(|e| ticket_ids(e).contains(&&*ticket.ticket_id)).collect();
        let count = |ty: &str| events.iter().filter(|e| e.type_name() == ty).count();
        let (succeeded, timed_out, cancelled) =
            (count("MatchmakingSucceeded"), count("MatchmakingTimedOut"), count("MatchmakingCancelled"));
        let (potential, searching_events) = (count("PotentialMatchCreated"), count("MatchmakingSearching"));
        let reason = ticket.status_reason.as_deref();
        let who = format!("t{i} ({}, reason {reason:?})", ticket.status);
        if ticket.end_time.is_none() {
            err(format!("{who} has no end time"));
        }
        match ticket.status {
            TicketStatus::Completed => {
                if (succeeded, potential, timed_out, cancelled) != (1, 1, 0, 0) {
                    err(format!(
                        "{who}: {succeeded} succeeded, {potential} potential, {timed_out} timed out, {cancelled} cancelled events"
                    ));
                }
                if !match_of_ticket.contains_key(&i) {
                    err(format!("{who} is in no match"));
                }
                // The ticket's players carry the teams the match gave them.
                let shown = events
                    .iter()
                    .find(|e| e.type_name() == "MatchmakingSucceeded")
                    .and_then(|e| e.tickets().iter().find(|t| *t.ticket_id == *ticket.ticket_id));
                let event_teams: Vec<Option<&str>> =
                    shown.map(|t| t.players.iter().map(|p| p.team.as_deref()).collect()).unwrap_or_default();
                let ticket_teams: Vec<Option<&str>> = ticket.players.iter().map(|p| p.team.as_deref()).collect();
                if event_teams != ticket_teams || ticket_teams.contains(&None) {
                    err(format!("{who}: players' teams {ticket_teams:?}, the match says {event_teams:?}"));
                }
            }
            TicketStatus::TimedOut => {
                if (timed_out, succeeded, cancelled) != (1, 0, 0) || reason != Some("TimedOut") {
                    err(format!("{who}: {timed_out} timed out, {succeeded} succeeded, {cancelled} cancelled events"));
                }
            }
            TicketStatus::Cancelled if reason == Some(DUPLICATE_REASON) => {
                if timed_out + succeeded + cancelled != 0 {
                    err(format!(
                        "{who}: duplicate-player cancellation with terminal events {:?}",
                        events.iter().map(|e| e.type_name()).collect::<Vec<_>>()
                    ));
                }
                if !expected_duplicate.contains_key(&i) {
                    err(format!("{who}: no later ticket shared a player while it was active"));
                }
            }
            TicketStatus::Cancelled => {
                if (cancelled, succeeded, timed_out) != (1, 0, 0) || reason != Some("Cancelled") {
                    err(format!("{who}: {cancelled} cancelled, {succeeded} succeeded, {timed_out} timed out events"));
                }
                if !stopped_ok.contains_key(&i) {
                    err(format!("{who}: cancelled without an accepted StopMatchmaking"));
                }
            }
            status => err(format!("{who}: unexpected final status {status}")),
        }
        // EndTime is when the ticket finished: its terminal event, or the duplicating request.
        let terminal = events
            .iter()
            .find(|e| matches!(e.type_name(), "MatchmakingSucceeded" | "MatchmakingTimedOut" | "MatchmakingCancelled"));
        let expected_end = match (terminal, expected_duplicate.get(&i)) {
            (Some(e), _) => Some(e.time),
            (None, Some(&by)) => Some(time(script.start_ms[by])),
            (None, None) => None,
        };
        if expected_end.is_some() && ticket.end_time != expected_end {
            err(format!("{who}: EndTime {:?}, expected {expected_end:?}", ticket.end_time));
        }
        if let Some(by) = expected_duplicate.get(&i)
            && !(ticket.status == TicketStatus::Cancelled && reason == Some(DUPLICATE_REASON))
        {
            err(format!(
                "{who}: t{by} reused one of its players while it was active; expected a duplicate-player cancellation"
            ));
        }
        if stopped_ok.contains_key(&i) && ticket.status != TicketStatus::Cancelled {
            err(format!("{who}: StopMatchmaking was accepted"));
        }

        // 4. Lifecycle order: Searching (at most once, first), then at most one terminal event.
        let types: Vec<&str> = events.iter().map(|e| e.type_name()).collect();
        let ok = match types.as_slice() {
            [] => ticket.status == TicketStatus::Cancelled,
            ["MatchmakingCancelled"] => true, // stopped while QUEUED
            ["MatchmakingSearching"] => ticket.status == TicketStatus::Cancelled && reason == Some(DUPLICATE_REASON),
            ["MatchmakingSearching", "MatchmakingCancelled" | "MatchmakingTimedOut"] => true,
            ["MatchmakingSearching", "PotentialMatchCreated", "MatchmakingSucceeded"] => true,
            _ => false,
        };
        if !ok || searching_events > 1 {
            err(format!("{who}: events out of lifecycle order: {types:?}"));
        }
    }

    // Completeness of the 1v1 search: no two waiting tickets could be matched now.
    if kind == Kind::Duel {
        let OracleRule::BatchSpread { attr, agg, max } = oracle.rules[0].1 else { unreachable!() };
        for (now, waiting) in &run.searching {
            let singles: Vec<usize> =
                waiting.iter().copied().filter(|&i| script.requests[i].players.len() == 1).collect();
            for (a, &x) in singles.iter().enumerate() {
                for &y in &singles[a + 1..] {
                    let age = now - script.start_ms[x].max(script.start_ms[y]);
                    let (vx, vy) =
                        (party_number(&script.requests[x], attr, agg), party_number(&script.requests[y], attr, agg));
                    if (vx - vy).abs() <= max.at(age) {
                        err(format!(
                            "after the cycle at {now}: t{x} (skill {vx}) and t{y} (skill {vy}) are both waiting but form a valid 1v1 (band {} at age {age} ms)",
                            max.at(age)
                        ));
                    }
                }
            }
        }
    }

    if errors.is_empty() { Ok(()) } else { Err(errors.join("\n")) }
}

fn errors_extend(err: &mut impl FnMut(String), more: Vec<String>) {
    for m in more {
        err(m);
    }
}

/// Runs a pool with 1 and 3 worker threads; checks determinism (5) and properties 1–4.
fn check_pool(kind: Kind, pool: &[TicketSpec]) -> Result<(), String> {
    let run = simulate(kind, pool, 1);
    let other = simulate(kind, pool, 3);
    if run.json != other.json {
        let k =
            run.json.iter().zip(&other.json).position(|(a, b)| a != b).unwrap_or(run.json.len().min(other.json.len()));
        return Err(format!(
            "event streams differ between 1 and 3 threads at event {k}:\n{:?}\n{:?}",
            run.json.get(k),
            other.json.get(k)
        ));
    }
    check_run(kind, &run)
}

fn proptest_config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(64);
    Config { cases, failure_persistence: None, ..Config::default() }
}

fn property(kind: Kind) {
    let mut runner = proptest::test_runner::TestRunner::new(proptest_config());
    let result = runner.run(&pool_strategy(kind), |pool| check_pool(kind, &pool).map_err(TestCaseError::fail));
    if let Err(e) = result {
        panic!("{kind:?}: {e}");
    }
}

#[test]
fn duel_matches_obey_rules_and_lifecycle() {
    property(Kind::Duel);
}

#[test]
fn pairs_matches_obey_rules_and_lifecycle() {
    property(Kind::Pairs);
}

#[test]
fn trio_matches_obey_rules_and_lifecycle() {
    property(Kind::Trio);
}

#[test]
fn squads_matches_obey_rules_and_lifecycle() {
    property(Kind::Squads);
}

#[test]
fn templates_are_valid_and_match_their_oracles() {
    for kind in Kind::ALL {
        let checked = ruleset::check(kind.rule_set());
        let rs = checked.value.unwrap_or_else(|| panic!("{kind:?}: {:?}", checked.diagnostics));
        let oracle = kind.oracle();
        let rule_names: Vec<&str> = rs.rules.iter().map(|r| r.name.as_str()).collect();
        let oracle_names: Vec<&str> = oracle.rules.iter().map(|r| r.0).collect();
        assert_eq!(rule_names, oracle_names, "{kind:?}");
        let teams = rs.concrete_team_names();
        let oracle_teams: Vec<&str> = oracle.teams.iter().map(|t| t.name).collect();
        assert_eq!(teams, oracle_teams, "{kind:?}");
    }
}

/// Guards against vacuous properties: the generators reach every outcome the checks are about.
#[test]
fn generated_pools_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    for kind in Kind::ALL {
        let oracle = kind.oracle();
        let first_step = oracle
            .rules
            .iter()
            .filter_map(|(_, r)| match r {
                OracleRule::BatchSpread { max, .. }
                | OracleRule::TeamAvgDistance { max, .. }
                | OracleRule::Latency { max, .. } => max.steps.first(),
                _ => None,
            })
            .chain(oracle.teams.iter().filter_map(|t| t.min.steps.first()))
            .map(|s| s.0 * 1000)
            .min()
            .expect("every template expands something");
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut seen: HashSet<&str> = HashSet::new();
        for _ in 0..24 {
            let pool = pool_strategy(kind).new_tree(&mut runner).unwrap().current();
            let run = simulate(kind, &pool, 1);
            for t in &run.tickets {
                seen.insert(match (t.status, t.status_reason.as_deref()) {
                    (TicketStatus::Completed, _) => "completed",
                    (TicketStatus::TimedOut, _) => "timed out",
                    (TicketStatus::Cancelled, Some(DUPLICATE_REASON)) => "duplicate",
                    (TicketStatus::Cancelled, _) => "stopped",
                    _ => "other",
                });
            }
            for (op, e) in &run.events {
                if let EventDetail::PotentialMatchCreated { tickets, .. } = &e.detail {
                    let starts = tickets.iter().map(|t| t.start_time.as_millis() - BASE_MS);
                    let clock = if oracle.oldest { starts.min() } else { starts.max() }.unwrap();
                    if run.ops[*op].0 - clock >= first_step {
                        seen.insert("expanded match");
                    }
                }
            }
        }
        for outcome in ["completed", "timed out", "duplicate", "stopped", "expanded match"] {
            assert!(seen.contains(outcome), "{kind:?}: no {outcome} in 24 generated pools");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pinned cases: boundaries the generators reach only rarely
// ---------------------------------------------------------------------------------------------

fn solo(arrival_ms: u64, skill: i32) -> TicketSpec {
    TicketSpec {
        arrival_ms,
        players: vec![PlayerSpec { skill: Some(skill), mode: None, maps: None, latency: [0; 4], missing: None }],
        locations: Vec::new(),
        stop_after_ms: None,
        duplicate_of: None,
    }
}

fn matches_of(run: &Run) -> Vec<(u64, Vec<&str>)> {
    run.events
        .iter()
        .filter(|(_, e)| e.type_name() == "PotentialMatchCreated")
        .map(|(op, e)| (run.ops[*op].0, ticket_ids(e)))
        .collect()
}

/// A step applies from the instant the match's age reaches its `waitTimeSeconds`.
#[test]
fn duel_expansion_step_applies_at_exactly_its_wait_time() {
    let pool = [solo(0, 0), solo(0, 5)];
    check_pool(Kind::Duel, &pool).unwrap();
    let run = simulate(Kind::Duel, &pool, 1);
    assert_eq!(matches_of(&run), [(5000, vec!["t0", "t1"])]);
}

/// With `newest`, a young ticket resets the clock: the old pair's band does not apply to it.
#[test]
fn duel_newest_ticket_drives_the_expansion_clock() {
    // t0 (0) waits alone until t1 (4) arrives at 6.5 s: age 0, band 2 — no match until the
    // pair's own age reaches 5 s (at 12 s; band 5).
    let pool = [solo(0, 0), solo(6500, 4)];
    check_pool(Kind::Duel, &pool).unwrap();
    let run = simulate(Kind::Duel, &pool, 1);
    assert_eq!(matches_of(&run), [(12_000, vec!["t0", "t1"])]);
}

/// A request reusing a player of a QUEUED ticket cancels it silently: no event at all.
#[test]
fn duplicate_player_cancels_a_queued_ticket_without_events() {
    let mut second = solo(200, 0);
    second.duplicate_of = Some((0, 0));
    let pool = [solo(100, 0), second];
    check_pool(Kind::Duel, &pool).unwrap();
    let run = simulate(Kind::Duel, &pool, 1);
    assert!(run.events.iter().all(|(_, e)| !ticket_ids(e).contains(&"t0")));
    let t0 = run.tickets.iter().find(|t| t.ticket_id == "t0").unwrap();
    assert_eq!((t0.status, t0.status_reason.as_deref()), (TicketStatus::Cancelled, Some(DUPLICATE_REASON)));
}

/// A stop at the instant of a cycle is applied before that cycle.
#[test]
fn stop_at_cycle_time_precedes_the_cycle() {
    let mut first = solo(500, 0);
    first.stop_after_ms = Some(500);
    let pool = [first, solo(600, 0), solo(1500, 1)];
    check_pool(Kind::Duel, &pool).unwrap();
    let run = simulate(Kind::Duel, &pool, 1);
    assert_eq!(matches_of(&run), [(2000, vec!["t1", "t2"])]);
    let types: Vec<&str> =
        run.events.iter().filter(|(_, e)| ticket_ids(e) == ["t0"]).map(|(_, e)| e.type_name()).collect();
    assert_eq!(types, ["MatchmakingCancelled"]);
}

/// A ticket that reaches `RequestTimeoutSeconds` exactly at a cycle times out before the search.
#[test]
fn timeout_at_cycle_time_precedes_the_search() {
    // t0 (0) starts at 1 s; t1 (10) arrives at 21 s, when t0's 20 s are up.
    let pool = [solo(1000, 0), solo(21_000, 10)];
    check_pool(Kind::Duel, &pool).unwrap();
    let run = simulate(Kind::Duel, &pool, 1);
    assert!(matches_of(&run).is_empty());
    let t0 = run.tickets.iter().find(|t| t.ticket_id == "t0").unwrap();
    assert_eq!((t0.status, t0.end_time), (TicketStatus::TimedOut, Some(time(21_000))));
}
