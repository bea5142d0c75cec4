//! The syntax tree of a property expression.

use std::fmt;

use crate::source::Span;

/// A parsed property expression: a chain of function calls around one path.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The whole expression's bytes within the expression string (surrounding whitespace
    /// excluded).
    pub span: Span,
    /// A call or a path.
    pub kind: ExprKind,
}

/// The two kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `func(arg)`.
    Call(Call),
    /// `teams[...]...`.
    Path(Path),
}

/// A function applied to one argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Which function.
    pub func: Func,
    /// The function name's bytes.
    pub name_span: Span,
    /// The single argument.
    pub arg: Box<Expr>,
}

/// The functions of the expression language (spec §4.2). Names are lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    /// `min`: smallest number.
    Min,
    /// `max`: largest number.
    Max,
    /// `avg`: arithmetic mean.
    Avg,
    /// `median`: middle value (mean of the two middle values for an even count).
    Median,
    /// `sum`: total.
    Sum,
    /// `count`: number of elements.
    Count,
    /// `stddev`: population standard deviation.
    Stddev,
    /// `flatten`: concatenates the sublists of a list of lists.
    Flatten,
    /// `set_intersection`: the strings present in every sublist.
    SetIntersection,
}

impl Func {
    /// Every function, in the order the documentation lists them.
    pub const ALL: [Func; 9] = [
        Func::Min,
        Func::Max,
        Func::Avg,
        Func::Median,
        Func::Sum,
        Func::Count,
        Func::Stddev,
        Func::Flatten,
        Func::SetIntersection,
    ];

    /// The function's name as written in expressions.
    pub fn name(self) -> &'static str {
        match self {
            Func::Min => "min",
            Func::Max => "max",
            Func::Avg => "avg",
            Func::Median => "median",
            Func::Sum => "sum",
            Func::Count => "count",
            Func::Stddev => "stddev",
            Func::Flatten => "flatten",
            Func::SetIntersection => "set_intersection",
        }
    }

    /// The function called `name` (exact, lower case).
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether this is one of the numeric aggregations (`min`, `max`, `avg`, `median`,
    /// `sum`, `stddev`): list of numbers to number.
    pub fn is_numeric(self) -> bool {
        matches!(self, Func::Min | Func::Max | Func::Avg | Func::Median | Func::Sum | Func::Stddev)
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `teams[sel]` optionally followed by `.players`, `.players[playerId]` or
/// `.players.attributes[name]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The `teams` keyword's bytes.
    pub keyword_span: Span,
    /// The keyword was written `team` (a typo in AWS's documentation we accept; the
    /// validator should warn).
    pub singular_team: bool,
    /// Which teams.
    pub teams: TeamSel,
    /// What is selected from them.
    pub selection: Selection,
}

/// The team selector between the brackets of `teams[...]`.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamSel {
    /// `*`: all teams; the span is the star's.
    All(Span),
    /// One or more comma-separated team names (definition or generated names).
    Names(Vec<Name>),
}

/// A name written in an expression (team or attribute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The name as written.
    pub text: String,
    /// Its bytes.
    pub span: Span,
}

/// What a path selects from its teams.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Nothing: the teams themselves.
    Teams,
    /// `.players`; the span is the `players` keyword's.
    Players(Span),
    /// `.players[playerId]`; the span is the `playerId` word's.
    PlayerId {
        /// Where `playerId` is written.
        span: Span,
        /// Written `playerid` (lower-case `i`, the 2019 documentation's spelling); the
        /// validator may warn.
        lowercase: bool,
    },
    /// `.players.attributes[name]`.
    Attribute(Name),
}

impl Expr {
    /// The path at the bottom of the call chain.
    pub fn path(&self) -> &Path {
        let mut e = self;
        loop {
            match &e.kind {
                ExprKind::Call(call) => e = &call.arg,
                ExprKind::Path(path) => return path,
            }
        }
    }

    /// The calls of the chain, outermost first.
    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        let mut next = Some(self);
        std::iter::from_fn(move || {
            let e = next?;
            match &e.kind {
                ExprKind::Call(call) => {
                    next = Some(&call.arg);
                    Some(call)
                }
                ExprKind::Path(_) => {
                    next = None;
                    None
                }
            }
        })
    }
}

/// Prints the expression back in normalised spacing (no whitespace), keeping the author's
/// `team`/`playerid` spellings so that parsing the output gives the same tree.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut depth = 0;
        for call in self.calls() {
            write!(f, "{}(", call.func)?;
            depth += 1;
        }
        write!(f, "{}", self.path())?;
        for _ in 0..depth {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.singular_team { "team[" } else { "teams[" })?;
        match &self.teams {
            TeamSel::All(_) => f.write_str("*")?,
            TeamSel::Names(names) => {
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(&name.text)?;
                }
            }
        }
        f.write_str("]")?;
        match &self.selection {
            Selection::Teams => Ok(()),
            Selection::Players(_) => f.write_str(".players"),
            Selection::PlayerId { lowercase, .. } => {
                f.write_str(if *lowercase { ".players[playerid]" } else { ".players[playerId]" })
            }
            Selection::Attribute(name) => write!(f, ".players.attributes[{}]", name.text),
        }
    }
}
