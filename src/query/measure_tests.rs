//! Tests of [`Measure`] specs (parsing, printing, errors), of
//! [`BucketUnit::floor`], and of [`Aggregate::validate`].

use super::test_util::{def, ts};
use super::{Aggregate, BucketUnit, Filter, Measure, QueryError};
use crate::model::Timestamp;

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
        ("median:Amount", "unknown function"),
        ("sum:", "expected a field name"),
        ("sum:Amount Total", "expected a field name"),
        (
            "sum:duration(Received,Shipped)",
            "durations support avg, min and max",
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
    let msg = BucketUnit::parse("month").unwrap_err().to_string();
    assert_eq!(
        msg,
        "invalid time bucket \"month\": expected minute, hour, day or week"
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
