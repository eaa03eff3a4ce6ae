//! Tests of [`IncrementalAggregate`]: group moves, removal of the current
//! min/max, and a proptest that random sequences of inserts, changes and
//! removals always leave it equal to a full [`Aggregate::run`].

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::test_util::{arb_instance, done, inst, ts};
use super::{Aggregate, BucketUnit, Cell, Filter, IncrementalAggregate, Measure};
use crate::model::{ActivityInstance, StatusFilter, Value};

fn all_measures() -> Vec<Measure> {
    [
        "count",
        "sum:Amount",
        "avg:Amount",
        "sum:Price",
        "avg:Price",
        "min:Amount",
        "max:Amount",
        "min:Price",
        "max:Received",
        "avg:duration(Received,Shipped)",
        "min:duration(Received,Shipped)",
        "max:duration(begin,end)",
        "count_distinct:Region",
        "count_distinct:Price",
        "median:Amount",
        "p90:Price",
        "p95:duration(Received,Shipped)",
        "median:duration(begin,end)",
    ]
    .iter()
    .map(|s| Measure::parse(s).unwrap())
    .collect()
}

#[test]
fn a_changed_group_by_value_moves_the_contribution() {
    let mut a = Aggregate::new("PurchaseOrder");
    a.group_by = vec!["Region".into()];
    a.measures = vec![Measure::Count, Measure::Sum("Amount".into())];
    let mut live = IncrementalAggregate::new(a.clone());
    let v1 = inst(
        "PO-1",
        &[("Region", Value::from("EU")), ("Amount", Value::Int(5))],
    );
    let v2 = inst(
        "PO-1",
        &[("Region", Value::from("US")), ("Amount", Value::Int(5))],
    );
    let other = inst(
        "PO-2",
        &[("Region", Value::from("EU")), ("Amount", Value::Int(1))],
    );
    live.apply(None, Some(&v1));
    live.apply(None, Some(&other));
    live.apply(Some(&v1), Some(&v2));
    let r = live.result();
    assert_eq!(r, a.run([v2.clone(), other.clone()]));
    assert_eq!(r.rows.len(), 2);
    assert_eq!(
        r.rows[1].cells,
        [Cell::Text("US".into()), Cell::Int(1), Cell::Int(5)]
    );
    live.apply(Some(&v2), None);
    live.apply(Some(&other), None);
    assert!(live.result().rows.is_empty());
    assert_eq!(live.aggregate(), &a);
}

#[test]
fn removing_the_extreme_reveals_the_next_one() {
    let mut a = Aggregate::new("PurchaseOrder");
    a.measures = vec![Measure::Max("Amount".into()), Measure::Min("Amount".into())];
    let mut live = IncrementalAggregate::new(a);
    let x = |id: &str, n: i64| inst(id, &[("Amount", Value::Int(n))]);
    let (a1, a2, a3) = (x("a", 10), x("b", 30), x("c", 30));
    for i in [&a1, &a2, &a3] {
        live.apply(None, Some(i));
    }
    live.apply(Some(&a2), None);
    assert_eq!(live.result().rows[0].cells, [Cell::Int(30), Cell::Int(10)]);
    live.apply(Some(&a3), None);
    assert_eq!(live.result().rows[0].cells, [Cell::Int(10), Cell::Int(10)]);
    live.apply(Some(&a1), None);
    // No grouping: one row of nulls, as the full scan gives.
    assert_eq!(live.result().rows[0].cells, [Cell::Null, Cell::Null]);
}

#[test]
fn completion_moves_an_instance_into_a_completed_only_aggregate() {
    let mut a = Aggregate::new("PurchaseOrder");
    a.status = StatusFilter::Completed;
    a.measures = vec![Measure::Count];
    let mut live = IncrementalAggregate::new(a);
    let open = inst("PO-1", &[]);
    let closed = done(open.clone(), "2026-11-02T00:00:00Z");
    live.apply(None, Some(&open));
    assert_eq!(live.result().rows[0].cells, [Cell::Int(0)]);
    live.apply(Some(&open), Some(&closed));
    assert_eq!(live.result().rows[0].cells, [Cell::Int(1)]);
    assert_eq!(ts("2026-11-02T00:00:00Z"), closed.end.unwrap());
}

/// One step of a workload: a new version of instance `slot`, or its removal.
#[derive(Debug, Clone)]
enum Step {
    Put(ActivityInstance),
    Remove(usize),
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..6).prop_flat_map(arb_instance).prop_map(Step::Put),
        1 => (0usize..6).prop_map(Step::Remove),
    ]
}

fn arb_aggregate() -> impl Strategy<Value = Aggregate> {
    let groupings = prop::sample::select(vec![
        vec![],
        vec!["Region"],
        vec!["status"],
        vec!["Region", "Urgent"],
    ]);
    let buckets = proptest::option::of((
        prop::sample::select(vec![
            BucketUnit::Hour,
            BucketUnit::Day,
            BucketUnit::Week,
            BucketUnit::Month,
        ]),
        prop::sample::select(vec!["Received", "end", "last_modified"]),
        prop::sample::select(vec!["UTC", "Europe/Paris", "+05:30"]),
    ));
    let filters = prop::sample::select(vec![None, Some("Amount > 0"), Some("Region != EU")]);
    let statuses = prop::sample::select(vec![
        StatusFilter::All,
        StatusFilter::Active,
        StatusFilter::Completed,
    ]);
    (groupings, buckets, filters, statuses).prop_map(|(g, b, f, s)| {
        let mut a = Aggregate::new("PurchaseOrder");
        a.group_by = g.into_iter().map(String::from).collect();
        if let Some((_, _, z)) = b {
            a.zone = super::Zone::parse(z).unwrap();
        }
        a.bucket = b.map(|(u, f, _)| (u, f.to_owned()));
        a.filters = f.into_iter().map(|f| Filter::parse(f).unwrap()).collect();
        a.status = s;
        a.measures = all_measures();
        a
    })
}

proptest! {
    #[test]
    fn incremental_equals_full_recomputation(
        aggregate in arb_aggregate(),
        steps in prop::collection::vec(arb_step(), 0..60),
    ) {
        let mut live = IncrementalAggregate::new(aggregate.clone());
        let mut current: BTreeMap<String, ActivityInstance> = BTreeMap::new();
        for step in steps {
            match step {
                Step::Put(new) => {
                    let old = current.insert(new.id.clone(), new.clone());
                    live.apply(old.as_ref(), Some(&new));
                }
                Step::Remove(slot) => {
                    let old = current.remove(&format!("PO-{slot}"));
                    live.apply(old.as_ref(), None);
                }
            }
            prop_assert_eq!(live.result(), aggregate.run(current.values().cloned()));
        }
    }
}
