//! The machinery behind [`export_rule!`](crate::export_rule): the plugin's state, its three
//! buffers and the batch loops. Not a stable API; `export_rule!` and [`testing`](crate::testing)
//! are its only intended users.
//!
//! Everything here is safe code callable on any target, so the host-side tests run exactly
//! the code the exports run; only the cast of a buffer's address to an `i32` is wasm32-only.

use alloc::vec::Vec;
use core::cell::RefCell;

use crate::errors;
use crate::setup::Setup;
use crate::view::{CandidateBatch, TableLayout, TicketBatch};
use crate::{Filter, Rule};

/// `rallypoint_buffer` kinds.
const TABLE: usize = 0;
const INPUT: usize = 1;
const OUTPUT: usize = 2;

/// One plugin instance's state.
#[derive(Debug)]
pub struct Plugin<R> {
    /// Player table, input, output. `u64` words so that each buffer is 8-aligned.
    buffers: [Vec<u64>; 3],
    setup: Option<Setup>,
    rule: Option<R>,
    table: Option<TableLayout>,
}

impl<R> Default for Plugin<R> {
    fn default() -> Self {
        Plugin::new()
    }
}

impl<R> Plugin<R> {
    /// A plugin before `rallypoint_init`.
    pub const fn new() -> Plugin<R> {
        Plugin { buffers: [Vec::new(), Vec::new(), Vec::new()], setup: None, rule: None, table: None }
    }

    /// `rallypoint_buffer`: the buffer `kind`, grown to at least `min_bytes` bytes (its
    /// previous contents are not kept), or `None` for an unknown kind or when memory runs
    /// out.
    pub fn buffer(&mut self, kind: i32, min_bytes: u32) -> Option<&mut [u8]> {
        let index = usize::try_from(kind).ok().filter(|&k| k <= OUTPUT)?;
        let words = (min_bytes as usize).div_ceil(8).max(1);
        let buffer = &mut self.buffers[index];
        if buffer.len() < words {
            if index == TABLE {
                // The host reloads the table after growing its buffer.
                self.table = None;
            }
            // Free the old buffer first, so growing needs no more memory than the new size.
            *buffer = Vec::new();
            buffer.try_reserve_exact(words).ok()?;
            buffer.resize(words, 0);
        }
        Some(bytes_mut(buffer))
    }

    /// `rallypoint_buffer` as exported: the buffer's address, or 0.
    #[cfg(target_arch = "wasm32")]
    pub fn buffer_address(&mut self, kind: i32, min_bytes: i32) -> i32 {
        // Lengths are u32 reinterpreted (ABI.md); so are addresses, which fit in 32 bits.
        self.buffer(kind, min_bytes as u32).map_or(0, |b| b.as_mut_ptr() as usize as u32 as i32)
    }

    /// The first `len` bytes of the output buffer (for tests).
    pub fn output(&self, len: usize) -> &[u8] {
        let out = bytes(&self.buffers[OUTPUT]);
        &out[..len.min(out.len())]
    }

    /// `rallypoint_init`.
    pub fn init(&mut self, len: i32) -> i32
    where
        R: Rule,
    {
        self.setup = None;
        self.rule = None;
        self.table = None;
        let Some(input) = prefix(&self.buffers[INPUT], len) else { return errors::LENGTH };
        let setup = match Setup::parse(input) {
            Ok(setup) => setup,
            Err(code) => return code,
        };
        match R::new(&setup) {
            Ok(rule) => {
                self.setup = Some(setup);
                self.rule = Some(rule);
                0
            }
            Err(err) => err.code(),
        }
    }

    /// `rallypoint_load_players`.
    pub fn load_players(&mut self, len: i32) -> i32 {
        self.table = None;
        let (Some(setup), Some(_)) = (&self.setup, &self.rule) else { return errors::OUT_OF_ORDER };
        let Some(table) = prefix(&self.buffers[TABLE], len) else { return errors::LENGTH };
        match TableLayout::validate(table, setup) {
            Ok(layout) => {
                self.table = Some(layout);
                0
            }
            Err(code) => code,
        }
    }

    /// `rallypoint_score`: one verdict per candidate into the output buffer.
    pub fn score(&mut self, len: i32) -> i32
    where
        R: Rule,
    {
        let (Some(setup), Some(rule), Some(layout)) = (&self.setup, &self.rule, self.table) else {
            return errors::OUT_OF_ORDER;
        };
        let [table, input, output] = &mut self.buffers;
        let Some(table) = layout.view(bytes(table)) else { return errors::MALFORMED_INPUT };
        let Some(input) = prefix(input, len) else { return errors::LENGTH };
        let batch = match CandidateBatch::parse(input, setup, table) {
            Ok(batch) => batch,
            Err(code) => return code,
        };
        let n = batch.len();
        let out = bytes_mut(output);
        if n.checked_mul(16).is_none_or(|need| need > out.len()) || i32::try_from(n).is_err() {
            return errors::LENGTH;
        }
        for (i, verdict) in out.chunks_exact_mut(16).take(n).enumerate() {
            verdict.copy_from_slice(&rule.score(&batch.candidate(i)).encode());
        }
        n as i32
    }

    /// `rallypoint_filter`: one keep (1) / reject (0) byte per ticket into the output buffer.
    pub fn filter(&mut self, len: i32) -> i32
    where
        R: Filter,
    {
        let (Some(setup), Some(rule), Some(layout)) = (&self.setup, &self.rule, self.table) else {
            return errors::OUT_OF_ORDER;
        };
        let [table, input, output] = &mut self.buffers;
        let Some(table) = layout.view(bytes(table)) else { return errors::MALFORMED_INPUT };
        let Some(input) = prefix(input, len) else { return errors::LENGTH };
        let batch = match TicketBatch::parse(input, setup, table) {
            Ok(batch) => batch,
            Err(code) => return code,
        };
        let n = batch.len();
        let out = bytes_mut(output);
        if n > out.len() || i32::try_from(n).is_err() {
            return errors::LENGTH;
        }
        for (i, keep) in out[..n].iter_mut().enumerate() {
            *keep = u8::from(rule.keep(&batch.ticket(i)));
        }
        n as i32
    }
}

fn bytes(words: &[u64]) -> &[u8] {
    // SAFETY: the same memory, as bytes: `u8` has no alignment or validity requirements,
    // and `len * 8` bytes is exactly the words' extent.
    unsafe { core::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * 8) }
}

fn bytes_mut(words: &mut [u64]) -> &mut [u8] {
    // SAFETY: as in `bytes`; the exclusive borrow of the words is moved to the bytes.
    unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), words.len() * 8) }
}

/// The first `len` bytes of a buffer, if it has them (`len` is a `u32` reinterpreted).
fn prefix(words: &[u64], len: i32) -> Option<&[u8]> {
    bytes(words).get(..len as u32 as usize)
}

/// The plugin instance of a module: a `static` the exports share. A wasm32 module without
/// the `atomics` feature has exactly one thread, and the `RefCell` turns any re-entrant call
/// (an export called from inside a rule) into an error code instead of aliasing.
#[derive(Debug)]
pub struct Global<T>(RefCell<T>);

// SAFETY: see the type's docs: no other thread can exist. Not implemented elsewhere, so a
// `static Global` does not compile on targets with threads.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// Wraps the state.
    pub const fn new(value: T) -> Global<T> {
        Global(RefCell::new(value))
    }

    /// Runs `f` on the state (re-entrant calls get [`errors::OUT_OF_ORDER`]).
    pub fn with(&self, f: impl FnOnce(&mut T) -> i32) -> i32 {
        match self.0.try_borrow_mut() {
            Ok(mut state) => f(&mut state),
            Err(_) => errors::OUT_OF_ORDER,
        }
    }
}

/// Compile-time check that the exported type implements [`Rule`].
pub const fn assert_rule<R: Rule>() {}

/// Compile-time check that a type exported with `filter` implements [`Filter`].
pub const fn assert_filter<R: Filter>() {}

/// Used by `export_rule!(MyRule)` (without `filter`) to refuse a rule that implements
/// [`Filter`]: its filter would never run. For such a rule, `<MyRule as
/// RuleImplementsFilterButExportRuleLacksFilter<_>>` has two candidate impls and the
/// compiler reports "type annotations needed" naming this trait. Write
/// `export_rule!(MyRule, filter)`.
pub trait RuleImplementsFilterButExportRuleLacksFilter<A> {
    /// Named by the check.
    fn check() {}
}

impl<T: ?Sized> RuleImplementsFilterButExportRuleLacksFilter<()> for T {}

/// See [`RuleImplementsFilterButExportRuleLacksFilter`].
#[derive(Debug)]
pub struct ImplementsFilter;

impl<T: Filter> RuleImplementsFilterButExportRuleLacksFilter<ImplementsFilter> for T {}
