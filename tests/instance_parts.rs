//! `Store::parts`: which application (producer id) reported which item of
//! an instance, root and continuations, while it is active, once it is
//! completed, and after a reopen reads it from an import file.

use std::time::Duration;

use bamdb::model::Value;
use bamdb::{EventStream, Store, StoreOptions};

/// A part as compared here: its id, its items (name, value, producer) and
/// whether it ended.
type Part = (String, Vec<(String, Value, u32)>, bool);

fn summary(store: &Store, id: &str) -> Vec<Part> {
    store
        .parts("PurchaseOrder", id)
        .expect("parts")
        .expect("an instance")
        .into_iter()
        .map(|p| {
            let items = p
                .items
                .into_iter()
                .map(|i| (i.name, i.value, i.producer))
                .collect();
            (p.id, items, p.end.is_some())
        })
        .collect()
}

#[test]
fn parts_name_the_producer_of_each_item_active_completed_and_reopened() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), StoreOptions::default()).unwrap();
    store
        .deploy(bamdb::fixture::definition(bamdb::fixture::BRIEF))
        .unwrap();
    let mut orders = store.direct_stream_as(3);
    orders.begin("PurchaseOrder", "PO-1").unwrap();
    orders
        .enable_continuation("PurchaseOrder", "PO-1", "SHIP-1")
        .unwrap();
    orders
        .update("PurchaseOrder", "PO-1", [("Amount", Value::Float(12.5))])
        .unwrap();
    orders.end("PurchaseOrder", "PO-1").unwrap();
    orders.flush().unwrap();
    let mut shipping = store.direct_stream_as(8);
    shipping
        .update("PurchaseOrder", "SHIP-1", [("Region", Value::from("EU"))])
        .unwrap();
    shipping.flush().unwrap();

    let root = (
        "PO-1".to_owned(),
        vec![("Amount".to_owned(), Value::Float(12.5), 3)],
        true,
    );
    let active = vec![
        root.clone(),
        (
            "SHIP-1".to_owned(),
            vec![("Region".to_owned(), Value::from("EU"), 8)],
            false,
        ),
    ];
    assert_eq!(summary(&store, "PO-1"), active);
    // The token finds the same instance.
    assert_eq!(summary(&store, "SHIP-1"), active);
    assert!(store.parts("PurchaseOrder", "PO-9").unwrap().is_none());

    shipping.end("PurchaseOrder", "SHIP-1").unwrap();
    shipping.flush().unwrap();
    let completed = vec![
        root,
        (
            "SHIP-1".to_owned(),
            vec![("Region".to_owned(), Value::from("EU"), 8)],
            true,
        ),
    ];
    assert_eq!(summary(&store, "PO-1"), completed);
    assert!(store.wait_checkpointed(Duration::from_secs(60)));
    drop((orders, shipping));
    store.close().unwrap();

    let store = Store::open(tmp.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.stats().import_files, 1);
    assert_eq!(summary(&store, "PO-1"), completed);
    assert_eq!(summary(&store, "SHIP-1"), completed);
    store.close().unwrap();
}
