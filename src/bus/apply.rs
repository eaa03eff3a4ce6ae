//! Applying a validated frame to the state: each event to its node, by
//! rules that commute (earliest begin, latest end, greatest stamp per
//! item, links decided by `tree`), then completing the instances that
//! became complete. The rules and their reasons are in
//! `docs/ARCHITECTURE.md`, "Apply rules".

use std::sync::Arc;

use super::state::{value_order, BusState, Key};
use super::validate::Prepared;
use crate::model::{Batch, EventKind};
use crate::model::{Reference, Relationship};
use crate::segments::record::StoredValue;

impl BusState {
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
        // Each key once: a lookup may read the active runs.
        let mut reached: Vec<&Key> = prepared.iter().map(|p| &p.key).chain(&tokens).collect();
        reached.sort_unstable();
        reached.dedup();
        reached.retain(|key| !self.nodes.contains_key(key));
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
        // Each tree once: most keys are their own top (no parent), so they
        // are moved, not copied, and sorting finds the repeats.
        let mut tops: Vec<Key> = touched.into_iter().map(|k| self.top_of(k)).collect();
        tops.sort_unstable();
        tops.dedup();
        for top in tops {
            if self.is_complete(&top) {
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

    fn apply_one(&mut self, p: Prepared, touched: &mut Vec<Key>, relink: &mut Vec<Key>) {
        let Prepared { key, stamp, kind } = p;
        if let EventKind::EnableContinuation { token } = &kind {
            let child = (key.0.clone(), token.clone());
            if let Some(node) = self.nodes.get_or_default(&child) {
                node.linked_by.insert(key.1.clone());
            }
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
        let Some(node) = self.nodes.get_or_default(&key) else {
            if changes_completion {
                touched.push(key);
            }
            return;
        };
        match kind {
            EventKind::Begin => {
                node.begun = node.begun.min(Some(stamp)).or(Some(stamp));
                // A begun id is an instance of its own: links naming it
                // no longer take effect.
                if !node.linked_by.is_empty() {
                    relink.push(key.clone());
                }
            }
            EventKind::End => node.ended = node.ended.max(Some(stamp)),
            EventKind::Update(items) => {
                for (name, value) in items {
                    let value = StoredValue::from(value);
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
        if changes_completion {
            touched.push(key);
        }
    }

    /// Moves a complete tree out of the active state into the memtable.
    pub(super) fn complete(&mut self, top: &Key) {
        let keys = self.subtree(top);
        let mut record = self.merge_keys(top, &keys, true);
        record.parts = match self.encode_parts(&keys, &record) {
            Ok(parts) => parts,
            Err(e) => {
                // Cannot happen for in-memory values; if it did, the
                // instance stays active rather than lose its parts.
                tracing::error!(activity = %top.0, id = %top.1, error = %e, "instance not completed");
                return;
            }
        };
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
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
