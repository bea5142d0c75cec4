//! `rallypoint plugin check FILE.wasm --rule-set RULES.json`: loads a plugin the way the
//! engine does (empty linker, ABI checks, `rallypoint_init` with the rule's setup), runs it
//! with fuel metering on a generated corpus of candidates, reports fuel per candidate, and
//! checks that two different batchings give bit-identical verdicts (plugins must be pure).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use rallypoint::diagnostic::render;
use rallypoint::matchmaker::{plugin_name, plugin_setup};
use rallypoint::plugin::abi::{AttrKind, Batch, Setup, Table, TicketBatch, Verdict};
use rallypoint::plugin::{Limits, Plugin, PluginHost};
use rallypoint::ruleset::{self, CompiledKind, CompiledRules, RuleKind};

/// Arguments of `rallypoint plugin check`.
#[derive(clap::Args, Debug)]
pub(crate) struct CheckArgs {
    /// The plugin module (`.wasm`).
    #[arg(value_name = "FILE.wasm")]
    wasm: PathBuf,
    /// A rule set with a `plugin` rule for this plugin: the rule's attributes, parameters
    /// and the rule set's teams are what the plugin is set up with, and the corpus is
    /// generated to fit them.
    #[arg(long, value_name = "RULES.json")]
    rule_set: PathBuf,
    /// The plugin rule to use when the rule set has several (default: the one whose
    /// `plugin` names this file, or the only one).
    #[arg(long, value_name = "NAME")]
    rule: Option<String>,
    /// Candidates in the generated corpus (half complete matches, half under construction).
    #[arg(long, default_value_t = 2000)]
    candidates: usize,
    /// Seed of the generated corpus.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Highest acceptable fuel per candidate at the 99th percentile (one fuel unit is
    /// roughly one wasm instruction).
    #[arg(long, default_value_t = 100_000)]
    max_fuel: u64,
}

/// Candidates measured one per call for the fuel percentiles.
const SINGLE_CALLS: usize = 500;

pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.rule_set)
        .with_context(|| format!("cannot read rule set {}", args.rule_set.display()))?;
    let file = args.rule_set.display().to_string();
    let checked = ruleset::check(&text);
    if !checked.diagnostics.is_empty() {
        eprint!("{}", render(&file, &text, &checked.diagnostics));
    }
    let Some(rule_set) = checked.value else {
        eprintln!("{file}: invalid rule set");
        return Ok(ExitCode::from(1));
    };
    let rules = ruleset::compile(&rule_set);
    let stem = args.wasm.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let plugin_rules: Vec<usize> = rule_set
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.kind, RuleKind::Plugin(_)))
        .map(|(i, _)| i)
        .collect();
    let chosen = match &args.rule {
        Some(name) => plugin_rules.iter().copied().find(|&i| rule_set.rules[i].name == *name),
        None => plugin_rules
            .iter()
            .copied()
            .find(|&i| matches!(&rule_set.rules[i].kind, RuleKind::Plugin(p) if plugin_name(&p.plugin) == stem))
            .or_else(|| (plugin_rules.len() == 1).then(|| plugin_rules[0])),
    };
    let Some(rule) = chosen else {
        let names: Vec<&str> = plugin_rules.iter().map(|&i| rule_set.rules[i].name.as_str()).collect();
        eprintln!(
            "error: {file} has no plugin rule {}; its plugin rules: {}",
            args.rule.as_deref().map_or(format!("for '{stem}' (name one with --rule)"), |r| format!("named '{r}'")),
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        );
        return Ok(ExitCode::from(1));
    };
    let setup = plugin_setup(&rules, rule).expect("a plugin rule");
    let wasm = std::fs::read(&args.wasm).with_context(|| format!("cannot read {}", args.wasm.display()))?;

    println!("plugin check: {}", args.wasm.display());
    let host = PluginHost::new(Limits { fuel: true, ..Limits::default() })?;
    let started = Instant::now();
    let plugin = match host.load(&stem, &wasm, &setup, 1) {
        Ok(p) => p,
        Err(err) => {
            println!("  FAILED to load: {err}");
            return Ok(ExitCode::from(1));
        }
    };
    println!(
        "  loaded in {:.1} ms: ABI v1, no imports, exports rallypoint_score{}",
        started.elapsed().as_secs_f64() * 1e3,
        if plugin.has_filter() { " and rallypoint_filter" } else { " (no filter)" }
    );
    println!("  rule '{}' of {file}: {}", rule_set.rules[rule].name, describe_setup(&setup));

    let corpus = Corpus::generate(&rules, rule, &setup, args.candidates.max(2), args.seed);
    println!(
        "  corpus: {} candidates ({} complete, {} under construction) over {} players, seed {}",
        corpus.candidates.len(),
        corpus.candidates.iter().filter(|c| c.complete).count(),
        corpus.candidates.iter().filter(|c| !c.complete).count(),
        corpus.table.rows(),
        args.seed
    );
    let mut problems = Vec::new();
    match check_candidates(&plugin, &corpus, args.max_fuel) {
        Ok(lines) => lines.iter().for_each(|l| println!("  {l}")),
        Err(problem) => problems.push(problem),
    }
    if plugin.has_filter() {
        match check_filter(&plugin, &corpus) {
            Ok(line) => println!("  {line}"),
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        println!("ok");
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            println!("  FAILED: {p}");
        }
        Ok(ExitCode::from(1))
    }
}

fn describe_setup(setup: &Setup) -> String {
    let kind = |k: AttrKind| match k {
        AttrKind::Number => "number",
        AttrKind::String => "string",
        AttrKind::StringList => "string_list",
        AttrKind::StringNumberMap => "string_number_map",
    };
    let attrs: Vec<String> = setup.attributes.iter().map(|(n, k)| format!("{n} ({})", kind(*k))).collect();
    let params: Vec<String> = setup.parameters.iter().map(|p| format!("{}={}", p.name, p.base)).collect();
    format!("attributes [{}], parameters [{}], teams [{}]", attrs.join(", "), params.join(", "), setup.teams.join(", "))
}

/// A generated candidate: rows per concrete team, parameter values, completeness.
struct GeneratedCandidate {
    teams: Vec<Vec<u32>>,
    params: Vec<f64>,
    complete: bool,
}

struct Corpus {
    table: Table,
    candidates: Vec<GeneratedCandidate>,
}

/// splitmix64: a small, seeded, well-mixed generator (the corpus needs no more).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// Normal(mean, sd) by Box–Muller.
    fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

impl Corpus {
    fn generate(rules: &CompiledRules, rule: usize, setup: &Setup, n: usize, seed: u64) -> Corpus {
        let mut rng = Rng(seed);
        // Strings: the parameter names (a plugin recognises those) and a few others.
        let others = rules.interner().len() as u32;
        let named: Vec<u32> = setup.parameters.iter().map(|p| p.symbol).collect();
        let unnamed: Vec<u32> = (others..others + 4).collect();
        // Three draws in four are strings the plugin knows by name (roles, modes ...).
        let word = |rng: &mut Rng| -> u32 {
            if !named.is_empty() && rng.unit() < 0.75 {
                named[rng.below(named.len())]
            } else {
                unnamed[rng.below(unnamed.len())]
            }
        };
        let max_team = rules.teams().iter().map(|t| t.max_players.base as usize).max().unwrap_or(1).max(1);
        let n_rows = (n * max_team).clamp(64, 20_000);
        let mut table = Table::new(setup.attributes.len());
        let (mut ids, mut pairs) = (Vec::new(), Vec::new());
        for _ in 0..n_rows {
            table.begin_row();
            for (_, kind) in &setup.attributes {
                match kind {
                    AttrKind::Number => table.number(rng.normal(1500.0, 300.0).round()),
                    AttrKind::String => table.string(word(&mut rng)),
                    AttrKind::StringList => {
                        ids.clear();
                        for _ in 0..1 + rng.below(3) {
                            let s = word(&mut rng);
                            if !ids.contains(&s) {
                                ids.push(s);
                            }
                        }
                        table.string_list(&ids);
                    }
                    AttrKind::StringNumberMap => {
                        pairs.clear();
                        for _ in 0..1 + rng.below(3) {
                            let k = word(&mut rng);
                            if !pairs.iter().any(|(p, _)| *p == k) {
                                pairs.push((k, (rng.unit() * 100.0).round()));
                            }
                        }
                        table.map(&pairs);
                    }
                }
            }
        }
        table.finish();
        let CompiledKind::Plugin { parameters, .. } = &rules.rules()[rule].kind else { unreachable!("a plugin rule") };
        // Ages that reach every expansion step of every parameter.
        let mut ages = vec![0.0];
        for p in parameters {
            ages.extend(p.value.steps.iter().map(|(at, _)| *at));
        }
        let mut candidates = Vec::with_capacity(n);
        for c in 0..n {
            let complete = c % 2 == 0;
            let age = ages[rng.below(ages.len())];
            let params = parameters.iter().map(|p| p.value.at(age)).collect();
            let mut used: Vec<u32> = Vec::new();
            let mut teams = Vec::new();
            for t in rules.teams() {
                let max = t.max_players.base as usize;
                let size = if complete { max } else { rng.below(max + 1) };
                let mut rows = Vec::with_capacity(size);
                while rows.len() < size {
                    let r = rng.below(n_rows) as u32;
                    if !used.contains(&r) {
                        used.push(r);
                        rows.push(r);
                    }
                }
                teams.push(rows);
            }
            if teams.iter().all(Vec::is_empty) {
                teams[0].push(rng.below(n_rows) as u32);
            }
            candidates.push(GeneratedCandidate { teams, params, complete });
        }
        Corpus { table, candidates }
    }
}

fn push_candidate(batch: &mut Batch, c: &GeneratedCandidate) {
    batch.begin_candidate(&c.params, c.complete);
    for team in &c.teams {
        batch.begin_team();
        team.iter().for_each(|&r| batch.member(r));
    }
}

/// A verdict as comparable bits.
fn bits(v: &Verdict) -> (bool, Option<u64>) {
    (v.pass, v.score.map(f64::to_bits))
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Fuel per candidate, then the same corpus in two batchings; returns report lines or the
/// problem found.
fn check_candidates(plugin: &Plugin, corpus: &Corpus, max_fuel: u64) -> Result<Vec<String>, String> {
    let n = corpus.candidates.len();
    let mut batch = Batch::new(corpus.candidates[0].params.len());
    let mut out = Vec::new();
    let mut lines = Vec::new();

    // Fuel, one candidate per call.
    let mut fuel = Vec::new();
    for c in corpus.candidates.iter().take(SINGLE_CALLS) {
        batch.clear();
        push_candidate(&mut batch, c);
        fuel.push(plugin.score_metered(&corpus.table, &mut batch, &mut out).map_err(|e| e.to_string())?);
    }
    fuel.sort_unstable();
    let p99 = percentile(&fuel, 0.99);
    lines.push(format!(
        "fuel per candidate ({} single calls): p50 {}  p99 {}  max {}  (budget {max_fuel} at p99)",
        fuel.len(),
        percentile(&fuel, 0.5),
        p99,
        fuel[fuel.len() - 1]
    ));

    // Batching A: in order, 256 at a time.
    let mut first = Vec::with_capacity(n);
    let (mut total_fuel, started) = (0u64, Instant::now());
    for chunk in corpus.candidates.chunks(256) {
        batch.clear();
        chunk.iter().for_each(|c| push_candidate(&mut batch, c));
        total_fuel += plugin.score_metered(&corpus.table, &mut batch, &mut out).map_err(|e| e.to_string())?;
        first.extend(out.iter().map(bits));
    }
    let elapsed = started.elapsed();
    lines.push(format!(
        "in batches of 256: {} fuel and {:.0} ns per candidate (with fuel metering on)",
        total_fuel / n as u64,
        elapsed.as_secs_f64() * 1e9 / n as f64
    ));

    // Batching B: shuffled, with batch sizes from 1 to 97.
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng(0x5eed);
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut second = vec![(false, None); n];
    let mut at = 0;
    while at < n {
        let size = (1 + rng.below(97)).min(n - at);
        batch.clear();
        order[at..at + size].iter().for_each(|&i| push_candidate(&mut batch, &corpus.candidates[i]));
        plugin.score_metered(&corpus.table, &mut batch, &mut out).map_err(|e| e.to_string())?;
        for (&i, v) in order[at..at + size].iter().zip(&out) {
            second[i] = bits(v);
        }
        at += size;
    }
    if let Some(i) = (0..n).find(|&i| first[i] != second[i]) {
        return Err(format!(
            "candidate {i} got {:?} in one batching and {:?} in another: the plugin is not a pure function of its inputs",
            first[i], second[i]
        ));
    }
    let rate = |complete: bool| {
        let of: Vec<usize> = (0..n).filter(|&i| corpus.candidates[i].complete == complete).collect();
        100.0 * of.iter().filter(|&&i| first[i].0).count() as f64 / of.len().max(1) as f64
    };
    let scored = 100.0 * first.iter().filter(|v| v.1.is_some()).count() as f64 / n as f64;
    lines.push(format!(
        "verdicts: {:.1}% of complete and {:.1}% of unfinished candidates pass; {scored:.1}% carry a score",
        rate(true),
        rate(false)
    ));
    lines.push(format!("purity: two different batchings gave bit-identical verdicts for all {n} candidates"));
    if p99 > max_fuel {
        return Err(format!("p99 fuel per candidate is {p99}, over the budget of {max_fuel} (--max-fuel)"));
    }
    Ok(lines)
}

/// The filter over every generated candidate's players as one ticket each, in two batchings.
fn check_filter(plugin: &Plugin, corpus: &Corpus) -> Result<String, String> {
    let params = corpus.candidates[0].params.len();
    let tickets: Vec<(&[f64], Vec<u32>)> = corpus
        .candidates
        .iter()
        .map(|c| (c.params.as_slice(), c.teams.iter().flatten().copied().take(5).collect()))
        .collect();
    let run = |sizes: &mut dyn FnMut() -> usize| -> Result<Vec<bool>, String> {
        let mut keep = Vec::with_capacity(tickets.len());
        let mut out = Vec::new();
        let mut batch = TicketBatch::new(params);
        let mut at = 0;
        while at < tickets.len() {
            let size = sizes().min(tickets.len() - at);
            batch.clear();
            for (p, rows) in &tickets[at..at + size] {
                batch.begin_ticket(p);
                rows.iter().for_each(|&r| batch.member(r));
            }
            plugin.filter(0, &corpus.table, &mut batch, &mut out).map_err(|e| e.to_string())?;
            keep.extend_from_slice(&out);
            at += size;
        }
        Ok(keep)
    };
    let a = run(&mut || 256)?;
    let mut rng = Rng(0xf17e);
    let b = run(&mut || 1 + rng.below(97))?;
    if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
        return Err(format!("the filter kept ticket {i} in one batching and not in another: it is not pure"));
    }
    let kept = 100.0 * a.iter().filter(|k| **k).count() as f64 / a.len() as f64;
    Ok(format!("filter: keeps {kept:.1}% of {} generated tickets, identically in two batchings", a.len()))
}
