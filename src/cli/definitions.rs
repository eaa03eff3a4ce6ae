//! `bamdb definitions`: the deployed activity definitions, as JSON (the
//! form `deploy` reads, so a store's definitions can be copied to another)
//! or as a table of their items.

use bamdb::model::ItemType;

use super::reading::{open_reading, ReadStore};
use super::table::{lines, table, Cell};
use super::{out_line, print_pretty, CliError, EXIT_OK};

/// Output format of `definitions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An array of definitions, as `deploy` reads them.
    Json,
    /// An aligned text table for people, one row per item.
    Table,
}

/// Arguments of `definitions`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "JSON (the default): an array of definitions ordered by name, in the form
`bamdb deploy` reads, e.g.
  [{\"name\":\"PurchaseOrder\",\"items\":[{\"name\":\"Amount\",\"type\":\"float\"}]}]
Table: one row per item (activity, item, type, max_len for text items).
Reads the store; never creates one.

Examples:
  bamdb definitions --store DIR
  bamdb definitions --store DIR --format table
  bamdb definitions --store OLD > defs.json && bamdb deploy --store NEW defs.json

Exit codes:
  0  success (also when nothing is deployed: [] or an empty table)
  2  usage error, or the store could not be used (not a store, locked, damaged, I/O)"
)]
pub struct Args {
    #[command(flatten)]
    store: ReadStore,
    /// json: an array of definitions; table: aligned columns, one row per item.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let store = open_reading(&args.store)?;
    let defs = store.definitions();
    store.close()?;
    match args.format {
        Format::Json => print_pretty(&defs)?,
        Format::Table => {
            let columns: Vec<String> = ["activity", "item", "type", "max_len"]
                .map(String::from)
                .to_vec();
            let mut rows: Vec<Vec<Cell>> = Vec::new();
            for def in &defs {
                if def.items.is_empty() {
                    rows.push(vec![(def.name.clone(), false)]);
                }
                for item in &def.items {
                    let max_len = match item.ty {
                        ItemType::Text { max_len } => max_len.to_string(),
                        _ => String::new(),
                    };
                    rows.push(vec![
                        (def.name.clone(), false),
                        (item.name.clone(), false),
                        (item.ty.type_name().to_owned(), false),
                        (max_len, true),
                    ]);
                }
            }
            out_line(lines(&table(&columns, &rows)))?;
            let items: usize = defs.iter().map(|d| d.items.len()).sum();
            out_line(&format!(
                "({} activit{}, {items} item{})",
                defs.len(),
                if defs.len() == 1 { "y" } else { "ies" },
                if items == 1 { "" } else { "s" }
            ))?;
        }
    }
    Ok(EXIT_OK)
}
