//! Errors of the store and its streams.

use std::path::PathBuf;

use crate::model::{DecodeError, ModelError};
use crate::segments::error::ImportFileError;
use crate::wal::WalError;

/// What went wrong, in a form a caller can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The message box failed (I/O, poisoned writer, frame too large, ...).
    #[error(transparent)]
    Wal(#[from] WalError),
    /// A file operation outside the message box failed.
    #[error("I/O error: {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Another process or handle has the store open.
    #[error("store {dir} is locked: another process or handle has it open")]
    Locked {
        /// The store directory.
        dir: PathBuf,
    },
    /// Another producer has the message box open.
    #[error("message box {} is locked: another producer has it open", dir.display())]
    BoxLocked {
        /// The message box directory.
        dir: PathBuf,
    },
    /// The message box holds as many bytes as its quota allows, and the
    /// bus did not import enough of it to make room within the wait
    /// ([`crate::BoxOptions::quota_wait`]). Nothing was written.
    #[error(
        "message box {} is full: {bytes} bytes, quota {quota}; the bus has imported up to LSN {applied} of {committed} committed (is `bamdb bus` running?)",
        dir.display()
    )]
    BoxFull {
        /// The message box directory.
        dir: PathBuf,
        /// Bytes the box's log holds.
        bytes: u64,
        /// [`crate::BoxOptions::quota_bytes`].
        quota: u64,
        /// The last LSN the bus has imported.
        applied: u64,
        /// The last LSN committed to the box.
        committed: u64,
    },
    /// The directory holds no store, and [`crate::StoreOptions::create_if_missing`]
    /// is off (or the directory was only to be checked). Nothing was created.
    #[error("{} is not a bamdb store ({reason})", dir.display())]
    NotAStore {
        /// The directory that was to hold the store.
        dir: PathBuf,
        /// Why not: it does not exist, is not a directory, or has no
        /// `segments/` directory.
        reason: String,
    },
    /// A file of the store is damaged.
    #[error("corrupt store data at {location}: {reason}")]
    Corrupt {
        /// The file or directory.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// An event, definition or argument breaks a rule; nothing was written.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// An event or definition was refused by the model's checks; nothing
    /// was written or buffered.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The batch fails validation against the deployed definitions (direct
    /// stream: nothing was written) or was quarantined.
    #[error("rejected: {}", reasons.join("; "))]
    Rejected {
        /// One reason per bad event.
        reasons: Vec<String>,
    },
    /// A search or aggregation is malformed or does not fit the activity's
    /// definition.
    #[error(transparent)]
    Query(#[from] crate::query::QueryError),
    /// Import is failing (I/O, no space) and being retried; see the
    /// reason. Nothing committed is lost.
    #[error("import degraded: {reason}")]
    Degraded {
        /// Why.
        reason: String,
    },
    /// Import stopped after its retries: nothing more is imported until
    /// the store is reopened (what was committed waits in the message box).
    /// Reads still answer from what was imported.
    #[error("{reason}")]
    Halted {
        /// Why, starting with "import halted".
        reason: String,
    },
    /// The store was closed.
    #[error("the store is closed")]
    Closed,
    /// Waiting for the bus took too long.
    #[error("timed out waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
    },
}

impl From<DecodeError> for StoreError {
    fn from(e: DecodeError) -> Self {
        StoreError::Model(ModelError::Decode(e))
    }
}

impl StoreError {
    /// An import-file error as the store reports it: an operation the
    /// operating system refused stays an I/O error (the data may be
    /// sound); anything else is damage, located to the file and byte.
    fn from_import_file(e: ImportFileError) -> Self {
        match e {
            ImportFileError::Io { op, path, source } => StoreError::Io { op, path, source },
            other => StoreError::Corrupt {
                location: other.location(),
                reason: other.reason(),
            },
        }
    }
}

impl From<ImportFileError> for StoreError {
    fn from(e: ImportFileError) -> Self {
        StoreError::from_import_file(e)
    }
}
