//! Queries over activity instances: filters, searches, aggregations, and
//! aggregations maintained incrementally.
//!
//! Everything here is a pure function of the instances handed in (for
//! example from [`crate::Store::instances`]); nothing reads store internals,
//! so the same logic serves the row store today and a columnar layout later.
//!
//! - [`Filter`]: `field operator operand`, parsed from the CLI form
//!   (`Amount>500`, `Customer starts with Con`, `end is empty`).
//! - [`Search`]: filters, status, a `last_modified` time range, a stable
//!   order (end time, active last, then id), a limit and a column choice,
//!   giving [`Row`]s.
//! - [`Aggregate`]: group by fields and/or a time [`BucketUnit`], with
//!   [`Measure`]s, giving an [`AggregateResult`] of typed [`Cell`]s.
//! - [`IncrementalAggregate`]: the same result, maintained one instance
//!   version at a time.
//!
//! Fields are item names or the system fields `id`, `status`, `begin`,
//! `end` and `last_modified` (lowercase, exact: item names may not collide
//! with them, see [`crate::model::SYSTEM_FIELDS`]).
//!
//! ```
//! use bamdb::model::{Timestamp, Value};
//! use bamdb::query::{Aggregate, Filter, Measure, Search};
//! use bamdb::{ActivityInstance, Status};
//!
//! let order = |id: &str, region: &str, amount: i64| ActivityInstance {
//!     activity: "PurchaseOrder".into(),
//!     id: id.into(),
//!     status: Status::Active,
//!     begin: Some(Timestamp::from_micros(0)),
//!     end: None,
//!     last_modified: Some(Timestamp::from_micros(0)),
//!     items: vec![("Region".into(), Value::from(region)), ("Amount".into(), Value::Int(amount))],
//!     continuations: vec![],
//!     references: vec![],
//!     relationships: vec![],
//! };
//! let data = vec![order("PO-1", "EU", 700), order("PO-2", "US", 300), order("PO-3", "EU", 900)];
//!
//! let mut search = Search::new("PurchaseOrder");
//! search.filters.push(Filter::parse("Amount > 500")?);
//! let rows = search.run(data.clone());
//! assert_eq!(rows.len(), 2);
//! assert_eq!(rows[0].get("id"), Some(&Value::from("PO-1")));
//!
//! let mut agg = Aggregate::new("PurchaseOrder");
//! agg.group_by.push("Region".into());
//! agg.measures = vec![Measure::parse("count")?, Measure::parse("sum:Amount")?];
//! let result = agg.run(data);
//! assert_eq!(result.columns, ["Region", "count", "sum:Amount"]);
//! assert!(result.to_table().contains("EU"));
//! # Ok::<(), bamdb::query::QueryError>(())
//! ```

mod aggregate;
mod cell;
pub(crate) mod columnar;
mod exact_sum;
mod field;
mod filter;
mod incremental;
mod measure;
mod search;

#[cfg(test)]
mod aggregate_tests;
#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod incremental_tests;
#[cfg(test)]
mod measure_tests;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
mod test_util;

pub(crate) use aggregate::AggregateRun;
pub use aggregate::{AggRow, Aggregate, AggregateResult, BucketUnit};
pub use cell::Cell;
pub use field::Field;
pub use filter::{Filter, Operator};
pub use incremental::IncrementalAggregate;
pub use measure::Measure;
pub use search::{Row, Search, StatusFilter};

/// Why a query could not be parsed or does not fit the activity definition.
/// Each message names the offending expression or field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A filter expression is malformed.
    #[error("invalid filter {expr:?}: {reason}")]
    FilterSyntax {
        /// The expression as given.
        expr: String,
        /// What is wrong.
        reason: String,
    },
    /// A measure spec (`count`, `sum:Amount`, `avg:duration(A,B)`, ...) is
    /// malformed.
    #[error("invalid measure {spec:?}: {reason}")]
    MeasureSyntax {
        /// The spec as given.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// A time bucket unit other than minute, hour, day or week.
    #[error("invalid time bucket {unit:?}: expected minute, hour, day or week")]
    BucketSyntax {
        /// The unit as given.
        unit: String,
    },
    /// The query names an activity other than the definition's.
    #[error("the query is on activity {query:?} but the definition is of {definition:?}")]
    WrongActivity {
        /// The query's activity.
        query: String,
        /// The definition's activity.
        definition: String,
    },
    /// A field that is neither an item of the activity nor a system field.
    #[error(
        "unknown {role} {field:?}: activity {activity} has no such item \
         (system fields: id, status, begin, end, last_modified)"
    )]
    UnknownField {
        /// Where it was used: `filter field`, `column`, `group-by field`, ...
        role: &'static str,
        /// The name as given.
        field: String,
        /// The activity.
        activity: String,
    },
    /// A search column chosen twice.
    #[error("column {column:?} is chosen twice")]
    DuplicateColumn {
        /// The column.
        column: String,
    },
    /// A field or operand whose type does not fit its use.
    #[error("{context}: {reason}")]
    TypeMismatch {
        /// The filter expression or measure.
        context: String,
        /// What does not fit, naming the types.
        reason: String,
    },
    /// A measure's exact value lies beyond the float range
    /// (±1.7976931348623157e308), so no float can show it.
    #[error(
        "measure {measure} of group {group} overflows: its exact value is beyond \
         the float range (±1.7976931348623157e308); narrow the groups or the filters"
    )]
    Overflow {
        /// The measure (`sum:Amount`).
        measure: String,
        /// The group's key cells (`[EU, 2026-11-22T00:00:00.000000Z]`).
        group: String,
    },
}
