//! The store handle: opens a store directory, runs the event bus, deploys
//! definitions, hands out event streams, and answers simple lookups.
//!
//! ```
//! use bamdb::model::{ActivityDefinition, ItemDefinition, ItemType};
//! use bamdb::{EventStream, Status, Store, StoreOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path(), StoreOptions::default())?;
//! store.deploy(serde_json::from_str(
//!     r#"{"name":"PurchaseOrder","items":[{"name":"Amount","type":"float"}]}"#,
//! )?)?;
//!
//! let mut stream = store.direct_stream();
//! stream.begin("PurchaseOrder", "PO-1")?;
//! stream.update("PurchaseOrder", "PO-1", [("Amount", 125.5)])?;
//! stream.end("PurchaseOrder", "PO-1")?;
//! stream.flush()?; // durable and visible when it returns
//!
//! let po = store.get("PurchaseOrder", "PO-1")?.expect("imported");
//! assert_eq!(po.status, Status::Completed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod options;
mod quarantine;
mod scan;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Serialize;

pub use crate::bus::pending::PendingInstance;
pub use error::StoreError;
pub use options::{QuarantineEvent, QuarantineListener, Retention, RetentionAction, StoreOptions};
pub use quarantine::{ReplayOutcome, MAX_DROP_REASON};
pub use verify::{Problem, VerifyReport};

use crate::bus::quarantine::{Quarantine, QuarantineCounts};
use crate::bus::state::Counters;
use crate::bus::{self, lock, Shared};
use crate::model::ActivityDefinition;
use crate::model::ActivityInstance;
use crate::storage::{FsStorage, LockGuard, Storage};
use crate::stream::{BufferedEventStream, DirectEventStream};
use crate::wal::{Lsn, Wal};

/// An open store. Dropping it (or [`Store::close`]) stops the bus after it
/// has imported everything committed and written a checkpoint. The
/// directory stays locked until the store and every stream made from it
/// are dropped.
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub bus: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    deploy_lock: Mutex<()>,
    next_producer: AtomicU32,
    dir: PathBuf,
    _lock: LockGuard,
}

/// Figures about a store, for monitoring and the `stats` command.
#[derive(Debug, Clone, Serialize)]
pub struct StoreStats {
    /// The highest durable LSN in the message box.
    pub committed_lsn: Lsn,
    /// Every frame up to here is imported (or quarantined).
    pub applied_lsn: Lsn,
    /// Every frame up to here is in a durable checkpoint.
    pub checkpointed_lsn: Lsn,
    /// Frames committed but not yet imported.
    pub lag: u64,
    /// Bytes held in the message box.
    pub wal_bytes: u64,
    /// Message box segment files.
    pub wal_segments: usize,
    /// Import segment files.
    pub import_files: usize,
    /// Visible active instances.
    pub active: usize,
    /// Completed instances (in files and not yet written).
    pub completed: u64,
    /// Trees of events for ids not begun and not linked yet.
    pub pending: usize,
    /// Import counters.
    pub counters: Counters,
    /// Why the store is degraded, if it is: import retrying or halted,
    /// the message box writer stopped after an error, or too little disk
    /// space for the message box's next growth. Reads work in every case.
    pub degraded: Option<String>,
    /// The import stopped after its retries: nothing more is imported
    /// until the store is reopened (`degraded` says why; nothing committed
    /// is lost, it waits in the message box).
    pub import_halted: bool,
    /// Failed import steps that were retried since the store was opened.
    pub import_retries: u64,
    /// Quarantine entries by state (unresolved, resolved, dropped) and
    /// damaged quarantine records; `None` if the quarantine log could not
    /// be read (the reason is logged).
    pub quarantine: Option<QuarantineCounts>,
}

/// How long deploy, direct flush and replay wait for the bus.
const APPLY_TIMEOUT: Duration = Duration::from_secs(120);

impl Store {
    /// Opens the store in `dir`, creating it if needed (unless
    /// [`StoreOptions::create_if_missing`] is off: then a directory that
    /// holds no store is [`StoreError::NotAStore`], and nothing is created).
    pub fn open(dir: impl AsRef<Path>, options: StoreOptions) -> Result<Store, StoreError> {
        Store::open_with_storage(FsStorage::shared(), dir, options)
    }

    /// Opens the store on any [`Storage`] (the in-memory disk in tests).
    pub fn open_with_storage(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let io = |op: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { op, path, source }
        };
        if !options.create_if_missing {
            check_is_store(storage.as_ref(), &dir)?;
        }
        storage
            .create_dir_all(&dir)
            .map_err(io("create store directory", &dir))?;
        let lock_path = dir.join("LOCK");
        let guard = storage
            .try_lock(&lock_path)
            .map_err(io("lock", &lock_path))?
            .ok_or_else(|| StoreError::Locked { dir: dir.clone() })?;
        let segments_dir = dir.join("segments");
        storage
            .create_dir_all(&segments_dir)
            .map_err(io("create directory", &segments_dir))?;
        let wal = Wal::open_with_storage(storage.clone(), dir.join("wal"), options.wal.clone())?;
        let quarantine = Quarantine::open(storage.clone(), &dir.join("quarantine"))?;
        let opened =
            bus::open_state(storage.as_ref(), &segments_dir, &quarantine).map_err(|reason| {
                StoreError::Corrupt {
                    location: segments_dir.display().to_string(),
                    reason,
                }
            })?;
        let shared = Arc::new(Shared::new(
            storage,
            segments_dir.clone(),
            wal,
            quarantine,
            opened,
            options,
        ));
        let thread = bus::start(shared.clone()).map_err(io("start the bus thread", &dir))?;
        Ok(Store {
            inner: Arc::new(Inner {
                bus: shared,
                thread: Mutex::new(Some(thread)),
                deploy_lock: Mutex::new(()),
                next_producer: AtomicU32::new(FIRST_DEFAULT_PRODUCER),
                dir,
                _lock: guard,
            }),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Deploys an activity definition (or a compatible new version: items
    /// may be added, not removed or retyped). Returns once the bus has
    /// applied it; re-deploying the same definition is a no-op.
    pub fn deploy(&self, def: ActivityDefinition) -> Result<(), StoreError> {
        def.validate()?;
        let _serial = lock(&self.inner.deploy_lock);
        if let Some(old) = self.inner.bus.read_state().definitions.get(&def.name) {
            if old == &def {
                return Ok(());
            }
            crate::model::check_upgrade(old, &def)?;
        }
        let json = serde_json::to_string(&def).map_err(|e| StoreError::InvalidInput {
            reason: format!("definition does not serialise: {e}"),
        })?;
        self.apply_control(&bus::deploy_payload(&json))
    }

    /// Deploys several definitions all or nothing, in one message-box
    /// frame: either every one is deployed or, if any is invalid or
    /// conflicts with a deployed one (or an earlier one in the list), none
    /// is. Definitions equal to the deployed ones are no-ops.
    ///
    /// ```
    /// # use bamdb::{Store, StoreOptions};
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path(), StoreOptions::default())?;
    /// let defs = serde_json::from_str(r#"[
    ///     {"name":"Order","items":[{"name":"Amount","type":"float"}]},
    ///     {"name":"Shipment","items":[{"name":"Carrier","type":"text","max_len":32}]}]"#)?;
    /// store.deploy_all(defs)?;
    /// assert_eq!(store.definitions().len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deploy_all(&self, defs: Vec<ActivityDefinition>) -> Result<(), StoreError> {
        for def in &defs {
            def.validate()?;
        }
        let _serial = lock(&self.inner.deploy_lock);
        let changed: Vec<ActivityDefinition> = {
            let st = self.inner.bus.read_state();
            defs.into_iter()
                .filter(|d| st.definitions.get(&d.name) != Some(d))
                .collect()
        };
        if changed.is_empty() {
            return Ok(());
        }
        let json = serde_json::to_string(&changed).map_err(|e| StoreError::InvalidInput {
            reason: format!("definitions do not serialise: {e}"),
        })?;
        self.apply_control(&bus::deploy_payload(&json))
    }

    /// Active instances not modified for longer than `idle` (by their
    /// last event timestamp), oldest first: typically instances whose
    /// continuation never ended.
    pub fn dangling(&self, idle: Duration) -> Vec<ActivityInstance> {
        let now = crate::model::Timestamp::now().as_micros();
        let limit = i64::try_from(idle.as_micros()).unwrap_or(i64::MAX);
        let mut out: Vec<ActivityInstance> = self
            .inner
            .bus
            .read_state()
            .active_instances()
            .into_iter()
            .filter(|i| {
                i.last_modified
                    .is_none_or(|t| now.saturating_sub(t.as_micros()) > limit)
            })
            .collect();
        out.sort_by_key(|i| (i.last_modified, i.id.clone()));
        out
    }

    /// Completes an active instance now, whatever parts have not ended (an
    /// operator's decision). Returns once applied.
    pub fn complete_instance(&self, activity: &str, id: &str) -> Result<(), StoreError> {
        self.admin(&bus::AdminOp::Complete {
            activity: activity.to_owned(),
            id: id.to_owned(),
            time: crate::model::Timestamp::now().as_micros(),
        })
    }

    /// Removes an active or pending instance (every part of it). Returns
    /// once applied.
    pub fn remove_instance(&self, activity: &str, id: &str) -> Result<(), StoreError> {
        self.admin(&bus::AdminOp::Remove {
            activity: activity.to_owned(),
            id: id.to_owned(),
        })
    }

    fn admin(&self, op: &bus::AdminOp) -> Result<(), StoreError> {
        self.apply_control(&bus::admin_payload(op))
    }

    /// Commits a control frame (a deployment or an operator action), waits
    /// until the bus applied it, and returns the bus's refusal if any.
    fn apply_control(&self, payload: &[u8]) -> Result<(), StoreError> {
        let lsn = self.inner.bus.wal.append(payload)?;
        self.inner.wait(lsn)?;
        match self.inner.bus.rejection(lsn) {
            Some(reasons) => Err(StoreError::Rejected { reasons }),
            None => Ok(()),
        }
    }

    /// The deployed definitions.
    pub fn definitions(&self) -> Vec<ActivityDefinition> {
        self.inner
            .bus
            .read_state()
            .definitions
            .values()
            .cloned()
            .collect()
    }

    /// A buffered stream: `flush` returns once the batch is durable; the
    /// bus imports it in the background. `threshold`: 0 = flush by hand
    /// only, N = flush automatically when N events are buffered.
    pub fn buffered_stream(&self, threshold: usize) -> BufferedEventStream {
        BufferedEventStream::new(self.inner.clone(), self.next_producer(), threshold)
    }

    /// A direct stream: `flush` validates first (an error, nothing written,
    /// if the batch would be quarantined), and returns once the batch is
    /// durable and visible to queries.
    pub fn direct_stream(&self) -> DirectEventStream {
        DirectEventStream::new(self.inner.clone(), self.next_producer())
    }

    /// A buffered stream that stamps its events with `producer` as the
    /// tie-break between events with equal timestamps. Give each
    /// application (or process) its own stable id, recorded in every frame
    /// it writes, so that ties break the same way on every run.
    /// (Streams from [`Store::buffered_stream`] are numbered from 1 in the
    /// order they are made.)
    pub fn buffered_stream_as(&self, producer: u32, threshold: usize) -> BufferedEventStream {
        BufferedEventStream::new(self.inner.clone(), producer, threshold)
    }

    /// A direct stream with a stable producer id; see
    /// [`Store::buffered_stream_as`].
    pub fn direct_stream_as(&self, producer: u32) -> DirectEventStream {
        DirectEventStream::new(self.inner.clone(), producer)
    }

    fn next_producer(&self) -> u32 {
        self.inner.next_producer.fetch_add(1, Ordering::Relaxed)
    }

    /// Waits until every frame up to `lsn` is imported; false on timeout.
    pub fn wait_applied(&self, lsn: Lsn, timeout: Duration) -> bool {
        self.inner.bus.wait_applied(lsn, timeout)
    }

    /// Waits until everything committed so far is imported; false on
    /// timeout.
    pub fn sync(&self, timeout: Duration) -> bool {
        let committed = self.inner.bus.wal.committed_lsn();
        self.wait_applied(committed, timeout)
    }

    /// The merged instance with this id (or continuation token), active or
    /// completed; `None` if unknown or still pending.
    pub fn get(&self, activity: &str, id: &str) -> Result<Option<ActivityInstance>, StoreError> {
        let key = (activity.to_owned(), id.to_owned());
        self.inner
            .bus
            .read_state()
            .get(&key)
            .map_err(|reason| StoreError::Corrupt {
                location: self.inner.bus.segments_dir.display().to_string(),
                reason,
            })
    }

    /// Every visible instance of `activity`, active and completed, in no
    /// particular order. (A full scan; richer queries build on it.)
    pub fn instances(&self, activity: &str) -> Result<Vec<ActivityInstance>, StoreError> {
        self.inner
            .bus
            .read_state()
            .all_instances(activity)
            .map_err(|reason| self.corrupt(reason))
    }

    /// Damage found while reading the import files.
    fn corrupt(&self, reason: String) -> StoreError {
        StoreError::Corrupt {
            location: self.inner.bus.segments_dir.display().to_string(),
            reason,
        }
    }

    /// Applies a retention policy now (an operator's request; for a
    /// standing policy set [`StoreOptions::retention`]): completed instances
    /// that ended longer ago than the window leave the online store,
    /// archived or dropped. Returns once done.
    pub fn apply_retention(&self, policy: Retention) -> Result<(), StoreError> {
        self.admin(&bus::AdminOp::Retain {
            window_secs: policy.online_window.as_secs(),
            drop: policy.action == RetentionAction::Drop,
        })
    }

    /// Archived instances of `activity` (past the retention window, see
    /// [`StoreOptions::retention`]).
    pub fn archived(&self, activity: &str) -> Result<Vec<ActivityInstance>, StoreError> {
        let mut out = Vec::new();
        for file in self.archive_files()? {
            for rec in file.records() {
                let rec = rec.map_err(|reason| StoreError::Corrupt {
                    location: file.path.display().to_string(),
                    reason,
                })?;
                if rec.activity == activity {
                    out.push(rec.to_instance());
                }
            }
        }
        Ok(out)
    }

    /// An archived instance by id or continuation token.
    pub fn get_archived(
        &self,
        activity: &str,
        id: &str,
    ) -> Result<Option<ActivityInstance>, StoreError> {
        for file in self.archive_files()?.iter().rev() {
            let found = file
                .get(activity, id)
                .map_err(|reason| StoreError::Corrupt {
                    location: file.path.display().to_string(),
                    reason,
                })?;
            if let Some(rec) = found {
                return Ok(Some(rec.to_instance()));
            }
        }
        Ok(None)
    }

    fn archive_files(&self) -> Result<Vec<crate::segments::file::SegmentFile>, StoreError> {
        let bus = &self.inner.bus;
        let names = lock(&bus.manifest).archives.clone();
        let dir = crate::bus::retention::archive_dir(&bus.segments_dir);
        names
            .iter()
            .map(|n| {
                crate::segments::file::SegmentFile::open(bus.storage.as_ref(), &dir, n).map_err(
                    |reason| StoreError::Corrupt {
                        location: dir.join(n).display().to_string(),
                        reason,
                    },
                )
            })
            .collect()
    }

    /// Declares (or replaces) a real-time aggregation named `name`: the bus
    /// keeps its result up to date as it imports, and
    /// [`Store::aggregation`] reads it without a scan. Durable; returns once
    /// applied.
    pub fn declare_aggregation(
        &self,
        name: &str,
        aggregate: &crate::query::Aggregate,
    ) -> Result<(), StoreError> {
        aggregate.validate(&self.definition(&aggregate.activity)?)?;
        let spec = crate::bus::aggregations::AggregationSpec::new(name, aggregate);
        self.admin(&bus::AdminOp::Declare(spec))
    }

    /// Drops a real-time aggregation.
    pub fn drop_aggregation(&self, name: &str) -> Result<(), StoreError> {
        self.admin(&bus::AdminOp::Undeclare {
            name: name.to_owned(),
        })
    }

    /// The current result of a declared real-time aggregation (no scan).
    pub fn aggregation(&self, name: &str) -> Option<crate::query::AggregateResult> {
        self.inner
            .bus
            .read_state()
            .aggregations
            .get(name)
            .map(|d| d.running.result())
    }

    /// Runs a search over the active and completed instances of its
    /// activity, after checking it against the deployed definition.
    pub fn search(
        &self,
        search: &crate::query::Search,
    ) -> Result<Vec<crate::query::Row>, StoreError> {
        search.validate(&self.definition(&search.activity)?)?;
        let snapshot = crate::query::run::Snapshot::take(
            &*self.inner.bus.read_state(),
            &search.activity,
            search.status,
        );
        crate::query::run::search(snapshot, search).map_err(|reason| self.corrupt(reason))
    }

    /// Runs an aggregation over the active and completed instances of its
    /// activity, after checking it against the deployed definition. A float
    /// `sum` whose exact value is beyond the float range is an error
    /// ([`crate::query::QueryError::Overflow`]), not infinity.
    pub fn aggregate(
        &self,
        aggregate: &crate::query::Aggregate,
    ) -> Result<crate::query::AggregateResult, StoreError> {
        aggregate.validate(&self.definition(&aggregate.activity)?)?;
        let snapshot = crate::query::run::Snapshot::take(
            &*self.inner.bus.read_state(),
            &aggregate.activity,
            aggregate.status,
        );
        let run = crate::query::run::aggregate(snapshot, aggregate)
            .map_err(|reason| self.corrupt(reason))?;
        Ok(run.finish()?)
    }

    /// The deployed definition of `activity`.
    pub fn definition(&self, activity: &str) -> Result<ActivityDefinition, StoreError> {
        self.inner
            .bus
            .read_state()
            .definitions
            .get(activity)
            .cloned()
            .ok_or_else(|| StoreError::InvalidInput {
                reason: format!("activity {activity} is not deployed"),
            })
    }

    /// Pending records: trees of events for ids that were never begun and
    /// are not linked (yet) as a continuation of a begun instance, of
    /// `activity` or of every activity, ordered by activity and id. Queries
    /// do not see them until they become visible; they wait in memory (and
    /// in checkpoints) until their begin or link arrives, or an operator
    /// removes them with [`Store::remove_instance`].
    ///
    /// ```
    /// use bamdb::{EventStream, Store, StoreOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path(), StoreOptions::default())?;
    /// store.deploy(serde_json::from_str(
    ///     r#"{"name":"PurchaseOrder","items":[{"name":"Carrier","type":"text","max_len":32}]}"#,
    /// )?)?;
    /// // Shipping reports under a token no order has enabled yet.
    /// let mut shipping = store.direct_stream();
    /// shipping.update("PurchaseOrder", "SHIP-9", [("Carrier", "DHL")])?;
    /// shipping.end("PurchaseOrder", "SHIP-9")?;
    /// shipping.flush()?;
    ///
    /// let pending = store.pending(Some("PurchaseOrder"));
    /// assert_eq!(pending.len(), 1);
    /// assert_eq!(pending[0].id, "SHIP-9");
    /// assert!(pending[0].ended);
    /// assert_eq!(store.get("PurchaseOrder", "SHIP-9")?, None); // not visible
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pending(&self, activity: Option<&str>) -> Vec<PendingInstance> {
        self.inner.bus.read_state().pending_instances(activity)
    }

    /// Current figures.
    pub fn stats(&self) -> StoreStats {
        let bus = &self.inner.bus;
        let wal = bus.wal.stats();
        let (applied, checkpointed, import_degraded, import_halted, import_retries) = {
            let p = lock(&bus.progress);
            (
                p.applied,
                p.checkpointed,
                p.degraded.clone(),
                p.halted,
                p.retries,
            )
        };
        // Reads keep working in every one of these states; writes do not.
        let reasons: Vec<String> = [
            import_degraded,
            bus.wal
                .poisoned()
                .map(|r| format!("message box writer stopped: {r}")),
            bus.wal.space_warning(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let degraded = (!reasons.is_empty()).then(|| reasons.join("; "));
        let st = bus.read_state();
        let (active, pending) = st.active_and_pending();
        let completed = (st.memtable.len() as u64
            + st.files.iter().map(|f| f.record_count).sum::<u64>())
        .saturating_sub(st.superseded_count());
        StoreStats {
            committed_lsn: wal.committed_lsn,
            applied_lsn: applied,
            checkpointed_lsn: checkpointed,
            lag: wal.committed_lsn.saturating_sub(applied),
            wal_bytes: wal.bytes,
            wal_segments: wal.segments,
            import_files: st.files.len(),
            active,
            completed,
            pending,
            counters: st.counters,
            degraded,
            import_halted,
            import_retries,
            quarantine: bus
                .quarantine
                .counts()
                .map_err(|e| tracing::warn!(error = %e, "cannot count the quarantine entries"))
                .ok(),
        }
    }

    /// Stops the bus after it has imported everything committed, writes a
    /// final checkpoint, and releases the directory.
    pub fn close(self) -> Result<(), StoreError> {
        self.inner.stop();
        let p = lock(&self.inner.bus.progress);
        match (&p.degraded, p.halted) {
            (Some(reason), true) => Err(StoreError::Degraded {
                reason: reason.clone(),
            }),
            _ => Ok(()),
        }
    }
}

impl Inner {
    /// Waits for the bus to apply `lsn`.
    pub(crate) fn wait(&self, lsn: Lsn) -> Result<(), StoreError> {
        if self.bus.wait_applied(lsn, APPLY_TIMEOUT) {
            return Ok(());
        }
        let p = lock(&self.bus.progress);
        match (&p.degraded, p.stopped) {
            (Some(reason), _) => Err(StoreError::Degraded {
                reason: reason.clone(),
            }),
            (None, true) => Err(StoreError::Closed),
            (None, false) => Err(StoreError::Timeout {
                what: format!("import of LSN {lsn}"),
            }),
        }
    }

    fn stop(&self) {
        self.bus
            .shutdown
            .store(true, std::sync::atomic::Ordering::Release);
        self.bus.wal.interrupt_waiters();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.inner.stop();
    }
}

/// Fails with [`StoreError::NotAStore`] unless `dir` holds a store: a
/// directory with a `segments/` subdirectory (see
/// [`StoreOptions::create_if_missing`]). Reads only; creates nothing.
pub(crate) fn check_is_store(storage: &dyn Storage, dir: &Path) -> Result<(), StoreError> {
    use std::io::ErrorKind;
    let not_a_store = |reason: &str| StoreError::NotAStore {
        dir: dir.to_path_buf(),
        reason: reason.to_owned(),
    };
    let io = |path: &Path, source| StoreError::Io {
        op: "read directory",
        path: path.to_path_buf(),
        source,
    };
    match storage.list_dir(dir) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(not_a_store("the directory does not exist"))
        }
        Err(e) if e.kind() == ErrorKind::NotADirectory => {
            return Err(not_a_store("it is not a directory"))
        }
        Err(e) => return Err(io(dir, e)),
    }
    let segments = dir.join("segments");
    match storage.list_dir(&segments) {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            Err(not_a_store("no segments/ directory"))
        }
        Err(e) => Err(io(&segments, e)),
    }
}

/// The producer id of the first stream a store hands out without an
/// explicit id. Ids only break ties between events with equal timestamps;
/// they are stable (not random per process), so the same input decides
/// ties the same way on every run. Events with equal stamps are ordered
/// by their values (see the apply rules in `docs/ARCHITECTURE.md`).
const FIRST_DEFAULT_PRODUCER: u32 = 1;
