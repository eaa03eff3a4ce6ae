//! The unit of the active state: one *node* per (activity, id), the root
//! of an instance or one of its continuation parts, and the stamps that
//! order events independently of their arrival. (Below both `state`, which
//! holds nodes, and `nodes`, which stores them.)

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{Reference, Relationship};
use crate::segments::record::StoredValue;

/// (activity, id)
pub(crate) type Key = (String, String);

/// Orders events independently of arrival: event time first, then a
/// deterministic tie-break by producer, batch and position in the batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Stamp {
    pub ts: i64,
    pub producer: u32,
    pub seq: u64,
    pub index: u32,
}

/// One part of an instance: the root or one continuation. Every field is
/// a function of the set of events applied to the node, whatever their
/// order: the earliest begin, the latest end, each item's value with the
/// greatest stamp, every link and reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Node {
    /// The earliest begin applied to this node.
    pub begun: Option<Stamp>,
    /// The latest end applied to this node.
    pub ended: Option<Stamp>,
    pub items: BTreeMap<String, (StoredValue, Stamp)>,
    /// Continuation tokens enabled on this node, each with the stamp of
    /// its earliest link event: its children, where the link took effect.
    pub tokens: BTreeMap<String, Stamp>,
    /// The ids of the nodes that enabled this node's id as a token.
    pub linked_by: BTreeSet<String>,
    /// The id whose continuation this node is: derived from every node's
    /// links by [`BusState::relink`].
    pub parent: Option<String>,
    pub references: Vec<(Stamp, Reference)>,
    pub relations: Vec<(Stamp, Relationship)>,
    pub last_modified: Option<i64>,
    /// When an operator completed the instance whatever parts had not
    /// ended (set on the root).
    pub forced: Option<Stamp>,
}
