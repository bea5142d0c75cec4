//! "Did you mean …?" for names a rule author mistyped.

/// The candidate closest to `wanted`, if it is close enough to be a plausible typo.
///
/// Closeness is Damerau–Levenshtein distance, allowing roughly one edit per three
/// characters, with a case-insensitive exact match always accepted.
pub(crate) fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wanted.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == wanted {
            continue;
        }
        let distance =
            if candidate.eq_ignore_ascii_case(wanted) { 0 } else { strsim::damerau_levenshtein(wanted, candidate) };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `"did you mean 'x'?"` when a close candidate exists.
pub(crate) fn did_you_mean<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(wanted, candidates).map(|c| format!("did you mean '{c}'?"))
}
