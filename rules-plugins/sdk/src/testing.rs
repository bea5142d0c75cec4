//! Test a rule on the host, with `cargo test`, through the same code the wasm exports run:
//! [`Host`] encodes a setup record, a player table and batches exactly as ABI.md lays them
//! out, calls the plugin's entry points and decodes what they wrote. Strings are interned
//! as the engine does, parameter names first, so [`Setup::symbol`](crate::Setup::symbol)
//! works as it does in production.
//!
//! ```
//! use rallypoint_plugin_sdk::testing::{Host, TestCandidate, TestSetup, Value};
//! use rallypoint_plugin_sdk::{AttributeKind, Candidate, Rule, Setup, SetupError, Verdict};
//!
//! /// Everyone on a team must share one region.
//! struct SameRegion(rallypoint_plugin_sdk::Attr<rallypoint_plugin_sdk::kind::String>);
//!
//! impl Rule for SameRegion {
//!     fn new(setup: &Setup) -> Result<Self, SetupError> {
//!         Ok(SameRegion(setup.attribute("region")?))
//!     }
//!     fn score(&self, c: &Candidate<'_>) -> Verdict {
//!         Verdict::from_bool(c.teams().all(|t| {
//!             let mut regions = t.players().map(|p| p.string(self.0));
//!             let first = regions.next();
//!             regions.all(|r| Some(r) == first)
//!         }))
//!     }
//! }
//!
//! let setup = TestSetup::new().attribute("region", AttributeKind::String).teams(&["red", "blue"]);
//! let mut host = Host::<SameRegion>::new(&setup).unwrap();
//! host.load_players(&[
//!     vec![Value::string("eu")],
//!     vec![Value::string("eu")],
//!     vec![Value::string("us")],
//! ])
//! .unwrap();
//! let verdicts = host
//!     .score(&[TestCandidate::complete(&[&[0, 1], &[2]]), TestCandidate::complete(&[&[0, 2], &[1]])])
//!     .unwrap();
//! assert!(verdicts[0].is_pass());
//! assert!(!verdicts[1].is_pass());
//! ```

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::__rt::Plugin;
use crate::setup::AttributeKind;
use crate::{Filter, Rule, Symbol, Verdict};

/// A rule's declaration as the engine would send it.
#[derive(Clone, Debug, PartialEq)]
pub struct TestSetup {
    rule_name: String,
    attributes: Vec<(String, AttributeKind)>,
    parameters: Vec<(String, f64)>,
    teams: Vec<String>,
}

impl Default for TestSetup {
    fn default() -> Self {
        TestSetup::new()
    }
}

impl TestSetup {
    /// A rule called `TestRule`, with no attributes, parameters or teams.
    pub fn new() -> TestSetup {
        TestSetup { rule_name: String::from("TestRule"), attributes: Vec::new(), parameters: Vec::new(), teams: vec![] }
    }

    /// Sets the rule's name.
    pub fn rule_name(mut self, name: &str) -> TestSetup {
        self.rule_name = String::from(name);
        self
    }

    /// Adds an attribute (the next column).
    pub fn attribute(mut self, name: &str, kind: AttributeKind) -> TestSetup {
        self.attributes.push((String::from(name), kind));
        self
    }

    /// Adds a parameter with its base value.
    pub fn parameter(mut self, name: &str, base_value: f64) -> TestSetup {
        self.parameters.push((String::from(name), base_value));
        self
    }

    /// Adds concrete teams.
    pub fn teams(mut self, names: &[&str]) -> TestSetup {
        self.teams.extend(names.iter().map(|n| String::from(*n)));
        self
    }
}

/// One player's value of one attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A `number`.
    Number(f64),
    /// A `string`.
    String(String),
    /// A `string_list`.
    StringList(Vec<String>),
    /// A `string_number_map`.
    Map(Vec<(String, f64)>),
}

impl Value {
    /// A `number`.
    pub fn number(value: f64) -> Value {
        Value::Number(value)
    }
    /// A `string`.
    pub fn string(value: &str) -> Value {
        Value::String(String::from(value))
    }
    /// A `string_list`.
    pub fn list(values: &[&str]) -> Value {
        Value::StringList(values.iter().map(|v| String::from(*v)).collect())
    }
    /// A `string_number_map`.
    pub fn map(entries: &[(&str, f64)]) -> Value {
        Value::Map(entries.iter().map(|(k, v)| (String::from(*k), *v)).collect())
    }
}

/// One candidate of a batch: rows of the loaded table per team, in team index order
/// (missing trailing teams are empty), the complete flag, and parameter values in force
/// (the base values unless given).
#[derive(Clone, Debug, PartialEq)]
pub struct TestCandidate {
    teams: Vec<Vec<u32>>,
    complete: bool,
    params: Option<Vec<f64>>,
}

impl TestCandidate {
    /// A finished match.
    pub fn complete(teams: &[&[u32]]) -> TestCandidate {
        TestCandidate { teams: teams.iter().map(|t| t.to_vec()).collect(), complete: true, params: None }
    }

    /// A match under construction.
    pub fn partial(teams: &[&[u32]]) -> TestCandidate {
        TestCandidate { complete: false, ..TestCandidate::complete(teams) }
    }

    /// With these parameter values in force (one per parameter, in order).
    pub fn with_params(mut self, values: &[f64]) -> TestCandidate {
        self.params = Some(values.to_vec());
        self
    }
}

/// One ticket of a filter batch: its players' rows, and parameter values in force.
#[derive(Clone, Debug, PartialEq)]
pub struct TestTicket {
    rows: Vec<u32>,
    params: Option<Vec<f64>>,
}

impl TestTicket {
    /// A ticket with these players (rows of the loaded table).
    pub fn new(rows: &[u32]) -> TestTicket {
        TestTicket { rows: rows.to_vec(), params: None }
    }

    /// With these parameter values in force.
    pub fn with_params(mut self, values: &[f64]) -> TestTicket {
        self.params = Some(values.to_vec());
        self
    }
}

/// A little-endian record writer.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&self) -> u32 {
        self.0.len() as u32
    }
    fn padded(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
        self.pad_to(4);
    }
    fn pad_to(&mut self, align: usize) {
        while !self.0.len().is_multiple_of(align) {
            self.0.push(0);
        }
    }
}

/// Plays the engine's part for one plugin instance.
#[derive(Debug)]
pub struct Host<R> {
    plugin: Plugin<R>,
    setup: TestSetup,
    symbols: Vec<String>,
}

impl<R: Rule> Host<R> {
    /// Sends `setup` to a new instance (`rallypoint_init`); `Err` holds the negative code,
    /// e.g. [`SetupError::code`](crate::SetupError::code) when the rule refuses.
    pub fn new(setup: &TestSetup) -> Result<Host<R>, i32> {
        let mut host = Host { plugin: Plugin::new(), setup: setup.clone(), symbols: Vec::new() };
        for (name, _) in &setup.parameters {
            host.symbol(name);
        }
        let record = host.encode_setup();
        match host.init_raw(&record) {
            0 => Ok(host),
            code => Err(code),
        }
    }

    /// The symbol of `text`, interning it if it is new (ids are assigned from 1 in order
    /// of first use, parameter names first).
    pub fn symbol(&mut self, text: &str) -> Symbol {
        let index = self.symbols.iter().position(|s| s == text).unwrap_or_else(|| {
            self.symbols.push(String::from(text));
            self.symbols.len() - 1
        });
        Symbol(index as u32 + 1)
    }

    /// Loads a player table: one row per player, one value per attribute, in column order
    /// (`rallypoint_load_players`). A value of the wrong kind encodes as that column's
    /// empty value.
    pub fn load_players(&mut self, players: &[Vec<Value>]) -> Result<(), i32> {
        let table = self.encode_table(players);
        match self.load_players_raw(&table) {
            0 => Ok(()),
            code => Err(code),
        }
    }

    /// Scores a batch of candidates over the loaded table (`rallypoint_score`).
    pub fn score(&mut self, candidates: &[TestCandidate]) -> Result<Vec<Verdict>, i32> {
        let batch = self.encode_candidates(candidates);
        let n = self.score_raw(&batch);
        let n = usize::try_from(n).map_err(|_| n)?;
        assert_eq!(n, candidates.len(), "rallypoint_score must return the number of candidates");
        let out = self.plugin.output(n * 16);
        Ok(out
            .chunks_exact(16)
            .map(|v| Verdict::decode(v.try_into().expect("16 bytes")).expect("the host would refuse this verdict"))
            .collect())
    }

    /// The setup record `new` sent (ABI.md, "Setup record").
    pub fn encode_setup(&self) -> Vec<u8> {
        let mut w = Writer::default();
        let s = &self.setup;
        for n in [crate::ABI_VERSION, s.attributes.len() as u32, s.parameters.len() as u32, s.teams.len() as u32] {
            w.u32(n);
        }
        w.u32(s.rule_name.len() as u32);
        w.padded(s.rule_name.as_bytes());
        for (name, kind) in &s.attributes {
            w.u32(kind.code());
            w.u32(name.len() as u32);
            w.padded(name.as_bytes());
        }
        for (i, (name, base)) in s.parameters.iter().enumerate() {
            w.u32(self.symbols.iter().position(|s| s == name).map_or(i as u32, |p| p as u32 + 1));
            w.u32(name.len() as u32);
            w.f64(*base);
            w.padded(name.as_bytes());
        }
        for team in &s.teams {
            w.u32(team.len() as u32);
            w.padded(team.as_bytes());
        }
        w.0
    }

    /// A player table (ABI.md, "Player table"), interning its strings.
    pub fn encode_table(&mut self, players: &[Vec<Value>]) -> Vec<u8> {
        let kinds: Vec<AttributeKind> = self.setup.attributes.iter().map(|(_, k)| *k).collect();
        let mut slots = Writer::default();
        let mut heap = Writer::default();
        for row in players {
            for (column, kind) in kinds.iter().enumerate() {
                match (kind, row.get(column)) {
                    (AttributeKind::Number, Some(Value::Number(v))) => slots.f64(*v),
                    (AttributeKind::Number, _) => slots.f64(0.0),
                    (AttributeKind::String, value) => {
                        let symbol = match value {
                            Some(Value::String(s)) => self.symbol(s).0,
                            _ => 0,
                        };
                        slots.u32(symbol);
                        slots.u32(0);
                    }
                    (AttributeKind::StringList, value) => {
                        let list = match value {
                            Some(Value::StringList(list)) => list.as_slice(),
                            _ => &[],
                        };
                        slots.u32(heap.len());
                        slots.u32(list.len() as u32);
                        for s in list {
                            let symbol = self.symbol(s).0;
                            heap.u32(symbol);
                        }
                    }
                    (AttributeKind::StringNumberMap, value) => {
                        let map = match value {
                            Some(Value::Map(map)) => map.as_slice(),
                            _ => &[],
                        };
                        heap.pad_to(8);
                        slots.u32(heap.len());
                        slots.u32(map.len() as u32);
                        for (k, v) in map {
                            let symbol = self.symbol(k).0;
                            heap.u32(symbol);
                            heap.u32(0);
                            heap.f64(*v);
                        }
                    }
                }
            }
        }
        let mut w = Writer::default();
        let heap_offset = (16 + slots.0.len()).next_multiple_of(8) as u32;
        for n in [players.len() as u32, kinds.len() as u32, heap_offset, heap.len()] {
            w.u32(n);
        }
        w.0.extend_from_slice(&slots.0);
        w.pad_to(8);
        w.0.extend_from_slice(&heap.0);
        w.0
    }

    /// A candidate batch (ABI.md, "Candidate batch").
    pub fn encode_candidates(&self, candidates: &[TestCandidate]) -> Vec<u8> {
        let n_teams = self.setup.teams.len().max(candidates.iter().map(|c| c.teams.len()).max().unwrap_or(0));
        let n_params = self.setup.parameters.len();
        fn teams(c: &TestCandidate, n_teams: usize) -> impl Iterator<Item = &[u32]> {
            (0..n_teams).map(|t| c.teams.get(t).map_or(&[][..], Vec::as_slice))
        }
        let n_members: usize = candidates.iter().map(|c| c.teams.iter().map(Vec::len).sum::<usize>()).sum();
        let mut w = Writer::default();
        for n in [candidates.len(), candidates.len() * n_teams, n_members, n_params] {
            w.u32(n as u32);
        }
        for c in candidates {
            for v in self.param_values(c.params.as_deref()) {
                w.f64(v);
            }
        }
        for c in candidates {
            w.u32(u32::from(c.complete));
        }
        for c in 0..=candidates.len() {
            w.u32((c * n_teams) as u32);
        }
        let mut offset = 0;
        w.u32(0);
        for c in candidates {
            for team in teams(c, n_teams) {
                offset += team.len() as u32;
                w.u32(offset);
            }
        }
        for c in candidates {
            for &row in teams(c, n_teams).flatten() {
                w.u32(row);
            }
        }
        w.0
    }

    /// A ticket batch (ABI.md, "Ticket batch").
    pub fn encode_tickets(&self, tickets: &[TestTicket]) -> Vec<u8> {
        let mut w = Writer::default();
        let n_members: usize = tickets.iter().map(|t| t.rows.len()).sum();
        for n in [tickets.len(), n_members, self.setup.parameters.len(), 0] {
            w.u32(n as u32);
        }
        for t in tickets {
            for v in self.param_values(t.params.as_deref()) {
                w.f64(v);
            }
        }
        let mut offset = 0;
        w.u32(0);
        for t in tickets {
            offset += t.rows.len() as u32;
            w.u32(offset);
        }
        for row in tickets.iter().flat_map(|t| &t.rows) {
            w.u32(*row);
        }
        w.0
    }

    fn param_values(&self, given: Option<&[f64]>) -> Vec<f64> {
        let base = self.setup.parameters.iter().map(|(_, v)| *v);
        match given {
            Some(values) => base.enumerate().map(|(i, b)| values.get(i).copied().unwrap_or(b)).collect(),
            None => base.collect(),
        }
    }

    /// Copies `bytes` into the buffer `kind` as the host does (`rallypoint_buffer`).
    fn put(&mut self, kind: i32, bytes: &[u8]) -> i32 {
        let Some(buffer) = self.plugin.buffer(kind, bytes.len() as u32) else { return i32::MIN };
        buffer[..bytes.len()].copy_from_slice(bytes);
        bytes.len() as i32
    }

    /// Calls `rallypoint_init` with this record; returns what it returns.
    pub fn init_raw(&mut self, record: &[u8]) -> i32 {
        let len = self.put(1, record);
        self.plugin.init(len)
    }

    /// Calls `rallypoint_load_players` with this table; returns what it returns.
    pub fn load_players_raw(&mut self, table: &[u8]) -> i32 {
        let len = self.put(0, table);
        self.plugin.load_players(len)
    }

    /// Calls `rallypoint_score` with this batch (the output buffer is made large enough
    /// for its `n_candidates`); returns what it returns. See [`Host::output`].
    pub fn score_raw(&mut self, batch: &[u8]) -> i32 {
        let n = batch.get(..4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        self.plugin.buffer(2, n.saturating_mul(16));
        let len = self.put(1, batch);
        self.plugin.score(len)
    }

    /// The first `len` bytes of the output buffer.
    pub fn output(&self, len: usize) -> &[u8] {
        self.plugin.output(len)
    }
}

impl<R: Filter> Host<R> {
    /// Filters a batch of tickets over the loaded table (`rallypoint_filter`): `true` = keep.
    pub fn filter(&mut self, tickets: &[TestTicket]) -> Result<Vec<bool>, i32> {
        let batch = self.encode_tickets(tickets);
        let n = self.filter_raw(&batch);
        let n = usize::try_from(n).map_err(|_| n)?;
        assert_eq!(n, tickets.len(), "rallypoint_filter must return the number of tickets");
        Ok(self
            .plugin
            .output(n)
            .iter()
            .map(|&b| {
                assert!(b <= 1, "the host would refuse keep byte {b}");
                b == 1
            })
            .collect())
    }

    /// Calls `rallypoint_filter` with this ticket batch; returns what it returns.
    pub fn filter_raw(&mut self, batch: &[u8]) -> i32 {
        let n = batch.get(..4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        self.plugin.buffer(2, n);
        let len = self.put(1, batch);
        self.plugin.filter(len)
    }
}
