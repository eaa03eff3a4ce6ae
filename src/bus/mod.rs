//! The event bus: a background thread that reads committed frames from the
//! message box in LSN order, validates and applies them to the primary
//! import, sets bad ones aside in quarantine, and checkpoints.
//!
//! Exactly once: the bus's state (checkpoint + import files) is made durable
//! together with the LSN it reflects (the manifest); after a restart the
//! bus resumes from that LSN, and quarantine records written after the
//! checkpoint are recognised so they are not written twice.

pub(crate) mod aggregations;
mod amend;
mod checkpoint;
mod envelope;
pub(crate) mod pending;
pub mod quarantine;
pub(crate) mod retention;
pub(crate) mod state;
mod tree;

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::model::{decode_batch, Timestamp};
use crate::segments::manifest::Manifest;
use crate::storage::Storage;
use crate::store::{QuarantineEvent, StoreOptions};
use crate::wal::{CorruptRegion, Frame, Lsn, ReadItem, Wal};
use quarantine::{Quarantine, Record, Source};
use state::BusState;

pub(crate) use envelope::{
    admin as admin_payload, deploy as deploy_payload, replay as replay_payload, AdminOp,
};

/// How many recent quarantined LSNs are remembered for direct streams.
const RECENT_REJECTIONS: usize = 4096;

/// Where the bus is.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Every frame up to here is applied (visible to queries).
    pub applied: Lsn,
    /// Every frame up to here is in a durable checkpoint.
    pub checkpointed: Lsn,
    /// Why import is retrying or halted, if it is.
    pub degraded: Option<String>,
    /// The bus thread has stopped (closed, or halted after retries).
    pub stopped: bool,
    /// The import stopped after its retries (`degraded` says why).
    pub halted: bool,
    /// Failed import steps that were retried, since open.
    pub retries: u64,
}

/// State shared by the bus thread, the store handle and the streams.
pub(crate) struct Shared {
    pub storage: Arc<dyn Storage>,
    pub segments_dir: PathBuf,
    pub wal: Wal,
    pub quarantine: Quarantine,
    pub state: RwLock<BusState>,
    pub progress: Mutex<Progress>,
    pub progress_cv: Condvar,
    pub shutdown: AtomicBool,
    pub options: StoreOptions,
    pub manifest: Mutex<Manifest>,
    /// Message box LSNs already in quarantine (written after the last
    /// checkpoint), so a replay after a crash does not add them twice.
    quarantined_sources: Mutex<HashSet<Lsn>>,
    /// Recently quarantined LSNs and why, for direct streams.
    recent_rejections: Mutex<VecDeque<(Lsn, Vec<String>)>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn read_state(&self) -> std::sync::RwLockReadGuard<'_, BusState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_state(&self) -> std::sync::RwLockWriteGuard<'_, BusState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `lsn` is applied, the timeout passes, or the bus stops.
    /// Returns whether it was applied.
    pub fn wait_applied(&self, lsn: Lsn, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut p = lock(&self.progress);
        while p.applied < lsn && !p.stopped {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            p = self
                .progress_cv
                .wait_timeout(p, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        p.applied >= lsn
    }

    /// Backpressure for producers: waits while too many committed frames
    /// are not imported yet (or until the bus stops).
    pub fn throttle(&self) {
        let limit = self.options.max_import_lag;
        if limit == 0 {
            return;
        }
        let mut p = lock(&self.progress);
        while self.wal.committed_lsn().saturating_sub(p.applied) > limit && !p.stopped {
            p = self
                .progress_cv
                .wait_timeout(p, Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
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

    /// Why the frame at `lsn` was quarantined, if it recently was.
    pub fn rejection(&self, lsn: Lsn) -> Option<Vec<String>> {
        lock(&self.recent_rejections)
            .iter()
            .find(|(l, _)| *l == lsn)
            .map(|(_, r)| r.clone())
    }

    fn set_degraded(&self, reason: Option<String>) {
        let mut p = lock(&self.progress);
        if p.degraded != reason {
            if let Some(r) = &reason {
                tracing::warn!(reason = %r, "import degraded");
            }
            p.degraded = reason;
        }
    }

    fn publish_applied(&self, lsn: Lsn) {
        lock(&self.progress).applied = lsn;
        self.progress_cv.notify_all();
    }

    /// Runs `step` until it succeeds, with backoff; gives up after the
    /// retry limit, leaving the store degraded and the bus halted.
    fn retry<T>(&self, what: &str, mut step: impl FnMut() -> Result<T, String>) -> Option<T> {
        let mut wait = self.options.retry_backoff;
        for attempt in 0..=self.options.retry_limit {
            match step() {
                Ok(v) => {
                    if attempt > 0 {
                        self.set_degraded(None);
                    }
                    return Some(v);
                }
                Err(e) => {
                    lock(&self.progress).retries += 1;
                    self.set_degraded(Some(format!(
                        "{what} failed (attempt {}): {e}",
                        attempt + 1
                    )));
                    if self.shutdown.load(Ordering::Acquire) {
                        return None;
                    }
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
            }
        }
        self.halt(format!(
            "import halted: {what} kept failing after {} retries; the data is safe in the message box, reopen the store",
            self.options.retry_limit
        ));
        None
    }

    /// Records that the import stops for good (until the store is
    /// reopened), and why.
    fn halt(&self, reason: String) {
        self.set_degraded(Some(reason));
        lock(&self.progress).halted = true;
    }

    /// Writes a quarantine entry (once) and raises the event.
    fn quarantine(
        &self,
        source: Source,
        reasons: Vec<String>,
        events: u64,
        payload: Vec<u8>,
    ) -> bool {
        let lsn = source.lsns.0;
        self.remember_rejection(lsn, reasons.clone());
        if lock(&self.quarantined_sources).contains(&lsn) {
            return true; // written before the crash that made us replay it
        }
        let record = Record::Entry {
            source: source.clone(),
            reasons: reasons.clone(),
            time: Timestamp::now().as_micros(),
            events,
            payload,
        };
        let Some(id) = self.retry("quarantine append", || {
            self.quarantine.append(&record).map_err(|e| e.to_string())
        }) else {
            return false;
        };
        tracing::warn!(id, lsn, reasons = ?reasons, "frame quarantined");
        if let Some(listener) = &self.options.on_quarantine {
            listener(&QuarantineEvent {
                id,
                source,
                reasons,
            });
        }
        true
    }
}

/// Starts the bus thread.
pub(crate) fn start(shared: Arc<Shared>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("bamdb-bus".into())
        .spawn(move || run(&shared))
}

fn run(shared: &Shared) {
    let mut applied = shared.read_state().applied_lsn;
    let mut reader = shared.wal.reader(applied + 1);
    let mut since_checkpoint = 0u64;
    let mut last_checkpoint = Instant::now();
    let mut halted = false;
    let mut read_failures = 0u32;
    'outer: loop {
        let interrupts = shared.wal.interrupts();
        let stopping = shared.shutdown.load(Ordering::Acquire);
        let mut in_batch = 0u32;
        loop {
            let item = match reader.next() {
                None => break,
                Some(Ok(item)) => item,
                Some(Err(e)) => {
                    read_failures += 1;
                    if read_failures > shared.options.retry_limit {
                        shared.halt(format!(
                            "import halted: reading the message box kept failing: {e}; reopen the store"
                        ));
                        halted = true;
                        break 'outer;
                    }
                    shared.set_degraded(Some(format!("reading the message box failed: {e}")));
                    let exp = read_failures.min(7);
                    std::thread::sleep(shared.options.retry_backoff * (1 << exp));
                    reader = shared.wal.reader(applied + 1);
                    continue;
                }
            };
            let lsn = match item {
                ReadItem::Frame(frame) => {
                    if !process_frame(shared, &frame) {
                        halted = true;
                        break 'outer;
                    }
                    frame.lsn
                }
                ReadItem::Corrupt(region) => {
                    if !process_corrupt(shared, &region) {
                        halted = true;
                        break 'outer;
                    }
                    region.lsns.1
                }
            };
            if read_failures > 0 {
                read_failures = 0;
                shared.set_degraded(None);
            }
            applied = lsn;
            since_checkpoint += 1;
            in_batch += 1;
            if in_batch % 256 == 0 {
                shared.publish_applied(applied);
            }
            let due = since_checkpoint >= shared.options.checkpoint_frames.max(1)
                || (in_batch % 16 == 0
                    && (shared.wal.stats().bytes >= shared.options.checkpoint_wal_bytes
                        || shared.read_state().memtable.len()
                            >= shared.options.checkpoint_completed));
            if due {
                shared.publish_applied(applied);
                if !checkpoint::run_with_retry(shared) {
                    halted = true;
                    break 'outer;
                }
                since_checkpoint = 0;
                last_checkpoint = Instant::now();
            }
        }
        shared.publish_applied(applied);
        if stopping {
            break;
        }
        if since_checkpoint > 0 && last_checkpoint.elapsed() >= shared.options.checkpoint_interval {
            if !checkpoint::run_with_retry(shared) {
                halted = true;
                break;
            }
            since_checkpoint = 0;
            last_checkpoint = Instant::now();
        }
        let wait = if since_checkpoint > 0 {
            shared
                .options
                .checkpoint_interval
                .saturating_sub(last_checkpoint.elapsed())
                .max(Duration::from_millis(1))
        } else {
            Duration::from_secs(3600)
        };
        shared.wal.wait_for_commit_since(applied, interrupts, wait);
    }
    if !halted && since_checkpoint > 0 {
        checkpoint::run_with_retry(shared);
    }
    let mut p = lock(&shared.progress);
    p.stopped = true;
    drop(p);
    shared.progress_cv.notify_all();
}

fn source_of(frame: &Frame) -> Source {
    Source {
        lsns: (frame.lsn, frame.lsn),
        segment: frame.location.segment.display().to_string(),
        offset: frame.location.offset,
    }
}

/// Applies one frame or quarantines it; false if the bus must halt.
fn process_frame(shared: &Shared, frame: &Frame) -> bool {
    let limits = &shared.options.limits;
    let rejected: Option<(Vec<String>, u64)> = match envelope::parse(&frame.payload) {
        envelope::Payload::Batch(bytes) => match decode_batch(bytes, limits) {
            Err(e) => Some((vec![format!("the frame does not decode: {e}")], 0)),
            Ok(batch) => {
                let events = batch.events.len() as u64;
                let mut st = shared.write_state();
                let result = st.apply_batch(batch);
                st.applied_lsn = frame.lsn;
                drop(st);
                result.err().map(|r| (r, events))
            }
        },
        envelope::Payload::Deploy(json) => {
            let result = envelope::parse_definitions(json)
                .and_then(|defs| shared.write_state().deploy_all(defs));
            shared.write_state().applied_lsn = frame.lsn;
            result.err().map(|r| (vec![r], 0))
        }
        envelope::Payload::Replay { entry, batch } => {
            return process_replay(shared, frame, entry, batch);
        }
        envelope::Payload::Admin(bytes) => {
            let result = postcard::from_bytes::<envelope::AdminOp>(bytes)
                .map_err(|e| format!("the operator action does not decode: {e}"))
                .and_then(|op| {
                    if let envelope::AdminOp::Retain { window_secs, drop } = op {
                        shared.write_state().applied_lsn = frame.lsn;
                        return retain_now(shared, window_secs, drop);
                    }
                    let mut st = shared.write_state();
                    match op {
                        envelope::AdminOp::Complete { activity, id, time } => {
                            st.force_complete(&(activity, id), time)
                        }
                        envelope::AdminOp::Remove { activity, id } => st.remove(&(activity, id)),
                        envelope::AdminOp::Declare(spec) => st.declare(spec),
                        envelope::AdminOp::Undeclare { name } => st.undeclare(&name),
                        envelope::AdminOp::Retain { .. } => Ok(()),
                    }
                });
            shared.write_state().applied_lsn = frame.lsn;
            // A refused action is the operator's answer, not data to keep.
            if let Err(reason) = result {
                shared.remember_rejection(frame.lsn, vec![reason]);
            }
            return true;
        }
        envelope::Payload::Unknown(kind) => {
            Some((vec![format!("unknown frame payload kind {kind:?}")], 0))
        }
    };
    match rejected {
        None => true,
        Some((reasons, events)) => {
            let ok = shared.quarantine(source_of(frame), reasons, events, frame.payload.clone());
            let mut st = shared.write_state();
            st.applied_lsn = frame.lsn;
            st.counters.frames_quarantined += 1;
            st.counters.events_quarantined += events;
            ok
        }
    }
}

/// An operator's retention request: completed instances wait in memory for
/// a checkpoint to file them, so take one first, then apply the policy.
/// Retention changes only which files are online, not what any frame
/// means, so applying it again after a crash is harmless.
fn retain_now(shared: &Shared, window_secs: u64, drop: bool) -> Result<(), String> {
    let policy = crate::store::Retention {
        online_window: Duration::from_secs(window_secs),
        action: if drop {
            crate::store::RetentionAction::Drop
        } else {
            crate::store::RetentionAction::Archive
        },
    };
    if !checkpoint::run_with_retry(shared) {
        return Err("the checkpoint before retention failed; see the degraded reason".into());
    }
    shared
        .retry("retention", || retention::apply_with(shared, policy))
        .map(|_| ())
        .ok_or_else(|| "retention kept failing; see the degraded reason".to_string())
}

fn process_replay(shared: &Shared, frame: &Frame, entry: u64, bytes: &[u8]) -> bool {
    let outcome = {
        let mut st = shared.write_state();
        st.applied_lsn = frame.lsn;
        if st.resolved.contains(&entry) {
            return true; // replayed twice: imported once
        }
        match decode_batch(bytes, &shared.options.limits) {
            Err(e) => Err(vec![format!("the batch does not decode: {e}")]),
            Ok(batch) => {
                let r = st.apply_batch(batch);
                if r.is_ok() {
                    st.resolved.insert(entry);
                    st.counters.frames_replayed += 1;
                }
                r
            }
        }
    };
    let time = Timestamp::now().as_micros();
    let record = match outcome {
        Ok(()) => Record::Resolved {
            entry,
            lsn: frame.lsn,
            time,
        },
        Err(reasons) => {
            shared.remember_rejection(frame.lsn, reasons.clone());
            Record::ReplayFailed {
                entry,
                lsn: frame.lsn,
                time,
                reasons,
            }
        }
    };
    if lock(&shared.quarantined_sources).contains(&frame.lsn) {
        return true;
    }
    shared
        .retry("quarantine append", || {
            shared.quarantine.append(&record).map_err(|e| e.to_string())
        })
        .is_some()
}

fn process_corrupt(shared: &Shared, region: &CorruptRegion) -> bool {
    let source = Source {
        lsns: region.lsns,
        segment: region.location.segment.display().to_string(),
        offset: region.location.offset,
    };
    let reasons = vec![format!(
        "damaged message box region ({}), LSNs {} to {}",
        region.reason, region.lsns.0, region.lsns.1
    )];
    let ok = shared.quarantine(source, reasons, 0, region.raw.clone());
    let mut st = shared.write_state();
    st.applied_lsn = region.lsns.1;
    st.counters.frames_quarantined += 1;
    ok
}

pub(crate) use checkpoint::{open_state, read_checkpoint};
pub(crate) use tree::check_parts;

impl Shared {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        segments_dir: PathBuf,
        wal: Wal,
        quarantine: Quarantine,
        opened: checkpoint::Opened,
        options: StoreOptions,
    ) -> Shared {
        let checkpoint::Opened {
            state,
            manifest,
            quarantined: quarantined_sources,
        } = opened;
        let applied = state.applied_lsn;
        Shared {
            storage,
            segments_dir,
            wal,
            quarantine,
            state: RwLock::new(state),
            progress: Mutex::new(Progress {
                applied,
                checkpointed: applied,
                degraded: None,
                stopped: false,
                halted: false,
                retries: 0,
            }),
            progress_cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            options,
            manifest: Mutex::new(manifest),
            quarantined_sources: Mutex::new(quarantined_sources),
            recent_rejections: Mutex::new(VecDeque::new()),
        }
    }
}

/// The event batch inside a quarantined payload, if it holds one.
pub(crate) fn replayable_batch(payload: &[u8]) -> Option<&[u8]> {
    match envelope::parse(payload) {
        envelope::Payload::Batch(b) => Some(b),
        envelope::Payload::Replay { batch, .. } => Some(batch),
        _ => None,
    }
}
