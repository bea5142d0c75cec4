//! A plugin's failure counters and circuit breaker. Pure bookkeeping, no wasm: the host
//! reports each call's outcome here and asks whether to call the plugin at all.
//!
//! The success path is lock-free (one relaxed load while nothing needs resetting), since
//! it runs once per batch on every worker thread; failures take a mutex.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{PluginError, PluginHealth};

/// Consecutive failed calls that trip the breaker.
const FAILURES_TO_TRIP: u32 = 3;
/// The longest window, in cycles (2^10).
const MAX_BACKOFF_EXPONENT: u32 = 10;

#[derive(Debug, Default)]
pub(super) struct Breaker {
    /// The first cycle in which the plugin may be called again (0: never tripped).
    open_until: AtomicU64,
    /// The highest cycle seen, to tell whether the breaker is open now.
    latest_cycle: AtomicU64,
    /// Whether a success has nothing to reset (no failure streak, no back-off).
    clean: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Failed calls since the last success.
    consecutive: u32,
    /// Trips since the last success after a window: the exponent of the next window.
    backoff_trips: u32,
    health: PluginHealth,
}

impl Breaker {
    pub(super) fn new() -> Breaker {
        Breaker { clean: AtomicBool::new(true), ..Breaker::default() }
    }

    /// Whether the plugin may be called in `cycle`.
    pub(super) fn available(&self, cycle: u64) -> bool {
        self.see(cycle);
        cycle >= self.open_until.load(Ordering::Relaxed)
    }

    /// Records a successful call made in `cycle` (`None`: outside the search, e.g.
    /// `plugin check`, which leaves the breaker alone).
    pub(super) fn success(&self, cycle: Option<u64>) {
        let Some(cycle) = cycle else { return };
        if self.clean.load(Ordering::Relaxed) {
            return;
        }
        let mut state = self.lock();
        state.consecutive = 0;
        // A call that was already in flight when the breaker tripped proves nothing about
        // the plugin's recovery; only a success after the window resets the back-off.
        if cycle >= self.open_until.load(Ordering::Relaxed) {
            state.backoff_trips = 0;
        }
        self.clean.store(state.backoff_trips == 0, Ordering::Relaxed);
    }

    /// Records a failed call made in `cycle` (`None`: outside the search; counted, but the
    /// breaker is left alone).
    pub(super) fn failure(&self, cycle: Option<u64>, err: &PluginError) {
        let mut state = self.lock();
        let health = &mut state.health;
        health.failures += 1;
        match err {
            PluginError::Timeout { .. } | PluginError::OutOfFuel { .. } => health.timeouts += 1,
            PluginError::Trap { .. } | PluginError::StackOverflow { .. } => health.traps += 1,
            PluginError::MemoryLimit { .. } => health.memory_refusals += 1,
            PluginError::InvalidOutput { .. } => health.invalid_outputs += 1,
            PluginError::Guest { .. } => health.guest_errors += 1,
            PluginError::Load { .. } | PluginError::Unsupported | PluginError::Internal { .. } => {}
        }
        health.last_error = Some(err.to_string());
        let Some(cycle) = cycle else { return };
        self.see(cycle);
        self.clean.store(false, Ordering::Relaxed);
        // Calls in flight when the breaker tripped may fail too; they must not trip it
        // again and double the window.
        if cycle < self.open_until.load(Ordering::Relaxed) {
            return;
        }
        state.consecutive += 1;
        let immediate = matches!(err, PluginError::Timeout { .. } | PluginError::OutOfFuel { .. });
        if immediate || state.consecutive >= FAILURES_TO_TRIP {
            state.consecutive = 0;
            state.backoff_trips += 1;
            state.health.breaker_trips += 1;
            let window = 1u64 << (state.backoff_trips - 1).min(MAX_BACKOFF_EXPONENT);
            // Disabled for the rest of `cycle` and the `window` cycles after it.
            self.open_until.store(cycle.saturating_add(window + 1), Ordering::Relaxed);
        }
    }

    /// The failure counters and breaker state (the caller fills in `calls` and
    /// `candidates`).
    pub(super) fn snapshot(&self) -> PluginHealth {
        let mut health = self.lock().health.clone();
        let open_until = self.open_until.load(Ordering::Relaxed);
        health.disabled_until_cycle = (open_until > self.latest_cycle.load(Ordering::Relaxed)).then_some(open_until);
        health
    }

    fn see(&self, cycle: u64) {
        if cycle > self.latest_cycle.load(Ordering::Relaxed) {
            self.latest_cycle.fetch_max(cycle, Ordering::Relaxed);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent across a panic (plain counters), so a poisoned lock
        // is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
