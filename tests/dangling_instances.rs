//! Operators' maintenance of active instances: list the ones idle for too
//! long (typically a continuation that never ended), complete them by hand,
//! or remove them. The actions go through the message box, so they survive
//! a restart and replay in order.

mod common;

use std::time::Duration;

use bamdb::{EventStream, Status, Store, StoreError, StoreOptions};
use common::*;

#[test]
fn dangling_instances_are_listed_completed_or_removed_durably() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut s = store.buffered_stream(0);
    s.set_time(Some(ts("2026-01-01T00:00:00Z")));
    for id in ["PO-OLD-1", "PO-OLD-2"] {
        s.begin(PO, id).unwrap();
        s.enable_continuation(PO, id, &format!("SHIP-{id}"))
            .unwrap();
        s.end(PO, id).unwrap();
    }
    s.set_time(None);
    s.begin(PO, "PO-NEW").unwrap();
    s.update(PO, "NEVER-BEGUN", [("Amount", 1.0)]).unwrap();
    s.flush().unwrap();
    settle(&store);

    let idle: Vec<String> = store
        .dangling(Duration::from_secs(24 * 3600))
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(idle, ["PO-OLD-1", "PO-OLD-2"]);

    store.complete_instance(PO, "PO-OLD-1").unwrap();
    let done = store.get(PO, "PO-OLD-1").unwrap().unwrap();
    assert_eq!(done.status, Status::Completed);
    assert!(done.end.is_some());
    // The token that never reported now belongs to a completed instance:
    // its late end amends it, and it stays completed (by the operator).
    let mut late = store.buffered_stream(0);
    late.end(PO, "SHIP-PO-OLD-1").unwrap();
    late.flush().unwrap();
    settle(&store);
    assert!(store.quarantine_entries().unwrap().0.is_empty());
    let amended = store.get(PO, "SHIP-PO-OLD-1").unwrap().unwrap();
    assert_eq!(amended.id, "PO-OLD-1");
    assert_eq!(amended.status, Status::Completed);
    assert!(amended.end >= done.end);

    store.remove_instance(PO, "PO-OLD-2").unwrap();
    assert!(store.get(PO, "PO-OLD-2").unwrap().is_none());
    store.remove_instance(PO, "NEVER-BEGUN").unwrap();
    assert_eq!(store.stats().pending, 0);

    // Refusals are clear and change nothing.
    assert!(matches!(
        store.remove_instance(PO, "PO-OLD-2"),
        Err(StoreError::Rejected { .. })
    ));
    let err = store.complete_instance(PO, "NOPE").unwrap_err().to_string();
    assert!(err.contains("not an active instance"), "{err}");
    drop((s, late));
    drop(store);

    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    settle(&store);
    assert_eq!(
        store.get(PO, "PO-OLD-1").unwrap().unwrap().status,
        Status::Completed
    );
    assert!(store.get(PO, "PO-OLD-2").unwrap().is_none());
    assert_eq!(
        store.get(PO, "PO-NEW").unwrap().unwrap().status,
        Status::Active
    );
    assert!(store
        .dangling(Duration::from_secs(3600))
        .unwrap()
        .is_empty());
}
