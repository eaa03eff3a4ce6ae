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
//! remaining bytes and the [`Limits`](crate::model::Limits), and validates every decoded event with
//! the same limits as [`BatchEncoder::push`].
//!
//! Files: this one holds the layout constants and primitives shared by
//! [`encoder`] (the [`BatchEncoder`]) and [`decoder`] ([`decode_batch`]).

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::mem::size_of;

use super::Event;

mod decoder;
mod encoder;

pub use decoder::decode_batch;
pub use encoder::{encode_batch, BatchEncoder};

/// The format version written by this build, and the only one it reads.
pub const FORMAT_VERSION: u8 = 1;

// Format: { version u8 | event_count u32 LE | producer u32 LE | seq varint | event* }
pub(super) const VERSION_OFFSET: usize = 0;
pub(super) const EVENT_COUNT_OFFSET: usize = VERSION_OFFSET + size_of::<u8>();
pub(super) const PRODUCER_OFFSET: usize = EVENT_COUNT_OFFSET + size_of::<u32>();
pub(super) const SEQ_OFFSET: usize = PRODUCER_OFFSET + size_of::<u32>();

/// Tag byte bits 0..=2: the event kind.
pub(super) const KIND_MASK: u8 = 0b0000_0111;
/// Tag byte bit 3: same activity and id as the previous event (omitted).
pub(super) const SAME_INSTANCE: u8 = 0b0000_1000;
/// Tag byte bit 4: same timestamp as the previous event (delta omitted).
pub(super) const SAME_TS: u8 = 0b0001_0000;
/// Tag byte bits 5..=7 are reserved and must be zero.
pub(super) const RESERVED_MASK: u8 = !(KIND_MASK | SAME_INSTANCE | SAME_TS);

pub(super) const KIND_BEGIN: u8 = 0;
pub(super) const KIND_UPDATE: u8 = 1;
pub(super) const KIND_END: u8 = 2;
pub(super) const KIND_CONTINUE: u8 = 3;
pub(super) const KIND_REFERENCE: u8 = 4;
pub(super) const KIND_RELATE: u8 = 5;

pub(super) const VALUE_TEXT: u8 = 0;
pub(super) const VALUE_INT: u8 = 1;
pub(super) const VALUE_FLOAT: u8 = 2;
pub(super) const VALUE_FALSE: u8 = 3;
pub(super) const VALUE_TRUE: u8 = 4;
pub(super) const VALUE_TIMESTAMP: u8 = 5;

/// Longest varint: ceil(64 / 7) bytes.
pub(super) const MAX_VARINT_LEN: usize = 10;
/// UTF-8 takes at most 4 bytes per character.
pub(super) const MAX_UTF8_BYTES_PER_CHAR: usize = 4;

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
#[inline]
pub(super) fn zigzag(n: i64) -> u64 {
    // Reinterpreting the bits is the point of zigzag.
    ((n << 1) ^ (n >> 63)) as u64
}

pub(super) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

// Format: varint = LEB128, 7 bits per byte, least significant group first,
// high bit set on every byte but the last; at most 10 bytes, canonical.
#[inline]
pub(super) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

#[inline]
pub(super) fn put_len(buf: &mut Vec<u8>, len: usize) {
    put_varint(buf, len as u64);
}

// Format: str = { len varint | utf8 bytes }
#[inline]
pub(super) fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_len(buf, s.len());
    buf.extend_from_slice(s.as_bytes());
}
