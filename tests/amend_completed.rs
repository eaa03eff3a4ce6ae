//! A completed instance that is already in an import file is amended by a
//! late event: the new version shadows the old record in lookups, searches
//! and aggregations (no double counting), across restarts and merges, and
//! `verify` finds nothing wrong. Before, the event was quarantined as
//! "already completed" and could never be replayed.

mod common;

use std::time::Duration;

use bamdb::query::{Aggregate, Measure, Search};
use bamdb::{EventStream, Status, Store, StoreOptions};
use common::*;

fn options() -> StoreOptions {
    StoreOptions {
        // A checkpoint after every frame: completed instances go to a file
        // at once, and the many small files get merged.
        checkpoint_frames: 1,
        ..StoreOptions::default()
    }
}

fn open_store(dir: &std::path::Path) -> Store {
    let store = Store::open(dir, options()).unwrap();
    store.deploy(po_definition()).unwrap();
    store
}

/// The aggregation's rows as JSON, and how many instances a search finds.
fn count_and_sum(store: &Store) -> (serde_json::Value, usize) {
    let mut agg = Aggregate::new(PO);
    agg.measures = vec![Measure::Count, Measure::parse("sum:Amount").unwrap()];
    let result = store.aggregate(&agg).unwrap();
    let found = store.search(&Search::new(PO)).unwrap().len();
    (serde_json::to_value(result.rows).unwrap(), found)
}

fn wait_for_checkpoint(store: &Store) {
    settle(store);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while store.stats().checkpointed_lsn < store.stats().applied_lsn {
        assert!(std::time::Instant::now() < deadline, "no checkpoint");
        std::thread::yield_now();
    }
}

#[test]
fn a_late_update_amends_an_instance_in_an_import_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let mut s = store.buffered_stream(0);
    for i in 0..30 {
        let id = format!("PO-{i}");
        s.begin(PO, &id).unwrap();
        s.update(PO, &id, [("Amount", 1.0)]).unwrap();
        s.end(PO, &id).unwrap();
        s.flush().unwrap();
    }
    wait_for_checkpoint(&store);
    assert!(store.stats().import_files >= 1);
    let before = count_and_sum(&store);

    // Two late updates of one instance in a file, the second older than
    // the first by its timestamp: the newer value wins.
    let mut late = store.buffered_stream(0);
    late.update(PO, "PO-7", [("Amount", 5.0)]).unwrap();
    late.flush().unwrap();
    late.set_time(Some(ts("2001-01-01T00:00:00Z")));
    late.update(PO, "PO-7", [("Amount", 3.0)]).unwrap();
    late.flush().unwrap();
    late.set_time(None);
    wait_for_checkpoint(&store);

    let check = |store: &Store, context: &str| {
        let po7 = store.get(PO, "PO-7").unwrap().unwrap();
        assert_eq!(po7.status, Status::Completed, "{context}");
        assert_eq!(po7.item("Amount"), Some(&5.0.into()), "{context}");
        let (rows, found) = count_and_sum(store);
        assert_eq!(found, 30, "{context}: one row per instance");
        // 29 × 1.0 + 5.0
        assert_eq!(rows, serde_json::json!([[30, 34.0]]), "{context}");
        let stats = store.stats();
        assert_eq!(stats.completed, 30, "{context}");
        assert_eq!(stats.counters.frames_quarantined, 0, "{context}");
    };
    check(&store, "after the amendment");
    assert_ne!(count_and_sum(&store), before);

    // More checkpoints and merges, then a restart.
    for i in 30..60 {
        let id = format!("PO-{i}");
        s.begin(PO, &id).unwrap();
        s.end(PO, &id).unwrap();
        s.flush().unwrap();
    }
    wait_for_checkpoint(&store);
    let po7 = store.get(PO, "PO-7").unwrap().unwrap();
    assert_eq!(po7.item("Amount"), Some(&5.0.into()));
    drop((s, late));
    drop(store);
    let store = Store::open(dir.path(), options()).unwrap();
    settle(&store);
    assert_eq!(store.instances(PO).unwrap().len(), 60);
    let po7 = store.get(PO, "PO-7").unwrap().unwrap();
    assert_eq!(po7.item("Amount"), Some(&5.0.into()));
    assert_eq!(store.stats().completed, 60);
    drop(store);
    let report = Store::verify(dir.path(), &options()).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
