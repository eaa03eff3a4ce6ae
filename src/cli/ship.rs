//! `bamdb ship`: publishes a producer's message box to NATS JetStream for
//! a central bus (`bamdb bus --nats`), until stopped (SIGTERM, SIGINT) or,
//! with `--drain`, until everything the box holds is shipped.

use std::path::{Path, PathBuf};

use bamdb::ship::{ShipOptions, Shipper, StreamSettings};
use serde::Deserialize;

use super::{err_line, print_line, CliError, EXIT_OK};

const AFTER_HELP: &str = "The box is a producer's message box (`bamdb ingest --box`, or
MessageBox::open). Its frames go to the JetStream stream NAME, subject
bamdb.NAME.<box id>, in LSN order, each once: a message id of (box id,
LSNs) and the subject's expected last sequence; the box's APPLIED mark
moves (and the producer deletes) only after JetStream acknowledged. The
stream is created if missing (--replicas copies). A restart goes on after
the stream's last message of the box; an outage of any length is waited
out (the box keeps everything meanwhile, up to its quota).

--config FILE reads the settings from a JSON object with the flags' names:
  {\"box\": \"/var/lib/app/outbox\", \"nats\": \"nats://hub:4222\",
   \"stream\": \"BAMDB\", \"replicas\": 3}
Flags given on the command line win over the file.

Exit codes:
  0  stopped by SIGTERM or SIGINT, or drained (--drain)
  2  bad settings, the box unreadable, or a frame larger than the server's
     max_payload";

/// Arguments of `ship`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The producer's message box directory.
    #[arg(long = "box", value_name = "DIR")]
    box_dir: Option<PathBuf>,
    /// NATS server URL(s), comma-separated.
    #[arg(long, value_name = "URL")]
    nats: Option<String>,
    /// The JetStream stream's name.
    #[arg(long, value_name = "NAME")]
    stream: Option<String>,
    /// Replicas of the stream if this creates it (1 to 5; default 1).
    #[arg(long, value_name = "N")]
    replicas: Option<usize>,
    /// Settings from a JSON file (see below).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Stop once everything the box holds is shipped, printing what was
    /// shipped as one JSON line.
    #[arg(long)]
    drain: bool,
    /// Bytes of frames per message, at most (the server's max_payload caps
    /// it further).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_message_bytes: usize,
    /// How long to wait before looking at the box again when it had
    /// nothing new (milliseconds).
    #[arg(long, value_name = "MS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    poll_ms: u64,
}

/// The settings file of `ship` (and, with `store`, of `bus`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfigFile {
    #[serde(rename = "box")]
    pub(super) box_dir: Option<PathBuf>,
    pub(super) store: Option<PathBuf>,
    #[serde(default)]
    pub(super) boxes: Vec<PathBuf>,
    pub(super) nats: Option<String>,
    pub(super) stream: Option<String>,
    pub(super) replicas: Option<usize>,
    pub(super) consumer: Option<String>,
}

impl ConfigFile {
    /// Reads `path`; an empty configuration without one.
    pub(super) fn read(path: Option<&Path>) -> Result<ConfigFile, CliError> {
        let Some(path) = path else {
            return Ok(ConfigFile::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::fatal(format!("cannot read {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| CliError::fatal(format!("{}: {e}", path.display())))
    }

    /// The stream settings, flags first, then the file.
    pub(super) fn stream_settings(
        &self,
        nats: Option<String>,
        stream: Option<String>,
        replicas: Option<usize>,
    ) -> Result<StreamSettings, CliError> {
        let missing = |what: &str| {
            CliError::fatal(format!(
                "--{what} is needed (or \"{what}\" in the --config file)"
            ))
        };
        let settings = StreamSettings {
            url: nats
                .or_else(|| self.nats.clone())
                .ok_or_else(|| missing("nats"))?,
            stream: stream
                .or_else(|| self.stream.clone())
                .ok_or_else(|| missing("stream"))?,
            replicas: replicas.or(self.replicas).unwrap_or(1),
        };
        settings
            .validate()
            .map_err(|e| CliError::fatal(e.to_string()))?;
        Ok(settings)
    }
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let config = ConfigFile::read(args.config.as_deref())?;
    let box_dir = args
        .box_dir
        .or(config.box_dir.clone())
        .ok_or_else(|| CliError::fatal("--box is needed (or \"box\" in the --config file)"))?;
    let nats = config.stream_settings(args.nats, args.stream, args.replicas)?;
    let stop = super::bus::stop_on_signals()?;
    log_warnings();
    let mut options = ShipOptions::new(&box_dir, nats.clone());
    options.drain = args.drain;
    options.max_message_bytes = args.max_message_bytes;
    options.poll = std::time::Duration::from_millis(args.poll_ms);
    let shipper = Shipper::new(options).map_err(|e| CliError::fatal(e.to_string()))?;
    if !args.drain {
        err_line(&format!(
            "bamdb ship: shipping message box {} to stream {} at {} (stop with Ctrl-C or SIGTERM)",
            box_dir.display(),
            nats.stream,
            nats.url
        ));
    }
    let report = shipper
        .run(&stop)
        .map_err(|e| CliError::fatal(format!("ship {}: {e}", box_dir.display())))?;
    let line = serde_json::json!({
        "box": format!("{:016x}", report.box_id),
        "messages": report.messages,
        "frames": report.frames,
        "bytes": report.bytes,
        "shipped_lsn": report.shipped_lsn,
        "retries": report.retries,
    });
    if args.drain {
        print_line(&line)?;
    } else {
        err_line(&format!("bamdb ship: stopped; {line}"));
    }
    Ok(EXIT_OK)
}

/// Prints the transport's warnings (outages, retries) on standard error.
pub(super) fn log_warnings() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .with_target(false)
        .try_init();
}
