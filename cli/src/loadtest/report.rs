//! The load-test report: numbers (JSON), a readable summary, and an HTML page with inline
//! SVG charts.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::Outcome;
use super::consumer::{Outcome as TicketOutcome, PlayerRecord};
use super::sample::Moments;

/// Facts about the run, from the command line and the workload.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunFacts {
    pub(crate) profile: String,
    pub(crate) configuration: String,
    pub(crate) clock: &'static str,
    /// Mean arrivals per second of the workload.
    pub(crate) rate: f64,
    /// Seconds over which tickets arrive.
    pub(crate) duration: f64,
    pub(crate) seed: u64,
    pub(crate) threads: usize,
    pub(crate) timeout: u32,
    pub(crate) cycle: f64,
    pub(crate) replay: Option<String>,
    /// The generator's shape options; `None` for a replayed workload.
    pub(crate) generator: Option<Shape>,
    /// Expansion step start times (seconds of ticket age), ascending.
    pub(crate) expansion_steps: Vec<f64>,
}

/// How the generated workload was shaped beyond its rate.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Shape {
    pub(crate) daily_cycle: bool,
    pub(crate) bursts: bool,
    /// Share of tickets later cancelled.
    pub(crate) cancel_share: f64,
}

impl RunFacts {
    /// The workload in words, e.g. `7000 tickets/s for 90s, bursts, 2% cancelled`.
    fn workload(&self) -> String {
        let mut s = format!("{:.0} tickets/s for {:.0}s", self.rate, self.duration);
        if let Some(shape) = self.generator {
            if shape.daily_cycle {
                s.push_str(", daily cycle");
            }
            if shape.bursts {
                s.push_str(", bursts");
            }
            let _ = write!(s, ", {}% cancelled", (1e4 * shape.cancel_share).round() / 100.0);
        }
        if let Some(file) = &self.replay {
            let _ = write!(s, ", replay {file}");
        }
        s
    }
}

/// One cycle.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CycleSample {
    pub(crate) t: f64,
    pub(crate) ingested: usize,
    pub(crate) matched_tickets: usize,
    pub(crate) matches: usize,
    pub(crate) timed_out: usize,
    pub(crate) waiting: usize,
    /// Anchors searched, and skipped as unchanged since their last failed search.
    pub(crate) searched: usize,
    pub(crate) skipped: usize,
}

/// Process memory.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Memory {
    pub(crate) baseline_rss_bytes: Option<u64>,
    pub(crate) peak_rss_bytes: Option<u64>,
}

/// Report file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Html,
}

impl Format {
    pub(crate) fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }
}

/// User + system CPU seconds of this process (Linux `/proc/self/stat`; `None` elsewhere).
pub(crate) fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3, utime 14 and stime 15 (1-based), in USER_HZ (100).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A `kB` line of `/proc/self/status` (e.g. `VmHWM`), in KiB.
pub(crate) fn proc_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.strip_prefix(key).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Distribution summary.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub(crate) struct Pct {
    pub(crate) count: usize,
    pub(crate) mean: f64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

fn pct(values: impl IntoIterator<Item = f64>) -> Pct {
    let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return Pct::default();
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[(((v.len() as f64) * q).ceil() as usize).clamp(1, v.len()) - 1];
    Pct {
        count: v.len(),
        mean: v.iter().sum::<f64>() / v.len() as f64,
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: v[v.len() - 1],
    }
}

/// [`pct`] of sampled `values`, with the count, mean and maximum of every value.
fn pct_exact(values: impl IntoIterator<Item = f64>, all: &Moments) -> Pct {
    let sampled = pct(values);
    if all.count == 0 {
        return sampled;
    }
    Pct { count: all.count as usize, mean: all.sum / all.count as f64, max: all.max, ..sampled }
}

/// A histogram: `counts[i]` values in `[edges[i], edges[i + 1])` (the last bin is closed).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Histogram {
    pub(crate) edges: Vec<f64>,
    pub(crate) counts: Vec<usize>,
}

fn histogram(values: &[f64], bins: usize) -> Histogram {
    let v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    let max = v.iter().copied().fold(0.0f64, f64::max);
    let width = nice_step(max.max(1e-9) / bins as f64);
    let bins = ((max / width).floor() as usize + 1).clamp(1, bins + 1);
    let mut counts = vec![0; bins];
    for x in v {
        counts[((x / width) as usize).min(bins - 1)] += 1;
    }
    Histogram { edges: (0..=bins).map(|i| i as f64 * width).collect(), counts }
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at least `x`.
fn nice_step(x: f64) -> f64 {
    let mag = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|&s| s >= x).unwrap_or(10.0 * mag)
}

/// Wait and outcome of one group of players.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Group {
    pub(crate) label: String,
    pub(crate) players: usize,
    /// Matched share of the group's players whose tickets were not cancelled.
    pub(crate) matched_share: f64,
    pub(crate) wait: Pct,
}

fn group(label: String, members: &[&PlayerRecord]) -> Group {
    let decided = members.iter().filter(|p| p.outcome != TicketOutcome::Cancelled).count();
    let matched = members.iter().filter(|p| p.outcome == TicketOutcome::Matched).count();
    Group {
        label,
        players: members.len(),
        matched_share: if decided == 0 { 0.0 } else { matched as f64 / decided as f64 },
        wait: pct(members.iter().map(|p| f64::from(p.wait))),
    }
}

/// Matches per expansion step.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepShare {
    pub(crate) step: usize,
    /// Ticket age (seconds) from which the step applies; 0 for the original rules.
    pub(crate) from_seconds: f64,
    pub(crate) matches: usize,
    pub(crate) share: f64,
}

/// Ticket counts.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Tickets {
    pub(crate) ingested: usize,
    pub(crate) rejected: usize,
    pub(crate) matched: usize,
    pub(crate) timed_out: usize,
    pub(crate) cancelled: usize,
    pub(crate) failed: usize,
    pub(crate) unfinished: usize,
    pub(crate) players: usize,
    pub(crate) matches: usize,
    pub(crate) peak_waiting: usize,
    /// StopMatchmaking requests that were applied.
    pub(crate) stop_requests_applied: usize,
}

/// Throughput, per wall-clock second.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Throughput {
    pub(crate) wall_seconds: f64,
    pub(crate) arrival_wall_seconds: f64,
    pub(crate) simulated_seconds: f64,
    pub(crate) ingested_tickets_per_s: f64,
    pub(crate) matched_tickets_per_s: f64,
    pub(crate) matches_per_s: f64,
}

/// Cycle (tick) wall times, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Cycles {
    pub(crate) count: usize,
    pub(crate) mean_ms: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    /// Anchors the search built a match around, over the run.
    pub(crate) anchors_searched: usize,
    /// Anchors skipped because nothing that decided their last failed search changed.
    pub(crate) anchors_skipped: usize,
}

/// CPU and memory.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Resources {
    /// Process CPU seconds (user + system) during the run, all threads, including workload
    /// generation and the event consumer.
    pub(crate) cpu_seconds: Option<f64>,
    pub(crate) cpu_seconds_per_1k_tickets: Option<f64>,
    pub(crate) baseline_rss_bytes: Option<u64>,
    pub(crate) peak_rss_bytes: Option<u64>,
    /// What the engine holds per waiting ticket: at the largest pool sampled, (RSS − RSS
    /// before the run − the consumer's data) / tickets waiting, measured
    /// after the consumer caught up and the allocator returned freed pages.
    pub(crate) bytes_per_waiting_ticket: Option<f64>,
    /// Tickets waiting when that was measured (memory is sampled as the pool grows, less
    /// often once sampling took 2% of the run's wall time).
    pub(crate) bytes_sampled_at_waiting: Option<usize>,
}

/// Match quality.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Quality {
    /// Matched tickets / (matched + timed out + failed + unfinished).
    pub(crate) matched_before_timeout_share: f64,
    /// Timed-out tickets / the same denominator.
    pub(crate) timed_out_share: f64,
    /// Per player, seconds from ticket start to match.
    pub(crate) wait_seconds: Pct,
    pub(crate) wait_by_skill_decile: Vec<Group>,
    pub(crate) wait_by_region: Vec<Group>,
    pub(crate) wait_by_party_size: Vec<Group>,
    pub(crate) skill_spread: Pct,
    pub(crate) team_imbalance: Pct,
    /// Per matched player, latency to the match's chosen location (ms).
    pub(crate) chosen_latency_ms: Pct,
    /// Per match, average player latency to the chosen location (ms).
    pub(crate) chosen_latency_match_avg_ms: Pct,
    /// Per match, worst player latency to the chosen location (ms).
    pub(crate) chosen_latency_match_max_ms: Pct,
    /// Per matched player, chosen latency − best latency (ms).
    pub(crate) delta_ping_ms: Pct,
    pub(crate) expansion_steps: Vec<StepShare>,
    /// Real clock only: seconds from the last needed ticket's arrival to its
    /// PotentialMatchCreated event.
    pub(crate) match_delay_seconds: Option<Pct>,
    /// The records the percentiles, groups and histograms above come from.
    pub(crate) sample: QualitySample,
}

/// How many player and match records the quality percentiles, groups and histograms come
/// from: all of them, or, in a run with more than `--quality-sample`, a uniform random
/// sample of that many. Counts and shares (tickets by outcome, matched share, matches per
/// expansion step) and each figure's count, mean and maximum are always exact.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct QualitySample {
    pub(crate) players: usize,
    pub(crate) of_players: usize,
    pub(crate) matches: usize,
    pub(crate) of_matches: usize,
}

impl QualitySample {
    /// A sentence saying that the figures are sampled, when they are.
    fn note(&self) -> Option<String> {
        (self.players < self.of_players || self.matches < self.of_matches).then(|| {
            format!(
                "percentiles, groups and histograms from a uniform random sample of {} of {} players and {} of {} matches (--quality-sample); counts, means and maxima are exact",
                self.players, self.of_players, self.matches, self.of_matches
            )
        })
    }
}

/// Rates over time (per simulated or real second) in buckets of `bucket_seconds`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Series {
    pub(crate) bucket_seconds: f64,
    pub(crate) start_seconds: Vec<f64>,
    pub(crate) ingested_per_s: Vec<f64>,
    pub(crate) matched_per_s: Vec<f64>,
    pub(crate) timed_out_per_s: Vec<f64>,
    pub(crate) waiting: Vec<usize>,
}

/// Histograms for the charts.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Histograms {
    pub(crate) wait_seconds: Histogram,
    pub(crate) team_imbalance: Histogram,
    pub(crate) skill_spread: Histogram,
    pub(crate) delta_ping_ms: Histogram,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    pub(crate) run: RunFacts,
    pub(crate) tickets: Tickets,
    pub(crate) throughput: Throughput,
    pub(crate) cycles: Cycles,
    pub(crate) resources: Resources,
    pub(crate) quality: Quality,
    pub(crate) series: Series,
    pub(crate) histograms: Histograms,
    /// Health of each plugin rule (calls, failures by kind, breaker trips, last error).
    pub(crate) plugins: Vec<rallypoint::matchmaker::PluginStatus>,
}

pub(crate) fn build(facts: &RunFacts, o: &Outcome, cpu: Option<f64>, memory: Memory) -> Report {
    let c = &o.consumer;
    let safe = |num: f64, den: f64| if den > 0.0 { num / den } else { 0.0 };
    let tickets = Tickets {
        ingested: o.accepted,
        rejected: o.rejected,
        matched: c.matched_tickets,
        timed_out: c.timed_out_tickets,
        cancelled: c.cancelled_tickets,
        failed: c.failed_tickets,
        unfinished: c.unfinished_tickets.min(
            o.accepted.saturating_sub(c.matched_tickets + c.timed_out_tickets + c.cancelled_tickets + c.failed_tickets),
        ),
        players: c.players.seen() as usize,
        matches: c.matches.seen() as usize,
        peak_waiting: o.peak_waiting,
        stop_requests_applied: o.stops,
    };
    let throughput = Throughput {
        wall_seconds: o.total_wall,
        arrival_wall_seconds: o.arrival_wall,
        simulated_seconds: o.covered,
        ingested_tickets_per_s: safe(o.accepted as f64, o.arrival_wall.max(1e-9)),
        matched_tickets_per_s: safe(c.matched_tickets as f64, o.total_wall),
        matches_per_s: safe(c.matches.seen() as f64, o.total_wall),
    };
    let ticks = pct(o.tick_seconds.iter().map(|s| s * 1000.0));
    let cycles = Cycles {
        count: ticks.count,
        mean_ms: ticks.mean,
        p50_ms: ticks.p50,
        p99_ms: ticks.p99,
        max_ms: ticks.max,
        anchors_searched: o.samples.iter().map(|s| s.searched).sum(),
        anchors_skipped: o.samples.iter().map(|s| s.skipped).sum(),
    };
    let grown = o.engine_bytes_per_waiting_ticket;
    let resources = Resources {
        cpu_seconds: cpu,
        cpu_seconds_per_1k_tickets: cpu.filter(|_| o.accepted > 0).map(|s| s * 1000.0 / o.accepted as f64),
        baseline_rss_bytes: memory.baseline_rss_bytes,
        peak_rss_bytes: memory.peak_rss_bytes,
        bytes_per_waiting_ticket: grown,
        bytes_sampled_at_waiting: o.memory_sampled_waiting,
    };

    // Quality.
    let decided = (tickets.matched + tickets.timed_out + tickets.failed + tickets.unfinished) as f64;
    let (players, matches) = (c.players.items(), c.matches.items());
    let mut skills: Vec<f32> = players.iter().map(|p| p.skill).filter(|s| !s.is_nan()).collect();
    skills.sort_by(f32::total_cmp);
    let cuts: Vec<f32> = (1..10)
        .filter_map(|d| skills.get((skills.len() * d / 10).min(skills.len().saturating_sub(1))).copied())
        .collect();
    let decile = |s: f32| cuts.iter().filter(|&&c| s >= c).count();
    let mut by_decile: Vec<Vec<&PlayerRecord>> = vec![Vec::new(); 10];
    let mut by_region: Vec<Vec<&PlayerRecord>> = vec![Vec::new(); c.locations.len() + 1];
    let mut by_party: Vec<Vec<&PlayerRecord>> = vec![Vec::new(); 11];
    for p in players {
        if !p.skill.is_nan() && !cuts.is_empty() {
            by_decile[decile(p.skill)].push(p);
        }
        by_region[(p.region as usize).min(c.locations.len())].push(p);
        by_party[(p.party as usize).min(10)].push(p);
    }
    let wait_by_skill_decile = if cuts.is_empty() {
        Vec::new()
    } else {
        by_decile
            .iter()
            .enumerate()
            .map(|(d, m)| {
                let lo = if d == 0 { skills[0] } else { cuts[d - 1] };
                group(format!("D{} ({lo:.0}+)", d + 1), m)
            })
            .collect()
    };
    let mut wait_by_region: Vec<Group> = by_region
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(i, m)| group(c.locations.get(i).cloned().unwrap_or_else(|| "(no latency)".into()), m))
        .collect();
    wait_by_region.sort_by_key(|g| std::cmp::Reverse(g.players));
    let wait_by_party_size: Vec<Group> = by_party
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(size, m)| group(format!("party of {size}"), m))
        .collect();
    let expansion_steps = c
        .matches_by_step
        .iter()
        .enumerate()
        .map(|(i, &n)| StepShare {
            step: i,
            from_seconds: if i == 0 { 0.0 } else { facts.expansion_steps[i - 1] },
            matches: n,
            share: safe(n as f64, c.matches.seen() as f64),
        })
        .collect();
    let waits: Vec<f64> = players.iter().map(|p| f64::from(p.wait)).collect();
    let imbalance: Vec<f64> = matches.iter().map(|m| f64::from(m.team_imbalance)).collect();
    let spread: Vec<f64> = matches.iter().map(|m| f64::from(m.skill_spread)).collect();
    let delta: Vec<f64> = players.iter().map(|p| f64::from(p.delta_ping)).collect();
    let quality = Quality {
        matched_before_timeout_share: safe(tickets.matched as f64, decided),
        timed_out_share: safe(tickets.timed_out as f64, decided),
        wait_seconds: pct_exact(waits.iter().copied(), &c.exact.wait),
        wait_by_skill_decile,
        wait_by_region,
        wait_by_party_size,
        skill_spread: pct_exact(spread.iter().copied(), &c.exact.skill_spread),
        team_imbalance: pct_exact(imbalance.iter().copied(), &c.exact.team_imbalance),
        chosen_latency_ms: pct_exact(players.iter().map(|p| f64::from(p.chosen_latency)), &c.exact.chosen_latency),
        chosen_latency_match_avg_ms: pct_exact(
            matches.iter().map(|m| f64::from(m.chosen_latency_avg)),
            &c.exact.chosen_latency_avg,
        ),
        chosen_latency_match_max_ms: pct_exact(
            matches.iter().map(|m| f64::from(m.chosen_latency_max)),
            &c.exact.chosen_latency_max,
        ),
        delta_ping_ms: pct_exact(delta.iter().copied(), &c.exact.delta_ping),
        expansion_steps,
        match_delay_seconds: (facts.clock == "real")
            .then(|| pct_exact(matches.iter().map(|m| f64::from(m.delay)), &c.exact.delay)),
        sample: QualitySample {
            players: players.len(),
            of_players: c.players.seen() as usize,
            matches: matches.len(),
            of_matches: c.matches.seen() as usize,
        },
    };

    // Series over time.
    let covered = o.samples.last().map_or(0.0, |s| s.t).max(facts.cycle);
    let bucket = nice_step((covered / 60.0).max(facts.cycle));
    let n = (covered / bucket).floor() as usize + 1;
    let mut series = Series {
        bucket_seconds: bucket,
        start_seconds: (0..n).map(|i| i as f64 * bucket).collect(),
        ingested_per_s: vec![0.0; n],
        matched_per_s: vec![0.0; n],
        timed_out_per_s: vec![0.0; n],
        waiting: vec![0; n],
    };
    for s in &o.samples {
        let i = ((s.t / bucket) as usize).min(n - 1);
        series.ingested_per_s[i] += s.ingested as f64 / bucket;
        series.matched_per_s[i] += s.matched_tickets as f64 / bucket;
        series.timed_out_per_s[i] += s.timed_out as f64 / bucket;
        series.waiting[i] = series.waiting[i].max(s.waiting);
    }
    let _ = o.samples.iter().map(|s| s.matches).sum::<usize>();
    let histograms = Histograms {
        wait_seconds: histogram(&waits, 30),
        team_imbalance: histogram(&imbalance, 30),
        skill_spread: histogram(&spread, 30),
        delta_ping_ms: histogram(&delta, 30),
    };
    Report {
        run: facts.clone(),
        tickets,
        throughput,
        cycles,
        resources,
        quality,
        series,
        histograms,
        plugins: o.plugins.clone(),
    }
}

/// " (at N waiting)": the pool size the bytes per waiting ticket were measured at, if any.
fn sampled_at(res: &Resources) -> String {
    res.bytes_sampled_at_waiting.map_or(String::new(), |w| format!(" (at {w} waiting)"))
}

fn bytes(b: Option<u64>) -> String {
    b.map_or("n/a".into(), |b| format!("{:.1} MiB", b as f64 / 1048576.0))
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.map_or("n/a".into(), |x| format!("{x:.digits$}"))
}

fn p(p: &Pct, unit: &str) -> String {
    if p.count == 0 {
        return "n/a".into();
    }
    format!("p50 {:.1}{unit}  p90 {:.1}{unit}  p99 {:.1}{unit}  max {:.1}{unit}", p.p50, p.p90, p.p99, p.max)
}

/// The readable summary.
pub(crate) fn text(r: &Report) -> String {
    let mut s = String::new();
    let run = &r.run;
    let t = &r.tickets;
    let q = &r.quality;
    let _ = writeln!(
        s,
        "loadtest: profile {}, {} clock, {}, timeout {}s, cycle {}s, seed {}",
        run.profile,
        run.clock,
        run.workload(),
        run.timeout,
        run.cycle,
        run.seed,
    );
    let _ = writeln!(
        s,
        "tickets:    {} ingested ({} players), {} rejected; {} matched, {} timed out, {} cancelled, {} unfinished; {} matches",
        t.ingested, t.players, t.rejected, t.matched, t.timed_out, t.cancelled, t.unfinished, t.matches
    );
    let th = &r.throughput;
    let _ = writeln!(
        s,
        "throughput: {:.0} tickets/s ingested, {:.0} tickets/s matched, {:.0} matches/s (wall {:.2}s for {:.0}s of {} time)",
        th.ingested_tickets_per_s,
        th.matched_tickets_per_s,
        th.matches_per_s,
        th.wall_seconds,
        th.simulated_seconds,
        if run.clock == "real" { "real" } else { "simulated" }
    );
    let c = &r.cycles;
    let _ = writeln!(
        s,
        "cycles:     {} ticks, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (peak {} waiting); {} anchors searched, {} skipped as unchanged",
        c.count, c.p50_ms, c.p99_ms, c.max_ms, t.peak_waiting, c.anchors_searched, c.anchors_skipped
    );
    let res = &r.resources;
    let _ = writeln!(
        s,
        "resources:  {} CPU s ({} per 1k tickets), peak RSS {}, ~{} bytes per waiting ticket{}",
        opt(res.cpu_seconds, 2),
        opt(res.cpu_seconds_per_1k_tickets, 4),
        bytes(res.peak_rss_bytes),
        opt(res.bytes_per_waiting_ticket, 0),
        sampled_at(res)
    );
    let _ = writeln!(
        s,
        "quality:    {:.1}% matched before timeout ({:.1}% timed out)",
        100.0 * q.matched_before_timeout_share,
        100.0 * q.timed_out_share
    );
    if let Some(note) = q.sample.note() {
        let _ = writeln!(s, "  ({note})");
    }
    let _ = writeln!(s, "  wait (s):            {}", p(&q.wait_seconds, ""));
    let _ = writeln!(s, "  skill spread:        {}", p(&q.skill_spread, ""));
    let _ = writeln!(s, "  team imbalance:      {}", p(&q.team_imbalance, ""));
    let _ = writeln!(s, "  chosen latency (ms): {}", p(&q.chosen_latency_ms, ""));
    let _ = writeln!(s, "  delta ping (ms):     {}", p(&q.delta_ping_ms, ""));
    if let Some(d) = &q.match_delay_seconds {
        let _ = writeln!(s, "  match delay (s):     p50 {:.3}  p99 {:.3}  max {:.3}", d.p50, d.p99, d.max);
    }
    let steps: Vec<String> = q
        .expansion_steps
        .iter()
        .map(|st| format!("step {} (≥{}s) {:.1}%", st.step, st.from_seconds, 100.0 * st.share))
        .collect();
    let _ = writeln!(s, "  expansion steps:     {}", steps.join(", "));
    let groups = |s: &mut String, title: &str, gs: &[Group]| {
        let _ = writeln!(s, "  wait by {title}:");
        for g in gs {
            let _ = writeln!(
                s,
                "    {:<22} {:>8} players  {:>5.1}% matched  p50 {:>5.1}s  p90 {:>5.1}s  p99 {:>5.1}s",
                g.label,
                g.players,
                100.0 * g.matched_share,
                g.wait.p50,
                g.wait.p90,
                g.wait.p99
            );
        }
    };
    groups(&mut s, "skill decile", &q.wait_by_skill_decile);
    groups(&mut s, "region (best location)", &q.wait_by_region);
    groups(&mut s, "party size", &q.wait_by_party_size);
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const W: f64 = 640.0;
const H: f64 = 260.0;
const L: f64 = 56.0;
const B: f64 = 36.0;
const T: f64 = 12.0;

fn axes(svg: &mut String, ymax: f64, xlabel: &str, ylabel: &str) {
    let _ = write!(
        svg,
        r##"<line x1="{L}" y1="{}" x2="{}" y2="{}" stroke="#333"/><line x1="{L}" y1="{T}" x2="{L}" y2="{}" stroke="#333"/>"##,
        H - B,
        W - 8.0,
        H - B,
        H - B
    );
    for i in 0..=4 {
        let v = ymax * f64::from(i) / 4.0;
        let y = H - B - (H - B - T) * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{L}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
            W - 8.0,
            L - 4.0,
            y + 4.0,
            short(v)
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text><text x="14" y="{}" font-size="12" transform="rotate(-90 14 {})" text-anchor="middle">{}</text>"##,
        (L + W) / 2.0,
        H - 4.0,
        esc(xlabel),
        H / 2.0,
        H / 2.0,
        esc(ylabel)
    );
}

fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn histogram_svg(h: &Histogram, xlabel: &str, color: &str) -> String {
    let mut svg = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}">"#);
    let ymax = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    axes(&mut svg, ymax, xlabel, "count");
    let n = h.counts.len().max(1) as f64;
    let bw = (W - 8.0 - L) / n;
    for (i, &c) in h.counts.iter().enumerate() {
        let bh = (H - B - T) * c as f64 / ymax;
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{color}"><title>{}–{}: {c}</title></rect>"#,
            L + i as f64 * bw + 1.0,
            H - B - bh,
            (bw - 2.0).max(1.0),
            short(h.edges[i]),
            short(h.edges[i + 1])
        );
    }
    let every = (h.counts.len() / 6).max(1);
    for (i, e) in h.edges.iter().enumerate().step_by(every) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="11">{}</text>"#,
            L + i as f64 * bw,
            H - B + 14.0,
            short(*e)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn bars_svg(labels: &[String], series: &[(&str, &str, Vec<f64>)], ylabel: &str) -> String {
    let mut svg = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}">"#);
    let ymax = series.iter().flat_map(|s| s.2.iter().copied()).fold(0.0f64, f64::max).max(1e-9) * 1.05;
    axes(&mut svg, ymax, "", ylabel);
    let n = labels.len().max(1) as f64;
    let gw = (W - 8.0 - L) / n;
    let bw = (gw - 6.0) / series.len().max(1) as f64;
    for (i, label) in labels.iter().enumerate() {
        for (k, (name, color, values)) in series.iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0.0);
            let bh = (H - B - T) * v / ymax;
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{color}"><title>{} {name}: {v:.2}</title></rect>"#,
                L + i as f64 * gw + 3.0 + k as f64 * bw,
                H - B - bh,
                (bw - 1.0).max(1.0),
                esc(label)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="10">{}</text>"#,
            L + (i as f64 + 0.5) * gw,
            H - B + 14.0,
            esc(label.split(' ').next().unwrap_or(label))
        );
    }
    legend(&mut svg, series.iter().map(|s| (s.0, s.1)));
    svg.push_str("</svg>");
    svg
}

fn legend<'a>(svg: &mut String, items: impl Iterator<Item = (&'a str, &'a str)>) {
    for (k, (name, color)) in items.enumerate() {
        let x = W - 180.0;
        let y = T + 6.0 + 16.0 * k as f64;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{color}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
            y - 9.0,
            x + 14.0,
            y,
            esc(name)
        );
    }
}

fn lines_svg(xs: &[f64], series: &[(&str, &str, Vec<f64>)], xlabel: &str, ylabel: &str) -> String {
    let mut svg = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}">"#);
    let ymax = series.iter().flat_map(|s| s.2.iter().copied()).fold(0.0f64, f64::max).max(1e-9) * 1.05;
    let xmax = xs.last().copied().unwrap_or(1.0).max(1e-9);
    axes(&mut svg, ymax, xlabel, ylabel);
    for (_, color, values) in series {
        let points: Vec<String> = xs
            .iter()
            .zip(values)
            .map(|(x, y)| format!("{:.1},{:.1}", L + (W - 8.0 - L) * x / xmax, H - B - (H - B - T) * y / ymax))
            .collect();
        let _ =
            write!(svg, r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#, points.join(" "));
    }
    for i in 0..=5 {
        let x = xmax * f64::from(i) / 5.0;
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="11">{}</text>"#,
            L + (W - 8.0 - L) * f64::from(i) / 5.0,
            H - B + 14.0,
            short(x)
        );
    }
    legend(&mut svg, series.iter().map(|s| (s.0, s.1)));
    svg.push_str("</svg>");
    svg
}

fn table(rows: &[(String, String)]) -> String {
    let mut s = String::from("<table>");
    for (k, v) in rows {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    s.push_str("</table>");
    s
}

fn group_table(gs: &[Group]) -> String {
    let mut s = String::from(
        "<table class=\"g\"><tr><th>group</th><th>players</th><th>matched</th><th>p50 s</th><th>p90 s</th><th>p99 s</th><th>max s</th></tr>",
    );
    for g in gs {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            esc(&g.label),
            g.players,
            100.0 * g.matched_share,
            g.wait.p50,
            g.wait.p90,
            g.wait.p99,
            g.wait.max
        );
    }
    s.push_str("</table>");
    s
}

/// One self-contained HTML page.
pub(crate) fn html(r: &Report) -> String {
    let q = &r.quality;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Rallypoint load test: {}</title><style>\
body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}}\
h2{{margin-top:1.6em;border-bottom:1px solid #ccc}}table{{border-collapse:collapse;margin:.5em 0}}\
th,td{{padding:3px 10px;text-align:left;border-bottom:1px solid #eee}}table.g td{{text-align:right}}\
table.g td:first-child{{text-align:left}}.kpi{{display:flex;gap:1em;flex-wrap:wrap}}\
.kpi div{{background:#f4f6fa;padding:.6em 1em;border-radius:6px}}.kpi b{{display:block;font-size:1.4em}}\
pre{{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}}</style></head><body>",
        esc(&r.run.profile)
    );
    let _ = write!(
        s,
        "<h1>Load test: {}</h1><p>{} clock · {} · timeout {}s · cycle {}s · seed {}</p>",
        esc(&r.run.profile),
        r.run.clock,
        esc(&r.run.workload()),
        r.run.timeout,
        r.run.cycle,
        r.run.seed
    );
    let _ = write!(
        s,
        "<div class=\"kpi\"><div><b>{:.1}%</b>matched before timeout</div><div><b>{:.1}s</b>median wait</div>\
<div><b>{:.1}s</b>p99 wait</div><div><b>{:.0}/s</b>tickets matched (wall)</div><div><b>{:.2} ms</b>p99 cycle</div>\
<div><b>{:.0}</b>p50 team imbalance</div></div>",
        100.0 * q.matched_before_timeout_share,
        q.wait_seconds.p50,
        q.wait_seconds.p99,
        r.throughput.matched_tickets_per_s,
        r.cycles.p99_ms,
        q.team_imbalance.p50
    );
    if let Some(note) = q.sample.note() {
        let _ = write!(s, "<p>Quality: {}.</p>", esc(&note));
    }
    s.push_str("<h2>Throughput over time</h2>");
    s.push_str(&lines_svg(
        &r.series.start_seconds,
        &[
            ("ingested / s", "#4c78a8", r.series.ingested_per_s.clone()),
            ("matched / s", "#54a24b", r.series.matched_per_s.clone()),
            ("timed out / s", "#e45756", r.series.timed_out_per_s.clone()),
        ],
        &format!("{} seconds", r.run.clock),
        "tickets per second",
    ));
    s.push_str(&lines_svg(
        &r.series.start_seconds,
        &[("waiting tickets (peak per bucket)", "#f58518", r.series.waiting.iter().map(|&w| w as f64).collect())],
        &format!("{} seconds", r.run.clock),
        "tickets",
    ));
    s.push_str("<h2>Wait time distribution</h2><p>Seconds from a ticket's start to its match, per player.</p>");
    s.push_str(&histogram_svg(&r.histograms.wait_seconds, "wait (s)", "#4c78a8"));
    s.push_str("<h2>Wait by skill decile</h2>");
    let labels: Vec<String> = q.wait_by_skill_decile.iter().map(|g| g.label.clone()).collect();
    s.push_str(&bars_svg(
        &labels,
        &[
            ("p50", "#4c78a8", q.wait_by_skill_decile.iter().map(|g| g.wait.p50).collect()),
            ("p90", "#f58518", q.wait_by_skill_decile.iter().map(|g| g.wait.p90).collect()),
            ("p99", "#e45756", q.wait_by_skill_decile.iter().map(|g| g.wait.p99).collect()),
        ],
        "wait (s)",
    ));
    s.push_str(&group_table(&q.wait_by_skill_decile));
    s.push_str("<h2>Team imbalance</h2><p>Per match: max − min of the teams' average skill.</p>");
    s.push_str(&histogram_svg(&r.histograms.team_imbalance, "team imbalance (skill)", "#54a24b"));
    s.push_str("<h2>Skill spread</h2><p>Per match: max − min of the players' skill.</p>");
    s.push_str(&histogram_svg(&r.histograms.skill_spread, "skill spread", "#72b7b2"));
    s.push_str(
        "<h2>Delta ping</h2><p>Per player: latency to the match's location minus the player's best latency.</p>",
    );
    s.push_str(&histogram_svg(&r.histograms.delta_ping_ms, "delta ping (ms)", "#b279a2"));
    s.push_str("<h2>Wait by region and party size</h2>");
    s.push_str(&group_table(&q.wait_by_region));
    s.push_str(&group_table(&q.wait_by_party_size));
    s.push_str("<h2>Numbers</h2>");
    let pc = |p: &Pct| format!("p50 {:.2} · p90 {:.2} · p99 {:.2} · max {:.2}", p.p50, p.p90, p.p99, p.max);
    let t = &r.tickets;
    let mut rows = vec![
        ("tickets ingested / rejected".into(), format!("{} / {}", t.ingested, t.rejected)),
        (
            "matched / timed out / cancelled / unfinished".into(),
            format!("{} / {} / {} / {}", t.matched, t.timed_out, t.cancelled, t.unfinished),
        ),
        ("matches".into(), t.matches.to_string()),
        (
            "throughput (wall)".into(),
            format!(
                "{:.0} tickets/s ingested · {:.0} tickets/s matched · {:.0} matches/s · {:.2} s wall",
                r.throughput.ingested_tickets_per_s,
                r.throughput.matched_tickets_per_s,
                r.throughput.matches_per_s,
                r.throughput.wall_seconds
            ),
        ),
        (
            "cycle time".into(),
            format!("p50 {:.2} ms · p99 {:.2} ms · max {:.2} ms", r.cycles.p50_ms, r.cycles.p99_ms, r.cycles.max_ms),
        ),
        ("CPU s per 1k tickets".into(), opt(r.resources.cpu_seconds_per_1k_tickets, 4)),
        ("peak RSS".into(), bytes(r.resources.peak_rss_bytes)),
        (
            "bytes per waiting ticket".into(),
            format!("{}{}", opt(r.resources.bytes_per_waiting_ticket, 0), sampled_at(&r.resources)),
        ),
        ("wait (s)".into(), pc(&q.wait_seconds)),
        ("skill spread".into(), pc(&q.skill_spread)),
        ("team imbalance".into(), pc(&q.team_imbalance)),
        ("chosen latency (ms)".into(), pc(&q.chosen_latency_ms)),
        ("delta ping (ms)".into(), pc(&q.delta_ping_ms)),
    ];
    if let Some(d) = &q.match_delay_seconds {
        rows.push(("match delay (s)".into(), pc(d)));
    }
    for st in &q.expansion_steps {
        rows.push((
            format!("expansion step {} (from {}s)", st.step, st.from_seconds),
            format!("{} matches ({:.1}%)", st.matches, 100.0 * st.share),
        ));
    }
    s.push_str(&table(&rows));
    s.push_str("<h2>Summary</h2><pre>");
    s.push_str(&esc(&text(r)));
    s.push_str("</pre></body></html>\n");
    s
}
