//! [`Search`]: select instances by a [`Selection`] (filters, status and a
//! time range), in a stable order, projected to [`Row`]s.
//!
//! # Order
//! By `end` ascending, active instances (no end) last, then by `id`; ties
//! (the same id twice) keep the input order. The limit applies after
//! ordering, so it keeps the earliest-completed instances.

use std::ops::{Deref, DerefMut};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::model::{ActivityDefinition, ActivityInstance, Timestamp, Value};
use crate::segments::columns::ActivityColumns;

use super::columnar;
use super::error::QueryError;
use super::field::{status_name, Field};
use super::selection::Selection;

/// A search over the instances of one activity.
///
/// Dereferences to its [`Selection`], so `search.filters`, `search.status`,
/// `search.since`, ... read and write as fields of the search.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Which instances (activity, status, time range, filters).
    pub selection: Selection,
    /// At most this many rows (after ordering); `None` for all.
    pub limit: Option<usize>,
    /// The columns of each row, in order; `None` for the default: `id`,
    /// `status`, `begin`, `end`, `last_modified`, then every set item.
    pub columns: Option<Vec<String>>,
}

impl Deref for Search {
    type Target = Selection;

    fn deref(&self) -> &Selection {
        &self.selection
    }
}

impl DerefMut for Search {
    fn deref_mut(&mut self) -> &mut Selection {
        &mut self.selection
    }
}

impl Search {
    /// A search returning every instance of `activity`.
    pub fn new(activity: impl Into<String>) -> Search {
        Search {
            selection: Selection::new(activity),
            limit: None,
            columns: None,
        }
    }

    /// Runs the search: selects, orders (see the module docs), limits and
    /// projects.
    pub fn run(&self, instances: impl IntoIterator<Item = ActivityInstance>) -> Vec<Row> {
        let mut hits: Vec<ActivityInstance> = instances
            .into_iter()
            .filter(|i| self.selection.selects(i))
            .collect();
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
    /// reads the file's records). Only the rows in `runs` are evaluated
    /// (every row when `None`): the caller ruled the others out by their
    /// blocks' value ranges. [`Search::run`] still has to order, limit
    /// and project the instances they hold.
    pub(crate) fn select_columns(
        &self,
        cols: &ActivityColumns,
        runs: Option<&[std::ops::Range<usize>]>,
    ) -> Option<Vec<u32>> {
        columnar::select(cols, &self.selection, runs)
    }

    /// Checks the search against the activity's definition: the activity
    /// name, every filter field and column exists, and every operand reads
    /// as its field's type (`Amount > abc` and `starts with` on a number are
    /// refused), and no column is chosen twice (a JSON row is an object).
    pub fn validate(&self, def: &ActivityDefinition) -> Result<(), QueryError> {
        self.selection.validate(def)?;
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
