//! [`IncrementalAggregate`]: an [`Aggregate`] kept up to date one instance
//! version at a time, so reading it costs no scan.
//!
//! Each change of an instance is applied as (old version, new version):
//! the old version's contribution leaves its group and the new one's
//! enters its group — which moves it between groups when a group-by value,
//! its bucket, its status or a filter outcome changed. Min and max keep
//! every value with its multiplicity, so removing the current extreme
//! reveals the next one.
//!
//! The caller owns idempotence: apply each change exactly once, with the
//! exact previous version (the bus knows both when it merges an event).
//! Results equal [`Aggregate::run`] over the current versions, cell for
//! cell; float sums may differ in the last bits after removals, since
//! float addition is not associative (int sums and all other measures are
//! exact).

use std::collections::BTreeMap;

use crate::model::ActivityInstance;

use super::aggregate::Aggregate;
use super::plan::{Group, GroupKey, Plan};
use super::result::AggregateResult;

/// An aggregation maintained incrementally.
///
/// ```
/// use bamdb::model::Value;
/// use bamdb::query::{Aggregate, IncrementalAggregate, Measure};
/// use bamdb::{ActivityInstance, Status};
///
/// let order = |status: &str| ActivityInstance {
///     activity: "PurchaseOrder".into(),
///     id: "PO-1".into(),
///     status: Status::Active,
///     begin: None,
///     end: None,
///     last_modified: None,
///     items: vec![("Status".into(), Value::from(status))],
///     continuations: vec![],
///     references: vec![],
///     relationships: vec![],
/// };
/// let mut agg = Aggregate::new("PurchaseOrder");
/// agg.group_by.push("Status".into());
/// agg.measures.push(Measure::Count);
/// let mut live = IncrementalAggregate::new(agg.clone());
/// let (v1, v2) = (order("InProcess"), order("Shipped"));
/// live.apply(None, Some(&v1));
/// live.apply(Some(&v1), Some(&v2));
/// assert_eq!(live.result(), agg.run([v2]));
/// ```
#[derive(Debug, Clone)]
pub struct IncrementalAggregate {
    aggregate: Aggregate,
    plan: Plan,
    groups: BTreeMap<GroupKey, Group>,
}

impl IncrementalAggregate {
    /// An empty maintained aggregation (as over no instances).
    pub fn new(aggregate: Aggregate) -> IncrementalAggregate {
        let plan = aggregate.plan(true);
        IncrementalAggregate {
            aggregate,
            plan,
            groups: BTreeMap::new(),
        }
    }

    /// The aggregation maintained.
    pub fn aggregate(&self) -> &Aggregate {
        &self.aggregate
    }

    /// Replaces `old` by `new`: `(None, Some)` inserts, `(Some, Some)`
    /// changes, `(Some, None)` removes. Versions the aggregation does not
    /// select (other activity, status, time range, filters) contribute
    /// nothing.
    pub fn apply(&mut self, old: Option<&ActivityInstance>, new: Option<&ActivityInstance>) {
        if let Some(old) = old.filter(|i| self.aggregate.selection.selects(i)) {
            let key = self.plan.key(old);
            if let Some(group) = self.groups.get_mut(&key) {
                group.update(old, false);
                if group.count == 0 {
                    self.groups.remove(&key);
                }
            }
        }
        if let Some(new) = new.filter(|i| self.aggregate.selection.selects(i)) {
            self.groups
                .entry(self.plan.key(new))
                .or_insert_with(|| self.plan.new_group())
                .update(new, true);
        }
    }

    pub(super) fn plan(&self) -> &Plan {
        &self.plan
    }

    pub(super) fn groups(&self) -> &BTreeMap<GroupKey, Group> {
        &self.groups
    }

    pub(super) fn set_groups(&mut self, groups: BTreeMap<GroupKey, Group>) {
        self.groups = groups;
    }

    /// The current result, equal to [`Aggregate::run`] over the current
    /// versions (see the module docs about float sums).
    pub fn result(&self) -> AggregateResult {
        self.aggregate.shape(self.plan.finish(&self.groups))
    }
}
