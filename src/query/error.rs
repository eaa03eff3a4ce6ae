//! [`QueryError`]: why a query could not be parsed, does not fit the
//! activity definition, or overflows.

/// Why a query could not be parsed or does not fit the activity definition.
/// Each message names the offending expression or field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A filter expression is malformed.
    #[error("invalid filter {expr:?} at column {column}: {reason}")]
    FilterSyntax {
        /// The expression as given.
        expr: String,
        /// Where the bad token starts, in characters from 1.
        column: usize,
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
    /// A time bucket unit other than minute, hour, day, week, month,
    /// quarter or year.
    #[error(
        "invalid time bucket {unit:?}: expected minute, hour, day, week, month, quarter or year"
    )]
    BucketSyntax {
        /// The unit as given.
        unit: String,
    },
    /// A time zone that is neither UTC, a fixed offset nor an IANA name.
    #[error("invalid time zone {zone:?}: {reason}")]
    ZoneSyntax {
        /// The zone as given (its first 64 characters).
        zone: String,
        /// What is wrong.
        reason: String,
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
    /// A `--having` or `--order-by` column that is not one of the
    /// aggregation's result columns.
    #[error(
        "unknown {role} column {column:?}: the result's columns are {columns}; write a \
         name with punctuation in backticks, like `sum:Amount`"
    )]
    UnknownColumn {
        /// `--having` or `--order-by`.
        role: &'static str,
        /// The name as given.
        column: String,
        /// The result's columns, comma-separated.
        columns: String,
    },
    /// A group order that is not `COLUMN [asc|desc]`.
    #[error("invalid group order {order:?}: expected COLUMN, COLUMN asc or COLUMN desc")]
    GroupOrderSyntax {
        /// The order as given.
        order: String,
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
    /// An `--order-by` spec is malformed (`FIELD [asc|desc]`).
    #[error("invalid order {spec:?}: {reason}")]
    OrderSyntax {
        /// The spec as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A paging cursor cannot be used: damaged, or made by a search with
    /// another order.
    #[error("invalid cursor: {reason}")]
    Cursor {
        /// What is wrong with it.
        reason: String,
    },
    /// The measures that hold their values (`count_distinct`, `median`,
    /// percentiles) would hold more than
    /// [`MAX_HELD_VALUES`](super::measure::MAX_HELD_VALUES) in one query.
    #[error(
        "the query's {measures} would hold more than {limit} values (one per selected \
         instance per such measure); narrow it with --where, --since/--until or a \
         shorter time range, or ask fewer of these measures at once"
    )]
    TooManyValues {
        /// The measures that hold values, comma-separated.
        measures: String,
        /// The cap ([`MAX_HELD_VALUES`](super::measure::MAX_HELD_VALUES)).
        limit: u64,
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
