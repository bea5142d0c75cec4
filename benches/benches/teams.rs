//! Team assignment: the exact search on small matches, the heuristic on larger ones.
//!
//! Every solve asks for the best 8 assignments, as the engine does before checking rules.
//! Player values are drawn uniformly from [1400, 1600) with a fixed xorshift seed; each bench
//! cycles through 64 instances so that no single lucky instance is measured.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rallypoint::__teams::{Assignments, Party, TeamScratch, TeamSlots, best_assignments};
use std::hint::black_box;

const LIMIT: usize = 8;
const INSTANCES: usize = 64;

struct Rng(u64);

impl Rng {
    fn value(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        1400.0 + (self.0 >> 40) as f64 / (1u64 << 24) as f64 * 200.0
    }
}

/// `INSTANCES` matches with parties of the given sizes.
fn instances(sizes: &[u32], seed: u64) -> Vec<Vec<Party>> {
    let mut rng = Rng(seed);
    (0..INSTANCES)
        .map(|_| {
            sizes
                .iter()
                .map(|&size| Party { size, value: (0..size).map(|_| rng.value()).sum(), fixed_team: None })
                .collect()
        })
        .collect()
}

fn bench_shape(c: &mut Criterion, name: &str, sizes: &[u32], teams: &[TeamSlots], max_best: f64) {
    let matches = instances(sizes, 0x1234567);
    let mut scratch = TeamScratch::default();
    let mut out = Assignments::default();
    let mut group = c.benchmark_group("teams");
    group.throughput(Throughput::Elements(1));
    let mut k = 0;
    group.bench_function(name, |b| {
        b.iter(|| {
            k = (k + 1) % INSTANCES;
            best_assignments(black_box(&matches[k]), teams, LIMIT, &mut scratch, &mut out);
            // Checksum: a result, and a well-balanced one, so the bench cannot measure nothing.
            assert!(!out.is_empty() && out.imbalance[0] < max_best, "{name}: {:?}", out.imbalance);
            out.len()
        })
    });
    group.finish();
}

fn teams(c: &mut Criterion) {
    let two = |n| [TeamSlots { min: n, max: n }; 2];
    bench_shape(c, "5v5_solos", &[1; 10], &two(5), 10.0);
    bench_shape(c, "8v8_solos", &[1; 16], &two(8), 2.0);
    bench_shape(c, "5v5_parties", &[3, 2, 2, 1, 1, 1], &two(5), 100.0);
    bench_shape(c, "3x5_solos", &[1; 15], &[TeamSlots { min: 5, max: 5 }; 3], 10.0);
    bench_shape(c, "20v20_heuristic", &[1; 40], &two(20), 2.0);
    let mut large: Vec<u32> = [4, 3, 2, 1].iter().copied().cycle().take(60).collect();
    large.extend([1; 5]);
    let mut eleven = vec![TeamSlots { min: 12, max: 15 }; 10];
    eleven.push(TeamSlots { min: 5, max: 5 });
    bench_shape(c, "155_players_11_teams", &large, &eleven, 20.0);
}

criterion_group!(benches, teams);
criterion_main!(benches);
