//! A plugin whose `rallypoint_score` allocates without bound: the host's tests check that
//! its memory limit refuses `memory.grow`, the allocation failure aborts (a trap), and
//! the call fails. `rallypoint_init` and `rallypoint_load_players` behave.

use rallypoint_plugin_sdk::{Candidate, Rule, Setup, SetupError, Verdict, export_rule};

struct MemoryHog;

impl Rule for MemoryHog {
    fn new(_: &Setup) -> Result<Self, SetupError> {
        Ok(MemoryHog)
    }

    fn score(&self, c: &Candidate<'_>) -> Verdict {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // 1 MiB at a time, kept alive and opaque to the optimiser. Reserved, not
            // written: the point is `memory.grow`, which must hit the limit long before
            // the call's deadline.
            let mut chunk: Vec<u8> = Vec::with_capacity(1 << 20);
            chunk.push(c.player_count() as u8);
            let chunk = core::hint::black_box(chunk);
            hoard.push(chunk);
            core::hint::black_box(&mut hoard);
        }
    }
}

export_rule!(MemoryHog);
