//! Win probability: the stronger team's Elo expected score may not exceed a bound.
//!
//! ```json
//! { "name": "Even", "type": "plugin", "plugin": "win_probability", "attributes": ["skill"],
//!   "parameters": { "maxExpectedScore": 0.6, "eloScale": 400 } }
//! ```
//!
//! - `skill` is a `number` attribute (for a party, the party's average).
//! - Among the teams with players, take the highest and the lowest average skill, `high`
//!   and `low`. The stronger team's expected score is `1 / (1 + 10^((low - high) / eloScale))`.
//! - `maxExpectedScore` (required, between 0.5 and 1) bounds it; `eloScale` (optional,
//!   default 400, positive) is the Elo scale. Both may be expanded.
//! - A candidate passes iff the expected score is at most `maxExpectedScore`. This is
//!   checked on partial candidates too (like the engine's native spread rules, which are
//!   enforced on every tentative addition); a candidate with fewer than two teams with
//!   players passes.
//! - A complete candidate that passes is scored `1 - (expected - 0.5)`: 1 for an even match,
//!   less the more lopsided it is, so among alternative team assignments the engine picks
//!   the most even one.
//!
//! The bound is applied as a maximum skill gap, computed once per candidate from the
//! values in force: `high - low <= eloScale * log10(p / (1 - p))` with
//! `p = maxExpectedScore` (the expected score is increasing in `high - low`, so this is the
//! same test). So the rule is the native FlexMatch rule
//!
//! ```json
//! { "name": "Even", "type": "distance",
//!   "measurements": ["max(avg(teams[*].players.attributes[skill]))"],
//!   "referenceValue": "min(avg(teams[*].players.attributes[skill]))",
//!   "maxDistance": 70.4365036222725 }
//! ```
//!
//! with `maxDistance = eloScale * log10(p / (1 - p))` (70.4365… for 0.6 and 400), and the
//! two agree on every candidate except at the boundary itself, where the last bit of the
//! logarithm can differ. (What the plugin adds: the bound stays a probability under
//! expansions, and the score.)

use rallypoint_plugin_sdk::{Attr, Candidate, Param, Rule, Setup, SetupError, Verdict, export_rule, kind};

const DEFAULT_ELO_SCALE: f64 = 400.0;

struct WinProbability {
    skill: Attr<kind::Number>,
    max_expected_score: Param,
    elo_scale: Option<Param>,
}

impl Rule for WinProbability {
    fn new(setup: &Setup) -> Result<Self, SetupError> {
        let rule = WinProbability {
            skill: setup.attribute("skill")?,
            max_expected_score: setup.parameter("maxExpectedScore")?,
            elo_scale: setup.parameter("eloScale").ok(),
        };
        let p = setup.base_value(rule.max_expected_score);
        let scale = rule.elo_scale.map_or(DEFAULT_ELO_SCALE, |s| setup.base_value(s));
        let valid = (0.5..=1.0).contains(&p) && scale > 0.0 && scale.is_finite();
        if !valid {
            return Err(SetupError::InvalidParameter);
        }
        Ok(rule)
    }

    fn score(&self, c: &Candidate<'_>) -> Verdict {
        let scale = self.elo_scale.map_or(DEFAULT_ELO_SCALE, |s| c.param(s));
        let p = c.param(self.max_expected_score);
        // +inf for p = 1; NaN (every candidate fails) for an expansion to p < 0 or p > 1.
        let max_gap = scale * (p / (1.0 - p)).log10();
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for team in c.teams().filter(|t| !t.is_empty()) {
            let average = team.players().map(|p| p.number(self.skill)).sum::<f64>() / team.len() as f64;
            low = low.min(average);
            high = high.max(average);
        }
        // Fewer than two teams with players: nothing to compare, an even match so far.
        let gap = if high >= low { high - low } else { 0.0 };
        let within = gap <= max_gap; // false when max_gap is NaN
        if !within {
            return Verdict::fail();
        }
        if !c.is_complete() {
            return Verdict::pass();
        }
        Verdict::pass_with_score(1.0 - (expected_score(gap, scale) - 0.5))
    }
}

export_rule!(WinProbability);

/// The Elo expected score of a side `gap` points stronger.
fn expected_score(gap: f64, scale: f64) -> f64 {
    1.0 / (1.0 + 10f64.powf(-gap / scale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rallypoint_plugin_sdk::AttributeKind;
    use rallypoint_plugin_sdk::testing::{Host, TestCandidate, TestSetup, Value};

    fn setup(teams: &[&str]) -> TestSetup {
        TestSetup::new().attribute("skill", AttributeKind::Number).parameter("maxExpectedScore", 0.6).teams(teams)
    }

    fn host(setup: &TestSetup, skills: &[f64]) -> Host<WinProbability> {
        let mut host = Host::new(setup).expect("setup accepted");
        host.load_players(&skills.iter().map(|&s| vec![Value::number(s)]).collect::<Vec<_>>()).expect("table");
        host
    }

    #[test]
    fn passes_up_to_the_gap_where_the_expected_score_reaches_the_bound() {
        // At p = 0.6 the largest gap is 400 · log10(0.6 / 0.4) = 70.4365….
        let mut h = host(&setup(&["red", "blue"]), &[1000.0, 1000.0, 1070.0, 1071.0, 1070.43, 1140.0, 1070.44]);
        let v = h
            .score(&[
                TestCandidate::complete(&[&[0], &[1]]),
                TestCandidate::complete(&[&[0], &[2]]),
                TestCandidate::complete(&[&[0], &[3]]),
                TestCandidate::complete(&[&[3], &[0]]),
                TestCandidate::complete(&[&[0, 5], &[1, 2]]), // 1070 vs 1035
            ])
            .unwrap();
        assert_eq!(v[0], Verdict::pass_with_score(1.0));
        let expected = 1.0 / (1.0 + 10f64.powf(-70.0 / 400.0)); // 0.59940…
        assert_eq!(v[1], Verdict::pass_with_score(1.0 - (expected - 0.5)));
        assert!(!v[2].is_pass() && !v[3].is_pass(), "{v:?}");
        assert!(v[4].is_pass() && v[4].score().unwrap() > v[1].score().unwrap(), "{v:?}");
        // Either side of the boundary, on partial candidates (no score).
        let v = h.score(&[TestCandidate::partial(&[&[0], &[4]]), TestCandidate::partial(&[&[6], &[0]])]).unwrap();
        assert_eq!(v, [Verdict::pass(), Verdict::fail()]);
    }

    #[test]
    fn empty_teams_are_ignored_and_partial_candidates_are_checked_without_score() {
        let mut h = host(&setup(&["squad_1", "squad_2", "squad_3"]), &[1000.0, 3000.0, 1050.0, 1500.0]);
        let v = h
            .score(&[
                // One team with players: nothing to compare, however wide its spread.
                TestCandidate::partial(&[&[], &[0, 1], &[]]),
                TestCandidate::partial(&[&[0], &[], &[2]]),
                TestCandidate::partial(&[&[0], &[], &[3]]),
                TestCandidate::complete(&[&[0], &[2], &[]]),
            ])
            .unwrap();
        assert_eq!(v[0], Verdict::pass());
        assert_eq!(v[1], Verdict::pass());
        assert_eq!(v[2], Verdict::fail());
        assert!(v[3].is_pass() && v[3].score().is_some_and(|s| s < 1.0 && s > 0.9), "{v:?}");
    }

    #[test]
    fn expansions_and_elo_scale_move_the_bound() {
        let with_scale = setup(&["red", "blue"]).parameter("eloScale", 200.0);
        let mut h = host(&with_scale, &[1000.0, 1050.0, 1100.0, 1200.0]);
        let v = h
            .score(&[
                TestCandidate::complete(&[&[0], &[1]]), // gap 50 > 200 · log10(1.5) = 35.2
                TestCandidate::complete(&[&[0], &[1]]).with_params(&[0.6, 400.0]),
                TestCandidate::complete(&[&[0], &[3]]).with_params(&[0.75, 400.0]), // 200 <= 190.8? no
                TestCandidate::complete(&[&[0], &[2]]).with_params(&[0.75, 400.0]), // 100 <= 190.8
                TestCandidate::complete(&[&[0], &[3]]).with_params(&[1.0, 400.0]),  // no bound at all
                TestCandidate::complete(&[&[0], &[0]]).with_params(&[0.5, 400.0]),  // only even matches
                TestCandidate::complete(&[&[0], &[1]]).with_params(&[0.5, 400.0]),
            ])
            .unwrap();
        let passed: Vec<bool> = v.iter().map(Verdict::is_pass).collect();
        assert_eq!(passed, [false, true, false, true, true, true, false]);
    }

    #[test]
    fn the_gap_test_agrees_with_comparing_expected_scores() {
        let mut skills = vec![1500.0];
        skills.extend((0..=400).map(|i| 1500.0 + f64::from(i) * 0.5));
        let mut h = host(&setup(&["red", "blue"]), &skills);
        for p in [0.55, 0.6, 0.75, 0.9] {
            let candidates: Vec<TestCandidate> =
                (1..skills.len() as u32).map(|r| TestCandidate::complete(&[&[0], &[r]]).with_params(&[p])).collect();
            let v = h.score(&candidates).unwrap();
            for (r, verdict) in (1..).zip(&v) {
                let gap = skills[r] - 1500.0;
                let expected = expected_score(gap, 400.0);
                if (expected - p).abs() > 1e-12 {
                    assert_eq!(verdict.is_pass(), expected <= p, "p {p}, gap {gap}, expected {expected}");
                }
            }
        }
    }

    #[test]
    fn setup_requires_a_probability_bound_and_a_positive_scale() {
        let refused = |s: TestSetup| Host::<WinProbability>::new(&s).err();
        let skill = TestSetup::new().attribute("skill", AttributeKind::Number);
        assert_eq!(refused(skill.clone()), Some(SetupError::MissingParameter.code()));
        assert_eq!(
            refused(skill.clone().parameter("maxExpectedScore", 0.4)),
            Some(SetupError::InvalidParameter.code())
        );
        let bounded = skill.parameter("maxExpectedScore", 0.6);
        assert_eq!(refused(bounded.clone().parameter("eloScale", 0.0)), Some(SetupError::InvalidParameter.code()));
        assert_eq!(refused(bounded.parameter("eloScale", 300.0)), None);
        let wrong_kind =
            TestSetup::new().attribute("skill", AttributeKind::StringList).parameter("maxExpectedScore", 0.6);
        assert_eq!(refused(wrong_kind), Some(SetupError::AttributeKind.code()));
    }
}
