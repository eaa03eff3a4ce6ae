//! Event streams: how applications report events. Both streams hold the
//! events of the current batch in memory, in their binary encoding, until
//! `flush` (commit) or `clear` (roll back).
//!
//! - [`BufferedEventStream`]: `flush` returns once the batch is durable in
//!   the message box; the bus imports it in the background (asynchronous).
//! - [`DirectEventStream`]: `flush` validates first, then returns once the
//!   batch is durable and visible to queries (synchronous).
//!
//! A flush that returned `Ok` is imported exactly once, even after a crash.
//! A flush that returned an error is imported either whole or not at all;
//! either way its events are dropped from the stream. Dropping a stream with
//! unflushed events writes nothing (a warning is logged).

mod buffered;
mod core;
mod direct;

pub(crate) use self::core::Committer;
pub use buffered::BufferedEventStream;
pub use direct::DirectEventStream;

use crate::error::StoreError;
use crate::model::{Event, EventKind, Timestamp, Value};
use crate::wal::Lsn;

/// What a successful flush committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The message box LSN of the batch's frame.
    pub lsn: Lsn,
    /// Events in the batch.
    pub events: usize,
}

/// The API both streams share.
pub trait EventStream {
    /// Buffers one event; structural limits are checked now (an error and
    /// nothing buffered when one is broken). When the buffer is full (or, for
    /// a buffered stream, reaches its threshold) it is committed as by
    /// [`EventStream::flush`], and the receipt of that commit is returned.
    fn push(&mut self, event: Event) -> Result<Option<Receipt>, StoreError>;
    /// Commits the buffered events as one frame. `Ok(None)` when nothing was
    /// buffered (nothing is written).
    fn flush(&mut self) -> Result<Option<Receipt>, StoreError>;
    /// [`EventStream::flush`], with `seq` as the batch's sequence number
    /// for its producer id: the store imports at most one batch per
    /// (producer id, `seq`), however often it is committed, so a flush
    /// retried after a crash or an error of unknown outcome is not counted
    /// twice. Number a producer's flushes in increasing order (gaps are
    /// allowed): a batch whose `seq` is at or below the highest imported
    /// for its producer is skipped as a duplicate
    /// ([`crate::StoreStats::duplicates`]). After a restart, go on from a
    /// number kept with your own data, or from
    /// [`crate::Store::last_sequence`]. Give each producer process its own
    /// producer id ([`crate::Store::buffered_stream_as`]). A batch that
    /// fills up while being buffered is flushed by `push` without a
    /// number: flush sequenced batches before they reach the limits.
    ///
    /// ```
    /// use bamdb::{EventStream, Store, StoreOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path(), StoreOptions::default())?;
    /// store.deploy(serde_json::from_str(r#"{"name":"Order","items":[]}"#)?)?;
    /// for _attempt in 0..3 {
    ///     // The same order, retried: imported once.
    ///     let mut stream = store.direct_stream_as(7);
    ///     stream.begin("Order", "O-1")?;
    ///     stream.end("Order", "O-1")?;
    ///     stream.flush_sequenced(1)?;
    /// }
    /// assert_eq!(store.stats().counters.instances_completed, 1);
    /// assert_eq!(store.stats().duplicates, 2);
    /// assert_eq!(store.last_sequence(7), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn flush_sequenced(&mut self, seq: u64) -> Result<Option<Receipt>, StoreError>;
    /// Drops every buffered event: they are never written.
    fn clear(&mut self);
    /// Events buffered and not yet flushed.
    fn pending_events(&self) -> usize;
    /// The timestamp the convenience methods give events: the fixed one set
    /// with [`EventStream::set_time`], or now.
    fn now(&self) -> Timestamp;
    /// Fixes the timestamp of later events (for tests and imports), or
    /// returns to the clock with `None`.
    fn set_time(&mut self, time: Option<Timestamp>);

    /// The instance begins.
    fn begin(&mut self, activity: &str, id: &str) -> Result<Option<Receipt>, StoreError> {
        self.push(event(self.now(), activity, id, EventKind::Begin))
    }

    /// Sets item values.
    fn update<I, K, V>(
        &mut self,
        activity: &str,
        id: &str,
        items: I,
    ) -> Result<Option<Receipt>, StoreError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<Value>,
        Self: Sized,
    {
        let items = items
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self.push(event(self.now(), activity, id, EventKind::Update(items)))
    }

    /// The instance (or this continuation of it) ends.
    fn end(&mut self, activity: &str, id: &str) -> Result<Option<Receipt>, StoreError> {
        self.push(event(self.now(), activity, id, EventKind::End))
    }

    /// Lets another application report into this instance under `token`.
    fn enable_continuation(
        &mut self,
        activity: &str,
        id: &str,
        token: &str,
    ) -> Result<Option<Receipt>, StoreError> {
        let kind = EventKind::EnableContinuation {
            token: token.to_owned(),
        };
        self.push(event(self.now(), activity, id, kind))
    }

    /// Attaches a reference (a document, a URL, ...).
    fn add_reference(
        &mut self,
        activity: &str,
        id: &str,
        ref_type: &str,
        ref_name: &str,
        data: &str,
        long_data: Option<&str>,
    ) -> Result<Option<Receipt>, StoreError> {
        let kind = EventKind::AddReference {
            ref_type: ref_type.to_owned(),
            ref_name: ref_name.to_owned(),
            data: data.to_owned(),
            long_data: long_data.map(str::to_owned),
        };
        self.push(event(self.now(), activity, id, kind))
    }

    /// Relates another activity instance to this one.
    fn add_related_activity(
        &mut self,
        activity: &str,
        id: &str,
        related_activity: &str,
        related_id: &str,
    ) -> Result<Option<Receipt>, StoreError> {
        let kind = EventKind::AddRelatedActivity {
            related_activity: related_activity.to_owned(),
            related_id: related_id.to_owned(),
        };
        self.push(event(self.now(), activity, id, kind))
    }
}

fn event(ts: Timestamp, activity: &str, id: &str, kind: EventKind) -> Event {
    Event {
        ts,
        activity: activity.to_owned(),
        id: id.to_owned(),
        kind,
    }
}
