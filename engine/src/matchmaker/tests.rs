use expect_test::expect;

use super::*;
use crate::api::{AttributeValue, Player, StartMatchmakingRequest};

const DUEL: &str = r#"{"ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "duelist", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}],
  "rules": [{"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 50}]}"#;

fn configuration(extra: &str) -> MatchmakingConfiguration {
    let text = format!(
        r#"{{"Name": "duel", "RuleSetName": "duel", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false{extra}}}"#
    );
    crate::config::check(&text).value.expect("valid configuration")
}

fn rule_set(text: &str) -> RuleSet {
    crate::ruleset::check(text).value.expect("valid rule set")
}

fn request(ticket: &str, player: &str, skill: f64) -> StartMatchmakingRequest {
    StartMatchmakingRequest {
        ticket_id: Some(ticket.to_owned()),
        configuration_name: "duel".to_owned(),
        players: vec![Player {
            player_id: player.to_owned(),
            attributes: vec![("skill".to_owned(), AttributeValue::N(skill))],
            team: None,
            latency_in_ms: Vec::new(),
        }],
    }
}

/// Two one-player teams.
const DUELISTS: &str = r#"{"name": "duelist", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}"#;

/// A rule set over one number attribute, `skill` (default 1000), with `teams` and `rules`
/// (each a comma-separated list of JSON objects).
fn skill_rule_set(teams: &str, rules: &str) -> String {
    format!(
        r#"{{"ruleLanguageVersion": "1.0",
  "playerAttributes": [{{"name": "skill", "type": "number", "default": 1000}}],
  "teams": [{teams}], "rules": [{rules}]}}"#
    )
}

/// A matchmaker with one configuration, of `rule_set_text`.
/// Starts one duelist ticket per skill at `at`: tickets `{prefix}0`, `{prefix}1`, … with
/// players `p{prefix}0`, ….
fn start_duelists(mm: &mut Matchmaker, at: Time, prefix: &str, skills: &[f64]) {
    for (i, &skill) in skills.iter().enumerate() {
        mm.start_matchmaking(at, request(&format!("{prefix}{i}"), &format!("p{prefix}{i}"), skill)).unwrap();
    }
}

fn matchmaker_for(rule_set_text: &str) -> (Matchmaker, EventReceiver) {
    let (mut mm, rx) = Matchmaker::new(MatchmakerOptions::new(1));
    mm.add_configuration(configuration(""), &rule_set(rule_set_text)).unwrap();
    (mm, rx)
}

/// A one-player request (player `p{ticket}`) that reports `ms` to one location.
fn located(ticket: &str, skill: f64, location: &str, ms: u32) -> StartMatchmakingRequest {
    let mut r = request(ticket, &format!("p{ticket}"), skill);
    r.players[0].latency_in_ms = vec![(location.to_owned(), ms)];
    r
}

fn matchmaker() -> (Matchmaker, EventReceiver) {
    matchmaker_for(DUEL)
}

#[test]
fn events_arrive_one_batch_per_call_when_it_returns() {
    let (mut mm, mut events) = matchmaker();
    for (t, skill) in [("a", 1000.0), ("b", 1010.0), ("c", 2000.0)] {
        mm.start_matchmaking(Time(1000), request(t, &format!("p{t}"), skill)).unwrap();
    }
    assert!(events.is_empty(), "StartMatchmaking emits nothing");
    mm.tick(Time(2000));
    // The whole cycle in one batch, in emission order.
    let batch: Vec<String> = events
        .batches()
        .try_recv()
        .unwrap()
        .iter()
        .map(|e| format!("{} {:?}", e.type_name(), e.ticket_ids().collect::<Vec<_>>()))
        .collect();
    expect![[r#"
        [
            "MatchmakingSearching [\"a\"]",
            "MatchmakingSearching [\"b\"]",
            "MatchmakingSearching [\"c\"]",
            "PotentialMatchCreated [\"a\", \"b\"]",
            "MatchmakingSucceeded [\"a\", \"b\"]",
        ]
    "#]]
    .assert_debug_eq(&batch);
    // A cancellation's event is there as soon as StopMatchmaking returns, and event-by-event
    // reading sees it too.
    mm.stop_matchmaking(Time(2500), "c").unwrap();
    assert_eq!(events.try_recv().map(|e| e.type_name()), Ok("MatchmakingCancelled"));
    assert!(events.is_empty());
    drop(mm);
    assert!(events.recv().is_err(), "the stream ends with the matchmaker");
}

#[test]
fn a_large_cycles_events_are_built_in_order_with_the_seeded_ids() {
    // Enough tickets and matches that their events are built on the search threads.
    let n = 4 * TICKETS_PER_TASK;
    let (mut mm, mut events) = matchmaker();
    for i in 0..n {
        mm.start_matchmaking(Time(1000), request(&format!("t{i}"), &format!("p{i}"), (i / 2) as f64 * 1000.0)).unwrap();
    }
    let stats = mm.tick(Time(2000));
    assert_eq!((stats.searching, stats.matches), (n, n / 2));
    let got: Vec<Event> = events.try_iter().collect();
    // The same seed's ids in emission order, a match's id just before its
    // PotentialMatchCreated's own, and tickets in submission order.
    let mut ids = UuidGen::new(1);
    let mut expected = Vec::new();
    for i in 0..n {
        expected.push(format!("{} MatchmakingSearching t{i}", ids.next_uuid()));
    }
    for m in 0..n / 2 {
        let match_id = ids.next_uuid();
        let tickets = format!("t{} t{}", 2 * m, 2 * m + 1);
        expected.push(format!("{} PotentialMatchCreated {tickets} in {match_id}", ids.next_uuid()));
        expected.push(format!("{} MatchmakingSucceeded {tickets} in {match_id}", ids.next_uuid()));
    }
    let shown: Vec<String> = got
        .iter()
        .map(|e| {
            let tickets = e.ticket_ids().collect::<Vec<_>>().join(" ");
            match e.match_id() {
                Some(m) => format!("{} {} {tickets} in {m}", e.id, e.type_name()),
                None => format!("{} {} {tickets}", e.id, e.type_name()),
            }
        })
        .collect();
    assert_eq!(shown, expected);
}

#[test]
fn intake_accepts_requests_from_other_threads() {
    let (mut mm, mut events) = matchmaker();
    let intake = mm.intake();
    let replies: Vec<_> = std::thread::scope(|s| {
        let a = s.spawn(|| intake.start_matchmaking(Time(1000), request("a", "pa", 1000.0)));
        let b = s.spawn(|| intake.start_matchmaking(Time(1000), request("b", "pb", 1010.0)));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    assert_eq!(mm.process_intake(), 2);
    for reply in replies {
        assert_eq!(reply.recv().unwrap().unwrap().status, TicketStatus::Queued);
    }
    let stats = mm.tick(Time(2000));
    assert_eq!((stats.searching, stats.matches, stats.matched_tickets), (2, 1, 2));
    let types: Vec<&str> = events.try_iter().map(|e| e.type_name()).collect();
    expect![[r#"["MatchmakingSearching", "MatchmakingSearching", "PotentialMatchCreated", "MatchmakingSucceeded"]"#]]
        .assert_eq(&format!("{types:?}"));
    // A stop for a finished ticket is refused through the intake too.
    let reply = intake.stop_matchmaking(Time(3000), "a");
    mm.process_intake();
    let err = reply.recv().unwrap().unwrap_err();
    expect!["InvalidRequestException: ticket 'a' has already finished with status COMPLETED"].assert_eq(&format!(
        "{}: {}",
        err.error_type(),
        err.message()
    ));
}

#[test]
fn refuses_capabilities_it_does_not_have_yet() {
    let (mut mm, _) = Matchmaker::new(MatchmakerOptions::new(1));
    let text = r#"{"Name": "a", "RuleSetName": "a", "RequestTimeoutSeconds": 60, "AcceptanceRequired": true}"#;
    let err = mm.add_configuration(crate::config::check(text).value.unwrap(), &rule_set(DUEL)).unwrap_err();
    expect!["AcceptanceRequired is not supported by this version yet; set it to false"].assert_eq(err.message());
    let text = r#"{"Name": "q", "RuleSetName": "q", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false,
        "GameSessionQueueArns": ["arn:aws:gamelift:us-west-2:111122223333:gamesessionqueue/main"]}"#;
    let err = mm.add_configuration(crate::config::check(text).value.unwrap(), &rule_set(DUEL)).unwrap_err();
    expect![
        "FlexMatchMode WITH_QUEUE needs game session placement, which this version does not have yet; use STANDALONE"
    ]
    .assert_eq(err.message());
    let large = r#"{"ruleLanguageVersion": "1.0",
      "playerAttributes": [{"name": "skill", "type": "number"}],
      "teams": [{"name": "all", "minPlayers": 50, "maxPlayers": 100}],
      "algorithm": {"strategy": "balanced", "balancedAttribute": "skill"}}"#;
    let err = mm.add_configuration(configuration(""), &rule_set(large)).unwrap_err();
    expect!["rule set holds up to 100 players; large matches (over 40) are not supported by this version yet"]
        .assert_eq(err.message());
    mm.add_configuration(configuration(""), &rule_set(DUEL)).unwrap();
    let err = mm.add_configuration(configuration(""), &rule_set(DUEL)).unwrap_err();
    expect!["a configuration named 'duel' already exists"].assert_eq(err.message());
}

#[test]
fn rejects_malformed_requests_without_changing_state() {
    let (mut mm, _) = matchmaker();
    let mut wrong_type = request("x", "px", 0.0);
    wrong_type.players[0].attributes = vec![("skill".to_owned(), AttributeValue::S("high".to_owned()))];
    let err = mm.start_matchmaking(Time(0), wrong_type).unwrap_err();
    expect!["attribute 'skill' is declared as number in the rule set, so it must be sent as N, but the request sends S (string)"]
        .assert_eq(err.message());
    let mut unknown = request("y", "py", 0.0);
    unknown.configuration_name = "nope".to_owned();
    assert_eq!(mm.start_matchmaking(Time(0), unknown).unwrap_err().error_type(), "NotFoundException");
    mm.start_matchmaking(Time(0), request("z", "pz", 0.0)).unwrap();
    let err = mm.start_matchmaking(Time(0), request("z", "pz2", 0.0)).unwrap_err();
    expect!["a ticket with id 'z' already exists"].assert_eq(err.message());
    assert!(mm.ticket("x").is_none() && mm.ticket("y").is_none());
    assert_eq!(mm.waiting(), 1);
}

#[test]
fn a_request_may_name_its_configuration_by_arn_and_is_answered_with_the_name() {
    let (mut mm, _) = matchmaker();
    let mut by_arn = request("a", "pa", 0.0);
    by_arn.configuration_name = "arn:aws:gamelift:local:000000000000:matchmakingconfiguration/duel".to_owned();
    let ticket = mm.start_matchmaking(Time(0), by_arn).unwrap();
    assert_eq!(
        (ticket.configuration_name.as_str(), ticket.configuration_arn.as_str()),
        ("duel", "arn:aws:gamelift:local:000000000000:matchmakingconfiguration/duel")
    );
    assert_eq!(mm.ticket("a").unwrap().configuration_name, "duel");
    // Another account's or Region's ARN names no configuration of this matchmaker.
    let mut elsewhere = request("b", "pb", 0.0);
    elsewhere.configuration_name = "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/duel".to_owned();
    let err = mm.start_matchmaking(Time(0), elsewhere).unwrap_err();
    assert_eq!(err.error_type(), "NotFoundException");
    expect![
        "no matchmaking configuration named 'arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/duel'"
    ]
    .assert_eq(err.message());
}

#[test]
fn finished_tickets_expire_after_retention() {
    let mut options = MatchmakerOptions::new(1);
    options.retention_seconds = Some(10.0);
    let (mut mm, _) = Matchmaker::new(options);
    mm.add_configuration(configuration(""), &rule_set(DUEL)).unwrap();
    mm.start_matchmaking(Time(0), request("a", "pa", 0.0)).unwrap();
    mm.stop_matchmaking(Time(1000), "a").unwrap();
    mm.tick(Time(5000));
    assert_eq!(mm.ticket("a").unwrap().status, TicketStatus::Cancelled);
    mm.tick(Time(11_000));
    assert!(mm.ticket("a").is_none());
}

#[test]
fn configurations_have_their_own_pools_but_share_players() {
    let (mut mm, mut events) = matchmaker();
    let other =
        r#"{"Name": "casual", "RuleSetName": "casual", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false}"#;
    mm.add_configuration(crate::config::check(other).value.unwrap(), &rule_set(DUEL)).unwrap();
    let mut casual = request("c1", "pc1", 1000.0);
    casual.configuration_name = "casual".to_owned();
    mm.start_matchmaking(Time(0), casual).unwrap();
    mm.start_matchmaking(Time(0), request("d1", "pd1", 1000.0)).unwrap();
    // Same skill, different configurations: no match across pools.
    assert_eq!(mm.tick(Time(1000)).matches, 0);
    // pc1 starts a ranked ticket: the casual one is cancelled (no event) and the two ranked
    // tickets match.
    mm.start_matchmaking(Time(2000), request("d2", "pc1", 1005.0)).unwrap();
    let c1 = mm.ticket("c1").unwrap();
    assert_eq!(c1.status, TicketStatus::Cancelled);
    assert_eq!(c1.status_reason.as_deref(), Some("Cancelled due to duplicate player"));
    assert_eq!(mm.tick(Time(3000)).matches, 1);
    let cancelled_events = events.try_iter().filter(|e| e.type_name() == "MatchmakingCancelled").count();
    assert_eq!(cancelled_events, 0);
    assert_eq!(mm.ticket("d2").unwrap().status, TicketStatus::Completed);
}

#[test]
fn wait_estimate_is_the_median_of_recent_waits_once_five_tickets_matched() {
    let (mut mm, mut events) = matchmaker();
    let estimates = |events: &mut EventReceiver| -> Vec<String> {
        events
            .try_iter()
            .filter_map(|e| match e.detail {
                EventDetail::MatchmakingSearching { estimated_wait, .. } => Some(format!("{estimated_wait:?}")),
                _ => None,
            })
            .collect()
    };
    // Three pairs: the first ticket of each arrives at 0 s, its partner at 4 s, so the
    // matched waits are 4, 0, 4, 0, 4, 0.
    start_duelists(&mut mm, Time(0), "a", &[1000.0, 2000.0, 3000.0]);
    mm.tick(Time(0));
    start_duelists(&mut mm, Time(4000), "b", &[1001.0, 2001.0, 3001.0]);
    assert_eq!(mm.tick(Time(4000)).matches, 3);
    // Nothing had matched when these six started searching.
    assert_eq!(estimates(&mut events), vec!["NotAvailable"; 6]);
    // Six samples now: the median (upper of the middle two of 0 0 0 4 4 4) is 4 s.
    mm.start_matchmaking(Time(5000), request("c0", "pc0", 9000.0)).unwrap();
    assert_eq!(mm.ticket("c0").unwrap().estimated_wait_time, Some(4));
    mm.tick(Time(5000));
    assert_eq!(estimates(&mut events), vec!["Seconds(4)"]);
}

#[test]
fn described_tickets_show_the_players_exactly_as_sent() {
    let mut options = MatchmakerOptions::new(1);
    options.retention_seconds = Some(0.5);
    let (mut mm, _) = Matchmaker::new(options);
    mm.add_configuration(configuration(""), &rule_set(DUEL)).unwrap();
    let mut a = request("a", "pa", 1000.5);
    a.players[0].attributes.push(("note".to_owned(), AttributeValue::S("undeclared".to_owned())));
    a.players[0].attributes.push(("tags".to_owned(), AttributeValue::SL(vec!["x".to_owned(), "y".to_owned()])));
    a.players[0].team = Some("input-team".to_owned());
    // More locations than the pool tracks: the extra ones are kept on the ticket.
    a.players[0].latency_in_ms = (0..70).map(|i| (format!("loc-{i}"), 10 + i)).collect();
    let sent = a.players.clone();
    let response = mm.start_matchmaking(Time(0), a).unwrap();
    assert_eq!(response.players, sent);
    assert_eq!(mm.ticket("a").unwrap(), response);
    mm.start_matchmaking(Time(0), request("b", "pb", 1001.0)).unwrap();
    mm.tick(Time(1000));
    let matched = mm.ticket("a").unwrap();
    assert_eq!(matched.status, TicketStatus::Completed);
    let mut expected = sent;
    expected[0].team = Some("duelist_1".to_owned());
    assert_eq!(matched.players, expected);
    // Records are reused once expired; the id index and old references stay consistent.
    mm.tick(Time(2000));
    assert!(mm.ticket("a").is_none() && mm.all_tickets().is_empty());
    mm.start_matchmaking(Time(2000), request("c", "pc", 5000.0)).unwrap();
    mm.start_matchmaking(Time(2000), request("a", "pa", 9000.0)).unwrap();
    let ids: Vec<String> = mm.all_tickets().into_iter().map(|t| t.ticket_id).collect();
    assert_eq!(ids, ["a", "c"]);
}

#[test]
fn cycle_stats_count_anchors_searched_and_skipped_as_unchanged() {
    let (mut mm, _events) = matchmaker();
    // Three duelists too far apart in skill to match each other (band 50).
    start_duelists(&mut mm, Time(1000), "t", &[1000.0, 1100.0, 1200.0]);
    let first = mm.tick(Time(2000));
    assert_eq!((first.searched, first.skipped, first.matches), (3, 0, 0));
    // Nothing changed: every anchor fails as before, so none is searched again.
    let second = mm.tick(Time(3000));
    assert_eq!((second.searched, second.skipped, second.matches), (0, 3, 0));
    // A newcomer next to one of them: that anchor is searched again (and matches).
    mm.start_matchmaking(Time(3500), request("t3", "p3", 1110.0)).unwrap();
    let third = mm.tick(Time(4000));
    assert_eq!(third.matches, 1);
    assert!(third.searched >= 1 && third.skipped >= 1, "{third:?}");
}

#[test]
fn an_anchor_whose_neighbours_left_in_an_older_anchors_match_is_not_searched_again() {
    let (mut mm, _events) = matchmaker();
    // Within one band (50): the oldest takes the nearer of the other two, and the third
    // finds both taken.
    start_duelists(&mut mm, Time(1000), "t", &[1000.0, 1020.0, 1040.0]);
    let first = mm.tick(Time(2000));
    assert_eq!((first.searched, first.matches), (2, 1), "{first:?}");
    // The two departures went to an older anchor's match, which the third's search had
    // already seen taken: nothing it could see changed.
    let second = mm.tick(Time(3000));
    assert_eq!((second.searched, second.skipped, second.matches), (0, 1, 0), "{second:?}");
}

#[test]
fn timed_out_tickets_report_the_rule_evaluations_of_their_failed_searches() {
    // Two duelists close in skill whose pings to their one location are too far apart:
    // every cycle, each one's search tries the other, which passes the skill band and fails
    // the latency rule's maxDistance. (Tickets that share no acceptable location never
    // meet: the batch filter keeps them out of each other's batches, so no rule is
    // evaluated.)
    let (mut mm, mut events) = matchmaker_for(&skill_rule_set(
        DUELISTS,
        r#"{"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 50},
           {"name": "Ping", "type": "latency", "maxLatency": 50, "maxDistance": 10, "distanceReference": "min"}"#,
    ));
    let located = |ticket: &str, ms: u32| located(ticket, 1000.0, "us-east-1", ms);
    mm.start_matchmaking(Time(1000), located("a", 20)).unwrap();
    mm.start_matchmaking(Time(1000), located("b", 45)).unwrap();
    for t in [2000, 3000, 4000] {
        assert_eq!(mm.tick(Time(t)).matches, 0);
    }
    // Past the 60 s timeout: both time out, with three passed Band checks and three failed
    // Ping checks each (the second and third searches were skipped as unchanged, and their
    // metrics replayed).
    assert_eq!(mm.tick(Time(62_000)).timed_out, 2);
    // A newcomer takes a freed slot and must not inherit its counts.
    mm.start_matchmaking(Time(62_500), located("c", 20)).unwrap();
    assert_eq!(mm.tick(Time(123_000)).timed_out, 1);
    let timed_out: Vec<String> = events
        .try_iter()
        .filter_map(|e| match e.detail {
            EventDetail::MatchmakingTimedOut { tickets, rule_evaluation_metrics, .. } => Some(format!(
                "{}: {}",
                tickets[0].ticket_id,
                rule_evaluation_metrics
                    .iter()
                    .map(|m| format!("{} {}/{}", m.rule_name, m.passed_count, m.failed_count))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => None,
        })
        .collect();
    expect![[r#"
        [
            "a: Band 3/0, Ping 0/3",
            "b: Band 3/0, Ping 0/3",
            "c: Band 0/0, Ping 0/0",
        ]
    "#]]
    .assert_debug_eq(&timed_out);
}

#[test]
fn a_ticket_finds_the_players_it_shares_a_location_with_past_many_closer_in_skill() {
    // "a" is the oldest ticket of a 2v2 queue. Sixty players are closer to it in skill than
    // "x", "y" and "z", but they play from another continent: none of them could ever share
    // a match with "a", so they do not take up its batch, and "a" meets the three in the
    // first cycle. The sixty make fifteen matches among themselves.
    let (mut mm, mut events) = matchmaker_for(&skill_rule_set(
        r#"{"name": "pair", "minPlayers": 2, "maxPlayers": 2, "quantity": 2}"#,
        r#"{"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 100},
           {"name": "Ping", "type": "latency", "maxLatency": 50}"#,
    ));
    mm.start_matchmaking(Time(1000), located("a", 1000.0, "us-east-1", 20)).unwrap();
    for i in 0..60 {
        mm.start_matchmaking(Time(1001 + i), located(&format!("e{i}"), 1001.0 + i as f64, "eu-west-1", 20)).unwrap();
    }
    for (i, id) in ["x", "y", "z"].into_iter().enumerate() {
        mm.start_matchmaking(Time(1100), located(id, 1070.0 + i as f64, "us-east-1", 20)).unwrap();
    }
    let stats = mm.tick(Time(2000));
    assert_eq!((stats.matches, stats.matched_tickets), (16, 64));
    let with_a: Vec<Vec<String>> = events
        .try_iter()
        .filter_map(|e| match e.detail {
            EventDetail::PotentialMatchCreated { tickets, .. } => {
                Some(tickets.iter().map(|t| t.ticket_id.to_string()).collect::<Vec<_>>())
            }
            _ => None,
        })
        .filter(|ids| ids.iter().any(|id| id == "a"))
        .collect();
    expect![[r#"[["a", "x", "y", "z"]]"#]].assert_eq(&format!("{with_a:?}"));
}

#[test]
fn locations_are_read_by_name_whatever_order_players_list_them_in() {
    let (mut mm, mut events) =
        matchmaker_for(&skill_rule_set(DUELISTS, r#"{"name": "Ping", "type": "latency", "maxLatency": 50}"#));
    // Each pair can play only where both are fast, and lists its locations in a different
    // order from the pair before; the skills keep the pairs' batches apart otherwise.
    let pairs: [[&[(&str, u32)]; 2]; 3] = [
        [&[("us", 10), ("eu", 90)], &[("eu", 90), ("us", 10)]],
        [&[("eu", 10), ("us", 90)], &[("us", 90), ("eu", 10)]],
        [&[("ap", 10), ("eu", 90), ("us", 90)], &[("us", 90), ("ap", 10)]],
    ];
    for (k, pair) in pairs.iter().enumerate() {
        for (j, locations) in pair.iter().enumerate() {
            let mut r = request(&format!("t{k}{j}"), &format!("p{k}{j}"), 1000.0);
            r.players[0].latency_in_ms = listing(locations);
            mm.start_matchmaking(Time(1000), r).unwrap();
        }
    }
    mm.tick(Time(2000));
    assert_eq!(potential_matches(&mut events), [["t00", "t01"], ["t10", "t11"], ["t20", "t21"]]);
}

/// The tickets of each `PotentialMatchCreated` received so far.
fn potential_matches(events: &mut EventReceiver) -> Vec<Vec<String>> {
    events
        .try_iter()
        .filter(|e| e.type_name() == "PotentialMatchCreated")
        .map(|e| e.ticket_ids().map(str::to_owned).collect())
        .collect()
}

/// `LatencyInMs` as a request lists it.
fn listing(locations: &[(&str, u32)]) -> Vec<(String, u32)> {
    locations.iter().map(|&(l, ms)| (l.to_owned(), ms)).collect()
}

#[test]
fn a_location_listed_twice_counts_with_its_first_figure_for_players_and_parties() {
    let rules = r#"{"name": "Ping", "type": "latency", "maxLatency": 50},
        {"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 10}"#;
    let duos = r#"{"name": "duo", "minPlayers": 2, "maxPlayers": 2, "quantity": 2}"#;
    for (teams, party) in [(DUELISTS, 1), (duos, 2)] {
        let (mut mm, mut events) = matchmaker_for(&skill_rule_set(teams, rules));
        // At skill 1000 the first ticket lists `us` fast, then slow: it can play there.
        // At skill 2000 it lists `us` slow, then fast: it cannot. In a party, one member
        // lists it twice and the other once, fast (the party's average decides).
        let tickets = [
            ("fast-first", 1000.0, &[("us", 10), ("us", 100)][..]),
            ("partner-1", 1000.0, &[("us", 10)]),
            ("slow-first", 2000.0, &[("us", 100), ("us", 10)]),
            ("partner-2", 2000.0, &[("us", 10)]),
        ];
        for (ticket, skill, listed) in tickets {
            let mut r = request(ticket, &format!("{ticket}-0"), skill);
            r.players[0].latency_in_ms = listing(listed);
            for k in 1..party {
                let mut member = r.players[0].clone();
                member.player_id = format!("{ticket}-{k}");
                member.latency_in_ms = vec![("us".to_owned(), 10)];
                r.players.push(member);
            }
            mm.start_matchmaking(Time(1000), r).unwrap();
        }
        mm.tick(Time(2000));
        assert_eq!(potential_matches(&mut events), [["fast-first", "partner-1"]], "parties of {party}");
    }
}

/// Duelists in string-keyed lobbies who may each avoid a player by id.
const LOBBIES_WITH_BLOCKS: &str = r#"{"ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000},
                       {"name": "lobby", "type": "string", "default": "open"},
                       {"name": "avoid", "type": "string_list", "default": []}],
  "teams": [{"name": "duelist", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}],
  "rules": [{"name": "Lobby", "type": "batchDistance", "batchAttribute": "lobby"},
            {"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 100},
            {"name": "NoBlocked", "type": "collection", "operation": "reference_intersection_count",
             "measurements": "flatten(teams[*].players.attributes[avoid])",
             "referenceValue": "flatten(teams[*].players[playerId])", "maxCount": 0}]}"#;

/// Ticket `i` of a stream whose every ticket brings new strings: its player id, a lobby it
/// shares with one other ticket, a player to avoid (ticket `i + 3`'s, or for one pair in
/// eight its lobby partner's, so that pair waits until it times out) and an undeclared note.
fn lobby_ticket(i: usize) -> StartMatchmakingRequest {
    let partner = i ^ 1;
    let avoid = if i.is_multiple_of(16) { partner } else { i + 3 };
    let mut r = request(&format!("t{i}"), &format!("p{i}"), 1000.0 + (i % 7) as f64 * 10.0);
    let attributes = &mut r.players[0].attributes;
    attributes.push(("lobby".to_owned(), AttributeValue::S(format!("lobby-{}", i / 2))));
    attributes.push(("avoid".to_owned(), AttributeValue::SL(vec![format!("p{avoid}")])));
    attributes.push(("note".to_owned(), AttributeValue::S(format!("note-{i}"))));
    r
}

#[test]
fn strings_no_ticket_holds_are_reclaimed_without_changing_any_result() {
    let new = |reclaim_at: usize| {
        let mut options = MatchmakerOptions::new(7);
        options.retention_seconds = Some(3.0);
        let (mut mm, events) = Matchmaker::new(options);
        mm.add_configuration(configuration(""), &rule_set(LOBBIES_WITH_BLOCKS)).unwrap();
        (mm.configs[0].reclaim_at, mm.configs[0].reclaim_floor) = (reclaim_at, reclaim_at);
        (mm, events)
    };
    // One reclaims whenever its table has doubled since it last did, the other never.
    let (mut reclaiming, mut reclaiming_events) = new(0);
    let (mut keeping, mut keeping_events) = new(usize::MAX);
    let mut held = Vec::new();
    for cycle in 0..40u64 {
        for i in cycle as usize * 100..(cycle as usize + 1) * 100 {
            let at = Time(cycle * 1000 + 500);
            assert_eq!(
                reclaiming.start_matchmaking(at, lobby_ticket(i)).unwrap(),
                keeping.start_matchmaking(at, lobby_ticket(i)).unwrap()
            );
        }
        let stats = reclaiming.tick(Time((cycle + 1) * 1000));
        assert_eq!(format!("{stats:?}"), format!("{:?}", keeping.tick(Time((cycle + 1) * 1000))));
        assert_eq!(
            format!("{:?}", reclaiming_events.try_iter().collect::<Vec<_>>()),
            format!("{:?}", keeping_events.try_iter().collect::<Vec<_>>()),
            "cycle {cycle}"
        );
        held.push(reclaiming.configs[0].interner.len());
    }
    // Every ticket still known is described alike, strings and all.
    assert_eq!(reclaiming.all_tickets(), keeping.all_tickets());
    assert!(reclaiming.all_tickets().iter().any(|t| t.status == TicketStatus::Completed));
    // The table grew with what the tickets hold, not with the stream.
    let kept = keeping.configs[0].interner.len();
    assert!(kept > 5_000, "{kept}");
    assert!(held.iter().all(|&n| n < kept / 2), "reclaiming held {held:?} strings, keeping {kept}");
    // Right after a reclaim it holds the values of the tickets still known and the player
    // ids of those waiting (and perhaps a few strings that the pool's counts and offsets,
    // read as symbols, keep).
    reclaiming.configs[0].reclaim_at = 0;
    reclaiming.tick(Time(41_000));
    let mut strings = std::collections::BTreeSet::new();
    for t in reclaiming.all_tickets() {
        for p in &t.players {
            if t.status == TicketStatus::Searching {
                strings.insert(p.player_id.clone());
            }
            for (name, value) in &p.attributes {
                match (name.as_str(), value) {
                    ("lobby", AttributeValue::S(s)) => drop(strings.insert(s.clone())),
                    ("avoid", AttributeValue::SL(l)) => strings.extend(l.iter().cloned()),
                    _ => {}
                }
            }
        }
    }
    let table = reclaiming.configs[0].interner.len();
    assert!((strings.len()..strings.len() + 16).contains(&table), "{table} strings for {}", strings.len());
}
