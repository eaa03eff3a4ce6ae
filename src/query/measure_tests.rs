//! Tests of [`Measure`] specs (parsing, printing, errors), of
//! [`BucketUnit::floor`], and of [`Aggregate::validate`].

use super::test_util::{def, inst, ts};
use super::{Aggregate, BucketUnit, Cell, Filter, Measure, QueryError};
use crate::model::{Timestamp, Value};

fn m(spec: &str) -> Measure {
    Measure::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn agg(group_by: &[&str], measures: &[&str]) -> Aggregate {
    let mut a = Aggregate::new("PurchaseOrder");
    a.group_by = group_by.iter().map(|g| (*g).to_owned()).collect();
    a.measures = measures.iter().map(|s| m(s)).collect();
    a
}

#[test]
fn measure_specs_parse_and_print() {
    let cases = [
        ("count", Measure::Count),
        ("COUNT", Measure::Count),
        ("sum:Amount", Measure::Sum("Amount".into())),
        ("Avg: Amount", Measure::Avg("Amount".into())),
        ("min:end", Measure::Min("end".into())),
        ("max:Price", Measure::Max("Price".into())),
        (
            "avg:duration(Received,Shipped)",
            Measure::AvgDuration("Received".into(), "Shipped".into()),
        ),
        (
            "max:duration( Received , Shipped )",
            Measure::MaxDuration("Received".into(), "Shipped".into()),
        ),
        (
            "min:Duration(begin,end)",
            Measure::MinDuration("begin".into(), "end".into()),
        ),
        (
            "count_distinct:Region",
            Measure::CountDistinct("Region".into()),
        ),
        ("Median:Amount", Measure::Median("Amount".into())),
        ("p95:Price", Measure::Percentile(95, "Price".into())),
        ("P0:Price", Measure::Percentile(0, "Price".into())),
        ("p100:Price", Measure::Percentile(100, "Price".into())),
        (
            "p95:duration(Received, Shipped)",
            Measure::PercentileDuration(95, "Received".into(), "Shipped".into()),
        ),
        (
            "median:duration(begin,end)",
            Measure::MedianDuration("begin".into(), "end".into()),
        ),
    ];
    for (spec, want) in cases {
        let got = m(spec);
        assert_eq!(got, want, "{spec}");
        assert_eq!(m(&got.to_string()), got, "{spec}");
    }
}

#[test]
fn measure_spec_errors_are_clear() {
    let cases = [
        ("", "expected count or FUNCTION:FIELD"),
        ("total", "expected count or FUNCTION:FIELD"),
        ("mean:Amount", "unknown function"),
        ("p101:Amount", "a percentile is pN"),
        ("p9x:Amount", "unknown function"),
        ("p:Amount", "unknown function"),
        ("sum:", "expected a field name"),
        ("sum:Amount Total", "expected a field name"),
        (
            "sum:duration(Received,Shipped)",
            "durations support avg, min, max, median and percentiles",
        ),
        ("avg:duration(Received)", "duration needs two fields"),
        ("avg:duration(Received,)", "duration fields must be names"),
    ];
    for (spec, needle) in cases {
        let msg = Measure::parse(spec).expect_err(spec).to_string();
        assert!(msg.contains(needle), "{spec}: {msg}");
        assert!(msg.contains(&format!("{spec:?}")), "{spec}: {msg}");
    }
    assert_eq!(BucketUnit::parse("Day"), Ok(BucketUnit::Day));
    assert_eq!(BucketUnit::parse("Quarter"), Ok(BucketUnit::Quarter));
    let msg = BucketUnit::parse("fortnight").unwrap_err().to_string();
    assert_eq!(
        msg,
        "invalid time bucket \"fortnight\": expected minute, hour, day, week, month, quarter or year"
    );
}

#[test]
fn validate_checks_fields_and_types() {
    let mut ok = agg(
        &["Region", "status", "Urgent"],
        &[
            "count",
            "sum:Amount",
            "avg:Price",
            "max:Received",
            "min:end",
            "avg:duration(begin,Shipped)",
        ],
    );
    ok.bucket = Some((BucketUnit::Week, "last_modified".into()));
    ok.filters.push(Filter::parse("Amount > 3").unwrap());
    assert_eq!(ok.validate(&def()), Ok(()));

    let cases: Vec<(Aggregate, &str)> = vec![
        (agg(&["Colour"], &[]), "unknown group-by field \"Colour\""),
        (
            agg(&[], &["sum:Region"]),
            "measure `sum:Region`: Region is text, not a number",
        ),
        (
            agg(&[], &["max:Urgent"]),
            "Urgent is bool, not a number or timestamp",
        ),
        (
            agg(&[], &["avg:duration(Received,Amount)"]),
            "Amount is int, not a timestamp",
        ),
        (agg(&[], &["sum:Nope"]), "unknown measure field \"Nope\""),
        (
            {
                let mut a = agg(&[], &[]);
                a.bucket = Some((BucketUnit::Day, "Amount".into()));
                a
            },
            "bucket `day(Amount)`: Amount is int, not a timestamp",
        ),
        (
            {
                let mut a = agg(&[], &[]);
                a.bucket = Some((BucketUnit::Day, "When".into()));
                a
            },
            "unknown bucket field \"When\"",
        ),
        (
            {
                let mut a = agg(&[], &[]);
                a.filters.push(Filter::parse("Amount > x").unwrap());
                a
            },
            "not a number",
        ),
    ];
    for (a, needle) in cases {
        let msg = a.validate(&def()).expect_err(needle).to_string();
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
    let err = Aggregate::new("Invoice").validate(&def()).unwrap_err();
    assert!(matches!(err, QueryError::WrongActivity { .. }));
}

#[test]
fn bucket_floors_for_each_unit() {
    let t = ts("2026-11-04T13:47:12.5Z"); // a Wednesday
    assert_eq!(BucketUnit::Minute.floor(t), ts("2026-11-04T13:47:00Z"));
    assert_eq!(BucketUnit::Hour.floor(t), ts("2026-11-04T13:00:00Z"));
    assert_eq!(BucketUnit::Day.floor(t), ts("2026-11-04T00:00:00Z"));
    assert_eq!(BucketUnit::Week.floor(t), ts("2026-11-02T00:00:00Z"));
    // ISO weeks start on Monday: Sunday night and Monday morning differ.
    assert_eq!(
        BucketUnit::Week.floor(ts("2026-11-01T23:59:59Z")),
        ts("2026-10-26T00:00:00Z")
    );
    assert_eq!(
        BucketUnit::Week.floor(ts("2026-11-02T00:00:00Z")),
        ts("2026-11-02T00:00:00Z")
    );
    // Before the epoch and at the limits, nothing panics.
    assert_eq!(
        BucketUnit::Week.floor(ts("1969-12-31T12:00:00Z")),
        ts("1969-12-29T00:00:00Z")
    );
    assert_eq!(
        BucketUnit::Day.floor(ts("1969-12-31T12:00:00Z")),
        ts("1969-12-31T00:00:00Z")
    );
    assert_eq!(
        BucketUnit::Week.floor(Timestamp::from_micros(i64::MIN)),
        Timestamp::from_micros(i64::MIN)
    );
    let _ = BucketUnit::Minute.floor(Timestamp::from_micros(i64::MAX));
}

#[test]
fn merged_accumulators_equal_one_over_all_instances() {
    use super::test_util::inst;
    use crate::model::Value;
    let instances: Vec<_> = (0..12)
        .map(|i| {
            inst(
                &format!("PO-{i}"),
                &[
                    ("Amount", Value::Float(f64::from(i % 5) * 0.5)),
                    ("Quantity", Value::Int(i64::from(i % 3))),
                    (
                        "Received",
                        Value::Timestamp(Timestamp::from_micros(i64::from(i))),
                    ),
                    (
                        "Shipped",
                        Value::Timestamp(Timestamp::from_micros(i64::from(i * i))),
                    ),
                ],
            )
        })
        .collect();
    let specs = [
        "sum:Amount",
        "avg:Quantity",
        "min:Amount",
        "max:Quantity",
        "avg:duration(Received,Shipped)",
        "min:duration(Received,Shipped)",
        "max:duration(Received,Shipped)",
        "count_distinct:Amount",
        "median:Quantity",
        "p90:Amount",
        "p95:duration(Received,Shipped)",
    ];
    for spec in specs {
        for removable in [false, true] {
            let measure = m(spec);
            let mut whole = measure.accumulator(removable);
            let (mut left, mut right) = (
                measure.accumulator(removable),
                measure.accumulator(removable),
            );
            for (i, x) in instances.iter().enumerate() {
                whole.update(x, true);
                if i % 3 == 0 { &mut left } else { &mut right }.update(x, true);
            }
            left.merge(&right);
            assert_eq!(
                left.result(12),
                whole.result(12),
                "{spec}, removable {removable}"
            );
        }
    }
}

/// One cell of a one-group aggregation of `measure` over `data`.
fn only(measure: &str, data: Vec<crate::ActivityInstance>) -> Cell {
    let r = agg(&[], &[measure]).run(data);
    r.rows[0].cells[0].clone()
}

fn amounts(values: &[i64]) -> Vec<crate::ActivityInstance> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| inst(&format!("PO-{i}"), &[("Amount", Value::Int(*v))]))
        .collect()
}

fn prices(values: &[f64]) -> Vec<crate::ActivityInstance> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| inst(&format!("PO-{i}"), &[("Price", Value::Float(*v))]))
        .collect()
}

/// Instances whose Shipped - Received is each of `micros` (and one
/// without Shipped, left out).
fn durations(micros: &[i64]) -> Vec<crate::ActivityInstance> {
    let base = ts("2026-11-01T00:00:00Z").as_micros();
    let mut out: Vec<_> = micros
        .iter()
        .enumerate()
        .map(|(i, d)| {
            inst(
                &format!("PO-{i}"),
                &[
                    ("Received", Value::Timestamp(Timestamp::from_micros(base))),
                    (
                        "Shipped",
                        Value::Timestamp(Timestamp::from_micros(base + d)),
                    ),
                ],
            )
        })
        .collect();
    out.push(inst(
        "PO-x",
        &[("Received", Value::Timestamp(Timestamp::from_micros(base)))],
    ));
    out
}

#[test]
fn percentiles_interpolate_between_the_closest_ranks() {
    // Sorted: 1 2 3 4 10 (given shuffled). pos = q * 4.
    let data = || amounts(&[10, 3, 1, 4, 2]);
    assert_eq!(only("median:Amount", data()), Cell::Float(3.0));
    assert_eq!(only("p50:Amount", data()), Cell::Float(3.0));
    assert_eq!(only("p0:Amount", data()), Cell::Float(1.0));
    assert_eq!(only("p100:Amount", data()), Cell::Float(10.0));
    // pos 3.6: 4 + (10 - 4) * 0.6
    assert_eq!(
        only("p90:Amount", data()),
        Cell::Float(4.0 + 6.0 * (0.9 * 4.0 - 3.0))
    );
    // An even count: the median is the mean of the middle two.
    assert_eq!(
        only("median:Amount", amounts(&[1, 2, 3, 4])),
        Cell::Float(2.5)
    );
    // One value: every percentile is it.
    assert_eq!(only("p99:Amount", amounts(&[-7])), Cell::Float(-7.0));
    // Negative numbers and extremes: no overflow in the difference.
    assert_eq!(only("median:Amount", amounts(&[-5, -1])), Cell::Float(-3.0));
    let wide = only("median:Amount", amounts(&[i64::MIN, i64::MAX]));
    assert_eq!(wide, Cell::Float(0.0));
    // Floats, as numpy.percentile(..., method="linear").
    let p = only("p95:Price", prices(&[0.5, -1.25, 3.0, 2.0, 10.0, 7.5]));
    // sorted -1.25 0.5 2 3 7.5 10; pos = 0.95 * 5 = 4.75
    assert_eq!(p, Cell::Float(7.5 + (10.0 - 7.5) * (0.95 * 5.0 - 4.0)));
    assert_eq!(only("median:Price", prices(&[-0.0, 0.0])), Cell::Float(0.0));
}

#[test]
fn percentiles_of_nothing_are_null() {
    assert_eq!(only("median:Amount", vec![]), Cell::Null);
    assert_eq!(only("p95:Price", amounts(&[1, 2])), Cell::Null);
    assert_eq!(
        only("p95:duration(Received,Shipped)", durations(&[])),
        Cell::Null
    );
    assert_eq!(only("count_distinct:Region", amounts(&[1])), Cell::Int(0));
}

#[test]
fn duration_percentiles_round_to_the_microsecond() {
    // Sorted 0 1 2 3: the median lies between 1 and 2, at 1.5: a tie,
    // rounded to the later.
    let d = only(
        "median:duration(Received,Shipped)",
        durations(&[3, 0, 2, 1]),
    );
    assert_eq!(d, Cell::Duration(2));
    // Negative durations (shipped before received) count as they are:
    // sorted -10 -4; pos 0.9: -10 + 6 * 0.9 = -4.6 → -5.
    let d = only("p90:duration(Received,Shipped)", durations(&[-4, -10]));
    assert_eq!(d, Cell::Duration(-5));
    // pos = 0.95 * 19 = 18.05 over 0, 1h, .., 19h: 18h + 3 min.
    const HOUR: i64 = 3_600_000_000;
    let hours: Vec<i64> = (0..20).rev().map(|h| h * HOUR).collect();
    let d = only("p95:duration(Received,Shipped)", durations(&hours));
    assert_eq!(d, Cell::Duration(18 * HOUR + 3 * 60_000_000));
}

#[test]
fn count_distinct_counts_values_exactly() {
    let regions = ["EU", "eu", "Eu", "EU", "Ärzte", "ärzte", "Ärzte", ""];
    let mut data: Vec<_> = regions
        .iter()
        .enumerate()
        .map(|(i, r)| inst(&format!("PO-{i}"), &[("Region", Value::from(*r))]))
        .collect();
    data.push(inst("PO-unset", &[]));
    // Case and accents count; the empty text is a value; unset is not.
    assert_eq!(only("count_distinct:Region", data.clone()), Cell::Int(6));
    assert_eq!(only("count_distinct:id", data.clone()), Cell::Int(9));
    assert_eq!(only("count_distinct:status", data), Cell::Int(1));
    assert_eq!(
        only("count_distinct:Price", prices(&[-0.0, 0.0, 0.5])),
        Cell::Int(2)
    );
    assert_eq!(
        only("count_distinct:Amount", amounts(&[-1, 1, -1])),
        Cell::Int(2)
    );
}

#[test]
fn holding_measures_validate_their_types() {
    let d = def();
    assert_eq!(agg(&[], &["count_distinct:Urgent"]).validate(&d), Ok(()));
    assert_eq!(agg(&[], &["count_distinct:Received"]).validate(&d), Ok(()));
    for bad in [
        "median:Region",
        "p95:Received",
        "p90:duration(Amount,Shipped)",
    ] {
        let err = agg(&[], &[bad]).validate(&d).unwrap_err();
        assert!(
            matches!(err, QueryError::TypeMismatch { .. }),
            "{bad}: {err}"
        );
    }
    let err = agg(&[], &["count_distinct:Nope"]).validate(&d).unwrap_err();
    assert!(matches!(err, QueryError::UnknownField { .. }), "{err}");
    assert!(Measure::parse("p95:Amount").unwrap().holds_values());
    assert!(!Measure::parse("max:Amount").unwrap().holds_values());
}

#[test]
fn a_query_holding_too_many_values_is_refused() {
    let mut a = agg(&[], &["count", "p95:Amount", "count_distinct:Region"]);
    a.group_by.push("Region".into());
    let data = amounts(&[1, 2, 3]);
    // Two holding measures, three instances: six values.
    let mut run = a.start_with_cap(6);
    run.add_rows(data.clone());
    assert!(run.finish().is_ok());
    let mut run = a.start_with_cap(5);
    run.add_rows(data);
    let err = run.finish().unwrap_err();
    assert!(
        matches!(err, QueryError::TooManyValues { limit: 5, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("p95:Amount, count_distinct:Region"), "{msg}");
    assert!(msg.contains("--where"), "{msg}");
    // Without holding measures there is no cap.
    let counting = agg(&[], &["count"]);
    let mut run = counting.start_with_cap(0);
    run.add_rows(amounts(&[1, 2]));
    assert!(run.finish().is_ok());
}
