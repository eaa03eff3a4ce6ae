#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};

use super::*;
use crate::model::Limits;
use crate::storage::MemStorage;
use crate::stream::{BufferedEventStream, Committer};
use crate::{EventStream, StoreOptions};

/// Keeps the batches a stream commits, to copy them by hand.
#[derive(Default)]
pub(in crate::store) struct Capture {
    limits: Limits,
    pub(in crate::store) batches: Mutex<Vec<Vec<u8>>>,
}

impl Committer for Capture {
    fn limits(&self) -> &Limits {
        &self.limits
    }
    fn commit(&self, _seq: Option<u64>, batch: &[u8]) -> Result<Lsn, StoreError> {
        let mut batches = self.batches.lock().unwrap();
        batches.push(batch.to_vec());
        Ok(batches.len() as Lsn)
    }
}

/// A frame copied twice (or an older one after a newer) is imported
/// once: the bus keeps the highest LSN it imported per box.
#[test]
fn a_frame_copied_again_is_skipped() {
    let disk = MemStorage::new();
    let mut options = StoreOptions::default();
    options.wal.segment_size = 1 << 20;
    options.wal.max_frame_size = 1 << 20;
    let store = Store::open_with_storage(disk.shared(), "/s", options).unwrap();
    store
        .deploy(serde_json::from_str(r#"{"name":"Order","items":[]}"#).unwrap())
        .unwrap();
    let capture = Arc::new(Capture::default());
    for id in ["PO-1", "PO-2"] {
        let mut stream = BufferedEventStream::new(capture.clone(), 99, 0);
        stream.begin("Order", id).unwrap();
        stream.flush().unwrap();
    }
    let batches = capture.batches.lock().unwrap().clone();
    let frames = [
        boxed_payload(7, 1, &batches[0]),
        boxed_payload(7, 1, &batches[0]),
        boxed_payload(7, 2, &batches[1]),
        // Box 7's LSN 1 again, with other contents: still a copy.
        boxed_payload(7, 1, &batches[1]),
        // Another box's LSN 1 is its own.
        boxed_payload(8, 1, &batches[1]),
    ];
    assert_eq!(store.bus.wal().append_all(&frames).unwrap().len(), 5);
    assert!(store.sync(Duration::from_secs(10)));
    assert_eq!(store.instances("Order").unwrap().len(), 2);
    let state = store.bus.read_state();
    assert_eq!(state.sequences.boxes.get(&7), Some(&2));
    assert_eq!(state.sequences.boxes.get(&8), Some(&1));
}
