//! A uniform random sample of a stream whose length is not known in advance, so that a load
//! test of any length keeps its quality records in bounded memory.

use rallypoint_bench_data::workload::Rng;

/// At most `cap` items of a stream, each of the items seen equally likely to be among them
/// (reservoir sampling, Vitter's algorithm R). While no more than `cap` items have been
/// seen, it holds every one of them, in arrival order. The generator is seeded, so the same
/// stream gives the same sample.
#[derive(Debug)]
pub(crate) struct Reservoir<T> {
    items: Vec<T>,
    cap: usize,
    seen: u64,
    rng: Rng,
}

impl<T> Reservoir<T> {
    /// An empty sample of at most `cap` items (at least one).
    pub(crate) fn new(cap: usize, seed: u64) -> Reservoir<T> {
        Reservoir { items: Vec::new(), cap: cap.max(1), seen: 0, rng: Rng::new(seed) }
    }

    /// Offers the next item of the stream.
    pub(crate) fn push(&mut self, item: T) {
        self.seen += 1;
        if self.items.len() < self.cap {
            self.items.push(item);
            return;
        }
        // Item `seen` is kept with probability cap / seen, in place of a uniformly chosen one.
        let j = self.rng.below(self.seen);
        if let Some(slot) = self.items.get_mut(j as usize) {
            *slot = item;
        }
    }

    /// The items kept.
    pub(crate) fn items(&self) -> &[T] {
        &self.items
    }

    /// How many items were offered.
    pub(crate) fn seen(&self) -> u64 {
        self.seen
    }

    /// The kept items' buffer, for the memory accounting.
    pub(crate) fn buffer(&self) -> (*const T, usize) {
        (self.items.as_ptr(), self.items.capacity())
    }
}

/// Count, sum and largest value of a stream of figures (NaN: no figure), kept exactly
/// whether or not the records are sampled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moments {
    pub(crate) count: u64,
    pub(crate) sum: f64,
    pub(crate) max: f64,
}

impl Default for Moments {
    fn default() -> Moments {
        Moments { count: 0, sum: 0.0, max: f64::NEG_INFINITY }
    }
}

impl Moments {
    pub(crate) fn add(&mut self, x: f32) {
        if !x.is_nan() {
            self.count += 1;
            self.sum += f64::from(x);
            self.max = self.max.max(f64::from(x));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_no_longer_than_the_cap_is_kept_whole_and_in_order() {
        let mut r = Reservoir::new(5, 1);
        (0..5).for_each(|i| r.push(i));
        assert_eq!(r.items(), &[0, 1, 2, 3, 4]);
        assert_eq!(r.seen(), 5);
    }

    #[test]
    fn a_longer_stream_keeps_cap_items_drawn_evenly_from_all_of_it() {
        // 1,000 of 100,000: each tenth of the stream should hold about 100 of them, and the
        // kept items should be distinct (a slot is replaced, never duplicated).
        let mut r = Reservoir::new(1000, 7);
        (0..100_000u32).for_each(|i| r.push(i));
        assert_eq!(r.seen(), 100_000);
        assert_eq!(r.items().len(), 1000);
        let mut distinct = r.items().to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 1000, "an item was kept twice");
        let mut tenths = [0usize; 10];
        r.items().iter().for_each(|&i| tenths[i as usize / 10_000] += 1);
        // Binomial(1000, 0.1): standard deviation 9.5; 60..140 is over four of them. (Only
        // the first hundredth of the stream filled the reservoir, so keeping the first items
        // would fail this, as would never replacing late ones.)
        assert!(tenths.iter().all(|&n| (60..=140).contains(&n)), "uneven sample: {tenths:?}");
    }

    #[test]
    fn the_same_stream_and_seed_give_the_same_sample() {
        let sample = |seed| {
            let mut r = Reservoir::new(10, seed);
            (0..1000).for_each(|i| r.push(i));
            r.items().to_vec()
        };
        assert_eq!(sample(3), sample(3));
        assert_ne!(sample(3), sample(4));
    }
}
