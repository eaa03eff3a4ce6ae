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
#[cfg(test)]
mod stream_tests;

pub(crate) use self::core::Committer;
pub use buffered::BufferedEventStream;
pub use direct::DirectEventStream;

use crate::error::StoreError;
use crate::model::{AsValueRef, Event, EventKind, KindRef, Timestamp};
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

    /// Sets item values: pairs of an item name (`&str`, `String`, ...) and
    /// a value (any [`AsValueRef`]: `&str`, `String`, `i64`, `f64`, `bool`,
    /// [`Timestamp`], [`crate::model::Value`], ..., or a reference to one).
    ///
    /// ```
    /// use bamdb::model::Value;
    /// use bamdb::{EventStream, Store, StoreOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path(), StoreOptions::default())?;
    /// let mut stream = store.buffered_stream(0);
    /// let customer = String::from("Contoso");
    /// stream.update("Order", "O-1", [("Customer", &customer), ("Region", &"EU".to_owned())])?;
    /// stream.update("Order", "O-1", [("Amount", Value::Float(12.5)), ("Quantity", Value::Int(3))])?;
    /// stream.update("Order", "O-1", vec![(String::from("Status"), "Shipped")])?;
    /// assert_eq!(stream.pending_events(), 3);
    /// # stream.clear();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn update<I, K, V>(
        &mut self,
        activity: &str,
        id: &str,
        items: I,
    ) -> Result<Option<Receipt>, StoreError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsValueRef,
        Self: Sized,
    {
        let items = items
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_value_ref().to_value()))
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

/// The streams of this crate encode the events of the convenience methods
/// straight from their borrowed parts ([`crate::model::BatchEncoder`]'s
/// `push_ref`) instead of building an owned [`Event`] for
/// [`EventStream::push`]: the same checks, errors and bytes, without an
/// allocation per string.
pub(crate) trait PushParts {
    /// [`EventStream::push`] of the event `(activity, id, kind)` stamped
    /// [`EventStream::now`].
    fn push_parts<K: AsRef<str>, V: AsValueRef>(
        &mut self,
        activity: &str,
        id: &str,
        kind: KindRef<'_, K, V>,
    ) -> Result<Option<Receipt>, StoreError>;
}

/// A `KindRef` without items, for the kinds other than update.
type NoItems<'a> = KindRef<'a, &'a str, crate::model::ValueRef<'a>>;

/// The convenience methods of [`EventStream`] through [`PushParts`], for
/// the `impl EventStream` of a type that implements it.
macro_rules! convenience_methods_from_parts {
    () => {
        fn begin(&mut self, activity: &str, id: &str) -> Result<Option<Receipt>, StoreError> {
            self.push_parts(activity, id, crate::stream::NoItems::Begin)
        }

        fn update<I, K, V>(
            &mut self,
            activity: &str,
            id: &str,
            items: I,
        ) -> Result<Option<Receipt>, StoreError>
        where
            I: IntoIterator<Item = (K, V)>,
            K: AsRef<str>,
            V: crate::model::AsValueRef,
            Self: Sized,
        {
            // On the stack while an update sets a handful of items (filled
            // in place: collect() would return it by a copy of its array).
            let mut held: smallvec::SmallVec<[(K, V); 8]> = smallvec::SmallVec::new();
            held.extend(items);
            self.push_parts(activity, id, crate::model::KindRef::Update(&held))
        }

        fn end(&mut self, activity: &str, id: &str) -> Result<Option<Receipt>, StoreError> {
            self.push_parts(activity, id, crate::stream::NoItems::End)
        }

        fn enable_continuation(
            &mut self,
            activity: &str,
            id: &str,
            token: &str,
        ) -> Result<Option<Receipt>, StoreError> {
            self.push_parts(
                activity,
                id,
                crate::stream::NoItems::EnableContinuation { token },
            )
        }

        fn add_reference(
            &mut self,
            activity: &str,
            id: &str,
            ref_type: &str,
            ref_name: &str,
            data: &str,
            long_data: Option<&str>,
        ) -> Result<Option<Receipt>, StoreError> {
            let kind = crate::stream::NoItems::AddReference {
                ref_type,
                ref_name,
                data,
                long_data,
            };
            self.push_parts(activity, id, kind)
        }

        fn add_related_activity(
            &mut self,
            activity: &str,
            id: &str,
            related_activity: &str,
            related_id: &str,
        ) -> Result<Option<Receipt>, StoreError> {
            let kind = crate::stream::NoItems::AddRelatedActivity {
                related_activity,
                related_id,
            };
            self.push_parts(activity, id, kind)
        }
    };
}
pub(crate) use convenience_methods_from_parts;
