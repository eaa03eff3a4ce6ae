//! Queries over activity instances: filters, searches, aggregations, and
//! aggregations maintained incrementally.
//!
//! The query logic is a pure function of the instances handed in (for
//! example from [`crate::Store::instances`]), or of an import file's column
//! projection (`columnar`); `run` executes a query over a store's snapshot
//! (in-memory instances and import files), read through a small trait the
//! store implements, so nothing here imports the bus or the store.
//!
//! - [`Filter`]: conditions (`field operator operand`) combined with
//!   `and`, `or`, `not` and parentheses, parsed from the `--where` grammar
//!   (`Region in (EU, US) and Amount between 100 and 500`,
//!   `Customer icontains contoso`, `Shipped > Received`, `end >= now-7d`).
//! - [`Selection`]: which instances: an activity, filters, a status
//!   ([`crate::model::StatusFilter`]) and a `last_modified` time range.
//! - [`Search`]: a selection, an order ([`OrderBy`] keys, then id; by
//!   default end time, active last), a page (a [`Cursor`] to resume after,
//!   an offset, a limit) and a column choice, giving [`Row`]s.
//! - [`Aggregate`]: a selection grouped by fields and/or a time [`BucketUnit`]
//!   (minute to year, cut in a [`Zone`]: UTC, a fixed offset or an IANA
//!   zone), with [`Measure`]s (count, count_distinct, sum, avg, min, max,
//!   median and percentiles of numbers and durations), `having` conditions
//!   over its columns and a [`GroupOrder`] and limit, giving an
//!   [`AggregateResult`] of typed [`Cell`]s.
//! - [`IncrementalAggregate`]: the same result, maintained one instance
//!   version at a time.
//!
//! Fields are item names or the system fields `id`, `status`, `begin`,
//! `end` and `last_modified` (lowercase, exact: item names may not collide
//! with them, see [`crate::model::SYSTEM_FIELDS`]).
//!
//! # Layering
//! Each file imports only files listed before it (no circles):
//! `error`, `field`, `literal`, `condition`, `expr`, `grammar`, `filter`,
//! `order`, `cell`, `exact_sum`, `held`, `measure`, `zone`, `bucket`,
//! `selection`, `result`, `shaping`, `plan`, `columnar`, `search`, `aggregate`,
//! `incremental`, `totals_image`, `run`. The row path (`search`,
//! `aggregate`) and the column path (`columnar`) share what lies below them
//! (`selection`, `plan`); only `run` knows import files as such;
//! `totals_image` is the checkpoint's form of an incremental aggregate's
//! totals.
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
mod bucket;
mod cell;
pub(crate) mod columnar;
mod condition;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use columnar::rows_examined;
mod error;
mod exact_sum;
mod expr;
mod field;
mod filter;
mod grammar;
mod held;
mod incremental;
mod literal;
mod measure;
mod order;
mod plan;
mod result;
pub(crate) mod run;
mod search;
mod selection;
mod shaping;
mod totals_image;
mod zone;

#[cfg(test)]
mod aggregate_tests;
#[cfg(test)]
mod bucket_tests;
#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod grammar_tests;
#[cfg(test)]
mod incremental_tests;
#[cfg(test)]
mod measure_tests;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
mod shaping_tests;
#[cfg(test)]
mod test_util;

/// Which instances a query reads, by status (defined with the activity
/// model; named here too because every query takes one).
pub use crate::model::StatusFilter;
pub use aggregate::Aggregate;
pub use bucket::BucketUnit;
pub use cell::Cell;
pub use condition::{Condition, Operand, Operator};
pub use error::QueryError;
pub use expr::Expr;
pub use field::Field;
pub use filter::Filter;
pub use incremental::IncrementalAggregate;
pub use literal::Literal;
pub use measure::{Measure, MAX_HELD_VALUES};
pub use order::{Cursor, OrderBy};
pub use result::{AggRow, AggregateResult};
pub use search::{Row, Search, SearchPage};
pub use selection::Selection;
pub use shaping::GroupOrder;
pub(crate) use totals_image::TotalsImage;
pub use zone::Zone;
