//! One search cycle over a pool.
//!
//! Per segment, anchors are visited oldest first (FlexMatch's rule). Each anchor's batch is
//! the nearest tickets by primary key within the key window its age allows that could share
//! a match with it (`AnchorFilter`: an acceptable location, enough shared list values), up
//! to the batch size (8 per seat to fill, at most 48) among a bounded number of examined
//! tickets, ordered by the sort rules (relative to the anchor) or else by age. Candidates
//! are added greedily to the team with the most open slots where every rule still holds
//! (`Phase::Partial`);
//! the finished set of tickets is then re-assigned to teams by the balancing solver and
//! checked as a complete match. If no assignment passes, the newest additions are dropped
//! one by one until one does or only the anchor is left.
//!
//! **Skipping unchanged anchors.** An anchor's search is a function of the anchor, its batch
//! (the set of tickets, since their order follows from them) and the expansion step of each
//! build it tries (the step of the build's expansion age), nothing else (plugin rules
//! aside, which turn skipping off). A ticket still waiting from the previous cycle failed
//! there as an anchor, so it fails again, with the same rule metrics, if its batch and those
//! steps are the same. Let D be the distance (in primary key) of the batch's farthest ticket
//! when the batch is full, else the window's half-width. The batch is the same if:
//!
//! - the anchor and every ticket of the batch were in the previous search (seq below the
//!   previous refresh's watermark); the anchor, and every ticket of the batch that can set a
//!   build's expansion age, are at the same expansion step (the same number of expansion
//!   `waitTimeSeconds` at or below their age) as then. Every build of the search holds the
//!   anchor, so its age is the oldest member's (the newest's, with `expansionAgeSelection`
//!   newest): batch tickets newer (older) than the anchor never set it;
//! - no ticket within D that was in the previous search is taken by an older anchor before
//!   this one is visited (then it was free in the previous search and is not now), and
//!   every ticket within D that is new is taken (a new free one would join the batch) or
//!   turned away by the filter, unless the scan stopped at its examination limit after
//!   turning one away (it then took the place of a ticket the previous scan examined);
//! - no ticket within D left the shard since, unless an older anchor of the previous search
//!   matched it (then that search's scan had skipped it as taken);
//! - every ticket within D is in this anchor's segment, now and in the previous search.
//!
//! Under these conditions the free tickets within D that the filter admits are the same in
//! both searches (admission depends only on steps held fixed above, see `AnchorFilter`), and
//! so is the batch: the first of them in scan order. The scan itself is redone (it is cheap);
//! ordering, filling and finalizing are not. Debug builds search skipped anchors anyway and
//! assert that the outcome is what was skipped.
//!
//! **Lonely anchors.** The previous search also remembers which of its failed anchors
//! examined tickets and admitted none (an empty batch: nobody within reach shares a
//! location with them, say). Such an anchor whose batch is empty again, at the same
//! expansion step, sees only itself both times, so it is skipped without the conditions
//! above. Those conditions would keep it searching every cycle in a busy pool: arrivals
//! crowd its window past the examination limit, and matches among its neighbours depart
//! from within D. Most such anchors are told lonely again without their scan, by the
//! pre-check of every entry the scan could examine (`lonely_again`).

use std::cmp::Ordering;
use std::sync::PoisonError;

use rayon::prelude::*;

use crate::expr::Candidate;
use crate::intern::Sym;
use crate::pool::{
    Entry, MAX_LOCATIONS, Pool, SEGMENTS_PER_POOL, SIGNATURE_BASE_LEVEL, SIGNATURE_EVERY_LEVEL, SIGNATURE_LISTS,
    SearchMemory, SegmentBounds, list_agg_index, number_agg_index,
};
use crate::ruleset::{
    CompiledKind, CompiledRules, DistanceReference, ExpansionAgeSelection, MapKey, Phase, RuleScratch, SortDirection,
};
use crate::search::native::{self, AverageReference, NativeRule};
use crate::search::plugins::{PluginRules, PluginScratch, Seat};
use crate::search::teams::{self, Assignments, Party, TeamScratch, TeamSlots};
use crate::time::Time;

/// Tickets per anchor batch (besides the anchor): `BATCH_PER_SEAT` per seat a match can
/// have besides the anchor's, at least one seat's worth and at most `BATCH`.
const BATCH: usize = 48;
const BATCH_PER_SEAT: usize = 8;
/// Free tickets a batch scan examines at most (those `AnchorFilter` rejects included), so
/// that an anchor few tickets can join does not walk its whole key window every cycle:
/// `SCAN_PER_BATCH` per batch place, at least `SCAN`.
const SCAN: usize = 48;
const SCAN_PER_BATCH: usize = 5;
/// Alternative team assignments checked against the rules before giving up on a ticket set.
const ASSIGNMENTS_TRIED: usize = 8;
/// Sort rules used to order a batch (later ones are ignored).
const MAX_SORT_KEYS: usize = 4;

/// A proposed match.
#[derive(Debug, Clone)]
pub(crate) struct Proposal {
    /// `(slot, concrete team)` per ticket, anchor first.
    pub(crate) tickets: Vec<(u32, u16)>,
    /// `(passed, failed)` rule evaluations while this match was built, per rule.
    pub(crate) metrics: Vec<(u32, u32)>,
    /// Seq of the anchor (commit order).
    pub(crate) anchor_seq: u64,
}

/// What one cycle produced.
#[derive(Debug, Default)]
pub(crate) struct CycleOutput {
    /// Proposals, in commit order.
    pub(crate) proposals: Vec<Proposal>,
    /// Rule evaluations of failed anchor attempts: `(slot, rule, passed, failed)`.
    pub(crate) anchor_metrics: Vec<(u32, u16, u32, u32)>,
    /// Per failed anchor with evaluations, `(seq, start, len)` into `anchor_metrics`: in
    /// anchor order within each segment (so a few sorted runs), for the next search's
    /// memory.
    metrics_index: Vec<(u64, u32, u32)>,
    /// Anchors searched, and anchors skipped as unchanged.
    pub(crate) searched: usize,
    pub(crate) skipped: usize,
    /// Seqs of the failed anchors whose scan examined tickets and admitted none.
    pub(crate) lonely: Vec<u64>,
}

/// A segment of a shard's entries.
#[derive(Debug, Clone, Copy)]
struct Segment {
    shard: usize,
    start: usize,
    end: usize,
}

/// Runs one search cycle. `pool.refresh()` must have been called since the last change.
pub(crate) fn search_cycle(pool: &Pool, rules: &CompiledRules, plugins: &PluginRules, now: Time) -> CycleOutput {
    // Segment boundaries depend only on the pool, so results do not depend on the thread
    // count; a small pool gets smaller segments, so that it is still several tasks.
    let waiting: usize = pool.shards.iter().map(|s| s.entries.len()).sum();
    let segment = (waiting / SEGMENTS_PER_POOL).clamp(pool.min_segment_size.max(1), pool.segment_size.max(1));
    let mut work: Vec<Segment> = Vec::new();
    for (shard, s) in pool.shards.iter().enumerate() {
        let n = s.entries.len();
        let mut start = 0;
        while start < n {
            let end = (start + segment).min(n);
            work.push(Segment { shard, start, end });
            start = end;
        }
    }
    let mut memory = std::mem::take(&mut *pool.memory.lock().unwrap_or_else(PoisonError::into_inner));
    let skipping = pool.skip_unchanged && memory.valid && memory.refreshed && plugins.bound.is_empty();
    let expansion_times = rules.expansion_times();
    let newest = rules.rule_set().algorithm.expansion_age_selection == ExpansionAgeSelection::Newest;
    let previous = skipping.then_some(&memory);
    // Largest segments first, one per task: work stealing then hands them out much like
    // longest-processing-time scheduling (in a small pool, one game mode's segment can be
    // most of the cycle). The outputs go back into segment order.
    let mut schedule: Vec<usize> = (0..work.len()).collect();
    schedule.sort_by_key(|&i| std::cmp::Reverse(work[i].end - work[i].start));
    let mut results: Vec<(usize, CycleOutput)> = schedule
        .par_iter()
        .with_max_len(1)
        .map_init(
            || Workspace::new(pool, rules, plugins, now),
            |ws, &i| {
                let seg = &work[i];
                let entries = &pool.shards[seg.shard].entries;
                let ctx = Ctx {
                    pool,
                    rules,
                    plugins,
                    entries: &entries[seg.start..seg.end],
                    now,
                    newest,
                    expansion_times: &expansion_times,
                    previous,
                    watermark: previous.map_or(0, |m| m.watermark),
                    verify: pool.verify_skips,
                    shard: seg.shard,
                    bounds: bounds(entries, seg),
                };
                (i, search_segment(&ctx, ws))
            },
        )
        .collect();
    results.sort_unstable_by_key(|r| r.0);
    let mut out = CycleOutput { anchor_metrics: std::mem::take(&mut memory.spare_metrics), ..Default::default() };
    out.proposals.reserve(results.iter().map(|r| r.1.proposals.len()).sum());
    out.anchor_metrics.reserve(results.iter().map(|r| r.1.anchor_metrics.len()).sum());
    out.metrics_index.reserve(results.iter().map(|r| r.1.metrics_index.len()).sum());
    for (_, r) in results {
        out.proposals.extend(r.proposals);
        let offset = out.anchor_metrics.len() as u32;
        out.metrics_index.extend(r.metrics_index.iter().map(|&(seq, start, len)| (seq, start + offset, len)));
        out.anchor_metrics.extend(r.anchor_metrics);
        out.searched += r.searched;
        out.skipped += r.skipped;
        out.lonely.extend(r.lonely);
    }
    out.proposals.sort_by_key(|p| p.anchor_seq);
    remember(pool, plugins, now, &work, &out, &mut memory);
    *pool.memory.lock().unwrap_or_else(PoisonError::into_inner) = memory;
    out
}

/// The first entry of a segment and the keys just outside it.
fn bounds(entries: &[Entry], seg: &Segment) -> SegmentBounds {
    SegmentBounds {
        first: (entries[seg.start].0, entries[seg.start].1),
        before: (seg.start > 0).then(|| entries[seg.start - 1].0),
        after: (seg.end < entries.len()).then(|| entries[seg.end].0),
    }
}

/// Records what this search saw, for the next one (see the module documentation).
fn remember(
    pool: &Pool,
    plugins: &PluginRules,
    now: Time,
    work: &[Segment],
    out: &CycleOutput,
    memory: &mut SearchMemory,
) {
    memory.valid = memory.refreshed && plugins.bound.is_empty();
    memory.refreshed = false;
    memory.now = now;
    memory.watermark = memory.merged_below;
    let n_shards = pool.shards.len();
    memory.segments.resize_with(n_shards, Vec::new);
    memory.segments.iter_mut().for_each(Vec::clear);
    memory.departures.resize_with(n_shards, Vec::new);
    memory.departures.iter_mut().for_each(Vec::clear);
    memory.matched.clear();
    memory.metrics.clear();
    memory.metrics_index.clear();
    memory.lonely.clear();
    if !memory.valid {
        return;
    }
    for seg in work {
        memory.segments[seg.shard].push(bounds(&pool.shards[seg.shard].entries, seg));
    }
    for p in &out.proposals {
        memory.matched.extend(p.tickets.iter().map(|&(slot, _)| (slot, p.anchor_seq)));
    }
    memory.metrics.extend_from_slice(&out.anchor_metrics);
    // Failed anchors come segment by segment, oldest first in each: a few sorted runs,
    // which the stable sort merges rather than sorting afresh.
    memory.metrics_index.extend_from_slice(&out.metrics_index);
    memory.metrics_index.sort_by_key(|m| m.0);
    memory.lonely.extend_from_slice(&out.lonely);
    memory.lonely.sort();
}

/// Reusable per-worker buffers.
struct Workspace {
    build: Build,
    rule_scratch: RuleScratch,
    team_scratch: TeamScratch,
    assignments: Assignments,
    parties: Vec<Party>,
    slots: Vec<TeamSlots>,
    /// The anchor's batch, in sort order once `order_batch` ran.
    batch: Vec<Cand>,
    /// What a ticket must share with the current anchor to join its batch.
    filter: AnchorFilter,
    /// Tickets per batch, and free tickets a batch scan examines at most.
    batch_size: usize,
    scan_size: usize,
    /// Sort keys after the first, by position in the segment (only with several sort rules).
    more_keys: Vec<[u64; MAX_SORT_KEYS - 1]>,
    /// The sort rules, and their anchor-side values for the current anchor.
    sort_specs: Vec<SortSpec>,
    anchor_values: Vec<AnchorValue>,
    /// How to order a batch.
    order_by: Order,
    /// `order_ties_by_seq`'s buffer.
    ties: Vec<Cand>,
    /// Positions in the segment, oldest ticket first.
    order: Vec<u64>,
    /// Per position, its segment in the previous search, 1-based (see `search_segment`).
    previous_segment: Vec<u32>,
    /// Per position, whether its ticket is taken (matched in this segment, or filtered).
    taken: Taken,
    /// Whether the current anchor was lonely in the previous search and is at the same
    /// expansion step: then it is skipped exactly when it is lonely again.
    lonely_before: bool,
    /// The two sides of the anchor's neighbourhood, for [`scan_batch_by_sides`].
    sides: [Side; 2],
    /// Teams to try for the ticket being seated: `(-open slots, team)`.
    teams: Vec<(i64, u16)>,
    metrics: Vec<(u32, u32)>,
    /// Gating rules other than batchDistance and latency (checked through `Candidate`, or
    /// natively when `native` holds their plan).
    expr_rules: Vec<usize>,
    /// Per entry of `expr_rules`, its native plan, if the pool evaluates it natively.
    native: Vec<Option<NativeRule>>,
    /// Numeric batchDistance rules: `(rule, attribute, aggregation)`.
    batch_rules: Vec<(usize, usize, usize)>,
    /// The rules [`Ctx::hard_rules`] checks, in the order it checks them: `batch_rules`,
    /// then the latency rules.
    hard_order: Vec<usize>,
    /// Candidates checked against them (and counted) since `metrics` was last folded by
    /// [`fold_hard_passes`]: each check fails at most one of them, so their passes follow
    /// from this and their failures.
    hard_checks: u32,
    balance: Option<(usize, usize)>,
    /// Whether some rule names a team (`teams[red]`): then mirrored assignments of
    /// identical teams are not equivalent and are tried too.
    team_specific: bool,
    mirrored: Vec<u32>,
    /// The greedy fill's team per ticket, kept while balanced assignments are tried.
    greedy: Vec<u32>,
    /// `repair` buffers: the build's tickets, spare candidates, and the list being tried.
    original: Vec<(u32, u32)>,
    spare: Vec<(u32, u32)>,
    trial: Vec<(u32, u32)>,
    /// Plugin rules: buffers, the build's seats and teams, and alternative assignments.
    plugin: PluginScratch,
    seats: Vec<Seat>,
    seat_teams: Vec<u32>,
    alternatives: Vec<u32>,
}

/// A batch candidate: its first sort key (as ordered bits) and seq, which with
/// `Workspace::more_keys` order the batch.
#[derive(Debug, Clone, Copy)]
struct Cand {
    key: u64,
    seq: u64,
    slot: u32,
    pos: u32,
}

/// How a batch is put in sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The only sort rule is an ascending distance in the primary key (attribute and
    /// aggregation): the scan's distances are the keys, already in order but for seq order
    /// among equal keys.
    Distance,
    /// The first sort rule is an ascending distance in the primary key's attribute (another
    /// aggregation): scan order is close to sort order.
    NearlySorted,
    General,
}

/// A sort rule, resolved against the pool's layout.
#[derive(Debug, Clone, Copy)]
enum SortSpec {
    /// A number attribute: `sign * value` (absolute) or `sign * |value - anchor's|`.
    Number { attr: usize, agg: usize, sign: f64, absolute: bool },
    /// A string attribute: 0 when equal to the anchor's (first player's), else 1.
    String { attr: usize },
    /// A map attribute, at the anchor's key with the highest or lowest value.
    Map { attr: usize, map_key: MapKey, sign: f64, absolute: bool },
}

/// A sort rule's anchor side, computed once per anchor.
#[derive(Debug, Clone, Copy)]
enum AnchorValue {
    Number(f64),
    String(Sym),
    /// The chosen key and the anchor's value there; `None` when the anchor's map is empty.
    Map(Option<(Sym, Option<f64>)>),
}

impl Workspace {
    fn new(pool: &Pool, rules: &CompiledRules, plugins: &PluginRules, now: Time) -> Workspace {
        let mut expr_rules = Vec::new();
        let mut batch_rules = Vec::new();
        for &r in rules.gating_rules() {
            match &rules.rules()[r].kind {
                CompiledKind::BatchDistance { numeric: true, attribute, aggregation, .. } => {
                    batch_rules.push((r, *attribute, number_agg_index(*aggregation)));
                }
                CompiledKind::BatchDistance { .. } | CompiledKind::Latency { .. } | CompiledKind::Plugin { .. } => {}
                _ => expr_rules.push(r),
            }
        }
        let sort_specs: Vec<SortSpec> = rules
            .rules()
            .iter()
            .filter_map(|r| match &r.kind {
                CompiledKind::Sort { absolute, rule } => Some(sort_spec(pool, *absolute, rule)),
                _ => None,
            })
            .take(MAX_SORT_KEYS)
            .collect();
        let order_by = match (sort_specs.as_slice(), pool.layout.key) {
            ([SortSpec::Number { attr, agg, absolute: false, sign }], Some(key))
                if (*attr, *agg) == key && *sign > 0.0 =>
            {
                Order::Distance
            }
            ([SortSpec::Number { attr, absolute: false, sign, .. }, ..], Some((key, _)))
                if *attr == key && *sign > 0.0 =>
            {
                Order::NearlySorted
            }
            _ => Order::General,
        };
        let native = expr_rules
            .iter()
            .map(|&r| if pool.native_rules { pool.layout.native.rules[r].clone() } else { None })
            .collect();
        let balance = balance_attribute(rules);
        let team_specific = names_a_team(rules);
        // Seats besides the anchor's, at the largest team sizes expansions allow.
        let seats = rules.teams().iter().map(|t| t.max_players.max_value()).sum::<f64>() - 1.0;
        let batch_size = (BATCH_PER_SEAT as f64 * seats).clamp(BATCH_PER_SEAT as f64, BATCH as f64) as usize;
        let bound_attrs = batch_rules.iter().map(|&(_, attr, agg)| (attr, agg)).collect();
        let latency_aggs = pool
            .layout
            .latency_rules
            .iter()
            .filter(|(rule, _, _)| {
                matches!(rules.rules()[*rule].kind, CompiledKind::Latency { max_distance: Some(_), .. })
            })
            .map(|&(_, _, agg)| agg)
            .collect();
        Workspace {
            build: Build::new(rules.teams().len(), bound_attrs, pool.layout.masks_per_ticket, latency_aggs, pool),
            rule_scratch: RuleScratch::default(),
            team_scratch: TeamScratch::default(),
            assignments: Assignments::default(),
            parties: Vec::new(),
            slots: Vec::new(),
            batch: Vec::new(),
            filter: AnchorFilter::new(pool, now),
            batch_size,
            scan_size: (SCAN_PER_BATCH * batch_size).max(SCAN),
            more_keys: Vec::new(),
            anchor_values: Vec::with_capacity(sort_specs.len()),
            sort_specs,
            order_by,
            ties: Vec::new(),
            order: Vec::new(),
            previous_segment: Vec::new(),
            taken: Taken::default(),
            sides: Default::default(),
            lonely_before: false,
            teams: Vec::new(),
            metrics: vec![(0, 0); rules.rules().len()],
            expr_rules,
            native,
            hard_order: batch_rules.iter().map(|b| b.0).chain(pool.layout.latency_rules.iter().map(|l| l.0)).collect(),
            hard_checks: 0,
            batch_rules,
            balance,
            team_specific,
            mirrored: Vec::new(),
            greedy: Vec::new(),
            original: Vec::new(),
            spare: Vec::new(),
            trial: Vec::new(),
            plugin: PluginScratch::new(plugins),
            seats: Vec::new(),
            seat_teams: Vec::new(),
            alternatives: Vec::new(),
        }
    }
}

fn sort_spec(pool: &Pool, absolute: bool, sort: &crate::ruleset::SortRule) -> SortSpec {
    let attr = sort.attribute;
    let sign = if sort.direction == SortDirection::Ascending { 1.0 } else { -1.0 };
    match sort.map_key {
        Some(map_key) => SortSpec::Map { attr, map_key, sign, absolute },
        None if pool.layout.string_index[attr].is_some() => SortSpec::String { attr },
        None => SortSpec::Number { attr, agg: number_agg_index(sort.party_aggregation), sign, absolute },
    }
}
/// The number attribute team assignment balances: `balancedAttribute` when set; else the
/// attribute of the first team-average rule (`avg(teams[*]...attributes[x])`, the usual
/// "fair teams" rule); else the first numeric `batchDistance` attribute (a skill band); else
/// the first number attribute any rule measures; else the first declared number attribute.
/// Party values are averaged.
fn balance_attribute(rules: &CompiledRules) -> Option<(usize, usize)> {
    use crate::expr::{AttrType, Func, Selection, TeamSel};
    use crate::ruleset::RuleKind;
    let rule_set = rules.rule_set();
    if let Some(a) = rule_set.algorithm.balanced_attribute {
        return Some((a, 2));
    }
    let number = |name: &str| rule_set.attribute_index(name).filter(|&i| rule_set.attributes[i].ty == AttrType::Number);
    let measured = |team_average_only: bool| {
        rule_set.rules.iter().find_map(|r| {
            let e = match &r.kind {
                RuleKind::Distance { measurement, .. } | RuleKind::Comparison { measurement, .. } => &measurement.expr,
                _ => return None,
            };
            let path = e.path();
            let team_average =
                matches!(path.teams, TeamSel::All(_)) && e.calls().next().is_some_and(|c| c.func == Func::Avg);
            match &path.selection {
                Selection::Attribute(name) if team_average || !team_average_only => number(&name.text),
                _ => None,
            }
        })
    };
    let batched = rule_set.rules.iter().find_map(|r| match &r.kind {
        RuleKind::BatchDistance { attribute, max_distance: Some(_), .. } => Some(*attribute),
        _ => None,
    });
    measured(true)
        .or(batched)
        .or_else(|| measured(false))
        .or_else(|| rule_set.attributes.iter().position(|a| a.ty == AttrType::Number))
        .map(|a| (a, 2))
}

/// Whether any rule's expression selects teams by name.
fn names_a_team(rules: &CompiledRules) -> bool {
    use crate::expr::TeamSel;
    use crate::ruleset::{Reference, RuleKind};
    let named = |e: &crate::expr::Expr| matches!(e.path().teams, TeamSel::Names(_));
    rules.rule_set().rules.iter().any(|r| match &r.kind {
        RuleKind::Comparison { measurement, reference, .. } | RuleKind::Collection { measurement, reference, .. } => {
            named(&measurement.expr) || matches!(reference, Some(Reference::Expr(e)) if named(&e.expr))
        }
        RuleKind::Distance { measurement, reference, .. } => {
            named(&measurement.expr) || matches!(reference, Reference::Expr(e) if named(&e.expr))
        }
        _ => false,
    })
}

/// `assignment` with the labels of each class of identical teams (same min and max)
/// reversed: the solver returns one labelling per class of equivalent assignments.
fn mirror(assignment: &[u32], slots: &[TeamSlots], out: &mut Vec<u32>) {
    out.clear();
    let same = |a: usize, b: usize| slots[a].min == slots[b].min && slots[a].max == slots[b].max;
    out.extend(assignment.iter().map(|&t| {
        let t = t as usize;
        let rank = (0..t).filter(|&i| same(i, t)).count();
        let size = (0..slots.len()).filter(|&i| same(i, t)).count();
        let target = size - 1 - rank;
        (0..slots.len()).filter(|&i| same(i, t)).nth(target).expect("class member") as u32
    }));
}

/// A match under construction.
#[derive(Debug)]
struct Build {
    /// `(slot, team, position in segment)`, anchor first.
    tickets: Vec<(u32, u16, u32)>,
    /// Players per concrete team: `(slot, player index)`.
    members: Vec<Vec<(u32, u8)>>,
    players: u32,
    /// Running aggregates over the tickets, one frame per ticket (frame `k` covers tickets
    /// `0..=k`), so a ticket's hard-rule check and match age cost no pass over the build:
    /// `(lo, hi)` per numeric batchDistance rule, folded in ticket order as a full pass
    /// would;
    bounds: Vec<(f64, f64)>,
    /// the AND of the tickets' latency masks, per mask word;
    masks: Vec<u64>,
    /// the earliest and latest start;
    starts: Vec<(u64, u64)>,
    /// and, for latency rules with a maxDistance, `(sum, lo, hi, count)` of the tickets'
    /// latencies at each location the anchor reported (every acceptable location is one):
    /// `[k][rule][location index]`.
    latency: Vec<LatencyStats>,
    /// `(attribute, aggregation)` of each numeric batchDistance rule.
    bound_attrs: Vec<(usize, usize)>,
    n_masks: usize,
    /// Aggregation index of each latency rule with a maxDistance, in `pool.layout` order.
    latency_aggs: Vec<usize>,
    /// The anchor's locations, and each location's index among them (`u8::MAX`: none).
    locations: Vec<u8>,
    location_index: [u8; MAX_LOCATIONS],
    /// Native rules (`search::native`): per frame, the AND of the tickets' value bitsets,
    /// per bitset column;
    bits: Vec<u64>,
    n_bit_columns: usize,
    /// per frame, per sum column and team, the sum of the team's players' values, added
    /// player by player in seating order: `[k][column][team]`;
    sums: Vec<f64>,
    /// per frame, a bit per sum column: every value so far is `native::dyadic`;
    exact: Vec<u64>,
    /// `(attribute, aggregation)` of each sum column;
    sum_columns: Vec<(usize, usize)>,
    /// and whether every team's players are in seating order, so that `sums` describe the
    /// teams as seated (false after a `reassign` moved a ticket, until `clear`).
    seating_order: bool,
}

/// Latency at one location folded over tickets: `(sum, lo, hi, count)`.
type LatencyStats = (f64, f64, f64, f64);

const NO_LATENCY: LatencyStats = (0.0, f64::INFINITY, f64::NEG_INFINITY, 0.0);

fn fold_latency((sum, lo, hi, n): LatencyStats, ms: f64) -> LatencyStats {
    (sum + ms, lo.min(ms), hi.max(ms), n + 1.0)
}

/// A ticket's aggregated latency at `loc`, if it reported it (the first entry, as a lookup
/// finds it).
fn latency_at(pool: &Pool, slot: u32, loc: u8, agg: usize) -> Option<f64> {
    pool.latency(slot).iter().find(|(l, _)| *l == loc).map(|(_, v)| f64::from(v[agg]))
}

impl Build {
    fn new(
        n_teams: usize,
        bound_attrs: Vec<(usize, usize)>,
        n_masks: usize,
        latency_aggs: Vec<usize>,
        pool: &Pool,
    ) -> Build {
        Build {
            tickets: Vec::new(),
            members: vec![Vec::new(); n_teams],
            players: 0,
            bounds: Vec::new(),
            masks: Vec::new(),
            starts: Vec::new(),
            latency: Vec::new(),
            bound_attrs,
            n_masks,
            latency_aggs,
            locations: Vec::new(),
            location_index: [u8::MAX; MAX_LOCATIONS],
            bits: Vec::new(),
            n_bit_columns: pool.layout.native.bit_columns.len(),
            sums: Vec::new(),
            exact: Vec::new(),
            sum_columns: pool.layout.native.sum_columns.clone(),
            seating_order: true,
        }
    }

    fn clear(&mut self) {
        self.tickets.clear();
        self.members.iter_mut().for_each(Vec::clear);
        self.players = 0;
        self.bounds.clear();
        self.masks.clear();
        self.starts.clear();
        self.latency.clear();
        self.bits.clear();
        self.sums.clear();
        self.exact.clear();
        self.seating_order = true;
    }

    fn push(&mut self, pool: &Pool, slot: u32, team: u16, pos: u32) {
        let n = pool.n_players[slot as usize];
        let k = self.tickets.len();
        self.tickets.push((slot, team, pos));
        for p in 0..n {
            self.members[team as usize].push((slot, p));
        }
        self.players += u32::from(n);
        let nb = self.bound_attrs.len();
        for r in 0..nb {
            let (attr, agg) = self.bound_attrs[r];
            let v = pool.number(slot, attr, agg);
            let (lo, hi) = if k == 0 { (f64::INFINITY, f64::NEG_INFINITY) } else { self.bounds[(k - 1) * nb + r] };
            self.bounds.push((lo.min(v), hi.max(v)));
        }
        let nm = self.n_masks;
        let own = &pool.masks[slot as usize * nm..(slot as usize + 1) * nm];
        for (w, &m) in own.iter().enumerate() {
            let prev = if k == 0 { u64::MAX } else { self.masks[(k - 1) * nm + w] };
            self.masks.push(prev & m);
        }
        let start = pool.start[slot as usize].0;
        let (lo, hi) = self.starts.last().copied().unwrap_or((u64::MAX, 0));
        self.starts.push((lo.min(start), hi.max(start)));
        let nc = self.n_bit_columns;
        if nc > 0 {
            let own = &pool.list_bits[slot as usize * nc..(slot as usize + 1) * nc];
            for (c, &b) in own.iter().enumerate() {
                let prev = if k == 0 { u64::MAX } else { self.bits[(k - 1) * nc + c] };
                // A ticket without players adds no list.
                self.bits.push(if n == 0 { prev } else { prev & b });
            }
        }
        let ns = self.sum_columns.len();
        if ns > 0 {
            let width = ns * self.members.len();
            if k == 0 {
                self.sums.resize(width, 0.0);
            } else {
                self.sums.extend_from_within((k - 1) * width..k * width);
            }
            let mut exact = self.exact.last().copied().unwrap_or(u64::MAX);
            for (c, &(attr, agg)) in self.sum_columns.iter().enumerate() {
                let v = pool.number(slot, attr, agg);
                let cell = &mut self.sums[k * width + c * self.members.len() + team as usize];
                for _ in 0..n {
                    *cell += v;
                }
                if !native::dyadic(v) {
                    exact &= !(1 << c);
                }
            }
            self.exact.push(exact);
        }
    }

    /// Brings the latency stats up to date with the tickets. They are computed lazily, when
    /// a check needs them: a ticket tried in several teams is pushed and popped each time,
    /// but its latencies do not depend on the team.
    fn sync_latency(&mut self, pool: &Pool) {
        if self.latency_aggs.is_empty() {
            return;
        }
        let width = |b: &Build| b.latency_aggs.len() * b.locations.len();
        let mut k = if self.latency.is_empty() { 0 } else { self.latency.len() / width(self) };
        while k < self.tickets.len() {
            self.push_latency(pool, self.tickets[k].0, k);
            k += 1;
        }
    }

    /// Appends frame `k` of the latency stats, for ticket `slot`.
    fn push_latency(&mut self, pool: &Pool, slot: u32, k: usize) {
        let own = pool.latency(slot);
        if k == 0 {
            for &loc in &self.locations {
                self.location_index[loc as usize] = u8::MAX;
            }
            self.locations.clear();
            for &(loc, _) in own.iter() {
                if self.location_index[loc as usize] == u8::MAX {
                    self.location_index[loc as usize] = self.locations.len() as u8;
                    self.locations.push(loc);
                }
            }
        }
        let width = self.latency_aggs.len() * self.locations.len();
        if k == 0 {
            self.latency.resize(width, NO_LATENCY);
        } else {
            self.latency.extend_from_within((k - 1) * width..k * width);
        }
        let frame = k * width;
        let mut previous = None;
        for &(loc, values) in own.iter() {
            // Only the first entry of a location counts, as a lookup would find it.
            if previous == Some(loc) {
                continue;
            }
            previous = Some(loc);
            let j = self.location_index[loc as usize];
            if j == u8::MAX {
                continue;
            }
            for (d, &agg) in self.latency_aggs.iter().enumerate() {
                let cell = &mut self.latency[frame + d * self.locations.len() + j as usize];
                *cell = fold_latency(*cell, f64::from(values[agg]));
            }
        }
    }

    fn pop(&mut self, pool: &Pool) {
        if let Some((slot, team, _)) = self.tickets.pop() {
            let n = pool.n_players[slot as usize];
            let members = &mut self.members[team as usize];
            members.truncate(members.len() - n as usize);
            self.players -= u32::from(n);
            let k = self.tickets.len();
            self.bounds.truncate(k * self.bound_attrs.len());
            self.masks.truncate(k * self.n_masks);
            self.starts.truncate(k);
            self.bits.truncate(k * self.n_bit_columns);
            self.sums.truncate(k * self.sum_columns.len() * self.members.len());
            self.exact.truncate(k);
            let width = self.latency_aggs.len() * self.locations.len();
            if self.latency.len() > k * width {
                self.latency.truncate(k * width);
            }
        }
    }

    /// Re-seats every ticket according to `teams` (one team per ticket, in ticket order).
    fn reassign(&mut self, pool: &Pool, teams: &[u32]) {
        self.members.iter_mut().for_each(Vec::clear);
        for (t, &team) in self.tickets.iter_mut().zip(teams) {
            self.seating_order &= t.1 == team as u16;
            t.1 = team as u16;
            for p in 0..pool.n_players[t.0 as usize] {
                self.members[team as usize].push((t.0, p));
            }
        }
    }
}

/// The candidate as one rule sees it: party values replaced by the rule's aggregate.
struct View<'a> {
    pool: &'a Pool,
    members: &'a [Vec<(u32, u8)>],
    number_agg: usize,
    list_agg: usize,
}

impl Candidate for View<'_> {
    fn team_count(&self) -> usize {
        self.members.len()
    }
    fn team_size(&self, team: usize) -> usize {
        self.members[team].len()
    }
    fn number(&self, team: usize, member: usize, attr: usize) -> f64 {
        self.pool.number(self.members[team][member].0, attr, self.number_agg)
    }
    fn string(&self, team: usize, member: usize, attr: usize) -> Sym {
        let (slot, p) = self.members[team][member];
        self.pool.string(slot, p as usize, attr)
    }
    fn string_list(&self, team: usize, member: usize, attr: usize) -> &[Sym] {
        self.pool.list(self.members[team][member].0, attr, self.list_agg)
    }
    fn player_id(&self, team: usize, member: usize) -> Sym {
        let (slot, p) = self.members[team][member];
        self.pool.player_ids(slot).get(p as usize).copied().unwrap_or(Sym(u32::MAX))
    }
}

fn rule_aggregations(kind: &CompiledKind) -> (usize, usize) {
    match kind {
        CompiledKind::Comparison { aggregation, .. } | CompiledKind::Distance { aggregation, .. } => {
            (number_agg_index(*aggregation), 0)
        }
        CompiledKind::Collection { aggregation, .. } => (2, list_agg_index(*aggregation)),
        _ => (2, 0),
    }
}

fn age_seconds(now: Time, start: Time) -> f64 {
    now.0.saturating_sub(start.0) as f64 / 1000.0
}

struct Ctx<'a> {
    pool: &'a Pool,
    rules: &'a CompiledRules,
    plugins: &'a PluginRules,
    /// The segment's entries.
    entries: &'a [Entry],
    now: Time,
    newest: bool,
    /// See [`CompiledRules::expansion_times`].
    expansion_times: &'a [f64],
    /// The previous search, when anchors may be skipped.
    previous: Option<&'a SearchMemory>,
    /// Tickets with a smaller seq were in the previous search (0 when not skipping).
    watermark: u64,
    /// Search skippable anchors anyway and check that skipping them was right.
    verify: bool,
    shard: usize,
    bounds: SegmentBounds,
}

impl Ctx<'_> {
    /// The expansion age of the build plus, optionally, one more ticket.
    fn match_age(&self, build: &Build, extra: Option<u32>) -> f64 {
        let extra = extra.map(|s| self.pool.start[s as usize].0);
        let start = match (build.starts.last(), extra) {
            (None, None) => self.now.0,
            (None, Some(e)) => e,
            (Some(&(lo, hi)), e) => match (self.newest, e) {
                (true, Some(e)) => hi.max(e),
                (true, None) => hi,
                (false, Some(e)) => lo.min(e),
                (false, None) => lo,
            },
        };
        age_seconds(self.now, Time(start))
    }

    /// How many expansion step times a ticket's age has reached at `now`.
    fn step(&self, now: Time, slot: u32) -> usize {
        let age = age_seconds(now, self.pool.start[slot as usize]);
        self.expansion_times.iter().take_while(|&&t| age >= t).count()
    }

    /// Whether a ticket is at the same expansion step as at `then`.
    fn same_step(&self, then: Time, slot: u32) -> bool {
        self.expansion_times.is_empty() || self.step(self.now, slot) == self.step(then, slot)
    }

    /// Checks batchDistance and latency rules for the build plus, optionally, a ticket about
    /// to be seated (they do not depend on its team). Returns the first failing rule.
    fn hard_rules(&self, ws: &Workspace, extra: Option<u32>, age: f64) -> Result<(), usize> {
        let pool = self.pool;
        let build = &ws.build;
        // The build's last frame, folded with `extra` as a pass over the build would.
        let frame = build.tickets.len().checked_sub(1);
        let nb = build.bound_attrs.len();
        for (r, &(rule, attr, agg)) in ws.batch_rules.iter().enumerate() {
            let CompiledKind::BatchDistance { max_distance, .. } = &self.rules.rules()[rule].kind else { continue };
            let (mut lo, mut hi) = frame.map_or((f64::INFINITY, f64::NEG_INFINITY), |k| build.bounds[k * nb + r]);
            if let Some(slot) = extra {
                let v = pool.number(slot, attr, agg);
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi - lo > max_distance.at(age) {
                return Err(rule);
            }
        }
        let nm = build.n_masks;
        let mut dist_rule = 0;
        for (r, (rule, schedule, agg)) in pool.layout.latency_rules.iter().enumerate() {
            let word = pool.layout.mask_offsets[r] + schedule.level(age);
            let mut mask = frame.map_or(u64::MAX, |k| build.masks[k * nm + word]);
            if let Some(slot) = extra {
                mask &= pool.masks[slot as usize * nm + word];
            }
            if mask == 0 {
                return Err(*rule);
            }
            let CompiledKind::Latency { max_distance: Some(max_distance), distance_reference, .. } =
                &self.rules.rules()[*rule].kind
            else {
                // Any location every ticket accepts will do.
                continue;
            };
            // Some acceptable location must also meet maxDistance from the reference.
            let max_distance = max_distance.at(age);
            let d = dist_rule;
            dist_rule += 1;
            if frame.is_none() && !matches!(0.0f64.partial_cmp(&max_distance), Some(Ordering::Greater)) {
                // One ticket alone: its spread at any location is 0 (or, without data
                // there, no number at all), which never exceeds a maxDistance of 0 or more.
                // The first location of the mask passes without reading any latency.
                continue;
            }
            let mut bits = mask;
            let mut found = false;
            while bits != 0 && !found {
                let loc = bits.trailing_zeros() as u8;
                bits &= bits - 1;
                let j = build.location_index[loc as usize];
                let mut stats = match frame {
                    None => NO_LATENCY,
                    Some(k) if j != u8::MAX => {
                        let width = build.latency_aggs.len() * build.locations.len();
                        debug_assert_eq!(build.latency.len(), (k + 1) * width, "latency stats in sync");
                        build.latency[k * width + d * build.locations.len() + j as usize]
                    }
                    // Not a location of the anchor (cannot be in the mask): fold it afresh.
                    Some(_) => build
                        .tickets
                        .iter()
                        .filter_map(|t| latency_at(pool, t.0, loc, *agg))
                        .fold(NO_LATENCY, fold_latency),
                };
                if let Some(ms) = extra.and_then(|slot| latency_at(pool, slot, loc, *agg)) {
                    stats = fold_latency(stats, ms);
                }
                let (sum, lo, hi, n) = stats;
                let reference = match distance_reference {
                    Some(DistanceReference::Avg) => sum / n,
                    _ => lo,
                };
                let worst = (hi - reference).max(reference - lo);
                // Exactly "not beyond": a NaN spread (no data) does not fail the location.
                found = !matches!(worst.partial_cmp(&max_distance), Some(Ordering::Greater));
            }
            if !found {
                return Err(*rule);
            }
        }
        Ok(())
    }
    /// Checks the expression rules against `ws.build`; counts evaluations into `ws.metrics`.
    fn expr_rules(&self, ws: &mut Workspace, age: f64, phase: Phase, count: bool) -> bool {
        let Workspace { build, rule_scratch, metrics, expr_rules, native, .. } = ws;
        for (&r, native) in expr_rules.iter().zip(native.iter()) {
            let mut evaluate = || {
                let (number_agg, list_agg) = rule_aggregations(&self.rules.rules()[r].kind);
                let view = View { pool: self.pool, members: &build.members, number_agg, list_agg };
                self.rules.check_rule(r, &view, rule_scratch, age, phase)
            };
            let ok = match native.as_ref().and_then(|n| native_verdict(self.pool, build, n, age, phase)) {
                Some(ok) => {
                    debug_assert_eq!(ok, evaluate(), "native check of rule {r} ({phase:?}, age {age})");
                    ok
                }
                None => evaluate(),
            };
            if count {
                if ok {
                    metrics[r].0 += 1;
                } else {
                    metrics[r].1 += 1;
                }
            }
            if !ok {
                return false;
            }
        }
        true
    }

    /// Checks the plugin rules against `ws.build` as it is seated now (one candidate per
    /// call); counts evaluations into `ws.metrics`.
    fn plugin_rules(&self, ws: &mut Workspace, age: f64, complete: bool, count: bool) -> bool {
        if self.plugins.bound.is_empty() {
            return true;
        }
        ws.seats.clear();
        ws.seat_teams.clear();
        for &(slot, team, pos) in &ws.build.tickets {
            ws.seats.push((slot, pos));
            ws.seat_teams.push(u32::from(team));
        }
        let n_teams = self.rules.teams().len();
        let verdict =
            ws.plugin.check(self.plugins, self.pool, self.entries, n_teams, &ws.seats, &ws.seat_teams, age, complete);
        if count {
            for b in &self.plugins.bound {
                match verdict {
                    Err(rule) if rule == b.rule => {
                        ws.metrics[rule].1 += 1;
                        break;
                    }
                    _ => ws.metrics[b.rule].0 += 1,
                }
            }
        }
        verdict.is_ok()
    }

    /// Every rule a partially built match must keep satisfiable, after a ticket was seated.
    fn partial_rules(&self, ws: &mut Workspace, age: f64, count: bool) -> bool {
        self.expr_rules(ws, age, Phase::Partial, count) && self.plugin_rules(ws, age, false, count)
    }
}

/// A native rule's verdict on `build` as seated now (see `search::native`), or `None`
/// when the evaluator must decide.
fn native_verdict(pool: &Pool, build: &Build, rule: &NativeRule, age: f64, phase: Phase) -> Option<bool> {
    match rule {
        NativeRule::Intersection { column, min, max } => {
            let and =
                build.tickets.len().checked_sub(1).map_or(u64::MAX, |k| build.bits[k * build.n_bit_columns + column]);
            native::intersection(and, build.players, min.as_ref(), max.as_ref(), age, phase)
        }
        NativeRule::TeamAverages { column, reference, min, max } => {
            let reference = average_reference(pool, build, reference, age);
            let sums = (0..build.members.len()).map(|t| (team_sum(pool, build, *column, t), build.members[t].len()));
            Some(native::team_averages(sums, reference, min.as_ref(), max.as_ref(), age))
        }
    }
}

/// The build's frame of sum column `column` (one sum per team), when it describes the
/// teams as seated.
fn frame_sums(build: &Build, column: usize) -> Option<&[f64]> {
    let k = build.tickets.len().checked_sub(1)?;
    let n_teams = build.members.len();
    let width = build.sum_columns.len() * n_teams;
    build.seating_order.then(|| &build.sums[k * width + column * n_teams..][..n_teams])
}

/// Team `team`'s sum of sum column `column`, as the evaluator sums it (player by player
/// in the team's order).
fn team_sum(pool: &Pool, build: &Build, column: usize, team: usize) -> f64 {
    match frame_sums(build, column) {
        Some(sums) => sums[team],
        None => {
            let (attr, agg) = build.sum_columns[column];
            build.members[team].iter().fold(0.0, |acc, &(slot, _)| acc + pool.number(slot, attr, agg))
        }
    }
}

/// A team-averages rule's reference value (`None`: no players to average yet).
fn average_reference(pool: &Pool, build: &Build, reference: &AverageReference, age: f64) -> Option<f64> {
    let column = match reference {
        AverageReference::Number(s) => return Some(s.at(age)),
        AverageReference::Players { .. } if build.players == 0 => return None,
        &AverageReference::Players { column } => column,
    };
    // Summing the team sums gives the evaluator's sum over every player in team order only
    // when no partial sum rounds (see `native::dyadic`); else sum the players.
    let exact = build.players <= native::EXACT_PLAYERS && build.exact.last().is_some_and(|&e| e & (1 << column) != 0);
    let total = match frame_sums(build, column) {
        Some(sums) if exact => sums.iter().fold(0.0, |acc, &s| acc + s),
        _ => {
            let (attr, agg) = build.sum_columns[column];
            build.members.iter().flatten().fold(0.0, |acc, &(slot, _)| acc + pool.number(slot, attr, agg))
        }
    };
    Some(total / f64::from(build.players))
}

/// Which positions of a segment are taken, with hints for scans that pass over taken
/// positions without looking at each one. Positions only ever become taken within a
/// segment, so the hints stay true: for a taken position `p`, every position in
/// `p..right[p]` is taken, and every position in `left[p]..=p`. Each lookup compresses the
/// path it walked, so a scan crosses a run of taken positions in amortised constant time
/// (a dense pool's late anchors otherwise step over hundreds of taken neighbours each).
#[derive(Debug, Default)]
struct Taken {
    used: Vec<bool>,
    right: Vec<u32>,
    left: Vec<u32>,
}

impl Taken {
    /// `n` positions, none taken.
    fn reset(&mut self, n: usize) {
        self.used.clear();
        self.used.resize(n, false);
        self.right.clear();
        self.right.extend(0..n as u32);
        self.left.clear();
        self.left.extend(0..n as u32);
    }

    /// The first position at or after `from` that is not taken (`n` if none).
    fn unused_right(&mut self, from: usize) -> usize {
        let n = self.used.len();
        let mut j = from;
        while j < n && self.used[j] {
            j = (self.right[j] as usize).max(j + 1);
        }
        let mut k = from;
        while k < j {
            let next = (self.right[k] as usize).max(k + 1);
            self.right[k] = j as u32;
            k = next;
        }
        j
    }

    /// The last position before `before` that is not taken, if any.
    fn unused_left(&mut self, before: usize) -> Option<usize> {
        let mut j = before;
        while j > 0 && self.used[j - 1] {
            j = (self.left[j - 1] as usize).min(j - 1);
        }
        // Every position in j..before is taken.
        let mut k = before;
        while k > j {
            let next = (self.left[k - 1] as usize).min(k - 1);
            self.left[k - 1] = j as u32;
            k = next;
        }
        j.checked_sub(1)
    }
}

fn search_segment(ctx: &Ctx<'_>, ws: &mut Workspace) -> CycleOutput {
    let (pool, entries, now) = (ctx.pool, ctx.entries, ctx.now);
    let mut out = CycleOutput::default();
    let n = entries.len();
    ws.taken.reset(n);
    if ws.sort_specs.len() > 1 {
        ws.more_keys.resize(n, [0; MAX_SORT_KEYS - 1]);
    }
    if let Some(previous) = ctx.previous {
        // Each position's segment in the previous search (1-based; 0: before the first),
        // by one merge of the two key orders.
        let segments = previous.segments.get(ctx.shard).map_or(&[][..], Vec::as_slice);
        ws.previous_segment.clear();
        let mut i = 0;
        for &(key, seq, _, _) in entries {
            while i < segments.len() && segments[i].first.0.total_cmp(&key).then(segments[i].first.1.cmp(&seq)).is_le()
            {
                i += 1;
            }
            ws.previous_segment.push(i as u32);
        }
    }
    ws.plugin.begin_segment();
    if !ctx.plugins.bound.is_empty() {
        ws.plugin.filter_segment(
            ctx.plugins,
            pool,
            entries,
            |slot| age_seconds(now, pool.start[slot as usize]),
            &mut ws.taken.used,
        );
    }
    // Anchors oldest first: positions by seq, sorted as `seq << 16 | position` when that
    // fits (it always does in practice), which sorts plain integers.
    ws.order.clear();
    let packed = n <= 1 << 16 && entries.iter().all(|e| e.1 < 1 << 48);
    if packed {
        ws.order.extend(entries.iter().enumerate().map(|(i, e)| e.1 << 16 | i as u64));
        ws.order.sort_unstable();
        ws.order.iter_mut().for_each(|o| *o &= 0xFFFF);
    } else {
        ws.order.extend(0..n as u64);
        ws.order.sort_unstable_by_key(|&i| entries[i as usize].1);
    }
    let order = std::mem::take(&mut ws.order);
    for &anchor_pos in &order {
        let anchor_pos = anchor_pos as usize;
        if ws.taken.used[anchor_pos] {
            continue;
        }
        let (seq, slot) = (entries[anchor_pos].1, entries[anchor_pos].2);
        ws.lonely_before = ctx.previous.is_some_and(|previous| {
            seq < previous.watermark && previous.lonely.binary_search(&seq).is_ok() && ctx.same_step(previous.now, slot)
        });
        // A lonely anchor found lonely again without its scan is skipped at once.
        let lonely_again = if ws.lonely_before { lonely_again(ctx, anchor_pos, ws) } else { None };
        if let (Some(previous), Some(examined), false) = (ctx.previous, lonely_again, ctx.verify) {
            out.skipped += 1;
            replay(&mut out, previous, seq, examined);
            continue;
        }
        let scan = scan_batch(ctx, anchor_pos, ws);
        let replay_of = ctx.previous.filter(|previous| unchanged(ctx, previous, anchor_pos, &scan, ws));
        // A failed anchor that turned away every ticket it examined, for the next search
        // (an anchor that examined none is left to the other skip conditions, which hold
        // for it unless its neighbourhood changed).
        let lonely = scan.examined && ws.batch.is_empty();
        if let Some(examined) = lonely_again {
            // (Reached only when verifying skips.)
            assert!(
                replay_of.is_some() && ws.batch.is_empty() && scan.examined == examined,
                "an anchor found lonely again without its scan is lonely again by its scan"
            );
        }
        if let Some(previous) = replay_of {
            out.skipped += 1;
            if !ctx.verify {
                // (Verified skips are searched below, and remembered there.)
                replay(&mut out, previous, seq, lonely);
                continue;
            }
        }
        // A skipped anchor searched only to verify the skip (debug builds) is not counted.
        out.searched += usize::from(replay_of.is_none());
        ws.metrics.iter_mut().for_each(|m| *m = (0, 0));
        ws.hard_checks = 0;
        order_batch(ctx, anchor_pos, ws);
        match build_match(ctx, anchor_pos, ws) {
            Some(proposal) => {
                assert!(replay_of.is_none(), "an anchor skipped as unchanged formed a match");
                for &(_, _, pos) in &ws.build.tickets {
                    ws.taken.used[pos as usize] = true;
                }
                out.proposals.push(proposal);
            }
            None => {
                if lonely {
                    out.lonely.push(entries[anchor_pos].1);
                }
                let start = out.anchor_metrics.len();
                for (r, &(pass, fail)) in ws.metrics.iter().enumerate() {
                    if pass + fail > 0 {
                        out.anchor_metrics.push((slot, r as u16, pass, fail));
                    }
                }
                index_metrics(&mut out, entries[anchor_pos].1, start);
                if let Some(previous) = replay_of {
                    assert_eq!(
                        &out.anchor_metrics[start..],
                        recorded_metrics(previous, entries[anchor_pos].1),
                        "an anchor skipped as unchanged evaluated its rules differently"
                    );
                }
            }
        }
    }
    ws.order = order;
    out
}

/// Records a skipped anchor (seq `seq`) as it failed in the `previous` search: its rule
/// metrics, and whether it is lonely (its scan examined tickets and admitted none).
fn replay(out: &mut CycleOutput, previous: &SearchMemory, seq: u64, lonely: bool) {
    if lonely {
        out.lonely.push(seq);
    }
    let start = out.anchor_metrics.len();
    out.anchor_metrics.extend_from_slice(recorded_metrics(previous, seq));
    index_metrics(out, seq, start);
}

/// For an anchor lonely before (`Workspace::lonely_before`), whether it is lonely again,
/// told without its scan: `Some(examined)` when its scan would admit nobody, with whether
/// it would examine a ticket at all (a free one within its window, which keeps it lonely
/// for the next search); `None` when this cannot tell, and the scan decides.
///
/// The scan examines the `scan_size` free entries nearest the anchor, all of them among the
/// first `scan_size` free entries on either side. This looks at every entry up to those
/// (taken ones too) with the filter's pre-check alone, which anything the scan admits
/// passes: when none passes, the batch is empty. Per entry that costs under half of the
/// scan's walk, nearest first across both sides, for up to twice the entries; it pays
/// in a busy ladder, where most skipped anchors are lonely ones whose windows arrivals keep
/// changing (in a 1v1 run at 20k arrivals/s, four in five of those that can be joined at
/// all are told here).
fn lonely_again(ctx: &Ctx<'_>, anchor_pos: usize, ws: &mut Workspace) -> Option<bool> {
    let entries = ctx.entries;
    // The scan's walk, for its window (within the segment).
    let walk = Walk::new(ctx, anchor_pos, &mut ws.taken);
    let Some(bound) = walk.bound() else {
        // Nothing is within the window: the scan examines nobody.
        return Some(false);
    };
    let within = |e: &Entry| (e.0 - walk.anchor_key).abs().to_bits() <= bound;
    ws.filter.set(ctx, entries[anchor_pos]);
    if ws.filter.latency == 0 {
        // No ticket can join it: its scan stops at the first free one.
        let left = ws.taken.unused_left(anchor_pos).is_some_and(|p| within(&entries[p]));
        return Some(left || entries.get(ws.taken.unused_right(anchor_pos + 1)).is_some_and(within));
    }
    let mut examined = false;
    for step in [-1, 1] {
        let (mut p, mut free) = (anchor_pos as isize + step, 0);
        while free < ws.scan_size {
            let Some(&entry) = entries.get(p as usize).filter(|e| within(e)) else { break };
            if ws.filter.pre_admits(entry) {
                return None;
            }
            free += usize::from(!ws.taken.used[p as usize]);
            p += step;
        }
        examined |= free > 0;
    }
    Some(examined)
}

/// Indexes the failed anchor with seq `seq`'s rule metrics, `out.anchor_metrics[start..]`,
/// if it has any.
fn index_metrics(out: &mut CycleOutput, seq: u64, start: usize) {
    let len = out.anchor_metrics.len() - start;
    if len > 0 {
        out.metrics_index.push((seq, start as u32, len as u32));
    }
}

/// The rule metrics the previous search recorded for the failed anchor with seq `seq`.
fn recorded_metrics(previous: &SearchMemory, seq: u64) -> &[(u32, u16, u32, u32)] {
    match previous.metrics_index.binary_search_by_key(&seq, |m| m.0) {
        Ok(i) => {
            let (_, start, len) = previous.metrics_index[i];
            &previous.metrics[start as usize..(start + len) as usize]
        }
        Err(_) => &[],
    }
}

/// What a ticket must share with the current anchor to join its batch. A ticket that
/// shares no acceptable location with the anchor under some latency rule, or fewer than
/// `minCount` values of a native list intersection (`search::native`), would be turned
/// away by every build; leaving it out of the batch makes room for one that can join.
///
/// Both conditions are monotone (more tickets only narrow what they share). They are
/// checked at every expansion level up to that of the pair's expansion age: the younger
/// ticket's age with `expansionAgeSelection` newest (a bound on any match holding both,
/// so the filter only drops tickets no build could seat), the older one's with oldest (a
/// build may hold an older ticket still; the batch is then simply defined this way).
/// Checking every level up to the bound makes admission monotone in time: a ticket, once
/// admitted, stays admitted. What it depends on besides immutable columns is the step of
/// the anchor or of the ticket that sets the pair's age, which the skip rule holds fixed
/// for every admitted ticket; one that newly becomes admissible joins the batch with a
/// changed step and so is seen.
#[derive(Debug, Default)]
struct AnchorFilter {
    /// Per latency rule: its first mask word and its steps.
    latency_rules: Vec<(usize, Steps)>,
    /// Per native intersection rule with a `minCount`: its bitset column, its steps, the
    /// least `minCount` of the levels up to each, and the anchor's bits.
    bit_rules: Vec<(usize, Steps, Vec<f64>, u64)>,
    /// Whether seqs tell each ticket's expansion step this cycle (see [`seq_cuts`]).
    seq_levels: bool,
    /// The anchor's seq.
    anchor_seq: u64,
    /// Which bit rule is the signature's list column, if its list part can be checked.
    signature_bit_rule: Option<usize>,
    /// The anchor's start and latency masks (`pool.masks` layout).
    start: Time,
    masks: Vec<u64>,
    /// Entry-signature pre-checks, parts of the anchor's own signature (`Pool::signature`):
    /// a ticket must share a bit with `latency` (the fold of every level, or of the base
    /// level when no match with the anchor can be at another), with `latency_newer` instead
    /// when its seq is above `newer_than` (then it is no older than the anchor), and with
    /// `lists` unless it is 0.
    latency: u32,
    latency_newer: u32,
    newer_than: u64,
    lists: u32,
    /// Whether the signature's list part is checked: its column's `minCount` is positive at
    /// every level.
    check_lists: bool,
    /// The anchor's entry signature.
    anchor_signature: u32,
    /// The pre-check for the anchor, from the parts above (see [`PreCheck`]), and the
    /// expansion age selection it was made for.
    pre: PreCheck,
    newest: bool,
    /// With levels from seqs, the latency part of the signature a ticket must share with
    /// the anchor: `latency_stepped` when the pair's seq is below `latency_cut` (the first
    /// latency rule's first step is reached), else `latency_base`; 0 for no check. A
    /// select, not a branch: whether a neighbour is older than the anchor is a coin toss.
    latency_cut: u64,
    latency_stepped: u32,
    latency_base: u32,
    /// Likewise the list part: `lists_stepped` when the pair's seq is below `lists_cut`
    /// (the pair has reached the first level whose least `minCount` is not positive), else
    /// `lists_base`.
    lists_cut: u64,
    lists_stepped: u32,
    lists_base: u32,
}

/// The level a ticket with seq `seq` has reached in `steps` (from their seq bounds): a seq
/// below a cut's bound has reached that step.
#[inline]
fn level_at(steps: &Steps, seq: u64) -> usize {
    steps.seqs.iter().take_while(|&&b| seq < b).count()
}

/// A schedule's step times as the least age in milliseconds at which each applies: an age of
/// `d` ms has reached step `k` exactly when `d >= cuts[k]`, as [`Schedule::level`] decides it
/// for `age_seconds`.
fn age_cuts(schedule: &crate::ruleset::Schedule) -> Vec<u64> {
    let reached = |d: u64, wait: f64| d as f64 / 1000.0 >= wait;
    schedule
        .steps
        .iter()
        .map(|&(wait, _)| {
            let mut d = (wait * 1000.0).ceil().clamp(0.0, 1e18) as u64;
            while d > 0 && reached(d - 1, wait) {
                d -= 1;
            }
            while !reached(d, wait) {
                d += 1;
            }
            d
        })
        .collect()
}

impl AnchorFilter {
    fn new(pool: &Pool, now: Time) -> AnchorFilter {
        let layout = &pool.layout;
        // Seqs tell steps only while seq order is age order, and `now` is past every start
        // (the log's pruning assumes it).
        let seq_levels = pool.seq_order_is_age_order && !pool.start_log.is_empty() && now >= pool.latest_start;
        let steps = |schedule: &crate::ruleset::Schedule| {
            let ages = age_cuts(schedule);
            let seqs = if seq_levels { seq_cuts(pool, now, &ages) } else { Vec::new() };
            Steps { ages, seqs }
        };
        let latency_rules: Vec<(usize, Steps)> = layout
            .latency_rules
            .iter()
            .zip(&layout.mask_offsets)
            .map(|((_, schedule, _), &offset)| (offset, steps(schedule)))
            .collect();
        let bit_rules: Vec<(usize, Steps, Vec<f64>, u64)> = layout
            .native
            .rules
            .iter()
            .flatten()
            .filter_map(|rule| match rule {
                NativeRule::Intersection { column, min: Some(min), .. } => {
                    let least = std::iter::once(min.base)
                        .chain(min.steps.iter().map(|s| s.1))
                        .scan(f64::INFINITY, |least, v| {
                            *least = least.min(v);
                            Some(*least)
                        })
                        .collect();
                    Some((*column, steps(min), least, 0))
                }
                _ => None,
            })
            .collect();
        let signature_bit_rule = bit_rules.iter().position(|(column, ..)| layout.signature_column == Some(*column));
        let check_lists = signature_bit_rule.is_some_and(|r| bit_rules[r].2.last().is_some_and(|&l| l > 0.0));
        // `latency_part_at`, as a select: level 0 exactly when the pair's seq is not below
        // the first step's bound (no step: never below 0).
        let (latency_cut, latency_stepped, latency_base) = match latency_rules.first() {
            Some((_, steps)) => (steps.seqs.first().copied().unwrap_or(0), SIGNATURE_EVERY_LEVEL, SIGNATURE_BASE_LEVEL),
            None => (0, 0, 0),
        };
        // `lists_part_at`, as a select: the least `minCount` only falls with the level, so
        // the part is checked below the first level where it is not positive, and a pair
        // has reached that level exactly when its seq is below every bound up to it.
        let (lists_cut, lists_stepped, lists_base) = match signature_bit_rule.filter(|_| seq_levels) {
            Some(r) => {
                let (_, steps, least, _) = &bit_rules[r];
                match least.iter().position(|&l| l <= 0.0 || l.is_nan()) {
                    None => (0, SIGNATURE_LISTS, SIGNATURE_LISTS),
                    Some(0) => (0, 0, 0),
                    Some(level) => (steps.seqs[..level].iter().copied().min().unwrap_or(0), 0, SIGNATURE_LISTS),
                }
            }
            None => (0, 0, 0),
        };
        AnchorFilter {
            latency_rules,
            bit_rules,
            check_lists,
            seq_levels,
            signature_bit_rule,
            latency_cut,
            latency_stepped,
            latency_base,
            lists_cut,
            lists_stepped,
            lists_base,
            ..AnchorFilter::default()
        }
    }

    /// Sets the filter up for the anchor of entry `anchor`.
    fn set(&mut self, ctx: &Ctx<'_>, (_, seq, anchor, signature): Entry) {
        let pool = ctx.pool;
        let layout = &pool.layout;
        self.start = pool.start[anchor as usize];
        self.anchor_seq = seq;
        let nm = layout.masks_per_ticket;
        self.masks.clear();
        self.masks.extend_from_slice(&pool.masks[anchor as usize * nm..(anchor as usize + 1) * nm]);
        let age_ms = ctx.now.0.saturating_sub(self.start.0);
        let base_level =
            self.latency_rules.first().is_some_and(|(_, steps)| steps.ages.first().is_none_or(|&c| age_ms < c));
        let (every, base) = (signature & SIGNATURE_EVERY_LEVEL, signature & SIGNATURE_BASE_LEVEL);
        // A match's expansion age is at most the anchor's with newest; a pair's with a newer
        // ticket is the anchor's with oldest.
        self.latency = if base_level && ctx.newest { base } else { every };
        self.latency_newer = if base_level { base } else { every };
        // Without seq order being age order, no ticket is known to be newer.
        self.newer_than = if pool.seq_order_is_age_order { seq } else { u64::MAX };
        self.lists = if self.check_lists { signature & SIGNATURE_LISTS } else { 0 };
        // With levels from seqs, `admits` picks the signature parts by the pair's level.
        self.anchor_signature = signature;
        let nb = layout.native.bit_columns.len();
        for (column, _, _, bits) in &mut self.bit_rules {
            *bits = pool.list_bits[anchor as usize * nb + *column];
        }
        self.newest = ctx.newest;
        self.pre = PreCheck::new(self);
    }

    /// Whether the ticket of `entry` may join the anchor's batch.
    #[inline]
    fn admits(&self, ctx: &Ctx<'_>, entry: Entry) -> bool {
        self.pre_admits(entry) && self.admits_checked(ctx, entry)
    }

    /// The first part of [`AnchorFilter::admits`]: the entry signature's parts a ticket must
    /// share with the anchor's. It reads the entry only (the scan by sides checks it before
    /// reading any column). Debug builds compare it with its definition by levels.
    #[inline]
    fn pre_admits(&self, (_, seq, _, signature): Entry) -> bool {
        let pass = self.pre.passes(seq, signature);
        #[cfg(debug_assertions)]
        assert_eq!(pass, self.pre_admits_by_levels(seq, signature), "the pre-check for seq {seq}");
        pass
    }

    /// [`AnchorFilter::pre_admits`] as defined: with levels from seqs, the signature parts of
    /// the pair's level (the pair's expansion age is the younger ticket's with newest, the
    /// older one's with oldest: the higher or the lower seq); else the anchor's parts, those
    /// of a newer ticket's pair for one known to be newer.
    #[cfg(debug_assertions)]
    fn pre_admits_by_levels(&self, seq: u64, signature: u32) -> bool {
        let shares = |part: u32, with: u32| part == 0 || with & part != 0;
        if self.seq_levels {
            let pair = if self.newest { seq.max(self.anchor_seq) } else { seq.min(self.anchor_seq) };
            let shared = signature & self.anchor_signature;
            shares(self.latency_part_at(pair), shared) && shares(self.lists_part_at(pair), shared)
        } else {
            let latency = if seq > self.newer_than { self.latency_newer } else { self.latency };
            signature & latency != 0 && shares(self.lists, signature)
        }
    }

    /// The rest of [`AnchorFilter::admits`], for a ticket that passed
    /// [`AnchorFilter::pre_admits`]: its columns, at the pair's expansion level (from seqs
    /// when they tell it, else from the tickets' starts).
    #[inline]
    fn admits_checked(&self, ctx: &Ctx<'_>, (_, seq, slot, _): Entry) -> bool {
        let pool = ctx.pool;
        if self.seq_levels {
            let pair = if ctx.newest { seq.max(self.anchor_seq) } else { seq.min(self.anchor_seq) };
            self.shares_at(pool, slot, |steps| level_at(steps, pair))
        } else {
            // The pair's expansion age: the younger ticket's (newest), the older one's (oldest).
            let start = pool.start[slot as usize];
            let pair = if ctx.newest { start.max(self.start) } else { start.min(self.start) };
            let age_ms = ctx.now.0.saturating_sub(pair.0);
            self.shares_at(pool, slot, |steps: &Steps| steps.ages.iter().take_while(|&&c| age_ms >= c).count())
        }
    }

    /// The signature part of the first latency rule a ticket must share with the anchor for
    /// a pair whose expansion age is that of the ticket with seq `pair` (0: none).
    #[cfg(debug_assertions)]
    fn latency_part_at(&self, pair: u64) -> u32 {
        self.latency_rules.first().map_or(0, |(_, steps)| {
            if level_at(steps, pair) == 0 { SIGNATURE_BASE_LEVEL } else { SIGNATURE_EVERY_LEVEL }
        })
    }

    /// The list part of the signature such a pair must share: where the column's `minCount`
    /// is positive at the pair's level (0: none).
    #[cfg(debug_assertions)]
    fn lists_part_at(&self, pair: u64) -> u32 {
        self.signature_bit_rule.map_or(0, |r| {
            let (_, steps, least, _) = &self.bit_rules[r];
            if least[level_at(steps, pair)] > 0.0 { SIGNATURE_LISTS } else { 0 }
        })
    }

    /// Whether the ticket in `slot` shares with the anchor an acceptable location under
    /// every latency rule at some level up to the pair's, and at least the least `minCount`
    /// of those levels of every native list intersection; `level` gives the pair's level
    /// in a rule's steps.
    #[inline]
    fn shares_at(&self, pool: &Pool, slot: u32, level: impl Fn(&Steps) -> usize) -> bool {
        let nm = pool.layout.masks_per_ticket;
        let masks = &pool.masks[slot as usize * nm..(slot as usize + 1) * nm];
        for (offset, steps) in &self.latency_rules {
            let words = *offset..=offset + level(steps);
            if !words.into_iter().any(|w| masks[w] & self.masks[w] != 0) {
                return false;
            }
        }
        let nb = pool.layout.native.bit_columns.len();
        self.bit_rules.iter().all(|(column, steps, least, bits)| {
            let least = least[level(steps)];
            let shared = pool.list_bits[slot as usize * nb + column] & bits;
            // A value without a bit of its own may be shared: only the evaluator can tell.
            least <= 0.0 || shared & native::OVERFLOW_BIT != 0 || f64::from(shared.count_ones()) >= least
        })
    }
}

/// A rule's expansion steps as the filter reads them: a ticket or pair has reached step `k`
/// when its age in milliseconds is at least `ages[k]` ([`age_cuts`]), or, this cycle, when
/// its seq is below `seqs[k]` ([`seq_cuts`]; empty when seqs do not tell).
#[derive(Debug, Clone, Default)]
struct Steps {
    ages: Vec<u64>,
    seqs: Vec<u64>,
}

/// A schedule's [`age_cuts`] as seq bounds at `now`: a ticket has reached step `k` exactly
/// when its seq is below `bounds[k]`. Valid while seq order is age order (a ticket's seq
/// then orders it by start), from the pool's log of starts by seq.
fn seq_cuts(pool: &Pool, now: Time, cuts: &[u64]) -> Vec<u64> {
    cuts.iter()
        .map(|&cut| {
            // The first logged start too recent to have reached the step; the seqs before
            // it (logged or pruned) have.
            let first_unreached = pool.start_log.partition_point(|&(_, t)| t.0.saturating_add(cut) <= now.0);
            pool.start_log.get(first_unreached).map_or(u64::MAX, |&(seq, _)| seq)
        })
        .collect()
}

/// What [`scan_batch`] saw besides the batch.
struct Scan {
    /// The batch's farthest distance in primary key when the batch is full, else the
    /// window's half-width: every entry closer is in the batch or was taken.
    radius: f64,
    /// Whether a ticket of the previous search was passed over as taken.
    took_old: bool,
    /// Whether the scan stopped at its examination limit after turning away a new ticket:
    /// then that ticket took the place of one the previous search examined.
    crowded: bool,
    /// Whether the scan examined a free ticket at all.
    examined: bool,
}

/// Collects the anchor's batch into `ws.batch`, in scan order: the `ws.batch_size` entries
/// nearest to it in primary key that are not yet taken and that `AnchorFilter` admits,
/// within the key window its age allows and among the first `ws.scan_size` free entries
/// (nearest first; the left one on ties).
///
/// Two scans collect it, to the same result: one entry at a time, or by sides (see
/// [`scan_batch_by_sides`]), which pays where most neighbours fail the filter's
/// pre-check, as where players' map lists must overlap (most neighbours of the anchors
/// left waiting share none), and costs instructions where most pass (in a 1v1 ladder
/// most neighbours share a location with the anchor, and the batch fills within a few).
/// So a rule set whose entry signature holds a list part is scanned by sides. Debug
/// builds run both and check that they agree.
fn scan_batch(ctx: &Ctx<'_>, anchor_pos: usize, ws: &mut Workspace) -> Scan {
    let by_sides = ws.filter.signature_bit_rule.is_some();
    #[cfg(debug_assertions)]
    let expected = match by_sides {
        true => (scan_batch_one_by_one(ctx, anchor_pos, ws), ws.batch.clone()),
        false => (scan_batch_by_sides(ctx, anchor_pos, ws), ws.batch.clone()),
    };
    let scan = match by_sides {
        true => scan_batch_by_sides(ctx, anchor_pos, ws),
        false => scan_batch_one_by_one(ctx, anchor_pos, ws),
    };
    #[cfg(debug_assertions)]
    {
        let same = |a: &Scan, b: &Scan| {
            (a.radius.to_bits(), a.took_old, a.crowded, a.examined)
                == (b.radius.to_bits(), b.took_old, b.crowded, b.examined)
        };
        let key = |c: &Cand| (c.key, c.seq, c.slot, c.pos);
        assert!(
            same(&scan, &expected.0) && ws.batch.iter().map(key).eq(expected.1.iter().map(key)),
            "the scan by sides agrees with the one-by-one scan"
        );
    }
    scan
}

/// The walk of a batch scan: the entries around the anchor, nearest first in primary key
/// (the left one on a tie), within the key window its age allows (and the segment).
struct Walk<'a> {
    entries: &'a [Entry],
    anchor_key: f64,
    /// The window's half-width.
    half: f64,
    /// Whether the walk jumps over taken tickets (else it passes them, for the caller to
    /// see).
    jump: bool,
    /// The next entry on each side (`lo`: -1 when none) and its distance.
    lo: isize,
    hi: isize,
    left: u64,
    right: u64,
}

/// An infinite distance: past the window's edge or the segment's.
const INFINITE: u64 = f64::INFINITY.to_bits();

impl<'a> Walk<'a> {
    #[inline(always)]
    fn new(ctx: &Ctx<'a>, anchor_pos: usize, taken: &mut Taken) -> Walk<'a> {
        let entries = ctx.entries;
        let (anchor_key, anchor_seq, anchor_slot, _) = entries[anchor_pos];
        let half = ctx.pool.layout.key_window.as_ref().map_or(f64::INFINITY, |s| {
            // The anchor is the oldest ticket, so its age bounds every match's expansion age.
            s.at(age_seconds(ctx.now, ctx.pool.start[anchor_slot as usize]))
        });
        // Only an anchor the skip rule may skip needs to know whether it passed over a
        // taken ticket of the previous search; any other scan jumps over taken tickets.
        let jump = ctx.previous.is_none() || anchor_seq >= ctx.watermark;
        let (lo, hi) = match jump {
            true => {
                (taken.unused_left(anchor_pos).map_or(-1, |p| p as isize), taken.unused_right(anchor_pos + 1) as isize)
            }
            false => (anchor_pos as isize - 1, anchor_pos as isize + 1),
        };
        let mut walk = Walk { entries, anchor_key, half, jump, lo, hi, left: INFINITE, right: INFINITE };
        (walk.left, walk.right) = (walk.distance_at(lo), walk.distance_at(hi));
        walk
    }

    /// The distance of the entry at `p`, as the bits of a non-negative f64 (which order as
    /// the numbers do), [`INFINITE`] past the window's edge (or the segment's). Entries are
    /// in key order, so `|key - anchor_key|` is `anchor_key - key` on the left (exactly,
    /// +0.0 for equal keys) and `key - anchor_key` on the right.
    #[inline(always)]
    fn distance_at(&self, p: isize) -> u64 {
        // (-1 as usize is past the end too.)
        let Some(&(key, ..)) = self.entries.get(p as usize) else { return INFINITE };
        self.distance_of(key)
    }

    /// [`Walk::distance_at`] for an entry with primary key `key`.
    #[inline(always)]
    fn distance_of(&self, key: f64) -> u64 {
        let d = (key - self.anchor_key).abs();
        if d <= self.half { d.to_bits() } else { INFINITE }
    }

    /// The largest distance (as bits) within the window, so that an entry at distance `d`
    /// (`(key - anchor_key).abs()`, as bits) is within it exactly when `d <= bound`, which
    /// is [`Walk::distance_of`]'s test in one comparison; `None` when no entry is. (A
    /// non-negative distance orders as its bits; an infinite one or NaN is out.)
    fn bound(&self) -> Option<u64> {
        (self.half >= 0.0).then(|| self.half.abs().to_bits().min(INFINITE - 1))
    }

    /// The next entry's position and distance, `None` when none is left. Which side is
    /// nearer is a coin toss, so the walk selects between the sides, in integers, rather
    /// than branching.
    #[inline(always)]
    fn next(&mut self, taken: &mut Taken) -> Option<(usize, u64)> {
        use std::hint::select_unpredictable as select;
        let take_right = self.right < self.left;
        let distance = select(take_right, self.right, self.left);
        if distance >= INFINITE {
            return None;
        }
        let pos = select(take_right, self.hi, self.lo) as usize;
        let next = match (self.jump, take_right) {
            (false, _) => select(take_right, self.hi + 1, self.lo - 1),
            (true, false) => taken.unused_left(pos).map_or(-1, |p| p as isize),
            (true, true) => taken.unused_right(pos + 1) as isize,
        };
        let d = self.distance_at(next);
        (self.lo, self.hi) = (select(take_right, self.lo, next), select(take_right, next, self.hi));
        (self.left, self.right) = (select(take_right, self.left, d), select(take_right, d, self.right));
        Some((pos, distance))
    }
}

/// What a batch scan's walk came to.
enum Seen {
    /// A ticket an earlier anchor of this search took.
    Taken,
    /// A free ticket, now counted as examined.
    Free,
    /// The first free ticket, and the anchor has no acceptable location at any level: no
    /// ticket can join it.
    Hopeless,
}

/// Sees the entry at `pos`: notes a taken ticket of the previous search, counts a free one
/// as examined, and sets the filter up at the first (a standing pool's anchors mostly have
/// none within their window).
#[inline(always)]
fn examine(
    ctx: &Ctx<'_>,
    anchor_pos: usize,
    pos: usize,
    ws: &mut Workspace,
    scan: &mut Scan,
    examined: &mut usize,
) -> Seen {
    if ws.taken.used[pos] {
        scan.took_old |= ctx.entries[pos].1 < ctx.watermark;
        return Seen::Taken;
    }
    *examined += 1;
    if *examined == 1 {
        scan.examined = true;
        ws.filter.set(ctx, ctx.entries[anchor_pos]);
        if ws.filter.latency == 0 {
            return Seen::Hopeless;
        }
    }
    Seen::Free
}

/// Free entries a side of [`scan_batch_by_sides`] collects at a time.
const BLOCK: usize = 16;

/// One side of an anchor's neighbourhood as [`scan_batch_by_sides`] collects it: the free
/// entries in the window, nearest first (the order the walk meets them on this side).
#[derive(Debug, Default)]
struct Side {
    /// The next position to look at (`-1` or past the end when none), and the step away
    /// from the anchor (`-1` on the left).
    next: isize,
    step: isize,
    /// Whether no entry is left in the window on this side.
    done: bool,
    /// Free entries collected, and per free entry its distance in primary key (ordered
    /// bits, as the walk compares them). `dist` has room for a scan's limit and a block.
    len: usize,
    dist: Vec<u64>,
    /// The collected entries that pass the filter's pre-check, as `(index in dist,
    /// position)` (one spare place: every entry is written, and kept if it passes).
    passed: usize,
    pass: Vec<(u32, u32)>,
    /// The index of the first collected new ticket the pre-check turned away (`u32::MAX`:
    /// none).
    new_turned: u32,
    /// The first ticket of the previous search passed over as taken: its distance and the
    /// number of free entries before it on this side.
    taken_old: Option<(u64, u32)>,
}

/// A free entry of a scan's neighbourhood: its side (0 left, 1 right) and index there.
type At = (usize, usize);

/// The filter's pre-check ([`AnchorFilter::pre_admits`]) for one anchor, as two
/// requirements picked by a neighbour's seq alone (one select each, no branch: whether a
/// neighbour passes, or is older than the anchor, is a coin toss): it passes when its
/// signature, masked by `anchor` and with the [`PreCheck::ANY`] bit set, shares a bit with
/// the latency requirement and with the list requirement (`ANY` for none, 0 for one no
/// ticket meets).
#[derive(Debug, Clone, Copy, Default)]
struct PreCheck {
    anchor: u64,
    latency_cut: u64,
    /// Below the cut, and at or above it.
    latency: [u64; 2],
    lists_cut: u64,
    lists: [u64; 2],
}

impl PreCheck {
    const ANY: u64 = 1 << 32;

    fn new(filter: &AnchorFilter) -> PreCheck {
        if filter.seq_levels {
            // The pair's seq is below a cut exactly when the neighbour's is below this one.
            let a = filter.anchor_seq;
            let cut = |c: u64| match (filter.newest, a < c) {
                (true, true) | (false, false) => c,
                (true, false) => 0,
                (false, true) => u64::MAX,
            };
            let need = |part: u32| if part == 0 { PreCheck::ANY } else { u64::from(part) };
            PreCheck {
                anchor: u64::from(filter.anchor_signature),
                latency_cut: cut(filter.latency_cut),
                latency: [need(filter.latency_stepped), need(filter.latency_base)],
                lists_cut: cut(filter.lists_cut),
                lists: [need(filter.lists_stepped), need(filter.lists_base)],
            }
        } else {
            let lists = if filter.lists == 0 { PreCheck::ANY } else { u64::from(filter.lists) };
            PreCheck {
                anchor: u64::from(u32::MAX),
                // Newer than the anchor: at or above the cut.
                latency_cut: filter.newer_than.saturating_add(1),
                latency: [u64::from(filter.latency), u64::from(filter.latency_newer)],
                lists_cut: 0,
                lists: [lists; 2],
            }
        }
    }

    #[inline(always)]
    fn passes(&self, seq: u64, signature: u32) -> bool {
        use std::hint::select_unpredictable as select;
        // (Seqs are below u64::MAX, which a cut of u64::MAX relies on.)
        debug_assert!(seq < u64::MAX);
        let shared = u64::from(signature) & self.anchor | PreCheck::ANY;
        let latency = select(seq < self.latency_cut, self.latency[0], self.latency[1]);
        let lists = select(seq < self.lists_cut, self.lists[0], self.lists[1]);
        (shared & latency != 0) & (shared & lists != 0)
    }
}

impl Side {
    fn reset(&mut self, first: isize, step: isize, room: usize) {
        self.next = first;
        self.step = step;
        self.done = false;
        self.len = 0;
        self.dist.resize(room, 0);
        self.passed = 0;
        self.pass.resize(room + 1, (0, 0));
        self.new_turned = u32::MAX;
        self.taken_old = None;
    }

    /// The last collected entry's distance.
    fn last(&self) -> Option<u64> {
        self.len.checked_sub(1).map(|i| self.dist[i])
    }

    /// Moves past taken entries (noting one of the previous search) to the first free one
    /// in the window, without collecting it; its distance, `None` if the side has none.
    #[inline(always)]
    fn skip_taken(&mut self, ctx: &Ctx<'_>, walk: &Walk<'_>, taken: &Taken) -> Option<u64> {
        loop {
            let d = walk.distance_at(self.next);
            if d >= INFINITE {
                self.done = true;
                return None;
            }
            let p = self.next as usize;
            if !taken.used[p] {
                return Some(d);
            }
            if ctx.entries[p].1 < ctx.watermark && self.taken_old.is_none() {
                self.taken_old = Some((d, 0));
            }
            self.next += self.step;
        }
    }

    /// Collects up to `want` more free entries (fewer when the window ends first), each
    /// checked by `filter`'s pre-check. `JUMP`: the walk's `jump` (a constant, so that the
    /// loop does not test it).
    #[inline(always)]
    fn collect<const JUMP: bool>(
        &mut self,
        ctx: &Ctx<'_>,
        walk: &Walk<'_>,
        filter: &AnchorFilter,
        taken: &mut Taken,
        want: usize,
    ) {
        use std::hint::select_unpredictable as select;
        let goal = (self.len + want).min(self.dist.len());
        let Some(bound) = walk.bound() else {
            self.done = true;
            return;
        };
        let (mut p, mut i, mut n, mut new_turned) = (self.next, self.len, self.passed, self.new_turned);
        while i < goal {
            let Some(&(key, seq, _, signature)) = ctx.entries.get(p as usize) else {
                self.done = true;
                break;
            };
            let d = (key - walk.anchor_key).abs().to_bits();
            debug_assert_eq!(d <= bound, walk.distance_of(key) < INFINITE);
            if d > bound {
                self.done = true;
                break;
            }
            if !JUMP && taken.used[p as usize] {
                if seq < ctx.watermark && self.taken_old.is_none() {
                    self.taken_old = Some((d, i as u32));
                }
                p += self.step;
                continue;
            }
            self.dist[i] = d;
            let pass = filter.pre_admits((key, seq, 0, signature));
            self.pass[n] = (i as u32, p as u32);
            n += usize::from(pass);
            new_turned = new_turned.min(select(!pass & (seq >= ctx.watermark), i as u32, u32::MAX));
            i += 1;
            p = match (JUMP, self.step < 0) {
                (false, _) => p + self.step,
                (true, true) => taken.unused_left(p as usize).map_or(-1, |q| q as isize),
                (true, false) => taken.unused_right(p as usize + 1) as isize,
            };
        }
        (self.next, self.len, self.passed, self.new_turned) = (p, i, n, new_turned);
    }
}

/// Whether the free entry `a` comes before `b` in the walk (nearest first, the left one on
/// a tie in distance).
#[inline(always)]
fn walks_before(sides: &[Side; 2], a: At, b: At) -> bool {
    if a.0 == b.0 {
        return a.1 < b.1;
    }
    let (da, db) = (sides[a.0].dist[a.1], sides[b.0].dist[b.1]);
    if a.0 == 0 { da <= db } else { da < db }
}

/// Whether everything the walk meets up to the free entry `x` has been collected: the
/// other side is used up or has collected an entry the walk meets after `x`.
#[inline(always)]
fn collected_up_to(sides: &[Side; 2], x: At) -> bool {
    let other = &sides[1 - x.0];
    other.done || other.len > 0 && walks_before(sides, x, (1 - x.0, other.len - 1))
}

/// The `k`-th free entry (1-based) the walk meets among those collected (at least `k`).
fn kth(sides: &[Side; 2], k: usize) -> At {
    let (l, r) = (&sides[0].dist[..sides[0].len], &sides[1].dist[..sides[1].len]);
    // How many of the first k are on the left: the least i for which the right side's
    // (k - i)-th comes before the left side's (i + 1)-th.
    let (mut lo, mut hi) = (k.saturating_sub(r.len()), k.min(l.len()));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if r[k - mid - 1] < l[mid] { hi = mid } else { lo = mid + 1 }
    }
    let (i, j) = (lo, k - lo);
    match (i, j) {
        (0, _) => (1, j - 1),
        (_, 0) => (0, i - 1),
        _ if l[i - 1] <= r[j - 1] => (1, j - 1),
        _ => (0, i - 1),
    }
}

/// Whether the walk passed over a taken ticket of the previous search before meeting the
/// free entry `x` at distance `dx` (`None`: the walk went to the window's end).
fn took_old_before(sides: &[Side; 2], x: Option<(At, u64)>) -> bool {
    (0..2).any(|s| {
        sides[s].taken_old.is_some_and(|(d, free_before)| match x {
            None => true,
            Some(((xs, xi), _)) if xs == s => free_before as usize <= xi,
            Some((_, dx)) => {
                if s == 0 {
                    d <= dx
                } else {
                    d < dx
                }
            }
        })
    })
}

impl Scan {
    /// The scan as it ends at the free entry `at`, at `distance`: the radius, the taken
    /// tickets of the previous search passed over on the way, and `crowded`.
    fn stopped_at(mut self, sides: &[Side; 2], at: At, distance: u64, crowded: bool) -> Scan {
        self.radius = f64::from_bits(distance);
        self.crowded = crowded;
        self.took_old = took_old_before(sides, Some((at, distance)));
        self
    }
}

/// Whether the walk turned away a new ticket by the pre-check up to the free entry `x`
/// (included).
fn turned_new_by(sides: &[Side; 2], x: At) -> bool {
    (0..2).any(|s| {
        let f = sides[s].new_turned;
        f != u32::MAX && (s == x.0 && f as usize <= x.1 || s != x.0 && walks_before(sides, (s, f as usize), x))
    })
}

/// [`scan_batch`] by sides: each side of the anchor is collected outward in blocks of free
/// entries, the filter's pre-check computed for each without a branch; only the entries
/// that pass it (few, where the pre-check is a coin toss) are then taken in walk order,
/// across the sides. The examination limit is the `scan_size`-th free entry in walk
/// order, found by bisection over the two sides' distances, so the free entries turned
/// away by the pre-check are never merged one by one. A side is collected further only
/// while the entries the walk would meet next might lie on it (the one whose last
/// collected entry the walk meets first), so the sides together overshoot the walk by at
/// most a block. The batch, the radius and the flags are exactly the one-by-one scan's
/// (debug builds check it).
fn scan_batch_by_sides(ctx: &Ctx<'_>, anchor_pos: usize, ws: &mut Workspace) -> Scan {
    let entries = ctx.entries;
    let walk = Walk::new(ctx, anchor_pos, &mut ws.taken);
    ws.batch.clear();
    let mut scan = Scan { radius: walk.half, took_old: false, crowded: false, examined: false };
    let (batch_size, k) = (ws.batch_size, ws.scan_size);
    let Workspace { sides, taken, filter, batch, .. } = ws;
    // (A side is collected further only while it holds fewer than `k` entries.)
    sides[0].reset(walk.lo, -1, k + BLOCK);
    sides[1].reset(walk.hi, 1, k + BLOCK);
    let first = [sides[0].skip_taken(ctx, &walk, taken), sides[1].skip_taken(ctx, &walk, taken)];
    let (first, dx) = match first {
        [None, None] => {
            scan.took_old = took_old_before(sides, None);
            return scan;
        }
        [Some(l), Some(r)] if r < l => (1, r),
        [Some(d), _] => (0, d),
        [None, Some(d)] => (1, d),
    };
    scan.examined = true;
    filter.set(ctx, entries[anchor_pos]);
    if filter.latency == 0 {
        // No ticket can join: the walk stopped at the first free entry it met.
        scan.took_old = took_old_before(sides, Some(((first, 0), dx)));
        return scan;
    }
    let collect = |side: &mut Side, taken: &mut Taken, want: usize| match walk.jump {
        true => side.collect::<true>(ctx, &walk, filter, taken, want),
        false => side.collect::<false>(ctx, &walk, filter, taken, want),
    };
    for side in sides.iter_mut().filter(|s| !s.done) {
        collect(side, taken, BLOCK / 2);
    }
    let mut processed = [0usize; 2];
    let mut checked_new = false;
    loop {
        // The examination limit's entry, once everything up to it is collected.
        let limit = (sides[0].len + sides[1].len >= k).then(|| kth(sides, k)).filter(|&x| collected_up_to(sides, x));
        // The entries that passed the pre-check, in walk order, as far as collected and
        // not past the limit: their columns decide.
        loop {
            let next = |s: usize| {
                let side = &sides[s];
                (processed[s] < side.passed).then(|| side.pass[processed[s]]).map(|(i, pos)| ((s, i as usize), pos))
            };
            let (at, pos) = match (next(0), next(1)) {
                (Some(l), Some(r)) => match walks_before(sides, l.0, r.0) {
                    true => l,
                    false => r,
                },
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => break,
            };
            if !collected_up_to(sides, at) || limit.is_some_and(|x| walks_before(sides, x, at)) {
                break;
            }
            processed[at.0] += 1;
            let entry = entries[pos as usize];
            let distance = sides[at.0].dist[at.1];
            let at_limit = limit == Some(at);
            if !filter.admits_checked(ctx, entry) {
                checked_new |= entry.1 >= ctx.watermark;
                if at_limit {
                    return scan.stopped_at(sides, at, distance, turned_new_by(sides, at) | checked_new);
                }
                continue;
            }
            // The distance is the sort key when the batch is ordered by distance in the
            // primary key (`Order::Distance`); otherwise `order_batch` replaces it.
            batch.push(Cand { key: ordered_bits(f64::from_bits(distance)), seq: entry.1, slot: entry.2, pos });
            if batch.len() == batch_size || at_limit {
                return scan.stopped_at(sides, at, distance, at_limit && (turned_new_by(sides, at) | checked_new));
            }
        }
        if let Some(x) = limit {
            // The limit's entry was turned away by the pre-check.
            return scan.stopped_at(sides, x, sides[x.0].dist[x.1], turned_new_by(sides, x) | checked_new);
        }
        // Collect further on the side the walk would go on to first.
        let behind = match (sides[0].done, sides[1].done) {
            (true, true) => {
                scan.took_old = took_old_before(sides, None);
                return scan;
            }
            (true, false) => 1,
            (false, true) => 0,
            (false, false) => match (sides[0].last(), sides[1].last()) {
                (Some(l), Some(r)) => usize::from(r < l),
                (None, _) => 0,
                (_, None) => 1,
            },
        };
        let before = sides[behind].len;
        collect(&mut sides[behind], taken, BLOCK);
        debug_assert!(sides[behind].done || sides[behind].len > before, "a scan's side grows until it is used up");
    }
}

/// [`scan_batch`] one entry at a time: each examined entry is fully checked before the
/// next is walked to.
fn scan_batch_one_by_one(ctx: &Ctx<'_>, anchor_pos: usize, ws: &mut Workspace) -> Scan {
    let entries = ctx.entries;
    let mut walk = Walk::new(ctx, anchor_pos, &mut ws.taken);
    ws.batch.clear();
    let mut scan = Scan { radius: walk.half, took_old: false, crowded: false, examined: false };
    let mut examined = 0;
    let mut turned_new = false;
    while let Some((pos, distance)) = walk.next(&mut ws.taken) {
        let distance = f64::from_bits(distance);
        let (_, seq, slot, _) = entries[pos];
        match examine(ctx, anchor_pos, pos, ws, &mut scan, &mut examined) {
            Seen::Taken => continue,
            // (The batch is empty and the radius the window's half-width, as set up.)
            Seen::Hopeless => return scan,
            Seen::Free => {}
        }
        if !ws.filter.admits(ctx, entries[pos]) {
            turned_new |= seq >= ctx.watermark;
            if examined == ws.scan_size {
                scan.radius = distance;
                scan.crowded = turned_new;
                break;
            }
            continue;
        }
        // The distance is the sort key when the batch is ordered by distance in the
        // primary key (`Order::Distance`); otherwise `order_batch` replaces it.
        ws.batch.push(Cand { key: ordered_bits(distance), seq, slot, pos: pos as u32 });
        if ws.batch.len() == ws.batch_size || examined == ws.scan_size {
            scan.radius = distance;
            scan.crowded = examined == ws.scan_size && turned_new;
            break;
        }
    }
    scan
}

/// Whether the anchor at `anchor_pos`, whose batch `scan_batch` just collected, would fail
/// exactly as it did in the previous search (see the module documentation).
fn unchanged(ctx: &Ctx<'_>, previous: &SearchMemory, anchor_pos: usize, scan: &Scan, ws: &Workspace) -> bool {
    let (key, seq, slot, _) = ctx.entries[anchor_pos];
    // A lonely anchor is still lonely: its search sees only itself, as then. One that is no
    // longer lonely has a batch unlike the previous (empty) one, so the conditions below
    // cannot all hold: it is searched without checking them.
    if ws.lonely_before {
        return ws.batch.is_empty();
    }
    if seq >= previous.watermark || scan.took_old || scan.crowded || !ctx.same_step(previous.now, slot) {
        return false;
    }
    // Every build of this anchor's search holds the anchor, so its expansion age is the age
    // of the anchor or of a batch ticket older than it (newer, with `expansionAgeSelection`
    // newest): only those tickets' steps can change it.
    let anchor_start = ctx.pool.start[slot as usize];
    let sets_age = |c: &Cand| {
        let start = ctx.pool.start[c.slot as usize];
        if ctx.newest { start > anchor_start } else { start < anchor_start }
    };
    if !ws.batch.iter().all(|c| c.seq < previous.watermark && (!sets_age(c) || ctx.same_step(previous.now, c.slot))) {
        return false;
    }
    let d = scan.radius;
    let inside = |b: &SegmentBounds| b.before.is_none_or(|k| key - k > d) && b.after.is_none_or(|k| k - key > d);
    if !inside(&ctx.bounds) {
        return false;
    }
    let segments = previous.segments.get(ctx.shard).map_or(&[][..], Vec::as_slice);
    match ws.previous_segment[anchor_pos] {
        0 => return false,
        i if !inside(&segments[i as usize - 1]) => return false,
        _ => {}
    }
    let departures = previous.departures.get(ctx.shard).map_or(&[][..], Vec::as_slice);
    let mid = departures.partition_point(|e| e.0.total_cmp(&key).is_lt());
    let left = departures[..mid].iter().rev().take_while(|e| key - e.0 <= d);
    let right = departures[mid..].iter().take_while(|e| e.0 - key <= d);
    left.chain(right).all(|&(_, threshold)| threshold <= seq)
}

/// Orders `ws.batch` by the sort rules relative to the anchor, then by seq (age).
fn order_batch(ctx: &Ctx<'_>, anchor_pos: usize, ws: &mut Workspace) {
    let pool = ctx.pool;
    let anchor = ctx.entries[anchor_pos].2;
    let Workspace { batch, more_keys, sort_specs, anchor_values, order_by, ties, .. } = ws;
    if *order_by == Order::Distance {
        debug_assert!(batch.iter().all(|c| {
            let a = anchor_value(pool, &sort_specs[0], anchor);
            c.key == sort_key(pool, &sort_specs[0], &a, c.slot)
        }));
        order_ties_by_seq(batch, anchor_pos as u32, ties);
        if !batch.is_sorted_by_key(|c| (c.key, c.seq)) {
            batch.sort_unstable_by_key(|c| (c.key, c.seq));
        }
        return;
    }
    anchor_values.clear();
    anchor_values.extend(sort_specs.iter().map(|spec| anchor_value(pool, spec, anchor)));
    for c in batch.iter_mut() {
        let mut keys = sort_specs.iter().zip(anchor_values.iter()).map(|(spec, a)| sort_key(pool, spec, a, c.slot));
        c.key = keys.next().unwrap_or(0);
        if sort_specs.len() > 1 {
            let more = &mut more_keys[c.pos as usize];
            for (m, k) in more.iter_mut().zip(keys) {
                *m = k;
            }
        }
    }
    if sort_specs.len() <= 1 {
        if *order_by == Order::NearlySorted {
            insertion_sort(batch);
        } else {
            batch.sort_unstable_by_key(|c| (c.key, c.seq));
        }
    } else {
        let n = sort_specs.len() - 1;
        let more_keys = &*more_keys;
        let cmp = |a: &Cand, b: &Cand| {
            a.key
                .cmp(&b.key)
                .then_with(|| more_keys[a.pos as usize][..n].cmp(&more_keys[b.pos as usize][..n]))
                .then(a.seq.cmp(&b.seq))
        };
        batch.sort_unstable_by(cmp);
    }
}

/// Orders a batch in scan order, keyed by distance, by (distance, seq). Scan order takes
/// equal distances left of the anchor first, nearest first (so seq descending: entries are
/// in (key, seq) order), then right of it (seq ascending): each run of equal keys is two
/// sorted sequences, merged here in linear time.
fn order_ties_by_seq(batch: &mut [Cand], anchor_pos: u32, tmp: &mut Vec<Cand>) {
    let mut i = 0;
    while i < batch.len() {
        let mut j = i + 1;
        while j < batch.len() && batch[j].key == batch[i].key {
            j += 1;
        }
        let run = &mut batch[i..j];
        let split = run.iter().position(|c| c.pos > anchor_pos).unwrap_or(run.len());
        if split > 0 && run.len() > 1 {
            tmp.clear();
            tmp.extend_from_slice(run);
            let (mut l, mut r) = (split, split);
            for out in run.iter_mut() {
                if l > 0 && (r == tmp.len() || tmp[l - 1].seq < tmp[r].seq) {
                    l -= 1;
                    *out = tmp[l];
                } else {
                    *out = tmp[r];
                    r += 1;
                }
            }
        }
        i = j;
    }
}

/// Sorts a short, nearly sorted slice.
fn insertion_sort(v: &mut [Cand]) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && (x.key, x.seq) < (v[j - 1].key, v[j - 1].seq) {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

fn anchor_value(pool: &Pool, spec: &SortSpec, anchor: u32) -> AnchorValue {
    match *spec {
        SortSpec::Number { attr, agg, .. } => AnchorValue::Number(pool.number(anchor, attr, agg)),
        SortSpec::String { attr } => AnchorValue::String(pool.string(anchor, 0, attr)),
        SortSpec::Map { attr, map_key, .. } => {
            let map = pool.map(anchor, attr);
            let pick = match map_key {
                MapKey::MaxValue => map.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
                MapKey::MinValue => map.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
            };
            AnchorValue::Map(pick.map(|&(key, _)| (key, map.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))))
        }
    }
}

/// A sort rule's key for `slot` relative to the anchor (smaller sorts first), as bits that
/// order like `f64::total_cmp` orders the key.
fn sort_key(pool: &Pool, spec: &SortSpec, anchor: &AnchorValue, slot: u32) -> u64 {
    let key = match (*spec, *anchor) {
        (SortSpec::Number { attr, agg, sign, absolute }, AnchorValue::Number(a)) => {
            let v = pool.number(slot, attr, agg);
            if absolute { sign * v } else { sign * (v - a).abs() }
        }
        (SortSpec::String { attr }, AnchorValue::String(a)) => {
            if pool.string(slot, 0, attr) == a {
                0.0
            } else {
                1.0
            }
        }
        (SortSpec::Map { attr, sign, absolute, .. }, AnchorValue::Map(Some((key, a)))) => {
            match pool.map(slot, attr).iter().find(|(k, _)| *k == key) {
                None => f64::INFINITY,
                Some(&(_, v)) => match a {
                    Some(a) if !absolute => sign * (v - a).abs(),
                    _ => sign * v,
                },
            }
        }
        _ => f64::INFINITY,
    };
    ordered_bits(key)
}

/// `x`'s bits, mapped so that unsigned order is `f64::total_cmp` order.
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | 1 << 63 }
}

fn build_match(ctx: &Ctx<'_>, anchor_pos: usize, ws: &mut Workspace) -> Option<Proposal> {
    let pool = ctx.pool;
    let rules = ctx.rules;
    let teams = rules.teams();
    let anchor_slot = ctx.entries[anchor_pos].2;
    ws.build.clear();

    // Seat the anchor.
    let age = ctx.match_age(&ws.build, Some(anchor_slot));
    let mut order = std::mem::take(&mut ws.teams);
    if !seat(ctx, ws, (anchor_slot, anchor_pos as u32), age, (false, true), &mut order) {
        ws.teams = order;
        return None;
    }
    let capacity = |age: f64| teams.iter().map(|t| t.max_players.at(age) as u32).sum::<u32>();

    // Greedy fill.
    let batch = std::mem::take(&mut ws.batch);
    for c in &batch {
        let (slot, pos) = (c.slot, c.pos);
        let size = pool.n_players[slot as usize];
        let age = ctx.match_age(&ws.build, Some(slot));
        if ws.build.players + u32::from(size) > capacity(age) {
            continue;
        }
        let accepted = seat(ctx, ws, (slot, pos), age, (true, true), &mut order);
        if accepted && ws.build.players >= capacity(ctx.match_age(&ws.build, None)) {
            break;
        }
    }
    ws.batch = batch;
    ws.teams = order;
    // (Only the greedy fill counts hard-rule checks.)
    fold_hard_passes(ws);

    // Finalize: the best balanced assignment that passes every rule.
    let proposal = |ws: &Workspace| Proposal {
        tickets: ws.build.tickets.iter().map(|&(s, t, _)| (s, t)).collect(),
        metrics: ws.metrics.clone(),
        anchor_seq: pool.seq[anchor_slot as usize],
    };
    if complete_and_finalize(ctx, ws) {
        return Some(proposal(ws));
    }
    // Repair: rules judged only on complete matches (a `contains` lower bound, equal team
    // counts) can fail for the set the greedy fill chose while another batch candidate would
    // pass. Swap one non-anchor ticket, newest first, for an unused batch candidate.
    if repair(ctx, ws) {
        return Some(proposal(ws));
    }
    // Fallback: drop the newest additions until a smaller match passes.
    while ws.build.tickets.len() > 1 {
        ws.build.pop(pool);
        if complete_and_finalize(ctx, ws) {
            return Some(proposal(ws));
        }
    }
    None
}

/// Most swaps tried by [`repair`] per anchor.
const REPAIR_ATTEMPTS: usize = 24;

/// Finalizes the build if its player count can satisfy every team's minimum.
fn complete_and_finalize(ctx: &Ctx<'_>, ws: &mut Workspace) -> bool {
    let age = ctx.match_age(&ws.build, None);
    let min_total: u32 = ctx.rules.teams().iter().map(|t| t.min_players.at(age) as u32).sum();
    ws.build.players >= min_total.max(1) && finalize(ctx, ws, age)
}

/// Tries replacing one ticket of the build (never the anchor) by an unused batch candidate.
/// On success the build holds the repaired match; otherwise it is restored.
fn repair(ctx: &Ctx<'_>, ws: &mut Workspace) -> bool {
    let pool = ctx.pool;
    // Swaps keep party sizes, so they cannot lift a build that is short of the teams'
    // minimums: skip the (common, in thin markets) hopeless case.
    let age = ctx.match_age(&ws.build, None);
    let min_total: u32 = ctx.rules.teams().iter().map(|t| t.min_players.at(age) as u32).sum();
    if ws.build.players < min_total {
        return false;
    }
    let mut original = std::mem::take(&mut ws.original);
    let mut spare = std::mem::take(&mut ws.spare);
    let mut trial = std::mem::take(&mut ws.trial);
    original.clear();
    original.extend(ws.build.tickets.iter().map(|&(slot, _, pos)| (slot, pos)));
    spare.clear();
    spare.extend(ws.batch.iter().map(|c| (c.slot, c.pos)).filter(|(slot, _)| !original.iter().any(|(s, _)| s == slot)));
    let mut attempts = 0;
    let mut repaired = false;
    'search: for out in (1..original.len()).rev() {
        for &candidate in &spare {
            if pool.n_players[candidate.0 as usize] != pool.n_players[original[out].0 as usize] {
                continue; // Same party size keeps every team's count reachable.
            }
            if attempts == REPAIR_ATTEMPTS {
                break 'search;
            }
            attempts += 1;
            trial.clear();
            trial.extend(original.iter().enumerate().filter(|(i, _)| *i != out).map(|(_, t)| *t));
            trial.push(candidate);
            if seat_all(ctx, ws, &trial) && complete_and_finalize(ctx, ws) {
                repaired = true;
                break 'search;
            }
        }
    }
    if !repaired && original.len() >= 2 {
        seat_all(ctx, ws, &original);
    }
    ws.original = original;
    ws.spare = spare;
    ws.trial = trial;
    repaired
}

/// Rebuilds the match from `list` (anchor first), seating each ticket as the greedy fill
/// would; false if some ticket fits no team.
fn seat_all(ctx: &Ctx<'_>, ws: &mut Workspace, list: &[(u32, u32)]) -> bool {
    ws.build.clear();
    let mut order = std::mem::take(&mut ws.teams);
    let all = list.iter().all(|&(slot, pos)| {
        let age = ctx.match_age(&ws.build, Some(slot));
        seat(ctx, ws, (slot, pos), age, (false, false), &mut order)
    });
    ws.teams = order;
    all
}

/// Folds the passes of the `ws.hard_checks` counted [`Ctx::hard_rules`] checks into
/// `ws.metrics`, whose failures they already hold: a check reaches a rule unless an earlier
/// one failed, and the rules it reaches before the one that fails (all of them, when none
/// does) pass.
fn fold_hard_passes(ws: &mut Workspace) {
    let Workspace { hard_order, metrics, hard_checks, .. } = ws;
    let mut reached = *hard_checks;
    for &rule in hard_order.iter() {
        reached -= metrics[rule].1;
        metrics[rule].0 += reached;
    }
    *hard_checks = 0;
}

/// Seats a ticket `(slot, position)` in the first team, most open slots first, where every
/// rule still holds; false if there is none. Batch and latency rules do not depend on the
/// team, so they are checked once, before any team is tried. `count`: whether to count the
/// batch and latency rules' verdicts, and the partial rules' evaluations, into the metrics.
fn seat(
    ctx: &Ctx<'_>,
    ws: &mut Workspace,
    (slot, pos): (u32, u32),
    age: f64,
    count: (bool, bool),
    order: &mut Vec<(i64, u16)>,
) -> bool {
    let pool = ctx.pool;
    team_order(&ws.build, ctx.rules, age, pool.n_players[slot as usize], order);
    if order.is_empty() {
        return false;
    }
    ws.build.sync_latency(pool);
    let verdict = ctx.hard_rules(ws, Some(slot), age);
    if count.0 {
        ws.hard_checks += 1;
        if let Err(rule) = verdict {
            ws.metrics[rule].1 += 1;
        }
    }
    if verdict.is_err() {
        return false;
    }
    for &(_, team) in order.iter() {
        ws.build.push(pool, slot, team, pos);
        if ctx.partial_rules(ws, age, count.1) {
            return true;
        }
        ws.build.pop(pool);
    }
    false
}

/// Teams to try for a party of `size`, most open slots first (FlexMatch's fill order), as
/// `(-open slots, team)`.
fn team_order(build: &Build, rules: &CompiledRules, age: f64, size: u8, out: &mut Vec<(i64, u16)>) {
    out.clear();
    for (i, t) in rules.teams().iter().enumerate().take(64) {
        let open = t.max_players.at(age) as i64 - build.members[i].len() as i64;
        if open >= i64::from(size) {
            out.push((-open, i as u16));
        }
    }
    if out.len() > 1 {
        out.sort_unstable();
    }
}

/// Tries balanced assignments of the build's tickets, then the greedy one; on success the
/// build is left seated in the winning assignment.
fn finalize(ctx: &Ctx<'_>, ws: &mut Workspace, age: f64) -> bool {
    let pool = ctx.pool;
    ws.build.sync_latency(pool);
    if ctx.hard_rules(ws, None, age).is_err() {
        return false;
    }
    ws.parties.clear();
    for &(slot, _, _) in &ws.build.tickets {
        let size = u32::from(pool.n_players[slot as usize]);
        let value = ws.balance.map_or(0.0, |(attr, agg)| pool.number(slot, attr, agg) * f64::from(size));
        ws.parties.push(Party { size, value, fixed_team: None });
    }
    ws.slots.clear();
    for t in ctx.rules.teams() {
        ws.slots.push(TeamSlots { min: t.min_players.at(age) as u32, max: t.max_players.at(age) as u32 });
    }
    let mut greedy = std::mem::take(&mut ws.greedy);
    greedy.clear();
    greedy.extend(ws.build.tickets.iter().map(|t| u32::from(t.1)));
    teams::best_assignments(&ws.parties, &ws.slots, ASSIGNMENTS_TRIED, &mut ws.team_scratch, &mut ws.assignments);
    let assignments = std::mem::take(&mut ws.assignments);
    let found = if ctx.plugins.bound.is_empty() {
        first_passing_assignment(ctx, ws, &assignments, age)
    } else {
        finalize_with_plugins(ctx, ws, &assignments, age)
    };
    ws.assignments = assignments;
    if found {
        ws.greedy = greedy;
        return true;
    }
    ws.build.reassign(pool, &greedy);
    ws.greedy = greedy;
    let sizes_ok = ctx.rules.teams().iter().enumerate().all(|(i, t)| {
        let n = ws.build.members[i].len() as f64;
        n >= t.min_players.at(age) && n <= t.max_players.at(age)
    });
    sizes_ok && ctx.expr_rules(ws, age, Phase::Complete, false) && ctx.plugin_rules(ws, age, true, false)
}

/// [`finalize`]'s choice without plugin rules: the first balanced assignment (or its
/// mirror) that passes every rule. The build is left seated in it.
fn first_passing_assignment(ctx: &Ctx<'_>, ws: &mut Workspace, assignments: &Assignments, age: f64) -> bool {
    let pool = ctx.pool;
    let mut found = false;
    'assignments: for i in 0..assignments.len() {
        ws.build.reassign(pool, assignments.get(i));
        if ctx.expr_rules(ws, age, Phase::Complete, false) {
            found = true;
            break;
        }
        if ws.team_specific {
            let mut mirrored = std::mem::take(&mut ws.mirrored);
            mirror(assignments.get(i), &ws.slots, &mut mirrored);
            ws.build.reassign(pool, &mirrored);
            ws.mirrored = mirrored;
            if ctx.expr_rules(ws, age, Phase::Complete, false) {
                found = true;
                break 'assignments;
            }
        }
    }
    found
}

/// [`finalize`]'s choice when plugin rules apply: every balanced assignment (and mirror)
/// that passes the native rules goes to the plugins in one batch, and the best one they
/// pass wins (highest score, else the best balanced). The build is left seated in it.
fn finalize_with_plugins(ctx: &Ctx<'_>, ws: &mut Workspace, assignments: &Assignments, age: f64) -> bool {
    let pool = ctx.pool;
    let mut alternatives = std::mem::take(&mut ws.alternatives);
    alternatives.clear();
    for i in 0..assignments.len() {
        ws.build.reassign(pool, assignments.get(i));
        if ctx.expr_rules(ws, age, Phase::Complete, false) {
            alternatives.extend_from_slice(assignments.get(i));
        }
        if ws.team_specific {
            let mut mirrored = std::mem::take(&mut ws.mirrored);
            mirror(assignments.get(i), &ws.slots, &mut mirrored);
            ws.build.reassign(pool, &mirrored);
            if ctx.expr_rules(ws, age, Phase::Complete, false) {
                alternatives.extend_from_slice(&mirrored);
            }
            ws.mirrored = mirrored;
        }
    }
    ws.seats.clear();
    ws.seats.extend(ws.build.tickets.iter().map(|&(slot, _, pos)| (slot, pos)));
    let n = ws.seats.len();
    let best = if alternatives.is_empty() {
        None
    } else {
        ws.plugin.best(ctx.plugins, pool, ctx.entries, ctx.rules.teams().len(), &ws.seats, &alternatives, age)
    };
    if let Some(b) = best {
        ws.build.reassign(pool, &alternatives[b * n..(b + 1) * n]);
    }
    ws.alternatives = alternatives;
    best.is_some()
}

#[cfg(test)]
mod tests {
    //! Skipping unchanged anchors against searching every anchor: pools driven through the
    //! same arrivals, cancellations, timeouts and matches must produce identical cycles.

    use super::*;
    use crate::pool::{NewPlayer, PlayerValue};
    use crate::ruleset::CompiledRef;

    const DUEL: &str = r#"{"name": "duel", "ruleLanguageVersion": "1.0",
        "playerAttributes": [{"name": "rating", "type": "number", "default": 1200}],
        "teams": [{"name": "duelist", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}],
        "algorithm": {"expansionAgeSelection": "oldest"},
        "rules": [
          {"name": "Band", "type": "batchDistance", "batchAttribute": "rating", "maxDistance": 40},
          {"name": "Ping", "type": "latency", "maxLatency": 60},
          {"name": "Closest", "type": "distanceSort", "sortDirection": "ascending", "sortAttribute": "rating"}],
        "expansions": [
          {"target": "rules[Band].maxDistance", "steps": [{"waitTimeSeconds": 6, "value": 80}, {"waitTimeSeconds": 15, "value": 160}]},
          {"target": "rules[Ping].maxLatency", "steps": [{"waitTimeSeconds": 10, "value": 120}]}]}"#;

    const SQUADS: &str = r#"{"name": "squads", "ruleLanguageVersion": "1.0",
        "playerAttributes": [{"name": "skill", "type": "number", "default": 1500},
          {"name": "mode", "type": "string", "default": "conquest"},
          {"name": "maps", "type": "string_list", "default": ["a", "b", "c"]}],
        "teams": [{"name": "attackers", "minPlayers": 3, "maxPlayers": 3},
                  {"name": "defenders", "minPlayers": 3, "maxPlayers": 3}],
        "rules": [
          {"name": "SameMode", "type": "batchDistance", "batchAttribute": "mode"},
          {"name": "SkillBand", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 150, "partyAggregation": "max"},
          {"name": "Ping", "type": "latency", "maxLatency": 100, "maxDistance": 30, "distanceReference": "min"},
          {"name": "SharedMap", "type": "collection", "operation": "intersection", "measurements": "flatten(teams[*].players.attributes[maps])", "minCount": 1, "partyAggregation": "intersection"},
          {"name": "Balanced", "type": "distance", "measurements": "avg(teams[*].players.attributes[skill])", "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))", "maxDistance": 40},
          {"name": "Closest", "type": "distanceSort", "sortDirection": "ascending", "sortAttribute": "skill"}],
        "expansions": [
          {"target": "rules[SkillBand].maxDistance", "steps": [{"waitTimeSeconds": 8, "value": 300}]},
          {"target": "rules[Balanced].maxDistance", "steps": [{"waitTimeSeconds": 12, "value": 90}]},
          {"target": "rules[Ping].maxLatency", "steps": [{"waitTimeSeconds": 9, "value": 160}]},
          {"target": "rules[SharedMap].minCount", "steps": [{"waitTimeSeconds": 20, "value": 0}]}]}"#;

    /// No numeric batchDistance (so no key window), several sort rules (string, map, number),
    /// team-size expansions, a spread rule judged on every addition.
    const MIXED: &str = r#"{"name": "mixed", "ruleLanguageVersion": "1.0",
        "playerAttributes": [{"name": "skill", "type": "number", "default": 10},
          {"name": "role", "type": "string", "default": "any"},
          {"name": "maps", "type": "string_number_map", "default": {"a": 1}}],
        "teams": [{"name": "red", "minPlayers": 2, "maxPlayers": 3}, {"name": "blue", "minPlayers": 2, "maxPlayers": 3}],
        "algorithm": {"expansionAgeSelection": "oldest"},
        "rules": [
          {"name": "Close", "type": "distance", "measurements": "max(flatten(teams[*].players.attributes[skill]))", "referenceValue": "min(flatten(teams[*].players.attributes[skill]))", "maxDistance": 15},
          {"name": "Role", "type": "absoluteSort", "sortDirection": "ascending", "sortAttribute": "role"},
          {"name": "Fav", "type": "absoluteSort", "sortDirection": "descending", "sortAttribute": "maps", "mapKey": "maxValue"},
          {"name": "Near", "type": "distanceSort", "sortDirection": "ascending", "sortAttribute": "skill"}],
        "expansions": [
          {"target": "rules[Close].maxDistance", "steps": [{"waitTimeSeconds": 5, "value": 40}]},
          {"target": "teams[red].minPlayers", "steps": [{"waitTimeSeconds": 8, "value": 1}]},
          {"target": "teams[blue].minPlayers", "steps": [{"waitTimeSeconds": 8, "value": 1}]}]}"#;

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // splitmix64
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn player(values: Vec<Option<PlayerValue>>, latency: Vec<(u8, u32)>) -> NewPlayer {
        NewPlayer { id_sym: Sym(u32::MAX), values, latency }
    }

    fn latencies(rng: &mut Rng, locations: u8) -> Vec<(u8, u32)> {
        let mut out = Vec::new();
        for l in 0..locations {
            if rng.below(4) > 0 {
                out.push((l, 20 + rng.below(140) as u32));
            }
        }
        out
    }

    fn duelist(rng: &mut Rng) -> Vec<NewPlayer> {
        let rating = 1000.0 + rng.below(600) as f64;
        vec![player(vec![Some(PlayerValue::Number(rating))], latencies(rng, 4))]
    }

    fn squad(rng: &mut Rng) -> Vec<NewPlayer> {
        let size = 1 + rng.below(3) as usize;
        let mode = Sym(1 + rng.below(2) as u32);
        let base = 1200.0 + rng.below(600) as f64;
        let shared = latencies(rng, 3);
        (0..size)
            .map(|_| {
                let maps: Vec<Sym> = (10..13).filter(|_| rng.below(3) > 0).map(Sym).collect();
                let skill = base + rng.below(100) as f64;
                let latency = shared.iter().map(|&(l, ms)| (l, ms + rng.below(20) as u32)).collect();
                squad_member(skill, mode, maps, latency)
            })
            .collect()
    }

    /// A search context over the whole of `pool`'s shard `shard`, as one segment.
    #[allow(clippy::too_many_arguments)]
    fn shard_ctx<'a>(
        pool: &'a Pool,
        rules: &'a CompiledRules,
        plugins: &'a PluginRules,
        shard: usize,
        times: &'a [f64],
        now: Time,
        newest: bool,
        previous: Option<&'a SearchMemory>,
    ) -> Ctx<'a> {
        let entries = &pool.shards[shard].entries[..];
        Ctx {
            pool,
            rules,
            plugins,
            entries,
            now,
            newest,
            expansion_times: times,
            previous,
            watermark: previous.map_or(0, |m| m.watermark),
            verify: false,
            shard,
            bounds: bounds(entries, &Segment { shard, start: 0, end: entries.len() }),
        }
    }

    /// Seq bounds give every waiting ticket the expansion step its age gives it, also after
    /// the pool pruned its log of starts (which keeps only what the longest wait needs).
    #[test]
    fn seq_cuts_tell_the_step_a_tickets_age_tells() {
        let rule_set = crate::ruleset::check(SQUADS).value.expect("valid rule set");
        let rules = crate::ruleset::compile(&rule_set);
        let mut pool = Pool::new(&rules);
        let mut rng = Rng(5);
        let mut slots = Vec::new();
        // 6,000 arrivals over 60 s, some sharing a start, well past the 20 s longest wait.
        let mut start = 1_000_000u64;
        for _ in 0..6000 {
            start += rng.below(20);
            slots.push(pool.insert(Time(start), &squad(&mut rng)));
        }
        assert!(pool.start_log.len() < 4000, "the log was pruned: {} entries", pool.start_log.len());
        // Every step time of the rule set, in ms: the longest is 20 s.
        let ages: Vec<u64> = rules.expansion_times().iter().map(|&t| (t * 1000.0) as u64).collect();
        assert_eq!(ages.last(), Some(&20_000));
        for now in [start, start + 1, start + 8_999, start + 9_000, start + 25_000] {
            let seqs = seq_cuts(&pool, Time(now), &ages);
            for &slot in &slots {
                let (seq, age) = (pool.seq[slot as usize], now - pool.start[slot as usize].0);
                let by_age = ages.iter().take_while(|&&c| age >= c).count();
                let by_seq = seqs.iter().take_while(|&&b| seq < b).count();
                assert_eq!(by_seq, by_age, "slot {slot}, age {age} ms at {now}");
            }
        }
    }

    /// The batch filter admits a ticket exactly when it shares an acceptable location and
    /// enough maps with the anchor at the pair's expansion level (the younger ticket's with
    /// `expansionAgeSelection` newest, so it turns away only tickets no match with the
    /// anchor could hold; the older one's with oldest). Checked against a brute-force
    /// reading of the players themselves, for pools whose ages the filter reads from seqs
    /// and pools whose ages it reads from starts.
    #[test]
    fn batch_filter_admits_exactly_the_tickets_compatible_at_the_pairs_level() {
        let rule_set = crate::ruleset::check(SQUADS).value.expect("valid rule set");
        let rules = crate::ruleset::compile(&rule_set);
        let plugins = PluginRules::default();
        // Arrivals in age order (the filter then knows which tickets are newer than the
        // anchor without reading their start) and out of it; either expansion age selection.
        for (in_age_order, newest) in [(false, true), (false, false), (true, true), (true, false)] {
            let mut pool = Pool::new(&rules);
            let mut rng = Rng(7);
            let now = 1_000_000u64;
            let mut tickets: Vec<(u32, u64, Vec<NewPlayer>)> = Vec::new();
            let mut starts: Vec<u64> = (0..160).map(|_| now - rng.below(30_000)).collect();
            if in_age_order {
                starts.sort_unstable();
            }
            for start in starts {
                let players = squad(&mut rng);
                let slot = pool.insert(Time(start), &players);
                tickets.push((slot, start, players));
            }
            pool.refresh();
            assert_eq!(pool.seq_order_is_age_order, in_age_order);
            // Brute force, from the players: a location every member reported, at the members'
            // average (the Ping rule's aggregation, rounded as the pool stores it); the maps
            // every member lists (SharedMap's party aggregation).
            let acceptable = |players: &[NewPlayer], max: f64| -> u64 {
                (0..64u8)
                    .filter(|&loc| {
                        let ms: Vec<u32> =
                            players.iter().filter_map(|p| p.latency.iter().find(|l| l.0 == loc).map(|l| l.1)).collect();
                        ms.len() == players.len()
                            && f64::from((ms.iter().map(|&m| f64::from(m)).sum::<f64>() / ms.len() as f64) as f32)
                                <= max
                    })
                    .fold(0, |mask, loc| mask | 1 << loc)
            };
            let maps = |players: &[NewPlayer]| -> Vec<Sym> {
                let list = |p: &NewPlayer| match &p.values[2] {
                    Some(PlayerValue::List(l)) => l.clone(),
                    _ => Vec::new(),
                };
                let first = list(&players[0]);
                first.into_iter().filter(|m| players.iter().all(|p| list(p).contains(m))).collect()
            };
            let by_slot = |slot: u32| tickets.iter().find(|t| t.0 == slot).expect("inserted");
            let (mut admitted, mut rejected) = (0, 0);
            let times = rules.expansion_times();
            for shard in 0..pool.shards.len() {
                let ctx = shard_ctx(&pool, &rules, &plugins, shard, &times, Time(now), newest, None);
                let entries = ctx.entries;
                let mut filter = AnchorFilter::new(&pool, Time(now));
                for a in entries {
                    filter.set(&ctx, *a);
                    for c in entries.iter().filter(|c| c.2 != a.2) {
                        let admits = filter.admits(&ctx, *c);
                        if admits {
                            admitted += 1;
                        } else {
                            rejected += 1;
                        }
                        // The pair's expansion age: the younger ticket's (newest; a match
                        // holding both is at most that old), the older one's (oldest).
                        let ((_, a_start, a_players), (_, c_start, c_players)) = (by_slot(a.2), by_slot(c.2));
                        let pair_start = if newest { a_start.max(c_start) } else { a_start.min(c_start) };
                        let age = (now - pair_start) as f64 / 1000.0;
                        // Ping's maxLatency and SharedMap's minCount at that age (both only
                        // relax, so the pair qualifies at some step up to it exactly when it
                        // does at it).
                        let max_latency = if age >= 9.0 { 160.0 } else { 100.0 };
                        let min_maps = if age >= 20.0 { 0 } else { 1 };
                        let (a_maps, c_maps) = (maps(a_players), maps(c_players));
                        let shared_maps = a_maps.iter().filter(|m| c_maps.contains(m)).count();
                        let shared_location =
                            acceptable(a_players, max_latency) & acceptable(c_players, max_latency) != 0;
                        assert_eq!(
                            admits,
                            shared_location && shared_maps >= min_maps,
                            "slots {} and {} at pair age {age}: {shared_maps} maps shared, a location shared: {shared_location} (newest: {newest}, in age order: {in_age_order})",
                            a.2,
                            c.2
                        );
                    }
                }
            }
            assert!(admitted > 100 && rejected > 100, "both outcomes occur: {admitted} admitted, {rejected} rejected");
        }
    }

    /// The taken-position hints find exactly the positions a step-by-step scan would, however
    /// positions are taken and looked up in between.
    #[test]
    fn taken_hints_find_the_nearest_untaken_positions() {
        let mut rng = Rng(7);
        for n in [0usize, 1, 2, 10, 200] {
            let mut taken = Taken::default();
            taken.reset(n);
            for _ in 0..4 * n + 10 {
                if n > 0 && rng.below(3) == 0 {
                    taken.used[rng.below(n as u64) as usize] = true;
                }
                let from = rng.below(n as u64 + 1) as usize;
                let right = (from..n).find(|&p| !taken.used[p]).unwrap_or(n);
                let left = (0..from).rev().find(|&p| !taken.used[p]);
                assert_eq!(taken.unused_right(from), right, "right of {from} in {n}");
                assert_eq!(taken.unused_left(from), left, "left of {from} in {n}");
            }
        }
    }

    /// The scan by sides collects exactly the batch, radius and flags of the one-by-one
    /// scan: across equal keys on both sides of an anchor, the examination limit, the
    /// window's end, tickets taken in between (walked over, and noted when of the previous
    /// search, by anchors the skip rule may skip; jumped over by the others), anchors no
    /// ticket can join, and either way of telling expansion levels.
    #[test]
    fn the_scan_by_sides_agrees_with_the_one_by_one_scan() {
        let rule_set = crate::ruleset::check(SQUADS).value.expect("valid rule set");
        let rules = crate::ruleset::compile(&rule_set);
        let plugins = PluginRules::default();
        let times = rules.expansion_times();
        let (mut limits, mut ends, mut took_old, mut crowded, mut hopeless, mut full) = (0, 0, 0, 0, 0, 0);
        let variants = [(false, true), (false, false), (true, true), (true, false)];
        // Matches formed by one anchor in `matches`, of `size` tickets; tickets with a seq
        // from `watermark` on are new to this search (a third of them, or a handful).
        let takes = [(3, 6, 1000), (12, 2, 1000), (3, 6, 1495), (12, 2, 1495)];
        for ((in_age_order, newest), (matches, size, watermark)) in
            variants.into_iter().flat_map(|v| takes.map(|t| (v, t)))
        {
            let mut pool = Pool::new(&rules);
            let mut rng = Rng(11);
            let now = 1_000_000u64;
            let mut starts: Vec<u64> = (0..1500).map(|_| now - rng.below(12_000)).collect();
            if in_age_order {
                starts.sort_unstable();
            }
            for (i, start) in starts.into_iter().enumerate() {
                // 40 skill values 10 apart (the band is 150 wide, 300 after 8 s): many
                // tickets at each, at equal distances on both sides of an anchor.
                let skill = 1200.0 + 10.0 * rng.below(40) as f64;
                let maps: Vec<Sym> = (10..14).filter(|_| rng.below(3) == 0).map(Sym).collect();
                let latency = if i % 16 == 0 { Vec::new() } else { latencies(&mut rng, 3) };
                pool.insert(Time(start), &[squad_member(skill, Sym(1), maps, latency)]);
            }
            pool.refresh();
            let memory = SearchMemory { watermark, ..SearchMemory::default() };
            for shard in 0..pool.shards.len() {
                let ctx = shard_ctx(&pool, &rules, &plugins, shard, &times, Time(now), newest, Some(&memory));
                let entries = ctx.entries;
                let mut ws = Workspace::new(&pool, &rules, &plugins, Time(now));
                ws.taken.reset(entries.len());
                let mut order: Vec<usize> = (0..entries.len()).collect();
                order.sort_by_key(|&p| entries[p].1);
                for anchor_pos in order {
                    if ws.taken.used[anchor_pos] {
                        continue;
                    }
                    let one = scan_batch_one_by_one(&ctx, anchor_pos, &mut ws);
                    let batch: Vec<(u64, u64, u32, u32)> =
                        ws.batch.iter().map(|c| (c.key, c.seq, c.slot, c.pos)).collect();
                    let sides = scan_batch_by_sides(&ctx, anchor_pos, &mut ws);
                    let by_sides: Vec<(u64, u64, u32, u32)> =
                        ws.batch.iter().map(|c| (c.key, c.seq, c.slot, c.pos)).collect();
                    let flags = |s: &Scan| (s.radius.to_bits(), s.took_old, s.crowded, s.examined);
                    assert_eq!(
                        (flags(&sides), &by_sides),
                        (flags(&one), &batch),
                        "anchor at {anchor_pos} (newest: {newest}, in age order: {in_age_order})"
                    );
                    let half = Walk::new(&ctx, anchor_pos, &mut ws.taken).half;
                    full += usize::from(batch.len() == ws.batch_size);
                    limits += usize::from(batch.len() < ws.batch_size && one.radius < half);
                    ends += usize::from(!batch.is_empty() && batch.len() < ws.batch_size && one.radius == half);
                    hopeless += usize::from(one.examined && batch.is_empty() && one.radius == half);
                    took_old += usize::from(one.took_old);
                    crowded += usize::from(one.crowded);
                    // Some anchors form a match with the first of their batch.
                    if rng.below(matches) == 0 {
                        ws.taken.used[anchor_pos] = true;
                        for &(_, _, _, pos) in batch.iter().take(size - 1) {
                            ws.taken.used[pos as usize] = true;
                        }
                    }
                }
            }
        }
        let seen = [limits, ends, full, hopeless, took_old, crowded];
        assert!(seen.iter().all(|&n| n > 10), "every way a scan ends, and every flag, occurs: {seen:?}");
    }

    /// A player of the squad rule sets: skill, mode, maps.
    fn squad_member(skill: f64, mode: Sym, maps: Vec<Sym>, latency: Vec<(u8, u32)>) -> NewPlayer {
        player(
            vec![Some(PlayerValue::Number(skill)), Some(PlayerValue::String(mode)), Some(PlayerValue::List(maps))],
            latency,
        )
    }

    fn mixed(rng: &mut Rng) -> Vec<NewPlayer> {
        let size = 1 + rng.below(2) as usize;
        (0..size)
            .map(|_| {
                let mut map: Vec<(Sym, f64)> = Vec::new();
                for k in 20..23 {
                    if rng.below(2) > 0 {
                        map.push((Sym(k), rng.below(5) as f64));
                    }
                }
                player(
                    vec![
                        Some(PlayerValue::Number(rng.below(200) as f64)),
                        Some(PlayerValue::String(Sym(30 + rng.below(3) as u32))),
                        Some(PlayerValue::Map(map)),
                    ],
                    Vec::new(),
                )
            })
            .collect()
    }

    /// A ticket generator.
    type Tickets = fn(&mut Rng) -> Vec<NewPlayer>;

    type Outcome = (Vec<(u64, Vec<(u32, u16)>, Vec<(u32, u32)>)>, Vec<(u32, u16, u32, u32)>);

    fn outcome(out: &CycleOutput) -> Outcome {
        let proposals = out.proposals.iter().map(|p| (p.anchor_seq, p.tickets.clone(), p.metrics.clone())).collect();
        (proposals, out.anchor_metrics.clone())
    }

    /// Drives three pools through the same events: one skipping, one skipping but searching
    /// skipped anchors anyway to assert their outcome, one searching every anchor. Returns
    /// how many anchors the skipping pool skipped.
    fn compare(
        text: &str,
        tickets: fn(&mut Rng) -> Vec<NewPlayer>,
        seed: u64,
        segment: usize,
        threads: usize,
    ) -> usize {
        let rule_set = crate::ruleset::check(text).value.expect("valid rule set");
        let rules = crate::ruleset::compile(&rule_set);
        let plugins = PluginRules::default();
        let mut pools: Vec<Pool> = (0..3).map(|_| Pool::new(&rules)).collect();
        for (i, pool) in pools.iter_mut().enumerate() {
            pool.segment_size = segment;
            pool.min_segment_size = segment;
            pool.verify_skips = i == 1;
            pool.skip_unchanged = i < 2;
        }
        let workers = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        let mut rng = Rng(seed);
        let mut now = 1_000_000u64;
        let mut waiting: Vec<(u32, u64)> = Vec::new();
        let (mut skipped, mut matched) = (0, 0);
        for cycle in 0..80 {
            // Bursts, trickles and quiet cycles, so that some neighbourhoods stay unchanged.
            let arrivals = match rng.below(4) {
                0 => 0,
                1 => rng.below(4),
                _ => rng.below(40),
            };
            for _ in 0..arrivals {
                let players = tickets(&mut rng);
                // Late submissions now and then, so that seq order is not always age order.
                let start = if rng.below(8) == 0 { now - rng.below(5_000) } else { now };
                let slots: Vec<u32> = pools.iter_mut().map(|p| p.insert(Time(start), &players)).collect();
                assert!(slots.iter().all(|&s| s == slots[0]));
                waiting.push((slots[0], start));
            }
            let cancel = rng.below(3) == 0;
            let before = waiting.len();
            waiting.retain(|&(slot, start)| {
                let leaves = now - start > 30_000 || (cancel && slot % 17 == (cycle % 17) as u32);
                if leaves {
                    pools.iter_mut().for_each(|p| p.remove(slot));
                }
                !leaves
            });
            let departed = before - waiting.len();
            let outputs: Vec<CycleOutput> = pools
                .iter_mut()
                .map(|p| {
                    p.refresh();
                    workers.install(|| search_cycle(p, &rules, &plugins, Time(now)))
                })
                .collect();
            let expected = outcome(&outputs[2]);
            for out in &outputs[..2] {
                assert_eq!(outcome(out), expected, "cycle {cycle}: {arrivals} arrivals, {departed} departures");
            }
            assert_eq!(outputs[2].skipped, 0);
            skipped += outputs[0].skipped;
            matched += remove_matched(&mut pools, &mut waiting, &outputs[2]);
            now += 300 + rng.below(2500);
        }
        assert!(matched > 0, "the workload forms matches");
        skipped
    }

    /// Takes the tickets of `out`'s matches out of every pool and of `waiting` (slot,
    /// start); returns how many there were.
    fn remove_matched(pools: &mut [Pool], waiting: &mut Vec<(u32, u64)>, out: &CycleOutput) -> usize {
        let mut matched = 0;
        for p in &out.proposals {
            matched += p.tickets.len();
            for &(slot, _) in &p.tickets {
                pools.iter_mut().for_each(|pool| pool.remove(slot));
                waiting.retain(|w| w.0 != slot);
            }
        }
        matched
    }

    #[test]
    fn skipping_unchanged_anchors_changes_nothing() {
        let cases: [(&str, Tickets); 3] = [(DUEL, duelist), (SQUADS, squad), (MIXED, mixed)];
        for (name, (text, tickets)) in ["duel", "squads", "mixed"].iter().zip(cases) {
            let mut skipped = 0;
            for seed in 0..4 {
                for (segment, threads) in [(4096, 1), (7, 2), (32, 8), (64, 2)] {
                    skipped += compare(text, tickets, seed, segment, threads);
                }
            }
            assert!(skipped > 100, "{name}: only {skipped} anchors skipped");
        }
    }

    /// An anchor no ticket can join (no shared location) is skipped while new tickets crowd
    /// its window past the examination limit, until it reaches an expansion step.
    #[test]
    fn an_anchor_nobody_can_join_is_skipped_in_a_crowded_window() {
        let rule_set = crate::ruleset::check(DUEL).value.expect("valid rule set");
        let rules = crate::ruleset::compile(&rule_set);
        let plugins = PluginRules::default();
        let mut pool = Pool::new(&rules);
        let rating = |r: f64| vec![Some(PlayerValue::Number(r))];
        let mut now = 1_000_000u64;
        pool.insert(Time(now), &[player(rating(1300.0), vec![(3, 30)])]);
        let mut skipped = Vec::new();
        for cycle in 0..8u64 {
            // More new tickets within the anchor's band than a scan examines; they pair
            // up among themselves at location 0.
            let mut waiting: Vec<(u32, u64)> = (0..60)
                .map(|i| (pool.insert(Time(now), &[player(rating(1280.0 + f64::from(i) * 0.5), vec![(0, 30)])]), now))
                .collect();
            pool.refresh();
            let out = search_cycle(&pool, &rules, &plugins, Time(now));
            assert_eq!(out.proposals.len(), 30, "cycle {cycle}: the crowd pairs up");
            remove_matched(std::slice::from_mut(&mut pool), &mut waiting, &out);
            skipped.push(out.skipped);
            now += 1_000;
        }
        // Searched when new, skipped until the band widens at 6 s, searched then, skipped after.
        assert_eq!(skipped, [0, 1, 1, 1, 1, 1, 0, 1]);
    }

    /// Rule sets with the native shapes in several variants: party aggregations, count and
    /// distance bounds with expansions, number and cross-attribute references, three teams,
    /// attributes without defaults.
    const NATIVE_SHAPES: [&str; 3] = [
        r#"{"name": "a", "ruleLanguageVersion": "1.0",
        "playerAttributes": [{"name": "skill", "type": "number"},
          {"name": "maps", "type": "string_list"},
          {"name": "level", "type": "number", "default": 3}],
        "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 4}, {"name": "blue", "minPlayers": 1, "maxPlayers": 4},
          {"name": "green", "minPlayers": 0, "maxPlayers": 3}],
        "rules": [
          {"name": "Shared", "type": "collection", "operation": "intersection", "measurements": "flatten(teams[*].players.attributes[maps])", "minCount": 2, "maxCount": 3},
          {"name": "SharedAll", "type": "collection", "operation": "intersection", "measurements": "flatten(teams[*].players.attributes[maps])", "maxCount": 1, "partyAggregation": "intersection"},
          {"name": "Even", "type": "distance", "measurements": "avg(teams[*].players.attributes[skill])", "referenceValue": "avg(flatten(teams[*].players.attributes[level]))", "minDistance": 1, "maxDistance": 400, "partyAggregation": "max"},
          {"name": "Near", "type": "distance", "measurements": "avg(teams[*].players.attributes[level])", "referenceValue": 4, "maxDistance": 2, "partyAggregation": "min"}],
        "expansions": [
          {"target": "rules[Shared].minCount", "steps": [{"waitTimeSeconds": 5, "value": 1}, {"waitTimeSeconds": 30, "value": 0}]},
          {"target": "rules[Shared].maxCount", "steps": [{"waitTimeSeconds": 10, "value": 2}]},
          {"target": "rules[Even].maxDistance", "steps": [{"waitTimeSeconds": 20, "value": 900}]},
          {"target": "rules[Even].minDistance", "steps": [{"waitTimeSeconds": 20, "value": 0}]},
          {"target": "rules[Near].referenceValue", "steps": [{"waitTimeSeconds": 10, "value": 2.5}]}]}"#,
        include_str!("../../../bench-data/profiles/5v5-party.json"),
        SQUADS,
    ];

    /// A value universe for list attributes: small, or past the 63 values a bitset names.
    fn list_value(rng: &mut Rng, wide: bool) -> Sym {
        Sym(100 + rng.below(if wide { 90 } else { 6 }) as u32)
    }

    /// A number of the kinds the native sums treat differently: small integers, dyadic
    /// fractions, fractions that round, huge values, NaN.
    fn number(rng: &mut Rng) -> f64 {
        match rng.below(12) {
            0 => rng.below(7) as f64 / 3.0,
            1 => 1e12 + rng.below(1000) as f64 * 0.1,
            2 if rng.below(8) == 0 => f64::NAN,
            3 => rng.below(2000) as f64 / 8.0,
            4 => -(rng.below(300) as f64),
            _ => 1000.0 + rng.below(1000) as f64,
        }
    }

    /// Random tickets for `rule_set`'s attributes: any party size, missing values (when an
    /// attribute has no default), empty lists.
    fn random_ticket(rng: &mut Rng, rule_set: &crate::ruleset::RuleSet, wide: bool) -> Vec<NewPlayer> {
        use crate::expr::AttrType;
        let size = 1 + rng.below(4) as usize;
        (0..size)
            .map(|_| {
                let values = rule_set
                    .attributes
                    .iter()
                    .map(|a| match a.ty {
                        AttrType::Number => (rng.below(10) > 0).then(|| PlayerValue::Number(number(rng))),
                        AttrType::String => Some(PlayerValue::String(Sym(1 + rng.below(2) as u32))),
                        AttrType::StringList => (rng.below(10) > 0).then(|| {
                            let n = rng.below(6) as usize;
                            PlayerValue::List((0..n).map(|_| list_value(rng, wide)).collect())
                        }),
                        AttrType::StringNumberMap => None,
                    })
                    .collect();
                player(values, latencies(rng, 3))
            })
            .collect()
    }

    /// The native checks against `check_rule` on random builds: pushes to random teams,
    /// pops, re-seats, at several ages, in both phases.
    #[test]
    fn native_checks_agree_with_the_evaluator() {
        let mut rng = Rng(7);
        let (mut native, mut exact, mut fallback, mut compared) = (0usize, 0usize, 0usize, 0usize);
        for text in NATIVE_SHAPES {
            let rule_set = crate::ruleset::check(text).value.expect("valid rule set");
            let rules = crate::ruleset::compile(&rule_set);
            let plan = crate::search::native::plan(&rules);
            let natives: Vec<(usize, NativeRule)> =
                plan.rules.iter().enumerate().filter_map(|(r, n)| Some((r, n.clone()?))).collect();
            assert!(natives.len() >= 2, "both shapes recognised in every rule set");
            for wide in [false, true] {
                let mut pool = Pool::new(&rules);
                let slots: Vec<u32> =
                    (0..200).map(|i| pool.insert(Time(i), &random_ticket(&mut rng, &rule_set, wide))).collect();
                let n_teams = rules.teams().len();
                let mut build = Build::new(n_teams, Vec::new(), pool.layout.masks_per_ticket, Vec::new(), &pool);
                let mut scratch = RuleScratch::default();
                let mut arena = crate::expr::Scratch::new();
                let mut teams = Vec::new();
                for _ in 0..400 {
                    match rng.below(10) {
                        0 => build.clear(),
                        1 => build.pop(&pool),
                        2 if !build.tickets.is_empty() => {
                            // Re-seat, sometimes to the same teams.
                            teams.clear();
                            let same = rng.below(3) == 0;
                            teams.extend(
                                build
                                    .tickets
                                    .iter()
                                    .map(|t| if same { u32::from(t.1) } else { rng.below(n_teams as u64) as u32 }),
                            );
                            build.reassign(&pool, &teams);
                        }
                        _ if build.tickets.len() < 12 => {
                            let slot = slots[rng.below(slots.len() as u64) as usize];
                            build.push(&pool, slot, rng.below(n_teams as u64) as u16, 0);
                        }
                        _ => build.clear(),
                    }
                    for &(r, ref rule) in &natives {
                        let (number_agg, list_agg) = rule_aggregations(&rules.rules()[r].kind);
                        let view = View { pool: &pool, members: &build.members, number_agg, list_agg };
                        // Team averages and the reference, bit for bit.
                        if let (
                            NativeRule::TeamAverages { column, reference, .. },
                            CompiledKind::Distance { measurement, reference: compiled, .. },
                        ) = (rule, &rules.rules()[r].kind)
                        {
                            let bits = |n: Option<f64>| n.map(f64::to_bits);
                            let root = measurement.eval(&view, &mut arena);
                            let teams: Vec<Option<u64>> =
                                arena.children(root).map(|t| bits(arena.node(t).as_num())).collect();
                            let native: Vec<Option<u64>> = (0..n_teams)
                                .map(|t| {
                                    let n = build.members[t].len();
                                    bits((n > 0).then(|| team_sum(&pool, &build, *column, t) / n as f64))
                                })
                                .collect();
                            assert_eq!(native, teams, "team averages of rule {r}: {build:?}");
                            if let CompiledRef::Expr(e) = compiled {
                                let root = e.eval(&view, &mut arena);
                                let expected = bits(arena.node(root).as_num());
                                let got = bits(average_reference(&pool, &build, reference, 0.0));
                                assert_eq!(got, expected, "reference of rule {r}: {build:?}");
                                compared += 1;
                            }
                        }
                        for age in [0.0, 4.0, 5.0, 12.0, 20.0, 31.0, 100.0] {
                            for phase in [Phase::Partial, Phase::Complete] {
                                let expected = rules.check_rule(r, &view, &mut scratch, age, phase);
                                match native_verdict(&pool, &build, rule, age, phase) {
                                    Some(ok) => {
                                        assert_eq!(ok, expected, "{text}\nrule {r}, {phase:?} at {age} s: {build:?}");
                                        native += 1;
                                    }
                                    None => fallback += 1,
                                }
                            }
                        }
                    }
                    if build.seating_order && build.exact.last().is_some_and(|&e| e != 0) {
                        exact += 1;
                    }
                }
            }
        }
        assert!(
            native > 50_000 && fallback > 100 && exact > 100 && compared > 1000,
            "{native} native, {fallback} fallback, {exact} exact, {compared} references"
        );
    }

    /// The 5v5 profile's tickets: parties of one to five, skill around 1500, maps from a
    /// handful (the default three, sometimes fewer, sometimes others).
    fn five_v_five(rng: &mut Rng) -> Vec<NewPlayer> {
        let size = 1 + rng.below(5) as usize;
        let mode = Sym(1 + u32::from(rng.below(8) == 0));
        let base = 1200.0 + rng.below(600) as f64;
        let shared = latencies(rng, 3);
        (0..size)
            .map(|_| {
                let maps: Vec<Sym> = match rng.below(4) {
                    0 => vec![Sym(10), Sym(11), Sym(12)],
                    _ => (10..15).filter(|_| rng.below(3) > 0).map(Sym).collect(),
                };
                let skill = (base + rng.below(100) as f64) / if rng.below(4) == 0 { 3.0 } else { 1.0 };
                let latency = shared.iter().map(|&(l, ms)| (l, ms + rng.below(20) as u32)).collect();
                squad_member(skill, mode, maps, latency)
            })
            .collect()
    }

    /// Whole cycles with the native checks on and off: the same matches, in the same order,
    /// with the same rule metrics, for failed anchors too.
    #[test]
    fn native_rules_change_no_outcome() {
        let cases: [(&str, Tickets); 2] = [(NATIVE_SHAPES[1], five_v_five), (SQUADS, squad)];
        for (text, tickets) in cases {
            let rule_set = crate::ruleset::check(text).value.expect("valid rule set");
            let rules = crate::ruleset::compile(&rule_set);
            let plugins = PluginRules::default();
            let mut pools: Vec<Pool> = (0..2).map(|_| Pool::new(&rules)).collect();
            pools[1].native_rules = false;
            for pool in &mut pools {
                pool.segment_size = 64;
                pool.min_segment_size = 64;
                pool.verify_skips = false;
            }
            let mut rng = Rng(11);
            let mut now = 1_000_000u64;
            let mut waiting: Vec<(u32, u64)> = Vec::new();
            let (mut matched, mut failed) = (0, 0);
            for cycle in 0..60 {
                for _ in 0..rng.below(60) {
                    let players = tickets(&mut rng);
                    let slots: Vec<u32> = pools.iter_mut().map(|p| p.insert(Time(now), &players)).collect();
                    assert_eq!(slots[0], slots[1]);
                    waiting.push((slots[0], now));
                }
                waiting.retain(|&(slot, start)| {
                    let leaves = now - start > 45_000;
                    if leaves {
                        pools.iter_mut().for_each(|p| p.remove(slot));
                    }
                    !leaves
                });
                let outputs: Vec<CycleOutput> = pools
                    .iter_mut()
                    .map(|p| {
                        p.refresh();
                        search_cycle(p, &rules, &plugins, Time(now))
                    })
                    .collect();
                assert_eq!(outcome(&outputs[0]), outcome(&outputs[1]), "cycle {cycle}");
                failed += outputs[0].anchor_metrics.len();
                matched += remove_matched(&mut pools, &mut waiting, &outputs[0]);
                now += 500 + rng.below(2500);
            }
            assert!(matched > 100 && failed > 100, "{matched} tickets matched, {failed} failed anchor metrics");
        }
    }
}
