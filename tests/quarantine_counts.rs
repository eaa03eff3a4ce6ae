//! `Store::stats().quarantine` (and `bamdb stats`) counts entries by state:
//! unresolved, resolved by a replay, dropped by the operator; the counts
//! follow each change and are the same after a reopen (read from the log).

mod common;

use bamdb::{EventStream, QuarantineCounts, ReplayOutcome, Store, StoreOptions};
use common::*;

fn counts(store: &Store) -> QuarantineCounts {
    store
        .stats()
        .quarantine
        .expect("the quarantine log is readable")
}

#[test]
fn stats_count_unresolved_resolved_and_dropped_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(counts(&store), QuarantineCounts::default());
    let mut s = store.buffered_stream(0);
    for id in ["SH-1", "SH-2", "SH-3"] {
        s.begin("Shipment", id).unwrap();
        s.flush().unwrap();
    }
    settle(&store);
    let c = counts(&store);
    assert_eq!((c.unresolved, c.resolved, c.dropped), (3, 0, 0));
    let (entries, _) = store.quarantine_entries().unwrap();

    store
        .deploy(serde_json::from_str(r#"{"name":"Shipment","items":[]}"#).unwrap())
        .unwrap();
    assert_eq!(
        store.replay_quarantined(entries[0].id).unwrap(),
        ReplayOutcome::Imported
    );
    store
        .drop_quarantined(&[entries[1].id], "duplicate")
        .unwrap();
    // A new entry after the first count was taken is counted too.
    s.begin(PO, "PO-1").unwrap();
    s.update(PO, "PO-1", [("Amount", "not a number")]).unwrap();
    s.flush().unwrap();
    settle(&store);
    let c = counts(&store);
    assert_eq!((c.unresolved, c.resolved, c.dropped), (2, 1, 1), "{c:?}");
    drop(s);
    store.close().unwrap();

    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    let c = counts(&store);
    assert_eq!(
        (c.unresolved, c.resolved, c.dropped, c.damaged_records),
        (2, 1, 1, 0)
    );
    let json = serde_json::to_value(store.stats()).unwrap();
    assert_eq!(json["quarantine"]["unresolved"], 2);
    assert_eq!(json["quarantine"]["resolved"], 1);
    assert_eq!(json["quarantine"]["dropped"], 1);
}
