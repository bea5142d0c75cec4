//! The SDK against inputs encoded by hand, field by field as ABI.md lays them out (not with
//! [`testing`](crate::testing), which is checked against these bytes too).

use alloc::vec;
use alloc::vec::Vec;

use crate::__rt::Plugin;
use crate::testing::{Host, TestCandidate, TestSetup, TestTicket, Value};
use crate::view::{CandidateBatch, TableLayout, TicketBatch};
use crate::{
    Attr, AttributeKind, Candidate, Filter, Param, Rule, Setup, SetupError, Symbol, Ticket, Verdict, errors, kind,
};

/// A little-endian writer for the hand-made records.
#[derive(Default)]
struct Le(Vec<u8>);

impl Le {
    fn u32s(&mut self, values: &[u32]) -> &mut Le {
        for v in values {
            self.0.extend_from_slice(&v.to_le_bytes());
        }
        self
    }
    fn f64(&mut self, v: f64) -> &mut Le {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Le {
        self.0.extend_from_slice(b);
        self
    }
    fn take(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.0)
    }
}

/// Rule "Fair": attributes skill (number), region (string), roles (string_list), latency
/// (string_number_map); parameters maxGap (symbol 7, 100) and tank (symbol 9, 1); teams
/// red and blue.
fn setup_record() -> Vec<u8> {
    Le::default()
        .u32s(&[1, 4, 2, 2])
        .u32s(&[4])
        .bytes(b"Fair")
        .u32s(&[0, 5])
        .bytes(b"skill\0\0\0")
        .u32s(&[1, 6])
        .bytes(b"region\0\0")
        .u32s(&[2, 5])
        .bytes(b"roles\0\0\0")
        .u32s(&[3, 7])
        .bytes(b"latency\0")
        .u32s(&[7, 6])
        .f64(100.0)
        .bytes(b"maxGap\0\0")
        .u32s(&[9, 4])
        .f64(1.0)
        .bytes(b"tank")
        .u32s(&[3])
        .bytes(b"red\0")
        .u32s(&[4])
        .bytes(b"blue")
        .take()
}

/// Three players. Symbols: 9 tank, 20 eu, 21 us, 30 dps.
///
/// | row | skill | region | roles | latency |
/// |---|---|---|---|---|
/// | 0 | 1000 | eu | tank, dps | us: 50 |
/// | 1 | 1200.5 | us | — | eu: 30, us: 80 |
/// | 2 | 900 | eu | tank | — |
fn table_record() -> Vec<u8> {
    let mut t = Le::default();
    t.u32s(&[3, 4, 16 + 3 * 4 * 8, 64]);
    t.f64(1000.0).u32s(&[20, 0, 0, 2, 8, 1]);
    t.f64(1200.5).u32s(&[21, 0, 24, 0, 24, 2]);
    t.f64(900.0).u32s(&[20, 0, 56, 1, 64, 0]);
    t.u32s(&[9, 30]); // heap 0: row 0's roles
    t.u32s(&[21, 0]).f64(50.0); // heap 8: row 0's latency
    t.u32s(&[20, 0]).f64(30.0).u32s(&[21, 0]).f64(80.0); // heap 24: row 1's latency
    t.u32s(&[9, 0]); // heap 56: row 2's roles, then padding to 64
    t.take()
}

/// Candidate 0 (complete): red = rows 0, 2; blue = row 1; maxGap 100, tank 1.
/// Candidate 1 (partial): red empty; blue = row 2; maxGap 150, tank 2.
fn candidate_batch() -> Vec<u8> {
    Le::default()
        .u32s(&[2, 4, 4, 2])
        .f64(100.0)
        .f64(1.0)
        .f64(150.0)
        .f64(2.0)
        .u32s(&[1, 0])
        .u32s(&[0, 2, 4])
        .u32s(&[0, 2, 3, 3, 4])
        .u32s(&[0, 2, 1, 2])
        .take()
}

/// Ticket 0: rows 0 and 1 (a party), maxGap 100; ticket 1: row 2, maxGap 120.
fn ticket_batch() -> Vec<u8> {
    Le::default().u32s(&[2, 3, 2, 0]).f64(100.0).f64(1.0).f64(120.0).f64(1.0).u32s(&[0, 2, 3]).u32s(&[0, 1, 2]).take()
}

#[test]
fn setup_lookups_find_attributes_parameters_symbols_and_teams_by_name() {
    let setup = Setup::parse(&setup_record()).unwrap();
    assert_eq!(setup.rule_name(), "Fair");
    let skill: Attr<kind::Number> = setup.attribute("skill").unwrap();
    let roles: Attr<kind::StringList> = setup.attribute("roles").unwrap();
    assert_eq!((skill.column(), roles.column()), (0, 2));
    assert_eq!(setup.attribute::<kind::Number>("region"), Err(SetupError::AttributeKind));
    assert_eq!(setup.attribute::<kind::Number>("skil"), Err(SetupError::MissingAttribute));
    let kinds: Vec<AttributeKind> = setup.attributes().iter().map(|a| a.kind()).collect();
    assert_eq!(
        kinds,
        [AttributeKind::Number, AttributeKind::String, AttributeKind::StringList, AttributeKind::StringNumberMap]
    );
    let tank = setup.parameter("tank").unwrap();
    assert_eq!(tank.index(), 1);
    assert_eq!(setup.base_value(tank), 1.0);
    assert_eq!(setup.parameter("dps"), Err(SetupError::MissingParameter));
    assert_eq!(setup.symbol("tank"), Some(Symbol(9)));
    assert_eq!(setup.symbol("maxGap"), Some(Symbol(7)));
    assert_eq!(setup.symbol("skill"), None, "only parameter names have known symbols");
    assert_eq!(setup.team_count(), 2);
    assert_eq!(setup.team_names().collect::<Vec<_>>(), ["red", "blue"]);
    assert_eq!((setup.team_index("blue"), setup.team_name(2)), (Some(1), None));
}

#[test]
fn views_read_the_table_and_the_batch_in_place() {
    let setup = Setup::parse(&setup_record()).unwrap();
    let table_bytes = table_record();
    let table = TableLayout::validate(&table_bytes, &setup).unwrap().view(&table_bytes).unwrap();
    let batch_bytes = candidate_batch();
    let batch = CandidateBatch::parse(&batch_bytes, &setup, table).unwrap();
    assert_eq!(batch.len(), 2);
    let (skill, region, roles, latency) = (
        setup.attribute::<kind::Number>("skill").unwrap(),
        setup.attribute::<kind::String>("region").unwrap(),
        setup.attribute::<kind::StringList>("roles").unwrap(),
        setup.attribute::<kind::StringNumberMap>("latency").unwrap(),
    );
    let (max_gap, tank) = (setup.parameter("maxGap").unwrap(), setup.parameter("tank").unwrap());

    let c = batch.candidate(0);
    assert!(c.is_complete());
    assert_eq!((c.param(max_gap), c.param(tank)), (100.0, 1.0));
    assert_eq!((c.team_count(), c.player_count()), (2, 3));
    let teams: Vec<_> = c.teams().map(|t| (t.index(), t.name(), t.len())).collect();
    assert_eq!(teams, [(0, "red", 2), (1, "blue", 1)]);
    let red = c.team(0).unwrap();
    let skills: Vec<f64> = red.players().map(|p| p.number(skill)).collect();
    assert_eq!(skills, [1000.0, 900.0]);
    let p0 = red.player(0).unwrap();
    assert_eq!((p0.row(), p0.string(region)), (0, Symbol(20)));
    assert_eq!(p0.string_list(roles).collect::<Vec<_>>(), [Symbol(9), Symbol(30)]);
    assert!(p0.string_list(roles).contains(Symbol(30)) && !p0.string_list(roles).contains(Symbol(20)));
    assert_eq!(p0.map(latency).iter().collect::<Vec<_>>(), [(Symbol(21), 50.0)]);
    let p1 = c.team(1).unwrap().player(0).unwrap();
    assert_eq!((p1.row(), p1.number(skill), p1.string_list(roles).len()), (1, 1200.5, 0));
    assert_eq!((p1.map(latency).get(Symbol(20)), p1.map(latency).get(Symbol(21))), (Some(30.0), Some(80.0)));
    assert_eq!((p1.map(latency).len(), p1.map(latency).get(Symbol(9))), (2, None));
    assert!(red.player(2).is_none() && c.team(2).is_none());
    assert_eq!(c.players().map(|p| p.row()).collect::<Vec<_>>(), [0, 2, 1]);

    let c = batch.candidate(1);
    assert!(!c.is_complete());
    assert_eq!((c.param(max_gap), c.param(tank)), (150.0, 2.0));
    assert!(c.team(0).unwrap().is_empty());
    let p2 = c.team(1).unwrap().player(0).unwrap();
    assert_eq!((p2.row(), p2.number(skill), p2.map(latency).is_empty()), (2, 900.0, true));
    assert_eq!(p2.string_list(roles).collect::<Vec<_>>(), [Symbol(9)]);
    assert_eq!(c.players().count(), 1);

    let tickets_bytes = ticket_batch();
    let tickets = TicketBatch::parse(&tickets_bytes, &setup, table).unwrap();
    assert_eq!(tickets.len(), 2);
    let (t0, t1) = (tickets.ticket(0), tickets.ticket(1));
    assert_eq!((t0.len(), t0.param(max_gap), t1.len(), t1.param(max_gap)), (2, 100.0, 1, 120.0));
    assert_eq!(t0.players().map(|p| p.number(skill)).collect::<Vec<_>>(), [1000.0, 1200.5]);
}

/// Passes complete candidates; scores every candidate with the sum of its players' skills
/// plus `maxGap`; keeps tickets of one player.
struct Probe {
    skill: Attr<kind::Number>,
    max_gap: Param,
}

impl Rule for Probe {
    fn new(setup: &Setup) -> Result<Self, SetupError> {
        if setup.team_count() == 0 {
            return Err(SetupError::Unsupported);
        }
        Ok(Probe { skill: setup.attribute("skill")?, max_gap: setup.parameter("maxGap")? })
    }

    fn score(&self, c: &Candidate<'_>) -> Verdict {
        let sum: f64 = c.players().map(|p| p.number(self.skill)).sum();
        Verdict::from_bool(c.is_complete()).with_score(sum + c.param(self.max_gap))
    }
}

impl Filter for Probe {
    fn keep(&self, t: &Ticket<'_>) -> bool {
        t.len() == 1
    }
}

/// Copies `bytes` into buffer `kind` as the host does; returns the length to pass.
fn put(plugin: &mut Plugin<Probe>, kind: i32, bytes: &[u8]) -> i32 {
    let buffer = plugin.buffer(kind, bytes.len() as u32).unwrap();
    assert_eq!(buffer.as_ptr() as usize % 8, 0, "buffers are 8-aligned");
    buffer[..bytes.len()].copy_from_slice(bytes);
    bytes.len() as i32
}

fn loaded_plugin() -> Plugin<Probe> {
    let mut plugin = Plugin::new();
    let len = put(&mut plugin, 1, &setup_record());
    assert_eq!(plugin.init(len), 0);
    let len = put(&mut plugin, 0, &table_record());
    assert_eq!(plugin.load_players(len), 0);
    plugin
}

#[test]
fn the_batch_loop_writes_one_verdict_record_per_candidate() {
    let mut plugin = loaded_plugin();
    plugin.buffer(2, 2 * 16).unwrap().fill(0xAA);
    let len = put(&mut plugin, 1, &candidate_batch());
    assert_eq!(plugin.score(len), 2);
    let expected =
        Le::default().u32s(&[0b11, 0]).f64(1000.0 + 900.0 + 1200.5 + 100.0).u32s(&[0b10, 0]).f64(900.0 + 150.0).take();
    assert_eq!(plugin.output(32), expected);

    // The table stays loaded: the same batch again gives the same bytes.
    let len = put(&mut plugin, 1, &candidate_batch());
    assert_eq!(plugin.score(len), 2);
    assert_eq!(plugin.output(32), expected);
}

#[test]
fn the_filter_loop_writes_one_keep_byte_per_ticket() {
    let mut plugin = loaded_plugin();
    plugin.buffer(2, 2).unwrap().fill(0xAA);
    let len = put(&mut plugin, 1, &ticket_batch());
    assert_eq!(plugin.filter(len), 2);
    assert_eq!(plugin.output(3)[..2], [0, 1]);
}

#[test]
fn empty_batches_return_zero() {
    let mut plugin = loaded_plugin();
    let len = put(&mut plugin, 1, &Le::default().u32s(&[0, 0, 0, 2, 0, 0]).take());
    assert_eq!(plugin.score(len), 0);
    let len = put(&mut plugin, 1, &Le::default().u32s(&[0, 0, 2, 0, 0]).take());
    assert_eq!(plugin.filter(len), 0);
}

#[test]
fn the_testing_host_encodes_exactly_what_abi_md_specifies() {
    let setup = TestSetup::new()
        .rule_name("Fair")
        .attribute("skill", AttributeKind::Number)
        .attribute("region", AttributeKind::String)
        .attribute("roles", AttributeKind::StringList)
        .attribute("latency", AttributeKind::StringNumberMap)
        .parameter("maxGap", 100.0)
        .parameter("tank", 1.0)
        .teams(&["red", "blue"]);
    let mut host = Host::<Probe>::new(&setup).unwrap();
    // The host interns parameter names first (maxGap = 1, tank = 2), then table strings.
    let mut expected_setup = setup_record();
    expected_setup[88..92].copy_from_slice(&1u32.to_le_bytes());
    expected_setup[112..116].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(host.encode_setup(), expected_setup);
    let table = host.encode_table(&[
        vec![Value::number(1000.0), Value::string("eu"), Value::list(&["tank", "dps"]), Value::map(&[("us", 50.0)])],
        vec![Value::number(1200.5), Value::string("us"), Value::list(&[]), Value::map(&[("eu", 30.0), ("us", 80.0)])],
        vec![Value::number(900.0), Value::string("eu"), Value::list(&["tank"]), Value::map(&[])],
    ]);
    let (eu, us, tank, dps) = (host.symbol("eu"), host.symbol("us"), host.symbol("tank"), host.symbol("dps"));
    assert_eq!((eu, tank, dps, us), (Symbol(3), Symbol(2), Symbol(4), Symbol(5)));
    let mut expected_table = table_record();
    let symbols = [(24, eu), (56, us), (88, eu), (112, tank), (116, dps), (120, us), (136, eu), (152, us), (168, tank)];
    for (offset, symbol) in symbols {
        expected_table[offset..offset + 4].copy_from_slice(&symbol.0.to_le_bytes());
    }
    assert_eq!(table, expected_table);
    let candidates =
        [TestCandidate::complete(&[&[0, 2], &[1]]), TestCandidate::partial(&[&[], &[2]]).with_params(&[150.0, 2.0])];
    assert_eq!(host.encode_candidates(&candidates), candidate_batch());
    let tickets = [TestTicket::new(&[0, 1]), TestTicket::new(&[2]).with_params(&[120.0])];
    assert_eq!(host.encode_tickets(&tickets), ticket_batch());
    assert_eq!(host.load_players_raw(&table), 0);
    let verdicts = host.score(&candidates).unwrap();
    assert_eq!(verdicts, [Verdict::pass_with_score(3200.5), Verdict::fail().with_score(1050.0)]);
    assert_eq!(host.filter(&tickets).unwrap(), [false, true]);
}

#[test]
fn malformed_inputs_get_error_codes() {
    let mut plugin = Plugin::<Probe>::new();
    // Out of order.
    assert_eq!(plugin.load_players(0), errors::OUT_OF_ORDER);
    assert_eq!(plugin.score(0), errors::OUT_OF_ORDER);
    // A setup longer than the buffer, truncated, of another ABI version, or refused.
    let record = setup_record();
    put(&mut plugin, 1, &record);
    assert_eq!(plugin.init(1 << 20), errors::LENGTH);
    let len = put(&mut plugin, 1, &record[..record.len() - 1]);
    assert_eq!(plugin.init(len), errors::MALFORMED_INPUT);
    let mut v2 = record.clone();
    v2[0] = 2;
    let len = put(&mut plugin, 1, &v2);
    assert_eq!(plugin.init(len), errors::ABI_VERSION);
    let mut bad_kind = record.clone();
    bad_kind[24] = 4;
    let len = put(&mut plugin, 1, &bad_kind);
    assert_eq!(plugin.init(len), errors::MALFORMED_INPUT);
    let no_teams = Le::default()
        .u32s(&[1, 1, 1, 0, 0, 0, 5])
        .bytes(b"skill\0\0\0")
        .u32s(&[7, 6])
        .f64(1.0)
        .bytes(b"maxGap\0\0")
        .take();
    let len = put(&mut plugin, 1, &no_teams);
    assert_eq!(plugin.init(len), SetupError::Unsupported.code());
    assert_eq!(plugin.load_players(0), errors::OUT_OF_ORDER, "a refused setup leaves the plugin uninitialised");

    let mut plugin = loaded_plugin();
    let table = table_record();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut columns = table.clone();
    columns[4] = 3;
    cases.push(("column count differs from the attributes", columns));
    let mut list = table.clone();
    list[16 + 16 + 4] = 17; // row 0's roles: 17 entries from offset 0
    cases.push(("list past the heap", list));
    let mut map = table.clone();
    map[16 + 24] = 200; // row 0's latency at heap offset 200
    cases.push(("map past the heap", map));
    let mut heap = table.clone();
    heap[12] = 65;
    cases.push(("heap past the table", heap));
    let mut overlap = table.clone();
    overlap[8] = 8;
    cases.push(("heap over the slots", overlap));
    for (what, bytes) in cases {
        let len = put(&mut plugin, 0, &bytes);
        assert_eq!(plugin.load_players(len), errors::MALFORMED_INPUT, "{what}");
        assert_eq!(plugin.score(0), errors::OUT_OF_ORDER, "{what}: no table is loaded after a refused one");
    }

    let mut plugin = loaded_plugin();
    let batch = candidate_batch();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push(("truncated", batch[..batch.len() - 4].to_vec()));
    let mut params = batch.clone();
    params[12] = 1;
    cases.push(("parameter count", params));
    let mut teams = batch.clone();
    teams[4] = 3;
    cases.push(("teams per candidate", teams));
    let mut offsets = batch.clone();
    let team_offsets = 16 + 32 + 8;
    offsets[team_offsets + 4] = 1;
    cases.push(("team offsets", offsets));
    let mut members = batch.clone();
    members[team_offsets + 12 + 4] = 3; // member offsets 0, 3, 3, 3, 4 is fine...
    members[team_offsets + 12 + 8] = 2; // ... 0, 3, 2: decreasing is not
    cases.push(("member offsets", members));
    let mut row = batch.clone();
    let last = row.len() - 4;
    row[last] = 3;
    cases.push(("row past the table", row));
    for (what, bytes) in cases {
        let len = put(&mut plugin, 1, &bytes);
        assert_eq!(plugin.score(len), errors::MALFORMED_INPUT, "{what}");
    }
    put(&mut plugin, 1, &batch);
    assert_eq!(plugin.score(i32::MAX), errors::LENGTH, "len past the input buffer");
    assert_eq!(plugin.score(-1), errors::LENGTH, "len is a u32: -1 is 4 GiB");

    // An output buffer too small for the batch.
    let mut plugin = loaded_plugin();
    plugin.buffer(2, 16).unwrap();
    let len = put(&mut plugin, 1, &batch);
    assert_eq!(plugin.score(len), errors::LENGTH);
}

#[test]
fn buffers_grow_on_request_and_a_grown_table_buffer_needs_a_reload() {
    let mut plugin = loaded_plugin();
    let address = plugin.buffer(1, 100).unwrap().as_ptr();
    assert_eq!(plugin.buffer(1, 50).unwrap().as_ptr(), address, "no reallocation without growth");
    assert!(plugin.buffer(1, 1 << 16).unwrap().len() >= 1 << 16);
    assert!(plugin.buffer(3, 8).is_none() && plugin.buffer(-1, 8).is_none());
    let len = put(&mut plugin, 1, &candidate_batch());
    plugin.buffer(2, 64);
    assert_eq!(plugin.score(len), 2);
    plugin.buffer(0, 1 << 16);
    let len = put(&mut plugin, 1, &candidate_batch());
    assert_eq!(plugin.score(len), errors::OUT_OF_ORDER);
}

#[test]
fn random_corruption_never_panics() {
    // Flip bytes of valid inputs, deterministically: every call returns a count or an error
    // code (a panic, an overflow or an out-of-bounds read fails the test).
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let inputs = [setup_record(), table_record(), candidate_batch(), ticket_batch()];
    for round in 0..4000 {
        let which = round % 4;
        let mut bytes = inputs[which].clone();
        for _ in 0..1 + next() % 3 {
            let i = next() as usize % bytes.len();
            bytes[i] = match next() % 3 {
                0 => next() as u8,
                1 => 0xFF,
                _ => bytes[i].wrapping_add(1),
            };
        }
        let mut plugin = loaded_plugin();
        plugin.buffer(2, 1 << 12);
        let result = match which {
            0 => {
                let len = put(&mut plugin, 1, &bytes);
                plugin.init(len)
            }
            1 => {
                let len = put(&mut plugin, 0, &bytes);
                plugin.load_players(len)
            }
            2 => {
                let len = put(&mut plugin, 1, &bytes);
                plugin.score(len)
            }
            _ => {
                let len = put(&mut plugin, 1, &bytes);
                plugin.filter(len)
            }
        };
        assert!(result <= 2, "round {round}: {result}");
    }
}

#[test]
fn verdicts_encode_pass_and_score_bits() {
    assert_eq!(Verdict::pass().encode()[..8], [1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(Verdict::fail().encode(), [0; 16]);
    let scored = Verdict::pass_with_score(0.75).encode();
    assert_eq!((scored[0], f64::from_le_bytes(scored[8..].try_into().unwrap())), (3, 0.75));
    assert_eq!(Verdict::from_bool(false).with_score(-2.0).encode()[0], 2);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(Verdict::pass_with_score(bad), Verdict::pass(), "a non-finite score is dropped");
    }
    assert_eq!(Verdict::from(true), Verdict::pass());
    assert_eq!(Verdict::pass_with_score(2.5).score(), Some(2.5));
}

#[test]
fn error_codes_are_distinct_and_described() {
    let codes = [
        errors::MALFORMED_INPUT,
        errors::OUT_OF_ORDER,
        errors::ABI_VERSION,
        errors::LENGTH,
        SetupError::MissingAttribute.code(),
        SetupError::AttributeKind.code(),
        SetupError::MissingParameter.code(),
        SetupError::InvalidParameter.code(),
        SetupError::Unsupported.code(),
    ];
    for (i, code) in codes.iter().enumerate() {
        assert!(*code < 0 && errors::describe(*code).is_some());
        assert!(!codes[..i].contains(code));
    }
    assert_eq!(errors::describe(-999), None);
}
