//! The streams' convenience methods (`begin`, `update`, ...), which encode
//! from borrowed parts, against `push(Event)` and against the trait's
//! default methods (what another implementation of [`EventStream`] gets):
//! the same results, the same buffered bytes, the same commits, and a
//! refused event leaves the buffer as it was.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use super::*;
use crate::model::{arb, AsValueRef, Limits, ModelError, Value};

/// Keeps every committed batch.
struct Recorder {
    limits: Limits,
    commits: Mutex<Vec<(Option<u64>, Vec<u8>)>>,
}

impl Committer for Recorder {
    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn commit(&self, seq: Option<u64>, batch: &[u8]) -> Result<Lsn, StoreError> {
        let mut commits = self.commits.lock().unwrap();
        commits.push((seq, batch.to_vec()));
        Ok(commits.len() as Lsn)
    }
}

fn recorded(limits: &Limits, threshold: usize) -> (BufferedEventStream, Arc<Recorder>) {
    let sink = Arc::new(Recorder {
        limits: limits.clone(),
        commits: Mutex::new(Vec::new()),
    });
    (BufferedEventStream::new(sink.clone(), 4, threshold), sink)
}

/// Only the required methods: its convenience methods are the defaults.
struct Plain(BufferedEventStream);

impl EventStream for Plain {
    fn push(&mut self, event: Event) -> Result<Option<Receipt>, StoreError> {
        self.0.push(event)
    }
    fn flush(&mut self) -> Result<Option<Receipt>, StoreError> {
        self.0.flush()
    }
    fn flush_sequenced(&mut self, seq: u64) -> Result<Option<Receipt>, StoreError> {
        self.0.flush_sequenced(seq)
    }
    fn clear(&mut self) {
        self.0.clear();
    }
    fn pending_events(&self) -> usize {
        self.0.pending_events()
    }
    fn now(&self) -> Timestamp {
        self.0.now()
    }
    fn set_time(&mut self, time: Option<Timestamp>) {
        self.0.set_time(time);
    }
}

/// Reports `e` through the convenience method of its kind, stamped with
/// its time; `form` picks how an update passes its items.
fn report<S: EventStream>(s: &mut S, e: &Event, form: u8) -> Result<Option<Receipt>, StoreError> {
    s.set_time(Some(e.ts));
    let (a, id) = (e.activity.as_str(), e.id.as_str());
    match &e.kind {
        EventKind::Begin => s.begin(a, id),
        EventKind::End => s.end(a, id),
        EventKind::Update(items) => match form % 4 {
            0 => s.update(a, id, items.iter().map(|(n, v)| (n.as_str(), v))),
            1 => s.update(a, id, items.clone()),
            2 => s.update(a, id, items.iter().map(|(n, v)| (n, v.as_value_ref()))),
            _ => {
                // Texts as &str, the rest as Value: one array type.
                let values: Vec<(&str, Value)> =
                    items.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
                s.update(a, id, values)
            }
        },
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
}

fn outcome(r: Result<Option<Receipt>, StoreError>) -> Result<Option<Receipt>, String> {
    r.map_err(|e| e.to_string())
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![Just(Limits::default()), arb::small_limits()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random events, valid or not, under limits that often fill a batch:
    /// `push(Event)`, the default methods and the streams' own methods
    /// agree on every result, the buffer after each event, and the batches
    /// committed (a full batch is committed and the event buffered anew).
    #[test]
    fn convenience_methods_match_push(
        limits in limits(),
        threshold in 0usize..4,
        events in arb::rough_events(40),
        forms in prop::collection::vec(any::<u8>(), 40),
    ) {
        let (mut whole, whole_sink) = recorded(&limits, threshold);
        let (plain, plain_sink) = recorded(&limits, threshold);
        let mut plain = Plain(plain);
        let (mut parts, parts_sink) = recorded(&limits, threshold);
        for (e, form) in events.iter().zip(forms) {
            let before = (parts.core.encoder.finish(), parts.pending_events());
            let commits = parts_sink.commits.lock().unwrap().len();
            let w = outcome(whole.push(e.clone()));
            let p = outcome(report(&mut plain, e, form));
            let f = outcome(report(&mut parts, e, form));
            prop_assert_eq!(&w, &p);
            prop_assert_eq!(&w, &f);
            prop_assert_eq!(whole.core.encoder.as_bytes(), plain.0.core.encoder.as_bytes());
            prop_assert_eq!(whole.core.encoder.as_bytes(), parts.core.encoder.as_bytes());
            // The model's validation decides, whatever the path.
            match (&f, e.validate(&limits)) {
                (Err(msg), Err(invalid)) => prop_assert_eq!(msg, &invalid.to_string()),
                (Err(msg), Ok(())) => prop_assert!(msg.starts_with("batch full"), "{}", msg),
                (Ok(_), invalid) => prop_assert!(invalid.is_ok()),
            }
            // A refused event changes nothing (an event too large for an
            // empty batch may have had the full batch committed first).
            if f.as_ref().is_err_and(|e| e.starts_with("invalid input")) {
                prop_assert_eq!(parts.core.encoder.as_bytes(), &before.0[..]);
                prop_assert_eq!(parts.pending_events(), before.1);
                prop_assert_eq!(parts_sink.commits.lock().unwrap().len(), commits);
            }
        }
        let w = whole_sink.commits.lock().unwrap().clone();
        prop_assert_eq!(&w, &*plain_sink.commits.lock().unwrap());
        prop_assert_eq!(&w, &*parts_sink.commits.lock().unwrap());
    }
}

/// The typical activity (as `fixture::TypicalOrder::report` pushes it).
fn typical<S: EventStream>(s: &mut S, id: &str) -> Result<(), StoreError> {
    const PO: &str = "PurchaseOrder";
    s.begin(PO, id)?;
    s.update(
        PO,
        id,
        [
            ("PO_Number", Value::from("N000000001")),
            ("Customer", Value::from("Customer-0000001")),
            ("Region", Value::from("EMEA-S")),
        ],
    )?;
    s.update(
        PO,
        id,
        [
            ("Amount", Value::from(100.25)),
            ("Quantity", Value::from(2)),
        ],
    )?;
    s.update(PO, id, [("Status", "Shipped")])?;
    s.end(PO, id)?;
    Ok(())
}

/// The typical activity, then each broken event through the convenience
/// methods: the error of `push(Event)`, and the buffer unchanged.
fn refusals_leave_the_buffer_unchanged(s: &mut BufferedEventStream) {
    let bytes = |s: &BufferedEventStream| s.core.encoder.finish();
    let ts = Timestamp::from_micros(1_795_341_600_000_000);
    s.set_time(Some(ts));
    typical(s, "PO-1").unwrap();
    let ev = |kind| Event {
        ts,
        activity: "PurchaseOrder".into(),
        id: "PO-1".into(),
        kind,
    };
    let with = |f: &dyn Fn(&mut Event)| {
        let mut e = ev(EventKind::Begin);
        f(&mut e);
        e
    };
    let update = |items: Vec<(String, Value)>| ev(EventKind::Update(items));
    let reference = |t: usize, n: usize, d: usize, long: Option<usize>| {
        ev(EventKind::AddReference {
            ref_type: "t".repeat(t),
            ref_name: "n".repeat(n),
            data: "d".repeat(d),
            long_data: long.map(|n| "L".repeat(n)),
        })
    };
    let mut twice_past_the_scan: Vec<(String, Value)> =
        (0..40).map(|i| (format!("I{i}"), Value::Int(i))).collect();
    twice_past_the_scan.push(("I3".into(), Value::Int(0)));
    let cases = [
        (
            with(&|e| e.id = "x".repeat(200)),
            "invalid input: id is 200 characters, the limit is 128",
        ),
        (with(&|e| e.id.clear()), "invalid input: id is empty"),
        (
            with(&|e| e.activity = "é".repeat(129)),
            "invalid input: activity is 129 characters, the limit is 128",
        ),
        (
            with(&|e| e.activity.clear()),
            "invalid input: activity is empty",
        ),
        (
            with(&|e| e.ts = Timestamp::from_micros(i64::MAX)),
            "invalid input: timestamp 9223372036854775807us is outside years 0000..=9999",
        ),
        (
            ev(EventKind::EnableContinuation {
                token: "t".repeat(129),
            }),
            "invalid input: continuation token is 129 characters, the limit is 128",
        ),
        (
            ev(EventKind::AddRelatedActivity {
                related_activity: String::new(),
                related_id: "x".into(),
            }),
            "invalid input: related activity is empty",
        ),
        (
            ev(EventKind::AddRelatedActivity {
                related_activity: "S".into(),
                related_id: "x".repeat(129),
            }),
            "invalid input: related id is 129 characters, the limit is 128",
        ),
        (
            reference(129, 1, 0, None),
            "invalid input: reference type is 129 characters, the limit is 128",
        ),
        (
            reference(1, 0, 0, None),
            "invalid input: reference name is empty",
        ),
        (
            reference(1, 1, 1025, None),
            "invalid input: reference data is 1025 bytes, the limit is 1024",
        ),
        (
            reference(1, 1, 0, Some((1 << 20) + 1)),
            "invalid input: long reference data is 1048577 bytes, the limit is 1048576",
        ),
        (
            update(vec![("Note".into(), Value::Text("x".repeat(4001)))]),
            "invalid input: value of Note is 4001 characters, the limit is 4000",
        ),
        (
            update(
                (0..1001)
                    .map(|i| (format!("i{i}"), Value::Int(i)))
                    .collect(),
            ),
            "invalid input: update has 1001 items, the limit is 1000",
        ),
        (
            // The count is checked before the items.
            update(
                (0..1001)
                    .map(|i| (String::new(), Value::Float(f64::NAN * i as f64)))
                    .collect(),
            ),
            "invalid input: update has 1001 items, the limit is 1000",
        ),
        (
            update(vec![("x".repeat(129), Value::Int(1))]),
            "invalid input: item name is 129 characters, the limit is 128",
        ),
        (
            update(vec![
                ("A".into(), Value::Int(1)),
                (String::new(), Value::Int(1)),
            ]),
            "invalid input: item name is empty",
        ),
        (
            update(vec![
                ("A".into(), Value::Int(1)),
                ("A".into(), Value::Int(2)),
            ]),
            "invalid input: item A appears twice in one update",
        ),
        (
            update(twice_past_the_scan),
            "invalid input: item I3 appears twice in one update",
        ),
        (
            update(vec![("A".into(), Value::Float(f64::NAN))]),
            "invalid input: value of A is NaN, floats must be finite",
        ),
        (
            update(vec![("A".into(), Value::Float(f64::INFINITY))]),
            "invalid input: value of A is inf, floats must be finite",
        ),
        (
            update(vec![(
                "A".into(),
                Value::Timestamp(Timestamp::from_micros(i64::MIN)),
            )]),
            "invalid input: value of A -9223372036854775808us is outside years 0000..=9999",
        ),
    ];
    let before = bytes(s);
    let pending = s.pending_events();
    for (e, expected) in &cases {
        // The error push(Event) gives, checked by the model's validation.
        let ModelError::InvalidInput { .. } = e.validate(&Limits::default()).unwrap_err() else {
            panic!("{expected}: not an invalid input");
        };
        assert_eq!(
            e.validate(&Limits::default()).unwrap_err().to_string(),
            *expected
        );
        for form in 0..4 {
            let err = report(s, e, form).unwrap_err();
            assert!(
                matches!(err, StoreError::Model(ModelError::InvalidInput { .. })),
                "{err:?}"
            );
            assert_eq!(err.to_string(), *expected, "form {form}");
            assert_eq!(bytes(s), before, "{expected}: the buffer changed");
            assert_eq!(s.pending_events(), pending, "{expected}");
        }
        let err = s.push(e.clone()).unwrap_err();
        assert_eq!(err.to_string(), *expected);
        assert_eq!(bytes(s), before);
    }
    // Still usable.
    s.end("PurchaseOrder", "PO-1").unwrap();
    assert_eq!(s.pending_events(), pending + 1);
}

#[test]
fn a_buffered_stream_refuses_what_push_refuses_and_buffers_nothing() {
    let (mut s, sink) = recorded(&Limits::default(), 0);
    refusals_leave_the_buffer_unchanged(&mut s);
    assert!(sink.commits.lock().unwrap().is_empty());
    s.clear();
}

#[test]
fn an_event_too_large_for_an_empty_batch_is_refused_by_both_paths() {
    let limits = Limits {
        max_batch_bytes: 64,
        ..Limits::default()
    };
    let (mut s, sink) = recorded(&limits, 0);
    s.set_time(Some(Timestamp::from_micros(1)));
    let big = [("Note", "n".repeat(80))];
    let err = s.update("A", "1", big.clone()).unwrap_err();
    let whole = s
        .push(Event {
            ts: Timestamp::from_micros(1),
            activity: "A".into(),
            id: "1".into(),
            kind: EventKind::Update(vec![("Note".into(), Value::Text("n".repeat(80)))]),
        })
        .unwrap_err();
    assert_eq!(err.to_string(), whole.to_string());
    assert!(
        err.to_string()
            .starts_with("batch full: the batch would be "),
        "{err}"
    );
    assert_eq!(s.pending_events(), 0);
    // With an event buffered, the full batch is committed first.
    s.begin("A", "1").unwrap();
    let err = s.update("A", "1", big).unwrap_err();
    assert!(err.to_string().starts_with("batch full"), "{err}");
    assert_eq!(sink.commits.lock().unwrap().len(), 1);
    assert_eq!(s.pending_events(), 0);
}
