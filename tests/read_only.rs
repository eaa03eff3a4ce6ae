//! Read-only snapshots ([`StoreReader`]): they take no lock and write
//! nothing, and while a writer checkpoints, files import files and merges
//! them (deleting the files an older manifest named), every refresh gives
//! a whole state: never part of a frame, never an older LSN.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bamdb::storage::MemStorage;
use bamdb::{EventStream, Store, StoreError, StoreOptions, StoreReader};
use common::*;

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn a_reader_takes_no_lock_writes_nothing_and_refreshes_to_newer_checkpoints() {
    let disk = MemStorage::new();
    let store = Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap();
    store.deploy(po_definition()).unwrap();
    let mut s = store.direct_stream();
    s.begin(PO, "PO-1").unwrap();
    s.end(PO, "PO-1").unwrap();
    s.begin(PO, "PO-2").unwrap();
    s.flush().unwrap();
    assert!(store.wait_checkpointed(WAIT));

    // The writer holds the lock; the reader opens alongside.
    let reader = StoreReader::open_with_storage(disk.shared(), "/s").unwrap();
    assert!(reader.get(PO, "PO-1").unwrap().is_some());
    assert!(reader.get(PO, "PO-2").unwrap().is_some());
    assert_eq!(reader.stats().completed, 1);
    assert_eq!(reader.stats().active, 1);
    assert!(!reader.refresh().unwrap(), "nothing newer yet");
    let first = reader.applied_lsn();

    s.begin(PO, "PO-3").unwrap();
    s.end(PO, "PO-2").unwrap();
    s.flush().unwrap();
    assert_eq!(
        reader.get(PO, "PO-3").unwrap(),
        None,
        "not before a refresh"
    );
    assert!(store.wait_checkpointed(WAIT));
    assert!(reader.refresh().unwrap());
    assert!(reader.applied_lsn() > first);
    assert!(reader.get(PO, "PO-3").unwrap().is_some());
    assert_eq!(reader.stats().completed, 2);
    drop(s);
    store.close().unwrap();

    // Opening, reading and refreshing write nothing at all.
    let steps = disk.steps();
    let reader = StoreReader::open_with_storage(disk.shared(), "/s").unwrap();
    assert_eq!(reader.instances(PO).unwrap().len(), 3);
    assert_eq!(reader.definitions().len(), 1);
    assert!(!reader.refresh().unwrap());
    assert_eq!(disk.steps(), steps, "a reader wrote to the disk");
}

#[test]
fn a_directory_without_a_store_is_not_a_store_and_nothing_is_created() {
    let disk = MemStorage::new();
    let err = StoreReader::open_with_storage(disk.shared(), "/none")
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    assert_eq!(disk.steps(), 0);
}

/// A fresh reader also reads the message box: it sees every flush that
/// returned, before any checkpoint, and reads on from there at a refresh.
#[test]
fn a_fresh_reader_sees_every_returned_flush_before_any_checkpoint() {
    let disk = MemStorage::new();
    let options = StoreOptions {
        checkpoint_interval: Duration::from_secs(3600),
        ..mem_options()
    };
    let store = Store::open_with_storage(disk.shared(), "/s", options.clone()).unwrap();
    store.deploy(po_definition()).unwrap();
    let mut s = store.buffered_stream(0);
    s.begin(PO, "PO-1").unwrap();
    s.update(PO, "PO-1", [("Amount", 5.0)]).unwrap();
    s.flush().unwrap();
    let stale = StoreReader::open_with_storage(disk.shared(), "/s").unwrap();
    assert_eq!(
        stale.get(PO, "PO-1").unwrap(),
        None,
        "no checkpoint holds it"
    );
    let fresh = StoreReader::open_fresh_with_storage(disk.shared(), "/s", &options).unwrap();
    let po = fresh
        .get(PO, "PO-1")
        .unwrap()
        .expect("read from the message box");
    assert_eq!(po.status, bamdb::Status::Active);
    assert!(!fresh.refresh().unwrap(), "nothing new");

    s.end(PO, "PO-1").unwrap();
    s.begin(PO, "PO-2").unwrap();
    let receipt = s.flush().unwrap().unwrap();
    assert!(fresh.refresh().unwrap());
    assert_eq!(fresh.applied_lsn(), receipt.lsn);
    assert_eq!(
        fresh.get(PO, "PO-1").unwrap().map(|i| i.status),
        Some(bamdb::Status::Completed)
    );
    assert_eq!(fresh.stats().completed, 1);
    assert_eq!(fresh.stats().active, 1);
    assert!(
        fresh.stats().checkpointed_lsn < fresh.stats().applied_lsn,
        "frames read from the message box are not checkpointed: {:?}",
        fresh.stats()
    );
    // What it applied stayed in its memory: the store's files are as the
    // writer left them, and the writer's own answers agree.
    settle(&store);
    assert_eq!(
        store.get(PO, "PO-1").unwrap(),
        fresh.get(PO, "PO-1").unwrap()
    );
    drop(s);
    store.close().unwrap();
    // The closing checkpoint replaces the manifest: the reader reloads
    // from it, no further back than it was.
    fresh.refresh().unwrap();
    assert!(fresh.applied_lsn() >= receipt.lsn);
    assert!(fresh.get(PO, "PO-2").unwrap().is_some());
}

/// Each flush `i` completes five orders `PO-i-k` and begins one `A-i` that
/// stays active, so any state that holds whole frames has exactly five
/// completed instances per active one.
#[test]
fn refreshing_while_the_writer_checkpoints_and_merges_always_gives_whole_frames() {
    whole_frames_while_writing(false);
}

/// The same for a fresh reader, which also reads the message box the
/// writer appends to and trims meanwhile.
#[test]
fn a_fresh_reader_refreshing_while_the_writer_writes_always_gives_whole_frames() {
    whole_frames_while_writing(true);
}

fn whole_frames_while_writing(fresh: bool) {
    const FLUSHES: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        // A small import file every few flushes, so files are merged (and
        // the old ones deleted) while the reader reads.
        checkpoint_completed: 20,
        ..StoreOptions::default()
    };
    let store = Store::open(dir.path(), options).unwrap();
    store.deploy(po_definition()).unwrap();
    let reader = if fresh {
        StoreReader::open_fresh(dir.path()).unwrap()
    } else {
        StoreReader::open(dir.path()).unwrap()
    };
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let done = done.clone();
        std::thread::spawn(move || {
            let (mut last_lsn, mut last_active, mut refreshes) = (0, 0, 0);
            loop {
                let finished = done.load(Ordering::Acquire);
                if reader.refresh().expect("refresh") {
                    refreshes += 1;
                }
                let st = reader.stats();
                assert_eq!(st.completed, 5 * st.active as u64, "half a frame: {st:?}");
                assert!(st.applied_lsn >= last_lsn, "LSN went back: {st:?}");
                assert!(st.active >= last_active, "frames went back: {st:?}");
                (last_lsn, last_active) = (st.applied_lsn, st.active);
                if finished {
                    return (last_active, refreshes);
                }
            }
        })
    };
    let mut s = store.direct_stream();
    for i in 0..FLUSHES {
        for k in 0..5 {
            let id = format!("PO-{i}-{k}");
            s.begin(PO, &id).unwrap();
            s.end(PO, &id).unwrap();
        }
        s.begin(PO, &format!("A-{i}")).unwrap();
        s.flush().unwrap();
    }
    drop(s);
    store.close().unwrap();
    done.store(true, Ordering::Release);
    let (active, refreshes) = watcher.join().expect("the reader's checks");
    assert_eq!(
        active, FLUSHES,
        "the last refresh sees the closing checkpoint"
    );
    assert!(
        refreshes > 3,
        "only {refreshes} refreshes saw a new checkpoint"
    );
}
