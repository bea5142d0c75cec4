//! Shared helpers for the criterion benches and the `probe` example.

use rallypoint::matchmaker::{Matchmaker, MatchmakerOptions, PluginModules};
use rallypoint::ruleset::RuleSet;
use rallypoint_bench_data::drive::run_simulated;
use rallypoint_bench_data::generate::{WorkloadItem, WorkloadRequest, WorkloadSpec, generate};
use rallypoint_bench_data::profiles::Profile;

/// The benches run with the same global allocator as the `rallypoint` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Simulated seconds of arrivals of the end-to-end bench.
pub const END_TO_END_SECONDS: f64 = 10.0;

/// The end-to-end bench's workload for `profile`: its arrival rate over
/// [`END_TO_END_SECONDS`], and how many `StartMatchmaking` requests it holds.
pub fn end_to_end_workload(profile: Profile) -> (Vec<WorkloadItem>, usize) {
    let rate = match profile {
        Profile::OneVOne => 20_000.0,
        _ => 2_000.0,
    };
    end_to_end_workload_at(profile, rate)
}

/// [`end_to_end_workload`] at `rate` arrivals per simulated second.
pub fn end_to_end_workload_at(profile: Profile, rate: f64) -> (Vec<WorkloadItem>, usize) {
    let spec = WorkloadSpec::new(profile, rate, END_TO_END_SECONDS, 5);
    let items: Vec<WorkloadItem> = generate(&spec).collect();
    let tickets = items.iter().filter(|i| matches!(i.request, WorkloadRequest::Start(_))).count();
    (items, tickets)
}

/// End to end in simulated time: `items` → `StartMatchmaking` → a cycle every simulated
/// second until `until` → matches → events received by a consumer thread, with 2 worker
/// threads. Returns the tickets the consumer saw in `MatchmakingSucceeded` events.
pub fn end_to_end(profile: Profile, items: Vec<WorkloadItem>, until: f64) -> usize {
    end_to_end_threads(profile, items, until, 2)
}

/// [`end_to_end`] with `threads` search threads.
pub fn end_to_end_threads(profile: Profile, items: Vec<WorkloadItem>, until: f64, threads: usize) -> usize {
    let rule_set = rallypoint::ruleset::check(profile.rule_set_json()).value.expect("profile is valid");
    end_to_end_on(&rule_set, profile.name(), PluginModules::default(), items, until, threads)
}

/// [`end_to_end`] with any rule set, under configuration name `configuration` (the one
/// the workload's requests name), with `plugins` for its plugin rules.
pub fn end_to_end_with(
    rule_set: &RuleSet,
    configuration: &str,
    plugins: PluginModules,
    items: Vec<WorkloadItem>,
    until: f64,
) -> usize {
    end_to_end_on(rule_set, configuration, plugins, items, until, 2)
}

fn end_to_end_on(
    rule_set: &RuleSet,
    configuration: &str,
    plugins: PluginModules,
    items: Vec<WorkloadItem>,
    until: f64,
    threads: usize,
) -> usize {
    let config = rallypoint::config::check(&format!(
        r#"{{"Name": "{configuration}", "RuleSetName": "bench", "RequestTimeoutSeconds": 120, "AcceptanceRequired": false}}"#
    ))
    .value
    .expect("valid configuration");
    let mut options = MatchmakerOptions::new(1);
    options.threads = threads;
    options.retention_seconds = Some(0.0);
    options.plugins = plugins;
    let (mut mm, events) = Matchmaker::new(options);
    mm.add_configuration(config, rule_set).expect("supported");
    let consumer = std::thread::spawn(move || {
        events.into_iter().filter(|e| e.type_name() == "MatchmakingSucceeded").map(|e| e.tickets().len()).sum::<usize>()
    });
    run_simulated(&mut mm, items, 1.0, until);
    drop(mm);
    consumer.join().expect("consumer")
}
