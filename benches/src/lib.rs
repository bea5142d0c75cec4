//! Shared helpers for the criterion benches.

/// The benches run with the same global allocator as the `rallypoint` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
