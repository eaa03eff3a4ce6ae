//! The direct stream: a flush returns only once the events are durable and
//! visible; a batch that would be quarantined is refused with nothing
//! written.

mod common;

use bamdb::{EventStream, Status, StoreError};
use common::*;

#[test]
fn a_direct_flush_is_visible_as_completed_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut s = store.direct_stream();
    s.begin(PO, "PO-1").unwrap();
    s.update(
        PO,
        "PO-1",
        [
            ("Customer", "Contoso".into()),
            ("Amount", bamdb::model::Value::Float(125.5)),
        ],
    )
    .unwrap();
    s.end(PO, "PO-1").unwrap();
    let receipt = s.flush().unwrap().unwrap();
    assert_eq!(receipt.events, 3);
    let po = store.get(PO, "PO-1").unwrap().unwrap();
    assert_eq!(po.status, Status::Completed);
    assert_eq!(po.item("Customer"), Some(&"Contoso".into()));
    assert_eq!(po.item("Amount"), Some(&125.5.into()));
    assert!(po.begin.is_some() && po.end.is_some());
    assert_eq!(s.flush().unwrap(), None, "an empty flush writes nothing");
}

#[test]
fn a_direct_flush_with_an_unknown_item_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let before = store.stats().committed_lsn;
    let mut s = store.direct_stream();
    s.begin(PO, "PO-2").unwrap();
    s.update(PO, "PO-2", [("Colour", "red")]).unwrap();
    let err = s.flush().unwrap_err();
    match &err {
        StoreError::Rejected { reasons } => {
            assert_eq!(reasons.len(), 1);
            assert!(
                reasons[0].contains("item Colour is not defined"),
                "{reasons:?}"
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(store.stats().committed_lsn, before, "nothing written");
    assert_eq!(s.pending_events(), 0);
    assert!(store.get(PO, "PO-2").unwrap().is_none());
}

#[test]
fn values_are_coerced_to_the_declared_types() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut s = store.direct_stream();
    s.begin(PO, "PO-3").unwrap();
    s.update(
        PO,
        "PO-3",
        [
            ("Amount", bamdb::model::Value::Int(7)),
            ("Received", "2026-11-22T10:00:00Z".into()),
        ],
    )
    .unwrap();
    s.flush().unwrap();
    let po = store.get(PO, "PO-3").unwrap().unwrap();
    assert_eq!(po.status, Status::Active);
    assert_eq!(po.item("Amount"), Some(&7.0.into()));
    assert_eq!(
        po.item("Received"),
        Some(&bamdb::model::Value::Timestamp(ts("2026-11-22T10:00:00Z")))
    );
    s.update(PO, "PO-3", [("Quantity", 2.5)]).unwrap();
    assert!(
        matches!(s.flush(), Err(StoreError::Rejected { .. })),
        "float to int is refused"
    );
}
