//! The `rallypoint-bench-data` binary, run as a user runs it.

use std::process::Command;

use rallypoint_bench_data::generate::{WorkloadRequest, WorkloadSpec, generate, read_jsonl};
use rallypoint_bench_data::profiles::Profile;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rallypoint-bench-data"))
}

#[test]
fn generate_writes_the_seeded_workload_as_json_lines() {
    let out = bin()
        .args(["generate", "--profile", "5v5", "--rate", "50", "--duration", "20", "--seed", "9"])
        .args(["--bursts", "--cancel-share", "0.5", "--configuration", "ranked-eu"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let items = read_jsonl(&out.stdout[..]).expect("a readable workload");
    let mut spec = WorkloadSpec::new(Profile::FiveVFive, 50.0, 20.0, 9);
    spec.bursts = true;
    spec.cancel_share = 0.5;
    spec.configuration = "ranked-eu".to_owned();
    assert_eq!(items, generate(&spec).collect::<Vec<_>>());
    assert!(items.iter().any(|i| matches!(i.request, WorkloadRequest::Stop { .. })));
}

#[test]
fn ruleset_prints_the_profile() {
    let out = bin().args(["ruleset", "1v1-ranked"]).output().expect("runs");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), Profile::OneVOne.rule_set_json());
}

#[test]
fn help_and_bad_arguments() {
    let out = bin().args(["generate", "--help"]).output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--daily-cycle") && help.contains("--cancel-share"), "{help}");

    let out = bin().args(["generate", "--profile", "6v6", "--rate", "1", "--duration", "1"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown profile (expected one of: 1v1, 5v5, asymmetric, large, adversarial)"), "{err}");

    let out = bin()
        .args(["generate", "--profile", "1v1", "--rate", "1", "--duration", "1", "--cancel-share", "2"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0 and 1"));
}
