//! Seeded workload generators and rule-set profiles for benches and load tests.
//!
//! Everything here is deterministic: the same parameters give the same bytes.

pub mod drive;
pub mod generate;
pub mod profiles;
pub mod rulesets;
pub mod workload;

pub use generate::{Generator, WorkloadItem, WorkloadRequest, WorkloadSpec, generate, read_jsonl, write_jsonl};
pub use profiles::Profile;
