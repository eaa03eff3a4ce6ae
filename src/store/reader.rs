//! A read-only view of a store: any number of processes open one while a
//! writer (a [`Store`](super::Store)) has the store open, without its lock
//! and without writing anything, so a store on a read-only file system or
//! owned by another user can be queried too.
//!
//! A reader sees the store as of its last checkpoint: the manifest names
//! the import files, the active runs and the checkpoint of one LSN, all of
//! them sealed (never written again once named), so what it reads is one
//! consistent state, never half of a frame. A writer replaces the manifest
//! and only then deletes the files the old one named; a reader that finds
//! a named file gone has met such an edit and starts again from the new
//! manifest. Frames committed after the checkpoint are not seen until the
//! writer's next checkpoint (by default within a second of the import,
//! `StoreOptions::checkpoint_interval`) and a [`StoreReader::refresh`] —
//! unless the reader is opened *fresh* ([`StoreReader::open_fresh`]): it
//! then also reads the frames committed since the checkpoint from the
//! message box (`wal::read_tail`, no lock, nothing written) and applies
//! them in its own memory as the writer's bus does, so it sees every
//! flush that returned, at the cost of reading and applying them.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use super::queries::{self, ReadState};
use super::{check_is_store, PendingInstance, StoreStats};
use crate::bus::state::BusState;
use crate::bus::{load_state, Loaded};
use crate::bus::{lock, open_archives};
use crate::error::StoreError;
use crate::model::{ActivityDefinition, ActivityInstance};
use crate::options::StoreOptions;
use crate::query::{Aggregate, AggregateResult, Row, Search};
use crate::segments::file::ImportFile;
use crate::segments::manifest::Manifest;
use crate::storage::{FsStorage, Storage};
use crate::wal::{read_tail, read_tail_after, Lsn, TailPosition};

/// How often an open (or refresh) starts again when a writer's edit
/// removed a file the manifest it read named. Each edit needs a
/// checkpoint, so a reader that loses this many races in a row is facing
/// something else, and reports it.
const LOAD_ATTEMPTS: usize = 32;

/// A read-only snapshot of a store; see the module docs.
///
/// ```
/// use bamdb::{EventStream, Store, StoreOptions, StoreReader};
///
/// let dir = tempfile::tempdir()?;
/// let store = Store::open(dir.path(), StoreOptions::default())?;
/// store.deploy(serde_json::from_str(
///     r#"{"name":"PurchaseOrder","items":[{"name":"Amount","type":"int"}]}"#,
/// )?)?;
/// let mut stream = store.direct_stream();
/// stream.begin("PurchaseOrder", "PO-1")?;
/// stream.update("PurchaseOrder", "PO-1", [("Amount", 7)])?;
/// stream.flush()?;
///
/// // The writer still has the store open; a reader opens it alongside
/// // and sees what its last checkpoint holds.
/// store.wait_checkpointed(std::time::Duration::from_secs(10));
/// let reader = StoreReader::open(dir.path())?;
/// assert!(reader.get("PurchaseOrder", "PO-1")?.is_some());
///
/// let mut stream = store.direct_stream();
/// stream.begin("PurchaseOrder", "PO-2")?;
/// stream.flush()?;
/// store.wait_checkpointed(std::time::Duration::from_secs(10));
/// assert!(reader.refresh()?); // a newer checkpoint
/// assert!(reader.get("PurchaseOrder", "PO-2")?.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StoreReader {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    files_dir: PathBuf,
    state: RwLock<BusState>,
    /// The manifest the state was read from: a refresh compares it with
    /// the current one.
    manifest: Mutex<Manifest>,
    /// Set for a fresh reader: the options its message box frames are read
    /// and applied with.
    tail: Option<StoreOptions>,
    /// Where its last read of the message box stopped.
    tail_end: Mutex<Option<TailPosition>>,
}

impl StoreReader {
    /// Opens the store in `dir` read-only. A directory that holds no store
    /// is [`StoreError::NotAStore`]; nothing is created or written.
    pub fn open(dir: impl AsRef<Path>) -> Result<StoreReader, StoreError> {
        StoreReader::open_with_storage(FsStorage::shared(), dir)
    }

    /// [`StoreReader::open`] on any [`Storage`] (the in-memory disk in
    /// tests).
    pub fn open_with_storage(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
    ) -> Result<StoreReader, StoreError> {
        StoreReader::open_as(storage, dir.as_ref(), None)
    }

    /// Opens the store in `dir` read-only, with what was committed since
    /// the writer's last checkpoint (see the module docs): every flush that
    /// returned is visible, as in the writer's own process once imported.
    /// Frames are read up to twice `StoreOptions::checkpoint_wal_bytes`
    /// (the writer checkpoints before it holds more), with the default
    /// options' limits.
    pub fn open_fresh(dir: impl AsRef<Path>) -> Result<StoreReader, StoreError> {
        StoreReader::open_fresh_with_storage(FsStorage::shared(), dir, &StoreOptions::default())
    }

    /// [`StoreReader::open_fresh`] on any [`Storage`], reading the message
    /// box with `options` (its frame and batch limits, and its
    /// `checkpoint_wal_bytes`).
    pub fn open_fresh_with_storage(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
        options: &StoreOptions,
    ) -> Result<StoreReader, StoreError> {
        StoreReader::open_as(storage, dir.as_ref(), Some(options.clone()))
    }

    fn open_as(
        storage: Arc<dyn Storage>,
        dir: &Path,
        tail: Option<StoreOptions>,
    ) -> Result<StoreReader, StoreError> {
        let dir = dir.to_path_buf();
        check_is_store(storage.as_ref(), &dir)?;
        let files_dir = dir.join("segments");
        let (loaded, tail_end) = load_view(storage.as_ref(), &dir, tail.as_ref())?;
        Ok(StoreReader {
            storage,
            dir,
            files_dir,
            state: RwLock::new(loaded.state),
            manifest: Mutex::new(loaded.manifest),
            tail,
            tail_end: Mutex::new(tail_end),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The LSN of the message box the snapshot holds everything up to.
    pub fn applied_lsn(&self) -> Lsn {
        self.state().applied_lsn
    }

    /// Moves to the writer's latest checkpoint (a fresh reader: also to
    /// the frames committed since); `Ok(false)` if there is nothing newer
    /// than the snapshot. Queries running meanwhile finish on the snapshot
    /// they started with. The LSN never goes backwards.
    pub fn refresh(&self) -> Result<bool, StoreError> {
        let current = lock(&self.manifest).clone();
        let latest = Manifest::load(self.storage.as_ref(), &self.files_dir)?;
        if latest.as_ref() == Some(&current) || latest.is_none() {
            // The same checkpoint: a fresh reader reads on from its LSN.
            let Some(options) = &self.tail else {
                return Ok(false);
            };
            let mut st = self.state.write().unwrap_or_else(|e| e.into_inner());
            let before = st.applied_lsn;
            let mut end = lock(&self.tail_end);
            *end = catch_up(self.storage.as_ref(), &self.dir, &mut st, options, *end)?;
            return Ok(st.applied_lsn > before);
        }
        let (loaded, tail_end) = load_view(self.storage.as_ref(), &self.dir, self.tail.as_ref())?;
        if loaded.state.applied_lsn < self.applied_lsn() {
            // Not a state a writer leaves (its manifest's LSN only grows):
            // keep the newer snapshot rather than go back.
            return Ok(false);
        }
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = loaded.state;
        *lock(&self.manifest) = loaded.manifest;
        *lock(&self.tail_end) = tail_end;
        Ok(true)
    }

    /// The merged instance with this id (or continuation token); see
    /// [`Store::get`](super::Store::get).
    pub fn get(&self, activity: &str, id: &str) -> Result<Option<ActivityInstance>, StoreError> {
        queries::get(self, activity, id)
    }

    /// The parts of an instance (its root and continuations, with who set
    /// each item and when); see [`Store::parts`](super::Store::parts).
    pub fn parts(
        &self,
        activity: &str,
        id: &str,
    ) -> Result<Option<Vec<crate::model::InstancePart>>, StoreError> {
        queries::parts(self, activity, id)
    }

    /// Every visible instance of `activity`; see
    /// [`Store::instances`](super::Store::instances).
    pub fn instances(&self, activity: &str) -> Result<Vec<ActivityInstance>, StoreError> {
        queries::instances(self, activity)
    }

    /// Archived instances of `activity`; see
    /// [`Store::archived`](super::Store::archived).
    pub fn archived(&self, activity: &str) -> Result<Vec<ActivityInstance>, StoreError> {
        queries::archived(self, activity)
    }

    /// An archived instance by id or continuation token; see
    /// [`Store::get_archived`](super::Store::get_archived).
    pub fn get_archived(
        &self,
        activity: &str,
        id: &str,
    ) -> Result<Option<ActivityInstance>, StoreError> {
        queries::get_archived(self, activity, id)
    }

    /// Runs a search; see [`Store::search`](super::Store::search).
    pub fn search(&self, search: &Search) -> Result<Vec<Row>, StoreError> {
        queries::search(self, search)
    }

    /// Runs a search for one page; see
    /// [`Store::search_page`](super::Store::search_page).
    pub fn search_page(&self, search: &Search) -> Result<crate::query::SearchPage, StoreError> {
        queries::search_page(self, search)
    }

    /// Runs a search as a stream of rows; see
    /// [`Store::search_stream`](super::Store::search_stream).
    pub fn search_stream(&self, search: &Search) -> Result<super::SearchStream, StoreError> {
        queries::search_stream(self, search)
    }

    /// Runs an aggregation; see [`Store::aggregate`](super::Store::aggregate).
    pub fn aggregate(&self, aggregate: &Aggregate) -> Result<AggregateResult, StoreError> {
        queries::aggregate(self, aggregate)
    }

    /// The deployed definition of `activity`.
    pub fn definition(&self, activity: &str) -> Result<ActivityDefinition, StoreError> {
        queries::definition(self, activity)
    }

    /// The deployed definitions.
    pub fn definitions(&self) -> Vec<ActivityDefinition> {
        queries::definitions(self)
    }

    /// The highest sequence number `producer` had imported as of the
    /// snapshot; see [`Store::last_sequence`](super::Store::last_sequence).
    pub fn last_sequence(&self, producer: u32) -> Option<u64> {
        queries::last_sequence(self, producer)
    }

    /// Pending records; see [`Store::pending`](super::Store::pending).
    pub fn pending(&self, activity: Option<&str>) -> Result<Vec<PendingInstance>, StoreError> {
        queries::pending(self, activity)
    }

    /// The snapshot's figures. `committed_lsn` and `applied_lsn` are the
    /// snapshot's LSN, `checkpointed_lsn` that of the checkpoint it is
    /// built on (the same, unless a fresh reader read frames after it);
    /// `lag`, `wal_bytes` and `wal_segments` are 0, and `quarantine` is
    /// `None` (a reader does not count the message box's bytes or read the
    /// quarantine).
    pub fn stats(&self) -> StoreStats {
        let checkpointed = lock(&self.manifest).applied_lsn;
        let st = self.state();
        StoreStats {
            checkpointed_lsn: checkpointed,
            ..StoreStats::of_state(&st)
        }
    }
}

impl ReadState for StoreReader {
    fn state(&self) -> RwLockReadGuard<'_, BusState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn archive_files(&self) -> Result<Vec<ImportFile>, StoreError> {
        let names = lock(&self.manifest).archives.clone();
        Ok(open_archives(
            self.storage.as_ref(),
            &self.files_dir,
            &names,
        )?)
    }
}

/// Reads the state the manifest names, starting again when a writer's
/// edit removed one of its files meanwhile (see the module docs).
fn load_consistent(storage: &dyn Storage, files_dir: &Path) -> Result<Loaded, StoreError> {
    let mut attempt = 1;
    loop {
        match load_state(storage, files_dir) {
            Err(e) if is_not_found(&e) && attempt < LOAD_ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

/// The state the current manifest names, and for a fresh reader (`tail`)
/// the frames committed after it, with where that read stopped.
fn load_view(
    storage: &dyn Storage,
    dir: &Path,
    tail: Option<&StoreOptions>,
) -> Result<(Loaded, Option<TailPosition>), StoreError> {
    let mut loaded = load_consistent(storage, &dir.join("segments"))?;
    let end = match tail {
        Some(options) => catch_up(storage, dir, &mut loaded.state, options, None)?,
        None => None,
    };
    Ok((loaded, end))
}

/// Applies to `state` the frames of the message box committed after its
/// LSN (see the module docs), reading on from `resume` when that is where
/// the last read stopped; returns where this one stopped.
fn catch_up(
    storage: &dyn Storage,
    dir: &Path,
    state: &mut BusState,
    options: &StoreOptions,
    resume: Option<TailPosition>,
) -> Result<Option<TailPosition>, StoreError> {
    let budget = options.checkpoint_wal_bytes.saturating_mul(2).max(1);
    let wal = dir.join("wal");
    let from = state.applied_lsn + 1;
    let mut tail = match resume.filter(|at| at.next == from) {
        Some(at) => read_tail_after(storage, &wal, at, &options.wal, budget)?,
        None => read_tail(storage, &wal, from, &options.wal, budget)?,
    };
    if tail.end.is_none() && resume.is_some() {
        // Its segment was trimmed meanwhile: look it up by LSN.
        tail = read_tail(storage, &wal, from, &options.wal, budget)?;
    }
    for frame in tail.frames {
        state.apply_in_memory(frame.lsn, &frame.payload, &options.limits);
    }
    Ok(tail.end)
}

fn is_not_found(e: &StoreError) -> bool {
    matches!(e, StoreError::Io { source, .. } if source.kind() == ErrorKind::NotFound)
}
