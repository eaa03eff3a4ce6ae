//! The asynchronous stream.

use std::sync::Arc;

use super::core::{Committer, Core};
use super::{convenience_methods_from_parts, EventStream, PushParts, Receipt};
use crate::error::StoreError;
use crate::model::{AsValueRef, Event, KindRef, Timestamp};

/// Buffers events and commits them to the message box on `flush`; returns
/// once they are durable. The bus imports them in the background. Create
/// one with [`crate::Store::buffered_stream`], or in a producer process
/// with [`crate::MessageBox::buffered_stream`].
pub struct BufferedEventStream {
    pub(super) core: Core,
    threshold: usize,
}

impl BufferedEventStream {
    pub(crate) fn new(sink: Arc<dyn Committer>, producer_id: u32, threshold: usize) -> Self {
        BufferedEventStream {
            core: Core::new(sink, producer_id),
            threshold,
        }
    }
}

impl BufferedEventStream {
    /// Buffers `event` unless the batch is full: `Ok(false)` then, with
    /// nothing buffered and nothing committed (where [`EventStream::push`]
    /// would commit the full batch first). For callers whose batch must be
    /// one commit or none, such as one HTTP request.
    ///
    /// ```
    /// # use bamdb::{EventStream, Store, StoreOptions};
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Store::open(dir.path(), StoreOptions::default())?;
    /// let mut stream = store.buffered_stream(0);
    /// let begin = bamdb::model::Event {
    ///     ts: stream.now(),
    ///     activity: "PurchaseOrder".into(),
    ///     id: "PO-1".into(),
    ///     kind: bamdb::model::EventKind::Begin,
    /// };
    /// assert!(stream.try_push(&begin)?);
    /// assert_eq!(stream.pending_events(), 1);
    /// # drop(stream);
    /// # store.close()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_push(&mut self, event: &Event) -> Result<bool, StoreError> {
        self.core.try_push(event)
    }

    /// [`EventStream::push`] of the event `try_push` buffers (see
    /// [`Core::try_push`]).
    fn push_with(
        &mut self,
        mut try_push: impl FnMut(&mut Core) -> Result<bool, StoreError>,
    ) -> Result<Option<Receipt>, StoreError> {
        let mut receipt = None;
        if !try_push(&mut self.core)? {
            receipt = self.flush()?;
            try_push(&mut self.core)?;
        }
        // After a full batch was committed one event is buffered, so with a
        // threshold of 1 the batch is never full: at most one commit here.
        if self.threshold > 0 && self.core.encoder.len_events() >= self.threshold {
            receipt = self.flush()?;
        }
        Ok(receipt)
    }
}

impl PushParts for BufferedEventStream {
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

impl EventStream for BufferedEventStream {
    fn push(&mut self, event: Event) -> Result<Option<Receipt>, StoreError> {
        self.push_with(|core| core.try_push(&event))
    }

    convenience_methods_from_parts!();

    fn flush(&mut self) -> Result<Option<Receipt>, StoreError> {
        let events = self.core.encoder.len_events();
        Ok(self.core.commit(None)?.map(|lsn| Receipt { lsn, events }))
    }

    fn flush_sequenced(&mut self, seq: u64) -> Result<Option<Receipt>, StoreError> {
        let events = self.core.encoder.len_events();
        Ok(self
            .core
            .commit(Some(seq))?
            .map(|lsn| Receipt { lsn, events }))
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
