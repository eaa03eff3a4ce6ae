//! Coercion of an incoming [`Value`] to the declared [`ItemType`] of its item.
//!
//! The bus calls [`coerce`] for every item of every update, after looking up
//! the item in the activity definition. Rules (row: the value received,
//! column: the item's type):
//!
//! | value \ item | text{max_len}        | int  | float                 | bool | timestamp         |
//! |--------------|----------------------|------|-----------------------|------|-------------------|
//! | Text         | ok if ≤ max_len chars| no   | no                    | no   | ok if RFC 3339    |
//! | Int          | no                   | ok   | ok if \|n\| ≤ 2^53    | no   | no                |
//! | Float        | no                   | no   | ok                    | no   | no                |
//! | Bool         | no                   | no   | no                    | ok   | no                |
//! | Timestamp    | no                   | no   | no                    | no   | ok                |
//!
//! Int→float is allowed only while the integer is exactly representable
//! (no silent rounding). Float→int is refused (no silent truncation).
//! Int→timestamp is refused: the unit (seconds? milliseconds?) would be a
//! guess. Text→timestamp accepts any RFC 3339 offset and converts to UTC.

use super::{ItemType, Timestamp, Value};

/// Largest integer magnitude an `f64` holds exactly.
const MAX_EXACT_INT_IN_F64: i64 = 1 << 53;

/// Why a value could not be stored in an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoerceError {
    /// The value's type cannot be stored in the item's type.
    #[error("a {from} value cannot be stored in an item of type {to}")]
    TypeMismatch {
        /// The value's type name.
        from: &'static str,
        /// The item's type name.
        to: &'static str,
    },
    /// The text is longer than the item's `max_len`.
    #[error("text of {len} characters is longer than the item's max_len {max_len}")]
    TextTooLong {
        /// The text's length in characters.
        len: usize,
        /// The item's limit.
        max_len: u32,
    },
    /// An integer too large to convert to a float exactly.
    #[error("integer {0} cannot be stored exactly in a float item (limit ±2^53)")]
    InexactFloat(i64),
    /// Text that should have been an RFC 3339 timestamp.
    #[error("{0}")]
    InvalidTimestamp(String),
}

/// Converts `value` to the representation of an item of type `ty`, per the
/// table in the module docs.
///
/// ```
/// use bamdb::model::{coerce, ItemType, Timestamp, Value};
///
/// assert_eq!(coerce(&Value::Int(3), &ItemType::Float), Ok(Value::Float(3.0)));
/// assert!(coerce(&Value::Float(3.5), &ItemType::Int).is_err());
/// let ts = coerce(&Value::Text("2026-11-22T10:00:00Z".into()), &ItemType::Timestamp)?;
/// assert_eq!(ts, Value::Timestamp("2026-11-22T10:00:00Z".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn coerce(value: &Value, ty: &ItemType) -> Result<Value, CoerceError> {
    match (value, ty) {
        (Value::Text(s), ItemType::Text { max_len }) => {
            let max = usize::try_from(*max_len).unwrap_or(usize::MAX);
            if s.len() > max && s.chars().take(max.saturating_add(1)).count() > max {
                return Err(CoerceError::TextTooLong {
                    len: s.chars().count(),
                    max_len: *max_len,
                });
            }
            Ok(value.clone())
        }
        (Value::Text(s), ItemType::Timestamp) => Timestamp::parse_rfc3339(s)
            .map(Value::Timestamp)
            .map_err(|e| CoerceError::InvalidTimestamp(e.to_string())),
        (Value::Int(_), ItemType::Int)
        | (Value::Float(_), ItemType::Float)
        | (Value::Bool(_), ItemType::Bool)
        | (Value::Timestamp(_), ItemType::Timestamp) => Ok(value.clone()),
        (Value::Int(n), ItemType::Float) => {
            if (-MAX_EXACT_INT_IN_F64..=MAX_EXACT_INT_IN_F64).contains(n) {
                #[allow(
                    clippy::cast_precision_loss,
                    reason = "|n| <= 2^53 is exactly representable"
                )]
                let f = *n as f64;
                Ok(Value::Float(f))
            } else {
                Err(CoerceError::InexactFloat(*n))
            }
        }
        (v, t) => Err(CoerceError::TypeMismatch {
            from: v.type_name(),
            to: t.type_name(),
        }),
    }
}
