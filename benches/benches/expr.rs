//! Property-expression evaluation: compiled expressions evaluated against a complete 5v5
//! candidate, the work each rule check does per tentative addition.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
// Links the crate that sets mimalloc as the global allocator.
use rallypoint::expr::{self, AttrType, Candidate, Node, Scope, Scratch, TeamScope};
use rallypoint::intern::{Interner, Sym};
use rallypoint_benches as _;

/// Two teams of five with a skill each and two maps per player.
struct FiveVFive {
    skill: [[f64; 5]; 2],
    maps: [[Sym; 2]; 10],
}

impl Candidate for FiveVFive {
    fn team_count(&self) -> usize {
        2
    }
    fn team_size(&self, _team: usize) -> usize {
        5
    }
    fn number(&self, team: usize, member: usize, _attr: usize) -> f64 {
        self.skill[team][member]
    }
    fn string(&self, _team: usize, _member: usize, _attr: usize) -> Sym {
        Sym(0)
    }
    fn string_list(&self, team: usize, member: usize, _attr: usize) -> &[Sym] {
        &self.maps[team * 5 + member]
    }
    fn player_id(&self, team: usize, member: usize) -> Sym {
        Sym((team * 5 + member) as u32)
    }
}

fn bench_expr(c: &mut Criterion) {
    let attributes = [("skill".to_owned(), AttrType::Number), ("maps".to_owned(), AttrType::StringList)];
    let teams = [TeamScope { name: "red".into(), quantity: 1 }, TeamScope { name: "blue".into(), quantity: 1 }];
    let scope = Scope { attributes: &attributes, teams: &teams };
    let mut interner = Interner::new();
    let cand = FiveVFive {
        skill: [[1500.0, 1480.0, 1530.0, 1490.0, 1510.0], [1505.0, 1495.0, 1520.0, 1470.0, 1500.0]],
        maps: [[Sym(1), Sym(2)]; 10],
    };
    let cases = [
        ("team_averages", "avg(teams[*].players.attributes[skill])"),
        ("match_average", "avg(flatten(teams[*].players.attributes[skill]))"),
        ("skill_spread", "max(flatten(teams[*].players.attributes[skill]))"),
        ("team_sizes", "count(teams[*].players)"),
        ("map_lists", "flatten(teams[*].players.attributes[maps])"),
        ("shared_maps", "set_intersection(flatten(teams[*].players.attributes[maps]))"),
    ];
    let mut group = c.benchmark_group("expr");
    group.throughput(Throughput::Elements(1));
    for (name, text) in cases {
        let parsed = expr::parse(text).expect("valid expression");
        expr::check(&parsed, &scope).expect("well typed");
        let compiled = expr::compile(&parsed, &scope, &mut interner);
        let mut scratch = Scratch::default();
        group.bench_function(name, |b| {
            b.iter(|| {
                let root = compiled.eval(black_box(&cand), &mut scratch);
                // Checksum: the result has the expected shape.
                let mut leaves = 0usize;
                scratch.for_each_leaf(root, |n| leaves += usize::from(!matches!(n, Node::Absent)));
                assert!(leaves > 0);
                leaves
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_expr);
criterion_main!(benches);
