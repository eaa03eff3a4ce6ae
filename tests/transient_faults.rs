//! I/O errors while importing (writing a checkpoint or the quarantine) are
//! retried with backoff and reported as degraded; they never send data to
//! quarantine and never drop it. A fault that persists halts the import
//! with a clear reason, and a reopen imports everything acknowledged.

mod common;

use std::time::{Duration, Instant};

use bamdb::storage::{CrashMode, Fault, MemStorage};
use bamdb::{EventStream, Status, Store, StoreError, StoreOptions};
use common::*;

fn options() -> StoreOptions {
    let mut o = mem_options();
    o.checkpoint_frames = 1;
    o.retry_backoff = Duration::from_millis(2);
    o.retry_limit = 5;
    o
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

#[test]
fn failing_checkpoint_and_quarantine_writes_are_retried_and_nothing_is_lost() {
    let disk = MemStorage::new();
    let store = open_mem(&disk, options());
    settle(&store);
    wait_for("the first checkpoint", || {
        store.stats().checkpointed_lsn == store.stats().applied_lsn
    });
    let mut s = store.buffered_stream(0);
    for i in 0..6 {
        let id = format!("PO-{i}");
        s.begin(PO, &id).unwrap();
        s.end(PO, &id).unwrap();
        if i % 2 == 1 {
            s.update(PO, &id, [("NoSuchItem", 1i64)]).unwrap(); // to quarantine
        }
        // The flush takes I/O steps 1 (write) and 2 (sync); everything
        // after is the bus's: the checkpoint, or the quarantine append.
        disk.inject(3, Fault::Eio);
        disk.inject(5, Fault::NoSpace);
        s.flush().unwrap();
        settle(&store);
        wait_for("the checkpoint", || {
            store.stats().checkpointed_lsn == store.stats().applied_lsn
        });
    }
    let stats = store.stats();
    assert!(
        stats.import_retries >= 6,
        "{} retries",
        stats.import_retries
    );
    assert!(stats.degraded.is_none(), "{:?}", stats.degraded);
    assert_eq!(
        stats.counters.frames_quarantined, 3,
        "only the invalid frames"
    );
    assert_eq!(store.quarantine_entries().unwrap().0.len(), 3, "each once");
    for i in (0..6).step_by(2) {
        let po = store.get(PO, &format!("PO-{i}")).unwrap().unwrap();
        assert_eq!(po.status, Status::Completed);
    }
    drop(s);
    drop(store);
    let store = Store::open_with_storage(disk.shared(), "/s", options()).unwrap();
    settle(&store);
    assert_eq!(store.stats().completed, 3);
    assert_eq!(store.quarantine_entries().unwrap().0.len(), 3);
}

#[test]
fn a_fault_that_persists_halts_the_import_and_a_reopen_recovers_everything() {
    let disk = MemStorage::new();
    let store = open_mem(&disk, options());
    let mut s = store.buffered_stream(0);
    s.begin(PO, "PO-1").unwrap();
    s.end(PO, "PO-1").unwrap();
    // The disk dies right after this flush's sync: the bus can no longer
    // checkpoint.
    disk.crash_after(3);
    let acked = s.flush().is_ok();
    wait_for("the bus to halt", || store.stats().import_halted);
    let reason = store.stats().degraded.unwrap();
    assert!(reason.starts_with("import halted"), "{reason}");
    assert!(reason.contains("reopen"), "{reason}");
    drop(s);
    match store.close() {
        Err(StoreError::Halted { reason }) => assert!(reason.contains("halted")),
        other => panic!("{other:?}"),
    }
    let image = disk.crash_image(CrashMode::DropUnsynced);
    let store = Store::open_with_storage(image.shared(), "/s", options()).unwrap();
    settle(&store);
    let po = store.get(PO, "PO-1").unwrap();
    if acked {
        assert_eq!(po.unwrap().status, Status::Completed);
    }
    assert_eq!(store.stats().counters.frames_quarantined, 0);
}
