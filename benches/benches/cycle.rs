//! One matchmaking cycle over 10k / 100k / 1M waiting tickets, for the 1v1 skill + latency
//! profile and the 5v5 party profile, with 2 worker threads.
//!
//! - `fresh`: the first cycle over a pool of new tickets (searching events, search, match
//!   formation and match events).
//! - `standing`: a cycle over a pool where nothing can match (ratings or skills spaced wider
//!   than the band), one second after the previous cycle: the steady cost of a pass that
//!   finds nothing (anchors whose neighbourhood did not change are skipped).
//! - `standing-expanded`: the same pool, but every ticket crossed an expansion step since
//!   the previous cycle, so every anchor is searched again: a full pass.
//!
//! Setup (creating the matchmaker and submitting the tickets) is not timed.

// Links the crate that sets mimalloc as the global allocator.
use rallypoint_benches as _;
use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rallypoint::api::{AttributeValue, StartMatchmakingRequest};
use rallypoint::config;
use rallypoint::matchmaker::{Matchmaker, MatchmakerOptions};
use rallypoint::ruleset::{self, RuleSet};
use rallypoint::time::Time;
use rallypoint_bench_data::workload::{self, TicketSpec};

fn profile(name: &str) -> RuleSet {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench-data/profiles").join(name);
    let text = std::fs::read_to_string(&path).expect("profile exists");
    ruleset::check(&text).value.expect("profiles are valid")
}

fn configuration(name: &str) -> config::MatchmakingConfiguration {
    let text = format!(
        r#"{{"Name": "{name}", "RuleSetName": "{name}", "RequestTimeoutSeconds": 600, "AcceptanceRequired": false, "FlexMatchMode": "STANDALONE"}}"#
    );
    config::check(&text).value.expect("valid configuration")
}

fn setup(
    rule_set: &RuleSet,
    name: &str,
    requests: &[StartMatchmakingRequest],
) -> (Matchmaker, rallypoint::events::EventReceiver) {
    let mut options = MatchmakerOptions::new(7);
    options.threads = 2;
    let (mut mm, rx) = Matchmaker::new(options);
    mm.add_configuration(configuration(name), rule_set).expect("supported configuration");
    for (i, r) in requests.iter().enumerate() {
        mm.start_matchmaking(Time(1_000_000 + i as u64 / 1000), r.clone()).expect("valid request");
    }
    (mm, rx)
}

fn bench_cycles(c: &mut Criterion) {
    let mut group = c.benchmark_group("cycle");
    group.sample_size(10);
    let one = profile("1v1-ranked.json");
    let five = profile("5v5-party.json");
    for &n in &[10_000usize, 100_000, 1_000_000] {
        group.throughput(Throughput::Elements(n as u64));
        let duel = workload::tickets(&TicketSpec::one_v_one("duel"), n, 1);
        group.bench_function(format!("1v1/fresh/{n}"), |b| {
            b.iter_batched(
                || setup(&one, "duel", &duel),
                |(mut mm, rx)| {
                    let stats = mm.tick(Time(1_002_000));
                    // Checksum: most duelists find an opponent in the first cycle.
                    assert!(stats.matched_tickets > n / 2, "{stats:?}");
                    (mm, rx)
                },
                BatchSize::PerIteration,
            )
        });
        let mut spaced = duel.clone();
        space(&mut spaced, "rating");
        // The rating band widens at 10 s of waiting; every ticket is younger than 1 s at the
        // first cycle.
        bench_standing(&mut group, "1v1", &one, "duel", &spaced, Time(1_012_000));
        let squads = workload::tickets(&TicketSpec::five_v_five("squad"), n, 2);
        group.bench_function(format!("5v5/fresh/{n}"), |b| {
            b.iter_batched(
                || setup(&five, "squad", &squads),
                |(mut mm, rx)| {
                    let stats = mm.tick(Time(1_002_000));
                    assert!(stats.matches > 0, "{stats:?}");
                    (mm, rx)
                },
                BatchSize::PerIteration,
            )
        });
        let mut spaced = squads.clone();
        space(&mut spaced, "skill");
        // The skill band widens at 15 s of waiting.
        bench_standing(&mut group, "5v5", &five, "squad", &spaced, Time(1_017_000));
    }
    group.finish();
}

/// `standing` and `standing-expanded` for a pool of `requests` in which nothing can
/// match: a cycle at 1,002 s, then the timed one a second later, or at `expanded`, past an
/// expansion step of every ticket.
fn bench_standing(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    label: &str,
    rule_set: &RuleSet,
    name: &str,
    requests: &[StartMatchmakingRequest],
    expanded: Time,
) {
    let n = requests.len();
    for (kind, at) in [("standing", Time(1_003_000)), ("standing-expanded", expanded)] {
        group.bench_function(format!("{label}/{kind}/{n}"), |b| {
            b.iter_batched(
                || {
                    let (mut mm, rx) = setup(rule_set, name, requests);
                    mm.tick(Time(1_002_000));
                    (mm, rx)
                },
                |(mut mm, rx)| {
                    let stats = mm.tick(at);
                    assert_eq!(stats.matches, 0);
                    assert_eq!(stats.waiting, n);
                    (mm, rx)
                },
                BatchSize::PerIteration,
            )
        });
    }
}

/// Gives every player of ticket `i` the value `1000 i` for `attribute`, so that no two
/// tickets are within any band of the profiles: nothing can match.
fn space(requests: &mut [StartMatchmakingRequest], attribute: &str) {
    for (i, r) in requests.iter_mut().enumerate() {
        for p in &mut r.players {
            p.attributes = vec![(attribute.to_owned(), AttributeValue::N(i as f64 * 1000.0))];
        }
    }
}

criterion_group!(benches, bench_cycles);
criterion_main!(benches);
