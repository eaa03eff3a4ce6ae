//! `bamdb agg`: an aggregation of the instances a selection selects.

use bamdb::query::{
    Aggregate, AggregateResult, BucketUnit, Cell as AggCell, Filter, GroupOrder, Measure, Zone,
};

use super::output::{Delimited, Out};
use super::reading::{open_reading, ReadStore};
use super::selection::{query_failed, usage, Format, Selection};
use super::table::{escape, lines};
use super::{out_line, print_line, CliError, EXIT_OK};

/// Arguments of `agg`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Measures: count, count_distinct:FIELD, sum:ITEM, avg:ITEM, min:ITEM, max:ITEM,
median:ITEM and percentiles p50:ITEM, p90:ITEM, p95:ITEM, p99:ITEM (any pN, N
from 0 to 100), and the same over durations between two timestamp fields:
avg:duration(Received,Shipped), max:duration(A,B), median:duration(A,B),
p95:duration(A,B) (instances missing either milestone are left out). With no
--measure, count. Unset values are ignored.
  count_distinct  different values of any field (text exactly: EU and eu are two)
  median, pN      exact, interpolated between the two closest ranks as DuckDB's
                  quantile_cont (pos = N/100 * (n-1)); numbers give a float,
                  durations a duration rounded to the microsecond. Together
                  with count_distinct they hold one value per selected instance:
                  a query holding more than 16,777,216 is refused (narrow it
                  with --where or --since/--until). Real-time aggregations
                  refuse them.
Buckets: --bucket UNIT:FIELD with UNIT minute, hour, day, week (ISO, Monday),
month, quarter or year; each bucket is shown by its start. --tz ZONE cuts them
in a time zone: UTC (default), a fixed offset (+05:30, -08:00) or an IANA name
(Europe/Paris, America/New_York; bundled database, daylight saving included:
a day is 23 or 25 hours across a change, and the repeated hour of a fall-back
is two hour buckets). Outside UTC a bucket prints with the zone's offset at its
start (2026-03-01T00:00:00.000000+01:00); in UTC with Z, as without --tz.
Groups: --having EXPR keeps the groups meeting a condition over the result's
columns (group fields, the bucket column such as day(end), and measure columns
such as count, `sum:Amount`, `p95:duration(Received,Shipped)`), in the --where
grammar; names with punctuation go in backticks. Durations compare as whole
microseconds (3600000000 is an hour); an empty (null) measure passes only
'is null'. --order-by 'COLUMN [asc|desc]' (repeatable) sorts the groups, empty
cells last; ties and the default order are the group keys ascending.
--limit N keeps the first N groups.
Durations print as text in the table and as microseconds in JSON, CSV and
TSV. Table cells show control characters and terminal escapes escaped
(\\n, \\u{1b}); CSV follows RFC 4180, TSV escapes tabs, line breaks and
backslashes.

Examples:
  bamdb agg --store DIR PurchaseOrder --group-by Region --measure count --measure avg:Amount
  bamdb agg --store DIR PurchaseOrder --group-by Region --bucket day:end --format json
  bamdb agg --store DIR PurchaseOrder --group-by Region --measure 'p95:duration(Received,Shipped)'
  bamdb agg --store DIR PurchaseOrder --bucket month:end --tz Europe/Paris --measure count
  bamdb agg --store DIR PurchaseOrder --group-by Customer --measure count --measure sum:Amount \\
      --having '`sum:Amount` > 1000 and count >= 10' --order-by 'sum:Amount desc' --limit 20

Exit codes:
  0  success
  2  bad expression, measure, bucket, zone, --having or --order-by column,
     unknown field, an activity that is not deployed, --status pending (search
     only), or the store could not be used"
)]
pub struct AggArgs {
    #[command(flatten)]
    store: ReadStore,
    /// The activity name, e.g. PurchaseOrder.
    activity: String,
    /// Fields to group by, comma-separated or repeated.
    #[arg(long, value_name = "ITEM[,ITEM]", value_delimiter = ',')]
    group_by: Vec<String>,
    /// A time bucket of a timestamp field: UNIT:FIELD with UNIT minute, hour, day, week
    /// (ISO, from Monday), month, quarter or year.
    #[arg(long, value_name = "UNIT:ITEM")]
    bucket: Option<String>,
    /// The time zone buckets are cut in: UTC (the default), a fixed offset such as +05:30
    /// or -08:00, or an IANA name such as Europe/Paris (daylight saving included).
    #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
    tz: Option<String>,
    /// What to compute per group; repeat for several.
    #[arg(long = "measure", value_name = "SPEC")]
    measures: Vec<String>,
    /// Keep only the groups meeting EXPR, a condition over the result's columns in the
    /// --where grammar; repeat to require several. Columns with punctuation in
    /// backticks: --having '`sum:Amount` > 1000 and count >= 10'.
    #[arg(long, value_name = "EXPR", help_heading = "Groups")]
    having: Vec<String>,
    /// Order the groups by a result column, "COLUMN [asc|desc]" (e.g. "count desc");
    /// repeat for ties. Default: the group keys ascending, which also break ties.
    #[arg(
        long = "order-by",
        value_name = "COLUMN [asc|desc]",
        help_heading = "Groups"
    )]
    order_by: Vec<String>,
    /// At most N groups (after --having and --order-by).
    #[arg(long, value_name = "N", help_heading = "Groups")]
    limit: Option<usize>,
    #[command(flatten)]
    selection: Selection,
    /// table: aligned columns for people; json: {"columns":[...],"rows":[[...],...]};
    /// jsonl: one object per group; csv, tsv: a header line, then one line per group.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// csv and tsv: leave out the header line.
    #[arg(long)]
    no_header: bool,
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
    if let Some(tz) = &args.tz {
        agg.zone = Zone::parse(tz).map_err(|e| usage(&format!("--tz: {e}")))?;
    }
    let specs = if args.measures.is_empty() {
        vec!["count".to_owned()]
    } else {
        args.measures
    };
    agg.measures = specs
        .iter()
        .map(|m| Measure::parse(m).map_err(|e| usage(&format!("--measure: {e}"))))
        .collect::<Result<_, _>>()?;
    agg.having = args
        .having
        .iter()
        .map(|h| Filter::parse(h).map_err(|e| usage(&format!("--having: {e}"))))
        .collect::<Result<_, _>>()?;
    agg.order_by = args
        .order_by
        .iter()
        .map(|o| GroupOrder::parse(o).map_err(|e| usage(&format!("--order-by: {e}"))))
        .collect::<Result<_, _>>()?;
    agg.limit = args.limit;
    agg.filters = sel.filters;
    agg.status = sel.status.ok_or_else(|| {
        usage("agg: --status pending is for search (pending records are not instances)")
    })?;
    agg.since = sel.since;
    agg.until = sel.until;
    agg.include_archived = sel.archived;
    let dir = &args.store.store;
    let store = open_reading(&args.store)?;
    let result = store
        .aggregate(&agg)
        .map_err(|e| query_failed("agg", dir, &e))?;
    store.close()?;
    write_result(result, args.format, args.no_header)?;
    Ok(EXIT_OK)
}

/// Writes the result in `format` (see `agg --help`).
fn write_result(result: AggregateResult, format: Format, no_header: bool) -> Result<(), CliError> {
    let delimited = match format {
        Format::Table => return out_line(lines(&escaped(result).to_table())),
        Format::Json => return print_line(&result),
        Format::Jsonl => {
            let mut out = Out::new();
            for row in &result.rows {
                let object: serde_json::Map<String, serde_json::Value> = result
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.cells.iter().map(|c| serde_json::json!(c)))
                    .collect();
                out.json_line(&object)?;
            }
            return out.finish();
        }
        Format::Csv => Delimited::Csv,
        Format::Tsv => Delimited::Tsv,
    };
    let mut out = Out::new();
    if !no_header {
        out.line(&delimited.header(&result.columns))?;
    }
    for row in &result.rows {
        let fields: Vec<Option<String>> = row.cells.iter().map(cell_text).collect();
        out.line(&delimited.record(fields.iter().map(Option::as_deref)))?;
    }
    out.finish()
}

/// A cell as a delimited field: its JSON form unquoted (text as it is,
/// times in RFC 3339, durations in microseconds); `None` for null.
fn cell_text(cell: &AggCell) -> Option<String> {
    match serde_json::json!(cell) {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
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
