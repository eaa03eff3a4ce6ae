//! `bamdb search` and `bamdb agg` (they share the selection flags: activity,
//! status, conditions, time range): the query engine (`bamdb::query`) from
//! the shell. Expressions are parsed before the store
//! is opened, so a typo fails fast with exit code 2.

use std::path::Path;

use bamdb::model::{StatusFilter, Timestamp, Value};
use bamdb::query::{
    Aggregate, AggregateResult, BucketUnit, Cell as AggCell, Filter, Measure, QueryError, Search,
};
use bamdb::StoreError;
use clap::ValueEnum;

use super::reading::{open_reading, ReadStore};
use super::table::{escape, table, Cell};
use super::{out_line, print_line, CliError, EXIT_OK};

const WHERE_HELP: &str =
    "A condition, `FIELD OPERATOR [OPERAND]`; repeat for several (all must hold).
Operators: = != > >= < <= (spaces around them optional), `is empty`,
`is not empty`, `starts with`. Fields: items of the activity or the system
fields id, status, begin, end, last_modified. Timestamps in RFC 3339.
Examples: 'Amount>500'  'Region = EU'  'Status is empty'
          'Customer starts with Con'  'end >= 2026-11-01T00:00:00Z'";

/// Which instances by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Only active (begun, not ended) instances.
    Active,
    /// Only completed instances.
    Completed,
    /// Both active and completed.
    All,
    /// search only: pending records instead of instances (events for ids
    /// not begun, and not linked to a begun instance, yet).
    Pending,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON (search: one object per line; agg: {"columns":[...],"rows":[[...]]}).
    Json,
    /// An aligned text table for people.
    Table,
}

/// Selection arguments shared by `search` and `agg`.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// A condition (see below); repeat for several, all must hold.
    #[arg(long = "where", value_name = "EXPR", help_heading = "Selection", long_help = WHERE_HELP)]
    filters: Vec<String>,
    /// Active, completed or all (both) instances; search also takes
    /// pending: pending records instead of instances.
    #[arg(long, value_enum, default_value = "all", help_heading = "Selection")]
    status: StatusArg,
    /// Only instances last modified at or after T (RFC 3339, e.g. 2026-11-01T00:00:00Z).
    #[arg(long, value_name = "T", help_heading = "Selection")]
    since: Option<String>,
    /// Only instances last modified before T (RFC 3339).
    #[arg(long, value_name = "T", help_heading = "Selection")]
    until: Option<String>,
}

struct Parsed {
    filters: Vec<Filter>,
    /// `None`: pending records.
    status: Option<StatusFilter>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
}

impl Selection {
    fn parse(&self) -> Result<Parsed, CliError> {
        let filters = self
            .filters
            .iter()
            .map(|e| Filter::parse(e).map_err(|e| usage(&format!("--where: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let status = match self.status {
            StatusArg::Active => Some(StatusFilter::Active),
            StatusArg::Completed => Some(StatusFilter::Completed),
            StatusArg::All => Some(StatusFilter::All),
            StatusArg::Pending => None,
        };
        Ok(Parsed {
            filters,
            status,
            since: parse_time("--since", self.since.as_deref())?,
            until: parse_time("--until", self.until.as_deref())?,
        })
    }
}

fn parse_time(flag: &str, text: Option<&str>) -> Result<Option<Timestamp>, CliError> {
    text.map(|t| Timestamp::parse_rfc3339(t).map_err(|e| usage(&format!("{flag}: {e}"))))
        .transpose()
}

pub(super) fn usage(message: &str) -> CliError {
    CliError::fatal(format!("{message}; see --help for the syntax"))
}

/// A store error of a query: query and input errors are usage errors with
/// their own message; the rest gets the store advice.
pub(super) fn query_failed(what: &str, dir: &Path, err: &StoreError) -> CliError {
    match err {
        StoreError::Query(q) => CliError::fatal(query_advice(q)),
        StoreError::InvalidInput { reason } => CliError::fatal(format!(
            "{what} in store {}: {reason}; check the activity name (case-sensitive) or deploy it first",
            dir.display()
        )),
        other => CliError::store(what, dir, other),
    }
}

fn query_advice(q: &QueryError) -> String {
    match q {
        QueryError::UnknownField { .. } => {
            format!("{q}; check the spelling (names are case-sensitive)")
        }
        _ => format!("{q}; see --help for the syntax"),
    }
}

/// Arguments of `search`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Rows come ordered by end time (active instances last), then id.
Default columns: id, status, begin, end, last_modified, then every set item.
Table cells show control characters and terminal escapes escaped (\n, \u{1b}).

--status pending lists pending records instead: events for ids that were
never begun and are not linked to a begun instance yet (queries and get do
not see them). One JSON object per line, {\"activity\",\"id\" (the id the
record waits on), \"ids\" (it and the continuation tokens under it),
\"items\" (set so far), \"ended\" (every id of it has ended),
\"last_modified\"}, ordered by id; --since, --until (on last_modified),
--limit and --format apply, --where and --columns do not. `bamdb maintain
--remove ACTIVITY ID` removes one that will never be begun.

Examples:
  bamdb search --store DIR PurchaseOrder --where 'Amount>500' --where 'Region = EU'
  bamdb search --store DIR PurchaseOrder --status active --columns id,Customer --format table
  bamdb search --store DIR PurchaseOrder --status pending

Exit codes:
  0  success (also when nothing matches)
  2  bad expression, unknown field, an activity that is not deployed, or the
     store could not be used (not a store, locked, damaged, I/O)"
)]
pub struct SearchArgs {
    #[command(flatten)]
    store: ReadStore,
    /// The activity name, e.g. PurchaseOrder.
    activity: String,
    #[command(flatten)]
    selection: Selection,
    /// At most N rows.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// The columns to show, comma-separated (items or system fields).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    columns: Option<Vec<String>>,
    /// json: one JSON object per line; table: aligned columns.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

pub fn search(args: SearchArgs) -> Result<i32, CliError> {
    let sel = args.selection.parse()?;
    let Some(status) = sel.status else {
        return pending(args, sel);
    };
    let mut search = Search::new(&args.activity);
    search.filters = sel.filters;
    search.status = status;
    search.since = sel.since;
    search.until = sel.until;
    search.limit = args.limit;
    search.columns = args
        .columns
        .map(|c| c.into_iter().map(|s| s.trim().to_owned()).collect());
    let dir = &args.store.store;
    let store = open_reading(&args.store)?;
    let rows = store
        .search(&search)
        .map_err(|e| query_failed("search", dir, &e))?;
    store.close()?;
    match args.format {
        Format::Json => {
            for row in &rows {
                print_line(row)?;
            }
        }
        Format::Table => {
            let mut columns: Vec<String> = Vec::new();
            for row in &rows {
                for c in row.columns() {
                    if !columns.iter().any(|k| k == c) {
                        columns.push(c.to_owned());
                    }
                }
            }
            if columns.is_empty() {
                columns = search
                    .columns
                    .clone()
                    .unwrap_or_else(|| vec!["id".to_owned(), "status".to_owned()]);
            }
            let cells: Vec<Vec<Cell>> = rows
                .iter()
                .map(|row| {
                    columns
                        .iter()
                        .map(|c| row.get(c).map(value_cell).unwrap_or_default())
                        .collect()
                })
                .collect();
            out_line(table(&columns, &cells).trim_end())?;
            let n = rows.len();
            out_line(&format!("({n} row{})", if n == 1 { "" } else { "s" }))?;
        }
    }
    Ok(EXIT_OK)
}

/// `search --status pending`: the pending records of the activity.
fn pending(args: SearchArgs, sel: Parsed) -> Result<i32, CliError> {
    if !sel.filters.is_empty() || args.columns.is_some() {
        return Err(usage(
            "--where and --columns do not apply to --status pending (pending records are not \
             instances yet); --since, --until and --limit do",
        ));
    }
    let dir = &args.store.store;
    let store = open_reading(&args.store)?;
    // The same answer as a search for an activity that is not deployed.
    store
        .definition(&args.activity)
        .map_err(|e| query_failed("search", dir, &e))?;
    let mut records = store
        .pending(Some(&args.activity))
        .map_err(|e| query_failed("search", dir, &e))?;
    store.close()?;
    records.retain(|r| {
        let t = r.last_modified;
        sel.since.is_none_or(|s| t.is_some_and(|t| t >= s))
            && sel.until.is_none_or(|u| t.is_some_and(|t| t < u))
    });
    if let Some(n) = args.limit {
        records.truncate(n);
    }
    match args.format {
        Format::Json => {
            for r in &records {
                print_line(r)?;
            }
        }
        Format::Table => {
            let mut columns: Vec<String> = ["id", "ids", "ended", "last_modified"]
                .map(String::from)
                .to_vec();
            for r in &records {
                for (name, _) in &r.items {
                    if !columns.contains(name) {
                        columns.push(name.clone());
                    }
                }
            }
            let cells: Vec<Vec<Cell>> = records
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .map(|c| match c.as_str() {
                            "id" => (r.id.clone(), false),
                            "ids" => (r.ids.join(","), false),
                            "ended" => (r.ended.to_string(), false),
                            "last_modified" => (
                                r.last_modified.map(|t| t.to_string()).unwrap_or_default(),
                                false,
                            ),
                            item => match r.items.iter().find(|(n, _)| n == item) {
                                None => (String::new(), false),
                                Some((_, v)) => value_cell(v),
                            },
                        })
                        .collect()
                })
                .collect();
            out_line(table(&columns, &cells).trim_end())?;
            let n = records.len();
            out_line(&format!(
                "({n} pending record{})",
                if n == 1 { "" } else { "s" }
            ))?;
        }
    }
    Ok(EXIT_OK)
}

/// A value as a table cell: numbers right-aligned, text as it is (the
/// table escapes it).
fn value_cell(v: &Value) -> Cell {
    match v {
        Value::Text(t) => (t.clone(), false),
        Value::Int(_) | Value::Float(_) => (v.to_string(), true),
        _ => (v.to_string(), false),
    }
}

/// Arguments of `agg`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Measures: count, sum:ITEM, avg:ITEM, min:ITEM, max:ITEM, and durations
between two timestamp items: avg:duration(Received,Shipped), max:duration(A,B)
(instances missing either milestone are left out). With no --measure, count.
Durations print as text in the table and as microseconds in JSON. Table
cells show control characters and terminal escapes escaped (\n, \u{1b}).

Examples:
  bamdb agg --store DIR PurchaseOrder --group-by Region --measure count --measure avg:Amount
  bamdb agg --store DIR PurchaseOrder --group-by Region --bucket day:end --format json

Exit codes:
  0  success
  2  bad expression, measure or bucket, unknown field, an activity that is not
     deployed, --status pending (search only), or the store could not be used"
)]
pub struct AggArgs {
    #[command(flatten)]
    store: ReadStore,
    /// The activity name, e.g. PurchaseOrder.
    activity: String,
    /// Fields to group by, comma-separated or repeated.
    #[arg(long, value_name = "ITEM[,ITEM]", value_delimiter = ',')]
    group_by: Vec<String>,
    /// A time bucket of a timestamp field: UNIT:FIELD with UNIT minute, hour, day or week.
    #[arg(long, value_name = "UNIT:ITEM")]
    bucket: Option<String>,
    /// What to compute per group; repeat for several.
    #[arg(long = "measure", value_name = "SPEC")]
    measures: Vec<String>,
    #[command(flatten)]
    selection: Selection,
    /// table: aligned columns for people; json: {"columns":[...],"rows":[[...],...]}.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn agg(args: AggArgs) -> Result<i32, CliError> {
    let sel = args.selection.parse()?;
    let mut agg = Aggregate::new(&args.activity);
    agg.group_by = args
        .group_by
        .iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    agg.bucket = args.bucket.as_deref().map(parse_bucket).transpose()?;
    let specs = if args.measures.is_empty() {
        vec!["count".to_owned()]
    } else {
        args.measures
    };
    agg.measures = specs
        .iter()
        .map(|m| Measure::parse(m).map_err(|e| usage(&format!("--measure: {e}"))))
        .collect::<Result<_, _>>()?;
    agg.filters = sel.filters;
    agg.status = sel.status.ok_or_else(|| {
        usage("agg: --status pending is for search (pending records are not instances)")
    })?;
    agg.since = sel.since;
    agg.until = sel.until;
    let dir = &args.store.store;
    let store = open_reading(&args.store)?;
    let result = store
        .aggregate(&agg)
        .map_err(|e| query_failed("agg", dir, &e))?;
    store.close()?;
    match args.format {
        Format::Table => out_line(escaped(result).to_table().trim_end())?,
        Format::Json => print_line(&result)?,
    }
    Ok(EXIT_OK)
}

/// The result with its text cells and column names escaped for a table
/// (numbers keep the library's table formatting).
pub fn escaped(mut result: AggregateResult) -> AggregateResult {
    for c in &mut result.columns {
        *c = escape(c);
    }
    for row in &mut result.rows {
        for cell in &mut row.cells {
            if let AggCell::Text(t) = cell {
                *t = escape(t);
            }
        }
    }
    result
}

fn parse_bucket(text: &str) -> Result<(BucketUnit, String), CliError> {
    let (unit, field) = text.split_once(':').ok_or_else(|| {
        usage(&format!(
            "--bucket {text:?}: expected UNIT:FIELD, e.g. hour:end or day:Received"
        ))
    })?;
    let unit = BucketUnit::parse(unit).map_err(|e| usage(&format!("--bucket: {e}")))?;
    let field = field.trim();
    if field.is_empty() {
        return Err(usage(&format!(
            "--bucket {text:?}: missing the field after ':'"
        )));
    }
    Ok((unit, field.to_owned()))
}
