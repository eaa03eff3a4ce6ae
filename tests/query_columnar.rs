//! Searches and aggregations through the store read import files through
//! their column projections (and fall back to the records where a
//! projection cannot answer: filters on `id`, groups on numbers). Whatever
//! path a query takes, its result must equal the same query run row by row
//! over every instance (`Search::run` / `Aggregate::run` over
//! `Store::instances`), for random data spread over several import files,
//! the in-memory completed instances and the active ones.
//!
//! And the answer must not depend on order (issue 12: float sums did):
//! amounts are arbitrary floats (huge, tiny, -0.0), and the same result
//! must come from the instances scanned in other orders and from a store
//! that received the same frames in reverse order.

use std::time::Duration;

use bamdb::model::{ActivityDefinition, StatusFilter, Timestamp, Value};
use bamdb::query::{Aggregate, BucketUnit, Filter, Measure, Search, Zone};
use bamdb::storage::MemStorage;
use bamdb::{EventStream, Store, StoreOptions};
use proptest::prelude::*;

const A: &str = "Order";
const BASE: i64 = 1_793_000_000_000_000;
const HOUR: i64 = 3_600_000_000;

fn definition() -> ActivityDefinition {
    serde_json::from_str(
        r#"{"name":"Order","items":[
            {"name":"Region","type":"text","max_len":8},
            {"name":"Customer","type":"text","max_len":16},
            {"name":"Amount","type":"float"},
            {"name":"Quantity","type":"int"},
            {"name":"Express","type":"bool"},
            {"name":"Received","type":"timestamp"},
            {"name":"Shipped","type":"timestamp"}]}"#,
    )
    .unwrap()
}

/// One generated instance: each item set or not; whether it ends.
#[derive(Debug, Clone)]
struct Order {
    region: Option<u8>,
    customer: Option<u8>,
    amount: Option<f64>,
    quantity: Option<i16>,
    express: Option<bool>,
    received: Option<u16>,
    shipped: Option<u16>,
    ends: bool,
}

fn order() -> impl Strategy<Value = Order> {
    (
        proptest::option::of(0u8..4),
        proptest::option::of(0u8..20),
        proptest::option::of(amount()),
        proptest::option::of(-50i16..50),
        proptest::option::of(any::<bool>()),
        (
            proptest::option::of(0u16..500),
            proptest::option::of(0u16..500),
        ),
        prop::bool::weighted(0.8),
    )
        .prop_map(
            |(region, customer, amount, quantity, express, (received, shipped), ends)| Order {
                region,
                customer,
                amount,
                quantity,
                express,
                received,
                shipped,
                ends,
            },
        )
}

/// Amounts whose naive float sum depends on the order: multiples of 1/4,
/// signed zeros, values from 1e-300 to 1e300 and between -1 and 1.
fn amount() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<i16>().prop_map(|a| f64::from(a) / 4.0),
        Just(-0.0),
        Just(0.0),
        -1e300f64..1e300f64,
        -1.0f64..1.0f64,
        (any::<bool>(), -150i32..150).prop_map(|(neg, e)| {
            let x = 10f64.powi(e * 2);
            if neg {
                -x
            } else {
                x
            }
        }),
    ]
}

fn at(hours: u16) -> Value {
    Value::Timestamp(Timestamp::from_micros(BASE + i64::from(hours) * HOUR / 3))
}

/// A store holding `orders`, checkpointed every few frames so that most
/// completed instances sit in several import files.
fn store_with(orders: &[Order], reverse: bool) -> Store {
    let disk = MemStorage::new();
    let options = StoreOptions {
        checkpoint_frames: 7,
        checkpoint_interval: Duration::from_secs(3600),
        ..StoreOptions::default()
    };
    let store = Store::open_with_storage(disk.shared(), "/s", options).unwrap();
    store.deploy(definition()).unwrap();
    let mut s = store.buffered_stream(0);
    let mut arrival: Vec<(usize, &Order)> = orders.iter().enumerate().collect();
    if reverse {
        arrival.reverse();
    }
    for (i, o) in arrival {
        let id = format!("O-{i:04}");
        s.set_time(Some(Timestamp::from_micros(BASE + i as i64 * HOUR)));
        s.begin(A, &id).unwrap();
        let mut items: Vec<(&str, Value)> = Vec::new();
        if let Some(r) = o.region {
            items.push((
                "Region",
                Value::from(["EU", "US", "APAC", "LATAM"][r as usize]),
            ));
        }
        if let Some(c) = o.customer {
            items.push(("Customer", Value::from(format!("C{c}"))));
        }
        if let Some(a) = o.amount {
            items.push(("Amount", Value::Float(a)));
        }
        if let Some(q) = o.quantity {
            items.push(("Quantity", Value::Int(i64::from(q))));
        }
        if let Some(e) = o.express {
            items.push(("Express", Value::Bool(e)));
        }
        if let Some(h) = o.received {
            items.push(("Received", at(h)));
        }
        if let Some(h) = o.shipped {
            items.push(("Shipped", at(h)));
        }
        if !items.is_empty() {
            s.update(A, &id, items).unwrap();
        }
        if o.ends {
            s.end(A, &id).unwrap();
        }
        s.flush().unwrap();
    }
    assert!(store.sync(Duration::from_secs(30)));
    store
}

fn filters() -> Vec<Vec<&'static str>> {
    vec![
        vec![],
        vec!["Region = EU"],
        vec!["Region != US", "Amount > 0"],
        vec!["Region is empty"],
        vec!["Region starts with A"],
        vec!["Amount >= -100", "Quantity < 10"],
        vec!["Quantity is not empty", "Express = true"],
        vec!["Express != true"],
        vec!["Customer = C3"],
        vec!["Received < 2026-11-01T00:00:00Z"],
        vec!["Shipped is empty"],
        vec!["end >= 2026-11-01T00:00:00Z"],
        vec!["status = completed"],
        vec!["status = active"],
        // Answered from the records, not the projection.
        vec!["id starts with O-00", "Amount < 50"],
        // The query language: or, not, in, between, text and field operands.
        vec!["Region = EU or Region = US"],
        vec!["Region in (EU, 'APAC') or Amount between -10 and 10"],
        vec!["Region not in (EU, US)", "not Express = true"],
        vec!["Customer contains 1 or Customer iends with '3'"],
        vec!["Shipped > Received"],
        vec!["Quantity < Amount or Region is null"],
        vec!["(Received is not null and Shipped is null) or status = completed"],
        vec!["Region is not empty and not (Quantity between -5 and 5)"],
    ]
}

/// Parsed, and resolved as a store query resolves them (bare words
/// naming fields are those fields), so the row-by-row scan reads the same.
fn parse(filters: &[&str]) -> Vec<Filter> {
    let def = definition();
    filters
        .iter()
        .map(|f| {
            let mut f = Filter::parse(f).unwrap();
            f.resolve(&def);
            f
        })
        .collect()
}

fn aggregations() -> Vec<Aggregate> {
    let measures: Vec<Measure> = [
        "count",
        "sum:Amount",
        "avg:Amount",
        "min:Amount",
        "max:Quantity",
        "sum:Quantity",
        "avg:duration(Received,Shipped)",
        "max:duration(Received,Shipped)",
        "min:duration(Received,Shipped)",
        "min:Received",
        "max:end",
        "count_distinct:Customer",
        "median:Amount",
        "p90:Quantity",
        "p95:duration(Received,Shipped)",
    ]
    .iter()
    .map(|m| Measure::parse(m).unwrap())
    .collect();
    type Shape = (
        Vec<&'static str>,
        Option<(BucketUnit, &'static str)>,
        &'static str,
    );
    let shapes: Vec<Shape> = vec![
        (vec![], None, "UTC"),
        (vec!["Region"], None, "UTC"),
        (vec!["Region", "Express"], None, "UTC"),
        (vec!["Customer"], Some((BucketUnit::Day, "end")), "UTC"),
        (vec!["Region"], Some((BucketUnit::Hour, "Received")), "UTC"),
        (vec![], Some((BucketUnit::Week, "Shipped")), "UTC"),
        (
            vec!["status"],
            Some((BucketUnit::Minute, "last_modified")),
            "UTC",
        ),
        // Buckets of varying width, and grids at an offset.
        (vec!["Region"], Some((BucketUnit::Month, "Received")), "UTC"),
        (vec![], Some((BucketUnit::Hour, "Shipped")), "Europe/Paris"),
        (
            vec!["Express"],
            Some((BucketUnit::Day, "end")),
            "America/New_York",
        ),
        (vec![], Some((BucketUnit::Quarter, "Received")), "-08:00"),
        (
            vec!["Region"],
            Some((BucketUnit::Day, "Received")),
            "+05:30",
        ),
        (vec![], Some((BucketUnit::Year, "end")), "Europe/Paris"),
        // Answered from the records.
        (vec!["Quantity"], None, "UTC"),
        (vec!["Amount"], None, "UTC"),
    ];
    let mut out = Vec::new();
    for (i, (group_by, bucket, zone)) in shapes.into_iter().enumerate() {
        let mut a = Aggregate::new(A);
        a.zone = Zone::parse(zone).unwrap();
        a.group_by = group_by.into_iter().map(String::from).collect();
        a.bucket = bucket.map(|(u, f)| (u, f.to_owned()));
        a.measures = measures.clone();
        a.status = [
            StatusFilter::All,
            StatusFilter::Completed,
            StatusFilter::Active,
        ][i % 3];
        out.push(a);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn the_store_answers_like_a_row_by_row_scan(
        orders in proptest::collection::vec(order(), 1..160),
        since in proptest::option::of(0i64..160),
    ) {
        let store = store_with(&orders, false);
        let reversed = store_with(&orders, true);
        let all = store.instances(A).unwrap();
        let mut all_reversed = all.clone();
        all_reversed.reverse();
        let mut all_rotated = all.clone();
        all_rotated.rotate_left(all.len() / 3);
        for (i, f) in filters().iter().enumerate() {
            let mut s = Search::new(A);
            s.filters = parse(f);
            s.status = [StatusFilter::All, StatusFilter::Completed][i % 2];
            if i % 3 == 0 {
                s.since = since.map(|h| Timestamp::from_micros(BASE + h * HOUR));
                s.until = s.since.map(|t| Timestamp::from_micros(t.as_micros() + 40 * HOUR));
            }
            s.limit = [None, Some(7), Some(1), Some(40)][i % 4];
            prop_assert_eq!(store.search(&s).unwrap(), s.run(all.clone()), "search {:?}", f);
            for mut a in aggregations() {
                a.filters = parse(f);
                a.since = s.since;
                a.until = s.until;
                let expected = a.run(all.clone());
                prop_assert_eq!(
                    store.aggregate(&a).unwrap(),
                    expected.clone(),
                    "aggregate {:?} by {:?} {:?}", f, a.group_by, a.bucket
                );
                prop_assert_eq!(
                    reversed.aggregate(&a).unwrap(),
                    expected.clone(),
                    "frames in reverse: aggregate {:?} by {:?} {:?}", f, a.group_by, a.bucket
                );
                for other in [&all_reversed, &all_rotated] {
                    prop_assert_eq!(
                        a.run(other.clone()),
                        expected.clone(),
                        "another scan order: aggregate {:?} by {:?} {:?}", f, a.group_by, a.bucket
                    );
                }
            }
        }
        // The files really were read through their projections.
        prop_assert!(store.stats().import_files > 0 || orders.len() < 20);
    }
}
