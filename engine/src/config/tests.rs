use expect_test::{Expect, expect};

use super::*;
use crate::diagnostic::render;

/// Renders what a user sees for `text`, then whether it was accepted.
fn check_diags(text: &str, expect: Expect) {
    let checked = check(text);
    let mut out = render("config.json", text, &checked.diagnostics);
    out.push_str(if checked.is_valid() { "=> accepted\n" } else { "=> rejected\n" });
    expect.assert_eq(&out);
}

/// One line per diagnostic, for documents whose lines are too long to render usefully.
fn check_summary(text: &str, expect: Expect) {
    let checked = check(text);
    let mut out = String::new();
    for d in &checked.diagnostics {
        let severity = if d.is_error() { "error" } else { "warning" };
        out.push_str(&format!(
            "{severity}[{}] {} @{}:{}: {}\n",
            d.code, d.path, d.location.line, d.location.column, d.message
        ));
    }
    out.push_str(if checked.is_valid() { "=> accepted\n" } else { "=> rejected\n" });
    expect.assert_eq(&out);
}

fn valid(text: &str) -> MatchmakingConfiguration {
    let checked = check(text);
    let diags = render("config.json", text, &checked.diagnostics);
    assert!(checked.diagnostics.is_empty(), "unexpected diagnostics:\n{diags}");
    checked.value.expect("accepted")
}

/// The AWS API reference's WITH_QUEUE example, in our own words.
const AWS_WITH_QUEUE: &str = r#"{
  "Name": "MM-1v1",
  "Description": "A 1v1 matchmaker with player acceptance",
  "RuleSetName": "mm_one_v_one",
  "RequestTimeoutSeconds": 120,
  "AcceptanceRequired": true,
  "AcceptanceTimeoutSeconds": 60,
  "BackfillMode": "AUTOMATIC",
  "AdditionalPlayerCount": 8,
  "FlexMatchMode": "WITH_QUEUE",
  "GameSessionQueueArns": ["arn:aws:gamelift:us-west-2:111122223333:gamesessionqueue/mm-queue-1"],
  "NotificationTarget": "arn:aws:sns:us-west-2:111122223333:My_Matchmaking_SNS_Topic",
  "GameProperties": [
    {"Key": "level", "Value": "10"},
    {"Key": "difficulty", "Value": "hard"}
  ]
}"#;

/// The AWS API reference's STANDALONE example, in our own words.
const AWS_STANDALONE: &str = r#"{
  "Name": "MM-1v1",
  "RuleSetName": "mm_one_v_one",
  "RequestTimeoutSeconds": 120,
  "AcceptanceRequired": true,
  "AcceptanceTimeoutSeconds": 60,
  "BackfillMode": "MANUAL",
  "FlexMatchMode": "STANDALONE",
  "NotificationTarget": "arn:aws:sns:us-west-2:111122223333:My_Matchmaking_SNS_Topic"
}"#;

#[test]
fn accepts_the_aws_with_queue_example() {
    let c = valid(AWS_WITH_QUEUE);
    assert_eq!(c.name, "MM-1v1");
    assert_eq!(c.description.as_deref(), Some("A 1v1 matchmaker with player acceptance"));
    assert_eq!(c.rule_set, RuleSetSource::Name("mm_one_v_one".into()));
    assert_eq!(c.request_timeout_seconds, 120);
    assert!(c.acceptance_required);
    assert_eq!(c.acceptance_timeout_seconds, Some(60));
    assert_eq!(c.acceptance_timeout(), 60);
    assert_eq!(c.backfill_mode, BackfillMode::Automatic);
    assert_eq!(c.additional_player_count, 8);
    assert_eq!(c.flex_match_mode, FlexMatchMode::WithQueue);
    assert_eq!(c.game_session_queue_arns, ["arn:aws:gamelift:us-west-2:111122223333:gamesessionqueue/mm-queue-1"]);
    assert_eq!(c.notification_target.as_deref(), Some("arn:aws:sns:us-west-2:111122223333:My_Matchmaking_SNS_Topic"));
    assert_eq!(
        c.game_properties,
        [("level".to_owned(), "10".to_owned()), ("difficulty".to_owned(), "hard".to_owned())]
    );
    assert_eq!(c.custom_event_data, None);
    assert_eq!(c.game_session_data, None);
    assert!(c.tags.is_empty());
}

#[test]
fn accepts_the_aws_standalone_example() {
    let c = valid(AWS_STANDALONE);
    assert_eq!(c.name, "MM-1v1");
    assert_eq!(c.rule_set, RuleSetSource::Name("mm_one_v_one".into()));
    assert_eq!(c.flex_match_mode, FlexMatchMode::Standalone);
    assert_eq!(c.backfill_mode, BackfillMode::Manual);
    assert_eq!(c.additional_player_count, 0);
    assert!(c.game_session_queue_arns.is_empty());
    assert!(c.game_properties.is_empty());
    assert_eq!(c.acceptance_timeout(), 60);
}

#[test]
fn fills_in_defaults_for_a_minimal_local_configuration() {
    let c = valid(
        r#"{"Name": "local", "RuleSetPath": "rules/1v1.json", "RequestTimeoutSeconds": 30, "AcceptanceRequired": true}"#,
    );
    assert_eq!(c.rule_set, RuleSetSource::Path("rules/1v1.json".into()));
    assert_eq!(c.flex_match_mode, FlexMatchMode::Standalone);
    assert_eq!(c.backfill_mode, BackfillMode::Manual);
    assert_eq!(c.acceptance_timeout_seconds, None);
    assert_eq!(c.acceptance_timeout(), DEFAULT_ACCEPTANCE_TIMEOUT_SECONDS);
    assert_eq!(c.additional_player_count, 0);
    assert_eq!(c.description, None);

    // Queues without FlexMatchMode mean WITH_QUEUE, so automatic backfill is allowed.
    let c = valid(
        r#"{"Name": "q", "RuleSetName": "r", "RequestTimeoutSeconds": 30, "AcceptanceRequired": false,
            "GameSessionQueueArns": ["arn:aws:gamelift:us-east-1:1:gamesessionqueue/q"], "BackfillMode": "AUTOMATIC"}"#,
    );
    assert_eq!(c.flex_match_mode, FlexMatchMode::WithQueue);
    assert_eq!(c.backfill_mode, BackfillMode::Automatic);
}

#[test]
fn keeps_an_inline_rule_set_body_as_written() {
    let text = r#"{"Name": "inline", "RuleSetName": "one-team",
 "RuleSetBody": {"ruleLanguageVersion": "1.0",
                 "teams": [{"name": "all", "minPlayers": 2, "maxPlayers": 2}]},
 "RequestTimeoutSeconds": 60, "AcceptanceRequired": false}"#;
    let c = valid(text);
    let RuleSetSource::Body { name, text: body, span, inline } = c.rule_set else { panic!("{:?}", c.rule_set) };
    assert_eq!(name.as_deref(), Some("one-team"));
    assert!(inline);
    assert!(body.starts_with("{\"ruleLanguageVersion\"") && body.ends_with("]}"));
    assert_eq!(&text[span.start as usize..span.end as usize], body);
    // A span found in the body, shifted by `span.start`, points at the same text.
    let teams = body.find("\"teams\"").unwrap();
    let rebased = span.start as usize + teams;
    assert_eq!(&text[rebased..rebased + 7], "\"teams\"");
}

#[test]
fn unescapes_a_string_rule_set_body() {
    let text = r#"{"Name": "s", "RuleSetBody": "{\"ruleLanguageVersion\": \"1.0\", \"teams\": []}",
 "RequestTimeoutSeconds": 60, "AcceptanceRequired": false}"#;
    let c = valid(text);
    let RuleSetSource::Body { name, text: body, span, inline } = c.rule_set else { panic!("{:?}", c.rule_set) };
    assert_eq!(name, None);
    assert!(!inline);
    assert_eq!(body, r#"{"ruleLanguageVersion": "1.0", "teams": []}"#);
    assert!(text[span.start as usize..span.end as usize].starts_with("\"{\\\"rule"));
}

#[test]
fn treats_null_as_absent_for_optional_fields() {
    let c = valid(
        r#"{"Name": "n", "RuleSetName": "r", "RequestTimeoutSeconds": 1, "AcceptanceRequired": false,
            "Description": null, "GameProperties": null, "FlexMatchMode": null, "RuleSetPath": null}"#,
    );
    assert_eq!(c.description, None);
    assert_eq!(c.flex_match_mode, FlexMatchMode::Standalone);
    assert_eq!(c.rule_set, RuleSetSource::Name("r".into()));
}

#[test]
fn accepts_values_at_their_limits() {
    let props: Vec<String> =
        (0..16).map(|i| format!(r#"{{"Key": "{i:0>32}", "Value": "{}"}}"#, "v".repeat(96))).collect();
    let text = format!(
        r#"{{"Name": "{}", "RuleSetName": "arn:aws:gamelift:us-west-2::matchmakingruleset/{}",
            "RequestTimeoutSeconds": 43200, "AcceptanceRequired": true, "AcceptanceTimeoutSeconds": 600,
            "CustomEventData": "{}", "GameSessionData": "{}", "Description": "{}", "NotificationTarget": "topic.fifo",
            "GameSessionQueueArns": ["{}"], "GameProperties": [{}], "AdditionalPlayerCount": 0}}"#,
        "n".repeat(128),
        "r".repeat(100),
        "c".repeat(256),
        "g".repeat(4096),
        "d".repeat(1024),
        "a".repeat(512),
        props.join(", "),
    );
    let c = valid(&text);
    assert_eq!(c.request_timeout_seconds, 43200);
    assert_eq!(c.acceptance_timeout(), 600);
    assert_eq!(c.game_properties.len(), 16);
    assert_eq!(c.notification_target.as_deref(), Some("topic.fifo"));
}

#[test]
fn check_value_prefixes_paths_and_slices_inline_bodies() {
    let text = r#"{"configuration": {"Name": "x y", "RuleSetBody": {"teams": []},
  "RequestTimeoutSeconds": 5, "AcceptanceRequired": false, "Tags": [{"Key": "", "Value": "v"}]}}"#;
    let root = json::parse(text).unwrap();
    let mut sink = Sink::new(text);
    let got = check_value(root.get("configuration").unwrap(), text, "configuration", &mut sink);
    assert!(got.is_none());
    let paths: Vec<_> = sink.finish().into_iter().map(|d| (d.code, d.path)).collect();
    assert_eq!(
        paths,
        [("bad-pattern", "configuration.Name".to_owned()), ("too-short", "configuration.Tags[0].Key".to_owned())]
    );

    let fixed = text.replace("x y", "x-y").replace(r#""Key": """#, r#""Key": "k""#);
    let root = json::parse(&fixed).unwrap();
    let mut sink = Sink::new(&fixed);
    // Errors already in the sink (elsewhere in the document) do not reject this configuration.
    sink.error("other", "elsewhere", Span::new(0, 1), "unrelated");
    let c = check_value(root.get("configuration").unwrap(), &fixed, "configuration", &mut sink).unwrap();
    assert_eq!(sink.finish().len(), 1);
    let RuleSetSource::Body { text: body, span, inline: true, .. } = c.rule_set else { panic!("{:?}", c.rule_set) };
    assert_eq!(body, r#"{"teams": []}"#);
    assert_eq!(&fixed[span.start as usize..span.end as usize], body);
}

// ---------------------------------------------------------------------------------------
// Rejected configurations: what the user sees.

const BASE: &str = r#""Name": "mm", "RuleSetName": "rules", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false"#;

/// A valid configuration with `extra` members appended.
fn with(extra: &str) -> String {
    format!("{{{BASE},\n {extra}}}")
}

#[test]
fn json_syntax_error() {
    check_diags(
        "{\"Name\": \"mm\",\n \"RequestTimeoutSeconds\": 60,\n}",
        expect![[r#"
            error[json-syntax]: trailing comma before `}`
             --> config.json:2:29
              |
            2 |  "RequestTimeoutSeconds": 60,
              |                             ^
              = help: JSON does not allow a comma after the last member; remove it

            => rejected
        "#]],
    );
}

#[test]
fn root_must_be_an_object() {
    check_diags(
        r#"[{"Name": "mm"}]"#,
        expect![[r#"
            error[wrong-type]: a matchmaking configuration must be a JSON object, found an array
             --> config.json:1:1
              |
            1 | [{"Name": "mm"}]
              | ^^^^^^^^^^^^^^^^
              = help: write the configuration as { "Name": …, "RuleSetName": …, … }

            => rejected
        "#]],
    );
}

#[test]
fn unknown_fields_suggest_the_right_name() {
    check_diags(
        r#"{"Name": "mm", "RuleSetName": "rules", "AcceptanceRequired": false,
 "RequestTimeoutSecond": 60,
 "requestTimeoutSeconds": 60,
 "request_timeout_seconds": 60,
 "Priority": 1,
 "Configuration": {}}"#,
        expect![[r#"
            error[unknown-field]: unknown matchmaking configuration field 'RequestTimeoutSecond'
             --> config.json:2:2
              |
            2 |  "RequestTimeoutSecond": 60,
              |  ^^^^^^^^^^^^^^^^^^^^^^
              = path: RequestTimeoutSecond
              = help: did you mean 'RequestTimeoutSeconds'?

            error[unknown-field]: unknown matchmaking configuration field 'requestTimeoutSeconds'
             --> config.json:3:2
              |
            3 |  "requestTimeoutSeconds": 60,
              |  ^^^^^^^^^^^^^^^^^^^^^^^
              = path: requestTimeoutSeconds
              = help: did you mean 'RequestTimeoutSeconds'?

            error[unknown-field]: unknown matchmaking configuration field 'request_timeout_seconds'
             --> config.json:4:2
              |
            4 |  "request_timeout_seconds": 60,
              |  ^^^^^^^^^^^^^^^^^^^^^^^^^
              = path: request_timeout_seconds
              = help: did you mean 'RequestTimeoutSeconds'?

            error[unknown-field]: unknown matchmaking configuration field 'Priority'
             --> config.json:5:2
              |
            5 |  "Priority": 1,
              |  ^^^^^^^^^^
              = path: Priority
              = help: the fields are Name, Description, RuleSetName, RequestTimeoutSeconds, AcceptanceRequired, AcceptanceTimeoutSeconds, AdditionalPlayerCount, BackfillMode, FlexMatchMode, GameSessionQueueArns, NotificationTarget, CustomEventData, GameProperties, GameSessionData, Tags, RuleSetBody, RuleSetPath

            error[unknown-field]: unknown matchmaking configuration field 'Configuration'
             --> config.json:6:2
              |
            6 |  "Configuration": {}}
              |  ^^^^^^^^^^^^^^^
              = path: Configuration
              = help: this looks like a GameLift response; use the configuration object inside 'Configuration'

            => rejected
        "#]],
    );
}

#[test]
fn duplicate_fields() {
    check_diags(
        &with(r#""Name": "mm2""#),
        expect![[r#"
            error[duplicate-field]: 'Name' is given more than once
             --> config.json:2:2
              |
            2 |  "Name": "mm2"}
              |  ^^^^^^
              = path: Name
              = help: delete one of them; JSON readers disagree about which one wins

            => rejected
        "#]],
    );
}

#[test]
fn missing_required_fields() {
    check_diags(
        "{}",
        expect![[r#"
            error[missing-field]: missing required field 'AcceptanceRequired'
             --> config.json:1:1
              |
            1 | {}
              | ^
              = help: add "AcceptanceRequired": false, or true if players must accept each match

            error[missing-field]: missing required field 'Name'
             --> config.json:1:1
              |
            1 | {}
              | ^
              = help: give the matchmaker a unique name, e.g. "Name": "ranked-1v1"

            error[missing-field]: missing required field 'RequestTimeoutSeconds'
             --> config.json:1:1
              |
            1 | {}
              | ^
              = help: add "RequestTimeoutSeconds": the longest a ticket may wait for a match, 1 to 43200 seconds

            error[missing-field]: missing the rule set: give RuleSetName, RuleSetBody or RuleSetPath
             --> config.json:1:1
              |
            1 | {}
              | ^
              = help: RuleSetName refers to an existing rule set, RuleSetBody embeds one, and RuleSetPath points to a rule-set file

            => rejected
        "#]],
    );
}

#[test]
fn output_only_fields_are_ignored_with_a_warning() {
    check_diags(
        &with(
            r#""ConfigurationArn": "arn:aws:gamelift:us-west-2:111122223333:matchmakingconfiguration/mm", "CreationTime": 1469498468.057, "RuleSetArn": "arn:aws:gamelift:us-west-2::matchmakingruleset/rules""#,
        ),
        expect![[r#"
            warning[ignored-field]: 'ConfigurationArn' is set by GameLift, not by the configuration; it is ignored
             --> config.json:2:2
              |
            2 |  "ConfigurationArn": "arn:aws:gamelift:us-west-2:111122223333:matchmakingconfiguration/mm", "CreationTime": 1469498468.057, "RuleSetArn": "arn:aws:gamelift:us-west-2::matchmakingruleset/rules"}
              |  ^^^^^^^^^^^^^^^^^^
              = path: ConfigurationArn
              = help: it appears in DescribeMatchmakingConfigurations output; you can delete it

            warning[ignored-field]: 'CreationTime' is set by GameLift, not by the configuration; it is ignored
             --> config.json:2:93
              |
            2 |  "ConfigurationArn": "arn:aws:gamelift:us-west-2:111122223333:matchmakingconfiguration/mm", "CreationTime": 1469498468.057, "RuleSetArn": "arn:aws:gamelift:us-west-2::matchmakingruleset/rules"}
              |                                                                                             ^^^^^^^^^^^^^^
              = path: CreationTime
              = help: it appears in DescribeMatchmakingConfigurations output; you can delete it

            warning[ignored-field]: 'RuleSetArn' is set by GameLift, not by the configuration; it is ignored
             --> config.json:2:125
              |
            2 |  "ConfigurationArn": "arn:aws:gamelift:us-west-2:111122223333:matchmakingconfiguration/mm", "CreationTime": 1469498468.057, "RuleSetArn": "arn:aws:gamelift:us-west-2::matchmakingruleset/rules"}
              |                                                                                                                             ^^^^^^^^^^^^
              = path: RuleSetArn
              = help: it appears in DescribeMatchmakingConfigurations output; you can delete it

            => accepted
        "#]],
    );
}

#[test]
fn wrong_types() {
    check_diags(
        r#"{"Name": 5, "RuleSetName": "rules",
 "RequestTimeoutSeconds": "soon",
 "AcceptanceRequired": "true",
 "AcceptanceTimeoutSeconds": 12.5,
 "AdditionalPlayerCount": true,
 "BackfillMode": 1,
 "GameSessionQueueArns": "arn:aws:gamelift:us-west-2:1:gamesessionqueue/q",
 "Description": ["a"],
 "Tags": {"team": "red"}}"#,
        expect![[r#"
            error[wrong-type]: Name must be a string, found a number
             --> config.json:1:10
              |
            1 | {"Name": 5, "RuleSetName": "rules",
              |          ^
              = path: Name
              = help: write it in double quotes: "5"

            error[wrong-type]: RequestTimeoutSeconds must be a whole number, found a string
             --> config.json:2:27
              |
            2 |  "RequestTimeoutSeconds": "soon",
              |                           ^^^^^^
              = path: RequestTimeoutSeconds

            error[wrong-type]: AcceptanceRequired must be true or false, found a string
             --> config.json:3:24
              |
            3 |  "AcceptanceRequired": "true",
              |                        ^^^^^^
              = path: AcceptanceRequired
              = help: write true without quotes

            error[wrong-type]: AcceptanceTimeoutSeconds must be a whole number, found 12.5
             --> config.json:4:30
              |
            4 |  "AcceptanceTimeoutSeconds": 12.5,
              |                              ^^^^
              = path: AcceptanceTimeoutSeconds

            error[wrong-type]: AdditionalPlayerCount must be a whole number, found a boolean
             --> config.json:5:27
              |
            5 |  "AdditionalPlayerCount": true,
              |                           ^^^^
              = path: AdditionalPlayerCount

            error[wrong-type]: BackfillMode must be the string AUTOMATIC or MANUAL, found a number
             --> config.json:6:18
              |
            6 |  "BackfillMode": 1,
              |                  ^
              = path: BackfillMode

            error[wrong-type]: GameSessionQueueArns must be an array of queue ARNs, found a string
             --> config.json:7:26
              |
            7 |  "GameSessionQueueArns": "arn:aws:gamelift:us-west-2:1:gamesessionqueue/q",
              |                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
              = path: GameSessionQueueArns
              = help: write ["arn:aws:gamelift:us-west-2:1:gamesessionqueue/q"]

            error[wrong-type]: Description must be a string, found an array
             --> config.json:8:17
              |
            8 |  "Description": ["a"],
              |                 ^^^^^
              = path: Description

            error[wrong-type]: Tags must be an array of {"Key": …, "Value": …} objects, found an object
             --> config.json:9:10
              |
            9 |  "Tags": {"team": "red"}}
              |          ^^^^^^^^^^^^^^^
              = path: Tags
              = help: write each entry as {"Key": "team", "Value": "red"} inside [ ]

            => rejected
        "#]],
    );
}

#[test]
fn null_required_fields_are_type_errors() {
    check_diags(
        r#"{"Name": null, "RuleSetName": "rules", "RequestTimeoutSeconds": null, "AcceptanceRequired": null}"#,
        expect![[r#"
            error[wrong-type]: Name must be a string, found null
             --> config.json:1:10
              |
            1 | {"Name": null, "RuleSetName": "rules", "RequestTimeoutSeconds": null, "AcceptanceRequired": null}
              |          ^^^^
              = path: Name

            error[wrong-type]: RequestTimeoutSeconds must be a whole number, found null
             --> config.json:1:65
              |
            1 | {"Name": null, "RuleSetName": "rules", "RequestTimeoutSeconds": null, "AcceptanceRequired": null}
              |                                                                 ^^^^
              = path: RequestTimeoutSeconds

            error[wrong-type]: AcceptanceRequired must be true or false, found null
             --> config.json:1:93
              |
            1 | {"Name": null, "RuleSetName": "rules", "RequestTimeoutSeconds": null, "AcceptanceRequired": null}
              |                                                                                             ^^^^
              = path: AcceptanceRequired
              = help: write true or false

            => rejected
        "#]],
    );
}

#[test]
fn numbers_written_as_strings_are_accepted_with_a_warning() {
    check_diags(
        r#"{"Name": "mm", "RuleSetName": "rules", "AcceptanceRequired": true,
 "RequestTimeoutSeconds": "120",
 "AcceptanceTimeoutSeconds": "30.5"}"#,
        expect![[r#"
            warning[number-as-string]: RequestTimeoutSeconds is a number written as a string
             --> config.json:2:27
              |
            2 |  "RequestTimeoutSeconds": "120",
              |                           ^^^^^
              = path: RequestTimeoutSeconds
              = help: GameLift's API expects a JSON number here; write 120 without quotes

            error[wrong-type]: AcceptanceTimeoutSeconds must be a whole number, found a string
             --> config.json:3:30
              |
            3 |  "AcceptanceTimeoutSeconds": "30.5"}
              |                              ^^^^^^
              = path: AcceptanceTimeoutSeconds

            => rejected
        "#]],
    );
}

#[test]
fn numbers_out_of_range() {
    check_diags(
        r#"{"Name": "mm", "RuleSetName": "rules", "AcceptanceRequired": true,
 "RequestTimeoutSeconds": 43201,
 "AcceptanceTimeoutSeconds": 0,
 "AdditionalPlayerCount": -1}"#,
        expect![[r#"
            error[out-of-range]: RequestTimeoutSeconds must be between 1 and 43200 seconds, found 43201
             --> config.json:2:27
              |
            2 |  "RequestTimeoutSeconds": 43201,
              |                           ^^^^^
              = path: RequestTimeoutSeconds

            error[out-of-range]: AcceptanceTimeoutSeconds must be between 1 and 600 seconds, found 0
             --> config.json:3:30
              |
            3 |  "AcceptanceTimeoutSeconds": 0,
              |                              ^
              = path: AcceptanceTimeoutSeconds

            error[out-of-range]: AdditionalPlayerCount must be 0 or more, found -1
             --> config.json:4:27
              |
            4 |  "AdditionalPlayerCount": -1}
              |                           ^^
              = path: AdditionalPlayerCount

            => rejected
        "#]],
    );
    check_diags(
        r#"{"Name": "mm", "RuleSetName": "rules", "AcceptanceRequired": true,
 "RequestTimeoutSeconds": 0,
 "AcceptanceTimeoutSeconds": 601,
 "AdditionalPlayerCount": 1e300}"#,
        expect![[r#"
            error[out-of-range]: RequestTimeoutSeconds must be between 1 and 43200 seconds, found 0
             --> config.json:2:27
              |
            2 |  "RequestTimeoutSeconds": 0,
              |                           ^
              = path: RequestTimeoutSeconds

            error[out-of-range]: AcceptanceTimeoutSeconds must be between 1 and 600 seconds, found 601
             --> config.json:3:30
              |
            3 |  "AcceptanceTimeoutSeconds": 601,
              |                              ^^^
              = path: AcceptanceTimeoutSeconds

            error[out-of-range]: AdditionalPlayerCount must be 0 or more, found 1e300
             --> config.json:4:27
              |
            4 |  "AdditionalPlayerCount": 1e300}
              |                           ^^^^^
              = path: AdditionalPlayerCount

            => rejected
        "#]],
    );
}

#[test]
fn strings_too_long_or_empty() {
    let text = format!(
        r#"{{"Name": "{}",
 "Description": "",
 "RuleSetName": "{}",
 "RequestTimeoutSeconds": 60, "AcceptanceRequired": false,
 "CustomEventData": "{}",
 "GameSessionData": "",
 "NotificationTarget": "{}",
 "GameSessionQueueArns": ["", "{}"]}}"#,
        "n".repeat(129),
        "r".repeat(257),
        "c".repeat(257),
        "t".repeat(301),
        "q".repeat(513),
    );
    check_summary(
        &text,
        expect![[r#"
        error[too-long] Name @1:10: Name is 129 characters long; the maximum is 128
        error[too-short] Description @2:17: Description must not be empty
        error[too-long] RuleSetName @3:17: RuleSetName is 257 characters long; the maximum is 256
        error[too-long] CustomEventData @5:21: CustomEventData is 257 characters long; the maximum is 256
        error[too-short] GameSessionData @6:21: GameSessionData must not be empty
        error[too-long] NotificationTarget @7:24: NotificationTarget is 301 characters long; the maximum is 300
        error[too-short] GameSessionQueueArns[0] @8:27: GameSessionQueueArns[0] must not be empty
        error[too-long] GameSessionQueueArns[1] @8:31: GameSessionQueueArns[1] is 513 characters long; the maximum is 512
        => rejected
    "#]],
    );
    check_summary(
        &format!(
            "{{\"Name\": \"\", \"RuleSetName\": \"\", \"RequestTimeoutSeconds\": 60, \"AcceptanceRequired\": false,\n \"Description\": \"{}\", \"GameSessionData\": \"{}\"}}",
            "d".repeat(1025),
            "g".repeat(4097)
        ),
        expect![[r#"
            error[too-short] Name @1:10: Name must not be empty
            error[too-short] RuleSetName @1:29: RuleSetName must not be empty
            error[too-long] Description @2:17: Description is 1025 characters long; the maximum is 1024
            error[too-long] GameSessionData @2:1065: GameSessionData is 4097 characters long; the maximum is 4096
            warning[ignored-field] GameSessionData @2:1065: GameSessionData is ignored in STANDALONE mode
            => rejected
        "#]],
    );
}

#[test]
fn bad_patterns() {
    check_diags(
        r#"{"Name": "MM 1v1", "RuleSetName": "rules/1v1",
 "RequestTimeoutSeconds": 60, "AcceptanceRequired": false,
 "NotificationTarget": "arn:aws:sns:us-west-2:111122223333:my topic",
 "GameSessionQueueArns": ["arn:aws:gamelift:us-west-2:111122223333:gamesessionqueue/MegaFrog_NA"]}"#,
        expect![[r#"
            error[bad-pattern]: Name contains ' ', which is not allowed
             --> config.json:1:13
              |
            1 | {"Name": "MM 1v1", "RuleSetName": "rules/1v1",
              |             ^
              = path: Name
              = help: a configuration name may use only letters, digits, '-', '.' and '_'

            error[bad-pattern]: RuleSetName contains '/', which is not allowed
             --> config.json:1:41
              |
            1 | {"Name": "MM 1v1", "RuleSetName": "rules/1v1",
              |                                         ^
              = path: RuleSetName
              = help: a rule set name may use only letters, digits, '-', '.' and '_', or be a matchmaking rule set ARN

            error[bad-pattern]: NotificationTarget contains ' ', which is not allowed
             --> config.json:3:62
              |
            3 |  "NotificationTarget": "arn:aws:sns:us-west-2:111122223333:my topic",
              |                                                              ^
              = path: NotificationTarget
              = help: give an SNS topic ARN, e.g. arn:aws:sns:us-west-2:111122223333:my-topic (a FIFO topic's name ends in .fifo)

            error[bad-pattern]: GameSessionQueueArns[0] contains '_', which is not allowed
             --> config.json:4:93
              |
            4 |  "GameSessionQueueArns": ["arn:aws:gamelift:us-west-2:111122223333:gamesessionqueue/MegaFrog_NA"]}
              |                                                                                             ^
              = path: GameSessionQueueArns[0]
              = help: a game session queue ARN uses only letters, digits, ':', '/' and '-', e.g. arn:aws:gamelift:us-west-2:111122223333:gamesessionqueue/my-queue

            => rejected
        "#]],
    );
    check_diags(
        r#"{"Name": "caf\u00e9", "RuleSetName": "arn:aws:gamelift:us-west-2::matchmakingconfiguration/mm",
 "RequestTimeoutSeconds": 60, "AcceptanceRequired": false}"#,
        expect![[r#"
            error[bad-pattern]: Name contains 'é', which is not allowed
             --> config.json:1:10
              |
            1 | {"Name": "caf\u00e9", "RuleSetName": "arn:aws:gamelift:us-west-2::matchmakingconfiguration/mm",
              |          ^^^^^^^^^^^
              = path: Name
              = help: a configuration name may use only letters, digits, '-', '.' and '_'

            error[bad-pattern]: RuleSetName is an ARN but not a matchmaking rule set ARN
             --> config.json:1:38
              |
            1 | {"Name": "caf\u00e9", "RuleSetName": "arn:aws:gamelift:us-west-2::matchmakingconfiguration/mm",
              |                                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
              = path: RuleSetName
              = help: expected arn:aws:gamelift:<region>:<account>:matchmakingruleset/<rule set name>

            => rejected
        "#]],
    );
}

#[test]
fn unknown_enum_values() {
    check_diags(
        &with(r#""FlexMatchMode": "standalone", "BackfillMode": "AUTO""#),
        expect![[r#"
            error[unknown-value]: FlexMatchMode must be STANDALONE or WITH_QUEUE, found "standalone"
             --> config.json:2:19
              |
            2 |  "FlexMatchMode": "standalone", "BackfillMode": "AUTO"}
              |                   ^^^^^^^^^^^^
              = path: FlexMatchMode
              = help: did you mean 'STANDALONE'?

            error[unknown-value]: BackfillMode must be AUTOMATIC or MANUAL, found "AUTO"
             --> config.json:2:49
              |
            2 |  "FlexMatchMode": "standalone", "BackfillMode": "AUTO"}
              |                                                 ^^^^^^
              = path: BackfillMode
              = help: did you mean 'AUTOMATIC'?

            => rejected
        "#]],
    );
    check_diags(
        &with(r#""FlexMatchMode": "with-queue""#),
        expect![[r#"
        error[unknown-value]: FlexMatchMode must be STANDALONE or WITH_QUEUE, found "with-queue"
         --> config.json:2:19
          |
        2 |  "FlexMatchMode": "with-queue"}
          |                   ^^^^^^^^^^^^
          = path: FlexMatchMode
          = help: did you mean 'WITH_QUEUE'?

        => rejected
    "#]],
    );
}

#[test]
fn game_properties_problems() {
    check_diags(
        &with(
            r#""GameSessionQueueArns": ["arn:aws:gamelift:us-west-2:1:gamesessionqueue/q"],
 "GameProperties": [
  {"Key": "level", "Value": 10},
  {"key": "mode", "Value": "ranked"},
  {"Key": "difficulty"},
  {"Key": "level", "Value": "12"},
  {"Key": "a-very-long-property-key-over-32-chars", "Value": "x"},
  "map=forest"
 ]"#,
        ),
        expect![[r#"
            error[wrong-type]: GameProperties[0].Value must be a string, found a number
             --> config.json:4:29
              |
            4 |   {"Key": "level", "Value": 10},
              |                             ^^
              = path: GameProperties[0].Value
              = help: write it in double quotes: "10"

            error[unknown-field]: unknown game property field 'key'
             --> config.json:5:4
              |
            5 |   {"key": "mode", "Value": "ranked"},
              |    ^^^^^
              = path: GameProperties[1].key
              = help: did you mean 'Key'?

            error[missing-field]: GameProperties[2] is missing required field 'Value'
             --> config.json:6:3
              |
            6 |   {"Key": "difficulty"},
              |   ^
              = path: GameProperties[2]
              = help: write the entry as {"Key": "level", "Value": "10"}

            warning[duplicate-key]: game property key 'level' is already used by GameProperties[0]
             --> config.json:7:11
              |
            7 |   {"Key": "level", "Value": "12"},
              |           ^^^^^^^
              = path: GameProperties[3].Key
              = help: the game session would get both values; remove one

            error[too-long]: GameProperties[4].Key is 38 characters long; the maximum is 32
             --> config.json:8:11
              |
            8 |   {"Key": "a-very-long-property-key-over-32-chars", "Value": "x"},
              |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
              = path: GameProperties[4].Key

            error[wrong-type]: GameProperties[5] must be an object like {"Key": "level", "Value": "10"}, found a string
             --> config.json:9:3
              |
            9 |   "map=forest"
              |   ^^^^^^^^^^^^
              = path: GameProperties[5]

            => rejected
        "#]],
    );
    check_diags(
        &with(r#""GameProperties": {"level": "10"}"#),
        expect![[r#"
        error[wrong-type]: GameProperties must be an array of {"Key": …, "Value": …} objects, found an object
         --> config.json:2:20
          |
        2 |  "GameProperties": {"level": "10"}}
          |                    ^^^^^^^^^^^^^^^
          = path: GameProperties
          = help: write each entry as {"Key": "level", "Value": "10"} inside [ ]

        => rejected
    "#]],
    );
}

#[test]
fn too_many_game_properties_and_tags() {
    let props: Vec<String> = (0..17).map(|i| format!(r#"{{"Key": "k{i}", "Value": "v"}}"#)).collect();
    let tags: Vec<String> = (0..201).map(|i| format!(r#"{{"Key": "k{i}", "Value": "v"}}"#)).collect();
    let text = format!(
        "{{{BASE},\n \"GameSessionQueueArns\": [\"arn:aws:gamelift:us-west-2:1:gamesessionqueue/q\"],\n \"GameProperties\": [{}],\n \"Tags\": [{}]}}",
        props.join(", "),
        tags.join(", ")
    );
    let checked = check(&text);
    let got: Vec<_> = checked.diagnostics.iter().map(|d| (d.code, d.path.as_str(), d.message.as_str())).collect();
    assert_eq!(
        got,
        [
            ("too-many", "GameProperties[16]", "GameProperties has 17 entries; the maximum is 16"),
            ("too-many", "Tags[200]", "Tags has 201 entries; the maximum is 200"),
        ]
    );
    assert!(!checked.is_valid());
}

#[test]
fn tag_problems() {
    check_diags(
        &with(
            r#""Tags": [
  {"Key": "team", "Value": "red"},
  {"Key": "", "Value": "x"},
  {"Key": "team", "Value": "blue", "Owner": "me"}
 ]"#,
        ),
        expect![[r#"
            error[too-short]: Tags[1].Key must not be empty
             --> config.json:4:11
              |
            4 |   {"Key": "", "Value": "x"},
              |           ^^
              = path: Tags[1].Key

            error[duplicate-key]: tag key 'team' is already used by Tags[0]
             --> config.json:5:11
              |
            5 |   {"Key": "team", "Value": "blue", "Owner": "me"}
              |           ^^^^^^
              = path: Tags[2].Key
              = help: give each tag a different key

            error[unknown-field]: unknown tag field 'Owner'
             --> config.json:5:36
              |
            5 |   {"Key": "team", "Value": "blue", "Owner": "me"}
              |                                    ^^^^^^^
              = path: Tags[2].Owner
              = help: the fields are Key, Value

            => rejected
        "#]],
    );
}

#[test]
fn standalone_conflicts() {
    check_diags(
        &with(
            r#""FlexMatchMode": "STANDALONE",
 "GameSessionQueueArns": ["arn:aws:gamelift:us-west-2:1:gamesessionqueue/q"],
 "BackfillMode": "AUTOMATIC",
 "AdditionalPlayerCount": 2,
 "GameSessionData": "map=forest",
 "GameProperties": [{"Key": "level", "Value": "10"}]"#,
        ),
        expect![[r#"
            error[incompatible-fields]: GameSessionQueueArns must not be set when FlexMatchMode is STANDALONE
             --> config.json:3:26
              |
            3 |  "GameSessionQueueArns": ["arn:aws:gamelift:us-west-2:1:gamesessionqueue/q"],
              |                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
              = path: GameSessionQueueArns
              = help: in STANDALONE mode your own service starts game sessions; remove the queues, or set FlexMatchMode to WITH_QUEUE to place matches through them

            error[incompatible-fields]: automatic backfill is not available in STANDALONE mode
             --> config.json:4:18
              |
            4 |  "BackfillMode": "AUTOMATIC",
              |                  ^^^^^^^^^^^
              = path: BackfillMode
              = help: use MANUAL and request backfill with StartMatchBackfill, or use FlexMatchMode WITH_QUEUE with a game session queue

            warning[ignored-field]: AdditionalPlayerCount is ignored in STANDALONE mode
             --> config.json:5:27
              |
            5 |  "AdditionalPlayerCount": 2,
              |                           ^
              = path: AdditionalPlayerCount
              = help: FlexMatch creates no game session in STANDALONE mode

            warning[ignored-field]: GameSessionData is ignored in STANDALONE mode
             --> config.json:6:21
              |
            6 |  "GameSessionData": "map=forest",
              |                     ^^^^^^^^^^^^
              = path: GameSessionData
              = help: FlexMatch creates no game session in STANDALONE mode

            warning[ignored-field]: GameProperties is ignored in STANDALONE mode
             --> config.json:7:20
              |
            7 |  "GameProperties": [{"Key": "level", "Value": "10"}]}
              |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
              = path: GameProperties
              = help: FlexMatch creates no game session in STANDALONE mode

            => rejected
        "#]],
    );
}

#[test]
fn defaulted_standalone_conflicts_explain_the_default() {
    check_diags(
        &with(r#""BackfillMode": "AUTOMATIC", "AdditionalPlayerCount": 2, "GameSessionQueueArns": []"#),
        expect![[r#"
            error[incompatible-fields]: automatic backfill is not available in STANDALONE mode
             --> config.json:2:18
              |
            2 |  "BackfillMode": "AUTOMATIC", "AdditionalPlayerCount": 2, "GameSessionQueueArns": []}
              |                  ^^^^^^^^^^^
              = path: BackfillMode
              = help: FlexMatchMode defaults to STANDALONE when no GameSessionQueueArns are given; use MANUAL and request backfill with StartMatchBackfill, or use FlexMatchMode WITH_QUEUE with a game session queue

            warning[ignored-field]: AdditionalPlayerCount is ignored in STANDALONE mode
             --> config.json:2:56
              |
            2 |  "BackfillMode": "AUTOMATIC", "AdditionalPlayerCount": 2, "GameSessionQueueArns": []}
              |                                                        ^
              = path: AdditionalPlayerCount
              = help: FlexMatchMode defaults to STANDALONE when no GameSessionQueueArns are given; FlexMatch creates no game session in STANDALONE mode

            => rejected
        "#]],
    );
}

#[test]
fn with_queue_needs_queues() {
    check_diags(
        &with(r#""FlexMatchMode": "WITH_QUEUE""#),
        expect![[r#"
        error[incompatible-fields]: FlexMatchMode WITH_QUEUE needs at least one queue in GameSessionQueueArns
         --> config.json:2:19
          |
        2 |  "FlexMatchMode": "WITH_QUEUE"}
          |                   ^^^^^^^^^^^^
          = path: FlexMatchMode
          = help: add the ARN of the game session queue that places matches, or use STANDALONE to start game sessions yourself

        => rejected
    "#]],
    );
    check_diags(
        &with(r#""FlexMatchMode": "WITH_QUEUE", "GameSessionQueueArns": []"#),
        expect![[r#"
        error[incompatible-fields]: FlexMatchMode WITH_QUEUE needs at least one queue in GameSessionQueueArns
         --> config.json:2:19
          |
        2 |  "FlexMatchMode": "WITH_QUEUE", "GameSessionQueueArns": []}
          |                   ^^^^^^^^^^^^
          = path: FlexMatchMode
          = help: add the ARN of the game session queue that places matches, or use STANDALONE to start game sessions yourself

        => rejected
    "#]],
    );
}

#[test]
fn acceptance_timeout_without_acceptance() {
    check_diags(
        &with(r#""AcceptanceTimeoutSeconds": 30"#),
        expect![[r#"
        warning[ignored-field]: AcceptanceTimeoutSeconds is ignored because AcceptanceRequired is false
         --> config.json:2:30
          |
        2 |  "AcceptanceTimeoutSeconds": 30}
          |                              ^^
          = path: AcceptanceTimeoutSeconds
          = help: set AcceptanceRequired to true if players must accept matches, or remove this field

        => accepted
    "#]],
    );
}

#[test]
fn rule_set_source_combinations() {
    let rest = r#""Name": "mm", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false"#;
    check_diags(
        &format!("{{{rest}}}"),
        expect![[r#"
        error[missing-field]: missing the rule set: give RuleSetName, RuleSetBody or RuleSetPath
         --> config.json:1:1
          |
        1 | {"Name": "mm", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false}
          | ^
          = help: RuleSetName refers to an existing rule set, RuleSetBody embeds one, and RuleSetPath points to a rule-set file

        => rejected
    "#]],
    );
    check_diags(
        &format!("{{{rest},\n \"RuleSetBody\": {{\"teams\": []}},\n \"RuleSetPath\": \"rules.json\"}}"),
        expect![[r#"
            error[incompatible-fields]: RuleSetPath and RuleSetBody cannot both be given
             --> config.json:3:2
              |
            3 |  "RuleSetPath": "rules.json"}
              |  ^^^^^^^^^^^^^
              = path: RuleSetPath
              = help: keep RuleSetBody to embed the rule set, or RuleSetPath to read it from a file

            => rejected
        "#]],
    );
    check_diags(
        &format!("{{{rest},\n \"RuleSetName\": \"rules\",\n \"RuleSetPath\": \"rules.json\"}}"),
        expect![[r#"
            error[incompatible-fields]: RuleSetName and RuleSetPath cannot both be given
             --> config.json:3:2
              |
            3 |  "RuleSetPath": "rules.json"}
              |  ^^^^^^^^^^^^^
              = path: RuleSetPath
              = help: RuleSetName refers to an existing rule set and RuleSetPath loads one from a file; keep one (to name an embedded rule set, pair RuleSetName with RuleSetBody)

            => rejected
        "#]],
    );
    check_diags(
        &format!("{{{rest},\n \"RuleSetBody\": \"\",\n \"RuleSetName\": \"rules\"}}"),
        expect![[r#"
            error[too-short]: RuleSetBody must not be empty
             --> config.json:2:17
              |
            2 |  "RuleSetBody": "",
              |                 ^^
              = path: RuleSetBody
              = help: put the rule set here, as a JSON object or as a string of JSON text

            => rejected
        "#]],
    );
    check_diags(
        &format!("{{{rest},\n \"RuleSetBody\": [1],\n \"RuleSetPath\": 7}}"),
        expect![[r#"
        error[wrong-type]: RuleSetBody must be a rule set (a JSON object) or a string holding one, found an array
         --> config.json:2:17
          |
        2 |  "RuleSetBody": [1],
          |                 ^^^
          = path: RuleSetBody

        error[incompatible-fields]: RuleSetPath and RuleSetBody cannot both be given
         --> config.json:3:2
          |
        3 |  "RuleSetPath": 7}
          |  ^^^^^^^^^^^^^
          = path: RuleSetPath
          = help: keep RuleSetBody to embed the rule set, or RuleSetPath to read it from a file

        error[wrong-type]: RuleSetPath must be a string, found a number
         --> config.json:3:17
          |
        3 |  "RuleSetPath": 7}
          |                 ^
          = path: RuleSetPath
          = help: write it in double quotes: "7"

        => rejected
    "#]],
    );
    check_diags(
        &format!("{{{rest},\n \"RuleSetPath\": \"\"}}"),
        expect![[r#"
        error[too-short]: RuleSetPath must not be empty
         --> config.json:2:17
          |
        2 |  "RuleSetPath": ""}
          |                 ^^
          = path: RuleSetPath

        => rejected
    "#]],
    );
}

#[test]
fn rule_set_body_is_limited_to_65535_characters() {
    let long = format!(r#"{{"name": "{}"}}"#, "x".repeat(65_530));
    let text = format!("{{{BASE},\n \"RuleSetBody\": {long}}}");
    let checked = check(&text);
    let got: Vec<_> = checked.diagnostics.iter().map(|d| (d.code, d.message.as_str())).collect();
    assert_eq!(got, [("too-long", "RuleSetBody is 65542 characters long; a rule set may have at most 65535")]);
}
