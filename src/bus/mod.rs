//! The event bus: a background thread that reads committed frames from the
//! message box in LSN order, validates and applies them to the primary
//! import, sets bad ones aside in quarantine, and checkpoints.
//!
//! Exactly once: the bus's state (checkpoint + import files) is made durable
//! together with the LSN it reflects (the manifest); after a restart the
//! bus resumes from that LSN, and quarantine records written after the
//! checkpoint are recognised so they are not written twice.
//!
//! The files, by job. The state's files import one way, in this order:
//! - `state`: the nodes, the memtable, the import files; reads for queries.
//! - `tree`: the continuation tree (effective links, subtrees, merging).
//! - `amend`: reopening completed instances; superseded records.
//! - `validate`: the static checks of a frame against the definitions.
//! - `aggregations`: real-time aggregation specs and totals; `upkeep`
//!   keeps them current as instances change.
//! - `apply`: applying a validated frame, completing instances.
//! - `operator`: deployments and operator actions on active instances.
//! - `image`: the checkpointed form of the state (`StateImage`), and the
//!   one reader of checkpoint files.
//! - `pending`: the listing of pending trees.
//!
//! Around the state:
//! - `file_set`: the one edit step of the import-file set (write new files,
//!   swap the manifest, publish, delete), used by `checkpoint`, `merge` and
//!   `retention`.
//! - `progress`: applied and checkpointed LSNs, degraded state, retries.
//! - `worker`: the thread loop: one frame in, one outcome out.
//! - `producer`: what an event stream needs of the bus.
//! - `envelope`: what a frame carries; `quarantine`: the quarantine log.

pub(crate) mod aggregations;
mod amend;
mod apply;
mod checkpoint;
mod idempotency;
mod view;
pub(crate) use checkpoint::{load_state, Loaded};
mod envelope;
mod file_set;
mod image;
mod merge;
mod node;
pub(crate) mod nodes;
mod operator;
mod parts;
pub(crate) mod pending;
mod producer;
mod progress;
pub mod quarantine;
mod retention;
pub(crate) mod state;
#[cfg(test)]
mod test_util;
mod tree;
mod upkeep;
mod validate;
mod worker;

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use crate::error::StoreError;
use crate::options::StoreOptions;
use crate::segments::file::ImportFile;
use crate::segments::manifest::Manifest;
use crate::storage::{LockGuard, Storage};
use crate::wal::{Lsn, Wal};
use quarantine::Quarantine;
use state::BusState;

pub(crate) use envelope::{
    admin as admin_payload, boxed as boxed_payload, deploy as deploy_payload,
    replay as replay_payload, sequenced as sequenced_payload, AdminOp,
};
pub(crate) use image::read_checkpoint;
pub(crate) use nodes::census_of_runs;
pub(crate) use producer::Producer;
pub(crate) use progress::Progress;
pub(crate) use retention::{archive_dir, open_archives};
pub(crate) use tree::check_parts;
pub(crate) use worker::start;

/// How many recent quarantined LSNs are remembered for direct streams.
const RECENT_REJECTIONS: usize = 4096;

/// How long deploy, direct flush and replay wait for the bus.
const APPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// The bus of one open store: its state, its progress, and the files it
/// owns. Shared by the bus thread, the store handle and the streams (which
/// see it only through a [`Producer`]). Holding it keeps the store
/// directory locked.
pub(crate) struct Bus {
    storage: Arc<dyn Storage>,
    /// The store's `segments/` directory: import files, checkpoint,
    /// manifest.
    files_dir: PathBuf,
    wal: Wal,
    quarantine: Quarantine,
    state: RwLock<BusState>,
    progress: Mutex<Progress>,
    progress_cv: Condvar,
    shutdown: AtomicBool,
    options: StoreOptions,
    /// The manifest in force; only `file_set` changes it.
    manifest: Mutex<Manifest>,
    /// Message box LSNs already in quarantine (written after the last
    /// checkpoint), so a replay after a crash does not add them twice.
    quarantined_sources: Mutex<HashSet<Lsn>>,
    /// Recently quarantined LSNs and why, for direct streams.
    recent_rejections: Mutex<VecDeque<(Lsn, Vec<String>)>>,
    _lock: LockGuard,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Bus {
    /// Opens the bus of the store in `dir`, whose lock the caller holds:
    /// the message box, the quarantine, the manifest, the import files and
    /// the checkpoint. The thread is started by [`start`].
    pub(crate) fn open(
        storage: Arc<dyn Storage>,
        dir: &Path,
        lock: LockGuard,
        options: StoreOptions,
    ) -> Result<Bus, StoreError> {
        let files_dir = dir.join("segments");
        storage
            .create_dir_all(&files_dir)
            .map_err(|source| StoreError::Io {
                op: "create directory",
                path: files_dir.clone(),
                source,
            })?;
        let wal = Wal::open_with_storage(storage.clone(), dir.join("wal"), options.wal.clone())?;
        let quarantine = Quarantine::open(storage.clone(), &dir.join("quarantine"))?;
        let opened = checkpoint::open_state(storage.as_ref(), &files_dir, &quarantine)?;
        let applied = opened.state.applied_lsn;
        Ok(Bus {
            storage,
            files_dir,
            wal,
            quarantine,
            state: RwLock::new(opened.state),
            progress: Mutex::new(Progress::at(applied)),
            progress_cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            options,
            manifest: Mutex::new(opened.manifest),
            quarantined_sources: Mutex::new(opened.quarantined),
            recent_rejections: Mutex::new(VecDeque::new()),
            _lock: lock,
        })
    }

    /// The state, for reading (queries, checks).
    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, BusState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, BusState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The message box.
    pub(crate) fn wal(&self) -> &Wal {
        &self.wal
    }

    /// The storage the store lives on.
    pub(crate) fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The quarantine log.
    pub(crate) fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }

    /// The archive files, opened (past the retention window).
    pub(crate) fn archive_files(&self) -> Result<Vec<ImportFile>, StoreError> {
        let names = lock(&self.manifest).archives.clone();
        Ok(open_archives(
            self.storage.as_ref(),
            &self.files_dir,
            &names,
        )?)
    }

    /// Asks the bus thread to stop once everything committed is imported.
    pub(crate) fn request_stop(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.wal.interrupt_waiters();
    }

    fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Commits a control frame (a deployment or an operator action), waits until the bus applied it, and returns the bus's
    /// refusal if any.
    pub(crate) fn apply_control(&self, payload: &[u8]) -> Result<(), StoreError> {
        let lsn = self.wal.append(payload)?;
        self.wait(lsn)?;
        match self.rejection(lsn) {
            Some(reasons) => Err(StoreError::Rejected { reasons }),
            None => Ok(()),
        }
    }

    /// Remembers why the frame at `lsn` was refused, for the direct stream,
    /// deploy and operator calls waiting on it; only the latest
    /// `RECENT_REJECTIONS` are kept.
    fn remember_rejection(&self, lsn: Lsn, reasons: Vec<String>) {
        let mut recent = lock(&self.recent_rejections);
        if recent.len() >= RECENT_REJECTIONS {
            recent.pop_front();
        }
        recent.push_back((lsn, reasons));
    }

    /// Why the frame at `lsn` was refused, if it recently was.
    pub(crate) fn rejection(&self, lsn: Lsn) -> Option<Vec<String>> {
        lock(&self.recent_rejections)
            .iter()
            .find(|(l, _)| *l == lsn)
            .map(|(_, r)| r.clone())
    }
}

/// The event batch inside a quarantined payload, if it holds one.
pub(crate) fn replayable_batch(payload: &[u8]) -> Option<&[u8]> {
    match envelope::parse(payload) {
        envelope::Payload::Batch(b) => Some(b),
        envelope::Payload::Replay { batch, .. } | envelope::Payload::Sequenced { batch, .. } => {
            Some(batch)
        }
        envelope::Payload::Boxed { inner, .. } => {
            envelope::parse_box_payload(inner).ok().map(|(_, b)| b)
        }
        _ => None,
    }
}
