//! `bamdb bus --nats`: the central bus's NATS source, beside the local
//! boxes (built with the `nats` feature).

use std::path::PathBuf;

use bamdb::ship::{NatsSource, SourceOptions, SourceReport};

use super::super::ship::{log_warnings, ConfigFile};
use super::{Args, CliError};

/// The NATS flags of `bus`.
#[derive(Debug, clap::Args)]
pub struct NatsArgs {
    /// Also import what edge boxes ship to this NATS server (`bamdb
    /// ship`): URL(s), comma-separated.
    #[arg(long, value_name = "URL")]
    nats: Option<String>,
    /// The JetStream stream the shippers publish to.
    #[arg(long, value_name = "NAME", requires = "nats")]
    stream: Option<String>,
    /// Replicas of the stream if the bus creates it (1 to 5; default 1).
    #[arg(long, value_name = "N")]
    replicas: Option<usize>,
    /// The durable consumer's name: one per central store (default bamdb).
    #[arg(long, value_name = "NAME")]
    consumer: Option<String>,
    /// Settings from a JSON file: {"store": DIR, "boxes": [DIR, ...],
    /// "nats": URL, "stream": NAME, "replicas": N, "consumer": NAME};
    /// flags win over the file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Reads `--config` into `args` and makes the NATS source, if one is
/// asked for.
pub(super) fn source(args: &mut Args) -> Result<Option<NatsSource>, CliError> {
    let flags = &mut args.nats;
    let config = ConfigFile::read(flags.config.as_deref())?;
    if config.box_dir.is_some() {
        return Err(CliError::fatal(
            "\"box\" is a setting of `bamdb ship`; the bus takes \"boxes\"",
        ));
    }
    if args.store.is_none() {
        args.store = config.store.clone();
    }
    args.boxes.extend(config.boxes.iter().cloned());
    if flags.nats.is_none() && config.nats.is_none() {
        if flags.stream.is_some() || config.stream.is_some() {
            return Err(CliError::fatal("a stream is named but no --nats server"));
        }
        return Ok(None);
    }
    let settings =
        config.stream_settings(flags.nats.take(), flags.stream.take(), flags.replicas)?;
    let mut options = SourceOptions::new(settings);
    if let Some(consumer) = flags.consumer.take().or(config.consumer) {
        options.consumer = consumer;
    }
    options.drain = args.drain;
    log_warnings();
    NatsSource::new(options)
        .map(Some)
        .map_err(|e| CliError::fatal(e.to_string()))
}

/// What `--drain` prints of the NATS source.
pub(super) fn report_json(report: &SourceReport) -> serde_json::Value {
    serde_json::json!({
        "messages": report.messages,
        "frames": report.frames,
        "duplicates": report.duplicates,
        "out_of_order": report.out_of_order,
        "damaged": report.damaged,
    })
}
