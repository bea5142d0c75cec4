use std::fmt::Write as _;

use expect_test::{Expect, expect};
use proptest::prelude::*;

use super::*;

// ---------------------------------------------------------------------------------------
// Helpers

fn solo(value: f64) -> Party {
    Party { size: 1, value, fixed_team: None }
}

/// A party of `size` players whose balance values sum to `value`.
fn party(size: u32, value: f64) -> Party {
    Party { size, value, fixed_team: None }
}

fn pinned(size: u32, value: f64, team: u32) -> Party {
    Party { size, value, fixed_team: Some(team) }
}

fn slots(min: u32, max: u32, quantity: usize) -> Vec<TeamSlots> {
    vec![TeamSlots { min, max }; quantity]
}

fn solve(parties: &[Party], teams: &[TeamSlots], limit: usize) -> Assignments {
    let mut out = Assignments::default();
    best_assignments(parties, teams, limit, &mut TeamScratch::default(), &mut out);
    out
}

/// One line per assignment: imbalance, fill spread, teams, and each team's size and average.
fn render(parties: &[Party], teams: &[TeamSlots], out: &Assignments) -> String {
    if out.is_empty() {
        return "infeasible\n".to_owned();
    }
    let mut res = String::new();
    for i in 0..out.len() {
        let a = out.get(i);
        let (p, fill) = key_of(parties, teams, a);
        assert_eq!(p.to_bits(), out.imbalance[i].to_bits());
        let _ = write!(res, "{p:.3} fill {fill} {a:?} |");
        for t in 0..teams.len() {
            let (n, sum) = parties
                .iter()
                .zip(a)
                .filter(|&(_, &at)| at as usize == t)
                .fold((0, 0.0), |(n, s), (p, _)| (n + p.size, s + p.value));
            let avg = if n > 0 { sum / f64::from(n) } else { 0.0 };
            let _ = write!(res, " {n}@{avg:.1}");
        }
        res.push('\n');
    }
    res
}

#[track_caller]
fn check(parties: &[Party], teams: &[TeamSlots], limit: usize, expect: Expect) {
    let out = solve(parties, teams, limit);
    assert_well_formed(parties, teams, &out);
    expect.assert_eq(&render(parties, teams, &out));
}

/// Independent reference: whether `a` respects every party's pin and every team's bounds.
fn valid(parties: &[Party], teams: &[TeamSlots], a: &[u32]) -> bool {
    let mut count = vec![0u64; teams.len()];
    for (p, &t) in parties.iter().zip(a) {
        if t as usize >= teams.len() || p.fixed_team.is_some_and(|f| f != t) {
            return false;
        }
        count[t as usize] += u64::from(p.size);
    }
    teams.iter().zip(&count).all(|(s, &c)| (u64::from(s.min)..=u64::from(s.max)).contains(&c))
}

/// Independent reference of the objective: `(primary, fill)`, sums in party order.
fn key_of(parties: &[Party], teams: &[TeamSlots], a: &[u32]) -> (f64, u32) {
    let mut sum = vec![0.0; teams.len()];
    let mut count = vec![0u32; teams.len()];
    for (p, &t) in parties.iter().zip(a) {
        sum[t as usize] += p.value;
        count[t as usize] += p.size;
    }
    let avgs: Vec<f64> = sum.iter().zip(&count).filter(|&(_, &c)| c > 0).map(|(&s, &c)| s / f64::from(c)).collect();
    let hi = avgs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = avgs.iter().copied().fold(f64::INFINITY, f64::min);
    let primary = if avgs.is_empty() { 0.0 } else { hi - lo };
    let uniform = teams.iter().all(|t| t.max == teams[0].max);
    let fill = if uniform { count.iter().max().unwrap() - count.iter().min().unwrap() } else { 0 };
    (primary, fill)
}

/// Independent reference of canonical form: teams with no pinned party and the same
/// `(min, max)` are interchangeable, and within such a class teams are first used in index order.
fn canonical(parties: &[Party], teams: &[TeamSlots], a: &[u32]) -> bool {
    let has_pin = |t: usize| parties.iter().any(|p| p.fixed_team == Some(t as u32));
    let mut seen = vec![false; teams.len()];
    for &t in a {
        let t = t as usize;
        if !seen[t] && !has_pin(t) {
            // Every lower-index team of the same class must already be in use.
            if (0..t).any(|u| !has_pin(u) && teams[u] == teams[t] && !seen[u]) {
                return false;
            }
        }
        seen[t] = true;
    }
    true
}

/// Every valid canonical assignment, sorted by `(primary, fill, vector)`.
fn brute_force(parties: &[Party], teams: &[TeamSlots]) -> Vec<(f64, u32, Vec<u32>)> {
    let mut res = Vec::new();
    if teams.is_empty() {
        return res;
    }
    let mut a = vec![0u32; parties.len()];
    loop {
        if valid(parties, teams, &a) && canonical(parties, teams, &a) {
            let (p, f) = key_of(parties, teams, &a);
            res.push((p, f, a.clone()));
        }
        // Next vector in base `teams.len()`.
        let mut k = 0;
        loop {
            if k == a.len() {
                res.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
                return res;
            }
            a[k] += 1;
            if (a[k] as usize) < teams.len() {
                break;
            }
            a[k] = 0;
            k += 1;
        }
    }
}

/// Results are valid, canonical, distinct, correctly scored and sorted.
#[track_caller]
fn assert_well_formed(parties: &[Party], teams: &[TeamSlots], out: &Assignments) {
    assert_eq!(out.teams.len(), out.len() * parties.len());
    let mut prev: Option<(f64, u32, &[u32])> = None;
    for i in 0..out.len() {
        let a = out.get(i);
        assert!(valid(parties, teams, a), "invalid assignment {a:?}");
        assert!(canonical(parties, teams, a), "non-canonical assignment {a:?}");
        let (p, f) = key_of(parties, teams, a);
        assert_eq!(p.to_bits(), out.imbalance[i].to_bits(), "imbalance of {a:?}");
        if let Some(prev) = prev {
            let order = prev.0.total_cmp(&p).then(prev.1.cmp(&f)).then(prev.2.cmp(a));
            assert_eq!(order, std::cmp::Ordering::Less, "not sorted/distinct at {i}");
        }
        prev = Some((p, f, a));
    }
}

// ---------------------------------------------------------------------------------------
// Exact results

#[test]
fn five_v_five_solos() {
    let parties: Vec<Party> =
        [1500.0, 1450.0, 1600.0, 1550.0, 1400.0, 1480.0, 1520.0, 1610.0, 1390.0, 1505.0].map(solo).to_vec();
    check(
        &parties,
        &slots(5, 5, 2),
        4,
        expect![[r#"
               1.000 fill 0 [0, 0, 0, 0, 0, 1, 1, 1, 1, 1] | 5@1500.0 5@1501.0
               1.000 fill 0 [0, 0, 1, 0, 1, 0, 0, 1, 1, 1] | 5@1500.0 5@1501.0
               1.000 fill 0 [0, 0, 1, 0, 1, 1, 1, 0, 0, 1] | 5@1500.0 5@1501.0
               1.000 fill 0 [0, 1, 0, 1, 0, 0, 0, 1, 1, 1] | 5@1500.0 5@1501.0
        "#]],
    );
}

#[test]
fn five_v_five_flexible_sizes_prefers_even_fill() {
    // Teams of 4–6: a 6/4 split could balance as well, but equal fill wins the tie.
    let parties: Vec<Party> = [1500.0; 10].map(solo).to_vec();
    check(
        &parties,
        &slots(4, 6, 2),
        3,
        expect![[r#"
               0.000 fill 0 [0, 0, 0, 0, 0, 1, 1, 1, 1, 1] | 5@1500.0 5@1500.0
               0.000 fill 0 [0, 0, 0, 0, 1, 0, 1, 1, 1, 1] | 5@1500.0 5@1500.0
               0.000 fill 0 [0, 0, 0, 0, 1, 1, 0, 1, 1, 1] | 5@1500.0 5@1500.0
        "#]],
    );
}

#[test]
fn five_v_five_parties_of_two_and_three() {
    // Two trios and two duos: each team must be one trio and one duo.
    let parties = [party(3, 4650.0), party(2, 2900.0), party(3, 4410.0), party(2, 3120.0)];
    check(
        &parties,
        &slots(5, 5, 2),
        4,
        expect![[r#"
            4.000 fill 0 [0, 0, 1, 1] | 5@1510.0 5@1506.0
            92.000 fill 0 [0, 1, 1, 0] | 5@1554.0 5@1462.0
        "#]],
    );
}

#[test]
fn five_v_five_parties_mixed_with_solos() {
    let parties =
        [party(3, 4650.0), party(2, 2900.0), solo(1600.0), solo(1400.0), solo(1500.0), solo(1450.0), solo(1550.0)];
    check(
        &parties,
        &slots(5, 5, 2),
        3,
        expect![[r#"
              10.000 fill 0 [0, 0, 1, 1, 1, 1, 1] | 5@1510.0 5@1500.0
              10.000 fill 0 [0, 1, 1, 0, 0, 1, 1] | 5@1510.0 5@1500.0
              10.000 fill 0 [0, 1, 1, 0, 1, 0, 1] | 5@1500.0 5@1510.0
        "#]],
    );
}

#[test]
fn monster_against_five_hunters() {
    // One monster team of exactly 1, one hunter team of exactly 5: every player can be the monster.
    let parties: Vec<Party> = [1500.0, 1700.0, 1400.0, 1450.0, 1550.0, 1600.0].map(solo).to_vec();
    let teams = [TeamSlots { min: 1, max: 1 }, TeamSlots { min: 5, max: 5 }];
    check(
        &parties,
        &teams,
        10,
        expect![[r#"
            20.000 fill 0 [1, 1, 1, 1, 0, 1] | 1@1550.0 5@1530.0
            40.000 fill 0 [0, 1, 1, 1, 1, 1] | 1@1500.0 5@1540.0
            80.000 fill 0 [1, 1, 1, 1, 1, 0] | 1@1600.0 5@1520.0
            100.000 fill 0 [1, 1, 1, 0, 1, 1] | 1@1450.0 5@1550.0
            160.000 fill 0 [1, 1, 0, 1, 1, 1] | 1@1400.0 5@1560.0
            200.000 fill 0 [1, 0, 1, 1, 1, 1] | 1@1700.0 5@1500.0
        "#]],
    );
}

#[test]
fn three_teams_of_three_to_five_with_parties() {
    let parties = [
        party(3, 4500.0),
        party(2, 3200.0),
        party(2, 2800.0),
        solo(1550.0),
        solo(1450.0),
        solo(1500.0),
        solo(1520.0),
        solo(1480.0),
        solo(1600.0),
        solo(1400.0),
    ];
    check(
        &parties,
        &slots(3, 5, 3),
        4,
        expect![[r#"
               0.000 fill 1 [0, 1, 1, 0, 0, 1, 2, 2, 2, 2] | 5@1500.0 5@1500.0 4@1500.0
               0.000 fill 1 [0, 1, 1, 0, 0, 2, 2, 2, 2, 2] | 5@1500.0 4@1500.0 5@1500.0
               0.000 fill 1 [0, 1, 1, 2, 2, 1, 0, 0, 2, 2] | 5@1500.0 5@1500.0 4@1500.0
               0.000 fill 1 [0, 1, 1, 2, 2, 1, 2, 2, 0, 0] | 5@1500.0 5@1500.0 4@1500.0
        "#]],
    );
}

#[test]
fn pinned_party_stays_on_its_team() {
    // Backfill: a strong duo already on team 1.
    let parties =
        [pinned(2, 3400.0, 1), solo(1500.0), solo(1400.0), solo(1600.0), solo(1450.0), solo(1550.0), solo(1300.0)];
    check(
        &parties,
        &slots(4, 4, 2),
        3,
        expect![[r#"
            0.000 fill 0 [1, 0, 1, 0, 0, 0, 1] | 4@1525.0 4@1525.0
            25.000 fill 0 [1, 0, 0, 0, 1, 0, 1] | 4@1512.5 4@1537.5
            50.000 fill 0 [1, 1, 0, 0, 0, 0, 1] | 4@1500.0 4@1550.0
        "#]],
    );
}

#[test]
fn infeasible_inputs() {
    let four = [solo(1.0), solo(2.0), solo(3.0), solo(4.0)];
    // A trio can never fit a team of two.
    check(
        &[party(3, 3.0), solo(1.0)],
        &slots(1, 2, 2),
        3,
        expect![[r#"
        infeasible
    "#]],
    );
    // Too few players for the mins, too many for the maxes.
    check(
        &four,
        &slots(3, 3, 2),
        3,
        expect![[r#"
        infeasible
    "#]],
    );
    check(
        &four,
        &slots(1, 1, 2),
        3,
        expect![[r#"
        infeasible
    "#]],
    );
    // Parties that cannot be packed although the totals fit.
    check(
        &[party(2, 2.0), party(2, 2.0), party(2, 2.0)],
        &slots(3, 3, 2),
        3,
        expect![[r#"
        infeasible
    "#]],
    );
    // Pins to a missing team or overflowing their team.
    check(
        &[pinned(1, 1.0, 2), solo(1.0)],
        &slots(1, 1, 2),
        3,
        expect![[r#"
        infeasible
    "#]],
    );
    check(
        &[pinned(1, 1.0, 0), pinned(1, 1.0, 0)],
        &slots(1, 1, 2),
        3,
        expect![[r#"
        infeasible
    "#]],
    );
    // No teams, inverted bounds, nothing asked for.
    check(
        &four,
        &[],
        3,
        expect![[r#"
        infeasible
    "#]],
    );
    check(
        &four,
        &[TeamSlots { min: 3, max: 2 }, TeamSlots { min: 2, max: 2 }],
        3,
        expect![[r#"
        infeasible
    "#]],
    );
    check(
        &four,
        &slots(2, 2, 2),
        0,
        expect![[r#"
        infeasible
    "#]],
    );
}

#[test]
fn empty_match() {
    // No parties: the empty assignment is valid exactly when no team needs players.
    check(
        &[],
        &slots(0, 5, 2),
        3,
        expect![[r#"
           0.000 fill 0 [] | 0@0.0 0@0.0
    "#]],
    );
    check(
        &[],
        &slots(1, 5, 2),
        3,
        expect![[r#"
        infeasible
    "#]],
    );
}

// ---------------------------------------------------------------------------------------
// Heuristic

/// `n` solo players with deterministic pseudo-random values in [1400, 1600).
fn spread_solos(n: usize, seed: u64) -> Vec<Party> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            solo(1400.0 + (x >> 40) as f64 / (1u64 << 24) as f64 * 200.0)
        })
        .collect()
}

#[test]
fn twenty_v_twenty_heuristic_is_near_optimal() {
    let parties = spread_solos(40, 7);
    let teams = slots(20, 20, 2);
    let out = solve(&parties, &teams, 4);
    assert_well_formed(&parties, &teams, &out);
    assert_eq!(out.len(), 4);
    // Uniform [1400, 1600): a random split is off by ~10; swaps get well under 1.
    assert!(out.imbalance[0] < 0.5, "{}", out.imbalance[0]);
}

#[test]
fn large_match_of_eleven_teams() {
    // FlexMatch's example: 10 hunter teams of 12–15 and a monster team of 5, 155 players
    // in parties of 1–4 (the last a tail of solos).
    let mut parties = spread_solos(155, 3);
    let mut k = 0;
    let mut grouped = Vec::new();
    for size in [4u32, 3, 2, 1].iter().cycle() {
        if k + *size as usize > parties.len() {
            break;
        }
        let value = parties[k..k + *size as usize].iter().map(|p| p.value).sum();
        grouped.push(party(*size, value));
        k += *size as usize;
    }
    grouped.extend(parties.drain(k..));
    let mut teams = slots(12, 15, 10);
    teams.push(TeamSlots { min: 5, max: 5 });
    let total: u32 = grouped.iter().map(|p| p.size).sum();
    assert_eq!(total, 155);
    let out = solve(&grouped, &teams, 3);
    assert_well_formed(&grouped, &teams, &out);
    assert!(!out.is_empty());
    assert!(out.imbalance[0] < 5.0, "{}", out.imbalance[0]);
}

#[test]
fn heuristic_finds_tight_packings() {
    // Only one packing works (3+2 | 4+1); the greedy's first choice (4 and 3 apart) is right,
    // but 4+1 | 3+2 must respect the duo — check the backtracking on a harder one too.
    let parties = [party(3, 3.0), party(4, 4.0), party(2, 2.0), party(1, 1.0)];
    let teams = slots(5, 5, 2);
    let mut out = Assignments::default();
    heuristic_assignments(&parties, &teams, 2, &mut TeamScratch::default(), &mut out);
    assert_well_formed(&parties, &teams, &out);
    assert_eq!(out.len(), 1);
    // 6 = 3+3 = 2+2+2 | 4+2: largest-first puts 4 and 3 apart and must backtrack.
    let parties = [party(4, 4.0), party(3, 3.0), party(3, 3.0), party(2, 2.0)];
    let teams = slots(6, 6, 2);
    heuristic_assignments(&parties, &teams, 2, &mut TeamScratch::default(), &mut out);
    assert_well_formed(&parties, &teams, &out);
    assert_eq!(out.len(), 1);
}

#[test]
fn no_allocation_once_grown() {
    let mut scratch = TeamScratch::default();
    let mut out = Assignments::default();
    let small = spread_solos(10, 11);
    let large = spread_solos(40, 12);
    let (t2, t20) = (slots(5, 5, 2), slots(20, 20, 2));
    best_assignments(&small, &t2, 4, &mut scratch, &mut out);
    best_assignments(&large, &t20, 4, &mut scratch, &mut out);
    let ptrs = |s: &TeamScratch, o: &Assignments| {
        [
            s.pool.as_ptr() as usize,
            s.entries.as_ptr() as usize,
            s.children.as_ptr() as usize,
            s.prefix.as_ptr() as usize,
            s.neighbours.as_ptr() as usize,
            s.team_of.as_ptr() as usize,
            o.teams.as_ptr() as usize,
            o.imbalance.as_ptr() as usize,
        ]
    };
    let before = ptrs(&scratch, &out);
    for _ in 0..3 {
        best_assignments(&small, &t2, 4, &mut scratch, &mut out);
        best_assignments(&large, &t20, 4, &mut scratch, &mut out);
    }
    assert_eq!(before, ptrs(&scratch, &out));
}

#[test]
fn odd_inputs_do_not_panic() {
    let mut out = Assignments::default();
    let mut scratch = TeamScratch::default();
    let cases: Vec<(Vec<Party>, Vec<TeamSlots>)> = vec![
        (vec![party(0, 5.0), solo(1.0)], slots(0, 1, 2)),
        (vec![party(u32::MAX, 1.0)], slots(0, u32::MAX, 1)),
        (vec![solo(1.0); 3], vec![TeamSlots { min: 0, max: u32::MAX }; 3]),
        (vec![solo(-1e300), solo(1e300)], slots(1, 1, 2)),
        (spread_solos(16, 5), (1..=16).map(|m| TeamSlots { min: 0, max: m }).collect()),
    ];
    for (parties, teams) in &cases {
        best_assignments(parties, teams, 3, &mut scratch, &mut out);
        heuristic_assignments(parties, teams, 3, &mut scratch, &mut out);
        for i in 0..out.len() {
            assert!(valid(parties, teams, out.get(i)));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Properties

/// Up to 10 players in parties of 1–3 (some pinned), 1–3 teams. Values come from a few
/// levels so that ties — and the tie-breaks — are common. Most cases have player totals within
/// the teams' bounds (the rest are mostly infeasible).
fn small_case() -> impl Strategy<Value = (Vec<Party>, Vec<TeamSlots>)> {
    (1usize..=3).prop_flat_map(|n_teams| {
        let teams = prop::collection::vec(
            (0u32..=3, 0u32..=4).prop_map(|(min, extra)| TeamSlots { min, max: min + extra }),
            n_teams,
        );
        let value = prop_oneof![(0u32..4).prop_map(|k| 1400.0 + 50.0 * f64::from(k)), 1000.0..2000.0f64];
        let party = (1u32..=3, value, prop::option::weighted(0.15, 0..n_teams as u32))
            .prop_map(|(size, per_player, fixed_team)| Party { size, value: per_player * f64::from(size), fixed_team });
        (prop::collection::vec(party, 0..=8), teams, prop::bool::weighted(0.85)).prop_map(
            |(mut parties, mut teams, fit)| {
                let mut total = 0;
                parties.retain(|p| {
                    total += p.size;
                    total <= 10
                });
                if fit {
                    while teams.iter().map(|t| t.max).sum::<u32>() < total {
                        teams.iter_mut().min_by_key(|t| t.max).unwrap().max += 1;
                    }
                    while teams.iter().map(|t| t.min).sum::<u32>() > total {
                        teams.iter_mut().max_by_key(|t| t.min).unwrap().min -= 1;
                    }
                }
                (parties, teams)
            },
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn exhaustive_matches_brute_force((parties, teams) in small_case(), limit in 1usize..=6) {
        let out = solve(&parties, &teams, limit);
        assert_well_formed(&parties, &teams, &out);
        let all = brute_force(&parties, &teams);
        let want: Vec<(f64, u32, Vec<u32>)> = all.into_iter().take(limit).collect();
        let got: Vec<(f64, u32, Vec<u32>)> = (0..out.len()).map(|i| {
            let a = out.get(i);
            let (p, f) = key_of(&parties, &teams, a);
            (p, f, a.to_vec())
        }).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn heuristic_is_valid_and_beats_greedy((parties, teams) in small_case(), limit in 1usize..=4) {
        let mut scratch = TeamScratch::default();
        let mut out = Assignments::default();
        heuristic_assignments(&parties, &teams, limit, &mut scratch, &mut out);
        assert_well_formed(&parties, &teams, &out);
        let all = brute_force(&parties, &teams);
        prop_assert_eq!(out.is_empty(), all.is_empty());
        prop_assert!(out.len() <= limit);
        if let Some(best) = all.first() {
            prop_assert!(out.imbalance[0] >= best.0);
        }
        let mut greedy = Assignments::default();
        greedy_assignment(&parties, &teams, &mut scratch, &mut greedy);
        assert_well_formed(&parties, &teams, &greedy);
        if !greedy.is_empty() {
            prop_assert!(out.imbalance[0] <= greedy.imbalance[0] + 1e-9, "{} > {}", out.imbalance[0], greedy.imbalance[0]);
        }
    }
}

#[test]
fn one_player_per_team_matches_brute_force() {
    // Duels and small free-for-alls take a shortcut; it must give exactly what the solver
    // gives, including when teams are not interchangeable (different mins) and it must not
    // apply.
    let shapes: [&[TeamSlots]; 4] = [
        &[TeamSlots { min: 1, max: 1 }; 2],
        &[TeamSlots { min: 0, max: 1 }; 4],
        &[TeamSlots { min: 1, max: 1 }, TeamSlots { min: 0, max: 1 }],
        &[TeamSlots { min: 1, max: 1 }; 6],
    ];
    for teams in shapes {
        let parties: Vec<Party> = (0..teams.len()).map(|i| solo(1500.0 + 37.0 * (i as f64) * (i as f64))).collect();
        for limit in [1, 3, 8] {
            let out = solve(&parties, teams, limit);
            assert_well_formed(&parties, teams, &out);
            let want: Vec<(f64, u32, Vec<u32>)> = brute_force(&parties, teams).into_iter().take(limit).collect();
            let got: Vec<(f64, u32, Vec<u32>)> = (0..out.len())
                .map(|i| {
                    let (p, f) = key_of(&parties, teams, out.get(i));
                    (p, f, out.get(i).to_vec())
                })
                .collect();
            assert_eq!(got, want, "{teams:?}, limit {limit}");
        }
    }
}
