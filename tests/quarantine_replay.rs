//! Bad frames go to quarantine with a reason, are counted and reported to a
//! listener, never block the frames after them, and can be replayed once
//! the cause is fixed: imported exactly once however often they are
//! replayed.

mod common;

use std::sync::{Arc, Mutex};

use bamdb::model::{ActivityDefinition, Value};
use bamdb::{EventStream, ReplayOutcome, Status, Store, StoreOptions};
use common::*;

fn shipment_definition() -> ActivityDefinition {
    serde_json::from_str(
        r#"{"name":"Shipment","items":[{"name":"Carrier","type":"text","max_len":32}]}"#,
    )
    .unwrap()
}

#[test]
fn an_invalid_buffered_frame_is_quarantined_and_replayed_after_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let options = StoreOptions {
        on_quarantine: Some(Arc::new(move |e: &bamdb::QuarantineEvent| {
            seen.lock().unwrap().push((e.id, e.reasons.clone()));
        })),
        ..StoreOptions::default()
    };
    let store = Store::open(dir.path(), options).unwrap();
    store.deploy(po_definition()).unwrap();
    let mut s = store.buffered_stream(0);
    // A good frame, a frame for an activity not deployed yet, a good frame.
    s.begin(PO, "PO-1").unwrap();
    s.flush().unwrap();
    s.begin("Shipment", "SH-1").unwrap();
    s.update("Shipment", "SH-1", [("Carrier", "DHL")]).unwrap();
    s.update("Shipment", "SH-1", [("Weight", Value::Float(1.0))])
        .unwrap();
    let bad = s.flush().unwrap().unwrap();
    s.begin(PO, "PO-2").unwrap();
    s.flush().unwrap();
    settle(&store);

    assert!(store.get(PO, "PO-1").unwrap().is_some());
    assert!(
        store.get(PO, "PO-2").unwrap().is_some(),
        "the bad frame did not block"
    );
    assert!(store.get("Shipment", "SH-1").unwrap().is_none());
    let stats = store.stats();
    assert_eq!(stats.counters.frames_quarantined, 1);
    assert_eq!(stats.counters.events_quarantined, 3);
    let (entries, damaged) = store.quarantine_entries().unwrap();
    assert!(damaged.is_empty());
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.source.lsns, (bad.lsn, bad.lsn));
    assert!(entry.source.segment.ends_with(".wal"));
    assert_eq!(
        entry.reasons.len(),
        3,
        "one reason per bad event: {:?}",
        entry.reasons
    );
    assert!(entry
        .reasons
        .iter()
        .all(|r| r.contains("activity Shipment is not deployed")));
    assert_eq!(events.lock().unwrap().len(), 1);
    assert_eq!(events.lock().unwrap()[0].0, entry.id);

    // Replaying before the fix keeps it quarantined.
    match store.replay_quarantined(entry.id).unwrap() {
        ReplayOutcome::StillInvalid(reasons) => assert!(!reasons.is_empty()),
        other => panic!("{other:?}"),
    }
    // Deploy Shipment (without Weight: still invalid), then with Weight.
    store.deploy(shipment_definition()).unwrap();
    assert!(
        matches!(store.replay_quarantined(entry.id).unwrap(), ReplayOutcome::StillInvalid(r) if r.iter().any(|r| r.contains("Weight")))
    );
    let mut def = shipment_definition();
    def.items
        .push(serde_json::from_str(r#"{"name":"Weight","type":"float"}"#).unwrap());
    store.deploy(def).unwrap();
    assert_eq!(
        store.replay_quarantined(entry.id).unwrap(),
        ReplayOutcome::Imported
    );
    assert_eq!(
        store.replay_quarantined(entry.id).unwrap(),
        ReplayOutcome::AlreadyResolved
    );
    let sh = store.get("Shipment", "SH-1").unwrap().unwrap();
    assert_eq!(sh.status, Status::Active);
    assert_eq!(sh.item("Carrier"), Some(&"DHL".into()));
    let (entries, _) = store.quarantine_entries().unwrap();
    assert!(entries[0].resolved);
    assert_eq!(entries[0].failed_replays.len(), 2);
    assert_eq!(store.stats().counters.frames_replayed, 1);
    drop(s);
    drop(store);

    // After a restart the resolution holds and nothing is imported twice.
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    settle(&store);
    assert_eq!(
        store.replay_quarantined(1).ok(),
        Some(ReplayOutcome::AlreadyResolved)
    );
    assert_eq!(store.stats().counters.frames_replayed, 1);
    assert_eq!(store.quarantine_entries().unwrap().0.len(), 1);
}

/// Events that arrive after their instance completed amend it instead of
/// going to quarantine (which made the answer depend on arrival order):
/// the update counts by its stamp, a second begin changes nothing (the
/// earliest begin wins), and the instance stays completed.
#[test]
fn events_for_a_completed_instance_amend_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut s = store.direct_stream();
    s.begin(PO, "PO-9").unwrap();
    s.end(PO, "PO-9").unwrap();
    s.flush().unwrap();
    let first = store.get(PO, "PO-9").unwrap().unwrap();
    let mut late = store.buffered_stream(0);
    late.update(PO, "PO-9", [("Status", "Late")]).unwrap();
    late.flush().unwrap();
    late.begin(PO, "PO-9").unwrap();
    late.flush().unwrap();
    settle(&store);
    assert!(store.quarantine_entries().unwrap().0.is_empty());
    let amended = store.get(PO, "PO-9").unwrap().unwrap();
    assert_eq!(amended.status, bamdb::Status::Completed);
    assert_eq!(amended.item("Status"), Some(&"Late".into()));
    assert_eq!(amended.begin, first.begin);
    assert_eq!(store.instances(PO).unwrap().len(), 1);
    assert_eq!(store.stats().completed, 1);
}
