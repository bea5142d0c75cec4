//! Encoders and the verdict decoder for the binary formats of plugin ABI v1
//! (`rules-plugins/ABI.md`, which is authoritative): the setup record, the player table,
//! the candidate batch, the ticket batch and the verdicts.
//!
//! Pure Rust, compiled with or without the `plugins` feature, so the search, the host and
//! `rallypoint plugin check` share one implementation. The builders are meant to be kept
//! and refilled: `clear` keeps their buffers, so after warm-up filling and encoding do not
//! allocate. Builders trust their caller (the engine) to follow the shape of the format;
//! the decoder trusts nothing, since its input comes from the guest.

use std::sync::atomic::{AtomicU64, Ordering};

/// The ABI version this module encodes (`rallypoint_abi_version` must return it).
pub const ABI_VERSION: u32 = 1;

/// The largest setup record a plugin must accept (ABI.md: "at most 64 KiB").
pub const SETUP_MAX_BYTES: usize = 64 * 1024;

/// The size of one verdict in the output buffer.
pub const VERDICT_BYTES: usize = 16;

/// The `kind` argument of `rallypoint_buffer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferKind {
    /// The player table buffer (0).
    Table = 0,
    /// The input buffer: setup record, candidate batch or ticket batch (1).
    Input = 1,
    /// The output buffer: verdicts or filter bytes (2).
    Output = 2,
}

/// The kind of a rule attribute, which decides the content of its column in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrKind {
    /// `number`: an `f64` per slot (code 0).
    Number,
    /// `string`: a symbol id per slot (code 1).
    String,
    /// `string_list`: symbol ids in the heap (code 2).
    StringList,
    /// `string_number_map`: `(symbol, f64)` entries in the heap (code 3).
    StringNumberMap,
}

impl AttrKind {
    /// The ABI code of this kind.
    pub fn code(self) -> u32 {
        match self {
            AttrKind::Number => 0,
            AttrKind::String => 1,
            AttrKind::StringList => 2,
            AttrKind::StringNumberMap => 3,
        }
    }
}

/// The setup record passed to `rallypoint_init`: what a plugin learns about its rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// The rule's name in the rule set.
    pub rule_name: String,
    /// The rule's attributes, in order: the columns of the player table.
    pub attributes: Vec<(String, AttrKind)>,
    /// The rule's parameters in document order.
    pub parameters: Vec<SetupParameter>,
    /// The concrete team names in index order.
    pub teams: Vec<String>,
}

/// One rule parameter in the setup record.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupParameter {
    /// The parameter's name.
    pub name: String,
    /// The interned id of the name as a string (a player string equal to the name has it).
    pub symbol: u32,
    /// The value before expansions.
    pub base: f64,
}

impl Setup {
    /// Appends the encoded record to `out`.
    ///
    /// The ABI caps the record at [`SETUP_MAX_BYTES`]; the host refuses to load a plugin
    /// whose record is larger, so this function does not check it.
    pub fn encode(&self, out: &mut Vec<u8>) {
        // Padding is relative to the start of the record, not of `out`.
        let start = out.len();
        put_u32(out, ABI_VERSION);
        put_u32(out, len_u32(self.attributes.len()));
        put_u32(out, len_u32(self.parameters.len()));
        put_u32(out, len_u32(self.teams.len()));
        put_str(out, start, &self.rule_name);
        for (name, kind) in &self.attributes {
            put_u32(out, kind.code());
            put_str(out, start, name);
        }
        for parameter in &self.parameters {
            put_u32(out, parameter.symbol);
            put_u32(out, len_u32(parameter.name.len()));
            out.extend_from_slice(&parameter.base.to_le_bytes());
            out.extend_from_slice(parameter.name.as_bytes());
            pad(out, start, 4);
        }
        for team in &self.teams {
            put_str(out, start, team);
        }
    }
}

/// The next table id; ids are process-wide so that a worker never mistakes one table for
/// another that happens to have the same shape.
static NEXT_TABLE_ID: AtomicU64 = AtomicU64::new(1);

fn fresh_table_id() -> u64 {
    NEXT_TABLE_ID.fetch_add(1, Ordering::Relaxed)
}

/// The player table passed to `rallypoint_load_players`, built row by row.
///
/// Reusable: [`Table::clear`] keeps the buffers and gives the table a fresh [`Table::id`],
/// which tells each plugin worker that it must load the table again. The slots and the
/// heap are kept apart while building (the heap follows all slots in the encoding), so the
/// host copies them into guest memory as two pieces and [`Table::finish`] is only needed
/// for a contiguous copy.
#[derive(Debug)]
pub struct Table {
    n_columns: usize,
    n_rows: u32,
    id: u64,
    /// `n_rows × n_columns` 8-byte slots, row-major, without the 16-byte header.
    slots: Vec<u8>,
    heap: Vec<u8>,
    /// Header + slots + heap, built by `finish`.
    joined: Vec<u8>,
}

impl Table {
    /// An empty table with `n_columns` columns (the rule's attributes).
    pub fn new(n_columns: usize) -> Table {
        Table { n_columns, n_rows: 0, id: fresh_table_id(), slots: Vec::new(), heap: Vec::new(), joined: Vec::new() }
    }

    /// Removes every row, keeping the buffers, and gives the table a fresh id.
    pub fn clear(&mut self) {
        self.n_rows = 0;
        self.slots.clear();
        self.heap.clear();
        self.id = fresh_table_id();
    }

    /// Starts a row; follow it with exactly one value per column, in column order.
    pub fn begin_row(&mut self) {
        self.complete_row();
        self.n_rows += 1;
    }

    /// Appends a `number` cell.
    pub fn number(&mut self, v: f64) {
        self.slots.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a `string` cell.
    pub fn string(&mut self, sym: u32) {
        put_u32(&mut self.slots, sym);
        put_u32(&mut self.slots, 0);
    }

    /// Appends a `string_list` cell; the symbols go to the heap.
    pub fn string_list(&mut self, syms: &[u32]) {
        pad(&mut self.heap, 0, 4);
        put_u32(&mut self.slots, len_u32(self.heap.len()));
        put_u32(&mut self.slots, len_u32(syms.len()));
        for &sym in syms {
            put_u32(&mut self.heap, sym);
        }
    }

    /// Appends a `string_number_map` cell; the entries go to the heap.
    pub fn map(&mut self, entries: &[(u32, f64)]) {
        pad(&mut self.heap, 0, 8);
        put_u32(&mut self.slots, len_u32(self.heap.len()));
        put_u32(&mut self.slots, len_u32(entries.len()));
        for &(key, value) in entries {
            put_u32(&mut self.heap, key);
            put_u32(&mut self.heap, 0);
            self.heap.extend_from_slice(&value.to_le_bytes());
        }
    }

    /// The number of rows.
    pub fn rows(&self) -> u32 {
        self.n_rows
    }

    /// The number of columns.
    pub fn columns(&self) -> usize {
        self.n_columns
    }

    /// The table's identity: it changes on [`Table::clear`] and is unique in the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The encoded table as one contiguous slice (kept in an internal buffer).
    pub fn finish(&mut self) -> &[u8] {
        self.complete_row();
        let header = self.header();
        self.joined.clear();
        self.joined.extend_from_slice(&header);
        self.joined.extend_from_slice(&self.slots);
        self.joined.extend_from_slice(&self.heap);
        &self.joined
    }

    /// The encoding in three pieces, to copy it somewhere without joining it first:
    /// header, slots (which start at byte 16) and heap (which starts at the header's
    /// `heap_offset`, right after the slots). Their lengths add up to
    /// [`Table::encoded_len`].
    pub fn parts(&self) -> ([u8; 16], &[u8], &[u8]) {
        (self.header(), self.slots_of_complete_rows(), &self.heap)
    }

    /// The length of the encoding.
    pub fn encoded_len(&self) -> usize {
        16 + self.n_rows as usize * self.n_columns * 8 + self.heap.len()
    }

    fn header(&self) -> [u8; 16] {
        let heap_offset = 16 + self.n_rows as usize * self.n_columns * 8;
        let mut header = [0u8; 16];
        header[0..4].copy_from_slice(&self.n_rows.to_le_bytes());
        header[4..8].copy_from_slice(&len_u32(self.n_columns).to_le_bytes());
        header[8..12].copy_from_slice(&len_u32(heap_offset).to_le_bytes());
        header[12..16].copy_from_slice(&len_u32(self.heap.len()).to_le_bytes());
        header
    }

    /// Pads or cuts the slots to whole rows. A row with the wrong number of cells is a bug
    /// in the caller; fixing the length here keeps every later row where the header says.
    fn complete_row(&mut self) {
        let expected = self.n_rows as usize * self.n_columns * 8;
        debug_assert_eq!(self.slots.len(), expected, "a table row must have one cell per column");
        self.slots.resize(expected, 0);
    }

    /// The slots of the rows the header counts. Not asserted here: the host reads tables
    /// on the hot path, where a malformed last row must not panic (the guest then sees
    /// zeros or stale bytes in the missing cells).
    fn slots_of_complete_rows(&self) -> &[u8] {
        let expected = self.n_rows as usize * self.n_columns * 8;
        &self.slots[..expected.min(self.slots.len())]
    }
}

/// A candidate batch for `rallypoint_score`, built candidate by candidate.
///
/// Each section of the layout is kept in its own little-endian byte buffer, so
/// [`Batch::encode`] is a handful of copies into one reused buffer.
#[derive(Debug)]
pub struct Batch {
    n_parameters: usize,
    n_candidates: u32,
    n_teams: u32,
    parameters: Vec<u8>,
    flags: Vec<u8>,
    team_offsets: Vec<u8>,
    member_offsets: Vec<u8>,
    member_rows: Vec<u8>,
    n_members: u32,
    bytes: Vec<u8>,
}

impl Batch {
    /// An empty batch for a rule with `n_parameters` parameters.
    pub fn new(n_parameters: usize) -> Batch {
        Batch {
            n_parameters,
            n_candidates: 0,
            n_teams: 0,
            parameters: Vec::new(),
            flags: Vec::new(),
            team_offsets: Vec::new(),
            member_offsets: Vec::new(),
            member_rows: Vec::new(),
            n_members: 0,
            bytes: Vec::new(),
        }
    }

    /// Removes every candidate, keeping the buffers.
    pub fn clear(&mut self) {
        self.n_candidates = 0;
        self.n_teams = 0;
        self.n_members = 0;
        self.parameters.clear();
        self.flags.clear();
        self.team_offsets.clear();
        self.member_offsets.clear();
        self.member_rows.clear();
    }

    /// Starts a candidate with the parameter values in force for it (one per rule
    /// parameter) and whether it is a complete match. Follow it with one
    /// [`Batch::begin_team`] per concrete team, in team order.
    pub fn begin_candidate(&mut self, parameters: &[f64], complete: bool) {
        debug_assert_eq!(parameters.len(), self.n_parameters, "one value per rule parameter");
        for i in 0..self.n_parameters {
            let value = parameters.get(i).copied().unwrap_or(0.0);
            self.parameters.extend_from_slice(&value.to_le_bytes());
        }
        put_u32(&mut self.flags, u32::from(complete));
        put_u32(&mut self.team_offsets, self.n_teams);
        self.n_candidates += 1;
    }

    /// Starts the next team of the current candidate.
    pub fn begin_team(&mut self) {
        put_u32(&mut self.member_offsets, self.n_members);
        self.n_teams += 1;
    }

    /// Adds a player (a row of the table) to the current team.
    pub fn member(&mut self, row: u32) {
        put_u32(&mut self.member_rows, row);
        self.n_members += 1;
    }

    /// The number of candidates.
    pub fn len(&self) -> usize {
        self.n_candidates as usize
    }

    /// Whether the batch has no candidate.
    pub fn is_empty(&self) -> bool {
        self.n_candidates == 0
    }

    /// The encoded batch (kept in an internal buffer, valid until the next change).
    pub fn encode(&mut self) -> &[u8] {
        let out = &mut self.bytes;
        out.clear();
        put_u32(out, self.n_candidates);
        put_u32(out, self.n_teams);
        put_u32(out, self.n_members);
        put_u32(out, len_u32(self.n_parameters));
        out.extend_from_slice(&self.parameters);
        out.extend_from_slice(&self.flags);
        out.extend_from_slice(&self.team_offsets);
        put_u32(out, self.n_teams);
        out.extend_from_slice(&self.member_offsets);
        put_u32(out, self.n_members);
        out.extend_from_slice(&self.member_rows);
        &self.bytes
    }
}

/// A ticket batch for `rallypoint_filter`, built ticket by ticket.
#[derive(Debug)]
pub struct TicketBatch {
    n_parameters: usize,
    n_tickets: u32,
    n_members: u32,
    parameters: Vec<u8>,
    member_offsets: Vec<u8>,
    member_rows: Vec<u8>,
    bytes: Vec<u8>,
}

impl TicketBatch {
    /// An empty batch for a rule with `n_parameters` parameters.
    pub fn new(n_parameters: usize) -> TicketBatch {
        TicketBatch {
            n_parameters,
            n_tickets: 0,
            n_members: 0,
            parameters: Vec::new(),
            member_offsets: Vec::new(),
            member_rows: Vec::new(),
            bytes: Vec::new(),
        }
    }

    /// Removes every ticket, keeping the buffers.
    pub fn clear(&mut self) {
        self.n_tickets = 0;
        self.n_members = 0;
        self.parameters.clear();
        self.member_offsets.clear();
        self.member_rows.clear();
    }

    /// Starts a ticket with the parameter values in force for it; follow it with its
    /// players ([`TicketBatch::member`]).
    pub fn begin_ticket(&mut self, parameters: &[f64]) {
        debug_assert_eq!(parameters.len(), self.n_parameters, "one value per rule parameter");
        for i in 0..self.n_parameters {
            let value = parameters.get(i).copied().unwrap_or(0.0);
            self.parameters.extend_from_slice(&value.to_le_bytes());
        }
        put_u32(&mut self.member_offsets, self.n_members);
        self.n_tickets += 1;
    }

    /// Adds a player (a row of the table) to the current ticket.
    pub fn member(&mut self, row: u32) {
        put_u32(&mut self.member_rows, row);
        self.n_members += 1;
    }

    /// The number of tickets.
    pub fn len(&self) -> usize {
        self.n_tickets as usize
    }

    /// Whether the batch has no ticket.
    pub fn is_empty(&self) -> bool {
        self.n_tickets == 0
    }

    /// The encoded batch (kept in an internal buffer, valid until the next change).
    pub fn encode(&mut self) -> &[u8] {
        let out = &mut self.bytes;
        out.clear();
        put_u32(out, self.n_tickets);
        put_u32(out, self.n_members);
        put_u32(out, len_u32(self.n_parameters));
        put_u32(out, 0);
        out.extend_from_slice(&self.parameters);
        out.extend_from_slice(&self.member_offsets);
        put_u32(out, self.n_members);
        out.extend_from_slice(&self.member_rows);
        &self.bytes
    }
}

/// A plugin's verdict on one candidate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// Whether the candidate passes the rule.
    pub pass: bool,
    /// The candidate's score, when the plugin gave one (always finite; higher is better).
    pub score: Option<f64>,
}

/// Verdict flag bit 0: the candidate passes.
const VERDICT_PASS: u32 = 1;
/// Verdict flag bit 1: the score is set.
const VERDICT_SCORED: u32 = 2;

/// Decodes `n` verdicts from the start of `bytes` into `out` (cleared first), checking
/// everything ABI.md requires: enough bytes, no unknown flag bit, a zero reserved word and
/// a finite score where one is set.
///
/// # Errors
///
/// A short description of the first violation, for [`PluginError::InvalidOutput`]
/// (`out` is then left empty).
///
/// [`PluginError::InvalidOutput`]: super::PluginError::InvalidOutput
pub fn decode_verdicts(bytes: &[u8], n: usize, out: &mut Vec<Verdict>) -> Result<(), &'static str> {
    out.clear();
    let needed = n.checked_mul(VERDICT_BYTES).ok_or("the verdict count is too large")?;
    let Some(bytes) = bytes.get(..needed) else {
        return Err("the output holds fewer verdicts than candidates");
    };
    out.reserve(n);
    for chunk in bytes.chunks_exact(VERDICT_BYTES) {
        let flags = u32_at(chunk, 0);
        let reserved = u32_at(chunk, 4);
        let score = f64::from_le_bytes(chunk[8..16].try_into().unwrap_or([0; 8]));
        let res = if flags & !(VERDICT_PASS | VERDICT_SCORED) != 0 {
            Err("a verdict has unknown flag bits set")
        } else if reserved != 0 {
            Err("a verdict's reserved word is not 0")
        } else if flags & VERDICT_SCORED != 0 && !score.is_finite() {
            Err("a verdict has a score that is not finite")
        } else {
            Ok(Verdict { pass: flags & VERDICT_PASS != 0, score: (flags & VERDICT_SCORED != 0).then_some(score) })
        };
        match res {
            Ok(verdict) => out.push(verdict),
            Err(what) => {
                out.clear();
                return Err(what);
            }
        }
    }
    Ok(())
}

/// Decodes `n` filter bytes (each `0` or `1`) from the start of `bytes` into `out`
/// (cleared first).
///
/// # Errors
///
/// A short description of the first violation (`out` is then left empty).
pub fn decode_filter(bytes: &[u8], n: usize, out: &mut Vec<bool>) -> Result<(), &'static str> {
    out.clear();
    let Some(bytes) = bytes.get(..n) else {
        return Err("the output holds fewer bytes than tickets");
    };
    if bytes.iter().any(|&b| b > 1) {
        return Err("a filter byte is neither 0 nor 1");
    }
    out.extend(bytes.iter().map(|&b| b == 1));
    Ok(())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A length or offset as the ABI's `u32`. Every length the engine encodes is far below
/// 4 GiB (guest memory is 32-bit); saturating keeps this total, and the host's size checks
/// refuse anything that large before a guest sees it.
fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A length-prefixed string padded to 4 (relative to `start`).
fn put_str(out: &mut Vec<u8>, start: usize, s: &str) {
    put_u32(out, len_u32(s.len()));
    out.extend_from_slice(s.as_bytes());
    pad(out, start, 4);
}

/// Zero bytes until `out[start..]` is a multiple of `to` long.
fn pad(out: &mut Vec<u8>, start: usize, to: usize) {
    while !(out.len() - start).is_multiple_of(to) {
        out.push(0);
    }
}
