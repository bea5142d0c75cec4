//! End-to-end tests of `rallypoint loadtest`, running the built binary.

use std::path::PathBuf;
use std::process::Command;

use rallypoint_tests::TempDir;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rallypoint"))
}

/// A path named `name` in a scratch directory of its own, removed with the returned guard.
fn temp(name: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new(&format!("loadtest-{name}"));
    let path = dir.join(name);
    (dir, path)
}

fn num(v: &serde_json::Value, path: &[&str]) -> f64 {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_f64().unwrap_or_else(|| panic!("{path:?} is not a number: {x}"))
}

fn assert_ordered(v: &serde_json::Value, path: &[&str]) {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    if x["count"].as_u64() == Some(0) {
        return;
    }
    let q: Vec<f64> = ["p50", "p90", "p99", "max"].iter().map(|k| x[*k].as_f64().expect("number")).collect();
    assert!(q.windows(2).all(|w| w[0] <= w[1]), "{path:?} percentiles out of order: {q:?}");
}

#[test]
fn short_simulated_run_writes_a_consistent_json_report() {
    let (_json_dir, json) = temp("short.json");
    let out = bin()
        .args(["loadtest", "--tickets", "3000", "--duration", "10", "--threads", "2", "--report"])
        .arg(&json)
        .output()
        .expect("runs");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("throughput:") && summary.contains("wait (s):"), "{summary}");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("report")).expect("JSON");
    let ingested = num(&r, &["tickets", "ingested"]);
    let matched = num(&r, &["tickets", "matched"]);
    assert!(ingested > 2000.0 && ingested <= 3000.0, "ingested {ingested}");
    assert!(matched <= ingested && matched > 0.0);
    let finished = ["matched", "timed_out", "cancelled", "failed", "unfinished"]
        .iter()
        .map(|k| num(&r, &["tickets", k]))
        .sum::<f64>();
    assert_eq!(finished, ingested);
    for share in [num(&r, &["quality", "matched_before_timeout_share"]), num(&r, &["quality", "timed_out_share"])] {
        assert!((0.0..=1.0).contains(&share), "share {share}");
    }
    let steps: f64 =
        r["quality"]["expansion_steps"].as_array().expect("steps").iter().map(|s| s["share"].as_f64().unwrap()).sum();
    assert!((steps - 1.0).abs() < 1e-9, "step shares sum to {steps}");
    for p in [
        &["quality", "wait_seconds"][..],
        &["quality", "team_imbalance"],
        &["quality", "skill_spread"],
        &["quality", "delta_ping_ms"],
    ] {
        assert_ordered(&r, p);
    }
    assert!(num(&r, &["cycles", "p50_ms"]) <= num(&r, &["cycles", "p99_ms"]));
    assert!(num(&r, &["cycles", "p99_ms"]) <= num(&r, &["cycles", "max_ms"]));
    assert!(num(&r, &["throughput", "matched_tickets_per_s"]) > 0.0);
    // Every matched ticket's match was built around a searched anchor; tickets that waited
    // several cycles were searched or skipped each time.
    let (searched, skipped) = (num(&r, &["cycles", "anchors_searched"]), num(&r, &["cycles", "anchors_skipped"]));
    assert!(searched >= num(&r, &["tickets", "matches"]), "searched {searched}");
    assert!(skipped > 0.0, "a 10 s workload leaves tickets waiting unchanged: skipped {skipped}");
    assert!(summary.contains("anchors searched"), "{summary}");
    // The memory figure names the pool it was measured at, one the run reached.
    let sampled_at = num(&r, &["resources", "bytes_sampled_at_waiting"]);
    assert!(sampled_at > 0.0 && sampled_at <= num(&r, &["tickets", "peak_waiting"]), "sampled at {sampled_at}");
    assert!(summary.contains(&format!("(at {sampled_at} waiting)")), "{summary}");
}

#[test]
fn a_run_longer_than_the_quality_sample_keeps_exact_counts_and_maxima() {
    // The same workload twice: every record kept, and 200 of ~3,300 players (and of ~300
    // matches) kept. Counts, shares, means and maxima must agree exactly; the
    // sampled medians must be close; the summary must say the figures are sampled.
    let run = |name: &str, extra: &[&str]| {
        let (dir, json) = temp(name);
        let out = bin()
            .args(["loadtest", "--tickets", "2000", "--duration", "10", "--seed", "5", "--report"])
            .arg(&json)
            .args(extra)
            .output()
            .expect("runs");
        assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("report")).expect("JSON");
        drop(dir);
        (r, String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (all, all_text) = run("all.json", &[]);
    let (sampled, sampled_text) = run("sampled.json", &["--quality-sample", "200"]);
    let players = num(&all, &["tickets", "players"]);
    assert!(players > 1000.0, "players {players}");
    assert_eq!(num(&all, &["quality", "sample", "players"]), players, "a short run keeps every record");
    assert!(!all_text.contains("uniform random sample"), "{all_text}");
    assert_eq!(num(&sampled, &["quality", "sample", "players"]), 200.0);
    assert_eq!(num(&sampled, &["quality", "sample", "of_players"]), players);
    assert_eq!(num(&sampled, &["quality", "sample", "matches"]), 200.0);
    assert_eq!(num(&sampled, &["quality", "sample", "of_matches"]), num(&all, &["tickets", "matches"]));
    assert!(sampled_text.contains("from a uniform random sample of 200 of"), "{sampled_text}");
    assert_eq!(all["tickets"], sampled["tickets"]);
    assert_eq!(all["quality"]["expansion_steps"], sampled["quality"]["expansion_steps"]);
    assert_eq!(all["quality"]["matched_before_timeout_share"], sampled["quality"]["matched_before_timeout_share"]);
    for metric in ["wait_seconds", "skill_spread", "team_imbalance", "chosen_latency_ms", "delta_ping_ms"] {
        let (a, s) = (&all["quality"][metric], &sampled["quality"][metric]);
        assert_eq!(a["count"], s["count"], "{metric}");
        assert_eq!(a["max"], s["max"], "{metric}");
        let (am, sm) = (a["mean"].as_f64().unwrap(), s["mean"].as_f64().unwrap());
        assert!((am - sm).abs() <= 1e-9 * am.abs().max(1.0), "{metric}: mean {am} / {sm}");
        assert_ordered(&sampled, &["quality", metric]);
    }
    // Medians from 200 of the players: within the 40th–60th percentiles of all of them,
    // read here as within 5% of the range (wait times are continuous enough for that).
    let (a, s) = (num(&all, &["quality", "wait_seconds", "p50"]), num(&sampled, &["quality", "wait_seconds", "p50"]));
    let range = num(&all, &["quality", "wait_seconds", "max"]);
    assert!((a - s).abs() <= 0.05 * range, "median wait {a} / sampled {s} (max {range})");
    let decile_players: f64 = sampled["quality"]["wait_by_skill_decile"]
        .as_array()
        .expect("deciles")
        .iter()
        .map(|g| num(g, &["players"]))
        .sum();
    assert_eq!(decile_players, 200.0, "the groups are drawn from the sample");
}

#[test]
fn html_report_has_charts() {
    let (_html_dir, html) = temp("short.html");
    let out = bin()
        .args(["loadtest", "--profile", "1v1", "--tickets", "1000", "--duration", "10", "--report"])
        .arg(&html)
        .output()
        .expect("runs");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(&html).expect("report");
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.matches("<svg").count() >= 4, "too few charts");
}

/// Runs a 1v1 load test of 300 tickets/s for 120 s with `extra` options; returns the JSON
/// report and the summary.
fn shaped_run(name: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let (_dir, json) = temp(name);
    let out = bin()
        .args(["loadtest", "--profile", "1v1", "--rate", "300", "--duration", "120", "--report"])
        .arg(&json)
        .args(extra)
        .output()
        .expect("runs");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let r = serde_json::from_str(&std::fs::read_to_string(&json).expect("report")).expect("JSON");
    (r, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The largest and the median arrivals per second over the buckets of the arrival period.
fn peak_and_median_arrivals(r: &serde_json::Value) -> (f64, f64) {
    let start = r["series"]["start_seconds"].as_array().expect("starts");
    let rates = r["series"]["ingested_per_s"].as_array().expect("rates");
    let bucket = num(r, &["series", "bucket_seconds"]);
    let mut arriving: Vec<f64> = start
        .iter()
        .zip(rates)
        .filter(|(t, _)| t.as_f64().expect("number") + bucket <= 120.0)
        .map(|(_, r)| r.as_f64().expect("number"))
        .collect();
    arriving.sort_by(f64::total_cmp);
    (arriving[arriving.len() - 1], arriving[arriving.len() / 2])
}

#[test]
fn workload_shape_options_reach_the_generator_and_the_report() {
    let (plain, summary) = shaped_run("plain.json", &["--cancel-share", "0"]);
    assert_eq!(plain["run"]["generator"]["bursts"], false);
    assert_eq!(num(&plain, &["tickets", "stop_requests_applied"]), 0.0);
    assert_eq!(num(&plain, &["tickets", "cancelled"]), 0.0);
    assert!(
        summary.starts_with("loadtest: profile 1v1, simulated clock, 300 tickets/s for 120s, 0% cancelled,"),
        "{summary}"
    );
    let (peak, median) = peak_and_median_arrivals(&plain);
    assert!(peak < 1.5 * median, "steady arrivals peak at {peak}/s against a median of {median}/s");

    let (bursty, summary) = shaped_run("bursty.json", &["--bursts", "--cancel-share", "1"]);
    assert_eq!(bursty["run"]["generator"]["bursts"], true);
    assert_eq!(bursty["run"]["generator"]["cancel_share"], 1.0);
    assert!(summary.contains("for 120s, bursts, 100% cancelled,"), "{summary}");
    let (peak, median) = peak_and_median_arrivals(&bursty);
    assert!(peak > 5.0 * median, "a burst peaks at {peak}/s against a median of {median}/s");
    assert!(num(&bursty, &["tickets", "ingested"]) > 1.05 * num(&plain, &["tickets", "ingested"]));
    // Every ticket gets a StopMatchmaking; those still waiting when it arrives are cancelled.
    assert!(num(&bursty, &["tickets", "cancelled"]) > 0.0);
}

#[test]
fn the_reported_location_is_one_the_latency_rule_allows() {
    // The 1v1 profile's Ping rule allows 80 ms, and 150 ms from 20 s of waiting on. (The
    // lowest average latency of two players is not always at a location the rule accepts.)
    let (r, _) = shaped_run("latency.json", &[]);
    let chosen = |k: &str| num(&r, &["quality", "chosen_latency_ms", k]);
    assert!(chosen("max") <= 150.0, "a player placed at {} ms", chosen("max"));
    assert!(chosen("p99") > 80.0, "the expansion to 150 ms is not used: p99 {} ms", chosen("p99"));
}

#[test]
fn replays_a_generated_workload_file() {
    let (_jsonl_dir, jsonl) = temp("work.jsonl");
    let items: Vec<_> = rallypoint_bench_data::generate::generate(&rallypoint_bench_data::generate::WorkloadSpec::new(
        rallypoint_bench_data::profiles::Profile::FiveVFive,
        100.0,
        5.0,
        3,
    ))
    .collect();
    let n_starts = items
        .iter()
        .filter(|i| matches!(i.request, rallypoint_bench_data::generate::WorkloadRequest::Start(_)))
        .count();
    let mut file = std::fs::File::create(&jsonl).expect("create");
    rallypoint_bench_data::generate::write_jsonl(items.into_iter(), &mut file).expect("write");
    drop(file);
    let (_json_dir, json) = temp("replay.json");
    let out = bin().args(["loadtest", "--replay"]).arg(&jsonl).arg("--report").arg(&json).output().expect("runs");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("report")).expect("JSON");
    assert_eq!(num(&r, &["tickets", "ingested"]) as usize, n_starts);
}

#[test]
fn large_profile_is_refused_clearly() {
    let out =
        bin().args(["loadtest", "--profile", "large", "--tickets", "100", "--duration", "5"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("large") && err.contains("not supported"), "{err}");
}

#[test]
fn a_rule_set_with_a_plugin_rule_runs_and_reports_the_plugins_health() {
    let (_json_dir, json) = temp("plugin.json");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let plugin_dir = rallypoint_tests::plugin_dir();
    let out = bin()
        .current_dir(&root)
        .args(["loadtest", "--profile", "bench-data/profiles/5v5-odds-plugin.json", "--tickets", "2000"])
        .args(["--duration", "10", "--threads", "2", "--plugin-dir", plugin_dir.to_str().unwrap(), "--report"])
        .arg(&json)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("plugin rule 'EvenOdds' (win_probability) in '5v5': "), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let plugin = &report["plugins"][0];
    assert_eq!(plugin["rule"], "EvenOdds");
    assert!(num(plugin, &["health", "calls"]) > 100.0, "{plugin}");
    assert_eq!(num(plugin, &["health", "failures"]), 0.0, "{plugin}");
    assert!(num(&report, &["tickets", "matched"]) > 1000.0, "{}", report["tickets"]);
}

#[test]
fn a_plugin_that_cannot_be_found_is_a_clear_error() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = bin()
        .current_dir(&root)
        .args(["loadtest", "--profile", "bench-data/profiles/5v5-odds-plugin.json", "--tickets", "100"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("rule 'EvenOdds': plugin 'win_probability' was not found: no win_probability.wasm in"),
        "{stderr}"
    );
}

#[test]
fn real_clock_run_accounts_for_every_ticket() {
    // Requests go through the intake from a producer thread; every one is answered, and
    // tickets cancelled before their first cycle count as cancelled, not as rejected.
    let (_json_dir, json) = temp("real.json");
    let out = bin()
        .args(["loadtest", "--profile", "1v1", "--clock", "real", "--rate", "1000", "--duration", "2", "--report"])
        .arg(&json)
        .output()
        .expect("runs");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("report")).expect("JSON");
    assert_eq!(num(&r, &["tickets", "rejected"]), 0.0);
    let ingested = num(&r, &["tickets", "ingested"]);
    assert!(ingested > 1500.0, "ingested {ingested}");
    let finished = ["matched", "timed_out", "cancelled", "failed", "unfinished"]
        .iter()
        .map(|k| num(&r, &["tickets", k]))
        .sum::<f64>();
    assert_eq!(finished, ingested);
    assert!(num(&r, &["tickets", "cancelled"]) > 0.0, "the workload cancels some tickets");
}
