//! A plugin that imports a host function, `env.env_clock: () -> i64`, and calls it from
//! `rallypoint_score` (so the import survives optimisation). The ABI allows no imports:
//! the host's tests check that loading it is refused, naming the import.
//!
//! Apart from the import it is a valid plugin (it passes candidates by the parity of the
//! clock), so the refusal can only come from the import.

use rallypoint_plugin_sdk::{Candidate, Rule, Setup, SetupError, Verdict, export_rule};

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "env")]
unsafe extern "C" {
    /// What an author might wish for: the host's clock. There is no such import.
    fn env_clock() -> i64;
}

/// Native builds (`cargo test`, clippy on the host) have no wasm imports.
#[cfg(not(target_arch = "wasm32"))]
unsafe fn env_clock() -> i64 {
    0
}

struct ForbiddenImport;

impl Rule for ForbiddenImport {
    fn new(_: &Setup) -> Result<Self, SetupError> {
        Ok(ForbiddenImport)
    }

    fn score(&self, c: &Candidate<'_>) -> Verdict {
        // SAFETY: the function takes nothing and returns a plain integer; a host that
        // provided it could not break Rust's invariants through it.
        let now = unsafe { env_clock() };
        Verdict::from_bool((now + c.player_count() as i64) % 2 == 0)
    }
}

export_rule!(ForbiddenImport);
