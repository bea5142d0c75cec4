//! The rule's answer for one candidate.

/// Pass or fail, and optionally a score. When several complete candidates for the same
/// tickets pass every rule (alternative team assignments), the host proposes the one with
/// the highest score; candidates without a score rank below scored ones. Scores on partial
/// candidates and on failing candidates are written but carry no meaning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    pass: bool,
    score: Option<f64>,
}

impl Verdict {
    /// The candidate satisfies the rule.
    pub const fn pass() -> Verdict {
        Verdict { pass: true, score: None }
    }

    /// The candidate breaks the rule.
    pub const fn fail() -> Verdict {
        Verdict { pass: false, score: None }
    }

    /// Pass iff `pass`.
    pub const fn from_bool(pass: bool) -> Verdict {
        Verdict { pass, score: None }
    }

    /// The candidate satisfies the rule, with a score (higher is better). A score that is
    /// not finite (`NaN`, an infinity: a division by zero, say) is dropped, because the
    /// host refuses a whole batch with one non-finite score.
    pub fn pass_with_score(score: f64) -> Verdict {
        Verdict::pass().with_score(score)
    }

    /// This verdict with a score (dropped when not finite, as in [`Verdict::pass_with_score`]).
    pub fn with_score(self, score: f64) -> Verdict {
        Verdict { pass: self.pass, score: score.is_finite().then_some(score) }
    }

    /// Whether the candidate passes.
    pub const fn is_pass(&self) -> bool {
        self.pass
    }

    /// The score, if any (always finite).
    pub const fn score(&self) -> Option<f64> {
        self.score
    }

    /// The 16-byte verdict record (ABI.md, "Verdict").
    pub(crate) fn encode(&self) -> [u8; 16] {
        let flags = u32::from(self.pass) | (u32::from(self.score.is_some()) << 1);
        let mut out = [0u8; 16];
        out[..4].copy_from_slice(&flags.to_le_bytes());
        out[8..].copy_from_slice(&self.score.unwrap_or(0.0).to_le_bytes());
        out
    }

    /// Reads a verdict record, checking it as the host does; `None` if it is invalid.
    pub(crate) fn decode(bytes: &[u8; 16]) -> Option<Verdict> {
        let flags = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let reserved = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let mut score = [0u8; 8];
        score.copy_from_slice(&bytes[8..]);
        let score = f64::from_le_bytes(score);
        if flags & !3 != 0 || reserved != 0 || (flags & 2 != 0 && !score.is_finite()) {
            return None;
        }
        Some(Verdict { pass: flags & 1 != 0, score: (flags & 2 != 0).then_some(score) })
    }
}

impl From<bool> for Verdict {
    fn from(pass: bool) -> Verdict {
        Verdict::from_bool(pass)
    }
}
