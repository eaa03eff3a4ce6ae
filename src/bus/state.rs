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

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{
    coerce, ActivityDefinition, ActivityInstance, Batch, EventKind, Reference, Relationship,
    Status, StatusFilter,
};
use crate::segments::file::SegmentFile;
use crate::segments::record::{StoredInstance, StoredValue};
use crate::wal::Lsn;

use super::aggregations::{AggregationSpec, Declared};
use super::amend::{Reopen, Superseded};

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
    /// Records in import files that a newer version of their instance
    /// supersedes: (file name, roots).
    pub superseded: Vec<(String, Vec<Key>)>,
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
    /// Records in import files that are old versions of amended instances.
    pub superseded: Superseded,
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

impl BusState {
    /// The merged instance with this id or continuation token, active or
    /// completed; `None` if unknown or still pending.
    pub fn get(&self, key: &Key) -> Result<Option<ActivityInstance>, String> {
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

    /// Validates every event of a batch; on success applies them all and
    /// completes the instances that became complete. On failure nothing is
    /// applied and every reason is returned (the frame goes to quarantine).
    ///
    /// Validity depends only on the frame and the deployed definitions, not
    /// on which other frames arrived first: an event for a completed
    /// instance reopens and amends it (see `amend.rs`), and which links take
    /// effect is decided from all of them (see `tree.rs`). So the result is
    /// the same in every arrival order, replays from quarantine included.
    pub fn apply_batch(&mut self, batch: Batch) -> Result<(), Vec<String>> {
        let events = batch.events.len() as u64;
        let prepared = self.validate(batch)?;
        // The completed instances the frame reaches, read before anything
        // changes: a frame whose instances cannot be read is refused whole.
        // (Borrowed keys: this runs for every new instance's events.)
        let tokens: Vec<Key> = prepared
            .iter()
            .filter_map(|p| match &p.kind {
                EventKind::EnableContinuation { token } => Some((p.key.0.clone(), token.clone())),
                _ => None,
            })
            .collect();
        let mut reached: Vec<&Key> = prepared
            .iter()
            .map(|p| &p.key)
            .chain(&tokens)
            .filter(|key| !self.nodes.contains_key(*key))
            .collect();
        reached.sort_unstable();
        reached.dedup();
        let reopen = self.to_reopen(&reached).map_err(|e| vec![e])?;
        // Real-time aggregations need every changed instance's version
        // before and after the frame.
        let tracked = self.tracked_keys(&prepared, &reopen);
        let before = self.versions(&tracked);
        let mut touched = Vec::new();
        let mut relink = Vec::new();
        for r in reopen {
            touched.push(r.root.clone());
            relink.push(r.root.clone());
            self.reopen(r);
        }
        for p in prepared {
            self.apply_one(p, &mut touched, &mut relink);
        }
        if !relink.is_empty() {
            touched.extend(self.relink(&relink));
        }
        let mut seen = HashSet::new();
        for key in touched {
            let top = self.top(&key);
            if seen.insert(top.clone()) && self.is_complete(&top) {
                self.complete(&top);
            }
        }
        if !tracked.is_empty() {
            let mut keys = tracked;
            keys.extend(before.keys().cloned());
            let after = self.versions(&keys);
            self.update_aggregations(before, after);
        }
        self.counters.frames_imported += 1;
        self.counters.events_imported += events;
        Ok(())
    }

    /// The keys whose instances a frame may change, when a real-time
    /// aggregation watches their activity (empty otherwise): the events'
    /// ids and tokens, the nodes linked to them, and the parts of the
    /// completed instances it reopens.
    fn tracked_keys(&self, prepared: &[Prepared], reopen: &[Reopen]) -> Vec<Key> {
        let watched = self
            .aggregations
            .values()
            .any(|d| prepared.iter().any(|p| p.key.0 == d.spec.activity));
        if !watched {
            return Vec::new();
        }
        let mut keys: BTreeSet<Key> = BTreeSet::new();
        for p in prepared {
            keys.insert(p.key.clone());
            if let EventKind::EnableContinuation { token } = &p.kind {
                keys.insert((p.key.0.clone(), token.clone()));
            }
        }
        let mut linked = BTreeSet::new();
        for r in reopen {
            keys.insert(r.root.clone());
            for (id, node) in &r.parts {
                keys.insert((r.root.0.clone(), id.clone()));
                for other in node.tokens.keys().chain(node.linked_by.iter()) {
                    linked.insert((r.root.0.clone(), other.clone()));
                }
            }
        }
        for key in &keys {
            if let Some(node) = self.nodes.get(key) {
                for id in node.tokens.keys().chain(node.linked_by.iter()) {
                    linked.insert((key.0.clone(), id.clone()));
                }
            }
        }
        keys.extend(linked);
        keys.into_iter().collect()
    }

    /// The visible version of the instance each key belongs to, by root.
    fn versions(&self, keys: &[Key]) -> BTreeMap<Key, ActivityInstance> {
        let mut out = BTreeMap::new();
        for key in keys {
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

    /// Checks a batch against the definitions, without changing anything.
    /// What is checked depends only on the frame and the definitions:
    /// activities deployed, items defined, values of (or coercible to) the
    /// item's type, no token equal to its own id, no cycle of links within
    /// the frame.
    pub fn validate(&self, batch: Batch) -> Result<Vec<Prepared>, Vec<String>> {
        let mut reasons = Vec::new();
        let mut prepared = Vec::with_capacity(batch.events.len());
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
                EventKind::EnableContinuation { token } if *token == key.1 => {
                    reasons.push(format!(
                        "{}: a continuation token cannot be the instance's own id",
                        what(op, &key.0, &key.1)
                    ));
                }
                _ => {}
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
        if let Some(cycle) = link_cycle(&prepared) {
            reasons.push(cycle);
        }
        if reasons.is_empty() {
            Ok(prepared)
        } else {
            Err(reasons)
        }
    }

    fn apply_one(&mut self, p: Prepared, touched: &mut Vec<Key>, relink: &mut Vec<Key>) {
        let Prepared { key, stamp, kind } = p;
        if let EventKind::EnableContinuation { token } = &kind {
            let child = (key.0.clone(), token.clone());
            self.nodes
                .entry(child.clone())
                .or_default()
                .linked_by
                .insert(key.1.clone());
            relink.push(child.clone());
            relink.push(key.clone());
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
            None => self.nodes.entry(key.clone()).or_default(),
        };
        match kind {
            EventKind::Begin => {
                node.begun = node.begun.min(Some(stamp)).or(Some(stamp));
                // A begun id is an instance of its own: links naming it
                // no longer take effect.
                if !node.linked_by.is_empty() {
                    relink.push(key);
                }
            }
            EventKind::End => node.ended = node.ended.max(Some(stamp)),
            EventKind::Update(items) => {
                for (name, value) in items {
                    let value = StoredValue::from(&value);
                    let newer = node.items.get(&name).is_none_or(|(old, s)| {
                        stamp > *s || (stamp == *s && value_order(&value, old).is_gt())
                    });
                    if newer {
                        node.items.insert(name, (value, stamp));
                    }
                }
            }
            EventKind::EnableContinuation { token } => {
                let link = node.tokens.entry(token).or_insert(stamp);
                *link = (*link).min(stamp);
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
        let keys = self.subtree(top);
        let parts = match self.encode_parts(&keys) {
            Ok(parts) => parts,
            Err(e) => {
                // Cannot happen for in-memory values; if it did, the
                // instance stays active rather than lose its parts.
                tracing::error!(activity = %top.0, id = %top.1, error = %e, "instance not completed");
                return;
            }
        };
        let mut record = self.merge_keys(top, &keys, true);
        record.parts = parts;
        for key in &keys {
            self.nodes.remove(key);
        }
        // Every part of the instance now names the completed instance, as
        // the import file's index will.
        for token in &record.continuations {
            self.aliases
                .insert((top.0.clone(), token.clone()), top.clone());
        }
        self.memtable.insert(top.clone(), Arc::new(record));
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
            root.forced = root.forced.min(Some(stamp)).or(Some(stamp));
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

    /// Deploys several definitions all or nothing: each is checked against
    /// the deployed ones and the earlier ones in the list first.
    pub fn deploy_all(&mut self, defs: Vec<ActivityDefinition>) -> Result<(), String> {
        let mut staged = self.definitions.clone();
        let count = defs.len();
        for (i, def) in defs.into_iter().enumerate() {
            let named = |e: String| {
                format!(
                    "definition {} of {count} ({}): {e}; nothing was deployed",
                    i + 1,
                    def.name
                )
            };
            def.validate().map_err(|e| named(e.to_string()))?;
            if let Some(old) = staged.get(&def.name) {
                crate::model::check_upgrade(old, &def).map_err(|e| named(e.to_string()))?;
            }
            staged.insert(def.name.clone(), def);
        }
        self.definitions = staged;
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
            superseded: self
                .superseded
                .iter()
                .map(|(name, roots)| (name.clone(), roots.iter().cloned().collect()))
                .collect(),
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
            superseded: snapshot
                .superseded
                .into_iter()
                .map(|(name, roots)| (name, roots.into_iter().collect()))
                .collect(),
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

/// A cycle of links within one frame (`a` continues as `b`, `b` as `a`),
/// named with the event that closes it. Links across frames that would
/// form a cycle are resolved by [`BusState::relink`]; within one frame the
/// producer sent a contradiction, so the frame is refused.
fn link_cycle(prepared: &[Prepared]) -> Option<String> {
    let mut parent_of: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    let mut links = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        if let EventKind::EnableContinuation { token } = &p.kind {
            links.push((i, p.key.0.as_str(), p.key.1.as_str(), token.as_str()));
        }
    }
    if links.len() < 2 {
        return None;
    }
    for &(i, activity, from, token) in &links {
        // Is `from` reachable from `token` through the links before this
        // one? Then this link closes a cycle.
        let mut stack = vec![from];
        let mut seen: HashSet<&str> = HashSet::new();
        while let Some(id) = stack.pop() {
            if id == token {
                return Some(format!(
                    "event {i} (continue {activity}/{from}): token {token} closes a cycle of \
                     continuations within the frame"
                ));
            }
            if seen.insert(id) {
                if let Some(parents) = parent_of.get(&(activity, id)) {
                    stack.extend(parents.iter().copied());
                }
            }
        }
        parent_of.entry((activity, token)).or_default().push(from);
    }
    None
}
