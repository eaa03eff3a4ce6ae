//! `Store::drop_quarantined` is durable and all or nothing: once it
//! returns, a crash (unsynced data lost) keeps every named entry dropped; a
//! crash at any I/O step during it leaves either all of them dropped or
//! none, never a part, and the log readable.

mod common;

use std::time::Duration;

use bamdb::storage::{CrashMode, MemStorage};
use bamdb::{EntryState, EventStream, Store, StoreOptions};
use common::*;

fn options() -> StoreOptions {
    StoreOptions {
        retry_limit: 1,
        retry_backoff: Duration::from_millis(1),
        ..StoreOptions::default()
    }
}

/// A store on `disk` with two quarantine entries (Invoice not deployed).
fn two_entries(disk: &MemStorage) -> (Store, Vec<u64>) {
    let store = Store::open_with_storage(disk.shared(), "/store", options()).unwrap();
    let mut s = store.buffered_stream(0);
    for id in ["INV-1", "INV-2"] {
        s.begin("Invoice", id).unwrap();
        s.flush().unwrap();
    }
    settle(&store);
    let (entries, _) = store.quarantine_entries().unwrap();
    let ids: Vec<u64> = entries.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 2);
    (store, ids)
}

fn dropped(image: &MemStorage) -> Vec<bool> {
    let store = Store::open_with_storage(image.shared(), "/store", options()).unwrap();
    let (entries, damaged) = store.quarantine_entries().unwrap();
    assert!(damaged.is_empty(), "{damaged:?}");
    assert_eq!(entries.len(), 2);
    let out = entries
        .iter()
        .map(|e| matches!(&e.state, EntryState::Dropped { drop_reason, .. } if drop_reason == "not wanted"))
        .collect();
    let counts = store.stats().quarantine.unwrap();
    assert_eq!(counts.dropped + counts.unresolved, 2, "{counts:?}");
    out
}

#[test]
fn a_returned_drop_survives_a_crash() {
    let disk = MemStorage::new();
    let (store, ids) = two_entries(&disk);
    store.drop_quarantined(&ids, "not wanted").unwrap();
    let image = disk.crash_image(CrashMode::DropUnsynced);
    disk.crash_now();
    drop(store);
    assert_eq!(dropped(&image), vec![true, true]);
}

#[test]
fn a_crash_during_a_drop_drops_all_or_nothing() {
    let mut seen_ok = false;
    for n in 1..=4 {
        let disk = MemStorage::new();
        let (store, ids) = two_entries(&disk);
        disk.crash_after(n);
        let result = store.drop_quarantined(&ids, "not wanted");
        seen_ok |= result.is_ok();
        for mode in [CrashMode::DropUnsynced, CrashMode::KeepAll] {
            let image = disk.crash_image(mode);
            let after = dropped(&image);
            assert!(
                after == vec![true, true] || after == vec![false, false],
                "crash at step {n} ({mode:?}): {after:?}"
            );
            if result.is_ok() {
                assert_eq!(after, vec![true, true], "step {n}: returned Ok, then lost");
            }
        }
        drop(store);
    }
    assert!(seen_ok, "no run got far enough to drop anything");
}
