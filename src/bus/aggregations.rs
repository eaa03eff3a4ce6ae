//! Real-time aggregations: declared on an activity, kept up to date by the
//! bus as it imports, read without a scan.
//!
//! A declaration travels through the message box (like a deployment), so it
//! is applied in order and replayed after a crash. Its totals are built by
//! one streaming scan when it is declared, then maintained per frame by
//! moving each changed instance's contribution from its old version to its
//! new one. Each checkpoint stores the spec with the totals as they stand
//! at its LSN, so opening a store reads them instead of scanning; the
//! frames replayed after a crash are the ones after that LSN, applied to
//! the instances as they stood there, so nothing is counted twice.

use serde::{Deserialize, Serialize};

use crate::model::StatusFilter;
use crate::query::{Aggregate, BucketUnit, Filter, IncrementalAggregate, Measure, TotalsImage};

/// The persisted form of a declared aggregation (its parts in their text
/// forms, which parse back to the same aggregation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AggregationSpec {
    pub name: String,
    pub activity: String,
    pub group_by: Vec<String>,
    pub bucket: Option<(String, String)>,
    pub measures: Vec<String>,
    pub filters: Vec<String>,
    pub status: u8,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl AggregationSpec {
    pub fn new(name: &str, agg: &Aggregate) -> AggregationSpec {
        AggregationSpec {
            name: name.to_owned(),
            activity: agg.activity.clone(),
            group_by: agg.group_by.clone(),
            bucket: agg
                .bucket
                .as_ref()
                .map(|(u, f)| (u.name().to_owned(), f.clone())),
            measures: agg.measures.iter().map(ToString::to_string).collect(),
            filters: agg.filters.iter().map(ToString::to_string).collect(),
            status: match agg.status {
                StatusFilter::Active => 0,
                StatusFilter::Completed => 1,
                StatusFilter::All => 2,
            },
            since: agg.since.map(|t| t.as_micros()),
            until: agg.until.map(|t| t.as_micros()),
        }
    }

    pub fn to_aggregate(&self) -> Result<Aggregate, String> {
        let mut agg = Aggregate::new(&self.activity);
        agg.group_by = self.group_by.clone();
        agg.bucket = match &self.bucket {
            Some((unit, field)) => Some((
                BucketUnit::parse(unit).map_err(|e| e.to_string())?,
                field.clone(),
            )),
            None => None,
        };
        agg.measures = self
            .measures
            .iter()
            .map(|m| Measure::parse(m).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        agg.filters = self
            .filters
            .iter()
            .map(|f| Filter::parse(f).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        agg.status = match self.status {
            0 => StatusFilter::Active,
            1 => StatusFilter::Completed,
            _ => StatusFilter::All,
        };
        agg.since = self.since.map(crate::model::Timestamp::from_micros);
        agg.until = self.until.map(crate::model::Timestamp::from_micros);
        Ok(agg)
    }
}

/// A declared aggregation and its running totals.
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    pub spec: AggregationSpec,
    pub running: IncrementalAggregate,
}

/// A declared aggregation as a checkpoint stores it: the spec, and the
/// totals at the checkpoint's LSN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DeclaredImage {
    pub spec: AggregationSpec,
    pub totals: TotalsImage,
}

impl Declared {
    /// The aggregation over no instances yet (the caller feeds it every
    /// instance there is, with `running.apply(None, Some(..))`).
    pub fn empty(spec: AggregationSpec) -> Result<Declared, String> {
        let running = IncrementalAggregate::new(spec.to_aggregate()?);
        Ok(Declared { spec, running })
    }

    /// The aggregation with the totals a checkpoint stored.
    pub fn restore(image: DeclaredImage) -> Result<Declared, String> {
        let aggregate = image.spec.to_aggregate()?;
        let running = IncrementalAggregate::restore(aggregate, image.totals)
            .map_err(|e| format!("aggregation {}: {e}", image.spec.name))?;
        Ok(Declared {
            spec: image.spec,
            running,
        })
    }

    /// What a checkpoint stores.
    pub fn image(&self) -> DeclaredImage {
        DeclaredImage {
            spec: self.spec.clone(),
            totals: self.running.image(),
        }
    }
}
