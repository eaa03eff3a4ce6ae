//! [`Search`]: select instances by filters, status and a time range, in a
//! stable order, projected to [`Row`]s.
//!
//! # Time range
//! `since` and `until` bound **`last_modified`**, half-open:
//! `since <= last_modified < until`. `last_modified` is the one time every
//! instance has, active or completed, so one rule serves both; an instance
//! without it is outside any range. (To bound completion time, filter on
//! `end`.)
//!
//! # Order
//! By `end` ascending, active instances (no end) last, then by `id`; ties
//! (the same id twice) keep the input order. The limit applies after
//! ordering, so it keeps the earliest-completed instances.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::model::{ActivityDefinition, Timestamp, Value};
use crate::segments::{ActivityInstance, Status};

use super::field::{status_name, Field};
use super::{Filter, QueryError};

/// Which instances a query covers by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StatusFilter {
    /// Only active instances.
    Active,
    /// Only completed instances.
    Completed,
    /// Both (the default).
    #[default]
    All,
}

impl StatusFilter {
    /// Whether an instance with `status` is covered.
    pub fn admits(self, status: Status) -> bool {
        match self {
            StatusFilter::Active => status == Status::Active,
            StatusFilter::Completed => status == Status::Completed,
            StatusFilter::All => true,
        }
    }
}

/// A search over the instances of one activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// The activity; instances of other activities are skipped.
    pub activity: String,
    /// Conditions, all of which must hold.
    pub filters: Vec<Filter>,
    /// Active, completed or all (default all).
    pub status: StatusFilter,
    /// Inclusive lower bound on `last_modified` (see the module docs).
    pub since: Option<Timestamp>,
    /// Exclusive upper bound on `last_modified`.
    pub until: Option<Timestamp>,
    /// At most this many rows (after ordering); `None` for all.
    pub limit: Option<usize>,
    /// The columns of each row, in order; `None` for the default: `id`,
    /// `status`, `begin`, `end`, `last_modified`, then every set item.
    pub columns: Option<Vec<String>>,
}

impl Search {
    /// A search returning every instance of `activity`.
    pub fn new(activity: impl Into<String>) -> Search {
        Search {
            activity: activity.into(),
            filters: Vec::new(),
            status: StatusFilter::All,
            since: None,
            until: None,
            limit: None,
            columns: None,
        }
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

    /// Runs the search: selects, orders (see the module docs), limits and
    /// projects.
    pub fn run(&self, instances: impl IntoIterator<Item = ActivityInstance>) -> Vec<Row> {
        let mut hits: Vec<ActivityInstance> =
            instances.into_iter().filter(|i| self.selects(i)).collect();
        hits.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
        if let Some(limit) = self.limit {
            hits.truncate(limit);
        }
        let columns: Option<Vec<Field>> = self
            .columns
            .as_ref()
            .map(|cols| cols.iter().map(|c| Field::new(c)).collect());
        hits.into_iter()
            .map(|inst| Row::project(inst, columns.as_deref()))
            .collect()
    }

    /// The rows of a file's projection of the activity that the search
    /// selects, or `None` when the projection cannot tell (the caller then
    /// reads the file's records). [`Search::run`] still has to order, limit
    /// and project the instances they hold.
    pub(crate) fn select_columns(
        &self,
        cols: &crate::segments::columns::ActivityColumns,
    ) -> Option<Vec<u32>> {
        super::columnar::select(cols, self.status, self.since, self.until, &self.filters)
    }

    /// Checks the search against the activity's definition: the activity
    /// name, every filter field and column exists, and every operand reads
    /// as its field's type (`Amount > abc` and `starts with` on a number are
    /// refused), and no column is chosen twice (a JSON row is an object).
    pub fn validate(&self, def: &ActivityDefinition) -> Result<(), QueryError> {
        check_selection(&self.activity, &self.filters, def)?;
        let columns = self.columns.as_deref().unwrap_or_default();
        for (i, column) in columns.iter().enumerate() {
            Field::new(column).resolve(def, "column")?;
            if columns
                .get(..i)
                .is_some_and(|before| before.contains(column))
            {
                return Err(QueryError::DuplicateColumn {
                    column: column.clone(),
                });
            }
        }
        Ok(())
    }
}

/// The ordering key: completed by end time first, then id.
fn order_key(inst: &ActivityInstance) -> (bool, Option<Timestamp>, &str) {
    (inst.end.is_none(), inst.end, &inst.id)
}

/// The selection shared by searches and aggregations.
pub(crate) fn selects(
    activity: &str,
    status: StatusFilter,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    filters: &[Filter],
    inst: &ActivityInstance,
) -> bool {
    if inst.activity != activity || !status.admits(inst.status) {
        return false;
    }
    if since.is_some() || until.is_some() {
        let Some(t) = inst.last_modified else {
            return false;
        };
        if since.is_some_and(|s| t < s) || until.is_some_and(|u| t >= u) {
            return false;
        }
    }
    filters.iter().all(|f| f.matches(inst))
}

/// Validation shared by searches and aggregations.
pub(crate) fn check_selection(
    activity: &str,
    filters: &[Filter],
    def: &ActivityDefinition,
) -> Result<(), QueryError> {
    if activity != def.name {
        return Err(QueryError::WrongActivity {
            query: activity.to_owned(),
            definition: def.name.clone(),
        });
    }
    for filter in filters {
        let ty = filter.field().resolve(def, "filter field")?;
        filter.check_type(ty)?;
    }
    Ok(())
}

/// One search result: an instance projected to the chosen columns.
///
/// Serialises as a JSON object in column order: `status` as
/// `"active"`/`"completed"`, timestamps in RFC 3339, unset values as `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `(column, value)` in column order; `None` where unset.
    pub values: Vec<(String, Option<Value>)>,
}

impl Row {
    /// The row of `inst`; the default columns move its values (no copies).
    fn project(inst: ActivityInstance, columns: Option<&[Field]>) -> Row {
        let values = match columns {
            Some(cols) => cols
                .iter()
                .map(|f| (f.name().to_owned(), f.get(&inst).map(|v| v.to_value())))
                .collect(),
            None => {
                let system = [
                    ("status", Some(Value::from(status_name(inst.status)))),
                    ("begin", inst.begin.map(Value::Timestamp)),
                    ("end", inst.end.map(Value::Timestamp)),
                    ("last_modified", inst.last_modified.map(Value::Timestamp)),
                ];
                let mut values = Vec::with_capacity(1 + system.len() + inst.items.len());
                values.push(("id".to_owned(), Some(Value::Text(inst.id))));
                values.extend(system.into_iter().map(|(n, v)| (n.to_owned(), v)));
                values.extend(inst.items.into_iter().map(|(n, v)| (n, Some(v))));
                values
            }
        };
        Row { values }
    }

    /// The value of a column, if the row has it and it is set.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(n, _)| n == column)
            .and_then(|(_, v)| v.as_ref())
    }

    /// The column names, in order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(n, _)| n.as_str())
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.values.len()))?;
        for (name, value) in &self.values {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}
