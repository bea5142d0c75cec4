//! String interning: every string the engine compares on the hot path becomes a [`Sym`].
//!
//! Rule literals (`"medic"`), string attribute values and player ids are interned once, at
//! compile or ingest time, so evaluating a candidate compares integers, never strings.

use std::hash::BuildHasher as _;

/// An interned string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

/// A string table. Symbols are dense, start at 0 and are assigned in insertion order, so
/// they do not depend on the hash.
///
/// Interning runs at ingest for every string attribute value and latency location (about
/// eight lookups per 1v1 ticket), so the table is built for short strings: each string is
/// stored once, the index holds only symbols, and strings of up to 16 bytes are hashed
/// inline from two overlapping words with per-table random seeds (longer ones with
/// foldhash, also seeded per table) and compared by those words. The strings come from
/// clients, so the seeds matter.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    index: hashbrown::HashTable<u32>,
    strings: Vec<Box<str>>,
    /// Each string's [`Key`], by symbol: a lookup compares keys, and reads the string
    /// itself only when it is longer than a key holds.
    keys: Vec<Key>,
    hasher: StrHasher,
}

/// A string's length and the words its inline hash reads (see [`Key::of`]). For strings of
/// up to 16 bytes those words hold every byte, so equal keys mean equal strings, and a
/// lookup needs neither a call to `memcmp` nor a read of the stored string. Ingest also
/// uses keys to match attribute names sent with each player against the declared ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    lo: u64,
    hi: u64,
    len: usize,
}

impl Key {
    /// The longest string a key determines.
    const MAX_INLINE: usize = 16;

    /// `s`'s key: for up to 3 bytes the first, middle and last bytes; for 4 to 7 the first
    /// and last four; for 8 to 16 the first and last eight (overlapping where the string
    /// is shorter than 16); for longer strings the length alone.
    #[inline]
    pub(crate) fn of(s: &str) -> Key {
        let b = s.as_bytes();
        let n = b.len();
        let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        let half = |at: usize| u64::from(u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")));
        let (lo, hi) = match n {
            0 => (0, 0),
            1..=3 => (u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16, 0),
            4..=7 => (half(0), half(n - 4)),
            8..=Key::MAX_INLINE => (word(0), word(n - 8)),
            _ => (0, 0),
        };
        Key { lo, hi, len: n }
    }

    /// Whether `stored`, whose key is `self`, is `s`, whose key is `key`.
    #[inline]
    pub(crate) fn matches(&self, key: &Key, stored: &str, s: &str) -> bool {
        *self == *key && (key.len <= Key::MAX_INLINE || stored == s)
    }
}

/// The table's string hash, seeded per table.
#[derive(Debug, Clone)]
struct StrHasher {
    seeds: [u64; 2],
    long: foldhash::fast::RandomState,
}

impl Default for StrHasher {
    fn default() -> StrHasher {
        let long = foldhash::fast::RandomState::default();
        StrHasher { seeds: [long.hash_one(0x5EED_u64), long.hash_one(0x5EED_5EED_u64) | 1], long }
    }
}

impl StrHasher {
    /// The hash of a string of key `key`.
    #[inline]
    fn hash(&self, key: &Key, s: &str) -> u64 {
        if key.len > Key::MAX_INLINE {
            return self.long.hash_one(s);
        }
        // A folded multiply (as foldhash and wyhash mix), with the length folded in so
        // that strings whose words overlap differently differ.
        let full = u128::from(key.lo ^ self.seeds[0]) * u128::from(key.hi ^ self.seeds[1] ^ (key.len as u64) << 56);
        (full as u64) ^ (full >> 64) as u64
    }
}

impl Interner {
    /// An empty table.
    pub fn new() -> Interner {
        Interner::default()
    }

    /// The symbol of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> Sym {
        let Interner { index, strings, keys, hasher } = self;
        let key = Key::of(s);
        let hash = hasher.hash(&key, s);
        match index.find(hash, |&sym| keys[sym as usize].matches(&key, &strings[sym as usize], s)) {
            Some(&sym) => Sym(sym),
            None => {
                let sym = strings.len() as u32;
                strings.push(s.into());
                keys.push(key);
                index.insert_unique(hash, sym, |&sym| hasher.hash(&keys[sym as usize], &strings[sym as usize]));
                Sym(sym)
            }
        }
    }

    /// The symbol of `s` if it was interned.
    #[inline]
    pub fn get(&self, s: &str) -> Option<Sym> {
        let key = Key::of(s);
        let hash = self.hasher.hash(&key, s);
        self.index
            .find(hash, |&sym| self.keys[sym as usize].matches(&key, &self.strings[sym as usize], s))
            .map(|&sym| Sym(sym))
    }

    /// The string of `sym`.
    ///
    /// # Panics
    /// If `sym` did not come from this table.
    pub fn resolve(&self, sym: Sym) -> &str {
        &self.strings[sym.0 as usize]
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings of every length the inline hash distinguishes, and some that differ only
    /// where its two words overlap or only in length.
    fn corpus() -> Vec<String> {
        let mut v: Vec<String> =
            (0..40).map(|n| "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"[..n].to_owned()).collect();
        v.extend(
            ["us-east-1", "us-east-2", "us-west-1", "eu-west-1", "ap-south-1", "aaaaaaaab", "aaaaaaaba"]
                .map(String::from),
        );
        v.extend(["a\0", "a\0\0", "\0", "\0\0"].map(String::from));
        v.extend((0..2000).map(|i| format!("player-{i}")));
        v
    }

    #[test]
    fn every_string_gets_its_own_symbol_in_insertion_order_and_round_trips() {
        let mut t = Interner::new();
        let strings = corpus();
        for (i, s) in strings.iter().enumerate() {
            assert_eq!(t.get(s), None, "{s:?} is not interned yet");
            assert_eq!(t.intern(s), Sym(i as u32), "{s:?} gets the next symbol");
        }
        assert_eq!(t.len(), strings.len());
        for (i, s) in strings.iter().enumerate() {
            assert_eq!(t.intern(s), Sym(i as u32), "{s:?} keeps its symbol");
            assert_eq!(t.get(s), Some(Sym(i as u32)));
            assert_eq!(t.resolve(Sym(i as u32)), s);
        }
        assert_eq!(t.get("not-there"), None);
    }

    #[test]
    fn a_clone_finds_what_the_original_holds_and_grows_on_its_own() {
        let mut t = Interner::new();
        t.intern("eu-west-1");
        let mut c = t.clone();
        assert_eq!(c.get("eu-west-1"), Some(Sym(0)));
        assert_eq!(c.intern("us-east-1"), Sym(1));
        assert_eq!(t.get("us-east-1"), None);
    }
}
