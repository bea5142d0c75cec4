//! The integration-test binary. One module per area:

// The committed fuzz corpus, replayed through the parsers and validators.
mod fuzz_corpus;
// Engine invariants on random pools, checked by an independent oracle.
mod properties;
