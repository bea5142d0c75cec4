//! Ingest: `StartMatchmaking` into a matchmaker (validation against the rule set, duplicate
//! checks, party aggregates, latency masks, shard insertion), per ticket.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
// Links the crate that sets mimalloc as the global allocator.
use rallypoint::matchmaker::{Matchmaker, MatchmakerOptions};
use rallypoint::time::Time;
use rallypoint_bench_data::profiles::Profile;
use rallypoint_bench_data::workload::{self, TicketSpec};
use rallypoint_benches as _;

fn bench_ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    for (profile, spec) in
        [(Profile::OneVOne, TicketSpec::one_v_one("bench")), (Profile::FiveVFive, TicketSpec::five_v_five("bench"))]
    {
        let rule_set = rallypoint::ruleset::check(profile.rule_set_json()).value.expect("profile is valid");
        let config = rallypoint::config::check(
            r#"{"Name": "bench", "RuleSetName": "bench", "RequestTimeoutSeconds": 600, "AcceptanceRequired": false}"#,
        )
        .value
        .expect("valid configuration");
        let n = 100_000;
        let requests = workload::tickets(&spec, n, 3);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("{}/{n}", profile.name()), |b| {
            b.iter_batched(
                || {
                    let (mut mm, rx) = Matchmaker::new(MatchmakerOptions::new(1));
                    mm.add_configuration(config.clone(), &rule_set).expect("supported");
                    (mm, rx, requests.clone())
                },
                |(mut mm, rx, requests)| {
                    for (i, r) in requests.into_iter().enumerate() {
                        mm.start_matchmaking(Time(i as u64), r).expect("valid request");
                    }
                    // Checksum: every ticket is waiting in the pool.
                    assert_eq!(mm.waiting(), n);
                    (mm, rx)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
