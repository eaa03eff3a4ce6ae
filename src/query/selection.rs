//! [`Selection`]: which instances a query covers, the part a
//! [`Search`](super::Search) and an [`Aggregate`](super::Aggregate) have in
//! common: one activity, a status, a time range and filters.

use crate::model::{ActivityDefinition, ActivityInstance, StatusFilter, Timestamp};

use super::error::QueryError;
use super::filter::Filter;

/// Which instances of one activity a query covers.
///
/// [`Search`](super::Search) and [`Aggregate`](super::Aggregate) each hold
/// one and dereference to it, so its fields read and write as theirs:
/// `search.filters.push(..)`, `agg.status = ..`.
///
/// # Time range
/// `since` and `until` bound **`last_modified`**, half-open:
/// `since <= last_modified < until`. `last_modified` is the one time every
/// instance has, active or completed, so one rule serves both; an instance
/// without it is outside any range. (To bound completion time, filter on
/// `end`.)
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The activity; instances of other activities are skipped.
    pub activity: String,
    /// Conditions, all of which must hold (each may combine conditions
    /// with `and`, `or` and `not`).
    pub filters: Vec<Filter>,
    /// Active, completed or all (default all).
    pub status: StatusFilter,
    /// Inclusive lower bound on `last_modified` (see the time range above).
    pub since: Option<Timestamp>,
    /// Exclusive upper bound on `last_modified`.
    pub until: Option<Timestamp>,
    /// Also read the retention archive: completed instances that left the
    /// online store past the retention window
    /// ([`crate::StoreOptions::retention`]). The archive is read record by
    /// record, so this costs a full read of it.
    pub include_archived: bool,
}

impl Selection {
    /// Every instance of `activity`.
    pub fn new(activity: impl Into<String>) -> Selection {
        Selection {
            activity: activity.into(),
            filters: Vec::new(),
            status: StatusFilter::All,
            since: None,
            until: None,
            include_archived: false,
        }
    }

    /// Whether `inst` is selected (activity, status, time range, filters).
    pub fn selects(&self, inst: &ActivityInstance) -> bool {
        if inst.activity != self.activity || !self.status.admits(inst.status) {
            return false;
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = inst.last_modified else {
                return false;
            };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                return false;
            }
        }
        self.filters.iter().all(|f| f.matches(inst))
    }

    /// Checks the selection against the activity's definition: the
    /// activity name, every filter field exists, and every operand reads as
    /// its field's type (`Amount > abc` and `starts with` on a number are
    /// refused).
    pub fn validate(&self, def: &ActivityDefinition) -> Result<(), QueryError> {
        if self.activity != def.name {
            return Err(QueryError::WrongActivity {
                query: self.activity.clone(),
                definition: def.name.clone(),
            });
        }
        for filter in &self.filters {
            filter.validate(def)?;
        }
        Ok(())
    }

    /// Resolves the bare words of the filters that name fields of `def`
    /// into field operands ([`Filter::resolve`]); a store query does this
    /// before it runs.
    pub fn resolve(&mut self, def: &ActivityDefinition) {
        for filter in &mut self.filters {
            filter.resolve(def);
        }
    }
}
