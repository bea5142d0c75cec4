//! Shared harness for integration and conformance tests.
//!
//! The conformance corpus (`tests/conformance/`) holds rule sets and matchmaking
//! configurations, each `X.json` next to an `X.expected` file with what a rule author
//! should see: the rendered diagnostics and, for documents that are accepted, a compact
//! description of what the engine understood ([`describe`], [`describe_configuration`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rallypoint::config::{self, MatchmakingConfiguration, RuleSetSource};
use rallypoint::diagnostic::render;
use rallypoint::ruleset::{
    self, AttrValue, BackfillPriority, BatchingPreference, CmpOp, CollectionOp, DistanceReference,
    ExpansionAgeSelection, ExpansionTarget, ExpansionValue, ListAggregation, MapKey, NumberAggregation, OnError,
    PropertyExpr, Reference, Rule, RuleKind, RuleProperty, RuleSet, SortDirection, SortRule, Statement, Strategy,
    TeamProperty,
};
use rallypoint::source::Span;

/// What kind of document a corpus file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// A FlexMatch rule set (`conformance/rulesets/…`).
    RuleSet,
    /// A matchmaking configuration (`conformance/configurations/…`).
    Configuration,
}

/// One corpus file.
#[derive(Debug, Clone)]
pub struct Case {
    /// Trial name: the path below the corpus root without `.json`
    /// (`rulesets/invalid/07-unknown-attribute`).
    pub name: String,
    /// The `.json` file.
    pub json: PathBuf,
    /// The `.expected` file next to it.
    pub expected: PathBuf,
    /// Rule set or configuration.
    pub kind: DocKind,
    /// Whether the file lives in a `valid/` directory (else `invalid/`).
    pub valid: bool,
}

/// The corpus root, `tests/conformance`.
pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// Every `*.json` file under `root/{rulesets,configurations}/{valid,invalid}`, sorted.
pub fn corpus(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    for (dir, kind) in [("rulesets", DocKind::RuleSet), ("configurations", DocKind::Configuration)] {
        for (sub, valid) in [("valid", true), ("invalid", false)] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(sub)) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            files.sort();
            for json in files {
                let stem = json.file_stem().unwrap().to_string_lossy().into_owned();
                cases.push(Case {
                    name: format!("{dir}/{sub}/{stem}"),
                    expected: json.with_extension("expected"),
                    json,
                    kind,
                    valid,
                });
            }
        }
    }
    cases
}

/// The outcome of checking one corpus file.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Number of error diagnostics (rule set and, for configurations, the embedded rule set).
    pub errors: usize,
    /// The text to compare with the `.expected` file.
    pub actual: String,
}

/// Checks `text`, a document of `kind` whose file is called `file_name`.
pub fn check(kind: DocKind, file_name: &str, text: &str) -> Outcome {
    match kind {
        DocKind::RuleSet => check_rule_set(file_name, text),
        DocKind::Configuration => check_configuration(file_name, text),
    }
}

fn check_rule_set(file_name: &str, text: &str) -> Outcome {
    let checked = ruleset::check(text);
    let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
    let mut actual = render(file_name, text, &checked.diagnostics);
    if let Some(rule_set) = &checked.value {
        actual.push_str(&describe(rule_set));
    }
    Outcome { errors, actual }
}

fn check_configuration(file_name: &str, text: &str) -> Outcome {
    let checked = config::check(text);
    let mut diagnostics = checked.diagnostics;
    let mut body_report = String::new();
    let mut body_errors = 0;
    let mut rule_set = None;
    if let Some(configuration) = &checked.value {
        match &configuration.rule_set {
            RuleSetSource::Body { span, inline: true, .. } => {
                let rs = ruleset::check_with_configuration(text, *span, configuration);
                diagnostics.extend(rs.diagnostics);
                diagnostics.sort_by_key(|d| d.span.start);
                rule_set = rs.value;
            }
            RuleSetSource::Body { text: body, .. } => {
                // A body given as a string has its own positions: report it as its own file.
                let rs = ruleset::check_with_configuration(body, Span::new(0, body.len()), configuration);
                body_errors = rs.diagnostics.iter().filter(|d| d.is_error()).count();
                body_report = render(&format!("{file_name} (RuleSetBody)"), body, &rs.diagnostics);
                rule_set = rs.value;
            }
            RuleSetSource::Name(_) | RuleSetSource::Path(_) => {}
        }
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count() + body_errors;
    let mut actual = render(file_name, text, &diagnostics);
    actual.push_str(&body_report);
    if errors == 0
        && let Some(configuration) = &checked.value
    {
        actual.push_str(&describe_configuration(configuration, text));
        if let Some(rs) = &rule_set {
            actual.push_str("rule set:\n");
            for line in describe(rs).lines() {
                let _ = writeln!(actual, "  {line}");
            }
        }
    }
    Outcome { errors, actual }
}

// ---- rule sets -------------------------------------------------------------------------

/// A compact, human-reviewable description of what the engine understood of a rule set.
pub fn describe(rs: &RuleSet) -> String {
    let mut out = String::new();
    match &rs.name {
        Some(name) => {
            let _ = writeln!(out, "name: {name:?}");
        }
        None => out.push_str("name: (none)\n"),
    }
    let max = rs.max_players();
    let _ = writeln!(
        out,
        "teams: up to {max} player{}, {} match",
        if max == 1 { "" } else { "s" },
        if rs.is_large() { "large" } else { "small" }
    );
    for t in &rs.teams {
        let _ = write!(out, "  {}: {}..{}", t.name, t.min_players, t.max_players);
        if t.quantity > 1 {
            let _ = write!(out, " x{} -> {}", t.quantity, t.concrete_names().join(", "));
        }
        out.push('\n');
    }
    if rs.attributes.is_empty() {
        out.push_str("attributes: none\n");
    } else {
        out.push_str("attributes:\n");
        for a in &rs.attributes {
            let _ = write!(out, "  {}: {}", a.name, a.ty.name());
            match &a.default {
                Some(v) => {
                    let _ = writeln!(out, ", default {}", attr_value(v));
                }
                None => out.push_str(", no default\n"),
            }
        }
    }
    if rs.rules.is_empty() {
        out.push_str("rules: none\n");
    } else {
        out.push_str("rules:\n");
        for (i, rule) in rs.rules.iter().enumerate() {
            describe_rule(&mut out, rs, i, rule);
        }
    }
    if rs.expansions.is_empty() {
        out.push_str("expansions: none\n");
    } else {
        out.push_str("expansions:\n");
        for e in &rs.expansions {
            let _ = write!(out, "  {}: {}", target(rs, &e.target), original(rs, &e.target));
            for step in &e.steps {
                let value = match &step.value {
                    ExpansionValue::Number(n) => num(*n),
                    ExpansionValue::String(s) => format!("{s:?}"),
                };
                let _ = write!(out, " -> {value} @{}s", num(step.wait_time_seconds));
            }
            out.push('\n');
        }
    }
    let a = &rs.algorithm;
    out.push_str("algorithm:\n");
    let _ = writeln!(
        out,
        "  strategy: {}",
        match a.strategy {
            Strategy::ExhaustiveSearch => "exhaustiveSearch",
            Strategy::Balanced => "balanced",
        }
    );
    let _ = writeln!(
        out,
        "  batchingPreference: {}",
        match a.batching_preference {
            BatchingPreference::Random => "random",
            BatchingPreference::Sorted => "sorted",
            BatchingPreference::LargestPopulation => "largestPopulation",
            BatchingPreference::FastestRegion => "fastestRegion",
        }
    );
    if !a.sort_by_attributes.is_empty() {
        let names: Vec<&str> = a.sort_by_attributes.iter().map(|&i| rs.attributes[i].name.as_str()).collect();
        let _ = writeln!(out, "  sortByAttributes: [{}]", names.join(", "));
    }
    let _ = writeln!(
        out,
        "  expansionAgeSelection: {}",
        match a.expansion_age_selection {
            ExpansionAgeSelection::Newest => "newest",
            ExpansionAgeSelection::Oldest => "oldest",
        }
    );
    let _ = writeln!(
        out,
        "  backfillPriority: {}",
        match a.backfill_priority {
            BackfillPriority::Normal => "normal",
            BackfillPriority::High => "high",
            BackfillPriority::Low => "low",
        }
    );
    if let Some(i) = a.balanced_attribute {
        let _ = writeln!(out, "  balancedAttribute: {}", rs.attributes[i].name);
    }
    out
}

fn describe_rule(out: &mut String, rs: &RuleSet, i: usize, rule: &Rule) {
    let _ = write!(out, "  [{i}] {}: {}", rule.name, rule.kind.type_name());
    if rule.is_compound_operand {
        out.push_str(" (compound operand, not enforced on its own)");
    }
    out.push('\n');
    let mut field = |key: &str, value: String| {
        let _ = writeln!(out, "      {key}: {value}");
    };
    match &rule.kind {
        RuleKind::BatchDistance { attribute, max_distance, party_aggregation } => {
            field("batchAttribute", attribute_name(rs, *attribute));
            field("maxDistance", max_distance.map_or("- (equal values)".to_owned(), num));
            field("partyAggregation", number_agg(*party_aggregation).into());
        }
        RuleKind::Comparison { measurement, reference, operation, party_aggregation } => {
            field("measurements", expr(measurement));
            field("operation", cmp_op(*operation).into());
            field(
                "referenceValue",
                reference.as_ref().map_or("- (players compared with each other)".to_owned(), reference_text),
            );
            field("partyAggregation", number_agg(*party_aggregation).into());
        }
        RuleKind::Distance { measurement, reference, min_distance, max_distance, party_aggregation } => {
            field("measurements", expr(measurement));
            field("referenceValue", reference_text(reference));
            field("minDistance", opt_num(*min_distance));
            field("maxDistance", opt_num(*max_distance));
            field("partyAggregation", number_agg(*party_aggregation).into());
        }
        RuleKind::Collection { measurement, operation, reference, min_count, max_count, party_aggregation } => {
            field("measurements", expr(measurement));
            field(
                "operation",
                match operation {
                    CollectionOp::Intersection => "intersection",
                    CollectionOp::Contains => "contains",
                    CollectionOp::ReferenceIntersectionCount => "reference_intersection_count",
                }
                .into(),
            );
            field("referenceValue", reference.as_ref().map_or("-".to_owned(), reference_text));
            field("minCount", opt_num(*min_count));
            field("maxCount", opt_num(*max_count));
            field(
                "partyAggregation",
                match party_aggregation {
                    ListAggregation::Union => "union",
                    ListAggregation::Intersection => "intersection",
                }
                .into(),
            );
        }
        RuleKind::Compound { text, statement } => {
            field("statement", format!("{text:?}"));
            field("resolved", statement_text(rs, statement));
        }
        RuleKind::Latency { max_latency, max_distance, distance_reference, party_aggregation } => {
            field("maxLatency", num(*max_latency));
            field("maxDistance", opt_num(*max_distance));
            field(
                "distanceReference",
                match distance_reference {
                    None => "-",
                    Some(DistanceReference::Min) => "min",
                    Some(DistanceReference::Avg) => "avg",
                }
                .into(),
            );
            field("partyAggregation", number_agg(*party_aggregation).into());
        }
        RuleKind::AbsoluteSort(sort) | RuleKind::DistanceSort(sort) => {
            let SortRule { direction, attribute, map_key, party_aggregation } = sort;
            field(
                "sortDirection",
                match direction {
                    SortDirection::Ascending => "ascending",
                    SortDirection::Descending => "descending",
                }
                .into(),
            );
            field("sortAttribute", attribute_name(rs, *attribute));
            field(
                "mapKey",
                match map_key {
                    None => "-",
                    Some(MapKey::MinValue) => "minValue",
                    Some(MapKey::MaxValue) => "maxValue",
                }
                .into(),
            );
            field("partyAggregation", number_agg(*party_aggregation).into());
        }
        RuleKind::Plugin(p) => {
            field("plugin", format!("{:?} ({})", p.plugin, if p.is_path() { "path" } else { "name" }));
            let attrs: Vec<String> = p.attributes.iter().map(|&a| attribute_name(rs, a)).collect();
            field("attributes", format!("[{}]", attrs.join(", ")));
            let params: Vec<String> = p.parameters.iter().map(|(k, v)| format!("{k}={}", num(*v))).collect();
            field("parameters", format!("{{{}}}", params.join(", ")));
            field(
                "onError",
                match p.on_error {
                    OnError::Reject => "reject",
                    OnError::Skip => "skip",
                }
                .into(),
            );
        }
    }
}

fn statement_text(rs: &RuleSet, statement: &Statement) -> String {
    let list = |op: &str, items: &[Statement]| {
        let parts: Vec<String> = items.iter().map(|s| statement_text(rs, s)).collect();
        format!("{op}({})", parts.join(", "))
    };
    match statement {
        Statement::Rule(i) => format!("{}#{i}", rs.rules[*i].name),
        Statement::And(items) => list("and", items),
        Statement::Or(items) => list("or", items),
        Statement::Xor(items) => list("xor", items),
        Statement::Not(inner) => format!("not({})", statement_text(rs, inner)),
    }
}

fn target(rs: &RuleSet, t: &ExpansionTarget) -> String {
    match t {
        ExpansionTarget::Rule { rule, property: RuleProperty::Parameter(i) } => match &rs.rules[*rule].kind {
            RuleKind::Plugin(p) => {
                format!("rules[{}].parameters.{}", rs.rules[*rule].name, p.parameters[usize::from(*i)].0)
            }
            _ => unreachable!("parameters belong to plugin rules"),
        },
        ExpansionTarget::Rule { rule, property } => {
            format!("rules[{}].{}", rs.rules[*rule].name, property.field_name())
        }
        ExpansionTarget::Teams { teams, property } => {
            let names: Vec<&str> = teams.iter().map(|&i| rs.teams[i].name.as_str()).collect();
            let prop = match property {
                TeamProperty::MinPlayers => "minPlayers",
                TeamProperty::MaxPlayers => "maxPlayers",
            };
            format!("teams[{}].{prop}", names.join(", "))
        }
    }
}

/// The un-expanded value of an expansion target.
fn original(rs: &RuleSet, t: &ExpansionTarget) -> String {
    match t {
        ExpansionTarget::Rule { rule, property } => {
            let kind = &rs.rules[*rule].kind;
            let value = match (kind, property) {
                (RuleKind::BatchDistance { max_distance, .. }, RuleProperty::MaxDistance)
                | (RuleKind::Distance { max_distance, .. }, RuleProperty::MaxDistance)
                | (RuleKind::Latency { max_distance, .. }, RuleProperty::MaxDistance) => *max_distance,
                (RuleKind::Distance { min_distance, .. }, RuleProperty::MinDistance) => *min_distance,
                (RuleKind::Collection { min_count, .. }, RuleProperty::MinCount) => *min_count,
                (RuleKind::Collection { max_count, .. }, RuleProperty::MaxCount) => *max_count,
                (RuleKind::Latency { max_latency, .. }, RuleProperty::MaxLatency) => Some(*max_latency),
                (RuleKind::Plugin(p), RuleProperty::Parameter(i)) => Some(p.parameters[usize::from(*i)].1),
                (
                    RuleKind::Comparison { reference: Some(r), .. }
                    | RuleKind::Collection { reference: Some(r), .. }
                    | RuleKind::Distance { reference: r, .. },
                    RuleProperty::ReferenceValue,
                ) => {
                    return match r {
                        Reference::Number(n) => num(*n),
                        Reference::String(s) => format!("{s:?}"),
                        other => reference_text(other),
                    };
                }
                _ => None,
            };
            value.map_or("?".to_owned(), num)
        }
        ExpansionTarget::Teams { teams, property } => {
            let mut values: Vec<String> = teams
                .iter()
                .map(|&i| {
                    let t = &rs.teams[i];
                    match property {
                        TeamProperty::MinPlayers => t.min_players,
                        TeamProperty::MaxPlayers => t.max_players,
                    }
                    .to_string()
                })
                .collect();
            values.dedup();
            values.join("/")
        }
    }
}

fn attribute_name(rs: &RuleSet, i: usize) -> String {
    let a = &rs.attributes[i];
    format!("{} ({})", a.name, a.ty.name())
}

fn expr(e: &PropertyExpr) -> String {
    format!("{} : {}", e.expr, e.ty)
}

fn reference_text(r: &Reference) -> String {
    match r {
        Reference::Number(n) => format!("{} (number)", num(*n)),
        Reference::String(s) => format!("{s:?} (string literal)"),
        Reference::StringList(items) => format!("{} (string list)", string_list(items)),
        Reference::Expr(e) => expr(e),
    }
}

fn attr_value(v: &AttrValue) -> String {
    match v {
        AttrValue::String(s) => format!("{s:?}"),
        AttrValue::Number(n) => num(*n),
        AttrValue::StringList(items) => string_list(items),
        AttrValue::StringNumberMap(pairs) => {
            let parts: Vec<String> = pairs.iter().map(|(k, v)| format!("{k:?}: {}", num(*v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn string_list(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", parts.join(", "))
}

fn number_agg(a: NumberAggregation) -> &'static str {
    match a {
        NumberAggregation::Min => "min",
        NumberAggregation::Max => "max",
        NumberAggregation::Avg => "avg",
    }
}

fn cmp_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Eq => "=",
        CmpOp::Ne => "!=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn num(n: f64) -> String {
    format!("{n}")
}

fn opt_num(n: Option<f64>) -> String {
    n.map_or("-".to_owned(), num)
}

// ---- configurations --------------------------------------------------------------------

/// A description of a validated configuration; `text` is its source, used to tell given
/// fields from defaulted ones.
pub fn describe_configuration(c: &MatchmakingConfiguration, text: &str) -> String {
    let given: Vec<String> = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default();
    let has = |k: &str| given.iter().any(|g| g == k);
    let dflt = |k: &str| if has(k) { "" } else { " (default)" };
    let mut out = String::new();
    let _ = writeln!(out, "Name: {}", c.name);
    if let Some(d) = &c.description {
        let _ = writeln!(out, "Description: {d:?}");
    }
    let source = match &c.rule_set {
        RuleSetSource::Name(n) => format!("RuleSetName {n}"),
        RuleSetSource::Body { name, inline, .. } => format!(
            "RuleSetBody ({}){}",
            if *inline { "inline object" } else { "JSON text in a string" },
            name.as_ref().map_or(String::new(), |n| format!(", named {n}"))
        ),
        RuleSetSource::Path(p) => format!("RuleSetPath {p}"),
    };
    let _ = writeln!(out, "rule set source: {source}");
    let _ = writeln!(out, "RequestTimeoutSeconds: {}", c.request_timeout_seconds);
    let _ = writeln!(out, "AcceptanceRequired: {}", c.acceptance_required);
    let _ = writeln!(
        out,
        "AcceptanceTimeoutSeconds: {}{}",
        c.acceptance_timeout(),
        match (c.acceptance_required, c.acceptance_timeout_seconds) {
            (false, _) => " (not used: acceptance not required)",
            (true, Some(_)) => "",
            (true, None) => " (default)",
        }
    );
    let _ = writeln!(out, "AdditionalPlayerCount: {}{}", c.additional_player_count, dflt("AdditionalPlayerCount"));
    let _ = writeln!(out, "BackfillMode: {}{}", c.backfill_mode.as_str(), dflt("BackfillMode"));
    let _ = writeln!(out, "FlexMatchMode: {}{}", c.flex_match_mode.as_str(), dflt("FlexMatchMode"));
    if !c.game_session_queue_arns.is_empty() {
        out.push_str("GameSessionQueueArns:\n");
        for arn in &c.game_session_queue_arns {
            let _ = writeln!(out, "  {arn}");
        }
    }
    if let Some(t) = &c.notification_target {
        let _ = writeln!(out, "NotificationTarget: {t}");
    }
    if let Some(d) = &c.custom_event_data {
        let _ = writeln!(out, "CustomEventData: {d:?}");
    }
    if !c.game_properties.is_empty() {
        let parts: Vec<String> = c.game_properties.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let _ = writeln!(out, "GameProperties: {}", parts.join(", "));
    }
    if let Some(d) = &c.game_session_data {
        let _ = writeln!(out, "GameSessionData: {d:?}");
    }
    if !c.tags.is_empty() {
        let parts: Vec<String> = c.tags.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let _ = writeln!(out, "Tags: {}", parts.join(", "));
    }
    out
}

// ---- diffs -----------------------------------------------------------------------------

/// A line diff of `expected` against `actual`: `-` lines only in expected, `+` lines only
/// in actual, with up to two lines of context around each change.
pub fn line_diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // Longest common subsequence table, suffix form.
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', i + 1, a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i + 1, a[i]));
            i += 1;
        } else {
            ops.push(('+', j + 1, b[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 2;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut out = String::new();
    let mut last_shown: Option<usize> = None;
    for (k, &(op, line, text)) in ops.iter().enumerate() {
        let near = changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
        if !near {
            continue;
        }
        if last_shown.is_some_and(|l| l + 1 != k) || (last_shown.is_none() && k > 0) {
            out.push_str("   ...\n");
        }
        let _ = writeln!(out, "{op} {line:>4} | {text}");
        last_shown = Some(k);
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("(the files differ in their final newline)\n");
    }
    out
}

/// The directory holding the example plugins (`role_queue.wasm`, `win_probability.wasm`,
/// the `misbehaving_*.wasm` set), built from `rules-plugins/` by `scripts/build-plugins`
/// on first use in this process (installing the wasm32 target if it is missing).
///
/// # Panics
/// If the plugins cannot be built: the tests that need them cannot run.
pub fn plugin_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root").to_path_buf();
        let output = std::process::Command::new(root.join("scripts/build-plugins"))
            .current_dir(&root)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("cannot run scripts/build-plugins");
        assert!(output.status.success(), "scripts/build-plugins failed ({})", output.status);
        let stdout = String::from_utf8(output.stdout).expect("utf-8 path");
        let dir = PathBuf::from(stdout.lines().last().expect("build-plugins prints the plugin directory").trim());
        assert!(dir.join("role_queue.wasm").is_file(), "no role_queue.wasm in {}", dir.display());
        dir
    })
    .clone()
}

/// A scratch directory, emptied when created and removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `<system temp>/rallypoint-<name>-<pid>`, created empty.
    ///
    /// # Panics
    /// If the directory cannot be created.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("rallypoint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// A path inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
