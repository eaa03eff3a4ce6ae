//! [`Cell`]: one typed value of an aggregation result, its JSON form, its
//! text form for tables, and the total order group keys are sorted by.

use std::cmp::Ordering;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::model::Timestamp;

use super::condition::cmp_int_float;
use super::field::ValueRef;

/// One typed value in an [`super::AggregateResult`].
///
/// JSON form: text and timestamps (RFC 3339) as strings, numbers as
/// numbers, `Duration` as a number of **microseconds**, `Null` as `null`.
/// A [`Cell::ZonedTimestamp`] prints its local time with its offset
/// (`2026-03-01T00:00:00.000000+01:00`), a `Timestamp` in UTC (`...Z`).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A text value.
    Text(String),
    /// An integer (also counts and sums of int items).
    Int(i64),
    /// A float (averages, sums involving float items).
    Float(f64),
    /// A bool value (group keys of bool items).
    Bool(bool),
    /// A point in time (timestamp keys, time buckets, min/max of timestamps).
    Timestamp(Timestamp),
    /// A time bucket's start in a zone other than UTC: the instant, and
    /// the zone's offset from UTC there, which it prints with. Compares
    /// with timestamps by instant.
    ZonedTimestamp {
        /// The instant.
        at: Timestamp,
        /// The zone's offset from UTC at `at`, in seconds (east positive).
        offset_seconds: i32,
    },
    /// A span of time in microseconds (duration measures); may be negative
    /// when the second milestone precedes the first.
    Duration(i64),
    /// No value: an unset group-by field, or a measure with no input.
    Null,
}

impl Cell {
    pub(crate) fn from_value(v: Option<ValueRef<'_>>) -> Cell {
        match v {
            None => Cell::Null,
            Some(ValueRef::Text(s)) => Cell::Text(s.to_owned()),
            Some(ValueRef::Int(i)) => Cell::Int(i),
            Some(ValueRef::Float(f)) => Cell::Float(f),
            Some(ValueRef::Bool(b)) => Cell::Bool(b),
            Some(ValueRef::Timestamp(t)) => Cell::Timestamp(t),
        }
    }

    /// A group key cell: as [`Cell::from_value`], with `-0.0` made `0.0`,
    /// since filters (`= 0`) do not tell them apart either.
    pub(crate) fn key(v: Option<ValueRef<'_>>) -> Cell {
        match v {
            // A float pattern compares with `==`: it matches -0.0 too.
            Some(ValueRef::Float(0.0)) => Cell::Float(0.0),
            v => Cell::from_value(v),
        }
    }

    /// A timestamp's instant and offset, for ordering.
    fn instant(&self) -> (Option<Timestamp>, i32) {
        match self {
            Cell::Timestamp(t) => (Some(*t), 0),
            Cell::ZonedTimestamp { at, offset_seconds } => (Some(*at), *offset_seconds),
            _ => (None, 0),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Cell::Bool(_) => 0,
            Cell::Int(_) | Cell::Float(_) => 1,
            Cell::Text(_) => 2,
            Cell::Timestamp(_) | Cell::ZonedTimestamp { .. } => 3,
            Cell::Duration(_) => 4,
            Cell::Null => 5,
        }
    }

    /// A total order: by kind (bool, number, text, timestamp, duration,
    /// null last), then by value; ints and floats compare numerically
    /// (an int before an equal float), floats by `f64::total_cmp`.
    pub fn total_cmp(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Bool(a), Cell::Bool(b)) => a.cmp(b),
            (Cell::Int(a), Cell::Int(b)) => a.cmp(b),
            (Cell::Float(a), Cell::Float(b)) => a.total_cmp(b),
            (Cell::Int(a), Cell::Float(b)) => cmp_int_float(*a, *b)
                .unwrap_or(Ordering::Less)
                .then(Ordering::Less),
            (Cell::Float(a), Cell::Int(b)) => cmp_int_float(*b, *a)
                .unwrap_or(Ordering::Less)
                .then(Ordering::Less)
                .reverse(),
            (Cell::Text(a), Cell::Text(b)) => a.cmp(b),
            (
                Cell::Timestamp(_) | Cell::ZonedTimestamp { .. },
                Cell::Timestamp(_) | Cell::ZonedTimestamp { .. },
            ) => self.instant().cmp(&other.instant()),
            (Cell::Duration(a), Cell::Duration(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Text(v) => s.serialize_str(v),
            Cell::Int(v) => s.serialize_i64(*v),
            Cell::Float(v) => s.serialize_f64(*v),
            Cell::Bool(v) => s.serialize_bool(*v),
            Cell::Timestamp(v) => v.serialize(s),
            Cell::ZonedTimestamp { .. } => s.collect_str(self),
            Cell::Duration(v) => s.serialize_i64(*v),
            Cell::Null => s.serialize_unit(),
        }
    }
}

impl fmt::Display for Cell {
    /// The form shown in tables: text as is, timestamps in RFC 3339,
    /// durations as `[-][<days>d ]HH:MM:SS[.ffffff]`, null as `(empty)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Text(v) => f.write_str(v),
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Float(v) => write!(f, "{v}"),
            Cell::Bool(v) => write!(f, "{v}"),
            Cell::Timestamp(v) => write!(f, "{v}"),
            Cell::ZonedTimestamp { at, offset_seconds } => write_local(f, *at, *offset_seconds),
            Cell::Duration(v) => write_duration(f, *v),
            Cell::Null => f.write_str("(empty)"),
        }
    }
}

/// RFC 3339 with the offset: the local time, then `+HH:MM` (seconds of
/// an offset are dropped from the text, as RFC 3339 has no place for
/// them); in UTC when the local time cannot be written.
fn write_local(f: &mut fmt::Formatter<'_>, at: Timestamp, offset_seconds: i32) -> fmt::Result {
    let local = at
        .as_micros()
        .checked_add(i64::from(offset_seconds) * 1_000_000)
        .map(Timestamp::from_micros)
        .and_then(Timestamp::to_rfc3339);
    let Some(local) = local else {
        return write!(f, "{at}");
    };
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let minutes = offset_seconds.unsigned_abs() / 60;
    write!(
        f,
        "{}{sign}{:02}:{:02}",
        local.trim_end_matches('Z'),
        minutes / 60,
        minutes % 60
    )
}

fn write_duration(f: &mut fmt::Formatter<'_>, micros: i64) -> fmt::Result {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    let frac = m % 1_000_000;
    let secs = m / 1_000_000;
    let days = secs / 86_400;
    let (h, min, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    f.write_str(sign)?;
    if days > 0 {
        write!(f, "{days}d ")?;
    }
    write!(f, "{h:02}:{min:02}:{s:02}")?;
    if frac > 0 {
        write!(f, ".{frac:06}")?;
    }
    Ok(())
}

/// A [`Cell`] ordered by [`Cell::total_cmp`], for map keys.
#[derive(Debug, Clone)]
pub(crate) struct OrdCell(pub Cell);

impl PartialEq for OrdCell {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for OrdCell {}

impl PartialOrd for OrdCell {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrdCell {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}
