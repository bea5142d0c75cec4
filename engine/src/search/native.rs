//! Native evaluation of the two expression-rule shapes of typical team rule sets, from
//! per-ticket columns and the build's running aggregates instead of the expression
//! evaluator.
//!
//! - **Shared list values**: a `collection` rule with the `intersection` operation over
//!   `flatten(teams[*].players.attributes[a])` (any string_list `a`, either party
//!   aggregation). The intersection over every player's list does not depend on the
//!   teams, so the build keeps, per ticket frame, the AND of the tickets' value bitsets
//!   (`Pool::list_bits`: bit `i` = the `i`-th distinct value the pool has seen for that
//!   column, bit 63 = "some value without a bit"); the count is its popcount. When bit 63
//!   survives the AND, a value without a bit may be shared, and the evaluator decides.
//! - **Balanced teams**: a `distance` rule measuring `avg(teams[*].players.attributes[a])`
//!   against a number (with expansions) or `avg(flatten(teams[*].players.attributes[b]))`.
//!   The build keeps, per ticket frame, each team's running sum of each such attribute,
//!   added player by player in seating order, which is the evaluator's own summation order
//!   for a team's average. The reference sums every player in team order, which differs
//!   from seating order; it is taken from the team sums only when every value so far is a
//!   small dyadic rational (then every partial sum is exact and the order cannot matter),
//!   and otherwise by a pass over the build's players in team order.
//!
//! Both reproduce `CompiledRules::check_rule` bit for bit (debug builds assert it on every
//! check); everything else stays with the evaluator.

use crate::expr::Shape;
use crate::pool::{list_agg_index, number_agg_index};
use crate::ruleset::{CollectionOp, CompiledKind, CompiledRef, CompiledRules, Phase, Schedule};

/// The bit that stands for every list value without a bit of its own.
pub(crate) const OVERFLOW_BIT: u64 = 1 << 63;
/// Distinct values a bitset column can name (bits 0..63).
pub(crate) const BITSET_VALUES: usize = 63;

/// A rule the search checks natively.
#[derive(Debug, Clone)]
pub(crate) enum NativeRule {
    /// `collection` / `intersection` over every player's list: the count is the popcount
    /// of the AND of bitset column `column`.
    Intersection { column: usize, min: Option<Schedule>, max: Option<Schedule> },
    /// `distance` of every team's average of sum column `column` from `reference`.
    TeamAverages { column: usize, reference: AverageReference, min: Option<Schedule>, max: Option<Schedule> },
}

/// The reference of a [`NativeRule::TeamAverages`] rule.
#[derive(Debug, Clone)]
pub(crate) enum AverageReference {
    /// A number, possibly expanded.
    Number(Schedule),
    /// The average over every player of sum column `column`.
    Players { column: usize },
}

/// Which rules are native, and the per-ticket columns and build aggregates they read.
#[derive(Debug, Clone, Default)]
pub(crate) struct NativePlan {
    /// Per rule index.
    pub(crate) rules: Vec<Option<NativeRule>>,
    /// Bitset columns: `(string_list attribute, list aggregation index)`.
    pub(crate) bit_columns: Vec<(usize, usize)>,
    /// Sum columns: `(number attribute, number aggregation index)`.
    pub(crate) sum_columns: Vec<(usize, usize)>,
}

/// The column of `key` in `columns`, added if new.
fn column(columns: &mut Vec<(usize, usize)>, key: (usize, usize)) -> usize {
    columns.iter().position(|&c| c == key).unwrap_or_else(|| {
        columns.push(key);
        columns.len() - 1
    })
}

/// Recognises the native shapes among the gating rules of `rules`.
pub(crate) fn plan(rules: &CompiledRules) -> NativePlan {
    let mut plan = NativePlan { rules: vec![None; rules.rules().len()], ..NativePlan::default() };
    for &r in rules.gating_rules() {
        let rule = &rules.rules()[r];
        let native = match &rule.kind {
            CompiledKind::Collection { measurement, op: CollectionOp::Intersection, min, max, aggregation, .. } => {
                match measurement.shape() {
                    Some(Shape::PlayerLists(attr)) => Some(NativeRule::Intersection {
                        column: column(&mut plan.bit_columns, (attr, list_agg_index(*aggregation))),
                        min: min.clone(),
                        max: max.clone(),
                    }),
                    _ => None,
                }
            }
            CompiledKind::Distance { measurement, reference, min, max, aggregation } if !rule.final_only => {
                let agg = number_agg_index(*aggregation);
                let reference = match reference {
                    CompiledRef::Number(s) => Some(AverageReference::Number(s.clone())),
                    CompiledRef::Expr(e) => match e.shape() {
                        Some(Shape::PlayerAverage(attr)) => {
                            Some(AverageReference::Players { column: column(&mut plan.sum_columns, (attr, agg)) })
                        }
                        _ => None,
                    },
                    _ => None,
                };
                match (measurement.shape(), reference) {
                    (Some(Shape::TeamAverages(attr)), Some(reference)) => Some(NativeRule::TeamAverages {
                        column: column(&mut plan.sum_columns, (attr, agg)),
                        reference,
                        min: min.clone(),
                        max: max.clone(),
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        plan.rules[r] = native;
    }
    // At most 64 sum columns (their exactness flags share a word); rules beyond that, and
    // columns only they use, would stay with the evaluator. No real rule set comes close.
    if plan.sum_columns.len() > 64 {
        for r in plan.rules.iter_mut() {
            if matches!(r, Some(NativeRule::TeamAverages { .. })) {
                *r = None;
            }
        }
        plan.sum_columns.clear();
    }
    plan
}

/// Whether every partial sum of up to 256 values like `v` is exact: `v` is a multiple of
/// 2^-16 below 2^28 in magnitude (partial sums then stay multiples of 2^-16 below 2^36,
/// which 53 bits of mantissa hold exactly), so summation order cannot change the result.
#[inline]
pub(crate) fn dyadic(v: f64) -> bool {
    let scaled = v * 65536.0;
    v.abs() < 268_435_456.0 && scaled.trunc() == scaled
}

/// Most players a build may hold for the exact-sum shortcut (see [`dyadic`]).
pub(crate) const EXACT_PLAYERS: u32 = 256;

/// The intersection rule's verdict from the AND of the players' bitsets, or `None` when a
/// value without a bit may be shared (the evaluator must count).
#[inline]
pub(crate) fn intersection(
    and: u64,
    players: u32,
    min: Option<&Schedule>,
    max: Option<&Schedule>,
    age: f64,
    phase: Phase,
) -> Option<bool> {
    if players == 0 {
        return Some(true); // No lists at all.
    }
    if and & OVERFLOW_BIT != 0 {
        return None;
    }
    let count = f64::from(and.count_ones());
    // The intersection only shrinks as players join: a lower bound can fail early, an
    // upper bound only on the complete match.
    let min_ok = min.is_none_or(|s| count >= s.at(age));
    let max_ok = phase == Phase::Partial || max.is_none_or(|s| count <= s.at(age));
    Some(min_ok && max_ok)
}

/// The distance rule's verdict for team averages `sums[t] / counts(t)` against `reference`
/// (`None`: no reference yet, the rule holds).
#[inline]
pub(crate) fn team_averages(
    sums: impl Iterator<Item = (f64, usize)>,
    reference: Option<f64>,
    min: Option<&Schedule>,
    max: Option<&Schedule>,
    age: f64,
) -> bool {
    let Some(reference) = reference else { return true };
    let min = min.map_or(f64::NEG_INFINITY, |s| s.at(age));
    let max = max.map_or(f64::INFINITY, |s| s.at(age));
    let mut ok = true;
    for (sum, n) in sums {
        if n > 0 {
            let d = (sum / n as f64 - reference).abs();
            ok &= d >= min && d <= max;
        }
    }
    ok
}
