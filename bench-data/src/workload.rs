//! Seeded synthetic tickets for benches and tests.
//!
//! A small first version of the workload model (algorithms-and-workload.md §4.3): normally
//! distributed skill, a party-size mix, and latencies to nine datacenters from a player
//! "home" location with distance-based inflation. Deterministic for a given seed.

use rallypoint::api::{AttributeValue, Player, StartMatchmakingRequest};

/// The nine datacenters of the latency model.
pub const DATACENTERS: [&str; 9] = [
    "us-east-1",
    "us-west-2",
    "sa-east-1",
    "eu-west-1",
    "eu-central-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-southeast-2",
    "af-south-1",
];

/// A small, stable generator (SplitMix64) so workloads never change with a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5851_F42D_4C95_7F2D)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Parameters of a ticket stream.
#[derive(Debug, Clone)]
pub struct TicketSpec {
    /// Configuration the tickets are for.
    pub configuration: String,
    /// Name of the skill attribute (`N`).
    pub skill_attribute: String,
    /// Mean and standard deviation of skill.
    pub skill: (f64, f64),
    /// Probability of a party of size 1, 2, 3, 4, 5 (normalised).
    pub party_sizes: [f64; 5],
    /// Whether players report latencies.
    pub latency: bool,
}

impl TicketSpec {
    /// Solo players with skill ~ N(1500, 300) and latencies, for a 1v1 rule set using `rating`.
    pub fn one_v_one(configuration: &str) -> TicketSpec {
        TicketSpec {
            configuration: configuration.to_owned(),
            skill_attribute: "rating".to_owned(),
            skill: (1500.0, 300.0),
            party_sizes: [1.0, 0.0, 0.0, 0.0, 0.0],
            latency: true,
        }
    }

    /// A 5v5 mix: 55% solo, 25% duos, 10% trios, 5% quads, 5% full fives, skill ~ N(1500, 300).
    pub fn five_v_five(configuration: &str) -> TicketSpec {
        TicketSpec {
            configuration: configuration.to_owned(),
            skill_attribute: "skill".to_owned(),
            skill: (1500.0, 300.0),
            party_sizes: [0.55, 0.25, 0.10, 0.05, 0.05],
            latency: true,
        }
    }
}

/// `n` StartMatchmaking requests with ticket ids `t{i}` and player ids `p{i}-{k}`.
pub fn tickets(spec: &TicketSpec, n: usize, seed: u64) -> Vec<StartMatchmakingRequest> {
    let mut rng = Rng::new(seed);
    let total: f64 = spec.party_sizes.iter().sum();
    (0..n)
        .map(|i| {
            let mut pick = rng.unit() * total;
            let mut size = 1;
            for (k, w) in spec.party_sizes.iter().enumerate() {
                if pick < *w {
                    size = k + 1;
                    break;
                }
                pick -= w;
            }
            let home = rng.below(DATACENTERS.len() as u64) as usize;
            let base_skill = spec.skill.0 + spec.skill.1 * rng.normal();
            let players = (0..size)
                .map(|k| {
                    let skill = (base_skill + 50.0 * rng.normal()).round();
                    let latency_in_ms = if spec.latency {
                        DATACENTERS
                            .iter()
                            .enumerate()
                            .map(|(d, name)| {
                                let distance = (d as i64 - home as i64).unsigned_abs() as f64;
                                let ms = 15.0 + 35.0 * distance + 10.0 * rng.unit();
                                ((*name).to_owned(), ms.round() as u32)
                            })
                            .collect()
                    } else {
                        Vec::new()
                    };
                    Player {
                        player_id: format!("p{i}-{k}"),
                        attributes: vec![(spec.skill_attribute.clone(), AttributeValue::N(skill))],
                        team: None,
                        latency_in_ms,
                    }
                })
                .collect();
            StartMatchmakingRequest {
                ticket_id: Some(format!("t{i}")),
                configuration_name: spec.configuration.clone(),
                players,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_workload_and_party_mix_is_honoured() {
        let spec = TicketSpec::five_v_five("squad");
        let a = tickets(&spec, 2_000, 9);
        let b = tickets(&spec, 2_000, 9);
        let c = tickets(&spec, 2_000, 10);
        let flat = |v: &[StartMatchmakingRequest]| format!("{v:?}");
        assert_eq!(flat(&a), flat(&b));
        assert_ne!(flat(&a), flat(&c));
        let solos = a.iter().filter(|t| t.players.len() == 1).count() as f64 / a.len() as f64;
        assert!((solos - 0.55).abs() < 0.05, "solo share {solos}");
        assert!(a.iter().all(|t| (1..=5).contains(&t.players.len())));
        assert!(a.iter().flat_map(|t| &t.players).all(|p| p.latency_in_ms.len() == DATACENTERS.len()));
    }
}
