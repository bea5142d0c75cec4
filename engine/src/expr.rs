//! Property expressions: parsing, type checking, compilation and allocation-free evaluation.
//!
//! FlexMatch rules measure candidate matches with *property expressions* written as strings
//! inside the rule set, e.g. `avg(teams[*].players.attributes[skill])` or
//! `flatten(teams[*].players[playerId])` (spec §4). This module handles them in four steps:
//!
//! 1. [`parse`] turns the text into an [`Expr`] tree whose every node carries its byte
//!    [`Span`] within the expression string. The parser is iterative,
//!    panic-free on any input, and caps function nesting at [`MAX_NESTING`].
//! 2. [`check`] resolves team and attribute names against a rule set's [`Scope`] and infers
//!    the result [`Ty`], reporting every unknown name (with "did you mean" help) or the
//!    first type error.
//! 3. [`compile`] lowers a checked expression to a [`CompiledExpr`]: a *source* (the path,
//!    with team names turned into concrete team indices and the attribute name into its
//!    slot in [`Scope::attributes`]) plus the unary functions applied innermost-first, each
//!    with the list depth it is lifted over.
//! 4. [`CompiledExpr::eval`] evaluates it against a [`Candidate`] match into a [`Scratch`]
//!    arena of [`Node`]s. Evaluation compares no strings, hashes nothing, and after warm-up
//!    allocates nothing: the arena is cleared, not freed, between evaluations.
//!
//! # Teams
//!
//! A team definition with `quantity: q > 1` named `trio` generates the concrete teams
//! `trio_1` … `trio_q`; with quantity 1 the concrete team keeps the definition's name.
//! Concrete team indices follow definition order. In a team selector a name may be a
//! definition name or a generated name; a definition name with quantity ≠ 1 stands for all
//! its generated teams (a list). `teams[x]` yields one team only when `x` is a single
//! concrete team; `*`, a comma list or a multi-team definition yield a list of teams, in
//! concrete-index order for `*` and in written order for a comma list.
//!
//! # Evaluation semantics (our decisions where AWS is silent, spec §16 item 6)
//!
//! * Every function applies to the innermost list its type allows and is *lifted* over
//!   outer levels: applied to each sublist independently, giving a list of results.
//! * `min`, `max`, `avg`, `median` and `stddev` of an empty list are [`Node::Absent`]
//!   ("no value yet": the match is only partially built). All numeric aggregations
//!   (`min`, `max`, `avg`, `median`, `sum`, `stddev`) skip `Absent` elements; when the list
//!   is non-empty but every element is `Absent`, the result is `Absent`.
//! * `sum` of an empty list is `0`; `count` of an empty list is `0`. `count` is the length
//!   of the list: it counts `Absent` elements too.
//! * `stddev` is the population standard deviation (divides by *n*).
//! * `median` of an even number of values is the mean of the two middle values.
//! * `flatten` removes exactly the outermost level of nesting and is not lifted; it is a
//!   type error on a list that is already flat.
//! * `set_intersection` of a list of string lists yields the strings present in every
//!   sublist, without duplicates, in the order of the first sublist; of zero sublists it is
//!   the empty list. It is lifted over deeper nesting.

use std::fmt;

use crate::source::Span;

mod ast;
mod check;
mod eval;
mod parse;
#[cfg(test)]
mod tests;

pub use ast::{Call, Expr, ExprKind, Func, Name, Path, Selection, TeamSel};
pub use check::{AttrType, Scope, TeamScope, Ty, check};
pub use eval::{Candidate, CompiledExpr, Node, NodeId, Scratch, Shape, compile};
pub use parse::parse;

/// The deepest function nesting [`parse`] accepts; real rule sets use at most three levels.
pub const MAX_NESTING: usize = 64;

/// A problem with a property expression, located within the expression string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// First byte of the offending text, relative to the start of the expression string.
    pub start: usize,
    /// One past the last byte of the offending text.
    pub end: usize,
    /// A stable kebab-case identifier: `expr-syntax`, `unknown-function`, `unknown-team`,
    /// `unknown-attribute` or `expr-type`.
    pub code: &'static str,
    /// What is wrong, written for a rule author.
    pub message: String,
    /// How to fix it, when known (`did you mean 'skill'?`).
    pub help: Option<String>,
}

impl ExprError {
    pub(crate) fn new(span: Span, code: &'static str, message: impl Into<String>, help: Option<String>) -> ExprError {
        ExprError { start: span.start as usize, end: span.end as usize, code, message: message.into(), help }
    }

    /// The error's location as a [`Span`].
    pub fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExprError {}
