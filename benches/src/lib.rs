//! Shared helpers for the criterion benches and the `probe` example.

use rallypoint::matchmaker::{Matchmaker, MatchmakerOptions};
use rallypoint::time::Time;
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
    let spec = WorkloadSpec::new(profile, rate, END_TO_END_SECONDS, 5);
    let items: Vec<WorkloadItem> = generate(&spec).collect();
    let tickets = items.iter().filter(|i| matches!(i.request, WorkloadRequest::Start(_))).count();
    (items, tickets)
}

/// End to end in simulated time: `items` → `StartMatchmaking` → a cycle every simulated
/// second until `until` → matches → events received by a consumer thread, with 2 worker
/// threads. Returns the tickets the consumer saw in `MatchmakingSucceeded` events.
pub fn end_to_end(profile: Profile, items: Vec<WorkloadItem>, until: f64) -> usize {
    let rule_set = rallypoint::ruleset::check(profile.rule_set_json()).value.expect("profile is valid");
    let config = rallypoint::config::check(&format!(
        r#"{{"Name": "{}", "RuleSetName": "bench", "RequestTimeoutSeconds": 120, "AcceptanceRequired": false}}"#,
        profile.name()
    ))
    .value
    .expect("valid configuration");
    let mut options = MatchmakerOptions::new(1);
    options.threads = 2;
    options.retention_seconds = Some(0.0);
    let (mut mm, events) = Matchmaker::new(options);
    mm.add_configuration(config, &rule_set).expect("supported");
    let consumer = std::thread::spawn(move || {
        events.iter().filter(|e| e.type_name() == "MatchmakingSucceeded").map(|e| e.tickets().len()).sum::<usize>()
    });
    let start = Time(1_767_225_600_000);
    let mut items = items.into_iter().peekable();
    let mut k = 0u64;
    while (k as f64) <= until {
        let tick = k as f64;
        while let Some(item) = items.next_if(|i| i.at <= tick) {
            let now = start.plus_secs(item.at);
            match item.request {
                WorkloadRequest::Start(r) => {
                    let _ = mm.start_matchmaking(now, r);
                }
                WorkloadRequest::Stop { ticket_id } => {
                    let _ = mm.stop_matchmaking(now, &ticket_id);
                }
            }
        }
        mm.tick(start.plus_secs(tick));
        k += 1;
    }
    drop(mm);
    consumer.join().expect("consumer")
}
