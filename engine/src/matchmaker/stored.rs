//! A ticket's players as the request sent them, kept compactly for `DescribeMatchmaking`.
//!
//! A request's `Vec<Player>` costs a heap block per player, per attribute name, per string
//! value and per latency location name: over a kilobyte for a 1v1 ticket with nine
//! latencies. Describing a ticket is rare next to matching it, so the players are encoded
//! into one byte string at ingest and rebuilt on demand. Declared attribute names and
//! latency locations become indices into tables the configuration already keeps (the rule
//! set's attributes, the location interner), strings the rule set's interner already holds
//! become symbols, whole numbers become varints; anything else (undeclared attributes,
//! locations beyond the tracked 64) is stored inline. Player ids are not encoded: the
//! record keeps them as shared strings, which events need anyway.
//!
//! Decoding gives back exactly the request's players (attribute and latency order, values,
//! an input `Team`), so responses are byte-identical to a stored clone.

use crate::api::{AttributeValue, Player};
use crate::intern::{Interner, Sym, SymSet};
use crate::pool::{NewPlayer, PlayerValue};
use crate::ruleset::RuleSet;

/// The tables names and strings are encoded against (all append-only, so an encoding stays
/// valid for the configuration's lifetime).
pub(super) struct Tables<'a> {
    pub(super) rule_set: &'a RuleSet,
    pub(super) interner: &'a Interner,
    pub(super) locations: &'a Interner,
}

// Attribute tag: high nibble is how the name is stored, low nibble the value's form.
const NAME_DECLARED: u8 = 0x00;
const NAME_INLINE: u8 = 0x10;
const VALUE_NUMBER: u8 = 0;
const VALUE_INTEGER: u8 = 1;
const VALUE_STRING: u8 = 2;
const VALUE_LIST: u8 = 3;
const VALUE_MAP: u8 = 4;
// String tag: a symbol of the rule set's interner, or the bytes.
const STRING_SYM: u8 = 0;
const STRING_INLINE: u8 = 1;
/// Latency location codes below this are location symbols; this one means inline.
const LOCATION_INLINE: u64 = 64;
/// Player flag: the request gave a `Team`.
const HAS_TEAM: u8 = 1;

/// Encodes `players` (all fields but `player_id`), building the bytes in `scratch` so that
/// the result is allocated once, at its size. `converted[i]`, when given, is player `i` as
/// converted for the pool: when its latencies have an entry for every reported location
/// (the usual case), their location symbols are used instead of looking each name up again,
/// and so are the symbols of its declared attributes' string values.
/// Likewise `declared`, when it holds an entry for every attribute sent (every player's in
/// turn), gives each one's declared index (`u32::MAX` for an undeclared name).
pub(super) fn encode(
    players: &[Player],
    converted: &[NewPlayer],
    declared: &[u32],
    t: &Tables<'_>,
    scratch: &mut Vec<u8>,
) -> Box<[u8]> {
    let out = scratch;
    out.clear();
    let sent: usize = players.iter().map(|p| p.attributes.len()).sum();
    let mut declared = (declared.len() == sent).then_some(declared.iter());
    for (i, p) in players.iter().enumerate() {
        out.push(if p.team.is_some() { HAS_TEAM } else { 0 });
        if let Some(team) = &p.team {
            put_str(out, team);
        }
        put_varint(out, p.attributes.len() as u64);
        let values = converted.get(i).map(|c| &c.values[..]);
        // Declared attributes (of the first 64) already met in this player's list: only
        // the first of a name was converted, as `Player::attribute` reads it.
        let mut seen = 0u64;
        for (name, value) in &p.attributes {
            let index = match &mut declared {
                Some(known) => known.next().and_then(|&d| (d != u32::MAX).then_some(d as usize)),
                None => t.rule_set.attribute_index(name),
            };
            // The value as converted for the pool, whose strings are interned in the
            // interner this encoding looks them up in: its symbols are the ones
            // `put_string` would find.
            let conv = match index {
                Some(d) if d < 64 && seen & 1 << d == 0 => {
                    seen |= 1 << d;
                    values.and_then(|v| v.get(d)).and_then(Option::as_ref)
                }
                _ => None,
            };
            let kind = match value {
                AttributeValue::N(n) if integer(*n).is_some() => VALUE_INTEGER,
                AttributeValue::N(_) => VALUE_NUMBER,
                AttributeValue::S(_) => VALUE_STRING,
                AttributeValue::SL(_) => VALUE_LIST,
                AttributeValue::SDM(_) => VALUE_MAP,
            };
            match index {
                Some(i) => {
                    out.push(NAME_DECLARED | kind);
                    put_varint(out, i as u64);
                }
                None => {
                    out.push(NAME_INLINE | kind);
                    put_str(out, name);
                }
            }
            match value {
                AttributeValue::N(n) => match integer(*n) {
                    Some(i) => put_varint(out, zigzag(i)),
                    None => out.extend_from_slice(&n.to_le_bytes()),
                },
                AttributeValue::S(s) => match conv {
                    Some(PlayerValue::String(sym)) => put_sym(out, *sym),
                    _ => put_string(out, s, t.interner),
                },
                AttributeValue::SL(items) => {
                    put_varint(out, items.len() as u64);
                    match conv {
                        // (Conversion drops repeated items: only a list without any keeps
                        // one symbol per item.)
                        Some(PlayerValue::List(syms)) if syms.len() == items.len() => {
                            syms.iter().for_each(|&sym| put_sym(out, sym));
                        }
                        _ => items.iter().for_each(|s| put_string(out, s, t.interner)),
                    }
                }
                AttributeValue::SDM(pairs) => {
                    put_varint(out, pairs.len() as u64);
                    let syms = match conv {
                        Some(PlayerValue::Map(m)) if m.len() == pairs.len() => Some(m),
                        _ => None,
                    };
                    for (j, (k, v)) in pairs.iter().enumerate() {
                        match syms {
                            Some(m) => put_sym(out, m[j].0),
                            None => put_string(out, k, t.interner),
                        }
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
        put_varint(out, p.latency_in_ms.len() as u64);
        let known = converted.get(i).map(|c| &c.latency[..]).filter(|l| l.len() == p.latency_in_ms.len());
        for (j, (location, ms)) in p.latency_in_ms.iter().enumerate() {
            let sym = match known {
                Some(l) => Some(Sym(u32::from(l[j].0))),
                None => t.locations.get(location),
            };
            match sym.filter(|s| u64::from(s.0) < LOCATION_INLINE) {
                Some(sym) => put_varint(out, u64::from(sym.0)),
                None => {
                    put_varint(out, LOCATION_INLINE);
                    put_str(out, location);
                }
            }
            put_varint(out, u64::from(*ms));
        }
    }
    out[..].into()
}

/// Rebuilds the players encoded by [`encode`]; `ids` are their player ids and `team`, when
/// given, replaces every player's team (the team of a match).
pub(super) fn decode(bytes: &[u8], ids: &[std::sync::Arc<str>], team: Option<&str>, t: &Tables<'_>) -> Vec<Player> {
    let mut r = Reader { bytes, at: 0 };
    let mut players = Vec::with_capacity(ids.len());
    for id in ids {
        let flags = r.byte();
        let input_team = (flags & HAS_TEAM != 0).then(|| r.str().to_owned());
        let n = r.varint() as usize;
        let mut attributes = Vec::with_capacity(n);
        for _ in 0..n {
            let tag = r.byte();
            let name = match tag & 0xF0 {
                NAME_DECLARED => t.rule_set.attributes[r.varint() as usize].name.clone(),
                _ => r.str().to_owned(),
            };
            let value = match tag & 0x0F {
                VALUE_INTEGER => AttributeValue::N(unzigzag(r.varint()) as f64),
                VALUE_NUMBER => AttributeValue::N(r.f64()),
                VALUE_STRING => AttributeValue::S(r.string(t.interner)),
                VALUE_LIST => {
                    let k = r.varint() as usize;
                    AttributeValue::SL((0..k).map(|_| r.string(t.interner)).collect())
                }
                _ => {
                    let k = r.varint() as usize;
                    AttributeValue::SDM(
                        (0..k)
                            .map(|_| {
                                let key = r.string(t.interner);
                                (key, r.f64())
                            })
                            .collect(),
                    )
                }
            };
            attributes.push((name, value));
        }
        let n = r.varint() as usize;
        let mut latency_in_ms = Vec::with_capacity(n);
        for _ in 0..n {
            let code = r.varint();
            let location = match code {
                LOCATION_INLINE => r.str().to_owned(),
                sym => t.locations.resolve(Sym(sym as u32)).to_owned(),
            };
            latency_in_ms.push((location, r.varint() as u32));
        }
        players.push(Player {
            player_id: id.to_string(),
            attributes,
            team: team.map(str::to_owned).or(input_team),
            latency_in_ms,
        });
    }
    players
}

/// Adds to `in_use` the interner symbols of the `n_players` players encoded in `bytes` by
/// [`encode`] (the strings stored as symbols, not the location codes).
pub(super) fn mark_symbols(bytes: &[u8], n_players: usize, in_use: &mut SymSet) {
    let mut r = Reader { bytes, at: 0 };
    let mut string = |r: &mut Reader<'_>| match r.byte() {
        STRING_SYM => in_use.insert(Sym(r.varint() as u32)),
        _ => {
            r.str();
        }
    };
    for _ in 0..n_players {
        if r.byte() & HAS_TEAM != 0 {
            r.str();
        }
        for _ in 0..r.varint() {
            let tag = r.byte();
            match tag & 0xF0 {
                NAME_DECLARED => {
                    r.varint();
                }
                _ => {
                    r.str();
                }
            }
            match tag & 0x0F {
                VALUE_INTEGER => {
                    r.varint();
                }
                VALUE_NUMBER => {
                    r.f64();
                }
                VALUE_STRING => string(&mut r),
                VALUE_LIST => (0..r.varint()).for_each(|_| string(&mut r)),
                _ => {
                    for _ in 0..r.varint() {
                        string(&mut r);
                        r.f64();
                    }
                }
            }
        }
        for _ in 0..r.varint() {
            if r.varint() == LOCATION_INLINE {
                r.str();
            }
            r.varint();
        }
    }
}

/// `n` as an integer when it is one that round-trips exactly (and is not `-0.0`).
fn integer(n: f64) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    (n.fract() == 0.0 && n.abs() <= EXACT && !(n == 0.0 && n.is_sign_negative())).then_some(n as i64)
}

fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_sym(out: &mut Vec<u8>, sym: Sym) {
    out.push(STRING_SYM);
    put_varint(out, u64::from(sym.0));
}

fn put_string(out: &mut Vec<u8>, s: &str, interner: &Interner) {
    match interner.get(s) {
        Some(sym) => put_sym(out, sym),
        None => {
            out.push(STRING_INLINE);
            put_str(out, s);
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes[self.at];
        self.at += 1;
        b
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            v |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    fn f64(&mut self) -> f64 {
        let b: [u8; 8] = self.bytes[self.at..self.at + 8].try_into().expect("8 bytes");
        self.at += 8;
        f64::from_le_bytes(b)
    }

    fn str(&mut self) -> &'a str {
        let n = self.varint() as usize;
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        std::str::from_utf8(s).expect("encoded from a str")
    }

    fn string(&mut self, interner: &Interner) -> String {
        match self.byte() {
            STRING_SYM => interner.resolve(Sym(self.varint() as u32)).to_owned(),
            _ => self.str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule set declaring `skill` (number), `mode` (string), `maps` (string list) and `w`
    /// (string-to-number map), in that order.
    fn one_attribute_of_each_type() -> RuleSet {
        crate::ruleset::check(
            r#"{"ruleLanguageVersion": "1.0",
              "playerAttributes": [{"name": "skill", "type": "number"}, {"name": "mode", "type": "string"},
                                   {"name": "maps", "type": "string_list"}, {"name": "w", "type": "string_number_map"}],
              "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 2}],
              "rules": []}"#,
        )
        .value
        .expect("valid")
    }

    #[test]
    fn players_round_trip_exactly() {
        let rule_set = one_attribute_of_each_type();
        let mut interner = Interner::new();
        interner.intern("conquest");
        interner.intern("harbor");
        let mut locations = Interner::new();
        locations.intern("eu-west-1");
        let players = vec![
            Player {
                player_id: "p1".into(),
                attributes: vec![
                    ("skill".into(), AttributeValue::N(1500.0)),
                    ("mode".into(), AttributeValue::S("conquest".into())),
                    ("maps".into(), AttributeValue::SL(vec!["harbor".into(), "dunes".into()])),
                    ("w".into(), AttributeValue::SDM(vec![("harbor".into(), 0.5), ("x".into(), -2.0)])),
                    ("undeclared".into(), AttributeValue::N(-0.0)),
                    ("frac".into(), AttributeValue::N(-12.25)),
                    ("big".into(), AttributeValue::N(-9_007_199_254_740_992.0)),
                ],
                team: Some("red".into()),
                latency_in_ms: vec![("us-east-1".into(), 70), ("eu-west-1".into(), 300_000)],
            },
            Player { player_id: "p2".into(), ..Player::default() },
        ];
        let t = Tables { rule_set: &rule_set, interner: &interner, locations: &locations };
        let bytes = encode(&players, &[], &[], &t, &mut Vec::new());
        // The declared indices ingest already found give the same bytes.
        let declared = [0, 1, 2, 3, u32::MAX, u32::MAX, u32::MAX];
        assert_eq!(encode(&players, &[], &declared, &t, &mut Vec::new()), bytes);
        let ids: Vec<std::sync::Arc<str>> = vec!["p1".into(), "p2".into()];
        let back = decode(&bytes, &ids, None, &t);
        assert_eq!(back, players);
        let zero = &back[0].attributes[4].1;
        assert!(matches!(zero, AttributeValue::N(z) if z.is_sign_negative()));
        let matched = decode(&bytes, &ids, Some("blue"), &t);
        assert!(matched.iter().all(|p| p.team.as_deref() == Some("blue")));
    }

    #[test]
    fn values_converted_at_ingest_give_the_bytes_of_looking_strings_up() {
        let rule_set = one_attribute_of_each_type();
        // Conversion interns the values it converts, and only those.
        let mut interner = Interner::new();
        let [conquest, harbor, dunes, x] = ["conquest", "harbor", "dunes", "x"].map(|s| interner.intern(s));
        let locations = Interner::new();
        let s = |v: &str| AttributeValue::S(v.into());
        let list = |v: &[&str]| AttributeValue::SL(v.iter().map(|&s| s.into()).collect());
        let players = vec![
            Player {
                player_id: "p1".into(),
                attributes: vec![
                    ("skill".into(), AttributeValue::N(1500.0)),
                    ("mode".into(), s("conquest")),
                    ("maps".into(), list(&["harbor", "dunes"])),
                    ("w".into(), AttributeValue::SDM(vec![("harbor".into(), 0.5), ("x".into(), -2.0)])),
                    // A name sent again: only its first value was converted.
                    ("mode".into(), s("casual")),
                ],
                ..Player::default()
            },
            // A list with a repeated item converts to fewer symbols than it has items.
            Player {
                player_id: "p2".into(),
                attributes: vec![("maps".into(), list(&["harbor", "harbor"]))],
                ..Player::default()
            },
        ];
        let converted = [
            NewPlayer {
                id_sym: Sym(u32::MAX),
                values: vec![
                    Some(PlayerValue::Number(1500.0)),
                    Some(PlayerValue::String(conquest)),
                    Some(PlayerValue::List(vec![harbor, dunes])),
                    Some(PlayerValue::Map(vec![(harbor, 0.5), (x, -2.0)])),
                ],
                latency: Vec::new(),
            },
            NewPlayer {
                id_sym: Sym(u32::MAX),
                values: vec![None, None, Some(PlayerValue::List(vec![harbor])), None],
                latency: Vec::new(),
            },
        ];
        let t = Tables { rule_set: &rule_set, interner: &interner, locations: &locations };
        let looked_up = encode(&players, &[], &[], &t, &mut Vec::new());
        let declared = [0, 1, 2, 3, 1, 2];
        assert_eq!(encode(&players, &converted, &declared, &t, &mut Vec::new()), looked_up);
        let ids: Vec<std::sync::Arc<str>> = vec!["p1".into(), "p2".into()];
        assert_eq!(decode(&looked_up, &ids, None, &t), players);
    }

    #[test]
    fn varints_round_trip_at_every_length_boundary() {
        let values = [0, 1, 127, 128, 129, 300, 16_383, 16_384, 2_097_151, 2_097_152, u64::from(u32::MAX), u64::MAX];
        let mut out = Vec::new();
        let mut lengths = Vec::new();
        for v in values {
            let before = out.len();
            put_varint(&mut out, v);
            lengths.push(out.len() - before);
        }
        assert_eq!(lengths, [1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 5, 10]);
        let mut r = Reader { bytes: &out, at: 0 };
        assert_eq!(values.map(|_| r.varint()), values);
        assert_eq!(r.at, out.len());
    }
}
