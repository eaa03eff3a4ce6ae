//! The compact form a completed activity instance is stored in
//! (postcard-encoded, see `docs/FORMAT.md`), and its conversion to the
//! [`ActivityInstance`] queries return.

use serde::{Deserialize, Serialize};

use crate::model::{ActivityInstance, Reference, Relationship, Status, Timestamp, Value};

/// A value in stored (binary) form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum StoredValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(i64),
}

impl From<&Value> for StoredValue {
    fn from(v: &Value) -> Self {
        match v {
            Value::Text(s) => StoredValue::Text(s.clone()),
            Value::Int(i) => StoredValue::Int(*i),
            Value::Float(f) => StoredValue::Float(*f),
            Value::Bool(b) => StoredValue::Bool(*b),
            Value::Timestamp(t) => StoredValue::Timestamp(t.as_micros()),
        }
    }
}

impl From<Value> for StoredValue {
    /// Takes the text over instead of copying it (the bus applies events it
    /// owns).
    fn from(v: Value) -> Self {
        match v {
            Value::Text(s) => StoredValue::Text(s),
            other => StoredValue::from(&other),
        }
    }
}

impl From<StoredValue> for Value {
    fn from(v: StoredValue) -> Self {
        match v {
            StoredValue::Text(s) => Value::Text(s),
            StoredValue::Int(i) => Value::Int(i),
            StoredValue::Float(f) => Value::Float(f),
            StoredValue::Bool(b) => Value::Bool(b),
            StoredValue::Timestamp(t) => Value::Timestamp(Timestamp::from_micros(t)),
        }
    }
}

impl From<&StoredValue> for Value {
    fn from(v: &StoredValue) -> Self {
        match v {
            StoredValue::Text(s) => Value::Text(s.clone()),
            StoredValue::Int(i) => Value::Int(*i),
            StoredValue::Float(f) => Value::Float(*f),
            StoredValue::Bool(b) => Value::Bool(*b),
            StoredValue::Timestamp(t) => Value::Timestamp(Timestamp::from_micros(*t)),
        }
    }
}

/// A completed instance as stored in an import file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredInstance {
    pub activity: String,
    pub id: String,
    pub begin: Option<i64>,
    pub end: Option<i64>,
    pub last_modified: Option<i64>,
    pub items: Vec<(String, StoredValue)>,
    pub continuations: Vec<String>,
    pub references: Vec<Reference>,
    pub relationships: Vec<Relationship>,
    /// The instance's parts (the root and every continuation) with the
    /// stamps of their events, encoded by the bus: what it needs to amend
    /// the instance when an event for it arrives after it completed. Opaque
    /// here; empty in records of version-1 files, which cannot be amended.
    pub parts: Vec<u8>,
}

/// A record as version-1 import files hold it (no parts).
#[derive(Deserialize)]
pub(crate) struct StoredInstanceV1 {
    activity: String,
    id: String,
    begin: Option<i64>,
    end: Option<i64>,
    last_modified: Option<i64>,
    items: Vec<(String, StoredValue)>,
    continuations: Vec<String>,
    references: Vec<Reference>,
    relationships: Vec<Relationship>,
}

impl From<StoredInstanceV1> for StoredInstance {
    fn from(v1: StoredInstanceV1) -> Self {
        StoredInstance {
            activity: v1.activity,
            id: v1.id,
            begin: v1.begin,
            end: v1.end,
            last_modified: v1.last_modified,
            items: v1.items,
            continuations: v1.continuations,
            references: v1.references,
            relationships: v1.relationships,
            parts: Vec::new(),
        }
    }
}

impl StoredInstance {
    /// The instance, taking the stored one apart (no copies of what a
    /// query returns; the parts are dropped).
    pub fn into_instance(self) -> ActivityInstance {
        ActivityInstance {
            activity: self.activity,
            id: self.id,
            status: Status::Completed,
            begin: self.begin.map(Timestamp::from_micros),
            end: self.end.map(Timestamp::from_micros),
            last_modified: self.last_modified.map(Timestamp::from_micros),
            items: self
                .items
                .into_iter()
                .map(|(n, v)| (n, Value::from(v)))
                .collect(),
            continuations: self.continuations,
            references: self.references,
            relationships: self.relationships,
        }
    }

    /// The instance, copied (without the parts, which queries never need).
    pub fn to_instance(&self) -> ActivityInstance {
        ActivityInstance {
            activity: self.activity.clone(),
            id: self.id.clone(),
            status: Status::Completed,
            begin: self.begin.map(Timestamp::from_micros),
            end: self.end.map(Timestamp::from_micros),
            last_modified: self.last_modified.map(Timestamp::from_micros),
            items: self
                .items
                .iter()
                .map(|(n, v)| (n.clone(), Value::from(v)))
                .collect(),
            continuations: self.continuations.clone(),
            references: self.references.clone(),
            relationships: self.relationships.clone(),
        }
    }
}
