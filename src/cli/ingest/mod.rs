//! `bamdb ingest`: reads JSON event lines and commits them group by group,
//! all or nothing, printing one `{"committed":LSN,"events":N}` line per
//! durable commit and a summary on stderr.
//!
//! - `help.rs`: the help texts (the input format a user sees);
//! - `input.rs`: reading lines within the line limit;
//! - `groups.rs`: groups, all or nothing;
//! - `report.rs`: receipts, errors, progress and the summary.

mod groups;
pub mod help;
mod input;
mod report;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use bamdb::model::Limits;
use bamdb::{EventStream, Store};

use super::{close_store, open_store, wait_for_import, CliError, EXIT_OK, EXIT_PARTIAL};
use groups::{End, Ingest};
use input::LineReader;
use report::Reporter;

/// Arguments of `ingest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    store: PathBuf,
    /// Use a direct stream: each group is validated before it is written
    /// (an invalid group is rejected, not quarantined) and is visible to
    /// queries when its receipt is printed.
    #[arg(long)]
    direct: bool,
    /// End a group after every N event lines as well (0: only at
    /// {"op":"flush"}, {"op":"clear"} and the end of input).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threshold: usize,
    /// The producer id written in every frame: the tie-break between events
    /// with equal timestamps (the greater id wins). Give each source its
    /// own, the same on every run.
    #[arg(long, value_name = "ID", default_value_t = 1)]
    producer: u32,
    /// Print only the summary line: no receipts, no error lines.
    #[arg(long)]
    quiet: bool,
    /// Exit 1 if the bus quarantined any frame of this run.
    #[arg(long)]
    strict: bool,
    /// The input file; `-` or nothing reads standard input.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let (input, source, input_len): (Box<dyn BufRead>, String, Option<u64>) = match &args.file {
        Some(p) if p.as_os_str() != "-" => {
            let file = std::fs::File::open(p).map_err(|e| {
                CliError::fatal(format!(
                    "cannot open input file {}: {e}; check the path",
                    p.display()
                ))
            })?;
            let len = file
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            (Box::new(BufReader::new(file)), p.display().to_string(), len)
        }
        _ => (
            Box::new(std::io::stdin().lock()),
            "standard input".to_string(),
            None,
        ),
    };
    let store = open_store(&args.store)?;
    // Frames committed before this run are imported first, so that the
    // quarantine counter's growth is this run's alone.
    if store.stats().lag > 0 {
        wait_for_import(&store)?;
    }
    let before = store.stats();
    let quarantined_before = before.counters.frames_quarantined;
    let limits = Limits::default();
    let mut reader = LineReader::new(input, limits.max_json_line_bytes);
    let report = Reporter::new(source, args.quiet, input_len);
    let (end, mut report) = if args.direct {
        let stream = store.direct_stream_as(args.producer);
        ingest(&store, stream, &args, &limits, report, &mut reader)?
    } else {
        let stream = store.buffered_stream_as(args.producer, 0);
        ingest(&store, stream, &args, &limits, report, &mut reader)?
    };
    if end == End::StdoutClosed {
        report.stdout_closed();
    }
    // The summary counts what the bus did with this run's frames.
    report.waiting_for_import();
    if let Err(e) = wait_for_import(&store) {
        return Err(fail(&mut report, &store, e));
    }
    let quarantined = store
        .stats()
        .counters
        .frames_quarantined
        .saturating_sub(quarantined_before);
    report.duplicates = store.stats().duplicates.saturating_sub(before.duplicates);
    report.summary(Some(quarantined), store.dir());
    close_store(store)?;
    let partial =
        report.groups_rejected > 0 || end == End::StdoutClosed || (args.strict && quarantined > 0);
    Ok(if partial { EXIT_PARTIAL } else { EXIT_OK })
}

/// Runs the groups through `stream`; on a fatal error, the error and the
/// summary are printed and the error returned.
fn ingest<S: EventStream>(
    store: &Store,
    stream: S,
    args: &Args,
    limits: &Limits,
    report: Reporter,
    reader: &mut LineReader<'_>,
) -> Result<(End, Reporter), CliError> {
    let mut ingest = Ingest::new(
        stream,
        args.producer,
        limits,
        args.threshold,
        report,
        store.dir(),
    );
    match ingest.run(reader) {
        Ok(end) => Ok((end, ingest.into_report())),
        Err(e) => {
            ingest.abandon();
            let mut report = ingest.into_report();
            Err(fail(&mut report, store, e))
        }
    }
}

/// Prints a fatal error, then the summary (so the last committed LSN is the
/// last thing the user reads); returns the exit code with nothing more to
/// print.
fn fail(report: &mut Reporter, store: &Store, e: CliError) -> CliError {
    report.error(&format!("bamdb: {e}"));
    report.summary(None, store.dir());
    CliError {
        code: e.code,
        message: String::new(),
    }
}
