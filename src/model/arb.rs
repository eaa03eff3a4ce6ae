//! Proptest strategies for events, shared by the codec and JSON tests.

use proptest::prelude::*;

use super::{Event, EventKind, Timestamp, Value};

/// A name drawn from a small pool (so batches share strings) or arbitrary
/// unicode of 1..=128 characters (limit-sized included).
pub(super) fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["PurchaseOrder", "Shipment", "PO-1", "PO-2", "Amount", "Customer", "é"])
            .prop_map(str::to_owned),
        1 => "\\PC{1,20}",
        1 => "[a-zA-Z0-9]{128}",
        1 => "\\PC{128}",
    ]
}

pub(super) fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        (Timestamp::MIN.as_micros()..=Timestamp::MAX.as_micros()).prop_map(Timestamp::from_micros),
        (-3_000_000i64..3_000_000).prop_map(|d| Timestamp::from_micros(1_795_341_600_000_000 + d)),
        Just(Timestamp::MIN),
        Just(Timestamp::MAX),
    ]
}

pub(super) fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "\\PC{0,40}".prop_map(Value::Text),
        Just(Value::Text("€".repeat(4000))),
        any::<i64>().prop_map(Value::Int),
        prop::num::f64::NORMAL
            .prop_union(prop::num::f64::ZERO)
            .or(prop::num::f64::SUBNORMAL)
            .prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        timestamp().prop_map(Value::Timestamp),
    ]
}

pub(super) fn kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        Just(EventKind::Begin),
        Just(EventKind::End),
        prop::collection::vec((name(), value()), 0..8).prop_map(|mut items| {
            let mut seen = std::collections::HashSet::new();
            items.retain(|(n, _)| seen.insert(n.clone()));
            EventKind::Update(items)
        }),
        name().prop_map(|token| EventKind::EnableContinuation { token }),
        (
            name(),
            name(),
            "\\PC{0,100}",
            prop::option::of("\\PC{0,300}")
        )
            .prop_map(
                |(ref_type, ref_name, data, long_data)| EventKind::AddReference {
                    ref_type,
                    ref_name,
                    data,
                    long_data,
                }
            ),
        (name(), name()).prop_map(|(related_activity, related_id)| {
            EventKind::AddRelatedActivity {
                related_activity,
                related_id,
            }
        }),
    ]
}

pub(super) fn event() -> impl Strategy<Value = Event> {
    (timestamp(), name(), name(), kind()).prop_map(|(ts, activity, id, kind)| Event {
        ts,
        activity,
        id,
        kind,
    })
}

/// Events where neighbours often share instance and timestamp.
pub(super) fn events(max: usize) -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec((event(), any::<bool>(), any::<bool>()), 0..max).prop_map(|v| {
        let mut out: Vec<Event> = Vec::with_capacity(v.len());
        for (mut e, same_instance, same_ts) in v {
            if let Some(prev) = out.last() {
                if same_instance {
                    e.activity = prev.activity.clone();
                    e.id = prev.id.clone();
                }
                if same_ts {
                    e.ts = prev.ts;
                }
            }
            out.push(e);
        }
        out
    })
}
