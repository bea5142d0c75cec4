//! Host tests against WAT plugins. `GOOD` implements the ABI; each misbehaving plugin is
//! `GOOD` with one hook filled in, so every test changes one thing.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::plugin::abi::{AttrKind, Batch, Setup, SetupParameter, Table, TicketBatch, Verdict};
use crate::plugin::{Limits, Plugin, PluginError, PluginHealth, PluginHost};

/// A plugin for a rule with one parameter (`max_total`) whose table's column 0 is a number
/// (`skill`). A candidate's score is the sum of its members' skills, plus 0.5 when it is
/// complete; it passes when that is at most the candidate's `max_total`. The filter keeps
/// a ticket when its members' skills add up to at most the ticket's `max_total`.
///
/// State lives at fixed addresses: 0 = n_parameters, 4 = table address, 8 = n_columns,
/// 16 + 8 × kind = buffer address and capacity. Buffers come from a bump allocator at 1024.
const GOOD: &str = r#"
(module
  ;;HOOK_TOP
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  ;;HOOK_FUNCS

  (func (export "rallypoint_abi_version") (result i32)
    ;;HOOK_VERSION
    (i32.const 1))

  (func (export "rallypoint_buffer") (param $kind i32) (param $min i32) (result i32)
    (local $slot i32) (local $ptr i32) (local $end i32)
    ;;HOOK_BUFFER
    (if (i32.gt_u (local.get $kind) (i32.const 2)) (then (return (i32.const 0))))
    (local.set $slot (i32.add (i32.const 16) (i32.shl (local.get $kind) (i32.const 3))))
    (if (i32.and (i32.ne (i32.load (local.get $slot)) (i32.const 0))
                 (i32.ge_u (i32.load offset=4 (local.get $slot)) (local.get $min)))
      (then (return (i32.load (local.get $slot)))))
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $ptr) (local.get $min)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.eq (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16))
                                          (memory.size)))
                    (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (i32.store (local.get $slot) (local.get $ptr))
    (i32.store offset=4 (local.get $slot) (local.get $min))
    (local.get $ptr))

  (func (export "rallypoint_init") (param $len i32) (result i32)
    (local $p i32)
    ;;HOOK_INIT
    (local.set $p (i32.load (i32.const 24)))
    (if (i32.ne (i32.load (local.get $p)) (i32.const 1)) (then (return (i32.const -1))))
    (if (i32.ne (i32.load offset=8 (local.get $p)) (i32.const 1)) (then (return (i32.const -2))))
    (i32.store (i32.const 0) (i32.load offset=8 (local.get $p)))
    (i32.const 0))

  (func (export "rallypoint_load_players") (param $len i32) (result i32)
    (local $t i32)
    (local.set $t (i32.load (i32.const 16)))
    (if (i32.lt_u (local.get $len) (i32.const 16)) (then (return (i32.const -4))))
    (i32.store (i32.const 4) (local.get $t))
    (i32.store (i32.const 8) (i32.load offset=4 (local.get $t)))
    (i32.const 0))

  ;; The sum of column 0 over members[from..to] (member_rows at $rows).
  (func $skill_sum (param $rows i32) (param $from i32) (param $to i32) (result f64)
    (local $sum f64) (local $row i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
      (local.set $row (i32.load (i32.add (local.get $rows) (i32.shl (local.get $from) (i32.const 2)))))
      (local.set $sum (f64.add (local.get $sum)
        (f64.load offset=16 (i32.add (i32.load (i32.const 4))
          (i32.shl (i32.mul (local.get $row) (i32.load (i32.const 8))) (i32.const 3))))))
      (local.set $from (i32.add (local.get $from) (i32.const 1)))
      (br $next)))
    (local.get $sum))

  (func (export "rallypoint_score") (param $len i32) (result i32)
    (local $in i32) (local $out i32) (local $n i32) (local $nt i32) (local $np i32)
    (local $params i32) (local $flags i32) (local $toff i32) (local $moff i32) (local $rows i32)
    (local $c i32) (local $v i32) (local $sum f64)
    (local.set $in (i32.load (i32.const 24)))
    (local.set $out (i32.load (i32.const 32)))
    (local.set $n (i32.load (local.get $in)))
    (local.set $nt (i32.load offset=4 (local.get $in)))
    (local.set $np (i32.load offset=12 (local.get $in)))
    ;;HOOK_SCORE
    (local.set $params (i32.add (local.get $in) (i32.const 16)))
    (local.set $flags (i32.add (local.get $params) (i32.shl (i32.mul (local.get $n) (local.get $np)) (i32.const 3))))
    (local.set $toff (i32.add (local.get $flags) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $moff (i32.add (local.get $toff) (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2))))
    (local.set $rows (i32.add (local.get $moff) (i32.shl (i32.add (local.get $nt) (i32.const 1)) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $c) (local.get $n)))
      (local.set $sum (call $skill_sum (local.get $rows)
        (i32.load (i32.add (local.get $moff) (i32.shl
          (i32.load (i32.add (local.get $toff) (i32.shl (local.get $c) (i32.const 2)))) (i32.const 2))))
        (i32.load (i32.add (local.get $moff) (i32.shl
          (i32.load (i32.add (local.get $toff) (i32.shl (i32.add (local.get $c) (i32.const 1)) (i32.const 2))))
          (i32.const 2))))))
      (if (i32.and (i32.load (i32.add (local.get $flags) (i32.shl (local.get $c) (i32.const 2)))) (i32.const 1))
        (then (local.set $sum (f64.add (local.get $sum) (f64.const 0.5)))))
      (local.set $v (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 4))))
      (i32.store (local.get $v) (i32.or (i32.const 2)
        (f64.le (local.get $sum)
          (f64.load (i32.add (local.get $params) (i32.shl (i32.mul (local.get $c) (local.get $np)) (i32.const 3)))))))
      (i32.store offset=4 (local.get $v) (i32.const 0))
      (f64.store offset=8 (local.get $v) (local.get $sum))
      ;;HOOK_VERDICT
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $next)))
    ;;HOOK_RETURN
    (local.get $n))

  (func (export "rallypoint_filter") (param $len i32) (result i32)
    (local $in i32) (local $out i32) (local $n i32) (local $np i32)
    (local $params i32) (local $moff i32) (local $rows i32) (local $i i32)
    (local.set $in (i32.load (i32.const 24)))
    (local.set $out (i32.load (i32.const 32)))
    (local.set $n (i32.load (local.get $in)))
    (local.set $np (i32.load offset=8 (local.get $in)))
    (local.set $params (i32.add (local.get $in) (i32.const 16)))
    (local.set $moff (i32.add (local.get $params) (i32.shl (i32.mul (local.get $n) (local.get $np)) (i32.const 3))))
    (local.set $rows (i32.add (local.get $moff) (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 2))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (local.get $out) (local.get $i))
        (f64.le
          (call $skill_sum (local.get $rows)
            (i32.load (i32.add (local.get $moff) (i32.shl (local.get $i) (i32.const 2))))
            (i32.load (i32.add (local.get $moff) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 2)))))
          (f64.load (i32.add (local.get $params) (i32.shl (i32.mul (local.get $i) (local.get $np)) (i32.const 3))))))
      ;;HOOK_FILTER
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $n))
)
"#;

/// `GOOD` with `;;HOOK_<name>` replaced by code.
fn variant(hooks: &[(&str, &str)]) -> Vec<u8> {
    let mut text = GOOD.to_owned();
    for (hook, code) in hooks {
        let marker = format!(";;HOOK_{hook}");
        assert!(text.contains(&marker), "no hook {hook}");
        text = text.replace(&marker, code);
    }
    wat(&text)
}

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|err| panic!("bad WAT in a test: {err}"))
}

fn good() -> Vec<u8> {
    variant(&[])
}

/// Limits with deadlines of seconds: the epoch deadline is wall-clock time, and a test
/// thread on a loaded machine can be descheduled for longer than the default 4 ms, which
/// would turn a trap or a success into a timeout. Only the deadline tests use the
/// defaults.
fn lenient() -> Limits {
    Limits { call_deadline_ticks: 2000, init_deadline_ticks: 2000, ..Limits::default() }
}

/// One host for most tests (each host starts an engine and a ticker thread).
fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new(lenient()).unwrap())
}

/// The default limits, for the deadline tests.
fn strict_host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new(Limits::default()).unwrap())
}

fn fuel_host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new(Limits { fuel: true, ..lenient() }).unwrap())
}

fn setup() -> Setup {
    Setup {
        rule_name: "skill_cap".into(),
        attributes: vec![("skill".into(), AttrKind::Number), ("roles".into(), AttrKind::StringList)],
        parameters: vec![SetupParameter { name: "max_total".into(), symbol: 7, base: 100.0 }],
        teams: vec!["red".into(), "blue".into()],
    }
}

fn load(wasm: &[u8]) -> Result<Plugin, PluginError> {
    host().load("test_plugin", wasm, &setup(), 3)
}

/// A table whose row `r` has skill `skills[r]` (and some roles, to exercise the heap).
fn table(skills: &[f64]) -> Table {
    let mut table = Table::new(2);
    fill(&mut table, skills);
    table
}

fn fill(table: &mut Table, skills: &[f64]) {
    for (row, &skill) in skills.iter().enumerate() {
        table.begin_row();
        table.number(skill);
        table.string_list(&[row as u32, 1, 2][..row % 3]);
    }
}

/// A candidate: `max_total`, complete, and the member rows of the two teams.
struct Cand {
    max_total: f64,
    complete: bool,
    red: Vec<u32>,
    blue: Vec<u32>,
}

fn batch(cands: &[Cand]) -> Batch {
    let mut batch = Batch::new(1);
    for cand in cands {
        batch.begin_candidate(&[cand.max_total], cand.complete);
        for team in [&cand.red, &cand.blue] {
            batch.begin_team();
            for &row in team {
                batch.member(row);
            }
        }
    }
    batch
}

/// What `GOOD` answers.
fn expected(skills: &[f64], cands: &[Cand]) -> Vec<Verdict> {
    cands
        .iter()
        .map(|cand| {
            let sum: f64 = cand.red.iter().chain(&cand.blue).map(|&row| skills[row as usize]).sum();
            let score = sum + if cand.complete { 0.5 } else { 0.0 };
            Verdict { pass: score <= cand.max_total, score: Some(score) }
        })
        .collect()
}

/// `n` candidates over `n_rows` rows, varied enough that some pass and some fail.
fn cands(n: usize, n_rows: u32) -> Vec<Cand> {
    (0..n)
        .map(|i| {
            let i = i as u32;
            Cand {
                max_total: f64::from(10 + (i * 7) % 30),
                complete: i.is_multiple_of(2),
                red: (0..1 + i % 3).map(|k| (i + k) % n_rows).collect(),
                blue: (0..i % 4).map(|k| (i * 3 + k) % n_rows).collect(),
            }
        })
        .collect()
}

const SKILLS: [f64; 8] = [1.0, 2.5, 4.0, 8.0, 3.0, 0.5, 6.0, 10.0];

fn score(plugin: &Plugin, cycle: u64, skills: &[f64], cands: &[Cand]) -> Result<Vec<Verdict>, PluginError> {
    let mut out = Vec::new();
    plugin.score(cycle, &table(skills), &mut batch(cands), &mut out).map(|()| out)
}

fn three() -> Vec<Cand> {
    cands(3, 8)
}

fn two() -> Vec<Cand> {
    cands(2, 8)
}

/// Asserts that `plugin` (a `GOOD` plugin) scores correctly.
fn assert_still_works(plugin: &Plugin) {
    let cands = cands(5, 8);
    assert_eq!(score(plugin, 0, &SKILLS, &cands).unwrap(), expected(&SKILLS, &cands));
}

fn load_err(wasm: &[u8]) -> String {
    let err = load(wasm).unwrap_err();
    assert_eq!(err.kind(), "load", "{err}");
    err.to_string()
}

#[test]
fn a_good_plugin_scores_and_filters() {
    let plugin = load(&good()).unwrap();
    assert_eq!(plugin.name(), "test_plugin");
    assert!(plugin.has_filter());
    assert!(plugin.available(0));
    let cands = cands(20, 8);
    let verdicts = score(&plugin, 0, &SKILLS, &cands).unwrap();
    assert_eq!(verdicts, expected(&SKILLS, &cands));
    assert!(verdicts.iter().any(|v| v.pass) && verdicts.iter().any(|v| !v.pass));

    let table = table(&SKILLS);
    let mut tickets = TicketBatch::new(1);
    for (max_total, rows) in [(5.0, &[0, 1][..]), (5.0, &[2, 3]), (0.0, &[]), (10.0, &[7])] {
        tickets.begin_ticket(&[max_total]);
        for &row in rows {
            tickets.member(row);
        }
    }
    let mut keep = vec![false; 9];
    plugin.filter(0, &table, &mut tickets, &mut keep).unwrap();
    assert_eq!(keep, [true, false, true, true]);

    assert_eq!(
        plugin.health(),
        PluginHealth { calls: 2, candidates: 24, ..PluginHealth::default() },
        "one score call of 20 candidates, one filter call of 4 tickets"
    );
}

#[test]
fn an_empty_batch_is_not_sent() {
    let plugin = load(&variant(&[("SCORE", "unreachable")])).unwrap();
    let mut out = vec![Verdict { pass: true, score: None }];
    plugin.score(0, &table(&SKILLS), &mut Batch::new(1), &mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(plugin.health().calls, 0);
}

#[test]
fn a_plugin_without_filter_keeps_every_ticket() {
    let text = GOOD.replace(r#"(export "rallypoint_filter")"#, "");
    let plugin = load(&wat(&text)).unwrap();
    assert!(!plugin.has_filter());
    let mut tickets = TicketBatch::new(1);
    tickets.begin_ticket(&[0.0]);
    tickets.member(7);
    let mut keep = Vec::new();
    plugin.filter(0, &table(&SKILLS), &mut tickets, &mut keep).unwrap();
    assert_eq!(keep, [true]);
}

#[test]
fn the_table_is_reloaded_when_it_changes() {
    let plugin = load(&good()).unwrap();
    let cands = cands(6, 4);
    let mut small = table(&[1.0, 2.0, 3.0, 4.0]);
    let mut out = Vec::new();
    plugin.score(0, &small, &mut batch(&cands), &mut out).unwrap();
    assert_eq!(out, expected(&[1.0, 2.0, 3.0, 4.0], &cands));

    // Refilled after clear: new id.
    small.clear();
    fill(&mut small, &[10.0, 20.0, 30.0, 40.0]);
    plugin.score(1, &small, &mut batch(&cands), &mut out).unwrap();
    assert_eq!(out, expected(&[10.0, 20.0, 30.0, 40.0], &cands));

    // A table much larger than the first makes the guest grow its table buffer.
    let big: Vec<f64> = (0..5000).map(f64::from).collect();
    let cands = cands_over(&big);
    plugin.score(2, &table(&big), &mut batch(&cands), &mut out).unwrap();
    assert_eq!(out, expected(&big, &cands));
}

fn cands_over(skills: &[f64]) -> Vec<Cand> {
    cands(50, skills.len() as u32)
}

#[test]
fn an_infinite_loop_is_cut_off_at_the_deadline() {
    let wasm = variant(&[("SCORE", "(loop $spin (br $spin))")]);
    let plugin = strict_host().load("test_plugin", &wasm, &setup(), 3).unwrap();
    let start = Instant::now();
    let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err, PluginError::Timeout { plugin: "test_plugin".into(), millis: 4 });
    assert_eq!(err.to_string(), "plugin 'test_plugin' ran longer than its 4 ms deadline and was stopped");
    // About 3-5 ms on a quiet machine; the bound leaves room for a loaded one.
    assert!(elapsed < Duration::from_millis(100), "cut off after {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(2), "cut off after only {elapsed:?}");
    let health = plugin.health();
    assert_eq!((health.failures, health.timeouts, health.breaker_trips), (1, 1, 1));
    assert_eq!(health.last_error.as_deref(), Some(&*err.to_string()));
    assert_still_works(&load(&good()).unwrap());
}

#[test]
fn an_infinite_loop_in_init_is_refused_at_load() {
    let wasm = variant(&[("INIT", "(loop $spin (br $spin))")]);
    let err = strict_host().load("test_plugin", &wasm, &setup(), 3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin 'test_plugin' could not be loaded: its `rallypoint_init` ran longer than its 50 ms deadline and was stopped"
    );
}

#[test]
fn unbounded_memory_growth_hits_the_limit() {
    let plugin = load(&variant(&[("SCORE", "(loop $grow (drop (memory.grow (i32.const 16))) (br $grow))")])).unwrap();
    let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
    assert_eq!(err, PluginError::MemoryLimit { plugin: "test_plugin".into(), limit_bytes: 32 << 20 });
    assert_eq!(err.to_string(), "plugin 'test_plugin' tried to grow its memory beyond 32 MiB");
    assert_eq!(plugin.health().memory_refusals, 1);
    assert_still_works(&load(&good()).unwrap());
}

#[test]
fn a_memory_declared_beyond_the_limit_is_refused_at_load() {
    let text = GOOD.replace(r#"(memory (export "memory") 1)"#, r#"(memory (export "memory") 1000)"#);
    assert_eq!(
        load_err(&wat(&text)),
        "plugin 'test_plugin' could not be loaded: while being instantiated, it tried to grow its memory beyond 32 MiB"
    );
}

#[test]
fn unreachable_is_a_trap() {
    let plugin = load(&variant(&[("SCORE", "unreachable")])).unwrap();
    let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
    assert_eq!(err.kind(), "trap");
    assert_eq!(err.to_string(), "plugin 'test_plugin' trapped: wasm `unreachable` executed (a panic in the plugin)");
    assert_eq!(plugin.health().traps, 1);
}

#[test]
fn out_of_bounds_access_and_division_by_zero_are_traps() {
    let plugin = load(&variant(&[("SCORE", "(drop (i32.load (i32.const -4)))")])).unwrap();
    let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
    assert_eq!(err.kind(), "trap");
    assert!(err.to_string().contains("out-of-bounds memory access"), "{err}");

    let plugin = load(&variant(&[("SCORE", "(drop (i32.div_u (i32.const 1) (i32.const 0)))")])).unwrap();
    let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
    assert_eq!(err.to_string(), "plugin 'test_plugin' trapped: integer division by zero");
}

#[test]
fn deep_recursion_is_a_stack_overflow() {
    let plugin = load(&variant(&[
        ("FUNCS", "(func $recurse (param i32) (result i32) (call $recurse (i32.add (local.get 0) (i32.const 1))))"),
        ("SCORE", "(drop (call $recurse (i32.const 0)))"),
    ]))
    .unwrap();
    let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
    assert_eq!(err, PluginError::StackOverflow { plugin: "test_plugin".into() });
    assert_eq!(plugin.health().traps, 1);
    assert_still_works(&load(&good()).unwrap());
}

#[test]
fn broken_outputs_are_invalid() {
    let cases = [
        (
            "RETURN",
            "(return (i32.add (local.get $n) (i32.const 1)))",
            "it returned a count other than the number of candidates",
        ),
        ("RETURN", "(return (i32.const 0))", "it returned a count other than the number of candidates"),
        ("VERDICT", "(i32.store (local.get $v) (i32.const 4))", "a verdict has unknown flag bits set"),
        ("VERDICT", "(i32.store offset=4 (local.get $v) (i32.const 9))", "a verdict's reserved word is not 0"),
        ("VERDICT", "(f64.store offset=8 (local.get $v) (f64.const nan))", "a verdict has a score that is not finite"),
        ("VERDICT", "(f64.store offset=8 (local.get $v) (f64.const -inf))", "a verdict has a score that is not finite"),
    ];
    for (hook, code, what) in cases {
        let plugin = load(&variant(&[(hook, code)])).unwrap();
        let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
        assert_eq!(err, PluginError::InvalidOutput { plugin: "test_plugin".into(), what }, "{code}");
        assert_eq!(plugin.health().invalid_outputs, 1);
    }
}

#[test]
fn a_filter_byte_other_than_0_or_1_is_invalid() {
    let plugin =
        load(&variant(&[("FILTER", "(i32.store8 (i32.add (local.get $out) (local.get $i)) (i32.const 2))")])).unwrap();
    let mut tickets = TicketBatch::new(1);
    tickets.begin_ticket(&[1.0]);
    let mut keep = Vec::new();
    let err = plugin.filter(0, &table(&SKILLS), &mut tickets, &mut keep).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin 'test_plugin' returned output that breaks the plugin ABI: a filter byte is neither 0 nor 1"
    );
    assert!(keep.is_empty());
}

#[test]
fn a_negative_return_is_a_guest_error() {
    let plugin = load(&variant(&[("SCORE", "(return (i32.const -7))")])).unwrap();
    let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
    assert_eq!(err, PluginError::Guest { plugin: "test_plugin".into(), code: -7 });
    assert_eq!(err.to_string(), "plugin 'test_plugin' reported error code -7");
    assert_eq!(plugin.health().guest_errors, 1);
}

#[test]
fn bad_modules_are_refused_at_load() {
    let cases = [
        (
            variant(&[("TOP", r#"(import "env" "clock" (func $clock (result i64)))"#)]),
            "it imports `env::clock`, but plugins may import nothing",
        ),
        (
            wat(&GOOD.replace(r#"(export "rallypoint_score")"#, "")),
            "it does not export `rallypoint_score`, which the ABI requires",
        ),
        (
            wat(&GOOD.replace(r#"(memory (export "memory") 1)"#, "(memory 1)")),
            "it does not export a memory named `memory`, which the ABI requires",
        ),
        (
            wat(&GOOD.replace(
                r#"(func (export "rallypoint_score") (param $len i32)"#,
                r#"(func (export "rallypoint_score") (param $len i64)"#,
            )),
            "its export `rallypoint_score` has type (i64) -> i32, but the ABI needs (i32) -> i32",
        ),
        (
            variant(&[("VERSION", "(return (i32.const 2))")]),
            "it speaks plugin ABI version 2, but this host speaks version 1",
        ),
        (variant(&[("INIT", "(return (i32.const -3))")]), "its `rallypoint_init` reported error code -3"),
        (
            variant(&[("BUFFER", "(return (i32.const 0x7ffffff8))")]),
            "its `rallypoint_init` returned output that breaks the plugin ABI: `rallypoint_buffer` returned a buffer that lies outside its memory",
        ),
        (
            variant(&[("BUFFER", "(return (i32.const 1028))")]),
            "its `rallypoint_init` returned output that breaks the plugin ABI: `rallypoint_buffer` returned an address that is not 8-aligned",
        ),
        (
            variant(&[("BUFFER", "(return (i32.const 0))")]),
            "its `rallypoint_init` returned output that breaks the plugin ABI: `rallypoint_buffer` could not provide a buffer (returned 0)",
        ),
        (b"\0asm\x01\0\0\0\x01".to_vec(), "it is not a valid WebAssembly module"),
        (b"(module)".to_vec(), "it is not a valid WebAssembly module"),
    ];
    for (wasm, reason) in cases {
        let err = load_err(&wasm);
        let prefix = "plugin 'test_plugin' could not be loaded: ";
        assert!(err.starts_with(&format!("{prefix}{reason}")), "{err}\n   expected: {prefix}{reason}");
    }
}

#[test]
fn a_module_over_the_size_limit_is_refused() {
    let host = PluginHost::new(Limits { module_max_bytes: 100, ..lenient() }).unwrap();
    let wasm = good();
    let err = host.load("big", &wasm, &setup(), 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "plugin 'big' could not be loaded: the module is {} bytes, more than the limit of 100 bytes",
            wasm.len()
        )
    );
}

#[test]
fn a_bad_output_buffer_fails_the_call_not_the_load() {
    let plugin = load(&variant(&[(
        "BUFFER",
        "(if (i32.eq (local.get $kind) (i32.const 2)) (then (return (i32.const 0x7ffffff8))))",
    )]))
    .unwrap();
    let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
    assert_eq!(
        err,
        PluginError::InvalidOutput {
            plugin: "test_plugin".into(),
            what: "`rallypoint_buffer` returned a buffer that lies outside its memory"
        }
    );
}

#[test]
fn a_failed_worker_is_rebuilt_for_the_next_call() {
    // Three candidates poison the instance (every later call would trap) and return a
    // wrong count; only a fresh instance answers the next call.
    let plugin = load(&variant(&[
        ("FUNCS", "(global $poisoned (mut i32) (i32.const 0))"),
        (
            "SCORE",
            "(if (global.get $poisoned) (then unreachable))
             (if (i32.eq (local.get $n) (i32.const 3))
               (then (global.set $poisoned (i32.const 1)) (return (i32.const 99))))",
        ),
    ]))
    .unwrap();
    assert_eq!(score(&plugin, 0, &SKILLS, &two()).unwrap(), expected(&SKILLS, &two()));
    let err = score(&plugin, 0, &SKILLS, &three()).unwrap_err();
    assert_eq!(err.kind(), "invalid_output");
    assert_eq!(score(&plugin, 0, &SKILLS, &two()).unwrap(), expected(&SKILLS, &two()));
    let health = plugin.health();
    assert_eq!((health.calls, health.failures, health.traps, health.breaker_trips), (3, 1, 0, 0));
}

#[test]
fn every_kind_of_failure_is_followed_by_a_working_call() {
    // Each plugin misbehaves only on batches of three candidates; the next call, on a
    // rebuilt worker, must succeed.
    let recurse = "(func $recurse (param i32) (result i32) (call $recurse (i32.add (local.get 0) (i32.const 1))))";
    let cases = [
        ("SCORE", "unreachable", "trap"),
        ("SCORE", "(loop $grow (drop (memory.grow (i32.const 16))) (br $grow))", "memory_limit"),
        ("SCORE", "(drop (call $recurse (i32.const 0)))", "stack_overflow"),
        ("SCORE", "(return (i32.const -1))", "guest_error"),
        ("RETURN", "(return (i32.const 2))", "invalid_output"),
        ("VERDICT", "(i32.store offset=4 (local.get $v) (i32.const 1))", "invalid_output"),
    ];
    for (hook, code, kind) in cases {
        let code = format!("(if (i32.eq (local.get $n) (i32.const 3)) (then {code}))");
        let plugin = load(&variant(&[("FUNCS", recurse), (hook, &code)])).unwrap();
        let err = score(&plugin, 0, &SKILLS, &three()).unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(score(&plugin, 0, &SKILLS, &two()).unwrap(), expected(&SKILLS, &two()), "after {kind}");
        let health = plugin.health();
        assert_eq!((health.calls, health.failures), (2, 1));
        assert_eq!(health.last_error, Some(err.to_string()));
    }
}

#[test]
fn every_instance_is_asked_its_abi_version_before_init() {
    // init fails unless rallypoint_abi_version ran first on this instance; the rebuilt
    // worker (after the failure on three candidates) must be asked too.
    let plugin = load(&variant(&[
        ("FUNCS", "(global $asked (mut i32) (i32.const 0))"),
        ("VERSION", "(global.set $asked (i32.const 1))"),
        ("INIT", "(if (i32.eqz (global.get $asked)) (then (return (i32.const -9))))"),
        ("SCORE", "(if (i32.eq (local.get $n) (i32.const 3)) (then unreachable))"),
    ]))
    .unwrap();
    assert!(score(&plugin, 0, &SKILLS, &three()).is_err());
    assert_eq!(score(&plugin, 0, &SKILLS, &two()).unwrap(), expected(&SKILLS, &two()));
}

/// A plugin that traps on batches of exactly three candidates.
fn flaky() -> Plugin {
    load(&variant(&[("SCORE", "(if (i32.eq (local.get $n) (i32.const 3)) (then unreachable))")])).unwrap()
}

#[test]
fn three_failures_in_a_row_trip_the_breaker_with_growing_windows() {
    let plugin = flaky();
    let fail = |cycle| assert!(score(&plugin, cycle, &SKILLS, &three()).is_err());
    let pass = |cycle| assert!(score(&plugin, cycle, &SKILLS, &two()).is_ok());

    // Two failures, a success, two failures: no trip.
    fail(1);
    fail(1);
    pass(1);
    fail(1);
    fail(1);
    assert!(plugin.available(1));
    // The third in a row trips: disabled for the rest of cycle 1 and for 1 cycle.
    fail(1);
    assert_eq!((plugin.available(1), plugin.available(2), plugin.available(3)), (false, false, true));
    assert_eq!(plugin.health().disabled_until_cycle, None, "cycle 3 has been seen");

    // Tried again at cycle 3, fails three times: 2 cycles.
    fail(3);
    fail(3);
    fail(3);
    assert_eq!(plugin.health().disabled_until_cycle, Some(6));
    assert_eq!((plugin.available(5), plugin.available(6)), (false, true));

    // A call still in flight during the window fails without tripping again.
    fail(4);
    fail(4);
    fail(4);
    assert_eq!(plugin.health().breaker_trips, 2);

    // Three more failures at 6: 4 cycles.
    fail(6);
    fail(6);
    fail(6);
    assert_eq!((plugin.available(10), plugin.available(11)), (false, true));

    // A success after the window resets the back-off: the next trip is 1 cycle again.
    pass(11);
    fail(11);
    fail(11);
    fail(11);
    assert_eq!((plugin.available(12), plugin.available(13)), (false, true));

    let health = plugin.health();
    assert_eq!((health.failures, health.traps, health.breaker_trips), (17, 17, 4));
    assert_eq!(health.calls, 19);
}

#[test]
fn a_timeout_trips_the_breaker_at_once_and_the_window_doubles() {
    // A 50 ms deadline: long enough that the successful calls never hit it.
    let host = PluginHost::new(Limits { call_deadline_ticks: 50, ..Limits::default() }).unwrap();
    let wasm = variant(&[("SCORE", "(if (i32.eq (local.get $n) (i32.const 3)) (then (loop $spin (br $spin))))")]);
    let plugin = host.load("test_plugin", &wasm, &setup(), 3).unwrap();
    assert!(score(&plugin, 10, &SKILLS, &three()).is_err());
    assert_eq!((plugin.available(11), plugin.available(12)), (false, true));
    assert!(score(&plugin, 12, &SKILLS, &three()).is_err());
    assert_eq!((plugin.available(14), plugin.available(15)), (false, true));
    // Recovered: the worker was rebuilt, and a success resets the back-off.
    assert_eq!(score(&plugin, 15, &SKILLS, &two()).unwrap(), expected(&SKILLS, &two()));
    assert!(score(&plugin, 15, &SKILLS, &three()).is_err());
    assert_eq!((plugin.available(16), plugin.available(17)), (false, true));
    assert_eq!(plugin.health().breaker_trips, 3);
}

#[test]
fn rayon_threads_get_identical_verdicts() {
    let plugin = host().load("parallel", &good(), &setup(), 4).unwrap();
    let skills: Vec<f64> = (0..200).map(|i| f64::from(i % 17) * 1.5).collect();
    let table = table(&skills);
    let batches: Vec<Vec<Cand>> = (0..64).map(|b| cands(1 + b % 48, 200)).collect();
    let want: Vec<Vec<Verdict>> = batches.iter().map(|cands| expected(&skills, cands)).collect();

    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    for cycle in 0..3 {
        let got: Vec<Vec<Verdict>> = pool.install(|| {
            batches
                .par_iter()
                .map(|cands| {
                    let mut out = Vec::new();
                    plugin.score(cycle, &table, &mut batch(cands), &mut out).unwrap();
                    out
                })
                .collect()
        });
        assert_eq!(got, want);
    }
    let health = plugin.health();
    assert_eq!(health.calls, 3 * 64);
    assert_eq!(health.failures, 0);
}

#[test]
fn fuel_is_metered_deterministically() {
    let plugin = fuel_host().load("metered", &good(), &setup(), 2).unwrap();
    let table = table(&SKILLS);
    let mut out = Vec::new();
    let small = plugin.score_metered(&table, &mut batch(&cands(4, 8)), &mut out).unwrap();
    assert_eq!(out, expected(&SKILLS, &cands(4, 8)));
    let again = plugin.score_metered(&table, &mut batch(&cands(4, 8)), &mut out).unwrap();
    let large = plugin.score_metered(&table, &mut batch(&cands(40, 8)), &mut out).unwrap();
    assert!(small > 0);
    assert_eq!(small, again);
    assert!(large > 2 * small, "{small} vs {large}");
    // Normal calls work with fuel on too.
    assert_still_works(&plugin);

    let err = load(&good()).unwrap().score_metered(&table, &mut batch(&two()), &mut out).unwrap_err();
    assert_eq!(err.kind(), "internal");
}

#[test]
fn running_out_of_fuel_stops_a_loop() {
    let plugin = fuel_host().load("spinner", &variant(&[("SCORE", "(loop $spin (br $spin))")]), &setup(), 2).unwrap();
    let start = Instant::now();
    let err = score(&plugin, 0, &SKILLS, &two()).unwrap_err();
    assert_eq!(err, PluginError::OutOfFuel { plugin: "spinner".into() });
    assert!(start.elapsed() < Duration::from_millis(100));
    assert_eq!(plugin.health().timeouts, 1);
}

#[test]
fn a_plugin_is_shared_across_threads() {
    let plugin = load(&good()).unwrap();
    let clone = plugin.clone();
    std::thread::spawn(move || assert_still_works(&clone)).join().unwrap();
    assert_still_works(&plugin);
    assert_eq!(plugin.health().calls, 2);
}
