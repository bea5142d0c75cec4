//! Feeding a workload to a [`Matchmaker`] in simulated time, as the benches and tests do.

use rallypoint::matchmaker::Matchmaker;
use rallypoint::time::Time;

use crate::generate::{WorkloadItem, WorkloadRequest};

/// The simulated clock's origin: 2026-01-01T00:00:00Z.
pub const EPOCH: Time = Time(1_767_225_600_000);

/// Applies `items` (in time order) at their own times and runs a cycle every `cycle`
/// simulated seconds, from 0 through `until`. Requests are moved into the matchmaker, not
/// cloned. Requests the API refuses are counted, not fatal. Returns the number refused.
pub fn run_simulated(
    mm: &mut Matchmaker,
    items: impl IntoIterator<Item = WorkloadItem>,
    cycle: f64,
    until: f64,
) -> usize {
    let mut items = items.into_iter().peekable();
    let mut refused = 0;
    let mut k = 0u64;
    while k as f64 * cycle <= until {
        let tick = k as f64 * cycle;
        while let Some(item) = items.next_if(|i| i.at <= tick) {
            let now = EPOCH.plus_secs(item.at);
            let ok = match item.request {
                WorkloadRequest::Start(r) => mm.start_matchmaking(now, r).is_ok(),
                WorkloadRequest::Stop { ticket_id } => mm.stop_matchmaking(now, &ticket_id).is_ok(),
            };
            refused += usize::from(!ok);
        }
        mm.tick(EPOCH.plus_secs(tick));
        k += 1;
    }
    refused
}
