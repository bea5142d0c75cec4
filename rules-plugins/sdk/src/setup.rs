//! The setup record: the rule's attributes, parameters and teams, looked up by name once.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use crate::errors;
use crate::read::{Malformed, Reader};

/// The type of a player attribute, as declared in the rule set's `playerAttributes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttributeKind {
    /// `number`: one `f64` per player.
    Number,
    /// `string`: one [`Symbol`] per player.
    String,
    /// `string_list`: a list of [`Symbol`]s per player.
    StringList,
    /// `string_number_map`: a map from [`Symbol`] to `f64` per player.
    StringNumberMap,
}

impl AttributeKind {
    /// The kind's code in the setup record (ABI.md): 0 number … 3 string_number_map.
    pub const fn code(self) -> u32 {
        match self {
            AttributeKind::Number => 0,
            AttributeKind::String => 1,
            AttributeKind::StringList => 2,
            AttributeKind::StringNumberMap => 3,
        }
    }

    /// The kind with the given code, if there is one.
    pub const fn from_code(code: u32) -> Option<AttributeKind> {
        match code {
            0 => Some(AttributeKind::Number),
            1 => Some(AttributeKind::String),
            2 => Some(AttributeKind::StringList),
            3 => Some(AttributeKind::StringNumberMap),
            _ => None,
        }
    }
}

/// Marker types naming an attribute kind at the type level, so that an [`Attr`] handle can
/// only be read the way its column is stored: [`Player::number`](crate::Player::number)
/// takes an `Attr<kind::Number>`, [`Player::string_list`](crate::Player::string_list) an
/// `Attr<kind::StringList>`, and so on.
pub mod kind {
    use super::AttributeKind;

    /// An attribute kind known at compile time (sealed: the four kinds below).
    pub trait Kind: sealed::Sealed {
        /// The kind as a value.
        const KIND: AttributeKind;
    }

    /// `number` attributes.
    #[derive(Debug)]
    pub enum Number {}
    /// `string` attributes.
    #[derive(Debug)]
    pub enum String {}
    /// `string_list` attributes.
    #[derive(Debug)]
    pub enum StringList {}
    /// `string_number_map` attributes.
    #[derive(Debug)]
    pub enum StringNumberMap {}

    impl Kind for Number {
        const KIND: AttributeKind = AttributeKind::Number;
    }
    impl Kind for String {
        const KIND: AttributeKind = AttributeKind::String;
    }
    impl Kind for StringList {
        const KIND: AttributeKind = AttributeKind::StringList;
    }
    impl Kind for StringNumberMap {
        const KIND: AttributeKind = AttributeKind::StringNumberMap;
    }

    mod sealed {
        pub trait Sealed {}
        impl Sealed for super::Number {}
        impl Sealed for super::String {}
        impl Sealed for super::StringList {}
        impl Sealed for super::StringNumberMap {}
    }
}

use kind::Kind;

/// A handle on one attribute column, of a kind fixed by `K` (see [`kind`]). Obtained once
/// from [`Setup::attribute`], which checks the kind; reading it is then an index.
pub struct Attr<K> {
    column: u32,
    kind: PhantomData<fn() -> K>,
}

impl<K> Attr<K> {
    /// The column's index: the attribute's position in the rule's `attributes` list.
    pub const fn column(self) -> usize {
        self.column as usize
    }
}

impl<K> Clone for Attr<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Attr<K> {}
impl<K> PartialEq for Attr<K> {
    fn eq(&self, other: &Self) -> bool {
        self.column == other.column
    }
}
impl<K> Eq for Attr<K> {}
impl<K: Kind> fmt::Debug for Attr<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attr").field("column", &self.column).field("kind", &K::KIND).finish()
    }
}

/// A handle on one rule parameter. Its value in force travels with each candidate or
/// ticket: read it with [`Candidate::param`](crate::Candidate::param) or
/// [`Ticket::param`](crate::Ticket::param) (expansions may have changed it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Param(u32);

impl Param {
    /// The parameter's position in the rule's `parameters` object.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// An interned string: how player string values (and list elements and map keys) arrive.
/// Ids are opaque and differ between processes; the only ones a plugin can know are those
/// of its parameter *names* ([`Setup::symbol`]), which never change. Any other id is only
/// meaningful within one call: once no ticket holds its string, the engine may give the id
/// to another string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol(pub u32);

/// Why a rule refused its setup ([`Rule::new`](crate::Rule::new)). The host sees only the
/// code ([`SetupError::code`], listed in [`errors`]) and refuses the plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetupError {
    /// An attribute the rule needs is not in the rule's `attributes` list.
    MissingAttribute,
    /// An attribute has another type than the rule needs.
    AttributeKind,
    /// A parameter the rule needs is not in the rule's `parameters` object.
    MissingParameter,
    /// A parameter's value is out of the range the rule accepts.
    InvalidParameter,
    /// Anything else the rule cannot work with (e.g. the wrong number of teams).
    Unsupported,
}

impl SetupError {
    /// The negative code `rallypoint_init` returns for this error.
    pub const fn code(self) -> i32 {
        match self {
            SetupError::MissingAttribute => errors::MISSING_ATTRIBUTE,
            SetupError::AttributeKind => errors::ATTRIBUTE_KIND,
            SetupError::MissingParameter => errors::MISSING_PARAMETER,
            SetupError::InvalidParameter => errors::INVALID_PARAMETER,
            SetupError::Unsupported => errors::UNSUPPORTED,
        }
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SetupError::MissingAttribute => "an attribute the rule needs is missing",
            SetupError::AttributeKind => "an attribute has the wrong type",
            SetupError::MissingParameter => "a parameter the rule needs is missing",
            SetupError::InvalidParameter => "a parameter is out of range",
            SetupError::Unsupported => "the rule does not support this setup",
        })
    }
}

/// One entry of the rule's `attributes` list.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeInfo {
    name: String,
    kind: AttributeKind,
}

impl AttributeInfo {
    /// The attribute's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The attribute's type.
    pub fn kind(&self) -> AttributeKind {
        self.kind
    }
}

/// One entry of the rule's `parameters` object.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterInfo {
    param: Param,
    name: String,
    symbol: Symbol,
    base_value: f64,
}

impl ParameterInfo {
    /// The handle to read this parameter's value in force.
    pub fn param(&self) -> Param {
        self.param
    }
    /// The parameter's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The symbol a player string equal to the name carries.
    pub fn symbol(&self) -> Symbol {
        self.symbol
    }
    /// The value before expansions.
    pub fn base_value(&self) -> f64 {
        self.base_value
    }
}

/// The rule as the rule set declares it: its name, attributes (the player table's
/// columns), parameters and concrete teams. A rule looks up what it needs by name in
/// [`Rule::new`](crate::Rule::new) and keeps the handles.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    rule_name: String,
    attributes: Vec<AttributeInfo>,
    parameters: Vec<ParameterInfo>,
    teams: Vec<String>,
}

impl Setup {
    /// Decodes a setup record (ABI.md, "Setup record").
    pub(crate) fn parse(bytes: &[u8]) -> Result<Setup, i32> {
        let mut r = Reader::new(bytes);
        let version = r.u32()?;
        if version != crate::ABI_VERSION {
            return Err(errors::ABI_VERSION);
        }
        let n_attributes = r.u32()?;
        let n_parameters = r.u32()?;
        let n_teams = r.u32()?;
        let rule_name = r.padded_str()?;
        // No `with_capacity(n)`: the counts are untrusted; the reader runs out first.
        let mut attributes = Vec::new();
        for _ in 0..n_attributes {
            let kind = AttributeKind::from_code(r.u32()?).ok_or(Malformed)?;
            attributes.push(AttributeInfo { name: r.padded_str()?, kind });
        }
        let mut parameters = Vec::new();
        for i in 0..n_parameters {
            let symbol = Symbol(r.u32()?);
            let name_len = r.u32()?;
            let base_value = r.f64()?;
            let name = r.padded_str_of_len(name_len)?;
            parameters.push(ParameterInfo { param: Param(i), name, symbol, base_value });
        }
        let mut teams = Vec::new();
        for _ in 0..n_teams {
            teams.push(r.padded_str()?);
        }
        Ok(Setup { rule_name, attributes, parameters, teams })
    }

    /// The rule's `name` in the rule set.
    pub fn rule_name(&self) -> &str {
        &self.rule_name
    }

    /// The handle on attribute `name`, checking that its type is `K`:
    /// `let skill: Attr<kind::Number> = setup.attribute("skill")?;` (the kind is usually
    /// inferred from the field the handle is stored in).
    pub fn attribute<K: Kind>(&self, name: &str) -> Result<Attr<K>, SetupError> {
        let column = self.attributes.iter().position(|a| a.name == name).ok_or(SetupError::MissingAttribute)?;
        if self.attributes[column].kind != K::KIND {
            return Err(SetupError::AttributeKind);
        }
        Ok(Attr { column: column as u32, kind: PhantomData })
    }

    /// The rule's attributes, in column order.
    pub fn attributes(&self) -> &[AttributeInfo] {
        &self.attributes
    }

    /// The handle on parameter `name`. For an optional parameter, use `.ok()`.
    pub fn parameter(&self, name: &str) -> Result<Param, SetupError> {
        self.parameters.iter().find(|p| p.name == name).map(|p| p.param).ok_or(SetupError::MissingParameter)
    }

    /// The rule's parameters, in document order.
    pub fn parameters(&self) -> &[ParameterInfo] {
        &self.parameters
    }

    /// A parameter's value before expansions (useful to validate it in `new`).
    pub fn base_value(&self, param: Param) -> f64 {
        self.parameters.get(param.index()).map_or(f64::NAN, |p| p.base_value)
    }

    /// The symbol of the string `name`, if `name` is one of the rule's parameter names:
    /// a player string value equal to it carries this symbol. (The ABI gives a plugin no
    /// other way to know a string's id; the role queue example uses its parameter names
    /// `tank`, `healer`, `dps` this way.)
    pub fn symbol(&self, name: &str) -> Option<Symbol> {
        self.parameters.iter().find(|p| p.name == name).map(|p| p.symbol)
    }

    /// The number of concrete teams (every candidate lists all of them).
    pub fn team_count(&self) -> usize {
        self.teams.len()
    }

    /// The name of the concrete team with index `index` (`red`, or `squad_2` for a team
    /// definition with a quantity).
    pub fn team_name(&self, index: usize) -> Option<&str> {
        self.teams.get(index).map(String::as_str)
    }

    /// The index of the concrete team called `name`.
    pub fn team_index(&self, name: &str) -> Option<usize> {
        self.teams.iter().position(|t| t == name)
    }

    /// The concrete teams' names, in index order.
    pub fn team_names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.teams.iter().map(String::as_str)
    }
}

impl From<Malformed> for i32 {
    fn from(_: Malformed) -> i32 {
        errors::MALFORMED_INPUT
    }
}
