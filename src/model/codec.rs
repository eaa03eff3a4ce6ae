//! The compact, versioned binary encoding of one batch of events: one flush
//! is one batch is one WAL frame payload. The full byte layout, with the
//! reasoning, is in `docs/FORMAT-event-batch.md`; the one-line grammars
//! above each encoder/decoder pair below are its summary.
//!
//! The producer's in-memory buffer *is* this encoding ([`BatchEncoder`]):
//! `push` appends one event in place, `as_bytes` is the frame payload, and
//! nothing is copied at flush time. Activity names, ids, item names and
//! related activity names are interned in a per-batch string table that is
//! built inline: a string is written once where it is first used and later
//! referred to by its index.
//!
//! [`decode_batch`] is strict and bounds-checked: it never panics, never
//! allocates from a length or count before checking it against both the
//! remaining bytes and the [`Limits`], and validates every decoded event with
//! the same limits as [`BatchEncoder::push`].

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::mem::size_of;

use super::{DecodeError, DecodeErrorKind, Event, EventKind, Limits, ModelError, Timestamp, Value};

/// The format version written by this build, and the only one it reads.
pub const FORMAT_VERSION: u8 = 1;

// Format: { version u8 | event_count u32 LE | producer u32 LE | seq varint | event* }
const VERSION_OFFSET: usize = 0;
const EVENT_COUNT_OFFSET: usize = VERSION_OFFSET + size_of::<u8>();
const PRODUCER_OFFSET: usize = EVENT_COUNT_OFFSET + size_of::<u32>();
const SEQ_OFFSET: usize = PRODUCER_OFFSET + size_of::<u32>();

/// Tag byte bits 0..=2: the event kind.
const KIND_MASK: u8 = 0b0000_0111;
/// Tag byte bit 3: same activity and id as the previous event (omitted).
const SAME_INSTANCE: u8 = 0b0000_1000;
/// Tag byte bit 4: same timestamp as the previous event (delta omitted).
const SAME_TS: u8 = 0b0001_0000;
/// Tag byte bits 5..=7 are reserved and must be zero.
const RESERVED_MASK: u8 = !(KIND_MASK | SAME_INSTANCE | SAME_TS);

const KIND_BEGIN: u8 = 0;
const KIND_UPDATE: u8 = 1;
const KIND_END: u8 = 2;
const KIND_CONTINUE: u8 = 3;
const KIND_REFERENCE: u8 = 4;
const KIND_RELATE: u8 = 5;

const VALUE_TEXT: u8 = 0;
const VALUE_INT: u8 = 1;
const VALUE_FLOAT: u8 = 2;
const VALUE_FALSE: u8 = 3;
const VALUE_TRUE: u8 = 4;
const VALUE_TIMESTAMP: u8 = 5;

/// Longest varint: ceil(64 / 7) bytes.
const MAX_VARINT_LEN: usize = 10;
/// UTF-8 takes at most 4 bytes per character.
const MAX_UTF8_BYTES_PER_CHAR: usize = 4;

/// A decoded batch: the events of one flush of one producer.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The producer that flushed it.
    pub producer: u32,
    /// The producer's flush sequence number.
    pub seq: u64,
    /// The events, in the order they were pushed.
    pub events: Vec<Event>,
}

fn zigzag(n: i64) -> u64 {
    // Reinterpreting the bits is the point of zigzag.
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

// Format: varint = LEB128, 7 bits per byte, least significant group first,
// high bit set on every byte but the last; at most 10 bytes, canonical.
fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn put_len(buf: &mut Vec<u8>, len: usize) {
    put_varint(buf, len as u64);
}

// Format: str = { len varint | utf8 bytes }
fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_len(buf, s.len());
    buf.extend_from_slice(s.as_bytes());
}

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
    /// Interned strings in index order, and their indexes.
    table: Vec<String>,
    index: HashMap<String, u32>,
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
            table: Vec::new(),
            index: HashMap::new(),
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
    /// byte limit (flush, then push again).
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

/// Decodes and validates one batch. See the module docs for the guarantees.
pub fn decode_batch(bytes: &[u8], limits: &Limits) -> Result<Batch, DecodeError> {
    if bytes.len() > limits.max_batch_bytes {
        return Err(DecodeError::new(
            0,
            DecodeErrorKind::LimitExceeded {
                what: "batch size in bytes",
                value: bytes.len() as u64,
                limit: limits.max_batch_bytes as u64,
            },
        ));
    }
    let mut r = Reader {
        bytes,
        pos: 0,
        limits,
        table: Vec::new(),
    };
    let version = r.u8("version")?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::new(
            VERSION_OFFSET,
            DecodeErrorKind::UnsupportedVersion(version),
        ));
    }
    let count = r.u32_le("event count")?;
    let producer = r.u32_le("producer")?;
    let seq = r.varint("seq")?;
    // Every event takes at least its tag byte.
    let count = r.check_count(
        "event count",
        u64::from(count),
        limits.max_events_per_batch,
        1,
    )?;
    let mut events = Vec::with_capacity(count);
    let mut prev: Option<(usize, usize, Timestamp)> = None;
    for _ in 0..count {
        let start = r.pos;
        let event = r.event(&mut prev)?;
        event
            .validate(limits)
            .map_err(|e| DecodeError::new(start, DecodeErrorKind::InvalidEvent(e.to_string())))?;
        events.push(event);
    }
    if r.pos != bytes.len() {
        return Err(DecodeError::new(
            r.pos,
            DecodeErrorKind::TrailingBytes(bytes.len().saturating_sub(r.pos)),
        ));
    }
    Ok(Batch {
        producer,
        seq,
        events,
    })
}

/// A bounds-checked cursor over the batch bytes plus the string table.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    limits: &'a Limits,
    table: Vec<String>,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(self.pos, kind)
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.bytes.get(self.pos..end)) {
            Some(slice) => {
                self.pos += n;
                Ok(slice)
            }
            None => Err(self.err(DecodeErrorKind::Truncated {
                what,
                needed: n as u64,
                available: self.remaining(),
            })),
        }
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = self.take(1, what)?;
        Ok(b.first().copied().unwrap_or_default())
    }

    fn u32_le(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }

    fn varint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let start = self.pos;
        let mut v = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let b = self.u8(what)?;
            if i == MAX_VARINT_LEN - 1 && b > 1 {
                return Err(DecodeError::new(
                    start,
                    DecodeErrorKind::VarintOverflow(what),
                ));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(DecodeError::new(
                        start,
                        DecodeErrorKind::OverlongVarint(what),
                    ));
                }
                return Ok(v);
            }
        }
        Err(DecodeError::new(
            start,
            DecodeErrorKind::VarintOverflow(what),
        ))
    }

    /// Reads nothing; checks a count against its limit and against the
    /// bytes left (each entry needs at least `min_bytes`), before anyone
    /// allocates for it.
    fn check_count(
        &self,
        what: &'static str,
        count: u64,
        limit: usize,
        min_bytes: usize,
    ) -> Result<usize, DecodeError> {
        if count > limit as u64 {
            return Err(self.err(DecodeErrorKind::LimitExceeded {
                what,
                value: count,
                limit: limit as u64,
            }));
        }
        let needed = count.saturating_mul(min_bytes as u64);
        if needed > self.remaining() as u64 {
            return Err(self.err(DecodeErrorKind::Truncated {
                what,
                needed,
                available: self.remaining(),
            }));
        }
        usize::try_from(count).map_err(|_| {
            self.err(DecodeErrorKind::LimitExceeded {
                what,
                value: count,
                limit: limit as u64,
            })
        })
    }

    // Format: str = { len varint | utf8 bytes }
    fn str(&mut self, what: &'static str, max_bytes: usize) -> Result<String, DecodeError> {
        let start = self.pos;
        let len = self.varint(what)?;
        if len > max_bytes as u64 {
            return Err(DecodeError::new(
                start,
                DecodeErrorKind::LimitExceeded {
                    what,
                    value: len,
                    limit: max_bytes as u64,
                },
            ));
        }
        let len = self.check_count(what, len, max_bytes, 1)?;
        let body_start = self.pos;
        let bytes = self.take(len, what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(DecodeError::new(
                body_start,
                DecodeErrorKind::InvalidUtf8(what),
            )),
        }
    }

    // Format: str-ref = { index varint | [len varint | utf8] if index == table size }
    fn str_ref(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let start = self.pos;
        let index = self.varint(what)?;
        let table_len = self.table.len();
        if index == table_len as u64 {
            let max = self
                .limits
                .max_name_chars
                .saturating_mul(MAX_UTF8_BYTES_PER_CHAR);
            let s = self.str(what, max)?;
            self.table.push(s);
            Ok(table_len)
        } else if index < table_len as u64 {
            usize::try_from(index).map_err(|_| {
                DecodeError::new(
                    start,
                    DecodeErrorKind::StringIndexOutOfRange { index, table_len },
                )
            })
        } else {
            Err(DecodeError::new(
                start,
                DecodeErrorKind::StringIndexOutOfRange { index, table_len },
            ))
        }
    }

    fn table_str(&self, index: usize) -> String {
        self.table.get(index).cloned().unwrap_or_default()
    }

    // Format: event = { tag u8 | [activity str-ref | id str-ref] unless SAME_INSTANCE
    //                 | [ts_delta zigzag varint] unless SAME_TS | body }
    fn event(
        &mut self,
        prev: &mut Option<(usize, usize, Timestamp)>,
    ) -> Result<Event, DecodeError> {
        let tag_pos = self.pos;
        let tag = self.u8("event tag")?;
        if tag & RESERVED_MASK != 0 || tag & KIND_MASK > KIND_RELATE {
            return Err(DecodeError::new(tag_pos, DecodeErrorKind::UnknownTag(tag)));
        }
        let needs_prev = tag & (SAME_INSTANCE | SAME_TS) != 0;
        if needs_prev && prev.is_none() {
            return Err(DecodeError::new(tag_pos, DecodeErrorKind::NoPreviousEvent));
        }
        let prev_ts = prev.map_or(Timestamp::EPOCH, |p| p.2);
        let (a, i) = match *prev {
            Some((a, i, _)) if tag & SAME_INSTANCE != 0 => (a, i),
            _ => {
                let a = self.str_ref("activity")?;
                (a, self.str_ref("id")?)
            }
        };
        let ts = if tag & SAME_TS != 0 {
            prev_ts
        } else {
            let start = self.pos;
            let delta = unzigzag(self.varint("timestamp delta")?);
            match prev_ts.as_micros().checked_add(delta) {
                Some(t) => Timestamp::from_micros(t),
                None => return Err(DecodeError::new(start, DecodeErrorKind::TimestampOverflow)),
            }
        };
        *prev = Some((a, i, ts));
        let kind = self.body(tag & KIND_MASK)?;
        Ok(Event {
            ts,
            activity: self.table_str(a),
            id: self.table_str(i),
            kind,
        })
    }

    fn body(&mut self, kind: u8) -> Result<EventKind, DecodeError> {
        let limits = self.limits;
        let name_bytes = limits
            .max_name_chars
            .saturating_mul(MAX_UTF8_BYTES_PER_CHAR);
        let ref_name_bytes = limits
            .max_ref_name_chars
            .saturating_mul(MAX_UTF8_BYTES_PER_CHAR);
        Ok(match kind {
            KIND_BEGIN => EventKind::Begin,
            KIND_END => EventKind::End,
            // Format: update = { item_count varint | (name str-ref | value)* }
            KIND_UPDATE => {
                let n = self.varint("item count")?;
                // Each item takes at least a name index byte and a type byte.
                let n = self.check_count("item count", n, limits.max_items_per_update, 2)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = self.str_ref("item name")?;
                    let value = self.value()?;
                    items.push((self.table_str(name), value));
                }
                EventKind::Update(items)
            }
            // Format: continue = { token str }
            KIND_CONTINUE => EventKind::EnableContinuation {
                token: self.str("continuation token", name_bytes)?,
            },
            // Format: reference = { type str | name str | data str | has_long u8 | [long str] }
            KIND_REFERENCE => {
                let ref_type = self.str("reference type", ref_name_bytes)?;
                let ref_name = self.str("reference name", ref_name_bytes)?;
                let data = self.str("reference data", limits.max_ref_data_bytes)?;
                let flag_pos = self.pos;
                let long_data = match self.u8("long data flag")? {
                    0 => None,
                    1 => Some(self.str("long reference data", limits.max_long_data_bytes)?),
                    other => {
                        return Err(DecodeError::new(
                            flag_pos,
                            DecodeErrorKind::InvalidFlag(other),
                        ))
                    }
                };
                EventKind::AddReference {
                    ref_type,
                    ref_name,
                    data,
                    long_data,
                }
            }
            // Format: relate = { related_activity str-ref | related_id str }
            _ => {
                let related = self.str_ref("related activity")?;
                EventKind::AddRelatedActivity {
                    related_activity: self.table_str(related),
                    related_id: self.str("related id", name_bytes)?,
                }
            }
        })
    }

    // Format: value = { type u8 | payload }: 0 text { str } | 1 int { zigzag varint }
    //   | 2 float { f64 LE } | 3 false | 4 true | 5 timestamp { zigzag varint micros }
    fn value(&mut self) -> Result<Value, DecodeError> {
        let type_pos = self.pos;
        let ty = self.u8("value type")?;
        Ok(match ty {
            VALUE_TEXT => {
                let max = self
                    .limits
                    .max_text_chars
                    .saturating_mul(MAX_UTF8_BYTES_PER_CHAR);
                Value::Text(self.str("text value", max)?)
            }
            VALUE_INT => Value::Int(unzigzag(self.varint("int value")?)),
            VALUE_FLOAT => {
                let b = self.take(8, "float value")?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Float(f64::from_le_bytes(a))
            }
            VALUE_FALSE => Value::Bool(false),
            VALUE_TRUE => Value::Bool(true),
            VALUE_TIMESTAMP => Value::Timestamp(Timestamp::from_micros(unzigzag(
                self.varint("timestamp value")?,
            ))),
            other => {
                return Err(DecodeError::new(
                    type_pos,
                    DecodeErrorKind::UnknownValueType(other),
                ))
            }
        })
    }
}
