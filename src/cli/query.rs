//! `bamdb get` and `bamdb stats`: lookups that answer once everything
//! committed is imported.

use super::{
    close_store, open_imported, print_pretty, CliError, ExistingStore, EXIT_OK, EXIT_PARTIAL,
};

/// Arguments of `get`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit codes:
  0  found; the instance is printed as JSON
  1  no such instance (unknown, or only reported under a continuation not linked yet)
  2  usage error, or the store could not be used (missing, locked, damaged, I/O)")]
pub struct GetArgs {
    #[command(flatten)]
    store: ExistingStore,
    /// The activity name, e.g. PurchaseOrder.
    activity: String,
    /// The instance id (or a continuation token of it).
    id: String,
}

/// Arguments of `stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    store: ExistingStore,
}

pub fn get(args: GetArgs) -> Result<i32, CliError> {
    let dir = &args.store.store;
    let store = open_imported(dir)?;
    let found = store
        .get(&args.activity, &args.id)
        .map_err(|e| CliError::store("get", dir, &e))?;
    let code = match found {
        Some(instance) => {
            print_pretty(&instance)?;
            EXIT_OK
        }
        None => {
            eprintln!(
                "bamdb: no {} with id {:?} in store {}; check the activity name and id \
                 (`bamdb stats` shows what was imported)",
                args.activity,
                args.id,
                dir.display()
            );
            EXIT_PARTIAL
        }
    };
    close_store(store)?;
    Ok(code)
}

pub fn stats(args: StatsArgs) -> Result<i32, CliError> {
    let store = open_imported(&args.store.store)?;
    print_pretty(&store.stats())?;
    close_store(store)?;
    Ok(EXIT_OK)
}
