use proptest::prelude::*;

use super::*;
use crate::query::test_util::{arb_instances, inst};
use crate::query::{BucketUnit, Measure};

/// Every kind of accumulator, grouped by a key and a time bucket.
fn every_measure() -> Aggregate {
    let mut agg = Aggregate::new("PurchaseOrder");
    agg.group_by.push("Region".into());
    agg.bucket = Some((BucketUnit::Day, "Received".into()));
    for spec in [
        "count",
        "sum:Amount",
        "avg:Price",
        "sum:Price",
        "min:Amount",
        "max:Received",
        "avg:duration(Received,Shipped)",
        "min:duration(Received,Shipped)",
        "max:duration(Received,Shipped)",
    ] {
        agg.measures.push(Measure::parse(spec).unwrap());
    }
    agg
}

proptest! {
    /// A restored image answers as the original did, and goes on
    /// maintaining: removing instances (current extremes among them)
    /// and adding others ends where a full run over what is left does.
    #[test]
    fn a_restored_image_answers_and_maintains_like_the_original(
        instances in arb_instances(40),
        cut in 0usize..40,
    ) {
        let agg = every_measure();
        let cut = cut.min(instances.len());
        let mut live = IncrementalAggregate::new(agg.clone());
        for i in &instances[..cut] {
            live.apply(None, Some(i));
        }
        let bytes = postcard::to_allocvec(&live.image()).unwrap();
        let image: TotalsImage = postcard::from_bytes(&bytes).unwrap();
        let mut restored = IncrementalAggregate::restore(agg.clone(), image).unwrap();
        prop_assert_eq!(restored.result(), live.result());
        let removed = cut / 2;
        for i in &instances[..removed] {
            restored.apply(Some(i), None);
        }
        for i in &instances[cut..] {
            restored.apply(None, Some(i));
        }
        prop_assert_eq!(restored.result(), agg.run(instances[removed..].iter().cloned()));
    }
}

#[test]
fn an_image_that_does_not_fit_the_aggregation_is_refused() {
    let agg = every_measure();
    let mut live = IncrementalAggregate::new(agg.clone());
    live.apply(None, Some(&inst("PO-1", &[])));
    let image = live.image();

    let mut fewer = agg.clone();
    fewer.measures.pop();
    let err = IncrementalAggregate::restore(fewer, image.clone()).unwrap_err();
    assert!(err.contains("9 measures, the aggregation has 8"), "{err}");

    let mut no_bucket = agg.clone();
    no_bucket.bucket = None;
    let err = IncrementalAggregate::restore(no_bucket, image.clone()).unwrap_err();
    assert!(err.contains("2 key cells, the aggregation has 1"), "{err}");

    let mut swapped = agg.clone();
    swapped.measures.swap(0, 1);
    let err = IncrementalAggregate::restore(swapped, image.clone()).unwrap_err();
    assert!(err.contains("another kind of measure"), "{err}");

    let mut doubled = image.clone();
    doubled.0.push(doubled.0[0].clone());
    let err = IncrementalAggregate::restore(agg.clone(), doubled).unwrap_err();
    assert!(err.contains("a key that an earlier group has"), "{err}");

    let mut empty = image;
    empty.0[0].count = 0;
    let err = IncrementalAggregate::restore(agg, empty).unwrap_err();
    assert!(err.contains("empty group"), "{err}");
}
