//! Tests of [`Search`]: selection, order, limit, columns, JSON rows,
//! validation messages, and an oracle proptest against a naive search.

use proptest::prelude::*;

use super::test_util::{arb_instances, def, done, inst, ts, BASE};
use super::{Filter, QueryError, Search};
use crate::model::{ActivityInstance, Status, StatusFilter, Timestamp, Value};

fn ids(rows: &[super::Row]) -> Vec<String> {
    rows.iter()
        .map(|r| match r.get("id") {
            Some(Value::Text(s)) => s.clone(),
            other => panic!("no id: {other:?}"),
        })
        .collect()
}

fn sample() -> Vec<ActivityInstance> {
    vec![
        inst("PO-9", &[("Region", Value::from("EU"))]),
        done(
            inst("PO-3", &[("Amount", Value::Int(10))]),
            "2026-11-02T00:00:00Z",
        ),
        done(
            inst("PO-2", &[("Amount", Value::Int(20))]),
            "2026-11-02T00:00:00Z",
        ),
        done(inst("PO-1", &[]), "2026-11-03T00:00:00Z"),
        inst("PO-4", &[]),
    ]
}

#[test]
fn orders_by_end_then_id_with_active_last() {
    let want = ["PO-2", "PO-3", "PO-1", "PO-4", "PO-9"];
    let mut data = sample();
    let search = Search::new("PurchaseOrder");
    assert_eq!(ids(&search.run(data.clone())), want);
    data.reverse();
    assert_eq!(ids(&search.run(data.clone())), want);
    data.rotate_left(2);
    assert_eq!(ids(&search.run(data)), want);
}

#[test]
fn limit_keeps_the_first_in_order() {
    let mut search = Search::new("PurchaseOrder");
    search.limit = Some(2);
    assert_eq!(ids(&search.run(sample())), ["PO-2", "PO-3"]);
    search.limit = Some(0);
    assert!(search.run(sample()).is_empty());
    search.limit = Some(100);
    assert_eq!(search.run(sample()).len(), 5);
}

#[test]
fn status_filter_and_other_activities() {
    let mut data = sample();
    let mut other = inst("X-1", &[]);
    other.activity = "Invoice".into();
    data.push(other);
    let mut search = Search::new("PurchaseOrder");
    assert_eq!(search.run(data.clone()).len(), 5);
    search.status = StatusFilter::Active;
    assert_eq!(ids(&search.run(data.clone())), ["PO-4", "PO-9"]);
    search.status = StatusFilter::Completed;
    assert_eq!(ids(&search.run(data.clone())), ["PO-2", "PO-3", "PO-1"]);
    assert_eq!(StatusFilter::default(), StatusFilter::All);
    assert!(Search::new("Nothing").run(data).is_empty());
}

#[test]
fn time_range_is_half_open_on_last_modified() {
    let mut search = Search::new("PurchaseOrder");
    search.since = Some(ts("2026-11-02T00:00:00Z"));
    search.until = Some(ts("2026-11-03T00:00:00Z"));
    assert_eq!(ids(&search.run(sample())), ["PO-2", "PO-3"]);
    search.until = None;
    assert_eq!(ids(&search.run(sample())), ["PO-2", "PO-3", "PO-1"]);
    let mut unmodified = inst("PO-5", &[]);
    unmodified.last_modified = None;
    search.since = Some(Timestamp::MIN);
    assert!(search.run([unmodified.clone()]).is_empty());
    search.since = None;
    assert_eq!(search.run([unmodified]).len(), 1);
}

#[test]
fn filters_all_must_hold() {
    let mut search = Search::new("PurchaseOrder");
    search.filters = vec![
        Filter::parse("Amount > 5").unwrap(),
        Filter::parse("Amount < 15").unwrap(),
    ];
    assert_eq!(ids(&search.run(sample())), ["PO-3"]);
    search
        .filters
        .push(Filter::parse("status = active").unwrap());
    assert!(search.run(sample()).is_empty());
}

#[test]
fn default_rows_hold_system_fields_then_set_items_as_json() {
    let rows = Search::new("PurchaseOrder").run([done(
        inst(
            "PO-1",
            &[("Region", Value::from("EU")), ("Amount", Value::Int(7))],
        ),
        "2026-11-02T00:00:00Z",
    )]);
    let json = serde_json::to_string(&rows[0]).unwrap();
    assert_eq!(
        json,
        r#"{"id":"PO-1","status":"completed","begin":"2026-11-01T00:00:00.000000Z","end":"2026-11-02T00:00:00.000000Z","last_modified":"2026-11-02T00:00:00.000000Z","Region":"EU","Amount":7}"#
    );
    let active = Search::new("PurchaseOrder").run([inst("PO-2", &[])]);
    let json = serde_json::to_value(&active[0]).unwrap();
    assert_eq!(json["end"], serde_json::Value::Null);
    assert_eq!(json["status"], "active");
}

#[test]
fn chosen_columns_in_order_with_nulls() {
    let mut search = Search::new("PurchaseOrder");
    search.columns = Some(vec![
        "Amount".into(),
        "id".into(),
        "Region".into(),
        "status".into(),
    ]);
    let rows = search.run(sample());
    assert_eq!(
        rows[0].columns().collect::<Vec<_>>(),
        ["Amount", "id", "Region", "status"]
    );
    assert_eq!(
        serde_json::to_string(&rows[0]).unwrap(),
        r#"{"Amount":20,"id":"PO-2","Region":null,"status":"completed"}"#
    );
    assert_eq!(rows[4].get("Region"), Some(&Value::from("EU")));
    assert_eq!(rows[4].get("Amount"), None);
    assert_eq!(rows[4].get("begin"), None);
}

#[test]
fn validate_accepts_good_queries() {
    let mut search = Search::new("PurchaseOrder");
    for expr in [
        "Amount > 5",
        "Amount > 5.5",
        "Price <= 3",
        "Region starts with E",
        "id starts with PO",
        "status = completed",
        "Urgent = false",
        "Received >= 2026-11-01T00:00:00+01:00",
        "Shipped is empty",
        "end is not empty",
    ] {
        search.filters = vec![Filter::parse(expr).unwrap()];
        assert_eq!(search.validate(&def()), Ok(()), "{expr}");
    }
    search.columns = Some(vec!["id".into(), "last_modified".into(), "Price".into()]);
    assert_eq!(search.validate(&def()), Ok(()));
}

#[test]
fn validate_explains_what_is_wrong() {
    let cases = [
        (
            "Amount > abc",
            "condition `Amount > abc`: operand \"abc\" is not a number (Amount is int)",
        ),
        (
            "Price = x1",
            "operand \"x1\" is not a number (Price is float)",
        ),
        (
            "Amount starts with 5",
            "`starts with` compares text with a text operand, and Amount is int",
        ),
        (
            "end starts with 2026",
            "`starts with` compares text with a text operand, and end is timestamp",
        ),
        ("Received > monday", "is not a time: write RFC 3339"),
        (
            "status = running",
            "status is active or completed, not \"running\"",
        ),
        ("status > active", "only supports =, !=, in and not in"),
        ("Urgent = yes", "is not true or false"),
        (
            "Colour = red",
            "unknown filter field \"Colour\": activity PurchaseOrder has no such item",
        ),
        ("Status = x", "unknown filter field \"Status\""),
    ];
    for (expr, needle) in cases {
        let mut search = Search::new("PurchaseOrder");
        search.filters = vec![Filter::parse(expr).unwrap()];
        let msg = search.validate(&def()).expect_err(expr).to_string();
        assert!(msg.contains(needle), "{expr}: {msg}");
    }
    let mut search = Search::new("PurchaseOrder");
    search.columns = Some(vec!["id".into(), "Colour".into()]);
    let msg = search.validate(&def()).unwrap_err().to_string();
    assert!(msg.starts_with("unknown column \"Colour\""), "{msg}");
    search.columns = Some(vec!["id".into(), "Region".into(), "id".into()]);
    let msg = search.validate(&def()).unwrap_err().to_string();
    assert_eq!(msg, "column \"id\" is chosen twice");
    let err = Search::new("Invoice").validate(&def()).unwrap_err();
    assert!(matches!(err, QueryError::WrongActivity { .. }), "{err}");
}

/// One generated filter: field, operator, operand.
fn arb_filter() -> impl Strategy<Value = (String, String, String)> {
    let ops = prop::sample::select(vec!["=", "!=", ">", ">=", "<", "<="]);
    let region = (
        prop::sample::select(vec!["=", "!=", ">", "<", "starts with"]),
        prop::sample::select(vec!["EU", "US", "E", "APAC"]),
    )
        .prop_map(|(o, v)| ("Region".to_owned(), o.to_owned(), v.to_owned()));
    let amount = (ops.clone(), -1000i32..1000, any::<bool>()).prop_map(|(o, v, half)| {
        let v = if half {
            format!("{v}.5")
        } else {
            v.to_string()
        };
        ("Amount".to_owned(), o.to_owned(), v)
    });
    let price = (ops.clone(), -4000i32..4000).prop_map(|(o, v)| {
        (
            "Price".to_owned(),
            o.to_owned(),
            (f64::from(v) / 8.0).to_string(),
        )
    });
    let time = (
        ops,
        prop::sample::select(vec!["Received", "Shipped", "end", "begin", "last_modified"]),
        -4320i64..4320,
    )
        .prop_map(|(o, f, m)| {
            let t = Timestamp::from_micros(BASE + m * 60_000_000);
            (f.to_owned(), o.to_owned(), t.to_string())
        });
    let empty = (
        prop::sample::select(vec!["is empty", "is not empty"]),
        prop::sample::select(vec!["Region", "Amount", "Shipped", "end"]),
    )
        .prop_map(|(o, f)| (f.to_owned(), o.to_owned(), String::new()));
    let status = (
        prop::sample::select(vec!["=", "!="]),
        prop::sample::select(vec!["active", "completed"]),
    )
        .prop_map(|(o, v)| ("status".to_owned(), o.to_owned(), v.to_owned()));
    prop_oneof![region, amount, price, time, empty, status]
}

/// The naive reading of one filter, written for the generated domain only:
/// numbers as f64 (exact here), times as micros, text as strings.
fn naive_matches(i: &ActivityInstance, (field, op, operand): &(String, String, String)) -> bool {
    #[derive(PartialEq, PartialOrd)]
    enum V {
        N(f64),
        S(String),
    }
    let value = match field.as_str() {
        "status" => Some(V::S(
            if i.status == Status::Active {
                "active"
            } else {
                "completed"
            }
            .into(),
        )),
        "begin" => i.begin.map(|t| V::N(t.as_micros() as f64)),
        "end" => i.end.map(|t| V::N(t.as_micros() as f64)),
        "last_modified" => i.last_modified.map(|t| V::N(t.as_micros() as f64)),
        item => i.item(item).map(|v| match v {
            Value::Text(s) => V::S(s.clone()),
            Value::Int(n) => V::N(*n as f64),
            Value::Float(x) => V::N(*x),
            Value::Timestamp(t) => V::N(t.as_micros() as f64),
            Value::Bool(_) => unreachable!("no bool filters generated"),
        }),
    };
    let Some(value) = value else {
        return op == "is empty";
    };
    if op.starts_with("is ") {
        return op == "is not empty";
    }
    let operand = match &value {
        V::S(_) => V::S(operand.clone()),
        V::N(_) => V::N(
            Timestamp::parse_rfc3339(operand)
                .map(|t| t.as_micros() as f64)
                .unwrap_or_else(|_| operand.parse().unwrap()),
        ),
    };
    match op.as_str() {
        "is empty" => false,
        "is not empty" => true,
        "=" => value == operand,
        "!=" => value != operand,
        ">" => value > operand,
        ">=" => value >= operand,
        "<" => value < operand,
        "<=" => value <= operand,
        "starts with" => {
            matches!((&value, &operand), (V::S(a), V::S(b)) if a.starts_with(b.as_str()))
        }
        other => unreachable!("{other}"),
    }
}

proptest! {
    #[test]
    fn search_equals_a_naive_search(
        data in arb_instances(40),
        filters in prop::collection::vec(arb_filter(), 0..3),
        limit in proptest::option::of(0usize..10),
        status in prop::sample::select(vec![StatusFilter::All, StatusFilter::Active, StatusFilter::Completed]),
    ) {
        let mut search = Search::new("PurchaseOrder");
        search.status = status;
        search.limit = limit;
        search.columns = Some(vec!["id".into()]);
        for (field, op, operand) in &filters {
            let filter = Filter::parse(&format!("{field} {op} {operand}")).unwrap();
            search.filters.push(filter);
            prop_assert_eq!(search.validate(&def()), Ok(()));
        }
        let got = ids(&search.run(data.clone()));

        let hits = data.iter().filter(|i| match status {
            StatusFilter::All => true,
            StatusFilter::Active => i.status == Status::Active,
            StatusFilter::Completed => i.status == Status::Completed,
        }).filter(|i| filters.iter().all(|f| naive_matches(i, f)));
        let (mut completed, mut active): (Vec<_>, Vec<_>) = hits.partition(|i| i.end.is_some());
        completed.sort_by(|a, b| (a.end, &a.id).cmp(&(b.end, &b.id)));
        active.sort_by(|a, b| a.id.cmp(&b.id));
        let mut want: Vec<String> = completed.into_iter().chain(active).map(|i| i.id.clone()).collect();
        if let Some(l) = limit {
            want.truncate(l);
        }
        prop_assert_eq!(got, want);
    }
}
