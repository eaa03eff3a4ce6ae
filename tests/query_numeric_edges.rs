//! Regression (issue 12, item 6): numeric holes in aggregations.
//! - `sum`/`avg` of floats that overflow printed `null` (JSON) or `inf`
//!   (table), and a float sum depended on the order instances were
//!   scanned or arrived in (naive left-to-right addition).
//! - A week bucket of an accepted year-0000 timestamp began in year -1,
//!   which cannot be written: `agg` exited 2.
//! - `-0.0` and `0.0` formed separate groups while `= 0` selects both.
//!
//! Each through the store, so both engines answer: completed instances in
//! import files (column projections) and the ones still in memory (rows).

use std::time::Duration;

use bamdb::model::{ActivityDefinition, Timestamp, Value};
use bamdb::query::{Aggregate, BucketUnit, Cell, Filter, Measure, QueryError};
use bamdb::storage::MemStorage;
use bamdb::{EventStream, Store, StoreError, StoreOptions};

const A: &str = "Order";

fn definition() -> ActivityDefinition {
    serde_json::from_str(
        r#"{"name":"Order","items":[
            {"name":"Region","type":"text","max_len":8},
            {"name":"Amount","type":"float"},
            {"name":"Received","type":"timestamp"}]}"#,
    )
    .unwrap()
}

/// A store holding one completed order per entry, in this arrival order;
/// every other frame is followed by a checkpoint, so some orders are read
/// from import files and the last ones from memory.
fn store_with(orders: &[(&str, Option<f64>, Option<Timestamp>)]) -> Store {
    let disk = MemStorage::new();
    let options = StoreOptions {
        checkpoint_frames: 2,
        checkpoint_interval: Duration::from_secs(3600),
        ..StoreOptions::default()
    };
    let store = Store::open_with_storage(disk.shared(), "/s", options).unwrap();
    store.deploy(definition()).unwrap();
    let mut s = store.buffered_stream(0);
    for (i, (region, amount, received)) in orders.iter().enumerate() {
        let id = format!("O-{i}");
        s.begin(A, &id).unwrap();
        let mut items = vec![("Region", Value::from(*region))];
        if let Some(a) = amount {
            items.push(("Amount", Value::Float(*a)));
        }
        if let Some(t) = received {
            items.push(("Received", Value::Timestamp(*t)));
        }
        s.update(A, &id, items).unwrap();
        s.end(A, &id).unwrap();
        s.flush().unwrap();
    }
    assert!(store.sync(Duration::from_secs(30)));
    store
}

fn agg(group_by: &[&str], measures: &[&str]) -> Aggregate {
    let mut a = Aggregate::new(A);
    a.group_by = group_by.iter().map(|g| (*g).to_owned()).collect();
    a.measures = measures
        .iter()
        .map(|m| Measure::parse(m).unwrap())
        .collect();
    a
}

fn cells(store: &Store, a: &Aggregate) -> Vec<Vec<Cell>> {
    let result = store.aggregate(a).unwrap();
    assert_eq!(result, a.run(store.instances(A).unwrap()), "both engines");
    result.rows.into_iter().map(|r| r.cells).collect()
}

#[test]
fn a_float_sum_is_exact_whatever_the_arrival_order() {
    let values = [1e100, 1.0, -1e100, 1.0, 0.1, 0.2, 0.3];
    let forward: Vec<_> = values.iter().map(|&v| ("EU", Some(v), None)).collect();
    let mut backward = forward.clone();
    backward.reverse();
    let mut shuffled = forward.clone();
    shuffled.swap(0, 3);
    shuffled.swap(1, 5);
    let a = agg(&[], &["sum:Amount", "avg:Amount"]);
    // 2 + 0.6000000000000000055... rounded once.
    let expected = vec![vec![Cell::Float(2.6), Cell::Float(2.6 / 7.0)]];
    for orders in [forward, backward, shuffled] {
        assert_eq!(cells(&store_with(&orders), &a), expected, "{orders:?}");
    }
}

#[test]
fn an_overflowing_float_sum_is_an_error_naming_it_and_the_mean_stays_finite() {
    let store = store_with(&[
        ("EU", Some(f64::MAX), None),
        ("EU", Some(f64::MAX), None),
        ("EU", Some(f64::MAX), None),
        ("US", Some(-f64::MAX), None),
        ("US", Some(-f64::MAX), None),
        ("APAC", Some(f64::MAX), None),
        ("APAC", Some(-f64::MAX), None),
        ("APAC", Some(f64::MAX), None),
    ]);
    let err = store
        .aggregate(&agg(&["Region"], &["count", "sum:Amount"]))
        .unwrap_err();
    match &err {
        StoreError::Query(QueryError::Overflow { measure, group }) => {
            assert_eq!(measure, "sum:Amount");
            assert_eq!(group, "[EU]", "the first group, by key order");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("beyond the float range"), "{err}");

    // The mean of each group is representable, so it is given, exactly.
    let means = cells(&store, &agg(&["Region"], &["avg:Amount"]));
    assert_eq!(
        means,
        [
            vec![Cell::Text("APAC".into()), Cell::Float(f64::MAX / 3.0)],
            vec![Cell::Text("EU".into()), Cell::Float(f64::MAX)],
            vec![Cell::Text("US".into()), Cell::Float(-f64::MAX)],
        ]
    );
    // Without the store, the sum saturates instead of becoming infinity
    // (JSON cannot carry it: it printed null).
    let result = agg(&["Region"], &["sum:Amount"]).run(store.instances(A).unwrap());
    let json = serde_json::to_string(&result).unwrap();
    assert!(!json.contains("null"), "{json}");
    assert_eq!(result.rows[1].cells[1], Cell::Float(f64::MAX));
    assert_eq!(result.rows[2].cells[1], Cell::Float(-f64::MAX));
    assert!(!result.to_table().contains("inf"));
}

#[test]
fn negative_and_positive_zero_are_one_group_as_the_filter_says() {
    let store = store_with(&[
        ("EU", Some(-0.0), None),
        ("EU", Some(0.0), None),
        ("EU", Some(-0.0), None),
        ("EU", Some(1.0), None),
    ]);
    let mut by_amount = agg(&["Amount"], &["count"]);
    assert_eq!(
        cells(&store, &by_amount),
        [
            vec![Cell::Float(0.0), Cell::Int(3)],
            vec![Cell::Float(1.0), Cell::Int(1)],
        ]
    );
    by_amount.filters = vec![Filter::parse("Amount = 0").unwrap()];
    assert_eq!(
        cells(&store, &by_amount),
        [vec![Cell::Float(0.0), Cell::Int(3)]]
    );
    let key = &store.aggregate(&by_amount).unwrap().rows[0].cells[0];
    assert!(
        matches!(key, Cell::Float(z) if z.is_sign_positive()),
        "{key:?}"
    );
}

#[test]
fn every_bucket_of_the_accepted_timestamp_range_can_be_written() {
    let t = |s: &str| -> Timestamp { s.parse().unwrap() };
    let times = [
        Timestamp::MIN,                   // Saturday 0000-01-01
        t("0000-01-02T23:59:59.999999Z"), // still the week before Monday
        t("0000-01-03T00:00:00Z"),        // the first Monday
        t("9999-12-31T00:00:00Z"),
        Timestamp::MAX,
    ];
    let orders: Vec<_> = times.iter().map(|&ts| ("EU", None, Some(ts))).collect();
    let store = store_with(&orders);
    for unit in [
        BucketUnit::Minute,
        BucketUnit::Hour,
        BucketUnit::Day,
        BucketUnit::Week,
    ] {
        let mut a = agg(&[], &["count"]);
        a.bucket = Some((unit, "Received".into()));
        let rows = cells(&store, &a);
        for row in &rows {
            let Cell::Timestamp(start) = row[0] else {
                panic!("{unit:?}: {row:?}");
            };
            assert!(start.in_range(), "{unit:?}: bucket {start:?}");
        }
        let json = serde_json::to_string(&store.aggregate(&a).unwrap());
        assert!(json.is_ok(), "{unit:?}: {json:?}");
        let first = rows.first().unwrap();
        assert_eq!(first[0], Cell::Timestamp(Timestamp::MIN), "{unit:?}");
        let last = rows.last().unwrap();
        assert_eq!(
            last[0],
            Cell::Timestamp(unit.floor(Timestamp::MAX)),
            "{unit:?}"
        );
        if unit == BucketUnit::Week {
            assert_eq!(
                rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
                [
                    Cell::Timestamp(Timestamp::MIN),
                    Cell::Timestamp(t("0000-01-03T00:00:00Z")),
                    Cell::Timestamp(t("9999-12-27T00:00:00Z")),
                ]
            );
            assert_eq!(rows[0][1], Cell::Int(2), "Saturday and Sunday");
        }
    }
}
