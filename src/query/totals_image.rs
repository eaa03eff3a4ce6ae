//! [`TotalsImage`]: the persisted form of an [`IncrementalAggregate`]'s
//! groups, which a checkpoint stores so that opening a store does not
//! rebuild each declared real-time aggregation by scanning every instance
//! (layout: `docs/FORMAT.md`, "Checkpoint").
//!
//! The image holds state only: each group's key cells, its instance count
//! and each accumulator's running totals. What the accumulators compute
//! (their fields) comes from the aggregation's spec, which the checkpoint
//! stores beside it; restoring checks that the two agree (number of key
//! cells and measures, each accumulator's kind) and refuses an image that
//! does not, so a damaged or mismatched image is reported, never trusted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Timestamp;

use super::aggregate::Aggregate;
use super::cell::{Cell, OrdCell};
use super::exact_sum::ExactSum;
use super::incremental::IncrementalAggregate;
use super::measure::{Acc, Extreme, NumSum};

/// The groups of a maintained aggregation, in key order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TotalsImage(Vec<GroupImage>);

/// One group: its key, how many instances it holds, and each measure's
/// running totals in measure order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct GroupImage {
    key: Vec<CellImage>,
    count: u64,
    accs: Vec<AccImage>,
}

/// A [`Cell`] in its persisted form (timestamps in microseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum CellImage {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(i64),
    Duration(i64),
    Null,
}

/// One accumulator's running totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum AccImage {
    Count,
    /// A sum or an average: ints and floats counted apart; the float
    /// total as the exact sum's limbs.
    Sum {
        ints: u64,
        int_sum: i128,
        floats: u64,
        float_limbs: Option<Vec<u64>>,
    },
    /// A min or max: every value with its multiplicity.
    Extreme(Vec<(CellImage, u64)>),
    /// An average duration: how many, and their total in microseconds.
    AvgDuration {
        n: u64,
        sum: i128,
    },
}

impl IncrementalAggregate {
    /// The image of the current groups.
    pub(crate) fn image(&self) -> TotalsImage {
        TotalsImage(
            self.groups()
                .iter()
                .map(|(key, group)| GroupImage {
                    key: key.iter().map(|c| CellImage::of(&c.0)).collect(),
                    count: group.count,
                    accs: group.accs().iter().map(Acc::image).collect(),
                })
                .collect(),
        )
    }

    /// The maintained aggregation whose groups `image` holds; an error
    /// names what does not fit the aggregation's plan.
    pub(crate) fn restore(
        aggregate: Aggregate,
        image: TotalsImage,
    ) -> Result<IncrementalAggregate, String> {
        let mut restored = IncrementalAggregate::new(aggregate);
        let key_len =
            restored.plan().group_by.len() + usize::from(restored.plan().bucket.is_some());
        let mut groups = BTreeMap::new();
        for (at, g) in image.0.into_iter().enumerate() {
            let err = |what: &str| format!("group {at}: {what}");
            if g.key.len() != key_len {
                return Err(err(&format!(
                    "{} key cells, the aggregation has {key_len}",
                    g.key.len()
                )));
            }
            if g.count == 0 {
                return Err(err("an empty group (empty groups are dropped)"));
            }
            let mut group = restored.plan().new_group();
            if g.accs.len() != group.accs().len() {
                return Err(err(&format!(
                    "{} measures, the aggregation has {}",
                    g.accs.len(),
                    group.accs().len()
                )));
            }
            group.count = g.count;
            for (i, (acc, img)) in group.accs_mut().iter_mut().zip(g.accs).enumerate() {
                acc.restore(img)
                    .map_err(|why| err(&format!("measure {i}: {why}")))?;
            }
            let key = g.key.into_iter().map(|c| OrdCell(c.cell())).collect();
            if groups.insert(key, group).is_some() {
                return Err(err("a key that an earlier group has"));
            }
        }
        restored.set_groups(groups);
        Ok(restored)
    }
}

impl CellImage {
    fn of(cell: &Cell) -> CellImage {
        match cell {
            Cell::Text(s) => CellImage::Text(s.clone()),
            Cell::Int(i) => CellImage::Int(*i),
            Cell::Float(x) => CellImage::Float(*x),
            Cell::Bool(b) => CellImage::Bool(*b),
            Cell::Timestamp(t) => CellImage::Timestamp(t.as_micros()),
            Cell::Duration(d) => CellImage::Duration(*d),
            Cell::Null => CellImage::Null,
        }
    }

    fn cell(self) -> Cell {
        match self {
            CellImage::Text(s) => Cell::Text(s),
            CellImage::Int(i) => Cell::Int(i),
            CellImage::Float(x) => Cell::Float(x),
            CellImage::Bool(b) => Cell::Bool(b),
            CellImage::Timestamp(t) => Cell::Timestamp(Timestamp::from_micros(t)),
            CellImage::Duration(d) => Cell::Duration(d),
            CellImage::Null => Cell::Null,
        }
    }
}

impl Acc {
    fn image(&self) -> AccImage {
        match self {
            Acc::Count => AccImage::Count,
            Acc::Sum(_, s) | Acc::Avg(_, s) => AccImage::Sum {
                ints: s.ints,
                int_sum: s.int_sum,
                floats: s.floats,
                float_limbs: s.float_sum.as_ref().map(ExactSum::limbs),
            },
            Acc::Min(_, e)
            | Acc::Max(_, e)
            | Acc::MinDuration(_, _, e)
            | Acc::MaxDuration(_, _, e) => AccImage::Extreme(match e {
                Extreme::Running(cur) => cur.iter().map(|c| (CellImage::of(&c.0), 1)).collect(),
                Extreme::Counted(map) => {
                    map.iter().map(|(c, n)| (CellImage::of(&c.0), *n)).collect()
                }
            }),
            Acc::AvgDuration(_, _, n, sum) => AccImage::AvgDuration { n: *n, sum: *sum },
        }
    }

    /// Sets the running totals from `image`, which must be of this
    /// accumulator's kind.
    fn restore(&mut self, image: AccImage) -> Result<(), String> {
        match (self, image) {
            (Acc::Count, AccImage::Count) => Ok(()),
            (
                Acc::Sum(_, s) | Acc::Avg(_, s),
                AccImage::Sum {
                    ints,
                    int_sum,
                    floats,
                    float_limbs,
                },
            ) => {
                if (floats == 0) != float_limbs.is_none() {
                    return Err("a float total without floats, or floats without one".into());
                }
                *s = NumSum {
                    ints,
                    int_sum,
                    floats,
                    float_sum: float_limbs.map(ExactSum::from_limbs).transpose()?,
                };
                Ok(())
            }
            (
                Acc::Min(_, e)
                | Acc::Max(_, e)
                | Acc::MinDuration(_, _, e)
                | Acc::MaxDuration(_, _, e),
                AccImage::Extreme(values),
            ) => {
                let mut map = BTreeMap::new();
                for (cell, n) in values {
                    if n == 0 || map.insert(OrdCell(cell.cell()), n).is_some() {
                        return Err("a value counted twice or zero times".into());
                    }
                }
                *e = Extreme::Counted(map);
                Ok(())
            }
            (Acc::AvgDuration(_, _, n, sum), AccImage::AvgDuration { n: n2, sum: sum2 }) => {
                (*n, *sum) = (n2, sum2);
                Ok(())
            }
            (_, image) => Err(format!("totals of another kind of measure: {image:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
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
}
