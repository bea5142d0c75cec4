//! Compiling a [`RuleSet`] into [`CompiledRules`]: the form the search evaluates.
//!
//! Compilation happens once per rule set. Names become indices, string literals become
//! interned [`Sym`]s, expressions become [`CompiledExpr`]s, and every expandable value
//! becomes a [`Schedule`] looked up by age. Checking a rule against a candidate then does
//! no allocation (after the scratch buffers have warmed up), no hashing and no string
//! comparison.
//!
//! Latency rules are not evaluated here: they need per-location latencies, which the pool
//! keeps as location bitmasks; [`CompiledRules`] only supplies their thresholds. Sort rules
//! order candidates and have no verdict.

use crate::expr::{self, AttrType, Candidate, CompiledExpr, Node, NodeId, Scope, Scratch, TeamScope};
use crate::intern::{Interner, Sym};

use super::model::*;

/// A value that expansions change with age: `base` until the first step's time, then each
/// step's value from its time on.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The value before any expansion.
    pub base: f64,
    /// `(waitTimeSeconds, value)`, strictly increasing in time.
    pub steps: Vec<(f64, f64)>,
}

impl Schedule {
    /// The value in force for a match whose expansion age is `age_seconds`.
    #[inline]
    pub fn at(&self, age_seconds: f64) -> f64 {
        let mut value = self.base;
        for &(wait, v) in &self.steps {
            if age_seconds >= wait {
                value = v;
            } else {
                break;
            }
        }
        value
    }

    /// How many expansion steps apply at `age_seconds` (0 = none).
    pub fn level(&self, age_seconds: f64) -> usize {
        self.steps.iter().take_while(|(wait, _)| age_seconds >= *wait).count()
    }

    /// The largest value at any level.
    pub fn max_value(&self) -> f64 {
        self.steps.iter().fold(self.base, |a, &(_, v)| a.max(v))
    }
}

/// A compiled `referenceValue`.
#[derive(Debug, Clone)]
pub enum CompiledRef {
    /// No reference value.
    None,
    /// A number, possibly expanded.
    Number(Schedule),
    /// A string, possibly expanded: `(base, [(wait, value)])`.
    String(Sym, Vec<(f64, Sym)>),
    /// A literal list of strings.
    StringList(Vec<Sym>),
    /// An expression over the candidate.
    Expr(CompiledExpr),
}

/// One concrete team (definitions with `quantity > 1` yield several).
#[derive(Debug, Clone)]
pub struct ConcreteTeam {
    /// Its name (`red`, or `trio_2` for generated teams).
    pub name: String,
    /// Index of the definition it came from.
    pub definition: usize,
    /// `minPlayers`, with expansions.
    pub min_players: Schedule,
    /// `maxPlayers`, with expansions.
    pub max_players: Schedule,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// Rule name.
    pub name: String,
    /// What to check.
    pub kind: CompiledKind,
    /// Whether the rule can only be judged on a complete match (see [`Phase`]).
    pub final_only: bool,
}

/// The compiled, type-specific part of a rule.
#[derive(Debug, Clone)]
#[allow(missing_docs)] // Fields mirror `RuleKind`, documented there.
pub enum CompiledKind {
    BatchDistance {
        attribute: usize,
        numeric: bool,
        max_distance: Schedule,
        aggregation: NumberAggregation,
    },
    Comparison {
        measurement: CompiledExpr,
        reference: CompiledRef,
        op: CmpOp,
        aggregation: NumberAggregation,
    },
    Distance {
        measurement: CompiledExpr,
        reference: CompiledRef,
        min: Option<Schedule>,
        max: Option<Schedule>,
        aggregation: NumberAggregation,
    },
    Collection {
        measurement: CompiledExpr,
        op: CollectionOp,
        reference: CompiledRef,
        min: Option<Schedule>,
        max: Option<Schedule>,
        aggregation: ListAggregation,
    },
    Compound {
        statement: Statement,
    },
    Latency {
        max_latency: Schedule,
        max_distance: Option<Schedule>,
        distance_reference: Option<DistanceReference>,
        aggregation: NumberAggregation,
    },
    Sort {
        absolute: bool,
        rule: SortRule,
    },
    /// Judged by a WebAssembly plugin through the search (see `crate::plugin`).
    Plugin {
        attributes: Vec<usize>,
        parameters: Vec<CompiledParameter>,
        on_error: OnError,
    },
}

/// A plugin rule's parameter.
#[derive(Debug, Clone)]
pub struct CompiledParameter {
    /// Its name.
    pub name: String,
    /// The name interned as a string, so a plugin can recognise player values equal to it.
    pub symbol: Sym,
    /// Its value, with expansions.
    pub value: Schedule,
}

/// Whether a candidate is still being built or is about to be emitted.
///
/// FlexMatch evaluates rules as each ticket is tentatively added, but some rules can only
/// hold for a finished match (`count(teams[a].players) = count(teams[b].players)`). Rules
/// whose verdict can still change in the rule's favour as players are added are checked
/// only in [`Phase::Complete`] (spec §7.5, docs/semantics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A tentative addition to a match under construction.
    Partial,
    /// A match about to be emitted.
    Complete,
}

/// Reusable buffers for rule checks; one per worker thread.
#[derive(Debug, Default)]
pub struct RuleScratch {
    expr: Scratch,
    syms: Vec<Sym>,
    counts: Vec<u32>,
    keys: Vec<u64>,
}

/// A rule set compiled for evaluation.
#[derive(Debug, Clone)]
pub struct CompiledRules {
    rule_set: RuleSet,
    interner: Interner,
    teams: Vec<ConcreteTeam>,
    rules: Vec<CompiledRule>,
    /// Rules whose verdict gates a match on its own (not compound operands, not sorts).
    gating: Vec<usize>,
}

/// Compiles a validated rule set.
pub fn compile(rule_set: &RuleSet) -> CompiledRules {
    let attributes: Vec<(String, AttrType)> = rule_set.attributes.iter().map(|a| (a.name.clone(), a.ty)).collect();
    let team_scope: Vec<TeamScope> =
        rule_set.teams.iter().map(|t| TeamScope { name: t.name.clone(), quantity: t.quantity }).collect();
    let scope = Scope { attributes: &attributes, teams: &team_scope };
    let mut interner = Interner::new();

    let numeric_steps = |target: &ExpansionTarget| -> Vec<(f64, f64)> {
        rule_set
            .expansions
            .iter()
            .find(|e| e.target == *target)
            .map(|e| {
                e.steps
                    .iter()
                    .filter_map(|s| match s.value {
                        ExpansionValue::Number(n) => Some((s.wait_time_seconds, n)),
                        ExpansionValue::String(_) => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let team_steps = |definition: usize, property: TeamProperty| -> Vec<(f64, f64)> {
        rule_set
            .expansions
            .iter()
            .find(|e| matches!(&e.target, ExpansionTarget::Teams { teams, property: p } if *p == property && teams.contains(&definition)))
            .map(|e| {
                e.steps
                    .iter()
                    .filter_map(|s| match s.value {
                        ExpansionValue::Number(n) => Some((s.wait_time_seconds, n)),
                        ExpansionValue::String(_) => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };

    let mut teams = Vec::new();
    for (definition, def) in rule_set.teams.iter().enumerate() {
        for name in def.concrete_names() {
            teams.push(ConcreteTeam {
                name,
                definition,
                min_players: Schedule {
                    base: f64::from(def.min_players),
                    steps: team_steps(definition, TeamProperty::MinPlayers),
                },
                max_players: Schedule {
                    base: f64::from(def.max_players),
                    steps: team_steps(definition, TeamProperty::MaxPlayers),
                },
            });
        }
    }

    let mut rules = Vec::new();
    for (index, rule) in rule_set.rules.iter().enumerate() {
        let schedule = |property: RuleProperty, base: f64| Schedule {
            base,
            steps: numeric_steps(&ExpansionTarget::Rule { rule: index, property }),
        };
        let compile_ref = |reference: Option<&Reference>, interner: &mut Interner| -> CompiledRef {
            match reference {
                None => CompiledRef::None,
                Some(Reference::Number(n)) => CompiledRef::Number(schedule(RuleProperty::ReferenceValue, *n)),
                Some(Reference::String(s)) => {
                    let steps = rule_set
                        .expansions
                        .iter()
                        .find(|e| {
                            e.target == ExpansionTarget::Rule { rule: index, property: RuleProperty::ReferenceValue }
                        })
                        .map(|e| {
                            e.steps
                                .iter()
                                .filter_map(|st| match &st.value {
                                    ExpansionValue::String(v) => Some((st.wait_time_seconds, interner.intern(v))),
                                    ExpansionValue::Number(_) => None,
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    CompiledRef::String(interner.intern(s), steps)
                }
                Some(Reference::StringList(list)) => {
                    CompiledRef::StringList(list.iter().map(|s| interner.intern(s)).collect())
                }
                Some(Reference::Expr(e)) => CompiledRef::Expr(expr::compile(&e.expr, &scope, interner)),
            }
        };
        let (kind, final_only) = match &rule.kind {
            RuleKind::BatchDistance { attribute, max_distance, party_aggregation } => (
                CompiledKind::BatchDistance {
                    attribute: *attribute,
                    numeric: max_distance.is_some(),
                    max_distance: schedule(RuleProperty::MaxDistance, max_distance.unwrap_or(0.0)),
                    aggregation: *party_aggregation,
                },
                false,
            ),
            RuleKind::Comparison { measurement, reference, operation, party_aggregation } => {
                let final_only = uses_count(&measurement.expr)
                    || matches!(reference, Some(Reference::Expr(e)) if uses_count(&e.expr));
                (
                    CompiledKind::Comparison {
                        measurement: expr::compile(&measurement.expr, &scope, &mut interner),
                        reference: compile_ref(reference.as_ref(), &mut interner),
                        op: *operation,
                        aggregation: *party_aggregation,
                    },
                    final_only,
                )
            }
            RuleKind::Distance { measurement, reference, min_distance, max_distance, party_aggregation } => {
                let final_only =
                    uses_count(&measurement.expr) || matches!(reference, Reference::Expr(e) if uses_count(&e.expr));
                (
                    CompiledKind::Distance {
                        measurement: expr::compile(&measurement.expr, &scope, &mut interner),
                        reference: compile_ref(Some(reference), &mut interner),
                        min: min_distance.map(|d| schedule(RuleProperty::MinDistance, d)),
                        max: max_distance.map(|d| schedule(RuleProperty::MaxDistance, d)),
                        aggregation: *party_aggregation,
                    },
                    final_only,
                )
            }
            RuleKind::Collection { measurement, operation, reference, min_count, max_count, party_aggregation } => (
                CompiledKind::Collection {
                    measurement: expr::compile(&measurement.expr, &scope, &mut interner),
                    op: *operation,
                    reference: compile_ref(reference.as_ref(), &mut interner),
                    min: min_count.map(|c| schedule(RuleProperty::MinCount, c)),
                    max: max_count.map(|c| schedule(RuleProperty::MaxCount, c)),
                    aggregation: *party_aggregation,
                },
                false,
            ),
            RuleKind::Compound { statement, .. } => (CompiledKind::Compound { statement: statement.clone() }, false),
            RuleKind::Latency { max_latency, max_distance, distance_reference, party_aggregation } => (
                CompiledKind::Latency {
                    max_latency: schedule(RuleProperty::MaxLatency, *max_latency),
                    max_distance: max_distance.map(|d| schedule(RuleProperty::MaxDistance, d)),
                    distance_reference: *distance_reference,
                    aggregation: *party_aggregation,
                },
                false,
            ),
            RuleKind::AbsoluteSort(s) => (CompiledKind::Sort { absolute: true, rule: s.clone() }, false),
            RuleKind::DistanceSort(s) => (CompiledKind::Sort { absolute: false, rule: s.clone() }, false),
            RuleKind::Plugin(p) => (
                CompiledKind::Plugin {
                    attributes: p.attributes.clone(),
                    parameters: p
                        .parameters
                        .iter()
                        .enumerate()
                        .map(|(i, (name, base))| CompiledParameter {
                            name: name.clone(),
                            symbol: interner.intern(name),
                            value: schedule(RuleProperty::Parameter(i as u16), *base),
                        })
                        .collect(),
                    on_error: p.on_error,
                },
                false,
            ),
        };
        rules.push(CompiledRule { name: rule.name.clone(), kind, final_only });
    }
    let gating = rule_set
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_compound_operand && !r.kind.is_sort())
        .map(|(i, _)| i)
        .collect();
    CompiledRules { rule_set: rule_set.clone(), interner, teams, rules, gating }
}

fn uses_count(e: &expr::Expr) -> bool {
    e.calls().any(|c| c.func == expr::Func::Count)
}

impl CompiledRules {
    /// The rule set this was compiled from.
    pub fn rule_set(&self) -> &RuleSet {
        &self.rule_set
    }

    /// Every expansion step's `waitTimeSeconds`, ascending and without repeats: a ticket's
    /// step in every schedule is fixed by how many of these its age has reached.
    pub fn expansion_times(&self) -> Vec<f64> {
        let mut times: Vec<f64> =
            self.rule_set.expansions.iter().flat_map(|e| e.steps.iter().map(|s| s.wait_time_seconds)).collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        times
    }

    /// The string table holding rule literals. Ticket strings must be interned into a
    /// clone of it (or a table seeded from it) so symbols compare correctly.
    pub fn interner(&self) -> &Interner {
        &self.interner
    }

    /// Concrete teams in index order.
    pub fn teams(&self) -> &[ConcreteTeam] {
        &self.teams
    }

    /// Compiled rules in document order.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Indices of the rules that gate a match on their own.
    pub fn gating_rules(&self) -> &[usize] {
        &self.gating
    }

    /// Checks every gating rule except latency (see the module docs) against `cand`.
    pub fn check_all<C: Candidate + ?Sized>(
        &self,
        cand: &C,
        scratch: &mut RuleScratch,
        age_seconds: f64,
        phase: Phase,
    ) -> bool {
        self.gating.iter().all(|&r| self.check_rule(r, cand, scratch, age_seconds, phase))
    }

    /// Checks rule `rule` against `cand` at expansion age `age_seconds`.
    ///
    /// Latency, sort and plugin rules always pass here: the pool evaluates latency with
    /// location bitmasks, sort rules only order candidates, and the search batches plugin
    /// rules into calls to the plugin.
    pub fn check_rule<C: Candidate + ?Sized>(
        &self,
        rule: usize,
        cand: &C,
        scratch: &mut RuleScratch,
        age_seconds: f64,
        phase: Phase,
    ) -> bool {
        let compiled = &self.rules[rule];
        if compiled.final_only && phase == Phase::Partial {
            return true;
        }
        match &compiled.kind {
            CompiledKind::BatchDistance { attribute, numeric, max_distance, .. } => {
                batch_distance(cand, *attribute, numeric.then(|| max_distance.at(age_seconds)))
            }
            CompiledKind::Comparison { measurement, reference, op, .. } => {
                let reference = scalar_reference(reference, cand, scratch, age_seconds);
                let root = measurement.eval(cand, &mut scratch.expr);
                compare(&scratch.expr, root, reference, *op, &mut scratch.keys)
            }
            CompiledKind::Distance { measurement, reference, min, max, .. } => {
                let Scalar::Num(reference) = scalar_reference(reference, cand, scratch, age_seconds) else {
                    return true; // No reference yet (an aggregate over no players).
                };
                let min = min.as_ref().map_or(f64::NEG_INFINITY, |s| s.at(age_seconds));
                let max = max.as_ref().map_or(f64::INFINITY, |s| s.at(age_seconds));
                let root = measurement.eval(cand, &mut scratch.expr);
                let mut ok = true;
                scratch.expr.for_each_leaf(root, |node| {
                    if let Node::Num(m) = node {
                        let d = (m - reference).abs();
                        ok &= d >= min && d <= max;
                    }
                });
                ok
            }
            CompiledKind::Collection { measurement, op, reference, min, max, .. } => {
                let min = min.as_ref().map(|s| s.at(age_seconds));
                let max = max.as_ref().map(|s| s.at(age_seconds));
                self.collection(cand, scratch, measurement, *op, reference, min, max, age_seconds, phase)
            }
            CompiledKind::Compound { statement } => self.statement(statement, cand, scratch, age_seconds, phase),
            CompiledKind::Latency { .. } | CompiledKind::Sort { .. } | CompiledKind::Plugin { .. } => true,
        }
    }

    fn statement<C: Candidate + ?Sized>(
        &self,
        s: &Statement,
        cand: &C,
        scratch: &mut RuleScratch,
        age: f64,
        phase: Phase,
    ) -> bool {
        match s {
            Statement::Rule(r) => self.check_rule(*r, cand, scratch, age, phase),
            Statement::And(v) => v.iter().all(|s| self.statement(s, cand, scratch, age, phase)),
            Statement::Or(v) => v.iter().any(|s| self.statement(s, cand, scratch, age, phase)),
            Statement::Xor(v) => v.iter().filter(|s| self.statement(s, cand, scratch, age, phase)).count() == 1,
            Statement::Not(s) => {
                // A partial match that does not yet violate an operand may still come to
                // satisfy `not(...)` only once complete; judge negations on complete matches.
                phase == Phase::Partial || !self.statement(s, cand, scratch, age, phase)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn collection<C: Candidate + ?Sized>(
        &self,
        cand: &C,
        scratch: &mut RuleScratch,
        measurement: &CompiledExpr,
        op: CollectionOp,
        reference: &CompiledRef,
        min: Option<f64>,
        max: Option<f64>,
        age: f64,
        phase: Phase,
    ) -> bool {
        let within = |n: f64, check_min: bool, check_max: bool| {
            (!check_min || min.is_none_or(|m| n >= m)) && (!check_max || max.is_none_or(|m| n <= m))
        };
        // Reference lists are copied out first: evaluating an expression resets the arena.
        scratch.syms.clear();
        match reference {
            CompiledRef::StringList(list) => scratch.syms.extend_from_slice(list),
            CompiledRef::Expr(e) if op == CollectionOp::ReferenceIntersectionCount => {
                let root = e.eval(cand, &mut scratch.expr);
                let syms = &mut scratch.syms;
                scratch.expr.for_each_leaf(root, |n| {
                    if let Node::Str(s) = n {
                        syms.push(*s);
                    }
                });
            }
            _ => {}
        }
        let contains_ref = match (op, reference) {
            (CollectionOp::Contains, CompiledRef::String(base, steps)) => Some(string_at(*base, steps, age)),
            (CollectionOp::Contains, CompiledRef::Expr(e)) => {
                let root = e.eval(cand, &mut scratch.expr);
                match scratch.expr.node(root) {
                    Node::Str(s) => Some(*s),
                    _ => return true,
                }
            }
            _ => None,
        };
        let root = measurement.eval(cand, &mut scratch.expr);
        let arena = &scratch.expr;
        match op {
            CollectionOp::Contains => {
                let wanted = contains_ref.expect("validated");
                let count = arena
                    .children(root)
                    .filter(|&list| arena.children(list).any(|c| matches!(arena.node(c), Node::Str(s) if *s == wanted)))
                    .count();
                // The count only grows as players join: an upper bound can fail early, a
                // lower bound only on the complete match.
                within(count as f64, phase == Phase::Complete, true)
            }
            CollectionOp::Intersection => {
                let mut lists = arena.children(root);
                let Some(first) = lists.next() else {
                    return true;
                };
                scratch.counts.clear();
                let mut n_lists = 1u32;
                let first_syms = arena.children(first).filter_map(|c| match arena.node(c) {
                    Node::Str(s) => Some(*s),
                    _ => None,
                });
                let start = scratch.syms.len();
                for s in first_syms {
                    if !scratch.syms[start..].contains(&s) {
                        scratch.syms.push(s);
                        scratch.counts.push(1);
                    }
                }
                for list in lists {
                    n_lists += 1;
                    for (k, s) in scratch.syms[start..].iter().enumerate() {
                        if arena.children(list).any(|c| matches!(arena.node(c), Node::Str(x) if x == s)) {
                            scratch.counts[k] += 1;
                        }
                    }
                }
                let count = scratch.counts.iter().filter(|&&c| c == n_lists).count();
                // The intersection only shrinks as players join: a lower bound can fail
                // early, an upper bound only on the complete match.
                within(count as f64, true, phase == Phase::Complete)
            }
            CollectionOp::ReferenceIntersectionCount => {
                let reference = &scratch.syms;
                arena.children(root).all(|list| {
                    let count = arena
                        .children(list)
                        .filter(|&c| matches!(arena.node(c), Node::Str(s) if reference.contains(s)))
                        .count();
                    within(count as f64, true, true)
                })
            }
        }
    }
}

fn string_at(base: Sym, steps: &[(f64, Sym)], age: f64) -> Sym {
    steps.iter().take_while(|(wait, _)| age >= *wait).last().map_or(base, |(_, s)| *s)
}

/// A single reference value.
#[derive(Debug, Clone, Copy)]
enum Scalar {
    None,
    Absent,
    Num(f64),
    Str(Sym),
}

fn scalar_reference<C: Candidate + ?Sized>(
    reference: &CompiledRef,
    cand: &C,
    scratch: &mut RuleScratch,
    age: f64,
) -> Scalar {
    match reference {
        CompiledRef::None => Scalar::None,
        CompiledRef::Number(s) => Scalar::Num(s.at(age)),
        CompiledRef::String(base, steps) => Scalar::Str(string_at(*base, steps, age)),
        CompiledRef::StringList(_) => Scalar::None,
        CompiledRef::Expr(e) => {
            let root = e.eval(cand, &mut scratch.expr);
            match *scratch.expr.node(root) {
                Node::Num(n) => Scalar::Num(n),
                Node::Str(s) => Scalar::Str(s),
                _ => Scalar::Absent,
            }
        }
    }
}

fn compare(arena: &Scratch, root: NodeId, reference: Scalar, op: CmpOp, keys: &mut Vec<u64>) -> bool {
    let holds = |a: f64, b: f64| match op {
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    };
    match reference {
        Scalar::Absent => true,
        Scalar::Num(r) => {
            let mut ok = true;
            arena.for_each_leaf(root, |n| {
                if let Node::Num(m) = n {
                    ok &= holds(*m, r);
                }
            });
            ok
        }
        Scalar::Str(r) => {
            let mut ok = true;
            arena.for_each_leaf(root, |n| {
                if let Node::Str(s) = n {
                    ok &= if op == CmpOp::Eq { *s == r } else { *s != r };
                }
            });
            ok
        }
        Scalar::None => {
            // No reference: '=' means all values are equal, '!=' means no two are.
            keys.clear();
            arena.for_each_leaf(root, |n| match n {
                Node::Num(m) => keys.push(m.to_bits()),
                Node::Str(s) => keys.push(u64::from(s.0) | (1 << 63)),
                _ => {}
            });
            if op == CmpOp::Eq {
                keys.windows(2).all(|w| w[0] == w[1])
            } else {
                keys.sort_unstable();
                keys.windows(2).all(|w| w[0] != w[1])
            }
        }
    }
}

fn batch_distance<C: Candidate + ?Sized>(cand: &C, attribute: usize, max_distance: Option<f64>) -> bool {
    match max_distance {
        Some(max) => {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for team in 0..cand.team_count() {
                for member in 0..cand.team_size(team) {
                    let v = cand.number(team, member, attribute);
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
            hi - lo <= max || lo > hi
        }
        None => {
            let mut first: Option<Sym> = None;
            for team in 0..cand.team_count() {
                for member in 0..cand.team_size(team) {
                    let v = cand.string(team, member, attribute);
                    if *first.get_or_insert(v) != v {
                        return false;
                    }
                }
            }
            true
        }
    }
}
