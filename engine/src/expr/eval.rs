//! Compiled expressions and their allocation-free evaluation.

use super::ast::{Expr, Func};
use super::check::{Field, Scope, TeamRange, TeamSet, Ty, resolve};
use crate::intern::{Interner, Sym};

/// A candidate (partial or complete) match as seen by one rule; the engine implements it.
///
/// Teams are the *concrete* teams of the rule set, indexed in definition order (see the
/// [module documentation](super)); `member` indexes the players currently on a team.
pub trait Candidate {
    /// Number of concrete teams (all of them, including empty ones).
    fn team_count(&self) -> usize;
    /// Number of players currently on `team`.
    fn team_size(&self, team: usize) -> usize;
    /// A number attribute; `attr` is the attribute's index in [`Scope::attributes`].
    fn number(&self, team: usize, member: usize, attr: usize) -> f64;
    /// A string attribute.
    fn string(&self, team: usize, member: usize, attr: usize) -> Sym;
    /// A string_list attribute.
    fn string_list(&self, team: usize, member: usize, attr: usize) -> &[Sym];
    /// The player's id.
    fn player_id(&self, team: usize, member: usize) -> Sym;
}

/// The index of a [`Node`] in a [`Scratch`] arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeId(u32);

impl NodeId {
    /// The node's position in the arena.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One value of an evaluated expression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Node {
    /// A number.
    Num(f64),
    /// A string.
    Str(Sym),
    /// A concrete team.
    Team(u32),
    /// A player: the `member`-th player of concrete team `team`.
    Player {
        /// Concrete team index.
        team: u32,
        /// Index within the team.
        member: u32,
    },
    /// No value yet: an aggregation (`min`, `max`, `avg`, `median`, `stddev`) of an empty
    /// list, as happens while a match is partially built. Stands where a number would.
    Absent,
    /// A list; its elements are the `len` nodes starting at arena index `start`.
    List {
        /// Arena index of the first element.
        start: u32,
        /// Number of elements.
        len: u32,
    },
}

impl Node {
    /// The number, if this is [`Node::Num`].
    pub fn as_num(&self) -> Option<f64> {
        match *self {
            Node::Num(n) => Some(n),
            _ => None,
        }
    }

    /// The string, if this is [`Node::Str`].
    pub fn as_str(&self) -> Option<Sym> {
        match *self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A reusable arena for evaluation results. Each [`CompiledExpr::eval`] clears it (keeping
/// its capacity), so after a warm-up evaluation no further allocation happens. Node ids
/// are valid until the next evaluation with the same scratch.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    nodes: Vec<Node>,
    numbers: Vec<f64>,
}

impl Scratch {
    /// An empty arena.
    pub fn new() -> Scratch {
        Scratch::default()
    }

    /// The node `id`.
    ///
    /// # Panics
    /// If `id` does not come from the latest evaluation into this scratch.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The elements of the list `id`, in order; nothing for a non-list node.
    pub fn children(&self, id: NodeId) -> impl ExactSizeIterator<Item = NodeId> + DoubleEndedIterator + use<> {
        let (start, len) = match *self.node(id) {
            Node::List { start, len } => (start, len),
            _ => (0, 0),
        };
        (start..start + len).map(NodeId)
    }

    /// Calls `f` on every non-list node below `id` (or on `id` itself when it is not a
    /// list), depth-first in list order, `Absent` nodes included.
    pub fn for_each_leaf(&self, id: NodeId, mut f: impl FnMut(&Node)) {
        self.leaves(id, &mut f);
    }

    fn leaves(&self, id: NodeId, f: &mut impl FnMut(&Node)) {
        // Recursion depth is the value's list depth: at most 4 for any well-typed expression.
        match self.node(id) {
            Node::List { .. } => {
                for child in self.children(id) {
                    self.leaves(child, f);
                }
            }
            leaf => f(leaf),
        }
    }

    /// Appends `n` placeholder nodes and returns the index of the first.
    fn reserve(&mut self, n: usize) -> u32 {
        let start = self.nodes.len();
        self.nodes.resize(start + n, Node::Absent);
        start as u32
    }

    fn push(&mut self, node: Node) -> u32 {
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    /// Capacities of the internal buffers, for tests that check nothing reallocates.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> (usize, usize) {
        (self.nodes.capacity(), self.numbers.capacity())
    }

    fn at(&self, index: u32) -> Node {
        self.nodes[index as usize]
    }
}

/// Expression shapes common enough in rule sets that the search evaluates them natively,
/// from per-ticket columns and running aggregates, instead of through [`CompiledExpr::eval`].
/// Each names the attribute's slot in [`Scope::attributes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `flatten(teams[*].players.attributes[a])`, `a` a string_list attribute: one list per
    /// player, every team's players in team order.
    PlayerLists(usize),
    /// `avg(teams[*].players.attributes[a])`, `a` a number attribute: one average per team
    /// (`Absent` for a team with no players).
    TeamAverages(usize),
    /// `avg(flatten(teams[*].players.attributes[a]))`, `a` a number attribute: the average
    /// over every player, summed in team order (`Absent` when there are none).
    PlayerAverage(usize),
}

/// An expression compiled against one rule set: team names are concrete team indices and
/// the attribute is a slot number, so evaluation neither compares strings nor hashes.
///
/// It is a *source* (the path) followed by the unary functions applied innermost-first.
#[derive(Debug, Clone)]
pub struct CompiledExpr {
    teams: TeamSet,
    grouped: bool,
    field: Field,
    funcs: Box<[(Func, u32)]>,
    ty: Ty,
}

/// Compiles a checked expression.
///
/// The expression language has no string literals, so nothing needs `interner` today; it is
/// taken so that callers need not change if literals are added.
///
/// # Panics
/// If [`check`](super::check) rejects `expr` in `scope` (calling it on such an expression
/// is a bug of the caller).
pub fn compile(expr: &Expr, scope: &Scope<'_>, interner: &mut Interner) -> CompiledExpr {
    let _ = interner;
    let resolved = match resolve(expr, scope) {
        Ok(resolved) => resolved,
        Err(errors) => panic!("compile() called on an expression that check() rejects: {errors:?}"),
    };
    CompiledExpr {
        teams: resolved.teams,
        grouped: resolved.grouped,
        field: resolved.field,
        funcs: resolved.funcs.into_boxed_slice(),
        ty: resolved.ty,
    }
}

impl CompiledExpr {
    /// The type of the value [`eval`](Self::eval) produces.
    pub fn ty(&self) -> &Ty {
        &self.ty
    }

    /// The expression's shape, when it is one the search evaluates without this
    /// evaluator (see [`Shape`]); `None` for every other expression.
    pub fn shape(&self) -> Option<Shape> {
        if self.teams != TeamSet::All || !self.grouped {
            return None;
        }
        match (self.field, &*self.funcs) {
            (Field::StringList(a), [(Func::Flatten, 0)]) => Some(Shape::PlayerLists(a as usize)),
            (Field::Number(a), [(Func::Avg, 1)]) => Some(Shape::TeamAverages(a as usize)),
            (Field::Number(a), [(Func::Flatten, 0), (Func::Avg, 0)]) => Some(Shape::PlayerAverage(a as usize)),
            _ => None,
        }
    }

    /// Evaluates the expression against `cand`, clearing `scratch` first; returns the root
    /// of the result. Does not allocate once `scratch` has grown to the size this
    /// expression needs. Teams the candidate does not have (index ≥ `team_count()`) are
    /// left out of team lists and have no players.
    pub fn eval<C: Candidate + ?Sized>(&self, cand: &C, scratch: &mut Scratch) -> NodeId {
        scratch.nodes.clear();
        let mut value = self.source(cand, scratch);
        for &(func, depth) in self.funcs.iter() {
            value = lift(func, value, depth, scratch);
        }
        NodeId(scratch.push(value))
    }

    fn source<C: Candidate + ?Sized>(&self, cand: &C, s: &mut Scratch) -> Node {
        let count = cand.team_count();
        if !self.grouped {
            let team = match &self.teams {
                TeamSet::Ranges(ranges) => ranges.first().map_or(u32::MAX, |r| r.start),
                TeamSet::All => u32::MAX,
            };
            return self.team(cand, team, count, s);
        }
        let n = match &self.teams {
            TeamSet::All => count,
            TeamSet::Ranges(ranges) => ranges.iter().map(|&r| present(r, count).len()).sum(),
        };
        let start = s.reserve(n);
        let mut slot = start;
        let mut visit = |team: u32, s: &mut Scratch| {
            let node = self.team(cand, team, count, s);
            s.nodes[slot as usize] = node;
            slot += 1;
        };
        match &self.teams {
            TeamSet::All => (0..count as u32).for_each(|t| visit(t, s)),
            TeamSet::Ranges(ranges) => {
                for &r in ranges.iter() {
                    present(r, count).for_each(|t| visit(t, s));
                }
            }
        }
        Node::List { start, len: n as u32 }
    }

    fn team<C: Candidate + ?Sized>(&self, cand: &C, team: u32, count: usize, s: &mut Scratch) -> Node {
        if self.field == Field::Team {
            return Node::Team(team);
        }
        let t = team as usize;
        let size = if t < count { cand.team_size(t) } else { 0 };
        let start = s.reserve(size);
        for m in 0..size {
            let node = match self.field {
                Field::Team => Node::Team(team),
                Field::Player => Node::Player { team, member: m as u32 },
                Field::PlayerId => Node::Str(cand.player_id(t, m)),
                Field::Number(a) => Node::Num(cand.number(t, m, a as usize)),
                Field::String(a) => Node::Str(cand.string(t, m, a as usize)),
                Field::StringList(a) => {
                    let list = cand.string_list(t, m, a as usize);
                    let first = s.nodes.len() as u32;
                    s.nodes.extend(list.iter().map(|&sym| Node::Str(sym)));
                    Node::List { start: first, len: list.len() as u32 }
                }
            };
            s.nodes[start as usize + m] = node;
        }
        Node::List { start, len: size as u32 }
    }
}

/// The teams of `r` the candidate has.
fn present(r: TeamRange, count: usize) -> std::ops::Range<u32> {
    let end = (u64::from(r.start) + u64::from(r.len)).min(count as u64) as u32;
    r.start.min(end)..end
}

/// Applies `func` to every list `depth` levels below `value`, rebuilding the levels above.
fn lift(func: Func, value: Node, depth: u32, s: &mut Scratch) -> Node {
    if depth == 0 {
        return apply(func, value, s);
    }
    let Node::List { start, len } = value else {
        return value; // unreachable for checked expressions
    };
    let out = s.reserve(len as usize);
    for i in 0..len {
        let child = s.at(start + i);
        let result = lift(func, child, depth - 1, s);
        s.nodes[(out + i) as usize] = result;
    }
    Node::List { start: out, len }
}

/// Applies `func` to the list `value` itself.
fn apply(func: Func, value: Node, s: &mut Scratch) -> Node {
    let Node::List { start, len } = value else {
        return Node::Absent; // unreachable for checked expressions
    };
    let range = start as usize..(start + len) as usize;
    match func {
        Func::Count => Node::Num(f64::from(len)),
        Func::Flatten => {
            let first = s.nodes.len() as u32;
            for i in range {
                if let Node::List { start, len } = s.nodes[i] {
                    for j in start..start + len {
                        let node = s.at(j);
                        s.nodes.push(node);
                    }
                }
            }
            Node::List { start: first, len: s.nodes.len() as u32 - first }
        }
        Func::SetIntersection => set_intersection(range, s),
        Func::Sum => {
            let (n, total) = fold(&s.nodes[range.clone()], 0.0, |acc, x| acc + x);
            if n == 0 && len > 0 { Node::Absent } else { Node::Num(total) }
        }
        Func::Min => extremum(&s.nodes[range], f64::min),
        Func::Max => extremum(&s.nodes[range], f64::max),
        Func::Avg => {
            let (n, total) = fold(&s.nodes[range], 0.0, |acc, x| acc + x);
            if n == 0 { Node::Absent } else { Node::Num(total / n as f64) }
        }
        Func::Stddev => {
            let items = &s.nodes[range];
            let (n, total) = fold(items, 0.0, |acc, x| acc + x);
            if n == 0 {
                return Node::Absent;
            }
            let mean = total / n as f64;
            let (_, squares) = fold(items, 0.0, |acc, x| acc + (x - mean) * (x - mean));
            Node::Num((squares / n as f64).sqrt())
        }
        Func::Median => {
            s.numbers.clear();
            s.numbers.extend(s.nodes[range].iter().filter_map(Node::as_num));
            let numbers = &mut s.numbers;
            if numbers.is_empty() {
                return Node::Absent;
            }
            numbers.sort_unstable_by(f64::total_cmp);
            let mid = numbers.len() / 2;
            Node::Num(if numbers.len() % 2 == 1 { numbers[mid] } else { (numbers[mid - 1] + numbers[mid]) / 2.0 })
        }
    }
}

/// Folds the numbers among `items` (skipping `Absent`); returns how many there were.
fn fold(items: &[Node], init: f64, mut f: impl FnMut(f64, f64) -> f64) -> (usize, f64) {
    items.iter().filter_map(Node::as_num).fold((0, init), |(n, acc), x| (n + 1, f(acc, x)))
}

fn extremum(items: &[Node], pick: fn(f64, f64) -> f64) -> Node {
    items.iter().filter_map(Node::as_num).reduce(pick).map_or(Node::Absent, Node::Num)
}

/// The strings of the first sublist present in every other sublist, first occurrences only.
fn set_intersection(range: std::ops::Range<usize>, s: &mut Scratch) -> Node {
    let first_out = s.nodes.len() as u32;
    let lists = range.start as u32..range.end as u32;
    let Some(Node::List { start: head, len: head_len }) = lists.clone().next().map(|i| s.at(i)) else {
        return Node::List { start: first_out, len: 0 };
    };
    let contains = |nodes: &[Node], list: Node, sym: Sym| match list {
        Node::List { start, len } => nodes[start as usize..(start + len) as usize].contains(&Node::Str(sym)),
        _ => false,
    };
    for k in head..head + head_len {
        let Node::Str(sym) = s.at(k) else { continue };
        let nodes = &s.nodes;
        let duplicate = nodes[head as usize..k as usize].contains(&Node::Str(sym));
        if !duplicate && lists.clone().skip(1).all(|i| contains(nodes, nodes[i as usize], sym)) {
            s.nodes.push(Node::Str(sym));
        }
    }
    Node::List { start: first_out, len: s.nodes.len() as u32 - first_out }
}
