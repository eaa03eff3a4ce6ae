//! Fuzz hooks, compiled only with the `fuzzing` feature.
//!
//! Each hook takes raw bytes and panics when a property is violated. The
//! cargo-fuzz targets under `fuzz/` call them, and `tests/fuzz_replay_*.rs`
//! replay the checked-in corpus through them on stable Rust. Not part of the
//! public API: no stability promise.

pub mod boxes;
pub mod model;
pub mod query;
pub mod segments;
pub mod ship;
pub mod store;
pub mod wal;
