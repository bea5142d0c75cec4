//! The event consumer: reads the matchmaker's event stream on its own thread and records,
//! for every player and every match, what the quality report needs.

use std::collections::HashMap;
use std::time::Instant;

use rallypoint::api::{AttributeValue, Player};
use rallypoint::events::{Event, EventDetail, EventTicket};

use super::sample::{Moments, Reservoir};

/// (record, team, latencies) of one player of a match.
type Member = (PlayerRecord, Option<rallypoint::events::Name>, Vec<(String, u32)>);
use rallypoint::time::Time;

/// A submitted ticket's players, sent to the consumer before the request is applied.
#[derive(Debug)]
pub(crate) struct TicketMsg {
    pub(crate) ticket_id: String,
    pub(crate) players: Vec<Player>,
}

/// What the consumer needs to know about the run.
#[derive(Debug, Clone)]
pub(crate) struct ConsumerSetup {
    /// The numeric attribute that is the player's skill.
    pub(crate) skill_attribute: String,
    /// Distinct expansion step times, ascending.
    pub(crate) expansion_steps: Vec<f64>,
    /// Whether expansions follow the oldest ticket's age (else the newest's).
    pub(crate) expansion_oldest: bool,
    /// Most players, and most matches, whose records are kept for the quality figures;
    /// beyond that they come from a uniform random sample of this many.
    pub(crate) sample_cap: usize,
    /// Seed of that sample.
    pub(crate) seed: u64,
}

/// How a player's ticket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Matched,
    TimedOut,
    Cancelled,
    Failed,
    Unfinished,
}

/// One player of a ticket that was submitted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlayerRecord {
    /// Skill; NaN when the player has none.
    pub(crate) skill: f32,
    /// Index into [`Consumer::locations`] of the player's lowest-latency location, or
    /// `u16::MAX` when the player reported none.
    pub(crate) region: u16,
    /// Players in the ticket.
    pub(crate) party: u8,
    /// Seconds from the ticket's start to its match; NaN when not matched.
    pub(crate) wait: f32,
    pub(crate) outcome: Outcome,
    /// Latency to the match's chosen location; NaN when not matched, or without one.
    pub(crate) chosen_latency: f32,
    /// `chosen_latency` minus the player's best latency; NaN when it is.
    pub(crate) delta_ping: f32,
}

/// [`Moments`] of each figure of [`PlayerRecord`] and [`MatchRecord`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Exact {
    pub(crate) wait: Moments,
    pub(crate) chosen_latency: Moments,
    pub(crate) delta_ping: Moments,
    pub(crate) skill_spread: Moments,
    pub(crate) team_imbalance: Moments,
    pub(crate) chosen_latency_avg: Moments,
    pub(crate) chosen_latency_max: Moments,
    pub(crate) delay: Moments,
}

/// One match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatchRecord {
    /// max − min of the players' skill.
    pub(crate) skill_spread: f32,
    /// max − min of the teams' average skill; NaN for a single team.
    pub(crate) team_imbalance: f32,
    /// Average latency of the players to the chosen location; NaN without a common location.
    pub(crate) chosen_latency_avg: f32,
    /// Worst player latency to the chosen location.
    pub(crate) chosen_latency_max: f32,
    /// Real clock: seconds from the last needed ticket's arrival to receipt of the event.
    pub(crate) delay: f32,
}

struct Pending {
    players: Vec<Player>,
    /// `ticket_bytes` of this entry, counted once when it arrives.
    bytes: u64,
}

/// The consumer's state and findings.
#[derive(Debug)]
pub(crate) struct Consumer {
    setup: ConsumerSetup,
    base: Time,
    real: Option<Instant>,
    pending: HashMap<String, PendingBox>,
    /// Location names, by index.
    pub(crate) locations: Vec<String>,
    location_index: HashMap<String, u16>,
    /// The players of every submitted ticket, as their tickets ended: all of them, or a
    /// uniform random sample in a run with more than `setup.sample_cap`.
    pub(crate) players: Reservoir<PlayerRecord>,
    /// The matches, likewise.
    pub(crate) matches: Reservoir<MatchRecord>,
    /// Matches by the expansion step in force, every one counted.
    pub(crate) matches_by_step: Vec<usize>,
    /// Count, sum and maximum of each quality figure over every record, sampled or not.
    pub(crate) exact: Exact,
    /// Tickets by outcome.
    pub(crate) matched_tickets: usize,
    pub(crate) timed_out_tickets: usize,
    pub(crate) cancelled_tickets: usize,
    pub(crate) failed_tickets: usize,
    pub(crate) unfinished_tickets: usize,
    /// Events received.
    pub(crate) events: usize,
    /// Heap bytes of `pending`'s entries (allocator block sizes).
    pending_bytes: u64,
    /// Published after every batch: the bytes the consumer holds for tickets still
    /// waiting, so the memory figures can leave them out.
    held: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

unsafe extern "C" {
    /// mimalloc's: the size of the block behind a pointer it allocated (mimalloc is the
    /// binary's global allocator).
    fn mi_usable_size(p: *const std::ffi::c_void) -> usize;
}

/// Allocator bytes of a heap buffer (0 for an empty, unallocated one).
fn block<T>(ptr: *const T, capacity: usize) -> u64 {
    if capacity == 0 || size_of::<T>() == 0 {
        return 0;
    }
    // SAFETY: a non-empty Vec/String/Box buffer was allocated by the global allocator,
    // which is mimalloc, and is still alive.
    unsafe { mi_usable_size(ptr.cast()) as u64 }
}

fn string_bytes(s: &str, capacity: usize) -> u64 {
    block(s.as_ptr(), capacity)
}

/// Heap bytes of one pending ticket: its id, its box and its players' data.
fn ticket_bytes(id: &String, pending: &Pending) -> u64 {
    let mut n = string_bytes(id, id.capacity()) + block(pending as *const Pending, 1);
    n += block(pending.players.as_ptr(), pending.players.capacity());
    for p in &pending.players {
        n += string_bytes(&p.player_id, p.player_id.capacity());
        n += p.team.as_ref().map_or(0, |t| string_bytes(t, t.capacity()));
        n += block(p.attributes.as_ptr(), p.attributes.capacity());
        for (name, value) in &p.attributes {
            n += string_bytes(name, name.capacity());
            n += match value {
                AttributeValue::S(v) => string_bytes(v, v.capacity()),
                AttributeValue::N(_) => 0,
                AttributeValue::SL(l) => {
                    block(l.as_ptr(), l.capacity()) + l.iter().map(|v| string_bytes(v, v.capacity())).sum::<u64>()
                }
                AttributeValue::SDM(m) => {
                    block(m.as_ptr(), m.capacity()) + m.iter().map(|(k, _)| string_bytes(k, k.capacity())).sum::<u64>()
                }
            };
        }
        n += block(p.latency_in_ms.as_ptr(), p.latency_in_ms.capacity());
        n += p.latency_in_ms.iter().map(|(l, _)| string_bytes(l, l.capacity())).sum::<u64>();
    }
    n
}

/// `Pending` behind a box so `Consumer` can derive `Debug` without the players' noise.
pub(crate) struct PendingBox(Box<Pending>);

impl std::fmt::Debug for PendingBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PendingBox({} players)", self.0.players.len())
    }
}

impl Consumer {
    pub(crate) fn new(
        setup: ConsumerSetup,
        base: Time,
        real: Option<Instant>,
        held: std::sync::Arc<std::sync::atomic::AtomicU64>,
    ) -> Consumer {
        Consumer {
            players: Reservoir::new(setup.sample_cap, setup.seed ^ 0x91A7_E125),
            matches: Reservoir::new(setup.sample_cap, setup.seed ^ 0x3A7C_4E55),
            matches_by_step: vec![0; setup.expansion_steps.len() + 1],
            exact: Exact::default(),
            setup,
            base,
            real,
            pending: HashMap::new(),
            locations: Vec::new(),
            location_index: HashMap::new(),
            matched_tickets: 0,
            timed_out_tickets: 0,
            cancelled_tickets: 0,
            failed_tickets: 0,
            unfinished_tickets: 0,
            events: 0,
            pending_bytes: 0,
            held,
        }
    }

    /// Publishes the bytes the consumer holds, which are not the engine's: the entries of
    /// waiting tickets and the map's table, and the quality samples of finished tickets
    /// and matches.
    pub(crate) fn publish_held(&self) {
        let table = self.pending.capacity() * (size_of::<(String, PendingBox)>() + 1);
        let (players, matches) = (self.players.buffer(), self.matches.buffer());
        let samples = block(players.0, players.1) + block(matches.0, matches.1);
        self.held.store(self.pending_bytes + table as u64 + samples, std::sync::atomic::Ordering::Release);
    }

    /// Takes the ticket descriptions sent so far.
    pub(crate) fn take_tickets(&mut self, rx: &crossbeam_channel::Receiver<TicketMsg>) {
        for msg in rx.try_iter() {
            let mut pending = Box::new(Pending { players: msg.players, bytes: 0 });
            pending.bytes = ticket_bytes(&msg.ticket_id, &pending);
            self.pending_bytes += pending.bytes;
            if let Some(old) = self.pending.insert(msg.ticket_id, PendingBox(pending)) {
                self.pending_bytes -= old.0.bytes;
            }
        }
    }

    fn location(&mut self, name: &str) -> u16 {
        if let Some(&i) = self.location_index.get(name) {
            return i;
        }
        let i = self.locations.len().min(u16::MAX as usize - 1) as u16;
        self.locations.push(name.to_owned());
        self.location_index.insert(name.to_owned(), i);
        i
    }

    fn skill(&self, p: &Player) -> f32 {
        match p.attribute(&self.setup.skill_attribute) {
            Some(AttributeValue::N(v)) => *v as f32,
            _ => f32::NAN,
        }
    }

    fn best_location(&mut self, p: &Player) -> (u16, Option<u32>) {
        match p.latency_in_ms.iter().min_by_key(|(_, ms)| *ms) {
            Some((name, ms)) => (self.location(name), Some(*ms)),
            None => (u16::MAX, None),
        }
    }

    fn push_player(&mut self, record: PlayerRecord) {
        self.exact.wait.add(record.wait);
        self.exact.chosen_latency.add(record.chosen_latency);
        self.exact.delta_ping.add(record.delta_ping);
        self.players.push(record);
    }

    fn push_match(&mut self, record: MatchRecord) {
        self.exact.skill_spread.add(record.skill_spread);
        self.exact.team_imbalance.add(record.team_imbalance);
        self.exact.chosen_latency_avg.add(record.chosen_latency_avg);
        self.exact.chosen_latency_max.add(record.chosen_latency_max);
        self.exact.delay.add(record.delay);
        self.matches.push(record);
    }

    /// A player's record, without a chosen location.
    fn record(&mut self, p: &Player, party: usize, wait: f32, outcome: Outcome) -> PlayerRecord {
        let skill = self.skill(p);
        let (region, _) = self.best_location(p);
        let party = party.min(255) as u8;
        PlayerRecord { skill, region, party, wait, outcome, chosen_latency: f32::NAN, delta_ping: f32::NAN }
    }

    /// Forgets a ticket that ended and counts its outcome; returns its players. Unless it
    /// matched, their records are taken here (a matched player's record needs the match's
    /// chosen location, so `potential_match` takes those).
    fn end_ticket(&mut self, ticket: &EventTicket, outcome: Outcome) -> Option<Vec<Player>> {
        let pending = self.pending.remove(&*ticket.ticket_id)?;
        self.pending_bytes -= pending.0.bytes;
        let players = pending.0.players;
        if outcome != Outcome::Matched {
            for p in &players {
                let record = self.record(p, players.len(), f32::NAN, outcome);
                self.push_player(record);
            }
        }
        match outcome {
            Outcome::Matched => self.matched_tickets += 1,
            Outcome::TimedOut => self.timed_out_tickets += 1,
            Outcome::Cancelled => self.cancelled_tickets += 1,
            Outcome::Failed => self.failed_tickets += 1,
            Outcome::Unfinished => self.unfinished_tickets += 1,
        }
        Some(players)
    }

    /// Records one event.
    pub(crate) fn event(&mut self, event: &Event) {
        self.events += 1;
        match &event.detail {
            EventDetail::PotentialMatchCreated { tickets, .. } => self.potential_match(event.time, tickets),
            EventDetail::MatchmakingTimedOut { tickets, .. } => {
                for t in tickets {
                    self.end_ticket(t, Outcome::TimedOut);
                }
            }
            EventDetail::MatchmakingCancelled { tickets, .. } => {
                for t in tickets {
                    self.end_ticket(t, Outcome::Cancelled);
                }
            }
            EventDetail::MatchmakingFailed { tickets, .. } => {
                for t in tickets {
                    self.end_ticket(t, Outcome::Failed);
                }
            }
            _ => {}
        }
    }

    fn potential_match(&mut self, now: Time, tickets: &[EventTicket]) {
        let received = self.real.map(|start| self.base.plus_secs(start.elapsed().as_secs_f64()));
        let mut members: Vec<Member> = Vec::new();
        let mut newest = Time(0);
        let mut oldest = Time(u64::MAX);
        for t in tickets {
            newest = newest.max(t.start_time);
            oldest = oldest.min(t.start_time);
            let wait = now.secs_since(t.start_time) as f32;
            let Some(players) = self.end_ticket(t, Outcome::Matched) else { continue };
            let party = players.len();
            for (i, p) in players.into_iter().enumerate() {
                let team = t
                    .players
                    .iter()
                    .find(|e| *e.player_id == *p.player_id)
                    .or_else(|| t.players.get(i))
                    .and_then(|e| e.team);
                let record = self.record(&p, party, wait, Outcome::Matched);
                members.push((record, team, p.latency_in_ms));
            }
        }
        if members.is_empty() {
            return;
        }
        // Skill spread and team imbalance.
        let skills: Vec<f32> = members.iter().map(|m| m.0.skill).filter(|s| !s.is_nan()).collect();
        let skill_spread = if skills.is_empty() {
            f32::NAN
        } else {
            skills.iter().copied().fold(f32::MIN, f32::max) - skills.iter().copied().fold(f32::MAX, f32::min)
        };
        let mut teams: Vec<(rallypoint::events::Name, f64, usize)> = Vec::new();
        for (record, team, _) in &members {
            let skill = &record.skill;
            let (Some(team), false) = (team, skill.is_nan()) else { continue };
            match teams.iter_mut().find(|(n, _, _)| n == team) {
                Some(entry) => {
                    entry.1 += f64::from(*skill);
                    entry.2 += 1;
                }
                None => teams.push((*team, f64::from(*skill), 1)),
            }
        }
        let team_imbalance = if teams.len() < 2 {
            f32::NAN
        } else {
            let avgs: Vec<f64> = teams.iter().map(|(_, sum, n)| sum / *n as f64).collect();
            (avgs.iter().copied().fold(f64::MIN, f64::max) - avgs.iter().copied().fold(f64::MAX, f64::min)) as f32
        };
        // Chosen location: the one every player reported with the lowest average latency.
        let (mut chosen_latency_avg, mut chosen_latency_max) = (f32::NAN, f32::NAN);
        if members.iter().all(|m| !m.2.is_empty()) {
            // (sum, index of the location in the first player's list)
            let mut best: Option<(f64, usize)> = None;
            for (i, (loc, _)) in members[0].2.iter().enumerate() {
                let mut sum = 0.0;
                let mut everyone = true;
                for m in &members {
                    match m.2.iter().find(|(l, _)| l == loc) {
                        Some((_, ms)) => sum += f64::from(*ms),
                        None => {
                            everyone = false;
                            break;
                        }
                    }
                }
                if everyone && best.is_none_or(|(b, _)| sum < b) {
                    best = Some((sum, i));
                }
            }
            if let Some((sum, i)) = best {
                chosen_latency_avg = (sum / members.len() as f64) as f32;
                let mut max = 0u32;
                for k in 0..members.len() {
                    let loc = &members[0].2[i].0;
                    let m = &members[k].2;
                    let ms = m.iter().find(|(l, _)| l == loc).map_or(0, |(_, ms)| *ms);
                    let own_best = m.iter().map(|(_, ms)| *ms).min().unwrap_or(ms);
                    max = max.max(ms);
                    members[k].0.chosen_latency = ms as f32;
                    members[k].0.delta_ping = ms.saturating_sub(own_best) as f32;
                }
                chosen_latency_max = max as f32;
            }
        }
        for (record, _, _) in &members {
            self.push_player(*record);
        }
        let age = if self.setup.expansion_oldest { now.secs_since(oldest) } else { now.secs_since(newest) };
        // (One more entry than step times, so the step count is always an index.)
        self.matches_by_step[self.setup.expansion_steps.iter().filter(|&&s| s <= age).count()] += 1;
        let delay = received.map_or(f32::NAN, |r| r.secs_since(newest) as f32);
        self.push_match(MatchRecord { skill_spread, team_imbalance, chosen_latency_avg, chosen_latency_max, delay });
    }

    /// Marks the players of tickets that never ended as unfinished.
    pub(crate) fn finish(&mut self) {
        let mut pending: Vec<_> = std::mem::take(&mut self.pending).into_iter().collect();
        self.pending_bytes = 0;
        self.publish_held();
        // In ticket-id order, so that a sampled run keeps the same players every time.
        pending.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (_, p) in pending {
            for player in &p.0.players {
                let record = self.record(player, p.0.players.len(), f32::NAN, Outcome::Unfinished);
                self.push_player(record);
            }
            self.unfinished_tickets += 1;
        }
    }
}
