//! The bus's state and the rules that apply events to it.
//!
//! Every instance is a tree of *nodes*, one per (activity, id): the root
//! (the id that was begun) and one node per continuation token enabled on
//! it, directly or through a chain. A node is *visible* when the top of its
//! tree has begun; until then it is *pending* (events for an id that was
//! never begun and is not yet a linked token). Each item keeps the value of
//! the event with the greatest stamp (timestamp, producer, batch, position),
//! so the merged result does not depend on the order frames arrive in.
//! The rules and their reasons are in `docs/ARCHITECTURE.md`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{coerce, ActivityDefinition, Batch, EventKind};
use crate::query::StatusFilter;
use crate::segments::file::SegmentFile;
use crate::segments::record::{
    ActivityInstance, Reference, Relationship, Status, StoredInstance, StoredValue,
};
use crate::wal::Lsn;

use super::aggregations::{AggregationSpec, Declared};

/// (activity, id)
pub(crate) type Key = (String, String);

/// Orders events independently of arrival: event time first, then a
/// deterministic tie-break by producer, batch and position in the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Stamp {
    pub ts: i64,
    pub producer: u32,
    pub seq: u64,
    pub index: u32,
}

/// One part of an instance: the root or one continuation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Node {
    /// The earliest begin applied to this node.
    pub begun: Option<Stamp>,
    /// The latest end applied to this node.
    pub ended: Option<Stamp>,
    pub items: BTreeMap<String, (StoredValue, Stamp)>,
    /// Continuation tokens enabled on this node: its children.
    pub tokens: BTreeSet<String>,
    /// The id whose continuation this node is.
    pub parent: Option<String>,
    pub references: Vec<(Stamp, Reference)>,
    pub relations: Vec<(Stamp, Relationship)>,
    pub last_modified: Option<i64>,
}

/// Import counters, checkpointed with the state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Frames applied to the primary import.
    pub frames_imported: u64,
    /// Events in those frames.
    pub events_imported: u64,
    /// Frames (or damaged regions) sent to quarantine.
    pub frames_quarantined: u64,
    /// Events in quarantined frames (as far as they could be decoded).
    pub events_quarantined: u64,
    /// Instances that completed.
    pub instances_completed: u64,
    /// Quarantined frames later imported by a replay.
    pub frames_replayed: u64,
}

/// The part of the state a checkpoint persists.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    pub applied_lsn: Lsn,
    /// Deployed definitions, JSON form.
    pub definitions: Vec<String>,
    pub nodes: Vec<(Key, Node)>,
    pub resolved: BTreeSet<u64>,
    pub counters: Counters,
    /// The quarantine's next entry id when the checkpoint was taken.
    pub quarantine_next: u64,
    /// Declared real-time aggregations (their totals are rebuilt on open).
    pub aggregations: Vec<AggregationSpec>,
}

/// Everything the bus knows; queries read it under a read lock.
#[derive(Default)]
pub(crate) struct BusState {
    pub applied_lsn: Lsn,
    pub definitions: BTreeMap<String, ActivityDefinition>,
    pub nodes: HashMap<Key, Node>,
    /// Quarantine entries imported by a replay.
    pub resolved: BTreeSet<u64>,
    pub counters: Counters,
    /// Completed instances not yet written to a segment file.
    pub memtable: BTreeMap<Key, Arc<StoredInstance>>,
    /// Continuation tokens of memtable instances → their root key.
    pub aliases: HashMap<Key, Key>,
    /// Live segment files, oldest first.
    pub files: Vec<Arc<SegmentFile>>,
    /// Real-time aggregations by name.
    pub aggregations: BTreeMap<String, Declared>,
}

/// Whether a value already has the declared type (and fits it), so no
/// coercion (and no copy) is needed.
fn value_fits(value: &crate::model::Value, ty: &crate::model::ItemType) -> bool {
    use crate::model::{ItemType, Value};
    match (value, ty) {
        (Value::Text(t), ItemType::Text { max_len }) => {
            t.len() <= *max_len as usize || t.chars().count() <= *max_len as usize
        }
        (Value::Int(_), ItemType::Int)
        | (Value::Float(_), ItemType::Float)
        | (Value::Bool(_), ItemType::Bool)
        | (Value::Timestamp(_), ItemType::Timestamp) => true,
        _ => false,
    }
}

/// An event that passed validation, with its values coerced.
pub(crate) struct Prepared {
    key: Key,
    stamp: Stamp,
    kind: EventKind,
}

/// A completed instance found by [`BusState::find_completed`].
enum Completed<'a> {
    InMemory(&'a Arc<StoredInstance>),
    InFile(StoredInstance),
}

impl BusState {
    /// The completed instance with this id or continuation token, if any.
    pub fn completed(&self, key: &Key) -> Result<Option<Arc<StoredInstance>>, String> {
        Ok(self.find_completed(key)?.map(|found| match found {
            Completed::InMemory(rec) => rec.clone(),
            Completed::InFile(rec) => Arc::new(rec),
        }))
    }

    /// Where a completed instance is: the memtable (shared), or a file
    /// (decoded for this caller alone).
    fn find_completed(&self, key: &Key) -> Result<Option<Completed<'_>>, String> {
        let root = self.aliases.get(key).unwrap_or(key);
        if let Some(rec) = self.memtable.get(root) {
            return Ok(Some(Completed::InMemory(rec)));
        }
        let probe = crate::segments::file::KeyProbe::of(&key.0, &key.1);
        for file in self.files.iter().rev() {
            if let Some(rec) = file
                .get_probed(&key.0, &key.1, &probe)
                .map_err(|e| format!("{}: {e}", file.path.display()))?
            {
                return Ok(Some(Completed::InFile(rec)));
            }
        }
        Ok(None)
    }

    /// The top of the tree `key` belongs to (itself if it has no parent).
    pub fn top(&self, key: &Key) -> Key {
        let mut current = key.clone();
        // A parent chain never loops (enable refuses cycles); the bound
        // is a second guard.
        for _ in 0..=self.nodes.len() {
            match self.nodes.get(&current).and_then(|n| n.parent.clone()) {
                Some(parent)
                    if self
                        .nodes
                        .contains_key(&(current.0.clone(), parent.clone())) =>
                {
                    current = (current.0, parent);
                }
                _ => break,
            }
        }
        current
    }

    /// The keys of the subtree under `top`, top first.
    fn subtree(&self, top: &Key) -> Vec<Key> {
        let mut out = vec![top.clone()];
        let mut i = 0;
        while let Some(key) = out.get(i).cloned() {
            if let Some(node) = self.nodes.get(&key) {
                for token in &node.tokens {
                    let child = (key.0.clone(), token.clone());
                    if self.nodes.contains_key(&child) && !out.contains(&child) {
                        out.push(child);
                    }
                }
            }
            i += 1;
        }
        out
    }

    fn is_complete(&self, top: &Key) -> bool {
        let Some(root) = self.nodes.get(top) else {
            return false;
        };
        if root.begun.is_none() {
            return false;
        }
        self.subtree(top).iter().all(|key| {
            self.nodes.get(key).is_some_and(|node| {
                node.ended.is_some()
                    && node
                        .tokens
                        .iter()
                        .all(|t| self.nodes.contains_key(&(key.0.clone(), t.clone())))
            })
        })
    }

    /// Merges the tree under `top` into one instance.
    fn merge(&self, top: &Key, completed: bool) -> StoredInstance {
        let keys = self.subtree(top);
        let mut items: BTreeMap<&str, (&StoredValue, Stamp)> = BTreeMap::new();
        let mut references = Vec::new();
        let mut relations = Vec::new();
        let mut continuations = Vec::new();
        let (mut last_modified, mut end) = (None::<i64>, None::<i64>);
        for key in &keys {
            let Some(node) = self.nodes.get(key) else {
                continue;
            };
            for (name, (value, stamp)) in &node.items {
                let newer = items.get(name.as_str()).is_none_or(|(_, s)| stamp > s);
                if newer {
                    items.insert(name, (value, *stamp));
                }
            }
            references.extend(node.references.iter().cloned());
            relations.extend(node.relations.iter().cloned());
            continuations.extend(node.tokens.iter().cloned());
            last_modified = last_modified.max(node.last_modified);
            end = end.max(node.ended.map(|s| s.ts));
        }
        references.sort_by_key(|(s, _)| *s);
        relations.sort_by_key(|(s, _)| *s);
        let ordered: Vec<(String, StoredValue)> = match self.definitions.get(&top.0) {
            Some(def) => def
                .items
                .iter()
                .filter_map(|d| {
                    items
                        .get(d.name.as_str())
                        .map(|(v, _)| (d.name.clone(), (*v).clone()))
                })
                .collect(),
            None => items
                .iter()
                .map(|(n, (v, _))| (n.to_string(), (*v).clone()))
                .collect(),
        };
        let begun = self.nodes.get(top).and_then(|n| n.begun).map(|s| s.ts);
        StoredInstance {
            activity: top.0.clone(),
            id: top.1.clone(),
            begin: begun,
            end: if completed { end } else { None },
            last_modified,
            items: ordered,
            continuations,
            references: references.into_iter().map(|(_, r)| r).collect(),
            relationships: relations.into_iter().map(|(_, r)| r).collect(),
        }
    }

    /// The merged instance with this id or continuation token, active or
    /// completed; `None` if unknown or still pending.
    pub fn get(&self, key: &Key) -> Result<Option<ActivityInstance>, String> {
        if self.nodes.contains_key(key) {
            let top = self.top(key);
            let visible = self.nodes.get(&top).is_some_and(|n| n.begun.is_some());
            if !visible {
                return Ok(None);
            }
            let mut instance = self.merge(&top, false).to_instance();
            instance.status = Status::Active;
            return Ok(Some(instance));
        }
        // Straight from the file when it is there: no shared copy to clone.
        Ok(self.find_completed(key)?.map(|found| match found {
            Completed::InMemory(rec) => rec.to_instance(),
            Completed::InFile(rec) => rec.into_instance(),
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
                let mut i = self.merge(key, false).to_instance();
                i.status = Status::Active;
                i
            })
            .collect()
    }

    /// Validates every event of a batch; on success applies them all and
    /// completes the instances that became complete. On failure nothing is
    /// applied and every reason is returned (the frame goes to quarantine).
    pub fn apply_batch(&mut self, batch: Batch) -> Result<(), Vec<String>> {
        let events = batch.events.len() as u64;
        let prepared = self.validate(batch)?;
        // Real-time aggregations need every changed instance's version
        // before and after the frame.
        let tracked: Vec<Key> = if self
            .aggregations
            .values()
            .any(|d| prepared.iter().any(|p| p.key.0 == d.spec.activity))
        {
            let mut keys: Vec<Key> = prepared.iter().map(|p| p.key.clone()).collect();
            keys.sort();
            keys.dedup();
            keys
        } else {
            Vec::new()
        };
        let before = self.versions(&tracked);
        let mut touched = Vec::new();
        for p in prepared {
            self.apply_one(p, &mut touched);
        }
        let mut seen = HashSet::new();
        for key in touched {
            let top = self.top(&key);
            if seen.insert(top.clone()) && self.is_complete(&top) {
                self.complete(&top);
            }
        }
        if !tracked.is_empty() {
            let after = self.versions(&tracked);
            self.update_aggregations(before, after);
        }
        self.counters.frames_imported += 1;
        self.counters.events_imported += events;
        Ok(())
    }

    /// The visible version of the instance each key belongs to, by root.
    fn versions(&self, keys: &[Key]) -> BTreeMap<Key, ActivityInstance> {
        let mut out = BTreeMap::new();
        for key in keys {
            // A completed instance is looked up by its root's key; an
            // instance this frame could touch is never in a file yet.
            if let Ok(Some(i)) = self.get(key) {
                out.insert((i.activity.clone(), i.id.clone()), i);
            }
        }
        out
    }

    fn update_aggregations(
        &mut self,
        mut before: BTreeMap<Key, ActivityInstance>,
        after: BTreeMap<Key, ActivityInstance>,
    ) {
        let mut changes: Vec<(Option<ActivityInstance>, Option<ActivityInstance>)> = Vec::new();
        for (key, new) in after {
            let old = before.remove(&key);
            if old.as_ref() != Some(&new) {
                changes.push((old, Some(new)));
            }
        }
        // Roots that vanished (only by removal; merges keep the root).
        changes.extend(before.into_values().map(|old| (Some(old), None)));
        for declared in self.aggregations.values_mut() {
            for (old, new) in &changes {
                let relevant = [old, new].iter().any(|v| {
                    v.as_ref()
                        .is_some_and(|i| i.activity == declared.spec.activity)
                });
                if relevant {
                    declared.running.apply(old.as_ref(), new.as_ref());
                }
            }
        }
    }

    /// Every visible instance of `activity`: active, waiting to be filed,
    /// and in the import files.
    pub fn all_instances(&self, activity: &str) -> Result<Vec<ActivityInstance>, String> {
        let mut out = self.instances_in_memory(activity, StatusFilter::All);
        for file in &self.files {
            out.extend(file.instances_of(activity)?);
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

    /// Takes instances that left the online store out of the real-time
    /// aggregations.
    pub fn retire(&mut self, records: &[StoredInstance]) {
        let before = records
            .iter()
            .map(|r| ((r.activity.clone(), r.id.clone()), r.to_instance()))
            .collect();
        self.update_aggregations(before, BTreeMap::new());
    }

    /// Declares (or replaces) a real-time aggregation, building its totals
    /// from the instances there are now.
    pub fn declare(&mut self, spec: AggregationSpec) -> Result<(), String> {
        let def = self
            .definitions
            .get(&spec.activity)
            .ok_or_else(|| format!("activity {} is not deployed", spec.activity))?;
        spec.to_aggregate()?
            .validate(def)
            .map_err(|e| e.to_string())?;
        let declared = Declared::build(spec.clone(), self.all_instances(&spec.activity)?)?;
        self.aggregations.insert(spec.name.clone(), declared);
        Ok(())
    }

    pub fn undeclare(&mut self, name: &str) -> Result<(), String> {
        self.aggregations
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| format!("no real-time aggregation named {name}"))
    }

    /// Checks a batch against the definitions and the state without
    /// changing anything.
    pub fn validate(&self, batch: Batch) -> Result<Vec<Prepared>, Vec<String>> {
        let mut reasons = Vec::new();
        let mut prepared = Vec::with_capacity(batch.events.len());
        let mut checked_open: HashSet<Key> = HashSet::new();
        let (producer, seq) = (batch.producer, batch.seq);
        for (i, ev) in batch.events.into_iter().enumerate() {
            // Built only when something is wrong: this loop is the import's
            // hot path.
            let what = |ev_op: &str, activity: &str, id: &str| {
                format!("event {i} ({ev_op} {activity}/{id})")
            };
            let crate::model::Event {
                ts,
                activity,
                id,
                mut kind,
            } = ev;
            let op = kind.op();
            let Some(def) = self.definitions.get(&activity) else {
                reasons.push(format!(
                    "{}: activity {activity} is not deployed",
                    what(op, &activity, &id)
                ));
                continue;
            };
            let key: Key = (activity, id);
            match &mut kind {
                EventKind::Update(items) => {
                    for (name, value) in items.iter_mut() {
                        match def.item(name) {
                            None => reasons.push(format!(
                                "{}: item {name} is not defined for activity {}",
                                what(op, &key.0, &key.1),
                                def.name
                            )),
                            Some(item) if value_fits(value, &item.ty) => {}
                            Some(item) => match coerce(value, &item.ty) {
                                Ok(v) => *value = v,
                                Err(e) => reasons.push(format!(
                                    "{}: item {name}: {e}",
                                    what(op, &key.0, &key.1)
                                )),
                            },
                        }
                    }
                }
                EventKind::EnableContinuation { token } => {
                    if let Err(reason) = self.check_link(&key, token) {
                        reasons.push(format!("{}: {reason}", what(op, &key.0, &key.1)));
                    }
                }
                _ => {}
            }
            if !self.nodes.contains_key(&key) && !checked_open.contains(&key) {
                match self.completed(&key) {
                    Ok(None) => {}
                    Ok(Some(rec)) => reasons.push(format!(
                        "{}: instance {}/{} is already completed",
                        what(op, &key.0, &key.1),
                        rec.activity,
                        rec.id
                    )),
                    Err(e) => reasons.push(format!(
                        "{}: cannot read completed instances: {e}",
                        what(op, &key.0, &key.1)
                    )),
                }
                checked_open.insert(key.clone());
            }
            prepared.push(Prepared {
                key,
                stamp: Stamp {
                    ts: ts.as_micros(),
                    producer,
                    seq,
                    index: i as u32,
                },
                kind,
            });
        }
        if reasons.is_empty() {
            Ok(prepared)
        } else {
            Err(reasons)
        }
    }

    /// Whether `token` may become a continuation of `key`.
    fn check_link(&self, key: &Key, token: &str) -> Result<(), String> {
        if token == key.1 {
            return Err("a continuation token cannot be the instance's own id".into());
        }
        let child = (key.0.clone(), token.to_owned());
        if let Some(parent) = self.nodes.get(&child).and_then(|n| n.parent.as_ref()) {
            if parent != &key.1 {
                return Err(format!("token {token} already continues {parent}"));
            }
        }
        // Linking to an ancestor would make a cycle.
        let mut current = key.clone();
        for _ in 0..=self.nodes.len() {
            match self.nodes.get(&current).and_then(|n| n.parent.clone()) {
                Some(p) if p == token => {
                    return Err(format!("token {token} would make a continuation cycle"))
                }
                Some(p) => current = (current.0, p),
                None => break,
            }
        }
        match self.completed(&child) {
            Ok(Some(rec)) => Err(format!(
                "token {token} belongs to completed instance {}",
                rec.id
            )),
            Ok(None) => Ok(()),
            Err(e) => Err(format!("cannot read completed instances: {e}")),
        }
    }

    fn apply_one(&mut self, p: Prepared, touched: &mut Vec<Key>) {
        let Prepared { key, stamp, kind } = p;
        if let EventKind::EnableContinuation { token } = &kind {
            // Two links of one token in the same frame: the first wins
            // (validation saw the state before the frame).
            if self.check_link(&key, token).is_err() {
                touched.push(key);
                return;
            }
            let child = (key.0.clone(), token.clone());
            self.nodes.entry(child.clone()).or_default().parent = Some(key.1.clone());
            touched.push(child);
        }
        // Only begin, end and links can complete an instance; updates are
        // the bulk of events, so they skip the bookkeeping (and key copies).
        let changes_completion = !matches!(
            kind,
            EventKind::Update(_)
                | EventKind::AddReference { .. }
                | EventKind::AddRelatedActivity { .. }
        );
        if changes_completion {
            touched.push(key.clone());
        }
        let node = match self.nodes.get_mut(&key) {
            Some(node) => node,
            None => self.nodes.entry(key).or_default(),
        };
        match kind {
            EventKind::Begin => node.begun = node.begun.min(Some(stamp)).or(Some(stamp)),
            EventKind::End => node.ended = node.ended.max(Some(stamp)),
            EventKind::Update(items) => {
                for (name, value) in items {
                    let newer = node.items.get(&name).is_none_or(|(_, s)| stamp > *s);
                    if newer {
                        node.items.insert(name, ((&value).into(), stamp));
                    }
                }
            }
            EventKind::EnableContinuation { token } => {
                node.tokens.insert(token);
            }
            EventKind::AddReference {
                ref_type,
                ref_name,
                data,
                long_data,
            } => node.references.push((
                stamp,
                Reference {
                    ref_type,
                    name: ref_name,
                    data,
                    long_data,
                },
            )),
            EventKind::AddRelatedActivity {
                related_activity,
                related_id,
            } => node.relations.push((
                stamp,
                Relationship {
                    activity: related_activity,
                    id: related_id,
                },
            )),
        }
        node.last_modified = node.last_modified.max(Some(stamp.ts));
    }

    /// Moves a complete tree out of the active state into the memtable.
    fn complete(&mut self, top: &Key) {
        let record = Arc::new(self.merge(top, true));
        for key in self.subtree(top) {
            self.nodes.remove(&key);
        }
        // Every token of the instance (also one that never reported, after a
        // forced completion) now names the completed instance, as the import
        // file's index will.
        for token in &record.continuations {
            self.aliases
                .insert((top.0.clone(), token.clone()), top.clone());
        }
        self.memtable.insert(top.clone(), record);
        self.counters.instances_completed += 1;
    }

    /// Completes the instance `key` belongs to now, at `time`, whatever
    /// parts have not ended (an operator's decision, as in BAM).
    pub fn force_complete(&mut self, key: &Key, time: i64) -> Result<(), String> {
        let top = self.visible_top(key)?;
        let before = self.versions(std::slice::from_ref(key));
        let stamp = Stamp {
            ts: time,
            producer: u32::MAX,
            seq: u64::MAX,
            index: 0,
        };
        if let Some(root) = self.nodes.get_mut(&top) {
            if root.ended.is_none() {
                root.ended = Some(stamp);
            }
        }
        self.complete(&top);
        let after = self.versions(std::slice::from_ref(&top));
        self.update_aggregations(before, after);
        Ok(())
    }

    /// Removes the instance `key` belongs to (every part) from the active
    /// state; pending trees can be removed too.
    pub fn remove(&mut self, key: &Key) -> Result<(), String> {
        if !self.nodes.contains_key(key) {
            return Err(format!(
                "{}/{} is not an active or pending instance",
                key.0, key.1
            ));
        }
        let before = self.versions(std::slice::from_ref(key));
        let top = self.top(key);
        for k in self.subtree(&top) {
            self.nodes.remove(&k);
        }
        self.update_aggregations(before, BTreeMap::new());
        Ok(())
    }

    fn visible_top(&self, key: &Key) -> Result<Key, String> {
        if !self.nodes.contains_key(key) {
            return Err(format!("{}/{} is not an active instance", key.0, key.1));
        }
        let top = self.top(key);
        if self.nodes.get(&top).is_some_and(|n| n.begun.is_some()) {
            Ok(top)
        } else {
            Err(format!(
                "{}/{} is pending (never begun); remove it instead",
                key.0, key.1
            ))
        }
    }

    /// Applies a deployed definition (already checked by the deployer; an
    /// incompatible one is refused here too).
    pub fn deploy(&mut self, def: ActivityDefinition) -> Result<(), String> {
        def.validate().map_err(|e| e.to_string())?;
        if let Some(old) = self.definitions.get(&def.name) {
            crate::model::check_upgrade(old, &def).map_err(|e| e.to_string())?;
        }
        self.definitions.insert(def.name.clone(), def);
        Ok(())
    }

    pub fn snapshot(&self, quarantine_next: u64) -> Snapshot {
        Snapshot {
            applied_lsn: self.applied_lsn,
            definitions: self
                .definitions
                .values()
                .filter_map(|d| serde_json::to_string(d).ok())
                .collect(),
            nodes: self
                .nodes
                .iter()
                .map(|(k, n)| (k.clone(), n.clone()))
                .collect(),
            resolved: self.resolved.clone(),
            counters: self.counters,
            quarantine_next,
            aggregations: self.aggregations.values().map(|d| d.spec.clone()).collect(),
        }
    }

    pub fn restore(snapshot: Snapshot, files: Vec<Arc<SegmentFile>>) -> Result<BusState, String> {
        let mut definitions = BTreeMap::new();
        for json in &snapshot.definitions {
            let def: ActivityDefinition =
                serde_json::from_str(json).map_err(|e| format!("checkpoint definition: {e}"))?;
            definitions.insert(def.name.clone(), def);
        }
        let mut state = BusState {
            applied_lsn: snapshot.applied_lsn,
            definitions,
            nodes: snapshot.nodes.into_iter().collect(),
            resolved: snapshot.resolved,
            counters: snapshot.counters,
            memtable: BTreeMap::new(),
            aliases: HashMap::new(),
            files,
            aggregations: BTreeMap::new(),
        };
        for spec in snapshot.aggregations {
            let instances = state.all_instances(&spec.activity)?;
            let declared = Declared::build(spec, instances)?;
            state
                .aggregations
                .insert(declared.spec.name.clone(), declared);
        }
        Ok(state)
    }
}
