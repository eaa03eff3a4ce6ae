//! What happens to an aggregation's groups once computed: `having`
//! conditions over the result's columns, an order ([`GroupOrder`]) and a
//! limit.
//!
//! - **having**: [`Filter`]s in the `--where` grammar whose fields are the
//!   result's columns: group-by fields, the bucket column (`day(end)`) and
//!   measure columns (`count`, `sum:Amount`,
//!   `p95:duration(Received,Shipped)`); a name with punctuation is written
//!   in backticks: ``--having '`sum:Amount` > 1000 and count >= 10'``. A
//!   measure may be written in any form its spec parses from
//!   (`` `SUM: Amount` ``). Every filter must hold for a group to be kept.
//!   Durations compare as whole **microseconds**
//!   (`` `p95:duration(A,B)` > 3600000000 `` is "over an hour"); a null
//!   cell (no value) passes only `is null` / `is empty`, as an unset
//!   field does.
//! - **order**: by columns, each ascending or descending; null cells sort
//!   last either way; ties keep the default order, the group keys
//!   ascending (which is also the order with none given).
//! - **limit**: at most this many groups, after `having` and the order.

use std::cmp::Ordering;
use std::fmt;

use super::cell::Cell;
use super::error::QueryError;
use super::field::{Field, ValueRef};
use super::filter::Filter;
use super::measure::Measure;
use super::result::{AggRow, AggregateResult};

/// The most columns an order may name (more cannot change the order:
/// a result has no more columns than this would need).
pub(crate) const MAX_ORDER_COLUMNS: usize = 64;

/// One column of a group order, ascending or descending.
///
/// ```
/// use bamdb::query::GroupOrder;
///
/// let o = GroupOrder::parse("count desc")?;
/// assert_eq!((o.column.as_str(), o.descending), ("count", true));
/// let o = GroupOrder::parse("`sum:Amount`")?;
/// assert_eq!((o.column.as_str(), o.descending), ("sum:Amount", false));
/// assert_eq!(GroupOrder::parse("p95:duration(A, B) DESC")?.to_string(), "p95:duration(A, B) desc");
/// # Ok::<(), bamdb::query::QueryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOrder {
    /// The column, as written: a result column name, or a measure in
    /// any spelling its spec parses from (`SUM: Amount`).
    pub column: String,
    /// Largest first.
    pub descending: bool,
}

impl GroupOrder {
    /// Parses `COLUMN`, `COLUMN asc` or `COLUMN desc` (ASCII case
    /// ignored); the column may be in backticks.
    pub fn parse(text: &str) -> Result<GroupOrder, QueryError> {
        let text = text.trim();
        let (column, descending) = match text.rsplit_once(char::is_whitespace) {
            Some((c, dir)) if dir.eq_ignore_ascii_case("desc") => (c.trim(), true),
            Some((c, dir)) if dir.eq_ignore_ascii_case("asc") => (c.trim(), false),
            _ => (text, false),
        };
        let column = column
            .strip_prefix('`')
            .and_then(|c| c.strip_suffix('`'))
            .unwrap_or(column);
        if column.is_empty() {
            return Err(QueryError::GroupOrderSyntax {
                order: text.chars().take(64).collect(),
            });
        }
        Ok(GroupOrder {
            column: column.to_owned(),
            descending,
        })
    }
}

impl fmt::Display for GroupOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = if self.descending { "desc" } else { "asc" };
        write!(f, "{} {dir}", self.column)
    }
}

/// The index of `name` among `columns`: the exact name, or a measure
/// written in another form its spec parses from (`SUM: Amount`).
pub(crate) fn resolve_column(columns: &[String], name: &str) -> Option<usize> {
    if let Some(i) = columns.iter().position(|c| c == name) {
        return Some(i);
    }
    let canonical = Measure::parse(name).ok()?.to_string();
    columns.iter().position(|c| *c == canonical)
}

fn unknown(role: &'static str, column: &str, columns: &[String]) -> QueryError {
    QueryError::UnknownColumn {
        role,
        column: column.to_owned(),
        columns: columns.join(", "),
    }
}

/// Checks that every column `having` and `order` name is one of `columns`.
pub(crate) fn validate(
    columns: &[String],
    having: &[Filter],
    order: &[GroupOrder],
) -> Result<(), QueryError> {
    for f in having {
        for field in f.fields() {
            if resolve_column(columns, field.name()).is_none() {
                return Err(unknown("--having", field.name(), columns));
            }
        }
    }
    if order.len() > MAX_ORDER_COLUMNS {
        return Err(QueryError::GroupOrderSyntax {
            order: format!("{} columns (at most {MAX_ORDER_COLUMNS})", order.len()),
        });
    }
    for o in order {
        if resolve_column(columns, &o.column).is_none() {
            return Err(unknown("--order-by", &o.column, columns));
        }
    }
    Ok(())
}

/// A cell as a filter reads it: durations as microseconds, zoned bucket
/// starts as their instant, null as unset.
fn value(cell: &Cell) -> Option<ValueRef<'_>> {
    match cell {
        Cell::Text(s) => Some(ValueRef::Text(s)),
        Cell::Int(i) | Cell::Duration(i) => Some(ValueRef::Int(*i)),
        Cell::Float(x) => Some(ValueRef::Float(*x)),
        Cell::Bool(b) => Some(ValueRef::Bool(*b)),
        Cell::Timestamp(t) | Cell::ZonedTimestamp { at: t, .. } => Some(ValueRef::Timestamp(*t)),
        Cell::Null => None,
    }
}

/// Applies `having`, `order` and `limit` to a result in key order.
/// Columns none resolves to read as unset (a store query refuses them
/// first, see [`validate`]).
pub(crate) fn shape(
    mut result: AggregateResult,
    having: &[Filter],
    order: &[GroupOrder],
    limit: Option<usize>,
) -> AggregateResult {
    if !having.is_empty() {
        let columns = &result.columns;
        result.rows.retain(|row: &AggRow| {
            having.iter().all(|f| {
                f.expr().eval(&mut |field: &Field| {
                    let i = resolve_column(columns, field.name())?;
                    value(row.cells.get(i)?)
                })
            })
        });
    }
    let keys: Vec<(usize, bool)> = order
        .iter()
        .filter_map(|o| Some((resolve_column(&result.columns, &o.column)?, o.descending)))
        .collect();
    if !keys.is_empty() {
        // Stable: ties keep the key order the rows came in.
        result.rows.sort_by(|a, b| {
            keys.iter()
                .map(|&(i, desc)| compare(a.cells.get(i), b.cells.get(i), desc))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
    }
    if let Some(n) = limit {
        result.rows.truncate(n);
    }
    result
}

/// Two cells of a column, nulls (and missing cells) last either way.
fn compare(a: Option<&Cell>, b: Option<&Cell>, descending: bool) -> Ordering {
    let null = |c: Option<&Cell>| matches!(c, None | Some(Cell::Null));
    match (a, b) {
        _ if null(a) || null(b) => null(a).cmp(&null(b)),
        (Some(a), Some(b)) if descending => b.total_cmp(a),
        (Some(a), Some(b)) => a.total_cmp(b),
        _ => Ordering::Equal,
    }
}
