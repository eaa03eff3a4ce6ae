//! `bamdb bus`: the event bus as its own process. It holds the store's
//! writer lock, copies what producers commit to their message boxes into
//! the store (`Store::import_boxes`) and imports it, until stopped
//! (SIGTERM, SIGINT: a clean close) or, with `--drain`, until every box is
//! imported.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bamdb::{BoxImport, Store};

use super::{close_store, err_line, open_existing, print_line, wait_for_import, CliError, EXIT_OK};

#[cfg(feature = "nats")]
#[path = "bus_nats.rs"]
mod nats;

const AFTER_HELP: &str = "Boxes: every box in the store's boxes/ folder (a producer makes one with
`bamdb ingest --store DIR --box NAME`, or MessageBox::open_in_store), and
each --box DIR named here. Each box's frames are imported once, in order,
across crashes of the bus or the producers; the bus tells each box how far
it imported (its APPLIED mark), and the producer deletes what is imported.

Readers (get, search, agg, stats, definitions) query alongside; commands
that need the writer lock (deploy, quarantine replay, ...) wait for it with
--wait SECS, or run before the bus starts.

Exit codes:
  0  stopped by SIGTERM or SIGINT, or drained (--drain)
  2  the store could not be used (not a store, locked by another bus or
     writer, damaged, I/O)";

/// Arguments of `bus`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The store directory; it must hold a store (made by deploy, ingest or
    /// demo).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// A producer's message box outside the store's boxes/ folder
    /// (repeatable).
    #[arg(long = "box", value_name = "DIR")]
    boxes: Vec<PathBuf>,
    /// Stop once every box is imported (and its producers told), printing
    /// what was copied as one JSON line.
    #[arg(long)]
    drain: bool,
    /// How long to wait before looking at the boxes again when none had
    /// anything new (milliseconds).
    #[arg(long, value_name = "MS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    poll_ms: u64,
    #[cfg(feature = "nats")]
    #[command(flatten)]
    nats: nats::NatsArgs,
}

/// A flag set by SIGTERM and SIGINT.
pub(super) fn stop_on_signals() -> Result<Arc<AtomicBool>, CliError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| CliError::fatal(format!("cannot handle signal {signal}: {e}")))?;
    }
    Ok(stop)
}

#[cfg_attr(not(feature = "nats"), allow(unused_mut))]
pub fn run(mut args: Args) -> Result<i32, CliError> {
    let stop = stop_on_signals()?;
    #[cfg(feature = "nats")]
    let source = nats::source(&mut args)?;
    let Some(store_dir) = args.store.clone() else {
        return Err(CliError::fatal(
            "--store is needed (or \"store\" in the --config file)",
        ));
    };
    for dir in &args.boxes {
        if !dir.is_dir() {
            err_line(&format!(
                "bamdb bus: warning: message box {} does not exist yet; it is imported once its producer makes it",
                dir.display()
            ));
        }
    }
    let store = open_existing(&store_dir)?;
    if !args.drain {
        err_line(&format!(
            "bamdb bus: importing producers' message boxes into store {} (stop with Ctrl-C or SIGTERM)",
            store_dir.display()
        ));
    }
    #[cfg(feature = "nats")]
    let (total, received) = std::thread::scope(|scope| {
        let receiving = source.map(|source| {
            let (store, stop) = (&store, &stop);
            scope.spawn(move || {
                let result = source.run(store, stop);
                if result.is_err() {
                    // The boxes stop too: the bus exits with the error.
                    stop.store(true, Ordering::Relaxed);
                }
                result
            })
        });
        let total = import_local(&store, &args, &stop);
        let received = receiving.map(|thread| match thread.join() {
            Ok(result) => result.map_err(|e| CliError::fatal(format!("bamdb bus: NATS: {e}"))),
            Err(_) => Err(CliError::fatal(
                "bamdb bus: the NATS source stopped unexpectedly",
            )),
        });
        (total, received.transpose())
    });
    #[cfg(not(feature = "nats"))]
    let total = import_local(&store, &args, &stop);
    let total = total?;
    #[cfg(feature = "nats")]
    let received = received?;
    if !args.drain {
        let count = |n: u64, one: &str, many: &str| match n {
            1 => format!("1 {one}"),
            n => format!("{n} {many}"),
        };
        err_line(&format!(
            "bamdb bus: stopped; copied {} ({} bytes) from {}",
            count(total.frames, "frame", "frames"),
            total.bytes,
            count(total.boxes as u64, "box", "boxes")
        ));
    }
    if args.drain {
        #[allow(unused_mut)]
        let mut line = serde_json::json!({
            "boxes": total.boxes,
            "frames": total.frames,
            "bytes": total.bytes,
        });
        #[cfg(feature = "nats")]
        if let Some(received) = received {
            line["nats"] = nats::report_json(&received);
        }
        print_line(&line)?;
    }
    close_store(store)?;
    Ok(EXIT_OK)
}

/// Copies local boxes until stopped, or drained with `--drain`.
fn import_local(store: &Store, args: &Args, stop: &AtomicBool) -> Result<BoxImport, CliError> {
    let mut total = BoxImport::default();
    let mut problems = Problems::default();
    let idle = Duration::from_millis(args.poll_ms);
    while !stop.load(Ordering::Relaxed) {
        let pass = store
            .import_boxes(&args.boxes)
            .map_err(|e| CliError::store("import of message boxes", store.dir(), &e))?;
        problems.report(&pass.problems);
        total.boxes = pass.boxes;
        total.frames += pass.frames;
        total.bytes += pass.bytes;
        if pass.frames == 0 {
            if args.drain {
                if drain(store, &args.boxes, &mut total)? {
                    continue;
                }
                break;
            }
            // Nothing new in any box: producers are in other processes,
            // so there is nothing here to wait on but time.
            std::thread::sleep(idle);
        }
    }
    Ok(total)
}

/// The end of `--drain`: adopts the boxes no producer has open (what
/// their producers wrote last is made durable and copied), waits for the
/// import of everything copied, and tells the boxes. `Ok(true)` if the
/// adoption found more to copy (another round is needed).
fn drain(store: &Store, boxes: &[PathBuf], total: &mut BoxImport) -> Result<bool, CliError> {
    let pass = store
        .import_abandoned_boxes(boxes)
        .map_err(|e| CliError::store("import of message boxes", store.dir(), &e))?;
    total.frames += pass.frames;
    total.bytes += pass.bytes;
    if pass.frames > 0 {
        return Ok(true);
    }
    wait_for_import(store)?;
    let pass = store
        .import_boxes(boxes)
        .map_err(|e| CliError::store("import of message boxes", store.dir(), &e))?;
    for problem in &pass.problems {
        err_line(&format!("bamdb bus: {problem}"));
    }
    Ok(false)
}

/// Problems with boxes, printed when they appear, then at most once a
/// minute while they last (a bus runs for days; its log must stay short).
#[derive(Default)]
struct Problems {
    last: Vec<String>,
    printed: Option<Instant>,
}

impl Problems {
    const REPEAT: Duration = Duration::from_secs(60);

    fn report(&mut self, now: &[String]) {
        let changed = now != self.last.as_slice();
        let due = self.printed.is_none_or(|t| t.elapsed() >= Self::REPEAT);
        if !now.is_empty() && (changed || due) {
            for problem in now {
                err_line(&format!("bamdb bus: {problem}"));
            }
            self.printed = Some(Instant::now());
        }
        if changed {
            self.last = now.to_vec();
        }
    }
}
