//! One-shot measurements for profiling and memory, outside criterion:
//!
//! - `probe e2e 1v1|5v5 [RATE [THREADS [RUNS]]]`: runs of the end-to-end bench (its
//!   arrival rate, 2 threads and one run unless given); prints tickets per second, and the
//!   median over several runs (later runs reuse memory the first faulted in, as criterion's
//!   iterations do).
//!   Run it under `perf stat -e instructions` or `valgrind --tool=callgrind` for
//!   repeatable before/after comparisons.
//! - `probe gen 1v1|5v5`: only the workload generation of `e2e`, to subtract.
//! - `probe cycle 1v1|5v5-fresh|standing|standing-expanded N [R]`: the cycle bench's
//!   setup, then one timed cycle (`standing`: a pool where nothing can match, one second
//!   after the previous cycle; `standing-expanded`: after every ticket crossed an expansion
//!   step, so that every anchor is searched). `standing` with `R`: R timed cycles, a second
//!   apart (for profiling the steady pass).
//! - `probe rss N`: resident memory per waiting ticket of a standing 1v1 pool of `N`
//!   tickets (ratings spaced so that nothing matches): VmRSS after ingesting the tickets and
//!   running two cycles, minus VmRSS before, over `N`. Requests are generated and submitted
//!   in chunks, so the requests themselves are not counted, and the `MatchmakingSearching`
//!   events are received and dropped, as a consumer would. (mimalloc keeps freed pages
//!   resident for a while, so each measurement first asks it to return freed memory.)

use std::path::Path;
use std::time::Instant;

use rallypoint::api::{AttributeValue, StartMatchmakingRequest};
use rallypoint::matchmaker::{Matchmaker, MatchmakerOptions};
use rallypoint::ruleset::{self, RuleSet};
use rallypoint::time::Time;
use rallypoint_bench_data::profiles::Profile;
use rallypoint_bench_data::workload::{self, TicketSpec};
use rallypoint_benches::{END_TO_END_SECONDS, end_to_end_threads, end_to_end_workload, end_to_end_workload_at};

fn profile(name: &str) -> RuleSet {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench-data/profiles").join(name);
    let text = std::fs::read_to_string(&path).expect("profile exists");
    ruleset::check(&text).value.expect("profiles are valid")
}

fn matchmaker(rule_set: &RuleSet, name: &str) -> (Matchmaker, rallypoint::events::EventReceiver) {
    let text = format!(
        r#"{{"Name": "{name}", "RuleSetName": "{name}", "RequestTimeoutSeconds": 600, "AcceptanceRequired": false, "FlexMatchMode": "STANDALONE"}}"#
    );
    let config = rallypoint::config::check(&text).value.expect("valid configuration");
    let mut options = MatchmakerOptions::new(7);
    options.threads = 2;
    let (mut mm, rx) = Matchmaker::new(options);
    mm.add_configuration(config, rule_set).expect("supported configuration");
    (mm, rx)
}

unsafe extern "C" {
    /// mimalloc's own: frees what its heaps hold but no longer use (linked in through the
    /// `mimalloc` crate, the global allocator).
    fn mi_collect(force: bool);
}

/// Resident bytes of the process, after mimalloc has returned freed memory to the system.
fn rss_bytes() -> u64 {
    // SAFETY: mi_collect has no preconditions; it only purges the allocator's free pages.
    unsafe { mi_collect(true) };
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()).expect("a number of kB") * 1024
}

/// Minor page faults of the process so far (`/proc/self/stat`, field 10).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    // Fields after the parenthesised command name, which may itself hold spaces.
    let after = &stat[stat.rfind(')').expect("a command name") + 2..];
    after.split_whitespace().nth(7).and_then(|f| f.parse().ok()).expect("minflt")
}

fn spaced(requests: &mut [StartMatchmakingRequest], first: usize) {
    for (i, r) in requests.iter_mut().enumerate() {
        r.players[0].attributes = vec![("rating".to_owned(), AttributeValue::N((first + i) as f64 * 1000.0))];
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["e2e", name, rest @ ..] => {
            let profile = Profile::from_name(name).expect("a profile name");
            let (items, tickets) = match rest.first() {
                Some(rate) => end_to_end_workload_at(profile, rate.parse().expect("arrivals per second")),
                None => end_to_end_workload(profile),
            };
            let threads = rest.get(1).map_or(2, |t| t.parse().expect("a thread count"));
            // Later runs reuse the memory the first one faulted in, as a bench's iterations do.
            let runs: usize = rest.get(2).map_or(1, |r| r.parse().expect("a run count"));
            let mut rates = Vec::new();
            for _ in 0..runs {
                let items = items.clone();
                let faults = minor_faults();
                let t = Instant::now();
                let matched = end_to_end_threads(profile, items, END_TO_END_SECONDS + 130.0, threads);
                let s = t.elapsed().as_secs_f64();
                let faults = minor_faults() - faults;
                rates.push(tickets as f64 / s);
                println!(
                    "{name}: {tickets} tickets, {matched} matched, {s:.3} s, {:.0} tickets/s, {faults} page faults",
                    tickets as f64 / s
                );
            }
            if runs > 1 {
                rates.sort_by(f64::total_cmp);
                println!("{name}: median of {runs} runs {:.0} tickets/s", rates[runs / 2]);
            }
        }
        ["gen", name] => {
            // The workload generation alone, to subtract from `e2e` instruction counts.
            let profile = Profile::from_name(name).expect("a profile name");
            let (items, tickets) = end_to_end_workload(profile);
            println!("{name}: {tickets} tickets, {} items", items.len());
        }
        ["cycle", which, n, rest @ ..] => {
            let n: usize = n.parse().expect("a ticket count");
            let repeat: u64 = rest.first().map_or(1, |r| r.parse().expect("a repeat count"));
            let (format, kind) = which.split_once('-').expect("1v1-… or 5v5-…");
            let (rules, name, attribute, mut requests) = match format {
                "1v1" => (
                    profile("1v1-ranked.json"),
                    "duel",
                    "rating",
                    workload::tickets(&TicketSpec::one_v_one("duel"), n, 1),
                ),
                "5v5" => (
                    profile("5v5-party.json"),
                    "squad",
                    "skill",
                    workload::tickets(&TicketSpec::five_v_five("squad"), n, 2),
                ),
                _ => panic!("unknown cycle {which}"),
            };
            // The first expansion step: 10 s (1v1 rating band), 15 s (5v5 skill band).
            let (standing, at) = match (kind, format) {
                ("fresh", _) => (false, 1_003_000),
                ("standing", _) => (true, 1_003_000),
                ("standing-expanded", "1v1") => (true, 1_012_000),
                ("standing-expanded", _) => (true, 1_017_000),
                _ => panic!("unknown cycle {which}"),
            };
            if standing {
                for (i, r) in requests.iter_mut().enumerate() {
                    for p in &mut r.players {
                        p.attributes = vec![(attribute.to_owned(), AttributeValue::N(i as f64 * 1000.0))];
                    }
                }
            }
            let (mut mm, _rx) = matchmaker(&rules, name);
            for (i, r) in requests.into_iter().enumerate() {
                mm.start_matchmaking(Time(1_000_000 + i as u64 / 1000), r).expect("valid request");
            }
            if standing {
                mm.tick(Time(1_002_000));
            }
            for k in 0..repeat {
                let t = Instant::now();
                let stats = mm.tick(Time(at + 1000 * k));
                println!("{which}/{n}: {:.1} ms, {stats:?}", t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        ["rss", n] => {
            let n: usize = n.parse().expect("a ticket count");
            let rules = profile("1v1-ranked.json");
            let (mut mm, mut rx) = matchmaker(&rules, "duel");
            let before = rss_bytes();
            const CHUNK: usize = 10_000;
            let spec = TicketSpec::one_v_one("duel");
            let mut done = 0;
            while done < n {
                let k = CHUNK.min(n - done);
                let mut requests = workload::tickets(&spec, k, done as u64);
                spaced(&mut requests, done);
                for (i, r) in requests.iter_mut().enumerate() {
                    r.ticket_id = Some(format!("t{}", done + i));
                    r.players[0].player_id = format!("p{}-0", done + i);
                }
                for (i, r) in requests.into_iter().enumerate() {
                    mm.start_matchmaking(Time(1_000_000 + (done + i) as u64 / 1000), r).expect("valid request");
                }
                done += k;
            }
            let ingested = rss_bytes();
            let stats = mm.tick(Time(1_002_000));
            assert_eq!(stats.waiting, n);
            // The events belong to the consumer, not to the pool: drop them.
            let events = rx.try_iter().count();
            assert_eq!(events, n);
            let t = Instant::now();
            let stats = mm.tick(Time(1_003_000));
            let pass = t.elapsed().as_secs_f64() * 1000.0;
            assert_eq!(stats.matches, 0);
            let after = rss_bytes();
            println!(
                "{n} waiting 1v1 tickets: {:.0} B/ticket after ingest, {:.0} B/ticket after cycles; standing pass {pass:.1} ms",
                (ingested - before) as f64 / n as f64,
                (after - before) as f64 / n as f64
            );
        }
        _ => eprintln!(
            "usage: probe e2e 1v1|5v5 [RATE [THREADS [RUNS]]] | probe gen 1v1|5v5 | probe cycle 1v1|5v5-fresh|standing|standing-expanded N [R] | probe rss N"
        ),
    }
}
