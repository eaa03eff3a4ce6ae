//! Entry points for the fuzz targets in `fuzz/` and for the replay of their
//! seed corpus in `tests/` (feature `fuzzing`; not part of the public API).
//! Each function takes arbitrary bytes, must never panic on bad input, and
//! asserts the property its target checks.

pub mod wal;
