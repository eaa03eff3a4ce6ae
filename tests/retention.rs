//! Retention: completed instances older than the online window (by end
//! time) leave the online store at a checkpoint, archived (still readable
//! on request) or dropped; active instances are never touched; real-time
//! aggregations follow; it all survives a reopen.

mod common;

use std::time::Duration;

use bamdb::model::Value;
use bamdb::query::{Aggregate, Measure};
use bamdb::storage::MemStorage;
use bamdb::{EventStream, Retention, RetentionAction, Status, Store, StoreOptions};
use common::*;

fn options(action: RetentionAction) -> StoreOptions {
    let mut o = mem_options();
    o.checkpoint_frames = 1;
    o.checkpoint_interval = Duration::from_secs(3600);
    o.retention = Some(Retention {
        online_window: Duration::from_secs(30 * 86_400),
        action,
    });
    o
}

fn workload(store: &Store) {
    let mut s = store.buffered_stream(0);
    // Completed long ago, completed recently, and active since long ago.
    s.set_time(Some(ts("2020-01-01T00:00:00Z")));
    for id in ["OLD-1", "OLD-2"] {
        s.begin(PO, id).unwrap();
        s.update(PO, id, [("Amount", Value::Float(1.0))]).unwrap();
        s.end(PO, id).unwrap();
    }
    s.begin(PO, "ACTIVE-OLD").unwrap();
    s.flush().unwrap();
    s.set_time(None);
    s.begin(PO, "NEW-1").unwrap();
    s.update(PO, "NEW-1", [("Amount", Value::Float(5.0))])
        .unwrap();
    s.end(PO, "NEW-1").unwrap();
    s.flush().unwrap();
    settle(store);
}

fn total() -> Aggregate {
    let mut a = Aggregate::new(PO);
    a.measures = vec![Measure::Count, Measure::parse("sum:Amount").unwrap()];
    a
}

#[test]
fn old_completed_instances_are_archived_and_still_readable_on_request() {
    let disk = MemStorage::new();
    let store = open_mem(&disk, options(RetentionAction::Archive));
    store.declare_aggregation("total", &total()).unwrap();
    workload(&store);
    // The checkpoint after the last frame applied retention.
    assert!(
        store.get(PO, "OLD-1").unwrap().is_none(),
        "left the online store"
    );
    assert_eq!(
        store.get(PO, "NEW-1").unwrap().unwrap().status,
        Status::Completed
    );
    assert_eq!(
        store.get(PO, "ACTIVE-OLD").unwrap().unwrap().status,
        Status::Active,
        "active is never touched"
    );
    let archived = store.get_archived(PO, "OLD-1").unwrap().unwrap();
    assert_eq!(archived.status, Status::Completed);
    assert_eq!(store.archived(PO).unwrap().len(), 2);
    assert_eq!(store.instances(PO).unwrap().len(), 2);
    assert_eq!(
        store.aggregation("total").unwrap(),
        store.aggregate(&total()).unwrap()
    );
    drop(store);
    let store =
        Store::open_with_storage(disk.shared(), "/s", options(RetentionAction::Archive)).unwrap();
    settle(&store);
    assert!(store.get(PO, "OLD-2").unwrap().is_none());
    assert!(store.get_archived(PO, "OLD-2").unwrap().is_some());
    assert_eq!(
        store.aggregation("total").unwrap(),
        store.aggregate(&total()).unwrap()
    );
}

#[test]
fn dropped_instances_are_gone_for_good() {
    let disk = MemStorage::new();
    let store = open_mem(&disk, options(RetentionAction::Drop));
    workload(&store);
    assert!(store.get(PO, "OLD-1").unwrap().is_none());
    assert!(store.get_archived(PO, "OLD-1").unwrap().is_none());
    assert!(store.archived(PO).unwrap().is_empty());
    assert!(store.get(PO, "NEW-1").unwrap().is_some());
    assert!(store.get(PO, "ACTIVE-OLD").unwrap().is_some());
}

#[test]
fn an_operator_can_apply_retention_once_without_a_standing_policy() {
    let disk = MemStorage::new();
    let mut o = options(RetentionAction::Archive);
    o.retention = None;
    o.checkpoint_frames = 1_000;
    let store = open_mem(&disk, o.clone());
    store.declare_aggregation("total", &total()).unwrap();
    workload(&store);
    assert!(
        store.get(PO, "OLD-1").unwrap().is_some(),
        "no standing policy"
    );
    store
        .apply_retention(Retention {
            online_window: Duration::from_secs(86_400),
            action: RetentionAction::Archive,
        })
        .unwrap();
    let stats = store.stats();
    assert_eq!(
        stats.checkpointed_lsn, stats.applied_lsn,
        "the checkpoint retention takes first covers the request itself"
    );
    assert!(store.get(PO, "OLD-1").unwrap().is_none());
    assert!(store.get_archived(PO, "OLD-1").unwrap().is_some());
    assert!(store.get(PO, "NEW-1").unwrap().is_some());
    assert!(store.get(PO, "ACTIVE-OLD").unwrap().is_some());
    assert_eq!(
        store.aggregation("total").unwrap(),
        store.aggregate(&total()).unwrap()
    );
    drop(store);
    let store = Store::open_with_storage(disk.shared(), "/s", o).unwrap();
    settle(&store);
    assert!(store.get(PO, "OLD-2").unwrap().is_none());
    assert_eq!(store.archived(PO).unwrap().len(), 2);
}
