//! Replays the checked-in fuzz corpus of the event model through the fuzz
//! hooks on stable Rust, so every regression input found by cargo-fuzz keeps
//! being checked by `cargo test`.

mod fuzz_common;

use fuzz_common::replay;

use std::fs;

#[test]
fn event_batch_corpus() {
    replay("event_batch", bamdb::fuzz::model::event_batch, 1);
}

#[test]
fn json_line_corpus() {
    replay("json_line", bamdb::fuzz::model::json_line, 1);
}

/// Writes the seed corpus of `event_batch`. Run by hand after a format
/// change: `cargo test --test fuzz_replay_model -- --ignored`.
#[test]
#[ignore = "writes into fuzz/corpus; run by hand"]
fn regenerate_event_batch_seeds() {
    use bamdb::model::{encode_batch, Event, EventKind, Limits, Timestamp, Value};

    let ts = Timestamp::from_micros(1_795_341_600_000_000);
    let ev = |activity: &str, id: &str, ts: Timestamp, kind: EventKind| Event {
        ts,
        activity: activity.into(),
        id: id.into(),
        kind,
    };
    let po = |kind: EventKind| ev("PurchaseOrder", "PO-2026-0001", ts, kind);
    let text = |s: &str| Value::Text(s.into());
    let typical = vec![
        po(EventKind::Begin),
        po(EventKind::Update(vec![
            ("PO_Number".into(), text("4500012345")),
            ("Customer".into(), text("Contoso Ltd East")),
            ("Region".into(), text("EMEA-N")),
        ])),
        po(EventKind::Update(vec![
            ("Amount".into(), Value::Float(1250.75)),
            ("Quantity".into(), Value::Int(12)),
        ])),
        po(EventKind::Update(vec![("Status".into(), text("Shipped"))])),
        po(EventKind::End),
    ];
    let all_values = po(EventKind::Update(vec![
        ("T".into(), text("ünïcødé ✓")),
        ("I".into(), Value::Int(i64::MIN)),
        ("F".into(), Value::Float(-0.0)),
        ("B0".into(), Value::Bool(false)),
        ("B1".into(), Value::Bool(true)),
        ("Ts".into(), Value::Timestamp(Timestamp::MIN)),
    ]));
    let reference = |long: Option<&str>| {
        po(EventKind::AddReference {
            ref_type: "DocumentUrl".into(),
            ref_name: "invoice".into(),
            data: "https://example.com/inv/1".into(),
            long_data: long.map(str::to_owned),
        })
    };
    let interleaved: Vec<Event> = (0..6)
        .map(|i| {
            let id = format!("PO-{}", i % 3);
            let t = Timestamp::from_micros(ts.as_micros() + if i % 2 == 0 { 1_000 } else { -5 });
            ev("PurchaseOrder", &id, t, EventKind::Begin)
        })
        .collect();
    let seeds: Vec<(&str, Vec<Event>)> = vec![
        ("typical_activity", typical.clone()),
        ("empty", vec![]),
        ("all_value_types", vec![all_values]),
        (
            "continue",
            vec![po(EventKind::EnableContinuation {
                token: "SHIP-PO-1".into(),
            })],
        ),
        ("reference_short", vec![reference(None)]),
        ("reference_long", vec![reference(Some(&"L".repeat(300)))]),
        (
            "relate",
            vec![po(EventKind::AddRelatedActivity {
                related_activity: "Shipment".into(),
                related_id: "SH-9".into(),
            })],
        ),
        ("interleaved_instances", interleaved),
        (
            "extreme_timestamps",
            vec![
                ev("A", "1", Timestamp::MIN, EventKind::Begin),
                ev("A", "1", Timestamp::MAX, EventKind::End),
                ev("A", "1", Timestamp::EPOCH, EventKind::End),
            ],
        ),
        (
            "unicode_names",
            vec![ev(
                "Bestellung",
                "Ä-東京-🚚",
                ts,
                EventKind::Update(vec![("Größe".into(), Value::Int(3))]),
            )],
        ),
        (
            "many_events",
            (0..100)
                .map(|i| po(EventKind::Update(vec![("Step".into(), Value::Int(i))])))
                .collect(),
        ),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/event_batch");
    fs::create_dir_all(&dir).unwrap();
    for (name, events) in seeds {
        let bytes = encode_batch(7, 1, &events, &Limits::default()).unwrap();
        fs::write(dir.join(format!("seed_{name}.bin")), bytes).unwrap();
    }
    // Two invalid ones: a truncated batch and an unknown version.
    let bytes = encode_batch(7, 1, &typical, &Limits::default()).unwrap();
    fs::write(
        dir.join("seed_bad_truncated.bin"),
        &bytes[..bytes.len() - 3],
    )
    .unwrap();
    let mut bad = bytes.clone();
    bad[0] = 9;
    fs::write(dir.join("seed_bad_version.bin"), bad).unwrap();
}

#[test]
fn query_cursor_corpus() {
    replay("query_cursor", bamdb::fuzz::query::cursor, 6);
}

#[test]
fn query_filter_corpus() {
    replay("query_filter", bamdb::fuzz::query::filter, 8);
}
