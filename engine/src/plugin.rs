//! Sandboxed WebAssembly rule plugins: the host side of plugin ABI v1
//! (`rules-plugins/ABI.md`).
//!
//! A plugin is a core wasm module that imports nothing and scores candidate matches in
//! batches against a player table. [`abi`] encodes the formats (pure Rust, always built).
//! [`PluginHost`] and [`Plugin`] run plugins with wasmtime; they need the `plugins`
//! feature (on by default). Without it they still exist, so callers need no `cfg`, but
//! [`PluginHost::new`] returns [`PluginError::Unsupported`].
//!
//! # Threading model
//!
//! One [`PluginHost`] per process holds the wasmtime `Engine` and an epoch ticker thread
//! (the only thread this crate starts itself; it ends when the last host and plugin are
//! dropped). [`PluginHost::load`] compiles a module once; the [`Plugin`] it returns is
//! `Send + Sync` and is shared by all search workers. Each plugin has a fixed number of
//! worker slots; a call takes the slot of the calling rayon thread
//! (`rayon::current_thread_index()`, the last slot for any other thread), and each slot
//! holds one long-lived wasm instance with its own store and memory. A worker is created
//! (instantiated and initialised) on first use, reloads the player table only when the
//! table changes, and never sees another thread's calls, so plugin calls do not contend.
//!
//! # Limits
//!
//! Per call: an epoch deadline ([`Limits::call_deadline_ticks`] ticks of
//! [`Limits::epoch_tick`]; [`Limits::init_deadline_ticks`] for instantiation, init and
//! table loads), a cap on linear memory ([`Limits::memory_bytes`]; a grow beyond it traps),
//! a wasm stack cap, and optionally fuel. At load: a module size cap, no imports, the
//! exports and their types, the ABI version, and one successful `rallypoint_init`.
//!
//! # Failure handling
//!
//! Every failure is a [`PluginError`]; nothing here panics on guest behaviour or hangs.
//! Whatever the guest returns is checked (buffer addresses, counts, verdict bits, scores).
//! After any failed call the worker's instance is discarded and rebuilt on the slot's next
//! use, since a trapped guest may be in a broken state. Failures are counted in
//! [`PluginHealth`], and a circuit breaker ([`Plugin::available`]) takes a plugin that
//! keeps failing out of the search for a growing number of cycles: a timeout (or running
//! out of fuel) trips it at once, otherwise three consecutive failed calls do; the `k`-th
//! trip in a row disables the plugin for `2^(k-1)` cycles (at most 1024) after the failing
//! cycle, and a successful call after the window resets the back-off.

pub mod abi;
#[cfg(feature = "plugins")]
mod breaker;
#[cfg(feature = "plugins")]
mod host;
#[cfg(not(feature = "plugins"))]
mod unsupported;

#[cfg(test)]
mod tests;

use std::fmt;
use std::time::Duration;

#[cfg(feature = "plugins")]
pub use host::{Plugin, PluginHost};
#[cfg(not(feature = "plugins"))]
pub use unsupported::{Plugin, PluginHost};

/// Resource limits for plugins, fixed when the [`PluginHost`] is created.
#[derive(Clone, Debug)]
pub struct Limits {
    /// How often the epoch ticker advances (default 1 ms).
    pub epoch_tick: Duration,
    /// Deadline of a `rallypoint_score` or `rallypoint_filter` call, in ticks (default 4).
    /// The deadline is wall time; a call past it is stopped once it has also spent one
    /// more tick on the CPU, so a thread the OS paused is not mistaken for a runaway
    /// plugin, and an infinite loop stops about one tick after the deadline (about 5 ms by
    /// default on a quiet machine; later in wall time when the CPU is contended).
    pub call_deadline_ticks: u64,
    /// Deadline of instantiation, `rallypoint_init` and `rallypoint_load_players`, in ticks
    /// (default 50).
    pub init_deadline_ticks: u64,
    /// Linear memory cap per instance (default 32 MiB).
    pub memory_bytes: usize,
    /// Wasm stack cap (default 256 KiB).
    pub max_wasm_stack: usize,
    /// Largest module accepted by [`PluginHost::load`] (default 4 MiB).
    pub module_max_bytes: usize,
    /// Whether calls also get a deterministic fuel budget (default off): 100,000 units per
    /// candidate or ticket, and 10 million for instantiation, init and table loads.
    /// Needed by [`Plugin::score_metered`].
    pub fuel: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            epoch_tick: Duration::from_millis(1),
            call_deadline_ticks: 4,
            init_deadline_ticks: 50,
            memory_bytes: 32 << 20,
            max_wasm_stack: 256 << 10,
            module_max_bytes: 4 << 20,
            fuel: false,
        }
    }
}

/// A plugin's health counters and circuit-breaker state, for metrics.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct PluginHealth {
    /// Calls to `rallypoint_score` and `rallypoint_filter` (failed ones included).
    pub calls: u64,
    /// Candidates and tickets in those calls.
    pub candidates: u64,
    /// Failed calls, of any kind (the counters below break them down).
    pub failures: u64,
    /// Calls stopped at their deadline or out of fuel.
    pub timeouts: u64,
    /// Calls that trapped (stack overflows included).
    pub traps: u64,
    /// Calls that tried to grow memory beyond the limit.
    pub memory_refusals: u64,
    /// Calls whose output broke the ABI.
    pub invalid_outputs: u64,
    /// Calls on which the plugin returned an error code.
    pub guest_errors: u64,
    /// Times the circuit breaker tripped.
    pub breaker_trips: u64,
    /// When the breaker is open: the first cycle in which the plugin is called again.
    pub disabled_until_cycle: Option<u64>,
    /// The message of the latest failure.
    pub last_error: Option<String>,
}

/// Why a plugin could not be loaded or a plugin call failed.
///
/// Every message names the plugin and says what happened in plain words.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PluginError {
    /// The module was refused at load: not valid wasm, too large, an import, a missing or
    /// mistyped export, another ABI version, or a failure of its first `rallypoint_init`.
    Load {
        /// The plugin's name.
        plugin: String,
        /// What was wrong, in plain words.
        reason: String,
    },
    /// A call ran past its epoch deadline and was stopped.
    Timeout {
        /// The plugin's name.
        plugin: String,
        /// The deadline in milliseconds.
        millis: u64,
    },
    /// A call used up its fuel budget (only with [`Limits::fuel`]).
    OutOfFuel {
        /// The plugin's name.
        plugin: String,
    },
    /// The guest tried to grow its linear memory beyond the limit.
    MemoryLimit {
        /// The plugin's name.
        plugin: String,
        /// The limit in bytes.
        limit_bytes: usize,
    },
    /// The guest exhausted the wasm stack.
    StackOverflow {
        /// The plugin's name.
        plugin: String,
    },
    /// The guest trapped (a panic, an out-of-bounds access, a division by zero, ...).
    Trap {
        /// The plugin's name.
        plugin: String,
        /// What the trap was, in plain words.
        trap: String,
    },
    /// The guest returned a negative error code.
    Guest {
        /// The plugin's name.
        plugin: String,
        /// The code.
        code: i32,
    },
    /// The guest's output broke the ABI.
    InvalidOutput {
        /// The plugin's name.
        plugin: String,
        /// What was wrong.
        what: &'static str,
    },
    /// This build has no plugin support (the `plugins` feature is off).
    Unsupported,
    /// The host failed for a reason that is not the guest's behaviour.
    Internal {
        /// The plugin's name.
        plugin: String,
        /// What happened.
        reason: String,
    },
}

impl PluginError {
    /// A stable short name of the failure kind, for metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginError::Load { .. } => "load",
            PluginError::Timeout { .. } => "timeout",
            PluginError::OutOfFuel { .. } => "out_of_fuel",
            PluginError::MemoryLimit { .. } => "memory_limit",
            PluginError::StackOverflow { .. } => "stack_overflow",
            PluginError::Trap { .. } => "trap",
            PluginError::Guest { .. } => "guest_error",
            PluginError::InvalidOutput { .. } => "invalid_output",
            PluginError::Unsupported => "unsupported",
            PluginError::Internal { .. } => "internal",
        }
    }

    /// The plugin's name (empty for [`PluginError::Unsupported`]).
    pub fn plugin(&self) -> &str {
        match self {
            PluginError::Load { plugin, .. }
            | PluginError::Timeout { plugin, .. }
            | PluginError::OutOfFuel { plugin }
            | PluginError::MemoryLimit { plugin, .. }
            | PluginError::StackOverflow { plugin }
            | PluginError::Trap { plugin, .. }
            | PluginError::Guest { plugin, .. }
            | PluginError::InvalidOutput { plugin, .. }
            | PluginError::Internal { plugin, .. } => plugin,
            PluginError::Unsupported => "",
        }
    }

    /// What happened, without the plugin's name: the message minus its "plugin 'x' ".
    fn what(&self) -> What<'_> {
        What(self)
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::Unsupported => {
                f.write_str("this build of Rallypoint has no plugin support (feature `plugins`)")
            }
            _ => write!(f, "plugin '{}' {}", self.plugin(), self.what()),
        }
    }
}

/// The predicate of a [`PluginError`] message ("ran longer than ...").
struct What<'a>(&'a PluginError);

impl fmt::Display for What<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            PluginError::Load { reason, .. } => write!(f, "could not be loaded: {reason}"),
            PluginError::Timeout { millis, .. } => {
                write!(f, "ran longer than its {millis} ms deadline and was stopped")
            }
            PluginError::OutOfFuel { .. } => {
                f.write_str("used up its fuel budget (too many instructions) and was stopped")
            }
            PluginError::MemoryLimit { limit_bytes, .. } => {
                write!(f, "tried to grow its memory beyond {}", Bytes(*limit_bytes))
            }
            PluginError::StackOverflow { .. } => f.write_str("overflowed its stack (recursion too deep?)"),
            PluginError::Trap { trap, .. } => write!(f, "trapped: {trap}"),
            PluginError::Guest { code, .. } => write!(f, "reported error code {code}"),
            PluginError::InvalidOutput { what, .. } => {
                write!(f, "returned output that breaks the plugin ABI: {what}")
            }
            PluginError::Unsupported => f.write_str("cannot run: no plugin support in this build"),
            PluginError::Internal { reason, .. } => write!(f, "could not be run: {reason}"),
        }
    }
}

/// A byte count in the largest whole unit ("32 MiB", "100 KiB", "12345 bytes").
struct Bytes(usize);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
            write!(f, "{} MiB", n >> 20)
        } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
            write!(f, "{} KiB", n >> 10)
        } else {
            write!(f, "{n} bytes")
        }
    }
}
