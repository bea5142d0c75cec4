//! Rule-set validation: spanned JSON in, [`RuleSet`] plus every diagnostic out.
//!
//! The validator never stops at the first problem. When a part is broken it still records
//! what it can (a team's name, a rule's name and type, an attribute with its most likely
//! type) so that later references to it do not cascade into a page of follow-on errors.

use crate::diagnostic::{Severity, Sink};
use crate::expr::{self, AttrType, Scope, TeamScope, Ty};
use crate::json::{Kind, Member, Value};
use crate::source::Span;
use crate::suggest::{closest, did_you_mean};

use super::model::*;

const ROOT_FIELDS: &[&str] =
    &["name", "ruleLanguageVersion", "playerAttributes", "algorithm", "teams", "rules", "expansions"];
const ATTRIBUTE_FIELDS: &[&str] = &["name", "type", "default"];
const TEAM_FIELDS: &[&str] = &["name", "minPlayers", "maxPlayers", "quantity"];
const ALGORITHM_FIELDS: &[&str] = &[
    "strategy",
    "batchingPreference",
    "sortByAttributes",
    "expansionAgeSelection",
    "backfillPriority",
    "balancedAttribute",
];
const EXPANSION_FIELDS: &[&str] = &["target", "steps"];
const STEP_FIELDS: &[&str] = &["waitTimeSeconds", "value"];
/// Field spellings AWS's own documentation uses that we accept with a warning: (written, documented).
const ACCEPTED_SPELLINGS: &[(&str, &str)] = &[("sortbyAttributes", "sortByAttributes")];
const RULE_TYPES: &[&str] = &[
    "absoluteSort",
    "batchDistance",
    "collection",
    "comparison",
    "compound",
    "distance",
    "distanceSort",
    "latency",
    "plugin",
];
/// Parameters per plugin rule.
const MAX_PLUGIN_PARAMETERS: usize = 64;
/// Players can send at most this many attributes per request (FlexMatch quota).
const MAX_ATTRIBUTES_PER_PLAYER: usize = 10;
/// Strings per `string_list` value and characters per string (FlexMatch quotas).
const MAX_LIST_STRINGS: usize = 100;
const MAX_STRING_CHARS: usize = 100;
/// Pairs per `string_number_map` value (FlexMatch quota).
const MAX_MAP_PAIRS: usize = 10;

fn fields_for(rule_type: &str) -> &'static [&'static str] {
    match rule_type {
        "batchDistance" => &["batchAttribute", "maxDistance", "partyAggregation"],
        "comparison" => &["measurements", "referenceValue", "operation", "partyAggregation"],
        "distance" => &["measurements", "referenceValue", "minDistance", "maxDistance", "partyAggregation"],
        "collection" => &["measurements", "referenceValue", "operation", "minCount", "maxCount", "partyAggregation"],
        "compound" => &["statement"],
        "latency" => &["maxLatency", "maxDistance", "distanceReference", "partyAggregation"],
        "absoluteSort" | "distanceSort" => &["sortDirection", "sortAttribute", "mapKey", "partyAggregation"],
        "plugin" => &["plugin", "attributes", "parameters", "onError"],
        _ => &[],
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// The field a path ends in, for messages: `teams[0].quantity` → `quantity`.
fn field_name(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().filter(|f| !f.is_empty()).unwrap_or(last)
}

/// A JSON object whose unknown and duplicate keys have been reported.
///
/// An unknown key that is a near miss of a known field the object lacks (`"playerAttribute"`,
/// `"team"`) is read *as* that field: its one `unknown-field` error says what to fix, and
/// what it holds is still checked and used, so later references do not cascade and the
/// field is not also reported missing. Paths keep the key as written.
struct Obj<'v> {
    members: &'v [Member],
    path: String,
    span: Span,
    /// Known field name → index of the member standing in for it.
    aliases: Vec<(String, usize)>,
    /// Some member is unknown and stands in for no known field.
    has_unknown: bool,
}

impl<'v> Obj<'v> {
    fn member(&self, key: &str) -> Option<&'v Member> {
        let members = self.members;
        members
            .iter()
            .find(|m| m.key == key)
            .or_else(|| self.aliases.iter().find(|(k, _)| k == key).map(|(_, i)| &members[*i]))
    }

    fn get(&self, key: &str) -> Option<&'v Value> {
        self.member(key).map(|m| &m.value)
    }

    /// The path of field `key`, spelt as written when a near miss stands in for it.
    fn path(&self, key: &str) -> String {
        join(&self.path, self.member(key).map_or(key, |m| m.key.as_str()))
    }
}

/// What the validator remembers about each rule for cross-references, valid or not.
struct RuleInfo {
    name: String,
    /// Position in `rules`.
    index: usize,
    type_name: Option<&'static str>,
    /// Parsed rule, `None` when it had errors.
    rule: Option<Rule>,
}

/// What the validator remembers about each attribute, valid or not.
struct AttrInfo {
    name: String,
    ty: AttrType,
    /// Position in `playerAttributes`.
    index: usize,
}

pub(super) struct Validator<'t> {
    text: &'t str,
    pub(super) sink: Sink<'t>,
    attributes: Vec<AttrInfo>,
    /// Attributes that fully validated (for the model).
    attribute_defs: Vec<Option<AttributeDef>>,
    teams: Vec<Option<TeamDef>>,
    team_names: Vec<String>,
    /// Position in `teams` of each entry of `teams` / `team_names`.
    team_indices: Vec<usize>,
    rules: Vec<RuleInfo>,
    /// Every rule's name and position as written, known before the rules are checked, so a
    /// compound rule naming a later rule can say where it is.
    rule_names: Vec<(String, usize)>,
    /// Paths of the top-level sections as written (`rules`, or a near miss standing in for it).
    rules_path: String,
    teams_path: String,
    attributes_path: String,
    is_large: bool,
}

impl<'t> Validator<'t> {
    pub(super) fn new(text: &'t str) -> Validator<'t> {
        Validator {
            text,
            sink: Sink::new(text),
            attributes: Vec::new(),
            attribute_defs: Vec::new(),
            teams: Vec::new(),
            team_names: Vec::new(),
            team_indices: Vec::new(),
            rules: Vec::new(),
            rule_names: Vec::new(),
            rules_path: "rules".to_owned(),
            teams_path: "teams".to_owned(),
            attributes_path: "playerAttributes".to_owned(),
            is_large: false,
        }
    }

    // ---- generic readers -------------------------------------------------------------

    fn object<'v>(&mut self, value: &'v Value, path: &str, what: &str, known: &[&str]) -> Option<Obj<'v>> {
        let Kind::Object(members) = &value.kind else {
            self.sink.error(
                "wrong-type",
                path,
                value.span,
                format!("{what} must be an object, found {}", value.kind.describe()),
            );
            return None;
        };
        let mut obj = Obj { members, path: path.to_owned(), span: value.span, aliases: Vec::new(), has_unknown: false };
        for (i, member) in members.iter().enumerate() {
            let member_path = join(path, &member.key);
            if members[..i].iter().any(|m| m.key == member.key) {
                self.sink.error_help(
                    "duplicate-field",
                    &member_path,
                    member.key_span,
                    format!("field '{}' appears more than once in {what}", member.key),
                    Some("remove one of them; FlexMatch would silently use only one".to_owned()),
                );
            } else if !known.contains(&member.key.as_str()) {
                if self.accepted_spelling(&mut obj, i, known) {
                    continue;
                }
                let help = did_you_mean(&member.key, known.iter().copied())
                    .or_else(|| Some(format!("known fields are: {}", known.join(", "))));
                self.sink.error_help(
                    "unknown-field",
                    &member_path,
                    member.key_span,
                    format!("unknown field '{}' in {what}", member.key),
                    help,
                );
                Self::alias_near_miss(&mut obj, i, known);
            }
        }
        Some(obj)
    }

    /// Reads unknown member `i` as the known field it most likely misspells, when the object
    /// lacks that field (see [`Obj`]).
    fn alias_near_miss(obj: &mut Obj<'_>, i: usize, known: &[&str]) {
        let key = &obj.members[i].key;
        match closest(key, known.iter().copied()) {
            Some(field) if obj.member(field).is_none() => obj.aliases.push((field.to_owned(), i)),
            _ => obj.has_unknown = true,
        }
    }

    /// A spelling of a known field that AWS's documentation uses ([`ACCEPTED_SPELLINGS`]):
    /// accepted with a warning and read as the documented field.
    fn accepted_spelling(&mut self, obj: &mut Obj<'_>, i: usize, known: &[&str]) -> bool {
        let member = &obj.members[i];
        let Some(&(_, documented)) = ACCEPTED_SPELLINGS
            .iter()
            .find(|(written, documented)| *written == member.key && known.contains(documented))
        else {
            return false;
        };
        let member_path = join(&obj.path, &member.key);
        if obj.member(documented).is_some() {
            self.sink.error_help(
                "duplicate-field",
                &member_path,
                member.key_span,
                format!("'{}' and '{documented}' are the same field", member.key),
                Some(format!("remove '{}'", member.key)),
            );
        } else {
            self.sink.warning(
                "field-spelling",
                &member_path,
                member.key_span,
                format!("'{}' is accepted, but the documented name is '{documented}'", member.key),
                Some(format!("write \"{documented}\"")),
            );
            obj.aliases.push((documented.to_owned(), i));
        }
        true
    }

    fn require<'v>(&mut self, obj: &Obj<'v>, key: &str, what: &str) -> Option<&'v Value> {
        let v = obj.get(key);
        if v.is_none() {
            self.sink.error("missing-field", &obj.path, obj.span, format!("{what} is missing required field '{key}'"));
        }
        v
    }

    fn string<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v str> {
        match &value.kind {
            Kind::String(s) => Some(s),
            other => {
                self.sink.error(
                    "wrong-type",
                    path,
                    value.span,
                    format!("expected a string, found {}", other.describe()),
                );
                None
            }
        }
    }

    /// A name (of an attribute, team or rule). A number written for a name is reported, and
    /// its text is still returned so that references to it do not cascade.
    fn name(&mut self, value: &Value, path: &str) -> Option<String> {
        match &value.kind {
            Kind::String(s) => Some(s.clone()),
            Kind::Number(_) => {
                let written = &self.text[value.span.start as usize..value.span.end as usize];
                self.sink.error_help(
                    "wrong-type",
                    path,
                    value.span,
                    "expected a string, found a number",
                    Some(format!("names are strings: write \"{written}\"")),
                );
                Some(written.to_owned())
            }
            _ => self.string(value, path).map(str::to_owned),
        }
    }

    /// A number; numeric strings such as `"500"` are accepted, as in AWS's own examples.
    fn number(&mut self, value: &Value, path: &str) -> Option<f64> {
        match &value.kind {
            Kind::Number(n) => Some(*n),
            Kind::String(s) => match s.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Some(n),
                _ => {
                    self.sink.error(
                        "wrong-type",
                        path,
                        value.span,
                        format!("expected a number, found the string \"{s}\""),
                    );
                    None
                }
            },
            other => {
                self.sink.error(
                    "wrong-type",
                    path,
                    value.span,
                    format!("expected a number, found {}", other.describe()),
                );
                None
            }
        }
    }

    fn non_negative(&mut self, value: &Value, path: &str) -> Option<f64> {
        let n = self.number(value, path)?;
        if n < 0.0 {
            self.sink.error(
                "out-of-range",
                path,
                value.span,
                format!("{} must not be negative, found {n}", field_name(path)),
            );
            return None;
        }
        Some(n)
    }

    fn integer(&mut self, value: &Value, path: &str, min: u32, max: u32) -> Option<u32> {
        let n = self.number(value, path)?;
        if n.fract() != 0.0 {
            self.sink.error(
                "wrong-type",
                path,
                value.span,
                format!("{} must be a whole number, found {n}", field_name(path)),
            );
            return None;
        }
        if n < f64::from(min) || n > f64::from(max) {
            self.sink.error(
                "out-of-range",
                path,
                value.span,
                format!("{} must be between {min} and {max}, found {n}", field_name(path)),
            );
            return None;
        }
        Some(n as u32)
    }

    fn choice<T: Copy>(&mut self, value: &Value, path: &str, what: &str, options: &[(&str, T)]) -> Option<T> {
        let s = self.string(value, path)?;
        if let Some((_, t)) = options.iter().find(|(name, _)| *name == s) {
            return Some(*t);
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let help =
            did_you_mean(s, names.iter().copied()).or_else(|| Some(format!("expected one of: {}", names.join(", "))));
        self.sink.error_help("unknown-value", path, value.span, format!("'{s}' is not a valid {what}"), help);
        None
    }

    /// Maps a byte range inside a JSON string's *content* to a span in the document.
    fn string_inner_span(&self, value: &Value, start: usize, end: usize) -> Span {
        let raw = &self.text[value.span.start as usize + 1
            ..(value.span.end as usize).saturating_sub(1).max(value.span.start as usize + 1)];
        match &value.kind {
            Kind::String(s) if raw == s => {
                let base = value.span.start as usize + 1;
                Span::new(base + start.min(s.len()), base + end.min(s.len()).max(start.min(s.len())))
            }
            _ => value.span,
        }
    }

    fn attribute_names(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(|a| a.name.as_str())
    }

    fn scope_parts(&self) -> (Vec<(String, AttrType)>, Vec<TeamScope>) {
        let attributes = self.attributes.iter().map(|a| (a.name.clone(), a.ty)).collect();
        let teams = self
            .teams
            .iter()
            .zip(&self.team_names)
            .map(|(t, name)| TeamScope { name: name.clone(), quantity: t.as_ref().map_or(1, |t| t.quantity) })
            .collect();
        (attributes, teams)
    }

    /// Resolves an attribute name used by a rule field.
    fn attribute_ref(&mut self, value: &Value, path: &str) -> Option<(usize, AttrType)> {
        let name = self.string(value, path)?;
        if let Some(i) = self.attributes.iter().position(|a| a.name == name) {
            return Some((i, self.attributes[i].ty));
        }
        let help = did_you_mean(name, self.attribute_names()).or_else(|| {
            Some(format!("declare it in \"playerAttributes\": {{\"name\": \"{name}\", \"type\": \"number\"}}"))
        });
        self.sink.error_help("unknown-attribute", path, value.span, format!("unknown attribute '{name}'"), help);
        None
    }

    // ---- the document ----------------------------------------------------------------

    /// Validates the document `root`, whose source is `chars` characters long.
    pub(super) fn document(&mut self, root: &Value, chars: usize) -> Option<RuleSet> {
        if chars > MAX_DOCUMENT_CHARS {
            self.sink.error_help(
                "too-large",
                "",
                Span::new(root.span.start as usize, root.span.start as usize),
                format!("the rule set is {chars} characters long; FlexMatch accepts at most {MAX_DOCUMENT_CHARS}"),
                Some("remove whitespace or descriptions, or split the game mode into two configurations".to_owned()),
            );
        }
        let obj = self.object(root, "", "the rule set", ROOT_FIELDS)?;

        let name = obj.get("name").and_then(|v| self.string(v, "name")).map(str::to_owned);
        if let Some(v) = self.require(&obj, "ruleLanguageVersion", "the rule set") {
            let path = obj.path("ruleLanguageVersion");
            match &v.kind {
                Kind::String(s) if s != "1.0" => {
                    self.sink.error_help(
                        "unsupported-version",
                        &path,
                        v.span,
                        format!("unsupported rule language version '{s}'"),
                        Some("the only version is \"1.0\"".to_owned()),
                    );
                }
                Kind::String(_) => {}
                Kind::Number(_) => {
                    self.sink.error_help(
                        "wrong-type",
                        &path,
                        v.span,
                        "expected a string, found a number",
                        Some("write it as a string: \"1.0\"".to_owned()),
                    );
                }
                _ => {
                    self.string(v, &path);
                }
            }
        }

        self.attributes_path = obj.path("playerAttributes");
        self.teams_path = obj.path("teams");
        self.rules_path = obj.path("rules");
        if let Some(v) = obj.get("playerAttributes") {
            self.player_attributes(v);
        }
        match obj.get("teams") {
            Some(v) => self.teams(v),
            None => {
                self.sink.error_help(
                    "missing-field",
                    "",
                    root.span,
                    "the rule set is missing required field 'teams'",
                    Some("add at least one team, e.g. \"teams\": [{\"name\": \"red\", \"minPlayers\": 1, \"maxPlayers\": 5}]".to_owned()),
                );
            }
        }
        let max_players: u32 = self.teams.iter().flatten().map(|t| t.max_players * t.quantity).sum();
        self.is_large = max_players > SMALL_MATCH_MAX_PLAYERS;
        if max_players > MAX_MATCH_PLAYERS {
            let span = obj.get("teams").map_or(root.span, |v| v.span);
            let path = self.teams_path.clone();
            self.sink.error_help(
                "too-many-players",
                &path,
                span,
                format!("the teams hold up to {max_players} players; a match may have at most {MAX_MATCH_PLAYERS}"),
                Some("lower maxPlayers or quantity".to_owned()),
            );
        }

        let algorithm = self.algorithm(obj.get("algorithm"), &obj.path("algorithm"), root.span, max_players);
        if let Some(v) = obj.get("rules") {
            self.rules(v);
        }
        let expansions = obj.get("expansions").map(|v| self.expansions(v, &obj.path("expansions"))).unwrap_or_default();

        if self.sink.has_errors() {
            return None;
        }
        let attributes = self.attribute_defs.drain(..).map(|a| a.expect("no errors")).collect();
        let teams = self.teams.drain(..).map(|t| t.expect("no errors")).collect();
        let mut rules: Vec<Rule> = self.rules.drain(..).map(|r| r.rule.expect("no errors")).collect();
        let operands: Vec<usize> = rules
            .iter()
            .filter_map(|r| match &r.kind {
                RuleKind::Compound { statement, .. } => Some(statement),
                _ => None,
            })
            .flat_map(statement_rules)
            .collect();
        for i in operands {
            rules[i].is_compound_operand = true;
        }
        Some(RuleSet { name, attributes, teams, rules, expansions, algorithm: algorithm? })
    }

    // ---- playerAttributes --------------------------------------------------------------

    fn player_attributes(&mut self, value: &Value) {
        let base = self.attributes_path.clone();
        let Some(items) = value.as_array() else {
            self.sink.error(
                "wrong-type",
                &base,
                value.span,
                format!("playerAttributes must be an array, found {}", value.kind.describe()),
            );
            return;
        };
        if items.len() > MAX_ATTRIBUTES_PER_PLAYER {
            self.sink.warning(
                "many-attributes",
                &base,
                value.span,
                format!("{} attributes are declared, but a request may carry at most {MAX_ATTRIBUTES_PER_PLAYER} per player", items.len()),
                Some("players will need defaults for the attributes they cannot send".to_owned()),
            );
        }
        for (i, item) in items.iter().enumerate() {
            let path = index(&base, i);
            let Some(obj) = self.object(item, &path, "a player attribute", ATTRIBUTE_FIELDS) else {
                continue;
            };
            let name = self.require(&obj, "name", "the player attribute").and_then(|v| {
                let name = self.name(v, &obj.path("name"))?;
                if name.is_empty() {
                    self.sink.error("empty-name", &obj.path("name"), v.span, "attribute names must not be empty");
                }
                if let Some(first) = self.attributes.iter().find(|a| a.name == name) {
                    self.sink.error_help(
                        "duplicate-name",
                        &obj.path("name"),
                        v.span,
                        format!(
                            "attribute '{name}' is declared more than once; first declared at {}",
                            index(&base, first.index)
                        ),
                        Some("rename or remove one".to_owned()),
                    );
                    return None;
                }
                Some(name)
            });
            let types = [
                ("string", AttrType::String),
                ("number", AttrType::Number),
                ("string_list", AttrType::StringList),
                ("string_number_map", AttrType::StringNumberMap),
            ];
            let ty_value = self.require(&obj, "type", "the player attribute");
            let ty = ty_value.and_then(|v| self.choice(v, &obj.path("type"), "attribute type", &types));
            // A misspelt type still gets its likely meaning, so rules using it are checked sensibly.
            let assumed_ty = ty.or_else(|| {
                let s = ty_value?.as_str()?;
                let guess = crate::suggest::closest(s, types.iter().map(|(n, _)| *n))?;
                types.iter().find(|(n, _)| *n == guess).map(|(_, t)| *t)
            });
            let default = match (obj.get("default"), ty) {
                (Some(v), Some(ty)) => self.attr_value(v, &obj.path("default"), ty).map(Some),
                (Some(_), None) | (None, _) => Some(None),
            };
            if let Some(name) = name {
                self.attributes.push(AttrInfo {
                    name: name.clone(),
                    ty: assumed_ty.unwrap_or(AttrType::Number),
                    index: i,
                });
                let def = match (ty, default) {
                    (Some(ty), Some(default)) => Some(AttributeDef { name, ty, default }),
                    _ => None,
                };
                self.attribute_defs.push(def);
            }
        }
    }

    /// A default value (or, for callers outside validation, any attribute value) of type `ty`.
    fn attr_value(&mut self, value: &Value, path: &str, ty: AttrType) -> Option<AttrValue> {
        let written = &self.text[value.span.start as usize..value.span.end as usize];
        // The value rewritten in the expected type, when that is a mechanical change.
        let rewrite = match (ty, &value.kind) {
            (AttrType::StringList, Kind::String(_)) => Some(format!("write it as a list: [{written}]")),
            (AttrType::StringList, Kind::Number(_)) => Some(format!("write it as a list of strings: [\"{written}\"]")),
            (AttrType::String, Kind::Number(_)) => Some(format!("write it as a string: \"{written}\"")),
            (AttrType::String, Kind::Array(items)) if items.len() == 1 && items[0].as_str().is_some() => {
                let item = &items[0];
                Some(format!(
                    "a string attribute holds one value: write {}",
                    &self.text[item.span.start as usize..item.span.end as usize]
                ))
            }
            _ => None,
        };
        let mismatch = |this: &mut Self, expected: &str| {
            this.sink.error_help(
                "wrong-type",
                path,
                value.span,
                format!("the default of a {} attribute must be {expected}, found {}", ty.name(), value.kind.describe()),
                rewrite.clone(),
            );
            None
        };
        match (ty, &value.kind) {
            (AttrType::String, Kind::String(s)) => {
                self.check_string_len(s, path, value.span);
                Some(AttrValue::String(s.clone()))
            }
            (AttrType::String, _) => mismatch(self, "a string"),
            (AttrType::Number, Kind::Number(_) | Kind::String(_)) => self.number(value, path).map(AttrValue::Number),
            (AttrType::Number, _) => mismatch(self, "a number"),
            (AttrType::StringList, Kind::Array(items)) => {
                if items.len() > MAX_LIST_STRINGS {
                    self.sink.error(
                        "too-many",
                        path,
                        value.span,
                        format!("a string_list holds at most {MAX_LIST_STRINGS} strings, found {}", items.len()),
                    );
                }
                let mut out: Vec<String> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.string(item, &index(path, i)) {
                        self.check_string_len(s, &index(path, i), item.span);
                        if out.iter().any(|o| o == s) {
                            self.sink.warning(
                                "duplicate-value",
                                &index(path, i),
                                item.span,
                                format!("'{s}' appears twice; repeated values are ignored"),
                                Some("remove the repeated value".to_owned()),
                            );
                        } else {
                            out.push(s.to_owned());
                        }
                    }
                }
                Some(AttrValue::StringList(out))
            }
            (AttrType::StringList, _) => mismatch(self, "an array of strings"),
            (AttrType::StringNumberMap, Kind::Object(members)) => {
                if members.len() > MAX_MAP_PAIRS {
                    self.sink.error(
                        "too-many",
                        path,
                        value.span,
                        format!("a string_number_map holds at most {MAX_MAP_PAIRS} pairs, found {}", members.len()),
                    );
                }
                let mut out = Vec::new();
                for (i, m) in members.iter().enumerate() {
                    let member_path = join(path, &m.key);
                    if members[..i].iter().any(|o| o.key == m.key) {
                        self.sink.error(
                            "duplicate-field",
                            &member_path,
                            m.key_span,
                            format!("key '{}' appears more than once", m.key),
                        );
                        continue;
                    }
                    self.check_string_len(&m.key, &member_path, m.key_span);
                    if let Some(n) = self.number(&m.value, &member_path) {
                        out.push((m.key.clone(), n));
                    }
                }
                Some(AttrValue::StringNumberMap(out))
            }
            (AttrType::StringNumberMap, _) => mismatch(self, "an object of numbers"),
        }
    }

    fn check_string_len(&mut self, s: &str, path: &str, span: Span) {
        let n = s.chars().count();
        if n > MAX_STRING_CHARS {
            self.sink.error(
                "too-long",
                path,
                span,
                format!("strings are limited to {MAX_STRING_CHARS} characters, found {n}"),
            );
        }
    }

    // ---- teams -------------------------------------------------------------------------

    fn teams(&mut self, value: &Value) {
        let base = self.teams_path.clone();
        let Some(items) = value.as_array() else {
            self.sink.error(
                "wrong-type",
                &base,
                value.span,
                format!("teams must be an array, found {}", value.kind.describe()),
            );
            return;
        };
        if items.is_empty() {
            self.sink.error_help(
                "no-teams",
                &base,
                value.span,
                "a rule set needs at least one team",
                Some("add e.g. {\"name\": \"red\", \"minPlayers\": 1, \"maxPlayers\": 5}".to_owned()),
            );
        }
        // Every concrete team name so far: (name, teams index, definition name, quantity).
        let mut concrete: Vec<(String, usize, String, u32)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = index(&base, i);
            let Some(obj) = self.object(item, &path, "a team", TEAM_FIELDS) else {
                continue;
            };
            let name = self.require(&obj, "name", "the team").and_then(|v| {
                let name = self.name(v, &obj.path("name"))?;
                let name = name.as_str();
                if name.is_empty() || name.contains(['[', ']', ',', '(', ')', '*', '.']) || name.trim() != name {
                    self.sink.error_help(
                        "bad-name",
                        &obj.path("name"),
                        v.span,
                        format!("team name '{name}' cannot be used in expressions"),
                        Some("team names must be non-empty and must not contain spaces at the ends or any of [ ] , ( ) * .".to_owned()),
                    );
                }
                if let Some(first) = self.team_names.iter().position(|t| t == name) {
                    self.sink.error_help(
                        "duplicate-name",
                        &obj.path("name"),
                        v.span,
                        format!(
                            "team '{name}' is defined more than once; first defined at {}",
                            index(&base, self.team_indices[first])
                        ),
                        Some("rename or remove one".to_owned()),
                    );
                    return None;
                }
                Some((name.to_owned(), v.span))
            });
            let max = self
                .require(&obj, "maxPlayers", "the team")
                .and_then(|v| self.integer(v, &obj.path("maxPlayers"), 1, MAX_MATCH_PLAYERS));
            let min_value = self.require(&obj, "minPlayers", "the team");
            let min = min_value.and_then(|v| self.integer(v, &obj.path("minPlayers"), 0, MAX_MATCH_PLAYERS));
            let quantity = match obj.get("quantity") {
                Some(v) => self.integer(v, &obj.path("quantity"), 1, MAX_MATCH_PLAYERS),
                None => Some(1),
            };
            if let (Some(min), Some(max), Some(v)) = (min, max, min_value)
                && min > max
            {
                self.sink.error_help(
                    "min-above-max",
                    &obj.path("minPlayers"),
                    v.span,
                    format!("minPlayers {min} is greater than maxPlayers {max}"),
                    Some("a team can never be filled; lower minPlayers or raise maxPlayers".to_owned()),
                );
            }
            let Some((name, name_span)) = name else {
                continue;
            };
            let q = quantity.unwrap_or(1);
            let generated =
                TeamDef { name: name.clone(), min_players: 0, max_players: 0, quantity: q }.concrete_names();
            let describe = |index: String, name: &str, q: u32| {
                if q > 1 { format!("{index} ({})", generated_names(name, q)) } else { index }
            };
            for g in generated {
                if let Some((_, other, other_name, other_q)) = concrete.iter().find(|(c, ..)| *c == g) {
                    let other = describe(index(&base, *other), other_name, *other_q);
                    let message = if q > 1 {
                        format!(
                            "team name '{g}', generated by this team ({}), is also {}",
                            generated_names(&name, q),
                            if *other_q > 1 { format!("generated by {other}") } else { format!("the name of {other}") }
                        )
                    } else {
                        format!("team name '{g}' is also generated by {other}")
                    };
                    self.sink.error_help(
                        "duplicate-name",
                        &obj.path("name"),
                        name_span,
                        message,
                        Some("rename one of them".to_owned()),
                    );
                }
                concrete.push((g, i, name.clone(), q));
            }
            self.team_names.push(name.clone());
            self.team_indices.push(i);
            let def = match (min, max, quantity) {
                (Some(min_players), Some(max_players), Some(quantity)) if min_players <= max_players => {
                    Some(TeamDef { name, min_players, max_players, quantity })
                }
                _ => None,
            };
            self.teams.push(def);
        }
    }

    // ---- algorithm ---------------------------------------------------------------------

    fn algorithm(&mut self, value: Option<&Value>, base: &str, root_span: Span, max_players: u32) -> Option<Algorithm> {
        let large = self.is_large;
        let obj = match value {
            Some(v) => Some(self.object(v, base, "the algorithm", ALGORITHM_FIELDS)?),
            None => None,
        };
        let field = |key: &str| obj.as_ref().and_then(|o| o.get(key));
        let p = |key: &str| obj.as_ref().map_or_else(|| join(base, key), |o| o.path(key));
        let strategy = match field("strategy") {
            Some(v) => self.choice(
                v,
                &p("strategy"),
                "strategy",
                &[("exhaustiveSearch", Strategy::ExhaustiveSearch), ("balanced", Strategy::Balanced)],
            )?,
            None if large => {
                let span = value.map_or(root_span, |v| v.span);
                self.sink.error_help(
                    "large-match-needs-balanced",
                    base,
                    span,
                    format!("the teams hold up to {max_players} players, which makes this a large match (over {SMALL_MATCH_MAX_PLAYERS}); large matches need the balanced strategy"),
                    Some("add \"algorithm\": {\"strategy\": \"balanced\", \"balancedAttribute\": \"<a number attribute>\"}".to_owned()),
                );
                return None;
            }
            None => Strategy::ExhaustiveSearch,
        };
        if large && strategy == Strategy::ExhaustiveSearch {
            let v = field("strategy").expect("present");
            self.sink.error_help(
                "large-match-needs-balanced",
                &p("strategy"),
                v.span,
                format!("exhaustiveSearch serves matches of up to {SMALL_MATCH_MAX_PLAYERS} players, but these teams hold up to {max_players}"),
                Some("use \"strategy\": \"balanced\" or make the teams smaller".to_owned()),
            );
        }
        if !large && strategy == Strategy::Balanced {
            let v = field("strategy").expect("present");
            self.sink.warning(
                "balanced-small-match",
                &p("strategy"),
                v.span,
                format!("the balanced strategy is meant for matches of 41 to 200 players; these teams hold up to {max_players}"),
                Some("Rallypoint runs exhaustiveSearch for small matches and then balances teams on balancedAttribute".to_owned()),
            );
        }
        let batching_preference = match field("batchingPreference") {
            Some(v) => {
                let all = [
                    ("random", BatchingPreference::Random),
                    ("sorted", BatchingPreference::Sorted),
                    ("largestPopulation", BatchingPreference::LargestPopulation),
                    ("fastestRegion", BatchingPreference::FastestRegion),
                ];
                let pref = self.choice(v, &p("batchingPreference"), "batching preference", &all)?;
                let fits = match strategy {
                    Strategy::ExhaustiveSearch => {
                        matches!(pref, BatchingPreference::Random | BatchingPreference::Sorted)
                    }
                    Strategy::Balanced => {
                        matches!(pref, BatchingPreference::LargestPopulation | BatchingPreference::FastestRegion)
                    }
                };
                if !fits {
                    let (allowed, name) = match strategy {
                        Strategy::ExhaustiveSearch => ("\"random\" or \"sorted\"", "exhaustiveSearch"),
                        Strategy::Balanced => ("\"largestPopulation\" or \"fastestRegion\"", "balanced"),
                    };
                    self.sink.error_help(
                        "incompatible-fields",
                        &p("batchingPreference"),
                        v.span,
                        format!(
                            "batchingPreference '{}' cannot be used with the {name} strategy",
                            v.as_str().unwrap_or_default()
                        ),
                        Some(format!("with {name}, use {allowed}")),
                    );
                }
                pref
            }
            None => match strategy {
                Strategy::ExhaustiveSearch => BatchingPreference::Random,
                Strategy::Balanced => BatchingPreference::LargestPopulation,
            },
        };
        let mut sort_by_attributes = Vec::new();
        match field("sortByAttributes") {
            Some(v) => {
                if batching_preference != BatchingPreference::Sorted {
                    self.sink.warning(
                        "ignored-field",
                        &p("sortByAttributes"),
                        v.span,
                        "sortByAttributes is only used when batchingPreference is \"sorted\"",
                        Some("add \"batchingPreference\": \"sorted\" or remove sortByAttributes".to_owned()),
                    );
                }
                match v.as_array() {
                    Some(items) => {
                        if items.is_empty() && batching_preference == BatchingPreference::Sorted {
                            self.sink.error(
                                "missing-field",
                                &p("sortByAttributes"),
                                v.span,
                                "sorted batching needs at least one attribute in sortByAttributes",
                            );
                        }
                        for (i, item) in items.iter().enumerate() {
                            let path = index(&p("sortByAttributes"), i);
                            if let Some((slot, ty)) = self.attribute_ref(item, &path) {
                                if !matches!(ty, AttrType::Number | AttrType::String) {
                                    self.sink.error(
                                        "wrong-type",
                                        &path,
                                        item.span,
                                        format!(
                                            "cannot sort by a {} attribute; use a number or string attribute",
                                            ty.name()
                                        ),
                                    );
                                } else if sort_by_attributes.contains(&slot) {
                                    self.sink.warning(
                                        "duplicate-name",
                                        &path,
                                        item.span,
                                        "this attribute is already a sort key",
                                        None,
                                    );
                                } else {
                                    sort_by_attributes.push(slot);
                                }
                            }
                        }
                    }
                    None => self.sink.error(
                        "wrong-type",
                        &p("sortByAttributes"),
                        v.span,
                        format!("sortByAttributes must be an array of attribute names, found {}", v.kind.describe()),
                    ),
                }
            }
            None if batching_preference == BatchingPreference::Sorted => {
                let span = field("batchingPreference").map_or(root_span, |v| v.span);
                self.sink.error_help(
                    "missing-field",
                    base,
                    span,
                    "batchingPreference \"sorted\" needs sortByAttributes",
                    Some("add \"sortByAttributes\": [\"<attribute>\", ...] to the algorithm".to_owned()),
                );
            }
            None => {}
        }
        let expansion_age_selection = match field("expansionAgeSelection") {
            Some(v) => self.choice(
                v,
                &p("expansionAgeSelection"),
                "expansion age selection",
                &[("newest", ExpansionAgeSelection::Newest), ("oldest", ExpansionAgeSelection::Oldest)],
            )?,
            None => ExpansionAgeSelection::Newest,
        };
        let backfill_priority = match field("backfillPriority") {
            Some(v) => self.choice(
                v,
                &p("backfillPriority"),
                "backfill priority",
                &[
                    ("normal", BackfillPriority::Normal),
                    ("high", BackfillPriority::High),
                    ("low", BackfillPriority::Low),
                ],
            )?,
            None => BackfillPriority::Normal,
        };
        let balanced_attribute = match field("balancedAttribute") {
            Some(v) => {
                let (slot, ty) = self.attribute_ref(v, &p("balancedAttribute"))?;
                if ty != AttrType::Number {
                    let numbers: Vec<&str> =
                        self.attributes.iter().filter(|a| a.ty == AttrType::Number).map(|a| a.name.as_str()).collect();
                    let help = match numbers.as_slice() {
                        [] => {
                            "declare a number attribute to balance on, e.g. {\"name\": \"skill\", \"type\": \"number\"}"
                                .to_owned()
                        }
                        [one] => format!("use the number attribute '{one}'"),
                        many => format!("use one of the number attributes: {}", many.join(", ")),
                    };
                    self.sink.error_help(
                        "wrong-type",
                        &p("balancedAttribute"),
                        v.span,
                        format!("balancedAttribute must name a number attribute; this one is a {}", ty.name()),
                        Some(help),
                    );
                }
                if strategy == Strategy::ExhaustiveSearch {
                    self.sink.warning(
                        "balanced-attribute-small-match",
                        &p("balancedAttribute"),
                        v.span,
                        "FlexMatch uses balancedAttribute only with the balanced strategy",
                        Some("Rallypoint also uses it with exhaustiveSearch, to balance teams once a match's players are chosen".to_owned()),
                    );
                }
                Some(slot)
            }
            None if strategy == Strategy::Balanced => {
                let span = field("strategy").map_or(root_span, |v| v.span);
                self.sink.error_help(
                    "missing-field",
                    base,
                    span,
                    "the balanced strategy needs balancedAttribute",
                    Some("add \"balancedAttribute\": \"<a number attribute>\" to the algorithm".to_owned()),
                );
                None
            }
            None => None,
        };
        Some(Algorithm {
            strategy,
            batching_preference,
            sort_by_attributes,
            expansion_age_selection,
            backfill_priority,
            balanced_attribute,
        })
    }

    // ---- rules -------------------------------------------------------------------------

    fn rules(&mut self, value: &Value) {
        let base = self.rules_path.clone();
        let Some(items) = value.as_array() else {
            self.sink.error(
                "wrong-type",
                &base,
                value.span,
                format!("rules must be an array, found {}", value.kind.describe()),
            );
            return;
        };
        self.rule_names = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| Some((near_miss_member(item, "name")?.as_str()?.to_owned(), i)))
            .collect();
        let (attributes, teams) = self.scope_parts();
        let scope = Scope { attributes: &attributes, teams: &teams };
        for (i, item) in items.iter().enumerate() {
            let path = index(&base, i);
            let Kind::Object(_) = &item.kind else {
                self.sink.error(
                    "wrong-type",
                    &path,
                    item.span,
                    format!("a rule must be an object, found {}", item.kind.describe()),
                );
                continue;
            };
            let type_name = near_miss_member(item, "type")
                .and_then(Value::as_str)
                .and_then(|t| RULE_TYPES.iter().find(|k| **k == t).copied());
            let mut known: Vec<&str> = vec!["name", "description", "type"];
            match type_name {
                Some(t) => known.extend_from_slice(fields_for(t)),
                // Unknown type: accept every rule field so only the type itself is reported.
                None => RULE_TYPES.iter().for_each(|t| known.extend_from_slice(fields_for(t))),
            }
            known.dedup();
            let Some(obj) = self.object_rule(item, &path, type_name, &known) else {
                continue;
            };
            let name = self.require(&obj, "name", "the rule").and_then(|v| {
                let name = self.name(v, &obj.path("name"))?;
                if name.is_empty() {
                    self.sink.error("empty-name", &obj.path("name"), v.span, "rule names must not be empty");
                }
                if let Some(first) = self.rules.iter().find(|r| r.name == name) {
                    self.sink.error_help(
                        "duplicate-name",
                        &obj.path("name"),
                        v.span,
                        format!(
                            "rule '{name}' is defined more than once; first defined at {}",
                            index(&base, first.index)
                        ),
                        Some("rename or remove one".to_owned()),
                    );
                    return None;
                }
                Some(name)
            });
            let description =
                obj.get("description").and_then(|v| self.string(v, &obj.path("description"))).map(str::to_owned);
            let kind = match self.require(&obj, "type", "the rule") {
                Some(v) => match type_name {
                    Some(t) => self.rule_kind(t, &obj, &scope, i),
                    None => {
                        if let Some(s) = self.string(v, &obj.path("type")) {
                            let help = did_you_mean(s, RULE_TYPES.iter().copied())
                                .or_else(|| Some(format!("rule types are: {}", RULE_TYPES.join(", "))));
                            self.sink.error_help(
                                "unknown-rule-type",
                                &obj.path("type"),
                                v.span,
                                format!("unknown rule type '{s}'"),
                                help,
                            );
                        }
                        None
                    }
                },
                None => None,
            };
            if let (Some(kind), true) = (&kind, self.is_large) {
                self.large_match_rule(kind, &obj);
            }
            if let Some(name) = name {
                let rule = kind.map(|kind| Rule { name: name.clone(), description, kind, is_compound_operand: false });
                self.rules.push(RuleInfo { name, index: i, type_name, rule });
            }
        }
    }

    /// Like [`Self::object`], but names the rule type in unknown-field messages.
    fn object_rule<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        type_name: Option<&str>,
        known: &[&str],
    ) -> Option<Obj<'v>> {
        let Kind::Object(members) = &value.kind else {
            return None;
        };
        let mut obj = Obj { members, path: path.to_owned(), span: value.span, aliases: Vec::new(), has_unknown: false };
        for (i, member) in members.iter().enumerate() {
            let member_path = join(path, &member.key);
            if members[..i].iter().any(|m| m.key == member.key) {
                self.sink.error(
                    "duplicate-field",
                    &member_path,
                    member.key_span,
                    format!("field '{}' appears more than once in this rule", member.key),
                );
            } else if !known.contains(&member.key.as_str()) {
                let owners: Vec<&str> =
                    RULE_TYPES.iter().copied().filter(|t| fields_for(t).contains(&member.key.as_str())).collect();
                match (type_name, owners.is_empty()) {
                    (Some(t), false) => {
                        let belongs = if owners.len() <= 2 {
                            format!(" (it belongs to {} rules)", owners.join(" and "))
                        } else {
                            String::new()
                        };
                        self.sink.error_help(
                            "unknown-field",
                            &member_path,
                            member.key_span,
                            format!("'{}' is not a field of a {t} rule{belongs}", member.key),
                            Some(format!("{t} rules take: {}", fields_for(t).join(", "))),
                        );
                        obj.has_unknown = true;
                    }
                    _ => {
                        self.sink.error_help(
                            "unknown-field",
                            &member_path,
                            member.key_span,
                            format!("unknown field '{}' in this rule", member.key),
                            did_you_mean(&member.key, known.iter().copied()),
                        );
                        Self::alias_near_miss(&mut obj, i, known);
                    }
                }
            }
        }
        Some(obj)
    }

    fn number_aggregation(&mut self, obj: &Obj<'_>) -> Option<NumberAggregation> {
        match obj.get("partyAggregation") {
            Some(v) => self.choice(
                v,
                &obj.path("partyAggregation"),
                "party aggregation for this rule",
                &[("min", NumberAggregation::Min), ("max", NumberAggregation::Max), ("avg", NumberAggregation::Avg)],
            ),
            None => Some(NumberAggregation::Avg),
        }
    }

    fn rule_kind(&mut self, type_name: &str, obj: &Obj<'_>, scope: &Scope<'_>, rule: usize) -> Option<RuleKind> {
        match type_name {
            "batchDistance" => self.batch_distance(obj),
            "comparison" => self.comparison(obj, scope),
            "distance" => self.distance(obj, scope),
            "collection" => self.collection(obj, scope),
            "compound" => self.compound(obj, rule),
            "latency" => self.latency(obj),
            "absoluteSort" => self.sort_rule(obj, true).map(RuleKind::AbsoluteSort),
            "distanceSort" => self.sort_rule(obj, false).map(RuleKind::DistanceSort),
            "plugin" => self.plugin_rule(obj).map(RuleKind::Plugin),
            _ => None,
        }
    }

    fn batch_distance(&mut self, obj: &Obj<'_>) -> Option<RuleKind> {
        let attr_value = self.require(obj, "batchAttribute", "a batchDistance rule");
        let attr = attr_value.and_then(|v| self.attribute_ref(v, &obj.path("batchAttribute")));
        let party_aggregation = self.number_aggregation(obj);
        let max_distance = obj.get("maxDistance").map(|v| (v, self.non_negative(v, &obj.path("maxDistance"))));
        let (slot, ty) = attr?;
        let max_distance = match (ty, max_distance) {
            (AttrType::Number, Some((_, d))) => Some(d?),
            (AttrType::Number, None) => {
                self.sink.error_help(
                    "missing-field",
                    &obj.path,
                    obj.span,
                    "a batchDistance rule on a number attribute needs maxDistance",
                    Some("add \"maxDistance\": <the largest allowed spread>".to_owned()),
                );
                return None;
            }
            (AttrType::String, Some((v, _))) => {
                self.sink.error_help(
                    "incompatible-fields",
                    &obj.path("maxDistance"),
                    v.span,
                    "maxDistance applies only to number attributes; a string batchDistance groups tickets with equal values",
                    Some("remove maxDistance".to_owned()),
                );
                return None;
            }
            (AttrType::String, None) => None,
            (other, _) => {
                let v = attr_value.expect("present");
                self.sink.error(
                    "wrong-type",
                    &obj.path("batchAttribute"),
                    v.span,
                    format!("batchDistance needs a number or string attribute; this one is a {}", other.name()),
                );
                return None;
            }
        };
        Some(RuleKind::BatchDistance { attribute: slot, max_distance, party_aggregation: party_aggregation? })
    }

    /// A `plugin` rule (a Rallypoint extension; rules-plugins/ABI.md).
    fn plugin_rule(&mut self, obj: &Obj<'_>) -> Option<PluginRule> {
        let plugin = self.require(obj, "plugin", "a plugin rule").and_then(|v| {
            let s = self.string(v, &obj.path("plugin"))?;
            if s.trim().is_empty() {
                self.sink.error_help(
                    "empty-name",
                    &obj.path("plugin"),
                    v.span,
                    "the plugin name must not be empty",
                    Some("write a plugin name (\"role_queue\") or a path to a .wasm file".to_owned()),
                );
                return None;
            }
            Some((s.to_owned(), v.span))
        });
        let attributes = self.require(obj, "attributes", "a plugin rule").and_then(|v| {
            let path = obj.path("attributes");
            let Some(items) = v.as_array() else {
                self.sink.error_help(
                    "wrong-type",
                    &path,
                    v.span,
                    format!("attributes must be an array of attribute names, found {}", v.kind.describe()),
                    Some("write e.g. \"attributes\": [\"skill\"] (an empty list is allowed)".to_owned()),
                );
                return None;
            };
            let mut slots = Vec::new();
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                let item_path = index(&path, i);
                match self.attribute_ref(item, &item_path) {
                    Some((slot, _)) if slots.contains(&slot) => {
                        self.sink.error_help(
                            "duplicate-name",
                            &item_path,
                            item.span,
                            format!("attribute '{}' is listed twice", self.attributes[slot].name),
                            Some("list each attribute once".to_owned()),
                        );
                        ok = false;
                    }
                    Some((slot, _)) => slots.push(slot),
                    None => ok = false,
                }
            }
            ok.then_some(slots)
        });
        let parameters = match obj.get("parameters") {
            None => Some(Vec::new()),
            Some(v) => {
                let path = obj.path("parameters");
                match v.as_object() {
                    None => {
                        self.sink.error_help(
                            "wrong-type",
                            &path,
                            v.span,
                            format!("parameters must be an object of names to numbers, found {}", v.kind.describe()),
                            Some("write e.g. \"parameters\": { \"maxGap\": 100 }".to_owned()),
                        );
                        None
                    }
                    Some(members) => {
                        let mut out: Vec<(String, f64)> = Vec::new();
                        let mut ok = true;
                        for m in members {
                            let member_path = join(&path, &m.key);
                            if m.key.is_empty() {
                                self.sink.error(
                                    "empty-name",
                                    &member_path,
                                    m.key_span,
                                    "parameter names must not be empty",
                                );
                                ok = false;
                            } else if out.iter().any(|(k, _)| *k == m.key) {
                                self.sink.error(
                                    "duplicate-field",
                                    &member_path,
                                    m.key_span,
                                    format!("parameter '{}' appears more than once", m.key),
                                );
                                ok = false;
                            } else if let Some(n) = self.number(&m.value, &member_path) {
                                out.push((m.key.clone(), n));
                            } else {
                                ok = false;
                            }
                        }
                        if out.len() > MAX_PLUGIN_PARAMETERS {
                            self.sink.error(
                                "too-many",
                                &path,
                                v.span,
                                format!(
                                    "a plugin rule takes at most {MAX_PLUGIN_PARAMETERS} parameters, found {}",
                                    out.len()
                                ),
                            );
                            ok = false;
                        }
                        ok.then_some(out)
                    }
                }
            }
        };
        let on_error = match obj.get("onError") {
            None => Some(OnError::Reject),
            Some(v) => self.choice(
                v,
                &obj.path("onError"),
                "onError value",
                &[("reject", OnError::Reject), ("skip", OnError::Skip)],
            ),
        };
        let (plugin, plugin_span) = plugin?;
        Some(PluginRule { plugin, plugin_span, attributes: attributes?, parameters: parameters?, on_error: on_error? })
    }

    /// `measurements`: a property expression, written as a string or a one-element array.
    fn measurement(&mut self, obj: &Obj<'_>, scope: &Scope<'_>, what: &str) -> Option<PropertyExpr> {
        let value = self.require(obj, "measurements", what)?;
        let path = obj.path("measurements");
        match &value.kind {
            Kind::String(_) => self.property_expr(value, &path, scope),
            Kind::Array(items) if items.len() == 1 && items[0].as_str().is_some() => {
                self.property_expr(&items[0], &index(&path, 0), scope)
            }
            Kind::Array(items) if items.is_empty() => {
                self.sink.error(
                    "wrong-type",
                    &path,
                    value.span,
                    "measurements is empty; expected one property expression",
                );
                None
            }
            Kind::Array(items) if items.len() > 1 => {
                self.sink.error_help(
                    "wrong-type",
                    &index(&path, 1),
                    items[1].span,
                    format!("measurements holds {} expressions; FlexMatch takes exactly one", items.len()),
                    Some("split this rule into one rule per measurement".to_owned()),
                );
                None
            }
            other => {
                self.sink.error(
                    "wrong-type",
                    &path,
                    value.span,
                    format!("measurements must be a property expression string, found {}", other.describe()),
                );
                None
            }
        }
    }

    fn property_expr(&mut self, value: &Value, path: &str, scope: &Scope<'_>) -> Option<PropertyExpr> {
        let text = self.string(value, path)?;
        let parsed = match expr::parse(text) {
            Ok(e) => e,
            Err(e) => {
                self.expr_error(value, path, &e);
                return None;
            }
        };
        self.expr_warnings(value, path, &parsed);
        match expr::check(&parsed, scope) {
            Ok(ty) => Some(PropertyExpr { text: text.to_owned(), expr: parsed, ty }),
            Err(errors) => {
                for e in &errors {
                    self.expr_error(value, path, e);
                }
                None
            }
        }
    }

    fn expr_error(&mut self, value: &Value, path: &str, e: &expr::ExprError) {
        let span = self.string_inner_span(value, e.start, e.end);
        self.sink.push(Severity::Error, e.code, path, span, e.message.clone(), e.help.clone());
    }

    /// Spellings AWS's own documentation uses that we accept but discourage.
    fn expr_warnings(&mut self, value: &Value, path: &str, parsed: &expr::Expr) {
        let p = parsed.path();
        if p.singular_team {
            let span = self.string_inner_span(value, p.keyword_span.start as usize, p.keyword_span.end as usize);
            self.sink.warning(
                "expr-spelling",
                path,
                span,
                "'team[...]' is accepted, but the documented selector is 'teams[...]'",
                Some("write teams[...]".to_owned()),
            );
        }
        if let expr::Selection::PlayerId { span, lowercase: true } = &p.selection {
            let span = self.string_inner_span(value, span.start as usize, span.end as usize);
            self.sink.warning(
                "expr-spelling",
                path,
                span,
                "'playerid' is the 2019 spelling; the current one is 'playerId'",
                Some("write players[playerId]".to_owned()),
            );
        }
    }

    /// `referenceValue`: a number, a string literal, a list of strings or an expression.
    fn reference(&mut self, value: &Value, path: &str, scope: &Scope<'_>, wants_number: bool) -> Option<Reference> {
        match &value.kind {
            Kind::Number(n) => Some(Reference::Number(*n)),
            Kind::String(s) => {
                if looks_like_expression(s) {
                    self.property_expr(value, path, scope).map(Reference::Expr)
                } else if wants_number {
                    match s.trim().parse::<f64>() {
                        Ok(n) if n.is_finite() => Some(Reference::Number(n)),
                        _ => Some(Reference::String(s.clone())),
                    }
                } else {
                    Some(Reference::String(s.clone()))
                }
            }
            Kind::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.string(item, &index(path, i)) {
                        out.push(s.to_owned());
                    }
                }
                (out.len() == items.len()).then_some(Reference::StringList(out))
            }
            other => {
                self.sink.error(
                    "wrong-type",
                    path,
                    value.span,
                    format!(
                        "referenceValue must be a number, a string or a property expression, found {}",
                        other.describe()
                    ),
                );
                None
            }
        }
    }

    fn comparison(&mut self, obj: &Obj<'_>, scope: &Scope<'_>) -> Option<RuleKind> {
        let measurement = self.measurement(obj, scope, "a comparison rule");
        let op_value = self.require(obj, "operation", "a comparison rule");
        let operation = op_value.and_then(|v| {
            self.choice(
                v,
                &obj.path("operation"),
                "comparison operation",
                &[
                    ("<", CmpOp::Lt),
                    ("<=", CmpOp::Le),
                    ("=", CmpOp::Eq),
                    ("!=", CmpOp::Ne),
                    (">", CmpOp::Gt),
                    (">=", CmpOp::Ge),
                ],
            )
        });
        let party_aggregation = self.number_aggregation(obj);
        let measurement = measurement?;
        let leaf = leaf_of(&measurement.ty).clone();
        let mpath = obj.path("measurements");
        let mspan = obj.get("measurements").map_or(obj.span, |v| v.span);
        if !matches!(leaf, Ty::Number | Ty::String) {
            self.sink.error_help(
                "expr-type",
                &mpath,
                mspan,
                format!("a comparison measures numbers or strings, but this expression gives {}", measurement.ty),
                Some(
                    "select an attribute, e.g. teams[*].players.attributes[skill], or aggregate with count()"
                        .to_owned(),
                ),
            );
            return None;
        }
        let reference = match obj.get("referenceValue") {
            Some(v) => Some((v, self.reference(v, &obj.path("referenceValue"), scope, leaf == Ty::Number)?)),
            None => None,
        };
        let operation = operation?;
        match &reference {
            None => {
                if !matches!(operation, CmpOp::Eq | CmpOp::Ne) {
                    self.sink.error_help(
                        "incompatible-fields",
                        &obj.path("operation"),
                        op_value.expect("present").span,
                        "without a referenceValue a comparison can only use '=' (all players equal) or '!=' (all players different)",
                        Some("add a referenceValue or use '=' / '!='".to_owned()),
                    );
                    return None;
                }
            }
            Some((v, r)) => {
                let rpath = obj.path("referenceValue");
                let ref_leaf = match r {
                    Reference::Number(_) => Ty::Number,
                    Reference::String(_) => Ty::String,
                    Reference::StringList(_) => {
                        self.sink.error(
                            "wrong-type",
                            &rpath,
                            v.span,
                            "a comparison's referenceValue must be a single value, not a list",
                        );
                        return None;
                    }
                    Reference::Expr(e) => {
                        if matches!(e.ty, Ty::List(_)) {
                            self.sink.error_help(
                                "expr-type",
                                &rpath,
                                v.span,
                                format!("a comparison's referenceValue must be a single value, but this expression gives {}", e.ty),
                                Some("aggregate it, e.g. max(...), min(...) or avg(...)".to_owned()),
                            );
                            return None;
                        }
                        e.ty.clone()
                    }
                };
                if ref_leaf != leaf {
                    self.sink.error(
                        "expr-type",
                        &rpath,
                        v.span,
                        format!("the measurement gives {} values but the referenceValue is a {ref_leaf}", leaf),
                    );
                    return None;
                }
                if leaf == Ty::String && !matches!(operation, CmpOp::Eq | CmpOp::Ne) {
                    let op = op_value.expect("present");
                    self.sink.error_help(
                        "incompatible-fields",
                        &obj.path("operation"),
                        op.span,
                        format!(
                            "'{}' compares numbers, but this rule compares strings",
                            op.as_str().unwrap_or_default()
                        ),
                        Some("strings can only be compared with = or !=".to_owned()),
                    );
                    return None;
                }
            }
        }
        Some(RuleKind::Comparison {
            measurement,
            reference: reference.map(|(_, r)| r),
            operation,
            party_aggregation: party_aggregation?,
        })
    }

    fn distance_bounds(&mut self, obj: &Obj<'_>, lo: &str, hi: &str, what: &str) -> Option<(Option<f64>, Option<f64>)> {
        let min = obj.get(lo).map(|v| self.non_negative(v, &obj.path(lo)));
        let max = obj.get(hi).map(|v| self.non_negative(v, &obj.path(hi)));
        if min.is_none() && max.is_none() {
            if obj.has_unknown {
                // A misplaced field (maxCount on a distance rule) is already reported and
                // is most likely the bound meant; saying the bound is missing would repeat it.
                return None;
            }
            self.sink.error_help(
                "missing-field",
                &obj.path,
                obj.span,
                format!("{what} needs {lo}, {hi} or both"),
                None,
            );
            return None;
        }
        let min = match min {
            Some(m) => Some(m?),
            None => None,
        };
        let max = match max {
            Some(m) => Some(m?),
            None => None,
        };
        if let (Some(a), Some(b)) = (min, max)
            && a > b
        {
            let v = obj.get(lo).expect("present");
            self.sink.error_help(
                "min-above-max",
                &obj.path(lo),
                v.span,
                format!("{lo} ({a}) is greater than {hi} ({b})"),
                Some("the rule could never pass".to_owned()),
            );
            return None;
        }
        Some((min, max))
    }

    fn distance(&mut self, obj: &Obj<'_>, scope: &Scope<'_>) -> Option<RuleKind> {
        let measurement = self.measurement(obj, scope, "a distance rule");
        let bounds = self.distance_bounds(obj, "minDistance", "maxDistance", "a distance rule");
        let party_aggregation = self.number_aggregation(obj);
        let ref_value = self.require(obj, "referenceValue", "a distance rule");
        let reference = ref_value.and_then(|v| self.reference(v, &obj.path("referenceValue"), scope, true));
        let measurement = measurement?;
        if *leaf_of(&measurement.ty) != Ty::Number {
            let v = obj.get("measurements").expect("present");
            self.sink.error(
                "expr-type",
                &obj.path("measurements"),
                v.span,
                format!("a distance rule measures numbers, but this expression gives {}", measurement.ty),
            );
            return None;
        }
        let reference = reference?;
        let v = ref_value.expect("present");
        match &reference {
            Reference::Number(_) => {}
            Reference::Expr(e) if e.ty == Ty::Number => {}
            Reference::Expr(e) => {
                self.sink.error_help(
                    "expr-type",
                    &obj.path("referenceValue"),
                    v.span,
                    format!("a distance rule's referenceValue must be one number, but this expression gives {}", e.ty),
                    matches!(e.ty, Ty::List(_)).then(|| "aggregate it, e.g. avg(flatten(...))".to_owned()),
                );
                return None;
            }
            _ => {
                self.sink.error(
                    "wrong-type",
                    &obj.path("referenceValue"),
                    v.span,
                    "a distance rule's referenceValue must be a number or an expression giving a number",
                );
                return None;
            }
        }
        let (min_distance, max_distance) = bounds?;
        Some(RuleKind::Distance {
            measurement,
            reference,
            min_distance,
            max_distance,
            party_aggregation: party_aggregation?,
        })
    }

    fn collection(&mut self, obj: &Obj<'_>, scope: &Scope<'_>) -> Option<RuleKind> {
        let measurement = self.measurement(obj, scope, "a collection rule");
        let op_value = self.require(obj, "operation", "a collection rule");
        let operation = op_value.and_then(|v| {
            self.choice(
                v,
                &obj.path("operation"),
                "collection operation",
                &[
                    ("intersection", CollectionOp::Intersection),
                    ("contains", CollectionOp::Contains),
                    ("reference_intersection_count", CollectionOp::ReferenceIntersectionCount),
                ],
            )
        });
        let bounds = self.count_bounds(obj);
        let party_aggregation = match obj.get("partyAggregation") {
            Some(v) => self.choice(
                v,
                &obj.path("partyAggregation"),
                "party aggregation for a collection rule",
                &[("union", ListAggregation::Union), ("intersection", ListAggregation::Intersection)],
            ),
            None => Some(ListAggregation::Union),
        };
        let ref_value = obj.get("referenceValue");
        let reference = match ref_value {
            Some(v) => Some(self.reference(v, &obj.path("referenceValue"), scope, false)?),
            None => None,
        };
        let measurement = measurement?;
        let operation = operation?;
        let per_player_lists = Ty::List(Box::new(Ty::List(Box::new(Ty::String))));
        if measurement.ty != per_player_lists {
            let v = obj.get("measurements").expect("present");
            let attribute = match &measurement.expr.path().selection {
                expr::Selection::Attribute(name) => self.attributes.iter().find(|a| a.name == name.text),
                _ => None,
            };
            let help = match attribute {
                Some(a) if a.ty != AttrType::StringList => format!(
                    "'{}' is a {} attribute; collection rules need a string_list attribute (declare \"type\": \"string_list\")",
                    a.name,
                    a.ty.name()
                ),
                Some(a) => format!("use flatten(teams[*].players.attributes[{}])", a.name),
                None => "use flatten(teams[*].players.attributes[<string_list attribute>])".to_owned(),
            };
            self.sink.error_help(
                "expr-type",
                &obj.path("measurements"),
                v.span,
                format!(
                    "a collection rule measures a list of string lists (one per player), but this expression gives {}",
                    measurement.ty
                ),
                Some(help),
            );
            return None;
        }
        let rpath = obj.path("referenceValue");
        match (operation, &reference) {
            (CollectionOp::Intersection, Some(_)) => {
                self.sink.warning(
                    "ignored-field",
                    &rpath,
                    ref_value.expect("present").span,
                    "the intersection operation does not use referenceValue",
                    None,
                );
            }
            (CollectionOp::Intersection, None) => {}
            (CollectionOp::Contains, Some(Reference::String(_))) => {}
            (CollectionOp::Contains, Some(Reference::Expr(e))) if e.ty == Ty::String => {}
            (CollectionOp::Contains, Some(_)) => {
                self.sink.error(
                    "wrong-type",
                    &rpath,
                    ref_value.expect("present").span,
                    "the contains operation needs a single string referenceValue, e.g. \"medic\"",
                );
                return None;
            }
            (CollectionOp::ReferenceIntersectionCount, Some(Reference::StringList(_))) => {}
            (CollectionOp::ReferenceIntersectionCount, Some(Reference::Expr(e)))
                if e.ty == Ty::List(Box::new(Ty::String)) => {}
            (CollectionOp::ReferenceIntersectionCount, Some(other)) => {
                let found = match other {
                    Reference::Expr(e) => e.ty.to_string(),
                    Reference::Number(_) => "a number".to_owned(),
                    _ => "a single string".to_owned(),
                };
                self.sink.error_help(
                    "expr-type",
                    &rpath,
                    ref_value.expect("present").span,
                    format!("reference_intersection_count needs a list of strings as referenceValue, found {found}"),
                    Some(
                        "use a JSON array of strings or e.g. set_intersection(flatten(teams[*].players.attributes[x]))"
                            .to_owned(),
                    ),
                );
                return None;
            }
            (op, None) if op != CollectionOp::Intersection => {
                let name = if op == CollectionOp::Contains { "contains" } else { "reference_intersection_count" };
                self.sink.error(
                    "missing-field",
                    &obj.path,
                    obj.span,
                    format!("the {name} operation needs a referenceValue"),
                );
                return None;
            }
            _ => {}
        }
        let (min_count, max_count) = bounds?;
        Some(RuleKind::Collection {
            measurement,
            operation,
            reference,
            min_count,
            max_count,
            party_aggregation: party_aggregation?,
        })
    }

    fn count_bounds(&mut self, obj: &Obj<'_>) -> Option<(Option<f64>, Option<f64>)> {
        let (min, max) = self.distance_bounds(obj, "minCount", "maxCount", "a collection rule")?;
        for (key, v) in [("minCount", min), ("maxCount", max)] {
            if let Some(n) = v
                && n.fract() != 0.0
            {
                let span = obj.get(key).expect("present").span;
                self.sink.error(
                    "wrong-type",
                    &obj.path(key),
                    span,
                    format!("{key} counts values and must be a whole number, found {n}"),
                );
                return None;
            }
        }
        Some((min, max))
    }

    fn latency(&mut self, obj: &Obj<'_>) -> Option<RuleKind> {
        let max_latency = self.require(obj, "maxLatency", "a latency rule").and_then(|v| {
            let n = self.number(v, &obj.path("maxLatency"))?;
            if n <= 0.0 {
                self.sink.error(
                    "out-of-range",
                    &obj.path("maxLatency"),
                    v.span,
                    format!("maxLatency must be positive, found {n}"),
                );
                return None;
            }
            Some(n)
        });
        let max_distance = obj.get("maxDistance").map(|v| self.non_negative(v, &obj.path("maxDistance")));
        let distance_reference = obj.get("distanceReference").map(|v| {
            self.choice(
                v,
                &obj.path("distanceReference"),
                "distance reference",
                &[("min", DistanceReference::Min), ("avg", DistanceReference::Avg)],
            )
        });
        let party_aggregation = self.number_aggregation(obj);
        match (&max_distance, &distance_reference) {
            (Some(_), None) => {
                self.sink.error_help(
                    "missing-field",
                    &obj.path("maxDistance"),
                    obj.get("maxDistance").expect("present").span,
                    "maxDistance needs a distanceReference to measure from",
                    Some("add \"distanceReference\": \"min\" (or \"avg\")".to_owned()),
                );
                return None;
            }
            (None, Some(_)) => {
                self.sink.warning(
                    "ignored-field",
                    &obj.path("distanceReference"),
                    obj.get("distanceReference").expect("present").span,
                    "distanceReference is only used together with maxDistance",
                    None,
                );
            }
            _ => {}
        }
        let max_distance = match max_distance {
            Some(d) => Some(d?),
            None => None,
        };
        let distance_reference = match distance_reference {
            Some(d) => Some(d?),
            None => None,
        };
        Some(RuleKind::Latency {
            max_latency: max_latency?,
            max_distance,
            distance_reference,
            party_aggregation: party_aggregation?,
        })
    }

    fn sort_rule(&mut self, obj: &Obj<'_>, absolute: bool) -> Option<SortRule> {
        let what = if absolute { "an absoluteSort rule" } else { "a distanceSort rule" };
        let direction = self.require(obj, "sortDirection", what).and_then(|v| {
            self.choice(
                v,
                &obj.path("sortDirection"),
                "sort direction",
                &[("ascending", SortDirection::Ascending), ("descending", SortDirection::Descending)],
            )
        });
        let attr_value = self.require(obj, "sortAttribute", what);
        let attr = attr_value.and_then(|v| self.attribute_ref(v, &obj.path("sortAttribute")));
        let map_key_value = obj.get("mapKey");
        let map_key = map_key_value.map(|v| {
            self.choice(
                v,
                &obj.path("mapKey"),
                "map key",
                &[("minValue", MapKey::MinValue), ("maxValue", MapKey::MaxValue)],
            )
        });
        let party_aggregation = self.number_aggregation(obj);
        let (slot, ty) = attr?;
        let attr_span = attr_value.expect("present").span;
        let allowed = match ty {
            AttrType::Number | AttrType::StringNumberMap => true,
            AttrType::String => absolute,
            AttrType::StringList => false,
        };
        if !allowed {
            let takes = if absolute { "number, string or string_number_map" } else { "number or string_number_map" };
            self.sink.error(
                "wrong-type",
                &obj.path("sortAttribute"),
                attr_span,
                format!("{what} sorts by a {takes} attribute; this one is a {}", ty.name()),
            );
            return None;
        }
        let map_key = match (ty, map_key) {
            (AttrType::StringNumberMap, Some(k)) => Some(k?),
            (AttrType::StringNumberMap, None) => {
                self.sink.error_help(
                    "missing-field",
                    &obj.path,
                    obj.span,
                    "sorting by a string_number_map attribute needs mapKey",
                    Some("add \"mapKey\": \"maxValue\" (the anchor's highest-valued key) or \"minValue\"".to_owned()),
                );
                return None;
            }
            (_, Some(_)) => {
                self.sink.warning(
                    "ignored-field",
                    &obj.path("mapKey"),
                    map_key_value.expect("present").span,
                    "mapKey is only used with string_number_map attributes",
                    None,
                );
                None
            }
            (_, None) => None,
        };
        Some(SortRule { direction: direction?, attribute: slot, map_key, party_aggregation: party_aggregation? })
    }

    /// A compound rule; `rule` is its position in `rules`.
    fn compound(&mut self, obj: &Obj<'_>, rule: usize) -> Option<RuleKind> {
        let value = self.require(obj, "statement", "a compound rule")?;
        let path = obj.path("statement");
        let text = self.string(value, &path)?.to_owned();
        if obj.get("partyAggregation").is_some() {
            // Reported as an unknown field already; nothing more to say.
        }
        let mut parser = StatementParser { src: &text, pos: 0, depth: 0 };
        let parsed = parser.statement().and_then(|s| {
            parser.skip_ws();
            if parser.pos < text.len() {
                Err((parser.pos, text.len(), "unexpected text after the statement".to_owned(), None))
            } else {
                Ok(s)
            }
        });
        match parsed {
            Err((start, end, message, help)) => {
                let span = self.string_inner_span(value, start, end);
                self.sink.push(Severity::Error, "statement-syntax", &path, span, message, help);
                None
            }
            Ok(raw) => {
                let statement = self.resolve_statement(&raw, value, &path, rule)?;
                Some(RuleKind::Compound { text, statement })
            }
        }
    }

    fn resolve_statement(
        &mut self,
        raw: &RawStatement<'_>,
        value: &Value,
        path: &str,
        rule: usize,
    ) -> Option<Statement> {
        match raw {
            RawStatement::Name { name, start, end } => {
                let span = self.string_inner_span(value, *start, *end);
                let Some(i) = self.rules.iter().position(|r| r.name == *name) else {
                    let later = self.rule_names.iter().find(|(n, _)| n == name).map(|(_, at)| *at);
                    let (message, help) = match later {
                        Some(at) if at == rule => (
                            format!("'{name}' is this compound rule itself; a statement cannot use its own rule"),
                            Some("combine other rules".to_owned()),
                        ),
                        Some(at) if at > rule => {
                            let at = index(&self.rules_path, at);
                            (
                                format!(
                                    "'{name}' is defined after this compound rule (at {at}); operands must be defined earlier"
                                ),
                                Some(format!("move {at} above this rule")),
                            )
                        }
                        _ => (
                            format!("no rule named '{name}' is defined before this compound rule"),
                            did_you_mean(name, self.rules.iter().map(|r| r.name.as_str())).or_else(|| {
                                Some("compound operands must be rules defined earlier in the rule set".to_owned())
                            }),
                        ),
                    };
                    self.sink.error_help("unknown-rule", path, span, message, help);
                    return None;
                };
                match self.rules[i].type_name {
                    Some("batchDistance") => {
                        self.sink.error_help(
                            "bad-operand",
                            path,
                            span,
                            format!("'{name}' is a batchDistance rule, which cannot be part of a compound rule"),
                            Some("batchDistance rules always apply; keep it outside the statement".to_owned()),
                        );
                        None
                    }
                    Some("plugin") => {
                        self.sink.error_help(
                            "bad-operand",
                            path,
                            span,
                            format!("'{name}' is a plugin rule, which cannot be part of a compound rule"),
                            Some(
                                "plugin rules always apply on their own; combine conditions inside the plugin"
                                    .to_owned(),
                            ),
                        );
                        None
                    }
                    Some(t @ ("absoluteSort" | "distanceSort")) => {
                        self.sink.error(
                            "bad-operand",
                            path,
                            span,
                            format!("'{name}' is a {t} rule; sort rules order candidates and have no true/false outcome to combine"),
                        );
                        None
                    }
                    _ => Some(Statement::Rule(i)),
                }
            }
            RawStatement::Op { op, args, start, end } => {
                let mut out = Vec::new();
                let mut ok = true;
                for a in args {
                    match self.resolve_statement(a, value, path, rule) {
                        Some(s) => out.push(s),
                        None => ok = false,
                    }
                }
                let arity_ok = if *op == "not" { args.len() == 1 } else { args.len() >= 2 };
                if !arity_ok {
                    let span = self.string_inner_span(value, *start, *end);
                    let expected = if *op == "not" { "exactly one operand" } else { "at least two operands" };
                    self.sink.error(
                        "statement-syntax",
                        path,
                        span,
                        format!("{op}() takes {expected}, found {}", args.len()),
                    );
                    return None;
                }
                if !ok {
                    return None;
                }
                Some(match *op {
                    "and" => Statement::And(out),
                    "or" => Statement::Or(out),
                    "xor" => Statement::Xor(out),
                    _ => Statement::Not(Box::new(out.pop().expect("one operand"))),
                })
            }
        }
    }

    fn large_match_rule(&mut self, kind: &RuleKind, obj: &Obj<'_>) {
        let type_span = obj.get("type").map_or(obj.span, |v| v.span);
        match kind {
            RuleKind::BatchDistance { .. } => {}
            RuleKind::Latency { max_distance, .. } => {
                if max_distance.is_some() {
                    let v = obj.get("maxDistance").expect("present");
                    self.sink.error_help(
                        "not-allowed-in-large-match",
                        &obj.path("maxDistance"),
                        v.span,
                        "large matches (over 40 players) support latency rules with maxLatency only",
                        Some("remove maxDistance and distanceReference".to_owned()),
                    );
                }
            }
            other => {
                self.sink.error_help(
                    "not-allowed-in-large-match",
                    &obj.path("type"),
                    type_span,
                    format!("{} rules are not supported in large matches (over 40 players)", other.type_name()),
                    Some("large matches allow only batchDistance and latency rules; balance teams with algorithm.balancedAttribute".to_owned()),
                );
            }
        }
    }

    // ---- expansions --------------------------------------------------------------------

    fn expansions(&mut self, value: &Value, base: &str) -> Vec<Expansion> {
        let Some(items) = value.as_array() else {
            self.sink.error(
                "wrong-type",
                base,
                value.span,
                format!("expansions must be an array, found {}", value.kind.describe()),
            );
            return Vec::new();
        };
        let mut out: Vec<Expansion> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = index(base, i);
            let Some(obj) = self.object(item, &path, "an expansion", EXPANSION_FIELDS) else {
                continue;
            };
            let target_value = self.require(&obj, "target", "the expansion");
            let target = target_value.and_then(|v| self.expansion_target(v, &obj.path("target")));
            let steps_value = self.require(&obj, "steps", "the expansion");
            let Some(steps_value) = steps_value else {
                continue;
            };
            let steps = self.expansion_steps(steps_value, &obj.path("steps"), target.as_ref());
            let (Some((target, span)), Some(steps)) = (target, steps) else {
                continue;
            };
            if out.iter().any(|e| e.target == target) {
                self.sink.error_help(
                    "duplicate-expansion",
                    &obj.path("target"),
                    span,
                    "this property already has an expansion",
                    Some("merge the steps into one expansion".to_owned()),
                );
                continue;
            }
            out.push(Expansion { target, steps, target_span: span });
        }
        out
    }

    fn expansion_target(&mut self, value: &Value, path: &str) -> Option<(ExpansionTarget, Span)> {
        let text = self.string(value, path)?;
        let whole = value.span;
        let bad = |this: &mut Self, message: String| {
            this.sink.error_help(
                "bad-target",
                path,
                whole,
                message,
                Some("targets look like \"rules[RuleName].maxDistance\" or \"teams[red, blue].minPlayers\"".to_owned()),
            );
            None
        };
        let Some(open) = text.find('[') else {
            return bad(self, format!("'{text}' is not an expansion target"));
        };
        let Some(close) = text[open..].find(']').map(|c| c + open) else {
            return bad(self, format!("'{text}' is missing a closing ']'"));
        };
        let component = text[..open].trim();
        let names: Vec<(usize, &str)> = {
            let mut v = Vec::new();
            let mut offset = open + 1;
            for part in text[open + 1..close].split(',') {
                let lead = part.len() - part.trim_start().len();
                v.push((offset + lead, part.trim()));
                offset += part.len() + 1;
            }
            v
        };
        let rest = text[close + 1..].trim();
        let Some(property) = rest.strip_prefix('.').map(str::trim) else {
            return bad(self, format!("'{text}' does not name a property after ']'"));
        };
        let property_start = text.len() - text[close + 1..].trim_start().len() + 1;
        let property_span = self.string_inner_span(value, property_start, text.len());
        match component {
            "rules" => {
                if names.len() != 1 {
                    return bad(self, "an expansion targets one rule at a time".to_owned());
                }
                let (name_start, name) = names[0];
                let name_span = self.string_inner_span(value, name_start, name_start + name.len());
                let Some(rule_index) = self.rules.iter().position(|r| r.name == name) else {
                    let help = did_you_mean(name, self.rules.iter().map(|r| r.name.as_str()));
                    self.sink.error_help("unknown-rule", path, name_span, format!("unknown rule '{name}'"), help);
                    return None;
                };
                let info = &self.rules[rule_index];
                let type_name = info.type_name?;
                if type_name == "plugin" {
                    let parameters: Vec<String> = match &info.rule {
                        Some(Rule { kind: RuleKind::Plugin(p), .. }) => {
                            p.parameters.iter().map(|(k, _)| k.clone()).collect()
                        }
                        _ => return None, // The rule itself is invalid and already reported.
                    };
                    let wanted = property.strip_prefix("parameters").and_then(|p| p.trim_start().strip_prefix('.'));
                    let Some(wanted) = wanted.map(str::trim) else {
                        self.sink.error_help(
                            "bad-target",
                            path,
                            property_span,
                            format!("'{property}' cannot be expanded on a plugin rule"),
                            Some(format!("a plugin rule expands its parameters: \"rules[{name}].parameters.<name>\"")),
                        );
                        return None;
                    };
                    let Some(i) = parameters.iter().position(|p| p == wanted) else {
                        let help = did_you_mean(wanted, parameters.iter().map(String::as_str)).or_else(|| {
                            Some(if parameters.is_empty() {
                                format!("rule '{name}' has no parameters")
                            } else {
                                format!("rule '{name}' has parameters: {}", parameters.join(", "))
                            })
                        });
                        self.sink.error_help(
                            "bad-target",
                            path,
                            property_span,
                            format!("rule '{name}' has no parameter '{wanted}'"),
                            help,
                        );
                        return None;
                    };
                    return Some((
                        ExpansionTarget::Rule { rule: rule_index, property: RuleProperty::Parameter(i as u16) },
                        value.span,
                    ));
                }
                let props: &[(&str, RuleProperty)] = match type_name {
                    "batchDistance" => &[("maxDistance", RuleProperty::MaxDistance)],
                    "comparison" => &[("referenceValue", RuleProperty::ReferenceValue)],
                    "distance" => &[
                        ("maxDistance", RuleProperty::MaxDistance),
                        ("minDistance", RuleProperty::MinDistance),
                        ("referenceValue", RuleProperty::ReferenceValue),
                    ],
                    "collection" => &[
                        ("minCount", RuleProperty::MinCount),
                        ("maxCount", RuleProperty::MaxCount),
                        ("referenceValue", RuleProperty::ReferenceValue),
                    ],
                    "latency" => {
                        &[("maxLatency", RuleProperty::MaxLatency), ("maxDistance", RuleProperty::MaxDistance)]
                    }
                    "compound" => {
                        self.sink.error_help(
                            "bad-target",
                            path,
                            name_span,
                            format!("'{name}' is a compound rule, which cannot be expanded"),
                            Some("expand the rules its statement uses instead".to_owned()),
                        );
                        return None;
                    }
                    _ => {
                        self.sink.error(
                            "bad-target",
                            path,
                            name_span,
                            format!("'{name}' is a {type_name} rule; sort rules have nothing to expand"),
                        );
                        return None;
                    }
                };
                let Some((_, prop)) = props.iter().find(|(p, _)| *p == property) else {
                    let names: Vec<&str> = props.iter().map(|(p, _)| *p).collect();
                    let help = did_you_mean(property, names.iter().copied())
                        .or_else(|| Some(format!("a {type_name} rule can expand: {}", names.join(", "))));
                    self.sink.error_help(
                        "bad-target",
                        path,
                        property_span,
                        format!("'{property}' cannot be expanded on a {type_name} rule"),
                        help,
                    );
                    return None;
                };
                let prop = *prop;
                if let Some(rule) = &info.rule {
                    if !rule_has_property(&rule.kind, prop) {
                        let message = if prop == RuleProperty::ReferenceValue {
                            format!(
                                "rule '{name}' has no literal referenceValue to expand (expressions cannot be expanded)"
                            )
                        } else {
                            format!("rule '{name}' does not set {property}, so there is nothing to expand")
                        };
                        self.sink.error_help(
                            "bad-target",
                            path,
                            property_span,
                            message,
                            Some(format!("give the rule a {property} first")),
                        );
                        return None;
                    }
                    if self.is_large
                        && !matches!(
                            (type_name, prop),
                            ("latency", RuleProperty::MaxLatency) | ("batchDistance", RuleProperty::MaxDistance)
                        )
                    {
                        self.sink.error("not-allowed-in-large-match", path, property_span, format!("large matches can expand only latency maxLatency, batchDistance maxDistance and team minPlayers, not {type_name} {property}"));
                        return None;
                    }
                }
                Some((ExpansionTarget::Rule { rule: rule_index, property: prop }, value.span))
            }
            "teams" | "team" => {
                let mut teams = Vec::new();
                for (start, name) in &names {
                    let name_span = self.string_inner_span(value, *start, start + name.len());
                    match self.team_names.iter().position(|t| t == name) {
                        Some(i) => {
                            if teams.contains(&i) {
                                self.sink.warning(
                                    "duplicate-name",
                                    path,
                                    name_span,
                                    format!("team '{name}' is listed twice"),
                                    None,
                                );
                            } else {
                                teams.push(i);
                            }
                        }
                        None => {
                            let generated_from = self
                                .teams
                                .iter()
                                .flatten()
                                .find(|t| t.quantity > 1 && t.concrete_names().iter().any(|c| c == name))
                                .map(|t| t.name.clone());
                            let help = match generated_from {
                                Some(base) => Some(format!(
                                    "expansions address team definitions; use '{base}' (it applies to all its teams)"
                                )),
                                None => did_you_mean(name, self.team_names.iter().map(String::as_str)),
                            };
                            self.sink.error_help(
                                "unknown-team",
                                path,
                                name_span,
                                format!("unknown team '{name}'"),
                                help,
                            );
                            return None;
                        }
                    }
                }
                let prop = match property {
                    "minPlayers" => TeamProperty::MinPlayers,
                    "maxPlayers" => TeamProperty::MaxPlayers,
                    _ => {
                        let help = did_you_mean(property, ["minPlayers", "maxPlayers"])
                            .or_else(|| Some("teams can expand minPlayers or maxPlayers".to_owned()));
                        self.sink.error_help(
                            "bad-target",
                            path,
                            property_span,
                            format!("'{property}' cannot be expanded on a team"),
                            help,
                        );
                        return None;
                    }
                };
                if self.is_large && prop == TeamProperty::MaxPlayers {
                    self.sink.error_help(
                        "not-allowed-in-large-match",
                        path,
                        property_span,
                        "large matches can expand team minPlayers, not maxPlayers",
                        Some("expand minPlayers instead".to_owned()),
                    );
                    return None;
                }
                Some((ExpansionTarget::Teams { teams, property: prop }, value.span))
            }
            other => {
                let help = did_you_mean(other, ["rules", "teams"])
                    .or_else(|| Some("targets start with rules[...] or teams[...]".to_owned()));
                let span = self.string_inner_span(value, 0, open);
                self.sink.error_help("bad-target", path, span, format!("unknown target component '{other}'"), help);
                None
            }
        }
    }

    fn expansion_steps(
        &mut self,
        value: &Value,
        path: &str,
        target: Option<&(ExpansionTarget, Span)>,
    ) -> Option<Vec<ExpansionStep>> {
        let Some(items) = value.as_array() else {
            self.sink.error(
                "wrong-type",
                path,
                value.span,
                format!("steps must be an array, found {}", value.kind.describe()),
            );
            return None;
        };
        if items.is_empty() {
            self.sink.error("missing-field", path, value.span, "an expansion needs at least one step");
            return None;
        }
        let mut steps: Vec<ExpansionStep> = Vec::new();
        let mut ok = true;
        let mut previous_value: Option<f64> = self.original_value(target.map(|t| &t.0));
        for (i, item) in items.iter().enumerate() {
            let step_path = index(path, i);
            let Some(obj) = self.object(item, &step_path, "an expansion step", STEP_FIELDS) else {
                ok = false;
                continue;
            };
            let wait_value = self.require(&obj, "waitTimeSeconds", "the expansion step");
            let wait = wait_value.and_then(|v| self.non_negative(v, &obj.path("waitTimeSeconds")));
            let step_value = self.require(&obj, "value", "the expansion step");
            let value = step_value.and_then(|v| self.step_value(v, &obj.path("value"), target.map(|t| &t.0)));
            let (Some(wait), Some(value), Some(wait_v)) = (wait, value, wait_value) else {
                ok = false;
                continue;
            };
            if let Some(prev) = steps.last()
                && wait <= prev.wait_time_seconds
            {
                self.sink.error_help(
                    "steps-not-increasing",
                    &obj.path("waitTimeSeconds"),
                    wait_v.span,
                    format!("waitTimeSeconds {wait} is not after the previous step's {}", prev.wait_time_seconds),
                    Some(
                        "step times are absolute ages, not increments; each must be larger than the one before"
                            .to_owned(),
                    ),
                );
                ok = false;
            }
            if let (ExpansionValue::Number(n), Some(prev), Some((t, _))) = (&value, previous_value, target)
                && tightens(t, prev, *n)
            {
                self.sink.warning(
                    "expansion-tightens",
                    &obj.path("value"),
                    step_value.expect("present").span,
                    format!(
                        "this step makes the rule stricter ({prev} → {n}); expansions usually relax a rule over time"
                    ),
                    None,
                );
            }
            if let ExpansionValue::Number(n) = value {
                previous_value = Some(n);
            }
            steps.push(ExpansionStep { wait_time_seconds: wait, value, span: wait_v.span });
        }
        ok.then_some(steps)
    }

    /// The un-expanded numeric value of a target, when known.
    fn original_value(&self, target: Option<&ExpansionTarget>) -> Option<f64> {
        match target? {
            ExpansionTarget::Rule { rule, property } => {
                let kind = &self.rules[*rule].rule.as_ref()?.kind;
                rule_numeric_property(kind, *property)
            }
            ExpansionTarget::Teams { teams, property } => {
                let t = self.teams[*teams.first()?].as_ref()?;
                Some(f64::from(match property {
                    TeamProperty::MinPlayers => t.min_players,
                    TeamProperty::MaxPlayers => t.max_players,
                }))
            }
        }
    }

    fn step_value(&mut self, value: &Value, path: &str, target: Option<&ExpansionTarget>) -> Option<ExpansionValue> {
        match target {
            Some(ExpansionTarget::Rule { rule, property: RuleProperty::ReferenceValue }) => {
                match self.rules[*rule].rule.as_ref().map(|r| &r.kind) {
                    Some(
                        RuleKind::Comparison { reference: Some(Reference::String(_)), .. }
                        | RuleKind::Collection { reference: Some(Reference::String(_)), .. },
                    ) => self.string(value, path).map(|s| ExpansionValue::String(s.to_owned())),
                    _ => self.number(value, path).map(ExpansionValue::Number),
                }
            }
            Some(ExpansionTarget::Rule { property: RuleProperty::MinCount | RuleProperty::MaxCount, .. }) => {
                self.integer(value, path, 0, u32::MAX).map(|n| ExpansionValue::Number(f64::from(n)))
            }
            Some(ExpansionTarget::Rule { property: RuleProperty::MaxLatency, .. }) => {
                let n = self.number(value, path)?;
                if n <= 0.0 {
                    self.sink.error(
                        "out-of-range",
                        path,
                        value.span,
                        format!("maxLatency must be positive, found {n}"),
                    );
                    return None;
                }
                Some(ExpansionValue::Number(n))
            }
            Some(ExpansionTarget::Rule { .. }) => self.non_negative(value, path).map(ExpansionValue::Number),
            Some(ExpansionTarget::Teams { teams, property }) => {
                let n = self.integer(value, path, 0, MAX_MATCH_PLAYERS)?;
                for &t in teams {
                    let Some(def) = &self.teams[t] else { continue };
                    match property {
                        TeamProperty::MinPlayers if n > def.max_players => {
                            self.sink.error_help(
                                "min-above-max",
                                path,
                                value.span,
                                format!(
                                    "minPlayers {n} is greater than maxPlayers {} of team '{}'",
                                    def.max_players, def.name
                                ),
                                Some(format!("use at most {}", def.max_players)),
                            );
                            return None;
                        }
                        TeamProperty::MaxPlayers if n == 0 => {
                            self.sink.error(
                                "out-of-range",
                                path,
                                value.span,
                                format!("maxPlayers must be at least 1, found 0 (team '{}')", def.name),
                            );
                            return None;
                        }
                        TeamProperty::MaxPlayers if n < def.min_players => {
                            self.sink.error_help(
                                "min-above-max",
                                path,
                                value.span,
                                format!(
                                    "maxPlayers {n} is less than minPlayers {} of team '{}'",
                                    def.min_players, def.name
                                ),
                                Some(format!("use at least {}", def.min_players)),
                            );
                            return None;
                        }
                        TeamProperty::MaxPlayers => {
                            let total: u32 = self
                                .teams
                                .iter()
                                .enumerate()
                                .filter_map(|(i, d)| {
                                    d.as_ref()
                                        .map(|d| (if teams.contains(&i) { n } else { d.max_players }) * d.quantity)
                                })
                                .sum();
                            // Players per unit of n: the expanded teams' quantities.
                            let per_unit: u32 = teams
                                .iter()
                                .filter_map(|&i| self.teams[i].as_ref().map(|d| d.quantity))
                                .sum::<u32>()
                                .max(1);
                            let others = total - n * per_unit;
                            let largest = |limit: u32| limit.saturating_sub(others) / per_unit;
                            let problem = if total > MAX_MATCH_PLAYERS {
                                Some((
                                    format!("more than a match may have ({MAX_MATCH_PLAYERS})"),
                                    largest(MAX_MATCH_PLAYERS),
                                ))
                            } else if total > SMALL_MATCH_MAX_PLAYERS && !self.is_large {
                                Some((
                                    format!(
                                        "that makes this a large match (over {SMALL_MATCH_MAX_PLAYERS}), which an expansion cannot do"
                                    ),
                                    largest(SMALL_MATCH_MAX_PLAYERS),
                                ))
                            } else {
                                None
                            };
                            if let Some((why, largest)) = problem {
                                self.sink.error_help(
                                    "size-class-change",
                                    path,
                                    value.span,
                                    format!("with maxPlayers {n} the teams would hold {total} players: {why}"),
                                    Some(format!(
                                        "use maxPlayers {largest} or less; for matches over {SMALL_MATCH_MAX_PLAYERS} players, make the teams large from the start (with the balanced strategy)"
                                    )),
                                );
                                return None;
                            }
                        }
                        TeamProperty::MinPlayers => {}
                    }
                }
                Some(ExpansionValue::Number(f64::from(n)))
            }
            None => match &value.kind {
                Kind::String(s) if s.trim().parse::<f64>().is_err() => Some(ExpansionValue::String(s.clone())),
                _ => self.number(value, path).map(ExpansionValue::Number),
            },
        }
    }
}

/// `'squad' with quantity 3 → squad_1 … squad_3`, for messages about generated team names.
fn generated_names(name: &str, quantity: u32) -> String {
    let names = match quantity {
        2 => format!("{name}_1, {name}_2"),
        q => format!("{name}_1 … {name}_{q}"),
    };
    format!("'{name}' with quantity {quantity} → {names}")
}

/// Whether an expansion step from `prev` to `next` makes the target stricter.
fn tightens(target: &ExpansionTarget, prev: f64, next: f64) -> bool {
    match target {
        ExpansionTarget::Rule { property, .. } => match property {
            RuleProperty::MaxDistance | RuleProperty::MaxCount | RuleProperty::MaxLatency => next < prev,
            RuleProperty::MinDistance | RuleProperty::MinCount => next > prev,
            // A plugin decides what its parameters mean.
            RuleProperty::ReferenceValue | RuleProperty::Parameter(_) => false,
        },
        ExpansionTarget::Teams { property, .. } => match property {
            TeamProperty::MinPlayers => next > prev,
            TeamProperty::MaxPlayers => false,
        },
    }
}

fn rule_numeric_property(kind: &RuleKind, property: RuleProperty) -> Option<f64> {
    match (kind, property) {
        (RuleKind::BatchDistance { max_distance, .. }, RuleProperty::MaxDistance) => *max_distance,
        (RuleKind::Distance { max_distance, .. }, RuleProperty::MaxDistance) => *max_distance,
        (RuleKind::Distance { min_distance, .. }, RuleProperty::MinDistance) => *min_distance,
        (RuleKind::Collection { min_count, .. }, RuleProperty::MinCount) => *min_count,
        (RuleKind::Collection { max_count, .. }, RuleProperty::MaxCount) => *max_count,
        (RuleKind::Latency { max_latency, .. }, RuleProperty::MaxLatency) => Some(*max_latency),
        (RuleKind::Latency { max_distance, .. }, RuleProperty::MaxDistance) => *max_distance,
        (RuleKind::Plugin(p), RuleProperty::Parameter(i)) => p.parameters.get(usize::from(i)).map(|(_, v)| *v),
        (
            RuleKind::Comparison { reference: Some(Reference::Number(n)), .. }
            | RuleKind::Distance { reference: Reference::Number(n), .. }
            | RuleKind::Collection { reference: Some(Reference::Number(n)), .. },
            RuleProperty::ReferenceValue,
        ) => Some(*n),
        _ => None,
    }
}

fn rule_has_property(kind: &RuleKind, property: RuleProperty) -> bool {
    match (kind, property) {
        (
            RuleKind::Comparison { reference: Some(Reference::String(_)), .. }
            | RuleKind::Collection { reference: Some(Reference::String(_)), .. },
            RuleProperty::ReferenceValue,
        ) => true,
        _ => rule_numeric_property(kind, property).is_some(),
    }
}

/// The member `key` of a rule object, or the near miss of it that [`Obj`] would read as it
/// (`"Name"`, `"typ"`); used before the rule's own fields are known.
fn near_miss_member<'v>(item: &'v Value, key: &str) -> Option<&'v Value> {
    let members = item.as_object()?;
    if let Some(m) = members.iter().find(|m| m.key == key) {
        return Some(&m.value);
    }
    let is_field = |k: &str| RULE_TYPES.iter().any(|t| fields_for(t).contains(&k));
    members
        .iter()
        .find(|m| !is_field(&m.key) && closest(&m.key, ["name", "description", "type"]) == Some(key))
        .map(|m| &m.value)
}

fn leaf_of(ty: &Ty) -> &Ty {
    match ty {
        Ty::List(inner) => leaf_of(inner),
        other => other,
    }
}

/// Whether a `referenceValue` string is a property expression rather than a literal.
///
/// FlexMatch does not say (spec §16.7). We treat a string as an expression when it starts
/// like one — `teams[`, `team[`, a function name followed by `(`, or any name followed by
/// `(` when the string also holds a `[` (`flaten(teams[host]...)`) — and as a literal otherwise, so `"medic"` and
/// `"gold (tier 2)"` stay strings and a mistyped expression is reported, not silently
/// compared as text.
pub(super) fn looks_like_expression(s: &str) -> bool {
    let s = s.trim_start();
    let word_end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let word = &s[..word_end];
    let next = s[word_end..].trim_start().chars().next();
    let identifier = word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    match next {
        Some('[') => word == "teams" || word == "team",
        Some('(') => identifier && (s.contains('[') || expr::Func::ALL.iter().any(|f| f.name() == word)),
        _ => false,
    }
}

fn statement_rules(statement: &Statement) -> Vec<usize> {
    match statement {
        Statement::Rule(i) => vec![*i],
        Statement::And(v) | Statement::Or(v) | Statement::Xor(v) => v.iter().flat_map(statement_rules).collect(),
        Statement::Not(s) => statement_rules(s),
    }
}

/// A compound statement before names are resolved.
enum RawStatement<'s> {
    Name { name: &'s str, start: usize, end: usize },
    Op { op: &'static str, args: Vec<RawStatement<'s>>, start: usize, end: usize },
}

type StatementError = (usize, usize, String, Option<String>);

struct StatementParser<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
}

impl<'s> StatementParser<'s> {
    fn skip_ws(&mut self) {
        while self.src[self.pos..].starts_with(char::is_whitespace) {
            self.pos += self.src[self.pos..].chars().next().map_or(1, char::len_utf8);
        }
    }

    fn statement(&mut self) -> Result<RawStatement<'s>, StatementError> {
        self.depth += 1;
        if self.depth > 64 {
            return Err((self.pos, self.pos, "the statement is nested too deeply".to_owned(), None));
        }
        self.skip_ws();
        let start = self.pos;
        let len = self.src[start..]
            .find(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
            .unwrap_or(self.src.len() - start);
        if len == 0 {
            let found = self.src[start..].chars().next().map_or("the end".to_owned(), |c| format!("'{c}'"));
            return Err((
                start,
                start + self.src[start..].chars().next().map_or(0, char::len_utf8),
                format!("expected a rule name or and/or/xor/not, found {found}"),
                None,
            ));
        }
        let word = &self.src[start..start + len];
        self.pos = start + len;
        self.skip_ws();
        if !self.src[self.pos..].starts_with('(') {
            self.depth -= 1;
            return Ok(RawStatement::Name { name: word, start, end: start + len });
        }
        let op = match word {
            "and" => "and",
            "or" => "or",
            "xor" => "xor",
            "not" => "not",
            other => {
                let lower = other.to_ascii_lowercase();
                let help = ["and", "or", "xor", "not"]
                    .iter()
                    .find(|o| **o == lower)
                    .map(|o| format!("operators are lower case: use '{o}'"))
                    .or_else(|| did_you_mean(other, ["and", "or", "xor", "not"]));
                return Err((
                    start,
                    start + len,
                    format!("unknown operator '{other}'"),
                    help.or_else(|| Some("compound statements use and(), or(), xor() and not()".to_owned())),
                ));
            }
        };
        self.pos += 1;
        let mut args = Vec::new();
        loop {
            self.skip_ws();
            if self.src[self.pos..].starts_with(')') && args.is_empty() {
                self.pos += 1;
                break;
            }
            args.push(self.statement()?);
            self.skip_ws();
            if self.src[self.pos..].starts_with(',') {
                self.pos += 1;
            } else if self.src[self.pos..].starts_with(')') {
                self.pos += 1;
                break;
            } else {
                let at = self.pos;
                return Err((
                    at,
                    (at + 1).min(self.src.len()).max(at),
                    format!("expected ',' or ')' in {op}(...)"),
                    None,
                ));
            }
        }
        self.depth -= 1;
        Ok(RawStatement::Op { op, args, start, end: self.pos })
    }
}
