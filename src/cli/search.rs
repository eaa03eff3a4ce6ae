//! `bamdb search`: the instances of an activity that a selection selects,
//! as rows (or the pending records of an activity).

use bamdb::model::Value;
use bamdb::query::{Aggregate, Cell as AggCell, Cursor, Measure, Row};
use bamdb::StoreError;

use super::output::{plain, Delimited, Out};
use super::reading::{open_reading, ReadStore};
use super::selection::{query_failed, usage, Format, Parsed, Selection};
use super::table::{lines, table, Cell};
use super::{err_line, out_line, print_line, CliError, EXIT_OK};

/// Arguments of `search`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Order: by the --order-by keys in turn, then id; without one, by end time
(active instances, which have no end, last), then id. Unset values sort last
in both directions. Text compares by code point (case-sensitive), numbers by
value, times chronologically.

Pages: --limit N returns at most N rows after skipping --offset rows. When
rows are left after them, the cursor of the next page is printed on standard
error (\"more rows: continue with --after c1...\"); the same search with
--after CURSOR goes on after the last row shown, without overlap or gap
however the store changes meanwhile (a row whose own order key changes can
move across the boundary: order by id or begin to page a store being
written). Rows are written as they are read, a page at a time, so a long
result is never held whole (ordered first by id or status: read at once;
a table holds its rows to align them).

Formats: jsonl (default; one object per row), json (one array), table,
csv (RFC 4180), tsv (tabs, line breaks and backslashes escaped as \\t \\n \\\\).
Default columns: id, status, begin, end, last_modified, then the items (json
and table: every set item; csv and tsv: every item of the definition, in
order, empty where unset). Table cells show control characters and terminal
escapes escaped (\\n, \\u{1b}). --count prints the number of matches only.

--status pending lists pending records instead: events for ids that were
never begun and are not linked to a begun instance yet (queries and get do
not see them). One JSON object per line, {\"activity\",\"id\" (the id the
record waits on), \"ids\" (it and the continuation tokens under it),
\"items\" (set so far), \"ended\" (every id of it has ended),
\"last_modified\"}, ordered by id; --since, --until (on last_modified),
--limit and --format apply, --where, --columns and --order-by do not.
`bamdb maintain --remove ACTIVITY ID` removes one that will never be begun.

Examples:
  bamdb search --store DIR PurchaseOrder --where 'Region = EU or Region = US'
  bamdb search --store DIR PurchaseOrder --where 'Status in (Shipped, Invoiced)' --count
  bamdb search --store DIR PurchaseOrder --where 'Customer icontains contoso' --format csv
  bamdb search --store DIR PurchaseOrder --order-by 'begin desc' --limit 20 --format table
  bamdb search --store DIR PurchaseOrder --order-by id --limit 100 --after c17b22...
  bamdb search --store DIR PurchaseOrder --status pending

Exit codes:
  0  success (also when nothing matches)
  2  bad expression, order or cursor, unknown field, an activity that is not
     deployed, or the store could not be used (not a store, locked, damaged,
     I/O)"
)]
pub struct SearchArgs {
    #[command(flatten)]
    store: ReadStore,
    /// The activity name, e.g. PurchaseOrder.
    activity: String,
    #[command(flatten)]
    selection: Selection,
    /// An order key: FIELD, FIELD asc or FIELD desc; repeat for more keys.
    #[arg(
        long = "order-by",
        value_name = "FIELD [asc|desc]",
        help_heading = "Rows"
    )]
    order_by: Vec<String>,
    /// At most N rows.
    #[arg(long, value_name = "N", help_heading = "Rows")]
    limit: Option<usize>,
    /// Skip the first N rows (after --after).
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Rows")]
    offset: usize,
    /// Only rows after this cursor (printed by a search with --limit).
    #[arg(long, value_name = "CURSOR", help_heading = "Rows")]
    after: Option<String>,
    /// The columns to show, comma-separated (items or system fields).
    #[arg(long, value_name = "A,B", value_delimiter = ',', help_heading = "Rows")]
    columns: Option<Vec<String>>,
    /// Print only the number of matching instances.
    #[arg(long, help_heading = "Rows")]
    count: bool,
    /// jsonl, json, table, csv or tsv (see below).
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// csv and tsv: leave out the header line.
    #[arg(long)]
    no_header: bool,
}

pub fn search(args: SearchArgs) -> Result<i32, CliError> {
    let sel = args.selection.parse()?;
    let Some(status) = sel.status else {
        return pending(args, sel);
    };
    let mut search = sel.search(&args.activity, status, &args.order_by)?;
    search.limit = args.limit;
    search.offset = args.offset;
    search.after = args
        .after
        .as_deref()
        .map(|c| Cursor::parse(c).map_err(|e| usage(&format!("--after: {e}"))))
        .transpose()?;
    search.columns = args
        .columns
        .clone()
        .map(|c| c.into_iter().map(|s| s.trim().to_owned()).collect());
    if args.count {
        if args.limit.is_some()
            || args.offset > 0
            || search.after.is_some()
            || !search.order_by.is_empty()
            || search.columns.is_some()
        {
            return Err(usage(
                "--count counts every match: --limit, --offset, --after, --order-by and \
                 --columns do not apply to it",
            ));
        }
        return count(&args, search.selection);
    }
    let dir = &args.store.store;
    let store = open_reading(&args.store)?;
    let failed = |e: &StoreError| query_failed("search", dir, e);
    let def = store.definition(&args.activity).map_err(|e| failed(&e))?;
    let mut rows = store.search_stream(&search).map_err(|e| failed(&e))?;
    let mut out = Out::new();
    match args.format {
        Format::Jsonl => {
            for row in rows.by_ref() {
                out.json_line(&row.map_err(|e| failed(&e))?)?;
            }
        }
        Format::Json => {
            let mut first = true;
            for row in rows.by_ref() {
                out.raw(if first { "[\n" } else { ",\n" })?;
                out.json(&row.map_err(|e| failed(&e))?)?;
                first = false;
            }
            out.line(if first { "[]" } else { "\n]" })?;
        }
        Format::Csv | Format::Tsv => {
            let delimited = if args.format == Format::Csv {
                Delimited::Csv
            } else {
                Delimited::Tsv
            };
            let columns: Vec<String> = search.columns.clone().unwrap_or_else(|| {
                ["id", "status", "begin", "end", "last_modified"]
                    .into_iter()
                    .map(String::from)
                    .chain(def.items.iter().map(|i| i.name.clone()))
                    .collect()
            });
            if !args.no_header {
                out.line(&delimited.header(&columns))?;
            }
            for row in rows.by_ref() {
                let row = row.map_err(|e| failed(&e))?;
                let fields: Vec<_> = columns.iter().map(|c| plain(row.get(c))).collect();
                out.line(&delimited.record(fields.iter().map(|f| f.as_deref())))?;
            }
        }
        Format::Table => {
            let rows: Vec<Row> = rows
                .by_ref()
                .collect::<Result<_, _>>()
                .map_err(|e| failed(&e))?;
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
            out.line(lines(&table(&columns, &cells)))?;
            let n = rows.len();
            out.line(&format!("({n} row{})", if n == 1 { "" } else { "s" }))?;
        }
    }
    out.finish()?;
    if let Some(cursor) = rows.next_page() {
        err_line(&format!("more rows: continue with --after {cursor}"));
    }
    store.close()?;
    Ok(EXIT_OK)
}

/// `search --count`: the number of instances the selection selects,
/// counted by an aggregation (from the files' columns where it can).
fn count(args: &SearchArgs, selection: bamdb::query::Selection) -> Result<i32, CliError> {
    let dir = &args.store.store;
    let store = open_reading(&args.store)?;
    let mut agg = Aggregate::new(&args.activity);
    agg.selection = selection;
    agg.measures = vec![Measure::Count];
    let result = store
        .aggregate(&agg)
        .map_err(|e| query_failed("search", dir, &e))?;
    store.close()?;
    let n = match result.rows.first().and_then(|r| r.cells.first()) {
        Some(AggCell::Int(n)) => *n,
        _ => 0,
    };
    out_line(&n.to_string())?;
    Ok(EXIT_OK)
}

/// `search --status pending`: the pending records of the activity.
fn pending(args: SearchArgs, sel: Parsed) -> Result<i32, CliError> {
    if !sel.filters.is_empty()
        || sel.archived
        || args.columns.is_some()
        || !args.order_by.is_empty()
        || args.after.is_some()
        || args.offset > 0
        || args.count
    {
        return Err(usage(
            "--where, --archived, --columns, --order-by, --offset, --after and --count do not \
             apply to \
             --status pending (pending records are not instances yet); --since, --until and \
             --limit do",
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
        Format::Jsonl => {
            for r in &records {
                print_line(r)?;
            }
        }
        Format::Json => print_line(&records)?,
        Format::Table | Format::Csv | Format::Tsv => {
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
            let delimited = match args.format {
                Format::Csv => Delimited::Csv,
                Format::Tsv => Delimited::Tsv,
                _ => {
                    out_line(lines(&table(&columns, &cells)))?;
                    let n = records.len();
                    out_line(&format!(
                        "({n} pending record{})",
                        if n == 1 { "" } else { "s" }
                    ))?;
                    return Ok(EXIT_OK);
                }
            };
            let mut out = Out::new();
            if !args.no_header {
                out.line(&delimited.header(&columns))?;
            }
            // Pending cells do not tell an unset item from the empty text:
            // both are written as unset.
            for row in &cells {
                out.line(
                    &delimited.record(
                        row.iter()
                            .map(|(text, _)| (!text.is_empty()).then_some(text.as_str())),
                    ),
                )?;
            }
            out.finish()?;
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
