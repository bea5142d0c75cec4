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
/// The strings of the rule set itself are pinned (`Interner::pin`); those interned later,
/// from tickets, can be reclaimed (`Interner::reclaim`) once no ticket holds them, and
/// their symbols are then reused for new strings, so a long-running matchmaker whose
/// tickets bring ever new strings (player ids read by a rule, free-form values) keeps a
/// table the size of what it holds, not of everything it has seen.
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
    /// Symbols below this are never reclaimed.
    pinned: u32,
    /// Reclaimed symbols, reused (from the end) before new ones are added.
    free: Vec<u32>,
}

/// A set of symbols, as a bitset over a table's symbols.
#[derive(Debug, Clone, Default)]
pub(crate) struct SymSet(Vec<u64>);

impl SymSet {
    /// An empty set able to hold the symbols of `table`.
    pub(crate) fn for_table(table: &Interner) -> SymSet {
        SymSet(vec![0; table.strings.len().div_ceil(64)])
    }

    /// Adds `sym`; a number beyond the table's symbols is ignored, so a caller may pass
    /// words that are not symbols and only keep more strings than it needs.
    #[inline]
    pub(crate) fn insert(&mut self, sym: Sym) {
        if let Some(word) = self.0.get_mut(sym.0 as usize / 64) {
            *word |= 1 << (sym.0 % 64);
        }
    }

    /// Whether `sym` is in the set.
    #[inline]
    pub(crate) fn contains(&self, sym: Sym) -> bool {
        self.0.get(sym.0 as usize / 64).is_some_and(|w| w & 1 << (sym.0 % 64) != 0)
    }
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

    /// The key of a reclaimed symbol, equal to no string's.
    const FREE: Key = Key { lo: 0, hi: 0, len: usize::MAX };

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
        let Interner { index, strings, keys, hasher, free, .. } = self;
        let key = Key::of(s);
        let hash = hasher.hash(&key, s);
        match index.find(hash, |&sym| keys[sym as usize].matches(&key, &strings[sym as usize], s)) {
            Some(&sym) => Sym(sym),
            None => {
                let sym = match free.pop() {
                    Some(sym) => {
                        strings[sym as usize] = s.into();
                        keys[sym as usize] = key;
                        sym
                    }
                    None => {
                        strings.push(s.into());
                        keys.push(key);
                        (strings.len() - 1) as u32
                    }
                };
                index.insert_unique(hash, sym, |&sym| hasher.hash(&keys[sym as usize], &strings[sym as usize]));
                Sym(sym)
            }
        }
    }

    /// Pins every string interned so far: [`Interner::reclaim`] keeps them.
    pub(crate) fn pin(&mut self) {
        self.pinned = self.strings.len() as u32;
    }

    /// Number of strings held that are not pinned.
    pub(crate) fn unpinned(&self) -> usize {
        self.len() - self.pinned as usize
    }

    /// Frees every string that is neither pinned nor in `in_use`; their symbols are given to
    /// strings interned later (the most recently freed first). Returns how many were freed.
    ///
    /// The caller must pass every symbol anything still holds: a freed symbol's string
    /// resolves to `""` until the symbol is reused.
    pub(crate) fn reclaim(&mut self, in_use: &SymSet) -> usize {
        let Interner { index, strings, keys, hasher, pinned, free } = self;
        let before = free.len();
        for sym in *pinned..strings.len() as u32 {
            let i = sym as usize;
            if in_use.contains(Sym(sym)) || keys[i] == Key::FREE {
                continue;
            }
            let hash = hasher.hash(&keys[i], &strings[i]);
            if let Ok(entry) = index.find_entry(hash, |&s| s == sym) {
                entry.remove();
            }
            strings[i] = Box::default();
            keys[i] = Key::FREE;
            free.push(sym);
        }
        // Reuse the lowest symbols first, so the table's live part stays dense.
        free[before..].reverse();
        free.len() - before
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

    /// Number of distinct strings held.
    pub fn len(&self) -> usize {
        self.strings.len() - self.free.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    #[test]
    fn reclaim_frees_unpinned_strings_not_in_use_and_reuses_their_symbols_lowest_first() {
        let mut t = Interner::new();
        let [a, b] = ["rule-literal", "another"].map(|s| t.intern(s));
        t.pin();
        let [c, d, e, f] = ["player-1", "player-2", "a-string-longer-than-sixteen-bytes", "x"].map(|s| t.intern(s));
        let mut in_use = SymSet::for_table(&t);
        in_use.insert(d);
        in_use.insert(Sym(u32::MAX)); // Not a symbol: ignored.
        assert_eq!(t.reclaim(&in_use), 3);
        assert_eq!((t.len(), t.unpinned()), (3, 1));
        assert_eq!(t.index.len(), 3, "the index forgets freed strings");
        for (sym, s) in [(a, "rule-literal"), (b, "another"), (d, "player-2")] {
            assert_eq!((t.get(s), t.resolve(sym)), (Some(sym), s));
        }
        for s in ["player-1", "a-string-longer-than-sixteen-bytes", "x"] {
            assert_eq!(t.get(s), None, "{s:?} was freed");
        }
        // Freed symbols go to new strings, lowest first, then the table grows.
        assert_eq!(t.intern("new-1"), c);
        assert_eq!(t.intern("a-string-longer-than-sixteen-bytes"), e);
        assert_eq!(t.intern("new-3"), f);
        assert_eq!(t.intern("new-4"), Sym(6));
        assert_eq!(t.get("a-string-longer-than-sixteen-bytes"), Some(e));
        assert_eq!((t.len(), t.index.len()), (7, 7));
        // An empty set frees every unpinned string, a second time nothing.
        assert_eq!(t.reclaim(&SymSet::for_table(&t)), 5);
        assert_eq!(t.reclaim(&SymSet::for_table(&t)), 0);
        assert_eq!((t.len(), t.get("rule-literal")), (2, Some(a)));
    }
}
