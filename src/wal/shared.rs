//! The state every handle of one log shares (the [`Wal`] clones and its
//! readers): the segment map, the writer's position, the durable point and
//! the group-commit bookkeeping. The writer (`writer.rs`) changes it; the
//! reader (`reader.rs`) reads the segment map and the durable point. Both
//! import this file and neither imports the other's internals.
//!
//! [`Wal`]: super::Wal

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

use super::recovery::RecoveryReport;
use super::segment::Segment;
use super::{Lsn, WalOptions};
use crate::storage::{LockGuard, Storage};

/// How far the log is durable: the last durable LSN and the segment and
/// offset just past its frame.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CommitPoint {
    pub lsn: Lsn,
    pub segment: Lsn,
    pub end: u64,
}

/// What every handle of one log shares.
#[derive(Debug)]
pub(super) struct WalShared {
    pub storage: Arc<dyn Storage>,
    pub dir: PathBuf,
    pub options: WalOptions,
    pub segments: RwLock<BTreeMap<Lsn, Arc<Segment>>>,
    pub(super) writer: Mutex<WriterState>,
    pub(super) commit: Mutex<CommitState>,
    /// Woken when the durable point moves, the writer is poisoned, or
    /// waiters are interrupted.
    pub(super) commit_cv: Condvar,
    pub(super) committed_lsn: AtomicU64,
    /// The highest LSN written (not necessarily durable).
    pub(super) written_lsn: AtomicU64,
    /// How many frames the last sync made durable: the size of the group
    /// a sync leader waits to gather before syncing.
    pub(super) last_group: AtomicU64,
    /// The written LSN a gathering sync leader waits for (0: none waits),
    /// and where it waits.
    pub(super) gather_target: AtomicU64,
    pub(super) gather: Mutex<()>,
    pub(super) gather_cv: Condvar,
    pub(super) syncs: AtomicU64,
    /// How long those syncs took.
    pub(super) sync_times: SyncTimes,
    pub(super) report: RecoveryReport,
    pub(super) _lock: Mutex<LockGuard>,
}

/// The writer's position, under the append lock.
#[derive(Debug)]
pub(super) struct WriterState {
    pub(super) active: Arc<Segment>,
    /// Where the next frame goes.
    pub(super) offset: u64,
    /// The file is reserved up to here; writing beyond it grows the file.
    pub(super) reserved: u64,
    /// False once the file system refused to reserve space at all: frames
    /// then grow the file as they are written.
    pub(super) can_reserve: bool,
    /// The file grew since the last sync snapshot: fsync, not fdatasync.
    pub(super) grew: bool,
    pub(super) next_lsn: Lsn,
    /// Offset of the last frame in the active segment (0: none yet), for
    /// the clean-end record.
    pub(super) last_frame: u64,
    /// The clean-end record on disk describes the log as it is: it must be
    /// removed before anything is written to the log.
    pub(super) clean_end_on_disk: bool,
    pub(super) buf: Vec<u8>,
}

/// The durable point and the sync bookkeeping, under the commit lock.
#[derive(Debug, Default)]
pub(super) struct CommitState {
    pub(super) point: CommitPoint,
    pub(super) syncing: bool,
    pub(super) poisoned: Option<String>,
    pub(super) interrupts: u64,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Poisoning of std mutexes only follows a panic in another thread; the
    // protected state is updated in single assignments, so carry on.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WalShared {
    /// The durable point as of now.
    pub(super) fn commit_point(&self) -> CommitPoint {
        lock(&self.commit).point
    }
}

/// Upper bounds (microseconds) of the sync-latency buckets; a last bucket
/// holds the rest. From a RAM disk's few microseconds to a stalled disk's
/// quarter second, as Prometheus histograms are usually cut.
pub const SYNC_BUCKETS_MICROS: [u64; 12] = [
    25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 250_000,
];

/// The latency of the log's syncs (fsync/fdatasync of a commit), counted
/// lock-free by the sync leader.
#[derive(Debug, Default)]
pub(super) struct SyncTimes {
    /// Per bucket of [`SYNC_BUCKETS_MICROS`], then the rest.
    counts: [AtomicU64; SYNC_BUCKETS_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

impl SyncTimes {
    pub(super) fn record(&self, took: std::time::Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = SYNC_BUCKETS_MICROS
            .iter()
            .position(|&le| micros <= le)
            .unwrap_or(SYNC_BUCKETS_MICROS.len());
        if let Some(count) = self.counts.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> SyncHistogram {
        SyncHistogram {
            counts: std::array::from_fn(|i| {
                self.counts.get(i).map_or(0, |c| c.load(Ordering::Relaxed))
            }),
            sum_micros: self.sum_micros.load(Ordering::Relaxed),
        }
    }
}

/// How long the log's syncs took since it was opened, in the buckets of
/// [`SYNC_BUCKETS_MICROS`] (not cumulative; the last count is the syncs
/// slower than the last bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncHistogram {
    /// Syncs per bucket.
    pub counts: [u64; SYNC_BUCKETS_MICROS.len() + 1],
    /// Their total time, in microseconds.
    pub sum_micros: u64,
}
