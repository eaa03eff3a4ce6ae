//! Fuzz entry point for what a central bus receives from NATS: a shipped
//! message's bytes (`ship::message`), decoded and handed to a store.

use std::time::Duration;

use crate::ship::message::{decode, encode};
use crate::storage::MemStorage;
use crate::{EventStream, ShippedFrame, Store, StoreOptions};

/// Input: a shipped message. Decoding must never panic; a message that
/// decodes must encode back to the same bytes, and its frames, handed to
/// a store, must each be imported or quarantined (never panic, never
/// halt), and handed again be skipped as duplicates.
pub fn shipped_message(data: &[u8]) {
    let Ok(message) = decode(data) else {
        return;
    };
    let again = encode(
        message.box_id,
        message.first_lsn,
        message.synced,
        &message.frames,
    );
    assert_eq!(again, data, "a decoded message must encode to its bytes");
    let frames: Vec<ShippedFrame<'_>> = message
        .frames
        .iter()
        .enumerate()
        .map(|(k, payload)| ShippedFrame {
            box_id: message.box_id,
            lsn: message.first_lsn + k as u64,
            payload,
        })
        .collect();
    let disk = MemStorage::new();
    let mut options = StoreOptions::default();
    options.wal.segment_size = 1 << 20;
    options.wal.max_frame_size = 1 << 16;
    let store = match Store::open_with_storage(disk.shared(), "/s", options) {
        Ok(store) => store,
        Err(e) => panic!("a fresh store must open: {e}"),
    };
    if let Err(e) = store.deploy(crate::fixture::definition(crate::fixture::FULL)) {
        panic!("the fixture definition must deploy: {e}");
    }
    let first = match store.append_shipped(&frames) {
        Ok(report) => report,
        Err(e) => panic!("appending shipped frames failed: {e}"),
    };
    assert!(
        store.wait_applied(first.durable_at, Duration::from_secs(30)),
        "the import must take every frame"
    );
    let stats = store.stats();
    assert!(!stats.import_halted, "{:?}", stats.degraded);
    let handled = stats.counters.frames_imported + stats.counters.frames_quarantined;
    assert_eq!(
        handled, first.appended,
        "each appended frame imported or quarantined"
    );
    let second = match store.append_shipped(&frames) {
        Ok(report) => report,
        Err(e) => panic!("appending again failed: {e}"),
    };
    assert_eq!(second.appended, 0, "handed again: nothing appended");
    assert_eq!(second.duplicates, first.appended);
}

/// The seed corpus: real messages (a box's batches, one and several per
/// message), and damaged ones.
pub fn seed_corpus() -> Vec<(String, Vec<u8>)> {
    let capture = std::sync::Arc::new(Capture::default());
    for n in 0..3u64 {
        let mut stream = crate::stream::BufferedEventStream::new(capture.clone(), 7, 0);
        let pushed = crate::fixture::TypicalOrder::new(1, n).report(&mut stream);
        if let Err(e) = pushed.and_then(|()| stream.flush().map(|_| ())) {
            panic!("a typical order must encode: {e}");
        }
    }
    let batches = match capture.batches.lock() {
        Ok(list) => list.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    let mut out = vec![
        ("one_frame".to_string(), encode(7, 1, 1, &batches[..1])),
        ("three_frames".to_string(), encode(7, 1, 3, &batches)),
        ("later_lsns".to_string(), encode(9, 5, 9, &batches)),
        (
            "garbage_frame".to_string(),
            encode(7, 1, 1, &[b"not a batch".as_slice()]),
        ),
        ("empty".to_string(), encode(7, 1, 0, &[] as &[&[u8]])),
    ];
    let mut flipped = encode(7, 1, 3, &batches);
    if let Some(b) = flipped.get_mut(40) {
        *b ^= 1;
    }
    out.push(("checksum_flipped".into(), flipped));
    out.push(("short".into(), b"BSHP\x01".to_vec()));
    out
}

/// Keeps the batches a stream commits.
#[derive(Default)]
struct Capture {
    limits: crate::model::Limits,
    batches: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl crate::stream::Committer for Capture {
    fn limits(&self) -> &crate::model::Limits {
        &self.limits
    }
    fn commit(
        &self,
        _seq: Option<u64>,
        batch: &[u8],
    ) -> Result<crate::wal::Lsn, crate::StoreError> {
        let mut batches = match self.batches.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        batches.push(batch.to_vec());
        Ok(batches.len() as u64)
    }
}
