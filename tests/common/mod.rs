//! Shared helpers for the store scenarios.
#![allow(dead_code)]

use std::time::Duration;

use bamdb::model::{ActivityDefinition, Timestamp};
use bamdb::{Store, StoreOptions};

pub const PO: &str = "PurchaseOrder";

pub fn po_definition() -> ActivityDefinition {
    serde_json::from_str(
        r#"{"name":"PurchaseOrder","items":[
            {"name":"PO_Number","type":"text","max_len":32},
            {"name":"Customer","type":"text","max_len":64},
            {"name":"Region","type":"text","max_len":16},
            {"name":"Amount","type":"float"},
            {"name":"Quantity","type":"int"},
            {"name":"Status","type":"text","max_len":32},
            {"name":"Received","type":"timestamp"},
            {"name":"Shipped","type":"timestamp"}]}"#,
    )
    .unwrap()
}

pub fn open(dir: &std::path::Path) -> Store {
    let store = Store::open(dir, StoreOptions::default()).unwrap();
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
