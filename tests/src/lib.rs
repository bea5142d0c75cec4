//! Shared harness for integration and conformance tests.
