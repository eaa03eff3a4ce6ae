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
use std::path::{Path, PathBuf};

use bamdb::model::Limits;
use bamdb::{BoxOptions, EventStream, MessageBox};

use super::{close_store, open_store, wait_for_import, CliError, EXIT_OK, EXIT_PARTIAL};
use groups::{End, Ingest};
use input::LineReader;
use report::{Imported, Reporter};

/// Arguments of `ingest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store directory (created if missing). With --box, only the
    /// box in its boxes/ folder is written: no lock, no definitions.
    #[arg(long, value_name = "DIR", required_unless_present = "box_dir")]
    store: Option<PathBuf>,
    /// Commit to this producer's own message box in the store's boxes/
    /// folder (made if missing) instead of the store: a group is durable
    /// when its receipt is printed, and the bus process (`bamdb bus`)
    /// imports it. Another process may hold the store meanwhile.
    #[arg(long = "box", value_name = "NAME", requires = "store", conflicts_with_all = ["direct", "strict"])]
    box_name: Option<String>,
    /// As --box, for a message box anywhere (name it to the bus with
    /// `bamdb bus --store DIR --box DIR`).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["store", "box_name", "direct", "strict"])]
    box_dir: Option<PathBuf>,
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
    /// own, the same on every run. Default 1; with --box, the id the box
    /// was made with (a new box gets its own).
    #[arg(long, value_name = "ID")]
    producer: Option<u32>,
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
    let mut reader = LineReader::new(input, Limits::default().max_json_line_bytes);
    let report = Reporter::new(source, args.quiet, input_len);
    let store_dir = match (&args.store, &args.box_dir) {
        (Some(dir), None) if args.box_name.is_none() => dir.clone(),
        (dir, box_dir) => {
            let outbox = open_box(dir.as_deref(), args.box_name.as_deref(), box_dir, &args)?;
            return ingest_to_box(&outbox, &args, report, &mut reader);
        }
    };
    let store = open_store(&store_dir)?;
    // Frames committed before this run are imported first, so that the
    // quarantine counter's growth is this run's alone.
    if store.stats().lag > 0 {
        wait_for_import(&store)?;
    }
    let before = store.stats();
    let quarantined_before = before.counters.frames_quarantined;
    let producer = args.producer.unwrap_or(1);
    let (end, mut report) = if args.direct {
        let stream = store.direct_stream_as(producer);
        ingest(
            store.dir(),
            true,
            stream,
            producer,
            &args,
            report,
            &mut reader,
        )?
    } else {
        let stream = store.buffered_stream_as(producer, 0);
        ingest(
            store.dir(),
            true,
            stream,
            producer,
            &args,
            report,
            &mut reader,
        )?
    };
    if end == End::StdoutClosed {
        report.stdout_closed();
    }
    // The summary counts what the bus did with this run's frames.
    report.waiting_for_import();
    if let Err(e) = wait_for_import(&store) {
        return Err(fail(&mut report, store.dir(), e));
    }
    let quarantined = store
        .stats()
        .counters
        .frames_quarantined
        .saturating_sub(quarantined_before);
    report.duplicates = store.stats().duplicates.saturating_sub(before.duplicates);
    report.summary(Imported::Checked(quarantined), store.dir());
    close_store(store)?;
    let partial =
        report.groups_rejected > 0 || end == End::StdoutClosed || (args.strict && quarantined > 0);
    Ok(if partial { EXIT_PARTIAL } else { EXIT_OK })
}

/// Opens the producer's message box `--box NAME` of the store `dir`, or
/// `--box-dir DIR`.
fn open_box(
    store: Option<&Path>,
    name: Option<&str>,
    box_dir: &Option<PathBuf>,
    args: &Args,
) -> Result<MessageBox, CliError> {
    let options = BoxOptions {
        producer_id: args.producer,
        ..BoxOptions::default()
    };
    let opened = match (store, name, box_dir) {
        (Some(store), Some(name), _) => MessageBox::open_in_store(store, name, options),
        (_, _, Some(dir)) => MessageBox::open(dir, options),
        _ => {
            return Err(CliError::fatal(
                "ingest needs --store DIR, or --box-dir DIR",
            ))
        }
    };
    opened.map_err(|e| CliError::message_box("open of the message box", &e))
}

/// `ingest --box`: commits the groups to the producer's own box; the bus
/// process imports them, so this run cannot tell what it quarantines.
fn ingest_to_box(
    outbox: &MessageBox,
    args: &Args,
    report: Reporter,
    reader: &mut LineReader<'_>,
) -> Result<i32, CliError> {
    let stream = outbox.buffered_stream();
    let producer = outbox.producer_id();
    let (end, mut report) = ingest(outbox.dir(), false, stream, producer, args, report, reader)?;
    if end == End::StdoutClosed {
        report.stdout_closed();
    }
    report.summary(Imported::ByTheBus, outbox.dir());
    let partial = report.groups_rejected > 0 || end == End::StdoutClosed;
    Ok(if partial { EXIT_PARTIAL } else { EXIT_OK })
}

/// Runs the groups through `stream`; on a fatal error, the error and the
/// summary are printed and the error returned. `dir`: the store or (not
/// `is_store`) the message box written, for messages.
fn ingest<S: EventStream>(
    dir: &Path,
    is_store: bool,
    stream: S,
    producer: u32,
    args: &Args,
    report: Reporter,
    reader: &mut LineReader<'_>,
) -> Result<(End, Reporter), CliError> {
    let limits = Limits::default();
    let target = is_store.then_some(dir);
    let mut ingest = Ingest::new(stream, producer, &limits, args.threshold, report, target);
    match ingest.run(reader) {
        Ok(end) => Ok((end, ingest.into_report())),
        Err(e) => {
            ingest.abandon();
            let mut report = ingest.into_report();
            Err(fail(&mut report, dir, e))
        }
    }
}

/// Prints a fatal error, then the summary (so the last committed LSN is the
/// last thing the user reads); returns the exit code with nothing more to
/// print.
fn fail(report: &mut Reporter, dir: &Path, e: CliError) -> CliError {
    report.error(&format!("bamdb: {e}"));
    report.summary(Imported::Unknown, dir);
    CliError {
        code: e.code,
        message: String::new(),
    }
}
