//! Name resolution and type inference.

use std::fmt;

use super::ExprError;
use super::ast::{Expr, Func, Name, Path, Selection, TeamSel};
use crate::suggest::did_you_mean;

/// The declared type of a player attribute (`playerAttributes[].type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// `"string"`
    String,
    /// `"number"`
    Number,
    /// `"string_list"`
    StringList,
    /// `"string_number_map"`: usable only through `mapKey` of sort rules, never in
    /// expressions.
    StringNumberMap,
}

impl AttrType {
    /// The type's name as written in rule sets (`"string_list"`).
    pub fn name(&self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Number => "number",
            AttrType::StringList => "string_list",
            AttrType::StringNumberMap => "string_number_map",
        }
    }
}

/// One team *definition* of a rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamScope {
    /// The definition's name.
    pub name: String,
    /// How many concrete teams it generates (`name_1` … `name_q` when `q > 1`).
    pub quantity: u32,
}

/// What an expression may refer to: the rule set's attributes and team definitions.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Declared player attributes, in declaration order. An attribute's index here is the
    /// `attr` argument [`Candidate`](super::Candidate) methods receive.
    pub attributes: &'a [(String, AttrType)],
    /// Team definitions, in definition order.
    pub teams: &'a [TeamScope],
}

/// The type of an expression's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    /// A number.
    Number,
    /// A string.
    String,
    /// A team.
    Team,
    /// A player.
    Player,
    /// A list of values of one type.
    List(Box<Ty>),
}

impl Ty {
    /// `List<ty>`.
    pub fn list(ty: Ty) -> Ty {
        Ty::List(Box::new(ty))
    }

    /// `ty` wrapped in `depth` lists.
    pub fn nested(mut ty: Ty, depth: usize) -> Ty {
        for _ in 0..depth {
            ty = Ty::list(ty);
        }
        ty
    }

    /// How many lists are nested around the innermost element type (0 for a scalar).
    pub fn depth(&self) -> usize {
        let mut t = self;
        let mut depth = 0;
        while let Ty::List(inner) = t {
            t = inner;
            depth += 1;
        }
        depth
    }

    /// The innermost, non-list element type (the type itself for a scalar).
    pub fn leaf(&self) -> &Ty {
        let mut t = self;
        while let Ty::List(inner) = t {
            t = inner;
        }
        t
    }
}

/// `number`, `list of number`, `list of list of string`, …
impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for _ in 0..self.depth() {
            f.write_str("list of ")?;
        }
        f.write_str(match self.leaf() {
            Ty::Number => "number",
            Ty::String => "string",
            Ty::Team => "team",
            Ty::Player => "player",
            Ty::List(_) => unreachable!("leaf() is never a list"),
        })
    }
}

/// Resolves the names of `expr` against `scope` and infers its type.
///
/// Reports every unknown team and attribute (with "did you mean" help) and every use of a
/// `string_number_map` attribute; when names resolve, reports the first function applied
/// to an argument of the wrong type (later ones would only be consequences).
pub fn check(expr: &Expr, scope: &Scope<'_>) -> Result<Ty, Vec<ExprError>> {
    resolve(expr, scope).map(|r| r.ty)
}

/// A contiguous run of concrete team indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TeamRange {
    pub(super) start: u32,
    pub(super) len: u32,
}

/// Which concrete teams a path selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TeamSet {
    /// `*`: every team of the candidate.
    All,
    /// Named teams, in written order.
    Ranges(Box<[TeamRange]>),
}

/// What a path reads from each player (or the teams themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Team,
    Player,
    PlayerId,
    Number(u32),
    String(u32),
    StringList(u32),
}

/// A checked expression with names resolved: the input of compilation.
#[derive(Debug)]
pub(super) struct Resolved {
    pub(super) teams: TeamSet,
    /// The path yields a list of teams (or of per-team lists) rather than one team.
    pub(super) grouped: bool,
    pub(super) field: Field,
    /// Functions innermost first, each with the number of outer list levels it is lifted
    /// over.
    pub(super) funcs: Vec<(Func, u32)>,
    pub(super) ty: Ty,
}

pub(super) fn resolve(expr: &Expr, scope: &Scope<'_>) -> Result<Resolved, Vec<ExprError>> {
    let path = expr.path();
    let mut errors = Vec::new();
    let (teams, grouped) = resolve_teams(path, scope, &mut errors);
    let field = resolve_field(path, scope, &mut errors);
    let (Some(teams), Some(field)) = (teams, field) else {
        return Err(errors);
    };
    let per_team = match field {
        Field::Team => Ty::Team,
        Field::Player => Ty::list(Ty::Player),
        Field::PlayerId | Field::String(_) => Ty::list(Ty::String),
        Field::Number(_) => Ty::list(Ty::Number),
        Field::StringList(_) => Ty::list(Ty::list(Ty::String)),
    };
    let mut ty = if grouped { Ty::list(per_team) } else { per_team };
    let calls: Vec<_> = expr.calls().collect();
    let mut funcs = Vec::with_capacity(calls.len());
    for call in calls.iter().rev() {
        match apply(call.func, &ty) {
            Ok((result, depth)) => {
                funcs.push((call.func, depth));
                ty = result;
            }
            Err((message, help)) => {
                return Err(vec![ExprError::new(call.name_span, "expr-type", message, help)]);
            }
        }
    }
    Ok(Resolved { teams, grouped, field, funcs, ty })
}

/// The result type of `func` applied to `arg` and the number of list levels it is lifted
/// over, or the error message and help.
fn apply(func: Func, arg: &Ty) -> Result<(Ty, u32), (String, Option<String>)> {
    let depth = arg.depth();
    let leaf = arg.leaf();
    let single = || format!("`{func}` expects a list, but its argument is a single {arg}");
    match func {
        _ if func.is_numeric() => {
            if depth == 0 {
                let help =
                    (*leaf == Ty::Number).then(|| format!("the argument already is one number; remove `{func}(...)`"));
                return Err((single(), help));
            }
            if *leaf != Ty::Number {
                let help = match leaf {
                    Ty::Player => {
                        "select a number attribute of the players, e.g. `.players.attributes[skill]`, \
                                   or count them with `count(...)`"
                    }
                    Ty::Team => {
                        "select a number attribute of the teams' players, e.g. \
                                 `teams[*].players.attributes[skill]`, or count the teams with `count(...)`"
                    }
                    _ => "only number attributes can be aggregated",
                };
                return Err((
                    format!("`{func}` expects a list of numbers, but its argument has type `{arg}`"),
                    Some(help.to_owned()),
                ));
            }
            Ok((Ty::nested(Ty::Number, depth - 1), (depth - 1) as u32))
        }
        Func::Count => {
            if depth == 0 {
                return Err((single(), None));
            }
            Ok((Ty::nested(Ty::Number, depth - 1), (depth - 1) as u32))
        }
        Func::Flatten => {
            if depth == 0 {
                return Err((format!("`flatten` expects a list of lists, but its argument is a single {arg}"), None));
            }
            if depth == 1 {
                return Err((
                    format!("`flatten` expects a list of lists, but its argument is already flat (`{arg}`)"),
                    Some("remove `flatten(...)`".to_owned()),
                ));
            }
            Ok((Ty::nested(leaf.clone(), depth - 1), 0))
        }
        Func::SetIntersection => {
            if *leaf != Ty::String || depth < 2 {
                let help = (*leaf == Ty::String && depth == 1).then(|| {
                    "a single list of strings has nothing to intersect with; pass one string list per \
                     player, e.g. `set_intersection(flatten(teams[*].players.attributes[<string_list attribute>]))`"
                        .to_owned()
                });
                return Err((
                    format!("`set_intersection` expects a list of string lists, but its argument has type `{arg}`"),
                    help,
                ));
            }
            Ok((Ty::nested(Ty::String, depth - 1), (depth - 2) as u32))
        }
        _ => unreachable!("every non-numeric function is handled"),
    }
}

/// Where a team name points: a run of concrete teams, and whether it names exactly one.
fn lookup_team(scope: &Scope<'_>, name: &str) -> Option<(TeamRange, bool)> {
    let mut base: u64 = 0;
    let mut bases = Vec::with_capacity(scope.teams.len());
    for def in scope.teams {
        if def.name == name {
            let range = TeamRange { start: clamp(base), len: def.quantity };
            return Some((range, def.quantity == 1));
        }
        bases.push(base);
        base += u64::from(def.quantity);
    }
    // A generated name `def_n`, 1 <= n <= quantity, n written without leading zeros.
    let (prefix, n) = name.rsplit_once('_')?;
    if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = n.parse().ok()?;
    scope.teams.iter().zip(bases).find_map(|(def, base)| {
        (def.name == prefix && def.quantity > 1 && n <= u64::from(def.quantity))
            .then(|| (TeamRange { start: clamp(base + n - 1), len: 1 }, true))
    })
}

fn clamp(index: u64) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

fn resolve_teams(path: &Path, scope: &Scope<'_>, errors: &mut Vec<ExprError>) -> (Option<TeamSet>, bool) {
    let names = match &path.teams {
        TeamSel::All(_) => return (Some(TeamSet::All), true),
        TeamSel::Names(names) => names,
    };
    let mut ranges = Vec::with_capacity(names.len());
    let mut single = false;
    for name in names {
        match lookup_team(scope, &name.text) {
            Some((range, one)) => {
                ranges.push(range);
                single = one;
            }
            None => errors.push(unknown_team(name, scope)),
        }
    }
    if ranges.len() < names.len() {
        return (None, false);
    }
    let grouped = !(names.len() == 1 && single);
    (Some(TeamSet::Ranges(ranges.into_boxed_slice())), grouped)
}

fn unknown_team(name: &Name, scope: &Scope<'_>) -> ExprError {
    // Generated names of huge definitions are not worth suggesting one by one.
    const MAX_GENERATED: u32 = 64;
    let mut candidates: Vec<String> = Vec::new();
    let mut listed: Vec<String> = Vec::new();
    for def in scope.teams {
        candidates.push(def.name.clone());
        if def.quantity > 1 {
            for n in 1..=def.quantity.min(MAX_GENERATED) {
                candidates.push(format!("{}_{n}", def.name));
            }
            listed.push(format!("{} ({}_1 … {}_{})", def.name, def.name, def.name, def.quantity));
        } else {
            listed.push(def.name.clone());
        }
    }
    // `trio_3` when trio has quantity 2, `red_1` when red has quantity 1.
    let numbered = name.text.rsplit_once('_').and_then(|(prefix, n)| {
        if n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = n.parse().ok()?;
        let def = scope.teams.iter().find(|d| d.name == prefix)?;
        Some(match def.quantity {
            1 => format!("team '{prefix}' has quantity 1, so its only team is called '{prefix}'"),
            q => format!(
                "team '{prefix}' has quantity {q}, so its teams are {prefix}_1 … {prefix}_{q}; {n} is out of range"
            ),
        })
    });
    let help = numbered.or_else(|| did_you_mean(&name.text, candidates.iter().map(String::as_str))).or_else(|| {
        Some(if listed.is_empty() {
            "the rule set defines no teams".to_owned()
        } else {
            format!("the rule set's teams are {}, or `*` for all", listed.join(", "))
        })
    });
    ExprError::new(name.span, "unknown-team", format!("unknown team '{}'", name.text), help)
}

fn resolve_field(path: &Path, scope: &Scope<'_>, errors: &mut Vec<ExprError>) -> Option<Field> {
    let name = match &path.selection {
        Selection::Teams => return Some(Field::Team),
        Selection::Players(_) => return Some(Field::Player),
        Selection::PlayerId { .. } => return Some(Field::PlayerId),
        Selection::Attribute(name) => name,
    };
    let Some(index) = scope.attributes.iter().position(|(n, _)| *n == name.text) else {
        let help = did_you_mean(&name.text, scope.attributes.iter().map(|(n, _)| n.as_str())).unwrap_or_else(|| {
            if scope.attributes.is_empty() {
                "declare it in `playerAttributes`".to_owned()
            } else {
                let declared: Vec<&str> = scope.attributes.iter().map(|(n, _)| n.as_str()).collect();
                format!("declare it in `playerAttributes`; declared attributes are {}", declared.join(", "))
            }
        });
        errors.push(ExprError::new(
            name.span,
            "unknown-attribute",
            format!("unknown player attribute '{}'", name.text),
            Some(help),
        ));
        return None;
    };
    let slot = clamp(index as u64);
    match scope.attributes[index].1 {
        AttrType::Number => Some(Field::Number(slot)),
        AttrType::String => Some(Field::String(slot)),
        AttrType::StringList => Some(Field::StringList(slot)),
        AttrType::StringNumberMap => {
            errors.push(ExprError::new(
                name.span,
                "expr-type",
                format!("attribute '{}' is a string_number_map, which cannot be used in a property expression", name.text),
                Some("string_number_map attributes are only read by absoluteSort and distanceSort rules through `mapKey`".to_owned()),
            ));
            None
        }
    }
}
