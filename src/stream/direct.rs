//! The synchronous stream.

use super::core::Core;
use super::{convenience_methods_from_parts, EventStream, PushParts, Receipt};
use crate::bus::Producer;
use crate::error::StoreError;
use crate::model::{decode_batch, AsValueRef, Event, KindRef, Timestamp};

/// Same API as [`super::BufferedEventStream`]; `flush` validates the batch
/// against the deployed definitions first (an error and nothing written if
/// it fails) and returns only once the events are durable and visible to
/// queries. Create one with [`crate::Store::direct_stream`].
pub struct DirectEventStream {
    pub(super) core: Core,
    producer: Producer,
}

impl DirectEventStream {
    pub(crate) fn new(producer: Producer, producer_id: u32) -> Self {
        DirectEventStream {
            core: Core::new(std::sync::Arc::new(producer.clone()), producer_id),
            producer,
        }
    }
}

impl DirectEventStream {
    /// `flush`, or `flush_sequenced` with `seq`.
    fn flush_as(&mut self, seq: Option<u64>) -> Result<Option<Receipt>, StoreError> {
        let events = self.core.encoder.len_events();
        if events == 0 {
            return Ok(None);
        }
        let checked = {
            let batch = decode_batch(self.core.encoder.as_bytes(), self.core.encoder.limits())?;
            self.producer.check(batch)
        };
        if let Err(reasons) = checked {
            self.core.encoder.clear();
            return Err(StoreError::Rejected { reasons });
        }
        let Some(lsn) = self.core.commit(seq)? else {
            return Ok(None);
        };
        // The check above depends only on the batch and the definitions, so
        // the bus refuses it only if it cannot read a completed instance
        // the batch amends (damage, I/O).
        self.producer.wait_imported(lsn)?;
        Ok(Some(Receipt { lsn, events }))
    }
}

impl DirectEventStream {
    /// [`EventStream::push`] of the event `try_push` buffers (see
    /// [`Core::try_push`]).
    fn push_with(
        &mut self,
        mut try_push: impl FnMut(&mut Core) -> Result<bool, StoreError>,
    ) -> Result<Option<Receipt>, StoreError> {
        if try_push(&mut self.core)? {
            return Ok(None);
        }
        // A full batch is flushed (validated, committed, applied) first; if
        // it is rejected, this event is not buffered either.
        let receipt = self.flush()?;
        try_push(&mut self.core)?;
        Ok(receipt)
    }
}

impl PushParts for DirectEventStream {
    fn push_parts<K: AsRef<str>, V: AsValueRef>(
        &mut self,
        activity: &str,
        id: &str,
        kind: KindRef<'_, K, V>,
    ) -> Result<Option<Receipt>, StoreError> {
        let ts = self.core.now();
        self.push_with(|core| core.try_push_ref(ts, activity, id, &kind))
    }
}

impl EventStream for DirectEventStream {
    fn push(&mut self, event: Event) -> Result<Option<Receipt>, StoreError> {
        self.push_with(|core| core.try_push(&event))
    }

    convenience_methods_from_parts!();

    fn flush(&mut self) -> Result<Option<Receipt>, StoreError> {
        self.flush_as(None)
    }

    fn flush_sequenced(&mut self, seq: u64) -> Result<Option<Receipt>, StoreError> {
        self.flush_as(Some(seq))
    }

    fn clear(&mut self) {
        self.core.encoder.clear();
    }

    fn pending_events(&self) -> usize {
        self.core.encoder.len_events()
    }

    fn now(&self) -> Timestamp {
        self.core.now()
    }

    fn set_time(&mut self, time: Option<Timestamp>) {
        self.core.time = time;
    }
}
