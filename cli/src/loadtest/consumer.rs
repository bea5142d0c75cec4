//! The event consumer: reads the matchmaker's event stream on its own thread and records,
//! for every player and every match, what the quality report needs. What it needs of each
//! submitted ticket (skills, latencies by location number) is taken from the request by
//! [`TicketFacts`] on the submitting thread and sent ahead of the ticket, so the requests'
//! players are neither copied nor freed on another thread.

use std::collections::HashMap;
use std::hash::{BuildHasher as _, BuildHasherDefault, DefaultHasher};
use std::time::Instant;

use rallypoint::api::{AttributeValue, Player};
use rallypoint::events::{Event, EventDetail, EventTicket};
use rallypoint::ruleset::NumberAggregation;
use rallypoint::time::Time;

use super::sample::{Moments, Reservoir};

/// (record, team, its latencies' run in `Consumer::match_latency`) of one player of a match.
type Member = (PlayerRecord, Option<rallypoint::events::Name>, std::ops::Range<usize>);

/// What the consumer needs of a submitted ticket, taken from its request by [`TicketFacts`]
/// where it is submitted, so that the players need not be copied.
#[derive(Debug, Default)]
pub(crate) struct TicketMsg {
    pub(crate) ticket_id: String,
    pub(crate) players: Vec<PlayerFacts>,
    /// The players' latencies as `(location index, ms)`, each player's a run.
    pub(crate) latency: Vec<(u16, u32)>,
    /// Names of the locations this ticket reported first, in index order.
    pub(crate) new_locations: Vec<String>,
}

/// One player of a [`TicketMsg`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlayerFacts {
    /// [`player_id_hash`] of the player's id, to find the player in events.
    id: u64,
    /// Skill; NaN when the player has none.
    skill: f32,
    /// The player's run of `TicketMsg::latency`: start and length.
    latency: (u32, u32),
}

impl PlayerFacts {
    /// The player's latencies, in `all` (its ticket's `TicketMsg::latency`).
    fn latency_in<'a>(&self, all: &'a [(u16, u32)]) -> &'a [(u16, u32)] {
        let (start, len) = (self.latency.0 as usize, self.latency.1 as usize);
        &all[start..start + len]
    }
}

/// A fixed hash of a player id, the same on both sides of the consumer's channel.
fn player_id_hash(id: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

/// Makes [`TicketMsg`]s on the thread that submits the tickets, numbering locations in the
/// order they are first reported (the consumer learns the names in the same order).
#[derive(Debug)]
pub(crate) struct TicketFacts {
    skill_attribute: String,
    location_index: HashMap<String, u16>,
}

impl TicketFacts {
    pub(crate) fn new(skill_attribute: &str) -> TicketFacts {
        TicketFacts { skill_attribute: skill_attribute.to_owned(), location_index: HashMap::new() }
    }

    /// The message for a ticket of `players` (its id is filled in by the caller).
    pub(crate) fn of(&mut self, players: &[Player]) -> TicketMsg {
        let mut msg = TicketMsg { players: Vec::with_capacity(players.len()), ..TicketMsg::default() };
        for p in players {
            let start = msg.latency.len() as u32;
            for (name, ms) in &p.latency_in_ms {
                let index = match self.location_index.get(name.as_str()) {
                    Some(&i) => i,
                    None => {
                        let i = self.location_index.len().min(usize::from(u16::MAX - 1)) as u16;
                        self.location_index.insert(name.clone(), i);
                        msg.new_locations.push(name.clone());
                        i
                    }
                };
                msg.latency.push((index, *ms));
            }
            let skill = match p.attribute(&self.skill_attribute) {
                Some(AttributeValue::N(v)) => *v as f32,
                _ => f32::NAN,
            };
            let end = msg.latency.len() as u32;
            msg.players.push(PlayerFacts { id: player_id_hash(&p.player_id), skill, latency: (start, end - start) });
        }
        msg
    }
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
    /// The rule set's latency rules: a match's location is chosen among those they accept.
    pub(crate) latency_rules: Vec<LatencyRule>,
    /// Most players, and most matches, whose records are kept for the quality figures;
    /// beyond that they come from a uniform random sample of this many.
    pub(crate) sample_cap: usize,
    /// Seed of that sample.
    pub(crate) seed: u64,
}

/// A `latency` rule, with its expansions, as the consumer checks a match's location.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LatencyRule {
    /// `maxLatency` from each ticket age on, as `(age, value)` in ascending age, the first at 0.
    pub(crate) max_latency: Vec<(f64, f64)>,
    /// `maxDistance` likewise; empty when the rule has none.
    pub(crate) max_distance: Vec<(f64, f64)>,
    /// Whether `maxDistance` is measured from the lowest ticket latency (else the average).
    pub(crate) from_min: bool,
    /// How a party's latencies at a location fold into the ticket's.
    pub(crate) party_aggregation: NumberAggregation,
}

/// The value in force at `age` of a step list of [`LatencyRule`].
fn value_at(steps: &[(f64, f64)], age: f64) -> Option<f64> {
    steps.iter().take_while(|(from, _)| *from <= age).last().map(|s| s.1)
}

impl LatencyRule {
    /// Whether the tickets' latencies at one location, `ticket_latencies(i)` folding ticket
    /// `i`'s members, meet the rule at the match's `age`.
    fn accepts(&self, tickets: usize, ticket_latency: impl Fn(usize, NumberAggregation) -> f64, age: f64) -> bool {
        let max_latency = value_at(&self.max_latency, age).unwrap_or(f64::INFINITY);
        let (mut low, mut high, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
        for t in 0..tickets {
            let ms = ticket_latency(t, self.party_aggregation);
            if ms > max_latency {
                return false;
            }
            (low, high, sum) = (low.min(ms), high.max(ms), sum + ms);
        }
        let reference = if self.from_min { low } else { sum / tickets as f64 };
        value_at(&self.max_distance, age).is_none_or(|max| high - reference <= max)
    }
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

/// A waiting ticket's facts (see [`TicketMsg`]).
struct Pending {
    players: Vec<PlayerFacts>,
    latency: Vec<(u16, u32)>,
    /// `ticket_bytes` of this entry, counted once when it arrives.
    bytes: u64,
}

/// A summary, so that `Consumer` can derive `Debug` without every waiting player's facts.
impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pending({} players)", self.players.len())
    }
}

/// The consumer's state and findings.
#[derive(Debug)]
pub(crate) struct Consumer {
    setup: ConsumerSetup,
    base: Time,
    real: Option<Instant>,
    pending: HashMap<String, Pending>,
    /// Location names, by index.
    pub(crate) locations: Vec<String>,
    /// The latencies of the players of the match being recorded.
    match_latency: Vec<(u16, u32)>,
    /// Where each of its tickets' players start among its players.
    match_tickets: Vec<usize>,
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

/// Heap bytes of one pending ticket: its id and its players' facts.
fn ticket_bytes(id: &String, pending: &Pending) -> u64 {
    block(id.as_ptr(), id.capacity())
        + block(pending.players.as_ptr(), pending.players.capacity())
        + block(pending.latency.as_ptr(), pending.latency.capacity())
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
            match_latency: Vec::new(),
            match_tickets: Vec::new(),
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
        let table = self.pending.capacity() * (size_of::<(String, Pending)>() + 1);
        let (players, matches) = (self.players.buffer(), self.matches.buffer());
        let samples = block(players.0, players.1) + block(matches.0, matches.1);
        self.held.store(self.pending_bytes + table as u64 + samples, std::sync::atomic::Ordering::Release);
    }

    /// Takes the ticket descriptions sent so far.
    pub(crate) fn take_tickets(&mut self, rx: &crossbeam_channel::Receiver<TicketMsg>) {
        for msg in rx.try_iter() {
            self.locations.extend(msg.new_locations);
            if msg.ticket_id.is_empty() {
                continue; // A refused ticket's: it only names locations.
            }
            let mut pending = Pending { players: msg.players, latency: msg.latency, bytes: 0 };
            pending.bytes = ticket_bytes(&msg.ticket_id, &pending);
            self.pending_bytes += pending.bytes;
            if let Some(old) = self.pending.insert(msg.ticket_id, pending) {
                self.pending_bytes -= old.bytes;
            }
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

    /// A player's record, without a chosen location: `latency` is the player's run.
    fn record(p: &PlayerFacts, latency: &[(u16, u32)], party: usize, wait: f32, outcome: Outcome) -> PlayerRecord {
        // The lowest latency's location (the first of equals).
        let region = latency.iter().min_by_key(|(_, ms)| *ms).map_or(u16::MAX, |&(loc, _)| loc);
        let party = party.min(255) as u8;
        PlayerRecord { skill: p.skill, region, party, wait, outcome, chosen_latency: f32::NAN, delta_ping: f32::NAN }
    }

    /// Forgets a ticket that ended and counts its outcome; returns what was known of it.
    /// Unless it matched, its players' records are taken here (a matched player's record
    /// needs the match's chosen location, so `potential_match` takes those).
    fn end_ticket(&mut self, ticket: &EventTicket, outcome: Outcome) -> Option<Pending> {
        let pending = self.pending.remove(&*ticket.ticket_id)?;
        self.pending_bytes -= pending.bytes;
        if outcome != Outcome::Matched {
            self.push_players(&pending, f32::NAN, outcome);
        }
        match outcome {
            Outcome::Matched => self.matched_tickets += 1,
            Outcome::TimedOut => self.timed_out_tickets += 1,
            Outcome::Cancelled => self.cancelled_tickets += 1,
            Outcome::Failed => self.failed_tickets += 1,
            Outcome::Unfinished => self.unfinished_tickets += 1,
        }
        Some(pending)
    }

    /// Records the players of a ticket that did not match.
    fn push_players(&mut self, pending: &Pending, wait: f32, outcome: Outcome) {
        for p in &pending.players {
            let record = Consumer::record(p, p.latency_in(&pending.latency), pending.players.len(), wait, outcome);
            self.push_player(record);
        }
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
        // Where each ticket's members start in `members`.
        let mut ticket_starts = std::mem::take(&mut self.match_tickets);
        ticket_starts.clear();
        let mut latency = std::mem::take(&mut self.match_latency);
        latency.clear();
        let mut newest = Time(0);
        let mut oldest = Time(u64::MAX);
        for t in tickets {
            newest = newest.max(t.start_time);
            oldest = oldest.min(t.start_time);
            let wait = now.secs_since(t.start_time) as f32;
            let Some(pending) = self.end_ticket(t, Outcome::Matched) else { continue };
            ticket_starts.push(members.len());
            for (i, p) in pending.players.iter().enumerate() {
                let team = t
                    .players
                    .iter()
                    .find(|e| player_id_hash(&e.player_id) == p.id)
                    .or_else(|| t.players.get(i))
                    .and_then(|e| e.team);
                let own = p.latency_in(&pending.latency);
                let record = Consumer::record(p, own, pending.players.len(), wait, Outcome::Matched);
                let at = latency.len();
                latency.extend_from_slice(own);
                members.push((record, team, at..latency.len()));
            }
        }
        if members.is_empty() {
            self.match_latency = latency;
            self.match_tickets = ticket_starts;
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
        let age = if self.setup.expansion_oldest { now.secs_since(oldest) } else { now.secs_since(newest) };
        // Chosen location: among those every player reported, the one with the lowest
        // average latency where the rule set's latency rules accept the match (where a
        // placement could put it); failing that (the rules were not met anywhere), the
        // lowest average of all.
        let (mut chosen_latency_avg, mut chosen_latency_max) = (f32::NAN, f32::NAN);
        if members.iter().all(|m| !m.2.is_empty()) {
            let reported = |m: &Member, loc: u16| latency[m.2.clone()].iter().find(|(l, _)| *l == loc).map(|e| e.1);
            ticket_starts.push(members.len());
            let ticket_latency = |loc: u16, t: usize, aggregation: NumberAggregation| {
                let ms = members[ticket_starts[t]..ticket_starts[t + 1]]
                    .iter()
                    .map(|m| f64::from(reported(m, loc).unwrap_or(u32::MAX)));
                match aggregation {
                    NumberAggregation::Min => ms.fold(f64::INFINITY, f64::min),
                    NumberAggregation::Max => ms.fold(f64::NEG_INFINITY, f64::max),
                    NumberAggregation::Avg => {
                        let n = ticket_starts[t + 1] - ticket_starts[t];
                        ms.sum::<f64>() / n as f64
                    }
                }
            };
            let tickets = ticket_starts.len() - 1;
            // (average × players, location, whether the rules accept it)
            let mut best: Option<(f64, u16, bool)> = None;
            for &(loc, _) in &latency[members[0].2.clone()] {
                // (None unless every player reported the location.)
                let Some(sum) = members.iter().map(|m| reported(m, loc).map(f64::from)).sum::<Option<f64>>() else {
                    continue;
                };
                let accepted = self
                    .setup
                    .latency_rules
                    .iter()
                    .all(|rule| rule.accepts(tickets, |t, aggregation| ticket_latency(loc, t, aggregation), age));
                if best.is_none_or(|(b, _, ok)| (accepted, -sum) > (ok, -b)) {
                    best = Some((sum, loc, accepted));
                }
            }
            if let Some((sum, loc, _)) = best {
                chosen_latency_avg = (sum / members.len() as f64) as f32;
                let mut max = 0u32;
                for m in &mut members {
                    let ms = reported(m, loc).unwrap_or(0);
                    let own_best = latency[m.2.clone()].iter().map(|e| e.1).min().unwrap_or(ms);
                    max = max.max(ms);
                    m.0.chosen_latency = ms as f32;
                    m.0.delta_ping = ms.saturating_sub(own_best) as f32;
                }
                chosen_latency_max = max as f32;
            }
        }
        self.match_latency = latency;
        self.match_tickets = ticket_starts;
        for (record, _, _) in &members {
            self.push_player(*record);
        }
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
            self.push_players(&p, f32::NAN, Outcome::Unfinished);
            self.unfinished_tickets += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rallypoint::events::{EventPlayer, Name};

    use super::*;

    fn player(id: &str, skill: f64, latency: &[(&str, u32)]) -> Player {
        Player {
            player_id: id.into(),
            attributes: vec![("skill".into(), AttributeValue::N(skill))],
            team: None,
            latency_in_ms: latency.iter().map(|&(l, ms)| (l.to_owned(), ms)).collect(),
        }
    }

    fn event(detail: EventDetail) -> Event {
        Event { id: rallypoint::events::Uuid::nil(), time: Time(10_000), configuration_name: Name::new("c"), detail }
    }

    fn ticket(id: &str, start: u64, players: &[(&str, &str)]) -> EventTicket {
        EventTicket {
            ticket_id: id.into(),
            start_time: Time(start),
            players: players
                .iter()
                .map(|&(p, team)| EventPlayer {
                    player_id: p.into(),
                    team: Some(Name::new(team)),
                    ..Default::default()
                })
                .collect(),
        }
    }

    /// A consumer (skill attribute `skill`, one expansion step at 5 s of the oldest ticket's
    /// age) that was sent a party (`t1`: p1 at us-east-1 40 ms and eu-west-1 80, p2 the
    /// other way round at 30 and 60), a solo player (`t2`: p3 at us-east-1 70, eu-west-1 50)
    /// and, with `late`, a ticket that will time out after naming a third location (`t3`).
    fn consumer_sent_tickets(latency_rules: Vec<LatencyRule>, late: bool) -> Consumer {
        let setup = ConsumerSetup {
            skill_attribute: "skill".into(),
            expansion_steps: vec![5.0],
            expansion_oldest: true,
            latency_rules,
            sample_cap: 100,
            seed: 1,
        };
        let mut consumer = Consumer::new(setup, Time(0), None, Arc::default());
        let mut facts = TicketFacts::new("skill");
        let (tx, rx) = crossbeam_channel::unbounded();
        let party = [
            player("p1", 1000.0, &[("us-east-1", 40), ("eu-west-1", 80)]),
            player("p2", 1100.0, &[("eu-west-1", 30), ("us-east-1", 60)]),
        ];
        let solo = [player("p3", 1400.0, &[("us-east-1", 70), ("eu-west-1", 50)])];
        let third = [player("p4", 1200.0, &[("ap-south-1", 20)])];
        let tickets = [("t1", &party[..]), ("t2", &solo[..]), ("t3", &third[..])];
        for (id, players) in &tickets[..if late { 3 } else { 2 }] {
            tx.send(TicketMsg { ticket_id: (*id).into(), ..facts.of(players) }).unwrap();
        }
        consumer.take_tickets(&rx);
        consumer
    }

    #[test]
    fn a_match_is_measured_from_the_facts_sent_for_its_tickets() {
        // The party's members report their locations in different orders.
        let mut consumer = consumer_sent_tickets(Vec::new(), true);
        assert_eq!(consumer.locations, ["us-east-1", "eu-west-1", "ap-south-1"]);
        // The event lists the party's players in the other order, and (to tell) on two
        // teams: teams are found by player id.
        consumer.event(&event(EventDetail::PotentialMatchCreated {
            tickets: vec![
                ticket("t1", 3_000, &[("p2", "blue"), ("p1", "red")]),
                ticket("t2", 4_000, &[("p3", "blue")]),
            ],
            acceptance_required: false,
            acceptance_timeout: None,
            rule_evaluation_metrics: Vec::new(),
            match_id: "m".into(),
        }));
        consumer.event(&event(EventDetail::MatchmakingTimedOut {
            tickets: vec![ticket("t3", 0, &[("p4", "")])],
            rule_evaluation_metrics: Vec::new(),
            match_id: None,
        }));
        let players: Vec<String> = consumer
            .players
            .items()
            .iter()
            .map(|p| {
                format!(
                    "skill {} region {} party {} wait {} {:?} chosen {} delta {}",
                    p.skill, p.region, p.party, p.wait, p.outcome, p.chosen_latency, p.delta_ping
                )
            })
            .collect();
        // eu-west-1 has the lowest total (80 + 30 + 50 against 40 + 60 + 70).
        assert_eq!(
            players,
            [
                "skill 1000 region 0 party 2 wait 7 Matched chosen 80 delta 40",
                "skill 1100 region 1 party 2 wait 7 Matched chosen 30 delta 0",
                "skill 1400 region 1 party 1 wait 6 Matched chosen 50 delta 0",
                "skill 1200 region 2 party 1 wait NaN TimedOut chosen NaN delta NaN",
            ]
        );
        let m = consumer.matches.items()[0];
        // Red: 1000; blue: 1100 and 1400.
        assert_eq!((m.skill_spread, m.team_imbalance), (400.0, 250.0));
        assert_eq!((m.chosen_latency_avg, m.chosen_latency_max), (160.0 / 3.0, 80.0));
        // The oldest ticket waited 7 s: past the 5 s step.
        assert_eq!(consumer.matches_by_step, [0, 1]);
        assert_eq!((consumer.matched_tickets, consumer.timed_out_tickets), (2, 1));
    }

    /// The chosen latency of each player of a match of `consumer_sent_tickets`' party and
    /// solo player, 7 s old, under `rules`.
    fn chosen_under(rules: Vec<LatencyRule>) -> Vec<f32> {
        let mut consumer = consumer_sent_tickets(rules, false);
        consumer.event(&event(EventDetail::PotentialMatchCreated {
            tickets: vec![
                ticket("t1", 3_000, &[("p1", "red"), ("p2", "blue")]),
                ticket("t2", 4_000, &[("p3", "blue")]),
            ],
            acceptance_required: false,
            acceptance_timeout: None,
            rule_evaluation_metrics: Vec::new(),
            match_id: "m".into(),
        }));
        consumer.players.items().iter().map(|p| p.chosen_latency).collect()
    }

    #[test]
    fn the_chosen_location_is_one_the_latency_rules_accept() {
        let rule = |max_latency: Vec<(f64, f64)>, party_aggregation| LatencyRule {
            max_latency,
            max_distance: Vec::new(),
            from_min: true,
            party_aggregation,
        };
        const US: [f32; 3] = [40.0, 60.0, 70.0];
        const EU: [f32; 3] = [80.0, 30.0, 50.0];
        // Without a rule, the lowest average: eu-west-1 (160 against 170 in all).
        assert_eq!(chosen_under(Vec::new()), EU);
        // At most 70 ms per ticket, the party counting its worst member: the party's 80 ms
        // rules out eu-west-1.
        assert_eq!(chosen_under(vec![rule(vec![(0.0, 70.0)], NumberAggregation::Max)]), US);
        // Counting the party's average (55 ms there), eu-west-1 is accepted.
        assert_eq!(chosen_under(vec![rule(vec![(0.0, 70.0)], NumberAggregation::Avg)]), EU);
        // An expansion to 80 ms at 5 s applies to the 7-second-old match; one at 8 s does not.
        assert_eq!(chosen_under(vec![rule(vec![(0.0, 70.0), (5.0, 80.0)], NumberAggregation::Max)]), EU);
        assert_eq!(chosen_under(vec![rule(vec![(0.0, 70.0), (8.0, 80.0)], NumberAggregation::Max)]), US);
        // maxDistance from the lowest ticket latency: us-east-1's tickets are 60 and 70 ms
        // with the party's worst member, eu-west-1's 80 and 50.
        let far = LatencyRule { max_distance: vec![(0.0, 10.0)], ..rule(vec![(0.0, 100.0)], NumberAggregation::Max) };
        assert_eq!(chosen_under(vec![far.clone()]), US);
        // Within 6 ms: us-east-1's worst ticket is 10 ms above the lowest but only 5 above
        // the average (65 ms at both locations; eu-west-1's is 15 above it).
        let near = LatencyRule { max_distance: vec![(0.0, 6.0)], ..far };
        assert_eq!(chosen_under(vec![near.clone()]), EU, "no location accepted: the lowest average");
        let from_avg = LatencyRule { from_min: false, ..near };
        assert_eq!(chosen_under(vec![from_avg.clone()]), US);
        // No location meets every rule: the lowest average of all is reported.
        let impossible = rule(vec![(0.0, 10.0)], NumberAggregation::Min);
        assert_eq!(chosen_under(vec![from_avg, impossible]), EU);
    }
}
