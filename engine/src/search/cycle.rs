//! One search cycle over a pool.
//!
//! Per segment, anchors are visited oldest first (FlexMatch's rule). Each anchor's batch is
//! the `BATCH` nearest tickets by primary key within the key window its age allows, ordered
//! by the sort rules (relative to the anchor) or else by age. Candidates are added greedily
//! to the team with the most open slots where every rule still holds (`Phase::Partial`);
//! the finished set of tickets is then re-assigned to teams by the balancing solver and
//! checked as a complete match. If no assignment passes, the newest additions are dropped
//! one by one until one does or only the anchor is left.

use rayon::prelude::*;

use crate::expr::Candidate;
use crate::intern::Sym;
use crate::pool::{Pool, list_agg_index, number_agg_index};
use crate::ruleset::{
    CompiledKind, CompiledRules, DistanceReference, ExpansionAgeSelection, MapKey, Phase, RuleScratch, SortDirection,
};
use crate::search::plugins::{PluginRules, PluginScratch, Seat};
use crate::search::teams::{self, Assignments, Party, TeamScratch, TeamSlots};
use crate::time::Time;

/// Tickets per segment. Fixed, so results do not depend on the thread count.
const SEGMENT: usize = 4096;
/// Tickets per anchor batch (besides the anchor).
const BATCH: usize = 48;
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
}

/// Runs one search cycle. `pool.refresh()` must have been called since the last change.
pub(crate) fn search_cycle(pool: &Pool, rules: &CompiledRules, plugins: &PluginRules, now: Time) -> CycleOutput {
    let mut work: Vec<(usize, usize, usize)> = Vec::new();
    for (shard_index, shard) in pool.shards.iter().enumerate() {
        let n = shard.entries.len();
        let mut start = 0;
        while start < n {
            let end = (start + SEGMENT).min(n);
            work.push((shard_index, start, end));
            start = end;
        }
    }
    let results: Vec<CycleOutput> = work
        .par_iter()
        .map_init(
            || Workspace::new(rules, plugins),
            |ws, &(shard, start, end)| {
                search_segment(pool, rules, plugins, now, &pool.shards[shard].entries[start..end], ws)
            },
        )
        .collect();
    let mut out = CycleOutput::default();
    for r in results {
        out.proposals.extend(r.proposals);
        out.anchor_metrics.extend(r.anchor_metrics);
    }
    out.proposals.sort_by_key(|p| p.anchor_seq);
    out
}

/// Reusable per-worker buffers.
struct Workspace {
    build: Build,
    rule_scratch: RuleScratch,
    team_scratch: TeamScratch,
    assignments: Assignments,
    parties: Vec<Party>,
    slots: Vec<TeamSlots>,
    batch: Vec<(SortKey, u32, u32)>,
    order: Vec<u32>,
    used: Vec<bool>,
    metrics: Vec<(u32, u32)>,
    /// Gating rules other than batchDistance and latency (checked through `Candidate`).
    expr_rules: Vec<usize>,
    /// Numeric batchDistance rules: `(rule, attribute, aggregation)`.
    batch_rules: Vec<(usize, usize, usize)>,
    sort_rules: Vec<usize>,
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

type SortKey = [f64; MAX_SORT_KEYS + 1];

impl Workspace {
    fn new(rules: &CompiledRules, plugins: &PluginRules) -> Workspace {
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
        let sort_rules = rules
            .rules()
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.kind, CompiledKind::Sort { .. }))
            .map(|(i, _)| i)
            .collect();
        let balance = balance_attribute(rules);
        let team_specific = names_a_team(rules);
        Workspace {
            build: Build::new(rules.teams().len()),
            rule_scratch: RuleScratch::default(),
            team_scratch: TeamScratch::default(),
            assignments: Assignments::default(),
            parties: Vec::new(),
            slots: Vec::new(),
            batch: Vec::new(),
            order: Vec::new(),
            used: Vec::new(),
            metrics: vec![(0, 0); rules.rules().len()],
            expr_rules,
            batch_rules,
            sort_rules,
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
}

impl Build {
    fn new(n_teams: usize) -> Build {
        Build { tickets: Vec::new(), members: vec![Vec::new(); n_teams], players: 0 }
    }

    fn clear(&mut self) {
        self.tickets.clear();
        self.members.iter_mut().for_each(Vec::clear);
        self.players = 0;
    }

    fn push(&mut self, pool: &Pool, slot: u32, team: u16, pos: u32) {
        let n = pool.n_players[slot as usize];
        self.tickets.push((slot, team, pos));
        for p in 0..n {
            self.members[team as usize].push((slot, p));
        }
        self.players += u32::from(n);
    }

    fn pop(&mut self, pool: &Pool) {
        if let Some((slot, team, _)) = self.tickets.pop() {
            let n = pool.n_players[slot as usize];
            let members = &mut self.members[team as usize];
            members.truncate(members.len() - n as usize);
            self.players -= u32::from(n);
        }
    }

    /// Re-seats every ticket according to `teams` (one team per ticket, in ticket order).
    fn reassign(&mut self, pool: &Pool, teams: &[u32]) {
        self.members.iter_mut().for_each(Vec::clear);
        for (t, &team) in self.tickets.iter_mut().zip(teams) {
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
        self.pool.var[slot as usize].player_ids[p as usize]
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
    entries: &'a [(f64, u64, u32)],
    now: Time,
    newest: bool,
}

impl Ctx<'_> {
    /// The expansion age of the build plus, optionally, one more ticket.
    fn match_age(&self, build: &Build, extra: Option<u32>) -> f64 {
        let starts = build.tickets.iter().map(|t| t.0).chain(extra).map(|s| self.pool.start[s as usize].0);
        let start = if self.newest { starts.max() } else { starts.min() };
        age_seconds(self.now, Time(start.unwrap_or(self.now.0)))
    }

    /// Checks batchDistance and latency rules for the build (already including a new ticket).
    /// Returns the first failing rule, or the chosen location on success.
    fn hard_rules(&self, ws: &Workspace, age: f64) -> Result<Option<u8>, usize> {
        let pool = self.pool;
        let build = &ws.build;
        for &(rule, attr, agg) in &ws.batch_rules {
            let CompiledKind::BatchDistance { max_distance, .. } = &self.rules.rules()[rule].kind else { continue };
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &(slot, _, _) in &build.tickets {
                let v = pool.number(slot, attr, agg);
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi - lo > max_distance.at(age) {
                return Err(rule);
            }
        }
        let mut location = None;
        for (r, (rule, schedule, agg)) in pool.layout.latency_rules.iter().enumerate() {
            let level = schedule.level(age);
            let mut mask = u64::MAX;
            for &(slot, _, _) in &build.tickets {
                mask &= pool.mask(slot, r, level);
            }
            if mask == 0 {
                return Err(*rule);
            }
            let CompiledKind::Latency { max_distance, distance_reference, .. } = &self.rules.rules()[*rule].kind else {
                continue;
            };
            // Pick the acceptable location with the lowest average latency that also meets
            // maxDistance from the reference.
            let max_distance = max_distance.as_ref().map(|s| s.at(age));
            let mut best: Option<(f64, u8)> = None;
            let mut bits = mask;
            while bits != 0 {
                let loc = bits.trailing_zeros() as u8;
                bits &= bits - 1;
                let (mut sum, mut lo, mut hi, mut n) = (0.0, f64::INFINITY, f64::NEG_INFINITY, 0.0);
                for &(slot, _, _) in &build.tickets {
                    let var = &pool.var[slot as usize];
                    if let Some((_, v)) = var.latency.iter().find(|(l, _)| *l == loc) {
                        let ms = f64::from(v[*agg]);
                        sum += ms;
                        lo = lo.min(ms);
                        hi = hi.max(ms);
                        n += 1.0;
                    }
                }
                let avg = sum / n;
                if let Some(d) = max_distance {
                    let reference = match distance_reference {
                        Some(DistanceReference::Avg) => avg,
                        _ => lo,
                    };
                    let worst = (hi - reference).max(reference - lo);
                    if worst > d {
                        continue;
                    }
                }
                if best.is_none_or(|(b, _)| avg < b) {
                    best = Some((avg, loc));
                }
            }
            match best {
                Some((_, loc)) => location = location.or(Some(loc)),
                None => return Err(*rule),
            }
        }
        Ok(location)
    }

    /// Checks the expression rules against `ws.build`; counts evaluations into `ws.metrics`.
    fn expr_rules(&self, ws: &mut Workspace, age: f64, phase: Phase, count: bool) -> bool {
        let Workspace { build, rule_scratch, metrics, expr_rules, .. } = ws;
        for &r in expr_rules.iter() {
            let (number_agg, list_agg) = rule_aggregations(&self.rules.rules()[r].kind);
            let view = View { pool: self.pool, members: &build.members, number_agg, list_agg };
            let ok = self.rules.check_rule(r, &view, rule_scratch, age, phase);
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

fn search_segment(
    pool: &Pool,
    rules: &CompiledRules,
    plugins: &PluginRules,
    now: Time,
    entries: &[(f64, u64, u32)],
    ws: &mut Workspace,
) -> CycleOutput {
    let ctx = Ctx {
        pool,
        rules,
        plugins,
        entries,
        now,
        newest: rules.rule_set().algorithm.expansion_age_selection == ExpansionAgeSelection::Newest,
    };
    let mut out = CycleOutput::default();
    let n = entries.len();
    ws.used.clear();
    ws.used.resize(n, false);
    ws.plugin.begin_segment();
    if !plugins.bound.is_empty() {
        ws.plugin.filter_segment(
            plugins,
            pool,
            entries,
            |slot| age_seconds(now, pool.start[slot as usize]),
            &mut ws.used,
        );
    }
    ws.order.clear();
    ws.order.extend(0..n as u32);
    ws.order.sort_unstable_by_key(|&i| entries[i as usize].1);
    let order = std::mem::take(&mut ws.order);
    for &anchor_pos in &order {
        if ws.used[anchor_pos as usize] {
            continue;
        }
        ws.metrics.iter_mut().for_each(|m| *m = (0, 0));
        match build_match(&ctx, entries, anchor_pos as usize, ws) {
            Some(proposal) => {
                for &(_, _, pos) in &ws.build.tickets {
                    ws.used[pos as usize] = true;
                }
                out.proposals.push(proposal);
            }
            None => {
                let slot = entries[anchor_pos as usize].2;
                for (r, &(pass, fail)) in ws.metrics.iter().enumerate() {
                    if pass + fail > 0 {
                        out.anchor_metrics.push((slot, r as u16, pass, fail));
                    }
                }
            }
        }
    }
    ws.order = order;
    out
}

fn gather_batch(ctx: &Ctx<'_>, entries: &[(f64, u64, u32)], anchor_pos: usize, ws: &mut Workspace) {
    let pool = ctx.pool;
    let anchor_slot = entries[anchor_pos].2;
    let anchor_key = entries[anchor_pos].0;
    let half = pool.layout.key_window.as_ref().map_or(f64::INFINITY, |s| {
        // The anchor is the oldest ticket, so its age bounds every match's expansion age.
        s.at(age_seconds(ctx.now, pool.start[anchor_slot as usize]))
    });
    ws.batch.clear();
    let (mut lo, mut hi) = (anchor_pos, anchor_pos + 1);
    while ws.batch.len() < BATCH {
        let left = (lo > 0).then(|| entries[lo - 1]).filter(|e| anchor_key - e.0 <= half);
        let right = (hi < entries.len()).then(|| entries[hi]).filter(|e| e.0 - anchor_key <= half);
        let take_left = match (left, right) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => anchor_key - l.0 <= r.0 - anchor_key,
        };
        let pos = if take_left {
            lo -= 1;
            lo
        } else {
            hi += 1;
            hi - 1
        };
        if !ws.used[pos] {
            ws.batch.push(([0.0; MAX_SORT_KEYS + 1], entries[pos].2, pos as u32));
        }
    }
    // Order: sort rules relative to the anchor, then age.
    for item in ws.batch.iter_mut() {
        let slot = item.1;
        for (k, &r) in ws.sort_rules.iter().take(MAX_SORT_KEYS).enumerate() {
            item.0[k] = sort_key(ctx, r, anchor_slot, slot);
        }
        item.0[MAX_SORT_KEYS] = pool.seq[slot as usize] as f64;
    }
    ws.batch.sort_by(|a, b| {
        a.0.iter().zip(b.0.iter()).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// A sort rule's key for `slot` relative to the anchor (smaller sorts first).
fn sort_key(ctx: &Ctx<'_>, rule: usize, anchor: u32, slot: u32) -> f64 {
    let CompiledKind::Sort { absolute, rule: sort } = &ctx.rules.rules()[rule].kind else { return 0.0 };
    let pool = ctx.pool;
    let agg = number_agg_index(sort.party_aggregation);
    let attr = sort.attribute;
    let sign = if sort.direction == SortDirection::Ascending { 1.0 } else { -1.0 };
    let value_of = |s: u32| -> Option<f64> {
        match sort.map_key {
            Some(map_key) => {
                let anchor_map = pool.map(anchor, attr);
                let pick = match map_key {
                    MapKey::MaxValue => anchor_map.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
                    MapKey::MinValue => anchor_map.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
                };
                let key = pick?.0;
                pool.map(s, attr).iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
            }
            None => match pool.layout.string_index[attr] {
                Some(_) => Some(if pool.string(s, 0, attr) == pool.string(anchor, 0, attr) { 0.0 } else { 1.0 }),
                None => Some(pool.number(s, attr, agg)),
            },
        }
    };
    let is_string = sort.map_key.is_none() && pool.layout.string_index[attr].is_some();
    match (value_of(slot), value_of(anchor)) {
        (None, _) => f64::INFINITY,
        (Some(v), _) if is_string => v,
        (Some(v), Some(a)) if !absolute => sign * (v - a).abs(),
        (Some(v), _) => sign * v,
    }
}

fn build_match(ctx: &Ctx<'_>, entries: &[(f64, u64, u32)], anchor_pos: usize, ws: &mut Workspace) -> Option<Proposal> {
    let pool = ctx.pool;
    let rules = ctx.rules;
    let teams = rules.teams();
    let anchor_slot = entries[anchor_pos].2;
    gather_batch(ctx, entries, anchor_pos, ws);
    ws.build.clear();

    // Seat the anchor.
    let age = ctx.match_age(&ws.build, Some(anchor_slot));
    let mut seated = false;
    for team in team_order(&ws.build, rules, age, pool.n_players[anchor_slot as usize]) {
        ws.build.push(pool, anchor_slot, team, anchor_pos as u32);
        if ctx.hard_rules(ws, age).is_ok() && ctx.partial_rules(ws, age, true) {
            seated = true;
            break;
        }
        ws.build.pop(pool);
    }
    if !seated {
        return None;
    }
    let capacity = |age: f64| teams.iter().map(|t| t.max_players.at(age) as u32).sum::<u32>();

    // Greedy fill.
    let batch = std::mem::take(&mut ws.batch);
    for &(_, slot, pos) in &batch {
        let size = pool.n_players[slot as usize];
        let age = ctx.match_age(&ws.build, Some(slot));
        if ws.build.players + u32::from(size) > capacity(age) {
            continue;
        }
        let mut accepted = false;
        for team in team_order(&ws.build, rules, age, size) {
            ws.build.push(pool, slot, team, pos);
            match ctx.hard_rules(ws, age) {
                Err(rule) => {
                    ws.metrics[rule].1 += 1;
                    ws.build.pop(pool);
                    break; // Team choice cannot fix batch or latency rules.
                }
                Ok(_) => {
                    if ctx.partial_rules(ws, age, true) {
                        accepted = true;
                        break;
                    }
                    ws.build.pop(pool);
                }
            }
        }
        if accepted && ws.build.players >= capacity(ctx.match_age(&ws.build, None)) {
            break;
        }
    }
    ws.batch = batch;

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
    spare.extend(
        ws.batch.iter().map(|&(_, slot, pos)| (slot, pos)).filter(|(slot, _)| !original.iter().any(|(s, _)| s == slot)),
    );
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
    let pool = ctx.pool;
    ws.build.clear();
    for &(slot, pos) in list {
        let age = ctx.match_age(&ws.build, Some(slot));
        let mut seated = false;
        for team in team_order(&ws.build, ctx.rules, age, pool.n_players[slot as usize]) {
            ws.build.push(pool, slot, team, pos);
            if ctx.hard_rules(ws, age).is_ok() && ctx.partial_rules(ws, age, false) {
                seated = true;
                break;
            }
            ws.build.pop(pool);
        }
        if !seated {
            return false;
        }
    }
    true
}

/// Teams to try for a party of `size`, most open slots first (FlexMatch's fill order).
fn team_order(build: &Build, rules: &CompiledRules, age: f64, size: u8) -> impl Iterator<Item = u16> + use<> {
    let teams = rules.teams();
    let mut best: [(i64, u16); 64] = [(0, 0); 64];
    let mut n = 0;
    for (i, t) in teams.iter().enumerate().take(64) {
        let open = t.max_players.at(age) as i64 - build.members[i].len() as i64;
        if open >= i64::from(size) {
            best[n] = (-open, i as u16);
            n += 1;
        }
    }
    best[..n].sort_unstable();
    (0..n).map(move |i| best[i].1)
}

/// Tries balanced assignments of the build's tickets, then the greedy one; on success the
/// build is left seated in the winning assignment.
fn finalize(ctx: &Ctx<'_>, ws: &mut Workspace, age: f64) -> bool {
    let pool = ctx.pool;
    if ctx.hard_rules(ws, age).is_err() {
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
