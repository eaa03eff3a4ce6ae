//! The bus thread: reads committed frames in LSN order, hands each to its
//! handler, which returns an [`Outcome`], and publishes the applied LSN in
//! one place ([`Bus::finish`]). Checkpoints are taken every
//! `checkpoint_frames` frames, when the message box or the memtable grows
//! past its bound, and when the bus is idle for `checkpoint_interval`.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::quarantine::{Record, Source};
use super::{checkpoint, envelope, lock, retention, Bus};
use crate::model::{decode_batch, Timestamp};
use crate::options::{QuarantineEvent, Retention, RetentionAction};
use crate::wal::{CorruptRegion, Frame, Lsn, ReadItem};

/// What became of one frame (or damaged region) of the message box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Applied; or an operator action answered (a refused action is the
    /// operator's answer, not data to keep); or a replay recorded.
    Handled,
    /// Set aside in quarantine, with the events it held.
    Quarantined { events: u64 },
    /// A step kept failing after its retries: the bus halts here, and the
    /// frame is applied again after a reopen.
    Halt,
}

/// Starts the bus thread.
pub(crate) fn start(bus: Arc<Bus>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("bamdb-bus".into())
        .spawn(move || run(&bus))
}

fn run(bus: &Bus) {
    let mut applied = bus.read_state().applied_lsn;
    let mut reader = bus.wal.reader(applied + 1);
    let mut since_checkpoint = 0u64;
    // Payload bytes imported since the checkpoint: what the next one lets
    // the message box trim.
    let mut bytes_since_checkpoint = 0u64;
    let mut last_checkpoint = Instant::now();
    let mut halted = false;
    let mut read_failures = 0u32;
    'outer: loop {
        let interrupts = bus.wal.interrupts();
        let stopping = bus.stopping();
        let mut in_batch = 0u32;
        loop {
            let item = match reader.next() {
                None => break,
                Some(Ok(item)) => item,
                Some(Err(e)) => {
                    read_failures += 1;
                    if read_failures > bus.options.retry_limit {
                        bus.halt(format!(
                            "import halted: reading the message box kept failing: {e}; reopen the store"
                        ));
                        halted = true;
                        break 'outer;
                    }
                    bus.set_degraded(Some(format!("reading the message box failed: {e}")));
                    let exp = read_failures.min(7);
                    std::thread::sleep(bus.options.retry_backoff * (1 << exp));
                    reader = bus.wal.reader(applied + 1);
                    continue;
                }
            };
            let (lsn, outcome) = match item {
                ReadItem::Frame(frame) => {
                    bytes_since_checkpoint += frame.payload.len() as u64;
                    (frame.lsn, bus.handle_frame(&frame))
                }
                ReadItem::Corrupt(region) => (region.lsns.1, bus.handle_corrupt(&region)),
            };
            // A node that could not be read left the frame half applied:
            // halt before anything is checkpointed (see `nodes`).
            if let Some(fault) = bus.read_state().nodes.fault() {
                bus.halt(format!(
                    "import halted: an active node could not be read: {fault}; \
                     run `bamdb verify` and reopen the store"
                ));
                halted = true;
                break 'outer;
            }
            if outcome == Outcome::Halt {
                halted = true;
                break 'outer;
            }
            bus.finish(lsn, outcome);
            if read_failures > 0 {
                read_failures = 0;
                bus.set_degraded(None);
            }
            applied = lsn;
            since_checkpoint += 1;
            in_batch += 1;
            if in_batch % 256 == 0 {
                bus.publish_applied(applied);
            }
            // The byte bound counts what was imported since the checkpoint,
            // not the message box's size: with a backlog not yet imported
            // (a bus catching up after an outage) the box stays over any
            // size, and a checkpoint every few frames (each building an
            // import file) made the catch-up crawl. The memtable bound is
            // looked at every 16 frames since the checkpoint, not every 16
            // of one wake-up: a producer that commits one frame at a time
            // wakes the bus once per frame.
            let due = since_checkpoint >= bus.options.checkpoint_frames.max(1)
                || bytes_since_checkpoint >= bus.options.checkpoint_wal_bytes
                || (since_checkpoint % 16 == 0
                    && bus.read_state().memtable.len() >= bus.options.checkpoint_completed)
                || bus
                    .read_state()
                    .nodes
                    .over_budget(bus.options.active_cache_bytes);
            if due {
                bus.publish_applied(applied);
                if !checkpoint::run_with_retry(bus) {
                    halted = true;
                    break 'outer;
                }
                since_checkpoint = 0;
                bytes_since_checkpoint = 0;
                last_checkpoint = Instant::now();
            }
        }
        bus.publish_applied(applied);
        if stopping {
            break;
        }
        if since_checkpoint > 0 && last_checkpoint.elapsed() >= bus.options.checkpoint_interval {
            if !checkpoint::run_with_retry(bus) {
                halted = true;
                break;
            }
            since_checkpoint = 0;
            bytes_since_checkpoint = 0;
            last_checkpoint = Instant::now();
        }
        let wait = if since_checkpoint > 0 {
            bus.options
                .checkpoint_interval
                .saturating_sub(last_checkpoint.elapsed())
                .max(Duration::from_millis(1))
        } else {
            Duration::from_secs(3600)
        };
        bus.wal.wait_for_commit_since(applied, interrupts, wait);
    }
    if !halted && since_checkpoint > 0 {
        checkpoint::run_with_retry(bus);
    }
    bus.publish_stopped();
}

fn source_of(frame: &Frame) -> Source {
    Source {
        lsns: (frame.lsn, frame.lsn),
        segment: frame.location.segment.display().to_string(),
        offset: frame.location.offset,
    }
}

impl Bus {
    /// Records that the frame (or region) ending at `lsn` is done with: the
    /// state's applied LSN, which the next checkpoint makes durable, and
    /// the quarantine counters. Waiters see it at the next
    /// [`Bus::publish_applied`].
    fn finish(&self, lsn: Lsn, outcome: Outcome) {
        let mut st = self.write_state();
        st.applied_lsn = lsn;
        if let Outcome::Quarantined { events } = outcome {
            st.counters.frames_quarantined += 1;
            st.counters.events_quarantined += events;
        }
    }

    /// Applies one frame, or quarantines it.
    fn handle_frame(&self, frame: &Frame) -> Outcome {
        let rejected: Result<(), (Vec<String>, u64)> = match envelope::parse(&frame.payload) {
            envelope::Payload::Batch(bytes) => match decode_batch(bytes, &self.options.limits) {
                Err(e) => Err((vec![format!("the frame does not decode: {e}")], 0)),
                Ok(batch) => {
                    let events = batch.events.len() as u64;
                    self.write_state()
                        .apply_batch(batch)
                        .map_err(|r| (r, events))
                }
            },
            envelope::Payload::Sequenced { seq, batch } => {
                match decode_batch(batch, &self.options.limits) {
                    Err(e) => Err((vec![format!("the frame does not decode: {e}")], 0)),
                    Ok(batch) => {
                        let events = batch.events.len() as u64;
                        self.write_state()
                            .apply_sequenced(seq, batch)
                            .map(|_| ())
                            .map_err(|r| (r, events))
                    }
                }
            }
            envelope::Payload::Boxed { box_id, lsn, inner } => self
                .write_state()
                .apply_boxed(box_id, lsn, inner, &self.options.limits)
                .map(|_| ())
                .map_err(|(mut reasons, events)| {
                    reasons.push(format!(
                        "copied from the message box with id {box_id:016x}, where its LSN is {lsn}"
                    ));
                    (reasons, events)
                }),
            envelope::Payload::Deploy(json) => envelope::parse_definitions(json)
                .and_then(|defs| self.write_state().deploy_all(defs))
                .map_err(|r| (vec![r], 0)),
            envelope::Payload::Replay { entry, batch } => {
                return self.handle_replay(frame, entry, batch);
            }
            envelope::Payload::Admin(bytes) => return self.handle_admin(frame, bytes),
            envelope::Payload::Unknown(kind) => {
                Err((vec![format!("unknown frame payload kind {kind:?}")], 0))
            }
        };
        match rejected {
            Ok(()) => Outcome::Handled,
            Err((reasons, events)) => {
                if self.set_aside(source_of(frame), reasons, events, frame.payload.clone()) {
                    Outcome::Quarantined { events }
                } else {
                    Outcome::Halt
                }
            }
        }
    }

    /// An operator's action: a refused one is remembered for the caller
    /// waiting on it, not quarantined.
    fn handle_admin(&self, frame: &Frame, bytes: &[u8]) -> Outcome {
        let result = postcard::from_bytes::<envelope::AdminOp>(bytes)
            .map_err(|e| format!("the operator action does not decode: {e}"))
            .and_then(|op| match op {
                envelope::AdminOp::Retain { window_secs, drop } => {
                    // The checkpoint retention takes first covers this
                    // frame, so an acknowledged request is not replayed
                    // after a crash.
                    self.finish(frame.lsn, Outcome::Handled);
                    self.retain_now(window_secs, drop)
                }
                other => self.write_state().apply_operator(other),
            });
        if let Err(reason) = result {
            self.remember_rejection(frame.lsn, vec![reason]);
        }
        Outcome::Handled
    }

    /// An operator's retention request: completed instances wait in memory
    /// for a checkpoint to file them, so take one first, then apply the
    /// policy. Retention changes only which files are online, not what any
    /// frame means, so applying it again after a crash is harmless.
    fn retain_now(&self, window_secs: u64, drop: bool) -> Result<(), String> {
        let policy = Retention {
            online_window: Duration::from_secs(window_secs),
            action: if drop {
                RetentionAction::Drop
            } else {
                RetentionAction::Archive
            },
        };
        if !checkpoint::run_with_retry(self) {
            return Err("the checkpoint before retention failed; see the degraded reason".into());
        }
        self.retry("retention", || retention::apply_with(self, policy))
            .map(|_| ())
            .ok_or_else(|| "retention kept failing; see the degraded reason".to_string())
    }

    /// A quarantined batch sent again: applied by the same rules as any
    /// frame (once, however often it is replayed), and the outcome
    /// recorded in the quarantine log.
    fn handle_replay(&self, frame: &Frame, entry: u64, bytes: &[u8]) -> Outcome {
        let outcome = {
            let mut st = self.write_state();
            if st.resolved.contains(&entry) {
                return Outcome::Handled; // replayed twice: imported once
            }
            match decode_batch(bytes, &self.options.limits) {
                Err(e) => Err(vec![format!("the batch does not decode: {e}")]),
                Ok(batch) => st.apply_replay(entry, batch).map(|_| ()),
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
                self.remember_rejection(frame.lsn, reasons.clone());
                Record::ReplayFailed {
                    entry,
                    lsn: frame.lsn,
                    time,
                    reasons,
                }
            }
        };
        if lock(&self.quarantined_sources).contains(&frame.lsn) {
            return Outcome::Handled; // recorded before the crash that replays it
        }
        match self.retry("quarantine append", || {
            self.quarantine.append(&record).map_err(|e| e.to_string())
        }) {
            Some(_) => Outcome::Handled,
            None => Outcome::Halt,
        }
    }

    /// A damaged region of the message box goes to quarantine whole.
    fn handle_corrupt(&self, region: &CorruptRegion) -> Outcome {
        let source = Source {
            lsns: region.lsns,
            segment: region.location.segment.display().to_string(),
            offset: region.location.offset,
        };
        let reasons = vec![format!(
            "damaged message box region ({}), LSNs {} to {}",
            region.reason, region.lsns.0, region.lsns.1
        )];
        if self.set_aside(source, reasons, 0, region.raw.clone()) {
            Outcome::Quarantined { events: 0 }
        } else {
            Outcome::Halt
        }
    }

    /// Writes a quarantine entry (once) and raises the event; false if the
    /// bus must halt.
    fn set_aside(
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
