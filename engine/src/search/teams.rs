//! Team assignment: once the tickets of a match are chosen, put each ticket (an atomic party
//! of players) on a team so that every team's player count is within its `[min, max]`,
//! returning the few best assignments in order.
//!
//! # Objective
//!
//! Assignments are ordered by the key `(primary, fill, vector)`, smallest first:
//!
//! * **primary** (the reported `imbalance`): the spread of the teams' average balance value,
//!   `max avg − min avg` over the teams with at least one player (`0` when fewer than two teams
//!   have players). A party's `value` is the *sum* of its members' balance values, and a team's
//!   average is `Σ values / Σ sizes` of its parties, the sums taken in party order.
//! * **fill** (tie-break): when every team has the same `max`, the spread of team player counts
//!   (`max count − min count` over all teams, empty ones included); otherwise `0`.
//! * **vector**: the assignment vector, compared lexicographically, for determinism.
//!
//! Teams with identical `(min, max)` and no pinned party are interchangeable; of each set of
//! assignments that differ only by relabelling such teams, only the canonical one (the
//! lexicographically smallest: within a class, teams are first used in index order) is ever
//! returned. Returned assignments are therefore distinct up to that symmetry as well.
//!
//! # Algorithms
//!
//! * One single player per one-player team, all teams alike (duels, small free-for-alls):
//!   the canonical assignment is the only one; it is returned without a search.
//! * Up to [`EXHAUSTIVE_MAX_PLAYERS`] players (and 64 teams), exact: enumerate the team-size
//!   vectors (each size within its team's bounds, summing to the players, non-increasing within
//!   a class of interchangeable teams), and for each, branch and bound over the unpinned parties
//!   in decreasing per-player value, children ordered by how close the team's deviation from
//!   the match mean stays to zero. Of interchangeable teams of equal size, an empty one is used
//!   only once the lower-index ones are in use, so each canonical assignment is reached once.
//!   Pruning: the largest remaining party must fit some team's remaining room; and once `limit`
//!   results are known, a lower bound on the primary. With `k` slots left, a team's final
//!   average lies in `[loₜ, hiₜ]` given by the `k` worst / best remaining per-player values
//!   (a relaxation that splits parties); the mean `μ` lies between the final minimum and
//!   maximum averages, so the spread is at least `max(maxₜ loₜ, μ) − min(minₜ hiₜ, μ)`; and a
//!   team of `nₜ` players at distance `δ` from `μ` pushes some other team `δ·nₜ/(N − nₜ)` to the
//!   other side, so the spread is at least `δ·N/(N − nₜ)`. A work budget (a few ms) guards
//!   pathological shapes (many distinct team definitions with loose bounds): if it runs out, the
//!   results found so far are merged with the heuristic's (valid and sorted, not proven best).
//! * Above that: a greedy fill (largest parties first, each to the team whose deviation from the
//!   match mean it brings closest to zero, preferring teams below their FlexMatch-style target
//!   size, never leaving a `min` unreachable; it backtracks when it paints itself into a
//!   corner), then best-improvement local search over single-party moves and pairwise swaps
//!   until nothing improves. The alternatives returned after the local optimum are its best
//!   neighbours. Deterministic: no randomness, no hashing.

#[cfg(test)]
mod tests;

use std::cmp::Ordering;

/// Matches with at most this many players (and parties) are solved exactly.
#[allow(unreachable_pub)]
pub const EXHAUSTIVE_MAX_PLAYERS: u64 = 16;
/// Work (nodes × (teams + 4)) the exact search may do before it gives up on exactness: a few ms.
const WORK_BUDGET: u64 = 1_500_000;
/// The exact search handles at most this many teams.
const EXHAUSTIVE_MAX_TEAMS: usize = 64;
/// Nodes the backtracking greedy may visit before declaring the match infeasible.
const GREEDY_BUDGET: u64 = 1_000_000;
/// Local-search passes before it stops improving.
const MAX_PASSES: u32 = 1_000;
/// Most neighbours of the local optimum returned as alternatives.
const MAX_ALTERNATIVES: usize = 64;

/// One ticket: its players always go to the same team.
#[allow(unreachable_pub)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Party {
    /// Number of players.
    pub size: u32,
    /// Sum of the members' balance values.
    pub value: f64,
    /// The team the party must be on (backfill: players already in the game).
    pub fixed_team: Option<u32>,
}

/// A team's size bounds, already adjusted for expansions.
#[allow(unreachable_pub)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamSlots {
    /// Fewest players the team may have.
    pub min: u32,
    /// Most players the team may have.
    pub max: u32,
}

/// Assignments in order of increasing imbalance.
#[allow(unreachable_pub)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assignments {
    /// `len() × parties.len()` team indices; assignment `i` is `teams[i * n..(i + 1) * n]`.
    pub teams: Vec<u32>,
    /// The imbalance (primary objective) of each assignment.
    pub imbalance: Vec<f64>,
}

impl Assignments {
    /// Number of assignments; `0` means no valid assignment exists (or `limit` was 0).
    #[allow(unreachable_pub)]
    pub fn len(&self) -> usize {
        self.imbalance.len()
    }

    /// Whether there are no assignments.
    #[allow(unreachable_pub, dead_code)] // Used by the tests and benches.
    pub fn is_empty(&self) -> bool {
        self.imbalance.is_empty()
    }

    /// The team of each party in assignment `i`. Panics if `i >= len()`.
    #[allow(unreachable_pub)]
    pub fn get(&self, i: usize) -> &[u32] {
        let width = self.teams.len() / self.len().max(1);
        &self.teams[i * width..(i + 1) * width]
    }

    fn clear(&mut self) {
        self.teams.clear();
        self.imbalance.clear();
    }
}

/// Reusable buffers: once grown, a solve does not allocate.
#[allow(unreachable_pub)]
#[derive(Debug, Default)]
pub struct TeamScratch {
    // Per-team state of the partial assignment.
    sum: Vec<f64>,
    count: Vec<u32>,
    members: Vec<u32>,
    // Interchangeable team classes: class `c` is `class_members[class_start[c]..class_start[c + 1]]`.
    team_class: Vec<u32>,
    class_start: Vec<u32>,
    class_members: Vec<u32>,
    class_used: Vec<u32>,
    // Candidate canonicalisation and evaluation.
    cand: Vec<u32>,
    relabel: Vec<u32>,
    next_in_class: Vec<u32>,
    eval_sum: Vec<f64>,
    eval_count: Vec<u32>,
    // Best assignments so far, sorted; each points at a slot of `pool`.
    entries: Vec<Entry>,
    pool: Vec<u32>,
    // Search order and per-depth state (both searches).
    order: Vec<u32>,
    suffix_max: Vec<u32>,
    choice: Vec<u32>,
    children: Vec<u32>,
    child_keys: Vec<f64>,
    /// Team sizes: fixed per size vector in the exact search, FlexMatch fill targets in the greedy.
    target: Vec<u32>,
    // Exact search: per-player value prefix sums over `order`, each depth's offset into them,
    // 1/n, and the size enumeration.
    prefix: Vec<f64>,
    offset: Vec<u32>,
    recip: Vec<f64>,
    class_prev: Vec<u32>,
    xs: Vec<XTeam>,
    size_min: Vec<u64>,
    size_max: Vec<u64>,
    // Heuristic.
    tried: Vec<u32>,
    saved_sum: Vec<f64>,
    team_of: Vec<u32>,
    first_empty: Vec<u32>,
    neighbours: Vec<Neighbour>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    primary: f64,
    fill: u32,
    slot: u32,
}

/// A team in the exact search.
#[derive(Debug, Clone, Copy)]
struct XTeam {
    sum: f64,
    count: u32,
    /// The size this team ends with, in the size vector being searched.
    target: u32,
    members: u32,
    /// The previous team interchangeable with this one (same class and target), or `NONE`.
    sym_prev: u32,
}

/// A move (`j == NONE`: party `i` to team `team`) or a swap of parties `i` and `j`.
#[derive(Debug, Clone, Copy)]
struct Neighbour {
    primary: f64,
    fill: u32,
    i: u32,
    j: u32,
    team: u32,
}

const NONE: u32 = u32::MAX;

/// Fills `out` (cleared first) with up to `limit` distinct valid assignments in order of
/// increasing imbalance (see the module docs for the exact order). Each assignment is
/// `parties.len()` consecutive team indices in `out.teams`; its imbalance is in `out.imbalance`.
/// `out` stays empty when no valid assignment exists.
#[allow(unreachable_pub)]
pub fn best_assignments(
    parties: &[Party],
    teams: &[TeamSlots],
    limit: usize,
    scratch: &mut TeamScratch,
    out: &mut Assignments,
) {
    out.clear();
    if one_per_team(parties, teams, limit, out) {
        #[cfg(debug_assertions)]
        {
            let mut general = Assignments::default();
            if let Some(mut solver) = Solver::new(parties, teams, limit, scratch) {
                solver.exhaustive();
                solver.write(&mut general);
            }
            assert_eq!(*out, general, "the one-per-team shortcut disagrees with the solver");
        }
        return;
    }
    let Some(mut solver) = Solver::new(parties, teams, limit, scratch) else { return };
    if solver.total_players <= EXHAUSTIVE_MAX_PLAYERS
        && parties.len() as u64 <= EXHAUSTIVE_MAX_PLAYERS
        && teams.len() <= EXHAUSTIVE_MAX_TEAMS
    {
        solver.exhaustive();
        if solver.aborted {
            solver.heuristic();
        }
    } else {
        solver.heuristic();
    }
    solver.write(out);
}

/// The shortcut for duels and small free-for-alls: as many single players as teams (at most
/// `EXHAUSTIVE_MAX_PLAYERS`, where the solver is exact), every team
/// exactly one player (the same `min ≤ 1 = max` for all), none pinned. Every assignment is then a relabelling
/// of interchangeable teams, so the canonical one (party `i` on team `i`) is the only one, and
/// its imbalance is the spread of the players' values. Returns false when the shape differs.
fn one_per_team(parties: &[Party], teams: &[TeamSlots], limit: usize, out: &mut Assignments) -> bool {
    if limit == 0
        || parties.len() != teams.len()
        || parties.len() as u64 > EXHAUSTIVE_MAX_PLAYERS
        || teams.iter().any(|t| t.max != 1 || t.min > 1 || *t != teams[0])
        || parties.iter().any(|p| p.size != 1 || p.fixed_team.is_some() || p.value.is_nan())
    {
        return false;
    }
    let (lo, hi) =
        parties.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.value), hi.max(p.value)));
    out.teams.extend(0..parties.len() as u32);
    out.imbalance.push(if parties.len() < 2 { 0.0 } else { hi - lo });
    true
}

/// The heuristic (greedy + local search) whatever the match size; for tests.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn heuristic_assignments(
    parties: &[Party],
    teams: &[TeamSlots],
    limit: usize,
    scratch: &mut TeamScratch,
    out: &mut Assignments,
) {
    out.clear();
    let Some(mut solver) = Solver::new(parties, teams, limit, scratch) else { return };
    solver.heuristic();
    solver.write(out);
}

/// The greedy fill alone, without backtracking or local search (at most one assignment); for tests.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn greedy_assignment(
    parties: &[Party],
    teams: &[TeamSlots],
    scratch: &mut TeamScratch,
    out: &mut Assignments,
) {
    out.clear();
    let Some(mut solver) = Solver::new(parties, teams, 1, scratch) else { return };
    if solver.greedy(false) {
        solver.insert_state();
    }
    solver.write(out);
}

struct Solver<'a> {
    parties: &'a [Party],
    teams: &'a [TeamSlots],
    s: &'a mut TeamScratch,
    limit: usize,
    /// Players over all parties.
    total_players: u64,
    /// Mean balance value per player over the match.
    mu: f64,
    /// Slack for comparing bounds computed in a different summation order.
    tol: f64,
    /// Every team has the same `max`, so the fill spread counts.
    uniform_max: bool,
    /// Some teams are interchangeable, so candidates need canonicalising.
    symmetric: bool,
    /// Work done by the exact search, against `WORK_BUDGET`.
    work: u64,
    aborted: bool,
}

fn per_player(p: &Party) -> f64 {
    if p.size == 0 { 0.0 } else { p.value / f64::from(p.size) }
}

impl<'a> Solver<'a> {
    /// Validates the input and sets up the pinned parties and team classes; `None` when no
    /// assignment can exist (or none was asked for).
    fn new(parties: &'a [Party], teams: &'a [TeamSlots], limit: usize, s: &'a mut TeamScratch) -> Option<Self> {
        let n_teams = teams.len();
        if n_teams == 0 || limit == 0 {
            return None;
        }
        let (mut sum_min, mut sum_max, mut max_max) = (0u64, 0u64, 0u32);
        for t in teams {
            if t.min > t.max {
                return None;
            }
            sum_min += u64::from(t.min);
            sum_max += u64::from(t.max);
            max_max = max_max.max(t.max);
        }
        let (mut total_players, mut total_value, mut max_abs) = (0u64, 0.0f64, 0.0f64);
        for p in parties {
            if p.size > max_max || p.fixed_team.is_some_and(|t| t as usize >= n_teams) {
                return None;
            }
            total_players += u64::from(p.size);
            total_value += p.value;
            max_abs = max_abs.max(per_player(p).abs());
        }
        if total_players < sum_min || total_players > sum_max {
            return None;
        }
        let mu = if total_players == 0 { 0.0 } else { total_value / total_players as f64 };
        let mu = if mu.is_finite() { mu } else { 0.0 };
        let tol = 1e-9 * (1.0 + if max_abs.is_finite() { max_abs } else { 0.0 });
        let uniform_max = teams.iter().all(|t| t.max == teams[0].max);
        let mut solver = Solver {
            parties,
            teams,
            s,
            limit,
            total_players,
            mu,
            tol,
            uniform_max,
            symmetric: false,
            work: 0,
            aborted: false,
        };
        if !solver.reset_state() {
            return None;
        }
        solver.build_classes();
        let s = &mut *solver.s;
        s.entries.clear();
        s.cand.clear();
        s.cand.resize(parties.len(), 0);
        for (i, p) in parties.iter().enumerate() {
            if let Some(t) = p.fixed_team {
                s.cand[i] = t;
            }
        }
        Some(solver)
    }

    /// Puts the state back to "only the pinned parties placed"; false if they overflow a team.
    fn reset_state(&mut self) -> bool {
        let n_teams = self.teams.len();
        let s = &mut *self.s;
        s.sum.clear();
        s.sum.resize(n_teams, 0.0);
        s.count.clear();
        s.count.resize(n_teams, 0);
        s.members.clear();
        s.members.resize(n_teams, 0);
        for p in self.parties {
            if let Some(t) = p.fixed_team {
                let t = t as usize;
                s.sum[t] += p.value;
                s.count[t] = s.count[t].saturating_add(p.size);
                s.members[t] += 1;
            }
        }
        s.class_used.iter_mut().for_each(|u| *u = 0);
        self.teams.iter().zip(&s.count).all(|(t, &c)| c <= t.max)
    }

    /// Groups the teams without pinned parties by `(min, max)`; every other team is a class of its own.
    fn build_classes(&mut self) {
        let teams = self.teams;
        let s = &mut *self.s;
        let members = &s.members;
        s.class_members.clear();
        s.class_members.extend(0..teams.len() as u32);
        s.class_members.sort_unstable_by_key(|&t| {
            let pinned = members[t as usize] > 0;
            let tt = teams[t as usize];
            (pinned, if pinned { 0 } else { tt.min }, if pinned { 0 } else { tt.max }, t)
        });
        s.class_start.clear();
        s.team_class.clear();
        s.team_class.resize(teams.len(), 0);
        for (k, &t) in s.class_members.iter().enumerate() {
            let tt = teams[t as usize];
            let new_class = k == 0 || members[t as usize] > 0 || {
                let prev = s.class_members[k - 1] as usize;
                members[prev] > 0 || teams[prev] != tt
            };
            if new_class {
                s.class_start.push(k as u32);
            }
            s.team_class[t as usize] = s.class_start.len() as u32 - 1;
        }
        s.class_start.push(teams.len() as u32);
        let n_classes = s.class_start.len() - 1;
        s.class_used.clear();
        s.class_used.resize(n_classes, 0);
        s.next_in_class.clear();
        s.next_in_class.resize(n_classes, 0);
        s.first_empty.clear();
        s.first_empty.resize(n_classes, NONE);
        s.relabel.clear();
        s.relabel.resize(teams.len(), NONE);
        s.eval_sum.clear();
        s.eval_sum.resize(teams.len(), 0.0);
        s.eval_count.clear();
        s.eval_count.resize(teams.len(), 0);
        self.symmetric = n_classes < teams.len();
    }

    /// Whether placing a party on `t` respects the symmetry breaking: an empty team of a class
    /// may be used only if it is the lowest-index empty team of the class.
    #[inline]
    fn symmetry_ok(&self, t: usize) -> bool {
        let s = &*self.s;
        if s.members[t] > 0 {
            return true;
        }
        let c = s.team_class[t] as usize;
        let start = s.class_start[c] as usize;
        let len = s.class_start[c + 1] as usize - start;
        len <= 1 || s.class_members[start + s.class_used[c] as usize] as usize == t
    }

    #[inline]
    fn place(&mut self, i: usize, t: usize) {
        let p = &self.parties[i];
        let s = &mut *self.s;
        if s.members[t] == 0 {
            s.class_used[s.team_class[t] as usize] += 1;
        }
        s.members[t] += 1;
        s.sum[t] += p.value;
        s.count[t] += p.size;
    }

    #[inline]
    fn unplace(&mut self, i: usize, t: usize, old_sum: f64) {
        let p = &self.parties[i];
        let s = &mut *self.s;
        s.members[t] -= 1;
        if s.members[t] == 0 {
            s.class_used[s.team_class[t] as usize] -= 1;
        }
        s.sum[t] = old_sum;
        s.count[t] -= p.size;
    }

    fn mins_met(&self) -> bool {
        self.teams.iter().zip(&self.s.count).all(|(t, &c)| c >= t.min)
    }

    // -----------------------------------------------------------------------------------
    // Candidates and the result list

    /// Relabels `cand` so that within each class teams are first used in index order.
    fn canonicalize(&mut self) {
        if !self.symmetric {
            return;
        }
        let s = &mut *self.s;
        s.relabel.iter_mut().for_each(|r| *r = NONE);
        s.next_in_class.iter_mut().for_each(|r| *r = 0);
        for k in 0..s.cand.len() {
            let t = s.cand[k] as usize;
            let c = s.team_class[t] as usize;
            let start = s.class_start[c] as usize;
            if s.class_start[c + 1] as usize - start <= 1 {
                continue;
            }
            if s.relabel[t] == NONE {
                s.relabel[t] = s.class_members[start + s.next_in_class[c] as usize];
                s.next_in_class[c] += 1;
            }
            s.cand[k] = s.relabel[t];
        }
    }

    /// The exact `(primary, fill)` of `cand`, summed in party order.
    fn evaluate(&mut self) -> (f64, u32) {
        let s = &mut *self.s;
        // Both are `teams.len()` long (see `build_classes`).
        s.eval_sum.iter_mut().for_each(|v| *v = 0.0);
        s.eval_count.iter_mut().for_each(|v| *v = 0);
        for (p, &t) in self.parties.iter().zip(&s.cand) {
            s.eval_sum[t as usize] += p.value;
            s.eval_count[t as usize] += p.size;
        }
        objective(&s.eval_sum, &s.eval_count, self.uniform_max)
    }

    fn full(&self) -> bool {
        self.s.entries.len() >= self.limit
    }

    fn worst(&self) -> f64 {
        self.s.entries.last().map_or(f64::INFINITY, |e| e.primary)
    }

    /// Canonicalises and evaluates `cand` and keeps it if it is among the best `limit`.
    fn insert_cand(&mut self) {
        self.canonicalize();
        let (primary, fill) = self.evaluate();
        let width = self.parties.len();
        let s = &mut *self.s;
        let cmp = |e: &Entry| {
            primary
                .total_cmp(&e.primary)
                .then(fill.cmp(&e.fill))
                .then_with(|| s.cand[..].cmp(&s.pool[e.slot as usize * width..(e.slot as usize + 1) * width]))
        };
        if s.entries.len() >= self.limit && s.entries.last().is_some_and(|e| cmp(e) != Ordering::Less) {
            return;
        }
        let mut pos = s.entries.len();
        for (k, e) in s.entries.iter().enumerate() {
            match cmp(e) {
                Ordering::Less => {
                    pos = k;
                    break;
                }
                Ordering::Equal => return,
                Ordering::Greater => {}
            }
        }
        let slot =
            if s.entries.len() >= self.limit { s.entries.pop().map_or(0, |e| e.slot) } else { s.entries.len() as u32 };
        let at = slot as usize * width;
        if s.pool.len() < at + width {
            s.pool.resize(at + width, 0);
        }
        s.pool[at..at + width].copy_from_slice(&s.cand);
        s.entries.insert(pos, Entry { primary, fill, slot });
    }

    /// Inserts the heuristic's current state (`team_of`).
    fn insert_state(&mut self) {
        let s = &mut *self.s;
        s.cand.clear();
        s.cand.extend_from_slice(&s.team_of);
        self.insert_cand();
    }

    fn write(&self, out: &mut Assignments) {
        let width = self.parties.len();
        for e in &self.s.entries {
            let at = e.slot as usize * width;
            out.teams.extend_from_slice(&self.s.pool[at..at + width]);
            out.imbalance.push(e.primary);
        }
    }

    // -----------------------------------------------------------------------------------
    // Exact search

    fn exhaustive(&mut self) {
        let n_teams = self.teams.len();
        let parties = self.parties;
        let s = &mut *self.s;
        s.order.clear();
        s.order.extend((0..parties.len() as u32).filter(|&i| parties[i as usize].fixed_team.is_none()));
        s.order.sort_unstable_by(|&a, &b| {
            let (pa, pb) = (&parties[a as usize], &parties[b as usize]);
            per_player(pb).total_cmp(&per_player(pa)).then(pb.size.cmp(&pa.size)).then(a.cmp(&b))
        });
        let m = s.order.len();
        s.prefix.clear();
        s.prefix.push(0.0);
        s.offset.clear();
        for &i in &s.order {
            let p = &parties[i as usize];
            s.offset.push(s.prefix.len() as u32 - 1);
            let v = per_player(p);
            for _ in 0..p.size {
                let last = *s.prefix.last().unwrap_or(&0.0);
                s.prefix.push(last + v);
            }
        }
        s.offset.push(s.prefix.len() as u32 - 1);
        s.recip.clear();
        s.recip.push(0.0);
        s.recip.extend((1..=self.total_players).map(|k| 1.0 / k as f64));
        s.suffix_max.clear();
        s.suffix_max.resize(m + 1, 0);
        for d in (0..m).rev() {
            s.suffix_max[d] = s.suffix_max[d + 1].max(parties[s.order[d] as usize].size);
        }
        s.choice.clear();
        s.choice.resize(m, 0);
        s.children.clear();
        s.children.resize(m * n_teams, 0);
        s.child_keys.clear();
        s.child_keys.resize(m * n_teams, 0.0);
        s.xs.clear();
        s.xs.extend((0..n_teams).map(|t| XTeam {
            sum: s.sum[t],
            count: s.count[t],
            target: 0,
            members: s.members[t],
            sym_prev: NONE,
        }));
        // Size enumeration: the previous team of each class, and suffix sums of the bounds.
        s.class_prev.clear();
        s.class_prev.resize(n_teams, NONE);
        for c in 0..s.class_start.len() - 1 {
            let members = &s.class_members[s.class_start[c] as usize..s.class_start[c + 1] as usize];
            for w in members.windows(2) {
                s.class_prev[w[1] as usize] = w[0];
            }
        }
        s.size_min.clear();
        s.size_min.resize(n_teams + 1, 0);
        s.size_max.clear();
        s.size_max.resize(n_teams + 1, 0);
        for (t, slots) in self.teams.iter().enumerate().rev() {
            s.size_min[t] = s.size_min[t + 1] + u64::from(slots.min.max(s.count[t]));
            s.size_max[t] = s.size_max[t + 1] + u64::from(slots.max);
        }
        self.sizes(0, self.total_players);
    }

    /// Enumerates the team sizes (within each class, non-increasing in team index) and searches
    /// the assignments of each size vector.
    fn sizes(&mut self, t: usize, left: u64) {
        if !self.tick() {
            return;
        }
        let teams = self.teams;
        let s = &mut *self.s;
        if t == teams.len() {
            if left == 0 {
                for u in 0..teams.len() {
                    let prev = s.class_prev[u];
                    let same = prev != NONE && s.xs[prev as usize].target == s.xs[u].target;
                    s.xs[u].sym_prev = if same { prev } else { NONE };
                }
                self.dfs(0);
            }
            return;
        }
        let lo = teams[t].min.max(s.count[t]);
        let prev = s.class_prev[t];
        let hi = if prev == NONE { teams[t].max } else { teams[t].max.min(s.xs[prev as usize].target) };
        let (rest_min, rest_max) = (s.size_min[t + 1], s.size_max[t + 1]);
        // `left` is at most 16 here.
        for size in (lo..=hi.min(left as u32)).rev() {
            let rest = left - u64::from(size);
            if rest > rest_max {
                break;
            }
            if rest < rest_min {
                continue;
            }
            self.s.xs[t].target = size;
            self.sizes(t + 1, rest);
            if self.aborted {
                return;
            }
        }
    }

    /// Counts a unit of work against the budget; false once it is spent.
    #[inline]
    fn tick(&mut self) -> bool {
        self.work += self.teams.len() as u64 + 4;
        if self.work > WORK_BUDGET {
            self.aborted = true;
        }
        !self.aborted
    }

    /// Depth-first search of the assignments of the parties from depth `d` on, every team
    /// ending with exactly its `target` players.
    fn dfs(&mut self, d: usize) {
        if !self.tick() {
            return;
        }
        let Some(open) = self.bound(d) else { return };
        let m = self.s.order.len();
        if d == m || open != NONE {
            // Complete, or only one team has room so every remaining party goes there. The
            // bound has already compared the (approximate) result against the worst kept.
            let s = &mut *self.s;
            s.choice[d..].iter_mut().for_each(|c| *c = open);
            for (&i, &t) in s.order.iter().zip(&s.choice) {
                s.cand[i as usize] = t;
            }
            self.insert_cand();
            return;
        }
        let mu = self.mu;
        let s = &mut *self.s;
        let i = s.order[d] as usize;
        let p = self.parties[i];
        let dev = p.value - mu * f64::from(p.size);
        let n_teams = s.xs.len();
        let (children, keys) = (&mut s.children[d * n_teams..], &mut s.child_keys[d * n_teams..]);
        let mut k = 0;
        for (t, x) in s.xs.iter().enumerate() {
            if x.count + p.size > x.target {
                continue;
            }
            // Of interchangeable teams (same class and size), use the lowest-index empty one first.
            if x.members == 0 && x.sym_prev != NONE && s.xs[x.sym_prev as usize].members == 0 {
                continue;
            }
            let key = (x.sum - mu * f64::from(x.count) + dev).abs();
            let mut at = k;
            while at > 0 && keys[at - 1] > key {
                keys[at] = keys[at - 1];
                children[at] = children[at - 1];
                at -= 1;
            }
            keys[at] = key;
            children[at] = t as u32;
            k += 1;
        }
        let base = d * n_teams;
        for j in 0..k {
            let s = &mut *self.s;
            let t = s.children[base + j] as usize;
            let x = &mut s.xs[t];
            let old = x.sum;
            x.sum += p.value;
            x.count += p.size;
            x.members += 1;
            s.choice[d] = t as u32;
            self.dfs(d + 1);
            let x = &mut self.s.xs[t];
            x.sum = old;
            x.count -= p.size;
            x.members -= 1;
            if self.aborted {
                return;
            }
        }
    }

    /// Packing pruning and, once `limit` results are known, the lower bound on the primary:
    /// `None` prunes; otherwise the only team with room left, or `NONE` if there are several.
    fn bound(&self, d: usize) -> Option<u32> {
        let s = &*self.s;
        let (mut open, mut n_open, mut max_room) = (NONE, 0, 0);
        for (t, x) in s.xs.iter().enumerate() {
            let room = x.target - x.count;
            if room > 0 {
                open = t as u32;
                n_open += 1;
                max_room = max_room.max(room);
            }
        }
        if s.suffix_max[d] > max_room {
            return None;
        }
        let open = if n_open == 1 { open } else { NONE };
        if !self.full() {
            return Some(open);
        }
        let limit = self.worst() + self.tol;
        let (mu, total) = (self.mu, self.total_players as usize);
        let off = s.offset[d] as usize;
        let (top, bottom) = (&s.prefix[off..], &s.prefix[..]);
        let end = bottom.len() - 1;
        // Totals are at most 16 players here, so every size indexes `recip`.
        let (mut max_lo, mut min_hi) = (mu, mu);
        for x in &s.xs {
            let size = x.target as usize;
            if size == 0 {
                continue;
            }
            let k = size - x.count as usize;
            let inv = s.recip[size];
            let hi = (x.sum + top[k] - top[0]) * inv;
            let lo = (x.sum + bottom[end] - bottom[end - k]) * inv;
            max_lo = max_lo.max(lo);
            min_hi = min_hi.min(hi);
            // A team at distance δ from the mean μ forces the other teams, holding `rest`
            // players, to compensate: some team sits at least δ·size/rest on the other side.
            let rest = total - size;
            if rest > 0 && (lo - mu).max(mu - hi) * total as f64 * s.recip[rest] > limit {
                return None;
            }
        }
        (max_lo - min_hi <= limit).then_some(open)
    }

    // -----------------------------------------------------------------------------------
    // Heuristic

    fn heuristic(&mut self) {
        if self.greedy(true) {
            self.local_search();
        }
    }

    /// Target sizes: the FlexMatch large-match fill (every team to `min`, then one player at a
    /// time to the team with the most open slots, lowest index first).
    fn compute_targets(&mut self) {
        let teams = self.teams;
        let total = self.total_players;
        let size_at = |level: u64| -> u64 {
            teams.iter().map(|t| u64::from(t.min).max(u64::from(t.max).saturating_sub(level))).sum()
        };
        // Smallest open-slot level whose fill does not exceed the players available.
        let (mut lo, mut hi) = (0u64, teams.iter().map(|t| u64::from(t.max - t.min)).max().unwrap_or(0));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if size_at(mid) <= total { hi = mid } else { lo = mid + 1 }
        }
        let mut extra = total.saturating_sub(size_at(lo));
        let s = &mut *self.s;
        s.target.clear();
        for t in teams {
            let mut e = u64::from(t.min).max(u64::from(t.max).saturating_sub(lo));
            if extra > 0 && lo > 0 && u64::from(t.max - t.min) >= lo {
                e += 1;
                extra -= 1;
            }
            s.target.push(e as u32);
        }
    }

    /// Greedy fill into `team_of`, backtracking on dead ends when `backtrack`; false when it
    /// finds no valid assignment.
    fn greedy(&mut self, backtrack: bool) -> bool {
        if !self.reset_state() {
            return false;
        }
        self.compute_targets();
        let (parties, teams, mu) = (self.parties, self.teams, self.mu);
        let n_teams = teams.len();
        let s = &mut *self.s;
        s.order.clear();
        s.order.extend((0..parties.len() as u32).filter(|&i| parties[i as usize].fixed_team.is_none()));
        let dev = |i: u32| {
            let p = &parties[i as usize];
            (p.value - mu * f64::from(p.size)).abs()
        };
        s.order.sort_unstable_by(|&a, &b| {
            let (pa, pb) = (&parties[a as usize], &parties[b as usize]);
            pb.size.cmp(&pa.size).then(dev(b).total_cmp(&dev(a))).then(a.cmp(&b))
        });
        let m = s.order.len();
        s.suffix_max.clear();
        s.suffix_max.resize(m + 1, 0);
        for d in (0..m).rev() {
            s.suffix_max[d] = s.suffix_max[d + 1].max(parties[s.order[d] as usize].size);
        }
        s.team_of.clear();
        s.team_of.extend(parties.iter().map(|p| p.fixed_team.unwrap_or(NONE)));
        s.tried.clear();
        s.tried.resize(m + 1, 0);
        s.saved_sum.clear();
        s.saved_sum.resize(m, 0.0);
        s.choice.clear();
        s.choice.resize(m, 0);
        s.children.clear();
        s.children.resize(n_teams, 0);
        s.child_keys.clear();
        s.child_keys.resize(n_teams, 0.0);
        let mut remaining: u64 = s.order.iter().map(|&i| u64::from(parties[i as usize].size)).sum();
        let mut d = 0;
        let mut nodes = 0u64;
        loop {
            if d == m {
                return self.mins_met();
            }
            nodes += 1;
            if nodes > GREEDY_BUDGET {
                return false;
            }
            let k = self.greedy_children(d, remaining);
            let tried = self.s.tried[d] as usize;
            if tried < k && (tried == 0 || backtrack) {
                let i = self.s.order[d] as usize;
                let t = self.s.children[tried] as usize;
                self.s.saved_sum[d] = self.s.sum[t];
                self.place(i, t);
                let s = &mut *self.s;
                s.team_of[i] = t as u32;
                s.choice[d] = t as u32;
                s.tried[d] = tried as u32 + 1;
                remaining -= u64::from(parties[i].size);
                d += 1;
                s.tried[d] = 0;
            } else {
                if d == 0 || !backtrack {
                    return false;
                }
                d -= 1;
                let i = self.s.order[d] as usize;
                let t = self.s.choice[d] as usize;
                let old = self.s.saved_sum[d];
                self.unplace(i, t, old);
                self.s.team_of[i] = NONE;
                remaining += u64::from(parties[i].size);
            }
        }
    }

    /// The greedy's candidate teams for depth `d`, best first, in `children[..k]`.
    fn greedy_children(&mut self, d: usize, remaining: u64) -> usize {
        let (teams, mu) = (self.teams, self.mu);
        let i = self.s.order[d] as usize;
        let p = self.parties[i];
        let dev = p.value - mu * f64::from(p.size);
        let size = u64::from(p.size);
        let s = &*self.s;
        let (mut need_total, mut room1, mut room2) = (0u64, 0u64, 0u64);
        for (t, slots) in teams.iter().enumerate() {
            need_total += u64::from(slots.min.saturating_sub(s.count[t]));
            let room = u64::from(slots.max - s.count[t]);
            if room > room1 {
                room2 = room1;
                room1 = room;
            } else if room > room2 {
                room2 = room;
            }
        }
        let next_max = u64::from(s.suffix_max[d + 1]);
        let mut k = 0;
        // Teams that stay within their target size first, then the others; each group by key.
        for over_pass in [false, true] {
            let start = k;
            for (t, slots) in teams.iter().enumerate() {
                let count = u64::from(self.s.count[t]);
                let room = u64::from(slots.max) - count;
                if size > room || (count + size > u64::from(self.s.target[t])) != over_pass || !self.symmetry_ok(t) {
                    continue;
                }
                let need_after = need_total - size.min(u64::from(slots.min).saturating_sub(count));
                let other_room = if room == room1 { room2 } else { room1 };
                if need_after > remaining - size || next_max > other_room.max(room - size) {
                    continue;
                }
                let s = &mut *self.s;
                let key = (s.sum[t] - mu * count as f64 + dev).abs();
                let mut at = k;
                while at > start && s.child_keys[at - 1].total_cmp(&key) == Ordering::Greater {
                    s.child_keys[at] = s.child_keys[at - 1];
                    s.children[at] = s.children[at - 1];
                    at -= 1;
                }
                s.child_keys[at] = key;
                s.children[at] = t as u32;
                k += 1;
            }
        }
        k
    }

    /// Recomputes the per-team state from `team_of`, in party order.
    fn recompute(&mut self) -> (f64, u32) {
        let s = &mut *self.s;
        s.sum.iter_mut().for_each(|v| *v = 0.0);
        s.count.iter_mut().for_each(|v| *v = 0);
        s.members.iter_mut().for_each(|v| *v = 0);
        for (p, &t) in self.parties.iter().zip(&s.team_of) {
            let t = t as usize;
            s.sum[t] += p.value;
            s.count[t] += p.size;
            s.members[t] += 1;
        }
        objective(&s.sum, &s.count, self.uniform_max)
    }

    /// Best-improvement local search over moves and swaps from `team_of`; then records the
    /// local optimum and its best neighbours.
    fn local_search(&mut self) {
        let (parties, teams, uniform_max) = (self.parties, self.teams, self.uniform_max);
        let n = parties.len();
        let keep = (self.limit - 1).min(MAX_ALTERNATIVES);
        let mut passes = 0;
        loop {
            let (cur_p, cur_f) = self.recompute();
            let s = &mut *self.s;
            let mut avg_hi = Top3::default();
            let mut avg_lo = Top3::default();
            let mut cnt_hi = Top3::default();
            let mut cnt_lo = Top3::default();
            for t in 0..teams.len() {
                let c = s.count[t];
                if c > 0 {
                    let avg = s.sum[t] / f64::from(c);
                    avg_hi.push(avg, t as u32);
                    avg_lo.push(-avg, t as u32);
                }
                cnt_hi.push(f64::from(c), t as u32);
                cnt_lo.push(-f64::from(c), t as u32);
            }
            for c in 0..s.first_empty.len() {
                let start = s.class_start[c] as usize;
                let end = s.class_start[c + 1] as usize;
                s.first_empty[c] =
                    s.class_members[start..end].iter().copied().find(|&t| s.members[t as usize] == 0).unwrap_or(NONE);
            }
            let eval = |a: usize, sa: f64, na: u32, b: usize, sb: f64, nb: u32| -> (f64, u32) {
                let (a32, b32) = (a as u32, b as u32);
                let mut hi = avg_hi.excluding(a32, b32);
                let mut lo = avg_lo.excluding(a32, b32).map(|v| -v);
                for (sum, count) in [(sa, na), (sb, nb)] {
                    if count > 0 {
                        let avg = sum / f64::from(count);
                        hi = Some(hi.map_or(avg, |h: f64| h.max(avg)));
                        lo = Some(lo.map_or(avg, |l: f64| l.min(avg)));
                    }
                }
                let primary = match (hi, lo) {
                    (Some(h), Some(l)) => h - l,
                    _ => 0.0,
                };
                let fill = if uniform_max {
                    let mx = cnt_hi.excluding(a32, b32).map_or(0, |v| v as u32).max(na).max(nb);
                    let mn = cnt_lo.excluding(a32, b32).map_or(u32::MAX, |v| (-v) as u32).min(na).min(nb);
                    mx - mn
                } else {
                    0
                };
                (primary, fill)
            };
            s.neighbours.clear();
            let mut best: Option<Neighbour> = None;
            let mut consider = |nb: Neighbour, neighbours: &mut Vec<Neighbour>| {
                let better = |x: &Neighbour, y: &Neighbour| {
                    x.primary.total_cmp(&y.primary).then(x.fill.cmp(&y.fill)) == Ordering::Less
                };
                if best.as_ref().is_none_or(|b| better(&nb, b)) {
                    best = Some(nb);
                }
                if keep > 0 && (neighbours.len() < keep || neighbours.last().is_some_and(|l| better(&nb, l))) {
                    if neighbours.len() >= keep {
                        neighbours.pop();
                    }
                    let mut at = neighbours.len();
                    while at > 0 && better(&nb, &neighbours[at - 1]) {
                        at -= 1;
                    }
                    neighbours.insert(at, nb);
                }
            };
            for i in 0..n {
                let p = &parties[i];
                if p.fixed_team.is_some() {
                    continue;
                }
                let a = s.team_of[i] as usize;
                let (sa, na) = (s.sum[a], s.count[a]);
                // Moves.
                if na - p.size >= teams[a].min {
                    for (b, slots) in teams.iter().enumerate() {
                        let nb = s.count[b];
                        if b == a || u64::from(nb) + u64::from(p.size) > u64::from(slots.max) {
                            continue;
                        }
                        if s.members[b] == 0 && s.first_empty[s.team_class[b] as usize] != b as u32 {
                            continue;
                        }
                        let (primary, fill) = eval(a, sa - p.value, na - p.size, b, s.sum[b] + p.value, nb + p.size);
                        consider(Neighbour { primary, fill, i: i as u32, j: NONE, team: b as u32 }, &mut s.neighbours);
                    }
                }
                // Swaps.
                for (j, q) in parties.iter().enumerate().skip(i + 1) {
                    let b = s.team_of[j] as usize;
                    if q.fixed_team.is_some() || b == a {
                        continue;
                    }
                    let na2 = u64::from(na) - u64::from(p.size) + u64::from(q.size);
                    let nb2 = u64::from(s.count[b]) - u64::from(q.size) + u64::from(p.size);
                    if !(u64::from(teams[a].min)..=u64::from(teams[a].max)).contains(&na2)
                        || !(u64::from(teams[b].min)..=u64::from(teams[b].max)).contains(&nb2)
                    {
                        continue;
                    }
                    let (primary, fill) =
                        eval(a, sa - p.value + q.value, na2 as u32, b, s.sum[b] - q.value + p.value, nb2 as u32);
                    consider(Neighbour { primary, fill, i: i as u32, j: j as u32, team: NONE }, &mut s.neighbours);
                }
            }
            let improving = best.filter(|b| b.primary < cur_p - self.tol || (b.primary <= cur_p && b.fill < cur_f));
            let Some(step) = improving else { break };
            apply(&mut s.team_of, &step);
            passes += 1;
            if passes >= MAX_PASSES {
                s.neighbours.clear();
                break;
            }
        }
        self.insert_state();
        for k in 0..self.s.neighbours.len() {
            let s = &mut *self.s;
            let nb = s.neighbours[k];
            s.cand.clear();
            s.cand.extend_from_slice(&s.team_of);
            apply(&mut s.cand, &nb);
            self.insert_cand();
        }
    }
}

fn apply(team_of: &mut [u32], nb: &Neighbour) {
    let i = nb.i as usize;
    if nb.j == NONE {
        team_of[i] = nb.team;
    } else {
        team_of.swap(i, nb.j as usize);
    }
}

/// `(primary, fill)` from per-team sums and counts.
fn objective(sum: &[f64], count: &[u32], uniform_max: bool) -> (f64, u32) {
    let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
    let (mut cmax, mut cmin) = (0u32, u32::MAX);
    for (&s, &c) in sum.iter().zip(count) {
        if c > 0 {
            let avg = s / f64::from(c);
            hi = hi.max(avg);
            lo = lo.min(avg);
        }
        cmax = cmax.max(c);
        cmin = cmin.min(c);
    }
    let primary = if hi >= lo { hi - lo } else { 0.0 };
    let fill = if uniform_max && !count.is_empty() { cmax - cmin } else { 0 };
    (primary, fill)
}

/// The three largest values with their teams, to evaluate a change of two teams in O(1).
#[derive(Clone, Copy)]
struct Top3 {
    val: [f64; 3],
    team: [u32; 3],
    len: usize,
}

impl Default for Top3 {
    fn default() -> Self {
        Top3 { val: [0.0; 3], team: [NONE; 3], len: 0 }
    }
}

impl Top3 {
    fn push(&mut self, v: f64, t: u32) {
        let mut at = self.len.min(2);
        if self.len == 3 && v <= self.val[2] {
            return;
        }
        while at > 0 && self.val[at - 1] < v {
            self.val[at] = self.val[at - 1];
            self.team[at] = self.team[at - 1];
            at -= 1;
        }
        self.val[at] = v;
        self.team[at] = t;
        self.len = (self.len + 1).min(3);
    }

    fn excluding(&self, a: u32, b: u32) -> Option<f64> {
        (0..self.len).find(|&k| self.team[k] != a && self.team[k] != b).map(|k| self.val[k])
    }
}
