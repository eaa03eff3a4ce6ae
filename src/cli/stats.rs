//! `bamdb stats`: the store's figures (LSNs, lag, files, instances,
//! counters, degraded state), once everything committed is imported.

use super::reading::open_reading;
use super::{print_pretty, CliError, ExistingStore, EXIT_OK};

/// Arguments of `stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    store: ExistingStore,
}

pub fn run(args: StatsArgs) -> Result<i32, CliError> {
    let store = open_reading(&args.store.store)?;
    print_pretty(&store.stats())?;
    store.close()?;
    Ok(EXIT_OK)
}
