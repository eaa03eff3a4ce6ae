#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::storage::MemStorage;
use crate::store::boxes::tests::Capture;
use crate::stream::BufferedEventStream;
use crate::{EventStream, StoreOptions};

fn open(disk: &MemStorage) -> Store {
    let mut options = StoreOptions::default();
    options.wal.segment_size = 1 << 20;
    options.wal.max_frame_size = 1 << 16;
    Store::open_with_storage(disk.shared(), "/s", options).unwrap()
}

/// One batch per id, each beginning and ending an `Order`.
fn batches(ids: &[&str]) -> Vec<Vec<u8>> {
    let capture = Arc::new(Capture::default());
    for id in ids {
        let mut stream = BufferedEventStream::new(capture.clone(), 99, 0);
        stream.begin("Order", id).unwrap();
        stream.end("Order", id).unwrap();
        stream.flush().unwrap();
    }
    let batches = capture.batches.lock().unwrap().clone();
    batches
}

fn frame(box_id: u64, lsn: Lsn, payload: &[u8]) -> ShippedFrame<'_> {
    ShippedFrame {
        box_id,
        lsn,
        payload,
    }
}

fn imported(store: &Store, report: &ShippedAppend) -> Vec<String> {
    assert!(store.wait_applied(report.durable_at, Duration::from_secs(10)));
    let mut ids: Vec<String> = store
        .instances("Order")
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn frames_are_imported_once_in_order_per_box() {
    let disk = MemStorage::new();
    let store = open(&disk);
    store
        .deploy(serde_json::from_str(r#"{"name":"Order","items":[]}"#).unwrap())
        .unwrap();
    let b = batches(&["A1", "A2", "B1", "A3"]);
    // Box 1's LSN 2 before its LSN 1 is refused; box 2 is its own.
    let first = store
        .append_shipped(&[frame(1, 2, &b[1]), frame(2, 1, &b[2])])
        .unwrap();
    assert_eq!((first.appended, first.duplicates), (1, 0));
    assert_eq!(
        first.refused,
        vec![RefusedFrame {
            index: 0,
            box_id: 1,
            lsn: 2,
            reason: RefusedBecause::OutOfOrder { expected: 1 },
        }]
    );
    // Redelivered with what came before it; box 2's again: skipped.
    let second = store
        .append_shipped(&[frame(1, 1, &b[0]), frame(1, 2, &b[1]), frame(2, 1, &b[2])])
        .unwrap();
    assert_eq!((second.appended, second.duplicates), (2, 1));
    assert!(second.refused.is_empty());
    assert_eq!(imported(&store, &second), ["A1", "A2", "B1"]);
    let stats = store.stats();
    assert_eq!(stats.boxes["0000000000000001"], 2);
    assert_eq!(stats.boxes["0000000000000002"], 1);
}

/// After a restart the store still knows what each box gave: from the
/// import's own mark, not from memory.
#[test]
fn a_reopened_store_skips_what_it_imported_before() {
    let disk = MemStorage::new();
    let b = batches(&["A1", "A2", "A3"]);
    {
        let store = open(&disk);
        store
            .deploy(serde_json::from_str(r#"{"name":"Order","items":[]}"#).unwrap())
            .unwrap();
        let done = store
            .append_shipped(&[frame(5, 1, &b[0]), frame(5, 2, &b[1])])
            .unwrap();
        assert!(store.wait_applied(done.durable_at, Duration::from_secs(10)));
        store.close().unwrap();
    }
    let store = open(&disk);
    let again = store
        .append_shipped(&[frame(5, 1, &b[0]), frame(5, 2, &b[1]), frame(5, 3, &b[2])])
        .unwrap();
    assert_eq!((again.appended, again.duplicates), (1, 2));
    assert_eq!(imported(&store, &again), ["A1", "A2", "A3"]);
}

#[test]
fn a_frame_too_large_for_the_store_is_refused_not_lost() {
    let disk = MemStorage::new();
    let store = open(&disk);
    let big = vec![0u8; 1 << 16];
    let report = store.append_shipped(&[frame(3, 1, &big)]).unwrap();
    assert_eq!(report.appended, 0);
    let max = store.max_boxed_frame();
    assert_eq!(report.refused[0].reason, RefusedBecause::TooLarge { max });
    assert!(report.refused[0]
        .reason
        .to_string()
        .contains("max_frame_size"));
    // The box still waits for its LSN 1.
    let b = batches(&["C1"]);
    assert_eq!(
        store
            .append_shipped(&[frame(3, 1, &b[0])])
            .unwrap()
            .appended,
        1
    );
}
