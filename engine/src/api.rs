//! The GameLift service API's matchmaking shapes, engine side: requests parsed from JSON with
//! diagnostics, and responses written in GameLift's JSON (spec §13). No I/O.
//!
//! Requests are read from the span-keeping [`crate::json`] tree so every problem names its
//! JSON path (`requests[3].StartMatchmaking.Players[0].PlayerAttributes.skill`) and position.
//! Every documented constraint of `StartMatchmaking`, `StopMatchmaking`,
//! `DescribeMatchmaking`, `Player` and `AttributeValue` (§13.1–13.6, §15.1) is checked.
//!
//! Responses serialise with [`serde::Serialize`] in GameLift's field order (PascalCase keys,
//! timestamps as epoch seconds, absent optionals omitted); whole numbers are written without
//! a fraction (`{"N": 1500}`).
//!
//! Decisions where AWS is silent:
//!
//! * `{"N": "23"}` (a numeric string) is accepted as the number 23, as some AWS text shows.
//! * `null` for an optional field means the field is absent.
//! * An empty `TicketId` is an error (omit the field to have an ID generated), although the
//!   documented pattern `[a-zA-Z0-9-\.]*` would allow it.
//! * Repeated `SL` strings after the first are dropped, as GameLift does, with a warning.
//! * A `Team` on a `StartMatchmaking` player is accepted with a warning: GameLift only reads
//!   teams from backfill requests.
//! * `LatencyInMs` values must be whole numbers from 1 to 2147483647 (a Java `Integer`).

use std::collections::HashMap;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::Checked;
use crate::diagnostic::Sink;
use crate::events::Name;
use crate::json::{self, Kind, Member, Value};
use crate::source::Span;
use crate::suggest;
use crate::time::Time;

/// Players per `StartMatchmaking` request (not adjustable).
pub const MAX_PLAYERS_PER_TICKET: usize = 10;
/// Attributes per player (not adjustable).
pub const MAX_PLAYER_ATTRIBUTES: usize = 10;
/// Strings per `SL` attribute value.
pub const MAX_STRING_LIST_LEN: usize = 100;
/// Pairs per `SDM` attribute value.
pub const MAX_STRING_DOUBLE_MAP_LEN: usize = 10;
/// Characters in an `S` value, an `SL` item or an `SDM` key.
pub const MAX_ATTRIBUTE_STRING_CHARS: usize = 100;
/// Characters in a ticket ID.
pub const MAX_TICKET_ID_CHARS: usize = 128;
/// Characters in a `ConfigurationName` (a name or an ARN).
pub const MAX_CONFIGURATION_NAME_CHARS: usize = 256;
/// Characters in a `PlayerId`.
pub const MAX_PLAYER_ID_CHARS: usize = 1024;
/// Characters in a `Team` name.
pub const MAX_TEAM_CHARS: usize = 1024;
/// Characters in a `PlayerAttributes` key.
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 1024;
/// Ticket IDs per `DescribeMatchmaking` call.
pub const MAX_DESCRIBE_TICKET_IDS: usize = 10;
/// Largest `LatencyInMs` value (GameLift models it as a Java `Integer`).
pub const MAX_LATENCY_MS: u32 = i32::MAX as u32;

/// A player attribute's value: exactly one of GameLift's four members.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// `S`: a string of 1–100 characters.
    S(String),
    /// `N`: a number.
    N(f64),
    /// `SL`: up to 100 distinct strings of 1–100 characters, in order.
    SL(Vec<String>),
    /// `SDM`: up to 10 string → number pairs, in document order.
    SDM(Vec<(String, f64)>),
}

impl AttributeValue {
    /// The member name (`S`, `N`, `SL`, `SDM`).
    pub fn member_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::SL(_) => "SL",
            AttributeValue::SDM(_) => "SDM",
        }
    }
}

/// One player of a matchmaking request or ticket.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Player {
    /// `PlayerId`: unique player ID (1–1024 characters).
    pub player_id: String,
    /// `PlayerAttributes`, in document order (≤10).
    pub attributes: Vec<(String, AttributeValue)>,
    /// `Team`: set on output once matched; on input only meaningful for backfill.
    pub team: Option<String>,
    /// `LatencyInMs`: location → milliseconds (≥1), in document order.
    pub latency_in_ms: Vec<(String, u32)>,
}

impl Player {
    /// The value of attribute `name`, if the player sent it.
    pub fn attribute(&self, name: &str) -> Option<&AttributeValue> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The reported latency to `location`, if any.
    pub fn latency(&self, location: &str) -> Option<u32> {
        self.latency_in_ms.iter().find(|(l, _)| l == location).map(|(_, ms)| *ms)
    }
}

/// `StartMatchmaking` request (§13.1).
#[derive(Debug, Clone, PartialEq)]
pub struct StartMatchmakingRequest {
    /// `TicketId`; generated when absent.
    pub ticket_id: Option<String>,
    /// `ConfigurationName`: name or ARN of the matchmaking configuration.
    pub configuration_name: String,
    /// `Players`: the party (1–10 players with distinct IDs).
    pub players: Vec<Player>,
}

/// `StopMatchmaking` request (§13.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopMatchmakingRequest {
    /// `TicketId` of the ticket to cancel.
    pub ticket_id: String,
}

/// `DescribeMatchmaking` request (§13.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeMatchmakingRequest {
    /// `TicketIds` (≤10).
    pub ticket_ids: Vec<String>,
}

/// A ticket's status (§9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    /// `QUEUED`: received, not yet in the pool.
    Queued,
    /// `SEARCHING`: in the pool.
    Searching,
    /// `REQUIRES_ACCEPTANCE`: in a proposed match awaiting acceptance.
    RequiresAcceptance,
    /// `PLACING`: matched; a game session is being placed.
    Placing,
    /// `COMPLETED`: matched (and placed, with a queue). Terminal.
    Completed,
    /// `FAILED`: an error ended processing. Terminal.
    Failed,
    /// `CANCELLED`: stopped by request, a failed acceptance or a duplicate player. Terminal.
    Cancelled,
    /// `TIMED_OUT`: not matched within `RequestTimeoutSeconds`. Terminal.
    TimedOut,
}

impl TicketStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TicketStatus; 8] = [
        TicketStatus::Queued,
        TicketStatus::Searching,
        TicketStatus::RequiresAcceptance,
        TicketStatus::Placing,
        TicketStatus::Completed,
        TicketStatus::Failed,
        TicketStatus::Cancelled,
        TicketStatus::TimedOut,
    ];

    /// The AWS literal (`QUEUED`, `REQUIRES_ACCEPTANCE`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Queued => "QUEUED",
            TicketStatus::Searching => "SEARCHING",
            TicketStatus::RequiresAcceptance => "REQUIRES_ACCEPTANCE",
            TicketStatus::Placing => "PLACING",
            TicketStatus::Completed => "COMPLETED",
            TicketStatus::Failed => "FAILED",
            TicketStatus::Cancelled => "CANCELLED",
            TicketStatus::TimedOut => "TIMED_OUT",
        }
    }

    /// The status named by an AWS literal.
    pub fn from_aws(s: &str) -> Option<TicketStatus> {
        TicketStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether processing has ended (`COMPLETED`, `FAILED`, `CANCELLED`, `TIMED_OUT`).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TicketStatus::Completed | TicketStatus::Failed | TicketStatus::Cancelled | TicketStatus::TimedOut
        )
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A matchmaking ticket as `StartMatchmaking` and `DescribeMatchmaking` return it (§13.7).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchmakingTicket {
    /// `TicketId`.
    pub ticket_id: String,
    /// `ConfigurationName`.
    pub configuration_name: String,
    /// `ConfigurationArn` (a [`Name`]: one copy per configuration, not one per answer).
    pub configuration_arn: Name,
    /// `Status`.
    pub status: TicketStatus,
    /// `StatusReason`: a code explaining the status.
    pub status_reason: Option<String>,
    /// `StatusMessage`: free text.
    pub status_message: Option<String>,
    /// `StartTime`.
    pub start_time: Time,
    /// `EndTime`: set once processing stops.
    pub end_time: Option<Time>,
    /// `Players`; teams are filled in once matched.
    pub players: Vec<Player>,
    /// `EstimatedWaitTime` in seconds; absent without enough recent data.
    pub estimated_wait_time: Option<u32>,
}

impl MatchmakingTicket {
    /// A new `QUEUED` ticket for `request`, as `StartMatchmaking` returns it.
    pub fn queued(
        ticket_id: String,
        request: &StartMatchmakingRequest,
        configuration_arn: Name,
        now: Time,
    ) -> MatchmakingTicket {
        MatchmakingTicket {
            ticket_id,
            configuration_name: request.configuration_name.clone(),
            configuration_arn,
            status: TicketStatus::Queued,
            status_reason: None,
            status_message: None,
            start_time: now,
            end_time: None,
            players: request.players.clone(),
            estimated_wait_time: None,
        }
    }

    /// The ticket as a JSON value. Without serde_json's `preserve_order` feature the value's
    /// keys are sorted; serialise the ticket itself (`serde_json::to_string(&ticket)`) to
    /// keep GameLift's field order.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a ticket always serialises")
    }
}

/// `arn:aws:gamelift:<region>:<account>:matchmakingconfiguration/<name>`.
pub fn matchmaking_configuration_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:gamelift:{region}:{account}:matchmakingconfiguration/{name}")
}

/// The `{"MatchmakingTicket": …}` response of `StartMatchmaking`.
pub fn start_matchmaking_response(ticket: &MatchmakingTicket) -> String {
    // Spliced by hand so the ticket's field order survives.
    let ticket = serde_json::to_string(ticket).expect("a ticket always serialises");
    format!("{{\"MatchmakingTicket\":{ticket}}}")
}

/// The `{"TicketList": […]}` response of `DescribeMatchmaking`.
pub fn describe_matchmaking_response(tickets: &[MatchmakingTicket]) -> String {
    let list = serde_json::to_string(tickets).expect("tickets always serialise");
    format!("{{\"TicketList\":{list}}}")
}

/// An API call that failed, with GameLift's exception type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// `InvalidRequestException` (HTTP 400): the request is malformed or not allowed now.
    #[error("InvalidRequestException: {0}")]
    InvalidRequest(String),
    /// `NotFoundException` (HTTP 400): a named ticket or configuration does not exist.
    #[error("NotFoundException: {0}")]
    NotFound(String),
    /// `InternalServiceException` (HTTP 500).
    #[error("InternalServiceException: {0}")]
    Internal(String),
}

impl ApiError {
    /// GameLift's exception name (`InvalidRequestException`, …).
    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_) => "InvalidRequestException",
            ApiError::NotFound(_) => "NotFoundException",
            ApiError::Internal(_) => "InternalServiceException",
        }
    }

    /// The message without the exception name.
    pub fn message(&self) -> &str {
        match self {
            ApiError::InvalidRequest(m) | ApiError::NotFound(m) | ApiError::Internal(m) => m,
        }
    }

    /// The HTTP status GameLift answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::Internal(_) => 500,
            _ => 400,
        }
    }

    /// The error body of AWS's JSON 1.1 protocol: `{"__type": "…Exception", "message": "…"}`.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::json!({ "__type": self.error_type(), "message": self.message() })
    }

    /// `InvalidRequestException` for a request that failed validation: the first error's
    /// path and message. `None` when no diagnostic is an error.
    pub fn from_diagnostics(diagnostics: &[crate::Diagnostic]) -> Option<ApiError> {
        let d = diagnostics.iter().find(|d| d.is_error())?;
        let message = if d.path.is_empty() { d.message.clone() } else { format!("{}: {}", d.path, d.message) };
        Some(ApiError::InvalidRequest(message))
    }
}

// ---------------------------------------------------------------------------------------
// Serialisation

/// A number written without a fraction when it is whole (`1500`, not `1500.0`).
struct Num(f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        if self.0.fract() == 0.0 && self.0.abs() <= EXACT {
            s.serialize_i64(self.0 as i64)
        } else {
            s.serialize_f64(self.0)
        }
    }
}

/// `(key, value)` pairs as a JSON object, in order.
struct Pairs<'a, V>(&'a [(String, V)]);

impl<V: Copy + Into<f64>> Serialize for Pairs<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, &Num((*v).into()))?;
        }
        map.end()
    }
}

struct Attributes<'a>(&'a [(String, AttributeValue)]);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(v) => map.serialize_entry("S", v)?,
            AttributeValue::N(n) => map.serialize_entry("N", &Num(*n))?,
            AttributeValue::SL(items) => map.serialize_entry("SL", items)?,
            AttributeValue::SDM(pairs) => map.serialize_entry("SDM", &Pairs(pairs))?,
        }
        map.end()
    }
}

impl Serialize for Player {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("PlayerId", &self.player_id)?;
        if !self.attributes.is_empty() {
            map.serialize_entry("PlayerAttributes", &Attributes(&self.attributes))?;
        }
        if let Some(team) = &self.team {
            map.serialize_entry("Team", team)?;
        }
        if !self.latency_in_ms.is_empty() {
            map.serialize_entry("LatencyInMs", &Pairs(&self.latency_in_ms))?;
        }
        map.end()
    }
}

impl Serialize for TicketStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for MatchmakingTicket {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("TicketId", &self.ticket_id)?;
        map.serialize_entry("ConfigurationName", &self.configuration_name)?;
        map.serialize_entry("ConfigurationArn", self.configuration_arn.as_str())?;
        map.serialize_entry("Status", &self.status)?;
        if let Some(reason) = &self.status_reason {
            map.serialize_entry("StatusReason", reason)?;
        }
        if let Some(message) = &self.status_message {
            map.serialize_entry("StatusMessage", message)?;
        }
        map.serialize_entry("StartTime", &Num(self.start_time.epoch_seconds()))?;
        if let Some(end) = self.end_time {
            map.serialize_entry("EndTime", &Num(end.epoch_seconds()))?;
        }
        map.serialize_entry("Players", &PlayerList(&self.players))?;
        if let Some(wait) = self.estimated_wait_time {
            map.serialize_entry("EstimatedWaitTime", &wait)?;
        }
        map.end()
    }
}

struct PlayerList<'a>(&'a [Player]);

impl Serialize for PlayerList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for p in self.0 {
            seq.serialize_element(p)?;
        }
        seq.end()
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

const START_FIELDS: &[&str] = &["TicketId", "ConfigurationName", "Players"];
const STOP_FIELDS: &[&str] = &["TicketId"];
const DESCRIBE_FIELDS: &[&str] = &["TicketIds"];
const PLAYER_FIELDS: &[&str] = &["PlayerId", "PlayerAttributes", "Team", "LatencyInMs"];
const ATTRIBUTE_MEMBERS: &[&str] = &["S", "N", "SL", "SDM"];

const PLAYER_EXAMPLE: &str = r#"{"PlayerId": "p1", "PlayerAttributes": {"skill": {"N": 1500}}}"#;

/// Parses and validates a `StartMatchmaking` request body.
pub fn check_start_matchmaking(text: &str) -> Checked<StartMatchmakingRequest> {
    check_document(text, parse_start_matchmaking)
}

/// Parses and validates a `StopMatchmaking` request body.
pub fn check_stop_matchmaking(text: &str) -> Checked<StopMatchmakingRequest> {
    check_document(text, parse_stop_matchmaking)
}

/// Parses and validates a `DescribeMatchmaking` request body.
pub fn check_describe_matchmaking(text: &str) -> Checked<DescribeMatchmakingRequest> {
    check_document(text, parse_describe_matchmaking)
}

fn check_document<T>(text: &str, parse: fn(&Value, &str, &mut Sink<'_>) -> Option<T>) -> Checked<T> {
    let mut sink = Sink::new(text);
    let value = match json::parse(text) {
        Ok(v) => parse(&v, "", &mut sink),
        Err(e) => {
            sink.error_help("json-syntax", "", e.span, e.message, e.help);
            None
        }
    };
    let value = if sink.has_errors() { None } else { value };
    Checked { value, diagnostics: sink.finish() }
}

/// Validates a `StartMatchmaking` request at JSON path `path`. `None` when it has errors.
pub(crate) fn parse_start_matchmaking(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<StartMatchmakingRequest> {
    let errors = error_count(sink);
    let example = r#"{"ConfigurationName": "ranked", "Players": [{"PlayerId": "p1"}]}"#;
    let members = object(v, path, "a StartMatchmaking request", example, sink)?;
    let (slots, suggested) = fields(members, path, START_FIELDS, "StartMatchmaking", sink);
    let ticket_id = present(slots[0]).map(|m| ticket_id(&m.value, &join(path, "TicketId"), sink));
    let configuration_name = match slots[1] {
        Some(m) => string(
            &m.value,
            &join(path, "ConfigurationName"),
            "ConfigurationName",
            1,
            MAX_CONFIGURATION_NAME_CHARS,
            sink,
        ),
        None => missing(
            v,
            path,
            "ConfigurationName",
            &suggested,
            "name the matchmaking configuration, e.g. \"ConfigurationName\": \"ranked\"",
            sink,
        ),
    };
    let players = match slots[2] {
        Some(m) => players(&m.value, &join(path, "Players"), sink),
        None => missing(v, path, "Players", &suggested, &format!("add \"Players\": [{PLAYER_EXAMPLE}]"), sink),
    };
    if error_count(sink) > errors {
        return None;
    }
    Some(StartMatchmakingRequest {
        ticket_id: ticket_id.flatten(),
        configuration_name: configuration_name?,
        players: players?,
    })
}

/// Validates a `StopMatchmaking` request at JSON path `path`. `None` when it has errors.
pub(crate) fn parse_stop_matchmaking(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<StopMatchmakingRequest> {
    let errors = error_count(sink);
    let members = object(v, path, "a StopMatchmaking request", r#"{"TicketId": "t1"}"#, sink)?;
    let (slots, suggested) = fields(members, path, STOP_FIELDS, "StopMatchmaking", sink);
    let ticket_id = match slots[0] {
        Some(m) => ticket_id(&m.value, &join(path, "TicketId"), sink),
        None => missing(v, path, "TicketId", &suggested, "name the ticket to cancel, e.g. \"TicketId\": \"t1\"", sink),
    };
    if error_count(sink) > errors {
        return None;
    }
    Some(StopMatchmakingRequest { ticket_id: ticket_id? })
}

/// Validates a `DescribeMatchmaking` request at JSON path `path`. `None` when it has errors.
pub(crate) fn parse_describe_matchmaking(
    v: &Value,
    path: &str,
    sink: &mut Sink<'_>,
) -> Option<DescribeMatchmakingRequest> {
    let errors = error_count(sink);
    let members = object(v, path, "a DescribeMatchmaking request", r#"{"TicketIds": ["t1"]}"#, sink)?;
    let (slots, suggested) = fields(members, path, DESCRIBE_FIELDS, "DescribeMatchmaking", sink);
    let ids_path = join(path, "TicketIds");
    let ticket_ids = match slots[0] {
        Some(m) => match m.value.as_array() {
            Some(items) => {
                if let Some(extra) = items.get(MAX_DESCRIBE_TICKET_IDS) {
                    sink.error_help(
                        "too-many",
                        &format!("{ids_path}[{MAX_DESCRIBE_TICKET_IDS}]"),
                        extra.span,
                        format!(
                            "TicketIds has {} IDs; DescribeMatchmaking takes at most {MAX_DESCRIBE_TICKET_IDS}",
                            items.len()
                        ),
                        Some("split the IDs over several calls".to_owned()),
                    );
                }
                let ids: Vec<_> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| ticket_id(item, &format!("{ids_path}[{i}]"), sink))
                    .collect();
                ids.into_iter().collect::<Option<Vec<_>>>()
            }
            None => {
                sink.error_help(
                    "wrong-type",
                    &ids_path,
                    m.value.span,
                    format!("TicketIds must be an array of ticket IDs, found {}", m.value.kind.describe()),
                    m.value.as_str().map(|s| format!("write [\"{s}\"]")),
                );
                None
            }
        },
        None => missing(v, path, "TicketIds", &suggested, "list the tickets, e.g. \"TicketIds\": [\"t1\"]", sink),
    };
    if error_count(sink) > errors {
        return None;
    }
    Some(DescribeMatchmakingRequest { ticket_ids: ticket_ids? })
}

fn players(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<Vec<Player>> {
    let Some(items) = v.as_array() else {
        let help = if v.as_object().is_some() {
            "put the player in a list: \"Players\": [{ … }]".to_owned()
        } else {
            format!("write \"Players\": [{PLAYER_EXAMPLE}]")
        };
        sink.error_help(
            "wrong-type",
            path,
            v.span,
            format!("Players must be an array of players, found {}", v.kind.describe()),
            Some(help),
        );
        return None;
    };
    if items.is_empty() {
        sink.error_help(
            "too-short",
            path,
            v.span,
            "Players must list at least one player",
            Some(format!("add a player, e.g. {PLAYER_EXAMPLE}")),
        );
        return None;
    }
    if let Some(extra) = items.get(MAX_PLAYERS_PER_TICKET) {
        sink.error_help(
            "too-many",
            &format!("{path}[{MAX_PLAYERS_PER_TICKET}]"),
            extra.span,
            format!("a ticket holds at most {MAX_PLAYERS_PER_TICKET} players; this one has {}", items.len()),
            Some("split the party over several tickets".to_owned()),
        );
    }
    let mut players = Vec::with_capacity(items.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let player_path = format!("{path}[{i}]");
        let Some(player) = parse_player(item, &player_path, sink) else {
            ok = false;
            continue;
        };
        if let Some(first) = seen.get(&player.player_id) {
            let span = item.get("PlayerId").map_or(item.span, |id| id.span);
            sink.error_help(
                "duplicate-player",
                &join(&player_path, "PlayerId"),
                span,
                format!("player '{}' is already listed as {path}[{first}]", player.player_id),
                Some("each player may appear once in a ticket".to_owned()),
            );
            ok = false;
        } else {
            seen.insert(player.player_id.clone(), i);
        }
        if player.team.is_some() {
            let span = item.get("Team").map_or(item.span, |t| t.span);
            sink.warning(
                "team-ignored",
                &join(&player_path, "Team"),
                span,
                "Team is only meaningful in backfill requests; FlexMatch assigns teams to new tickets",
                Some("remove Team; StartMatchBackfill is the request that takes players' current teams".to_owned()),
            );
        }
        players.push(player);
    }
    (ok && items.len() <= MAX_PLAYERS_PER_TICKET).then_some(players)
}

/// Validates one `Player` at JSON path `path`. `None` when it has errors.
pub(crate) fn parse_player(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<Player> {
    let errors = error_count(sink);
    let members = object(v, path, "a player", PLAYER_EXAMPLE, sink)?;
    let (slots, suggested) = fields(members, path, PLAYER_FIELDS, "player", sink);
    let player_id = match slots[0] {
        Some(m) => string(&m.value, &join(path, "PlayerId"), "PlayerId", 1, MAX_PLAYER_ID_CHARS, sink),
        None => missing(v, path, "PlayerId", &suggested, "give every player an ID, e.g. \"PlayerId\": \"p1\"", sink),
    };
    let attributes = present(slots[1]).map(|m| attributes(&m.value, &join(path, "PlayerAttributes"), sink));
    let team = present(slots[2]).map(|m| string(&m.value, &join(path, "Team"), "Team", 1, MAX_TEAM_CHARS, sink));
    let latency = present(slots[3]).map(|m| latencies(&m.value, &join(path, "LatencyInMs"), sink));
    if error_count(sink) > errors {
        return None;
    }
    Some(Player {
        player_id: player_id?,
        attributes: attributes.flatten().unwrap_or_default(),
        team: team.flatten(),
        latency_in_ms: latency.flatten().unwrap_or_default(),
    })
}

fn attributes(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<Vec<(String, AttributeValue)>> {
    let members = object(v, path, "PlayerAttributes", r#"{"skill": {"N": 1500}, "mode": {"S": "ranked"}}"#, sink)?;
    if let Some(extra) = members.get(MAX_PLAYER_ATTRIBUTES) {
        sink.error_help(
            "too-many",
            &key_path(path, &extra.key),
            extra.key_span,
            format!("a player may have at most {MAX_PLAYER_ATTRIBUTES} attributes; this one has {}", members.len()),
            Some("send only the attributes the rule set declares".to_owned()),
        );
    }
    let mut out = Vec::with_capacity(members.len());
    for (i, member) in members.iter().enumerate() {
        let attr_path = key_path(path, &member.key);
        key_length(member, &attr_path, "an attribute name", MAX_ATTRIBUTE_NAME_CHARS, sink);
        if members[..i].iter().any(|m| m.key == member.key) {
            duplicate_key(member, &attr_path, "attribute", sink);
            continue;
        }
        if let Some(value) = attribute_value(&member.value, &attr_path, &member.key, sink) {
            out.push((member.key.clone(), value));
        }
    }
    Some(out)
}

fn attribute_value(v: &Value, path: &str, name: &str, sink: &mut Sink<'_>) -> Option<AttributeValue> {
    let Some(members) = v.as_object() else {
        let help = match &v.kind {
            Kind::Number(n) => format!("write {{\"N\": {}}}", number(*n)),
            Kind::String(s) => format!("write {{\"S\": {}}}", serde_json::to_string(s).unwrap_or_default()),
            Kind::Array(_) => "write {\"SL\": [ … ]} for a list of strings".to_owned(),
            _ => "write {\"N\": 1500}, {\"S\": \"text\"}, {\"SL\": [\"a\", \"b\"]} or {\"SDM\": {\"a\": 1}}".to_owned(),
        };
        sink.error_help(
            "wrong-type",
            path,
            v.span,
            format!("attribute '{name}' must be an AttributeValue object, found {}", v.kind.describe()),
            Some(help),
        );
        return None;
    };
    let mut chosen: Option<&Member> = None;
    let mut unknown = false;
    for member in members {
        if !ATTRIBUTE_MEMBERS.contains(&member.key.as_str()) {
            unknown = true;
            let help = closest(&member.key, ATTRIBUTE_MEMBERS).map(did_you_mean).or_else(|| {
                Some("an AttributeValue has one member: S (string), N (number), SL (string list) or SDM (string-to-number map)".to_owned())
            });
            sink.error_help(
                "unknown-field",
                &join(path, &member.key),
                member.key_span,
                format!("unknown AttributeValue member '{}'", member.key),
                help,
            );
        } else if let Some(first) = chosen {
            let (code, message) = if first.key == member.key {
                ("duplicate-field", format!("'{}' is given more than once", member.key))
            } else {
                (
                    "conflicting-fields",
                    format!(
                        "attribute '{name}' has both {} and {}; an AttributeValue holds exactly one",
                        first.key, member.key
                    ),
                )
            };
            sink.error_help(
                code,
                &join(path, &member.key),
                member.key_span,
                message,
                Some("keep one of them".to_owned()),
            );
        } else {
            chosen = Some(member);
        }
    }
    let Some(member) = chosen else {
        if !unknown {
            sink.error_help(
                "missing-field",
                path,
                v.span,
                format!("attribute '{name}' has no value"),
                Some("give exactly one of S, N, SL or SDM, e.g. {\"N\": 1500}".to_owned()),
            );
        }
        return None;
    };
    let member_path = join(path, &member.key);
    let value = &member.value;
    match member.key.as_str() {
        "S" => string(value, &member_path, "an S value", 1, MAX_ATTRIBUTE_STRING_CHARS, sink).map(AttributeValue::S),
        "N" => n_value(value, &member_path, sink).map(AttributeValue::N),
        "SL" => string_list(value, &member_path, sink).map(AttributeValue::SL),
        _ => string_double_map(value, &member_path, sink).map(AttributeValue::SDM),
    }
}

fn n_value(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<f64> {
    match &v.kind {
        Kind::Number(n) => Some(*n),
        Kind::String(s) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && s.trim() == s && !s.is_empty() => Some(n),
            _ => {
                sink.error_help(
                    "wrong-type",
                    path,
                    v.span,
                    format!(
                        "an N value must be a number, found the string {}",
                        serde_json::to_string(s).unwrap_or_default()
                    ),
                    Some("write a number such as 1500; for text use S".to_owned()),
                );
                None
            }
        },
        other => {
            sink.error_help(
                "wrong-type",
                path,
                v.span,
                format!("an N value must be a number, found {}", other.describe()),
                Some("write a number such as 1500".to_owned()),
            );
            None
        }
    }
}

fn string_list(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<Vec<String>> {
    let Some(items) = v.as_array() else {
        sink.error_help(
            "wrong-type",
            path,
            v.span,
            format!("an SL value must be an array of strings, found {}", v.kind.describe()),
            v.as_str().map(|s| format!("write [{}]", serde_json::to_string(s).unwrap_or_default())),
        );
        return None;
    };
    if let Some(extra) = items.get(MAX_STRING_LIST_LEN) {
        sink.error_help(
            "too-many",
            &format!("{path}[{MAX_STRING_LIST_LEN}]"),
            extra.span,
            format!("an SL value holds at most {MAX_STRING_LIST_LEN} strings; this one has {}", items.len()),
            None,
        );
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Some(s) = string(item, &item_path, "an SL item", 1, MAX_ATTRIBUTE_STRING_CHARS, sink) else {
            ok = false;
            continue;
        };
        if let Some(first) = out.iter().position(|o| *o == s) {
            sink.warning(
                "duplicate-value",
                &item_path,
                item.span,
                format!("\"{s}\" is already in the list at [{first}]; FlexMatch ignores repeated values"),
                Some("remove the repeat".to_owned()),
            );
        } else {
            out.push(s);
        }
    }
    ok.then_some(out)
}

fn string_double_map(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<Vec<(String, f64)>> {
    let members = object(v, path, "an SDM value", r#"{"Body": 10, "Mind": 12}"#, sink)?;
    if let Some(extra) = members.get(MAX_STRING_DOUBLE_MAP_LEN) {
        sink.error_help(
            "too-many",
            &key_path(path, &extra.key),
            extra.key_span,
            format!("an SDM value holds at most {MAX_STRING_DOUBLE_MAP_LEN} pairs; this one has {}", members.len()),
            None,
        );
    }
    let mut out = Vec::with_capacity(members.len());
    for (i, member) in members.iter().enumerate() {
        let entry_path = key_path(path, &member.key);
        key_length(member, &entry_path, "an SDM key", MAX_ATTRIBUTE_STRING_CHARS, sink);
        if members[..i].iter().any(|m| m.key == member.key) {
            duplicate_key(member, &entry_path, "SDM key", sink);
            continue;
        }
        match &member.value.kind {
            Kind::Number(n) => out.push((member.key.clone(), *n)),
            other => sink.error_help(
                "wrong-type",
                &entry_path,
                member.value.span,
                format!("SDM values must be numbers, found {}", other.describe()),
                match other {
                    Kind::String(s) if s.parse::<f64>().is_ok_and(f64::is_finite) => {
                        Some(format!("write {s} without quotes"))
                    }
                    _ => None,
                },
            ),
        }
    }
    Some(out)
}

fn latencies(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<Vec<(String, u32)>> {
    let members = object(v, path, "LatencyInMs", r#"{"us-east-1": 40, "us-west-2": 85}"#, sink)?;
    let mut out = Vec::with_capacity(members.len());
    for (i, member) in members.iter().enumerate() {
        let entry_path = key_path(path, &member.key);
        key_length(member, &entry_path, "a location", usize::MAX, sink);
        if members[..i].iter().any(|m| m.key == member.key) {
            duplicate_key(member, &entry_path, "location", sink);
            continue;
        }
        let value = &member.value;
        let n = match &value.kind {
            Kind::Number(n) => *n,
            other => {
                let help = match other {
                    Kind::String(s) if s.parse::<f64>().is_ok_and(f64::is_finite) => {
                        Some(format!("write {s} without quotes"))
                    }
                    _ => Some("write whole milliseconds, e.g. 40".to_owned()),
                };
                sink.error_help(
                    "wrong-type",
                    &entry_path,
                    value.span,
                    format!("a latency must be a whole number of milliseconds, found {}", other.describe()),
                    help,
                );
                continue;
            }
        };
        if n.fract() != 0.0 {
            sink.error_help(
                "wrong-type",
                &entry_path,
                value.span,
                format!("a latency must be a whole number of milliseconds, found {}", number(n)),
                Some(format!("round it, e.g. {}", n.round().max(1.0))),
            );
        } else if n < 1.0 || n > f64::from(MAX_LATENCY_MS) {
            sink.error_help(
                "out-of-range",
                &entry_path,
                value.span,
                format!("a latency must be between 1 and {MAX_LATENCY_MS} ms, found {}", number(n)),
                (n < 1.0).then(|| "report at least 1 ms; omit locations you could not measure".to_owned()),
            );
        } else {
            out.push((member.key.clone(), n as u32));
        }
    }
    Some(out)
}

fn ticket_id(v: &Value, path: &str, sink: &mut Sink<'_>) -> Option<String> {
    let s = string(v, path, "TicketId", 1, MAX_TICKET_ID_CHARS, sink)?;
    let help = "a ticket ID may use only letters, digits, '-' and '.'";
    pattern(v, &s, path, "TicketId", |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'), help, sink).then_some(s)
}

// ---------------------------------------------------------------------------------------
// Shared helpers (also used by `scenario`)

pub(crate) fn error_count(sink: &Sink<'_>) -> usize {
    sink.diagnostics.iter().filter(|d| d.is_error()).count()
}

/// `path.field`, or `field` at the root.
pub(crate) fn join(path: &str, field: &str) -> String {
    if path.is_empty() { field.to_owned() } else { format!("{path}.{field}") }
}

/// The path of map entry `key` under `path`: `path.key`, or `path["key"]` when the key is not
/// a plain name (empty, or with characters such as `.`, ` ` or `[`).
pub(crate) fn key_path(path: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':'));
    if plain { join(path, key) } else { format!("{path}[{}]", serde_json::to_string(key).unwrap_or_default()) }
}

/// The member unless it is absent or `null`.
pub(crate) fn present(member: Option<&Member>) -> Option<&Member> {
    member.filter(|m| !matches!(m.value.kind, Kind::Null))
}

/// The span of an object's opening brace, where missing fields are reported.
pub(crate) fn opening(value: &Value) -> Span {
    let start = value.span.start as usize;
    Span::new(start, start + 1)
}

/// The object's members, or a wrong-type error naming `what` with an `example`.
pub(crate) fn object<'v>(
    v: &'v Value,
    path: &str,
    what: &str,
    example: &str,
    sink: &mut Sink<'_>,
) -> Option<&'v [Member]> {
    match v.as_object() {
        Some(members) => Some(members),
        None => {
            sink.error_help(
                "wrong-type",
                path,
                v.span,
                format!("{what} must be a JSON object, found {}", v.kind.describe()),
                Some(format!("write it as {example}")),
            );
            None
        }
    }
}

/// Sorts an object's members into `known` slots (the first of each name), reporting
/// duplicates and unknown names; `noun` names the object in messages. Returns the slots and
/// the known names suggested for unknown ones (whose absence then goes unreported).
pub(crate) fn fields<'v, 'k>(
    members: &'v [Member],
    path: &str,
    known: &[&'k str],
    noun: &str,
    sink: &mut Sink<'_>,
) -> (Vec<Option<&'v Member>>, Vec<&'k str>) {
    let mut slots = vec![None; known.len()];
    let mut suggested = Vec::new();
    for member in members {
        let member_path = join(path, &member.key);
        if let Some(i) = known.iter().position(|k| *k == member.key) {
            if slots[i].is_some() {
                duplicate_key(member, &member_path, "field", sink);
            } else {
                slots[i] = Some(member);
            }
        } else {
            let suggestion = closest(&member.key, known);
            suggested.extend(suggestion);
            let help = suggestion.map(did_you_mean).unwrap_or_else(|| format!("the fields are {}", known.join(", ")));
            sink.error_help(
                "unknown-field",
                &member_path,
                member.key_span,
                format!("unknown {noun} field '{}'", member.key),
                Some(help),
            );
        }
    }
    (slots, suggested)
}

fn duplicate_key(member: &Member, path: &str, noun: &str, sink: &mut Sink<'_>) {
    sink.error_help(
        "duplicate-field",
        path,
        member.key_span,
        format!("{noun} '{}' is given more than once", member.key),
        Some("delete one of them; JSON readers disagree about which one wins".to_owned()),
    );
}

fn key_length(member: &Member, path: &str, what: &str, max: usize, sink: &mut Sink<'_>) {
    let n = member.key.chars().count();
    if n == 0 {
        sink.error("too-short", path, member.key_span, format!("{what} must not be empty"));
    } else if n > max {
        sink.error("too-long", path, member.key_span, format!("{what} is {n} characters long; the maximum is {max}"));
    }
}

/// Reports a missing required field of the object `v`, unless an unknown field was taken for
/// a misspelling of it (`suggested`); returns `None` for convenience.
pub(crate) fn missing<T>(
    v: &Value,
    path: &str,
    field: &str,
    suggested: &[&str],
    help: &str,
    sink: &mut Sink<'_>,
) -> Option<T> {
    if !suggested.contains(&field) {
        let message = if path.is_empty() {
            format!("missing required field '{field}'")
        } else {
            format!("{path} is missing required field '{field}'")
        };
        sink.error_help("missing-field", path, opening(v), message, Some(help.to_owned()));
    }
    None
}

/// A string of `min..=max` characters named `what` in messages. Length problems are
/// reported and give `None`, as does a type error.
pub(crate) fn string(v: &Value, path: &str, what: &str, min: usize, max: usize, sink: &mut Sink<'_>) -> Option<String> {
    string_lenient(v, path, what, min, max, sink).filter(|s| (min..=max).contains(&s.chars().count()))
}

/// Like [`string`], but a string of the wrong length is still returned after its problem is
/// reported, so later checks on it run; only a type error gives `None`. Shared with the
/// configuration validator.
pub(crate) fn string_lenient(
    v: &Value,
    path: &str,
    what: &str,
    min: usize,
    max: usize,
    sink: &mut Sink<'_>,
) -> Option<String> {
    let s = match &v.kind {
        Kind::String(s) => s,
        other => {
            let help = match other {
                Kind::Number(n) => Some(format!("write it in double quotes: \"{}\"", number(*n))),
                Kind::Bool(b) => Some(format!("write it in double quotes: \"{b}\"")),
                _ => None,
            };
            sink.error_help(
                "wrong-type",
                path,
                v.span,
                format!("{what} must be a string, found {}", other.describe()),
                help,
            );
            return None;
        }
    };
    let n = s.chars().count();
    if n < min {
        let message = if min == 1 {
            format!("{what} must not be empty")
        } else {
            format!("{what} must have at least {min} characters")
        };
        sink.error("too-short", path, v.span, message);
    } else if n > max {
        sink.error("too-long", path, v.span, format!("{what} is {n} characters long; the maximum is {max}"));
    }
    Some(s.clone())
}

/// Checks that every character of `s` (the string `v`) satisfies `allowed`; reports the first
/// one that does not, pointing at it when the literal has no escapes.
pub(crate) fn pattern(
    v: &Value,
    s: &str,
    path: &str,
    what: &str,
    allowed: impl Fn(char) -> bool,
    help: &str,
    sink: &mut Sink<'_>,
) -> bool {
    let Some((at, c)) = s.char_indices().find(|&(_, c)| !allowed(c)) else {
        return true;
    };
    // Every JSON escape is longer than what it stands for, so a literal the length of its
    // value plus quotes has none, and byte offsets map straight into the source.
    let span = if v.span.len() == s.len() + 2 { v.span.sub(1 + at, c.len_utf8()) } else { v.span };
    sink.error_help(
        "bad-pattern",
        path,
        span,
        format!("{what} contains {c:?}, which is not allowed"),
        Some(help.to_owned()),
    );
    false
}

/// The name `wanted` was probably meant to be: a typo, or a difference in case or in
/// `_`/`-` separators (`player_id`, `playerId`).
pub(crate) fn closest<'k>(wanted: &str, known: &[&'k str]) -> Option<&'k str> {
    let normal = |s: &str| -> String {
        s.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect()
    };
    let wanted_normal = normal(wanted);
    known
        .iter()
        .find(|k| normal(k) == wanted_normal && **k != wanted)
        .copied()
        .or_else(|| suggest::closest(wanted, known.iter().copied()))
        .or_else(|| {
            // An abbreviation: a unique known name starting with what was written (`Latency`).
            let mut prefixed =
                known.iter().filter(|k| wanted_normal.len() >= 3 && normal(k).starts_with(&wanted_normal));
            match (prefixed.next(), prefixed.next()) {
                (Some(k), None) => Some(*k),
                _ => None,
            }
        })
}

pub(crate) fn did_you_mean(candidate: &str) -> String {
    format!("did you mean '{candidate}'?")
}

/// A number as a person would write it (no 300-digit expansions).
pub(crate) fn number(n: f64) -> String {
    if n.abs() < 1e15 { format!("{n}") } else { format!("{n:e}") }
}

#[cfg(test)]
mod tests;
