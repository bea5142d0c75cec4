//! Matchmaking events: the closed set FlexMatch publishes, in FlexMatch's envelope (spec §10).
//!
//! The engine produces [`Event`]s; [`Event::to_json`] writes one exactly as GameLift delivers
//! it to SNS and EventBridge:
//!
//! ```json
//! {"version":"0","id":"…","detail-type":"GameLift Matchmaking Event","source":"aws.gamelift",
//!  "account":"000000000000","time":"2026-01-01T00:00:03.500Z","region":"local",
//!  "resources":["arn:aws:gamelift:local:000000000000:matchmakingconfiguration/ranked"],
//!  "detail":{"type":"MatchmakingSearching", …}}
//! ```
//!
//! Decisions where AWS is silent:
//!
//! * `detail` fields follow the order of the event reference's field lists (§10.2), then
//!   `customEventData`. Optional fields that are absent (`matchId` before a match exists,
//!   `acceptanceTimeout` without acceptance, `team` before teams are assigned) are omitted.
//! * `gameSessionInfo` is always present. Its `players` are the players of the event's
//!   tickets with `team` and `playerSessionId` when known; `accepted` appears only under
//!   `tickets`, as in AWS's `AcceptMatch` example.
//! * `acceptance` is `Accepted`, `Rejected` or `TimedOut` (only `TimedOut` is documented).
//! * Event and match IDs are UUIDs from a seeded [`UuidGen`], so a simulation is
//!   reproducible; the engine has no randomness source of its own.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::time::Time;

/// Event ids are [`Uuid`]s (re-exported, so an embedder needs no `uuid` dependency of its
/// own to name them).
pub use uuid::Uuid;

/// `detail-type` of every matchmaking event.
pub const DETAIL_TYPE: &str = "GameLift Matchmaking Event";
/// `source` of every matchmaking event.
pub const SOURCE: &str = "aws.gamelift";
/// `version` of the envelope.
pub const ENVELOPE_VERSION: &str = "0";
/// Region written when the caller names none.
pub const DEFAULT_REGION: &str = "local";
/// Account written when the caller names none.
pub const DEFAULT_ACCOUNT: &str = "000000000000";

/// `MatchmakingTimedOut.detail.reason`.
pub const TIMED_OUT_REASON: &str = "TimedOut";
/// `MatchmakingTimedOut.detail.message`.
pub const TIMED_OUT_MESSAGE: &str = "Removed from matchmaking due to timing out.";
/// `MatchmakingCancelled.detail.reason`.
pub const CANCELLED_REASON: &str = "Cancelled";
/// `MatchmakingCancelled.detail.message`.
pub const CANCELLED_MESSAGE: &str = "Cancelled by request.";
/// `MatchmakingFailed.detail.reason` for an internal error.
pub const UNEXPECTED_ERROR_REASON: &str = "UNEXPECTED_ERROR";
/// `MatchmakingFailed.detail.message` for an internal error.
pub const UNEXPECTED_ERROR_MESSAGE: &str = "An unexpected error was encountered during match placing.";
/// `StatusReason` of a ticket cancelled because a newer ticket has one of its players.
pub const DUPLICATE_PLAYER_REASON: &str = "Cancelled due to duplicate player";
/// `estimatedWaitMillis` when there is no estimate.
pub const NOT_AVAILABLE: &str = "NOT_AVAILABLE";

/// A name that events and answers repeat: a configuration's (and its ARN), a rule's or a
/// team's. It is copied, not reference-counted: events are built on the search threads and
/// dropped wherever the receiver runs, and a shared reference count on every event's names
/// made those threads take turns at one cache line (in a 1v1 run the search threads spent
/// three times the CPU building match events with two threads as with one). Each distinct
/// name is kept once, for the life of the process.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(&'static str);

/// Every name made so far, each kept once.
static NAMES: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<&'static str>>> =
    std::sync::LazyLock::new(Default::default);

impl Name {
    /// The name `name` (kept for the life of the process; the same text gives the same
    /// storage).
    pub fn new(name: &str) -> Name {
        let mut names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(&kept) = names.get(name) {
            return Name(kept);
        }
        let kept: &'static str = Box::leak(name.into());
        names.insert(kept);
        Name(kept)
    }

    /// The text.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl From<&str> for Name {
    fn from(name: &str) -> Name {
        Name::new(name)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// One matchmaking event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The envelope's `id`: a version-4 UUID, written lower-case and hyphenated.
    pub id: Uuid,
    /// When the event happened (the envelope's `time`).
    pub time: Time,
    /// The configuration whose ARN is the event's resource.
    pub configuration_name: Name,
    /// The event type and its fields.
    pub detail: EventDetail,
}

/// The eight event types and their fields (§10.2).
#[derive(Debug, Clone, PartialEq)]
pub enum EventDetail {
    /// Tickets entered matchmaking (new, or back after a failed proposed match).
    MatchmakingSearching {
        /// The tickets.
        tickets: Vec<EventTicket>,
        /// `estimatedWaitMillis` (in seconds, despite its name).
        estimated_wait: WaitEstimate,
    },
    /// A potential match was formed, whether or not acceptance is required.
    PotentialMatchCreated {
        /// All tickets of the match, players with teams.
        tickets: Vec<EventTicket>,
        /// `acceptanceRequired`.
        acceptance_required: bool,
        /// `acceptanceTimeout` in seconds, when acceptance is required.
        acceptance_timeout: Option<u32>,
        /// Per-rule pass/fail counts.
        rule_evaluation_metrics: Vec<RuleMetric>,
        /// The match's UUID.
        match_id: String,
    },
    /// Players answered; shows every player's acceptance so far.
    AcceptMatch {
        /// All tickets of the match, players with `accepted` where answered.
        tickets: Vec<EventTicket>,
        /// The match's UUID.
        match_id: String,
    },
    /// Acceptance ended.
    AcceptMatchCompleted {
        /// All tickets of the match.
        tickets: Vec<EventTicket>,
        /// How it ended.
        acceptance: Acceptance,
        /// The match's UUID.
        match_id: String,
    },
    /// Matchmaking finished: the match is final (and placed, with a queue).
    MatchmakingSucceeded {
        /// All tickets of the match, players with teams.
        tickets: Vec<EventTicket>,
        /// The match's UUID.
        match_id: String,
        /// Where the game session is, when one was placed.
        game_session: Option<GameSessionInfo>,
    },
    /// A ticket was not matched within `RequestTimeoutSeconds`.
    MatchmakingTimedOut {
        /// The ticket.
        tickets: Vec<EventTicket>,
        /// Per-rule pass/fail counts.
        rule_evaluation_metrics: Vec<RuleMetric>,
        /// The match it was in, if any.
        match_id: Option<String>,
    },
    /// A ticket was cancelled.
    MatchmakingCancelled {
        /// The ticket.
        tickets: Vec<EventTicket>,
        /// Per-rule pass/fail counts.
        rule_evaluation_metrics: Vec<RuleMetric>,
        /// The match it was in, if any.
        match_id: Option<String>,
    },
    /// A ticket hit an error.
    MatchmakingFailed {
        /// The tickets.
        tickets: Vec<EventTicket>,
        /// Per-rule pass/fail counts.
        rule_evaluation_metrics: Vec<RuleMetric>,
        /// The match they were in, if any.
        match_id: Option<String>,
        /// `reason`, e.g. [`UNEXPECTED_ERROR_REASON`].
        reason: String,
        /// `message`, e.g. [`UNEXPECTED_ERROR_MESSAGE`].
        message: String,
    },
}

/// A ticket as events show it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventTicket {
    /// `ticketId`.
    pub ticket_id: Arc<str>,
    /// `startTime`.
    pub start_time: Time,
    /// `players`.
    pub players: Vec<EventPlayer>,
}

/// A player as events show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventPlayer {
    /// `playerId`.
    pub player_id: Arc<str>,
    /// `team`, once assigned.
    pub team: Option<Name>,
    /// `accepted`, once the player answered (acceptance events only).
    pub accepted: Option<bool>,
    /// `playerSessionId`, once a game session hosts the player.
    pub player_session_id: Option<String>,
}

/// One entry of `ruleEvaluationMetrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMetric {
    /// `ruleName`.
    pub rule_name: Name,
    /// `passedCount`.
    pub passed_count: u64,
    /// `failedCount`.
    pub failed_count: u64,
}

/// `estimatedWaitMillis`: seconds, or no estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEstimate {
    /// An estimate in seconds.
    Seconds(u32),
    /// `"NOT_AVAILABLE"`.
    NotAvailable,
}

/// How an acceptance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acceptance {
    /// Every player accepted.
    Accepted,
    /// A player rejected.
    Rejected,
    /// A player did not answer in time.
    TimedOut,
}

impl Acceptance {
    /// The `acceptance` literal.
    pub fn as_str(self) -> &'static str {
        match self {
            Acceptance::Accepted => "Accepted",
            Acceptance::Rejected => "Rejected",
            Acceptance::TimedOut => "TimedOut",
        }
    }
}

/// Where a game session runs (`gameSessionInfo` beyond its players).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GameSessionInfo {
    /// `gameSessionArn`.
    pub game_session_arn: Option<String>,
    /// `ipAddress`.
    pub ip_address: Option<String>,
    /// `port`.
    pub port: Option<u16>,
}

/// What the envelope needs beyond the event: where and for whom it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeContext {
    /// `region`; default [`DEFAULT_REGION`].
    pub region: String,
    /// `account`; default [`DEFAULT_ACCOUNT`].
    pub account: String,
    /// The configuration's `CustomEventData`, copied into `detail.customEventData`.
    pub custom_event_data: Option<String>,
}

impl Default for EnvelopeContext {
    fn default() -> EnvelopeContext {
        EnvelopeContext {
            region: DEFAULT_REGION.to_owned(),
            account: DEFAULT_ACCOUNT.to_owned(),
            custom_event_data: None,
        }
    }
}

impl EnvelopeContext {
    /// The default region and account, with `configuration`'s `CustomEventData`.
    pub fn for_configuration(configuration: &crate::config::MatchmakingConfiguration) -> EnvelopeContext {
        EnvelopeContext { custom_event_data: configuration.custom_event_data.clone(), ..EnvelopeContext::default() }
    }

    /// The ARN of configuration `name` in this region and account.
    pub fn configuration_arn(&self, name: &str) -> String {
        crate::api::matchmaking_configuration_arn(&self.region, &self.account, name)
    }
}

impl Event {
    /// `detail.type`: `MatchmakingSearching`, `PotentialMatchCreated`, ….
    pub fn type_name(&self) -> &'static str {
        self.detail.type_name()
    }

    /// The event's tickets.
    pub fn tickets(&self) -> &[EventTicket] {
        self.detail.tickets()
    }

    /// The IDs of the event's tickets, in order.
    pub fn ticket_ids(&self) -> impl Iterator<Item = &str> {
        self.tickets().iter().map(|t| &*t.ticket_id)
    }

    /// The match the event is about, if any.
    pub fn match_id(&self) -> Option<&str> {
        match &self.detail {
            EventDetail::MatchmakingSearching { .. } => None,
            EventDetail::PotentialMatchCreated { match_id, .. }
            | EventDetail::AcceptMatch { match_id, .. }
            | EventDetail::AcceptMatchCompleted { match_id, .. }
            | EventDetail::MatchmakingSucceeded { match_id, .. } => Some(match_id),
            EventDetail::MatchmakingTimedOut { match_id, .. }
            | EventDetail::MatchmakingCancelled { match_id, .. }
            | EventDetail::MatchmakingFailed { match_id, .. } => match_id.as_deref(),
        }
    }

    /// The event in its envelope, ready to serialise.
    pub fn envelope<'a>(&'a self, ctx: &'a EnvelopeContext) -> Envelope<'a> {
        Envelope { event: self, ctx }
    }

    /// The event in FlexMatch's envelope, as one line of JSON.
    pub fn to_json(&self, ctx: &EnvelopeContext) -> String {
        serde_json::to_string(&self.envelope(ctx)).expect("an event always serialises")
    }

    /// The event in FlexMatch's envelope, as indented JSON.
    pub fn to_json_pretty(&self, ctx: &EnvelopeContext) -> String {
        serde_json::to_string_pretty(&self.envelope(ctx)).expect("an event always serialises")
    }
}

impl EventDetail {
    /// `detail.type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventDetail::MatchmakingSearching { .. } => "MatchmakingSearching",
            EventDetail::PotentialMatchCreated { .. } => "PotentialMatchCreated",
            EventDetail::AcceptMatch { .. } => "AcceptMatch",
            EventDetail::AcceptMatchCompleted { .. } => "AcceptMatchCompleted",
            EventDetail::MatchmakingSucceeded { .. } => "MatchmakingSucceeded",
            EventDetail::MatchmakingTimedOut { .. } => "MatchmakingTimedOut",
            EventDetail::MatchmakingCancelled { .. } => "MatchmakingCancelled",
            EventDetail::MatchmakingFailed { .. } => "MatchmakingFailed",
        }
    }

    /// The event's tickets.
    pub fn tickets(&self) -> &[EventTicket] {
        match self {
            EventDetail::MatchmakingSearching { tickets, .. }
            | EventDetail::PotentialMatchCreated { tickets, .. }
            | EventDetail::AcceptMatch { tickets, .. }
            | EventDetail::AcceptMatchCompleted { tickets, .. }
            | EventDetail::MatchmakingSucceeded { tickets, .. }
            | EventDetail::MatchmakingTimedOut { tickets, .. }
            | EventDetail::MatchmakingCancelled { tickets, .. }
            | EventDetail::MatchmakingFailed { tickets, .. } => tickets,
        }
    }

    /// A `MatchmakingTimedOut` with the documented reason and message.
    pub fn timed_out(tickets: Vec<EventTicket>, rule_evaluation_metrics: Vec<RuleMetric>) -> EventDetail {
        EventDetail::MatchmakingTimedOut { tickets, rule_evaluation_metrics, match_id: None }
    }

    /// A `MatchmakingCancelled` with the documented reason and message.
    pub fn cancelled(tickets: Vec<EventTicket>, rule_evaluation_metrics: Vec<RuleMetric>) -> EventDetail {
        EventDetail::MatchmakingCancelled { tickets, rule_evaluation_metrics, match_id: None }
    }

    /// A `MatchmakingFailed` for an internal error ([`UNEXPECTED_ERROR_REASON`]).
    pub fn unexpected_error(
        tickets: Vec<EventTicket>,
        rule_evaluation_metrics: Vec<RuleMetric>,
        match_id: Option<String>,
    ) -> EventDetail {
        EventDetail::MatchmakingFailed {
            tickets,
            rule_evaluation_metrics,
            match_id,
            reason: UNEXPECTED_ERROR_REASON.to_owned(),
            message: UNEXPECTED_ERROR_MESSAGE.to_owned(),
        }
    }
}

/// An [`Event`] in its envelope; serialises to FlexMatch's JSON with a fixed key order.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// The event.
    pub event: &'a Event,
    /// Region, account and custom data.
    pub ctx: &'a EnvelopeContext,
}

impl Serialize for Envelope<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (event, ctx) = (self.event, self.ctx);
        let mut map = s.serialize_map(Some(9))?;
        map.serialize_entry("version", ENVELOPE_VERSION)?;
        map.serialize_entry("id", event.id.hyphenated().encode_lower(&mut Uuid::encode_buffer()))?;
        map.serialize_entry("detail-type", DETAIL_TYPE)?;
        map.serialize_entry("source", SOURCE)?;
        map.serialize_entry("account", &ctx.account)?;
        map.serialize_entry("time", &event.time.to_rfc3339())?;
        map.serialize_entry("region", &ctx.region)?;
        map.serialize_entry("resources", &[ctx.configuration_arn(&event.configuration_name)])?;
        map.serialize_entry("detail", &Detail { event, ctx })?;
        map.end()
    }
}

struct Detail<'a> {
    event: &'a Event,
    ctx: &'a EnvelopeContext,
}

impl Serialize for Detail<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let detail = &self.event.detail;
        let tickets = Tickets(detail.tickets());
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", detail.type_name())?;
        map.serialize_entry("tickets", &tickets)?;
        match detail {
            EventDetail::MatchmakingSearching { estimated_wait, .. } => {
                match estimated_wait {
                    WaitEstimate::Seconds(secs) => map.serialize_entry("estimatedWaitMillis", secs)?,
                    WaitEstimate::NotAvailable => map.serialize_entry("estimatedWaitMillis", NOT_AVAILABLE)?,
                }
                map.serialize_entry("gameSessionInfo", &SessionInfo { info: None, tickets: tickets.0 })?;
            }
            EventDetail::PotentialMatchCreated {
                acceptance_required,
                acceptance_timeout,
                rule_evaluation_metrics,
                match_id,
                ..
            } => {
                if let Some(timeout) = acceptance_timeout {
                    map.serialize_entry("acceptanceTimeout", timeout)?;
                }
                map.serialize_entry("acceptanceRequired", acceptance_required)?;
                map.serialize_entry("ruleEvaluationMetrics", &Metrics(rule_evaluation_metrics))?;
                map.serialize_entry("gameSessionInfo", &SessionInfo { info: None, tickets: tickets.0 })?;
                map.serialize_entry("matchId", match_id)?;
            }
            EventDetail::AcceptMatch { match_id, .. } => {
                map.serialize_entry("matchId", match_id)?;
                map.serialize_entry("gameSessionInfo", &SessionInfo { info: None, tickets: tickets.0 })?;
            }
            EventDetail::AcceptMatchCompleted { acceptance, match_id, .. } => {
                map.serialize_entry("acceptance", acceptance.as_str())?;
                map.serialize_entry("matchId", match_id)?;
                map.serialize_entry("gameSessionInfo", &SessionInfo { info: None, tickets: tickets.0 })?;
            }
            EventDetail::MatchmakingSucceeded { match_id, game_session, .. } => {
                map.serialize_entry("matchId", match_id)?;
                map.serialize_entry(
                    "gameSessionInfo",
                    &SessionInfo { info: game_session.as_ref(), tickets: tickets.0 },
                )?;
            }
            EventDetail::MatchmakingTimedOut { rule_evaluation_metrics, match_id, .. } => {
                ended(&mut map, rule_evaluation_metrics, TIMED_OUT_REASON, TIMED_OUT_MESSAGE, match_id, tickets.0)?;
            }
            EventDetail::MatchmakingCancelled { rule_evaluation_metrics, match_id, .. } => {
                ended(&mut map, rule_evaluation_metrics, CANCELLED_REASON, CANCELLED_MESSAGE, match_id, tickets.0)?;
            }
            EventDetail::MatchmakingFailed { rule_evaluation_metrics, match_id, reason, message, .. } => {
                ended(&mut map, rule_evaluation_metrics, reason, message, match_id, tickets.0)?;
            }
        }
        if let Some(data) = &self.ctx.custom_event_data {
            map.serialize_entry("customEventData", data)?;
        }
        map.end()
    }
}

/// The fields of the three "ticket ended" events, after `type` and `tickets`.
fn ended<M: SerializeMap>(
    map: &mut M,
    metrics: &[RuleMetric],
    reason: &str,
    message: &str,
    match_id: &Option<String>,
    tickets: &[EventTicket],
) -> Result<(), M::Error> {
    map.serialize_entry("ruleEvaluationMetrics", &Metrics(metrics))?;
    map.serialize_entry("reason", reason)?;
    map.serialize_entry("message", message)?;
    if let Some(id) = match_id {
        map.serialize_entry("matchId", id)?;
    }
    map.serialize_entry("gameSessionInfo", &SessionInfo { info: None, tickets })
}

#[derive(Clone, Copy)]
struct Tickets<'a>(&'a [EventTicket]);

impl Serialize for Tickets<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for ticket in self.0 {
            seq.serialize_element(&TicketJson(ticket))?;
        }
        seq.end()
    }
}

struct TicketJson<'a>(&'a EventTicket);

impl Serialize for TicketJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("ticketId", &*t.ticket_id)?;
        map.serialize_entry("startTime", &t.start_time.to_rfc3339())?;
        map.serialize_entry("players", &Players { players: &t.players, with_accepted: true })?;
        map.end()
    }
}

struct Players<'a> {
    players: &'a [EventPlayer],
    with_accepted: bool,
}

impl Serialize for Players<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.players.len()))?;
        for p in self.players {
            seq.serialize_element(&PlayerJson { player: p, with_accepted: self.with_accepted })?;
        }
        seq.end()
    }
}

struct PlayerJson<'a> {
    player: &'a EventPlayer,
    with_accepted: bool,
}

impl Serialize for PlayerJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.player;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("playerId", &*p.player_id)?;
        if let Some(team) = &p.team {
            map.serialize_entry("team", &**team)?;
        }
        if let (true, Some(accepted)) = (self.with_accepted, p.accepted) {
            map.serialize_entry("accepted", &accepted)?;
        }
        if let Some(session) = &p.player_session_id {
            map.serialize_entry("playerSessionId", session)?;
        }
        map.end()
    }
}

struct SessionInfo<'a> {
    info: Option<&'a GameSessionInfo>,
    tickets: &'a [EventTicket],
}

impl Serialize for SessionInfo<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(info) = self.info {
            if let Some(arn) = &info.game_session_arn {
                map.serialize_entry("gameSessionArn", arn)?;
            }
            if let Some(ip) = &info.ip_address {
                map.serialize_entry("ipAddress", ip)?;
            }
            if let Some(port) = info.port {
                map.serialize_entry("port", &port)?;
            }
        }
        map.serialize_entry("players", &AllPlayers(self.tickets))?;
        map.end()
    }
}

/// The players of all tickets, without `accepted`.
struct AllPlayers<'a>(&'a [EventTicket]);

impl Serialize for AllPlayers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.iter().map(|t| t.players.len()).sum()))?;
        for p in self.0.iter().flat_map(|t| &t.players) {
            seq.serialize_element(&PlayerJson { player: p, with_accepted: false })?;
        }
        seq.end()
    }
}

struct Metrics<'a>(&'a [RuleMetric]);

impl Serialize for Metrics<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for m in self.0 {
            seq.serialize_element(&MetricJson(m))?;
        }
        seq.end()
    }
}

struct MetricJson<'a>(&'a RuleMetric);

impl Serialize for MetricJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("ruleName", &*self.0.rule_name)?;
        map.serialize_entry("passedCount", &self.0.passed_count)?;
        map.serialize_entry("failedCount", &self.0.failed_count)?;
        map.end()
    }
}

/// The receiving end of a matchmaker's event stream.
///
/// Events arrive in emission order. The matchmaker hands them over a batch at a time (all
/// the events of one cycle, or of one `StopMatchmaking`), so that a cycle that matches
/// thousands of tickets crosses the channel once rather than once per event; this type
/// gives them back one by one ([`recv`](Self::recv), [`iter`](Self::iter), …) or a batch at
/// a time ([`recv_batch`](Self::recv_batch)). [`batches`](Self::batches) is the underlying
/// channel, for `crossbeam_channel::select!`.
#[derive(Debug)]
pub struct EventReceiver {
    batches: crossbeam_channel::Receiver<Vec<Event>>,
    /// The rest of the batch being handed out; `None` once it is spent, so that its buffer
    /// (a cycle's worth of events) is freed rather than kept until the next batch.
    pending: Option<std::vec::IntoIter<Event>>,
}

impl EventReceiver {
    pub(crate) fn new(batches: crossbeam_channel::Receiver<Vec<Event>>) -> EventReceiver {
        EventReceiver { batches, pending: None }
    }

    /// The next event, waiting for one; an error once the matchmaker is gone and every
    /// event was received.
    ///
    /// # Errors
    /// [`crossbeam_channel::RecvError`] when the stream has ended.
    pub fn recv(&mut self) -> Result<Event, crossbeam_channel::RecvError> {
        loop {
            if let Some(event) = self.next_pending() {
                return Ok(event);
            }
            self.pending = Some(self.batches.recv()?.into_iter());
        }
    }

    /// The next event if one is ready.
    ///
    /// # Errors
    /// `Empty` when none is ready yet, `Disconnected` when the stream has ended.
    pub fn try_recv(&mut self) -> Result<Event, crossbeam_channel::TryRecvError> {
        loop {
            if let Some(event) = self.next_pending() {
                return Ok(event);
            }
            self.pending = Some(self.batches.try_recv()?.into_iter());
        }
    }

    /// The next event of the current batch; frees the batch once it is spent.
    fn next_pending(&mut self) -> Option<Event> {
        let event = self.pending.as_mut()?.next();
        if event.is_none() {
            self.pending = None;
        }
        event
    }

    /// The rest of the current batch, or else the next batch, waiting for one.
    ///
    /// # Errors
    /// [`crossbeam_channel::RecvError`] when the stream has ended.
    pub fn recv_batch(&mut self) -> Result<Vec<Event>, crossbeam_channel::RecvError> {
        let rest: Vec<Event> = self.pending.take().into_iter().flatten().collect();
        if rest.is_empty() { self.batches.recv() } else { Ok(rest) }
    }

    /// Every event until the stream ends, waiting for each.
    pub fn iter(&mut self) -> impl Iterator<Item = Event> + '_ {
        std::iter::from_fn(|| self.recv().ok())
    }

    /// The events ready now.
    pub fn try_iter(&mut self) -> impl Iterator<Item = Event> + '_ {
        std::iter::from_fn(|| self.try_recv().ok())
    }

    /// Whether no event is ready now.
    pub fn is_empty(&self) -> bool {
        self.pending.as_ref().is_none_or(|p| p.len() == 0) && self.batches.is_empty()
    }

    /// The channel of batches underneath, e.g. to wait on it with other channels.
    pub fn batches(&self) -> &crossbeam_channel::Receiver<Vec<Event>> {
        &self.batches
    }
}

impl IntoIterator for EventReceiver {
    type Item = Event;
    type IntoIter = EventIntoIter;

    /// Every event until the stream ends, waiting for each.
    fn into_iter(self) -> EventIntoIter {
        EventIntoIter(self)
    }
}

/// [`EventReceiver`]'s owning iterator: every event until the stream ends.
#[derive(Debug)]
pub struct EventIntoIter(EventReceiver);

impl Iterator for EventIntoIter {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.0.recv().ok()
    }
}

/// Deterministic UUIDs (version 4 layout) from a seed: event IDs and match IDs that are the
/// same on every run of a simulation. Not for anything that must be unguessable.
#[derive(Debug, Clone)]
pub struct UuidGen {
    state: u64,
}

impl UuidGen {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> UuidGen {
        UuidGen { state: seed }
    }

    /// The next UUID (version 4 layout).
    pub fn next_uuid(&mut self) -> Uuid {
        let uuid = self.nth(0);
        self.state = self.state.wrapping_add(SPLITMIX_GAMMA.wrapping_mul(2));
        uuid
    }

    /// A generator positioned at the next `n` UUIDs, which [`UuidGen::nth`] reads in any
    /// order (and from any thread); this one continues after them. So UUIDs can be given
    /// out in parallel and still be exactly the sequence `next_uuid` would have produced.
    pub fn take(&mut self, n: usize) -> UuidGen {
        let at = self.clone();
        self.state = self.state.wrapping_add(SPLITMIX_GAMMA.wrapping_mul(2 * n as u64));
        at
    }

    /// The UUID `next_uuid` would return after `i` others, without advancing.
    pub fn nth(&self, i: usize) -> Uuid {
        // splitmix64: output k is a mix of the state advanced k times by the gamma.
        let at = |k: u64| splitmix64(self.state.wrapping_add(SPLITMIX_GAMMA.wrapping_mul(k)));
        let k = 2 * i as u64;
        uuid_v4((u128::from(at(k + 1)) << 64) | u128::from(at(k + 2)))
    }
}

/// splitmix64's increment.
const SPLITMIX_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// splitmix64's output function.
fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `bits` as a version-4, RFC 4122-variant UUID (the version and variant bits are
/// overwritten).
pub fn uuid_v4(bits: u128) -> Uuid {
    Uuid::from_u128((bits & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62))
}

#[cfg(test)]
mod tests;
