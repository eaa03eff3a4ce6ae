//! Opening a store for reading costs O(files), not O(message-box bytes)
//! (issue 14). Before, every open walked every frame of the message box's
//! last segment, read its preallocated space through to check it was zero,
//! and synced it; a clean close now records where the log ends, so an open
//! that only reads takes a few small reads and writes nothing at all.

mod common;

use bamdb::storage::MemStorage;
use bamdb::{EventStream, Store, StoreOptions};
use common::*;

#[test]
fn a_store_closed_cleanly_opens_and_closes_again_without_writing() {
    let disk = MemStorage::new();
    let store = Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap();
    store.deploy(po_definition()).unwrap();
    let mut s = store.direct_stream();
    for i in 0..50 {
        let id = format!("PO-{i}");
        s.begin(PO, &id).unwrap();
        if i % 2 == 0 {
            s.end(PO, &id).unwrap();
        }
    }
    s.flush().unwrap();
    drop(s);
    store.close().unwrap();
    let wal = disk.read_file(std::path::Path::new("/s/wal/CLEAN"));
    assert!(
        wal.is_some(),
        "the close records where the message box ends"
    );

    let steps = disk.steps();
    let store = Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap();
    assert!(store.get(PO, "PO-2").unwrap().is_some());
    assert!(store.get(PO, "PO-3").unwrap().is_some());
    store.close().unwrap();
    assert_eq!(
        disk.steps(),
        steps,
        "a reading open and close wrote or synced"
    );
}
