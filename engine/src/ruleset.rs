//! FlexMatch rule sets: the validated model, the validator and the compiler.
//!
//! [`check`] turns rule-set JSON into a [`RuleSet`] or a complete list of diagnostics;
//! [`compile`] turns a `RuleSet` into [`CompiledRules`], the form the search evaluates.
//! Nothing half-validated leaves this module.

mod compile;
mod model;
mod validate;

pub use compile::*;
pub use model::*;

use crate::Checked;
use crate::diagnostic::Sink;
use crate::source::Span;

/// Parses and validates a rule-set document.
pub fn check(text: &str) -> Checked<RuleSet> {
    check_range(text, Span::new(0, text.len()))
}

/// Validates the rule set that occupies `range` of a larger document `text` (for example
/// an inline `RuleSetBody` in a configuration), reporting positions in `text`.
pub fn check_range(text: &str, range: Span) -> Checked<RuleSet> {
    let mut validator = validate::Validator::new(text);
    let value = match crate::json::parse_range(text, range) {
        Ok(v) => v,
        Err(e) => {
            validator.sink.error_help("json-syntax", "", e.span, e.message, e.help);
            return Checked { value: None, diagnostics: validator.sink.finish() };
        }
    };
    let chars = text[range.start as usize..range.end as usize].chars().count();
    let value_set = validator.document(&value, chars);
    let diagnostics = validator.sink.finish();
    Checked { value: value_set, diagnostics }
}

/// Like [`check_range`], and also checks the rule set against the configuration that uses
/// it: expansion steps later than `RequestTimeoutSeconds` can never apply, and
/// `AdditionalPlayerCount` must leave room for at least one player.
///
/// When `range` is part of `text` (an inline `RuleSetBody` of the configuration document
/// `text`), paths are given from the document's root (`RuleSetBody.rules[0]`); when the
/// rule set is all of `text`, from the rule set's. See [`check_with_configuration_at`].
pub fn check_with_configuration(
    text: &str,
    range: Span,
    configuration: &crate::config::MatchmakingConfiguration,
) -> Checked<RuleSet> {
    let whole = range.start == 0 && range.end as usize == text.len();
    check_with_configuration_at(text, range, configuration, if whole { "" } else { "RuleSetBody" })
}

/// Like [`check_with_configuration`], with the rule set's diagnostics' paths prefixed with
/// `body_path`: `"RuleSetBody"` when `text` is the configuration document holding the rule
/// set inline, `""` for paths relative to the rule set (when `text` is the rule set itself,
/// or when the caller prefixes paths itself).
///
/// With `body_path` ending in `RuleSetBody`, a lack of room for players is reported on the
/// configuration's `AdditionalPlayerCount` (a sibling of `body_path`); otherwise on the rule
/// set's `teams`.
pub fn check_with_configuration_at(
    text: &str,
    range: Span,
    configuration: &crate::config::MatchmakingConfiguration,
    body_path: &str,
) -> Checked<RuleSet> {
    let mut checked = check_range(text, range);
    if !body_path.is_empty() {
        for d in &mut checked.diagnostics {
            d.path = prefixed(body_path, &d.path);
        }
    }
    let Some(rule_set) = &checked.value else {
        return checked;
    };
    let mut sink = Sink::new(text);
    let timeout = f64::from(configuration.request_timeout_seconds);
    for (i, expansion) in rule_set.expansions.iter().enumerate() {
        for (j, step) in expansion.steps.iter().enumerate() {
            if step.wait_time_seconds > timeout {
                sink.error_help(
                    "expansion-after-timeout",
                    &prefixed(body_path, &format!("expansions[{i}].steps[{j}].waitTimeSeconds")),
                    step.span,
                    format!(
                        "this step applies after {} s, but configuration '{}' times tickets out after {} s (RequestTimeoutSeconds)",
                        step.wait_time_seconds, configuration.name, configuration.request_timeout_seconds
                    ),
                    Some("lower waitTimeSeconds or raise RequestTimeoutSeconds".to_owned()),
                );
            } else if step.wait_time_seconds == timeout {
                // FlexMatch allows it, but a ticket that old has just timed out (timeouts are
                // processed before the search in a cycle), so the step never takes effect.
                sink.warning(
                    "expansion-at-timeout",
                    &prefixed(body_path, &format!("expansions[{i}].steps[{j}].waitTimeSeconds")),
                    step.span,
                    format!(
                        "this step applies at {} s, the moment configuration '{}' times tickets out, so it never takes effect",
                        step.wait_time_seconds, configuration.name
                    ),
                    Some("use a waitTimeSeconds below RequestTimeoutSeconds".to_owned()),
                );
            }
        }
    }
    let max_players = rule_set.max_players();
    if configuration.flex_match_mode == crate::config::FlexMatchMode::WithQueue
        && configuration.additional_player_count >= max_players
    {
        let count = configuration.additional_player_count;
        let in_configuration = body_path
            .strip_suffix("RuleSetBody")
            .filter(|parent| parent.is_empty() || parent.ends_with('.'))
            .and_then(|parent| {
                let span = additional_player_count_span(text, range)?;
                Some((format!("{parent}AdditionalPlayerCount"), span))
            });
        match in_configuration {
            Some((path, span)) => sink.error_help(
                "no-room-for-players",
                &path,
                span,
                format!(
                    "AdditionalPlayerCount {count} leaves no slot for matchmaking: the rule set's teams hold only {max_players} players"
                ),
                Some(format!("lower AdditionalPlayerCount below {max_players}")),
            ),
            None => {
                let teams = crate::json::parse_range(text, range).ok().and_then(|v| v.get("teams").map(|t| t.span));
                sink.error_help(
                    "no-room-for-players",
                    &prefixed(body_path, "teams"),
                    teams.unwrap_or(range),
                    format!(
                        "configuration '{}' keeps {count} slots open (AdditionalPlayerCount), but the teams hold only {max_players} players",
                        configuration.name
                    ),
                    Some(format!("lower AdditionalPlayerCount in configuration '{}' below {max_players}", configuration.name)),
                );
            }
        }
    }
    if sink.has_errors() {
        checked.value = None;
    }
    checked.diagnostics.extend(sink.finish());
    checked.diagnostics.sort_by_key(|d| d.span.start);
    checked
}

/// `path` below `prefix`: `prefix.path`, or `prefix[0]…` for an index.
fn prefixed(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        path.to_owned()
    } else if path.is_empty() {
        prefix.to_owned()
    } else if path.starts_with('[') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}.{path}")
    }
}

/// The span of the `AdditionalPlayerCount` value in the object of `text` whose
/// `RuleSetBody` is the inline rule set at `range`.
fn additional_player_count_span(text: &str, range: Span) -> Option<Span> {
    fn find(value: &crate::json::Value, range: Span) -> Option<Span> {
        match &value.kind {
            crate::json::Kind::Object(members) => {
                if members.iter().any(|m| m.key == "RuleSetBody" && m.value.span == range) {
                    return value.get("AdditionalPlayerCount").map(|v| v.span);
                }
                members.iter().find_map(|m| find(&m.value, range))
            }
            crate::json::Kind::Array(items) => items.iter().find_map(|v| find(v, range)),
            _ => None,
        }
    }
    find(&crate::json::parse(text).ok()?, range)
}

#[cfg(test)]
mod tests;
