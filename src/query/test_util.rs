//! Test fixtures for the query tests: a PurchaseOrder definition, an
//! instance builder, and proptest strategies for random instances.

use proptest::prelude::*;

use crate::model::{ActivityDefinition, ActivityInstance, Status, Timestamp, Value};

/// PurchaseOrder with one item of each type.
pub(crate) fn def() -> ActivityDefinition {
    let json = r#"{"name":"PurchaseOrder","items":[
        {"name":"Region","type":"text","max_len":16},
        {"name":"Customer","type":"text","max_len":64},
        {"name":"Amount","type":"int"},
        {"name":"Price","type":"float"},
        {"name":"Urgent","type":"bool"},
        {"name":"Received","type":"timestamp"},
        {"name":"Shipped","type":"timestamp"}]}"#;
    serde_json::from_str(json).expect("fixture definition")
}

/// A timestamp from RFC 3339 (fixtures only).
pub(crate) fn ts(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("fixture timestamp")
}

/// An active PurchaseOrder with `items`, begun and modified at 2026-11-01.
pub(crate) fn inst(id: &str, items: &[(&str, Value)]) -> ActivityInstance {
    ActivityInstance {
        activity: "PurchaseOrder".into(),
        id: id.into(),
        status: Status::Active,
        begin: Some(ts("2026-11-01T00:00:00Z")),
        end: None,
        last_modified: Some(ts("2026-11-01T00:00:00Z")),
        items: items
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect(),
        continuations: vec![],
        references: vec![],
        relationships: vec![],
    }
}

/// `inst` completed at `end` (also its last modification).
pub(crate) fn done(mut inst: ActivityInstance, end: &str) -> ActivityInstance {
    inst.status = Status::Completed;
    inst.end = Some(ts(end));
    inst.last_modified = inst.end;
    inst
}

/// 2026-11-01T00:00:00Z, a Sunday: random times straddle a week boundary.
pub(crate) const BASE: i64 = 1_793_491_200_000_000;

/// A time within three days either side of [`BASE`], on whole minutes
/// plus a few odd seconds, so buckets are exercised at their edges.
pub(crate) fn arb_time() -> impl Strategy<Value = Timestamp> {
    (-4320i64..4320, prop::sample::select(vec![0i64, 1, 59]))
        .prop_map(|(min, s)| Timestamp::from_micros(BASE + min * 60_000_000 + s * 1_000_000))
}

/// A random PurchaseOrder version with id `PO-<n>`. Floats are quarters,
/// so sums are exact in any order.
pub(crate) fn arb_instance(n: usize) -> impl Strategy<Value = ActivityInstance> {
    let regions = prop::sample::select(vec!["EU", "US", "APAC", "Europe"]);
    (
        any::<bool>(),
        proptest::option::of(arb_time()),
        arb_time(),
        arb_time(),
        proptest::option::of(regions),
        proptest::option::of(-1000i64..1000),
        proptest::option::of(-4000i32..4000),
        proptest::option::of(arb_time()),
        proptest::option::of(arb_time()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            move |(completed, begin, end, lm, region, amount, price, recv, ship, urgent)| {
                let mut items = Vec::new();
                if let Some(r) = region {
                    items.push(("Region".to_owned(), Value::from(r)));
                }
                if let Some(a) = amount {
                    items.push(("Amount".to_owned(), Value::Int(a)));
                }
                if let Some(p) = price {
                    items.push(("Price".to_owned(), Value::Float(f64::from(p) / 4.0)));
                }
                if let Some(u) = urgent {
                    items.push(("Urgent".to_owned(), Value::Bool(u)));
                }
                if let Some(r) = recv {
                    items.push(("Received".to_owned(), Value::Timestamp(r)));
                }
                if let Some(s) = ship {
                    items.push(("Shipped".to_owned(), Value::Timestamp(s)));
                }
                ActivityInstance {
                    activity: "PurchaseOrder".into(),
                    id: format!("PO-{n}"),
                    status: if completed {
                        Status::Completed
                    } else {
                        Status::Active
                    },
                    begin,
                    end: completed.then_some(end),
                    last_modified: Some(lm),
                    items,
                    continuations: vec![],
                    references: vec![],
                    relationships: vec![],
                }
            },
        )
}

/// Up to `max` random instances with distinct ids.
pub(crate) fn arb_instances(max: usize) -> impl Strategy<Value = Vec<ActivityInstance>> {
    (0..=max).prop_flat_map(|len| (0..len).map(arb_instance).collect::<Vec<_>>())
}
