//! End to end in simulated time: generated tickets → `StartMatchmaking` → cycles every
//! simulated second → matches → events received by a consumer thread, with 2 worker
//! threads. Throughput is tickets per wall-clock second, generation excluded.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
// Links the crate that sets mimalloc as the global allocator.
use rallypoint::matchmaker::{Matchmaker, MatchmakerOptions};
use rallypoint::time::Time;
use rallypoint_bench_data::generate::{WorkloadItem, WorkloadRequest, WorkloadSpec, generate};
use rallypoint_bench_data::profiles::Profile;
use rallypoint_benches as _;

fn run(profile: Profile, items: Vec<WorkloadItem>, until: f64) -> usize {
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
    let mut next = 0;
    let mut k = 0u64;
    while (k as f64) <= until {
        let tick = k as f64;
        while let Some(item) = items.get(next).filter(|i| i.at <= tick) {
            let now = start.plus_secs(item.at);
            match &item.request {
                WorkloadRequest::Start(r) => {
                    let _ = mm.start_matchmaking(now, r.clone());
                }
                WorkloadRequest::Stop { ticket_id } => {
                    let _ = mm.stop_matchmaking(now, ticket_id);
                }
            }
            next += 1;
        }
        mm.tick(start.plus_secs(tick));
        k += 1;
    }
    drop(mm);
    consumer.join().expect("consumer")
}

fn bench_end_to_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(10);
    for (profile, rate) in [(Profile::OneVOne, 20_000.0), (Profile::FiveVFive, 2_000.0)] {
        let duration = 10.0;
        let spec = WorkloadSpec::new(profile, rate, duration, 5);
        let items: Vec<WorkloadItem> = generate(&spec).collect();
        let tickets = items.iter().filter(|i| matches!(i.request, WorkloadRequest::Start(_))).count();
        group.throughput(Throughput::Elements(tickets as u64));
        group.bench_function(format!("{}/{tickets}", profile.name()), |b| {
            b.iter_batched(
                || items.clone(),
                |items| {
                    let matched = run(profile, items, duration + 130.0);
                    // Checksum: most tickets were matched and seen by the consumer.
                    assert!(matched > tickets / 2, "{matched} of {tickets}");
                    matched
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_end_to_end);
criterion_main!(benches);
