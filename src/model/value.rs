//! [`Value`]: one item value carried by an update event.
//!
//! JSON mapping (both directions, see [`Value::from_json`] and
//! [`Value::to_json`]):
//!
//! | JSON                          | `Value`                                 |
//! |-------------------------------|-----------------------------------------|
//! | string                        | `Text` (even if it looks like a date)   |
//! | integer in `i64` range        | `Int`                                   |
//! | integer outside `i64` range   | refused (no silent loss of precision)   |
//! | any other number              | `Float`                                 |
//! | `true` / `false`              | `Bool`                                  |
//! | null, array, object           | refused                                 |
//!
//! `Timestamp` values print as an RFC 3339 string, so they read back as
//! `Text`; the bus coerces text to the item's declared type
//! (see [`crate::model::coerce`]).

use std::fmt;

use super::Timestamp;

/// One item value.
///
/// ```
/// use bamdb::model::Value;
///
/// let v: Value = serde_json::from_str("125.5")?;
/// assert_eq!(v, Value::Float(125.5));
/// assert_eq!(serde_json::from_str::<Value>("3")?, Value::Int(3));
/// assert_eq!(Value::Text("x".into()).type_name(), "text");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A text; its length limit comes from the item definition.
    Text(String),
    /// A signed 64-bit integer.
    Int(i64),
    /// A finite 64-bit float (validation refuses NaN and infinities).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A point in time.
    Timestamp(Timestamp),
}

impl Value {
    /// The lowercase type name used in messages and definitions
    /// (`text`, `int`, `float`, `bool`, `timestamp`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Text(_) => "text",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::Timestamp(_) => "timestamp",
        }
    }

    /// Maps a JSON value per the table in the module docs.
    pub fn from_json(json: &serde_json::Value) -> Result<Value, String> {
        match json {
            serde_json::Value::String(s) => Ok(Value::Text(s.clone())),
            serde_json::Value::Bool(b) => Ok(Value::Bool(*b)),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Value::Int(i))
                } else if n.is_u64() {
                    Err(format!(
                        "integer {n} is out of range for a 64-bit signed int"
                    ))
                } else {
                    n.as_f64()
                        .map(Value::Float)
                        .ok_or_else(|| format!("number {n} is not representable"))
                }
            }
            serde_json::Value::Null => Err("null is not a value".to_string()),
            serde_json::Value::Array(_) => Err("an array is not a value".to_string()),
            serde_json::Value::Object(_) => Err("an object is not a value".to_string()),
        }
    }

    /// The JSON form. A non-finite float (which validation refuses) becomes
    /// `null`; an out-of-range timestamp becomes its [`fmt::Display`] form.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Text(s) => serde_json::Value::String(s.clone()),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Value::from(*f),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Timestamp(t) => serde_json::Value::String(t.to_string()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Timestamp(t) => write!(f, "{t}"),
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(v) => s.serialize_str(v),
            Value::Int(v) => s.serialize_i64(*v),
            Value::Float(v) => s.serialize_f64(*v),
            Value::Bool(v) => s.serialize_bool(*v),
            Value::Timestamp(v) => v.serialize(s),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// Deserializes a JSON scalar into a [`Value`] without an intermediate
/// `serde_json::Value`.
struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or bool")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v).map(Value::Int).map_err(|_| {
            E::custom(format!(
                "integer {v} is out of range for a 64-bit signed int"
            ))
        })
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Text(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Text(v))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Self {
        Value::Timestamp(t)
    }
}

/// An item value borrowed: a [`Value`] whose text is a `&str`. What an
/// update made through [`crate::EventStream::update`] reads its values as,
/// so a value passed by reference is encoded without being copied.
///
/// ```
/// use bamdb::model::{AsValueRef, Value, ValueRef};
///
/// let owned = Value::Text("Shipped".into());
/// assert_eq!(owned.as_value_ref(), ValueRef::Text("Shipped"));
/// assert_eq!("Shipped".as_value_ref().to_value(), owned);
/// assert_eq!(12i32.as_value_ref(), ValueRef::Int(12));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// A text, borrowed.
    Text(&'a str),
    /// A signed 64-bit integer.
    Int(i64),
    /// A finite 64-bit float (validation refuses NaN and infinities).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A point in time.
    Timestamp(Timestamp),
}

impl ValueRef<'_> {
    /// The owned [`Value`] (the text copied).
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Timestamp(t) => Value::Timestamp(t),
        }
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        v.as_value_ref()
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(v: ValueRef<'_>) -> Self {
        v.to_value()
    }
}

/// Anything an update can take as an item value: [`Value`] and
/// [`ValueRef`], and every type with a `From` conversion into [`Value`]
/// (`&str`, `String`, `i64`, `i32`, `u32`, `f64`, `bool`, [`Timestamp`]),
/// by value or by reference. Reading one borrows it (text is not copied).
///
/// ```
/// use bamdb::model::{AsValueRef, Value, ValueRef};
///
/// fn describe<V: AsValueRef>(v: V) -> String {
///     match v.as_value_ref() {
///         ValueRef::Text(s) => format!("text {s}"),
///         other => format!("{}", other.to_value()),
///     }
/// }
/// assert_eq!(describe("EU"), "text EU");
/// assert_eq!(describe(&String::from("EU")), "text EU");
/// assert_eq!(describe(2.5), "2.5");
/// assert_eq!(describe(&Value::Bool(true)), "true");
/// ```
pub trait AsValueRef {
    /// The value, borrowed.
    fn as_value_ref(&self) -> ValueRef<'_>;
}

impl<T: AsValueRef + ?Sized> AsValueRef for &T {
    fn as_value_ref(&self) -> ValueRef<'_> {
        (**self).as_value_ref()
    }
}

impl AsValueRef for Value {
    fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Text(s) => ValueRef::Text(s),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Timestamp(t) => ValueRef::Timestamp(*t),
        }
    }
}

impl AsValueRef for ValueRef<'_> {
    fn as_value_ref(&self) -> ValueRef<'_> {
        *self
    }
}

impl AsValueRef for str {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl AsValueRef for String {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl AsValueRef for i64 {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Int(*self)
    }
}

impl AsValueRef for i32 {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Int(i64::from(*self))
    }
}

impl AsValueRef for u32 {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Int(i64::from(*self))
    }
}

impl AsValueRef for f64 {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Float(*self)
    }
}

impl AsValueRef for bool {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Bool(*self)
    }
}

impl AsValueRef for Timestamp {
    fn as_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Timestamp(*self)
    }
}
