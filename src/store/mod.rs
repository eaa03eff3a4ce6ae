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

mod admin;
mod archive;
mod boxes;
mod quarantine;
mod queries;
mod reader;
mod scan;
mod search_stream;
mod shipped;
mod stats;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub use crate::bus::pending::PendingInstance;
// The options and errors live below every layer (`crate::options`,
// `crate::error`); the facade names them too.
pub use crate::error::StoreError;
pub use crate::options::{
    QuarantineEvent, QuarantineListener, Retention, RetentionAction, StoreOptions,
};
pub use boxes::BoxImport;
pub use quarantine::{ReplayOutcome, MAX_DROP_REASON};
pub use reader::StoreReader;
pub use search_stream::SearchStream;
pub use shipped::{RefusedBecause, RefusedFrame, ShippedAppend, ShippedFrame};
pub use stats::StoreStats;
pub use verify::{Problem, VerifyReport};

use crate::bus::{self, lock, Bus, Producer};
use crate::model::ActivityDefinition;
use crate::model::ActivityInstance;
use crate::model::{Batch, Event};
use crate::storage::{FsStorage, Storage};
use crate::stream::{BufferedEventStream, DirectEventStream};
use crate::wal::{Lsn, SyncHistogram};

/// An open store. Dropping it (or [`Store::close`]) stops the bus after it
/// has imported everything committed and written a checkpoint. The
/// directory stays locked until the store and every stream made from it
/// are dropped.
pub struct Store {
    /// The bus; streams hold it too (through a [`Producer`]), and with it
    /// the directory's lock.
    bus: Arc<Bus>,
    thread: Mutex<Option<JoinHandle<()>>>,
    deploy_lock: Mutex<()>,
    next_producer: AtomicU32,
    dir: PathBuf,
    /// How far each producer's message box is copied (`import_boxes`).
    pump: Mutex<boxes::BoxPump>,
}

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
        let bus = Arc::new(Bus::open(storage, &dir, guard, options)?);
        let thread = bus::start(bus.clone()).map_err(io("start the bus thread", &dir))?;
        Ok(Store {
            bus,
            thread: Mutex::new(Some(thread)),
            deploy_lock: Mutex::new(()),
            next_producer: AtomicU32::new(FIRST_DEFAULT_PRODUCER),
            dir,
            pump: Mutex::new(boxes::BoxPump::default()),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Deploys an activity definition (or a compatible new version: items
    /// may be added, not removed or retyped). Returns once the bus has
    /// applied it; re-deploying the same definition is a no-op.
    pub fn deploy(&self, def: ActivityDefinition) -> Result<(), StoreError> {
        def.validate()?;
        let _serial = lock(&self.deploy_lock);
        if let Some(old) = self.bus.read_state().definitions.get(&def.name) {
            if old == &def {
                return Ok(());
            }
            crate::model::check_upgrade(old, &def)?;
        }
        let json = serde_json::to_string(&def).map_err(|e| StoreError::InvalidInput {
            reason: format!("definition does not serialise: {e}"),
        })?;
        self.bus.apply_control(&bus::deploy_payload(&json))
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
        let _serial = lock(&self.deploy_lock);
        let changed: Vec<ActivityDefinition> = {
            let st = self.bus.read_state();
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
        self.bus.apply_control(&bus::deploy_payload(&json))
    }

    fn admin(&self, op: &bus::AdminOp) -> Result<(), StoreError> {
        self.bus.apply_control(&bus::admin_payload(op))
    }

    fn producer(&self) -> Producer {
        Producer::new(self.bus.clone())
    }

    /// The deployed definitions.
    pub fn definitions(&self) -> Vec<ActivityDefinition> {
        queries::definitions(self)
    }

    /// A buffered stream: `flush` returns once the batch is durable; the
    /// bus imports it in the background. `threshold`: 0 = flush by hand
    /// only, N = flush automatically when N events are buffered.
    pub fn buffered_stream(&self, threshold: usize) -> BufferedEventStream {
        BufferedEventStream::new(Arc::new(self.producer()), self.next_producer(), threshold)
    }

    /// A direct stream: `flush` validates first (an error, nothing written,
    /// if the batch would be quarantined), and returns once the batch is
    /// durable and visible to queries.
    pub fn direct_stream(&self) -> DirectEventStream {
        DirectEventStream::new(self.producer(), self.next_producer())
    }

    /// A buffered stream that stamps its events with `producer` as the
    /// tie-break between events with equal timestamps. Give each
    /// application (or process) its own stable id, recorded in every frame
    /// it writes, so that ties break the same way on every run.
    /// (Streams from [`Store::buffered_stream`] are numbered from 1 in the
    /// order they are made.)
    pub fn buffered_stream_as(&self, producer: u32, threshold: usize) -> BufferedEventStream {
        BufferedEventStream::new(Arc::new(self.producer()), producer, threshold)
    }

    /// A direct stream with a stable producer id; see
    /// [`Store::buffered_stream_as`].
    pub fn direct_stream_as(&self, producer: u32) -> DirectEventStream {
        DirectEventStream::new(self.producer(), producer)
    }

    /// Checks events against the deployed definitions without writing
    /// anything: `Err` holds the reasons the bus would quarantine a batch of
    /// them for, each naming the event by its position (`event 3 (update
    /// PurchaseOrder/PO-1): ...`). What a direct stream checks before it
    /// writes, for callers that buffer elsewhere (an HTTP request).
    ///
    /// ```
    /// # use bamdb::{Store, StoreOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Store::open(dir.path(), StoreOptions::default())?;
    /// use bamdb::model::{Event, EventKind, Timestamp};
    ///
    /// let begin = Event {
    ///     ts: Timestamp::from_micros(0),
    ///     activity: "NotDeployed".into(),
    ///     id: "X-1".into(),
    ///     kind: EventKind::Begin,
    /// };
    /// let reasons = store.check_events(vec![begin]).unwrap_err();
    /// assert!(reasons[0].starts_with("event 0 (begin NotDeployed/X-1)"), "{reasons:?}");
    /// # store.close()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_events(&self, events: Vec<Event>) -> Result<(), Vec<String>> {
        self.producer().check(Batch {
            producer: 0,
            seq: 0,
            events,
        })
    }

    /// How long the message box's syncs (the fsync of each group commit)
    /// took since the store was opened.
    pub fn sync_latency(&self) -> SyncHistogram {
        self.bus.wal().stats().sync_latency
    }

    fn next_producer(&self) -> u32 {
        self.next_producer.fetch_add(1, Ordering::Relaxed)
    }

    /// Waits until every frame up to `lsn` is imported; false on timeout.
    pub fn wait_applied(&self, lsn: Lsn, timeout: Duration) -> bool {
        self.bus.wait_applied(lsn, timeout)
    }

    /// Waits until everything committed so far is imported; false on
    /// timeout.
    pub fn sync(&self, timeout: Duration) -> bool {
        let committed = self.bus.wal().committed_lsn();
        self.wait_applied(committed, timeout)
    }

    /// Waits until everything imported so far is in a durable checkpoint
    /// (import files, active runs, manifest; the message box trimmed);
    /// false on timeout. A checkpoint is taken every
    /// `StoreOptions::checkpoint_frames` frames, when the bus is idle for
    /// `checkpoint_interval`, and when memory bounds are reached.
    pub fn wait_checkpointed(&self, timeout: Duration) -> bool {
        let applied = self.bus.progress().applied;
        self.bus.wait_checkpointed(applied, timeout)
    }

    /// The merged instance with this id (or continuation token), active or
    /// completed; `None` if unknown or still pending.
    pub fn get(&self, activity: &str, id: &str) -> Result<Option<ActivityInstance>, StoreError> {
        queries::get(self, activity, id)
    }

    /// The parts of the instance with this id (or continuation token),
    /// root first: for each, its items with the time and producer id of
    /// the event that set them, so a caller can tell which application
    /// reported what. `None` if unknown or still pending.
    ///
    /// ```
    /// # use bamdb::{EventStream, Store, StoreOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Store::open(dir.path(), StoreOptions::default())?;
    /// # store.deploy(bamdb::fixture::definition(bamdb::fixture::BRIEF))?;
    /// let mut orders = store.direct_stream_as(7);
    /// orders.begin("PurchaseOrder", "PO-1")?;
    /// orders.enable_continuation("PurchaseOrder", "PO-1", "SHIP-1")?;
    /// orders.update("PurchaseOrder", "PO-1", [("Amount", 10.5)])?;
    /// orders.flush()?;
    /// let mut shipping = store.direct_stream_as(9);
    /// shipping.update("PurchaseOrder", "SHIP-1", [("Region", "EU")])?;
    /// shipping.flush()?;
    ///
    /// let parts = store.parts("PurchaseOrder", "PO-1")?.expect("an instance");
    /// assert_eq!(parts[0].id, "PO-1");
    /// assert_eq!((parts[0].items[0].name.as_str(), parts[0].items[0].producer), ("Amount", 7));
    /// assert_eq!(parts[1].id, "SHIP-1");
    /// assert_eq!((parts[1].items[0].name.as_str(), parts[1].items[0].producer), ("Region", 9));
    /// # drop((orders, shipping));
    /// # store.close()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parts(
        &self,
        activity: &str,
        id: &str,
    ) -> Result<Option<Vec<crate::model::InstancePart>>, StoreError> {
        queries::parts(self, activity, id)
    }

    /// Every visible instance of `activity`, active and completed, in no
    /// particular order. (A full scan; richer queries build on it.)
    pub fn instances(&self, activity: &str) -> Result<Vec<ActivityInstance>, StoreError> {
        queries::instances(self, activity)
    }

    /// Runs a search over the active and completed instances of its
    /// activity, after checking it against the deployed definition.
    pub fn search(
        &self,
        search: &crate::query::Search,
    ) -> Result<Vec<crate::query::Row>, StoreError> {
        queries::search(self, search)
    }

    /// [`Store::search`], with the cursor of the next page: set it as the
    /// next search's [`Search::after`](crate::query::Search::after) to go
    /// on where this page ended (see [`crate::query::Cursor`]).
    pub fn search_page(
        &self,
        search: &crate::query::Search,
    ) -> Result<crate::query::SearchPage, StoreError> {
        queries::search_page(self, search)
    }

    /// [`Store::search`] as a stream of rows, for results too long to
    /// hold: the rows come from one consistent snapshot, read a page at a
    /// time (see [`SearchStream`]).
    ///
    /// ```
    /// use bamdb::model::Value;
    /// use bamdb::query::{OrderBy, Search};
    /// use bamdb::{EventStream, Store, StoreOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path(), StoreOptions::default())?;
    /// store.deploy(serde_json::from_str(
    ///     r#"{"name":"Order","items":[{"name":"Amount","type":"int"}]}"#,
    /// )?)?;
    /// let mut stream = store.direct_stream();
    /// for i in 0..3_i64 {
    ///     let id = format!("O-{i}");
    ///     stream.begin("Order", &id)?;
    ///     stream.update("Order", &id, [("Amount", 10 * i)])?;
    /// }
    /// stream.flush()?;
    ///
    /// let mut search = Search::new("Order");
    /// search.order_by = vec![OrderBy::desc("Amount")];
    /// let ids: Vec<Option<Value>> = store
    ///     .search_stream(&search)?
    ///     .map(|row| row.map(|r| r.get("id").cloned()))
    ///     .collect::<Result<_, _>>()?;
    /// let o = |id: &str| Some(Value::from(id));
    /// assert_eq!(ids, [o("O-2"), o("O-1"), o("O-0")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn search_stream(&self, search: &crate::query::Search) -> Result<SearchStream, StoreError> {
        queries::search_stream(self, search)
    }

    /// Runs an aggregation over the active and completed instances of its
    /// activity, after checking it against the deployed definition. A float
    /// `sum` whose exact value is beyond the float range is an error
    /// ([`crate::query::QueryError::Overflow`]), not infinity.
    pub fn aggregate(
        &self,
        aggregate: &crate::query::Aggregate,
    ) -> Result<crate::query::AggregateResult, StoreError> {
        queries::aggregate(self, aggregate)
    }

    /// The deployed definition of `activity`.
    pub fn definition(&self, activity: &str) -> Result<ActivityDefinition, StoreError> {
        queries::definition(self, activity)
    }

    /// The highest sequence number imported for `producer`'s sequenced
    /// batches ([`crate::EventStream::flush_sequenced`]); `None` if it never
    /// sequenced one. A producer that lost count (a restart) goes on above
    /// it. Call it once the import caught up ([`Store::sync`]): a batch
    /// committed but not yet imported is not counted.
    pub fn last_sequence(&self, producer: u32) -> Option<u64> {
        queries::last_sequence(self, producer)
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
    /// let pending = store.pending(Some("PurchaseOrder"))?;
    /// assert_eq!(pending.len(), 1);
    /// assert_eq!(pending[0].id, "SHIP-9");
    /// assert!(pending[0].ended);
    /// assert_eq!(store.get("PurchaseOrder", "SHIP-9")?, None); // not visible
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    /// An error names an active run that could not be read.
    pub fn pending(&self, activity: Option<&str>) -> Result<Vec<PendingInstance>, StoreError> {
        queries::pending(self, activity)
    }

    /// Stops the bus after it has imported everything committed, writes a
    /// final checkpoint, records where the message box ends (so the next
    /// open need not read it through), and releases the directory (once
    /// every stream made from this store is dropped too).
    /// [`StoreError::Halted`] if the import had stopped after its retries;
    /// [`StoreError::Wal`] if the end could not be recorded for another
    /// reason than a full disk (nothing acknowledged is affected: the next
    /// open reads the message box through, as after a crash).
    pub fn close(self) -> Result<(), StoreError> {
        self.stop();
        let recorded = self.bus.wal().record_clean_end();
        let p = self.bus.progress();
        match (p.degraded, p.halted) {
            (Some(reason), true) => Err(StoreError::Halted { reason }),
            _ => Ok(recorded?),
        }
    }

    fn stop(&self) {
        self.bus.request_stop();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.stop();
    }
}

impl queries::ReadState for Store {
    fn state(&self) -> std::sync::RwLockReadGuard<'_, crate::bus::state::BusState> {
        self.bus.read_state()
    }

    fn archive_files(&self) -> Result<Vec<crate::segments::file::ImportFile>, StoreError> {
        self.bus.archive_files()
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
