//! Applying message box frames to a state in memory only: how a read-only
//! view of a store (`StoreReader::open_fresh`) catches up with what its
//! writer committed beyond the last checkpoint.
//!
//! The writer's bus (`worker`) applies the same payloads by the same state
//! methods, and also writes: it sets aside what fails in quarantine,
//! records replays, takes checkpoints and applies retention. A view writes
//! nothing: a frame the bus would quarantine changes nothing here either
//! (the view's quarantine counters are those of the checkpoint), and a
//! retention request waits for the writer's checkpoint after it.

use super::envelope::{self, AdminOp, Payload};
use super::state::BusState;
use crate::model::{decode_batch, Batch, Limits};
use crate::wal::Lsn;

impl BusState {
    /// Applies the frame at `lsn` with `payload` as the bus would, without
    /// writing anything; what the bus would refuse is skipped.
    pub fn apply_in_memory(&mut self, lsn: Lsn, payload: &[u8], limits: &Limits) {
        // A refusal changes nothing here (see the module docs), so the
        // results are deliberately dropped.
        match envelope::parse(payload) {
            Payload::Batch(bytes) => {
                if let Ok(batch) = decode_batch(bytes, limits) {
                    let _ = self.apply_batch(batch);
                }
            }
            Payload::Sequenced { seq, batch } => {
                if let Ok(batch) = decode_batch(batch, limits) {
                    let _ = self.apply_sequenced(seq, batch);
                }
            }
            Payload::Replay { entry, batch } => {
                if let Ok(batch) = decode_batch(batch, limits) {
                    let _ = self.apply_replay(entry, batch);
                }
            }
            Payload::Deploy(json) => {
                if let Ok(defs) = envelope::parse_definitions(json) {
                    let _ = self.deploy_all(defs);
                }
            }
            Payload::Admin(bytes) => {
                if let Ok(op) = postcard::from_bytes::<AdminOp>(bytes) {
                    let _ = self.apply_operator(op);
                }
            }
            Payload::Boxed { box_id, lsn, inner } => {
                let _ = self.apply_boxed(box_id, lsn, inner, limits);
            }
            Payload::Unknown(_) => {}
        }
        self.applied_lsn = lsn;
    }
}

/// Sequenced and replayed batches and operators' actions, by the same
/// rules in the bus and in a view.
impl BusState {
    /// Applies an operator's action on the state. Retention changes which
    /// files are online, not the state: the bus applies it itself (a
    /// checkpoint, then the policy), and a view waits for the writer's
    /// checkpoint after it, so here it changes nothing.
    pub fn apply_operator(&mut self, op: AdminOp) -> Result<(), String> {
        match op {
            AdminOp::Complete { activity, id, time } => self.force_complete(&(activity, id), time),
            AdminOp::Remove { activity, id } => self.remove(&(activity, id)),
            AdminOp::Declare(spec) => self.declare(spec),
            AdminOp::Undeclare { name } => self.undeclare(&name),
            AdminOp::Retain { .. } => Ok(()),
        }
    }

    /// Applies `producer`'s batch numbered `seq`, unless it is a duplicate
    /// (`Ok(false)`). The number counts as imported whatever the outcome:
    /// a batch refused here comes back by a replay of its quarantine entry,
    /// not by a resend.
    pub fn apply_sequenced(&mut self, seq: u64, batch: Batch) -> Result<bool, Vec<String>> {
        let producer = batch.producer;
        if self.sequences.is_duplicate(producer, seq) {
            return Ok(false);
        }
        self.sequences.record(producer, seq);
        self.apply_batch(batch).map(|()| true)
    }

    /// Applies the frame at `lsn` of the producer's message box `box_id`
    /// (its payload there `inner`), unless it was copied before
    /// (`Ok(false)`). The (box, LSN) counts as imported whatever the
    /// outcome, as a sequenced batch's number does. A refusal gives the
    /// reasons and the batch's event count.
    pub fn apply_boxed(
        &mut self,
        box_id: u64,
        lsn: Lsn,
        inner: &[u8],
        limits: &Limits,
    ) -> Result<bool, (Vec<String>, u64)> {
        if self.sequences.is_copied(box_id, lsn) {
            return Ok(false);
        }
        self.sequences.record_copied(box_id, lsn);
        let (seq, bytes) = envelope::parse_box_payload(inner).map_err(|r| (vec![r], 0))?;
        let batch = decode_batch(bytes, limits)
            .map_err(|e| (vec![format!("the frame does not decode: {e}")], 0))?;
        let events = batch.events.len() as u64;
        match seq {
            None => self.apply_batch(batch).map(|()| true),
            Some(seq) => self.apply_sequenced(seq, batch),
        }
        .map_err(|reasons| (reasons, events))
    }

    /// Applies a replayed quarantine entry's batch, unless the entry was
    /// imported before (`Ok(false)`).
    pub fn apply_replay(&mut self, entry: u64, batch: Batch) -> Result<bool, Vec<String>> {
        if self.resolved.contains(&entry) {
            return Ok(false);
        }
        self.apply_batch(batch)?;
        self.resolved.insert(entry);
        self.counters.frames_replayed += 1;
        Ok(true)
    }
}
