//! Proptest strategies for events, shared by the codec and JSON tests.

use proptest::prelude::*;

use super::{Event, EventKind, Limits, Timestamp, Value};

/// A name drawn from a small pool (so batches share strings) or arbitrary
/// unicode of 1..=128 characters (limit-sized included).
pub(crate) fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["PurchaseOrder", "Shipment", "PO-1", "PO-2", "Amount", "Customer", "é"])
            .prop_map(str::to_owned),
        1 => "\\PC{1,20}",
        1 => "[a-zA-Z0-9]{128}",
        1 => "\\PC{128}",
    ]
}

pub(crate) fn timestamp() -> impl Strategy<Value = Timestamp> {
    prop_oneof![
        (Timestamp::MIN.as_micros()..=Timestamp::MAX.as_micros()).prop_map(Timestamp::from_micros),
        (-3_000_000i64..3_000_000).prop_map(|d| Timestamp::from_micros(1_795_341_600_000_000 + d)),
        Just(Timestamp::MIN),
        Just(Timestamp::MAX),
    ]
}

pub(crate) fn value() -> impl Strategy<Value = Value> {
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

pub(crate) fn kind() -> impl Strategy<Value = EventKind> {
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

pub(crate) fn event() -> impl Strategy<Value = Event> {
    (timestamp(), name(), name(), kind()).prop_map(|(ts, activity, id, kind)| Event {
        ts,
        activity,
        id,
        kind,
    })
}

/// Events where neighbours often share instance and timestamp.
pub(crate) fn events(max: usize) -> impl Strategy<Value = Vec<Event>> {
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

/// Limits where each is either the default or small enough that
/// [`rough_events`] often break it (and a batch fills after a few events).
pub(crate) fn small_limits() -> impl Strategy<Value = Limits> {
    fn either(
        default: usize,
        small: std::ops::RangeInclusive<usize>,
    ) -> impl Strategy<Value = usize> {
        prop_oneof![2 => Just(default), 1 => small]
    }
    let d = Limits::default();
    (
        (
            either(d.max_name_chars, 1..=24),
            either(d.max_ref_name_chars, 1..=24),
            either(d.max_ref_data_bytes, 0..=64),
            either(d.max_long_data_bytes, 0..=200),
            either(d.max_text_chars, 0..=48),
        ),
        (
            either(d.max_items_per_update, 0..=9),
            prop_oneof![Just(d.max_events_per_batch), 1usize..=12],
            prop_oneof![Just(d.max_batch_bytes), 24usize..=1500],
            prop_oneof![Just(d.max_interned_bytes), 8usize..=400],
        ),
    )
        .prop_map(
            |((name, ref_name, ref_data, long, text), (items, events, bytes, interned))| Limits {
                max_name_chars: name,
                max_ref_name_chars: ref_name,
                max_ref_data_bytes: ref_data,
                max_long_data_bytes: long,
                max_text_chars: text,
                max_items_per_update: items,
                max_events_per_batch: events,
                max_batch_bytes: bytes,
                max_interned_bytes: interned,
                ..Limits::default()
            },
        )
}

/// A name that may be empty or long.
fn rough_name() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => name(),
        1 => Just(String::new()),
        1 => "\\PC{20,40}",
    ]
}

/// A value that may break a limit: also NaN, infinities, timestamps
/// outside years 0000..=9999 and long texts.
pub(crate) fn rough_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => value(),
        1 => Just(Value::Float(f64::NAN)),
        1 => Just(Value::Float(f64::NEG_INFINITY)),
        1 => any::<i64>().prop_map(|m| Value::Timestamp(Timestamp::from_micros(m))),
        1 => "\\PC{0,60}".prop_map(Value::Text),
    ]
}

/// Any kind, with item names that may repeat in one update, up to 12 items
/// (more than a stream holds on the stack), and rough names and values.
pub(crate) fn rough_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        1 => Just(EventKind::Begin),
        1 => Just(EventKind::End),
        3 => prop::collection::vec((rough_name(), rough_value()), 0..12).prop_map(EventKind::Update),
        1 => rough_name().prop_map(|token| EventKind::EnableContinuation { token }),
        1 => (
            rough_name(),
            rough_name(),
            "\\PC{0,80}",
            prop::option::of("\\PC{0,250}")
        )
            .prop_map(
                |(ref_type, ref_name, data, long_data)| EventKind::AddReference {
                    ref_type,
                    ref_name,
                    data,
                    long_data,
                }
            ),
        1 => (rough_name(), rough_name()).prop_map(|(related_activity, related_id)| {
            EventKind::AddRelatedActivity {
                related_activity,
                related_id,
            }
        }),
    ]
}

/// Events valid or not under [`small_limits`] or the defaults, where
/// neighbours often share instance and timestamp.
pub(crate) fn rough_events(max: usize) -> impl Strategy<Value = Vec<Event>> {
    let ts = prop_oneof![
        12 => timestamp(),
        1 => any::<i64>().prop_map(Timestamp::from_micros),
    ];
    let event =
        (ts, rough_name(), rough_name(), rough_kind()).prop_map(|(ts, activity, id, kind)| Event {
            ts,
            activity,
            id,
            kind,
        });
    prop::collection::vec((event, any::<bool>(), any::<bool>()), 0..max).prop_map(|v| {
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
