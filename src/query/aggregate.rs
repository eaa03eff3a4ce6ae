//! [`Aggregate`]: group the selected instances by fields and/or a time
//! bucket and compute [`Measure`]s per group, giving an
//! [`AggregateResult`] of typed [`Cell`]s.
//!
//! # Groups
//! The key is the `group_by` fields in order, then the bucket. An unset
//! group-by field forms its own group with a null key cell; an instance
//! whose bucket field is unset lands in a null bucket. Groups are sorted by
//! key, column by column, with [`Cell::total_cmp`] (null last).
//!
//! With no `group_by` and no bucket there is exactly one row, even over no
//! instances (count 0, other measures null), as in SQL.
//!
//! # Buckets
//! A bucket is the start of the UTC minute, hour, day, or ISO week (Monday
//! 00:00 UTC) holding the field's time, shown as a timestamp cell. The one
//! exception is the first week of the supported range: 0000-01-01 was a
//! Saturday, and the Monday before it cannot be written, so that week's
//! bucket is shown starting at 0000-01-01T00:00:00Z (`Timestamp::MIN`).
//!
//! # Keys
//! Group keys compare values as filters do: `-0.0` and `0.0` are one group
//! (keyed `0.0`), as `= 0` selects both.
//!
//! # Columns
//! `group_by` names, then `<unit>(<field>)` for the bucket (`day(end)`),
//! then each measure's spec (`count`, `sum:Amount`, see [`Measure`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{ActivityDefinition, Timestamp};
use crate::segments::ActivityInstance;

use super::cell::{Cell, OrdCell};
use super::field::{Field, FieldType, ValueRef};
use super::measure::Acc;
use super::search::{check_selection, selects};
use super::{Filter, Measure, QueryError, StatusFilter};

const MICROS_PER_MINUTE: i64 = 60 * 1_000_000;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;
const MICROS_PER_WEEK: i64 = 7 * MICROS_PER_DAY;
/// 1970-01-01 was a Thursday: the ISO week holding the epoch began on
/// Monday 1969-12-29, three days earlier.
const WEEK_ORIGIN: i64 = -3 * MICROS_PER_DAY;

/// The width of a time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketUnit {
    /// A UTC minute.
    Minute,
    /// A UTC hour.
    Hour,
    /// A UTC day.
    Day,
    /// An ISO week: Monday 00:00 UTC to the next Monday.
    Week,
}

impl BucketUnit {
    /// Parses `minute`, `hour`, `day` or `week` (ignoring ASCII case).
    pub fn parse(unit: &str) -> Result<BucketUnit, QueryError> {
        match unit.trim().to_ascii_lowercase().as_str() {
            "minute" => Ok(BucketUnit::Minute),
            "hour" => Ok(BucketUnit::Hour),
            "day" => Ok(BucketUnit::Day),
            "week" => Ok(BucketUnit::Week),
            _ => Err(QueryError::BucketSyntax {
                unit: unit.to_owned(),
            }),
        }
    }

    /// The unit's lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            BucketUnit::Minute => "minute",
            BucketUnit::Hour => "hour",
            BucketUnit::Day => "day",
            BucketUnit::Week => "week",
        }
    }

    /// The width of a bucket in microseconds.
    pub(crate) fn width(self) -> i64 {
        self.width_and_origin().0
    }

    fn width_and_origin(self) -> (i64, i64) {
        match self {
            BucketUnit::Minute => (MICROS_PER_MINUTE, 0),
            BucketUnit::Hour => (MICROS_PER_HOUR, 0),
            BucketUnit::Day => (MICROS_PER_DAY, 0),
            BucketUnit::Week => (MICROS_PER_WEEK, WEEK_ORIGIN),
        }
    }

    /// The start of the bucket holding `t`. The week holding 0000-01-01
    /// (a Saturday) began in year -1, which no timestamp can show: its
    /// bucket starts at [`Timestamp::MIN`] instead (see the module docs).
    pub fn floor(self, t: Timestamp) -> Timestamp {
        clamp_start(self.grid_start(t.as_micros()), t)
    }

    /// The start of the bucket holding `t` on the unit's grid, which may
    /// lie before [`Timestamp::MIN`] (for weeks); [`clamp_start`] makes it
    /// a cell.
    pub(crate) fn grid_start(self, t: i64) -> i64 {
        let (width, origin) = self.width_and_origin();
        let (t, width, origin) = (i128::from(t), i128::from(width), i128::from(origin));
        let start = (t - origin).div_euclid(width) * width + origin;
        i64::try_from(start).unwrap_or(i64::MIN)
    }
}

/// A bucket start as shown: not before [`Timestamp::MIN`] when the time in
/// the bucket (`inside`) is in range, so every accepted timestamp has a
/// bucket that can be written.
pub(crate) fn clamp_start(start: i64, inside: Timestamp) -> Timestamp {
    if inside.in_range() {
        Timestamp::from_micros(start.max(Timestamp::MIN.as_micros()))
    } else {
        Timestamp::from_micros(start)
    }
}

/// An aggregation over the instances of one activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// The activity; instances of other activities are skipped.
    pub activity: String,
    /// Fields (items or system fields) to group by, in key order.
    pub group_by: Vec<String>,
    /// A time bucket of a timestamp field, grouped after `group_by`.
    pub bucket: Option<(BucketUnit, String)>,
    /// What to compute per group, in column order. None: just the groups.
    pub measures: Vec<Measure>,
    /// Conditions, all of which must hold (as in [`super::Search`]).
    pub filters: Vec<Filter>,
    /// Active, completed or all (default all).
    pub status: StatusFilter,
    /// Inclusive lower bound on `last_modified` (as in [`super::Search`]).
    pub since: Option<Timestamp>,
    /// Exclusive upper bound on `last_modified`.
    pub until: Option<Timestamp>,
}

impl Aggregate {
    /// An aggregation of `activity` with no groups, measures or filters.
    pub fn new(activity: impl Into<String>) -> Aggregate {
        Aggregate {
            activity: activity.into(),
            group_by: Vec::new(),
            bucket: None,
            measures: Vec::new(),
            filters: Vec::new(),
            status: StatusFilter::All,
            since: None,
            until: None,
        }
    }

    /// The result's column names (see the module docs).
    pub fn columns(&self) -> Vec<String> {
        let mut cols = self.group_by.clone();
        if let Some((unit, field)) = &self.bucket {
            cols.push(format!("{}({field})", unit.name()));
        }
        cols.extend(self.measures.iter().map(ToString::to_string));
        cols
    }

    /// Whether `inst` is selected (activity, status, time range, filters).
    pub fn selects(&self, inst: &ActivityInstance) -> bool {
        selects(
            &self.activity,
            self.status,
            self.since,
            self.until,
            &self.filters,
            inst,
        )
    }

    /// Runs the aggregation over `instances`.
    /// A float `sum` beyond the float range shows as ±`f64::MAX` here
    /// (see [`Measure`]); [`crate::Store::aggregate`] refuses it instead.
    pub fn run(&self, instances: impl IntoIterator<Item = ActivityInstance>) -> AggregateResult {
        let mut run = self.start();
        run.add_rows(instances);
        run.plan.finish(&run.groups)
    }

    /// An aggregation in progress, fed rows and column projections.
    pub(crate) fn start(&self) -> AggregateRun<'_> {
        AggregateRun {
            agg: self,
            plan: Plan::new(self, false),
            groups: BTreeMap::new(),
        }
    }

    /// Checks the aggregation against the activity's definition: the
    /// activity name, filters (as [`super::Search::validate`]), group-by
    /// fields exist, the bucket field is a timestamp, and each measure's
    /// fields exist with a type it accepts.
    pub fn validate(&self, def: &ActivityDefinition) -> Result<(), QueryError> {
        check_selection(&self.activity, &self.filters, def)?;
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
        self.measures.iter().try_for_each(|m| m.validate(def))
    }
}

/// An aggregation being computed over several sources.
pub(crate) struct AggregateRun<'a> {
    agg: &'a Aggregate,
    plan: Plan,
    groups: BTreeMap<Key, Group>,
}

impl AggregateRun<'_> {
    /// Adds the selected ones of `instances`.
    pub(crate) fn add_rows(&mut self, instances: impl IntoIterator<Item = ActivityInstance>) {
        for inst in instances {
            if self.agg.selects(&inst) {
                self.groups
                    .entry(self.plan.key(&inst))
                    .or_insert_with(|| self.plan.new_group())
                    .update(&inst, true);
            }
        }
    }

    /// Adds the selected rows of a file's projection of the activity;
    /// `false` (nothing added) when the projection cannot answer and the
    /// caller must add the file's records with [`Self::add_rows`].
    pub(crate) fn add_columns(&mut self, cols: &crate::segments::columns::ActivityColumns) -> bool {
        let a = self.agg;
        super::columnar::aggregate_into(
            &self.plan,
            (a.status, a.since, a.until, &a.filters),
            cols,
            &mut self.groups,
        )
    }

    /// The result; an error if a measure overflows the float range (see
    /// [`QueryError::Overflow`]).
    pub(crate) fn finish(self) -> Result<AggregateResult, QueryError> {
        self.plan.check_overflow(&self.groups)?;
        Ok(self.plan.finish(&self.groups))
    }
}

/// A group key: one cell per key column.
pub(crate) type Key = Vec<OrdCell>;

/// An aggregation compiled for evaluation.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) group_by: Vec<Field>,
    pub(crate) bucket: Option<(BucketUnit, Field)>,
    measures: Vec<Measure>,
    columns: Vec<String>,
    removable: bool,
}

impl Plan {
    pub(crate) fn new(agg: &Aggregate, removable: bool) -> Plan {
        Plan {
            group_by: agg.group_by.iter().map(|g| Field::new(g)).collect(),
            bucket: agg.bucket.as_ref().map(|(u, f)| (*u, Field::new(f))),
            measures: agg.measures.clone(),
            columns: agg.columns(),
            removable,
        }
    }

    pub(crate) fn key(&self, inst: &ActivityInstance) -> Key {
        let mut key: Key = self
            .group_by
            .iter()
            .map(|f| OrdCell(Cell::key(f.get(inst))))
            .collect();
        if let Some((unit, field)) = &self.bucket {
            key.push(OrdCell(match field.get(inst) {
                Some(ValueRef::Timestamp(t)) => Cell::Timestamp(unit.floor(t)),
                _ => Cell::Null,
            }));
        }
        key
    }

    pub(crate) fn new_group(&self) -> Group {
        Group {
            count: 0,
            accs: self
                .measures
                .iter()
                .map(|m| m.accumulator(self.removable))
                .collect(),
        }
    }

    /// The first measure of a group whose value overflows, as an error.
    pub(crate) fn check_overflow(&self, groups: &BTreeMap<Key, Group>) -> Result<(), QueryError> {
        for (key, group) in groups.iter().filter(|(_, g)| g.count > 0) {
            for (measure, acc) in self.measures.iter().zip(&group.accs) {
                if acc.overflows() {
                    let cells: Vec<String> = key.iter().map(|c| c.0.to_string()).collect();
                    return Err(QueryError::Overflow {
                        measure: measure.to_string(),
                        group: format!("[{}]", cells.join(", ")),
                    });
                }
            }
        }
        Ok(())
    }

    pub(crate) fn finish(&self, groups: &BTreeMap<Key, Group>) -> AggregateResult {
        let mut rows: Vec<AggRow> = groups
            .iter()
            .filter(|(_, g)| g.count > 0)
            .map(|(key, g)| AggRow {
                cells: key.iter().map(|c| c.0.clone()).chain(g.results()).collect(),
            })
            .collect();
        if rows.is_empty() && self.group_by.is_empty() && self.bucket.is_none() {
            rows.push(AggRow {
                cells: self.new_group().results().collect(),
            });
        }
        AggregateResult {
            columns: self.columns.clone(),
            rows,
        }
    }
}

/// The state of one group.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) count: u64,
    accs: Vec<Acc>,
}

impl Group {
    pub(crate) fn update(&mut self, inst: &ActivityInstance, add: bool) {
        if add {
            self.count += 1;
        } else {
            self.count = self.count.saturating_sub(1);
        }
        for acc in &mut self.accs {
            acc.update(inst, add);
        }
    }

    /// Adds what `other` (a group of the same plan) holds.
    pub(crate) fn merge(&mut self, other: &Group) {
        self.count += other.count;
        for (acc, o) in self.accs.iter_mut().zip(&other.accs) {
            acc.merge(o);
        }
    }

    /// Counts one more instance whose measure inputs are given, per
    /// accumulator, by `values` (see [`Acc::fields`]).
    pub(crate) fn add_values<'a>(
        &mut self,
        mut values: impl FnMut(usize) -> (Option<ValueRef<'a>>, Option<ValueRef<'a>>),
    ) {
        self.count += 1;
        for (i, acc) in self.accs.iter_mut().enumerate() {
            let (a, b) = values(i);
            acc.apply(a, b, true);
        }
    }

    /// The accumulators, in measure order.
    pub(crate) fn accs(&self) -> &[Acc] {
        &self.accs
    }

    fn results(&self) -> impl Iterator<Item = Cell> + '_ {
        self.accs.iter().map(|a| a.result(self.count))
    }
}

/// The result of an aggregation: column names and one row per group.
///
/// JSON form: `{"columns": [...], "rows": [[cell, ...], ...]}` with cells
/// as described at [`Cell`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateResult {
    /// Key columns, then measure columns.
    pub columns: Vec<String>,
    /// One row per group, sorted by key.
    pub rows: Vec<AggRow>,
}

/// One group: its key cells, then its measure cells, in column order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct AggRow {
    /// The cells, one per column.
    pub cells: Vec<Cell>,
}

impl AggRow {
    /// The cell of a column, by the result's column list.
    pub fn get<'a>(&'a self, result: &AggregateResult, column: &str) -> Option<&'a Cell> {
        let i = result.columns.iter().position(|c| c == column)?;
        self.cells.get(i)
    }
}

impl AggregateResult {
    /// A plain-text table for people: a header, a rule, one line per group;
    /// numbers and durations right-aligned, the rest left-aligned; floats
    /// rounded for reading (two decimals, three significant digits below 1;
    /// the rows themselves and the JSON form keep full precision).
    pub fn to_table(&self) -> String {
        let texts: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.cells.iter().map(table_text).collect())
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &texts {
            for (w, t) in widths.iter_mut().zip(row) {
                *w = (*w).max(t.chars().count());
            }
        }
        let right: Vec<bool> = (0..self.columns.len())
            .map(|i| {
                self.rows.iter().any(|r| {
                    matches!(
                        r.cells.get(i),
                        Some(Cell::Int(_) | Cell::Float(_) | Cell::Duration(_))
                    )
                })
            })
            .collect();
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let mut l = String::new();
            for (i, (t, w)) in cells.iter().zip(&widths).enumerate() {
                if i > 0 {
                    l.push_str("  ");
                }
                if right.get(i).copied().unwrap_or(false) {
                    let _ = write!(l, "{t:>w$}");
                } else {
                    let _ = write!(l, "{t:<w$}");
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(&self.columns);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&rule);
        for row in &texts {
            line(row);
        }
        out
    }
}

/// A cell as the table shows it.
fn table_text(cell: &Cell) -> String {
    match cell {
        Cell::Float(f) if f.is_finite() && *f != 0.0 && f.abs() < 1.0 => {
            // Three significant digits: 0.00123 stays readable.
            let decimals = (2 - f.abs().log10().floor() as i32).clamp(2, 17) as usize;
            format!("{f:.decimals$}")
        }
        Cell::Float(f) if f.is_finite() => format!("{f:.2}"),
        other => other.to_string(),
    }
}
