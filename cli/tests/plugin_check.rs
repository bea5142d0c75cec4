//! `rallypoint plugin check` on the example plugins and the misbehaving set (built by
//! `scripts/build-plugins` through `rallypoint_tests::plugin_dir`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn check(plugin: &str, rule_set: &str, extra: &[&str]) -> (Option<i32>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let wasm: PathBuf = rallypoint_tests::plugin_dir().join(format!("{plugin}.wasm"));
    let out: Output = Command::new(env!("CARGO_BIN_EXE_rallypoint"))
        .args(["plugin", "check", wasm.to_str().unwrap(), "--rule-set", rule_set, "--candidates", "400"])
        .args(extra)
        .current_dir(root)
        .output()
        .expect("the binary runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

const ODDS: &str = "bench-data/profiles/5v5-odds-plugin.json";

#[test]
fn a_well_behaved_plugin_passes_with_fuel_figures_and_a_purity_check() {
    let (code, out) = check("win_probability", ODDS, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("rule 'EvenOdds' of bench-data/profiles/5v5-odds-plugin.json"), "{out}");
    assert!(out.contains("fuel per candidate (400 single calls): p50 "), "{out}");
    assert!(
        out.contains("purity: two different batchings gave bit-identical verdicts for all 400 candidates"),
        "{out}"
    );
}

#[test]
fn a_filtering_plugin_has_its_filter_checked_too() {
    let (code, out) = check("role_queue", "tests/conformance/rulesets/valid/41-plugin-role-queue.json", &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("exports rallypoint_score and rallypoint_filter"), "{out}");
    assert!(out.contains("identically in two batchings"), "{out}");
}

#[test]
fn misbehaving_plugins_fail_the_check_with_the_reason() {
    for (plugin, reason) in [
        ("misbehaving_infinite_loop", "used up its fuel budget"),
        ("misbehaving_panic", "a panic in the plugin"),
        ("misbehaving_bad_output", "breaks the plugin ABI"),
        ("misbehaving_memory_hog", "beyond 32 MiB"),
        ("misbehaving_forbidden_import", "imports `env::env_clock`, but plugins may import nothing"),
    ] {
        let (code, out) = check(plugin, ODDS, &["--rule", "EvenOdds"]);
        assert_eq!(code, Some(1), "{plugin}: {out}");
        assert!(out.contains("FAILED") && out.contains(reason), "{plugin}: {out}");
    }
}

#[test]
fn a_fuel_budget_below_the_plugins_cost_fails_the_check() {
    let (code, out) = check("win_probability", ODDS, &["--max-fuel", "10"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("over the budget of 10 (--max-fuel)"), "{out}");
}

#[test]
fn a_rule_set_without_a_rule_for_the_plugin_is_reported() {
    let (code, out) = check("win_probability", "bench-data/profiles/1v1-ranked.json", &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("has no plugin rule for 'win_probability'"), "{out}");
}
