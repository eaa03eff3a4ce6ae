//! Real-time aggregations: declared on an activity, kept up to date by the
//! bus as it imports, read without a scan.
//!
//! A declaration travels through the message box (like a deployment), so it
//! is applied in order and replayed after a crash. The spec is checkpointed;
//! the running totals are not: they are rebuilt by one scan when the store
//! opens and when the aggregation is declared, then maintained per frame by
//! moving each changed instance's contribution from its old version to its
//! new one. A replay after a crash therefore never counts anything twice.

use serde::{Deserialize, Serialize};

use crate::model::{ActivityInstance, StatusFilter};
use crate::query::{Aggregate, BucketUnit, Filter, IncrementalAggregate, Measure};

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

impl Declared {
    /// Builds the totals from every instance given.
    pub fn build(
        spec: AggregationSpec,
        instances: impl IntoIterator<Item = ActivityInstance>,
    ) -> Result<Declared, String> {
        let mut running = IncrementalAggregate::new(spec.to_aggregate()?);
        for i in instances {
            running.apply(None, Some(&i));
        }
        Ok(Declared { spec, running })
    }
}
