//! The committing side of a producer's message box: appends a stream's
//! batches to the box's log, records how far the log is synced (the
//! `SYNCED` mark, which the bus process reads so that it never copies a
//! frame a power loss could still undo), keeps the box under its quota and
//! trims what the bus has imported (the `APPLIED` mark the bus writes).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{BoxOptions, APPLIED_FILE};
use crate::bus::sequenced_payload;
use crate::error::StoreError;
use crate::model::Limits;
use crate::storage::{LockGuard, Storage};
use crate::stream::Committer;
use crate::wal::{read_mark, Lsn, MarkWriter, Wal};

/// How many commits go by between two looks at the `APPLIED` mark when
/// the box is under its quota.
const TRIM_EVERY: u64 = 64;
/// How often a producer over its quota looks at the `APPLIED` mark again.
const QUOTA_POLL: Duration = Duration::from_millis(5);

pub(crate) struct BoxLog {
    pub storage: Arc<dyn Storage>,
    pub dir: PathBuf,
    pub box_id: u64,
    pub wal: Wal,
    pub options: BoxOptions,
    synced: Mutex<MarkWriter>,
    commits: AtomicU64,
    /// Held while any stream of the box lives.
    _lock: LockGuard,
}

impl BoxLog {
    pub fn new(
        storage: Arc<dyn Storage>,
        dir: &Path,
        box_id: u64,
        wal: Wal,
        synced: MarkWriter,
        options: BoxOptions,
        lock: LockGuard,
    ) -> BoxLog {
        BoxLog {
            storage,
            dir: dir.to_path_buf(),
            box_id,
            wal,
            options,
            synced: Mutex::new(synced),
            commits: AtomicU64::new(0),
            _lock: lock,
        }
    }

    /// The last LSN of the box the bus has imported (its `APPLIED` mark).
    pub fn applied(&self) -> Result<Lsn, StoreError> {
        let path = self.dir.join(APPLIED_FILE);
        Ok(read_mark(self.storage.as_ref(), &path, self.box_id)?.unwrap_or(0))
    }

    /// Deletes the log's segments the bus has imported; how many.
    pub fn trim(&self) -> Result<usize, StoreError> {
        let applied = self.applied()?.min(self.wal.committed_lsn());
        Ok(self.wal.trim(applied)?)
    }

    /// Records that everything up to the log's committed LSN is durable.
    pub fn mark_synced(&self) -> Result<(), StoreError> {
        let committed = self.wal.committed_lsn();
        let mut mark = self.synced.lock().unwrap_or_else(|e| e.into_inner());
        Ok(mark.advance(committed)?)
    }

    /// Waits, up to the quota wait, until a frame of `len` payload bytes
    /// fits under the quota (trimming what the bus imported meanwhile).
    fn make_room(&self, len: usize) -> Result<(), StoreError> {
        let Some(quota) = self.options.quota_bytes else {
            return Ok(());
        };
        let deadline = Instant::now() + self.options.quota_wait;
        loop {
            let bytes = self.wal.stats().bytes;
            if bytes.saturating_add(len as u64) <= quota {
                return Ok(());
            }
            self.trim()?;
            let bytes = self.wal.stats().bytes;
            if bytes.saturating_add(len as u64) <= quota {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StoreError::BoxFull {
                    dir: self.dir.clone(),
                    bytes,
                    quota,
                    applied: self.applied()?,
                    committed: self.wal.committed_lsn(),
                });
            }
            // Another process advances the mark: there is no condition in
            // this process to wait on, so look again shortly.
            std::thread::sleep(QUOTA_POLL);
        }
    }
}

impl Committer for BoxLog {
    fn limits(&self) -> &Limits {
        &self.options.limits
    }

    fn commit(&self, seq: Option<u64>, batch: &[u8]) -> Result<Lsn, StoreError> {
        let sequenced;
        let payload = match seq {
            None => batch,
            Some(seq) => {
                sequenced = sequenced_payload(seq, batch);
                &sequenced
            }
        };
        self.make_room(payload.len())?;
        let lsn = self.wal.append(payload)?;
        // The frame is durable and the flush succeeds whatever follows; a
        // mark or trim that fails is only logged (the mark lags, which
        // delays the bus; the log grows, which the quota bounds).
        if let Err(e) = self.mark_synced() {
            tracing::warn!(error = %e, "could not record the synced point of the message box");
        }
        if self.commits.fetch_add(1, Ordering::Relaxed) % TRIM_EVERY == TRIM_EVERY - 1 {
            if let Err(e) = self.trim() {
                tracing::warn!(error = %e, "could not trim the message box");
            }
        }
        Ok(lsn)
    }
}
