//! Plugin rules inside the search.
//!
//! A configuration's `plugin` rules are bound to loaded [`Plugin`]s when it is added. Each
//! worker builds, per segment and only if a plugin is actually asked something, one player
//! table per plugin (the segment's players, one row each, in the columns the rule lists),
//! which the plugin host loads into the worker's instance once. Candidates then travel as
//! row indices: one per trial while a match is filled, and every alternative team
//! assignment of a finished match in one batch. A plugin that fails or is disabled by its
//! circuit breaker is answered by the rule's `onError`.

use crate::expr::AttrType;
use crate::plugin::Plugin;
use crate::plugin::abi::{AttrKind, Batch, Table, TicketBatch, Verdict};
use crate::pool::{Entry, Pool, list_agg_index, number_agg_index};
use crate::ruleset::{CompiledKind, CompiledRules, ListAggregation, NumberAggregation, OnError, Schedule};

/// The plugins bound to one configuration's plugin rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct PluginRules {
    pub(crate) bound: Vec<BoundPlugin>,
    /// Search cycles run so far; the circuit breaker counts in cycles.
    pub(crate) cycle: u64,
}

/// One plugin rule and the plugin that judges it.
#[derive(Debug, Clone)]
pub(crate) struct BoundPlugin {
    pub(crate) rule: usize,
    pub(crate) plugin: Plugin,
    columns: Vec<(usize, AttrKind)>,
    parameters: Vec<Schedule>,
    on_error: OnError,
}

impl BoundPlugin {
    /// Binds `plugin` to rule `rule` of `rules`, which must be a plugin rule.
    pub(crate) fn new(rules: &CompiledRules, rule: usize, plugin: Plugin) -> BoundPlugin {
        let CompiledKind::Plugin { attributes, parameters, on_error } = &rules.rules()[rule].kind else {
            panic!("rule {rule} is not a plugin rule");
        };
        let columns = attributes.iter().map(|&a| (a, attr_kind(rules.rule_set().attributes[a].ty))).collect();
        BoundPlugin {
            rule,
            plugin,
            columns,
            parameters: parameters.iter().map(|p| p.value.clone()).collect(),
            on_error: *on_error,
        }
    }

    fn params_at(&self, age: f64, out: &mut Vec<f64>) {
        out.clear();
        out.extend(self.parameters.iter().map(|s| s.at(age)));
    }

    /// The verdict when the plugin cannot answer.
    fn fallback(&self) -> bool {
        self.on_error == OnError::Skip
    }
}

/// The column kind the plugin ABI uses for an attribute type.
pub(crate) fn attr_kind(ty: AttrType) -> AttrKind {
    match ty {
        AttrType::Number => AttrKind::Number,
        AttrType::String => AttrKind::String,
        AttrType::StringList => AttrKind::StringList,
        AttrType::StringNumberMap => AttrKind::StringNumberMap,
    }
}

/// A worker's plugin buffers, reused across segments and cycles.
#[derive(Debug, Default)]
pub(crate) struct PluginScratch {
    tables: Vec<Table>,
    batches: Vec<Batch>,
    tickets: Vec<TicketBatch>,
    /// Whether `tables` hold the current segment.
    ready: bool,
    /// First table row of each segment position.
    rows: Vec<u32>,
    params: Vec<f64>,
    verdicts: Vec<Verdict>,
    keep: Vec<bool>,
    /// Candidates still passing while several are judged, and their scores.
    alive: Vec<bool>,
    scores: Vec<Option<f64>>,
    /// Conversion buffers for list and map columns.
    ids: Vec<u32>,
    pairs: Vec<(u32, f64)>,
}

/// A ticket of a candidate: `(slot, position in segment)`.
pub(crate) type Seat = (u32, u32);

impl PluginScratch {
    pub(crate) fn new(plugins: &PluginRules) -> PluginScratch {
        PluginScratch {
            tables: plugins.bound.iter().map(|b| Table::new(b.columns.len())).collect(),
            batches: plugins.bound.iter().map(|b| Batch::new(b.parameters.len())).collect(),
            tickets: plugins.bound.iter().map(|b| TicketBatch::new(b.parameters.len())).collect(),
            ..PluginScratch::default()
        }
    }

    /// Forgets the previous segment's tables.
    pub(crate) fn begin_segment(&mut self) {
        self.ready = false;
    }

    fn ensure_tables(&mut self, plugins: &PluginRules, pool: &Pool, entries: &[Entry]) {
        let PluginScratch { tables, ready, rows, ids, pairs, .. } = self;
        if *ready {
            return;
        }
        *ready = true;
        rows.clear();
        let mut row = 0u32;
        for e in entries {
            rows.push(row);
            row += u32::from(pool.n_players[e.2 as usize]);
        }
        let avg = number_agg_index(NumberAggregation::Avg);
        let union = list_agg_index(ListAggregation::Union);
        for (b, table) in plugins.bound.iter().zip(tables.iter_mut()) {
            table.clear();
            for e in entries {
                let slot = e.2;
                for p in 0..usize::from(pool.n_players[slot as usize]) {
                    table.begin_row();
                    for &(attr, kind) in &b.columns {
                        match kind {
                            AttrKind::Number => table.number(pool.number(slot, attr, avg)),
                            AttrKind::String => table.string(pool.string(slot, p, attr).0),
                            AttrKind::StringList => {
                                ids.clear();
                                ids.extend(pool.list(slot, attr, union).iter().map(|s| s.0));
                                table.string_list(ids);
                            }
                            AttrKind::StringNumberMap => {
                                pairs.clear();
                                pairs.extend(pool.map(slot, attr).iter().map(|(k, v)| (k.0, *v)));
                                table.map(pairs);
                            }
                        }
                    }
                }
            }
            table.finish();
        }
    }

    /// Asks each filtering plugin about every ticket of the segment not yet `used`; marks
    /// the rejected ones used, so this cycle neither anchors nor adds them.
    pub(crate) fn filter_segment(
        &mut self,
        plugins: &PluginRules,
        pool: &Pool,
        entries: &[Entry],
        ages: impl Fn(u32) -> f64,
        used: &mut [bool],
    ) {
        for (i, b) in plugins.bound.iter().enumerate() {
            if !b.plugin.has_filter() {
                continue;
            }
            let keep_all = b.fallback();
            if !b.plugin.available(plugins.cycle) {
                if !keep_all {
                    used.iter_mut().for_each(|u| *u = true);
                }
                continue;
            }
            self.ensure_tables(plugins, pool, entries);
            let tickets = &mut self.tickets[i];
            tickets.clear();
            for (pos, e) in entries.iter().enumerate() {
                if used[pos] {
                    continue;
                }
                b.params_at(ages(e.2), &mut self.params);
                tickets.begin_ticket(&self.params);
                for p in 0..u32::from(pool.n_players[e.2 as usize]) {
                    tickets.member(self.rows[pos] + p);
                }
            }
            if tickets.is_empty() {
                continue;
            }
            match b.plugin.filter(plugins.cycle, &self.tables[i], tickets, &mut self.keep) {
                Ok(()) => {
                    let mut k = self.keep.iter();
                    for u in used.iter_mut().filter(|u| !**u) {
                        if !k.next().copied().unwrap_or(keep_all) {
                            *u = true;
                        }
                    }
                }
                Err(_) if keep_all => {}
                Err(_) => used.iter_mut().for_each(|u| *u = true),
            }
        }
    }

    /// Judges one candidate (`seats` with the team of each in `teams`) against every
    /// plugin rule. Returns the first failing rule.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check(
        &mut self,
        plugins: &PluginRules,
        pool: &Pool,
        entries: &[Entry],
        n_teams: usize,
        seats: &[Seat],
        teams: &[u32],
        age: f64,
        complete: bool,
    ) -> Result<(), usize> {
        for (i, b) in plugins.bound.iter().enumerate() {
            let pass = if b.plugin.available(plugins.cycle) {
                self.ensure_tables(plugins, pool, entries);
                let batch = &mut self.batches[i];
                batch.clear();
                b.params_at(age, &mut self.params);
                encode(batch, &self.params, complete, n_teams, seats, teams, &self.rows, pool);
                match b.plugin.score(plugins.cycle, &self.tables[i], batch, &mut self.verdicts) {
                    Ok(()) => self.verdicts.first().is_some_and(|v| v.pass),
                    Err(_) => b.fallback(),
                }
            } else {
                b.fallback()
            };
            if !pass {
                return Err(b.rule);
            }
        }
        Ok(())
    }

    /// Judges several complete candidates for the same tickets (`assignments`: one team
    /// per seat each, concatenated) in one batch per plugin, and returns the index of the
    /// best passing one: highest total score, scored before unscored, then earliest.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn best(
        &mut self,
        plugins: &PluginRules,
        pool: &Pool,
        entries: &[Entry],
        n_teams: usize,
        seats: &[Seat],
        assignments: &[u32],
        age: f64,
    ) -> Option<usize> {
        let n = if seats.is_empty() { 0 } else { assignments.len() / seats.len() };
        self.alive.clear();
        self.alive.resize(n, true);
        self.scores.clear();
        self.scores.resize(n, None);
        for (i, b) in plugins.bound.iter().enumerate() {
            if !b.plugin.available(plugins.cycle) {
                if !b.fallback() {
                    return None;
                }
                continue;
            }
            self.ensure_tables(plugins, pool, entries);
            let batch = &mut self.batches[i];
            batch.clear();
            b.params_at(age, &mut self.params);
            for (c, teams) in assignments.chunks(seats.len()).enumerate() {
                if self.alive[c] {
                    encode(batch, &self.params, true, n_teams, seats, teams, &self.rows, pool);
                }
            }
            if batch.is_empty() {
                return None;
            }
            match b.plugin.score(plugins.cycle, &self.tables[i], batch, &mut self.verdicts) {
                Ok(()) => {
                    let mut v = self.verdicts.iter();
                    for c in 0..n {
                        if !self.alive[c] {
                            continue;
                        }
                        let verdict = v.next().copied().unwrap_or(Verdict { pass: false, score: None });
                        self.alive[c] = verdict.pass;
                        if let Some(s) = verdict.score {
                            self.scores[c] = Some(self.scores[c].unwrap_or(0.0) + s);
                        }
                    }
                }
                Err(_) if b.fallback() => {}
                Err(_) => return None,
            }
        }
        let mut best: Option<usize> = None;
        for c in (0..n).filter(|&c| self.alive[c]) {
            let better = match best {
                None => true,
                Some(b) => match (self.scores[c], self.scores[b]) {
                    (Some(x), Some(y)) => x > y,
                    (Some(_), None) => true,
                    _ => false,
                },
            };
            if better {
                best = Some(c);
            }
        }
        best
    }
}

/// Writes one candidate: every concrete team in order, each listing the rows of its seats'
/// players in seat order.
#[allow(clippy::too_many_arguments)]
fn encode(
    batch: &mut Batch,
    params: &[f64],
    complete: bool,
    n_teams: usize,
    seats: &[Seat],
    teams: &[u32],
    rows: &[u32],
    pool: &Pool,
) {
    batch.begin_candidate(params, complete);
    for team in 0..n_teams as u32 {
        batch.begin_team();
        for (&(slot, pos), _) in seats.iter().zip(teams).filter(|(_, t)| **t == team) {
            let first = rows[pos as usize];
            for p in 0..u32::from(pool.n_players[slot as usize]) {
                batch.member(first + p);
            }
        }
    }
}
