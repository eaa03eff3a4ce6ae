//! Shared helpers for the store scenarios: the sample PurchaseOrder of
//! `bamdb::fixture`, stores on a real directory or on the in-memory disk.
#![allow(dead_code)]

use std::time::Duration;

use bamdb::fixture;
use bamdb::model::{ActivityDefinition, Timestamp};
use bamdb::storage::MemStorage;
use bamdb::{Store, StoreOptions};

pub const PO: &str = fixture::ACTIVITY;

/// The full PurchaseOrder: eight items, `Amount` fourth, `Shipped` last.
pub fn po_definition() -> ActivityDefinition {
    fixture::definition(fixture::FULL)
}

pub fn open(dir: &std::path::Path) -> Store {
    let store = Store::open(dir, StoreOptions::default()).unwrap();
    store.deploy(po_definition()).unwrap();
    store
}

/// Options for a store on [`MemStorage`], with 1 MiB message-box segments:
/// the in-memory disk really allocates what a segment reserves.
pub fn mem_options() -> StoreOptions {
    let mut options = StoreOptions::default();
    options.wal.segment_size = 1 << 20;
    options.wal.max_frame_size = 1 << 20;
    options
}

/// A store at `/s` on `disk` with the full PurchaseOrder deployed.
pub fn open_mem(disk: &MemStorage, options: StoreOptions) -> Store {
    let store = Store::open_with_storage(disk.shared(), "/s", options).unwrap();
    store.deploy(po_definition()).unwrap();
    store
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Waits until everything committed is imported.
pub fn settle(store: &Store) {
    assert!(
        store.sync(Duration::from_secs(30)),
        "the bus did not catch up"
    );
}
