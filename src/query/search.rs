//! [`Search`]: select instances by a [`Selection`] (filters, status and a
//! time range), in a stable order, projected to [`Row`]s.
//!
//! # Order and pages
//! By the search's [`OrderBy`] keys, then `id` (see [`super::order`] for
//! how values compare; unset values sort last). With no key, by `end`
//! ascending, active instances (no end) last, then by `id`. Ties (the same
//! id twice, which a store never returns) keep the input order. Then the
//! rows after the [`Cursor`] (if any) are kept, `offset` of them skipped,
//! and at most `limit` returned; [`Search::run_page`] also returns the
//! cursor for the next page.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::model::{ActivityDefinition, ActivityInstance, Value};
use crate::segments::columns::ActivityColumns;

use super::columnar;
use super::error::QueryError;
use super::field::{status_name, Field};
use super::order::{Cursor, Order, OrderBy};
use super::selection::Selection;

/// A search over the instances of one activity.
///
/// Dereferences to its [`Selection`], so `search.filters`, `search.status`,
/// `search.since`, ... read and write as fields of the search.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Which instances (activity, status, time range, filters).
    pub selection: Selection,
    /// The order of the rows: keys, each then the next, then `id`; empty
    /// for `end` ascending (active instances last).
    pub order_by: Vec<OrderBy>,
    /// Only rows after this position (a page's [`SearchPage::next`]).
    pub after: Option<Cursor>,
    /// Skip this many rows (after the cursor).
    pub offset: usize,
    /// At most this many rows (after ordering and `offset`); `None` for all.
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
            order_by: Vec::new(),
            after: None,
            offset: 0,
            limit: None,
            columns: None,
        }
    }

    /// Runs the search: selects, orders (see the module docs), pages and
    /// projects.
    pub fn run(&self, instances: impl IntoIterator<Item = ActivityInstance>) -> Vec<Row> {
        self.run_page(instances).rows
    }

    /// [`Search::run`], with the cursor of the next page.
    ///
    /// ```
    /// use bamdb::model::{Timestamp, Value};
    /// use bamdb::query::{OrderBy, Search};
    /// use bamdb::{ActivityInstance, Status};
    ///
    /// let order = |id: &str, amount: i64| ActivityInstance {
    ///     activity: "PurchaseOrder".into(),
    ///     id: id.into(),
    ///     status: Status::Active,
    ///     begin: Some(Timestamp::from_micros(0)),
    ///     end: None,
    ///     last_modified: Some(Timestamp::from_micros(0)),
    ///     items: vec![("Amount".into(), Value::Int(amount))],
    ///     continuations: vec![],
    ///     references: vec![],
    ///     relationships: vec![],
    /// };
    /// let data = vec![order("PO-1", 700), order("PO-2", 300), order("PO-3", 900)];
    ///
    /// let mut search = Search::new("PurchaseOrder");
    /// search.order_by = vec![OrderBy::desc("Amount")];
    /// search.limit = Some(2);
    /// let first = search.run_page(data.clone());
    /// let ids: Vec<_> = first.rows.iter().map(|r| r.get("id").cloned()).collect();
    /// assert_eq!(ids, [Some(Value::from("PO-3")), Some(Value::from("PO-1"))]);
    ///
    /// search.after = first.next;
    /// let second = search.run_page(data);
    /// assert_eq!(second.rows.len(), 1);
    /// assert_eq!(second.rows[0].get("id"), Some(&Value::from("PO-2")));
    /// assert!(second.next.is_none(), "nothing after the last row");
    /// ```
    pub fn run_page(&self, instances: impl IntoIterator<Item = ActivityInstance>) -> SearchPage {
        self.page_of(instances.into_iter().map(Cow::Owned))
    }

    /// [`Search::run_page`] over instances some of which are borrowed
    /// (a store's snapshot, paged through): only the rows of the page are
    /// copied.
    pub(crate) fn page_of<'a>(
        &self,
        instances: impl IntoIterator<Item = Cow<'a, ActivityInstance>>,
    ) -> SearchPage {
        let order = Order::of(&self.order_by);
        let mut hits: Vec<Cow<'a, ActivityInstance>> = instances
            .into_iter()
            .filter(|i| {
                self.selection.selects(i)
                    && self.after.as_ref().is_none_or(|c| order.is_after(i, c))
            })
            .collect();
        hits.sort_by(|a, b| order.cmp(a, b));
        let mut hits = hits.into_iter().skip(self.offset);
        let page: Vec<Cow<'a, ActivityInstance>> = match self.limit {
            Some(limit) => hits.by_ref().take(limit).collect(),
            None => hits.by_ref().collect(),
        };
        let next = match (hits.next(), page.last()) {
            (Some(_), Some(last)) => Some(order.cursor_at(last)),
            _ => None,
        };
        let columns: Option<Vec<Field>> = self
            .columns
            .as_ref()
            .map(|cols| cols.iter().map(|c| Field::new(c)).collect());
        let rows = page
            .into_iter()
            .map(|inst| Row::project(inst.into_owned(), columns.as_deref()))
            .collect();
        SearchPage { rows, next }
    }

    /// The resolved order (its keys, then id).
    pub(crate) fn order(&self) -> Order {
        Order::of(&self.order_by)
    }

    /// How many rows from the top of the order the search can return
    /// (after the cursor): `offset + limit`, and one more to tell whether
    /// a next page exists; `None` without a limit.
    pub(crate) fn depth(&self) -> Option<usize> {
        self.limit
            .map(|l| self.offset.saturating_add(l).saturating_add(1))
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
    /// refused), no column is chosen twice (a JSON row is an object),
    /// every order field exists, and the cursor was made for this order.
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
        for key in &self.order_by {
            Field::new(&key.field).resolve(def, "order field")?;
        }
        if let Some(cursor) = &self.after {
            self.order().check(cursor)?;
        }
        Ok(())
    }
}

/// One page of a search's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// The rows, in order.
    pub rows: Vec<Row>,
    /// Where the next page starts (set as [`Search::after`]), or `None`
    /// when no row follows this page.
    pub next: Option<Cursor>,
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
    pub(crate) fn project(inst: ActivityInstance, columns: Option<&[Field]>) -> Row {
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
