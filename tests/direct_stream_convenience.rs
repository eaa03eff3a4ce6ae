//! A direct stream's convenience methods (`begin`, `update`, ...) encode
//! from borrowed parts instead of building an `Event` for `push`. They
//! refuse what `push` refuses, with the same error; a refused event leaves
//! nothing buffered; and what they buffer is imported exactly as the same
//! events pushed whole. (The buffered stream's bytes are compared with
//! `push`'s in `src/stream/stream_tests.rs`.)

mod common;

use bamdb::model::{Event, EventKind, Limits, Timestamp, Value};
use bamdb::{EventStream, StoreError};
use common::*;

/// Reports `e` through the convenience method of its kind.
fn report<S: EventStream>(s: &mut S, e: &Event) -> Result<(), StoreError> {
    s.set_time(Some(e.ts));
    let (a, id) = (e.activity.as_str(), e.id.as_str());
    match &e.kind {
        EventKind::Begin => s.begin(a, id),
        EventKind::End => s.end(a, id),
        EventKind::Update(items) => s.update(a, id, items.iter().map(|(n, v)| (n.as_str(), v))),
        EventKind::EnableContinuation { token } => s.enable_continuation(a, id, token),
        EventKind::AddReference {
            ref_type,
            ref_name,
            data,
            long_data,
        } => s.add_reference(a, id, ref_type, ref_name, data, long_data.as_deref()),
        EventKind::AddRelatedActivity {
            related_activity,
            related_id,
        } => s.add_related_activity(a, id, related_activity, related_id),
    }
    .map(|_| ())
}

fn order(id: &str, t: Timestamp) -> Vec<Event> {
    let ev = |kind| Event {
        ts: t,
        activity: PO.into(),
        id: id.into(),
        kind,
    };
    vec![
        ev(EventKind::Begin),
        ev(EventKind::Update(vec![
            ("Customer".into(), Value::from("Contoso")),
            ("Region".into(), Value::from("EMEA-N")),
        ])),
        ev(EventKind::Update(vec![
            ("Amount".into(), Value::Float(125.5)),
            ("Quantity".into(), Value::Int(3)),
        ])),
        ev(EventKind::AddReference {
            ref_type: "url".into(),
            ref_name: "invoice".into(),
            data: "https://example.com/i/1".into(),
            long_data: Some("long".into()),
        }),
        ev(EventKind::AddRelatedActivity {
            related_activity: "Shipment".into(),
            related_id: "SH-1".into(),
        }),
        ev(EventKind::Update(vec![(
            "Status".into(),
            Value::from("Shipped"),
        )])),
        ev(EventKind::End),
    ]
}

fn broken(id: &str, t: Timestamp) -> Vec<Event> {
    let ev = |kind| Event {
        ts: t,
        activity: PO.into(),
        id: id.into(),
        kind,
    };
    vec![
        Event {
            id: "x".repeat(129),
            ..ev(EventKind::Begin)
        },
        Event {
            ts: Timestamp::from_micros(i64::MAX),
            ..ev(EventKind::End)
        },
        ev(EventKind::Update(vec![
            ("Customer".into(), Value::from("c")),
            ("Customer".into(), Value::from("d")),
        ])),
        ev(EventKind::Update(vec![
            ("Amount".into(), Value::Float(1.0)),
            ("Quantity".into(), Value::Float(f64::NAN)),
        ])),
        ev(EventKind::Update(vec![("".into(), Value::Int(1))])),
        ev(EventKind::Update(
            (0..1001)
                .map(|i| (format!("I{i}"), Value::Int(i)))
                .collect(),
        )),
        ev(EventKind::EnableContinuation { token: "".into() }),
        ev(EventKind::AddReference {
            ref_type: "url".into(),
            ref_name: "invoice".into(),
            data: "d".repeat(1025),
            long_data: None,
        }),
    ]
}

#[test]
fn refused_events_keep_nothing_and_the_rest_imports_as_push_would() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let t = ts("2026-03-01T10:00:00Z");
    let (mut parts, mut whole) = (store.direct_stream(), store.direct_stream());
    let (good_parts, good_whole) = (order("PO-PARTS", t), order("PO-WHOLE", t));
    for (p, w) in good_parts.iter().zip(&good_whole).take(3) {
        report(&mut parts, p).unwrap();
        whole.push(w.clone()).unwrap();
    }
    let pending = parts.pending_events();
    for (p, w) in broken("PO-PARTS", t).iter().zip(broken("PO-WHOLE", t)) {
        let expected = p.validate(&Limits::default()).unwrap_err().to_string();
        let err = report(&mut parts, p).unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert!(matches!(err, StoreError::Model(_)), "{err:?}");
        let err = whole.push(w).unwrap_err();
        assert_eq!(err.to_string().replace("PO-WHOLE", "PO-PARTS"), expected);
        assert_eq!(parts.pending_events(), pending, "{expected}");
        assert_eq!(whole.pending_events(), pending, "{expected}");
    }
    for (p, w) in good_parts.iter().zip(&good_whole).skip(3) {
        report(&mut parts, p).unwrap();
        whole.push(w.clone()).unwrap();
    }
    assert_eq!(parts.flush().unwrap().unwrap().events, good_parts.len());
    assert_eq!(whole.flush().unwrap().unwrap().events, good_whole.len());
    let a = store.get(PO, "PO-PARTS").unwrap().unwrap();
    let b = store.get(PO, "PO-WHOLE").unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&a).unwrap().to_string(),
        serde_json::to_value(&b)
            .unwrap()
            .to_string()
            .replace("PO-WHOLE", "PO-PARTS")
    );
    assert_eq!(a.item("Quantity"), Some(&Value::Int(3)));
    assert_eq!(a.references.len(), 1);
}
