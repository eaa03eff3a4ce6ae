//! Completed instances wait in memory for their import file up to
//! `StoreOptions::checkpoint_completed`, also when a producer commits one
//! frame at a time: each such frame wakes the bus on its own, and the bound
//! was once looked at only every 16 frames of one wake-up, so it held only
//! by the checkpoint interval.

mod common;

use std::time::Duration;

use bamdb::{EventStream, Store, StoreOptions};
use common::*;

#[test]
fn completed_instances_are_filed_by_count_when_frames_arrive_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        checkpoint_completed: 20,
        checkpoint_frames: 1_000_000,
        checkpoint_interval: Duration::from_secs(3600),
        ..StoreOptions::default()
    };
    let store = Store::open(dir.path(), options).unwrap();
    store.deploy(po_definition()).unwrap();
    let mut s = store.direct_stream();
    for i in 0..200 {
        for k in 0..5 {
            let id = format!("PO-{i}-{k}");
            s.begin(PO, &id).unwrap();
            s.end(PO, &id).unwrap();
        }
        s.flush().unwrap(); // imported when it returns: one frame per wake-up
    }
    let stats = store.stats();
    // 20 completed instances are 4 frames; the bound is looked at every 16
    // frames since the last checkpoint.
    assert!(
        stats.applied_lsn - stats.checkpointed_lsn <= 16 + 4,
        "{} frames not checkpointed: {stats:?}",
        stats.applied_lsn - stats.checkpointed_lsn
    );
    assert_eq!(stats.completed, 1000);
    drop(s);
    store.close().unwrap();
}
