use expect_test::{Expect, expect};

use super::*;
use crate::diagnostic::render;

/// Renders what a user sees for a `StartMatchmaking` body, then whether it was accepted.
fn check_start(text: &str, expect: Expect) {
    let checked = check_start_matchmaking(text);
    let mut out = render("request.json", text, &checked.diagnostics);
    out.push_str(if checked.is_valid() { "=> accepted\n" } else { "=> rejected\n" });
    expect.assert_eq(&out);
}

/// One line per diagnostic of a `StartMatchmaking` body.
fn summary(text: &str) -> String {
    let checked = check_start_matchmaking(text);
    let mut out = String::new();
    for d in &checked.diagnostics {
        let severity = if d.is_error() { "error" } else { "warning" };
        out.push_str(&format!(
            "{severity}[{}] {} @{}:{}: {}\n",
            d.code, d.path, d.location.line, d.location.column, d.message
        ));
    }
    out.push_str(if checked.is_valid() { "=> accepted\n" } else { "=> rejected\n" });
    out
}

/// A request with one player whose body is `player`.
fn with_player(player: &str) -> String {
    format!(r#"{{"ConfigurationName": "ranked", "Players": [{player}]}}"#)
}

#[test]
fn parses_a_full_request_field_by_field() {
    let text = r#"{
  "TicketId": "ticket-1.a",
  "ConfigurationName": "ranked",
  "Players": [
    {
      "PlayerId": "p1",
      "PlayerAttributes": {
        "skill": {"N": 1500},
        "level": {"N": "23"},
        "mode": {"S": "ranked"},
        "maps": {"SL": ["dust", "mirage"]},
        "roles": {"SDM": {"tank": 0.5, "healer": 2}}
      },
      "LatencyInMs": {"us-east-1": 40, "eu-west-1": 95}
    },
    {"PlayerId": "p2", "PlayerAttributes": null, "LatencyInMs": {}}
  ]
}"#;
    let checked = check_start_matchmaking(text);
    assert!(checked.diagnostics.is_empty(), "{}", render("r.json", text, &checked.diagnostics));
    let r = checked.value.expect("accepted");
    assert_eq!(r.ticket_id.as_deref(), Some("ticket-1.a"));
    assert_eq!(r.configuration_name, "ranked");
    assert_eq!(r.players.len(), 2);
    let p1 = &r.players[0];
    assert_eq!(p1.player_id, "p1");
    assert_eq!(p1.team, None);
    assert_eq!(
        p1.attributes,
        [
            ("skill".to_owned(), AttributeValue::N(1500.0)),
            ("level".to_owned(), AttributeValue::N(23.0)),
            ("mode".to_owned(), AttributeValue::S("ranked".into())),
            ("maps".to_owned(), AttributeValue::SL(vec!["dust".into(), "mirage".into()])),
            ("roles".to_owned(), AttributeValue::SDM(vec![("tank".into(), 0.5), ("healer".into(), 2.0)])),
        ]
    );
    assert_eq!(p1.attribute("mode"), Some(&AttributeValue::S("ranked".into())));
    assert_eq!(p1.attribute("missing"), None);
    assert_eq!(p1.latency_in_ms, [("us-east-1".to_owned(), 40), ("eu-west-1".to_owned(), 95)]);
    assert_eq!(p1.latency("eu-west-1"), Some(95));
    assert_eq!(r.players[1], Player { player_id: "p2".into(), ..Player::default() });
}

#[test]
fn ticket_id_is_optional() {
    let r = check_start_matchmaking(&with_player(r#"{"PlayerId": "p1"}"#)).value.expect("accepted");
    assert_eq!(r.ticket_id, None);
    let r = check_start_matchmaking(r#"{"TicketId": null, "ConfigurationName": "c", "Players": [{"PlayerId": "p"}]}"#)
        .value
        .expect("accepted");
    assert_eq!(r.ticket_id, None);
}

#[test]
fn repeated_string_list_items_are_dropped_with_a_warning() {
    let text = with_player(r#"{"PlayerId": "p1", "PlayerAttributes": {"maps": {"SL": ["a", "b", "a"]}}}"#);
    let checked = check_start_matchmaking(&text);
    let r = checked.value.expect("accepted");
    assert_eq!(r.players[0].attributes[0].1, AttributeValue::SL(vec!["a".into(), "b".into()]));
    expect![[r#"
        warning[duplicate-value] Players[0].PlayerAttributes.maps.SL[2] @1:111: "a" is already in the list at [0]; FlexMatch ignores repeated values
        => accepted
    "#]]
    .assert_eq(&summary(&text));
}

#[test]
fn team_on_a_new_ticket_is_a_warning() {
    check_start(
        r#"{"ConfigurationName": "ranked", "Players": [{"PlayerId": "p1", "Team": "red"}]}"#,
        expect![[r#"
            warning[team-ignored]: Team is only meaningful in backfill requests; FlexMatch assigns teams to new tickets
             --> request.json:1:72
              |
            1 | {"ConfigurationName": "ranked", "Players": [{"PlayerId": "p1", "Team": "red"}]}
              |                                                                        ^^^^^
              = path: Players[0].Team
              = help: remove Team; StartMatchBackfill is the request that takes players' current teams

            => accepted
        "#]],
    );
}

#[test]
fn renders_unknown_fields_with_suggestions() {
    check_start(
        r#"{
  "TicketID": "t1",
  "ConfigurationName": "ranked",
  "Players": [{"PlayerId": "p1", "PlayerAttributes": {"skill": {"n": 10}}, "Latency": {"us-east-1": 40}}]
}"#,
        expect![[r#"
            error[unknown-field]: unknown StartMatchmaking field 'TicketID'
             --> request.json:2:3
              |
            2 |   "TicketID": "t1",
              |   ^^^^^^^^^^
              = path: TicketID
              = help: did you mean 'TicketId'?

            error[unknown-field]: unknown AttributeValue member 'n'
             --> request.json:4:65
              |
            4 |   "Players": [{"PlayerId": "p1", "PlayerAttributes": {"skill": {"n": 10}}, "Latency": {"us-east-1": 40}}]
              |                                                                 ^^^
              = path: Players[0].PlayerAttributes.skill.n
              = help: did you mean 'N'?

            error[unknown-field]: unknown player field 'Latency'
             --> request.json:4:76
              |
            4 |   "Players": [{"PlayerId": "p1", "PlayerAttributes": {"skill": {"n": 10}}, "Latency": {"us-east-1": 40}}]
              |                                                                            ^^^^^^^^^
              = path: Players[0].Latency
              = help: did you mean 'LatencyInMs'?

            => rejected
        "#]],
    );
}

#[test]
fn renders_a_missing_field_and_wrong_types() {
    check_start(
        r#"{"Players": {"PlayerId": "p1"}}"#,
        expect![[r#"
            error[missing-field]: missing required field 'ConfigurationName'
             --> request.json:1:1
              |
            1 | {"Players": {"PlayerId": "p1"}}
              | ^
              = help: name the matchmaking configuration, e.g. "ConfigurationName": "ranked"

            error[wrong-type]: Players must be an array of players, found an object
             --> request.json:1:13
              |
            1 | {"Players": {"PlayerId": "p1"}}
              |             ^^^^^^^^^^^^^^^^^^
              = path: Players
              = help: put the player in a list: "Players": [{ … }]

            => rejected
        "#]],
    );
}

#[test]
fn every_request_level_mistake() {
    let long = "x".repeat(101);
    let many_players: Vec<String> = (0..11).map(|i| format!(r#"{{"PlayerId": "p{i}"}}"#)).collect();
    let many_attributes: Vec<String> = (0..11).map(|i| format!(r#""a{i}": {{"N": {i}}}"#)).collect();
    let many_strings: Vec<String> = (0..101).map(|i| format!(r#""s{i}""#)).collect();
    let many_pairs: Vec<String> = (0..11).map(|i| format!(r#""k{i}": {i}"#)).collect();
    let cases: Vec<(&str, String)> = vec![
        ("not an object", "[]".into()),
        (
            "ticket id with a bad character",
            r#"{"TicketId": "t_1", "ConfigurationName": "c", "Players": [{"PlayerId": "p"}]}"#.into(),
        ),
        ("empty ticket id", r#"{"TicketId": "", "ConfigurationName": "c", "Players": [{"PlayerId": "p"}]}"#.into()),
        (
            "ticket id too long",
            format!(
                r#"{{"TicketId": "{}", "ConfigurationName": "c", "Players": [{{"PlayerId": "p"}}]}}"#,
                "t".repeat(129)
            ),
        ),
        ("empty configuration name", r#"{"ConfigurationName": "", "Players": [{"PlayerId": "p"}]}"#.into()),
        ("configuration name not a string", r#"{"ConfigurationName": 7, "Players": [{"PlayerId": "p"}]}"#.into()),
        ("no players", r#"{"ConfigurationName": "c", "Players": []}"#.into()),
        ("eleven players", format!(r#"{{"ConfigurationName": "c", "Players": [{}]}}"#, many_players.join(", "))),
        ("duplicate player", r#"{"ConfigurationName": "c", "Players": [{"PlayerId": "p"}, {"PlayerId": "p"}]}"#.into()),
        ("player without id", with_player(r#"{"PlayerAttributes": {}}"#)),
        ("empty player id", with_player(r#"{"PlayerId": ""}"#)),
        ("player not an object", with_player(r#""p1""#)),
        (
            "duplicate field",
            r#"{"ConfigurationName": "c", "ConfigurationName": "d", "Players": [{"PlayerId": "p"}]}"#.into(),
        ),
        (
            "eleven attributes",
            with_player(&format!(r#"{{"PlayerId": "p", "PlayerAttributes": {{{}}}}}"#, many_attributes.join(", "))),
        ),
        ("bare number attribute", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"skill": 1500}}"#)),
        ("empty attribute value", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"skill": {}}}"#)),
        ("two members", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"skill": {"N": 1, "S": "x"}}}"#)),
        (
            "duplicate attribute",
            with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"a": {"N": 1}, "a": {"N": 2}}}"#),
        ),
        ("empty attribute name", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"": {"N": 1}}}"#)),
        ("empty S", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"mode": {"S": ""}}}"#)),
        ("long S", with_player(&format!(r#"{{"PlayerId": "p", "PlayerAttributes": {{"mode": {{"S": "{long}"}}}}}}"#))),
        ("N not numeric", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"skill": {"N": "high"}}}"#)),
        ("N boolean", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"skill": {"N": true}}}"#)),
        ("SL not a list", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"maps": {"SL": "dust"}}}"#)),
        ("SL number item", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"maps": {"SL": ["a", 2]}}}"#)),
        (
            "SL long item",
            with_player(&format!(r#"{{"PlayerId": "p", "PlayerAttributes": {{"maps": {{"SL": ["{long}"]}}}}}}"#)),
        ),
        (
            "SL 101 items",
            with_player(&format!(
                r#"{{"PlayerId": "p", "PlayerAttributes": {{"maps": {{"SL": [{}]}}}}}}"#,
                many_strings.join(",")
            )),
        ),
        (
            "SDM eleven pairs",
            with_player(&format!(
                r#"{{"PlayerId": "p", "PlayerAttributes": {{"r": {{"SDM": {{{}}}}}}}}}"#,
                many_pairs.join(", ")
            )),
        ),
        ("SDM string value", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"r": {"SDM": {"tank": "1"}}}}"#)),
        (
            "SDM long key",
            with_player(&format!(r#"{{"PlayerId": "p", "PlayerAttributes": {{"r": {{"SDM": {{"{long}": 1}}}}}}}}"#)),
        ),
        ("SDM not an object", with_player(r#"{"PlayerId": "p", "PlayerAttributes": {"r": {"SDM": [1]}}}"#)),
        ("latency zero", with_player(r#"{"PlayerId": "p", "LatencyInMs": {"us-east-1": 0}}"#)),
        ("latency fraction", with_player(r#"{"PlayerId": "p", "LatencyInMs": {"us-east-1": 40.5}}"#)),
        ("latency string", with_player(r#"{"PlayerId": "p", "LatencyInMs": {"us-east-1": "40"}}"#)),
        ("latency too large", with_player(r#"{"PlayerId": "p", "LatencyInMs": {"us-east-1": 3000000000}}"#)),
        ("latency empty location", with_player(r#"{"PlayerId": "p", "LatencyInMs": {"": 40}}"#)),
        ("latency duplicate location", with_player(r#"{"PlayerId": "p", "LatencyInMs": {"a": 40, "a": 50}}"#)),
        ("latency not an object", with_player(r#"{"PlayerId": "p", "LatencyInMs": [40]}"#)),
        ("empty team", with_player(r#"{"PlayerId": "p", "Team": ""}"#)),
    ];
    let mut out = String::new();
    for (name, text) in &cases {
        out.push_str(&format!("## {name}\n{}\n", summary(text)));
    }
    expect![[r###"
        ## not an object
        error[wrong-type]  @1:1: a StartMatchmaking request must be a JSON object, found an array
        => rejected

        ## ticket id with a bad character
        error[bad-pattern] TicketId @1:16: TicketId contains '_', which is not allowed
        => rejected

        ## empty ticket id
        error[too-short] TicketId @1:14: TicketId must not be empty
        => rejected

        ## ticket id too long
        error[too-long] TicketId @1:14: TicketId is 129 characters long; the maximum is 128
        => rejected

        ## empty configuration name
        error[too-short] ConfigurationName @1:23: ConfigurationName must not be empty
        => rejected

        ## configuration name not a string
        error[wrong-type] ConfigurationName @1:23: ConfigurationName must be a string, found a number
        => rejected

        ## no players
        error[too-short] Players @1:39: Players must list at least one player
        => rejected

        ## eleven players
        error[too-many] Players[10] @1:240: a ticket holds at most 10 players; this one has 11
        => rejected

        ## duplicate player
        error[duplicate-player] Players[1].PlayerId @1:72: player 'p' is already listed as Players[0]
        => rejected

        ## player without id
        error[missing-field] Players[0] @1:45: Players[0] is missing required field 'PlayerId'
        => rejected

        ## empty player id
        error[too-short] Players[0].PlayerId @1:58: PlayerId must not be empty
        => rejected

        ## player not an object
        error[wrong-type] Players[0] @1:45: a player must be a JSON object, found a string
        => rejected

        ## duplicate field
        error[duplicate-field] ConfigurationName @1:28: field 'ConfigurationName' is given more than once
        => rejected

        ## eleven attributes
        error[too-many] Players[0].PlayerAttributes.a10 @1:244: a player may have at most 10 attributes; this one has 11
        => rejected

        ## bare number attribute
        error[wrong-type] Players[0].PlayerAttributes.skill @1:93: attribute 'skill' must be an AttributeValue object, found a number
        => rejected

        ## empty attribute value
        error[missing-field] Players[0].PlayerAttributes.skill @1:93: attribute 'skill' has no value
        => rejected

        ## two members
        error[conflicting-fields] Players[0].PlayerAttributes.skill.S @1:102: attribute 'skill' has both N and S; an AttributeValue holds exactly one
        => rejected

        ## duplicate attribute
        error[duplicate-field] Players[0].PlayerAttributes.a @1:99: attribute 'a' is given more than once
        => rejected

        ## empty attribute name
        error[too-short] Players[0].PlayerAttributes[""] @1:84: an attribute name must not be empty
        => rejected

        ## empty S
        error[too-short] Players[0].PlayerAttributes.mode.S @1:98: an S value must not be empty
        => rejected

        ## long S
        error[too-long] Players[0].PlayerAttributes.mode.S @1:98: an S value is 101 characters long; the maximum is 100
        => rejected

        ## N not numeric
        error[wrong-type] Players[0].PlayerAttributes.skill.N @1:99: an N value must be a number, found the string "high"
        => rejected

        ## N boolean
        error[wrong-type] Players[0].PlayerAttributes.skill.N @1:99: an N value must be a number, found a boolean
        => rejected

        ## SL not a list
        error[wrong-type] Players[0].PlayerAttributes.maps.SL @1:99: an SL value must be an array of strings, found a string
        => rejected

        ## SL number item
        error[wrong-type] Players[0].PlayerAttributes.maps.SL[1] @1:105: an SL item must be a string, found a number
        => rejected

        ## SL long item
        error[too-long] Players[0].PlayerAttributes.maps.SL[0] @1:100: an SL item is 101 characters long; the maximum is 100
        => rejected

        ## SL 101 items
        error[too-many] Players[0].PlayerAttributes.maps.SL[100] @1:690: an SL value holds at most 100 strings; this one has 101
        => rejected

        ## SDM eleven pairs
        error[too-many] Players[0].PlayerAttributes.r.SDM.k10 @1:188: an SDM value holds at most 10 pairs; this one has 11
        => rejected

        ## SDM string value
        error[wrong-type] Players[0].PlayerAttributes.r.SDM.tank @1:106: SDM values must be numbers, found a string
        => rejected

        ## SDM long key
        error[too-long] Players[0].PlayerAttributes.r.SDM.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx @1:98: an SDM key is 101 characters long; the maximum is 100
        => rejected

        ## SDM not an object
        error[wrong-type] Players[0].PlayerAttributes.r.SDM @1:97: an SDM value must be a JSON object, found an array
        => rejected

        ## latency zero
        error[out-of-range] Players[0].LatencyInMs.us-east-1 @1:92: a latency must be between 1 and 2147483647 ms, found 0
        => rejected

        ## latency fraction
        error[wrong-type] Players[0].LatencyInMs.us-east-1 @1:92: a latency must be a whole number of milliseconds, found 40.5
        => rejected

        ## latency string
        error[wrong-type] Players[0].LatencyInMs.us-east-1 @1:92: a latency must be a whole number of milliseconds, found a string
        => rejected

        ## latency too large
        error[out-of-range] Players[0].LatencyInMs.us-east-1 @1:92: a latency must be between 1 and 2147483647 ms, found 3000000000
        => rejected

        ## latency empty location
        error[too-short] Players[0].LatencyInMs[""] @1:79: a location must not be empty
        => rejected

        ## latency duplicate location
        error[duplicate-field] Players[0].LatencyInMs.a @1:88: location 'a' is given more than once
        => rejected

        ## latency not an object
        error[wrong-type] Players[0].LatencyInMs @1:78: LatencyInMs must be a JSON object, found an array
        => rejected

        ## empty team
        error[too-short] Players[0].Team @1:71: Team must not be empty
        => rejected

    "###]]
    .assert_eq(&out);
}

#[test]
fn json_syntax_errors_are_diagnostics() {
    let checked = check_start_matchmaking(r#"{"ConfigurationName": "c",}"#);
    assert!(!checked.is_valid());
    assert_eq!(checked.diagnostics[0].code, "json-syntax");
}

#[test]
fn stop_and_describe_requests() {
    let stop = check_stop_matchmaking(r#"{"TicketId": "t-1"}"#).value.expect("accepted");
    assert_eq!(stop.ticket_id, "t-1");
    let describe = check_describe_matchmaking(r#"{"TicketIds": ["a", "b"]}"#).value.expect("accepted");
    assert_eq!(describe.ticket_ids, ["a", "b"]);

    let summarise = |checked: Checked<()>| -> String {
        checked.diagnostics.iter().map(|d| format!("[{}] {}: {}\n", d.code, d.path, d.message)).collect()
    };
    let drop_value =
        |c: Checked<StopMatchmakingRequest>| Checked { value: c.value.map(|_| ()), diagnostics: c.diagnostics };
    let drop_describe =
        |c: Checked<DescribeMatchmakingRequest>| Checked { value: c.value.map(|_| ()), diagnostics: c.diagnostics };
    let ids: Vec<String> = (0..11).map(|i| format!("\"t{i}\"")).collect();
    let out = [
        summarise(drop_value(check_stop_matchmaking("{}"))),
        summarise(drop_value(check_stop_matchmaking(r#"{"TicketID": "t"}"#))),
        summarise(drop_value(check_stop_matchmaking(r#"{"TicketId": "a b"}"#))),
        summarise(drop_describe(check_describe_matchmaking(r#"{"TicketIds": "t1"}"#))),
        summarise(drop_describe(check_describe_matchmaking(&format!(r#"{{"TicketIds": [{}]}}"#, ids.join(","))))),
        summarise(drop_describe(check_describe_matchmaking(r#"{"TicketIds": ["ok", "no/"]}"#))),
    ]
    .concat();
    expect![[r#"
        [missing-field] : missing required field 'TicketId'
        [unknown-field] TicketID: unknown StopMatchmaking field 'TicketID'
        [bad-pattern] TicketId: TicketId contains ' ', which is not allowed
        [wrong-type] TicketIds: TicketIds must be an array of ticket IDs, found a string
        [too-many] TicketIds[10]: TicketIds has 11 IDs; DescribeMatchmaking takes at most 10
        [bad-pattern] TicketIds[1]: TicketId contains '/', which is not allowed
    "#]]
    .assert_eq(&out);
}

fn sample_ticket() -> MatchmakingTicket {
    let request = check_start_matchmaking(
        r#"{"ConfigurationName": "ranked", "Players": [
            {"PlayerId": "p1", "PlayerAttributes": {"skill": {"N": 1500.5}, "mode": {"S": "duel"},
             "maps": {"SL": ["dust"]}, "roles": {"SDM": {"tank": 1}}}, "LatencyInMs": {"us-east-1": 40}},
            {"PlayerId": "p2"}]}"#,
    )
    .value
    .expect("accepted");
    let arn = matchmaking_configuration_arn("local", "000000000000", "ranked");
    MatchmakingTicket::queued("t1".into(), &request, arn.as_str().into(), Time(1_767_225_603_500))
}

#[test]
fn serialises_tickets_in_gamelift_shape() {
    let mut ticket = sample_ticket();
    expect![[r#"{"TicketId":"t1","ConfigurationName":"ranked","ConfigurationArn":"arn:aws:gamelift:local:000000000000:matchmakingconfiguration/ranked","Status":"QUEUED","StartTime":1767225603.5,"Players":[{"PlayerId":"p1","PlayerAttributes":{"skill":{"N":1500.5},"mode":{"S":"duel"},"maps":{"SL":["dust"]},"roles":{"SDM":{"tank":1}}},"LatencyInMs":{"us-east-1":40}},{"PlayerId":"p2"}]}"#]]
    .assert_eq(&serde_json::to_string(&ticket).unwrap());

    ticket.status = TicketStatus::Cancelled;
    ticket.status_reason = Some(crate::events::DUPLICATE_PLAYER_REASON.into());
    ticket.status_message = Some("replaced".into());
    ticket.end_time = Some(Time(1_767_225_610_000));
    ticket.estimated_wait_time = Some(12);
    ticket.players[1].team = Some("red".into());
    expect![[r#"
        {
          "TicketId": "t1",
          "ConfigurationName": "ranked",
          "ConfigurationArn": "arn:aws:gamelift:local:000000000000:matchmakingconfiguration/ranked",
          "Status": "CANCELLED",
          "StatusReason": "Cancelled due to duplicate player",
          "StatusMessage": "replaced",
          "StartTime": 1767225603.5,
          "EndTime": 1767225610,
          "Players": [
            {
              "PlayerId": "p1",
              "PlayerAttributes": {
                "skill": {
                  "N": 1500.5
                },
                "mode": {
                  "S": "duel"
                },
                "maps": {
                  "SL": [
                    "dust"
                  ]
                },
                "roles": {
                  "SDM": {
                    "tank": 1
                  }
                }
              },
              "LatencyInMs": {
                "us-east-1": 40
              }
            },
            {
              "PlayerId": "p2",
              "Team": "red"
            }
          ],
          "EstimatedWaitTime": 12
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&ticket).unwrap());

    let value = ticket.to_json_value();
    assert_eq!(value["Status"], "CANCELLED");
    assert_eq!(value["StartTime"].as_f64(), Some(1_767_225_603.5));
    assert_eq!(value["Players"][0]["PlayerAttributes"]["skill"]["N"].as_f64(), Some(1500.5));
    let list = serde_json::to_string(&[ticket.clone(), sample_ticket()]).unwrap();
    assert!(list.starts_with("[{\"TicketId\":\"t1\""), "{list}");
    let described: serde_json::Value = serde_json::from_str(&describe_matchmaking_response(&[ticket])).unwrap();
    assert_eq!(described["TicketList"][0]["TicketId"], "t1");
    let started = start_matchmaking_response(&sample_ticket());
    assert!(started.starts_with(r#"{"MatchmakingTicket":{"TicketId":"t1","#), "{started}");
}

#[test]
fn statuses() {
    let names: Vec<_> = TicketStatus::ALL.iter().map(|s| (s.as_str(), s.is_terminal())).collect();
    assert_eq!(
        names,
        [
            ("QUEUED", false),
            ("SEARCHING", false),
            ("REQUIRES_ACCEPTANCE", false),
            ("PLACING", false),
            ("COMPLETED", true),
            ("FAILED", true),
            ("CANCELLED", true),
            ("TIMED_OUT", true),
        ]
    );
    for s in TicketStatus::ALL {
        assert_eq!(TicketStatus::from_aws(s.as_str()), Some(s));
        assert_eq!(s.to_string(), s.as_str());
    }
    assert_eq!(TicketStatus::from_aws("queued"), None);
}

#[test]
fn api_errors() {
    let e = ApiError::InvalidRequest("Matchmaking ticket is in PLACING status and cannot be canceled.".into());
    assert_eq!(e.error_type(), "InvalidRequestException");
    assert_eq!(e.http_status(), 400);
    assert_eq!(
        e.to_string(),
        "InvalidRequestException: Matchmaking ticket is in PLACING status and cannot be canceled."
    );
    assert_eq!(
        e.to_json_value().to_string(),
        r#"{"__type":"InvalidRequestException","message":"Matchmaking ticket is in PLACING status and cannot be canceled."}"#
    );
    assert_eq!(ApiError::NotFound("x".into()).error_type(), "NotFoundException");
    assert_eq!(ApiError::Internal("x".into()).error_type(), "InternalServiceException");
    assert_eq!(ApiError::Internal("x".into()).http_status(), 500);

    let checked = check_start_matchmaking(r#"{"ConfigurationName": "c", "Players": []}"#);
    assert_eq!(
        ApiError::from_diagnostics(&checked.diagnostics),
        Some(ApiError::InvalidRequest("Players: Players must list at least one player".into()))
    );
    assert_eq!(ApiError::from_diagnostics(&[]), None);
}
