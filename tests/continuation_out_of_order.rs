//! Continuations: application A enables a token on its instance, B reports
//! under the token, C under a token B enabled. Whatever order their frames
//! arrive in, the result is one instance holding all parts, completed only
//! when every part has ended, and never a visible record under a token.

mod common;

use bamdb::model::Value;
use bamdb::{EventStream, Status, Store};
use common::*;

fn orders(store: &Store, id: &str, token: &str) {
    let mut s = store.buffered_stream(0);
    s.begin(PO, id).unwrap();
    s.update(
        PO,
        id,
        [
            ("Customer", Value::from("Contoso")),
            ("Amount", 10.0.into()),
        ],
    )
    .unwrap();
    s.enable_continuation(PO, id, token).unwrap();
    s.end(PO, id).unwrap();
    s.flush().unwrap();
}

fn shipping(store: &Store, token: &str, next: Option<&str>) {
    let mut s = store.buffered_stream(0);
    s.update(PO, token, [("Status", "Shipped")]).unwrap();
    if let Some(next) = next {
        s.enable_continuation(PO, token, next).unwrap();
    }
    s.end(PO, token).unwrap();
    s.flush().unwrap();
}

fn billing(store: &Store, token: &str) {
    let mut s = store.buffered_stream(0);
    s.update(PO, token, [("Quantity", 3i64)]).unwrap();
    s.end(PO, token).unwrap();
    s.flush().unwrap();
}

#[test]
fn in_order_continuation_completes_one_instance() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    orders(&store, "PO-1", "SHIP-1");
    settle(&store);
    let po = store.get(PO, "PO-1").unwrap().unwrap();
    assert_eq!(po.status, Status::Active, "the continuation has not ended");
    shipping(&store, "SHIP-1", None);
    settle(&store);
    let po = store.get(PO, "PO-1").unwrap().unwrap();
    assert_eq!(po.status, Status::Completed);
    assert_eq!(po.item("Status"), Some(&"Shipped".into()));
    assert_eq!(po.item("Customer"), Some(&"Contoso".into()));
    assert_eq!(po.continuations, vec!["SHIP-1".to_string()]);
    // Found through the token too, as the same instance.
    assert_eq!(store.get(PO, "SHIP-1").unwrap().unwrap().id, "PO-1");
}

#[test]
fn a_continuation_committed_before_its_root_is_folded_in_and_never_visible_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    shipping(&store, "SHIP-2", None);
    settle(&store);
    assert!(
        store.get(PO, "SHIP-2").unwrap().is_none(),
        "pending records are not shown"
    );
    assert_eq!(store.stats().pending, 1);
    orders(&store, "PO-2", "SHIP-2");
    settle(&store);
    let po = store.get(PO, "PO-2").unwrap().unwrap();
    assert_eq!(po.status, Status::Completed);
    assert_eq!(po.item("Status"), Some(&"Shipped".into()));
    assert_eq!(store.stats().pending, 0);
    assert_eq!(store.stats().active, 0);
}

#[test]
fn a_chain_across_three_applications_in_every_order_gives_the_same_instance() {
    type App = fn(&Store);
    let apps: [App; 3] = [
        |s| orders(s, "PO-3", "SHIP-3"),
        |s| shipping(s, "SHIP-3", Some("BILL-3")),
        |s| billing(s, "BILL-3"),
    ];
    let mut results = Vec::new();
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        for (step, &app) in order.iter().enumerate() {
            apps[app](&store);
            settle(&store);
            let po = store.get(PO, "PO-3").unwrap();
            if step < 2 {
                assert!(po.is_none_or(|p| p.status == Status::Active), "{order:?}");
            }
            assert!(store
                .get(PO, "BILL-3")
                .unwrap()
                .is_none_or(|p| p.id == "PO-3"));
        }
        let po = store.get(PO, "PO-3").unwrap().unwrap();
        assert_eq!(po.status, Status::Completed, "{order:?}");
        assert_eq!(po.item("Quantity"), Some(&Value::Int(3)));
        let mut tokens = po.continuations.clone();
        tokens.sort();
        assert_eq!(tokens, ["BILL-3", "SHIP-3"]);
        results.push(po.items.clone());
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_continuation_that_never_ends_keeps_the_instance_active() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    orders(&store, "PO-4", "SHIP-4");
    let mut s = store.buffered_stream(0);
    s.update(PO, "SHIP-4", [("Status", "Packing")]).unwrap();
    s.flush().unwrap();
    settle(&store);
    let po = store.get(PO, "PO-4").unwrap().unwrap();
    assert_eq!(po.status, Status::Active);
    assert_eq!(po.item("Status"), Some(&"Packing".into()));
    assert!(po.end.is_none());
    drop(s); // streams keep the store open
    drop(store);
    // Still active after a restart (the state was checkpointed).
    let store = Store::open(dir.path(), bamdb::StoreOptions::default()).unwrap();
    settle(&store);
    assert_eq!(
        store.get(PO, "PO-4").unwrap().unwrap().status,
        Status::Active
    );
}

#[test]
fn relationships_never_block_completion_and_stay_with_their_instance() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut s = store.direct_stream();
    s.begin(PO, "PO-5").unwrap();
    s.add_related_activity(PO, "PO-5", "Shipment", "SH-9")
        .unwrap();
    s.add_reference(PO, "PO-5", "DocumentUrl", "invoice", "http://x/inv/5", None)
        .unwrap();
    s.end(PO, "PO-5").unwrap();
    s.begin(PO, "PO-6").unwrap();
    s.flush().unwrap();
    let po5 = store.get(PO, "PO-5").unwrap().unwrap();
    assert_eq!(
        po5.status,
        Status::Completed,
        "a relation to an unknown instance does not block"
    );
    assert_eq!(po5.relationships.len(), 1);
    assert_eq!(po5.relationships[0].id, "SH-9");
    assert_eq!(po5.references[0].data, "http://x/inv/5");
    let po6 = store.get(PO, "PO-6").unwrap().unwrap();
    assert!(po6.relationships.is_empty() && po6.references.is_empty());
}
