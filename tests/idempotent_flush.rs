//! Sequenced flushes: the store imports at most one batch per (producer
//! id, sequence number), however often it is committed: retried after
//! crashes of unknown outcome, sent twice, or sent again by `bamdb ingest`
//! re-reading its input. Ten failed attempts to save one $1,000 order must
//! not become $10,000 of orders.

mod common;

use bamdb::query::{Aggregate, Cell, Measure};
use bamdb::storage::{CrashMode, MemStorage};
use bamdb::{EventStream, Store, StoreOptions};
use common::*;

fn order_total(store: &Store) -> (u64, f64) {
    let mut agg = Aggregate::new(PO);
    agg.measures = vec![
        Measure::parse("count").unwrap(),
        Measure::parse("sum:Amount").unwrap(),
    ];
    let result = store.aggregate(&agg).unwrap();
    match result.rows[0].cells.as_slice() {
        [Cell::Int(count), Cell::Float(sum)] => (*count as u64, *sum),
        other => panic!("unexpected row {other:?}"),
    }
}

/// Reports a $1,000 order as batch `seq` of producer 7. The id is new at
/// each attempt (as an application that numbers its orders per save
/// would make it), so only the sequence number can tell a retry.
fn save_order(store: &Store, seq: u64, attempt: usize) {
    let id = format!("PO-{attempt}");
    let mut s = store.buffered_stream_as(7, 0);
    s.begin(PO, &id).unwrap();
    s.update(PO, &id, [("Amount", 1000.0)]).unwrap();
    s.end(PO, &id).unwrap();
    s.flush_sequenced(seq).unwrap();
}

#[test]
fn the_same_sequenced_flush_committed_ten_times_across_crashes_counts_once() {
    for (round, mode) in [CrashMode::KeepAll, CrashMode::DropUnsynced]
        .into_iter()
        .enumerate()
    {
        let mut disk = MemStorage::new();
        for attempt in 0..10 {
            let store = if attempt == 0 {
                open_mem(&disk, mem_options())
            } else {
                Store::open_with_storage(disk.shared(), "/s", mem_options()).unwrap()
            };
            // The flush is durable when it returns; the crash comes before
            // or after the bus imported it (it imports on the next open).
            save_order(&store, 1, attempt);
            if attempt % 3 == 0 {
                settle(&store);
            }
            let image = disk.crash_image(mode);
            drop(store);
            disk = image;
        }
        let store = Store::open_with_storage(disk.shared(), "/s", mem_options()).unwrap();
        settle(&store);
        assert_eq!(order_total(&store), (1, 1000.0), "round {round}");
        let stats = store.stats();
        assert_eq!(stats.duplicates, 9, "round {round}: {stats:?}");
        assert_eq!(stats.counters.instances_completed, 1);
        assert_eq!(store.last_sequence(7), Some(1));
        store.close().unwrap();
    }
}

#[test]
fn different_sequences_with_identical_contents_count_separately() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut s = store.direct_stream_as(3);
    for seq in [10, 11] {
        s.begin(PO, &format!("PO-{seq}")).unwrap();
        s.update(PO, &format!("PO-{seq}"), [("Amount", 5.0)])
            .unwrap();
        s.end(PO, &format!("PO-{seq}")).unwrap();
        s.flush_sequenced(seq).unwrap();
    }
    // The same events twice, under two numbers: two batches.
    let before = store.stats().counters.frames_imported;
    for seq in [12, 13] {
        s.update(PO, "PO-10", [("Amount", 7.0)]).unwrap();
        s.flush_sequenced(seq).unwrap();
    }
    let stats = store.stats();
    assert_eq!(stats.counters.frames_imported, before + 2);
    assert_eq!(stats.duplicates, 0);
    assert_eq!(order_total(&store), (2, 12.0));
    assert_eq!(store.last_sequence(3), Some(13));
    drop(s);
    store.close().unwrap();
}

#[test]
fn numbers_are_per_producer_at_or_below_the_highest_are_skipped_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let flush = |producer: u32, id: &str, seq: u64| {
        let mut s = store.direct_stream_as(producer);
        s.begin(PO, id).unwrap();
        s.flush_sequenced(seq).unwrap();
    };
    flush(7, "A", 5);
    flush(7, "B", 3); // below 5: a duplicate, whatever it holds
    flush(8, "C", 3); // another producer's 3
    flush(7, "D", 9); // gaps are fine
    assert!(store.get(PO, "A").unwrap().is_some());
    assert!(store.get(PO, "B").unwrap().is_none());
    assert!(store.get(PO, "C").unwrap().is_some());
    assert!(store.get(PO, "D").unwrap().is_some());
    assert_eq!(store.stats().duplicates, 1);
    assert_eq!(
        (
            store.last_sequence(7),
            store.last_sequence(8),
            store.last_sequence(9)
        ),
        (Some(9), Some(3), None)
    );
    // An unsequenced flush is never a duplicate and moves no mark.
    let mut s = store.direct_stream_as(7);
    s.begin(PO, "E").unwrap();
    s.flush().unwrap();
    drop(s);
    assert!(store.get(PO, "E").unwrap().is_some());
    assert_eq!(store.last_sequence(7), Some(9));
    store.close().unwrap();

    // The marks are checkpointed with the state.
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.last_sequence(7), Some(9));
    assert_eq!(store.stats().duplicates, 1);
    let mut s = store.direct_stream_as(7);
    s.begin(PO, "F").unwrap();
    s.flush_sequenced(9).unwrap();
    drop(s);
    assert!(store.get(PO, "F").unwrap().is_none());
    store.close().unwrap();
}

#[test]
fn a_quarantined_sequenced_batch_is_not_set_aside_twice_and_replays_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    // Not deployed yet: quarantined.
    for _ in 0..3 {
        let mut s = store.buffered_stream_as(4, 0);
        s.begin(PO, "Q-1").unwrap();
        s.end(PO, "Q-1").unwrap();
        s.flush_sequenced(1).unwrap();
    }
    settle(&store);
    let (entries, _) = store.quarantine_entries().unwrap();
    assert_eq!(
        entries.len(),
        1,
        "a resend is a duplicate, not a second entry"
    );
    assert_eq!(store.stats().duplicates, 2);
    store.deploy(po_definition()).unwrap();
    let outcome = store.replay_quarantined(entries[0].id).unwrap();
    assert!(
        matches!(outcome, bamdb::ReplayOutcome::Imported),
        "{outcome:?}"
    );
    assert_eq!(
        store.get(PO, "Q-1").unwrap().map(|i| i.status),
        Some(bamdb::Status::Completed)
    );
    store.close().unwrap();
}
