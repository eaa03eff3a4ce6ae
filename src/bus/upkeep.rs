//! Keeping the real-time aggregations (see `aggregations`) up to date as
//! instances change: before a frame is applied, the versions of the
//! instances it may change are read; after, each changed instance's
//! contribution moves from its old version to its new one.

use std::collections::{BTreeMap, BTreeSet};

use super::aggregations::{AggregationSpec, Declared};
use super::amend::Reopen;
use super::state::{BusState, Key};
use super::validate::Prepared;
use crate::model::ActivityInstance;
use crate::model::EventKind;
use crate::segments::record::StoredInstance;

impl BusState {
    /// The keys whose instances a frame may change, when a real-time
    /// aggregation watches their activity (empty otherwise): the events'
    /// ids and tokens, the nodes linked to them, and the parts of the
    /// completed instances it reopens.
    pub(super) fn tracked_keys(&self, prepared: &[Prepared], reopen: &[Reopen]) -> Vec<Key> {
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
    pub(super) fn versions(&self, keys: &[Key]) -> BTreeMap<Key, ActivityInstance> {
        let mut out = BTreeMap::new();
        for key in keys {
            if let Ok(Some(i)) = self.get(key) {
                out.insert((i.activity.clone(), i.id.clone()), i);
            }
        }
        out
    }

    pub(super) fn update_aggregations(
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
        let mut declared = Declared::empty(spec.clone())?;
        self.for_each_instance(&spec.activity, |i| {
            declared.running.apply(None, Some(&i));
        })
        .map_err(|e| e.to_string())?;
        self.aggregations.insert(spec.name.clone(), declared);
        Ok(())
    }

    pub fn undeclare(&mut self, name: &str) -> Result<(), String> {
        self.aggregations
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| format!("no real-time aggregation named {name}"))
    }
}
