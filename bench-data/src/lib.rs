//! Seeded workload generators and rule-set profiles for benches and load tests.
//!
//! Everything here is deterministic: the same parameters give the same bytes.

pub mod rulesets;
pub mod workload;
