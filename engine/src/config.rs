//! Matchmaking configurations (CreateMatchmakingConfiguration): parsing and validation.
//!
//! A configuration is the JSON request body of GameLift's `CreateMatchmakingConfiguration`
//! (PascalCase fields, spec §8 and §13.10) plus two Rallypoint extensions that name the rule
//! set without a GameLift account:
//!
//! * `RuleSetBody` — the rule set itself, either inline as a JSON object or as a JSON string
//!   holding the rule-set text (the way `CreateMatchmakingRuleSet` takes it);
//! * `RuleSetPath` — a rule-set file, read by the caller (the engine does no I/O).
//!
//! Exactly one of `RuleSetName`, `RuleSetBody` and `RuleSetPath` is required, except that
//! `RuleSetName` may name an embedded `RuleSetBody`.
//!
//! [`check`] reports every problem at once, each with its JSON path and span.
//!
//! Decisions where AWS is silent or inconsistent (spec §16 item 12):
//!
//! * `FlexMatchMode` defaults to `WITH_QUEUE` when `GameSessionQueueArns` is non-empty and to
//!   `STANDALONE` otherwise, so a minimal local configuration works.
//! * `BackfillMode` defaults to `MANUAL`; `AdditionalPlayerCount` to 0; an absent
//!   `AcceptanceTimeoutSeconds` means [`DEFAULT_ACCEPTANCE_TIMEOUT_SECONDS`] when acceptance
//!   is required.
//! * Whole numbers written as strings (`"120"`) are accepted with a `number-as-string`
//!   warning: AWS's own rule-set examples quote numbers, but GameLift's API rejects a string
//!   where it expects a number, so the configuration would not port as written.
//! * `null` for an optional field means the field is absent (as in AWS's JSON protocol);
//!   `null` for a required field is a type error.
//! * Names (`Name`, `RuleSetName`) may also contain `_`. AWS documents `[a-zA-Z0-9-\.]*`, but
//!   its patterns are unanchored and its own example uses the rule set `mm_one_v_one`.
//! * The output-only fields of a `DescribeMatchmakingConfigurations` response
//!   (`ConfigurationArn`, `CreationTime`, `RuleSetArn`) are ignored with a warning, so a
//!   configuration copied from AWS can be used as is.

use std::collections::HashMap;

use crate::Checked;
use crate::api::{self, number};
use crate::diagnostic::Sink;
use crate::json::{self, Kind, Member, Value};
use crate::source::Span;
use crate::suggest;

/// Seconds players have to accept a match when `AcceptanceRequired` is true and
/// `AcceptanceTimeoutSeconds` is not given (our choice; AWS states no default).
pub const DEFAULT_ACCEPTANCE_TIMEOUT_SECONDS: u32 = 60;

/// A validated matchmaking configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchmakingConfiguration {
    /// `Name`: the matchmaker's unique name (1–128 characters).
    pub name: String,
    /// `Description` (1–1024 characters).
    pub description: Option<String>,
    /// Where the rule set comes from: `RuleSetName`, `RuleSetBody` or `RuleSetPath`.
    pub rule_set: RuleSetSource,
    /// `RequestTimeoutSeconds`: how long a ticket may wait before it times out (1–43200).
    pub request_timeout_seconds: u32,
    /// `AcceptanceRequired`: whether formed matches wait for every player to accept.
    pub acceptance_required: bool,
    /// `AcceptanceTimeoutSeconds` as given (1–600); see [`Self::acceptance_timeout`].
    pub acceptance_timeout_seconds: Option<u32>,
    /// `AdditionalPlayerCount`: slots kept open for players added later; default 0.
    pub additional_player_count: u32,
    /// `BackfillMode`; default [`BackfillMode::Manual`].
    pub backfill_mode: BackfillMode,
    /// `FlexMatchMode`; default [`FlexMatchMode::WithQueue`] when `GameSessionQueueArns` is
    /// non-empty, otherwise [`FlexMatchMode::Standalone`].
    pub flex_match_mode: FlexMatchMode,
    /// `GameSessionQueueArns`; empty in `STANDALONE` mode.
    pub game_session_queue_arns: Vec<String>,
    /// `NotificationTarget`: the SNS topic ARN events are published to.
    pub notification_target: Option<String>,
    /// `CustomEventData`: copied into every event of this configuration (≤256 characters).
    pub custom_event_data: Option<String>,
    /// `GameProperties` as `(Key, Value)` pairs, in document order (≤16).
    pub game_properties: Vec<(String, String)>,
    /// `GameSessionData`: passed to the game server (1–4096 characters).
    pub game_session_data: Option<String>,
    /// `Tags` as `(Key, Value)` pairs, in document order (≤200).
    pub tags: Vec<(String, String)>,
}

impl MatchmakingConfiguration {
    /// Seconds players have to accept a match: `AcceptanceTimeoutSeconds`, or
    /// [`DEFAULT_ACCEPTANCE_TIMEOUT_SECONDS`] when it was not given. Only meaningful when
    /// [`Self::acceptance_required`] is true.
    pub fn acceptance_timeout(&self) -> u32 {
        self.acceptance_timeout_seconds.unwrap_or(DEFAULT_ACCEPTANCE_TIMEOUT_SECONDS)
    }
}

/// Where a configuration's rule set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSetSource {
    /// `RuleSetName`: a rule set known to the caller by name or ARN.
    Name(String),
    /// `RuleSetBody`, optionally named by `RuleSetName`.
    Body {
        /// `RuleSetName`, when given alongside the body.
        name: Option<String>,
        /// The rule-set text: the exact source of an inline object, or the unescaped string.
        text: String,
        /// Where the body sits in the configuration's source: the object for an inline
        /// body, the string literal (quotes included) otherwise. For an inline body, a span
        /// in `text` plus `span.start` is the same span in the configuration's source.
        span: Span,
        /// Whether the body was an inline JSON object (true) or a string (false).
        inline: bool,
    },
    /// `RuleSetPath`: a rule-set file for the caller to read.
    Path(String),
}

/// `BackfillMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackfillMode {
    /// `AUTOMATIC`: FlexMatch backfills game sessions itself (`WITH_QUEUE` only).
    Automatic,
    /// `MANUAL`: the game requests backfill with `StartMatchBackfill`.
    Manual,
}

impl BackfillMode {
    /// The AWS literal (`AUTOMATIC`, `MANUAL`).
    pub fn as_str(self) -> &'static str {
        match self {
            BackfillMode::Automatic => "AUTOMATIC",
            BackfillMode::Manual => "MANUAL",
        }
    }
}

/// `FlexMatchMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlexMatchMode {
    /// `STANDALONE`: matches are reported to the caller, who starts game sessions.
    Standalone,
    /// `WITH_QUEUE`: matches are placed through a game session queue.
    WithQueue,
}

impl FlexMatchMode {
    /// The AWS literal (`STANDALONE`, `WITH_QUEUE`).
    pub fn as_str(self) -> &'static str {
        match self {
            FlexMatchMode::Standalone => "STANDALONE",
            FlexMatchMode::WithQueue => "WITH_QUEUE",
        }
    }
}

/// Parses and validates a configuration document.
///
/// The value is `Some` only when there are no errors; warnings may accompany it.
pub fn check(text: &str) -> Checked<MatchmakingConfiguration> {
    let mut sink = Sink::new(text);
    let value = match json::parse(text) {
        Ok(value) => check_value(&value, text, "", &mut sink),
        Err(e) => {
            sink.error_help("json-syntax", "", e.span, e.message, e.help);
            None
        }
    };
    Checked { value, diagnostics: sink.finish() }
}

/// Validates a configuration embedded in a larger document (a scenario file, say) at JSON
/// path `path` (`""` for the root). `text` is the source `value` was parsed from; it is
/// needed to keep an inline `RuleSetBody` as written.
///
/// Returns `None` when this configuration has errors; diagnostics go to `sink`.
pub(crate) fn check_value(
    value: &Value,
    text: &str,
    path: &str,
    sink: &mut Sink<'_>,
) -> Option<MatchmakingConfiguration> {
    let errors_before = error_count(sink);
    let mut cx = Cx { prefix: path, sink };
    let config = cx.configuration(value, text);
    if error_count(cx.sink) > errors_before { None } else { config }
}

fn error_count(sink: &Sink<'_>) -> usize {
    sink.diagnostics.iter().filter(|d| d.is_error()).count()
}

/// The request fields, in the order of the API reference, then our extensions.
const FIELDS: &[&str] = &[
    "Name",
    "Description",
    "RuleSetName",
    "RequestTimeoutSeconds",
    "AcceptanceRequired",
    "AcceptanceTimeoutSeconds",
    "AdditionalPlayerCount",
    "BackfillMode",
    "FlexMatchMode",
    "GameSessionQueueArns",
    "NotificationTarget",
    "CustomEventData",
    "GameProperties",
    "GameSessionData",
    "Tags",
    "RuleSetBody",
    "RuleSetPath",
];

/// Fields GameLift returns but does not accept; ignored with a warning.
const OUTPUT_ONLY: &[&str] = &["ConfigurationArn", "CreationTime", "RuleSetArn"];

const KEY_VALUE_FIELDS: &[&str] = &["Key", "Value"];

const NAME_MAX: usize = 128;
const DESCRIPTION_MAX: usize = 1024;
const RULE_SET_NAME_MAX: usize = 256;
const RULE_SET_BODY_MAX: usize = 65_535;
const REQUEST_TIMEOUT_MAX: u32 = 43_200;
const ACCEPTANCE_TIMEOUT_MAX: u32 = 600;
const QUEUE_ARN_MAX: usize = 512;
const NOTIFICATION_TARGET_MAX: usize = 300;
const CUSTOM_EVENT_DATA_MAX: usize = 256;
const GAME_SESSION_DATA_MAX: usize = 4096;

const GAME_PROPERTIES: KeyValueLimits = KeyValueLimits {
    max_entries: 16,
    key_len: (0, 32),
    value_len: (0, 96),
    noun: "game property",
    example: r#"{"Key": "level", "Value": "10"}"#,
    duplicate_is_error: false,
};

const TAGS: KeyValueLimits = KeyValueLimits {
    max_entries: 200,
    key_len: (1, 128),
    value_len: (0, 256),
    noun: "tag",
    example: r#"{"Key": "team", "Value": "red"}"#,
    duplicate_is_error: true,
};

/// Limits of a `[{Key, Value}]` list.
struct KeyValueLimits {
    max_entries: usize,
    key_len: (usize, usize),
    value_len: (usize, usize),
    noun: &'static str,
    example: &'static str,
    /// Duplicate tag keys are rejected by AWS; duplicate game properties only warned about.
    duplicate_is_error: bool,
}

/// Checking context: where the configuration sits, and where problems go.
struct Cx<'a, 's, 't> {
    prefix: &'a str,
    sink: &'s mut Sink<'t>,
}

impl Cx<'_, '_, '_> {
    /// The full JSON path of `local`, a path relative to the configuration.
    fn path(&self, local: &str) -> String {
        match (self.prefix.is_empty(), local.is_empty()) {
            (true, _) => local.to_owned(),
            (false, true) => self.prefix.to_owned(),
            (false, false) if local.starts_with('[') => format!("{}{local}", self.prefix),
            (false, false) => format!("{}.{local}", self.prefix),
        }
    }

    fn error(&mut self, code: &'static str, local: &str, span: Span, message: String, help: Option<String>) {
        let path = self.path(local);
        self.sink.error_help(code, &path, span, message, help);
    }

    fn warning(&mut self, code: &'static str, local: &str, span: Span, message: String, help: Option<String>) {
        let path = self.path(local);
        self.sink.warning(code, &path, span, message, help);
    }

    fn configuration(&mut self, value: &Value, text: &str) -> Option<MatchmakingConfiguration> {
        let Some(members) = value.as_object() else {
            self.error(
                "wrong-type",
                "",
                value.span,
                format!("a matchmaking configuration must be a JSON object, found {}", value.kind.describe()),
                Some("write the configuration as { \"Name\": …, \"RuleSetName\": …, … }".into()),
            );
            return None;
        };
        let open = opening(value);
        let (fields, suggested) = self.members(members, "", FIELDS, "matchmaking configuration");
        let get = |name: &str| present(fields[field_index(FIELDS, name)]);
        let required = |name: &str| fields[field_index(FIELDS, name)];

        let name = match required("Name") {
            Some(m) => self.name(&m.value, "Name", NAME_MAX, "a configuration name"),
            None => self.missing(
                open,
                "",
                "Name",
                &suggested,
                "give the matchmaker a unique name, e.g. \"Name\": \"ranked-1v1\"",
            ),
        };
        let description = get("Description").and_then(|m| self.string(&m.value, "Description", 1, DESCRIPTION_MAX));
        let rule_set = self.rule_set(&fields, &suggested, open, text);
        let request_timeout_seconds = match required("RequestTimeoutSeconds") {
            Some(m) => self.integer(&m.value, "RequestTimeoutSeconds", 1, REQUEST_TIMEOUT_MAX, " seconds"),
            None => self.missing(
                open,
                "",
                "RequestTimeoutSeconds",
                &suggested,
                "add \"RequestTimeoutSeconds\": the longest a ticket may wait for a match, 1 to 43200 seconds",
            ),
        };
        let acceptance_required = match required("AcceptanceRequired") {
            Some(m) => self.boolean(&m.value, "AcceptanceRequired"),
            None => self.missing(
                open,
                "",
                "AcceptanceRequired",
                &suggested,
                "add \"AcceptanceRequired\": false, or true if players must accept each match",
            ),
        };
        let acceptance_timeout = get("AcceptanceTimeoutSeconds")
            .map(|m| self.integer(&m.value, "AcceptanceTimeoutSeconds", 1, ACCEPTANCE_TIMEOUT_MAX, " seconds"));
        let additional_player_count =
            get("AdditionalPlayerCount").map(|m| self.integer(&m.value, "AdditionalPlayerCount", 0, u32::MAX, ""));
        let backfill_mode = get("BackfillMode").map(|m| {
            self.enumeration(
                &m.value,
                "BackfillMode",
                &[("AUTOMATIC", BackfillMode::Automatic), ("MANUAL", BackfillMode::Manual)],
            )
        });
        let flex_match_mode_member = get("FlexMatchMode");
        let flex_match_mode = flex_match_mode_member.map(|m| {
            self.enumeration(
                &m.value,
                "FlexMatchMode",
                &[("STANDALONE", FlexMatchMode::Standalone), ("WITH_QUEUE", FlexMatchMode::WithQueue)],
            )
        });
        let queues_member = get("GameSessionQueueArns");
        let queues = queues_member.map(|m| self.queue_arns(&m.value));
        let notification_target = get("NotificationTarget").map(|m| self.notification_target(&m.value));
        let custom_event_data =
            get("CustomEventData").map(|m| self.string(&m.value, "CustomEventData", 0, CUSTOM_EVENT_DATA_MAX));
        let game_properties_member = get("GameProperties");
        let game_properties =
            game_properties_member.map(|m| self.key_values(&m.value, "GameProperties", &GAME_PROPERTIES));
        let game_session_data_member = get("GameSessionData");
        let game_session_data =
            game_session_data_member.map(|m| self.string(&m.value, "GameSessionData", 1, GAME_SESSION_DATA_MAX));
        let tags = get("Tags").map(|m| self.key_values(&m.value, "Tags", &TAGS));

        // Cross-field checks, on whatever parsed.
        let queues_given = queues_member.and_then(|m| m.value.as_array()).is_some_and(|a| !a.is_empty());
        let mode_defaulted = flex_match_mode_member.is_none();
        let mode = match flex_match_mode {
            Some(explicit) => explicit,
            None if queues_given => Some(FlexMatchMode::WithQueue),
            None => Some(FlexMatchMode::Standalone),
        };
        let default_note = |help: &str| {
            if mode_defaulted {
                format!("FlexMatchMode defaults to STANDALONE when no GameSessionQueueArns are given; {help}")
            } else {
                help.to_owned()
            }
        };
        match mode {
            Some(FlexMatchMode::Standalone) => {
                if let (Some(m), true) = (queues_member, queues_given && !mode_defaulted) {
                    self.error(
                        "incompatible-fields",
                        "GameSessionQueueArns",
                        m.value.span,
                        "GameSessionQueueArns must not be set when FlexMatchMode is STANDALONE".into(),
                        Some(
                            "in STANDALONE mode your own service starts game sessions; remove the queues, \
                             or set FlexMatchMode to WITH_QUEUE to place matches through them"
                                .into(),
                        ),
                    );
                }
                if let (Some(m), Some(Some(BackfillMode::Automatic))) = (get("BackfillMode"), backfill_mode) {
                    self.error(
                        "incompatible-fields",
                        "BackfillMode",
                        m.value.span,
                        "automatic backfill is not available in STANDALONE mode".into(),
                        Some(default_note(
                            "use MANUAL and request backfill with StartMatchBackfill, \
                             or use FlexMatchMode WITH_QUEUE with a game session queue",
                        )),
                    );
                }
                let ignored = |field: &str| format!("{field} is ignored in STANDALONE mode");
                let ignored_help = default_note("FlexMatch creates no game session in STANDALONE mode");
                if let (Some(m), Some(Some(props))) = (game_properties_member, &game_properties)
                    && !props.is_empty()
                {
                    self.warning(
                        "ignored-field",
                        "GameProperties",
                        m.value.span,
                        ignored("GameProperties"),
                        Some(ignored_help.clone()),
                    );
                }
                if let (Some(m), Some(Some(_))) = (game_session_data_member, &game_session_data) {
                    self.warning(
                        "ignored-field",
                        "GameSessionData",
                        m.value.span,
                        ignored("GameSessionData"),
                        Some(ignored_help.clone()),
                    );
                }
                if let (Some(m), Some(Some(n))) = (get("AdditionalPlayerCount"), additional_player_count)
                    && n > 0
                {
                    self.warning(
                        "ignored-field",
                        "AdditionalPlayerCount",
                        m.value.span,
                        ignored("AdditionalPlayerCount"),
                        Some(ignored_help),
                    );
                }
            }
            Some(FlexMatchMode::WithQueue) if !queues_given => {
                // Only reachable with an explicit WITH_QUEUE.
                if let Some(m) = flex_match_mode_member {
                    self.error(
                        "incompatible-fields",
                        "FlexMatchMode",
                        m.value.span,
                        "FlexMatchMode WITH_QUEUE needs at least one queue in GameSessionQueueArns".into(),
                        Some(
                            "add the ARN of the game session queue that places matches, \
                             or use STANDALONE to start game sessions yourself"
                                .into(),
                        ),
                    );
                }
            }
            _ => {}
        }
        if let (Some(m), Some(false)) = (get("AcceptanceTimeoutSeconds"), acceptance_required) {
            self.warning(
                "ignored-field",
                "AcceptanceTimeoutSeconds",
                m.value.span,
                "AcceptanceTimeoutSeconds is ignored because AcceptanceRequired is false".into(),
                Some("set AcceptanceRequired to true if players must accept matches, or remove this field".into()),
            );
        }

        Some(MatchmakingConfiguration {
            name: name?,
            description,
            rule_set: rule_set?,
            request_timeout_seconds: request_timeout_seconds?,
            acceptance_required: acceptance_required?,
            acceptance_timeout_seconds: given(acceptance_timeout)?,
            additional_player_count: given(additional_player_count)?.unwrap_or(0),
            backfill_mode: given(backfill_mode)?.unwrap_or(BackfillMode::Manual),
            flex_match_mode: mode?,
            game_session_queue_arns: given(queues)?.unwrap_or_default(),
            notification_target: given(notification_target)?,
            custom_event_data: given(custom_event_data)?,
            game_properties: given(game_properties)?.unwrap_or_default(),
            game_session_data: given(game_session_data)?,
            tags: given(tags)?.unwrap_or_default(),
        })
    }

    /// Sorts an object's members into `known` slots (the first of each name), reporting
    /// duplicates and unknown names; `noun` names the object in messages. Returns the slots
    /// and the known names suggested for unknown ones (whose absence then goes unreported).
    fn members<'v, 'k>(
        &mut self,
        members: &'v [Member],
        local: &str,
        known: &[&'k str],
        noun: &str,
    ) -> (Vec<Option<&'v Member>>, Vec<&'k str>) {
        let root = local.is_empty();
        let mut slots = vec![None; known.len()];
        let mut suggested = Vec::new();
        for member in members {
            let member_path = join(local, &member.key);
            if let Some(i) = known.iter().position(|k| *k == member.key) {
                if slots[i].is_some() {
                    self.error(
                        "duplicate-field",
                        &member_path,
                        member.key_span,
                        format!("'{}' is given more than once", member.key),
                        Some("delete one of them; JSON readers disagree about which one wins".into()),
                    );
                } else {
                    slots[i] = Some(member);
                }
            } else if root && OUTPUT_ONLY.contains(&member.key.as_str()) {
                self.warning(
                    "ignored-field",
                    &member_path,
                    member.key_span,
                    format!("'{}' is set by GameLift, not by the configuration; it is ignored", member.key),
                    Some("it appears in DescribeMatchmakingConfigurations output; you can delete it".into()),
                );
            } else {
                let suggestion = closest(&member.key, known);
                suggested.extend(suggestion);
                let help = suggestion.map(did_you_mean).or_else(|| {
                    if root && matches!(member.key.as_str(), "Configuration" | "Configurations") {
                        Some(format!(
                            "this looks like a GameLift response; use the configuration object inside '{}'",
                            member.key
                        ))
                    } else {
                        Some(format!("the fields are {}", known.join(", ")))
                    }
                });
                self.error(
                    "unknown-field",
                    &member_path,
                    member.key_span,
                    format!("unknown {noun} field '{}'", member.key),
                    help,
                );
            }
        }
        (slots, suggested)
    }

    /// Reports a missing required field, unless an unknown field was taken for a misspelling
    /// of it (`suggested`); returns `None` for convenience.
    fn missing<T>(&mut self, open: Span, local: &str, field: &str, suggested: &[&str], help: &str) -> Option<T> {
        if suggested.contains(&field) {
            return None;
        }
        let message = if local.is_empty() {
            format!("missing required field '{field}'")
        } else {
            format!("{local} is missing required field '{field}'")
        };
        self.error("missing-field", local, open, message, Some(help.into()));
        None
    }

    fn rule_set(
        &mut self,
        fields: &[Option<&Member>],
        suggested: &[&str],
        open: Span,
        text: &str,
    ) -> Option<RuleSetSource> {
        let get = |name: &str| present(fields[field_index(FIELDS, name)]);
        let (name_m, body_m, path_m) = (get("RuleSetName"), get("RuleSetBody"), get("RuleSetPath"));
        let name = name_m.map(|m| self.rule_set_name(&m.value));
        let body = body_m.map(|m| self.rule_set_body(&m.value, text));
        let path = path_m.map(|m| self.string(&m.value, "RuleSetPath", 1, usize::MAX));
        match (name_m, body_m, path_m) {
            (_, Some(_), Some(p)) => {
                self.error(
                    "incompatible-fields",
                    "RuleSetPath",
                    p.key_span,
                    "RuleSetPath and RuleSetBody cannot both be given".into(),
                    Some("keep RuleSetBody to embed the rule set, or RuleSetPath to read it from a file".into()),
                );
                None
            }
            (Some(_), None, Some(p)) => {
                self.error(
                    "incompatible-fields",
                    "RuleSetPath",
                    p.key_span,
                    "RuleSetName and RuleSetPath cannot both be given".into(),
                    Some(
                        "RuleSetName refers to an existing rule set and RuleSetPath loads one from a file; \
                         keep one (to name an embedded rule set, pair RuleSetName with RuleSetBody)"
                            .into(),
                    ),
                );
                None
            }
            (None, None, None) => {
                if !suggested.iter().any(|k| k.starts_with("RuleSet")) {
                    self.error(
                        "missing-field",
                        "",
                        open,
                        "missing the rule set: give RuleSetName, RuleSetBody or RuleSetPath".into(),
                        Some(
                            "RuleSetName refers to an existing rule set, RuleSetBody embeds one, \
                             and RuleSetPath points to a rule-set file"
                                .into(),
                        ),
                    );
                }
                None
            }
            (_, Some(_), None) => {
                let (text, span, inline) = body??;
                let name = given(name)?;
                Some(RuleSetSource::Body { name, text, span, inline })
            }
            (Some(_), None, None) => Some(RuleSetSource::Name(name??)),
            (None, None, Some(_)) => Some(RuleSetSource::Path(path??)),
        }
    }

    fn rule_set_name(&mut self, value: &Value) -> Option<String> {
        let s = self.string(value, "RuleSetName", 1, RULE_SET_NAME_MAX)?;
        if s.starts_with("arn:") {
            const MARKER: &str = ":matchmakingruleset/";
            let valid = s.rfind(MARKER).is_some_and(|i| s[i + MARKER.len()..].chars().all(is_name_char));
            if !valid {
                self.error(
                    "bad-pattern",
                    "RuleSetName",
                    value.span,
                    "RuleSetName is an ARN but not a matchmaking rule set ARN".into(),
                    Some("expected arn:aws:gamelift:<region>:<account>:matchmakingruleset/<rule set name>".into()),
                );
                return None;
            }
        } else if !self.pattern(value, &s, "RuleSetName", is_name_char, NAME_CHARS_HELP) {
            return None;
        }
        Some(s)
    }

    /// An inline object (kept as written) or a string holding the rule-set text.
    fn rule_set_body(&mut self, value: &Value, text: &str) -> Option<(String, Span, bool)> {
        let too_long =
            |n: usize| format!("RuleSetBody is {n} characters long; a rule set may have at most {RULE_SET_BODY_MAX}");
        match &value.kind {
            Kind::Object(_) => {
                let range = value.span.start as usize..value.span.end as usize;
                debug_assert!(text.get(range.clone()).is_some(), "`text` is not the source of `value`");
                let body = text.get(range).unwrap_or_default();
                let n = body.chars().count();
                if n > RULE_SET_BODY_MAX {
                    self.error("too-long", "RuleSetBody", value.span, too_long(n), None);
                    return None;
                }
                Some((body.to_owned(), value.span, true))
            }
            Kind::String(s) => {
                let n = s.chars().count();
                if n == 0 {
                    self.error(
                        "too-short",
                        "RuleSetBody",
                        value.span,
                        "RuleSetBody must not be empty".into(),
                        Some("put the rule set here, as a JSON object or as a string of JSON text".into()),
                    );
                    return None;
                }
                if n > RULE_SET_BODY_MAX {
                    self.error("too-long", "RuleSetBody", value.span, too_long(n), None);
                    return None;
                }
                Some((s.clone(), value.span, false))
            }
            other => {
                self.error(
                    "wrong-type",
                    "RuleSetBody",
                    value.span,
                    format!(
                        "RuleSetBody must be a rule set (a JSON object) or a string holding one, found {}",
                        other.describe()
                    ),
                    None,
                );
                None
            }
        }
    }

    fn name(&mut self, value: &Value, local: &str, max: usize, what: &str) -> Option<String> {
        let s = self.string(value, local, 1, max)?;
        let help = format!("{what} may use only letters, digits, '-', '.' and '_'");
        self.pattern(value, &s, local, is_name_char, &help).then_some(s)
    }

    fn queue_arns(&mut self, value: &Value) -> Option<Vec<String>> {
        let Some(items) = value.as_array() else {
            self.error(
                "wrong-type",
                "GameSessionQueueArns",
                value.span,
                format!("GameSessionQueueArns must be an array of queue ARNs, found {}", value.kind.describe()),
                value
                    .as_str()
                    .map(|s| if s.is_empty() { "write [] for no queues".into() } else { format!("write [\"{s}\"]") }),
            );
            return None;
        };
        let mut arns = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let local = format!("GameSessionQueueArns[{i}]");
            let arn = self.string(item, &local, 1, QUEUE_ARN_MAX).filter(|s| {
                self.pattern(
                    item,
                    s,
                    &local,
                    |c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-'),
                    "a game session queue ARN uses only letters, digits, ':', '/' and '-', \
                     e.g. arn:aws:gamelift:us-west-2:111122223333:gamesessionqueue/my-queue",
                )
            });
            match arn {
                Some(arn) => arns.push(arn),
                None => ok = false,
            }
        }
        ok.then_some(arns)
    }

    fn notification_target(&mut self, value: &Value) -> Option<String> {
        let s = self.string(value, "NotificationTarget", 0, NOTIFICATION_TARGET_MAX)?;
        let stem = s.strip_suffix(".fifo").unwrap_or(&s);
        let ok = self.pattern(
            value,
            stem,
            "NotificationTarget",
            |c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '/' | '-'),
            "give an SNS topic ARN, e.g. arn:aws:sns:us-west-2:111122223333:my-topic \
             (a FIFO topic's name ends in .fifo)",
        );
        ok.then_some(s)
    }

    fn key_values(&mut self, value: &Value, local: &str, limits: &KeyValueLimits) -> Option<Vec<(String, String)>> {
        let example = limits.example;
        let Some(items) = value.as_array() else {
            self.error(
                "wrong-type",
                local,
                value.span,
                format!(
                    "{local} must be an array of {{\"Key\": …, \"Value\": …}} objects, found {}",
                    value.kind.describe()
                ),
                Some(format!("write each entry as {example} inside [ ]")),
            );
            return None;
        };
        if let Some(extra) = items.get(limits.max_entries) {
            self.error(
                "too-many",
                &format!("{local}[{}]", limits.max_entries),
                extra.span,
                format!("{local} has {} entries; the maximum is {}", items.len(), limits.max_entries),
                None,
            );
        }
        let mut pairs = Vec::with_capacity(items.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_local = format!("{local}[{i}]");
            let Some(members) = item.as_object() else {
                self.error(
                    "wrong-type",
                    &item_local,
                    item.span,
                    format!("{item_local} must be an object like {example}, found {}", item.kind.describe()),
                    None,
                );
                ok = false;
                continue;
            };
            let open = opening(item);
            let (slots, suggested) = self.members(members, &item_local, KEY_VALUE_FIELDS, limits.noun);
            let part = |cx: &mut Self, index: usize, field: &str, (min, max): (usize, usize)| match slots[index] {
                Some(m) => cx.string(&m.value, &join(&item_local, field), min, max),
                None => {
                    let help = format!("write the entry as {example}");
                    cx.missing(open, &item_local, field, &suggested, &help)
                }
            };
            let key = part(self, 0, "Key", limits.key_len);
            let value = part(self, 1, "Value", limits.value_len);
            if let (Some(key), Some(m)) = (&key, slots[0]) {
                if let Some(first) = seen.get(key) {
                    let message = format!("{} key '{key}' is already used by {local}[{first}]", limits.noun);
                    let key_local = join(&item_local, "Key");
                    if limits.duplicate_is_error {
                        self.error(
                            "duplicate-key",
                            &key_local,
                            m.value.span,
                            message,
                            Some("give each tag a different key".into()),
                        );
                    } else {
                        self.warning(
                            "duplicate-key",
                            &key_local,
                            m.value.span,
                            message,
                            Some("the game session would get both values; remove one".into()),
                        );
                    }
                } else {
                    seen.insert(key.clone(), i);
                }
            }
            match (key, value) {
                (Some(k), Some(v)) => pairs.push((k, v)),
                _ => ok = false,
            }
        }
        (ok && items.len() <= limits.max_entries).then_some(pairs)
    }

    /// A string of `min..=max` characters. Length problems are reported but the string is
    /// still returned, so later checks run; only a type error returns `None`.
    fn string(&mut self, value: &Value, local: &str, min: usize, max: usize) -> Option<String> {
        let path = self.path(local);
        api::string_lenient(value, &path, local, min, max, self.sink)
    }

    /// Checks that every character of `s` (the string `value`) satisfies `allowed`; reports
    /// the first one that does not.
    fn pattern(&mut self, value: &Value, s: &str, local: &str, allowed: impl Fn(char) -> bool, help: &str) -> bool {
        let path = self.path(local);
        api::pattern(value, s, &path, local, allowed, help, self.sink)
    }

    /// A whole number in `min..=max`. `unit` follows the bounds in messages (" seconds").
    fn integer(&mut self, value: &Value, local: &str, min: u32, max: u32, unit: &str) -> Option<u32> {
        let n = match &value.kind {
            Kind::Number(n) => *n,
            Kind::String(s) if is_integer_literal(s) => {
                self.warning(
                    "number-as-string",
                    local,
                    value.span,
                    format!("{local} is a number written as a string"),
                    Some(format!("GameLift's API expects a JSON number here; write {s} without quotes")),
                );
                s.parse::<f64>().ok()?
            }
            other => {
                self.error(
                    "wrong-type",
                    local,
                    value.span,
                    format!("{local} must be a whole number, found {}", other.describe()),
                    None,
                );
                return None;
            }
        };
        if n.fract() != 0.0 {
            self.error(
                "wrong-type",
                local,
                value.span,
                format!("{local} must be a whole number, found {}", number(n)),
                None,
            );
            return None;
        }
        if n < f64::from(min) || n > f64::from(max) {
            let message = if max == u32::MAX {
                format!("{local} must be {min} or more, found {}", number(n))
            } else {
                format!("{local} must be between {min} and {max}{unit}, found {}", number(n))
            };
            self.error("out-of-range", local, value.span, message, None);
            return None;
        }
        Some(n as u32)
    }

    fn boolean(&mut self, value: &Value, local: &str) -> Option<bool> {
        match &value.kind {
            Kind::Bool(b) => Some(*b),
            other => {
                let help = match value.as_str() {
                    Some(s @ ("true" | "false" | "True" | "False" | "TRUE" | "FALSE")) => {
                        Some(format!("write {} without quotes", s.to_ascii_lowercase()))
                    }
                    _ => Some("write true or false".into()),
                };
                self.error(
                    "wrong-type",
                    local,
                    value.span,
                    format!("{local} must be true or false, found {}", other.describe()),
                    help,
                );
                None
            }
        }
    }

    fn enumeration<T: Copy>(&mut self, value: &Value, local: &str, options: &[(&'static str, T)]) -> Option<T> {
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        let alternatives = names.join(" or ");
        let Some(s) = value.as_str() else {
            self.error(
                "wrong-type",
                local,
                value.span,
                format!("{local} must be the string {alternatives}, found {}", value.kind.describe()),
                None,
            );
            return None;
        };
        if let Some((_, v)) = options.iter().find(|(name, _)| *name == s) {
            return Some(*v);
        }
        let help = closest(s, &names).map(did_you_mean);
        self.error("unknown-value", local, value.span, format!("{local} must be {alternatives}, found \"{s}\""), help);
        None
    }
}

/// Valid in `Name` and `RuleSetName` (AWS's `[a-zA-Z0-9-\.]`, plus `_`; see the module docs).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
}

const NAME_CHARS_HELP: &str =
    "a rule set name may use only letters, digits, '-', '.' and '_', or be a matchmaking rule set ARN";

/// `None` when an optional field was given but invalid; otherwise the field's value, if any.
fn given<T>(field: Option<Option<T>>) -> Option<Option<T>> {
    match field {
        Some(None) => None,
        Some(Some(v)) => Some(Some(v)),
        None => Some(None),
    }
}

/// The member unless it is absent or `null`.
fn present(member: Option<&Member>) -> Option<&Member> {
    member.filter(|m| !matches!(m.value.kind, Kind::Null))
}

fn field_index(known: &[&str], name: &str) -> usize {
    known.iter().position(|k| *k == name).expect("field name is in the table")
}

/// The span of an object's opening brace, where missing fields are reported.
fn opening(value: &Value) -> Span {
    let start = value.span.start as usize;
    Span::new(start, start + 1)
}

fn join(local: &str, field: &str) -> String {
    if local.is_empty() { field.to_owned() } else { format!("{local}.{field}") }
}

/// The field or literal `wanted` was probably meant to be: a typo, a difference in case or in
/// `_`/`-` separators (`request_timeout_seconds`, `with-queue`), or an abbreviation (`AUTO`).
fn closest<'k>(wanted: &str, known: &[&'k str]) -> Option<&'k str> {
    let normal = |s: &str| -> String {
        s.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect()
    };
    let wanted_normal = normal(wanted);
    known
        .iter()
        .find(|k| normal(k) == wanted_normal)
        .copied()
        .or_else(|| suggest::closest(wanted, known.iter().copied()))
        .or_else(|| {
            let mut prefixed =
                known.iter().filter(|k| wanted_normal.len() >= 3 && normal(k).starts_with(&wanted_normal));
            match (prefixed.next(), prefixed.next()) {
                (Some(k), None) => Some(*k),
                _ => None,
            }
        })
}

fn did_you_mean(candidate: &str) -> String {
    format!("did you mean '{candidate}'?")
}

/// An optionally negative run of digits, as found in `"120"`.
fn is_integer_literal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
