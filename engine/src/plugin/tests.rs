//! Tests of the ABI encoders (hand-computed layouts from `rules-plugins/ABI.md`) and, with
//! the `plugins` feature, of the host against small WAT plugins: one well-behaved plugin
//! and variants of it that misbehave in one way each.

use super::PluginError;
use super::abi::{self, AttrKind, Batch, Setup, SetupParameter, Table, TicketBatch, Verdict};

/// Little-endian words and doubles, concatenated: the expected bytes of a layout.
enum W {
    U(u32),
    F(f64),
    S(&'static [u8]),
}

fn bytes(words: &[W]) -> Vec<u8> {
    let mut out = Vec::new();
    for w in words {
        match w {
            W::U(v) => out.extend_from_slice(&v.to_le_bytes()),
            W::F(v) => out.extend_from_slice(&v.to_le_bytes()),
            W::S(s) => out.extend_from_slice(s),
        }
    }
    out
}

#[test]
fn setup_layout() {
    let setup = Setup {
        rule_name: "ab".into(),
        attributes: vec![("x".into(), AttrKind::Number)],
        parameters: vec![SetupParameter { name: "tank".into(), symbol: 5, base: 1.5 }],
        teams: vec!["red".into()],
    };
    let mut out = vec![0xEE]; // encode appends
    setup.encode(&mut out);
    let expected = bytes(&[
        W::S(&[0xEE]),
        // abi_version, n_attributes, n_parameters, n_teams
        W::U(1),
        W::U(1),
        W::U(1),
        W::U(1),
        // rule name, padded to 4
        W::U(2),
        W::S(b"ab\0\0"),
        // attribute: kind, name
        W::U(0),
        W::U(1),
        W::S(b"x\0\0\0"),
        // parameter: symbol, name_len, base, name
        W::U(5),
        W::U(4),
        W::F(1.5),
        W::S(b"tank"),
        // team
        W::U(3),
        W::S(b"red\0"),
    ]);
    assert_eq!(out, expected);
    assert_eq!(out.len(), 1 + 64);
}

fn sample_table() -> Table {
    let mut table = Table::new(4);
    table.begin_row();
    table.number(1.5);
    table.string(7);
    table.string_list(&[1, 2, 3]);
    table.map(&[(4, 2.0)]);
    table.begin_row();
    table.number(-2.0);
    table.string(8);
    table.string_list(&[]);
    table.map(&[(5, 1.0), (6, 3.0)]);
    table
}

#[test]
fn table_layout() {
    let mut table = sample_table();
    let expected = bytes(&[
        // n_rows, n_columns, heap_offset = 16 + 2 × 4 × 8, heap_len
        W::U(2),
        W::U(4),
        W::U(80),
        W::U(64),
        // row 0: number, string, list (offset 0, 3 ids), map (offset 16 after padding to 8)
        W::F(1.5),
        W::U(7),
        W::U(0),
        W::U(0),
        W::U(3),
        W::U(16),
        W::U(1),
        // row 1: the empty list sits at 32; the map too (already 8-aligned)
        W::F(-2.0),
        W::U(8),
        W::U(0),
        W::U(32),
        W::U(0),
        W::U(32),
        W::U(2),
        // heap: 1 2 3, padding, {4, 0, 2.0}, {5, 0, 1.0}, {6, 0, 3.0}
        W::U(1),
        W::U(2),
        W::U(3),
        W::U(0),
        W::U(4),
        W::U(0),
        W::F(2.0),
        W::U(5),
        W::U(0),
        W::F(1.0),
        W::U(6),
        W::U(0),
        W::F(3.0),
    ]);
    assert_eq!(table.rows(), 2);
    assert_eq!(table.encoded_len(), expected.len());
    let (header, slots, heap) = table.parts();
    let joined: Vec<u8> = [&header[..], slots, heap].concat();
    assert_eq!(joined, expected);
    assert_eq!(table.finish(), &expected[..]);

    // Clearing keeps nothing but gives a new id; the same rows encode the same way.
    let id = table.id();
    table.clear();
    assert_ne!(table.id(), id);
    assert_eq!(table.rows(), 0);
    assert_eq!(table.finish(), &bytes(&[W::U(0), W::U(4), W::U(16), W::U(0)])[..]);
    let again = sample_table();
    assert_ne!(again.id(), table.id());
}

#[test]
fn batch_layout() {
    let mut batch = Batch::new(1);
    batch.begin_candidate(&[10.0], false);
    batch.begin_team();
    batch.member(0);
    batch.member(1);
    batch.begin_team();
    batch.member(2);
    batch.begin_candidate(&[20.0], true);
    batch.begin_team();
    batch.member(3);
    batch.begin_team();
    assert_eq!(batch.len(), 2);
    let expected = bytes(&[
        // n_candidates, n_teams_total, n_members_total, n_parameters
        W::U(2),
        W::U(4),
        W::U(4),
        W::U(1),
        // parameters
        W::F(10.0),
        W::F(20.0),
        // flags (bit 0: complete)
        W::U(0),
        W::U(1),
        // team_offsets[n + 1]
        W::U(0),
        W::U(2),
        W::U(4),
        // member_offsets[n_teams + 1]: the last team is empty
        W::U(0),
        W::U(2),
        W::U(3),
        W::U(4),
        W::U(4),
        // member_rows
        W::U(0),
        W::U(1),
        W::U(2),
        W::U(3),
    ]);
    assert_eq!(batch.encode(), &expected[..]);

    batch.clear();
    assert!(batch.is_empty());
    assert_eq!(batch.encode(), &bytes(&[W::U(0), W::U(0), W::U(0), W::U(1), W::U(0), W::U(0)])[..]);
}

#[test]
fn ticket_batch_layout() {
    let mut tickets = TicketBatch::new(1);
    tickets.begin_ticket(&[5.0]);
    tickets.member(3);
    tickets.member(4);
    tickets.begin_ticket(&[6.0]);
    tickets.member(7);
    let expected = bytes(&[
        // n_tickets, n_members_total, n_parameters, reserved
        W::U(2),
        W::U(3),
        W::U(1),
        W::U(0),
        W::F(5.0),
        W::F(6.0),
        // member_offsets[n + 1]
        W::U(0),
        W::U(2),
        W::U(3),
        W::U(3),
        W::U(4),
        W::U(7),
    ]);
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets.encode(), &expected[..]);
}

fn verdict_bytes(flags: u32, reserved: u32, score: f64) -> Vec<u8> {
    bytes(&[W::U(flags), W::U(reserved), W::F(score)])
}

#[test]
fn decode_verdicts_checks_everything() {
    let mut out = Vec::new();
    let good = [verdict_bytes(3, 0, 2.5), verdict_bytes(0, 0, f64::NAN), verdict_bytes(1, 0, 0.0)].concat();
    abi::decode_verdicts(&good, 3, &mut out).unwrap();
    assert_eq!(
        out,
        [
            Verdict { pass: true, score: Some(2.5) },
            // A score without bit 1 is ignored, even NaN.
            Verdict { pass: false, score: None },
            Verdict { pass: true, score: None },
        ]
    );
    // Extra bytes after n verdicts are not read.
    abi::decode_verdicts(&good, 1, &mut out).unwrap();
    assert_eq!(out.len(), 1);

    let check = |bytes: &[u8], n: usize| {
        let mut out = vec![Verdict { pass: true, score: None }];
        let res = abi::decode_verdicts(bytes, n, &mut out);
        assert!(out.is_empty());
        res.unwrap_err()
    };
    assert_eq!(check(&good, 4), "the output holds fewer verdicts than candidates");
    assert_eq!(check(&verdict_bytes(4, 0, 0.0), 1), "a verdict has unknown flag bits set");
    assert_eq!(check(&verdict_bytes(1 << 31, 0, 0.0), 1), "a verdict has unknown flag bits set");
    assert_eq!(check(&verdict_bytes(1, 1, 0.0), 1), "a verdict's reserved word is not 0");
    assert_eq!(check(&verdict_bytes(2, 0, f64::NAN), 1), "a verdict has a score that is not finite");
    assert_eq!(check(&verdict_bytes(3, 0, f64::INFINITY), 1), "a verdict has a score that is not finite");
}

#[test]
fn decode_filter_accepts_only_zero_and_one() {
    let mut out = Vec::new();
    abi::decode_filter(&[1, 0, 1, 7], 3, &mut out).unwrap();
    assert_eq!(out, [true, false, true]);
    assert_eq!(abi::decode_filter(&[1, 2], 2, &mut out), Err("a filter byte is neither 0 nor 1"));
    assert!(out.is_empty());
    assert_eq!(abi::decode_filter(&[1], 2, &mut out), Err("the output holds fewer bytes than tickets"));
}

#[test]
fn error_messages_name_the_plugin() {
    let plugin = || "role_queue".to_owned();
    let cases = [
        (PluginError::Timeout { plugin: plugin(), millis: 4 }, "timeout"),
        (PluginError::MemoryLimit { plugin: plugin(), limit_bytes: 32 << 20 }, "memory_limit"),
        (PluginError::Guest { plugin: plugin(), code: -2 }, "guest_error"),
        (PluginError::InvalidOutput { plugin: plugin(), what: "a verdict's reserved word is not 0" }, "invalid_output"),
        (PluginError::Unsupported, "unsupported"),
    ];
    let rendered: Vec<String> = cases
        .iter()
        .map(|(err, kind)| {
            assert_eq!(err.kind(), *kind);
            err.to_string()
        })
        .collect();
    assert_eq!(
        rendered,
        [
            "plugin 'role_queue' ran longer than its 4 ms deadline and was stopped",
            "plugin 'role_queue' tried to grow its memory beyond 32 MiB",
            "plugin 'role_queue' reported error code -2",
            "plugin 'role_queue' returned output that breaks the plugin ABI: a verdict's reserved word is not 0",
            "this build of Rallypoint has no plugin support (feature `plugins`)",
        ]
    );
}

#[cfg(not(feature = "plugins"))]
#[test]
fn without_the_feature_the_host_is_unsupported() {
    let err = super::PluginHost::new(super::Limits::default()).unwrap_err();
    assert_eq!(err, PluginError::Unsupported);
}

#[cfg(feature = "plugins")]
mod host;
