//! What both streams share: the batch buffer and the commit.

use std::sync::Arc;

use crate::bus::Producer;
use crate::error::StoreError;
use crate::model::{AsValueRef, BatchEncoder, Event, KindRef, Limits, ModelError, Timestamp};
use crate::wal::Lsn;

/// Where a stream commits its batches: the store's own message box (through
/// the bus, [`Producer`]) or a producer process's own box
/// (`crate::producer`).
pub(crate) trait Committer: Send + Sync {
    /// The structural limits events are checked against.
    fn limits(&self) -> &Limits;
    /// Commits one encoded batch as one frame, numbered `seq` by its
    /// producer if given; returns its LSN once it is durable.
    fn commit(&self, seq: Option<u64>, batch: &[u8]) -> Result<Lsn, StoreError>;
}

impl Committer for Producer {
    fn limits(&self) -> &Limits {
        Producer::limits(self)
    }

    fn commit(&self, seq: Option<u64>, batch: &[u8]) -> Result<Lsn, StoreError> {
        Ok(match seq {
            None => Producer::commit(self, batch)?,
            Some(seq) => self.commit_sequenced(seq, batch)?,
        })
    }
}

pub(super) struct Core {
    pub sink: Arc<dyn Committer>,
    pub encoder: BatchEncoder,
    pub time: Option<Timestamp>,
}

impl Core {
    pub fn new(sink: Arc<dyn Committer>, producer_id: u32) -> Core {
        let limits = sink.limits().clone();
        Core {
            sink,
            encoder: BatchEncoder::with_limits(producer_id, 0, limits),
            time: None,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.time.unwrap_or_else(Timestamp::now)
    }

    /// Buffers an event: `Ok(true)`, or `Ok(false)` when the batch is full
    /// and holds events (nothing buffered; the stream flushes its own way
    /// and tries again). An event too large for an empty batch is an error.
    pub fn try_push(&mut self, event: &Event) -> Result<bool, StoreError> {
        self.try_push_ref(
            event.ts,
            &event.activity,
            &event.id,
            &event.kind.as_kind_ref(),
        )
    }

    /// [`Core::try_push`] of an event given by its parts, borrowed.
    pub fn try_push_ref<K: AsRef<str>, V: AsValueRef>(
        &mut self,
        ts: Timestamp,
        activity: &str,
        id: &str,
        kind: &KindRef<'_, K, V>,
    ) -> Result<bool, StoreError> {
        match self.encoder.push_ref(ts, activity, id, kind) {
            Ok(()) => Ok(true),
            Err(ModelError::BatchFull { .. }) if !self.encoder.is_empty() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the buffer as one frame, numbered `seq` by its producer if
    /// given; the buffer is emptied either way.
    pub fn commit(&mut self, seq: Option<u64>) -> Result<Option<Lsn>, StoreError> {
        if self.encoder.is_empty() {
            return Ok(None);
        }
        let result = self.sink.commit(seq, self.encoder.as_bytes());
        let next = self.encoder.seq() + 1;
        self.encoder.reset(next);
        Ok(Some(result?))
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        if !self.encoder.is_empty() {
            tracing::warn!(
                events = self.encoder.len_events(),
                "event stream dropped with unflushed events; they were not written"
            );
        }
    }
}
