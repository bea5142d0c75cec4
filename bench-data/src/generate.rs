//! The seeded, lazy workload generator of algorithms-and-workload.md §4.3, and its JSON-lines
//! format.
//!
//! A workload is a time-ordered stream of `StartMatchmaking` and `StopMatchmaking` requests
//! ([`WorkloadItem`]). [`generate`] produces it lazily (only pending cancellations and a few
//! recent player ids are held), so millions of tickets cost no memory. The same
//! [`WorkloadSpec`] always gives the same items, byte for byte once written.
//!
//! Model (every number is from §4.2/§4.3 unless marked as this module's assumption):
//!
//! * **Arrivals**: a Poisson process of `rate` tickets per second. With `daily_cycle`, each home
//!   region's rate follows `1 + 0.5·cos(2π(t − peak)/24 h)` (peak-to-trough 3:1), peaking at
//!   20:00 local time; the simulated clock starts at a random UTC hour. With `bursts`, the rate is
//!   ×10 for 60 s (a tenth of the run if shorter) after simulated maintenance windows: the first
//!   starts at a random point in the first 20–60% of the run (or of 30 min, whichever is
//!   shorter), later ones after exponential gaps with a mean of 30 min (assumption). Bursts add
//!   load on top of `rate`.
//! * **Cancellations**: `cancel_share` of tickets get a `StopMatchmaking` after an exponential
//!   wait with a mean of 20 s; stops later than `duration` are dropped.
//! * **Skill**: 5v5, large and asymmetric: party mean ~ N(1500, 350) clipped to [600, 3000],
//!   members = mean + N(0, 150). 1v1: the chess.com rapid inverse CDF (right-skewed, median
//!   ≈ 630, long tail to 3400). Adversarial: five tiers (600…1400) weighted like LoL's
//!   Iron+Bronze / Silver / Gold / Platinum / Diamond+, one value per party (ties).
//! * **Party sizes**: [`Profile::party_sizes`] (5v5: 63/24/4/3/6%).
//! * **Geography**: home regions NA 30%, EU 32%, East Asia 15%, SE Asia 7%, South America 8%,
//!   Oceania 4%, Middle East/Africa 4%; home point = region centroid + N(0, 400 km) per axis.
//!   RTT to each of the 9 [`DATACENTERS`] = great-circle km / 100 × inflation + last mile, with
//!   inflation per (player, datacenter) in [1.3, 2.1] (median 1.5), last mile per player
//!   lognormal (median 12 ms, p95 45 ms) ± 2 ms per datacenter; 3% of players have a bad route
//!   (+50–150 ms to each datacenter with probability ½); 1% are far from every datacenter (best
//!   RTT 210–250 ms, above every profile's maxLatency). Only datacenters within 250 ms are
//!   reported (always at least the best one).
//! * **Modes** (5v5 `conquest`/`skirmish`, large `frontline`/`siege`) weighted 100 : 25, one per
//!   ticket. **Maps** (5v5): 1–3 of 8 maps, popularity-weighted; party members share their
//!   first map.
//! * **Asymmetric**: 15% of players are solo beast volunteers (`wantsBeast` 1); hunters'
//!   `beastChallenge` = skill − 150 + N(0, 100).
//! * **Adversarial**: `region` is `everywhere` for all; `avoid` holds 0–3 distinct ids of the
//!   last 64 players generated; no latencies (its rule set has no latency rule).
//!
//! Ticket ids are `t<n>` and player ids `p<n>-<k>` (n from 0). Times are rounded to
//! microseconds.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{BufRead, Write};

use rallypoint::api::{self, AttributeValue, Player, StartMatchmakingRequest};
use rallypoint::json::{self, Kind};

use crate::profiles::Profile;
use crate::workload::{DATACENTERS, Rng};

/// Mean wait before a cancelled ticket is stopped, in seconds.
pub const CANCEL_MEAN_WAIT: f64 = 20.0;
/// Rate multiplier during a burst.
pub const BURST_FACTOR: f64 = 10.0;
/// Length of a burst, in seconds (shortened to a tenth of the run for runs under 10 minutes).
pub const BURST_SECONDS: f64 = 60.0;
/// Mean gap between bursts after the first, in seconds.
pub const BURST_MEAN_GAP: f64 = 1800.0;
/// Amplitude of the daily cycle (peak/trough = (1 + a) / (1 − a) = 3).
pub const DAILY_AMPLITUDE: f64 = 0.5;
/// Largest RTT reported in `LatencyInMs`.
pub const MAX_REPORTED_LATENCY: f64 = 250.0;

/// Coordinates (latitude, longitude) of [`DATACENTERS`], in the same order.
pub const DATACENTER_COORDS: [(f64, f64); 9] = [
    (38.9, -77.4),  // us-east-1, N. Virginia
    (45.9, -119.3), // us-west-2, Oregon
    (-23.5, -46.6), // sa-east-1, São Paulo
    (53.3, -6.3),   // eu-west-1, Dublin
    (50.1, 8.7),    // eu-central-1, Frankfurt
    (19.1, 72.9),   // ap-south-1, Mumbai
    (35.7, 139.7),  // ap-northeast-1, Tokyo
    (-33.9, 151.2), // ap-southeast-2, Sydney
    (-33.9, 18.4),  // af-south-1, Cape Town
];

/// A player home region: name, share of players, centroid (latitude, longitude).
#[derive(Debug, Clone, Copy)]
pub struct HomeRegion {
    /// Short name.
    pub name: &'static str,
    /// Share of players.
    pub share: f64,
    /// Centroid latitude.
    pub lat: f64,
    /// Centroid longitude.
    pub lon: f64,
}

/// Player home regions (§4.3 item 5).
pub const HOME_REGIONS: [HomeRegion; 7] = [
    HomeRegion { name: "north-america", share: 0.30, lat: 39.0, lon: -95.0 },
    HomeRegion { name: "europe", share: 0.32, lat: 50.0, lon: 10.0 },
    HomeRegion { name: "east-asia", share: 0.15, lat: 35.0, lon: 125.0 },
    HomeRegion { name: "southeast-asia", share: 0.07, lat: 5.0, lon: 108.0 },
    HomeRegion { name: "south-america", share: 0.08, lat: -15.0, lon: -52.0 },
    HomeRegion { name: "oceania", share: 0.04, lat: -30.0, lon: 145.0 },
    HomeRegion { name: "middle-east-africa", share: 0.04, lat: 15.0, lon: 35.0 },
];

/// chess.com rapid rating inverse CDF: (cumulative share, rating), interpolated linearly.
const CHESS_INVERSE_CDF: [(f64, f64); 12] = [
    (0.0, 100.0),
    (0.07, 200.0),
    (0.23, 400.0),
    (0.44, 600.0),
    (0.65, 800.0),
    (0.80, 1000.0),
    (0.90, 1200.0),
    (0.95, 1400.0),
    (0.98, 1600.0),
    (0.993, 1800.0),
    (0.998, 2000.0),
    (1.0, 3400.0),
];

/// Adversarial skill tiers and their weights (LoL Nov 2022, merged into five tiers).
const TIERS: [(f64, f64); 5] = [(600.0, 0.281), (800.0, 0.33), (1000.0, 0.24), (1200.0, 0.10), (1400.0, 0.019)];

const MAPS: [(&str, f64); 8] = [
    ("harbor", 30.0),
    ("citadel", 20.0),
    ("dunes", 15.0),
    ("foundry", 10.0),
    ("glacier", 10.0),
    ("jungle", 6.0),
    ("canyon", 5.0),
    ("skyline", 4.0),
];

/// Share of asymmetric-profile players who volunteer as the beast.
pub const BEAST_SHARE: f64 = 0.15;
const RECENT_PLAYERS: usize = 64;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadSpec {
    /// Rule-set profile the tickets are shaped for.
    pub profile: Profile,
    /// `ConfigurationName` of every request.
    pub configuration: String,
    /// Mean arrivals per second (the base rate; bursts add to it).
    pub rate: f64,
    /// Seconds of arrivals.
    pub duration: f64,
    /// Stop after this many tickets, if set.
    pub max_tickets: Option<usize>,
    /// Seed of every random choice.
    pub seed: u64,
    /// Modulate the rate by a per-region daily cycle.
    pub daily_cycle: bool,
    /// Add ×10 bursts of 60 s.
    pub bursts: bool,
    /// Share of tickets later stopped (`StopMatchmaking`).
    pub cancel_share: f64,
}

impl WorkloadSpec {
    /// A spec with defaults: configuration = the profile's name, no daily cycle, no bursts,
    /// 2% cancellations, no ticket limit.
    pub fn new(profile: Profile, rate: f64, duration: f64, seed: u64) -> WorkloadSpec {
        WorkloadSpec {
            profile,
            configuration: profile.name().to_owned(),
            rate,
            duration,
            max_tickets: None,
            seed,
            daily_cycle: false,
            bursts: false,
            cancel_share: 0.02,
        }
    }
}

/// One timed request.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadItem {
    /// Seconds from the start of the run.
    pub at: f64,
    /// The request.
    pub request: WorkloadRequest,
}

/// A request of a workload.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkloadRequest {
    /// `StartMatchmaking`.
    Start(StartMatchmakingRequest),
    /// `StopMatchmaking`.
    Stop {
        /// The ticket to cancel.
        ticket_id: String,
    },
}

/// The lazy workload stream of `spec`.
pub fn generate(spec: &WorkloadSpec) -> Generator {
    Generator::new(spec.clone())
}

/// Iterator over a workload's items, in non-decreasing `at`. See [`generate`].
#[derive(Debug, Clone)]
pub struct Generator {
    spec: WorkloadSpec,
    arrivals: Rng,
    tickets: Rng,
    cancels: Rng,
    /// Raw (unrounded) time of the last arrival.
    clock: f64,
    /// UTC hour at time 0 (daily cycle).
    start_hour: f64,
    burst_start: f64,
    burst_end: f64,
    burst_len: f64,
    /// The next arrival, in microseconds, once drawn.
    next_arrival: Option<u64>,
    arrivals_done: bool,
    issued: u64,
    stops: BinaryHeap<Reverse<(u64, u64)>>,
    recent: VecDeque<(u64, u8)>,
}

fn micros(t: f64) -> u64 {
    (t * 1e6).round() as u64
}

fn seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

impl Generator {
    fn new(spec: WorkloadSpec) -> Generator {
        let mut arrivals = Rng::new(spec.seed ^ 0xA221_7A15);
        let tickets = Rng::new(spec.seed ^ 0x7_1C4E_7500);
        let cancels = Rng::new(spec.seed ^ 0xCA4C_E150);
        let start_hour = 24.0 * arrivals.unit();
        let burst_len = BURST_SECONDS.min(0.1 * spec.duration);
        let (burst_start, burst_end) = if spec.bursts {
            let start = (0.2 + 0.4 * arrivals.unit()) * spec.duration.min(BURST_MEAN_GAP);
            (start, start + burst_len)
        } else {
            (f64::INFINITY, f64::INFINITY)
        };
        let arrivals_done = !(spec.rate > 0.0 && spec.duration > 0.0) || spec.max_tickets == Some(0);
        Generator {
            spec,
            arrivals,
            tickets,
            cancels,
            clock: 0.0,
            start_hour,
            burst_start,
            burst_end,
            burst_len,
            next_arrival: None,
            arrivals_done,
            issued: 0,
            stops: BinaryHeap::new(),
            recent: VecDeque::new(),
        }
    }

    /// Daily-cycle factor of home region `r` at time `t` (1 without a daily cycle).
    fn diurnal(&self, r: usize, t: f64) -> f64 {
        if !self.spec.daily_cycle {
            return 1.0;
        }
        let hour = self.start_hour + t / 3600.0;
        let peak = 20.0 - HOME_REGIONS[r].lon / 15.0;
        1.0 + DAILY_AMPLITUDE * (std::f64::consts::TAU * (hour - peak) / 24.0).cos()
    }

    fn intensity(&self, t: f64) -> f64 {
        let daily: f64 = (0..HOME_REGIONS.len()).map(|r| HOME_REGIONS[r].share * self.diurnal(r, t)).sum();
        let burst = if t >= self.burst_start && t < self.burst_end { BURST_FACTOR } else { 1.0 };
        self.spec.rate * daily * burst
    }

    /// An upper bound of the intensity from `t` to the returned segment end.
    fn segment(&mut self, t: f64) -> (f64, f64) {
        while t >= self.burst_end {
            let gap = exponential(&mut self.arrivals, BURST_MEAN_GAP);
            self.burst_start = self.burst_end + gap;
            self.burst_end = self.burst_start + self.burst_len;
        }
        let base = self.spec.rate * if self.spec.daily_cycle { 1.0 + DAILY_AMPLITUDE } else { 1.0 };
        if t < self.burst_start { (base, self.burst_start) } else { (base * BURST_FACTOR, self.burst_end) }
    }

    /// Draws the next arrival time by thinning; `None` past the end of the run.
    fn draw_arrival(&mut self) -> Option<f64> {
        let mut t = self.clock;
        loop {
            if t > self.spec.duration {
                return None;
            }
            let (bound, end) = self.segment(t);
            let candidate = t + exponential(&mut self.arrivals, 1.0 / bound);
            if candidate >= end {
                t = end;
                continue;
            }
            t = candidate;
            if t > self.spec.duration {
                return None;
            }
            let accept = self.arrivals.unit() * bound;
            if accept < self.intensity(t) {
                self.clock = t;
                return Some(t);
            }
        }
    }

    fn build_ticket(&mut self, n: u64, t: f64) -> StartMatchmakingRequest {
        let profile = self.spec.profile;
        let rng = &mut self.tickets;
        let size = 1 + pick(rng, profile.party_sizes());
        let weights: Vec<f64> = (0..HOME_REGIONS.len()).map(|r| HOME_REGIONS[r].share * self.diurnal(r, t)).collect();
        let rng = &mut self.tickets;
        let region = pick(rng, &weights);
        let skill_attr = profile.skill_attribute();
        let party_skill = match profile {
            Profile::OneVOne => chess_rating(rng),
            Profile::Adversarial => TIERS[pick_pairs(rng, &TIERS)].0,
            _ => normal_skill(rng),
        };
        let mode = match profile {
            Profile::FiveVFive => Some(if rng.unit() < 0.8 { "conquest" } else { "skirmish" }),
            Profile::Large => Some(if rng.unit() < 0.8 { "frontline" } else { "siege" }),
            _ => None,
        };
        let shared_map = pick_pairs(rng, &MAPS);
        // Solo volunteers make up BEAST_SHARE of all players.
        let sizes = profile.party_sizes();
        let mean_size: f64 = sizes.iter().enumerate().map(|(k, w)| (k + 1) as f64 * w).sum();
        let beast_probability = (BEAST_SHARE * mean_size / sizes[0]).min(1.0);
        let wants_beast = profile == Profile::Asymmetric && size == 1 && rng.unit() < beast_probability;

        let mut players = Vec::with_capacity(size);
        for k in 0..size {
            let rng = &mut self.tickets;
            let skill = match profile {
                Profile::OneVOne | Profile::Adversarial => party_skill,
                _ => (party_skill + 150.0 * rng.normal()).clamp(600.0, 3000.0).round(),
            };
            let mut attributes = vec![(skill_attr.to_owned(), AttributeValue::N(skill))];
            match profile {
                Profile::OneVOne => {}
                Profile::FiveVFive => {
                    attributes.push(("mode".to_owned(), AttributeValue::S(mode.unwrap_or("conquest").to_owned())));
                    attributes.push(("maps".to_owned(), AttributeValue::SL(map_preferences(rng, shared_map))));
                }
                Profile::Large => {
                    attributes.push(("mode".to_owned(), AttributeValue::S(mode.unwrap_or("frontline").to_owned())));
                }
                Profile::Asymmetric => {
                    let challenge =
                        if wants_beast { skill } else { (skill - 150.0 + 100.0 * rng.normal()).max(0.0).round() };
                    attributes.push(("wantsBeast".to_owned(), AttributeValue::N(if wants_beast { 1.0 } else { 0.0 })));
                    attributes.push(("beastChallenge".to_owned(), AttributeValue::N(challenge)));
                }
                Profile::Adversarial => {
                    attributes.push(("region".to_owned(), AttributeValue::S("everywhere".to_owned())));
                    let count = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3][rng.below(10) as usize].min(self.recent.len());
                    let mut avoid: Vec<String> = Vec::with_capacity(count);
                    while avoid.len() < count {
                        let (tn, tk) = self.recent[rng.below(self.recent.len() as u64) as usize];
                        let id = format!("p{tn}-{tk}");
                        if !avoid.contains(&id) {
                            avoid.push(id);
                        }
                    }
                    attributes.push(("avoid".to_owned(), AttributeValue::SL(avoid)));
                }
            }
            let latency_in_ms = if profile.uses_latency() { latencies(rng, region) } else { Vec::new() };
            players.push(Player { player_id: format!("p{n}-{k}"), attributes, team: None, latency_in_ms });
        }
        if profile == Profile::Adversarial {
            for k in 0..size {
                if self.recent.len() == RECENT_PLAYERS {
                    self.recent.pop_front();
                }
                self.recent.push_back((n, k as u8));
            }
        }
        StartMatchmakingRequest {
            ticket_id: Some(format!("t{n}")),
            configuration_name: self.spec.configuration.clone(),
            players,
        }
    }
}

impl Iterator for Generator {
    type Item = WorkloadItem;

    fn next(&mut self) -> Option<WorkloadItem> {
        if self.next_arrival.is_none() && !self.arrivals_done {
            match self.draw_arrival() {
                Some(t) => self.next_arrival = Some(micros(t)),
                None => self.arrivals_done = true,
            }
        }
        let stop = self.stops.peek().map(|Reverse((at, n))| (*at, *n));
        match (stop, self.next_arrival) {
            (Some((at, n)), arrival) if arrival.is_none_or(|a| at <= a) => {
                self.stops.pop();
                Some(WorkloadItem { at: seconds(at), request: WorkloadRequest::Stop { ticket_id: format!("t{n}") } })
            }
            (_, Some(at)) => {
                self.next_arrival = None;
                let n = self.issued;
                self.issued += 1;
                if self.spec.max_tickets.is_some_and(|max| self.issued >= max as u64) {
                    self.arrivals_done = true;
                }
                let raw = self.clock;
                let request = self.build_ticket(n, raw);
                if self.spec.cancel_share > 0.0 && self.cancels.unit() < self.spec.cancel_share {
                    let stop_at = micros(raw + exponential(&mut self.cancels, CANCEL_MEAN_WAIT)).max(at);
                    if seconds(stop_at) <= self.spec.duration {
                        self.stops.push(Reverse((stop_at, n)));
                    }
                }
                Some(WorkloadItem { at: seconds(at), request: WorkloadRequest::Start(request) })
            }
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Distributions

fn exponential(rng: &mut Rng, mean: f64) -> f64 {
    -mean * (1.0 - rng.unit()).ln()
}

/// Index drawn with probability proportional to `weights`.
fn pick(rng: &mut Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.unit() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

fn pick_pairs<T>(rng: &mut Rng, pairs: &[(T, f64)]) -> usize {
    let weights: Vec<f64> = pairs.iter().map(|(_, w)| *w).collect();
    pick(rng, &weights)
}

fn normal_skill(rng: &mut Rng) -> f64 {
    (1500.0 + 350.0 * rng.normal()).clamp(600.0, 3000.0)
}

fn chess_rating(rng: &mut Rng) -> f64 {
    let u = rng.unit();
    for w in CHESS_INVERSE_CDF.windows(2) {
        let ((p0, r0), (p1, r1)) = (w[0], w[1]);
        if u < p1 {
            return (r0 + (r1 - r0) * (u - p0) / (p1 - p0)).round();
        }
    }
    CHESS_INVERSE_CDF[CHESS_INVERSE_CDF.len() - 1].1
}

/// 1–3 distinct maps, the first being the party's shared favourite.
fn map_preferences(rng: &mut Rng, shared: usize) -> Vec<String> {
    let count = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3][rng.below(10) as usize];
    let mut chosen = vec![shared];
    let mut attempts = 0;
    while chosen.len() < count && attempts < 32 {
        attempts += 1;
        let m = pick_pairs(rng, &MAPS);
        if !chosen.contains(&m) {
            chosen.push(m);
        }
    }
    chosen.into_iter().map(|m| MAPS[m].0.to_owned()).collect()
}

/// A point for [`great_circle_km`]: degrees, and the cosine of its latitude, which the
/// haversine reads once per pair and which is the same for every pair a point is in.
#[derive(Clone, Copy)]
struct Point {
    lat: f64,
    lon: f64,
    cos_lat: f64,
}

impl Point {
    fn new((lat, lon): (f64, f64)) -> Point {
        Point { lat, lon, cos_lat: lat.to_radians().cos() }
    }
}

/// The datacenters as [`Point`]s.
static DATACENTER_POINTS: std::sync::LazyLock<[Point; 9]> =
    std::sync::LazyLock::new(|| DATACENTER_COORDS.map(Point::new));

fn great_circle_km(a: Point, b: Point) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + a.cos_lat * b.cos_lat * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

/// `LatencyInMs` of a player living in home region `region`.
fn latencies(rng: &mut Rng, region: usize) -> Vec<(String, u32)> {
    let home = HOME_REGIONS[region];
    let lat = (home.lat + 400.0 / 111.0 * rng.normal()).clamp(-89.0, 89.0);
    let cos_lat = lat.to_radians().cos();
    let lon = home.lon + 400.0 / (111.0 * cos_lat.max(0.1)) * rng.normal();
    // Lognormal last mile: median 12 ms, p95 45 ms (σ = ln(45/12) / 1.645).
    let last_mile = 12.0 * (0.8035 * rng.normal()).exp();
    let bad_route = rng.unit() < 0.03;
    let far = rng.unit() < 0.01;
    let player = Point { lat, lon, cos_lat };
    let mut rtts: Vec<f64> = DATACENTER_POINTS
        .iter()
        .map(|&dc| {
            let u = rng.unit();
            let inflation = if u < 0.5 { 1.3 + 0.4 * u } else { 1.5 + 1.2 * (u - 0.5) };
            let mut rtt = great_circle_km(player, dc) / 100.0 * inflation + last_mile + 4.0 * rng.unit() - 2.0;
            if bad_route && rng.unit() < 0.5 {
                rtt += 50.0 + 100.0 * rng.unit();
            }
            rtt
        })
        .collect();
    if far {
        let best = rtts.iter().copied().fold(f64::INFINITY, f64::min);
        let extra = (210.0 + 40.0 * rng.unit() - best).max(0.0);
        rtts.iter_mut().for_each(|r| *r += extra);
    }
    let best = rtts.iter().copied().fold(f64::INFINITY, f64::min);
    DATACENTERS
        .iter()
        .zip(rtts)
        .filter(|&(_, rtt)| rtt <= MAX_REPORTED_LATENCY || rtt == best)
        .map(|(name, rtt)| ((*name).to_owned(), rtt.round().max(1.0) as u32))
        .collect()
}

// ---------------------------------------------------------------------------------------
// JSON lines

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

/// Writes one line per item (`{"at": …, "StartMatchmaking": {…}}` or
/// `{"at": …, "StopMatchmaking": {"TicketId": …}}`); returns the number of lines.
///
/// # Errors
/// The first write error.
pub fn write_jsonl(items: impl Iterator<Item = WorkloadItem>, out: &mut impl Write) -> std::io::Result<u64> {
    let mut lines = 0;
    for item in items {
        let at = serde_json::to_string(&item.at).map_err(std::io::Error::from)?;
        match &item.request {
            WorkloadRequest::Start(request) => {
                write!(out, "{{\"at\":{at},\"StartMatchmaking\":{{")?;
                if let Some(id) = &request.ticket_id {
                    write!(out, "\"TicketId\":{},", json_string(id))?;
                }
                write!(out, "\"ConfigurationName\":{},\"Players\":", json_string(&request.configuration_name))?;
                serde_json::to_writer(&mut *out, &request.players).map_err(std::io::Error::from)?;
                out.write_all(b"}}\n")?;
            }
            WorkloadRequest::Stop { ticket_id } => {
                writeln!(out, "{{\"at\":{at},\"StopMatchmaking\":{{\"TicketId\":{}}}}}", json_string(ticket_id))?;
            }
        }
        lines += 1;
    }
    Ok(lines)
}

/// Reads [`write_jsonl`]'s format. Blank lines are skipped. Every `StartMatchmaking` is
/// validated with [`api::check_start_matchmaking`]; `at` must be a non-negative number, in
/// non-decreasing order.
///
/// # Errors
/// The first bad line: `line N: what is wrong`.
pub fn read_jsonl(input: impl BufRead) -> Result<Vec<WorkloadItem>, String> {
    let mut items = Vec::new();
    let mut last_at = f64::NEG_INFINITY;
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| format!("line {number}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let item = read_line(&line).map_err(|e| format!("line {number}: {e}"))?;
        if item.at < last_at {
            return Err(format!("line {number}: `at` {} is before the previous line's {last_at}", item.at));
        }
        last_at = item.at;
        items.push(item);
    }
    Ok(items)
}

fn read_line(line: &str) -> Result<WorkloadItem, String> {
    let value = json::parse(line).map_err(|e| format!("invalid JSON at column {}: {}", e.span.start + 1, e.message))?;
    let members = value.as_object().ok_or("expected an object {\"at\": …, \"StartMatchmaking\": {…}}")?;
    let mut at = None;
    let mut request = None;
    for member in members {
        match member.key.as_str() {
            "at" => match member.value.kind {
                Kind::Number(n) if n.is_finite() && n >= 0.0 => at = Some(n),
                _ => return Err("`at` must be a non-negative number of seconds".to_owned()),
            },
            "StartMatchmaking" | "StopMatchmaking" if request.is_some() => {
                return Err("more than one request on the line".to_owned());
            }
            "StartMatchmaking" => {
                let span = member.value.span;
                let text = &line[span.start as usize..span.end as usize];
                let checked = api::check_start_matchmaking(text);
                match checked.value {
                    Some(r) => request = Some(WorkloadRequest::Start(r)),
                    None => return Err(format!("StartMatchmaking: {}", compact(&checked.diagnostics))),
                }
            }
            "StopMatchmaking" => {
                let id = member
                    .value
                    .get("TicketId")
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty())
                    .ok_or("StopMatchmaking needs a non-empty string `TicketId`")?;
                request = Some(WorkloadRequest::Stop { ticket_id: id.to_owned() });
            }
            other => {
                return Err(format!(
                    "unknown field `{other}` (expected `at` and `StartMatchmaking` or `StopMatchmaking`)"
                ));
            }
        }
    }
    let at = at.ok_or("missing `at`")?;
    let request = request.ok_or("missing `StartMatchmaking` or `StopMatchmaking`")?;
    Ok(WorkloadItem { at, request })
}

fn compact(diagnostics: &[rallypoint::Diagnostic]) -> String {
    let parts: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let mut s = if d.path.is_empty() { d.message.clone() } else { format!("{}: {}", d.path, d.message) };
            if let Some(help) = &d.help {
                s.push_str(&format!(" ({help})"));
            }
            s
        })
        .collect();
    if parts.is_empty() { "rejected".to_owned() } else { parts.join("; ") }
}

#[cfg(test)]
mod tests;
