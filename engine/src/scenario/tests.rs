use expect_test::{Expect, expect};

use super::*;
use crate::api::{AttributeValue, Player};
use crate::config::{BackfillMode, FlexMatchMode};
use crate::diagnostic::render;

/// Renders what a user sees for `text`, then whether it was accepted.
fn check_diags(text: &str, expect: Expect) {
    let checked = check(text);
    let mut out = render("scenario.json", text, &checked.diagnostics);
    out.push_str(if checked.is_valid() { "=> accepted\n" } else { "=> rejected\n" });
    expect.assert_eq(&out);
}

const RULE_SET: &str = r#"{
      "name": "duel",
      "ruleLanguageVersion": "1.0",
      "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
      "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
      "rules": [{"name": "Fair", "type": "distance", "measurements": ["avg(teams[red].players.attributes[skill])"],
                 "referenceValue": "avg(teams[blue].players.attributes[skill])", "maxDistance": 100}]
    }"#;

/// A scenario with the rule set inline and `requests` as given.
fn scenario(requests: &str) -> String {
    format!(
        r#"{{
  "configuration": {{
    "Name": "ranked",
    "RuleSetBody": {RULE_SET},
    "RequestTimeoutSeconds": 120,
    "AcceptanceRequired": false
  }},
  "until": 300,
  "requests": [
{requests}
  ]
}}"#
    )
}

#[test]
fn parses_a_valid_scenario_field_by_field() {
    let text = r#"{
  "configuration": {
    "Name": "ranked",
    "RuleSetBody": {
      "name": "duel",
      "ruleLanguageVersion": "1.0",
      "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
      "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
      "rules": []
    },
    "RequestTimeoutSeconds": 120,
    "AcceptanceRequired": false,
    "FlexMatchMode": "STANDALONE",
    "BackfillMode": "MANUAL",
    "CustomEventData": "scenario-1"
  },
  "cycleSeconds": 0.5,
  "startTime": "2026-03-01T12:00:00+01:00",
  "requests": [
    { "at": 0.0, "StartMatchmaking": { "TicketId": "t1", "ConfigurationName": "ranked",
        "Players": [ { "PlayerId": "p1", "PlayerAttributes": { "skill": { "N": 1500 } }, "LatencyInMs": { "us-east-1": 40 } } ] } },
    { "at": 1, "StartMatchmaking": {
        "ConfigurationName": "arn:aws:gamelift:local:000000000000:matchmakingconfiguration/ranked",
        "Players": [ { "PlayerId": "p2" } ] } },
    { "at": 3.5, "StopMatchmaking": { "TicketId": "t1" } },
    { "at": 3.5, "StopMatchmaking": { "TicketId": "t1" } }
  ],
  "until": 300.0
}"#;
    let checked = check(text);
    assert!(checked.diagnostics.is_empty(), "{}", render("s.json", text, &checked.diagnostics));
    let s = checked.value.expect("accepted");
    assert_eq!(s.configuration.name, "ranked");
    assert_eq!(s.configuration.request_timeout_seconds, 120);
    assert!(!s.configuration.acceptance_required);
    assert_eq!(s.configuration.flex_match_mode, FlexMatchMode::Standalone);
    assert_eq!(s.configuration.backfill_mode, BackfillMode::Manual);
    assert_eq!(s.configuration.custom_event_data.as_deref(), Some("scenario-1"));
    let ScenarioRuleSet::Parsed(rule_set) = &s.rule_set else { panic!("expected a parsed rule set") };
    assert_eq!(rule_set.max_players(), 2);
    assert_eq!(s.cycle_seconds, 0.5);
    assert_eq!(s.until, 300.0);
    assert_eq!(s.start_time.to_rfc3339(), "2026-03-01T11:00:00.000Z");
    assert_eq!(s.time_of(3.5).to_rfc3339(), "2026-03-01T11:00:03.500Z");
    assert_eq!(s.end_time().to_rfc3339(), "2026-03-01T11:05:00.000Z");

    assert_eq!(s.requests.len(), 4);
    let r0 = &s.requests[0];
    assert_eq!(r0.at, 0.0);
    assert!(text[r0.span.start as usize..r0.span.end as usize].starts_with("{ \"at\": 0.0"));
    assert_eq!(
        r0.request,
        Request::StartMatchmaking(StartMatchmakingRequest {
            ticket_id: Some("t1".into()),
            configuration_name: "ranked".into(),
            players: vec![Player {
                player_id: "p1".into(),
                attributes: vec![("skill".into(), AttributeValue::N(1500.0))],
                team: None,
                latency_in_ms: vec![("us-east-1".into(), 40)],
            }],
        })
    );
    // An ARN is replaced by the configuration's name.
    let Request::StartMatchmaking(r1) = &s.requests[1].request else { panic!("expected StartMatchmaking") };
    assert_eq!(r1.ticket_id, None);
    assert_eq!(r1.configuration_name, "ranked");
    assert_eq!(s.requests[2].at, 3.5);
    assert_eq!(s.requests[2].request, Request::StopMatchmaking(StopMatchmakingRequest { ticket_id: "t1".into() }));
}

#[test]
fn defaults() {
    let s = check(&scenario("")).value.expect("accepted");
    assert_eq!(s.cycle_seconds, DEFAULT_CYCLE_SECONDS);
    assert_eq!(s.start_time, DEFAULT_START_TIME);
    assert_eq!(DEFAULT_START_TIME.to_rfc3339(), "2026-01-01T00:00:00.000Z");
    assert!(s.requests.is_empty());
}

#[test]
fn rule_set_path_is_left_to_the_caller() {
    let text = r#"{"configuration": {"Name": "ranked", "RuleSetPath": "rules/duel.json", "RequestTimeoutSeconds": 60,
                   "AcceptanceRequired": false}, "requests": [], "until": 10}"#;
    let s = check(text).value.expect("accepted");
    let ScenarioRuleSet::Path { path, span } = &s.rule_set else { panic!("expected a path") };
    assert_eq!(path, "rules/duel.json");
    assert_eq!(&text[span.start as usize..span.end as usize], "\"rules/duel.json\"");
}

#[test]
fn rule_set_as_a_string() {
    let body = serde_json::to_string(RULE_SET).unwrap();
    let text = format!(
        r#"{{"configuration": {{"Name": "ranked", "RuleSetBody": {body}, "RequestTimeoutSeconds": 60,
    "AcceptanceRequired": false}}, "requests": [], "until": 10}}"#
    );
    let s = check(&text).value.expect("accepted");
    assert!(matches!(s.rule_set, ScenarioRuleSet::Parsed(_)));

    let broken = body.replace("avg(teams[red]", "avg(teams[rde]");
    let text = format!(
        r#"{{"configuration": {{"Name": "ranked", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false,
    "RuleSetBody": {broken}}},
  "requests": [], "until": 10}}"#
    );
    let checked = check(&text);
    assert!(!checked.is_valid());
    let d = &checked.diagnostics[0];
    assert!(d.message.starts_with("in RuleSetBody: "), "{}", d.message);
    assert!(d.path.starts_with("configuration.RuleSetBody.rules[0]"), "{}", d.path);
    assert_eq!(d.location.line, 2);
    assert_eq!(&text[d.span.start as usize..d.span.end as usize], broken);
}

#[test]
fn rule_set_problems() {
    check_diags(
        r#"{
  "configuration": {
    "Name": "ranked", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false,
    "RuleSetBody": "{\"name\": \"x\", \"ruleLanguageVersion\": \"1.0\", \"teams\": [{\"name\": \"a\", \"maxPlayers\": 0}]}"
  },
  "requests": [], "until": 10
}"#,
        expect![[r#"
            error[missing-field]: in RuleSetBody: the team is missing required field 'minPlayers' (at 1:55 of the rule set text)
             --> scenario.json:4:20
              |
            4 |     "RuleSetBody": "{\"name\": \"x\", \"ruleLanguageVersion\": \"1.0\", \"teams\": [{\"name\": \"a\", \"maxPlayers\": 0}]}"
              |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
              = path: configuration.RuleSetBody.teams[0]

            error[out-of-range]: in RuleSetBody: maxPlayers must be between 1 and 200, found 0 (at 1:83 of the rule set text)
             --> scenario.json:4:20
              |
            4 |     "RuleSetBody": "{\"name\": \"x\", \"ruleLanguageVersion\": \"1.0\", \"teams\": [{\"name\": \"a\", \"maxPlayers\": 0}]}"
              |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
              = path: configuration.RuleSetBody.teams[0].maxPlayers

            => rejected
        "#]],
    );
    check_diags(
        r#"{
  "configuration": {
    "Name": "ranked", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false,
    "RuleSetBody": {"name": "x", "ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 2}],
                    "expansions": [{"target": "teams[a].minPlayers", "steps": [{"waitTimeSeconds": 90, "value": 1}]}]}
  },
  "requests": [], "until": 10
}"#,
        expect![[r#"
            error[expansion-after-timeout]: this step applies after 90 s, but configuration 'ranked' times tickets out after 60 s (RequestTimeoutSeconds)
             --> scenario.json:5:100
              |
            5 |                     "expansions": [{"target": "teams[a].minPlayers", "steps": [{"waitTimeSeconds": 90, "value": 1}]}]}
              |                                                                                                    ^^
              = path: configuration.RuleSetBody.expansions[0].steps[0].waitTimeSeconds
              = help: lower waitTimeSeconds or raise RequestTimeoutSeconds

            => rejected
        "#]],
    );
    check_diags(
        r#"{
  "configuration": {"Name": "ranked", "RuleSetName": "duel", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false},
  "requests": [], "until": 10
}"#,
        expect![[r#"
            error[rule-set-not-embedded]: a scenario cannot look up the rule set 'duel' by name
             --> scenario.json:2:54
              |
            2 |   "configuration": {"Name": "ranked", "RuleSetName": "duel", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false},
              |                                                      ^^^^^^
              = path: configuration.RuleSetName
              = help: embed the rule set with "RuleSetBody", or point at its file with "RuleSetPath"

            => rejected
        "#]],
    );
    // The rule set is checked even when the rest of the configuration is broken.
    check_diags(
        r#"{
  "configuration": {"Name": "ranked", "RequestTimeoutSeconds": 0, "AcceptanceRequired": false,
                    "RuleSetBody": {"name": "x", "ruleLanguageVersion": "2.0", "teams": [{"name": "a", "maxPlayers": 2}]}},
  "requests": [], "until": 10
}"#,
        expect![[r#"
            error[out-of-range]: RequestTimeoutSeconds must be between 1 and 43200 seconds, found 0
             --> scenario.json:2:64
              |
            2 |   "configuration": {"Name": "ranked", "RequestTimeoutSeconds": 0, "AcceptanceRequired": false,
              |                                                                ^
              = path: configuration.RequestTimeoutSeconds

            error[unsupported-version]: unsupported rule language version '2.0'
             --> scenario.json:3:73
              |
            3 |                     "RuleSetBody": {"name": "x", "ruleLanguageVersion": "2.0", "teams": [{"name": "a", "maxPlayers": 2}]}},
              |                                                                         ^^^^^
              = path: configuration.RuleSetBody.ruleLanguageVersion
              = help: the only version is "1.0"

            error[missing-field]: the team is missing required field 'minPlayers'
             --> scenario.json:3:90
              |
            3 |                     "RuleSetBody": {"name": "x", "ruleLanguageVersion": "2.0", "teams": [{"name": "a", "maxPlayers": 2}]}},
              |                                                                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
              = path: configuration.RuleSetBody.teams[0]

            => rejected
        "#]],
    );
}

#[test]
fn top_level_mistakes() {
    check_diags(
        r#"{
  "configuration": {"Name": "ranked", "RuleSetPath": "r.json", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false},
  "cycleSecond": 1,
  "requests": {},
  "startTime": "2026-02-30T00:00:00Z"
}"#,
        expect![[r#"
            error[missing-field]: missing required field 'until'
             --> scenario.json:1:1
              |
            1 | {
              | ^
              = help: add "until": the number of seconds to simulate, e.g. "until": 300

            error[unknown-field]: unknown scenario field 'cycleSecond'
             --> scenario.json:3:3
              |
            3 |   "cycleSecond": 1,
              |   ^^^^^^^^^^^^^
              = path: cycleSecond
              = help: did you mean 'cycleSeconds'?

            error[wrong-type]: requests must be an array of requests, found an object
             --> scenario.json:4:15
              |
            4 |   "requests": {},
              |               ^^
              = path: requests
              = help: write "requests": [{"at": 0, "StartMatchmaking": {"ConfigurationName": "…", "Players": [ … ]}}]

            error[bad-timestamp]: startTime "2026-02-30T00:00:00Z" is not a valid timestamp: that day does not exist in that month
             --> scenario.json:5:16
              |
            5 |   "startTime": "2026-02-30T00:00:00Z"
              |                ^^^^^^^^^^^^^^^^^^^^^^
              = path: startTime
              = help: write e.g. "2026-01-01T00:00:00Z" or "2026-01-01T09:30:00.250+02:00"

            => rejected
        "#]],
    );
    check_diags(
        r#"{"requests": [], "until": -5, "cycleSeconds": 0}"#,
        expect![[r#"
        error[missing-field]: missing required field 'configuration'
         --> scenario.json:1:1
          |
        1 | {"requests": [], "until": -5, "cycleSeconds": 0}
          | ^
          = help: add the matchmaking configuration: "configuration": {"Name": …, "RuleSetBody": …, …}

        error[out-of-range]: until must be a number of seconds greater than 0, found -5
         --> scenario.json:1:27
          |
        1 | {"requests": [], "until": -5, "cycleSeconds": 0}
          |                           ^^
          = path: until

        error[out-of-range]: cycleSeconds must be a number of seconds greater than 0, found 0
         --> scenario.json:1:47
          |
        1 | {"requests": [], "until": -5, "cycleSeconds": 0}
          |                                               ^
          = path: cycleSeconds

        => rejected
    "#]],
    );
    check_diags(
        r#"{"configuration": {}, "until": "300", "requests": [], }"#,
        expect![[r#"
            error[json-syntax]: trailing comma before `}`
             --> scenario.json:1:53
              |
            1 | {"configuration": {}, "until": "300", "requests": [], }
              |                                                     ^
              = help: JSON does not allow a comma after the last member; remove it

            => rejected
        "#]],
    );
    check_diags(
        r#"{"configuration": {"Name": "ranked", "RuleSetPath": "r.json", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false},
 "until": "300", "requests": [], "startTime": 1767225600}"#,
        expect![[r#"
            error[wrong-type]: until must be a number of seconds, found a string
             --> scenario.json:2:11
              |
            2 |  "until": "300", "requests": [], "startTime": 1767225600}
              |           ^^^^^
              = path: until
              = help: write 300 without quotes

            error[wrong-type]: startTime must be an RFC 3339 timestamp string, found a number
             --> scenario.json:2:47
              |
            2 |  "until": "300", "requests": [], "startTime": 1767225600}
              |                                               ^^^^^^^^^^
              = path: startTime
              = help: write e.g. "startTime": "2026-01-01T00:00:00Z"

            => rejected
        "#]],
    );
    check_diags(
        r#"[]"#,
        expect![[r#"
        error[wrong-type]: a scenario must be a JSON object, found an array
         --> scenario.json:1:1
          |
        1 | []
          | ^^
          = help: write it as {"configuration": { … }, "requests": [ … ], "until": 300}

        => rejected
    "#]],
    );
}

/// Request-level mistakes, one per line of `requests`.
#[test]
fn request_mistakes() {
    let requests = r#"    { "at": 0, "StartMatchmaking": { "TicketId": "t1", "ConfigurationName": "ranked", "Players": [ { "PlayerId": "p1" } ] } },
    { "at": 1, "StartMatchmaking": { "TicketId": "t2", "ConfigurationName": "casual", "Players": [ { "PlayerId": "p2" } ] } },
    { "at": 2, "StartMatchmaking": { "TicketId": "t1", "ConfigurationName": "ranked", "Players": [ { "PlayerId": "p3" } ] } },
    { "at": 3, "StartMatchmaking": { "ConfigurationName": "ranked", "Players": [ { "PlayerId": "" }, { "PlayerId": "p5", "PlayerAttributes": { "skill": 1500 } } ] } },
    { "at": 2.5, "StopMatchmaking": { "TicketId": "t1" } },
    { "at": 4, "AcceptMatch": { "TicketId": "t1", "PlayerIds": ["p1"], "AcceptanceType": "ACCEPT" } },
    { "at": 4, "StartMatchBackfill": { "ConfigurationName": "ranked", "Players": [] } },
    { "at": 4, "DescribeMatchmaking": { "TicketIds": ["t1"] } },
    { "at": 4, "StopMatchmakin": { "TicketId": "t1" } },
    { "at": 4, "StopMatchmaking": { "TicketId": "t1" }, "StartMatchmaking": { "ConfigurationName": "ranked", "Players": [ { "PlayerId": "p6" } ] } },
    { "at": 4 },
    { "StopMatchmaking": { "TicketId": "t1" } },
    { "At": 4, "StopMatchmaking": { "TicketId": "t1" } },
    { "at": -1, "StopMatchmaking": { "TicketId": "t1" } },
    { "at": "5", "StopMatchmaking": { "TicketId": "t1" } },
    { "at": 5, "StopMatchmaking": { "TicketId": "nobody" } },
    { "at": 5, "StopMatchmaking": { "TicketID": "t1" } },
    { "at": 400, "StopMatchmaking": { "TicketId": "t1" } },
    [ "at", 5 ]"#;
    check_diags(
        &scenario(requests),
        expect![[r#"
        error[unknown-configuration]: ConfigurationName 'casual' is not the scenario's configuration 'ranked'
          --> scenario.json:18:77
           |
        18 |     { "at": 1, "StartMatchmaking": { "TicketId": "t2", "ConfigurationName": "casual", "Players": [ { "PlayerId": "p2" } ] } },
           |                                                                             ^^^^^^^^
           = path: requests[1].StartMatchmaking.ConfigurationName
           = help: a scenario has one configuration; write "ConfigurationName": "ranked"

        error[duplicate-ticket-id]: TicketId 't1' is already used by requests[0]
          --> scenario.json:19:50
           |
        19 |     { "at": 2, "StartMatchmaking": { "TicketId": "t1", "ConfigurationName": "ranked", "Players": [ { "PlayerId": "p3" } ] } },
           |                                                  ^^^^
           = path: requests[2].StartMatchmaking.TicketId
           = help: give each ticket its own ID, or omit TicketId to have one generated

        error[too-short]: PlayerId must not be empty
          --> scenario.json:20:96
           |
        20 |     { "at": 3, "StartMatchmaking": { "ConfigurationName": "ranked", "Players": [ { "PlayerId": "" }, { "PlayerId": "p5", "PlayerAttributes": { "skill": 1500 } } ] } },
           |                                                                                                ^^
           = path: requests[3].StartMatchmaking.Players[0].PlayerId

        error[wrong-type]: attribute 'skill' must be an AttributeValue object, found a number
          --> scenario.json:20:153
           |
        20 |     { "at": 3, "StartMatchmaking": { "ConfigurationName": "ranked", "Players": [ { "PlayerId": "" }, { "PlayerId": "p5", "PlayerAttributes": { "skill": 1500 } } ] } },
           |                                                                                                                                                         ^^^^
           = path: requests[3].StartMatchmaking.Players[1].PlayerAttributes.skill
           = help: write {"N": 1500}

        error[out-of-order]: requests[4] is at 2.5 s, before requests[3] at 3 s; requests must be in time order
          --> scenario.json:21:13
           |
        21 |     { "at": 2.5, "StopMatchmaking": { "TicketId": "t1" } },
           |             ^^^
           = path: requests[4].at
           = help: sort the requests by "at"

        error[unsupported-request]: AcceptMatch requests are not supported yet (acceptance is not implemented in this version)
          --> scenario.json:22:16
           |
        22 |     { "at": 4, "AcceptMatch": { "TicketId": "t1", "PlayerIds": ["p1"], "AcceptanceType": "ACCEPT" } },
           |                ^^^^^^^^^^^^^
           = path: requests[5].AcceptMatch
           = help: remove this request, and set AcceptanceRequired to false in the configuration

        error[unsupported-request]: StartMatchBackfill requests are not supported yet (backfill is not implemented in this version)
          --> scenario.json:23:16
           |
        23 |     { "at": 4, "StartMatchBackfill": { "ConfigurationName": "ranked", "Players": [] } },
           |                ^^^^^^^^^^^^^^^^^^^^
           = path: requests[6].StartMatchBackfill
           = help: remove this request

        error[unsupported-request]: DescribeMatchmaking requests are not supported in scenarios; use --tickets-out
          --> scenario.json:24:16
           |
        24 |     { "at": 4, "DescribeMatchmaking": { "TicketIds": ["t1"] } },
           |                ^^^^^^^^^^^^^^^^^^^^^
           = path: requests[7].DescribeMatchmaking
           = help: `rallypoint simulate --tickets-out <file>` writes the tickets as DescribeMatchmaking returns them

        error[unknown-field]: unknown request kind 'StopMatchmakin'
          --> scenario.json:25:16
           |
        25 |     { "at": 4, "StopMatchmakin": { "TicketId": "t1" } },
           |                ^^^^^^^^^^^^^^^^
           = path: requests[8].StopMatchmakin
           = help: did you mean 'StopMatchmaking'?

        error[conflicting-fields]: this request is already a StopMatchmaking; a request has exactly one kind
          --> scenario.json:26:57
           |
        26 |     { "at": 4, "StopMatchmaking": { "TicketId": "t1" }, "StartMatchmaking": { "ConfigurationName": "ranked", "Players": [ { "PlayerId": "p6" } ] } },
           |                                                         ^^^^^^^^^^^^^^^^^^
           = path: requests[9].StartMatchmaking
           = help: put each request in its own object with its own "at"

        error[missing-field]: requests[10] has no request; give StartMatchmaking or StopMatchmaking
          --> scenario.json:27:5
           |
        27 |     { "at": 4 },
           |     ^
           = path: requests[10]
           = help: write e.g. {"at": 0, "StartMatchmaking": {"ConfigurationName": "…", "Players": [ … ]}}

        error[missing-field]: requests[11] is missing required field 'at'
          --> scenario.json:28:5
           |
        28 |     { "StopMatchmaking": { "TicketId": "t1" } },
           |     ^
           = path: requests[11]
           = help: add "at": when to send the request, in seconds from the start of the scenario

        error[unknown-field]: unknown request field 'At'
          --> scenario.json:29:7
           |
        29 |     { "At": 4, "StopMatchmaking": { "TicketId": "t1" } },
           |       ^^^^
           = path: requests[12].At
           = help: did you mean 'at'?

        error[out-of-range]: 'at' must be 0 or more seconds, found -1
          --> scenario.json:30:13
           |
        30 |     { "at": -1, "StopMatchmaking": { "TicketId": "t1" } },
           |             ^^
           = path: requests[13].at
           = help: 'at' counts seconds from the start of the scenario

        error[wrong-type]: 'at' must be a number of seconds, found a string
          --> scenario.json:31:13
           |
        31 |     { "at": "5", "StopMatchmaking": { "TicketId": "t1" } },
           |             ^^^
           = path: requests[14].at
           = help: write 5 without quotes

        warning[unknown-ticket]: no earlier StartMatchmaking request has TicketId 'nobody'; GameLift would answer NotFoundException
          --> scenario.json:32:49
           |
        32 |     { "at": 5, "StopMatchmaking": { "TicketId": "nobody" } },
           |                                                 ^^^^^^^^
           = path: requests[15].StopMatchmaking.TicketId
           = help: stop a ticket that an earlier request started with this TicketId

        error[unknown-field]: unknown StopMatchmaking field 'TicketID'
          --> scenario.json:33:37
           |
        33 |     { "at": 5, "StopMatchmaking": { "TicketID": "t1" } },
           |                                     ^^^^^^^^^^
           = path: requests[16].StopMatchmaking.TicketID
           = help: did you mean 'TicketId'?

        warning[after-until]: requests[17] at 400 s comes after the end of the simulation (until = 300 s); it is never sent
          --> scenario.json:34:13
           |
        34 |     { "at": 400, "StopMatchmaking": { "TicketId": "t1" } },
           |             ^^^
           = path: requests[17].at
           = help: raise "until" or remove the request

        error[wrong-type]: a request must be a JSON object, found an array
          --> scenario.json:35:5
           |
        35 |     [ "at", 5 ]
           |     ^^^^^^^^^^^
           = path: requests[18]
           = help: write it as {"at": 0, "StartMatchmaking": {"ConfigurationName": "…", "Players": [ … ]}}

        => rejected
    "#]],
    );
}
