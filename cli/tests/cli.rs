//! The `rallypoint` binary as a user runs it: exit codes, output formats, files.

use std::path::Path;
use std::process::{Command, Output};

fn rallypoint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rallypoint")).args(args).output().expect("the binary runs")
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path).display().to_string()
}

use rallypoint_tests::TempDir;

fn temp_dir(name: &str) -> TempDir {
    TempDir::new(&format!("cli-{name}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_accepts_the_bundled_profiles() {
    let files: Vec<String> = ["1v1-ranked", "5v5-party", "asymmetric", "large-battle", "adversarial"]
        .iter()
        .map(|p| repo(&format!("bench-data/profiles/{p}.json")))
        .collect();
    let args: Vec<&str> = std::iter::once("validate").chain(files.iter().map(String::as_str)).collect();
    let out = rallypoint(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("5 checked: 5 valid, 0 invalid, 0 warnings\n"), "{}", stdout(&out));
}

#[test]
fn validate_reports_problems_with_location_and_exits_1() {
    let dir = temp_dir("invalid");
    let file = dir.join("bad.json");
    std::fs::write(
        &file,
        r#"{"ruleLanguageVersion": "1.0",
 "playerAttributes": [{"name": "skill", "type": "number"}],
 "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 2}],
 "rules": [{"name": "Fair", "type": "distance", "measurements": "avg(teams[*].players.attributes[skil])",
            "referenceValue": 1000, "maxDistance": 10}]}"#,
    )
    .unwrap();
    let out = rallypoint(&["validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error[unknown-attribute]"), "{err}");
    assert!(err.contains("bad.json:4:"), "{err}");
    assert!(err.contains("= path: rules[0].measurements"), "{err}");
    assert!(err.contains("did you mean 'skill'?"), "{err}");
    assert!(stdout(&out).contains("rule set invalid (1 error)"));

    // The same problem as JSON, for machines.
    let out = rallypoint(&["validate", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let d = &reports[0]["diagnostics"][0];
    assert_eq!(reports[0]["valid"], false);
    assert_eq!(d["code"], "unknown-attribute");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["path"], "rules[0].measurements");
    assert_eq!(d["location"]["line"], 4);
    assert_eq!(d["help"], "did you mean 'skill'?");
}

#[test]
fn validate_follows_a_configurations_rule_set_path() {
    let dir = temp_dir("config");
    std::fs::write(
        dir.join("rules.json"),
        r#"{"ruleLanguageVersion": "1.0", "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 2}],
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1}],
  "rules": [{"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 5}],
  "expansions": [{"target": "rules[Band].maxDistance", "steps": [{"waitTimeSeconds": 90, "value": 50}]}]}"#,
    )
    .unwrap();
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        r#"{"Name": "ranked", "RuleSetPath": "rules.json", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false}"#,
    )
    .unwrap();
    let out = rallypoint(&["validate", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("error[expansion-after-timeout]"), "{}", stderr(&out));
    assert!(stdout(&out).contains("config.json: configuration valid"), "{}", stdout(&out));
    assert!(stdout(&out).contains("rules.json: rule set invalid (1 error)"), "{}", stdout(&out));
}

#[test]
fn validate_exits_2_on_io_and_usage_errors() {
    let out = rallypoint(&["validate", "/nonexistent/rules.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read /nonexistent/rules.json"));
    assert_eq!(rallypoint(&["validate"]).status.code(), Some(2));
    assert_eq!(rallypoint(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn simulate_writes_events_and_tickets_identically_for_any_thread_count() {
    let scenario = repo("tests/conformance/scenarios/01-cowboys-8-solos-4v4.json");
    let dir = temp_dir("simulate");
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let events = dir.join(format!("events-{threads}.jsonl"));
        let tickets = dir.join(format!("tickets-{threads}.json"));
        let out = rallypoint(&[
            "simulate",
            &scenario,
            "--threads",
            threads,
            "--out",
            events.to_str().unwrap(),
            "--tickets-out",
            tickets.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stderr(&out).contains("8 completed"), "{}", stderr(&out));
        outputs.push((std::fs::read_to_string(events).unwrap(), std::fs::read_to_string(tickets).unwrap()));
    }
    assert_eq!(outputs[0], outputs[1], "output must not depend on --threads");
    let (events, tickets) = &outputs[0];
    let types: Vec<String> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON event per line"))
        .map(|e| {
            assert_eq!(e["detail-type"], "GameLift Matchmaking Event");
            e["detail"]["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(types.iter().filter(|t| *t == "MatchmakingSucceeded").count(), 1);
    let tickets: serde_json::Value = serde_json::from_str(tickets).unwrap();
    let tickets = tickets.as_array().unwrap();
    assert_eq!(tickets.len(), 8);
    assert!(tickets.iter().all(|t| t["Status"] == "COMPLETED" && t["Players"][0]["Team"].is_string()));
}

#[test]
fn simulate_rejects_a_bad_scenario_naming_the_request() {
    let dir = temp_dir("bad-scenario");
    let file = dir.join("scenario.json");
    std::fs::write(
        &file,
        r#"{"configuration": {"Name": "duel", "RequestTimeoutSeconds": 60, "AcceptanceRequired": false,
   "RuleSetBody": {"ruleLanguageVersion": "1.0", "teams": [{"name": "p", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}]}},
 "requests": [
   {"at": 0, "StartMatchmaking": {"ConfigurationName": "duel", "Players": [{"PlayerId": "a"}]}},
   {"at": 1, "AcceptMatch": {"TicketId": "t", "PlayerIds": ["a"], "AcceptanceType": "ACCEPT"}}],
 "until": 10}"#,
    )
    .unwrap();
    let out = rallypoint(&["simulate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("requests[1]"), "{err}");
    assert!(err.contains("AcceptMatch"), "{err}");
}

#[test]
fn validate_with_plugin_dirs_loads_each_plugin_and_points_at_the_one_that_fails() {
    let plugins = rallypoint_tests::plugin_dir();
    let dir = plugins.to_str().unwrap();
    let good = rallypoint(&["validate", "--plugin-dir", dir, &repo("bench-data/profiles/5v5-odds-plugin.json")]);
    assert_eq!(good.status.code(), Some(0), "{}", String::from_utf8_lossy(&good.stderr));

    let tmp = temp_dir("plugin-validate");
    std::fs::create_dir_all(&tmp.0).unwrap();
    let text = std::fs::read_to_string(repo("bench-data/profiles/5v5-odds-plugin.json"))
        .unwrap()
        .replace(r#""plugin": "win_probability""#, r#""plugin": "misbehaving_forbidden_import""#);
    let file = tmp.join("imports.json");
    std::fs::write(&file, text).unwrap();
    let bad = rallypoint(&["validate", "--plugin-dir", dir, file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[plugin-not-loadable]: rule 'EvenOdds': plugin 'misbehaving_forbidden_import' could not be loaded: it imports `env::env_clock`, but plugins may import nothing"), "{stderr}");
    assert!(stderr.contains("= path: rules[4].plugin"), "{stderr}");
    // Without --plugin-dir the rule is checked as text only.
    let text_only = rallypoint(&["validate", file.to_str().unwrap()]);
    assert_eq!(text_only.status.code(), Some(0));
}
