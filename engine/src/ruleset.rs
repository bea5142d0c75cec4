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
pub fn check_with_configuration(
    text: &str,
    range: Span,
    configuration: &crate::config::MatchmakingConfiguration,
) -> Checked<RuleSet> {
    let mut checked = check_range(text, range);
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
                    &format!("expansions[{i}].steps[{j}].waitTimeSeconds"),
                    step.span,
                    format!(
                        "this step applies after {} s, but configuration '{}' times tickets out after {} s (RequestTimeoutSeconds)",
                        step.wait_time_seconds, configuration.name, configuration.request_timeout_seconds
                    ),
                    Some("lower waitTimeSeconds or raise RequestTimeoutSeconds".to_owned()),
                );
            }
        }
    }
    let max_players = rule_set.max_players();
    if configuration.flex_match_mode == crate::config::FlexMatchMode::WithQueue
        && configuration.additional_player_count >= max_players
    {
        sink.error_help(
            "no-room-for-players",
            "teams",
            range,
            format!(
                "configuration '{}' keeps {} slots open (AdditionalPlayerCount), but the teams hold only {max_players} players",
                configuration.name, configuration.additional_player_count
            ),
            Some("lower AdditionalPlayerCount".to_owned()),
        );
    }
    if sink.has_errors() {
        checked.value = None;
    }
    checked.diagnostics.extend(sink.finish());
    checked.diagnostics.sort_by_key(|d| d.span.start);
    checked
}

#[cfg(test)]
mod tests;
