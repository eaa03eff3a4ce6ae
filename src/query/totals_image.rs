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
            // Never in a store's totals: a real-time aggregation refuses a
            // zone other than UTC, whose buckets are these.
            Cell::ZonedTimestamp { at, .. } => CellImage::Timestamp(at.as_micros()),
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
            // Never maintained by a store: a real-time aggregation refuses
            // the measures that hold their values (`Measure::holds_values`),
            // so no image of them is written; were one, restoring would
            // reject it as totals of another kind.
            Acc::Distinct(..) | Acc::Percentile(..) | Acc::PercentileDuration(..) => {
                AccImage::Count
            }
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
#[path = "totals_image_tests.rs"]
mod tests;
