//! Tests of [`Aggregate`]: each measure, time buckets across day and week
//! boundaries, durations with a missing milestone, empty results, tables
//! and JSON, and an oracle proptest against a naive aggregation.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::test_util::{arb_instances, def, done, inst, ts};
use super::{AggRow, Aggregate, AggregateResult, BucketUnit, Cell, Filter, Measure};
use crate::model::{ActivityInstance, StatusFilter, Timestamp, Value};

fn m(spec: &str) -> Measure {
    Measure::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn agg(group_by: &[&str], measures: &[&str]) -> Aggregate {
    let mut a = Aggregate::new("PurchaseOrder");
    a.group_by = group_by.iter().map(|g| (*g).to_owned()).collect();
    a.measures = measures.iter().map(|s| m(s)).collect();
    a
}

fn cells(result: &AggregateResult) -> Vec<Vec<Cell>> {
    result.rows.iter().map(|r| r.cells.clone()).collect()
}

fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

fn tsv(s: &str) -> Value {
    Value::Timestamp(ts(s))
}

fn orders() -> Vec<ActivityInstance> {
    vec![
        inst(
            "PO-1",
            &[
                ("Region", Value::from("EU")),
                ("Amount", Value::Int(100)),
                ("Price", Value::Float(1.5)),
            ],
        ),
        inst(
            "PO-2",
            &[("Region", Value::from("EU")), ("Amount", Value::Int(300))],
        ),
        inst(
            "PO-3",
            &[("Region", Value::from("US")), ("Price", Value::Float(2.0))],
        ),
        inst("PO-4", &[("Amount", Value::Int(7))]),
        done(
            inst(
                "PO-5",
                &[("Region", Value::from("US")), ("Amount", Value::Int(-50))],
            ),
            "2026-11-02T00:00:00Z",
        ),
    ]
}

#[test]
fn count_sum_avg_min_max_per_group() {
    let a = agg(
        &["Region"],
        &[
            "count",
            "sum:Amount",
            "avg:Amount",
            "min:Amount",
            "max:Amount",
            "sum:Price",
            "avg:Price",
            "max:Price",
        ],
    );
    let r = a.run(orders());
    assert_eq!(
        r.columns,
        [
            "Region",
            "count",
            "sum:Amount",
            "avg:Amount",
            "min:Amount",
            "max:Amount",
            "sum:Price",
            "avg:Price",
            "max:Price"
        ]
    );
    assert_eq!(
        cells(&r),
        vec![
            vec![
                text("EU"),
                Cell::Int(2),
                Cell::Int(400),
                Cell::Float(200.0),
                Cell::Int(100),
                Cell::Int(300),
                Cell::Float(1.5),
                Cell::Float(1.5),
                Cell::Float(1.5)
            ],
            vec![
                text("US"),
                Cell::Int(2),
                Cell::Int(-50),
                Cell::Float(-50.0),
                Cell::Int(-50),
                Cell::Int(-50),
                Cell::Float(2.0),
                Cell::Float(2.0),
                Cell::Float(2.0)
            ],
            // The unset Region forms its own group, sorted last.
            vec![
                Cell::Null,
                Cell::Int(1),
                Cell::Int(7),
                Cell::Float(7.0),
                Cell::Int(7),
                Cell::Int(7),
                Cell::Null,
                Cell::Null,
                Cell::Null
            ],
        ]
    );
}

#[test]
fn int_sums_are_exact_and_mixed_sums_are_floats() {
    let big = |id: &str, v: i64| inst(id, &[("Amount", Value::Int(v))]);
    let a = agg(&[], &["sum:Amount", "avg:Amount"]);
    let r = a.run([big("a", (1 << 53) + 1), big("b", 1)]);
    assert_eq!(
        cells(&r),
        vec![vec![
            Cell::Int((1 << 53) + 2),
            Cell::Float(4_503_599_627_370_497.0)
        ]]
    );
    // Beyond i64 the sum falls back to a float rather than wrapping.
    let r = a.run([big("a", i64::MAX), big("b", i64::MAX)]);
    assert_eq!(r.rows[0].cells[0], Cell::Float(2.0 * i64::MAX as f64));
    // An Int and a Float in one field (not possible through the bus, but
    // the pure function still answers): a float sum.
    let mut mixed = big("c", 2);
    mixed.items = vec![("Amount".into(), Value::Float(0.5))];
    let r = a.run([big("a", 1), mixed]);
    assert_eq!(cells(&r), vec![vec![Cell::Float(1.5), Cell::Float(0.75)]]);
}

#[test]
fn min_max_of_timestamps_and_system_fields() {
    let a = agg(
        &[],
        &["min:Received", "max:Received", "max:end", "min:begin"],
    );
    let r = a.run([
        inst("a", &[("Received", tsv("2026-11-01T10:00:00Z"))]),
        inst("b", &[("Received", tsv("2026-11-01T08:00:00Z"))]),
        done(inst("c", &[]), "2026-11-05T00:00:00Z"),
    ]);
    assert_eq!(
        cells(&r),
        vec![vec![
            Cell::Timestamp(ts("2026-11-01T08:00:00Z")),
            Cell::Timestamp(ts("2026-11-01T10:00:00Z")),
            Cell::Timestamp(ts("2026-11-05T00:00:00Z")),
            Cell::Timestamp(ts("2026-11-01T00:00:00Z")),
        ]]
    );
}

#[test]
fn durations_exclude_instances_missing_a_milestone() {
    let a = agg(
        &["Region"],
        &[
            "count",
            "avg:duration(Received,Shipped)",
            "max:duration(Received,Shipped)",
            "min:duration(Received,Shipped)",
        ],
    );
    let r = a.run([
        inst(
            "a",
            &[
                ("Region", Value::from("EU")),
                ("Received", tsv("2026-11-01T10:00:00Z")),
                ("Shipped", tsv("2026-11-01T12:00:00Z")),
            ],
        ),
        inst(
            "b",
            &[
                ("Region", Value::from("EU")),
                ("Received", tsv("2026-11-01T10:00:00Z")),
                ("Shipped", tsv("2026-11-02T11:00:00.000001Z")),
            ],
        ),
        // Missing Shipped: excluded, not a zero duration.
        inst(
            "c",
            &[
                ("Region", Value::from("EU")),
                ("Received", tsv("2026-11-01T10:00:00Z")),
            ],
        ),
        // Missing Received: excluded.
        inst(
            "d",
            &[
                ("Region", Value::from("EU")),
                ("Shipped", tsv("2026-11-01T10:00:00Z")),
            ],
        ),
        // Only incomplete instances: null measures.
        inst(
            "e",
            &[
                ("Region", Value::from("US")),
                ("Received", tsv("2026-11-01T10:00:00Z")),
            ],
        ),
    ]);
    let hour = 3_600_000_000;
    assert_eq!(
        cells(&r),
        vec![
            vec![
                text("EU"),
                Cell::Int(4),
                Cell::Duration((2 * hour + 25 * hour + 1) / 2),
                Cell::Duration(25 * hour + 1),
                Cell::Duration(2 * hour)
            ],
            vec![text("US"), Cell::Int(1), Cell::Null, Cell::Null, Cell::Null],
        ]
    );
}

#[test]
fn duration_avg_rounds_down_and_keeps_negative_spans() {
    let a = agg(
        &[],
        &["avg:duration(begin,Shipped)", "min:duration(begin,Shipped)"],
    );
    let r = a.run([
        inst("a", &[("Shipped", tsv("2026-10-31T23:59:59.999999Z"))]),
        inst("b", &[("Shipped", tsv("2026-11-01T00:00:00Z"))]),
    ]);
    assert_eq!(
        cells(&r),
        vec![vec![Cell::Duration(-1), Cell::Duration(-1)]]
    );
}

#[test]
fn day_buckets_split_at_utc_midnight() {
    let mut a = agg(&["Region"], &["count"]);
    a.bucket = Some((BucketUnit::Day, "Received".into()));
    let r = a.run([
        inst(
            "a",
            &[
                ("Region", Value::from("EU")),
                ("Received", tsv("2026-11-01T23:59:59.999999Z")),
            ],
        ),
        inst(
            "b",
            &[
                ("Region", Value::from("EU")),
                ("Received", tsv("2026-11-02T00:00:00Z")),
            ],
        ),
        inst(
            "c",
            &[
                ("Region", Value::from("EU")),
                ("Received", tsv("2026-11-02T00:30:00+01:00")),
            ],
        ),
        inst("d", &[("Region", Value::from("EU"))]),
    ]);
    assert_eq!(r.columns, ["Region", "day(Received)", "count"]);
    assert_eq!(
        cells(&r),
        vec![
            vec![
                text("EU"),
                Cell::Timestamp(ts("2026-11-01T00:00:00Z")),
                Cell::Int(2)
            ],
            vec![
                text("EU"),
                Cell::Timestamp(ts("2026-11-02T00:00:00Z")),
                Cell::Int(1)
            ],
            vec![text("EU"), Cell::Null, Cell::Int(1)],
        ]
    );
}

#[test]
fn week_buckets_on_end() {
    let mut a = agg(&[], &["count"]);
    a.bucket = Some((BucketUnit::Week, "end".into()));
    a.status = StatusFilter::Completed;
    let r = a.run([
        done(inst("a", &[]), "2026-11-01T23:00:00Z"),
        done(inst("b", &[]), "2026-11-02T01:00:00Z"),
        done(inst("c", &[]), "2026-11-08T23:59:59Z"),
        inst("d", &[]),
    ]);
    assert_eq!(r.columns, ["week(end)", "count"]);
    assert_eq!(
        cells(&r),
        vec![
            vec![Cell::Timestamp(ts("2026-10-26T00:00:00Z")), Cell::Int(1)],
            vec![Cell::Timestamp(ts("2026-11-02T00:00:00Z")), Cell::Int(2)],
        ]
    );
}

#[test]
fn empty_results() {
    // No grouping: one row, as in SQL.
    let a = agg(
        &[],
        &["count", "sum:Amount", "avg:duration(Received,Shipped)"],
    );
    assert_eq!(
        cells(&a.run([])),
        vec![vec![Cell::Int(0), Cell::Null, Cell::Null]]
    );
    // Grouped: no rows.
    let mut g = agg(&["Region"], &["count"]);
    assert!(g.run([]).rows.is_empty());
    g.filters.push(Filter::parse("Amount > 100000").unwrap());
    assert!(g.run(orders()).rows.is_empty());
    assert_eq!(g.run([]).to_table(), "Region  count\n------  -----\n");
}

#[test]
fn filters_status_and_time_range_apply() {
    let mut a = agg(&[], &["count"]);
    a.filters.push(Filter::parse("Amount >= 100").unwrap());
    assert_eq!(cells(&a.run(orders())), vec![vec![Cell::Int(2)]]);
    a.filters.clear();
    a.status = StatusFilter::Active;
    assert_eq!(cells(&a.run(orders())), vec![vec![Cell::Int(4)]]);
    a.status = StatusFilter::All;
    a.since = Some(ts("2026-11-01T12:00:00Z"));
    assert_eq!(cells(&a.run(orders())), vec![vec![Cell::Int(1)]]);
}

#[test]
fn group_by_several_fields_including_system_ones() {
    let a = agg(&["status", "Region"], &["count"]);
    let r = a.run(orders());
    assert_eq!(
        cells(&r),
        vec![
            vec![text("active"), text("EU"), Cell::Int(2)],
            vec![text("active"), text("US"), Cell::Int(1)],
            vec![text("active"), Cell::Null, Cell::Int(1)],
            vec![text("completed"), text("US"), Cell::Int(1)],
        ]
    );
    assert_eq!(r.rows[3].get(&r, "Region"), Some(&text("US")));
}

#[test]
fn table_and_json_forms() {
    let mut a = agg(
        &["Region"],
        &["count", "avg:Amount", "max:duration(Received,Shipped)"],
    );
    a.filters
        .push(Filter::parse("Region is not empty").unwrap());
    let mut data = orders();
    data.push(inst(
        "PO-6",
        &[
            ("Region", Value::from("EU")),
            ("Received", tsv("2026-11-01T00:00:00Z")),
            ("Shipped", tsv("2026-11-02T01:02:03.5Z")),
        ],
    ));
    let r = a.run(data);
    let table = r.to_table();
    assert_eq!(
        table,
        "Region  count  avg:Amount  max:duration(Received,Shipped)\n\
         ------  -----  ----------  ------------------------------\n\
         EU          3      200.00              1d 01:02:03.500000\n\
         US          2      -50.00                         (empty)\n"
    );
    // Floats are rounded for people, kept whole in the rows and JSON.
    let floats = AggregateResult {
        columns: vec!["x".into()],
        rows: [1956.5500000000002, 0.001234, -0.5, 0.0]
            .into_iter()
            .map(|f| AggRow {
                cells: vec![Cell::Float(f)],
            })
            .collect(),
    };
    assert_eq!(
        floats.to_table(),
        "      x\n-------\n1956.55\n0.00123\n -0.500\n   0.00\n"
    );
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(
        json,
        r#"{"columns":["Region","count","avg:Amount","max:duration(Received,Shipped)"],"rows":[["EU",3,200.0,90123500000],["US",2,-50.0,null]]}"#
    );
    let mut b = agg(&[], &["min:Received"]);
    b.bucket = Some((BucketUnit::Hour, "begin".into()));
    let json = serde_json::to_string(&b.run(orders())).unwrap();
    assert!(
        json.contains(r#"["2026-11-01T00:00:00.000000Z",null]"#),
        "{json}"
    );
}

/// Naive group key: (Region, day of Received), None sorted last.
type NaiveKey = (bool, Option<String>, bool, Option<i64>);

proptest! {
    #[test]
    fn aggregate_equals_a_naive_aggregation(
        data in arb_instances(40),
        status in prop::sample::select(vec![StatusFilter::All, StatusFilter::Active, StatusFilter::Completed]),
    ) {
        let mut a = agg(&["Region"], &[
            "count", "sum:Amount", "avg:Price", "min:Amount", "max:Received",
            "avg:duration(Received,Shipped)", "max:duration(Received,Shipped)",
        ]);
        a.bucket = Some((BucketUnit::Day, "Received".into()));
        a.status = status;
        prop_assert_eq!(a.validate(&def()), Ok(()));
        let got = a.run(data.clone());

        const DAY: i64 = 86_400_000_000;
        let mut groups: BTreeMap<NaiveKey, Vec<&ActivityInstance>> = BTreeMap::new();
        for i in &data {
            let keep = match status {
                StatusFilter::All => true,
                StatusFilter::Active => i.end.is_none(),
                StatusFilter::Completed => i.end.is_some(),
            };
            if !keep { continue; }
            let region = match i.item("Region") { Some(Value::Text(s)) => Some(s.clone()), _ => None };
            let day = match i.item("Received") { Some(Value::Timestamp(t)) => Some(t.as_micros() / DAY * DAY), _ => None };
            groups.entry((region.is_none(), region, day.is_none(), day)).or_default().push(i);
        }
        let time = |i: &ActivityInstance, n: &str| match i.item(n) { Some(Value::Timestamp(t)) => Some(t.as_micros()), _ => None };
        let mut want = Vec::new();
        for ((_, region, _, day), members) in groups {
            let amounts: Vec<i64> = members.iter().filter_map(|i| match i.item("Amount") { Some(Value::Int(n)) => Some(*n), _ => None }).collect();
            let prices: Vec<f64> = members.iter().filter_map(|i| match i.item("Price") { Some(Value::Float(x)) => Some(*x), _ => None }).collect();
            let durations: Vec<i64> = members.iter().filter_map(|i| Some(time(i, "Shipped")? - time(i, "Received")?)).collect();
            let opt = |c: Option<Cell>| c.unwrap_or(Cell::Null);
            want.push(vec![
                region.map_or(Cell::Null, Cell::Text),
                day.map_or(Cell::Null, |d| Cell::Timestamp(Timestamp::from_micros(d))),
                Cell::Int(members.len() as i64),
                opt((!amounts.is_empty()).then(|| Cell::Int(amounts.iter().sum()))),
                opt((!prices.is_empty()).then(|| Cell::Float(prices.iter().sum::<f64>() / prices.len() as f64))),
                opt(amounts.iter().min().map(|n| Cell::Int(*n))),
                opt(members.iter().filter_map(|i| time(i, "Received")).max().map(|t| Cell::Timestamp(Timestamp::from_micros(t)))),
                opt((!durations.is_empty()).then(|| Cell::Duration(durations.iter().sum::<i64>().div_euclid(durations.len() as i64)))),
                opt(durations.iter().max().map(|d| Cell::Duration(*d))),
            ]);
        }
        prop_assert_eq!(cells(&got), want);
    }
}

#[test]
fn a_having_operand_that_does_not_read_as_its_column_is_refused() {
    let d = def();
    let mut a = Aggregate::new("PurchaseOrder");
    a.group_by = vec!["Region".into()];
    a.bucket = Some((BucketUnit::Day, "Received".into()));
    a.measures = vec![
        Measure::Count,
        Measure::parse("max:Received").unwrap(),
        Measure::parse("p95:duration(Received,Shipped)").unwrap(),
    ];
    for bad in [
        "count > abc",
        "`p95:duration(Received,Shipped)` > 9d",
        "`max:Received` < yesterday",
        "`day(Received)` >= soon",
    ] {
        a.having = vec![Filter::parse(bad).unwrap()];
        let err = a.validate(&d).unwrap_err().to_string();
        assert!(err.contains("operand"), "{bad}: {err}");
    }
    for good in [
        "count >= 2.5 and Region in (EU, US)",
        "`p95:duration(Received,Shipped)` > 3600000000",
        "`max:Received` < 2026-11-01T00:00:00Z",
        "Region = `Region`",
    ] {
        a.having = vec![Filter::parse(good).unwrap()];
        assert!(a.validate(&d).is_ok(), "{good}");
    }
}

#[test]
fn a_result_column_named_twice_is_refused() {
    let d = def();
    let mut a = Aggregate::new("PurchaseOrder");
    a.group_by = vec!["Region".into(), "Region".into()];
    a.measures = vec![Measure::Count];
    let err = a.validate(&d).unwrap_err().to_string();
    assert!(err.contains("Region") && err.contains("twice"), "{err}");
    a.group_by = vec!["Region".into()];
    a.measures = vec![Measure::Count, Measure::Count];
    assert!(a.validate(&d).is_err());
    a.measures = vec![Measure::Count];
    assert!(a.validate(&d).is_ok());
}
