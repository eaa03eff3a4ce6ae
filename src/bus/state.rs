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
use std::collections::{BTreeMap, BTreeSet};

use crate::fast_hash::FastMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use crate::model::{ActivityDefinition, ActivityInstance, Counters, Status, StatusFilter};
use crate::query::Selection;
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::segments::record::{StoredInstance, StoredValue};
use crate::wal::Lsn;

use super::aggregations::Declared;
use super::idempotency::Sequences;
use super::nodes::Nodes;

pub(crate) use super::node::{Key, Node, Stamp};

/// (file name) → roots whose record in that file is superseded.
pub(crate) type Superseded = BTreeMap<String, BTreeSet<Key>>;

/// Everything the bus knows; queries read it under a read lock.
#[derive(Default)]
pub(crate) struct BusState {
    pub applied_lsn: Lsn,
    pub definitions: BTreeMap<String, ActivityDefinition>,
    /// The nodes of active and pending instances (on disk, see `nodes`).
    pub nodes: Nodes,
    /// Quarantine entries imported by a replay.
    pub resolved: BTreeSet<u64>,
    pub counters: Counters,
    /// Completed instances not yet written to an import file.
    pub memtable: FastMap<Key, Arc<StoredInstance>>,
    /// Continuation tokens of memtable instances → their root key.
    pub aliases: FastMap<Key, Key>,
    /// Live import files, oldest first.
    pub files: Vec<Arc<ImportFile>>,
    /// Real-time aggregations by name.
    pub aggregations: BTreeMap<String, Declared>,
    /// Records in import files that are old versions of amended instances.
    pub superseded: Superseded,
    /// The highest sequence number imported per producer (see
    /// `idempotency`).
    pub sequences: Sequences,
}

impl BusState {
    /// The merged instance with this id or continuation token, active or
    /// completed; `None` if unknown or still pending.
    ///
    /// Once a node could not be read (a damaged active run), every lookup
    /// that reads active nodes reports it instead of answering without it.
    pub fn get(&self, key: &Key) -> Result<Option<ActivityInstance>, ImportFileError> {
        let active = self.nodes.contains_key(key);
        self.check_fault()?;
        if active {
            let top = self.top(key);
            let visible = self.nodes.get(&top).is_some_and(|n| n.begun.is_some());
            let instance = visible.then(|| {
                let mut instance = self.merge(&top, false).into_instance();
                instance.status = Status::Active;
                instance
            });
            self.check_fault()?;
            return Ok(instance);
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
        let census = self.nodes.census();
        (census.active as usize, census.pending as usize)
    }

    /// Active instances (of `activity`, or of every activity), merged, in
    /// key order (for queries that scan).
    pub fn active_instances(
        &self,
        activity: Option<&str>,
    ) -> Result<Vec<ActivityInstance>, ImportFileError> {
        self.first_active(activity, None)
    }

    /// The first `first.1` active instances (of `activity`, or of every
    /// activity) in key order that `first.0` selects; every one without
    /// `first`. The scan stops there: a search for the first ten active
    /// orders reads ten (and the ones it passes over), not every one.
    pub fn first_active(
        &self,
        activity: Option<&str>,
        first: Option<(&Selection, usize)>,
    ) -> Result<Vec<ActivityInstance>, ImportFileError> {
        let mut out = Vec::new();
        if first.is_some_and(|(_, n)| n == 0) {
            return Ok(out);
        }
        self.scan_active(activity, |i| {
            match first {
                None => out.push(i),
                Some((selection, n)) => {
                    if selection.selects(&i) {
                        out.push(i);
                    }
                    if out.len() >= n {
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// Visits the active instances (of `activity`, or of every activity),
    /// merged, in key order, until `visit` breaks.
    fn scan_active(
        &self,
        activity: Option<&str>,
        mut visit: impl FnMut(ActivityInstance) -> ControlFlow<()>,
    ) -> Result<(), ImportFileError> {
        self.nodes.scan(activity, |key, node| {
            if node.parent.is_none() && node.begun.is_some() {
                let merged = self
                    .merge_alone(key, node)
                    .unwrap_or_else(|| self.merge(key, false));
                let mut i = merged.into_instance();
                i.status = Status::Active;
                visit(i)
            } else {
                ControlFlow::Continue(())
            }
        })?;
        self.check_fault()
    }

    /// The first failure to read an active node, as an error.
    pub fn check_fault(&self) -> Result<(), ImportFileError> {
        match self.nodes.fault() {
            None => Ok(()),
            Some(what) => Err(ImportFileError::corrupt(
                std::path::Path::new("segments"),
                None,
                format!("an active node could not be read: {what}"),
            )),
        }
    }

    /// Every visible instance of `activity`: active, waiting to be filed,
    /// and in the import files.
    pub fn all_instances(&self, activity: &str) -> Result<Vec<ActivityInstance>, ImportFileError> {
        let mut out = Vec::new();
        self.for_each_instance(activity, |i| out.push(i))?;
        Ok(out)
    }

    /// Visits every visible instance of `activity` (active, waiting to be
    /// filed, in the import files) one at a time: memory holds one
    /// instance, not all of them (building a declared aggregation's totals).
    pub fn for_each_instance(
        &self,
        activity: &str,
        mut visit: impl FnMut(ActivityInstance),
    ) -> Result<(), ImportFileError> {
        self.scan_active(Some(activity), |i| {
            visit(i);
            ControlFlow::Continue(())
        })?;
        for rec in self.memtable.values().filter(|r| r.activity == activity) {
            visit(rec.to_instance());
        }
        for file in &self.files {
            let superseded = self.superseded_in(file);
            file.for_each_record_of(activity, |rec| {
                if !superseded.contains(&(rec.activity.clone(), rec.id.clone())) {
                    visit(rec.into_instance());
                }
            })?;
        }
        Ok(())
    }

    /// The visible instances of `activity` held in memory (active ones, and
    /// completed ones not yet in a file) that `status` admits.
    /// With `first`, only the first active instances it asks for (see
    /// [`BusState::first_active`]).
    pub fn instances_in_memory(
        &self,
        activity: &str,
        status: StatusFilter,
        first: Option<(&Selection, usize)>,
    ) -> Result<Vec<ActivityInstance>, ImportFileError> {
        let mut out = Vec::new();
        if status.admits(Status::Active) {
            out = self.first_active(Some(activity), first)?;
        }
        if status.admits(Status::Completed) {
            out.extend(
                self.memtable
                    .values()
                    .filter(|r| r.activity == activity)
                    .map(|r| r.to_instance()),
            );
        }
        Ok(out)
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
