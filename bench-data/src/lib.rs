//! Seeded workload generators (filled by the load-testing work).
