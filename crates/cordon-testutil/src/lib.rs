//! Test-only helpers for cordon.
#![forbid(unsafe_code)]
pub mod probes;
