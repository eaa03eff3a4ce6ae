//! The producer side: one flush is one frame, clear() and dropping a stream
//! write nothing, a threshold of N commits every N events, structural
//! limits are refused at once with nothing buffered, a commit made by push
//! returns its receipt (and a direct stream validates it first), definitions survive a
//! reopen, and the typical activity fits in a 200-byte frame.

mod common;

use std::path::Path;

use bamdb::model::{encode_batch, Event, EventKind, Limits, Value};
use bamdb::wal::{ReadItem, Wal, WalOptions, FRAME_HEADER_LEN};
use bamdb::{EventStream, Store, StoreError, StoreOptions};
use common::*;

fn frames(dir: &Path) -> Vec<Vec<u8>> {
    let wal = Wal::open(dir.join("wal"), WalOptions::default()).unwrap();
    wal.reader(1)
        .map(|i| match i.unwrap() {
            ReadItem::Frame(f) => f.payload,
            ReadItem::Corrupt(c) => panic!("{c:?}"),
        })
        .collect()
}

#[test]
fn a_flush_is_one_frame_and_clear_and_drop_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let base = store.stats().committed_lsn;
    let mut s = store.buffered_stream(0);
    for i in 0..10 {
        s.begin(PO, &format!("PO-{i}")).unwrap();
    }
    assert_eq!(
        store.stats().committed_lsn,
        base,
        "nothing written before flush"
    );
    let r = s.flush().unwrap().unwrap();
    assert_eq!((r.lsn, r.events), (base + 1, 10));
    s.begin(PO, "ROLLED-BACK").unwrap();
    s.clear();
    assert_eq!(s.flush().unwrap(), None);
    let mut dropped = store.buffered_stream(0);
    dropped.begin(PO, "DROPPED").unwrap();
    drop(dropped);
    settle(&store);
    assert_eq!(store.stats().committed_lsn, base + 1);
    assert!(store.get(PO, "ROLLED-BACK").unwrap().is_none());
    assert!(store.get(PO, "DROPPED").unwrap().is_none());
    drop(s);
    store.close().unwrap();
    // The message box holds exactly the deploy frame and the one batch
    // (unless a checkpoint trimmed; segments are 64 MiB so it did not).
    assert_eq!(frames(dir.path()).len(), base as usize + 1);
}

#[test]
fn a_threshold_of_n_commits_exactly_every_n_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let base = store.stats().committed_lsn;
    let mut s = store.buffered_stream(3);
    for i in 0..10 {
        s.begin(PO, &format!("PO-{i}")).unwrap();
        assert_eq!(
            store.stats().committed_lsn,
            base + (i + 1) / 3,
            "after event {i}"
        );
    }
    assert_eq!(s.pending_events(), 1);
    let mut every = store.buffered_stream(1);
    every.begin(PO, "X").unwrap();
    assert_eq!(store.stats().committed_lsn, base + 4);
}

#[test]
fn a_commit_made_by_push_returns_its_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = StoreOptions::default();
    options.limits.max_events_per_batch = 4;
    let store = Store::open(dir.path(), options).unwrap();
    store.deploy(po_definition()).unwrap();
    let base = store.stats().committed_lsn;

    // Buffered, threshold 3: the third push commits and says so.
    let mut s = store.buffered_stream(3);
    assert_eq!(s.begin(PO, "PO-1").unwrap(), None);
    assert_eq!(s.begin(PO, "PO-2").unwrap(), None);
    let r = s.begin(PO, "PO-3").unwrap().expect("a threshold commit");
    assert_eq!((r.lsn, r.events), (base + 1, 3));

    // Buffered, no threshold: the fifth push finds the batch full, commits
    // the four buffered events and starts the next batch with its own.
    let mut s = store.buffered_stream(0);
    for i in 0..4 {
        assert_eq!(s.begin(PO, &format!("PO-B{i}")).unwrap(), None);
    }
    let r = s.begin(PO, "PO-B4").unwrap().expect("a full-batch commit");
    assert_eq!((r.lsn, r.events), (base + 2, 4));
    assert_eq!(s.pending_events(), 1);
    s.clear();

    // Direct: a full batch is validated like a flush; an invalid one is
    // refused, nothing is written and the pushed event is not buffered.
    let mut d = store.direct_stream();
    for i in 0..3 {
        d.begin(PO, &format!("PO-D{i}")).unwrap();
    }
    d.update(PO, "PO-D0", [("NoSuchItem", 1i64)]).unwrap();
    let refused = d.begin(PO, "PO-D4").unwrap_err();
    assert!(matches!(refused, StoreError::Rejected { .. }), "{refused}");
    assert_eq!(d.pending_events(), 0);
    assert_eq!(store.stats().committed_lsn, base + 2);
    for i in 0..4 {
        d.begin(PO, &format!("PO-E{i}")).unwrap();
    }
    let r = d.begin(PO, "PO-E4").unwrap().expect("a full-batch commit");
    assert_eq!((r.lsn, r.events), (base + 3, 4));
    // Direct: visible when push returns.
    assert!(store.get(PO, "PO-E3").unwrap().is_some());
    assert!(store.get(PO, "PO-D0").unwrap().is_none());
}

type Call =
    Box<dyn Fn(&mut bamdb::BufferedEventStream) -> Result<Option<bamdb::Receipt>, StoreError>>;

#[test]
fn each_structural_limit_is_refused_at_once_with_nothing_buffered() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut s = store.buffered_stream(0);
    let cases: Vec<(Call, &str)> = vec![
        (Box::new(|s| s.begin(PO, "")), "id"),
        (Box::new(|s| s.begin(PO, &"x".repeat(129))), "id"),
        (Box::new(|s| s.begin(&"A".repeat(129), "PO-1")), "activity"),
        (
            Box::new(|s| s.enable_continuation(PO, "PO-1", &"t".repeat(129))),
            "token",
        ),
        (
            Box::new(|s| s.add_reference(PO, "PO-1", &"T".repeat(129), "n", "d", None)),
            "type",
        ),
        (
            Box::new(|s| s.add_reference(PO, "PO-1", "T", &"n".repeat(129), "d", None)),
            "name",
        ),
        (
            Box::new(|s| s.add_reference(PO, "PO-1", "T", "n", &"d".repeat(1025), None)),
            "data",
        ),
        (
            Box::new(|s| {
                s.add_reference(PO, "PO-1", "T", "n", "d", Some(&"L".repeat((1 << 20) + 1)))
            }),
            "long",
        ),
        (
            Box::new(|s| s.update(PO, "PO-1", [("Customer", "c".repeat(4001))])),
            "value of customer",
        ),
    ];
    for (i, (call, word)) in cases.iter().enumerate() {
        let err = call(&mut s).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("limit") || msg.contains("empty"),
            "case {i}: {msg}"
        );
        assert!(
            msg.to_lowercase().contains(word),
            "case {i} should name {word}: {msg}"
        );
        assert_eq!(s.pending_events(), 0, "case {i} buffered something");
    }
}

#[test]
fn definitions_survive_reopen_and_incompatible_changes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.deploy(po_definition()).unwrap(); // same again: a no-op
    let mut fewer = po_definition();
    fewer.items.pop();
    let err = store.deploy(fewer).unwrap_err().to_string();
    assert!(err.contains("Shipped"), "{err}");
    let mut retyped = po_definition();
    retyped.items[3] = serde_json::from_str(r#"{"name":"Amount","type":"int"}"#).unwrap();
    assert!(store.deploy(retyped).is_err());
    let mut more = po_definition();
    more.items
        .push(serde_json::from_str(r#"{"name":"Paid","type":"bool"}"#).unwrap());
    store.deploy(more.clone()).unwrap();
    store.close().unwrap();
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.definitions(), vec![more]);
}

#[test]
fn the_typical_activity_fits_in_a_200_byte_frame() {
    let ts = ts("2026-11-22T10:00:00Z");
    let ev = |kind| Event {
        ts,
        activity: PO.into(),
        id: "PO-000000001".into(),
        kind,
    };
    let events = vec![
        ev(EventKind::Begin),
        ev(EventKind::Update(vec![
            ("PO_Number".into(), Value::from("4500012345")),
            ("Customer".into(), "Contoso Ltd 0001".into()),
            ("Region".into(), "Europe".into()),
        ])),
        ev(EventKind::Update(vec![
            ("Amount".into(), 1250.5.into()),
            ("Quantity".into(), 12i64.into()),
        ])),
        ev(EventKind::Update(vec![("Status".into(), "Shipped".into())])),
        ev(EventKind::End),
    ];
    let payload = encode_batch(7, 1, &events, &Limits::default()).unwrap();
    let frame = (FRAME_HEADER_LEN + payload.len()).next_multiple_of(8);
    println!(
        "typical activity: {} bytes of payload, {frame} bytes as a frame",
        payload.len()
    );
    assert!(frame <= 200, "{frame}");
}
