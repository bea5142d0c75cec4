//! Instants as the engine sees them: milliseconds since the Unix epoch, supplied by the caller.
//!
//! The engine has no clock (it is sans-IO); every instant comes from its caller or from a
//! scenario. FlexMatch writes instants two ways, and [`Time`] produces both:
//!
//! * events carry ISO 8601 / RFC 3339 UTC text with milliseconds ([`Time::to_rfc3339`],
//!   `2026-01-01T00:00:03.500Z`);
//! * API objects (`MatchmakingTicket.StartTime`) carry epoch seconds as a JSON number
//!   ([`Time::epoch_seconds`], `1469498468.057`).
//!
//! The calendar conversion is Howard Hinnant's `days_from_civil` / `civil_from_days`
//! (proleptic Gregorian), so no date crate is needed.

use std::fmt;

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(pub u64);

const MILLIS_PER_DAY: u64 = 86_400_000;

impl Time {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Time = Time(0);

    /// The instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Time {
        Time(millis)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The instant `secs` seconds after the epoch, rounded to the nearest millisecond.
    /// Negative and NaN inputs give the epoch; values past the representable range saturate.
    pub fn from_secs_f64(secs: f64) -> Time {
        Time::UNIX_EPOCH.plus_secs(secs)
    }

    /// Seconds since the epoch.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Seconds since the epoch, as API objects write timestamps (`1469498468.057`).
    /// The same value as [`Self::as_secs_f64`].
    pub fn epoch_seconds(&self) -> f64 {
        self.as_secs_f64()
    }

    /// This instant moved by `secs` seconds (negative moves back), rounded to the nearest
    /// millisecond and saturating at the epoch and at `u64::MAX` milliseconds. NaN is 0.
    pub fn plus_secs(self, secs: f64) -> Time {
        let delta = (secs * 1000.0).round();
        if delta.is_nan() || delta == 0.0 {
            self
        } else if delta > 0.0 {
            // `as` saturates for values beyond u64::MAX.
            Time(self.0.saturating_add(delta as u64))
        } else {
            Time(self.0.saturating_sub((-delta) as u64))
        }
    }

    /// This instant moved forward by `millis` milliseconds (saturating).
    pub fn plus_millis(self, millis: u64) -> Time {
        Time(self.0.saturating_add(millis))
    }

    /// Milliseconds from `earlier` to this instant; 0 if `earlier` is later.
    pub fn saturating_sub(self, earlier: Time) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Seconds from `earlier` to this instant; 0 if `earlier` is later.
    pub fn secs_since(self, earlier: Time) -> f64 {
        self.saturating_sub(earlier) as f64 / 1000.0
    }

    /// RFC 3339 UTC text with millisecond precision, as events write it:
    /// `2026-01-01T00:00:03.500Z`.
    pub fn to_rfc3339(&self) -> String {
        let days = self.0 / MILLIS_PER_DAY;
        let rem = self.0 % MILLIS_PER_DAY;
        let (year, month, day) = civil_from_days(days as i64);
        let (h, m, s, ms) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    }

    /// Parses RFC 3339 text: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. `T`/`Z` may be lower
    /// case and `T` may be a space. Fractions finer than a millisecond are truncated. Leap
    /// seconds (`:60`) and instants before the epoch are rejected.
    ///
    /// # Errors
    /// What is wrong with the text, as a phrase to follow "expected …"-style messages.
    pub fn parse_rfc3339(text: &str) -> Result<Time, &'static str> {
        const SHAPE: &str = "expected an RFC 3339 timestamp such as 2026-01-01T00:00:00Z";
        let b = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<u64> {
            let part = b.get(range)?;
            if part.iter().all(u8::is_ascii_digit) {
                Some(part.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
            } else {
                None
            }
        };
        let sep = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
        if b.len() < 20 || !sep(4, b"-") || !sep(7, b"-") || !sep(10, b"Tt ") || !sep(13, b":") || !sep(16, b":") {
            return Err(SHAPE);
        }
        let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) =
            (digits(0..4), digits(5..7), digits(8..10), digits(11..13), digits(14..16), digits(17..19))
        else {
            return Err(SHAPE);
        };
        let mut i = 19;
        let mut millis = 0u64;
        if b[i] == b'.' {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return Err("expected digits after the decimal point in the seconds");
            }
            let frac = &b[start..i.min(start + 3)];
            millis = frac.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) * 10u64.pow(3 - frac.len() as u32);
        }
        let offset_minutes: i64 = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let (Some(oh), Some(om)) = (digits(i + 1..i + 3), digits(i + 4..i + 6)) else {
                    return Err(SHAPE);
                };
                if oh > 23 || om > 59 {
                    return Err("the UTC offset is out of range");
                }
                let minutes = (oh * 60 + om) as i64;
                if *sign == b'-' { -minutes } else { minutes }
            }
            _ => return Err("expected the time zone: Z, or an offset such as +02:00"),
        };
        if !(1..=12).contains(&month) {
            return Err("the month must be between 01 and 12");
        }
        if day < 1 || day > u64::from(days_in_month(year as i64, month as u32)) {
            return Err("that day does not exist in that month");
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err("the time of day is out of range (leap seconds are not supported)");
        }
        let days = days_from_civil(year as i64, month as u32, day as u32);
        let local_millis = days * MILLIS_PER_DAY as i64 + ((hour * 3600 + minute * 60 + second) * 1000 + millis) as i64
            - offset_minutes * 60_000;
        u64::try_from(local_millis).map(Time).map_err(|_| "instants before 1970-01-01T00:00:00Z are not supported")
    }
}

impl fmt::Display for Time {
    /// Formats as [`Time::to_rfc3339`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of the proleptic Gregorian date `year-month-day`.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `days` days after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Time {
        Time::parse_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(Time(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Time(1_767_225_603_500).to_rfc3339(), "2026-01-01T00:00:03.500Z");
        // The example timestamp of the GameLift API reference.
        assert_eq!(Time(1_469_498_468_057).to_rfc3339(), "2016-07-26T02:01:08.057Z");
        assert_eq!(Time(951_782_400_000).to_rfc3339(), "2000-02-29T00:00:00.000Z");
        assert_eq!(Time(4_107_456_000_000).to_rfc3339(), "2100-02-28T00:00:00.000Z");
        assert_eq!(Time(4_107_542_400_000).to_rfc3339(), "2100-03-01T00:00:00.000Z");
        assert_eq!(Time(253_402_300_799_999).to_rfc3339(), "9999-12-31T23:59:59.999Z");
        assert_eq!(Time(1_767_225_603_500).to_string(), "2026-01-01T00:00:03.500Z");
    }

    #[test]
    fn parses_what_it_formats_across_leap_years() {
        // Every day of 1968..2404 at a time of day that exercises every field.
        let mut day = days_from_civil(1970, 1, 1);
        let last = days_from_civil(2404, 12, 31);
        let mut leap_days = 0;
        while day <= last {
            let t = Time(day as u64 * MILLIS_PER_DAY + 45_296_789);
            let text = t.to_rfc3339();
            assert_eq!(parse(&text), t, "{text}");
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
            if m == 2 && d == 29 {
                assert!(is_leap_year(y), "{y}");
                leap_days += 1;
            }
            day += 1;
        }
        // 1972..2404 every fourth year, except 2100, 2200 and 2300.
        assert_eq!(leap_days, (2404 - 1972) / 4 + 1 - 3);
    }

    #[test]
    fn parses_offsets_fractions_and_variants() {
        assert_eq!(parse("2026-01-01T00:00:00Z"), Time(1_767_225_600_000));
        assert_eq!(parse("2026-01-01t00:00:00z"), Time(1_767_225_600_000));
        assert_eq!(parse("2026-01-01 00:00:00Z"), Time(1_767_225_600_000));
        assert_eq!(parse("2026-01-01T02:00:00+02:00"), Time(1_767_225_600_000));
        assert_eq!(parse("2025-12-31T23:30:00-00:30"), Time(1_767_225_600_000));
        assert_eq!(parse("2026-01-01T00:00:00.5Z"), Time(1_767_225_600_500));
        assert_eq!(parse("2026-01-01T00:00:00.123999Z"), Time(1_767_225_600_123));
        assert_eq!(parse("2024-02-29T12:00:00Z").to_rfc3339(), "2024-02-29T12:00:00.000Z");
    }

    #[test]
    fn rejects_impossible_or_malformed_text() {
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-1-01T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0200",
            "2026-01-01T00:00:00Zjunk",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:30:00+01:00",
        ] {
            assert!(Time::parse_rfc3339(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Time::parse_rfc3339("2000-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn seconds_arithmetic() {
        let start = parse("2026-01-01T00:00:00Z");
        assert_eq!(start.plus_secs(3.5).to_rfc3339(), "2026-01-01T00:00:03.500Z");
        assert_eq!(start.plus_secs(0.0004), start);
        assert_eq!(start.plus_secs(0.0005), Time(start.0 + 1));
        assert_eq!(start.plus_secs(-1.0), Time(start.0 - 1000));
        assert_eq!(Time(500).plus_secs(-1.0), Time::UNIX_EPOCH);
        assert_eq!(start.plus_secs(f64::NAN), start);
        assert_eq!(start.plus_secs(f64::INFINITY), Time(u64::MAX));
        assert_eq!(Time::from_secs_f64(1_469_498_468.057), Time(1_469_498_468_057));
        assert_eq!(Time::from_secs_f64(-3.0), Time::UNIX_EPOCH);
        assert_eq!(Time(1_469_498_468_057).epoch_seconds(), 1_469_498_468.057);
        assert_eq!(Time(1_469_498_468_057).as_secs_f64().to_string(), "1469498468.057");
        assert_eq!(start.plus_millis(250).saturating_sub(start), 250);
        assert_eq!(start.saturating_sub(start.plus_millis(250)), 0);
        assert_eq!(start.plus_secs(2.25).secs_since(start), 2.25);
        assert!(start < start.plus_millis(1));
    }
}
