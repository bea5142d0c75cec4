//! Rallypoint: an embeddable, sans-IO matchmaking engine with the semantics of Amazon
//! GameLift FlexMatch.
//!
//! This crate reads FlexMatch rule sets and matchmaking configurations, validates them with
//! precise diagnostics, and compiles them into a form that can be evaluated against
//! candidate matches without allocating. It does no I/O: callers hand it text and time.
//!
//! ```ignore
//! let checked = rallypoint::ruleset::check(rule_set_json);
//! for d in &checked.diagnostics { eprint!("{}", rallypoint::diagnostic::render("rs.json", rule_set_json, &[d.clone()])); }
//! let rule_set = checked.value.expect("valid");
//! let compiled = rallypoint::ruleset::compile(&rule_set);
//! ```
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod api;
pub mod config;
pub mod diagnostic;
pub mod events;
pub mod expr;
pub mod intern;
pub mod json;
pub mod matchmaker;
pub mod plugin;
mod pool;
pub mod ruleset;
pub mod scenario;
mod search;
pub mod source;
mod suggest;
pub mod time;

pub use diagnostic::{Diagnostic, Severity};

/// The team-assignment solver, exposed only for the `benches` crate.
#[doc(hidden)]
pub mod __teams {
    pub use crate::search::teams::{Assignments, Party, TeamScratch, TeamSlots, best_assignments};
}

/// The result of checking a user document: the validated value when there were no errors,
/// and every diagnostic (errors and warnings) either way.
#[derive(Debug, Clone)]
pub struct Checked<T> {
    /// The validated value; `None` when any diagnostic is an error.
    pub value: Option<T>,
    /// All problems found, in document order.
    pub diagnostics: Vec<Diagnostic>,
}

impl<T> Checked<T> {
    /// Whether the document was accepted.
    pub fn is_valid(&self) -> bool {
        self.value.is_some()
    }
}
