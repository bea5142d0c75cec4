//! Synthetic rule sets for benchmarking the rule-set pipeline.

use std::fmt::Write as _;

/// A small-match rule set using every rule type, with `groups` repetitions of a block of
/// eight rules (and their expansions). `groups = 40` gives roughly 60 KB, close to
/// FlexMatch's 65,535-character limit.
pub fn large_rule_set(groups: usize) -> String {
    let mut rules = String::new();
    let mut expansions = String::new();
    for g in 0..groups {
        let sep = if g == 0 { "" } else { ",\n" };
        write!(
            rules,
            r#"{sep}    {{"name": "Spread{g}", "type": "distance", "measurements": "max(flatten(teams[*].players.attributes[skill]))", "referenceValue": "min(flatten(teams[*].players.attributes[skill]))", "maxDistance": {d}}},
    {{"name": "Fair{g}", "type": "distance", "measurements": ["avg(teams[*].players.attributes[skill])"], "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))", "maxDistance": 50}},
    {{"name": "Sizes{g}", "type": "comparison", "measurements": "count(teams[red].players)", "referenceValue": "count(teams[blue].players)", "operation": "="}},
    {{"name": "Mode{g}", "type": "comparison", "measurements": "flatten(teams[*].players.attributes[mode])", "operation": "="}},
    {{"name": "Maps{g}", "type": "collection", "operation": "intersection", "measurements": "flatten(teams[*].players.attributes[maps])", "minCount": 1}},
    {{"name": "Medics{g}", "type": "collection", "operation": "contains", "measurements": "flatten(teams[*].players.attributes[roles])", "referenceValue": "medic", "maxCount": 2}},
    {{"name": "Block{g}", "type": "collection", "operation": "reference_intersection_count", "measurements": "flatten(teams[*].players.attributes[blocked])", "referenceValue": "flatten(teams[*].players[playerId])", "maxCount": 0}},
    {{"name": "Either{g}", "type": "compound", "statement": "or(and(Spread{g}, Mode{g}), not(Medics{g}))"}}"#,
            d = 100 + g
        )
        .expect("write to String");
        write!(
            expansions,
            r#"{sep}    {{"target": "rules[Spread{g}].maxDistance", "steps": [{{"waitTimeSeconds": 5, "value": {a}}}, {{"waitTimeSeconds": 15, "value": {b}}}]}},
    {{"target": "rules[Block{g}].maxCount", "steps": [{{"waitTimeSeconds": 30, "value": 1}}]}}"#,
            a = 200 + g,
            b = 400 + g
        )
        .expect("write to String");
    }
    format!(
        r#"{{
  "name": "bench_large",
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [
    {{"name": "skill", "type": "number", "default": 1500}},
    {{"name": "mode", "type": "string", "default": "ranked"}},
    {{"name": "maps", "type": "string_list", "default": ["harbor", "citadel"]}},
    {{"name": "roles", "type": "string_list", "default": []}},
    {{"name": "blocked", "type": "string_list", "default": []}},
    {{"name": "mapWeights", "type": "string_number_map", "default": {{"harbor": 10}}}}
  ],
  "teams": [{{"name": "red", "minPlayers": 4, "maxPlayers": 5}}, {{"name": "blue", "minPlayers": 4, "maxPlayers": 5}}],
  "algorithm": {{"strategy": "exhaustiveSearch", "batchingPreference": "sorted", "sortByAttributes": ["mode", "skill"], "expansionAgeSelection": "oldest"}},
  "rules": [
    {{"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 400}},
    {{"name": "Ping", "type": "latency", "maxLatency": 150, "maxDistance": 40, "distanceReference": "min"}},
    {{"name": "Weights", "type": "absoluteSort", "sortDirection": "descending", "sortAttribute": "mapWeights", "mapKey": "maxValue"}},
    {{"name": "Closest", "type": "distanceSort", "sortDirection": "ascending", "sortAttribute": "skill"}},
{rules}
  ],
  "expansions": [
    {{"target": "rules[Ping].maxLatency", "steps": [{{"waitTimeSeconds": 10, "value": 250}}]}},
    {{"target": "teams[red, blue].minPlayers", "steps": [{{"waitTimeSeconds": 20, "value": 3}}]}},
{expansions}
  ]
}}
"#
    )
}
