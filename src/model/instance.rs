//! An activity instance as queries return it: [`ActivityInstance`] (the
//! root's events and those of every continuation, merged), its
//! [`Status`], its [`Reference`]s and [`Relationship`]s, and
//! [`StatusFilter`], the status choice of a query. The stored form of a
//! completed instance is `segments::record`.

use serde::{Deserialize, Serialize, Serializer};

use super::{Timestamp, Value};

/// Whether an instance is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Begun, and not every part of it has ended.
    Active,
    /// Its root and every continuation have ended.
    Completed,
}

/// Which instances a query covers by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StatusFilter {
    /// Only active instances.
    Active,
    /// Only completed instances.
    Completed,
    /// Both (the default).
    #[default]
    All,
}

impl StatusFilter {
    /// Whether an instance with `status` is covered.
    pub fn admits(self, status: Status) -> bool {
        match self {
            StatusFilter::Active => status == Status::Active,
            StatusFilter::Completed => status == Status::Completed,
            StatusFilter::All => true,
        }
    }
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

/// One part of an instance as its producers reported it: the root (the
/// instance's own id) or a continuation (its token), with each item's
/// value, when it was set and by which producer id. What
/// [`crate::Store::parts`] returns: "which application reported what".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstancePart {
    /// The root's id or the continuation token.
    pub id: String,
    /// The continuation token it continues (the root's id or another
    /// token); `None` for the root.
    pub parent: Option<String>,
    /// Its earliest begin.
    pub begin: Option<Timestamp>,
    /// Its latest end.
    pub end: Option<Timestamp>,
    /// Its items, by name: the value this part holds, with the time and
    /// producer id of the event that set it.
    pub items: Vec<PartItem>,
}

/// One item of an [`InstancePart`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartItem {
    /// The item name.
    pub name: String,
    /// Its value in this part.
    pub value: Value,
    /// The timestamp of the event that set it.
    pub at: Timestamp,
    /// The producer id of the frame that carried that event.
    pub producer: u32,
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
