//! Options of a store, each with its default and limits.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::model::{Limits, Source};
use crate::wal::WalOptions;

/// Raised for every frame (or damaged region) set aside in quarantine.
#[derive(Debug, Clone)]
pub struct QuarantineEvent {
    /// The quarantine entry id (for `show` and `replay`).
    pub id: u64,
    /// Where it came from in the message box.
    pub source: Source,
    /// Why it could not be imported.
    pub reasons: Vec<String>,
}

/// What happens to completed instances past the online window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionAction {
    /// Move them to the store's `archive/` directory, still readable with
    /// [`crate::Store::archived`] and [`crate::Store::get_archived`].
    Archive,
    /// Delete them.
    Drop,
}

/// Retention of completed instances (active instances are never touched).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Completed instances whose end time is older than this are moved out
    /// of the online store at the next checkpoint.
    pub online_window: Duration,
    /// Archive or drop them.
    pub action: RetentionAction,
}

/// A function the host application registers to hear of quarantined data.
pub type QuarantineListener = Arc<dyn Fn(&QuarantineEvent) + Send + Sync>;

/// Options for [`crate::Store::open`].
#[derive(Clone)]
pub struct StoreOptions {
    /// The message box. Defaults: 64 MiB segments, 16 MiB frames.
    pub wal: WalOptions,
    /// Structural limits on events (ids, names, data sizes; see
    /// [`Limits`]); checked when an event is pushed and when a frame is
    /// decoded.
    pub limits: Limits,
    /// Checkpoint after this many frames imported. Default 20,000; at
    /// least 1. The message box is trimmed after each checkpoint.
    pub checkpoint_frames: u64,
    /// Checkpoint (and so trim the message box) once this many bytes of
    /// frames were imported since the last checkpoint: the message box
    /// holds about this much imported but not yet checkpointed (what it
    /// holds beyond, not imported yet, a checkpoint could not trim).
    /// Default 64 MiB.
    pub checkpoint_wal_bytes: u64,
    /// Checkpoint once this many completed instances wait in memory for
    /// their import file: bounds the memory they take. Default 20,000.
    pub checkpoint_completed: usize,
    /// Memory for the nodes of active and pending instances changed since
    /// the last checkpoint (an estimate of their size in memory): when it
    /// is full, the bus checkpoints, which writes them to disk. Every other
    /// node is on disk (see `docs/ARCHITECTURE.md`, "Active instances on
    /// disk"), so this, not the number of open activities, bounds the
    /// memory of active instances. Default 32 MiB.
    pub active_cache_bytes: u64,
    /// Checkpoint when the bus is idle and this long has passed since the
    /// last one. Default 1 s.
    pub checkpoint_interval: Duration,
    /// Backpressure: a flush waits while more than this many committed
    /// frames are not yet imported, so the message box stays bounded when
    /// producers outrun the bus. Default 2,048; 0 disables the wait.
    pub max_import_lag: u64,
    /// Retries of a failing import step (I/O errors, no space) before the
    /// bus halts, reported as degraded. Default 8; the data stays in the
    /// message box and is imported after reopening.
    pub retry_limit: u32,
    /// First wait between retries, doubled each time up to 1 s.
    /// Default 10 ms.
    pub retry_backoff: Duration,
    /// Called for every quarantine entry, from the bus thread.
    pub on_quarantine: Option<QuarantineListener>,
    /// Retention of completed instances. Default none: kept online forever.
    pub retention: Option<Retention>,
    /// Whether [`crate::Store::open`] creates a store where there is none.
    /// Default `true`: the directory, its `LOCK` file, `segments/`, the
    /// message box (`wal/`, with its first segment) and `quarantine/` are
    /// created as needed. With `false`, opening a directory that holds no
    /// store fails with [`crate::StoreError::NotAStore`] and touches
    /// nothing; this is what tools that only read a store want. A directory
    /// holds a store when it has a `segments/` subdirectory (the first
    /// thing [`crate::Store::open`] creates after taking the lock).
    pub create_if_missing: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            wal: WalOptions::default(),
            limits: Limits::default(),
            checkpoint_frames: 20_000,
            checkpoint_wal_bytes: 64 << 20,
            checkpoint_completed: 20_000,
            active_cache_bytes: 32 << 20,
            checkpoint_interval: Duration::from_secs(1),
            max_import_lag: 2048,
            retry_limit: 8,
            retry_backoff: Duration::from_millis(10),
            on_quarantine: None,
            retention: None,
            create_if_missing: true,
        }
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("wal", &self.wal)
            .field("limits", &self.limits)
            .field("checkpoint_frames", &self.checkpoint_frames)
            .field("checkpoint_wal_bytes", &self.checkpoint_wal_bytes)
            .field("checkpoint_completed", &self.checkpoint_completed)
            .field("active_cache_bytes", &self.active_cache_bytes)
            .field("checkpoint_interval", &self.checkpoint_interval)
            .field("max_import_lag", &self.max_import_lag)
            .field("retry_limit", &self.retry_limit)
            .field("retry_backoff", &self.retry_backoff)
            .field("on_quarantine", &self.on_quarantine.is_some())
            .field("retention", &self.retention)
            .field("create_if_missing", &self.create_if_missing)
            .finish()
    }
}
