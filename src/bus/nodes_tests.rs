use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::bus::state::Stamp;
use crate::segments::active_run::{merge_runs, write_run};
use crate::storage::{MemStorage, Storage};

fn key(id: &str) -> Key {
    ("PO".to_owned(), id.to_owned())
}

fn node(begun: bool, parent: Option<&str>, tag: i64) -> Node {
    Node {
        begun: begun.then_some(Stamp {
            ts: tag,
            ..Stamp::default()
        }),
        parent: parent.map(str::to_owned),
        last_modified: Some(tag),
        ..Node::default()
    }
}

/// A disk and a counter for run names, as the checkpoint would use them.
struct Disk {
    storage: MemStorage,
    next: u32,
}

impl Disk {
    fn new() -> Disk {
        let storage = MemStorage::new();
        storage.create_dir_all(Path::new("/s")).unwrap();
        Disk { storage, next: 1 }
    }

    /// What a checkpoint does to the nodes: the dirty set as a new run.
    fn checkpoint(&mut self, nodes: &mut Nodes) {
        let (dirty, census) = nodes.encode_dirty().unwrap();
        let run = if dirty.is_empty() {
            None
        } else {
            let name = format!("{}.run", self.next);
            self.next += 1;
            let entries = dirty.iter().map(|(k, v)| Ok(entry(k, v.as_deref())));
            write_run(
                &self.storage,
                Path::new("/s"),
                &name,
                dirty.len() as u64,
                entries,
            )
            .unwrap();
            Some(Arc::new(
                ActiveRun::open(&self.storage, Path::new("/s"), &name).unwrap(),
            ))
        };
        nodes.checkpointed(run, census);
    }

    /// What a merge of the runs in `range` does.
    fn merge(&mut self, nodes: &mut Nodes, range: std::ops::Range<usize>) {
        let keep = range.start > 0;
        let chosen: Vec<Arc<ActiveRun>> = nodes.runs()[range].to_vec();
        let name = format!("{}.run", self.next);
        self.next += 1;
        let entries =
            merge_runs(&chosen).filter(|e| keep || !matches!(e, Ok(e) if e.value.is_none()));
        write_run(&self.storage, Path::new("/s"), &name, 16, entries).unwrap();
        let run = Arc::new(ActiveRun::open(&self.storage, Path::new("/s"), &name).unwrap());
        nodes.replace_runs(&chosen, Some(run));
    }
}

/// The census of a model, counted the slow way.
fn census_of(model: &BTreeMap<Key, Node>) -> Census {
    let mut c = Census::default();
    for n in model.values() {
        c.add(n);
    }
    c
}

fn scanned(nodes: &Nodes, activity: Option<&str>) -> Vec<(Key, Node)> {
    let mut out = Vec::new();
    nodes
        .scan(activity, |k, n| {
            out.push((k.clone(), n.clone()));
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

#[test]
fn a_node_moves_to_disk_at_a_checkpoint_and_back_when_changed() {
    let mut disk = Disk::new();
    let mut nodes = Nodes::default();
    nodes.insert(key("A"), node(true, None, 1));
    nodes.insert(key("T"), node(false, Some("A"), 2));
    nodes.insert(key("P"), node(false, None, 3));
    assert_eq!(
        nodes.census(),
        Census {
            active: 1,
            pending: 1,
            parts: 1
        }
    );
    disk.checkpoint(&mut nodes);
    assert_eq!(nodes.dirty_len(), 0, "the dirty set is on disk now");
    assert_eq!(nodes.get(&key("A")).unwrap().last_modified, Some(1));
    assert!(nodes.contains_key(&key("T")));
    assert!(!nodes.contains_key(&key("Nope")));
    assert_eq!(nodes.census().nodes(), 3);

    // A change copies the node into the dirty set; a removal of a node on
    // disk leaves a tombstone that the next run carries.
    nodes.get_mut(&key("P")).unwrap().begun = Some(Stamp::default());
    nodes.remove(&key("T"));
    assert_eq!(nodes.dirty_len(), 2);
    assert_eq!(
        nodes.census(),
        Census {
            active: 2,
            pending: 0,
            parts: 0
        }
    );
    disk.checkpoint(&mut nodes);
    assert!(nodes.get(&key("T")).is_none(), "the tombstone hides it");
    assert!(nodes.get(&key("P")).unwrap().begun.is_some());
    let ids: Vec<String> = scanned(&nodes, None)
        .into_iter()
        .map(|(k, _)| k.1)
        .collect();
    assert_eq!(ids, ["A", "P"]);

    // Merging every run drops the tombstone and keeps the answers.
    disk.merge(&mut nodes, 0..2);
    assert_eq!(nodes.runs().len(), 1);
    assert_eq!(nodes.runs()[0].tombstones, 0);
    assert_eq!(scanned(&nodes, None).len(), 2);
}

#[test]
fn a_node_created_and_removed_between_checkpoints_leaves_nothing() {
    let mut disk = Disk::new();
    let mut nodes = Nodes::default();
    nodes.insert(key("A"), node(true, None, 1));
    nodes.remove(&key("A"));
    assert_eq!(nodes.dirty_len(), 0);
    disk.checkpoint(&mut nodes);
    assert!(nodes.runs().is_empty(), "nothing to write, no run");
}

#[test]
fn a_scan_of_one_activity_sees_only_its_nodes() {
    let mut disk = Disk::new();
    let mut nodes = Nodes::default();
    for (a, id) in [("A", "1"), ("B", "1"), ("B", "2"), ("C", "0")] {
        nodes.insert((a.into(), id.into()), node(true, None, 1));
    }
    disk.checkpoint(&mut nodes);
    nodes.insert(("B".into(), "0".into()), node(true, None, 2));
    nodes.insert(("A".into(), "9".into()), node(true, None, 2));
    let b: Vec<String> = scanned(&nodes, Some("B"))
        .into_iter()
        .map(|(k, _)| k.1)
        .collect();
    assert_eq!(b, ["0", "1", "2"]);
    assert_eq!(scanned(&nodes, Some("Z")).len(), 0);
    assert_eq!(scanned(&nodes, None).len(), 6);
}

#[test]
fn the_budget_is_reached_by_growing_the_dirty_set() {
    let mut nodes = Nodes::default();
    assert!(!nodes.over_budget(1 << 20));
    for i in 0..5000 {
        nodes.insert(key(&format!("{i:06}")), node(true, None, i));
    }
    assert!(nodes.over_budget(1 << 20), "5,000 nodes take over 1 MiB");
    assert!(!Nodes::default().over_budget(1));
}

#[test]
fn runs_to_merge_takes_four_runs_of_one_tier() {
    use crate::bus::checkpoint::runs_to_merge;
    assert_eq!(runs_to_merge(&[]), None);
    assert_eq!(runs_to_merge(&[100]), None);
    assert_eq!(runs_to_merge(&[100, 1, 1, 1]), None, "three of a tier wait");
    assert_eq!(runs_to_merge(&[100, 1, 1, 1, 1]), Some(1..5));
    assert_eq!(runs_to_merge(&[100, 4, 4, 4, 1]), None);
    assert_eq!(runs_to_merge(&[16, 4, 4, 4, 4]), Some(1..5));
    assert_eq!(
        runs_to_merge(&[8, 4, 4, 4]),
        Some(0..4),
        "within twice the largest"
    );
    assert_eq!(
        runs_to_merge(&[100, 14, 14, 14, 14, 3, 1]),
        Some(1..5),
        "an older tier of four is merged too"
    );
    assert_eq!(runs_to_merge(&[1; 21]), Some(0..21), "too many runs");
    // Equal deltas: the runs stay few (tiers of four), never more than
    // three per tier plus the newest.
    let mut runs: Vec<u64> = Vec::new();
    for _ in 0..1000 {
        runs.push(1);
        while let Some(range) = runs_to_merge(&runs) {
            let at = range.start;
            let merged: u64 = runs.drain(range).sum();
            runs.insert(at, merged);
        }
        assert!(runs.len() <= 16, "{runs:?}");
    }
}

#[derive(Debug, Clone)]
enum Op {
    Put(u8, bool, Option<u8>, i64),
    Touch(u8, i64),
    Remove(u8),
    Checkpoint,
    Merge,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..12, any::<bool>(), proptest::option::of(0u8..12), 0i64..100)
            .prop_map(|(k, b, p, t)| Op::Put(k, b, p, t)),
        2 => (0u8..12, 0i64..100).prop_map(|(k, t)| Op::Touch(k, t)),
        2 => (0u8..12).prop_map(Op::Remove),
        1 => Just(Op::Checkpoint),
        1 => Just(Op::Merge),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the changes, checkpoints and merges: every read, the scan
    /// and the census equal a map that holds everything in memory.
    #[test]
    fn nodes_on_disk_read_like_a_map_in_memory(ops in proptest::collection::vec(op(), 1..80)) {
        let mut disk = Disk::new();
        let mut nodes = Nodes::default();
        let mut model: BTreeMap<Key, Node> = BTreeMap::new();
        let id = |k: u8| key(&format!("k{k:02}"));
        for op in ops {
            match op {
                Op::Put(k, begun, parent, t) => {
                    let n = node(begun, parent.map(|p| format!("k{p:02}")).as_deref(), t);
                    nodes.insert(id(k), n.clone());
                    model.insert(id(k), n);
                }
                Op::Touch(k, t) => {
                    if let Some(n) = nodes.get_or_default(&id(k)) {
                        n.last_modified = Some(t);
                    }
                    model.entry(id(k)).or_default().last_modified = Some(t);
                }
                Op::Remove(k) => {
                    nodes.remove(&id(k));
                    model.remove(&id(k));
                }
                Op::Checkpoint => disk.checkpoint(&mut nodes),
                Op::Merge => {
                    let sizes: Vec<u64> = nodes.runs().iter().map(|r| r.bytes).collect();
                    let range = crate::bus::checkpoint::runs_to_merge(&sizes)
                        .unwrap_or(sizes.len().saturating_sub(2)..sizes.len());
                    if range.len() >= 2 {
                        disk.merge(&mut nodes, range);
                    }
                }
            }
            prop_assert_eq!(nodes.census(), census_of(&model));
        }
        for k in 0..12 {
            prop_assert_eq!(nodes.get(&id(k)).map(|n| n.clone()), model.get(&id(k)).cloned());
            prop_assert_eq!(nodes.contains_key(&id(k)), model.contains_key(&id(k)));
        }
        let all: Vec<(Key, Node)> = model.into_iter().collect();
        prop_assert_eq!(scanned(&nodes, None), all.clone());
        prop_assert_eq!(scanned(&nodes, Some("PO")), all);
        prop_assert!(nodes.fault().is_none());
    }
}
