//! A plugin whose `rallypoint_score` panics on every call. Built with `panic = "abort"`,
//! the panic is a wasm trap (`unreachable`): the host's tests check that the call fails,
//! the instance is rebuilt, and `onError` decides the candidates. `rallypoint_init` and
//! `rallypoint_load_players` behave.

use rallypoint_plugin_sdk::{Candidate, Rule, Setup, SetupError, Verdict, export_rule};

struct Panic;

impl Rule for Panic {
    fn new(_: &Setup) -> Result<Self, SetupError> {
        Ok(Panic)
    }

    fn score(&self, c: &Candidate<'_>) -> Verdict {
        panic!("misbehaving_panic: score always panics (candidate with {} players)", c.player_count())
    }
}

export_rule!(Panic);
