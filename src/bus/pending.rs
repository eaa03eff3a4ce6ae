//! Pending records: what the bus holds for ids that were never begun and
//! are not (yet) linked as a continuation of a begun instance, listed for
//! [`crate::Store::pending`] and `bamdb search --status pending`.
//!
//! A tree of nodes is pending while its top (see [`BusState::top`]) has
//! not begun. It becomes visible when the top's `begin` arrives or when
//! the top is enabled as a continuation token of a begun instance; until
//! then queries do not see it, so this listing is how an operator finds
//! data that waits for a begin or a link that may never come (and removes
//! it with `Store::remove_instance` if it never will).

use std::ops::ControlFlow;

use serde::Serialize;

use super::state::{BusState, Key};
use crate::model::{Timestamp, Value};
use crate::segments::error::ImportFileError;

/// One pending tree: events for an id that was never begun and is not
/// linked to a begun instance yet, with the continuations reported under
/// it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingInstance {
    /// The activity name.
    pub activity: String,
    /// The top of the tree: the id (or unlinked continuation token) the
    /// tree waits on. It becomes visible when this id is begun, or when it
    /// is enabled as a continuation of a begun instance.
    pub id: String,
    /// Every id and token of the tree, the top first, then the
    /// continuation tokens enabled under it (breadth first).
    pub ids: Vec<String>,
    /// The items set so far, merged over the tree as a visible instance
    /// would merge them (the latest event wins per item), by name.
    #[serde(serialize_with = "items_as_map")]
    pub items: Vec<(String, Value)>,
    /// True when every id of the tree has received its `end`: the instance
    /// completes as soon as it becomes visible (and every token enabled in
    /// it has reported).
    pub ended: bool,
    /// The latest event timestamp applied to the tree.
    pub last_modified: Option<Timestamp>,
}

fn items_as_map<S: serde::Serializer>(items: &[(String, Value)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(items.iter().map(|(k, v)| (k, v)))
}

impl BusState {
    /// Every pending tree (of `activity`, or of every activity), ordered by
    /// activity and id.
    pub(crate) fn pending_instances(
        &self,
        activity: Option<&str>,
    ) -> Result<Vec<PendingInstance>, ImportFileError> {
        // The top of a pending tree is a node without parent, not begun.
        let mut tops: Vec<Key> = Vec::new();
        self.nodes.scan(activity, |key, node| {
            if node.parent.is_none() && node.begun.is_none() {
                tops.push(key.clone());
            }
            ControlFlow::Continue(())
        })?;
        let trees = tops.iter().map(|top| self.pending_tree(top)).collect();
        self.check_fault()?;
        Ok(trees)
    }

    /// The pending tree under `top`, merged as a visible instance would be
    /// (the same rules: [`BusState::merge`]).
    fn pending_tree(&self, top: &Key) -> PendingInstance {
        let keys = self.subtree(top);
        let ended = keys
            .iter()
            .all(|k| self.nodes.get(k).is_some_and(|n| n.ended.is_some()));
        let merged = self.merge_keys(top, &keys, false);
        let ordered: Vec<(String, Value)> = merged
            .items
            .into_iter()
            .map(|(n, v)| (n, Value::from(v)))
            .collect();
        let last_modified = merged.last_modified;
        PendingInstance {
            activity: top.0.clone(),
            id: top.1.clone(),
            ids: keys.into_iter().map(|k| k.1).collect(),
            items: ordered,
            ended,
            last_modified: last_modified.map(Timestamp::from_micros),
        }
    }
}

#[cfg(test)]
#[path = "pending_tests.rs"]
mod tests;
