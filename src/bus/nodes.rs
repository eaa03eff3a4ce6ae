//! Where the nodes of active and pending instances live: on disk, in
//! sorted immutable *runs* (`segments::active_run`), with the nodes changed
//! since the last checkpoint held in memory (the *dirty set*).
//!
//! Why this shape: business activities stay open for days, so the number
//! of open nodes is bounded by nothing the store controls, while the
//! nodes a frame changes are few and mostly recent. A read looks in the
//! dirty set, then in the runs from newest to oldest (a Bloom filter per
//! run makes a miss cheap: a new id's first event misses everywhere). A
//! change copies the node into the dirty set. A checkpoint writes the
//! dirty set as one new run (what changed, not the whole state; deletions
//! as tombstones) and empties it; runs are merged now and then, newest
//! wins (see `checkpoint`). Memory is the dirty set, bounded by
//! `StoreOptions::active_cache_bytes` (the worker checkpoints when it is
//! full), and opening a store reads no node at all.
//!
//! Counts of active instances and pending trees (for `stats`) are kept as
//! a *census*: the counts over the runs as of the last checkpoint, plus,
//! for each dirty node, its role now minus its role on disk. A node's role
//! is one of: the top of an active instance (no parent, begun), the top of
//! a pending tree (no parent, not begun), or a part (it has a parent).
//!
//! Reads from disk can fail (I/O, damage). The tree walks that read nodes
//! cannot stop half way without leaving the state half changed, so a read
//! failure is remembered as the store's *fault* and the node is treated as
//! absent; the worker checks the fault after every frame and halts the bus
//! before anything is checkpointed, so the half-applied frame is applied
//! again from the message box after a reopen.

use crate::fast_hash::FastMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::node::{Key, Node};
use crate::segments::active_run::{merge_runs_from, ActiveRun, Found, RunEntry};
use crate::segments::error::ImportFileError;
use crate::segments::record::StoredValue;

/// How many active instances, pending trees and continuation parts there
/// are (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Census {
    pub active: u64,
    pub pending: u64,
    pub parts: u64,
}

impl Census {
    /// Every node counted.
    pub fn nodes(&self) -> u64 {
        self.active + self.pending + self.parts
    }

    /// Counts `node` by its role.
    fn add(&mut self, node: &Node) {
        match role(Some(node)) {
            Role::Active => self.active += 1,
            Role::Pending => self.pending += 1,
            Role::Part => self.parts += 1,
            Role::Absent => {}
        }
    }
}

/// What a node counts as in the census.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Absent,
    Active,
    Pending,
    Part,
}

fn role(node: Option<&Node>) -> Role {
    match node {
        None => Role::Absent,
        Some(n) if n.parent.is_some() => Role::Part,
        Some(n) if n.begun.is_some() => Role::Active,
        Some(_) => Role::Pending,
    }
}

/// A node changed since the last checkpoint.
#[derive(Debug, Clone)]
struct Dirty {
    /// Its value now; `None` once removed.
    node: Option<Node>,
    /// Its role in the runs (what the census counted it as).
    on_disk: Role,
}

/// A node as read: from the dirty set, or decoded from a run (shared with
/// the read cache).
pub(crate) enum NodeRef<'a> {
    Dirty(&'a Node),
    Read(Arc<Node>),
}

impl std::ops::Deref for NodeRef<'_> {
    type Target = Node;

    fn deref(&self) -> &Node {
        match self {
            NodeRef::Dirty(node) => node,
            NodeRef::Read(node) => node,
        }
    }
}

impl AsRef<Node> for NodeRef<'_> {
    fn as_ref(&self) -> &Node {
        self
    }
}

/// How many nodes read from the runs (or found absent) are kept decoded.
/// Applying a frame reads the same few nodes many times (the top of a
/// tree, its subtree, its completion), so a small cache takes most of the
/// reads; it is emptied when full. About 2 KiB each.
const READ_CACHE_ENTRIES: usize = 2048;

/// A merge or scan of the runs drops the pages it read from its resident
/// set every so many entries (the page cache keeps them): a merge of 10
/// million open activities reads gigabytes.
pub(crate) const RELEASE_EVERY: u64 = 1 << 13;

/// A changed node, encoded for a run (`None`: removed).
pub(crate) type Encoded<'a> = (&'a Key, Option<Vec<u8>>);

/// The nodes of the store; see the module docs.
#[derive(Default)]
pub(crate) struct Nodes {
    dirty: FastMap<Key, Dirty>,
    /// The runs, oldest first.
    runs: Vec<Arc<ActiveRun>>,
    /// The census of the runs.
    on_disk: Census,
    /// The first read failure since the store opened (see the module docs).
    fault: Mutex<Option<String>>,
    /// Nodes read from the runs (`None`: no run holds the key), for keys
    /// not in the dirty set: a key leaves it when it joins the dirty set.
    read_cache: Mutex<FastMap<Key, Option<Arc<Node>>>>,
    /// The dirty set's size at which its bytes are estimated next.
    next_size_check: AtomicUsize,
}

impl Nodes {
    /// The nodes of an opened store: its runs and their census.
    pub fn open(runs: Vec<Arc<ActiveRun>>, on_disk: Census) -> Nodes {
        Nodes {
            runs,
            on_disk,
            ..Nodes::default()
        }
    }

    /// The runs, oldest first.
    pub fn runs(&self) -> &[Arc<ActiveRun>] {
        &self.runs
    }

    /// The node with this key: from the dirty set, else the newest run
    /// that holds it.
    pub fn get(&self, key: &Key) -> Option<NodeRef<'_>> {
        if let Some(d) = self.dirty.get(key) {
            return d.node.as_ref().map(NodeRef::Dirty);
        }
        self.read(key).map(NodeRef::Read)
    }

    /// Whether a node with this key exists.
    pub fn contains_key(&self, key: &Key) -> bool {
        if let Some(d) = self.dirty.get(key) {
            return d.node.is_some();
        }
        self.read(key).is_some()
    }

    /// The node with this key, to change (it joins the dirty set).
    pub fn get_mut(&mut self, key: &Key) -> Option<&mut Node> {
        if !self.dirty.contains_key(key) {
            let node = self.take_read(key)?;
            let on_disk = role(Some(&node));
            self.dirty.insert(
                key.clone(),
                Dirty {
                    node: Some(node),
                    on_disk,
                },
            );
        }
        self.dirty.get_mut(key).and_then(|d| d.node.as_mut())
    }

    /// The node with this key, to change; a new empty one if there is
    /// none. Always `Some` (an `Option` only because the borrow checker
    /// cannot return a map's entry from either of two lookups).
    pub fn get_or_default(&mut self, key: &Key) -> Option<&mut Node> {
        if !self.dirty.contains_key(key) {
            let node = self.take_read(key);
            let on_disk = role(node.as_ref());
            self.dirty.insert(
                key.clone(),
                Dirty {
                    node: Some(node.unwrap_or_default()),
                    on_disk,
                },
            );
        }
        self.dirty
            .get_mut(key)
            .map(|d| d.node.get_or_insert_with(Node::default))
    }

    /// An upper bound of the number of nodes (for loop guards).
    pub fn bound(&self) -> usize {
        let on_disk: u64 = self.runs.iter().map(|r| r.entries).sum();
        self.dirty.len() + on_disk as usize
    }

    /// Sets the node with this key.
    pub fn insert(&mut self, key: Key, node: Node) {
        match self.dirty.get_mut(&key) {
            Some(d) => d.node = Some(node),
            None => {
                let on_disk = role(self.take_read(&key).as_ref());
                self.dirty.insert(
                    key,
                    Dirty {
                        node: Some(node),
                        on_disk,
                    },
                );
            }
        }
    }

    /// Removes the node with this key (a tombstone at the next checkpoint
    /// if a run holds it).
    pub fn remove(&mut self, key: &Key) {
        match self.dirty.get_mut(key) {
            Some(d) if d.on_disk == Role::Absent => {
                self.dirty.remove(key);
            }
            Some(d) => d.node = None,
            None => {
                let on_disk = role(self.take_read(key).as_ref());
                if on_disk != Role::Absent {
                    self.dirty.insert(
                        key.clone(),
                        Dirty {
                            node: None,
                            on_disk,
                        },
                    );
                }
            }
        }
    }

    /// The census now: the runs' census, corrected by every dirty node.
    pub fn census(&self) -> Census {
        let mut counts = [
            self.on_disk.active as i64,
            self.on_disk.pending as i64,
            self.on_disk.parts as i64,
        ];
        let slot = |r: Role| match r {
            Role::Absent => None,
            Role::Active => Some(0),
            Role::Pending => Some(1),
            Role::Part => Some(2),
        };
        for d in self.dirty.values() {
            if let Some(i) = slot(d.on_disk) {
                counts[i] -= 1;
            }
            if let Some(i) = slot(role(d.node.as_ref())) {
                counts[i] += 1;
            }
        }
        let [active, pending, parts] = counts.map(|c| c.max(0) as u64);
        Census {
            active,
            pending,
            parts,
        }
    }

    /// Whether there is no node at all.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.census().nodes() == 0
    }

    /// Visits every node (of `activity`, or of every activity) in key
    /// order, each once with its current value, until `visit` breaks.
    /// Memory: the dirty set's keys, not the runs'.
    pub fn scan(
        &self,
        activity: Option<&str>,
        mut visit: impl FnMut(&Key, &Node) -> ControlFlow<()>,
    ) -> Result<(), ImportFileError> {
        let mut dirty: Vec<(&Key, &Dirty)> = self
            .dirty
            .iter()
            .filter(|(k, _)| activity.is_none_or(|a| k.0 == a))
            .collect();
        dirty.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut dirty = dirty.into_iter().peekable();
        let mut on_disk = merge_runs_from(&self.runs, activity.unwrap_or(""), "");
        let mut next_disk = on_disk.next().transpose()?;
        let mut read = 0u64;
        loop {
            if let (Some(a), Some(entry)) = (activity, next_disk.as_ref()) {
                if entry.activity != a {
                    next_disk = None;
                }
            }
            let take_dirty = match (dirty.peek(), next_disk.as_ref()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((k, _)), Some(e)) => (k.0.as_str(), k.1.as_str()) <= (e.activity, e.id),
            };
            let flow = if take_dirty {
                let Some((key, d)) = dirty.next() else { break };
                if let Some(e) = next_disk.as_ref() {
                    if (key.0.as_str(), key.1.as_str()) == (e.activity, e.id) {
                        next_disk = on_disk.next().transpose()?; // shadowed
                    }
                }
                match &d.node {
                    Some(node) => visit(key, node),
                    None => ControlFlow::Continue(()),
                }
            } else {
                let Some(entry) = next_disk.take() else { break };
                next_disk = on_disk.next().transpose()?;
                read += 1;
                if read % RELEASE_EVERY == 0 {
                    for run in &self.runs {
                        run.release_pages();
                    }
                }
                match entry.value {
                    None => ControlFlow::Continue(()),
                    Some(bytes) => {
                        let key = (entry.activity.to_owned(), entry.id.to_owned());
                        let node = decode(&key, bytes, self.runs.last())?;
                        visit(&key, &node)
                    }
                }
            };
            if flow.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// The dirty set in key order, each node encoded (`None`: removed),
    /// for the checkpoint's new run; with the census the runs will have
    /// once it is written.
    pub fn encode_dirty(&self) -> Result<(Vec<Encoded<'_>>, Census), String> {
        let mut out = Vec::with_capacity(self.dirty.len());
        for (key, d) in &self.dirty {
            let bytes = match &d.node {
                None => None,
                Some(node) => Some(
                    postcard::to_allocvec(node)
                        .map_err(|e| format!("node {}/{} does not encode: {e}", key.0, key.1))?,
                ),
            };
            out.push((key, bytes));
        }
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Ok((out, self.census()))
    }

    /// The dirty set became `run` (its census `census`): it is emptied.
    pub fn checkpointed(&mut self, run: Option<Arc<ActiveRun>>, census: Census) {
        self.runs.extend(run);
        self.on_disk = census;
        // A new map, not `clear()`: the table of a full cache is a few
        // MiB, and the merges that follow a checkpoint should not find it
        // still allocated while it holds nothing.
        self.dirty = FastMap::default();
        self.next_size_check.store(0, Ordering::Relaxed);
    }

    /// Runs `merged` replace the runs `replaced` (a merge: same nodes).
    pub fn replace_runs(&mut self, replaced: &[Arc<ActiveRun>], merged: Option<Arc<ActiveRun>>) {
        let Some(first) = self
            .runs
            .iter()
            .position(|r| replaced.iter().any(|x| Arc::ptr_eq(r, x)))
        else {
            return;
        };
        self.runs
            .retain(|r| !replaced.iter().any(|x| Arc::ptr_eq(r, x)));
        if let Some(run) = merged {
            self.runs.insert(first, run);
        }
    }

    /// Whether the dirty set holds more than `budget` bytes (an estimate:
    /// the mean size of up to 256 of its nodes times their number, taken
    /// each time 256 more nodes joined it).
    pub fn over_budget(&self, budget: u64) -> bool {
        const SAMPLE: usize = 256;
        let len = self.dirty.len();
        if len < self.next_size_check.load(Ordering::Relaxed) {
            return false;
        }
        self.next_size_check.store(len + SAMPLE, Ordering::Relaxed);
        let sample: u64 = self
            .dirty
            .iter()
            .take(SAMPLE)
            .map(|(k, d)| (k.0.len() + k.1.len()) as u64 + d.node.as_ref().map_or(64, node_bytes))
            .sum();
        let estimate = sample / len.clamp(1, SAMPLE) as u64 * len as u64;
        estimate >= budget
    }

    /// Every node, by key (tests compare states with it).
    #[cfg(test)]
    pub fn snapshot(&self) -> std::collections::BTreeMap<Key, Node> {
        let mut out = std::collections::BTreeMap::new();
        let scanned = self.scan(None, |k, n| {
            out.insert(k.clone(), n.clone());
            ControlFlow::Continue(())
        });
        assert!(scanned.is_ok(), "{scanned:?}");
        out
    }

    /// How many nodes are in the dirty set.
    pub fn dirty_len(&self) -> usize {
        self.dirty.len()
    }

    /// The first read failure since the store opened, if any.
    pub fn fault(&self) -> Option<String> {
        crate::bus::lock(&self.fault).clone()
    }

    fn record_fault(&self, what: String) {
        let mut fault = crate::bus::lock(&self.fault);
        if fault.is_none() {
            tracing::error!(error = %what, "reading an active node failed");
            *fault = Some(what);
        }
    }

    /// The newest run's entry for `key`.
    fn find(&self, key: &Key) -> Result<Option<Found<'_>>, ImportFileError> {
        for run in self.runs.iter().rev() {
            if !run.may_contain(&key.0, &key.1) {
                continue;
            }
            if let Some(found) = run.get(&key.0, &key.1)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// The node the runs hold for `key`, through the read cache (a
    /// failure is the fault).
    fn read(&self, key: &Key) -> Option<Arc<Node>> {
        if self.runs.is_empty() {
            return None;
        }
        if let Some(hit) = crate::bus::lock(&self.read_cache).get(key) {
            return hit.clone();
        }
        let result = self.find(key).and_then(|found| match found {
            Some(Found::Value(bytes)) => decode(key, bytes, self.runs.last()).map(Some),
            _ => Ok(None),
        });
        let node = match result {
            Ok(node) => node.map(Arc::new),
            Err(e) => {
                self.record_fault(e.to_string());
                return None;
            }
        };
        let mut cache = crate::bus::lock(&self.read_cache);
        if cache.len() >= READ_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key.clone(), node.clone());
        node
    }

    /// [`Nodes::read`] for a key about to join the dirty set: it leaves
    /// the read cache, and the node is taken out of it.
    fn take_read(&mut self, key: &Key) -> Option<Node> {
        let cached = self
            .read_cache
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        let node = match cached {
            Some(hit) => hit,
            None if self.runs.is_empty() => None,
            None => {
                let node = self.read(key);
                self.read_cache
                    .get_mut()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(key);
                node
            }
        };
        node.map(|n| Arc::try_unwrap(n).unwrap_or_else(|shared| (*shared).clone()))
    }
}

/// Counts the nodes of `runs` (oldest first) the slow way, decoding each
/// (for `verify`, which compares it with the checkpoint's census).
pub(crate) fn census_of_runs(runs: &[Arc<ActiveRun>]) -> Result<Census, ImportFileError> {
    let nodes = Nodes::open(runs.to_vec(), Census::default());
    let mut census = Census::default();
    nodes.scan(None, |_, node| {
        census.add(node);
        ControlFlow::Continue(())
    })?;
    for run in runs {
        run.release_pages();
    }
    Ok(census)
}

/// Decodes a node a run holds.
fn decode(key: &Key, bytes: &[u8], run: Option<&Arc<ActiveRun>>) -> Result<Node, ImportFileError> {
    postcard::from_bytes(bytes).map_err(|e| {
        let path = run.map(|r| r.path.clone()).unwrap_or_default();
        ImportFileError::corrupt(
            &path,
            None,
            format!("active node {}/{} does not decode: {e}", key.0, key.1),
        )
    })
}

/// An estimate of the memory a node takes in the dirty set: its entry
/// (key, node and the map's slack), its strings, and one leaf per
/// non-empty B-tree map or set (a leaf has room for 11 entries, whatever
/// it holds: most nodes hold few). Calibrated against the resident memory
/// of the open-activities benchmark (`bench/open_activities.sh`).
fn node_bytes(node: &Node) -> u64 {
    const ENTRY: usize = 480;
    const LEAF: usize = 16 + 11 * 8;
    let leaf = |slot: usize, len: usize| if len == 0 { 0 } else { LEAF + 11 * slot };
    let texts: usize = node
        .items
        .iter()
        .map(|(name, (value, _))| {
            let text = match value {
                StoredValue::Text(t) => t.len(),
                _ => 0,
            };
            name.len() + text
        })
        .sum();
    let links: usize = node
        .tokens
        .keys()
        .chain(node.linked_by.iter())
        .map(String::len)
        .sum();
    let refs: usize = node
        .references
        .iter()
        .map(|(_, r)| {
            r.ref_type.len()
                + r.name.len()
                + r.data.len()
                + r.long_data.as_ref().map_or(0, String::len)
                + 128
        })
        .sum();
    let relations: usize = node
        .relations
        .iter()
        .map(|(_, r)| r.activity.len() + r.id.len() + 80)
        .sum();
    (ENTRY
        + leaf(24 + 56, node.items.len())
        + leaf(24 + 24, node.tokens.len())
        + leaf(24, node.linked_by.len())
        + texts
        + links
        + refs
        + relations
        + node.parent.as_ref().map_or(0, String::len)) as u64
}

/// A run entry for a key and its encoded node.
pub(crate) fn entry<'a>(key: &'a Key, value: Option<&'a [u8]>) -> RunEntry<'a> {
    RunEntry {
        activity: &key.0,
        id: &key.1,
        value,
    }
}

#[cfg(test)]
#[path = "nodes_tests.rs"]
mod tests;
