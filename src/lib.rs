//! bamdb: an embedded business-activity tracking store.
//!
//! Producers buffer business events in memory and commit them as one
//! checksummed frame into the message box ([`wal`]); a background event bus
//! ([`bus`]) validates them against the deployed activity definitions,
//! resolves continuations, and imports them into indexed import files
//! ([`segments`]); bad frames go to a quarantine. See
//! `docs/ARCHITECTURE.md` for the data flow and `docs/FORMAT.md` for every
//! on-disk layout. Start with [`Store`].

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod bus;
mod error;
pub mod export;
mod fast_hash;
pub mod fixture;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod model;
mod options;
pub mod producer;
pub mod query;
pub mod segments;
pub mod ship;
pub mod storage;
pub mod store;
pub mod stream;
pub mod wal;

pub use bus::quarantine::{EntryState, QuarantineCounts, QuarantineEntry};
pub use error::StoreError;
pub use model::{ActivityInstance, Reference, Relationship, Status};
pub use model::{Counters, Source};
pub use options::{QuarantineEvent, QuarantineListener, Retention, RetentionAction, StoreOptions};
pub use producer::{BoxOptions, BoxStats, MessageBox};
pub use store::{
    BoxImport, PendingInstance, Problem, RefusedBecause, RefusedFrame, ReplayOutcome, SearchStream,
    ShippedAppend, ShippedFrame, Store, StoreReader, StoreStats, VerifyReport,
};
pub use stream::{BufferedEventStream, DirectEventStream, EventStream, Receipt};

/// The README's Rust examples, compiled and run as doctests so they stay
/// true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
