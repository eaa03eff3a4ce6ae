//! Producers' own message boxes and the bus that copies them into a store
//! (`Store::import_boxes`, the loop of `bamdb bus`): what a producer is
//! promised (a flush is durable in its box; a full box is a clear error),
//! and what the bus is promised (each box's frames imported once, in
//! order; a box trimmed only after its import is durable).

mod common;

use std::path::Path;
use std::time::Duration;

use bamdb::storage::{CrashMode, MemStorage};
use bamdb::wal::WalOptions;
use bamdb::{BoxOptions, EventStream, MessageBox, Store, StoreError};
use common::*;

/// Commits one PurchaseOrder `id` (begin, amount, end) as one flush.
fn order(outbox: &MessageBox, id: &str) {
    let mut stream = outbox.buffered_stream();
    stream.begin(PO, id).unwrap();
    stream.update(PO, id, [("Amount", 10.0)]).unwrap();
    stream.end(PO, id).unwrap();
    stream.flush().unwrap();
}

/// Copies every box until a pass copies nothing, and waits for the import.
fn pump(store: &Store) -> u64 {
    let mut frames = 0;
    loop {
        let pass = store.import_boxes(&[]).unwrap();
        assert!(pass.problems.is_empty(), "{:?}", pass.problems);
        settle(store);
        if pass.frames == 0 {
            // One more pass marks what the last one copied as applied.
            store.import_boxes(&[]).unwrap();
            return frames;
        }
        frames += pass.frames;
    }
}

fn small_box() -> BoxOptions {
    BoxOptions {
        wal: WalOptions {
            segment_size: 4096,
            max_frame_size: 2048,
            ..WalOptions::default()
        },
        ..BoxOptions::default()
    }
}

fn count(store: &Store) -> usize {
    store.instances(PO).unwrap().len()
}

#[test]
fn each_boxs_flushes_are_imported_once_across_bus_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let a = MessageBox::open_in_store(dir.path(), "a", BoxOptions::default()).unwrap();
    let b = MessageBox::open_in_store(dir.path(), "b", BoxOptions::default()).unwrap();
    assert_ne!(a.producer_id(), b.producer_id());
    for i in 0..5 {
        order(&a, &format!("A-{i}"));
        order(&b, &format!("B-{i}"));
    }
    {
        let store = open(dir.path());
        assert_eq!(pump(&store), 10);
        assert_eq!(count(&store), 10);
    }
    // A new bus process: nothing is copied twice, new flushes are copied.
    order(&a, "A-5");
    let store = open(dir.path());
    assert_eq!(pump(&store), 1);
    assert_eq!(count(&store), 11);
    for outbox in [&a, &b] {
        let stats = outbox.stats().unwrap();
        assert_eq!(stats.applied_lsn, stats.committed_lsn);
    }
    // The store tells how far each box is imported, by box id.
    let mut marks: Vec<(String, u64)> = store.stats().boxes.into_iter().collect();
    marks.sort_by_key(|m| m.1);
    let id = |b: &MessageBox| format!("{:016x}", b.stats().unwrap().box_id);
    assert_eq!(marks, vec![(id(&b), 5), (id(&a), 6)]);
    let amount = store.get(PO, "B-4").unwrap().unwrap();
    assert!(amount.end.is_some());
}

#[test]
fn a_crash_of_the_bus_at_any_point_loses_and_doubles_nothing() {
    for mode in [CrashMode::KeepAll, CrashMode::DropUnsynced] {
        let mut disk = MemStorage::new();
        let mut acknowledged = 0;
        for round in 0..4 {
            // The producer writes on (its flushes are durable in the box)...
            let outbox = MessageBox::open_with_storage(disk.shared(), "/s/boxes/p", small_box())
                .expect("open the box");
            for _ in 0..3 {
                order(&outbox, &format!("PO-{acknowledged}"));
                acknowledged += 1;
            }
            let store = if round == 0 {
                open_mem(&disk, mem_options())
            } else {
                Store::open_with_storage(disk.shared(), "/s", mem_options()).unwrap()
            };
            // ...the bus copies, and the machine fails before, during or
            // after the import.
            store.import_boxes(&[]).unwrap();
            if round % 2 == 1 {
                settle(&store);
                store.import_boxes(&[]).unwrap();
            }
            let image = disk.crash_image(mode);
            drop((store, outbox));
            disk = image;
        }
        let store = Store::open_with_storage(disk.shared(), "/s", mem_options()).unwrap();
        pump(&store);
        assert_eq!(count(&store), acknowledged, "{mode:?}");
    }
}

#[test]
fn the_bus_copies_nothing_beyond_the_synced_mark() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    for i in 0..3 {
        order(&outbox, &format!("PO-{i}"));
    }
    let box_id = outbox.stats().unwrap().box_id;
    // As if frame 3 were written but its fsync had not returned yet: the
    // mark (docs/FORMAT.md, "Box marks") says only 2 are durable.
    write_mark(&outbox.dir().join("SYNCED"), box_id, 2);
    let store = open(dir.path());
    assert_eq!(store.import_boxes(&[]).unwrap().frames, 2);
    settle(&store);
    assert_eq!(count(&store), 2);
    write_mark(&outbox.dir().join("SYNCED"), box_id, 3);
    assert_eq!(pump(&store), 1);
    assert_eq!(count(&store), 3);
}

/// A mark as `docs/FORMAT.md` lays it out: "BMRK", owner, LSN, CRC-32.
fn write_mark(path: &Path, owner: u64, lsn: u64) {
    let mut bytes = b"BMRK".to_vec();
    bytes.extend_from_slice(&owner.to_le_bytes());
    bytes.extend_from_slice(&lsn.to_le_bytes());
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn segments_leave_the_box_only_once_the_bus_imported_them() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = MessageBox::open_in_store(dir.path(), "p", small_box()).unwrap();
    for i in 0..300 {
        order(&outbox, &format!("PO-{i}"));
    }
    let before = outbox.stats().unwrap();
    assert!(before.segments > 3, "{before:?}");
    // No bus yet: nothing may go.
    assert_eq!(outbox.trim().unwrap(), 0);
    let store = open(dir.path());
    pump(&store);
    assert!(outbox.trim().unwrap() > 0);
    let after = outbox.stats().unwrap();
    assert!(after.segments < before.segments, "{after:?}");
    assert_eq!(after.applied_lsn, before.committed_lsn);
    // Still a box: new flushes go on from the next LSN.
    order(&outbox, "PO-300");
    assert_eq!(
        outbox.stats().unwrap().committed_lsn,
        before.committed_lsn + 1
    );
    assert_eq!(pump(&store), 1);
    assert_eq!(count(&store), 301);
}

#[test]
fn a_full_box_fails_the_flush_clearly_and_takes_flushes_again_once_imported() {
    let dir = tempfile::tempdir().unwrap();
    let options = BoxOptions {
        quota_bytes: Some(3 * 4096),
        quota_wait: Duration::from_millis(50),
        ..small_box()
    };
    let outbox = MessageBox::open_in_store(dir.path(), "p", options).unwrap();
    let mut written = 0;
    let full = loop {
        let mut stream = outbox.buffered_stream();
        let id = format!("PO-{written}");
        stream.begin(PO, &id).unwrap();
        stream.end(PO, &id).unwrap();
        match stream.flush() {
            Ok(_) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 10_000, "the quota never applied");
    };
    match &full {
        StoreError::BoxFull {
            quota,
            applied,
            committed,
            ..
        } => {
            assert_eq!(*quota, 3 * 4096);
            assert_eq!(*applied, 0);
            assert_eq!(*committed, written);
        }
        other => panic!("expected BoxFull, got {other:?}"),
    }
    assert!(full.to_string().contains("bamdb bus"), "{full}");
    let store = open(dir.path());
    assert_eq!(pump(&store), written);
    assert_eq!(count(&store), written as usize);
    order(&outbox, "after");
    assert_eq!(pump(&store), 1);
}

#[test]
fn one_producer_per_box() {
    let dir = tempfile::tempdir().unwrap();
    let first = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    let stream = first.buffered_stream();
    drop(first);
    // A stream keeps the box locked.
    match MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()) {
        Err(StoreError::BoxLocked { dir: locked }) => assert!(locked.ends_with("boxes/p")),
        Err(other) => panic!("expected BoxLocked, got {other:?}"),
        Ok(_) => panic!("two producers opened one box"),
    }
    drop(stream);
    let again = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    let wrong = BoxOptions {
        producer_id: Some(again.producer_id().wrapping_add(1)),
        ..BoxOptions::default()
    };
    drop(again);
    let err = MessageBox::open_in_store(dir.path(), "p", wrong)
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
    let err = MessageBox::open_in_store(dir.path(), "../x", BoxOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("message box name"), "{err}");
}

#[test]
fn a_box_made_again_under_the_same_name_is_a_new_box() {
    let dir = tempfile::tempdir().unwrap();
    let old = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    order(&old, "OLD-1");
    let old_id = old.stats().unwrap().box_id;
    let store = open(dir.path());
    pump(&store);
    drop(old);
    std::fs::remove_dir_all(dir.path().join("boxes/p")).unwrap();
    let new = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    assert_ne!(new.stats().unwrap().box_id, old_id);
    order(&new, "NEW-1");
    // Its LSN 1 is not taken for the old box's LSN 1.
    assert_eq!(pump(&store), 1);
    assert!(store.get(PO, "NEW-1").unwrap().is_some());
    assert_eq!(new.stats().unwrap().applied_lsn, 1);
}

#[test]
fn a_bad_frame_from_a_box_is_quarantined_naming_the_box() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    let mut stream = outbox.buffered_stream();
    stream.begin("NotDeployed", "X-1").unwrap();
    stream.flush().unwrap();
    order(&outbox, "PO-1");
    let box_id = outbox.stats().unwrap().box_id;
    let store = open(dir.path());
    assert_eq!(pump(&store), 2);
    assert_eq!(count(&store), 1);
    let (entries, problems) = store.quarantine_entries().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(entries.len(), 1);
    let reasons = entries[0].reasons.join("; ");
    assert!(reasons.contains("NotDeployed"), "{reasons}");
    assert!(reasons.contains(&format!("{box_id:016x}")), "{reasons}");
    // Deploy what was missing and replay it.
    store
        .deploy(serde_json::from_str(r#"{"name":"NotDeployed","items":[]}"#).unwrap())
        .unwrap();
    store.replay_quarantined(entries[0].id).unwrap();
    settle(&store);
    assert!(store.get("NotDeployed", "X-1").unwrap().is_some());
}

#[test]
fn a_box_named_by_the_operator_is_imported_from_where_it_is() {
    let stores = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let outbox = MessageBox::open(elsewhere.path().join("app"), BoxOptions::default()).unwrap();
    order(&outbox, "PO-1");
    let store = open(stores.path());
    assert_eq!(store.import_boxes(&[]).unwrap().frames, 0);
    let extra = [elsewhere.path().join("app")];
    assert_eq!(store.import_boxes(&extra).unwrap().frames, 1);
    settle(&store);
    store.import_boxes(&extra).unwrap();
    assert_eq!(outbox.stats().unwrap().applied_lsn, 1);
    // A directory that is no box is reported, the others still copied.
    let pass = store
        .import_boxes(&[stores.path().join("missing")])
        .unwrap();
    assert_eq!(pass.problems.len(), 0, "a folder without a box is skipped");
}

#[test]
fn sequenced_flushes_through_a_box_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    for attempt in 0..10 {
        let mut stream = outbox.buffered_stream();
        let id = format!("PO-{attempt}");
        stream.begin(PO, &id).unwrap();
        stream.end(PO, &id).unwrap();
        stream.flush_sequenced(1).unwrap();
    }
    let store = open(dir.path());
    assert_eq!(pump(&store), 10);
    assert_eq!(count(&store), 1);
    assert_eq!(store.last_sequence(outbox.producer_id()), Some(1));
}

#[test]
fn the_store_handle_keeps_working_in_process() {
    // The embedded case: a store's own streams and a box side by side.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let outbox = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    let mut own = store.direct_stream();
    own.begin(PO, "OWN-1").unwrap();
    own.flush().unwrap();
    order(&outbox, "BOX-1");
    pump(&store);
    assert_eq!(count(&store), 2);
    let stats = store.stats();
    assert!(stats.applied_lsn >= 2, "{stats:?}");
}

#[test]
fn a_box_whose_producer_is_gone_is_adopted_even_if_its_mark_was_lost() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    for i in 0..3 {
        order(&outbox, &format!("PO-{i}"));
    }
    let box_id = outbox.stats().unwrap().box_id;
    // A power loss took the mark (written in place, never synced).
    write_mark(&outbox.dir().join("SYNCED"), box_id, 0);
    let store = open(dir.path());
    // While its producer lives, the mark is the producer's to move.
    assert_eq!(store.import_abandoned_boxes(&[]).unwrap().frames, 0);
    drop(outbox);
    // It never comes back: the bus recovers the box itself.
    assert_eq!(store.import_abandoned_boxes(&[]).unwrap().frames, 3);
    settle(&store);
    assert_eq!(count(&store), 3);
    // And the producer can come back afterwards.
    let outbox = MessageBox::open_in_store(dir.path(), "p", BoxOptions::default()).unwrap();
    order(&outbox, "PO-3");
    assert_eq!(pump(&store), 1);
    assert_eq!(outbox.stats().unwrap().applied_lsn, 4);
}
