//! A plugin whose `rallypoint_score` returns output the host must refuse as "invalid
//! output" (handled like a trap). Which violation depends only on the batch's number of
//! candidates `n` (so the plugin stays a pure function of its input):
//!
//! | `n % 4` | output |
//! |---|---|
//! | 0 | the verdicts are fine but the return value is `n + 1` (a wrong count) |
//! | 1 | the first verdict has flag bit 2 set (an unknown bit) |
//! | 2 | the first verdict has a score (bit 1) that is `NaN` |
//! | 3 | the first verdict's reserved word is 1 |
//!
//! So a batch of one candidate gets an unknown flag bit, and an empty batch a wrong count.
//! `rallypoint_init` and `rallypoint_load_players` behave.
//!
//! The SDK's `export_rule!` never writes invalid output, so this crate writes the exports
//! itself, over the SDK's runtime (a pass-everything rule) and corrupts what it wrote.

use rallypoint_plugin_sdk::__rt::Plugin;
use rallypoint_plugin_sdk::{Candidate, Rule, Setup, SetupError, Verdict};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code, reason = "exported on wasm32 only"))]
struct PassAll;

impl Rule for PassAll {
    fn new(_: &Setup) -> Result<Self, SetupError> {
        Ok(PassAll)
    }

    fn score(&self, _: &Candidate<'_>) -> Verdict {
        Verdict::pass_with_score(1.0)
    }
}

/// Runs the real scoring, then breaks its output as the table in the crate docs says.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code, reason = "exported on wasm32 only"))]
fn score_badly(plugin: &mut Plugin<PassAll>, len: i32) -> i32 {
    let n = plugin.score(len);
    if n < 0 {
        return n;
    }
    let Some(out) = plugin.buffer(2, 16) else { return n };
    match n % 4 {
        0 => return n + 1,
        1 => out[0] |= 1 << 2,
        2 => {
            out[0] |= 1 << 1;
            out[8..16].copy_from_slice(&f64::NAN.to_le_bytes());
        }
        _ => out[4] = 1,
    }
    n
}

#[cfg(target_arch = "wasm32")]
const _: () = {
    use rallypoint_plugin_sdk::__rt::Global;

    static PLUGIN: Global<Plugin<PassAll>> = Global::new(Plugin::new());

    #[unsafe(no_mangle)]
    extern "C" fn rallypoint_abi_version() -> i32 {
        1
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
        PLUGIN.with(|p| score_badly(p, len))
    }
};

#[cfg(test)]
mod tests {
    use super::*;
    use rallypoint_plugin_sdk::AttributeKind;
    use rallypoint_plugin_sdk::testing::{Host, TestCandidate, TestSetup, Value};

    /// Copies `bytes` into buffer `kind` as the host does; returns the length to pass.
    fn put(plugin: &mut Plugin<PassAll>, kind: i32, bytes: &[u8]) -> i32 {
        plugin.buffer(kind, bytes.len() as u32).expect("buffer")[..bytes.len()].copy_from_slice(bytes);
        bytes.len() as i32
    }

    /// The violations, through the same runtime the exports use (`Host` encodes the inputs).
    #[test]
    fn each_batch_size_breaks_a_different_rule_of_the_abi() {
        let setup = TestSetup::new().attribute("skill", AttributeKind::Number).teams(&["red"]);
        let mut host = Host::<PassAll>::new(&setup).unwrap();
        let mut plugin = Plugin::<PassAll>::new();
        let len = put(&mut plugin, 1, &host.encode_setup());
        assert_eq!(plugin.init(len), 0);
        let len = put(&mut plugin, 0, &host.encode_table(&[vec![Value::number(1.0)]]));
        assert_eq!(plugin.load_players(len), 0);
        for n in 0..4 {
            plugin.buffer(2, 64).expect("output buffer");
            let len = put(&mut plugin, 1, &host.encode_candidates(&vec![TestCandidate::complete(&[&[0]]); n]));
            let returned = score_badly(&mut plugin, len);
            let first = plugin.output(16);
            let flags = u32::from_le_bytes(first[..4].try_into().unwrap());
            let score = f64::from_le_bytes(first[8..].try_into().unwrap());
            match n {
                0 => assert_eq!(returned, 1),
                1 => assert_eq!((returned, flags), (1, 0b111)),
                2 => assert!(returned == 2 && flags == 0b11 && score.is_nan()),
                _ => assert_eq!((returned, flags, first[4]), (3, 0b11, 1)),
            }
        }
    }
}
