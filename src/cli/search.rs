//! `bamdb search`: the instances of an activity that a selection selects,
//! as rows (or the pending records of an activity).

use bamdb::model::Value;
use bamdb::query::Search;

use super::reading::{open_reading, ReadStore};
use super::selection::{query_failed, usage, Format, Parsed, Selection};
use super::table::{table, Cell};
use super::{out_line, print_line, CliError, EXIT_OK};

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
