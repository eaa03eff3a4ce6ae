//! The encoder's borrowed path (`BatchEncoder::push_ref`, what the
//! streams' convenience methods use) against `BatchEncoder::push(&Event)`
//! and against the encoder as it was before that path existed (owned
//! string table, two lookups for "same instance"): the same errors, the
//! same bytes, and a refused event leaves the batch as it was.

use std::collections::HashMap;

use proptest::prelude::*;

use super::codec::*;
use super::*;

/// The encoder before the borrowed path, without limits: the oracle of the
/// byte format for accepted events.
struct OldEncoder {
    head: Vec<u8>,
    body: Vec<u8>,
    events: u32,
    table: Vec<String>,
    index: HashMap<String, u32>,
    prev: Option<(u32, u32, Timestamp)>,
}

impl OldEncoder {
    fn new(producer: u32, seq: u64) -> Self {
        let mut head = vec![FORMAT_VERSION];
        head.extend_from_slice(&0u32.to_le_bytes());
        head.extend_from_slice(&producer.to_le_bytes());
        put_varint(&mut head, seq);
        OldEncoder {
            head,
            body: Vec::new(),
            events: 0,
            table: Vec::new(),
            index: HashMap::new(),
            prev: None,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = self.head.clone();
        out[EVENT_COUNT_OFFSET..PRODUCER_OFFSET].copy_from_slice(&self.events.to_le_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    fn put_ref(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            put_varint(&mut self.body, u64::from(i));
            return i;
        }
        let i = self.table.len() as u32;
        put_varint(&mut self.body, u64::from(i));
        put_str(&mut self.body, s);
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }

    fn push(&mut self, e: &Event) {
        let mut tag = match &e.kind {
            EventKind::Begin => KIND_BEGIN,
            EventKind::Update(_) => KIND_UPDATE,
            EventKind::End => KIND_END,
            EventKind::EnableContinuation { .. } => KIND_CONTINUE,
            EventKind::AddReference { .. } => KIND_REFERENCE,
            EventKind::AddRelatedActivity { .. } => KIND_RELATE,
        };
        let prev_ts = self.prev.map_or(Timestamp::EPOCH, |p| p.2);
        let same_instance = self.prev.is_some_and(|(a, i, _)| {
            self.index.get(e.activity.as_str()) == Some(&a)
                && self.index.get(e.id.as_str()) == Some(&i)
        });
        if same_instance {
            tag |= SAME_INSTANCE;
        }
        let same_ts = self.prev.is_some() && e.ts == prev_ts;
        if same_ts {
            tag |= SAME_TS;
        }
        self.body.push(tag);
        let (a, i) = match self.prev {
            Some((a, i, _)) if same_instance => (a, i),
            _ => {
                let a = self.put_ref(&e.activity);
                (a, self.put_ref(&e.id))
            }
        };
        if !same_ts {
            let delta = e.ts.as_micros().wrapping_sub(prev_ts.as_micros());
            put_varint(&mut self.body, zigzag(delta));
        }
        self.prev = Some((a, i, e.ts));
        match &e.kind {
            EventKind::Begin | EventKind::End => {}
            EventKind::Update(items) => {
                put_len(&mut self.body, items.len());
                for (name, value) in items {
                    self.put_ref(name);
                    match value {
                        Value::Text(s) => {
                            self.body.push(VALUE_TEXT);
                            put_str(&mut self.body, s);
                        }
                        Value::Int(n) => {
                            self.body.push(VALUE_INT);
                            put_varint(&mut self.body, zigzag(*n));
                        }
                        Value::Float(f) => {
                            self.body.push(VALUE_FLOAT);
                            self.body.extend_from_slice(&f.to_le_bytes());
                        }
                        Value::Bool(false) => self.body.push(VALUE_FALSE),
                        Value::Bool(true) => self.body.push(VALUE_TRUE),
                        Value::Timestamp(t) => {
                            self.body.push(VALUE_TIMESTAMP);
                            put_varint(&mut self.body, zigzag(t.as_micros()));
                        }
                    }
                }
            }
            EventKind::EnableContinuation { token } => put_str(&mut self.body, token),
            EventKind::AddReference {
                ref_type,
                ref_name,
                data,
                long_data,
            } => {
                put_str(&mut self.body, ref_type);
                put_str(&mut self.body, ref_name);
                put_str(&mut self.body, data);
                match long_data {
                    None => self.body.push(0),
                    Some(long) => {
                        self.body.push(1);
                        put_str(&mut self.body, long);
                    }
                }
            }
            EventKind::AddRelatedActivity {
                related_activity,
                related_id,
            } => {
                self.put_ref(related_activity);
                put_str(&mut self.body, related_id);
            }
        }
        self.events += 1;
    }
}

/// `e` through `push_ref`, its item names as `&str` and its values as
/// [`ValueRef`] (other types than `push(&Event)` instantiates).
fn push_borrowed(enc: &mut BatchEncoder, e: &Event) -> Result<(), ModelError> {
    let items: Vec<(&str, ValueRef<'_>)>;
    let kind = match &e.kind {
        EventKind::Begin => KindRef::Begin,
        EventKind::End => KindRef::End,
        EventKind::Update(list) => {
            items = list
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_value_ref()))
                .collect();
            KindRef::Update(&items)
        }
        EventKind::EnableContinuation { token } => KindRef::EnableContinuation { token },
        EventKind::AddReference {
            ref_type,
            ref_name,
            data,
            long_data,
        } => KindRef::AddReference {
            ref_type,
            ref_name,
            data,
            long_data: long_data.as_deref(),
        },
        EventKind::AddRelatedActivity {
            related_activity,
            related_id,
        } => KindRef::AddRelatedActivity {
            related_activity,
            related_id,
        },
    };
    enc.push_ref(e.ts, &e.activity, &e.id, &kind)
}

#[test]
fn the_typical_activity_encodes_as_before() {
    // Four orders, the first three borrowed, the last whole.
    let order = |n: usize| -> Vec<Event> {
        super::codec_tests::typical_activity()
            .into_iter()
            .map(|e| Event {
                id: format!("PO-{n}"),
                ..e
            })
            .collect()
    };
    let mut old = OldEncoder::new(1, 2);
    let mut enc = BatchEncoder::new(1, 2);
    for n in 0..3 {
        for e in order(n) {
            old.push(&e);
            push_borrowed(&mut enc, &e).unwrap();
        }
    }
    for e in order(3) {
        old.push(&e);
        enc.push(&e).unwrap();
    }
    assert_eq!(enc.as_bytes(), &old.bytes()[..]);
}

#[test]
fn a_rolled_back_string_is_interned_anew() {
    // "Shipment" is interned by an event that does not fit, then used again.
    let limits = Limits {
        max_batch_bytes: 60,
        ..Limits::default()
    };
    let mut enc = BatchEncoder::with_limits(1, 1, limits);
    let ts = Timestamp::from_micros(5);
    let ev = |activity: &str, kind| Event {
        ts,
        activity: activity.into(),
        id: "SH-1".into(),
        kind,
    };
    push_borrowed(&mut enc, &ev("PO", EventKind::Begin)).unwrap();
    let before = enc.finish();
    let big = ev(
        "Shipment",
        EventKind::Update(vec![("Carrier".into(), Value::Text("c".repeat(50)))]),
    );
    assert!(matches!(
        push_borrowed(&mut enc, &big),
        Err(ModelError::BatchFull { .. })
    ));
    assert_eq!(enc.as_bytes(), &before[..]);
    push_borrowed(&mut enc, &ev("Shipment", EventKind::End)).unwrap();
    push_borrowed(&mut enc, &ev("Shipment", EventKind::Begin)).unwrap();
    let mut old = OldEncoder::new(1, 1);
    for e in [
        ev("PO", EventKind::Begin),
        ev("Shipment", EventKind::End),
        ev("Shipment", EventKind::Begin),
    ] {
        old.push(&e);
    }
    assert_eq!(enc.as_bytes(), &old.bytes()[..]);
}

fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![Just(Limits::default()), arb::small_limits()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Each event, valid or not, pushed whole and pushed borrowed: the same
    /// result; a refused event changes nothing; the bytes are those of the
    /// old encoder fed the accepted events; a full batch starts the next
    /// as a stream would.
    #[test]
    fn borrowed_pushes_match_owned_pushes_and_the_old_bytes(
        limits in limits(),
        events in arb::rough_events(40),
        producer: u32,
        seq in 0u64..1 << 40,
    ) {
        let mut owned = BatchEncoder::with_limits(producer, seq, limits.clone());
        let mut borrowed = BatchEncoder::with_limits(producer, seq, limits.clone());
        let mut old = OldEncoder::new(producer, seq);
        let mut accepted = Vec::new();
        for e in &events {
            // A second try in a fresh batch after BatchFull, as a stream does.
            for _try in 0..2 {
                let (before, count) = (borrowed.finish(), borrowed.len_events());
                let whole = owned.push(e);
                let parts = push_borrowed(&mut borrowed, e);
                prop_assert_eq!(&whole, &parts);
                match &parts {
                    Ok(()) => {
                        old.push(e);
                        accepted.push(e.clone());
                    }
                    Err(err) => {
                        prop_assert_eq!(borrowed.as_bytes(), &before[..]);
                        prop_assert_eq!(borrowed.len_events(), count);
                        match e.validate(&limits) {
                            Err(invalid) => prop_assert_eq!(err, &invalid),
                            Ok(()) => prop_assert!(
                                matches!(err, ModelError::BatchFull { .. }),
                                "{}", err
                            ),
                        }
                    }
                }
                prop_assert_eq!(owned.as_bytes(), borrowed.as_bytes());
                prop_assert_eq!(borrowed.as_bytes(), &old.bytes()[..]);
                if !matches!(parts, Err(ModelError::BatchFull { .. })) || borrowed.is_empty() {
                    break;
                }
                let batch = decode_batch(borrowed.as_bytes(), &limits).unwrap();
                prop_assert_eq!(&batch.events, &accepted);
                let next = borrowed.seq() + 1;
                owned.reset(next);
                borrowed.reset(next);
                old = OldEncoder::new(producer, next);
                accepted.clear();
            }
        }
        let batch = decode_batch(borrowed.as_bytes(), &limits).unwrap();
        prop_assert_eq!(batch.events, accepted);
    }
}

#[test]
fn every_value_type_borrows_what_from_makes() {
    fn same<T: AsValueRef + Into<Value> + Clone>(t: T) {
        assert_eq!(t.as_value_ref().to_value(), t.clone().into());
        assert_eq!(AsValueRef::as_value_ref(&&t), t.as_value_ref());
    }
    same("x");
    same(String::from("y"));
    same(-3i64);
    same(7i32);
    same(u32::MAX);
    same(2.5f64);
    same(true);
    same(Timestamp::from_micros(5));
    same(Value::Text("z".into()));
    same(Value::Float(f64::MIN_POSITIVE));
    assert_eq!(Value::from(ValueRef::Text("a")), Value::Text("a".into()));
    assert_eq!(ValueRef::Int(4).as_value_ref(), ValueRef::Int(4));
}
