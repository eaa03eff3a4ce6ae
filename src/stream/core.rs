//! What both streams share: the batch buffer and the commit.

use std::sync::Arc;

use crate::model::{BatchEncoder, Event, ModelError, Timestamp};
use crate::store::{Inner, StoreError};
use crate::wal::Lsn;

pub(super) struct Core {
    pub store: Arc<Inner>,
    pub encoder: BatchEncoder,
    pub time: Option<Timestamp>,
}

impl Core {
    pub fn new(store: Arc<Inner>, producer: u32) -> Core {
        let limits = store.bus.options.limits.clone();
        Core {
            store,
            encoder: BatchEncoder::with_limits(producer, 0, limits),
            time: None,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.time.unwrap_or_else(Timestamp::now)
    }

    /// Buffers an event. A full batch is committed first (as one frame) and
    /// the event starts the next; the returned LSN is that commit's.
    pub fn push(&mut self, event: &Event) -> Result<Option<Lsn>, StoreError> {
        match self.encoder.push(event) {
            Ok(()) => Ok(None),
            Err(ModelError::BatchFull { .. }) if !self.encoder.is_empty() => {
                let lsn = self.commit()?;
                self.encoder.push(event)?;
                Ok(lsn)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the buffer as one frame; the buffer is emptied either way.
    pub fn commit(&mut self) -> Result<Option<Lsn>, StoreError> {
        if self.encoder.is_empty() {
            return Ok(None);
        }
        self.store.bus.throttle();
        let result = self.store.bus.wal.append(self.encoder.as_bytes());
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
