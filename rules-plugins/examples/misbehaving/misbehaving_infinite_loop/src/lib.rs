//! A plugin whose `rallypoint_score` never returns: the host's tests check that the epoch
//! deadline cuts it off, the call fails like a trap, and `onError` decides the candidates.
//! `rallypoint_init` and `rallypoint_load_players` behave, so the failure happens in
//! scoring.

use rallypoint_plugin_sdk::{Candidate, Rule, Setup, SetupError, Verdict, export_rule};

struct InfiniteLoop;

impl Rule for InfiniteLoop {
    fn new(_: &Setup) -> Result<Self, SetupError> {
        Ok(InfiniteLoop)
    }

    fn score(&self, c: &Candidate<'_>) -> Verdict {
        // Busy work the optimiser cannot remove or prove endless.
        let mut state = c.player_count() as u64;
        loop {
            state = core::hint::black_box(state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
}

export_rule!(InfiniteLoop);
