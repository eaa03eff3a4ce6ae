//! The bus's state, and its reads for queries. (Validation, apply,
//! operator actions, aggregation upkeep and the checkpointed form are in
//! their own files; see the module list in `bus/mod.rs`.)
//!
//! Every instance is a tree of *nodes*, one per (activity, id): the root
//! (the id that was begun) and one node per continuation token enabled on
//! it, directly or through a chain. A node is *visible* when the top of its
//! tree has begun; until then it is *pending* (events for an id that was
//! never begun and is not yet a linked token). Each item keeps the value of
//! the event with the greatest stamp (timestamp, producer, batch, position),
//! so the merged result does not depend on the order frames arrive in.
//! The rules and their reasons are in `docs/ARCHITECTURE.md`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{
    ActivityDefinition, ActivityInstance, Counters, Reference, Relationship, Status, StatusFilter,
};
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::segments::record::{StoredInstance, StoredValue};
use crate::wal::Lsn;

use super::aggregations::Declared;

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

/// (file name) → roots whose record in that file is superseded.
pub(crate) type Superseded = BTreeMap<String, BTreeSet<Key>>;

/// Everything the bus knows; queries read it under a read lock.
#[derive(Default)]
pub(crate) struct BusState {
    pub applied_lsn: Lsn,
    pub definitions: BTreeMap<String, ActivityDefinition>,
    pub nodes: HashMap<Key, Node>,
    /// Quarantine entries imported by a replay.
    pub resolved: BTreeSet<u64>,
    pub counters: Counters,
    /// Completed instances not yet written to an import file.
    pub memtable: BTreeMap<Key, Arc<StoredInstance>>,
    /// Continuation tokens of memtable instances → their root key.
    pub aliases: HashMap<Key, Key>,
    /// Live import files, oldest first.
    pub files: Vec<Arc<ImportFile>>,
    /// Real-time aggregations by name.
    pub aggregations: BTreeMap<String, Declared>,
    /// Records in import files that are old versions of amended instances.
    pub superseded: Superseded,
}

impl BusState {
    /// The merged instance with this id or continuation token, active or
    /// completed; `None` if unknown or still pending.
    pub fn get(&self, key: &Key) -> Result<Option<ActivityInstance>, ImportFileError> {
        if self.nodes.contains_key(key) {
            let top = self.top(key);
            let visible = self.nodes.get(&top).is_some_and(|n| n.begun.is_some());
            if !visible {
                return Ok(None);
            }
            let mut instance = self.merge(&top, false).into_instance();
            instance.status = Status::Active;
            return Ok(Some(instance));
        }
        Ok(self
            .find_completed(key)?
            .map(|found| match Arc::try_unwrap(found.record) {
                // Straight from the file: no shared copy to clone.
                Ok(rec) => rec.into_instance(),
                Err(shared) => shared.to_instance(),
            }))
    }

    /// Visible active instances and pending trees.
    pub fn active_and_pending(&self) -> (usize, usize) {
        let mut tops = HashSet::new();
        for key in self.nodes.keys() {
            tops.insert(self.top(key));
        }
        let active = tops
            .iter()
            .filter(|t| self.nodes.get(*t).is_some_and(|n| n.begun.is_some()))
            .count();
        (active, tops.len() - active)
    }

    /// Active instances, merged (for queries that scan).
    pub fn active_instances(&self) -> Vec<ActivityInstance> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.parent.is_none() && n.begun.is_some())
            .map(|(key, _)| {
                let mut i = self.merge(key, false).into_instance();
                i.status = Status::Active;
                i
            })
            .collect()
    }

    /// Every visible instance of `activity`: active, waiting to be filed,
    /// and in the import files.
    pub fn all_instances(&self, activity: &str) -> Result<Vec<ActivityInstance>, ImportFileError> {
        let mut out = self.instances_in_memory(activity, StatusFilter::All);
        for file in &self.files {
            let superseded = self.superseded_in(file);
            out.extend(
                file.instances_of(activity)?
                    .into_iter()
                    .filter(|i| !superseded.contains(&(i.activity.clone(), i.id.clone()))),
            );
        }
        Ok(out)
    }

    /// The visible instances of `activity` held in memory (active ones, and
    /// completed ones not yet in a file) that `status` admits.
    pub fn instances_in_memory(
        &self,
        activity: &str,
        status: StatusFilter,
    ) -> Vec<ActivityInstance> {
        let mut out = Vec::new();
        if status.admits(Status::Active) {
            out.extend(
                self.active_instances()
                    .into_iter()
                    .filter(|i| i.activity == activity),
            );
        }
        if status.admits(Status::Completed) {
            out.extend(
                self.memtable
                    .values()
                    .filter(|r| r.activity == activity)
                    .map(|r| r.to_instance()),
            );
        }
        out
    }
}

/// A total order of stored values, for the tie between two events with
/// equal stamps (two producers that were given the same id and sent the
/// same timestamp): the greater value wins, so the result does not depend
/// on which arrived first.
pub(crate) fn value_order(a: &StoredValue, b: &StoredValue) -> Ordering {
    fn rank(v: &StoredValue) -> u8 {
        match v {
            StoredValue::Text(_) => 0,
            StoredValue::Int(_) => 1,
            StoredValue::Float(_) => 2,
            StoredValue::Bool(_) => 3,
            StoredValue::Timestamp(_) => 4,
        }
    }
    match (a, b) {
        (StoredValue::Text(x), StoredValue::Text(y)) => x.cmp(y),
        (StoredValue::Int(x), StoredValue::Int(y)) => x.cmp(y),
        (StoredValue::Float(x), StoredValue::Float(y)) => x.total_cmp(y),
        (StoredValue::Bool(x), StoredValue::Bool(y)) => x.cmp(y),
        (StoredValue::Timestamp(x), StoredValue::Timestamp(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}
