//! Write Rallypoint matchmaking rules in Rust, compile them to WebAssembly, and let the
//! engine run them, sandboxed, next to its FlexMatch rules.
//!
//! A complete plugin (the crate is a `cdylib`, built with
//! `cargo build --release --target wasm32-unknown-unknown`):
//!
//! ```
//! use rallypoint_plugin_sdk::{Attr, Candidate, Param, Rule, Setup, SetupError, Verdict, export_rule, kind};
//!
//! /// The teams' average skills may differ by at most `maxGap`; the closer, the better.
//! struct MaxGap {
//!     skill: Attr<kind::Number>,
//!     max_gap: Param,
//! }
//!
//! impl Rule for MaxGap {
//!     fn new(setup: &Setup) -> Result<Self, SetupError> {
//!         // Looked up once, by name: fails if "skill" is missing or is not a number.
//!         Ok(MaxGap { skill: setup.attribute("skill")?, max_gap: setup.parameter("maxGap")? })
//!     }
//!
//!     fn score(&self, c: &Candidate<'_>) -> Verdict {
//!         // Averages move as players join, so a match under construction can still pass.
//!         if !c.is_complete() {
//!             return Verdict::pass();
//!         }
//!         let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
//!         for team in c.teams().filter(|t| !t.is_empty()) {
//!             let average = team.players().map(|p| p.number(self.skill)).sum::<f64>() / team.len() as f64;
//!             low = low.min(average);
//!             high = high.max(average);
//!         }
//!         let gap = (high - low).max(0.0); // 0 when fewer than two teams have players
//!         if gap <= c.param(self.max_gap) { Verdict::pass_with_score(-gap) } else { Verdict::fail() }
//!     }
//! }
//!
//! export_rule!(MaxGap);
//! #
//! # // The SDK's own doctest runs the rule on the host, through the exports' code:
//! # fn main() {
//! #     use rallypoint_plugin_sdk::AttributeKind;
//! #     use rallypoint_plugin_sdk::testing::{Host, TestCandidate, TestSetup, Value};
//! #     let setup = TestSetup::new().attribute("skill", AttributeKind::Number).parameter("maxGap", 100.0).teams(&["red", "blue"]);
//! #     let mut host = Host::<MaxGap>::new(&setup).unwrap();
//! #     host.load_players(&[1000.0, 1100.0, 1500.0, 1050.0].map(|s| vec![Value::number(s)])).unwrap();
//! #     let v = host.score(&[
//! #         TestCandidate::complete(&[&[0, 2], &[1, 3]]),   // 1250 vs 1075: gap 175
//! #         TestCandidate::complete(&[&[0, 1], &[2, 3]]),   // 1050 vs 1275: gap 225
//! #         TestCandidate::complete(&[&[0, 2], &[1, 3]]).with_params(&[200.0]), // expanded
//! #         TestCandidate::partial(&[&[2], &[0]]),
//! #     ]).unwrap();
//! #     assert_eq!(v, [Verdict::fail(), Verdict::fail(), Verdict::pass_with_score(-175.0), Verdict::pass()]);
//! #     let err = Host::<MaxGap>::new(&TestSetup::new().attribute("skill", AttributeKind::String).parameter("maxGap", 1.0));
//! #     assert_eq!(err.err(), Some(SetupError::AttributeKind.code()));
//! # }
//! ```
//!
//! and its rule in the rule set (see the engine's documentation for `"type": "plugin"`):
//!
//! ```json
//! { "name": "FairTeams", "type": "plugin", "plugin": "max_gap", "attributes": ["skill"],
//!   "parameters": { "maxGap": 100 }, "onError": "reject" }
//! ```
//!
//! # How a plugin works
//!
//! The engine loads the module once per worker thread. [`Rule::new`] runs once per
//! instance, with the rule's [`Setup`]: its `attributes` (the columns of the player table,
//! looked up with [`Setup::attribute`]), its `parameters` ([`Setup::parameter`]) and the
//! concrete teams. Then, each cycle, the engine loads a player table and asks the plugin
//! about batches of candidate matches: [`Rule::score`] runs once per [`Candidate`], and
//! reads its [`Team`]s, their [`Player`]s' attribute values and the [`Candidate::param`]
//! values in force (expansions change them over time). Nothing is copied: the views read
//! the bytes the engine wrote into the module's memory. The wire format is specified in
//! `ABI.md` (next to this crate in the repository), which this crate implements.
//!
//! [`export_rule!`] generates every export of the ABI (the three buffers, the batch loops,
//! verdict encoding); a plugin never sees a pointer.
//!
//! ## Purity
//!
//! `score` and `keep` must be pure functions of the setup, the player table and the
//! candidate (or ticket). Every worker thread has its own instance, and a batch can be
//! split or reordered arbitrarily, so state carried from one call to the next would make
//! results depend on scheduling: no counters, caches keyed by row, or randomness.
//! (`rallypoint plugin check` scores the same candidates in two batchings and compares.)
//! Scratch space that is reset on every call is fine.
//!
//! ## Complete and partial candidates
//!
//! [`Candidate::is_complete`] tells a finished match, about to be proposed, from a match
//! under construction: the search asks whether adding a ticket keeps the rule satisfiable.
//! On a partial candidate, **fail only if no way of completing it can pass**: a role queue
//! fails when the seated players cannot all get distinct required roles, not because a
//! role is still missing; a rule on averages, which any later player can move, passes. A
//! rule that fails partial candidates too eagerly never sees a complete one.
//!
//! ## Scores
//!
//! [`Verdict::pass_with_score`] ranks alternatives: when several complete candidates for
//! the same tickets pass every rule (the team assignments the search tries), the engine
//! proposes the highest score; unscored candidates rank below scored ones, and ties keep
//! the search's order (best team balance first). A non-finite score is dropped (the engine
//! would refuse the whole batch). Scores of partial or failing candidates are ignored.
//!
//! ## Parties
//!
//! A ticket with several players is a party, and every member is a [`Player`] of its own
//! row. The values are the ones FlexMatch rules see with the default `partyAggregation`:
//! each member's `number` attributes hold the **party's average**, and its `string_list`
//! attributes the **union** of the members' lists. `string` attributes and maps are per
//! player. Members of a party are always on the same team.
//!
//! ## Filtering tickets
//!
//! A rule may also implement [`Filter`] to drop tickets it can never match before the
//! search spends time on them (a rejected ticket is asked again next cycle). Export it
//! with `export_rule!(MyRule, filter)`. The engine takes the presence of the
//! `rallypoint_filter` export to mean "this plugin filters", so `export_rule!(MyRule)`
//! does not generate it, and refuses to compile for a rule that implements [`Filter`]
//! (the message names `RuleImplementsFilterButExportRuleLacksFilter`).
//!
//! ## Cost
//!
//! The engine calls a plugin millions of times per second, in batches. Look everything up
//! by name in `new`, never in `score`; keep `score` free of allocation; prefer one
//! comparison per candidate against a bound computed once over per-player float logic.
//! Data-dependent float comparisons (`if a < b`, `f64::min`/`max`, `select`) cost more in
//! wasm than natively: the engine's compiler (Cranelift) turns a float select into a
//! conditional jump where native code is branch-free, so they mispredict on fresh data.
//! Integer logic and straight-line arithmetic cost about what they cost natively.
//!
//! ## Errors and failures
//!
//! A panic traps the instance (plugins are built with `panic = "abort"`), as do an
//! infinite loop (cut off by the engine's deadline, a few milliseconds per call) and
//! running out of the 32 MiB of memory. The engine then rebuilds the instance and the
//! rule's `onError` decides the candidates of the failed call. [`SetupError`] refuses the
//! plugin at load. Malformed input from the engine is answered with a negative code from
//! [`errors`], never with undefined behaviour: every read is bounds-checked.
//!
//! ## `std`, `no_std` and what a `no_std` plugin must provide
//!
//! This crate is `#![no_std]` and has no dependencies, but it uses `alloc` (it owns its
//! three buffers as growable vectors and keeps a copy of the setup). A plugin built with
//! `std` for `wasm32-unknown-unknown` (the default, and what `rallypoint plugin new`
//! generates) just works: `std` brings an allocator, a panic handler and `f64` functions
//! like `powf` and `ln`, and imports nothing from the host. A `#![no_std]` plugin must
//! provide a `#[global_allocator]` (for instance `dlmalloc`'s, which is what `std` uses on
//! this target) and a `#[panic_handler]` (e.g. one that calls
//! `core::arch::wasm32::unreachable()`), and must not import anything.
//!
//! ## Testing
//!
//! [`testing::Host`] plays the engine's part on the host, so a rule can be unit-tested
//! with `cargo test` (see that module).

#![no_std]

extern crate alloc;

#[doc(hidden)]
#[path = "rt.rs"]
pub mod __rt;
pub mod errors;
mod read;
mod setup;
pub mod testing;
#[cfg(test)]
mod tests;
mod verdict;
mod view;

pub use setup::{Attr, AttributeInfo, AttributeKind, Param, ParameterInfo, Setup, SetupError, Symbol, kind};
pub use verdict::Verdict;
pub use view::{Candidate, NumberMap, Player, Players, Symbols, Team, Teams, Ticket};

/// The ABI version this crate implements (`rallypoint_abi_version`).
pub const ABI_VERSION: u32 = 1;

/// A matchmaking rule. Implement it and export the type with [`export_rule!`].
pub trait Rule: Sized + 'static {
    /// Builds the rule from its setup, once per instance: look up attributes, parameters,
    /// symbols and teams by name here. An error refuses the plugin.
    fn new(setup: &Setup) -> Result<Self, SetupError>;

    /// The verdict for one candidate match (see the crate docs on purity and on partial
    /// candidates).
    fn score(&self, candidate: &Candidate<'_>) -> Verdict;
}

/// A rule that can also reject tickets outright. Export it with
/// `export_rule!(MyRule, filter)`.
pub trait Filter: Rule {
    /// Whether to keep `ticket` in this cycle's search. Return `false` only for tickets
    /// that cannot satisfy the rule in any match (with the parameter values in force).
    fn keep(&self, ticket: &Ticket<'_>) -> bool;
}

/// Exports a [`Rule`] as a plugin: `export_rule!(MyRule)`, or `export_rule!(MyRule,
/// filter)` for a rule that also implements [`Filter`]. Use it once, in the plugin's crate
/// root.
///
/// On `wasm32` it generates the ABI's exports (`rallypoint_abi_version`,
/// `rallypoint_buffer`, `rallypoint_init`, `rallypoint_load_players`, `rallypoint_score`,
/// and with `filter`, `rallypoint_filter`) over one instance of the plugin's state. On
/// other targets it only checks the types, so a plugin crate also builds and tests
/// natively.
///
/// A rule that implements [`Filter`] but is exported without `filter` does not compile:
///
/// ```compile_fail
/// use rallypoint_plugin_sdk::{Candidate, Filter, Rule, Setup, SetupError, Ticket, Verdict, export_rule};
/// struct Picky;
/// impl Rule for Picky {
///     fn new(_: &Setup) -> Result<Self, SetupError> { Ok(Picky) }
///     fn score(&self, _: &Candidate<'_>) -> Verdict { Verdict::pass() }
/// }
/// impl Filter for Picky {
///     fn keep(&self, t: &Ticket<'_>) -> bool { t.len() < 3 }
/// }
/// export_rule!(Picky); // error: type annotations needed (RuleImplementsFilterButExportRuleLacksFilter)
/// # fn main() {}
/// ```
///
/// and neither does `filter` for a rule without [`Filter`]:
///
/// ```compile_fail
/// use rallypoint_plugin_sdk::{Candidate, Rule, Setup, SetupError, Verdict, export_rule};
/// struct Plain;
/// impl Rule for Plain {
///     fn new(_: &Setup) -> Result<Self, SetupError> { Ok(Plain) }
///     fn score(&self, _: &Candidate<'_>) -> Verdict { Verdict::pass() }
/// }
/// export_rule!(Plain, filter); // error: the trait bound `Plain: Filter` is not satisfied
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_rule {
    ($rule:ty $(,)?) => {
        $crate::__export_rule!($rule);
        const _: fn() = || {
            // `$rule` implements `Filter`: export it with `export_rule!($rule, filter)`.
            let _ = <$rule as $crate::__rt::RuleImplementsFilterButExportRuleLacksFilter<_>>::check;
        };
    };
    ($rule:ty, filter $(,)?) => {
        $crate::__export_rule!($rule, filter);
    };
}

/// The exports behind [`export_rule!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __export_rule {
    (@assert filter $rule:ty) => {
        $crate::__rt::assert_filter::<$rule>()
    };
    (@export filter $plugin:ident) => {
        #[unsafe(no_mangle)]
        extern "C" fn rallypoint_filter(len: i32) -> i32 {
            $plugin.with(|p| p.filter(len))
        }
    };
    ($rule:ty $(, $filter:ident)?) => {
        const _: () = $crate::__rt::assert_rule::<$rule>();
        $(const _: () = $crate::__export_rule!(@assert $filter $rule);)?

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            static PLUGIN: $crate::__rt::Global<$crate::__rt::Plugin<$rule>> =
                $crate::__rt::Global::new($crate::__rt::Plugin::new());

            #[unsafe(no_mangle)]
            extern "C" fn rallypoint_abi_version() -> i32 {
                $crate::ABI_VERSION as i32
            }

            #[unsafe(no_mangle)]
            extern "C" fn rallypoint_buffer(kind: i32, min_bytes: i32) -> i32 {
                PLUGIN.with(|p| p.buffer_address(kind, min_bytes))
            }

            #[unsafe(no_mangle)]
            extern "C" fn rallypoint_init(len: i32) -> i32 {
                PLUGIN.with(|p| p.init(len))
            }

            #[unsafe(no_mangle)]
            extern "C" fn rallypoint_load_players(len: i32) -> i32 {
                PLUGIN.with(|p| p.load_players(len))
            }

            #[unsafe(no_mangle)]
            extern "C" fn rallypoint_score(len: i32) -> i32 {
                PLUGIN.with(|p| p.score(len))
            }

            $($crate::__export_rule!(@export $filter PLUGIN);)?
        };
    };
}
