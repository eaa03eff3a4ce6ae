//! bamdb: an embedded business-activity tracking store.
//!
//! Producers buffer business events in memory and commit them as one
//! checksummed frame into the message box ([`wal`]); a background event bus
//! imports committed frames into indexed segment files. See
//! `docs/ARCHITECTURE.md` for the data flow and `docs/FORMAT.md` for every
//! on-disk layout.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
pub mod model;
pub mod storage;
pub mod wal;

#[cfg(feature = "fuzzing")]
pub mod fuzz;
