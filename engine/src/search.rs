//! Match search: proposes matches from a pool snapshot, in parallel, deterministically.
//!
//! One cycle splits every shard's sorted entries into fixed-size segments (the split
//! depends only on the pool, never on the number of threads), searches the segments in
//! parallel with rayon, and returns proposals in a fixed order. Segments never share a
//! ticket, so proposals never conflict; `commit` order is still made explicit so that
//! overlapping shards (large matches' `largestPopulation`) can slot in later.

mod cycle;
pub(crate) mod native;
pub(crate) mod plugins;
pub(crate) mod teams;

pub(crate) use cycle::{Proposal, search_cycle};
