//! Tests of the binary batch encoding: round trips, compactness, limits,
//! and hostile bytes.
//!
//! (Over 500 lines: one file of tests for one codec, by property.)

use proptest::prelude::*;

use super::arb;
use super::*;

fn ts0() -> Timestamp {
    Timestamp::from_micros(1_795_341_600_000_000)
}

fn ev(kind: EventKind) -> Event {
    Event {
        ts: ts0(),
        activity: "PurchaseOrder".into(),
        id: "PO-2026-0001".into(),
        kind,
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// The typical activity from the design: begin, three updates, end.
pub(super) fn typical_activity() -> Vec<Event> {
    vec![
        ev(EventKind::Begin),
        ev(EventKind::Update(vec![
            ("PO_Number".into(), text("4500012345")),
            ("Customer".into(), text("Contoso Ltd East")),
            ("Region".into(), text("EMEA-N")),
        ])),
        ev(EventKind::Update(vec![
            ("Amount".into(), Value::Float(1250.75)),
            ("Quantity".into(), Value::Int(12)),
        ])),
        ev(EventKind::Update(vec![("Status".into(), text("Shipped"))])),
        ev(EventKind::End),
    ]
}

fn encode(events: &[Event]) -> Vec<u8> {
    encode_batch(3, 42, events, &Limits::default()).unwrap()
}

fn decode(bytes: &[u8]) -> Result<Batch, DecodeError> {
    decode_batch(bytes, &Limits::default())
}

#[test]
fn typical_activity_fits_a_200_byte_frame() {
    let bytes = encode(&typical_activity());
    println!(
        "typical activity encodes to {} bytes of payload",
        bytes.len()
    );
    assert!(bytes.len() <= 176, "{} bytes, budget is 176", bytes.len());
    let batch = decode(&bytes).unwrap();
    assert_eq!(batch.events, typical_activity());
    assert_eq!((batch.producer, batch.seq), (3, 42));
}

#[test]
fn empty_batch_round_trips() {
    let enc = BatchEncoder::new(u32::MAX, u64::MAX);
    let batch = decode(enc.as_bytes()).unwrap();
    assert_eq!(
        (batch.producer, batch.seq, batch.events.len()),
        (u32::MAX, u64::MAX, 0)
    );
    assert_eq!(enc.as_bytes().len(), 9 + 10);
}

#[test]
fn clear_and_reset_start_over() {
    let mut enc = BatchEncoder::new(1, 1);
    let empty = enc.finish();
    for e in typical_activity() {
        enc.push(&e).unwrap();
    }
    assert_eq!(enc.len_events(), 5);
    enc.clear();
    assert_eq!(enc.as_bytes(), &empty[..]);
    assert!(enc.is_empty());
    // Interning restarts too: the same events encode identically again.
    for e in typical_activity() {
        enc.push(&e).unwrap();
    }
    assert_eq!(enc.as_bytes(), &encode_with(1, 1, &typical_activity())[..]);
    enc.reset(2);
    assert_eq!(decode(enc.as_bytes()).unwrap().seq, 2);
}

fn encode_with(producer: u32, seq: u64, events: &[Event]) -> Vec<u8> {
    encode_batch(producer, seq, events, &Limits::default()).unwrap()
}

#[test]
fn limit_sized_values_round_trip() {
    let limits = Limits::default();
    let events = vec![
        Event {
            ts: Timestamp::MIN,
            activity: "é".repeat(128),
            id: "\u{10FFFF}".repeat(128),
            kind: EventKind::Update(
                (0..1000)
                    .map(|i| {
                        (
                            format!("item{i}"),
                            text(&"ü".repeat(if i == 0 { 4000 } else { 1 })),
                        )
                    })
                    .collect(),
            ),
        },
        Event {
            ts: Timestamp::MAX,
            activity: "a".into(),
            id: "b".into(),
            kind: EventKind::AddReference {
                ref_type: "t".repeat(128),
                ref_name: "n".repeat(128),
                data: "d".repeat(1024),
                long_data: Some("L".repeat(limits.max_long_data_bytes)),
            },
        },
    ];
    let bytes = encode(&events);
    assert_eq!(decode(&bytes).unwrap().events, events);
}

/// Pushes `bad` onto an encoder holding the typical activity and checks the
/// error message and that the encoder is unchanged.
fn refused(limits: Limits, bad: Event, expected: &str) {
    let mut enc = BatchEncoder::with_limits(1, 1, limits);
    for e in typical_activity() {
        enc.push(&e).unwrap();
    }
    let before = enc.finish();
    let err = enc.push(&bad).unwrap_err();
    assert_eq!(err.to_string(), expected);
    assert_eq!(
        enc.as_bytes(),
        &before[..],
        "encoder changed after a refused push"
    );
    assert_eq!(enc.len_events(), 5);
    // Still usable: the next good push interns correctly.
    if enc.len_events() < enc.limits().max_events_per_batch {
        enc.push(&ev(EventKind::End)).unwrap();
        assert_eq!(
            decode_batch(enc.as_bytes(), enc.limits())
                .unwrap()
                .events
                .len(),
            6
        );
    }
}

#[test]
fn each_limit_is_enforced_with_a_clear_message() {
    let l = Limits::default;
    let with = |f: fn(&mut Event)| {
        let mut e = ev(EventKind::Begin);
        f(&mut e);
        e
    };
    refused(
        l(),
        with(|e| e.id = "x".repeat(200)),
        "invalid input: id is 200 characters, the limit is 128",
    );
    refused(l(), with(|e| e.id.clear()), "invalid input: id is empty");
    refused(
        l(),
        with(|e| e.activity = "é".repeat(129)),
        "invalid input: activity is 129 characters, the limit is 128",
    );
    refused(
        l(),
        with(|e| e.ts = Timestamp::from_micros(i64::MAX)),
        &format!(
            "invalid input: timestamp {}us is outside years 0000..=9999",
            i64::MAX
        ),
    );
    let kind = |k: EventKind| ev(k);
    refused(
        l(),
        kind(EventKind::EnableContinuation {
            token: "t".repeat(129),
        }),
        "invalid input: continuation token is 129 characters, the limit is 128",
    );
    refused(
        l(),
        kind(EventKind::AddRelatedActivity {
            related_activity: String::new(),
            related_id: "x".into(),
        }),
        "invalid input: related activity is empty",
    );
    refused(
        l(),
        kind(EventKind::AddRelatedActivity {
            related_activity: "S".into(),
            related_id: "x".repeat(129),
        }),
        "invalid input: related id is 129 characters, the limit is 128",
    );
    let reference = |t: usize, n: usize, d: usize, long: Option<usize>| {
        ev(EventKind::AddReference {
            ref_type: "t".repeat(t),
            ref_name: "n".repeat(n),
            data: "d".repeat(d),
            long_data: long.map(|n| "L".repeat(n)),
        })
    };
    refused(
        l(),
        reference(129, 1, 0, None),
        "invalid input: reference type is 129 characters, the limit is 128",
    );
    refused(
        l(),
        reference(1, 129, 0, None),
        "invalid input: reference name is 129 characters, the limit is 128",
    );
    refused(
        l(),
        reference(1, 1, 1025, None),
        "invalid input: reference data is 1025 bytes, the limit is 1024",
    );
    refused(
        l(),
        reference(1, 1, 0, Some((1 << 20) + 1)),
        "invalid input: long reference data is 1048577 bytes, the limit is 1048576",
    );
    let small_long = Limits {
        max_long_data_bytes: 10,
        ..l()
    };
    refused(
        small_long,
        reference(1, 1, 0, Some(11)),
        "invalid input: long reference data is 11 bytes, the limit is 10",
    );
    let update = |items: Vec<(String, Value)>| ev(EventKind::Update(items));
    refused(
        l(),
        update(vec![("Note".into(), text(&"x".repeat(4001)))]),
        "invalid input: value of Note is 4001 characters, the limit is 4000",
    );
    refused(
        l(),
        update(
            (0..1001)
                .map(|i| (format!("i{i}"), Value::Int(i)))
                .collect(),
        ),
        "invalid input: update has 1001 items, the limit is 1000",
    );
    refused(
        l(),
        update(vec![("x".repeat(129), Value::Int(1))]),
        "invalid input: item name is 129 characters, the limit is 128",
    );
    refused(
        l(),
        update(vec![
            ("A".into(), Value::Int(1)),
            ("A".into(), Value::Int(2)),
        ]),
        "invalid input: item A appears twice in one update",
    );
    // Past the scan, a set finds it too.
    let mut many: Vec<(String, Value)> =
        (0..40).map(|i| (format!("I{i}"), Value::Int(i))).collect();
    many.push(("I3".into(), Value::Int(0)));
    refused(
        l(),
        update(many),
        "invalid input: item I3 appears twice in one update",
    );
    refused(
        l(),
        update(vec![("A".into(), Value::Float(f64::NAN))]),
        "invalid input: value of A is NaN, floats must be finite",
    );
    refused(
        l(),
        update(vec![(
            "A".into(),
            Value::Timestamp(Timestamp::from_micros(i64::MIN)),
        )]),
        &format!(
            "invalid input: value of A {}us is outside years 0000..=9999",
            i64::MIN
        ),
    );
    let five = Limits {
        max_events_per_batch: 5,
        ..l()
    };
    refused(
        five,
        ev(EventKind::End),
        "batch full: the batch holds 5 events, the limit is 5",
    );
}

#[test]
fn interned_bytes_limit_bounds_decode_amplification() {
    let limits = Limits {
        max_interned_bytes: 100,
        ..Limits::default()
    };
    let e = ev(EventKind::End); // 13 + 12 = 25 bytes of names
    assert_eq!(e.interned_bytes(), 25);
    let mut enc = BatchEncoder::with_limits(1, 1, limits.clone());
    for _ in 0..4 {
        enc.push(&e).unwrap();
    }
    let four = enc.finish();
    assert_eq!(
        enc.push(&e).unwrap_err().to_string(),
        "batch full: the batch would hold 125 bytes of names, the limit is 100"
    );
    assert_eq!(enc.as_bytes(), &four[..]);
    // The same five events, encoded without the limit, are refused on decode.
    let five = encode(&[e.clone(), e.clone(), e.clone(), e.clone(), e]);
    let err = decode_batch(&five, &limits).unwrap_err();
    assert_eq!(
        err.kind,
        DecodeErrorKind::LimitExceeded {
            what: "interned string bytes",
            value: 125,
            limit: 100
        }
    );
}

#[test]
fn byte_limit_rolls_back_the_string_table() {
    let mut enc = BatchEncoder::with_limits(
        1,
        1,
        Limits {
            max_batch_bytes: 200,
            ..Limits::default()
        },
    );
    for e in typical_activity() {
        enc.push(&e).unwrap();
    }
    let before = enc.finish();
    // A new activity and id (interned) plus a big value: over 200 bytes.
    let big = Event {
        activity: "Shipment".into(),
        id: "SH-1".into(),
        kind: EventKind::Update(vec![("Carrier".into(), text(&"c".repeat(100)))]),
        ..ev(EventKind::Begin)
    };
    let err = enc.push(&big).unwrap_err();
    assert!(matches!(err, ModelError::BatchFull { .. }), "{err}");
    assert_eq!(enc.as_bytes(), &before[..]);
    // "Shipment" must have left the table: pushing it again re-interns it.
    let small = Event {
        kind: EventKind::Begin,
        ..big
    };
    enc.push(&small).unwrap();
    let batch = decode_batch(enc.as_bytes(), enc.limits()).unwrap();
    assert_eq!(batch.events.last(), Some(&small));
}

/// Header with `count` events and nothing after it.
fn header(count: u32) -> Vec<u8> {
    let mut b = vec![FORMAT_VERSION];
    b.extend_from_slice(&count.to_le_bytes());
    b.extend_from_slice(&7u32.to_le_bytes());
    b.push(0); // seq
    b
}

#[test]
fn four_billion_events_are_refused_without_allocating() {
    let err = decode(&header(4_000_000_000)).unwrap_err();
    assert_eq!(err.offset, 10);
    assert_eq!(
        err.to_string(),
        "invalid event batch at byte 10: event count is 4000000000, the limit is 100000"
    );
    let unlimited = Limits {
        max_events_per_batch: usize::MAX,
        ..Limits::default()
    };
    let err = decode_batch(&header(u32::MAX), &unlimited).unwrap_err();
    assert!(
        matches!(
            err.kind,
            DecodeErrorKind::Truncated {
                what: "event count",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn huge_item_count_and_string_length_are_refused() {
    // update with item count 2^32 (varint), nothing after.
    let mut b = header(1);
    b.extend_from_slice(&[1, 0, 1, b'A', 1, 1, b'B', 0]); // tag update, act "A", id "B", ts 0
    let pos = b.len();
    b.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x10]);
    let err = decode(&b).unwrap_err();
    assert_eq!(
        (err.offset, err.kind.clone()),
        (
            pos + 5,
            DecodeErrorKind::LimitExceeded {
                what: "item count",
                value: 1 << 32,
                limit: 1000
            }
        )
    );
    // A string claiming u64::MAX bytes.
    let mut b = header(1);
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    let err = decode(&b).unwrap_err();
    assert!(
        matches!(
            err.kind,
            DecodeErrorKind::LimitExceeded {
                what: "activity",
                value: u64::MAX,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.offset, 12);
}

#[test]
fn malformed_batches_name_the_problem_and_offset() {
    let good = encode(&typical_activity());
    let check = |bytes: &[u8], offset: usize, kind: DecodeErrorKind| {
        let err = decode(bytes).unwrap_err();
        assert_eq!((err.offset, err.kind), (offset, kind));
    };
    let mut b = good.clone();
    b[0] = 2;
    check(&b, 0, DecodeErrorKind::UnsupportedVersion(2));
    let mut b = good.clone();
    b.push(0);
    check(&b, good.len(), DecodeErrorKind::TrailingBytes(1));
    check(
        &good[..3],
        1,
        DecodeErrorKind::Truncated {
            what: "event count",
            needed: 4,
            available: 2,
        },
    );
    check(
        &[],
        0,
        DecodeErrorKind::Truncated {
            what: "version",
            needed: 1,
            available: 0,
        },
    );
    let mut b = header(1);
    b.push(0x20);
    check(&b, 10, DecodeErrorKind::UnknownTag(0x20));
    let mut b = header(1);
    b.push(6);
    check(&b, 10, DecodeErrorKind::UnknownTag(6));
    let mut b = header(1);
    b.push(SAME_TS_BIT);
    check(&b, 10, DecodeErrorKind::NoPreviousEvent);
    let mut b = header(1);
    b.extend_from_slice(&[0, 1]);
    check(
        &b,
        11,
        DecodeErrorKind::StringIndexOutOfRange {
            index: 1,
            table_len: 0,
        },
    );
    let mut b = header(1);
    b.extend_from_slice(&[0, 0, 1, 0xff]);
    check(&b, 13, DecodeErrorKind::InvalidUtf8("activity"));
    let mut b = header(1);
    b.extend_from_slice(&[0, 0, 1, b'A', 0x80, 0x00]);
    check(&b, 14, DecodeErrorKind::OverlongVarint("id"));
    let mut b = header(1);
    b.extend_from_slice(&[
        0, 0, 1, b'A', 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
    ]);
    check(&b, 15, DecodeErrorKind::VarintOverflow("timestamp delta"));
    let mut b = header(1);
    b.extend_from_slice(&[1, 0, 1, b'A', 0, 0, 1, 1, 1, b'N', 9]);
    check(&b, 20, DecodeErrorKind::UnknownValueType(9));
    let mut b = header(1);
    b.extend_from_slice(&[4, 0, 1, b'A', 0, 0, 1, b't', 1, b'n', 0, 2]);
    check(&b, 21, DecodeErrorKind::InvalidFlag(2));
    // Empty id passes the codec but not validation.
    let mut b = header(1);
    b.extend_from_slice(&[0, 0, 1, b'A', 1, 0, 0]);
    check(
        &b,
        10,
        DecodeErrorKind::InvalidEvent("invalid input: id is empty".into()),
    );
}

const SAME_TS_BIT: u8 = 0b0001_0000;

#[test]
fn decode_error_display_is_readable() {
    let err = decode(&[9]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid event batch at byte 0: unsupported format version 9, this build reads version 1"
    );
}

/// Re-encodes a decoded batch.
fn reencode(batch: &Batch) -> Vec<u8> {
    encode_batch(batch.producer, batch.seq, &batch.events, &Limits::default()).unwrap()
}

proptest! {
    #[test]
    fn arbitrary_batches_round_trip(events in arb::events(40), producer: u32, seq: u64) {
        let bytes = encode_with(producer, seq, &events);
        let batch = decode(&bytes).unwrap();
        prop_assert_eq!(&batch.events, &events);
        prop_assert_eq!((batch.producer, batch.seq), (producer, seq));
        prop_assert_eq!(reencode(&batch), bytes);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
        // Also with a valid header in front, to get past the first checks.
        let mut b = header(u32::from(bytes.first().copied().unwrap_or(1)));
        b.extend_from_slice(&bytes);
        if let Ok(batch) = decode(&b) {
            prop_assert_eq!(decode(&reencode(&batch)).unwrap(), batch);
        }
    }

    #[test]
    fn truncations_and_bit_flips_never_panic(
        events in arb::events(10),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..4),
    ) {
        let bytes = encode(&events);
        let cut = cut.index(bytes.len());
        prop_assert!(decode(&bytes[..cut]).is_err(), "a strict prefix decoded");
        let mut flipped = bytes.clone();
        for (at, bit) in flips {
            let at = at.index(flipped.len());
            flipped[at] ^= 1 << bit;
        }
        if let Ok(batch) = decode(&flipped) {
            prop_assert_eq!(decode(&reencode(&batch)).unwrap(), batch);
        }
    }
}
