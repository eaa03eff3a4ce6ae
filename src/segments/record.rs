//! The merged view of one activity instance, as queries return it, and the
//! compact form it is stored in (postcard-encoded, see `docs/FORMAT.md`).

use serde::{Deserialize, Serialize, Serializer};

use crate::model::{Timestamp, Value};

/// Whether an instance is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Begun, and not every part of it has ended.
    Active,
    /// Its root and every continuation have ended.
    Completed,
}

/// A reference attached to an instance (a document, a URL, ...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    /// The reference type, e.g. `DocumentUrl`.
    #[serde(rename = "type")]
    pub ref_type: String,
    /// The reference name.
    pub name: String,
    /// Short data.
    pub data: String,
    /// Long data, if any. (Never skipped when serialising: the stored form
    /// is positional.)
    pub long_data: Option<String>,
}

/// Another activity instance related to this one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relationship {
    /// The related activity name.
    pub activity: String,
    /// The related instance id.
    pub id: String,
}

/// One activity instance with all its parts merged: the root's events and
/// those of every continuation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityInstance {
    /// The activity name.
    pub activity: String,
    /// The instance id (the root's id, not a continuation token).
    pub id: String,
    /// Active or completed.
    pub status: Status,
    /// When it began (the earliest begin event).
    pub begin: Option<Timestamp>,
    /// When it completed: the latest end among the root and continuations.
    /// `None` while active.
    pub end: Option<Timestamp>,
    /// The latest event timestamp applied to it.
    pub last_modified: Option<Timestamp>,
    /// Item values, in the activity definition's order; unset items absent.
    #[serde(serialize_with = "items_as_map")]
    pub items: Vec<(String, Value)>,
    /// Continuation tokens enabled on it, directly or through a chain.
    pub continuations: Vec<String>,
    /// References, in event order.
    pub references: Vec<Reference>,
    /// Related instances, in event order.
    pub relationships: Vec<Relationship>,
}

impl ActivityInstance {
    /// The value of an item, if set.
    pub fn item(&self, name: &str) -> Option<&Value> {
        self.items.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

fn items_as_map<S: Serializer>(items: &[(String, Value)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(items.iter().map(|(k, v)| (k, v)))
}

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
