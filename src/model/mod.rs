//! The activity model: definitions, events and their values, the binary
//! batch encoding that goes into the message box, the JSON lines form, and
//! the merged activity instances that queries return. Pure data and logic,
//! no file I/O.
//!
//! - [`Timestamp`]: UTC microseconds, RFC 3339 text form.
//! - [`Value`]: an item value; [`coerce`] fits it to an [`ItemType`];
//!   [`ValueRef`] and [`AsValueRef`]: the same, borrowed.
//! - [`ActivityDefinition`]: a deployed activity type; [`check_upgrade`].
//! - [`Event`], [`EventKind`], [`Limits`]: what producers report.
//! - [`ActivityInstance`] (with [`Status`], [`Reference`],
//!   [`Relationship`]): an instance as queries return it; [`StatusFilter`].
//! - [`BatchEncoder`], [`decode_batch`]: one flush = one batch = one frame.
//! - [`parse_line`], [`event_to_json`]: the JSON lines interface.

mod codec;
mod coerce;
mod counters;
mod definition;
mod event;
mod instance;
mod json;
mod source;
mod timestamp;
mod value;

#[cfg(test)]
pub(crate) mod arb;
#[cfg(test)]
mod codec_tests;
#[cfg(test)]
mod definition_tests;
#[cfg(test)]
mod event_tests;
#[cfg(test)]
mod json_tests;
#[cfg(test)]
mod push_ref_tests;

pub use codec::{decode_batch, encode_batch, Batch, BatchEncoder, FORMAT_VERSION};
pub use coerce::{coerce, CoerceError};
pub use counters::Counters;
pub use definition::{
    check_upgrade, ActivityDefinition, ItemDefinition, ItemType, MAX_ITEMS, MAX_NAME_LEN,
    MAX_TEXT_LEN, SYSTEM_FIELDS,
};
pub(crate) use event::{check_item_count, check_item_name, check_value, item_twice, KindRef};
pub use event::{Event, EventKind, Limits};
pub use instance::{
    ActivityInstance, InstancePart, PartItem, Reference, Relationship, Status, StatusFilter,
};
pub use json::{event_to_json, parse_line, parse_line_with, JsonEvent, JsonLine};
pub use source::Source;
pub use timestamp::{Timestamp, TimestampError};
pub use value::{AsValueRef, Value, ValueRef};

/// Errors of the event model. Each carries a message meant for the person
/// who sent the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// An event or JSON line is malformed or breaks a [`Limits`] limit.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong, naming the field and the limit.
        reason: String,
    },
    /// An activity definition breaks a rule of [`ActivityDefinition::validate`].
    #[error("invalid activity definition: {reason}")]
    InvalidDefinition {
        /// What is wrong, naming the item.
        reason: String,
    },
    /// A new definition cannot replace the deployed one ([`check_upgrade`]).
    #[error("incompatible activity definition: {reason}")]
    IncompatibleDefinition {
        /// What changed, naming the item.
        reason: String,
    },
    /// The batch reached its event count or byte limit: flush, then push again.
    #[error("batch full: {reason}")]
    BatchFull {
        /// Which limit was reached.
        reason: String,
    },
    /// An encoded batch could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// An encoded batch is invalid: what is wrong and at which byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event batch at byte {offset}: {kind}")]
pub struct DecodeError {
    /// Byte offset in the batch where the offending piece starts.
    pub offset: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    /// An error at `offset`.
    pub fn new(offset: usize, kind: DecodeErrorKind) -> Self {
        DecodeError { offset, kind }
    }
}

/// What is wrong with an encoded batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The version byte names a format this build cannot read.
    #[error("unsupported format version {0}, this build reads version {FORMAT_VERSION}")]
    UnsupportedVersion(u8),
    /// The batch ends inside a field.
    #[error("{what} needs {needed} bytes, only {available} are left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes it needs.
        needed: u64,
        /// Bytes left in the batch.
        available: usize,
    },
    /// A varint has redundant trailing zero groups.
    #[error("{0} is an overlong (non-canonical) varint")]
    OverlongVarint(&'static str),
    /// A varint does not fit 64 bits.
    #[error("{0} is a varint that overflows 64 bits")]
    VarintOverflow(&'static str),
    /// A string is not UTF-8.
    #[error("{0} is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// An event tag byte with an unknown kind or reserved bits set.
    #[error("unknown event tag {0:#04x}")]
    UnknownTag(u8),
    /// A value type byte this version does not know.
    #[error("unknown value type {0}")]
    UnknownValueType(u8),
    /// The long-data presence flag is neither 0 nor 1.
    #[error("long data flag is {0}, expected 0 or 1")]
    InvalidFlag(u8),
    /// A string reference beyond the string table (or the next new entry).
    #[error("string index {index} is out of range, the table holds {table_len}")]
    StringIndexOutOfRange {
        /// The index read.
        index: u64,
        /// Entries in the table at that point.
        table_len: usize,
    },
    /// The first event claims the same instance or timestamp as a previous one.
    #[error("the first event refers to a previous event")]
    NoPreviousEvent,
    /// A timestamp delta leaves the `i64` range.
    #[error("timestamp delta overflows")]
    TimestampOverflow,
    /// A count or length above its [`Limits`] limit.
    #[error("{what} is {value}, the limit is {limit}")]
    LimitExceeded {
        /// The count or length.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// A decoded event fails [`Event::validate`].
    #[error("{0}")]
    InvalidEvent(String),
    /// Bytes after the last event.
    #[error("{0} trailing bytes after the last event")]
    TrailingBytes(usize),
}
