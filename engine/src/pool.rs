//! The ticket pool of one matchmaking configuration: column-wise ticket storage and
//! the per-shard sorted indexes the search reads.
//!
//! Everything the search needs per candidate is computed once, at ingest: each ticket's
//! party-aggregated attribute values (min, max and avg for every number attribute; union
//! and intersection for every string list, and a value bitset for every list the search
//! checks natively, see `search::native`), its latency masks for every expansion level
//! of every latency rule, its shard (the tuple of its string `batchDistance` values) and
//! its primary sort key. The search then reads plain arrays indexed by slot; it never
//! looks at request data, strings or maps.
//!
//! Slots are reused through a free list, from the `refresh` after they are freed (which logs
//! each departure with what its freed slot still holds). A shard keeps `(key, seq, slot)`
//! entries sorted; arrivals are radix-sorted and merged in once per cycle (O(A + N)), and
//! departures are filtered out in the same pass, so the pool is never re-sorted.
//!
//! The pool also keeps [`SearchMemory`]: what the search needs to know about its previous
//! cycle to skip anchors whose neighbourhood did not change. `refresh` logs departures into
//! it; the search fills in the rest.

use crate::expr::AttrType;
use crate::intern::{Sym, SymSet};
use crate::ruleset::{CompiledKind, CompiledRules, ListAggregation, NumberAggregation, Schedule};
use crate::search::native::{self, BITSET_VALUES, NativePlan, NativeRule, OVERFLOW_BIT};
use crate::time::Time;

/// Most distinct latency locations per configuration (one bit each in a `u64` mask).
pub(crate) const MAX_LOCATIONS: usize = 64;

/// Tickets per search segment at most. A pool is cut into [`SEGMENTS_PER_POOL`] segments
/// of [`MIN_SEGMENT`] to `SEGMENT` tickets: the size depends only on the pool, so results
/// do not depend on the thread count.
pub(crate) const SEGMENT: usize = 4096;
/// Tickets per search segment at least (but for a shard's last one).
pub(crate) const MIN_SEGMENT: usize = 512;
/// Segments a pool is cut into while that keeps them between [`MIN_SEGMENT`] and
/// [`SEGMENT`] tickets: enough that a small pool still keeps several threads busy.
pub(crate) const SEGMENTS_PER_POOL: usize = 8;

/// Index of a party aggregation in the per-attribute `[min, max, avg]` triple.
pub(crate) fn number_agg_index(a: NumberAggregation) -> usize {
    match a {
        NumberAggregation::Min => 0,
        NumberAggregation::Max => 1,
        NumberAggregation::Avg => 2,
    }
}

/// Index of a list aggregation in the per-attribute `[union, intersection]` pair.
pub(crate) fn list_agg_index(a: ListAggregation) -> usize {
    match a {
        ListAggregation::Union => 0,
        ListAggregation::Intersection => 1,
    }
}

/// One player of a ticket being ingested, with defaults already applied.
#[derive(Debug, Clone)]
pub(crate) struct NewPlayer {
    /// Interned player id (only meaningful when the rule set reads `players[playerId]`).
    pub(crate) id_sym: Sym,
    /// Value per attribute slot; `None` only if the attribute is missing with no default.
    pub(crate) values: Vec<Option<PlayerValue>>,
    /// `(location id, milliseconds)`.
    pub(crate) latency: Vec<(u8, u32)>,
}

/// Runs of values per slot, in one vector: a ticket's run is appended when it enters (so
/// runs lie in seq order, the order in which a search visits anchors) and dropped when it
/// leaves, and the vector is compacted once it is mostly garbage. Ingest then allocates
/// nothing per ticket, and a lookup is one index and one slice.
#[derive(Debug)]
pub(crate) struct SpanArena<T> {
    data: Vec<T>,
    /// Per slot: `(start, len)` in `data`. An empty run starts at 0: compaction moves only
    /// the others, and a start past the compacted vector's end would not even slice.
    spans: Vec<(u32, u32)>,
    /// Entries of `data` that belong to waiting tickets.
    live: usize,
}

impl<T> Default for SpanArena<T> {
    fn default() -> SpanArena<T> {
        SpanArena { data: Vec::new(), spans: Vec::new(), live: 0 }
    }
}

impl<T: Copy> SpanArena<T> {
    /// The run of `slot` (empty for a slot the arena does not track).
    #[inline]
    pub(crate) fn get(&self, slot: u32) -> &[T] {
        let Some(&(start, len)) = self.spans.get(slot as usize) else { return &[] };
        &self.data[start as usize..(start + len) as usize]
    }

    /// Every slot's run.
    fn runs(&self) -> impl Iterator<Item = &[T]> {
        self.spans.iter().map(|&(start, len)| &self.data[start as usize..(start + len) as usize])
    }

    /// Tracks one more slot, with an empty run.
    fn add_slot(&mut self) {
        self.spans.push((0, 0));
    }

    /// Gives `slot`, whose run is empty, the run `values` (when the arena tracks it).
    fn set(&mut self, slot: u32, values: &[T]) {
        if let Some(span) = self.spans.get_mut(slot as usize) {
            debug_assert_eq!(span.1, 0, "a slot's run is set once");
            let start = if values.is_empty() { 0 } else { self.data.len() as u32 };
            *span = (start, values.len() as u32);
            self.live += values.len();
            self.data.extend_from_slice(values);
        }
    }

    /// Drops the run of `slot`, which is being freed.
    fn clear(&mut self, slot: u32) {
        if let Some(span) = self.spans.get_mut(slot as usize) {
            self.live -= span.1 as usize;
            *span = (0, 0);
        }
    }

    /// Entries held, garbage included.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.data.len()
    }

    /// Drops the runs of departed tickets once they are most of the vector, keeping the
    /// others in their order.
    fn compact_if_sparse(&mut self) {
        if self.data.len() <= 2 * self.live + 4096 {
            return;
        }
        let mut runs: Vec<(u32, u32)> = (0..self.spans.len() as u32)
            .filter(|&slot| self.spans[slot as usize].1 > 0)
            .map(|slot| (self.spans[slot as usize].0, slot))
            .collect();
        // Live runs start at distinct offsets: a radix sort by start is exact, and linear.
        radsort::sort_by_key(&mut runs, |r| r.0);
        let mut end = 0usize;
        for (start, slot) in runs {
            let len = self.spans[slot as usize].1 as usize;
            self.data.copy_within(start as usize..start as usize + len, end);
            self.spans[slot as usize].0 = end as u32;
            end += len;
        }
        debug_assert_eq!(end, self.live);
        self.data.truncate(end);
    }
}

/// Writes a player's reported latencies into `row` by location, backwards so that a
/// location listed twice keeps its first figure; returns the set of locations reported.
fn latencies_by_location(reported: &[(u8, u32)], row: &mut [u32]) -> u64 {
    let mut locations = 0u64;
    for &(loc, ms) in reported.iter().rev() {
        row[usize::from(loc)] = ms;
        locations |= 1 << loc;
    }
    locations
}

/// The locations of the set bits of `set`, in increasing order.
fn locations_of(mut set: u64) -> impl Iterator<Item = u8> {
    std::iter::from_fn(move || {
        (set != 0).then(|| {
            let loc = set.trailing_zeros() as u8;
            set &= set - 1;
            loc
        })
    })
}

/// Player `p`'s list value of attribute `attr` (empty if it has none).
fn list_value(p: &NewPlayer, attr: usize) -> &[Sym] {
    match p.values.get(attr) {
        Some(Some(PlayerValue::List(l))) => l,
        _ => &[],
    }
}

/// Where a ticket's variable-length data lies in its run of [`Pool::var`] (counts and
/// offsets are stored as symbols): `[ids, has values]`, the interned player ids (none when
/// the rule set does not read them), then, with values, `[string attr * players + player]`
/// strings, `(start, len)` of each list attribute's union and intersection (from the run's
/// start), `(start, len)` of each map attribute's averaged map (in [`Pool::maps`]), and
/// the lists themselves.
const VAR_HEADER: usize = 2;

/// An attribute value with strings interned.
#[derive(Debug, Clone)]
pub(crate) enum PlayerValue {
    Number(f64),
    String(Sym),
    List(Vec<Sym>),
    Map(Vec<(Sym, f64)>),
}

/// Per-configuration facts derived from the compiled rules.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) n_attrs: usize,
    pub(crate) string_index: Vec<Option<usize>>,
    pub(crate) list_index: Vec<Option<usize>>,
    pub(crate) map_index: Vec<Option<usize>>,
    pub(crate) n_strings: usize,
    pub(crate) n_lists: usize,
    pub(crate) n_maps: usize,
    /// Attribute slots of string `batchDistance` rules and all-equal string comparisons: the
    /// shard key.
    pub(crate) shard_attrs: Vec<usize>,
    /// The primary sort key: a number attribute and its party aggregation.
    pub(crate) key: Option<(usize, usize)>,
    /// Half-width of the key window by age: the key rule's `maxDistance` schedule.
    pub(crate) key_window: Option<Schedule>,
    /// Latency rules: `(rule index, maxLatency schedule, aggregation index)`.
    pub(crate) latency_rules: Vec<(usize, Schedule, usize)>,
    /// Mask words per ticket: Σ over latency rules of (1 + steps).
    pub(crate) masks_per_ticket: usize,
    /// Offset of each latency rule's first mask.
    pub(crate) mask_offsets: Vec<usize>,
    /// Whether each latency rule has a `maxDistance` (and so reads per-location latencies).
    pub(crate) latency_distance: Vec<bool>,
    /// The rules the search evaluates natively, and the columns they read.
    pub(crate) native: NativePlan,
    /// The bitset column folded into entry signatures: the first native intersection
    /// rule's with a `minCount`.
    pub(crate) signature_column: Option<usize>,
}

impl Layout {
    pub(crate) fn new(rules: &CompiledRules) -> Layout {
        let rule_set = rules.rule_set();
        let n_attrs = rule_set.attributes.len();
        let mut string_index = vec![None; n_attrs];
        let mut list_index = vec![None; n_attrs];
        let mut map_index = vec![None; n_attrs];
        let (mut n_strings, mut n_lists, mut n_maps) = (0, 0, 0);
        for (i, a) in rule_set.attributes.iter().enumerate() {
            match a.ty {
                AttrType::String => {
                    string_index[i] = Some(n_strings);
                    n_strings += 1;
                }
                AttrType::StringList => {
                    list_index[i] = Some(n_lists);
                    n_lists += 1;
                }
                AttrType::StringNumberMap => {
                    map_index[i] = Some(n_maps);
                    n_maps += 1;
                }
                AttrType::Number => {}
            }
        }
        let mut shard_attrs = Vec::new();
        let mut key = None;
        let mut key_window = None;
        let mut latency_rules = Vec::new();
        for (index, rule) in rules.rules().iter().enumerate() {
            match &rule.kind {
                CompiledKind::BatchDistance { attribute, numeric: false, .. } => shard_attrs.push(*attribute),
                CompiledKind::BatchDistance { attribute, numeric: true, max_distance, aggregation }
                    if key.is_none() =>
                {
                    key = Some((*attribute, number_agg_index(*aggregation)));
                    key_window = Some(max_distance.clone());
                }
                CompiledKind::Latency { max_latency, aggregation, .. } => {
                    latency_rules.push((index, max_latency.clone(), number_agg_index(*aggregation)));
                }
                _ => {}
            }
        }
        // A gating comparison `=` with no reference over every player's string attribute
        // (`flatten(teams[*].players.attributes[mode])`) is a hard key too: tickets with
        // different values can never be in one match.
        for rule in &rule_set.rules {
            if let Some(attr) = all_equal_string_attribute(rule_set, rule).filter(|a| !shard_attrs.contains(a)) {
                shard_attrs.push(attr);
            }
        }
        if key.is_none() {
            // No numeric batch rule: order by the first numeric sort or sortByAttributes key,
            // so neighbours in the index are similar players.
            let sort_attr = rules.rules().iter().find_map(|r| match &r.kind {
                CompiledKind::Sort { rule, .. } if rule_set.attributes[rule.attribute].ty == AttrType::Number => {
                    Some((rule.attribute, number_agg_index(rule.party_aggregation)))
                }
                _ => None,
            });
            let sorted_by = rule_set
                .algorithm
                .sort_by_attributes
                .iter()
                .find(|&&a| rule_set.attributes[a].ty == AttrType::Number)
                .map(|&a| (a, number_agg_index(NumberAggregation::Avg)));
            key = sort_attr.or(sorted_by);
        }
        let latency_distance = latency_rules
            .iter()
            .map(|(rule, _, _)| {
                matches!(rules.rules()[*rule].kind, CompiledKind::Latency { max_distance: Some(_), .. })
            })
            .collect();
        let mut mask_offsets = Vec::new();
        let mut masks_per_ticket = 0;
        for (_, schedule, _) in &latency_rules {
            mask_offsets.push(masks_per_ticket);
            masks_per_ticket += 1 + schedule.steps.len();
        }
        let native = native::plan(rules);
        Layout {
            n_attrs,
            string_index,
            list_index,
            map_index,
            n_strings,
            n_lists,
            n_maps,
            shard_attrs,
            key,
            key_window,
            latency_rules,
            masks_per_ticket,
            mask_offsets,
            latency_distance,
            signature_column: native.rules.iter().flatten().find_map(|rule| match rule {
                NativeRule::Intersection { column, min: Some(_), .. } => Some(*column),
                _ => None,
            }),
            native,
        }
    }
}

/// The string attribute a gating "all players equal" comparison constrains, if `rule` is one.
fn all_equal_string_attribute(rule_set: &crate::ruleset::RuleSet, rule: &crate::ruleset::Rule) -> Option<usize> {
    use crate::expr::{Func, Selection, TeamSel};
    use crate::ruleset::{CmpOp, RuleKind};
    let RuleKind::Comparison { measurement, reference: None, operation: CmpOp::Eq, .. } = &rule.kind else {
        return None;
    };
    if rule.is_compound_operand {
        return None;
    }
    let e = &measurement.expr;
    let path = e.path();
    let Selection::Attribute(name) = &path.selection else { return None };
    let all_players = matches!(path.teams, TeamSel::All(_)) && e.calls().all(|c| c.func == Func::Flatten);
    let attr = rule_set.attribute_index(&name.text)?;
    (all_players && rule_set.attributes[attr].ty == AttrType::String).then_some(attr)
}

/// What the last search cycle left for the next one, so that an anchor that failed and whose
/// neighbourhood did not change can be skipped (see `search::cycle`). Only the search reads
/// and writes it, besides `refresh`, which logs departures.
#[derive(Debug, Default)]
pub(crate) struct SearchMemory {
    /// Whether the rest describes the previous search of this pool.
    pub(crate) valid: bool,
    /// Whether `refresh` ran since that search (and logged its departures).
    pub(crate) refreshed: bool,
    /// The seq of the next ticket when `refresh` last ran: the entries hold every waiting
    /// ticket with a smaller seq.
    pub(crate) merged_below: u64,
    /// The time of that search.
    pub(crate) now: Time,
    /// Tickets with a smaller seq were in that search (its refresh had merged them).
    pub(crate) watermark: u64,
    /// Per shard, that search's segments in key order.
    pub(crate) segments: Vec<Vec<SegmentBounds>>,
    /// Per shard, tickets that left the shard since, in key order: `(key, threshold)`. A
    /// departure changed what anchor `a` saw iff `seq(a) < threshold`: the threshold is the
    /// seq of the anchor whose match took the ticket, or `u64::MAX` (cancelled, timed out).
    pub(crate) departures: Vec<Vec<(f64, u64)>>,
    /// Tickets that search put in matches: `(slot, anchor seq)`. Consumed by the next
    /// `refresh`.
    pub(crate) matched: Vec<(u32, u64)>,
    /// That search's failed-anchor rule metrics `(slot, rule, passed, failed)`, and
    /// `(anchor seq, start, len)` into them, sorted by seq.
    pub(crate) metrics: Vec<(u32, u16, u32, u32)>,
    pub(crate) metrics_index: Vec<(u64, u32, u32)>,
    /// Seqs of that search's failed anchors whose scan examined tickets and admitted none
    /// (an empty batch), sorted.
    pub(crate) lonely: Vec<u64>,
    /// The buffer of the last cycle's output metrics, handed back by the matchmaker once
    /// folded ([`Pool::recycle_metrics`]): a 1M-ticket pass fills tens of MB, and fresh
    /// pages cost more to fault in than the copy into them.
    pub(crate) spare_metrics: Vec<(u32, u16, u32, u32)>,
}

/// One segment of a search: its first entry and the keys of the entries just outside it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SegmentBounds {
    /// `(key, seq)` of its first entry.
    pub(crate) first: (f64, u64),
    /// Key of the entry before it in the shard, if any.
    pub(crate) before: Option<f64>,
    /// Key of the entry after it in the shard, if any.
    pub(crate) after: Option<f64>,
}

/// A shard entry: `(key, seq, slot, signature)`. The signature (see `Pool::signature`) lets
/// a batch scan turn away most tickets that cannot join an anchor without reading their
/// columns, which are in slot order, not key order.
pub(crate) type Entry = (f64, u64, u32, u32);

/// The parts of an entry signature (see `Pool::signature`): the first latency rule's
/// masks at every level, its mask at the base level, and the signature column's values,
/// `SIGNATURE_LATENCY_BITS` wide each for latency (ten locations each keep a bit of their
/// own: a game's regions are often nine or ten) and the remaining 12 bits for values.
pub(crate) const SIGNATURE_EVERY_LEVEL: u32 = (1 << SIGNATURE_LATENCY_BITS) - 1;
pub(crate) const SIGNATURE_BASE_LEVEL: u32 = SIGNATURE_EVERY_LEVEL << SIGNATURE_LATENCY_BITS;
pub(crate) const SIGNATURE_LISTS: u32 = !(SIGNATURE_EVERY_LEVEL | SIGNATURE_BASE_LEVEL);
const SIGNATURE_LATENCY_BITS: u32 = 10;
const SIGNATURE_LISTS_SHIFT: u32 = 2 * SIGNATURE_LATENCY_BITS;

/// ORs the `width`-bit chunks of a 64-bit set: sets that share a bit still share one after
/// folding.
fn fold_bits(x: u64, width: u32) -> u32 {
    let mut folded = 0;
    let mut rest = x;
    while rest != 0 {
        folded |= rest & ((1 << width) - 1);
        rest >>= width;
    }
    folded as u32
}

/// A shard: tickets that share every hard-key value (string `batchDistance` attributes and
/// attributes of "all players equal" comparisons).
#[derive(Debug, Default)]
pub(crate) struct Shard {
    /// Sorted by key then seq. May hold stale entries until the next
    /// `refresh`.
    pub(crate) entries: Vec<Entry>,
    pending: Vec<Entry>,
}

/// The tickets of one configuration.
#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) layout: Layout,
    // Columns, indexed by slot.
    pub(crate) seq: Vec<u64>,
    pub(crate) start: Vec<Time>,
    pub(crate) n_players: Vec<u8>,
    pub(crate) in_search: Vec<bool>,
    pub(crate) nums: Vec<f64>,
    pub(crate) masks: Vec<u64>,
    /// Value bitsets of the native plan's bitset columns: `[slot * columns + column]`.
    pub(crate) list_bits: Vec<u64>,
    /// Per bitset column, the bit of each value seen so far (at most [`BITSET_VALUES`]).
    bit_dictionaries: Vec<hashbrown::HashMap<Sym, u8, foldhash::fast::RandomState>>,
    /// Each ticket's player ids and string, list and map values (see [`VAR_HEADER`]); an
    /// empty run when it has none of them (1v1 ladders: no player ids read, no string
    /// values).
    var: SpanArena<Sym>,
    /// Each ticket's averaged maps, one after another (see [`VAR_HEADER`]).
    maps: SpanArena<(Sym, f64)>,
    /// Reused by `insert` to build a ticket's run of `var` and of `maps`.
    var_scratch: Vec<Sym>,
    map_scratch: Vec<(Sym, f64)>,
    map_sum_scratch: Vec<(Sym, f64, u32)>,
    free: Vec<u32>,
    /// Slots freed since the last `refresh`, which releases them to `free` once it has
    /// logged their tickets' departures (so until then each still names its departed
    /// ticket).
    freed: Vec<u32>,
    shard_ids: std::collections::HashMap<Box<[Sym]>, u32, foldhash::fast::RandomState>,
    pub(crate) shards: Vec<Shard>,
    next_seq: u64,
    /// Whether every ticket so far started no earlier than every ticket before it, so that
    /// a higher seq means a ticket no older (the search then tells ages apart from entries).
    pub(crate) seq_order_is_age_order: bool,
    pub(crate) latest_start: Time,
    /// While seq order is age order: `(first seq, start)` of each distinct start time, in
    /// seq order, back to the last one at least the longest expansion wait before the
    /// latest start (the search's `seq_cuts` turns expansion steps into seq bounds with it).
    pub(crate) start_log: Vec<(u64, Time)>,
    /// The longest expansion `waitTimeSeconds`, in milliseconds, rounded up and one more
    /// (any step's `age_cuts` bound is at most this).
    longest_wait_ms: u64,
    live: usize,
    /// The previous search cycle, for skipping unchanged anchors. Locked once per cycle.
    pub(crate) memory: std::sync::Mutex<SearchMemory>,
    /// Whether the search may skip unchanged failed anchors (tests turn it off to compare).
    pub(crate) skip_unchanged: bool,
    /// Whether the search still searches the anchors it could skip, and asserts that they
    /// fail exactly as recorded (debug builds: every test run checks the skip rule).
    pub(crate) verify_skips: bool,
    /// Tickets per search segment at most and at least (tests use small segments to
    /// exercise their edges).
    pub(crate) segment_size: usize,
    pub(crate) min_segment_size: usize,
    /// Per-location latencies of every ticket, appended at insert (so in seq order, the
    /// order in which a search visits anchors) and compacted by `refresh` once mostly
    /// garbage: `(location, [min, max, avg] ms)` for the locations every party member
    /// reported and that a latency rule with a `maxDistance` can accept at some expansion
    /// level. The search only reads latencies to check `maxDistance`, at locations of those
    /// rules' masks, so the others are not kept (a rule set without `maxDistance` keeps
    /// none). A column, not a per-ticket allocation: the check runs for every anchor. It
    /// tracks no slot when no latency rule has a `maxDistance` (nothing is kept).
    pub(crate) latencies: SpanArena<(u8, [f32; 3])>,
    /// Reused by `insert`, so that ingest allocates only what a ticket keeps.
    latency_scratch: Vec<(u8, [f32; 3])>,
    /// Reused by `insert` for a party's latencies by member and location.
    party_latency_scratch: Vec<u32>,
    shard_key_scratch: Vec<Sym>,
    /// Whether the search checks the native plan's rules natively (tests turn it off to
    /// compare against the evaluator).
    pub(crate) native_rules: bool,
}

impl Pool {
    pub(crate) fn new(rules: &CompiledRules) -> Pool {
        let layout = Layout::new(rules);
        let bit_dictionaries = vec![Default::default(); layout.native.bit_columns.len()];
        Pool {
            layout,
            seq: Vec::new(),
            start: Vec::new(),
            n_players: Vec::new(),
            in_search: Vec::new(),
            nums: Vec::new(),
            masks: Vec::new(),
            list_bits: Vec::new(),
            bit_dictionaries,
            var: SpanArena::default(),
            maps: SpanArena::default(),
            var_scratch: Vec::new(),
            map_scratch: Vec::new(),
            map_sum_scratch: Vec::new(),
            free: Vec::new(),
            freed: Vec::new(),
            shard_ids: Default::default(),
            shards: Vec::new(),
            next_seq: 0,
            seq_order_is_age_order: true,
            latest_start: Time(0),
            start_log: Vec::new(),
            longest_wait_ms: rules
                .expansion_times()
                .last()
                .map_or(0, |&t| ((t * 1000.0).ceil() as u64).saturating_add(1)),
            live: 0,
            memory: Default::default(),
            skip_unchanged: true,
            verify_skips: cfg!(debug_assertions),
            segment_size: SEGMENT,
            min_segment_size: MIN_SEGMENT,
            latencies: SpanArena::default(),
            latency_scratch: Vec::new(),
            party_latency_scratch: Vec::new(),
            shard_key_scratch: Vec::new(),
            native_rules: true,
        }
    }

    /// The kept per-location latencies of the ticket in `slot`, by location (see
    /// `latencies`).
    #[inline]
    pub(crate) fn latency(&self, slot: u32) -> &[(u8, [f32; 3])] {
        self.latencies.get(slot)
    }

    /// The interned player ids of the ticket in `slot`; empty when the rule set does not
    /// read them.
    #[inline]
    pub(crate) fn player_ids(&self, slot: u32) -> &[Sym] {
        match self.var.get(slot) {
            [ids, _, rest @ ..] => &rest[..ids.0 as usize],
            _ => &[],
        }
    }

    /// The values part of `slot`'s run of `var` (from the strings on) and the number of
    /// player ids before it, if the ticket has values.
    #[inline]
    fn values(&self, slot: u32) -> Option<(&[Sym], usize)> {
        match self.var.get(slot) {
            run @ [ids, has_values, ..] if has_values.0 != 0 => Some((run, VAR_HEADER + ids.0 as usize)),
            _ => None,
        }
    }

    /// Takes back a cycle's `anchor_metrics` buffer for the next cycle's output.
    pub(crate) fn recycle_metrics(&mut self, mut buffer: Vec<(u32, u16, u32, u32)>) {
        buffer.clear();
        self.memory.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).spare_metrics = buffer;
    }

    /// Number of tickets waiting in the search.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The party-aggregated value of number attribute `attr` (`agg`: 0 min, 1 max, 2 avg).
    #[inline]
    pub(crate) fn number(&self, slot: u32, attr: usize, agg: usize) -> f64 {
        self.nums[(slot as usize * self.layout.n_attrs + attr) * 3 + agg]
    }

    /// Player `p`'s value of string attribute `attr`.
    #[inline]
    pub(crate) fn string(&self, slot: u32, p: usize, attr: usize) -> Sym {
        let Some((run, at)) = self.values(slot) else { return Sym(u32::MAX) };
        let k = self.layout.string_index[attr].unwrap_or(0);
        let n = usize::from(self.n_players[slot as usize]);
        let strings = &run[at..at + self.layout.n_strings * n];
        strings.get(k * n + p).copied().unwrap_or(Sym(u32::MAX))
    }

    /// The party's aggregated list for list attribute `attr` (`agg`: 0 union, 1 intersection).
    #[inline]
    pub(crate) fn list(&self, slot: u32, attr: usize, agg: usize) -> &[Sym] {
        let Some((run, at)) = self.values(slot) else { return &[] };
        let Some(k) = self.layout.list_index[attr] else { return &[] };
        let range = at + self.layout.n_strings * usize::from(self.n_players[slot as usize]) + (k * 2 + agg) * 2;
        let (start, len) = (run[range].0 as usize, run[range + 1].0 as usize);
        &run[start..start + len]
    }

    /// The party's averaged map for map attribute `attr`.
    #[inline]
    pub(crate) fn map(&self, slot: u32, attr: usize) -> &[(Sym, f64)] {
        let Some((run, at)) = self.values(slot) else { return &[] };
        let Some(k) = self.layout.map_index[attr] else { return &[] };
        let range =
            at + self.layout.n_strings * usize::from(self.n_players[slot as usize]) + self.layout.n_lists * 4 + k * 2;
        let (start, len) = (run[range].0 as usize, run[range + 1].0 as usize);
        &self.maps.get(slot)[start..start + len]
    }

    /// The acceptable-location mask of latency rule `latency_rule` at expansion `level`.
    #[cfg(test)]
    pub(crate) fn mask(&self, slot: u32, latency_rule: usize, level: usize) -> u64 {
        self.masks[slot as usize * self.layout.masks_per_ticket + self.layout.mask_offsets[latency_rule] + level]
    }

    /// Adds a ticket to the search and returns its slot.
    pub(crate) fn insert(&mut self, start: Time, players: &[NewPlayer]) -> u32 {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let s = self.seq.len() as u32;
                self.seq.push(0);
                self.start.push(Time(0));
                self.n_players.push(0);
                self.in_search.push(false);
                self.nums.extend(std::iter::repeat_n(0.0, self.layout.n_attrs * 3));
                self.masks.extend(std::iter::repeat_n(0, self.layout.masks_per_ticket));
                self.list_bits.extend(std::iter::repeat_n(0, self.layout.native.bit_columns.len()));
                self.var.add_slot();
                if self.layout.n_maps > 0 {
                    self.maps.add_slot();
                }
                if self.layout.latency_distance.contains(&true) {
                    self.latencies.add_slot();
                }
                s
            }
        };
        let s = slot as usize;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.seq[s] = seq;
        self.start[s] = start;
        self.seq_order_is_age_order &= start >= self.latest_start;
        self.latest_start = self.latest_start.max(start);
        self.log_start(seq, start);
        self.n_players[s] = players.len() as u8;
        self.in_search[s] = true;
        self.live += 1;
        let layout = &self.layout;
        let n = players.len();

        // Numbers: min / max / avg over the party.
        for attr in 0..layout.n_attrs {
            let mut lo = f64::INFINITY;
            let mut hi = f64::NEG_INFINITY;
            let mut sum = 0.0;
            let mut count = 0usize;
            for p in players {
                if let Some(Some(PlayerValue::Number(v))) = p.values.get(attr) {
                    lo = lo.min(*v);
                    hi = hi.max(*v);
                    sum += v;
                    count += 1;
                }
            }
            let base = (s * layout.n_attrs + attr) * 3;
            if count > 0 {
                self.nums[base] = lo;
                self.nums[base + 1] = hi;
                self.nums[base + 2] = sum / count as f64;
            } else {
                self.nums[base..base + 3].fill(0.0);
            }
        }

        // Variable data, built in one run (see `VAR_HEADER`).
        let mut run = std::mem::take(&mut self.var_scratch);
        let mut maps = std::mem::take(&mut self.map_scratch);
        run.clear();
        maps.clear();
        let reads_ids = players.iter().any(|p| p.id_sym != Sym(u32::MAX));
        let has_values = layout.n_strings + layout.n_lists + layout.n_maps > 0;
        run.extend([Sym(if reads_ids { n as u32 } else { 0 }), Sym(u32::from(has_values))]);
        if reads_ids {
            run.extend(players.iter().map(|p| p.id_sym));
        }
        let strings_at = run.len();
        if has_values {
            run.resize(strings_at + layout.n_strings * n, Sym(u32::MAX));
            run.resize(run.len() + layout.n_lists * 4 + layout.n_maps * 2, Sym(0));
        }
        let ranges_at = strings_at + layout.n_strings * n;
        let set_range = |run: &mut Vec<Sym>, at: usize, start: usize, end: usize| {
            run[at] = Sym(start as u32);
            run[at + 1] = Sym((end - start) as u32);
        };
        for attr in 0..layout.n_attrs {
            if let Some(k) = layout.string_index[attr] {
                for (pi, p) in players.iter().enumerate() {
                    if let Some(Some(PlayerValue::String(v))) = p.values.get(attr) {
                        run[strings_at + k * n + pi] = *v;
                    }
                }
            }
            if let Some(k) = layout.list_index[attr] {
                let start = run.len();
                for p in players {
                    for v in list_value(p, attr) {
                        if !run[start..].contains(v) {
                            run.push(*v);
                        }
                    }
                }
                let end = run.len();
                set_range(&mut run, ranges_at + k * 4, start, end);
                let start = run.len();
                if let Some(first) = players.first() {
                    for v in list_value(first, attr) {
                        if players.iter().all(|p| list_value(p, attr).contains(v)) && !run[start..].contains(v) {
                            run.push(*v);
                        }
                    }
                }
                let end = run.len();
                set_range(&mut run, ranges_at + k * 4 + 2, start, end);
            }
            if let Some(k) = layout.map_index[attr] {
                let mut sums = std::mem::take(&mut self.map_sum_scratch);
                sums.clear();
                for p in players {
                    if let Some(Some(PlayerValue::Map(m))) = p.values.get(attr) {
                        for (key, v) in m {
                            match sums.iter_mut().find(|(k2, _, _)| k2 == key) {
                                Some(e) => {
                                    e.1 += v;
                                    e.2 += 1;
                                }
                                None => sums.push((*key, *v, 1)),
                            }
                        }
                    }
                }
                let start = maps.len();
                maps.extend(sums.iter().map(|&(k2, sum, c)| (k2, sum / f64::from(c))));
                set_range(&mut run, ranges_at + layout.n_lists * 4 + k * 2, start, maps.len());
                self.map_sum_scratch = sums;
            }
        }
        // Latency: locations every member reported, aggregated, in location order (read
        // back from a bitset of locations, so no sort), each location once.
        let mut latency = std::mem::take(&mut self.latency_scratch);
        latency.clear();
        if let [solo] = players {
            // One player (most tickets): each location's own figure, with no aggregation.
            let mut by_location = [0u32; MAX_LOCATIONS];
            for loc in locations_of(latencies_by_location(&solo.latency, &mut by_location)) {
                latency.push((loc, [by_location[usize::from(loc)] as f32; 3]));
            }
        } else if !players.is_empty() {
            // A party: each member's figures by location in a table, and the locations
            // every member reported, rather than searching each member's list for each
            // location.
            let mut by_location = std::mem::take(&mut self.party_latency_scratch);
            by_location.resize(n * MAX_LOCATIONS, 0);
            let everyone = players
                .iter()
                .zip(by_location.chunks_exact_mut(MAX_LOCATIONS))
                .fold(u64::MAX, |all, (p, row)| all & latencies_by_location(&p.latency, row));
            for loc in locations_of(everyone) {
                let (mut lo, mut hi, mut sum) = (u32::MAX, 0, 0.0);
                for row in by_location.chunks_exact(MAX_LOCATIONS) {
                    let ms = row[usize::from(loc)];
                    lo = lo.min(ms);
                    hi = hi.max(ms);
                    sum += f64::from(ms);
                }
                latency.push((loc, [lo as f32, hi as f32, (sum / n as f64) as f32]));
            }
            self.party_latency_scratch = by_location;
        }
        let base = s * layout.masks_per_ticket;
        let mut located = 0u64;
        for (r, (_, schedule, agg)) in layout.latency_rules.iter().enumerate() {
            let levels = std::iter::once(schedule.base).chain(schedule.steps.iter().map(|(_, v)| *v));
            for (level, max) in levels.enumerate() {
                let mut mask = 0u64;
                for (loc, values) in &latency {
                    // An or, not a branch: which locations a ticket can use is random.
                    mask |= u64::from(f64::from(values[*agg]) <= max) << loc;
                }
                self.masks[base + layout.mask_offsets[r] + level] = mask;
                if layout.latency_distance[r] {
                    located |= mask;
                }
            }
        }
        latency.retain(|(loc, _)| located & (1 << loc) != 0);
        // Shard and key.
        let mut shard_key = std::mem::take(&mut self.shard_key_scratch);
        shard_key.clear();
        let strings = &run[strings_at..ranges_at];
        shard_key.extend(layout.shard_attrs.iter().map(|&a| {
            let k = layout.string_index[a].unwrap_or(0);
            strings.get(k * n).copied().unwrap_or(Sym(u32::MAX))
        }));
        // A ticket with neither player ids nor values keeps an empty run.
        if reads_ids || has_values {
            self.var.set(slot, &run);
        }
        self.maps.set(slot, &maps);
        self.var_scratch = run;
        self.map_scratch = maps;
        self.latencies.set(slot, &latency);
        self.latency_scratch = latency;

        // Without shard attributes every ticket is in the one shard: no lookup.
        let shard = if shard_key.is_empty() && !self.shards.is_empty() {
            0
        } else {
            match self.shard_ids.get(&shard_key[..]) {
                Some(&shard) => shard,
                None => {
                    let shard = self.shards.len() as u32;
                    self.shard_ids.insert(shard_key[..].into(), shard);
                    self.shards.push(Shard::default());
                    shard
                }
            }
        };
        self.shard_key_scratch = shard_key;
        let key = match layout.key {
            Some((attr, agg)) => self.number(slot, attr, agg),
            None => seq as f64,
        };
        self.fill_list_bits(slot);
        let signature = self.signature(slot);
        self.shards[shard as usize].pending.push((key, seq, slot, signature));
        slot
    }

    /// Logs `start` as the start of `seq` and the seqs after it, while that keeps the log
    /// meaningful (seq order being age order), and prunes what no search needs.
    fn log_start(&mut self, seq: u64, start: Time) {
        if !self.seq_order_is_age_order {
            self.start_log = Vec::new();
            return;
        }
        if self.start_log.last().is_some_and(|&(_, t)| t == start) {
            return;
        }
        self.start_log.push((seq, start));
        if self.start_log.len() >= 1024 && self.start_log.len().is_power_of_two() {
            // Drop the entries before the last one at least the longest wait older than the
            // latest start: a seq below that one has reached every expansion step at any
            // `now` past the latest start (the search reads the log only then).
            let Some(horizon) = self.latest_start.0.checked_sub(self.longest_wait_ms) else { return };
            let keep = self.start_log.partition_point(|&(_, t)| t.0 <= horizon).saturating_sub(1);
            self.start_log.drain(..keep);
        }
    }

    /// A ticket's entry signature, three folds (`fold_bits`) of what `AnchorFilter` checks
    /// (the parts `SIGNATURE_EVERY_LEVEL`, `SIGNATURE_BASE_LEVEL` and `SIGNATURE_LISTS`):
    /// bits 0–9 its first latency rule's masks at every level, bits 10–19 that rule's mask
    /// at the base level, bits 20–31 the value bitset of the native plan's first
    /// intersection column. All ones where there is no such rule. Two tickets whose
    /// signatures share no bit in a part share no acceptable location (at any level; at the
    /// base level) or no list value.
    fn signature(&self, slot: u32) -> u32 {
        let s = slot as usize;
        let layout = &self.layout;
        let latency = match layout.latency_rules.first() {
            Some((_, schedule, _)) => {
                let masks = &self.masks[s * layout.masks_per_ticket..][..schedule.steps.len() + 1];
                fold_bits(masks.iter().fold(0, |a, m| a | m), SIGNATURE_LATENCY_BITS)
                    | fold_bits(masks[0], SIGNATURE_LATENCY_BITS) << SIGNATURE_LATENCY_BITS
            }
            None => SIGNATURE_EVERY_LEVEL | SIGNATURE_BASE_LEVEL,
        };
        let lists = match layout.signature_column {
            Some(column) => {
                let bits = self.list_bits[s * layout.native.bit_columns.len() + column];
                fold_bits(bits, 32 - SIGNATURE_LISTS_SHIFT) << SIGNATURE_LISTS_SHIFT
            }
            None => SIGNATURE_LISTS,
        };
        latency | lists
    }

    /// Sets `slot`'s value bitsets from its aggregated lists, giving new values the next
    /// free bit of their column (or the overflow bit once every bit is taken).
    fn fill_list_bits(&mut self, slot: u32) {
        let n = self.layout.native.bit_columns.len();
        let mut dictionaries = std::mem::take(&mut self.bit_dictionaries);
        for (c, dictionary) in dictionaries.iter_mut().enumerate() {
            let (attr, agg) = self.layout.native.bit_columns[c];
            let mut bits = 0u64;
            let list = self.list(slot, attr, agg);
            for &sym in list {
                let next = dictionary.len();
                bits |= match dictionary.get(&sym) {
                    Some(&b) => 1 << b,
                    None if next < BITSET_VALUES => {
                        dictionary.insert(sym, next as u8);
                        1 << next
                    }
                    None => OVERFLOW_BIT,
                };
            }
            self.list_bits[slot as usize * n + c] = bits;
        }
        self.bit_dictionaries = dictionaries;
    }

    /// Adds to `in_use` every symbol the waiting tickets hold (their player ids and string,
    /// list and map values), and some numbers that are not symbols (the runs' counts and
    /// offsets), which only keep a few more strings.
    pub(crate) fn mark_symbols(&self, in_use: &mut SymSet) {
        self.var.runs().flatten().for_each(|&sym| in_use.insert(sym));
        self.maps.runs().flatten().for_each(|&(sym, _)| in_use.insert(sym));
    }

    /// Removes a ticket from the search (matched, cancelled or timed out) and frees its slot.
    pub(crate) fn remove(&mut self, slot: u32) {
        let s = slot as usize;
        if self.in_search[s] {
            self.in_search[s] = false;
            self.live -= 1;
            self.var.clear(slot);
            self.maps.clear(slot);
            self.latencies.clear(slot);
            self.freed.push(slot);
        }
    }

    /// Merges arrivals into every shard's sorted entries and drops departed tickets, in
    /// place: the entries are filtered, grown by the arrivals, and merged from the back, so
    /// a cycle neither allocates a second copy of the index nor touches fresh pages.
    /// Departures are logged into the search memory.
    pub(crate) fn refresh(&mut self) {
        self.latencies.compact_if_sparse();
        self.var.compact_if_sparse();
        self.maps.compact_if_sparse();
        let memory = self.memory.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut logging = memory.valid;
        if logging {
            memory.departures.resize_with(self.shards.len(), Vec::new);
            // A departed ticket's slot is not reused before this pass, so its seq, which
            // only tells live entries from stale ones, can hold its departure's threshold
            // instead: the seq of the anchor whose match took it, else `u64::MAX`.
            for &slot in &self.freed {
                self.seq[slot as usize] = u64::MAX;
            }
            for &(slot, anchor_seq) in &memory.matched {
                if self.in_search[slot as usize] {
                    // A ticket the last search matched is still waiting (not something the
                    // matchmaker does today): what that search saw can no longer be
                    // inferred.
                    logging = false;
                    memory.valid = false;
                    break;
                }
                self.seq[slot as usize] = anchor_seq;
            }
        }
        let in_search = &self.in_search;
        let seqs = &self.seq;
        let live = |&(_, seq, slot, _): &Entry| in_search[slot as usize] && seqs[slot as usize] == seq;
        let order = |a: &Entry, b: &Entry| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        for (shard_index, shard) in self.shards.iter_mut().enumerate() {
            shard.pending.retain(live);
            // Arrivals are pushed in seq order and `retain` keeps it, so a stable sort by
            // key alone orders them by (key, seq). A radix sort is linear in the arrivals;
            // its float order is `total_cmp`'s, which the merge below compares by. Arrivals
            // already in key order (seen when a pool is loaded in order) skip its passes.
            if !shard.pending.is_sorted_by(|a, b| a.0.total_cmp(&b.0).is_le()) {
                radsort::sort_by_key(&mut shard.pending, |e| e.0);
            }
            if logging {
                let departures = &mut memory.departures[shard_index];
                shard.entries.retain(|e| {
                    if live(e) {
                        return true;
                    }
                    departures.push((e.0, seqs[e.2 as usize]));
                    false
                });
            } else {
                shard.entries.retain(live);
            }
            let (n, p) = (shard.entries.len(), shard.pending.len());
            if p == 0 {
                continue;
            }
            shard.entries.resize(n + p, (0.0, 0, 0, 0));
            let (entries, pending) = (&mut shard.entries, &shard.pending);
            let (mut i, mut j) = (n, p);
            while j > 0 {
                let k = i + j - 1;
                if i > 0 && order(&entries[i - 1], &pending[j - 1]).is_gt() {
                    entries[k] = entries[i - 1];
                    i -= 1;
                } else {
                    entries[k] = pending[j - 1];
                    j -= 1;
                }
            }
            shard.pending.clear();
            // Keep the buffer for the next arrivals, but not a burst's worth of it.
            shard.pending.shrink_to((shard.entries.len() / 8).max(4096));
        }
        // Every entry now names a waiting ticket: the departed ones' slots can be reused.
        self.free.append(&mut self.freed);
        memory.matched.clear();
        memory.refreshed = true;
        memory.merged_below = self.next_seq;
    }
}

#[cfg(test)]
mod tests;
