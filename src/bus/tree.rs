//! The shape of an instance: which node continues which, whether the
//! instance is complete, and its merged view.
//!
//! Every link event (`enable_continuation(id, token)`) is kept on the node
//! that sent it, with its stamp; which links take effect is derived from
//! all of them, so it depends on the events, never on their arrival:
//! links are taken in stamp order, and one is ignored when its token
//! already has a parent, when the token's node was itself begun (a begun
//! id is an instance of its own, never a part of another), or when it
//! would close a cycle. The rules and their reasons are in
//! `docs/ARCHITECTURE.md`.

use std::collections::{BTreeMap, BTreeSet};

use super::nodes::NodeRef;
use super::parts;
use super::state::{value_order, BusState, Key, Node, Stamp};
use crate::fast_hash::FastMap;
use crate::model::{InstancePart, PartItem, Timestamp};
use crate::segments::error::ImportFileError;
use crate::segments::record::{StoredInstance, StoredValue};

impl BusState {
    /// The parts of the instance with this id (or token), root first, as
    /// their producers reported them; `None` if it is not an instance
    /// (unknown, or pending). A completed instance's parts come from its
    /// record (empty for records of version-1 files, which keep none).
    pub fn parts(&self, key: &Key) -> Result<Option<Vec<InstancePart>>, ImportFileError> {
        if self.nodes.contains_key(key) {
            let top = self.top(key);
            if self.nodes.get(&top).is_none_or(|n| n.begun.is_none()) {
                return Ok(None);
            }
            let keys = self.subtree(&top);
            let parts = keys
                .iter()
                .filter_map(|k| self.nodes.get(k).map(|n| part(&k.1, &n)))
                .collect();
            self.check_fault()?;
            return Ok(Some(parts));
        }
        let Some(found) = self.find_completed(key)? else {
            return Ok(None);
        };
        if found.record.parts.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let decoded = parts::decode(&found.record).map_err(|why| {
            ImportFileError::corrupt(
                std::path::Path::new("segments"),
                None,
                format!("instance {}/{}: {why}", found.root.0, found.root.1),
            )
        })?;
        Ok(Some(decoded.iter().map(|(id, n)| part(id, n)).collect()))
    }

    /// The top of the tree `key` belongs to (itself if it has no parent).
    pub fn top(&self, key: &Key) -> Key {
        self.top_of(key.clone())
    }

    /// [`BusState::top`] of a key the caller gives away: returned as is
    /// when it has no parent (most keys), without a copy.
    pub(super) fn top_of(&self, key: Key) -> Key {
        let mut current = key;
        // Effective parents never loop (relink refuses cycles); the bound
        // is a second guard.
        for _ in 0..=self.nodes.bound() {
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

    /// The keys of the nodes whose effective parent is `key`.
    fn children(&self, key: &Key) -> Vec<Key> {
        let Some(node) = self.nodes.get(key) else {
            return Vec::new();
        };
        node.tokens
            .keys()
            .map(|t| (key.0.clone(), t.clone()))
            .filter(|child| {
                self.nodes
                    .get(child)
                    .is_some_and(|c| c.parent.as_deref() == Some(key.1.as_str()))
            })
            .collect()
    }

    /// The keys of the subtree under `top`, top first.
    pub(super) fn subtree(&self, top: &Key) -> Vec<Key> {
        let mut out = vec![top.clone()];
        let mut i = 0;
        while let Some(key) = out.get(i) {
            for child in self.children(key) {
                if !out.contains(&child) {
                    out.push(child);
                }
            }
            i += 1;
        }
        out
    }

    /// Every node connected to `start` by a link event in either
    /// direction, whether the link took effect or not.
    fn component(&self, start: &Key, out: &mut BTreeSet<Key>) {
        let mut queue = vec![start.clone()];
        while let Some(key) = queue.pop() {
            let Some(node) = self.nodes.get(&key) else {
                continue;
            };
            if !out.insert(key.clone()) {
                continue;
            }
            for id in node.tokens.keys().chain(node.linked_by.iter()) {
                let next = (key.0.clone(), id.clone());
                if !out.contains(&next) {
                    queue.push(next);
                }
            }
        }
    }

    /// Decides the effective parent of every node connected to `keys`,
    /// and returns the tops of the trees they now form.
    pub(super) fn relink(&mut self, keys: &[Key]) -> Vec<Key> {
        let mut members = BTreeSet::new();
        for key in keys {
            if !members.contains(key) {
                self.component(key, &mut members);
            }
        }
        let mut edges: Vec<(Stamp, &str, String, String)> = Vec::new();
        for key in &members {
            if let Some(node) = self.nodes.get(key) {
                for (token, stamp) in &node.tokens {
                    let child = (key.0.clone(), token.clone());
                    if self.nodes.contains_key(&child) {
                        edges.push((*stamp, &key.0, key.1.clone(), token.clone()));
                    }
                }
            }
        }
        edges.sort();
        let mut parent: FastMap<(&str, &str), &str> = FastMap::default();
        for (_, activity, from, token) in &edges {
            let (activity, from, token) = (*activity, from.as_str(), token.as_str());
            if parent.contains_key(&(activity, token)) {
                continue; // an earlier link gave the token its parent
            }
            let begun = self
                .nodes
                .get(&(activity.to_owned(), token.to_owned()))
                .is_some_and(|n| n.begun.is_some());
            if begun {
                continue; // a begun id is an instance of its own
            }
            // Linking to an ancestor would close a cycle.
            let mut current = from;
            let mut cycle = current == token;
            for _ in 0..=parent.len() {
                match parent.get(&(activity, current)) {
                    Some(up) if *up == token => {
                        cycle = true;
                        break;
                    }
                    Some(up) => current = up,
                    None => break,
                }
            }
            if !cycle {
                parent.insert((activity, token), from);
            }
        }
        let parent: FastMap<Key, String> = parent
            .into_iter()
            .map(|((a, t), p)| ((a.to_owned(), t.to_owned()), p.to_owned()))
            .collect();
        // Only nodes whose parent changes are written (and so become
        // dirty: see `nodes`).
        for key in &members {
            let new = parent.get(key);
            let changed = self
                .nodes
                .get(key)
                .is_some_and(|n| n.parent.as_ref() != new);
            if changed {
                if let Some(node) = self.nodes.get_mut(key) {
                    node.parent = new.cloned();
                }
            }
        }
        let mut tops: Vec<Key> = members.iter().map(|k| self.top(k)).collect();
        tops.sort();
        tops.dedup();
        tops
    }

    /// Whether the tree under `top` is complete: its root began, and the
    /// root and every part ended (or an operator completed it).
    pub(super) fn is_complete(&self, top: &Key) -> bool {
        let Some(root) = self.nodes.get(top) else {
            return false;
        };
        if root.begun.is_none() {
            return false;
        }
        if root.tokens.is_empty() {
            // No links, so no parts: the usual instance, without a walk.
            return root.forced.is_some() || root.ended.is_some();
        }
        root.forced.is_some()
            || self
                .subtree(top)
                .iter()
                .all(|key| self.nodes.get(key).is_some_and(|n| n.ended.is_some()))
    }

    /// The nodes of a tree (its [`BusState::subtree`]), encoded for
    /// `record`, the completed record they merge into (see
    /// [`StoredInstance::parts`] and `parts.rs`).
    pub(super) fn encode_parts(
        &self,
        keys: &[Key],
        record: &StoredInstance,
    ) -> Result<Vec<u8>, String> {
        let nodes: Vec<(&str, NodeRef<'_>)> = keys
            .iter()
            .filter_map(|key| self.nodes.get(key).map(|node| (key.1.as_str(), node)))
            .collect();
        let parts: Vec<(&str, &Node)> = nodes.iter().map(|(id, n)| (*id, n.as_ref())).collect();
        parts::encode(&parts, record)
    }

    /// Merges the tree under `top` into one instance (without its parts).
    pub(super) fn merge(&self, top: &Key, completed: bool) -> StoredInstance {
        self.merge_keys(top, &self.subtree(top), completed)
    }

    /// [`BusState::merge`] of the tree's keys, already collected.
    pub(super) fn merge_keys(&self, top: &Key, keys: &[Key], completed: bool) -> StoredInstance {
        let nodes: Vec<NodeRef<'_>> = keys.iter().filter_map(|k| self.nodes.get(k)).collect();
        let begun = self.nodes.get(top).and_then(|n| n.begun).map(|s| s.ts);
        self.merge_nodes(top, keys, &nodes, begun, completed)
    }

    /// The instance of an active root without continuations, from its
    /// node already in hand (a scan of the active nodes has it: reading
    /// it again by key would look it up in the runs twice more).
    pub(super) fn merge_alone(&self, top: &Key, node: &Node) -> Option<StoredInstance> {
        if !node.tokens.is_empty() {
            return None;
        }
        let begun = node.begun.map(|s| s.ts);
        Some(self.merge_nodes(
            top,
            std::slice::from_ref(top),
            &[NodeRef::Dirty(node)],
            begun,
            false,
        ))
    }

    /// [`BusState::merge_keys`] of the nodes, already read (`keys[0]` is
    /// `top`; `begun`, its begin).
    fn merge_nodes(
        &self,
        top: &Key,
        keys: &[Key],
        nodes: &[NodeRef<'_>],
        begun: Option<i64>,
        completed: bool,
    ) -> StoredInstance {
        // Each item's value with the greatest stamp over the nodes; a lone
        // node (most instances) is its own merge, so no map is built.
        let mut merged: BTreeMap<&str, (&StoredValue, Stamp)> = BTreeMap::new();
        let mut references = Vec::new();
        let mut relations = Vec::new();
        let (mut last_modified, mut end) = (None::<i64>, None::<i64>);
        for node in nodes {
            if nodes.len() > 1 {
                for (name, (value, stamp)) in &node.items {
                    let newer = merged.get(name.as_str()).is_none_or(|(v, s)| {
                        stamp > s || (stamp == s && value_order(value, v).is_gt())
                    });
                    if newer {
                        merged.insert(name, (value, *stamp));
                    }
                }
            }
            references.extend(node.references.iter());
            relations.extend(node.relations.iter());
            last_modified = last_modified.max(node.last_modified);
            end = end.max(node.ended.map(|s| s.ts));
        }
        references.sort();
        relations.sort();
        let lone = match nodes {
            [node] => Some(&node.items),
            _ => None,
        };
        let value_of = |name: &str| -> Option<&StoredValue> {
            match lone {
                Some(items) => items.get(name).map(|(v, _)| v),
                None => merged.get(name).map(|(v, _)| *v),
            }
        };
        let ordered: Vec<(String, StoredValue)> = match self.definitions.get(&top.0) {
            Some(def) => def
                .items
                .iter()
                .filter_map(|d| value_of(&d.name).map(|v| (d.name.clone(), v.clone())))
                .collect(),
            None => match lone {
                Some(items) => items
                    .iter()
                    .map(|(n, (v, _))| (n.clone(), v.clone()))
                    .collect(),
                None => merged
                    .iter()
                    .map(|(n, (v, _))| (n.to_string(), (*v).clone()))
                    .collect(),
            },
        };
        let mut continuations: Vec<String> = keys.iter().skip(1).map(|k| k.1.clone()).collect();
        continuations.sort();
        StoredInstance {
            activity: top.0.clone(),
            id: top.1.clone(),
            begin: begun,
            end: if completed { end } else { None },
            last_modified,
            items: ordered,
            continuations,
            references: references.into_iter().map(|(_, r)| r.clone()).collect(),
            relationships: relations.into_iter().map(|(_, r)| r.clone()).collect(),
            parts: Vec::new(),
        }
    }
}

/// Checks that a completed record's parts decode (`verify`): a record
/// whose checksum holds but whose parts do not decode could not be amended.
/// Records of version-1 files have none.
pub(crate) fn check_parts(rec: &StoredInstance) -> Result<(), String> {
    if rec.parts.is_empty() {
        return Ok(());
    }
    decode_parts(rec)
        .map(|_| ())
        .map_err(|e| format!("record {}/{}: {e}", rec.activity, rec.id))
}

/// The parts of a completed record, as [`BusState::encode_parts`] (or an
/// older bamdb) encoded them.
pub(super) fn decode_parts(rec: &StoredInstance) -> Result<Vec<(String, Node)>, String> {
    parts::decode(rec)
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;

/// A node as the part a caller sees.
fn part(id: &str, node: &Node) -> InstancePart {
    let at = |s: &Stamp| Timestamp::from_micros(s.ts);
    InstancePart {
        id: id.to_owned(),
        parent: node.parent.clone(),
        begin: node.begun.as_ref().map(at),
        end: node.ended.as_ref().map(at),
        items: node
            .items
            .iter()
            .map(|(name, (value, stamp))| PartItem {
                name: name.clone(),
                value: value.clone().into(),
                at: at(stamp),
                producer: stamp.producer,
            })
            .collect(),
    }
}
