//! The validated rule set: what the rest of the engine is allowed to see.
//!
//! Only [`super::check`] builds these types, so every index in them is in range, every
//! expression type-checks, and every cross-reference (attribute, team, rule) resolves.

use crate::expr::{self, AttrType};
use crate::source::Span;

/// Players per match above which a rule set is a "large match" (FlexMatch: 41–200).
pub const SMALL_MATCH_MAX_PLAYERS: u32 = 40;
/// The most players a match may hold.
pub const MAX_MATCH_PLAYERS: u32 = 200;
/// The largest rule-set document FlexMatch accepts, in characters.
pub const MAX_DOCUMENT_CHARS: usize = 65_535;

/// A validated FlexMatch rule set.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The free-form `name` label, if any.
    pub name: Option<String>,
    /// Declared player attributes; their index is the attribute slot used everywhere else.
    pub attributes: Vec<AttributeDef>,
    /// Team definitions in document order.
    pub teams: Vec<TeamDef>,
    /// Rules in document order.
    pub rules: Vec<Rule>,
    /// Expansion schedules.
    pub expansions: Vec<Expansion>,
    /// Algorithm options with defaults filled in.
    pub algorithm: Algorithm,
}

/// A declared player attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDef {
    /// Name, as used in `PlayerAttributes` and `attributes[name]`.
    pub name: String,
    /// Declared type.
    pub ty: AttrType,
    /// Value used when a request omits the attribute.
    pub default: Option<AttrValue>,
}

/// A player attribute value (the request-side `AttributeValue`).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// `S`
    String(String),
    /// `N`
    Number(f64),
    /// `SL` (duplicates removed, first occurrence kept)
    StringList(Vec<String>),
    /// `SDM`
    StringNumberMap(Vec<(String, f64)>),
}

/// One team definition; `quantity > 1` generates `name_1 … name_q`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamDef {
    /// Definition name.
    pub name: String,
    /// Minimum players for the match to be viable.
    pub min_players: u32,
    /// Maximum players.
    pub max_players: u32,
    /// Number of teams generated from this definition.
    pub quantity: u32,
}

impl TeamDef {
    /// The names of the concrete teams this definition generates.
    pub fn concrete_names(&self) -> Vec<String> {
        if self.quantity == 1 {
            vec![self.name.clone()]
        } else {
            (1..=self.quantity).map(|i| format!("{}_{i}", self.name)).collect()
        }
    }
}

/// A rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique name (appears in events' `ruleEvaluationMetrics`).
    pub name: String,
    /// Free text, ignored by the matchmaker.
    pub description: Option<String>,
    /// What the rule checks.
    pub kind: RuleKind,
    /// Whether a compound rule uses this rule as an operand (then it is not enforced on its own).
    pub is_compound_operand: bool,
}

/// How a party's players are folded into one value for a numeric rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberAggregation {
    /// Smallest member value.
    Min,
    /// Largest member value.
    Max,
    /// Mean of member values (the default).
    Avg,
}

/// How a party's string lists are combined for a collection rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListAggregation {
    /// All values any member has (the default).
    Union,
    /// Only values every member has.
    Intersection,
}

/// A property expression as written, parsed and type-checked.
#[derive(Debug, Clone)]
pub struct PropertyExpr {
    /// The expression text.
    pub text: String,
    /// The syntax tree.
    pub expr: expr::Expr,
    /// Its type.
    pub ty: expr::Ty,
}

/// A `referenceValue`.
#[derive(Debug, Clone)]
pub enum Reference {
    /// A number (JSON number or numeric string).
    Number(f64),
    /// A string literal.
    String(String),
    /// A list of string literals (for `reference_intersection_count`).
    StringList(Vec<String>),
    /// A property expression.
    Expr(PropertyExpr),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Collection operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionOp {
    /// Count of values present in every player's collection.
    Intersection,
    /// Count of collections containing the reference value.
    Contains,
    /// Per collection, count of its values present in the reference list.
    ReferenceIntersectionCount,
}

/// Latency `distanceReference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistanceReference {
    /// The lowest latency in the match, per location.
    Min,
    /// The average latency in the match, per location.
    Avg,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    /// Smallest first.
    Ascending,
    /// Largest first.
    Descending,
}

/// Which key of the anchor's `string_number_map` a sort rule uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKey {
    /// The anchor's key with the lowest value.
    MinValue,
    /// The anchor's key with the highest value.
    MaxValue,
}

/// A compound statement over earlier rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// The outcome of rule `i`.
    Rule(usize),
    /// All operands hold.
    And(Vec<Statement>),
    /// At least one operand holds.
    Or(Vec<Statement>),
    /// Exactly one operand holds.
    Xor(Vec<Statement>),
    /// The operand does not hold.
    Not(Box<Statement>),
}

/// The type-specific part of a rule.
#[derive(Debug, Clone)]
pub enum RuleKind {
    /// `batchDistance`
    BatchDistance {
        /// Attribute slot.
        attribute: usize,
        /// Maximum spread (numeric attributes); `None` for strings (equality).
        max_distance: Option<f64>,
        /// Party folding.
        party_aggregation: NumberAggregation,
    },
    /// `comparison`
    Comparison {
        /// What is measured.
        measurement: PropertyExpr,
        /// What it is compared with; `None` compares players with each other (`=`/`!=`).
        reference: Option<Reference>,
        /// The operator.
        operation: CmpOp,
        /// Party folding.
        party_aggregation: NumberAggregation,
    },
    /// `distance`
    Distance {
        /// What is measured.
        measurement: PropertyExpr,
        /// The reference value.
        reference: Reference,
        /// Lower bound on the distance.
        min_distance: Option<f64>,
        /// Upper bound on the distance.
        max_distance: Option<f64>,
        /// Party folding.
        party_aggregation: NumberAggregation,
    },
    /// `collection`
    Collection {
        /// What is measured (a list of string lists).
        measurement: PropertyExpr,
        /// The operation.
        operation: CollectionOp,
        /// Reference value (`contains`: a string; `reference_intersection_count`: a list).
        reference: Option<Reference>,
        /// Lower bound on the count(s).
        min_count: Option<f64>,
        /// Upper bound on the count(s).
        max_count: Option<f64>,
        /// Party folding.
        party_aggregation: ListAggregation,
    },
    /// `compound`
    Compound {
        /// The statement as written.
        text: String,
        /// The statement.
        statement: Statement,
    },
    /// `latency`
    Latency {
        /// Highest acceptable latency in ms.
        max_latency: f64,
        /// Highest acceptable difference from the reference.
        max_distance: Option<f64>,
        /// The reference for `max_distance`.
        distance_reference: Option<DistanceReference>,
        /// Party folding, per location.
        party_aggregation: NumberAggregation,
    },
    /// `absoluteSort`
    AbsoluteSort(SortRule),
    /// `distanceSort`
    DistanceSort(SortRule),
    /// `plugin`: a Rallypoint extension. A WebAssembly module decides (see rules-plugins/ABI.md).
    Plugin(PluginRule),
}

/// A `plugin` rule: which module to run, what it sees and what a failure means.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginRule {
    /// The plugin as written: a name looked up in the plugin directories, or a path to a
    /// `.wasm` file (it contains a `/` or ends in `.wasm`).
    pub plugin: String,
    /// Where `plugin` is written (for diagnostics about loading it).
    pub plugin_span: Span,
    /// Attribute slots the plugin reads, in the order it sees them.
    pub attributes: Vec<usize>,
    /// Numeric parameters in document order; expansions may target each.
    pub parameters: Vec<(String, f64)>,
    /// What a plugin failure means for the candidates it was asked about.
    pub on_error: OnError,
}

impl PluginRule {
    /// Whether `plugin` names a file rather than a plugin to look up.
    pub fn is_path(&self) -> bool {
        self.plugin.contains('/') || self.plugin.contains('\\') || self.plugin.ends_with(".wasm")
    }
}

/// A plugin rule's `onError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Fail closed: a candidate the plugin could not judge fails the rule (the default).
    #[default]
    Reject,
    /// Fail open: a candidate the plugin could not judge passes the rule.
    Skip,
}

/// The fields shared by `absoluteSort` and `distanceSort`.
#[derive(Debug, Clone, PartialEq)]
pub struct SortRule {
    /// Direction.
    pub direction: SortDirection,
    /// Attribute slot.
    pub attribute: usize,
    /// Key selection for map attributes.
    pub map_key: Option<MapKey>,
    /// Party folding.
    pub party_aggregation: NumberAggregation,
}

impl RuleKind {
    /// The rule type as written in JSON.
    pub fn type_name(&self) -> &'static str {
        match self {
            RuleKind::BatchDistance { .. } => "batchDistance",
            RuleKind::Comparison { .. } => "comparison",
            RuleKind::Distance { .. } => "distance",
            RuleKind::Collection { .. } => "collection",
            RuleKind::Compound { .. } => "compound",
            RuleKind::Latency { .. } => "latency",
            RuleKind::Plugin(_) => "plugin",
            RuleKind::AbsoluteSort(_) => "absoluteSort",
            RuleKind::DistanceSort(_) => "distanceSort",
        }
    }

    /// Whether the rule orders candidates rather than accepting or rejecting them.
    pub fn is_sort(&self) -> bool {
        matches!(self, RuleKind::AbsoluteSort(_) | RuleKind::DistanceSort(_))
    }
}

/// An expansion: one property relaxed over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    /// What is relaxed.
    pub target: ExpansionTarget,
    /// Steps in strictly increasing `wait_time_seconds`.
    pub steps: Vec<ExpansionStep>,
    /// Where the `target` string is, for later diagnostics (e.g. against a configuration).
    pub target_span: Span,
}

/// One expansion step.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpansionStep {
    /// Age at which the step applies.
    pub wait_time_seconds: f64,
    /// The value that replaces the original from then on.
    pub value: ExpansionValue,
    /// Where the step's `waitTimeSeconds` is.
    pub span: Span,
}

/// An expansion step's value.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpansionValue {
    /// A number.
    Number(f64),
    /// A string (for a string `referenceValue`).
    String(String),
}

/// The property an expansion relaxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpansionTarget {
    /// `rules[name].property`
    Rule {
        /// Rule index.
        rule: usize,
        /// Property.
        property: RuleProperty,
    },
    /// `teams[a, b].property`
    Teams {
        /// Team definition indices.
        teams: Vec<usize>,
        /// Property.
        property: TeamProperty,
    },
}

/// Rule properties an expansion may target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleProperty {
    /// `maxDistance` (batchDistance, distance, latency)
    MaxDistance,
    /// `minDistance` (distance)
    MinDistance,
    /// `minCount` (collection)
    MinCount,
    /// `maxCount` (collection)
    MaxCount,
    /// `maxLatency` (latency)
    MaxLatency,
    /// `referenceValue` (comparison, distance, collection `contains`) when it is a literal
    ReferenceValue,
    /// `parameters.<name>` (plugin): the index of the parameter in the rule's list.
    Parameter(u16),
}

impl RuleProperty {
    /// The JSON field name.
    pub fn field_name(self) -> &'static str {
        match self {
            RuleProperty::MaxDistance => "maxDistance",
            RuleProperty::MinDistance => "minDistance",
            RuleProperty::MinCount => "minCount",
            RuleProperty::MaxCount => "maxCount",
            RuleProperty::MaxLatency => "maxLatency",
            RuleProperty::ReferenceValue => "referenceValue",
            RuleProperty::Parameter(_) => "parameters",
        }
    }
}

/// Team properties an expansion may target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamProperty {
    /// `minPlayers`
    MinPlayers,
    /// `maxPlayers`
    MaxPlayers,
}

/// `algorithm.strategy`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Small matches (≤ 40 players).
    ExhaustiveSearch,
    /// Large matches (41–200 players).
    Balanced,
}

/// `algorithm.batchingPreference`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchingPreference {
    /// Random batches (exhaustiveSearch default).
    Random,
    /// Batches of similar `sortByAttributes`.
    Sorted,
    /// Group by any acceptable location (balanced default).
    LargestPopulation,
    /// Group by lowest-latency location.
    FastestRegion,
}

/// `algorithm.expansionAgeSelection`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpansionAgeSelection {
    /// Age of the newest ticket in the match (default).
    Newest,
    /// Age of the oldest ticket in the match.
    Oldest,
}

/// `algorithm.backfillPriority`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillPriority {
    /// Request type ignored (default).
    Normal,
    /// Backfill tickets first.
    High,
    /// Backfill tickets last.
    Low,
}

/// Algorithm options, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Algorithm {
    /// Strategy.
    pub strategy: Strategy,
    /// Batching preference.
    pub batching_preference: BatchingPreference,
    /// Attribute slots for `sorted` batching, primary key first.
    pub sort_by_attributes: Vec<usize>,
    /// Expansion clock.
    pub expansion_age_selection: ExpansionAgeSelection,
    /// Backfill priority.
    pub backfill_priority: BackfillPriority,
    /// Attribute slot balanced by the large-match algorithm.
    pub balanced_attribute: Option<usize>,
}

impl RuleSet {
    /// The most players a match can hold: Σ maxPlayers × quantity.
    pub fn max_players(&self) -> u32 {
        self.teams.iter().map(|t| t.max_players * t.quantity).sum()
    }

    /// Whether this is a large-match rule set (more than 40 players).
    pub fn is_large(&self) -> bool {
        self.max_players() > SMALL_MATCH_MAX_PLAYERS
    }

    /// Index of the attribute named `name`.
    pub fn attribute_index(&self, name: &str) -> Option<usize> {
        self.attributes.iter().position(|a| a.name == name)
    }

    /// Index of the rule named `name`.
    pub fn rule_index(&self, name: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.name == name)
    }

    /// The names of all concrete teams, in concrete-index order.
    pub fn concrete_team_names(&self) -> Vec<String> {
        self.teams.iter().flat_map(TeamDef::concrete_names).collect()
    }

    /// The latest expansion step time, if there are expansions.
    pub fn last_expansion_seconds(&self) -> Option<f64> {
        self.expansions.iter().filter_map(|e| e.steps.last()).map(|s| s.wait_time_seconds).reduce(f64::max)
    }
}
