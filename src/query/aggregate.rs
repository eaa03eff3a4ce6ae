//! [`Aggregate`]: group the selected instances by fields and/or a time
//! bucket and compute [`Measure`]s per group, giving an
//! [`AggregateResult`] of typed [`Cell`](super::Cell)s. The selection is a
//! [`Selection`], as a search's.
//!
//! # Groups
//! The key is the `group_by` fields in order, then the bucket. An unset
//! group-by field forms its own group with a null key cell; an instance
//! whose bucket field is unset lands in a null bucket. Groups are sorted by
//! key, column by column, with [`Cell::total_cmp`](super::Cell::total_cmp)
//! (null last).
//!
//! With no `group_by` and no bucket there is exactly one row, even over no
//! instances (count 0, other measures null), as in SQL.
//!
//! # Buckets
//! A bucket is the instant where the local minute, hour, day, ISO week
//! (Monday), month, quarter or year holding the field's time begins in
//! the aggregation's [`Zone`] (UTC by default), shown as a timestamp cell
//! in UTC, or with the zone's offset at that instant
//! ([`Cell::ZonedTimestamp`](super::Cell::ZonedTimestamp)) in another
//! zone. Across a daylight-saving change a day is 23 or 25 hours and the
//! repeated hour of a fall-back is two buckets (see
//! [`BucketUnit::floor_in`]). Buckets starting before the supported range
//! (the first week: 0000-01-01 was a Saturday) are shown starting at
//! 0000-01-01T00:00:00Z (`Timestamp::MIN`).
//!
//! # Keys
//! Group keys compare values as filters do: `-0.0` and `0.0` are one group
//! (keyed `0.0`), as `= 0` selects both.
//!
//! # Columns
//! `group_by` names, then `<unit>(<field>)` for the bucket (`day(end)`),
//! then each measure's spec (`count`, `sum:Amount`, see [`Measure`]).

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::model::{ActivityDefinition, ActivityInstance, ItemDefinition, ItemType};
use crate::segments::columns::ActivityColumns;

use super::bucket::BucketUnit;
use super::columnar;
use super::error::QueryError;
use super::field::{Field, FieldType};
use super::filter::Filter;
use super::measure::{Measure, MAX_HELD_VALUES};
use super::plan::{self, Group, GroupKey, Plan};
use super::result::AggregateResult;
use super::selection::Selection;
use super::shaping::{self, GroupOrder};
use super::zone::Zone;

/// An aggregation over the instances of one activity.
///
/// Dereferences to its [`Selection`], so `agg.filters`, `agg.status`,
/// `agg.since`, ... read and write as fields of the aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Which instances (activity, status, time range, filters), as in
    /// [`super::Search`].
    pub selection: Selection,
    /// Fields (items or system fields) to group by, in key order.
    pub group_by: Vec<String>,
    /// A time bucket of a timestamp field, grouped after `group_by`.
    pub bucket: Option<(BucketUnit, String)>,
    /// What to compute per group, in column order. None: just the groups.
    pub measures: Vec<Measure>,
    /// The time zone buckets are cut in (default UTC); see
    /// [`BucketUnit::floor_in`].
    pub zone: Zone,
    /// Conditions over the result's columns a group must meet to be kept
    /// (all of them); see [`GroupOrder`] for the grammar's use here.
    pub having: Vec<Filter>,
    /// The order of the groups, by result columns (default: the group
    /// keys ascending, which also break ties).
    pub order_by: Vec<GroupOrder>,
    /// At most this many groups (after `having` and the order).
    pub limit: Option<usize>,
}

impl Deref for Aggregate {
    type Target = Selection;

    fn deref(&self) -> &Selection {
        &self.selection
    }
}

impl DerefMut for Aggregate {
    fn deref_mut(&mut self) -> &mut Selection {
        &mut self.selection
    }
}

impl Aggregate {
    /// An aggregation of `activity` with no groups, measures or filters.
    pub fn new(activity: impl Into<String>) -> Aggregate {
        Aggregate {
            selection: Selection::new(activity),
            group_by: Vec::new(),
            bucket: None,
            measures: Vec::new(),
            zone: Zone::utc(),
            having: Vec::new(),
            order_by: Vec::new(),
            limit: None,
        }
    }

    /// The result's column names (see the module docs).
    pub fn columns(&self) -> Vec<String> {
        plan::columns(&self.group_by, self.bucket.as_ref(), &self.measures)
    }

    /// The compiled form; `removable` for the maintained form (see
    /// [`Plan::new`]).
    pub(crate) fn plan(&self, removable: bool) -> Plan {
        Plan::new(
            &self.group_by,
            self.bucket.as_ref(),
            &self.zone,
            &self.measures,
            removable,
        )
    }

    /// Runs the aggregation over `instances`.
    /// A float `sum` beyond the float range shows as ±`f64::MAX` here
    /// (see [`Measure`]); [`crate::Store::aggregate`] refuses it instead.
    /// The measures that hold their values have no cap here: the
    /// instances are in memory already.
    pub fn run(&self, instances: impl IntoIterator<Item = ActivityInstance>) -> AggregateResult {
        let mut run = self.start_with_cap(u64::MAX);
        run.add_rows(instances);
        self.shape(run.plan.finish(&run.groups))
    }

    /// Applies `having`, `order_by` and `limit` to a result in key order.
    pub(crate) fn shape(&self, result: AggregateResult) -> AggregateResult {
        shaping::shape(result, &self.having, &self.order_by, self.limit)
    }

    /// An aggregation in progress, fed rows and column projections; the
    /// measures that hold values may hold [`MAX_HELD_VALUES`] in all.
    pub(crate) fn start(&self) -> AggregateRun<'_> {
        self.start_with_cap(MAX_HELD_VALUES)
    }

    /// [`Self::start`] with another cap on the values held.
    pub(crate) fn start_with_cap(&self, cap: u64) -> AggregateRun<'_> {
        AggregateRun {
            agg: self,
            plan: self.plan(false),
            groups: BTreeMap::new(),
            holders: self.measures.iter().filter(|m| m.holds_values()).count() as u64,
            held: AtomicU64::new(0),
            cap,
            refused: AtomicBool::new(false),
        }
    }

    /// Checks the aggregation against the activity's definition: the
    /// activity name, filters (as [`super::Search::validate`]), group-by
    /// fields exist, the bucket field is a timestamp, and each measure's
    /// fields exist with a type it accepts.
    pub fn validate(&self, def: &ActivityDefinition) -> Result<(), QueryError> {
        self.selection.validate(def)?;
        for g in &self.group_by {
            Field::new(g).resolve(def, "group-by field")?;
        }
        if let Some((unit, field)) = &self.bucket {
            let ty = Field::new(field).resolve(def, "bucket field")?;
            if ty != FieldType::Timestamp {
                return Err(QueryError::TypeMismatch {
                    context: format!("bucket `{}({field})`", unit.name()),
                    reason: format!("{field} is {}, not a timestamp", ty.name()),
                });
            }
        }
        self.measures.iter().try_for_each(|m| m.validate(def))?;
        let columns = self.columns();
        // A JSON line is an object, and having and the order name columns:
        // each name once (`--group-by Qty,Qty`, or an item named `count`
        // beside the count measure).
        for (i, column) in columns.iter().enumerate() {
            if columns[..i].contains(column) {
                return Err(QueryError::DuplicateColumn {
                    column: column.clone(),
                });
            }
        }
        shaping::validate(&columns, &self.having, &self.order_by)?;
        self.validate_having_operands(def, &columns)
    }

    /// Checks that each `having` operand reads as its column's type
    /// (`count > abc` is refused, as `--where 'Amount > abc'` is, rather
    /// than keeping no group). Counts, sums, averages and percentiles are
    /// numbers, durations whole microseconds, bucket starts timestamps,
    /// group fields and `min`/`max` their field's type. A condition naming
    /// a measure in another spelling than its column (`SUM: Amount`) is
    /// checked when it is evaluated instead.
    fn validate_having_operands(
        &self,
        def: &ActivityDefinition,
        columns: &[String],
    ) -> Result<(), QueryError> {
        if self.having.is_empty() {
            return Ok(());
        }
        let item = |ty: FieldType| match ty {
            FieldType::Int => ItemType::Int,
            FieldType::Float => ItemType::Float,
            FieldType::Bool => ItemType::Bool,
            FieldType::Timestamp => ItemType::Timestamp,
            FieldType::Text | FieldType::Status => ItemType::Text { max_len: 4000 },
        };
        let field_type = |name: &str| Field::new(name).resolve(def, "field").map(item);
        let mut types: Vec<ItemType> = Vec::with_capacity(columns.len());
        for g in &self.group_by {
            types.push(field_type(g)?);
        }
        if self.bucket.is_some() {
            types.push(ItemType::Timestamp);
        }
        for m in &self.measures {
            types.push(match m {
                Measure::Min(f) | Measure::Max(f) => field_type(f)?,
                // Whole microseconds, or a count: any number compares.
                _ => ItemType::Float,
            });
        }
        let shape = ActivityDefinition {
            name: def.name.clone(),
            items: columns
                .iter()
                .zip(types)
                .map(|(name, ty)| ItemDefinition {
                    name: name.clone(),
                    ty,
                })
                .collect(),
        };
        for filter in &self.having {
            if filter
                .fields()
                .iter()
                .all(|f| columns.iter().any(|c| c == f.name()))
            {
                filter.validate(&shape)?;
            }
        }
        Ok(())
    }
}

/// An aggregation being computed over several sources.
/// Groups by key, as a run fills them.
pub(crate) type Groups = BTreeMap<GroupKey, Group>;

pub(crate) struct AggregateRun<'a> {
    agg: &'a Aggregate,
    plan: Plan,
    groups: BTreeMap<GroupKey, Group>,
    /// How many measures hold their values.
    holders: u64,
    /// An upper bound of the values they hold, over every thread's
    /// groups: one per selected instance per holding measure.
    held: AtomicU64,
    /// The most `held` may reach.
    cap: u64,
    /// Set when `held` would pass `cap`: nothing more is added, and
    /// [`Self::finish`] refuses the query.
    refused: AtomicBool,
}

impl AggregateRun<'_> {
    /// Whether `rows` more selected instances fit under the cap of values
    /// held; if not, the run is refused (see [`Self::finish`]).
    fn reserve(&self, rows: usize) -> bool {
        if self.holders == 0 {
            return true;
        }
        if self.refused.load(Ordering::Relaxed) {
            return false;
        }
        let more = (rows as u64).saturating_mul(self.holders);
        let before = self.held.fetch_add(more, Ordering::Relaxed);
        if before.saturating_add(more) > self.cap {
            self.refused.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Adds the selected ones of `instances`.
    pub(crate) fn add_rows(&mut self, instances: impl IntoIterator<Item = ActivityInstance>) {
        for inst in instances {
            if self.agg.selection.selects(&inst) {
                if !self.reserve(1) {
                    return;
                }
                self.groups
                    .entry(self.plan.key(&inst))
                    .or_insert_with(|| self.plan.new_group())
                    .update(&inst, true);
            }
        }
    }

    /// The fields the aggregation reads besides its selection's: the
    /// group-by fields, the bucket's field and the measures' fields.
    pub(crate) fn fields(&self) -> Vec<Field> {
        let mut fields: Vec<Field> = self.plan.group_by.clone();
        fields.extend(self.plan.bucket.as_ref().map(|(_, f)| f.clone()));
        fields.extend(self.plan.measure_fields());
        fields
    }

    /// Adds the selected rows of a file's projection of the activity (of
    /// those in `runs`, every row when `None`) to `groups` (one thread's share of the files, merged later with
    /// [`Self::merge_groups`]); `false` (nothing added) when the
    /// projection cannot answer and the caller must add the file's records
    /// with [`Self::add_rows`].
    pub(crate) fn add_columns_to(
        &self,
        cols: &ActivityColumns,
        runs: Option<&[std::ops::Range<usize>]>,
        groups: &mut Groups,
    ) -> bool {
        columnar::aggregate_into(
            &self.plan,
            &self.agg.selection,
            cols,
            runs,
            groups,
            &|rows| self.reserve(rows),
        )
    }

    /// Merges groups filled by [`Self::add_columns_to`].
    pub(crate) fn merge_groups(&mut self, groups: Groups) {
        for (key, group) in groups {
            Group::merge_into(&mut self.groups, key, group);
        }
    }

    /// The result; an error if a measure overflows the float range (see
    /// [`QueryError::Overflow`]).
    pub(crate) fn finish(self) -> Result<AggregateResult, QueryError> {
        if self.refused.load(Ordering::Relaxed) {
            let holding: Vec<String> = (self.agg.measures.iter())
                .filter(|m| m.holds_values())
                .map(ToString::to_string)
                .collect();
            return Err(QueryError::TooManyValues {
                measures: holding.join(", "),
                limit: self.cap,
            });
        }
        self.plan.check_overflow(&self.groups)?;
        Ok(self.agg.shape(self.plan.finish(&self.groups)))
    }
}
