//! bamdb: an embedded business-activity tracking store.
//!
//! Producers buffer business events in memory and commit them as one
//! checksummed frame into the message box ([`wal`]); a background event bus
//! ([`bus`]) validates them against the deployed activity definitions,
//! resolves continuations, and imports them into indexed segment files
//! ([`segments`]); bad frames go to a quarantine. See
//! `docs/ARCHITECTURE.md` for the data flow and `docs/FORMAT.md` for every
//! on-disk layout. Start with [`Store`].

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod bus;
pub mod fixture;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod model;
pub mod query;
pub mod segments;
pub mod storage;
pub mod store;
pub mod stream;
pub mod wal;

pub use bus::quarantine::{EntryState, QuarantineCounts, QuarantineEntry, Source};
pub use bus::state::Counters;
pub use segments::{ActivityInstance, Reference, Relationship, Status};
pub use store::{
    PendingInstance, Problem, QuarantineEvent, ReplayOutcome, Retention, RetentionAction, Store,
    StoreError, StoreOptions, StoreStats, VerifyReport,
};
pub use stream::{BufferedEventStream, DirectEventStream, EventStream, Receipt};

/// The README's Rust examples, compiled and run as doctests so they stay
/// true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
