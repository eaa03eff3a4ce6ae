//! [`Event`]: one thing that happened to one activity instance, and the
//! structural [`Limits`] every event must respect.
//!
//! Validation here is structural only (lengths, counts, finite floats,
//! timestamps in range, no item named twice in one update). Whether the
//! activity and its items exist and have the right types is the bus's job,
//! against the deployed [`crate::model::ActivityDefinition`]s.

use std::collections::HashSet;

use super::{AsValueRef, ModelError, Timestamp, Value, ValueRef};

/// One event of one activity instance `(activity, id)`.
///
/// ```
/// use bamdb::model::{Event, EventKind, Limits, Timestamp, Value};
///
/// let event = Event {
///     ts: Timestamp::now(),
///     activity: "PurchaseOrder".into(),
///     id: "PO-1".into(),
///     kind: EventKind::Update(vec![("Amount".into(), Value::Float(125.5))]),
/// };
/// event.validate(&Limits::default())?;
///
/// let too_long = Event { id: "x".repeat(200), ..event };
/// let err = too_long.validate(&Limits::default()).unwrap_err();
/// assert_eq!(err.to_string(), "invalid input: id is 200 characters, the limit is 128");
/// # Ok::<(), bamdb::model::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it happened, as the producer saw it.
    pub ts: Timestamp,
    /// The activity name, e.g. `PurchaseOrder`.
    pub activity: String,
    /// The activity instance id (or a continuation token it reports under).
    pub id: String,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to an activity instance.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The instance started.
    Begin,
    /// Item values changed, in the order given.
    Update(Vec<(String, Value)>),
    /// The instance (or this continuation of it) ended.
    End,
    /// Another producer may report into this instance under `token` as id.
    EnableContinuation {
        /// The continuation token.
        token: String,
    },
    /// Attach a reference (a document, a URL, ...) to the instance.
    AddReference {
        /// The reference type, e.g. `DocumentUrl`.
        ref_type: String,
        /// The reference name, e.g. `invoice`.
        ref_name: String,
        /// Short data, at most [`Limits::max_ref_data_bytes`].
        data: String,
        /// Optional long data, at most [`Limits::max_long_data_bytes`].
        long_data: Option<String>,
    },
    /// Relate another activity instance to this one.
    AddRelatedActivity {
        /// The related activity name.
        related_activity: String,
        /// The related instance id.
        related_id: String,
    },
}

impl EventKind {
    /// The JSON `op` name of this kind (`begin`, `update`, `end`,
    /// `continue`, `reference`, `relate`).
    pub fn op(&self) -> &'static str {
        match self {
            EventKind::Begin => "begin",
            EventKind::Update(_) => "update",
            EventKind::End => "end",
            EventKind::EnableContinuation { .. } => "continue",
            EventKind::AddReference { .. } => "reference",
            EventKind::AddRelatedActivity { .. } => "relate",
        }
    }
}

/// Structural limits on events and batches. The defaults are the documented
/// limits of the store; decoding uses the same limits as encoding, so a
/// batch that was accepted by [`crate::model::BatchEncoder::push`] decodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest activity name, id, continuation token, item name, related
    /// activity and related id, in characters (none may be empty).
    /// Default 128.
    pub max_name_chars: usize,
    /// Longest reference type and reference name, in characters (may not
    /// be empty). Default 128.
    pub max_ref_name_chars: usize,
    /// Longest reference data, in bytes of UTF-8. Default 1,024.
    pub max_ref_data_bytes: usize,
    /// Longest long reference data, in bytes of UTF-8. Default 1 MiB.
    pub max_long_data_bytes: usize,
    /// Longest text value, in characters. Default 4,000.
    pub max_text_chars: usize,
    /// Most items in one update. Default 1,000.
    pub max_items_per_update: usize,
    /// Most events in one batch (one flush). Bounds the memory a decoded
    /// batch can take. Default 100,000.
    pub max_events_per_batch: usize,
    /// Largest encoded batch, in bytes. Default 16 MiB.
    pub max_batch_bytes: usize,
    /// Most bytes of interned strings (activity, id, item names, related
    /// activity) that the events of one batch may hold once decoded, summed
    /// per event. A reference to an interned string costs 1 to 3 encoded
    /// bytes but decodes to a copy of up to 512 bytes; this bounds that
    /// amplification. Default 32 MiB.
    pub max_interned_bytes: usize,
    /// Longest JSON line accepted by [`crate::model::parse_line_with`], in
    /// bytes. Default 2 MiB + 64 KiB (room for 1 MiB of long data escaped).
    pub max_json_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_name_chars: 128,
            max_ref_name_chars: 128,
            max_ref_data_bytes: 1024,
            max_long_data_bytes: 1 << 20,
            max_text_chars: 4000,
            max_items_per_update: 1000,
            max_events_per_batch: 100_000,
            max_batch_bytes: 16 << 20,
            max_interned_bytes: 32 << 20,
            max_json_line_bytes: (2 << 20) + (64 << 10),
        }
    }
}

fn invalid(reason: String) -> ModelError {
    ModelError::InvalidInput { reason }
}

/// A name-like field: non-empty and at most `max` characters.
#[inline]
fn check_chars(field: &str, value: &str, max: usize) -> Result<(), ModelError> {
    // At most `max` bytes is at most `max` characters: the usual case is
    // decided without counting.
    if value.is_empty() || value.len() > max {
        return check_chars_slow(field, value, max);
    }
    Ok(())
}

/// [`check_chars`] of a string empty or longer than `max` bytes.
#[cold]
fn check_chars_slow(field: &str, value: &str, max: usize) -> Result<(), ModelError> {
    if value.is_empty() {
        return Err(invalid(format!("{field} is empty")));
    }
    // Count at most max+1 characters: cheap even for a huge string.
    if value.len() > max && value.chars().take(max + 1).count() > max {
        return Err(invalid(format!(
            "{field} is {} characters, the limit is {max}",
            value.chars().count()
        )));
    }
    Ok(())
}

fn check_bytes(field: &str, value: &str, max: usize) -> Result<(), ModelError> {
    if value.len() > max {
        return Err(invalid(format!(
            "{field} is {} bytes, the limit is {max}",
            value.len()
        )));
    }
    Ok(())
}

#[inline]
fn check_ts(field: &str, ts: Timestamp) -> Result<(), ModelError> {
    if !ts.in_range() {
        return Err(ts_out_of_range(field, ts));
    }
    Ok(())
}

#[cold]
fn ts_out_of_range(field: &str, ts: Timestamp) -> ModelError {
    invalid(format!(
        "{field} {}us is outside years 0000..=9999",
        ts.as_micros()
    ))
}

/// The item count of an update. Checked before its items (see
/// [`KindRef::validate`]; the encoder checks an update's items while it
/// encodes them, in the same order).
#[inline]
pub(crate) fn check_item_count(items: usize, limits: &Limits) -> Result<(), ModelError> {
    if items > limits.max_items_per_update {
        return Err(invalid(format!(
            "update has {items} items, the limit is {}",
            limits.max_items_per_update
        )));
    }
    Ok(())
}

/// An item name of an update.
#[inline]
pub(crate) fn check_item_name(name: &str, limits: &Limits) -> Result<(), ModelError> {
    check_chars("item name", name, limits.max_name_chars)
}

/// The error for an item set twice in one update.
#[cold]
pub(crate) fn item_twice(name: &str) -> ModelError {
    invalid(format!("item {name} appears twice in one update"))
}

/// Checks one item value of an update.
#[inline]
pub(crate) fn check_value(
    item: &str,
    value: ValueRef<'_>,
    limits: &Limits,
) -> Result<(), ModelError> {
    let surely_fine = match value {
        // At most as many characters as bytes.
        ValueRef::Text(s) => s.len() <= limits.max_text_chars,
        ValueRef::Float(f) => f.is_finite(),
        ValueRef::Timestamp(t) => t.in_range(),
        ValueRef::Int(_) | ValueRef::Bool(_) => true,
    };
    if surely_fine {
        return Ok(());
    }
    check_value_slow(item, value, limits)
}

/// [`check_value`] of a value that may break a limit.
#[cold]
fn check_value_slow(item: &str, value: ValueRef<'_>, limits: &Limits) -> Result<(), ModelError> {
    match value {
        ValueRef::Text(s) => {
            let max = limits.max_text_chars;
            if s.len() > max && s.chars().take(max + 1).count() > max {
                return Err(invalid(format!(
                    "value of {item} is {} characters, the limit is {max}",
                    s.chars().count()
                )));
            }
        }
        ValueRef::Float(f) if !f.is_finite() => {
            return Err(invalid(format!(
                "value of {item} is {f}, floats must be finite"
            )));
        }
        ValueRef::Timestamp(t) => check_ts(&format!("value of {item}"), t)?,
        ValueRef::Int(_) | ValueRef::Float(_) | ValueRef::Bool(_) => {}
    }
    Ok(())
}

/// An [`EventKind`] borrowed: its strings as `&str`, an update's items as
/// a slice of any name and value types. What the encoder validates and
/// encodes, so an event pushed whole ([`EventKind::as_kind_ref`]) and one
/// made by a stream's convenience methods from borrowed parts go through
/// the same code.
#[derive(Debug)]
pub(crate) enum KindRef<'a, K, V> {
    Begin,
    Update(&'a [(K, V)]),
    End,
    EnableContinuation {
        token: &'a str,
    },
    AddReference {
        ref_type: &'a str,
        ref_name: &'a str,
        data: &'a str,
        long_data: Option<&'a str>,
    },
    AddRelatedActivity {
        related_activity: &'a str,
        related_id: &'a str,
    },
}

impl<K: AsRef<str>, V: AsValueRef> KindRef<'_, K, V> {
    /// The checks of [`EventKind::validate`].
    pub(crate) fn validate(&self, limits: &Limits) -> Result<(), ModelError> {
        match self {
            KindRef::Begin | KindRef::End => {}
            KindRef::Update(items) => {
                check_item_count(items.len(), limits)?;
                // A scan while the items are few (an update usually sets a
                // handful), a set beyond (up to the item limit).
                const SCAN_UP_TO: usize = 16;
                let mut seen: Option<HashSet<&str>> =
                    (items.len() > SCAN_UP_TO).then(|| HashSet::with_capacity(items.len()));
                for (i, (name, value)) in items.iter().enumerate() {
                    let name = name.as_ref();
                    check_item_name(name, limits)?;
                    let twice = match &mut seen {
                        Some(set) => !set.insert(name),
                        None => items.iter().take(i).any(|(n, _)| n.as_ref() == name),
                    };
                    if twice {
                        return Err(item_twice(name));
                    }
                    check_value(name, value.as_value_ref(), limits)?;
                }
            }
            KindRef::EnableContinuation { token } => {
                check_chars("continuation token", token, limits.max_name_chars)?;
            }
            KindRef::AddReference {
                ref_type,
                ref_name,
                data,
                long_data,
            } => {
                check_chars("reference type", ref_type, limits.max_ref_name_chars)?;
                check_chars("reference name", ref_name, limits.max_ref_name_chars)?;
                check_bytes("reference data", data, limits.max_ref_data_bytes)?;
                if let Some(long) = long_data {
                    check_bytes("long reference data", long, limits.max_long_data_bytes)?;
                }
            }
            KindRef::AddRelatedActivity {
                related_activity,
                related_id,
            } => {
                check_chars("related activity", related_activity, limits.max_name_chars)?;
                check_chars("related id", related_id, limits.max_name_chars)?;
            }
        }
        Ok(())
    }

    /// Bytes of the interned strings of the body (item names, related
    /// activity); see [`Event::interned_bytes`].
    pub(crate) fn interned_bytes(&self) -> usize {
        match self {
            KindRef::Update(items) => items.iter().map(|(name, _)| name.as_ref().len()).sum(),
            KindRef::AddRelatedActivity {
                related_activity, ..
            } => related_activity.len(),
            _ => 0,
        }
    }
}

impl EventKind {
    /// Checks the fields of this kind against `limits` (see [`Event::validate`]).
    pub fn validate(&self, limits: &Limits) -> Result<(), ModelError> {
        self.as_kind_ref().validate(limits)
    }

    /// This kind, borrowed.
    pub(crate) fn as_kind_ref(&self) -> KindRef<'_, String, Value> {
        match self {
            EventKind::Begin => KindRef::Begin,
            EventKind::Update(items) => KindRef::Update(items),
            EventKind::End => KindRef::End,
            EventKind::EnableContinuation { token } => KindRef::EnableContinuation { token },
            EventKind::AddReference {
                ref_type,
                ref_name,
                data,
                long_data,
            } => KindRef::AddReference {
                ref_type,
                ref_name,
                data,
                long_data: long_data.as_deref(),
            },
            EventKind::AddRelatedActivity {
                related_activity,
                related_id,
            } => KindRef::AddRelatedActivity {
                related_activity,
                related_id,
            },
        }
    }
}

impl Event {
    /// Bytes of the interned strings this event holds (activity, id, item
    /// names, related activity): what [`Limits::max_interned_bytes`] counts.
    pub fn interned_bytes(&self) -> usize {
        self.activity.len() + self.id.len() + self.kind.as_kind_ref().interned_bytes()
    }

    /// Structural checks against `limits`: every name-like field non-empty
    /// and within its limit, reference data sizes, item count, no item twice
    /// in one update, text lengths, finite floats, timestamps in years
    /// 0000..=9999. The error names the field and the limit.
    pub fn validate(&self, limits: &Limits) -> Result<(), ModelError> {
        Event::validate_head(self.ts, &self.activity, &self.id, limits)?;
        self.kind.validate(limits)
    }

    /// The checks of [`Event::validate`] that do not depend on the kind.
    #[inline]
    pub(crate) fn validate_head(
        ts: Timestamp,
        activity: &str,
        id: &str,
        limits: &Limits,
    ) -> Result<(), ModelError> {
        check_ts("timestamp", ts)?;
        check_chars("activity", activity, limits.max_name_chars)?;
        check_chars("id", id, limits.max_name_chars)
    }
}
