//! `bamdb stats`: the store's figures (LSNs, lag, files, instances,
//! counters, degraded state), once everything committed is imported.

use super::reading::{open_reading, ReadStore};
use super::{print_pretty, CliError, EXIT_OK};

/// Arguments of `stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    store: ReadStore,
}

pub fn run(args: StatsArgs) -> Result<i32, CliError> {
    let store = open_reading(&args.store)?;
    print_pretty(&store.stats())?;
    store.close()?;
    Ok(EXIT_OK)
}
