//! [`BatchEncoder`]: the producer's buffer, which is the encoded batch.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::fast_hash::FastMap;
use crate::model::{Event, EventKind, Limits, ModelError, Timestamp, Value};

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
    /// Interned strings in index order, and their indexes.
    table: Vec<String>,
    index: FastMap<String, u32>,
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
            index: FastMap::default(),
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
        event.validate(&self.limits)?;
        let count = self.events;
        if count as usize >= self.limits.max_events_per_batch || count == u32::MAX {
            return Err(ModelError::BatchFull {
                reason: format!(
                    "the batch holds {count} events, the limit is {}",
                    self.limits.max_events_per_batch
                ),
            });
        }
        let interned = self.interned_bytes.saturating_add(event.interned_bytes());
        if interned > self.limits.max_interned_bytes {
            return Err(ModelError::BatchFull {
                reason: format!(
                    "the batch would hold {interned} bytes of names, the limit is {}",
                    self.limits.max_interned_bytes
                ),
            });
        }
        let (buf_len, table_len, prev) = (self.buf.len(), self.table.len(), self.prev);
        self.encode_event(event);
        if self.buf.len() > self.limits.max_batch_bytes {
            let size = self.buf.len();
            self.buf.truncate(buf_len);
            for s in self.table.drain(table_len..) {
                self.index.remove(&s);
            }
            self.prev = prev;
            return Err(ModelError::BatchFull {
                reason: format!(
                    "the batch would be {size} bytes, the limit is {}",
                    self.limits.max_batch_bytes
                ),
            });
        }
        self.events = count + 1;
        self.interned_bytes = interned;
        if let Some(dst) = self.buf.get_mut(EVENT_COUNT_OFFSET..PRODUCER_OFFSET) {
            dst.copy_from_slice(&self.events.to_le_bytes());
        }
        Ok(())
    }

    // Format: str-ref = { index varint | [len varint | utf8] if index == table size }
    fn put_ref(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            put_varint(&mut self.buf, u64::from(i));
            return i;
        }
        // The table cannot outgrow u32: every entry costs bytes and the
        // batch is bounded far below 4 GiB by max_batch_bytes in practice.
        let i = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        put_varint(&mut self.buf, u64::from(i));
        put_str(&mut self.buf, s);
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }

    // Format: event = { tag u8 | [activity str-ref | id str-ref] unless SAME_INSTANCE
    //                 | [ts_delta zigzag varint] unless SAME_TS | body }
    fn encode_event(&mut self, event: &Event) {
        let mut tag = kind_code(&event.kind);
        let prev_ts = self.prev.map_or(Timestamp::EPOCH, |p| p.2);
        let same_instance = self.prev.is_some_and(|(a, i, _)| {
            self.index.get(event.activity.as_str()) == Some(&a)
                && self.index.get(event.id.as_str()) == Some(&i)
        });
        if same_instance {
            tag |= SAME_INSTANCE;
        }
        let same_ts = self.prev.is_some() && event.ts == prev_ts;
        if same_ts {
            tag |= SAME_TS;
        }
        self.buf.push(tag);
        let (a, i) = match self.prev {
            Some((a, i, _)) if same_instance => (a, i),
            _ => {
                let a = self.put_ref(&event.activity);
                (a, self.put_ref(&event.id))
            }
        };
        if !same_ts {
            let delta = event.ts.as_micros().wrapping_sub(prev_ts.as_micros());
            put_varint(&mut self.buf, zigzag(delta));
        }
        self.prev = Some((a, i, event.ts));
        self.encode_body(&event.kind);
    }

    fn encode_body(&mut self, kind: &EventKind) {
        match kind {
            EventKind::Begin | EventKind::End => {}
            // Format: update = { item_count varint | (name str-ref | value)* }
            EventKind::Update(items) => {
                put_len(&mut self.buf, items.len());
                for (name, value) in items {
                    self.put_ref(name);
                    put_value(&mut self.buf, value);
                }
            }
            // Format: continue = { token str }
            EventKind::EnableContinuation { token } => put_str(&mut self.buf, token),
            // Format: reference = { type str | name str | data str | has_long u8 | [long str] }
            EventKind::AddReference {
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
            EventKind::AddRelatedActivity {
                related_activity,
                related_id,
            } => {
                self.put_ref(related_activity);
                put_str(&mut self.buf, related_id);
            }
        }
    }
}

fn kind_code(kind: &EventKind) -> u8 {
    match kind {
        EventKind::Begin => KIND_BEGIN,
        EventKind::Update(_) => KIND_UPDATE,
        EventKind::End => KIND_END,
        EventKind::EnableContinuation { .. } => KIND_CONTINUE,
        EventKind::AddReference { .. } => KIND_REFERENCE,
        EventKind::AddRelatedActivity { .. } => KIND_RELATE,
    }
}

// Format: value = { type u8 | payload }: 0 text { str } | 1 int { zigzag varint }
//   | 2 float { f64 LE } | 3 false | 4 true | 5 timestamp { zigzag varint micros }
fn put_value(buf: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Text(s) => {
            buf.push(VALUE_TEXT);
            put_str(buf, s);
        }
        Value::Int(n) => {
            buf.push(VALUE_INT);
            put_varint(buf, zigzag(*n));
        }
        Value::Float(f) => {
            buf.push(VALUE_FLOAT);
            buf.extend_from_slice(&f.to_le_bytes());
        }
        Value::Bool(false) => buf.push(VALUE_FALSE),
        Value::Bool(true) => buf.push(VALUE_TRUE),
        Value::Timestamp(t) => {
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
