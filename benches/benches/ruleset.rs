//! Rule-set pipeline: parse + validate + compile of a near-limit (~60 KB) rule set.

// Links the crate that sets mimalloc as the global allocator.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rallypoint_benches as _;
use std::hint::black_box;

fn parse_validate_compile(c: &mut Criterion) {
    let text = rallypoint_bench_data::rulesets::large_rule_set(40);
    let mut group = c.benchmark_group("ruleset");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function(format!("parse_validate_compile/{}KB", text.len() / 1024), |b| {
        b.iter(|| {
            let checked = rallypoint::ruleset::check(black_box(&text));
            let rule_set = checked.value.expect("the bench rule set is valid");
            let compiled = rallypoint::ruleset::compile(&rule_set);
            // Checksum: every rule compiled, so the bench cannot measure nothing.
            assert_eq!(compiled.rules().len(), 4 + 8 * 40);
            compiled.rules().len()
        })
    });
    group.bench_function("validate_only", |b| {
        b.iter(|| {
            let checked = rallypoint::ruleset::check(black_box(&text));
            assert!(checked.diagnostics.is_empty());
            checked.diagnostics.len()
        })
    });
    group.finish();
}

criterion_group!(benches, parse_validate_compile);
criterion_main!(benches);
