//! [`Event`]: one thing that happened to one activity instance, and the
//! structural [`Limits`] every event must respect.
//!
//! Validation here is structural only (lengths, counts, finite floats,
//! timestamps in range, no item named twice in one update). Whether the
//! activity and its items exist and have the right types is the bus's job,
//! against the deployed [`crate::model::ActivityDefinition`]s.

use std::collections::HashSet;

use super::{ModelError, Timestamp, Value};

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
fn check_chars(field: &str, value: &str, max: usize) -> Result<(), ModelError> {
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

fn check_ts(field: &str, ts: Timestamp) -> Result<(), ModelError> {
    if !ts.in_range() {
        return Err(invalid(format!(
            "{field} {}us is outside years 0000..=9999",
            ts.as_micros()
        )));
    }
    Ok(())
}

/// Checks one item value of an update.
fn check_value(item: &str, value: &Value, limits: &Limits) -> Result<(), ModelError> {
    match value {
        Value::Text(s) => {
            let max = limits.max_text_chars;
            if s.len() > max && s.chars().take(max + 1).count() > max {
                return Err(invalid(format!(
                    "value of {item} is {} characters, the limit is {max}",
                    s.chars().count()
                )));
            }
        }
        Value::Float(f) if !f.is_finite() => {
            return Err(invalid(format!(
                "value of {item} is {f}, floats must be finite"
            )));
        }
        Value::Timestamp(t) => check_ts(&format!("value of {item}"), *t)?,
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => {}
    }
    Ok(())
}

impl EventKind {
    /// Checks the fields of this kind against `limits` (see [`Event::validate`]).
    pub fn validate(&self, limits: &Limits) -> Result<(), ModelError> {
        match self {
            EventKind::Begin | EventKind::End => {}
            EventKind::Update(items) => {
                if items.len() > limits.max_items_per_update {
                    return Err(invalid(format!(
                        "update has {} items, the limit is {}",
                        items.len(),
                        limits.max_items_per_update
                    )));
                }
                // A scan while the items are few (an update usually sets a
                // handful), a set beyond (up to the item limit).
                const SCAN_UP_TO: usize = 16;
                let mut seen: Option<HashSet<&str>> =
                    (items.len() > SCAN_UP_TO).then(|| HashSet::with_capacity(items.len()));
                for (i, (name, value)) in items.iter().enumerate() {
                    check_chars("item name", name, limits.max_name_chars)?;
                    let twice = match &mut seen {
                        Some(set) => !set.insert(name.as_str()),
                        None => items.iter().take(i).any(|(n, _)| n == name),
                    };
                    if twice {
                        return Err(invalid(format!("item {name} appears twice in one update")));
                    }
                    check_value(name, value, limits)?;
                }
            }
            EventKind::EnableContinuation { token } => {
                check_chars("continuation token", token, limits.max_name_chars)?;
            }
            EventKind::AddReference {
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
            EventKind::AddRelatedActivity {
                related_activity,
                related_id,
            } => {
                check_chars("related activity", related_activity, limits.max_name_chars)?;
                check_chars("related id", related_id, limits.max_name_chars)?;
            }
        }
        Ok(())
    }
}

impl Event {
    /// Bytes of the interned strings this event holds (activity, id, item
    /// names, related activity): what [`Limits::max_interned_bytes`] counts.
    pub fn interned_bytes(&self) -> usize {
        let body = match &self.kind {
            EventKind::Update(items) => items.iter().map(|(name, _)| name.len()).sum(),
            EventKind::AddRelatedActivity {
                related_activity, ..
            } => related_activity.len(),
            _ => 0,
        };
        self.activity.len() + self.id.len() + body
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
