//! Tests of `having`, the group order and the limit
//! ([`super::shaping`]): conditions over measure columns (backticked,
//! in another spelling, durations as microseconds, null cells), orders
//! with nulls last and ties by key, limits, validation, and that the
//! maintained form shapes its result the same way.

use super::test_util::{def, inst};
use super::{Aggregate, Cell, Filter, GroupOrder, IncrementalAggregate, Measure, QueryError};
use crate::model::{ActivityInstance, Timestamp, Value};

/// Orders in regions A..E: A has 3 (amounts 10, 20, 30), B 2 (5, 500),
/// C 1 (no amount), D 2 (100, 100), E 1 (-1); durations 1h per amount
/// unit for a few.
fn data() -> Vec<ActivityInstance> {
    let rows: [(&str, Option<i64>); 9] = [
        ("A", Some(10)),
        ("A", Some(20)),
        ("A", Some(30)),
        ("B", Some(5)),
        ("B", Some(500)),
        ("C", None),
        ("D", Some(100)),
        ("D", Some(100)),
        ("E", Some(-1)),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (region, amount))| {
            let mut items = vec![("Region", Value::from(*region))];
            if let Some(a) = amount {
                items.push(("Amount", Value::Int(*a)));
                items.push(("Received", Value::Timestamp(Timestamp::from_micros(0))));
                items.push((
                    "Shipped",
                    Value::Timestamp(Timestamp::from_micros(a * 3_600_000_000)),
                ));
            }
            inst(&format!("PO-{i}"), &items)
        })
        .collect()
}

fn by_region() -> Aggregate {
    let mut a = Aggregate::new("PurchaseOrder");
    a.group_by = vec!["Region".into()];
    a.measures = ["count", "sum:Amount", "max:duration(Received,Shipped)"]
        .iter()
        .map(|m| Measure::parse(m).unwrap())
        .collect();
    a
}

fn regions(a: &Aggregate) -> Vec<String> {
    a.run(data())
        .rows
        .iter()
        .map(|r| match &r.cells[0] {
            Cell::Text(t) => t.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn having(a: &mut Aggregate, expr: &str) {
    a.having.push(Filter::parse(expr).unwrap());
}

#[test]
fn having_filters_groups_on_measure_columns() {
    let mut a = by_region();
    having(&mut a, "`sum:Amount` > 50 and count >= 2");
    assert_eq!(regions(&a), ["A", "B", "D"]);
    having(&mut a, "`sum:Amount` >= 200");
    assert_eq!(regions(&a), ["B", "D"]);
    // Another spelling of the measure; a second condition must hold too.
    let mut a = by_region();
    having(&mut a, "`SUM: Amount` between -10 and 100");
    having(&mut a, "Region != A");
    assert_eq!(regions(&a), ["E"]);
    // Durations compare as microseconds: more than 100 hours.
    let mut a = by_region();
    having(&mut a, "`max:duration(Received,Shipped)` > 360000000000");
    assert_eq!(regions(&a), ["B"]);
    // A null measure (C has no amount) passes only `is null`.
    let mut a = by_region();
    having(&mut a, "`sum:Amount` < 1000000");
    assert_eq!(regions(&a), ["A", "B", "D", "E"]);
    let mut a = by_region();
    having(&mut a, "`sum:Amount` is null or Region in (E)");
    assert_eq!(regions(&a), ["C", "E"]);
    // Two columns compared.
    let mut a = by_region();
    having(&mut a, "`sum:Amount` < `count`");
    assert_eq!(regions(&a), ["E"]);
}

#[test]
fn groups_order_by_columns_with_nulls_last_and_ties_by_key() {
    let mut a = by_region();
    a.order_by = vec![GroupOrder::parse("sum:Amount desc").unwrap()];
    assert_eq!(regions(&a), ["B", "D", "A", "E", "C"]);
    a.order_by = vec![GroupOrder::parse("`sum:Amount` asc").unwrap()];
    assert_eq!(regions(&a), ["E", "A", "D", "B", "C"]);
    // Ties (count 2: B, D; count 1: C, E) keep the key order.
    a.order_by = vec![GroupOrder::parse("count DESC").unwrap()];
    assert_eq!(regions(&a), ["A", "B", "D", "C", "E"]);
    a.order_by.push(GroupOrder::parse("Region desc").unwrap());
    assert_eq!(regions(&a), ["A", "D", "B", "E", "C"]);
    a.limit = Some(2);
    assert_eq!(regions(&a), ["A", "D"]);
    a.limit = Some(0);
    assert!(regions(&a).is_empty());
    // A limit alone cuts the key order; having comes before it.
    let mut a = by_region();
    a.limit = Some(2);
    having(&mut a, "count < 3");
    assert_eq!(regions(&a), ["B", "C"]);
}

#[test]
fn unknown_columns_are_refused_naming_the_columns() {
    let d = def();
    let mut a = by_region();
    having(&mut a, "`sum:Price` > 1");
    let err = a.validate(&d).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::UnknownColumn {
                role: "--having",
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("sum:Price") && msg.contains("Region, count, sum:Amount"),
        "{msg}"
    );
    let mut a = by_region();
    a.order_by = vec![GroupOrder::parse("Amount desc").unwrap()];
    let err = a.validate(&d).unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::UnknownColumn {
                role: "--order-by",
                ..
            }
        ),
        "{err}"
    );
    let mut a = by_region();
    having(&mut a, "`sum: Amount` > 1 and Region = A");
    a.order_by = vec![GroupOrder::parse("`max:duration(Received, Shipped)`").unwrap()];
    assert_eq!(a.validate(&d), Ok(()));
    assert!(GroupOrder::parse("   ").is_err());
    assert_eq!(
        GroupOrder::parse("Region").map(|o| (o.column, o.descending)),
        Ok(("Region".to_owned(), false))
    );
}

#[test]
fn the_maintained_form_shapes_its_result_too() {
    let mut a = by_region();
    having(&mut a, "count >= 2");
    a.order_by = vec![GroupOrder::parse("sum:Amount desc").unwrap()];
    a.limit = Some(2);
    let mut live = IncrementalAggregate::new(a.clone());
    for i in data() {
        live.apply(None, Some(&i));
    }
    assert_eq!(live.result(), a.run(data()));
    assert_eq!(live.result().rows.len(), 2);
}
