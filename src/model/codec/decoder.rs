//! [`decode_batch`]: strict, bounds-checked decoding of one batch.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::model::{DecodeError, DecodeErrorKind, Event, EventKind, Limits, Timestamp, Value};

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
    let mut interned = 0usize;
    for _ in 0..count {
        let start = r.pos;
        let event = r.event(&mut prev)?;
        event
            .validate(limits)
            .map_err(|e| DecodeError::new(start, DecodeErrorKind::InvalidEvent(e.to_string())))?;
        interned = interned.saturating_add(event.interned_bytes());
        if interned > limits.max_interned_bytes {
            return Err(DecodeError::new(
                start,
                DecodeErrorKind::LimitExceeded {
                    what: "interned string bytes",
                    value: interned as u64,
                    limit: limits.max_interned_bytes as u64,
                },
            ));
        }
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
