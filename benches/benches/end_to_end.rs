//! End to end in simulated time: generated tickets → `StartMatchmaking` → cycles every
//! simulated second → matches → events received by a consumer thread, with 2 worker
//! threads. Throughput is tickets per wall-clock second, generation excluded.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rallypoint_bench_data::profiles::Profile;
// The benches crate also sets mimalloc as the global allocator.
use rallypoint_benches::{END_TO_END_SECONDS, end_to_end, end_to_end_workload};

fn bench_end_to_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(10);
    for profile in [Profile::OneVOne, Profile::FiveVFive] {
        let (items, tickets) = end_to_end_workload(profile);
        group.throughput(Throughput::Elements(tickets as u64));
        group.bench_function(format!("{}/{tickets}", profile.name()), |b| {
            b.iter_batched(
                || items.clone(),
                |items| {
                    let matched = end_to_end(profile, items, END_TO_END_SECONDS + 130.0);
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
