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
    let stats = store.stats();
    let sources = bamdb::ship::read_sources(&args.store.store);
    match sources {
        None => print_pretty(&stats)?,
        Some(sources) => print_pretty(&with_sources(&stats, sources))?,
    }
    store.close()?;
    Ok(EXIT_OK)
}

/// The figures with `sources`: per box shipped through NATS, its applied
/// LSN (the import's own mark, at this snapshot), the durable mark its
/// latest message told, and the lag between the two.
fn with_sources(
    stats: &bamdb::StoreStats,
    sources: std::collections::BTreeMap<String, bamdb::ship::SourceStatus>,
) -> serde_json::Value {
    let mut value = serde_json::to_value(stats).unwrap_or_default();
    let shipped: serde_json::Map<String, serde_json::Value> = sources
        .into_iter()
        .map(|(id, source)| {
            let applied = stats
                .boxes
                .get(&id)
                .copied()
                .unwrap_or(0)
                .max(source.applied_lsn);
            let line = serde_json::json!({
                "transport": "nats",
                "applied_lsn": applied,
                "synced_lsn": source.synced_lsn,
                "lag": source.synced_lsn.saturating_sub(applied),
                "out_of_order": source.out_of_order,
                "last_message_ms": source.last_message_ms,
            });
            (id, line)
        })
        .collect();
    value["sources"] = serde_json::Value::Object(shipped);
    value
}
