//! Zero-copy views over the player table and the candidate and ticket batches, read in
//! place from the buffers the host wrote. Each input is validated once, as a whole, when it
//! arrives (bounds, counts, offsets, row numbers), so the accessors below cannot fail: their
//! fallbacks (`NaN`, empty) are unreachable for an input that was accepted.

use core::iter::FusedIterator;
use core::slice::ChunksExact;

use crate::errors;
use crate::read::{Malformed, Reader, array, f64_at, u32_at, u32_index};
use crate::setup::{Attr, AttributeKind, Param, Setup, Symbol, kind};

/// Where the parts of a validated player table are (ABI.md, "Player table").
#[derive(Clone, Copy, Debug)]
pub(crate) struct TableLayout {
    n_rows: usize,
    stride: usize,
    heap_offset: usize,
    heap_len: usize,
}

impl TableLayout {
    pub(crate) fn validate(bytes: &[u8], setup: &Setup) -> Result<TableLayout, i32> {
        let mut r = Reader::new(bytes);
        let n_rows = r.u32()? as usize;
        let n_columns = r.u32()? as usize;
        let heap_offset = r.u32()? as usize;
        let heap_len = r.u32()? as usize;
        if n_columns != setup.attributes().len() {
            return Err(errors::MALFORMED_INPUT);
        }
        let stride = n_columns * 8;
        let slots = r.array(n_rows, stride)?;
        let heap_end = heap_offset.checked_add(heap_len).ok_or(Malformed)?;
        if heap_offset < r.pos() || heap_end > bytes.len() {
            return Err(errors::MALFORMED_INPUT);
        }
        let layout = TableLayout { n_rows, stride, heap_offset, heap_len };
        // Every list and map must lie inside the heap.
        for (column, attribute) in setup.attributes().iter().enumerate() {
            let size = match attribute.kind() {
                AttributeKind::Number | AttributeKind::String => continue,
                AttributeKind::StringList => 4,
                AttributeKind::StringNumberMap => 16,
            };
            for row in 0..n_rows {
                let slot = row * stride + column * 8;
                let (offset, count) = (u32_at(slots, slot), u32_at(slots, slot + 4));
                let (Some(offset), Some(count)) = (offset, count) else { return Err(errors::MALFORMED_INPUT) };
                let end = (count as usize).checked_mul(size).and_then(|len| len.checked_add(offset as usize));
                if end.is_none_or(|end| end > heap_len) {
                    return Err(errors::MALFORMED_INPUT);
                }
            }
        }
        Ok(layout)
    }

    /// The view of a table validated with this layout. `None` only if `bytes` is not the
    /// buffer that was validated.
    pub(crate) fn view<'a>(&self, bytes: &'a [u8]) -> Option<TableView<'a>> {
        Some(TableView {
            slots: array(bytes, 16, self.n_rows, self.stride)?,
            heap: array(bytes, self.heap_offset, self.heap_len, 1)?,
            n_rows: self.n_rows,
            stride: self.stride,
        })
    }
}

/// A validated player table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TableView<'a> {
    slots: &'a [u8],
    heap: &'a [u8],
    n_rows: usize,
    stride: usize,
}

impl<'a> TableView<'a> {
    #[inline]
    fn player(&self, row: u32) -> Player<'a> {
        let start = row as usize * self.stride;
        Player { row: self.slots.get(start..start + self.stride).unwrap_or(&[]), heap: self.heap, index: row }
    }

    fn check_rows(&self, rows: &[u8]) -> Result<(), i32> {
        match rows.chunks_exact(4).all(|r| (u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as usize) < self.n_rows) {
            true => Ok(()),
            false => Err(errors::MALFORMED_INPUT),
        }
    }
}

/// Checks a CSR offset array: starts at 0, never decreases, ends at `total`.
fn check_offsets(offsets: &[u8], total: usize) -> Result<(), i32> {
    let mut previous = 0;
    for (i, o) in offsets.chunks_exact(4).enumerate() {
        let o = u32::from_le_bytes([o[0], o[1], o[2], o[3]]) as usize;
        if (i == 0 && o != 0) || o < previous {
            return Err(errors::MALFORMED_INPUT);
        }
        previous = o;
    }
    if previous != total {
        return Err(errors::MALFORMED_INPUT);
    }
    Ok(())
}

/// `members[offsets[i] .. offsets[i + 1]]`, for validated offsets.
#[inline]
fn range<'a>(offsets: &[u8], members: &'a [u8], i: usize) -> &'a [u8] {
    let start = u32_index(offsets, i).unwrap_or(0) as usize;
    let end = u32_index(offsets, i + 1).unwrap_or(0) as usize;
    members.get(start * 4..end * 4).unwrap_or(&[])
}

/// A validated candidate batch (ABI.md, "Candidate batch").
#[derive(Debug)]
pub(crate) struct CandidateBatch<'a> {
    setup: &'a Setup,
    table: TableView<'a>,
    n_candidates: usize,
    n_params: usize,
    n_teams: usize,
    params: &'a [u8],
    flags: &'a [u8],
    member_offsets: &'a [u8],
    member_rows: &'a [u8],
}

impl<'a> CandidateBatch<'a> {
    pub(crate) fn parse(bytes: &'a [u8], setup: &'a Setup, table: TableView<'a>) -> Result<Self, i32> {
        let mut r = Reader::new(bytes);
        let n_candidates = r.u32()? as usize;
        let n_teams_total = r.u32()? as usize;
        let n_members_total = r.u32()? as usize;
        let n_params = r.u32()? as usize;
        let n_teams = setup.team_count();
        if n_params != setup.parameters().len() || n_candidates.checked_mul(n_teams) != Some(n_teams_total) {
            return Err(errors::MALFORMED_INPUT);
        }
        let params = r.array(n_candidates.checked_mul(n_params).ok_or(Malformed)?, 8)?;
        let flags = r.array(n_candidates, 4)?;
        // Every candidate lists all concrete teams, so candidate c's teams start at c × n_teams.
        let team_offsets = r.array(n_candidates + 1, 4)?;
        for (c, o) in team_offsets.chunks_exact(4).enumerate() {
            if u32::from_le_bytes([o[0], o[1], o[2], o[3]]) as usize != c * n_teams {
                return Err(errors::MALFORMED_INPUT);
            }
        }
        let member_offsets = r.array(n_teams_total + 1, 4)?;
        check_offsets(member_offsets, n_members_total)?;
        let member_rows = r.array(n_members_total, 4)?;
        table.check_rows(member_rows)?;
        Ok(CandidateBatch { setup, table, n_candidates, n_params, n_teams, params, flags, member_offsets, member_rows })
    }

    pub(crate) fn len(&self) -> usize {
        self.n_candidates
    }

    pub(crate) fn candidate(&'a self, index: usize) -> Candidate<'a> {
        Candidate { batch: self, index }
    }
}

/// One candidate match: its teams (all concrete teams, in index order, some possibly
/// empty), the parameter values in force for it, and whether it is complete.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    batch: &'a CandidateBatch<'a>,
    index: usize,
}

impl<'a> Candidate<'a> {
    /// `true` for a finished match about to be proposed; `false` for a match under
    /// construction, where the rule should fail only if no way of completing it can pass
    /// (see the crate docs).
    pub fn is_complete(&self) -> bool {
        u32_index(self.batch.flags, self.index).is_some_and(|f| f & 1 != 0)
    }

    /// The value of `param` in force for this candidate (after expansions).
    pub fn param(&self, param: Param) -> f64 {
        let i = self.index * self.batch.n_params + param.index();
        if param.index() >= self.batch.n_params {
            return f64::NAN;
        }
        f64_at(self.batch.params, i * 8).unwrap_or(f64::NAN)
    }

    /// The teams, in index order.
    pub fn teams(&self) -> Teams<'a> {
        Teams { batch: self.batch, next: self.index * self.batch.n_teams, end: (self.index + 1) * self.batch.n_teams }
    }

    /// The team with index `index`.
    pub fn team(&self, index: usize) -> Option<Team<'a>> {
        (index < self.batch.n_teams).then(|| Team::new(self.batch, self.index * self.batch.n_teams + index))
    }

    /// The number of teams (= [`Setup::team_count`]).
    pub fn team_count(&self) -> usize {
        self.batch.n_teams
    }

    /// Every player of every team, team by team.
    pub fn players(&self) -> impl Iterator<Item = Player<'a>> + 'a {
        self.teams().flat_map(|t| t.players())
    }

    /// The number of players on all teams.
    pub fn player_count(&self) -> usize {
        let first = self.index * self.batch.n_teams;
        let start = u32_index(self.batch.member_offsets, first).unwrap_or(0);
        let end = u32_index(self.batch.member_offsets, first + self.batch.n_teams).unwrap_or(0);
        end.saturating_sub(start) as usize
    }

    /// The rule's setup (team names, parameter base values).
    pub fn setup(&self) -> &'a Setup {
        self.batch.setup
    }
}

/// The teams of a candidate: see [`Candidate::teams`].
#[derive(Clone, Debug)]
pub struct Teams<'a> {
    batch: &'a CandidateBatch<'a>,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Teams<'a> {
    type Item = Team<'a>;

    #[inline]
    fn next(&mut self) -> Option<Team<'a>> {
        (self.next < self.end).then(|| {
            self.next += 1;
            Team::new(self.batch, self.next - 1)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.end - self.next, Some(self.end - self.next))
    }
}

impl ExactSizeIterator for Teams<'_> {}
impl FusedIterator for Teams<'_> {}

/// One team of a candidate.
#[derive(Clone, Copy, Debug)]
pub struct Team<'a> {
    batch: &'a CandidateBatch<'a>,
    index: usize,
    members: &'a [u8],
}

impl<'a> Team<'a> {
    /// `global`: the team's position in the batch's member offsets.
    fn new(batch: &'a CandidateBatch<'a>, global: usize) -> Team<'a> {
        let index = global.checked_rem(batch.n_teams).unwrap_or(0);
        Team { batch, index, members: range(batch.member_offsets, batch.member_rows, global) }
    }

    /// The concrete team's index (the order of [`Setup::team_names`]).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The concrete team's name, e.g. `red` or `squad_2`.
    pub fn name(&self) -> &'a str {
        self.batch.setup.team_name(self.index).unwrap_or("")
    }

    /// The number of players seated on the team.
    pub fn len(&self) -> usize {
        self.members.len() / 4
    }

    /// Whether no player is seated on the team yet.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The team's players.
    pub fn players(&self) -> Players<'a> {
        Players { table: self.batch.table, rows: self.members.chunks_exact(4) }
    }

    /// The team's `i`-th player.
    pub fn player(&self, i: usize) -> Option<Player<'a>> {
        u32_index(self.members, i).map(|row| self.batch.table.player(row))
    }
}

/// Players of a team or a ticket.
#[derive(Clone, Debug)]
pub struct Players<'a> {
    table: TableView<'a>,
    rows: ChunksExact<'a, u8>,
}

impl<'a> Iterator for Players<'a> {
    type Item = Player<'a>;

    #[inline]
    fn next(&mut self) -> Option<Player<'a>> {
        let r = self.rows.next()?;
        Some(self.table.player(u32::from_le_bytes([r[0], r[1], r[2], r[3]])))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}

impl ExactSizeIterator for Players<'_> {}
impl FusedIterator for Players<'_> {}

/// One player's row of the table. For a player in a party, number attributes hold the
/// party's average and string lists the union of the members' lists (see the crate docs).
#[derive(Clone, Copy, Debug)]
pub struct Player<'a> {
    row: &'a [u8],
    heap: &'a [u8],
    index: u32,
}

impl<'a> Player<'a> {
    /// The player's row in the table (stable for one table: the same player in two
    /// candidates of a batch has the same row).
    pub fn row(&self) -> usize {
        self.index as usize
    }

    /// A `number` attribute.
    #[inline]
    pub fn number(&self, attr: Attr<kind::Number>) -> f64 {
        f64_at(self.row, attr.column() * 8).unwrap_or(f64::NAN)
    }

    /// A `string` attribute.
    #[inline]
    pub fn string(&self, attr: Attr<kind::String>) -> Symbol {
        Symbol(u32_at(self.row, attr.column() * 8).unwrap_or(0))
    }

    /// A `string_list` attribute.
    #[inline]
    pub fn string_list(&self, attr: Attr<kind::StringList>) -> Symbols<'a> {
        Symbols { bytes: self.heap_array(attr.column(), 4) }
    }

    /// A `string_number_map` attribute.
    #[inline]
    pub fn map(&self, attr: Attr<kind::StringNumberMap>) -> NumberMap<'a> {
        NumberMap { bytes: self.heap_array(attr.column(), 16) }
    }

    fn heap_array(&self, column: usize, size: usize) -> &'a [u8] {
        let offset = u32_at(self.row, column * 8).unwrap_or(0) as usize;
        let count = u32_at(self.row, column * 8 + 4).unwrap_or(0) as usize;
        array(self.heap, offset, count, size).unwrap_or(&[])
    }
}

/// The symbols of a `string_list` attribute, in the table's order.
#[derive(Clone, Debug)]
pub struct Symbols<'a> {
    bytes: &'a [u8],
}

impl Symbols<'_> {
    /// Whether the list holds `symbol`.
    pub fn contains(&self, symbol: Symbol) -> bool {
        self.clone().any(|s| s == symbol)
    }
}

impl Iterator for Symbols<'_> {
    type Item = Symbol;

    #[inline]
    fn next(&mut self) -> Option<Symbol> {
        let (head, tail) = self.bytes.split_first_chunk::<4>()?;
        self.bytes = tail;
        Some(Symbol(u32::from_le_bytes(*head)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.bytes.len() / 4, Some(self.bytes.len() / 4))
    }
}

impl ExactSizeIterator for Symbols<'_> {}
impl FusedIterator for Symbols<'_> {}

/// A `string_number_map` attribute: (key, value) entries in the table's order.
#[derive(Clone, Copy, Debug)]
pub struct NumberMap<'a> {
    bytes: &'a [u8],
}

impl<'a> NumberMap<'a> {
    /// The value for `key` (a linear scan: maps are small).
    pub fn get(&self, key: Symbol) -> Option<f64> {
        self.iter().find(|&(k, _)| k == key).map(|(_, v)| v)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() / 16
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The entries.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Symbol, f64)> + 'a {
        self.bytes.chunks_exact(16).map(|e| (Symbol(u32_at(e, 0).unwrap_or(0)), f64_at(e, 8).unwrap_or(f64::NAN)))
    }
}

/// A validated ticket batch (ABI.md, "Ticket batch").
#[derive(Debug)]
pub(crate) struct TicketBatch<'a> {
    table: TableView<'a>,
    n_tickets: usize,
    n_params: usize,
    params: &'a [u8],
    member_offsets: &'a [u8],
    member_rows: &'a [u8],
}

impl<'a> TicketBatch<'a> {
    pub(crate) fn parse(bytes: &'a [u8], setup: &Setup, table: TableView<'a>) -> Result<Self, i32> {
        let mut r = Reader::new(bytes);
        let n_tickets = r.u32()? as usize;
        let n_members_total = r.u32()? as usize;
        let n_params = r.u32()? as usize;
        let _reserved = r.u32()?;
        if n_params != setup.parameters().len() {
            return Err(errors::MALFORMED_INPUT);
        }
        let params = r.array(n_tickets.checked_mul(n_params).ok_or(Malformed)?, 8)?;
        let member_offsets = r.array(n_tickets + 1, 4)?;
        check_offsets(member_offsets, n_members_total)?;
        let member_rows = r.array(n_members_total, 4)?;
        table.check_rows(member_rows)?;
        Ok(TicketBatch { table, n_tickets, n_params, params, member_offsets, member_rows })
    }

    pub(crate) fn len(&self) -> usize {
        self.n_tickets
    }

    pub(crate) fn ticket(&'a self, index: usize) -> Ticket<'a> {
        Ticket { batch: self, index, members: range(self.member_offsets, self.member_rows, index) }
    }
}

/// One matchmaking ticket (a solo player or a party), as [`Filter::keep`](crate::Filter::keep)
/// sees it.
#[derive(Clone, Copy, Debug)]
pub struct Ticket<'a> {
    batch: &'a TicketBatch<'a>,
    index: usize,
    members: &'a [u8],
}

impl<'a> Ticket<'a> {
    /// The value of `param` in force for this ticket (after its expansions).
    pub fn param(&self, param: Param) -> f64 {
        if param.index() >= self.batch.n_params {
            return f64::NAN;
        }
        f64_at(self.batch.params, (self.index * self.batch.n_params + param.index()) * 8).unwrap_or(f64::NAN)
    }

    /// The number of players on the ticket.
    pub fn len(&self) -> usize {
        self.members.len() / 4
    }

    /// Whether the ticket has no players (the host never sends one).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The ticket's players.
    pub fn players(&self) -> Players<'a> {
        Players { table: self.batch.table, rows: self.members.chunks_exact(4) }
    }
}
