//! A query takes a consistent snapshot of the bus state (the instances in
//! memory and the list of import files) under the state lock and scans the
//! files after releasing it. While the bus keeps importing, checkpointing
//! (completed instances move from memory to a new file) and merging (files
//! replaced and deleted), every count a concurrent query sees must be exact
//! for some moment: never an instance counted twice or skipped, so counts
//! only grow and never pass what was committed; at the end, all of them.
//! Real files, so merged files are deleted while a query may still map them.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bamdb::model::StatusFilter;
use bamdb::query::{Aggregate, Cell, Measure};
use bamdb::{EventStream, Store, StoreOptions};
use common::*;

fn completed_count(store: &Store) -> i64 {
    let mut a = Aggregate::new(PO);
    a.status = StatusFilter::Completed;
    a.measures = vec![Measure::Count];
    match store.aggregate(&a).unwrap().rows[0].cells[0] {
        Cell::Int(n) => n,
        ref other => panic!("count is {other:?}"),
    }
}

#[test]
fn counts_seen_during_checkpoints_and_merges_are_exact_for_some_moment() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        checkpoint_frames: 3,
        ..StoreOptions::default()
    };
    let store = Arc::new(Store::open(dir.path(), options).unwrap());
    store.deploy(po_definition()).unwrap();
    let committed = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));

    let reader = {
        let (store, committed, done) = (store.clone(), committed.clone(), done.clone());
        std::thread::spawn(move || {
            let (mut last, mut queries) = (0, 0u64);
            while !done.load(Ordering::Acquire) {
                let seen = completed_count(&store);
                // Whatever the query saw was committed before it returned:
                // read after it, this is an upper bound (give or take the
                // batch whose flush returned but is not counted yet).
                let bound = committed.load(Ordering::Acquire);
                assert!(seen >= last, "the count went back from {last} to {seen}");
                assert!(
                    seen as u64 <= bound + 10,
                    "saw {seen} completed instances with at most {bound} + one batch committed"
                );
                last = seen;
                queries += 1;
            }
            queries
        })
    };

    let batches = 120u64;
    let mut s = store.buffered_stream(0);
    for b in 0..batches {
        for i in 0..10 {
            let id = format!("PO-{b:04}-{i}");
            s.begin(PO, &id).unwrap();
            s.update(PO, &id, [("Amount", 1.5)]).unwrap();
            s.end(PO, &id).unwrap();
        }
        s.flush().unwrap();
        committed.store((b + 1) * 10, Ordering::Release);
    }
    assert!(store.sync(Duration::from_secs(60)));
    done.store(true, Ordering::Release);
    let queries = reader.join().unwrap();
    assert!(queries > 0);
    assert_eq!(completed_count(&store), (batches * 10) as i64);
    assert!(
        store.stats().import_files >= 1,
        "the instances went through checkpoints into files"
    );
}
