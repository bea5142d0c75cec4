//! The five rule-set profiles of the workload model (algorithms-and-workload.md §4.3 item 7).
//!
//! Each profile is a real FlexMatch rule set in `bench-data/profiles/` plus the ticket shape the
//! generator ([`mod@crate::generate`]) produces for it.

/// A rule-set profile: which rule set a workload targets and which attributes its tickets carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// `1v1-ranked.json`: solo duelists with a right-skewed `rating`.
    OneVOne,
    /// `5v5-party.json`: parties of 1–5 with `skill`, `mode` and `maps`.
    FiveVFive,
    /// `asymmetric.json`: four hunters against one beast (`skill`, `wantsBeast`, `beastChallenge`).
    Asymmetric,
    /// `large-battle.json`: up to 100 against 100, parties of up to 10, `skill` and `mode`.
    Large,
    /// `adversarial.json`: one shard, tiered `skill` with massive ties, `avoid` lists.
    Adversarial,
}

impl Profile {
    /// Every profile, in a stable order.
    pub const ALL: [Profile; 5] =
        [Profile::OneVOne, Profile::FiveVFive, Profile::Asymmetric, Profile::Large, Profile::Adversarial];

    /// The short name: `1v1`, `5v5`, `asymmetric`, `large`, `adversarial`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::OneVOne => "1v1",
            Profile::FiveVFive => "5v5",
            Profile::Asymmetric => "asymmetric",
            Profile::Large => "large",
            Profile::Adversarial => "adversarial",
        }
    }

    /// The stem of the rule-set file in `bench-data/profiles/`.
    pub fn file_stem(self) -> &'static str {
        match self {
            Profile::OneVOne => "1v1-ranked",
            Profile::FiveVFive => "5v5-party",
            Profile::Asymmetric => "asymmetric",
            Profile::Large => "large-battle",
            Profile::Adversarial => "adversarial",
        }
    }

    /// The profile called `name` (short name or file stem, case-insensitive).
    pub fn from_name(name: &str) -> Option<Profile> {
        let name = name.trim().trim_end_matches(".json");
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name) || p.file_stem().eq_ignore_ascii_case(name))
    }

    /// The rule-set document (FlexMatch JSON).
    pub fn rule_set_json(self) -> &'static str {
        match self {
            Profile::OneVOne => include_str!("../profiles/1v1-ranked.json"),
            Profile::FiveVFive => include_str!("../profiles/5v5-party.json"),
            Profile::Asymmetric => include_str!("../profiles/asymmetric.json"),
            Profile::Large => include_str!("../profiles/large-battle.json"),
            Profile::Adversarial => include_str!("../profiles/adversarial.json"),
        }
    }

    /// The numeric skill attribute: `rating` for 1v1, `skill` otherwise.
    pub fn skill_attribute(self) -> &'static str {
        match self {
            Profile::OneVOne => "rating",
            _ => "skill",
        }
    }

    /// Whether tickets of this profile report `LatencyInMs` (its rule set has a `latency` rule).
    pub fn uses_latency(self) -> bool {
        !matches!(self, Profile::Adversarial)
    }

    /// Probability of a party of 1, 2, … players (sums to 1; length = largest party).
    pub fn party_sizes(self) -> &'static [f64] {
        match self {
            Profile::OneVOne => &[1.0],
            // §4.2: solo+duo 87%, 3–4 7%, 5-stack 6% (Dirty Bomb ranked bands).
            Profile::FiveVFive => &[0.63, 0.24, 0.04, 0.03, 0.06],
            // Hunters' team holds 4; the beast is always a solo volunteer.
            Profile::Asymmetric => &[0.75, 0.15, 0.05, 0.05],
            // §4.3 item 4: large matches take parties up to the 10-player request limit.
            Profile::Large => &[0.55, 0.20, 0.07, 0.06, 0.05, 0.02, 0.015, 0.015, 0.01, 0.01],
            // Sides of 3.
            Profile::Adversarial => &[0.70, 0.20, 0.10],
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
