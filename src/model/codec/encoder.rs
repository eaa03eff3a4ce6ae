//! [`BatchEncoder`]: the producer's buffer, which is the encoded batch.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hash::{BuildHasher, Hasher};

use hashbrown::HashTable;

use super::*;
use crate::model::{
    check_item_count, check_item_name, check_value, item_twice, AsValueRef, Event, KindRef, Limits,
    ModelError, Timestamp, ValueRef,
};

/// Incremental encoder of one batch; its buffer is the encoded batch.
///
/// ```
/// use bamdb::model::{decode_batch, BatchEncoder, Event, EventKind, Limits, Timestamp};
///
/// let mut enc = BatchEncoder::new(7, 1);
/// let ts = Timestamp::now();
/// for kind in [EventKind::Begin, EventKind::End] {
///     enc.push(&Event { ts, activity: "PurchaseOrder".into(), id: "PO-1".into(), kind })?;
/// }
/// let batch = decode_batch(enc.as_bytes(), &Limits::default())?;
/// assert_eq!((batch.producer, batch.seq, batch.events.len()), (7, 1, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchEncoder {
    buf: Vec<u8>,
    limits: Limits,
    producer: u32,
    seq: u64,
    events: u32,
    /// Sum of [`Event::interned_bytes`] over the events pushed.
    interned_bytes: usize,
    /// Interned strings in index order, each as (offset, length) in `buf`:
    /// a string is kept once, where the batch first writes it.
    table: Vec<(usize, usize)>,
    /// The indexes into `table`, found by their string's hash.
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    /// Per interned string (as `table`), the number of the last update
    /// that set an item of that name: an item named twice in one update is
    /// found by its index, without comparing names.
    set_by: Vec<u64>,
    /// Updates encoded (or tried) since creation: never repeats.
    updates: u64,
    /// (activity index, id index, timestamp) of the last event pushed.
    prev: Option<(u32, u32, Timestamp)>,
}

impl BatchEncoder {
    /// An empty batch for `producer`'s flush number `seq`, with default limits.
    pub fn new(producer: u32, seq: u64) -> Self {
        Self::with_limits(producer, seq, Limits::default())
    }

    /// An empty batch with the given limits (use the same limits to decode).
    pub fn with_limits(producer: u32, seq: u64, limits: Limits) -> Self {
        let mut enc = BatchEncoder {
            buf: Vec::with_capacity(256),
            limits,
            producer,
            seq,
            events: 0,
            interned_bytes: 0,
            table: Vec::new(),
            index: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            set_by: Vec::new(),
            updates: 0,
            prev: None,
        };
        enc.write_header();
        enc
    }

    fn write_header(&mut self) {
        self.buf.clear();
        self.buf.push(FORMAT_VERSION);
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        self.buf.extend_from_slice(&self.producer.to_le_bytes());
        debug_assert_eq!(self.buf.len(), SEQ_OFFSET);
        put_varint(&mut self.buf, self.seq);
    }

    /// The producer id written in the header.
    pub fn producer(&self) -> u32 {
        self.producer
    }

    /// The sequence number written in the header.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The limits `push` enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Number of events pushed since creation or the last clear.
    pub fn len_events(&self) -> usize {
        self.events as usize
    }

    /// Whether no event has been pushed.
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Size of the encoded batch in bytes (header included).
    pub fn encoded_len(&self) -> usize {
        self.buf.len()
    }

    /// The encoded batch, ready to be the payload of a WAL frame.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// A copy of the encoded batch.
    pub fn finish(&self) -> Vec<u8> {
        self.buf.clone()
    }

    /// Drops every event (roll back); producer and seq stay.
    pub fn clear(&mut self) {
        self.events = 0;
        self.interned_bytes = 0;
        self.table.clear();
        self.set_by.clear();
        self.index.clear();
        self.prev = None;
        self.write_header();
    }

    /// Clears and starts the next batch under sequence number `seq`.
    pub fn reset(&mut self, seq: u64) {
        self.seq = seq;
        self.clear();
    }

    /// Validates `event` against the limits and appends it. On error nothing
    /// is appended: [`ModelError::InvalidInput`] for a bad event,
    /// [`ModelError::BatchFull`] when the batch reached its event count or
    /// byte limits (flush, then push again).
    pub fn push(&mut self, event: &Event) -> Result<(), ModelError> {
        self.push_ref(
            event.ts,
            &event.activity,
            &event.id,
            &event.kind.as_kind_ref(),
        )
    }

    /// [`BatchEncoder::push`] of an event given by its parts, borrowed: the
    /// same checks, errors and bytes.
    pub(crate) fn push_ref<K: AsRef<str>, V: AsValueRef>(
        &mut self,
        ts: Timestamp,
        activity: &str,
        id: &str,
        kind: &KindRef<'_, K, V>,
    ) -> Result<(), ModelError> {
        Event::validate_head(ts, activity, id, &self.limits)?;
        match kind {
            // An update's items are checked as they are encoded, in the
            // order KindRef::validate checks them, so the errors are the
            // same and nothing stays appended.
            KindRef::Update(items) => check_item_count(items.len(), &self.limits)?,
            _ => kind.validate(&self.limits)?,
        }
        let (buf_len, table_len, prev) = (self.buf.len(), self.table.len(), self.prev);
        if let Err(e) = self.encode_event(ts, activity, id, kind) {
            self.roll_back(buf_len, table_len, prev);
            return Err(e);
        }
        let count = self.events;
        let full = if count as usize >= self.limits.max_events_per_batch || count == u32::MAX {
            Some(format!(
                "the batch holds {count} events, the limit is {}",
                self.limits.max_events_per_batch
            ))
        } else {
            None
        };
        let event_interned = activity.len() + id.len() + kind.interned_bytes();
        let interned = self.interned_bytes.saturating_add(event_interned);
        let full = full.or_else(|| {
            (interned > self.limits.max_interned_bytes).then(|| {
                format!(
                    "the batch would hold {interned} bytes of names, the limit is {}",
                    self.limits.max_interned_bytes
                )
            })
        });
        let full = full.or_else(|| {
            (self.buf.len() > self.limits.max_batch_bytes).then(|| {
                format!(
                    "the batch would be {} bytes, the limit is {}",
                    self.buf.len(),
                    self.limits.max_batch_bytes
                )
            })
        });
        if let Some(reason) = full {
            self.roll_back(buf_len, table_len, prev);
            return Err(ModelError::BatchFull { reason });
        }
        self.events = count + 1;
        self.interned_bytes = interned;
        if let Some(dst) = self.buf.get_mut(EVENT_COUNT_OFFSET..PRODUCER_OFFSET) {
            dst.copy_from_slice(&self.events.to_le_bytes());
        }
        Ok(())
    }

    /// Drops what was appended after `buf_len` bytes and `table_len`
    /// interned strings, and restores the previous event's `prev`.
    #[cold]
    fn roll_back(&mut self, buf_len: usize, table_len: usize, prev: Option<(u32, u32, Timestamp)>) {
        let (buf, table, hasher) = (&self.buf, &self.table, &self.hasher);
        for (i, &entry) in table.iter().enumerate().skip(table_len) {
            let hash = hash_bytes(hasher, interned(buf, entry));
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            if let Ok(found) = self.index.find_entry(hash, |&j| j == i) {
                found.remove();
            }
        }
        self.table.truncate(table_len);
        self.set_by.truncate(table_len);
        self.buf.truncate(buf_len);
        self.prev = prev;
    }

    /// The bytes of interned string `i`.
    #[inline]
    fn interned(&self, i: u32) -> &[u8] {
        self.table
            .get(i as usize)
            .map_or(&[], |&entry| interned(&self.buf, entry))
    }

    // Format: str-ref = { index varint | [len varint | utf8] if index == table size }
    fn put_ref(&mut self, s: &str) -> u32 {
        let hash = hash_bytes(&self.hasher, s.as_bytes());
        let (buf, table) = (&self.buf, &self.table);
        let found = self.index.find(hash, |&i| {
            table
                .get(i as usize)
                .is_some_and(|&entry| same_bytes(interned(buf, entry), s.as_bytes()))
        });
        if let Some(&i) = found {
            put_varint(&mut self.buf, u64::from(i));
            return i;
        }
        // The table cannot outgrow u32: every entry costs bytes and the
        // batch is bounded far below 4 GiB by max_batch_bytes in practice.
        let i = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        put_varint(&mut self.buf, u64::from(i));
        put_len(&mut self.buf, s.len());
        self.table.push((self.buf.len(), s.len()));
        self.set_by.push(0);
        self.buf.extend_from_slice(s.as_bytes());
        let (buf, table, hasher) = (&self.buf, &self.table, &self.hasher);
        self.index.insert_unique(hash, i, |&j| {
            hash_bytes(
                hasher,
                table.get(j as usize).map_or(&[][..], |&e| interned(buf, e)),
            )
        });
        i
    }

    // Format: event = { tag u8 | [activity str-ref | id str-ref] unless SAME_INSTANCE
    //                 | [ts_delta zigzag varint] unless SAME_TS | body }
    fn encode_event<K: AsRef<str>, V: AsValueRef>(
        &mut self,
        ts: Timestamp,
        activity: &str,
        id: &str,
        kind: &KindRef<'_, K, V>,
    ) -> Result<(), ModelError> {
        let mut tag = kind_code(kind);
        let prev_ts = self.prev.map_or(Timestamp::EPOCH, |p| p.2);
        // The previous event's strings are in the table: compare them
        // instead of looking these up.
        let (same_activity, same_instance) = match self.prev {
            Some((a, i, _)) if same_bytes(self.interned(a), activity.as_bytes()) => {
                (true, same_bytes(self.interned(i), id.as_bytes()))
            }
            _ => (false, false),
        };
        if same_instance {
            tag |= SAME_INSTANCE;
        }
        let same_ts = self.prev.is_some() && ts == prev_ts;
        if same_ts {
            tag |= SAME_TS;
        }
        self.buf.push(tag);
        let (a, i) = match self.prev {
            Some((a, i, _)) if same_instance => (a, i),
            // Another instance of the same activity (the usual case): the
            // reference put_ref would find.
            Some((a, _, _)) if same_activity => {
                put_varint(&mut self.buf, u64::from(a));
                (a, self.put_ref(id))
            }
            _ => {
                let a = self.put_ref(activity);
                (a, self.put_ref(id))
            }
        };
        if !same_ts {
            let delta = ts.as_micros().wrapping_sub(prev_ts.as_micros());
            put_varint(&mut self.buf, zigzag(delta));
        }
        self.prev = Some((a, i, ts));
        self.encode_body(kind)
    }

    /// Appends the body of `kind`; an error (an update's item, checked
    /// here) leaves the rest unwritten for the caller to roll back.
    fn encode_body<K: AsRef<str>, V: AsValueRef>(
        &mut self,
        kind: &KindRef<'_, K, V>,
    ) -> Result<(), ModelError> {
        match kind {
            KindRef::Begin | KindRef::End => {}
            // Format: update = { item_count varint | (name str-ref | value)* }
            KindRef::Update(items) => {
                put_len(&mut self.buf, items.len());
                self.updates += 1;
                for (name, value) in items.iter() {
                    let name = name.as_ref();
                    check_item_name(name, &self.limits)?;
                    let i = self.put_ref(name);
                    if let Some(set_by) = self.set_by.get_mut(i as usize) {
                        if *set_by == self.updates {
                            return Err(item_twice(name));
                        }
                        *set_by = self.updates;
                    }
                    let value = value.as_value_ref();
                    check_value(name, value, &self.limits)?;
                    put_value(&mut self.buf, value);
                }
            }
            // Format: continue = { token str }
            KindRef::EnableContinuation { token } => put_str(&mut self.buf, token),
            // Format: reference = { type str | name str | data str | has_long u8 | [long str] }
            KindRef::AddReference {
                ref_type,
                ref_name,
                data,
                long_data,
            } => {
                put_str(&mut self.buf, ref_type);
                put_str(&mut self.buf, ref_name);
                put_str(&mut self.buf, data);
                match long_data {
                    None => self.buf.push(0),
                    Some(long) => {
                        self.buf.push(1);
                        put_str(&mut self.buf, long);
                    }
                }
            }
            // Format: relate = { related_activity str-ref | related_id str }
            KindRef::AddRelatedActivity {
                related_activity,
                related_id,
            } => {
                self.put_ref(related_activity);
                put_str(&mut self.buf, related_id);
            }
        }
        Ok(())
    }
}

/// The hash of an interned string: its bytes alone (no length prefix; the
/// table compares whole strings).
#[inline]
fn hash_bytes(hasher: &foldhash::fast::RandomState, bytes: &[u8]) -> u64 {
    let mut h = hasher.build_hasher();
    h.write(bytes);
    h.finish()
}

/// `a == b`, for the short strings of names and ids without a call to
/// `memcmp`: two overlapping word loads up to 16 bytes.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    #[inline(always)]
    fn word8(s: &[u8], at: usize) -> u64 {
        s.get(at..at + 8)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    }
    #[inline(always)]
    fn word4(s: &[u8], at: usize) -> u32 {
        s.get(at..at + 4)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u32::from_le_bytes)
    }
    let len = a.len();
    if len != b.len() {
        return false;
    }
    match len {
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, len - 4) == word4(b, len - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, len - 8) == word8(b, len - 8),
        _ => a == b,
    }
}

/// The bytes of the interned string at (offset, length) `entry` of `buf`.
#[inline]
fn interned(buf: &[u8], (at, len): (usize, usize)) -> &[u8] {
    buf.get(at..at + len).unwrap_or(&[])
}

fn kind_code<K, V>(kind: &KindRef<'_, K, V>) -> u8 {
    match kind {
        KindRef::Begin => KIND_BEGIN,
        KindRef::Update(_) => KIND_UPDATE,
        KindRef::End => KIND_END,
        KindRef::EnableContinuation { .. } => KIND_CONTINUE,
        KindRef::AddReference { .. } => KIND_REFERENCE,
        KindRef::AddRelatedActivity { .. } => KIND_RELATE,
    }
}

// Format: value = { type u8 | payload }: 0 text { str } | 1 int { zigzag varint }
//   | 2 float { f64 LE } | 3 false | 4 true | 5 timestamp { zigzag varint micros }
#[inline(always)]
fn put_value(buf: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        ValueRef::Text(s) => {
            buf.push(VALUE_TEXT);
            put_str(buf, s);
        }
        ValueRef::Int(n) => {
            buf.push(VALUE_INT);
            put_varint(buf, zigzag(n));
        }
        ValueRef::Float(f) => {
            buf.push(VALUE_FLOAT);
            buf.extend_from_slice(&f.to_le_bytes());
        }
        ValueRef::Bool(false) => buf.push(VALUE_FALSE),
        ValueRef::Bool(true) => buf.push(VALUE_TRUE),
        ValueRef::Timestamp(t) => {
            buf.push(VALUE_TIMESTAMP);
            put_varint(buf, zigzag(t.as_micros()));
        }
    }
}

/// Encodes `events` as one batch (validating each), a convenience over
/// [`BatchEncoder`].
pub fn encode_batch(
    producer: u32,
    seq: u64,
    events: &[Event],
    limits: &Limits,
) -> Result<Vec<u8>, ModelError> {
    let mut enc = BatchEncoder::with_limits(producer, seq, limits.clone());
    for event in events {
        enc.push(event)?;
    }
    Ok(enc.finish())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::same_bytes;

    proptest! {
        #[test]
        fn same_bytes_is_equality(
            a in prop::collection::vec(0u8..4, 0..40),
            b in prop::collection::vec(0u8..4, 0..40),
        ) {
            prop_assert_eq!(same_bytes(&a, &b), a == b);
            prop_assert!(same_bytes(&a, &a.clone()));
            // Same length, one byte apart, at every position.
            for at in 0..a.len() {
                let mut c = a.clone();
                if let Some(x) = c.get_mut(at) {
                    *x ^= 0x80;
                }
                prop_assert!(!same_bytes(&a, &c));
            }
        }
    }
}
