//! [`OrderBy`] and [`Cursor`]: the order a search returns rows in, and a
//! position in that order to resume from.
//!
//! # Order
//! Rows sort by each [`OrderBy`] key in turn, then by `id` ascending, so
//! no two instances of a store tie and a page boundary is exact. With no
//! key the order is `end asc`: completed instances by end time, then
//! active ones (no end) by id.
//!
//! - **Unset values sort last in both directions** (`end desc` lists the
//!   latest completed first and the active ones still last), like SQL's
//!   `NULLS LAST`.
//! - Numbers compare by value (ints and floats exactly, `-0.0` equal to
//!   `0`), text by its UTF-8 bytes (code point order, case-sensitive),
//!   bools `false` before `true`, times chronologically, and `status` as
//!   its words (`active` before `completed`).
//!
//! # Cursor
//! A [`Cursor`] is the position of one row: its order keys and its id. A
//! search with [`Search::after`](super::Search::after) set returns only the
//! rows after it, so pages follow each other without overlap or gap
//! however many rows were added or removed elsewhere in the order
//! meanwhile ("keyset" paging). A row whose own keys change between two
//! pages (an active instance that completes, under `end asc`) can move
//! across the boundary: order by a field that does not change (`id`,
//! `begin`) to list a store that is being written exactly once.
//!
//! As text a cursor is `c1` and the hex digits of a small JSON document
//! (the order it was made for, the keys and the id); it is refused, not
//! misread, with a search of another order.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::ActivityInstance;

use super::condition::cmp_int_float;
use super::error::QueryError;
use super::field::{Field, ValueRef};

/// The longest cursor accepted, in characters (a cursor holds the text of
/// the order keys of one row; 1 MiB is far beyond any real one).
const MAX_CURSOR_CHARS: usize = 1 << 20;

/// The prefix of a cursor's text form; names its version.
const CURSOR_PREFIX: &str = "c1";

/// One key of a search's order: a field and a direction.
///
/// ```
/// use bamdb::query::OrderBy;
///
/// let key = OrderBy::parse("Amount desc")?;
/// assert_eq!(key, OrderBy { field: "Amount".into(), descending: true });
/// assert_eq!(key.to_string(), "Amount desc");
/// assert_eq!(OrderBy::parse("end")?, OrderBy::asc("end"));
/// assert!(OrderBy::parse("Amount sideways").is_err());
/// # Ok::<(), bamdb::query::QueryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderBy {
    /// An item of the activity or a system field (`id`, `status`, `begin`,
    /// `end`, `last_modified`).
    pub field: String,
    /// Largest first; unset values stay last either way.
    pub descending: bool,
}

impl OrderBy {
    /// Ascending by `field`.
    pub fn asc(field: impl Into<String>) -> OrderBy {
        OrderBy {
            field: field.into(),
            descending: false,
        }
    }

    /// Descending by `field`.
    pub fn desc(field: impl Into<String>) -> OrderBy {
        OrderBy {
            field: field.into(),
            descending: true,
        }
    }

    /// Parses `FIELD`, `FIELD asc` or `FIELD desc` (directions ignore
    /// ASCII case; the field is exact: letters, digits and `_`, or
    /// backticked).
    pub fn parse(spec: &str) -> Result<OrderBy, QueryError> {
        let err = |reason: &str| QueryError::OrderSyntax {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let mut words = spec.split_whitespace();
        let field = words
            .next()
            .ok_or_else(|| err("expected FIELD [asc|desc], found nothing"))?;
        let field = field
            .strip_prefix('`')
            .and_then(|f| f.strip_suffix('`'))
            .unwrap_or(field);
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(err("a field name is letters, digits and _"));
        }
        let descending = match words.next() {
            None => false,
            Some(d) if d.eq_ignore_ascii_case("asc") => false,
            Some(d) if d.eq_ignore_ascii_case("desc") => true,
            Some(_) => return Err(err("the direction is asc or desc")),
        };
        if words.next().is_some() {
            return Err(err(
                "one field per key: repeat the key (--order-by A --order-by \"B desc\")",
            ));
        }
        Ok(OrderBy {
            field: field.to_owned(),
            descending,
        })
    }
}

impl fmt::Display for OrderBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = if self.descending { "desc" } else { "asc" };
        write!(f, "{} {dir}", self.field)
    }
}

/// A value as an order key, borrowed from an instance, a column or a
/// cursor.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A timestamp, µs.
    Time(i64),
}

impl<'a> From<ValueRef<'a>> for Key<'a> {
    fn from(v: ValueRef<'a>) -> Key<'a> {
        match v {
            ValueRef::Text(s) => Key::Text(s),
            ValueRef::Int(i) => Key::Int(i),
            ValueRef::Float(f) => Key::Float(f),
            ValueRef::Bool(b) => Key::Bool(b),
            ValueRef::Timestamp(t) => Key::Time(t.as_micros()),
        }
    }
}

impl Key<'_> {
    /// Orders values of different kinds (which one field of a deployed
    /// activity never mixes): numbers, times, bools, text.
    fn rank(self) -> u8 {
        match self {
            Key::Int(_) | Key::Float(_) => 0,
            Key::Time(_) => 1,
            Key::Bool(_) => 2,
            Key::Text(_) => 3,
        }
    }
}

/// The order of two set values (see the module docs); NaN, which no
/// stored value is, sorts after every number.
fn cmp_set(a: Key<'_>, b: Key<'_>) -> Ordering {
    match (a, b) {
        (Key::Int(x), Key::Int(y)) | (Key::Time(x), Key::Time(y)) => x.cmp(&y),
        (Key::Float(x), Key::Float(y)) => x
            .partial_cmp(&y)
            .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan())),
        (Key::Int(x), Key::Float(y)) => cmp_int_float(x, y).unwrap_or(Ordering::Less),
        (Key::Float(x), Key::Int(y)) => {
            cmp_int_float(y, x).map_or(Ordering::Greater, Ordering::reverse)
        }
        (Key::Bool(x), Key::Bool(y)) => x.cmp(&y),
        (Key::Text(x), Key::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => a.rank().cmp(&b.rank()),
    }
}

/// The order of two values of one key: unset last in both directions.
pub(crate) fn cmp_keys(a: Option<Key<'_>>, b: Option<Key<'_>>, descending: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let o = cmp_set(a, b);
            if descending {
                o.reverse()
            } else {
                o
            }
        }
    }
}

/// A search's order resolved to fields: its keys (`end asc` when none
/// were given), then `id`.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    keys: Vec<(Field, bool)>,
}

impl Order {
    pub(crate) fn of(order_by: &[OrderBy]) -> Order {
        let keys = if order_by.is_empty() {
            vec![(Field::End, false)]
        } else {
            order_by
                .iter()
                .map(|o| (Field::new(&o.field), o.descending))
                .collect()
        };
        Order { keys }
    }

    /// The first key: the one a store can judge from a file's columns.
    pub(crate) fn first(&self) -> (&Field, bool) {
        match self.keys.first() {
            Some((field, descending)) => (field, *descending),
            None => (&Field::Id, false),
        }
    }

    /// Whether the order is by `end` alone (either direction): active
    /// instances, which have no end, then sort by id.
    pub(crate) fn is_by_end(&self) -> bool {
        matches!(self.keys.as_slice(), [(Field::End, _)])
    }

    /// The order of two instances.
    pub(crate) fn cmp(&self, a: &ActivityInstance, b: &ActivityInstance) -> Ordering {
        for (field, descending) in &self.keys {
            let o = cmp_keys(
                field.get(a).map(Key::from),
                field.get(b).map(Key::from),
                *descending,
            );
            if o != Ordering::Equal {
                return o;
            }
        }
        a.id.as_bytes().cmp(b.id.as_bytes())
    }

    /// Whether `inst` comes after the position `cursor` marks.
    pub(crate) fn is_after(&self, inst: &ActivityInstance, cursor: &Cursor) -> bool {
        for (i, (field, descending)) in self.keys.iter().enumerate() {
            let at = cursor
                .keys
                .get(i)
                .and_then(|k| k.as_ref())
                .map(CursorKey::key);
            let o = cmp_keys(field.get(inst).map(Key::from), at, *descending);
            if o != Ordering::Equal {
                return o == Ordering::Greater;
            }
        }
        inst.id.as_bytes() > cursor.id.as_bytes()
    }

    /// Where a row whose first key is `first` lies against `cursor` by
    /// that key alone: `Less` before it, `Greater` after it, `Equal` on
    /// either side (the later keys and the id decide).
    pub(crate) fn against_cursor(&self, first: Option<Key<'_>>, cursor: &Cursor) -> Ordering {
        let at = cursor
            .keys
            .first()
            .and_then(|k| k.as_ref())
            .map(CursorKey::key);
        cmp_keys(first, at, self.first().1)
    }

    /// The position of `inst`.
    pub(crate) fn cursor_at(&self, inst: &ActivityInstance) -> Cursor {
        Cursor {
            order: self.spec(),
            keys: self
                .keys
                .iter()
                .map(|(field, _)| field.get(inst).map(|v| CursorKey::of(Key::from(v))))
                .collect(),
            id: inst.id.clone(),
        }
    }

    /// The keys as `FIELD asc|desc`, as a cursor records them.
    fn spec(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|(field, descending)| {
                let dir = if *descending { "desc" } else { "asc" };
                format!("{} {dir}", field.name())
            })
            .collect()
    }

    /// Checks that `cursor` was made for this order.
    pub(crate) fn check(&self, cursor: &Cursor) -> Result<(), QueryError> {
        let spec = self.spec();
        if cursor.keys.len() != cursor.order.len() {
            return Err(QueryError::Cursor {
                reason: "damaged (it holds another number of keys than its order has)".into(),
            });
        }
        if cursor.order != spec {
            return Err(QueryError::Cursor {
                reason: format!(
                    "it was made for the order [{}], this search's order is [{}]; \
                     page with the same --order-by the cursor came from",
                    cursor.order.join(", "),
                    spec.join(", ")
                ),
            });
        }
        Ok(())
    }
}

/// A cursor's copy of one key value (floats by their bits, so every value
/// survives JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum CursorKey {
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "i")]
    Int(i64),
    #[serde(rename = "f")]
    FloatBits(u64),
    #[serde(rename = "b")]
    Bool(bool),
    #[serde(rename = "m")]
    Time(i64),
}

impl CursorKey {
    fn of(key: Key<'_>) -> CursorKey {
        match key {
            Key::Text(s) => CursorKey::Text(s.to_owned()),
            Key::Int(i) => CursorKey::Int(i),
            Key::Float(f) => CursorKey::FloatBits(f.to_bits()),
            Key::Bool(b) => CursorKey::Bool(b),
            Key::Time(t) => CursorKey::Time(t),
        }
    }

    fn key(&self) -> Key<'_> {
        match self {
            CursorKey::Text(s) => Key::Text(s),
            CursorKey::Int(i) => Key::Int(*i),
            CursorKey::FloatBits(bits) => Key::Float(f64::from_bits(*bits)),
            CursorKey::Bool(b) => Key::Bool(*b),
            CursorKey::Time(t) => Key::Time(*t),
        }
    }
}

/// A position in a search's order: the keys and id of one row, after which
/// the next page starts (see the module docs).
///
/// ```
/// use bamdb::query::Cursor;
///
/// assert!(Cursor::parse("not a cursor").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "o")]
    order: Vec<String>,
    #[serde(rename = "k")]
    keys: Vec<Option<CursorKey>>,
    id: String,
}

impl Cursor {
    /// Reads a cursor from its text form (as [`fmt::Display`] writes it).
    pub fn parse(text: &str) -> Result<Cursor, QueryError> {
        let bad = |reason: &str| QueryError::Cursor {
            reason: reason.to_owned(),
        };
        let text = text.trim();
        if text.len() > MAX_CURSOR_CHARS {
            return Err(bad("longer than any cursor bamdb writes (1 MiB)"));
        }
        let hex = text.strip_prefix(CURSOR_PREFIX).ok_or_else(|| {
            bad("not a cursor (a cursor starts with c1; copy it whole from the output that printed it)")
        })?;
        let bytes = decode_hex(hex).ok_or_else(|| bad("damaged (not hex digits after c1)"))?;
        serde_json::from_slice(&bytes).map_err(|_| bad("damaged (its content does not read)"))
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_vec(self).map_err(|_| fmt::Error)?;
        f.write_str(CURSOR_PREFIX)?;
        for b in json {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Cursor {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Cursor, QueryError> {
        Cursor::parse(s)
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16);
    hex.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => Some((digit(*hi)? * 16 + digit(*lo)?) as u8),
            _ => None,
        })
        .collect()
}
