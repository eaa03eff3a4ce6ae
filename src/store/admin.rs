//! Operator actions on a store: dangling instances, completing or removing
//! an active instance, retention, and real-time aggregations. Each action
//! travels through the message box as a control frame, so it is applied in
//! order with the events and replayed after a crash.

use std::time::Duration;

use super::{Retention, RetentionAction, Store, StoreError};
use crate::bus;
use crate::ActivityInstance;

impl Store {
    /// Active instances not modified for longer than `idle` (by their
    /// last event timestamp), oldest first: typically instances whose
    /// continuation never ended.
    /// An error names an active run that could not be read.
    pub fn dangling(&self, idle: Duration) -> Result<Vec<ActivityInstance>, StoreError> {
        let now = crate::model::Timestamp::now().as_micros();
        let limit = i64::try_from(idle.as_micros()).unwrap_or(i64::MAX);
        let mut out: Vec<ActivityInstance> = self
            .bus
            .read_state()
            .active_instances(None)?
            .into_iter()
            .filter(|i| {
                i.last_modified
                    .is_none_or(|t| now.saturating_sub(t.as_micros()) > limit)
            })
            .collect();
        out.sort_by_key(|i| (i.last_modified, i.id.clone()));
        Ok(out)
    }

    /// Completes an active instance now, whatever parts have not ended (an
    /// operator's decision). Returns once applied.
    pub fn complete_instance(&self, activity: &str, id: &str) -> Result<(), StoreError> {
        self.admin(&bus::AdminOp::Complete {
            activity: activity.to_owned(),
            id: id.to_owned(),
            time: crate::model::Timestamp::now().as_micros(),
        })
    }

    /// Removes an active or pending instance (every part of it). Returns
    /// once applied.
    pub fn remove_instance(&self, activity: &str, id: &str) -> Result<(), StoreError> {
        self.admin(&bus::AdminOp::Remove {
            activity: activity.to_owned(),
            id: id.to_owned(),
        })
    }

    /// Applies a retention policy now (an operator's request; for a
    /// standing policy set [`StoreOptions::retention`](crate::StoreOptions::retention)): completed instances
    /// that ended longer ago than the window leave the online store,
    /// archived or dropped. Returns once done.
    pub fn apply_retention(&self, policy: Retention) -> Result<(), StoreError> {
        self.admin(&bus::AdminOp::Retain {
            window_secs: policy.online_window.as_secs(),
            drop: policy.action == RetentionAction::Drop,
        })
    }

    /// Declares (or replaces) a real-time aggregation named `name`: the bus
    /// keeps its result up to date as it imports, and
    /// [`Store::aggregation`] reads it without a scan. Durable; returns once
    /// applied.
    pub fn declare_aggregation(
        &self,
        name: &str,
        aggregate: &crate::query::Aggregate,
    ) -> Result<(), StoreError> {
        let def = self.definition(&aggregate.activity)?;
        aggregate.validate(&def)?;
        if let Some(f) = aggregate.filters.iter().find(|f| f.has_relative_time()) {
            return Err(StoreError::InvalidInput {
                reason: format!(
                    "aggregation {name}: filter `{f}` has a time relative to now, which a \
                     maintained aggregation cannot follow; write an RFC 3339 time"
                ),
            });
        }
        if let Some(m) = aggregate.measures.iter().find(|m| m.holds_values()) {
            return Err(StoreError::InvalidInput {
                reason: format!(
                    "aggregation {name}: measure `{m}` holds every value it sees, which a \
                     maintained aggregation cannot keep within bounded memory; ask it with \
                     Store::aggregate (bamdb agg) instead"
                ),
            });
        }
        if !aggregate.having.is_empty()
            || !aggregate.order_by.is_empty()
            || aggregate.limit.is_some()
        {
            return Err(StoreError::InvalidInput {
                reason: format!(
                    "aggregation {name}: having, order and limit are not kept with a real-time \
                     aggregation; declare it without them and filter, sort or cut its result"
                ),
            });
        }
        if !aggregate.zone.is_utc() {
            return Err(StoreError::InvalidInput {
                reason: format!(
                    "aggregation {name}: buckets in zone {} are not maintained in real time \
                     (only UTC); ask it with Store::aggregate (bamdb agg --tz) instead",
                    aggregate.zone
                ),
            });
        }
        // Stored as text: bare words naming fields are written as
        // `Field`, so the stored filters read back the same.
        let mut aggregate = aggregate.clone();
        aggregate.resolve(&def);
        let spec = crate::bus::aggregations::AggregationSpec::new(name, &aggregate);
        self.admin(&bus::AdminOp::Declare(spec))
    }

    /// Drops a real-time aggregation.
    pub fn drop_aggregation(&self, name: &str) -> Result<(), StoreError> {
        self.admin(&bus::AdminOp::Undeclare {
            name: name.to_owned(),
        })
    }

    /// The current result of a declared real-time aggregation (no scan).
    pub fn aggregation(&self, name: &str) -> Option<crate::query::AggregateResult> {
        self.bus
            .read_state()
            .aggregations
            .get(name)
            .map(|d| d.running.result())
    }
}
