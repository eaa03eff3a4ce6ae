//! `bamdb demo`: the whole pipeline in one run, with real numbers.

mod apps;
mod report;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bamdb::fixture;
use bamdb::model::ActivityDefinition;
use bamdb::Store;
use indicatif::{ProgressBar, ProgressStyle};

use super::{close_store, open_store, outln, wait_for_import, CliError, EXIT_OK};

/// Purchase orders by default: about 10 s on 2 cores in a release build.
const DEFAULT_ACTIVITIES: u64 = 200_000;

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Three producer threads play the order, shipping and billing applications of
a company. They report the same purchase orders, shipping through a
continuation token and sometimes before the order exists; a few frames are
invalid on purpose (they go to quarantine), one batch is rolled back, and
orders are related to Shipment instances. The demo then prints ingest and
import figures, instance counts, the quarantine, one merged purchase order
and an aggregation by region.

Exit codes:
  0  the demo ran
  2  the store could not be used (locked, damaged, I/O) or a producer failed"
)]
pub struct Args {
    /// The store directory; default: a fresh temporary directory, removed
    /// at the end.
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// How many purchase orders to report.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ACTIVITIES,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    activities: u64,
}

const SHIPMENT: &str = r#"{"name":"Shipment","items":[
  {"name":"Carrier","type":"text","max_len":64},
  {"name":"Region","type":"text","max_len":16}]}"#;

pub fn run(args: Args) -> Result<i32, CliError> {
    let temp;
    let dir = match &args.store {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("bamdb-demo-")
                .tempdir()
                .map_err(|e| {
                    CliError::fatal(format!(
                        "cannot create a temporary directory: {e}; pass --store DIR"
                    ))
                })?;
            temp.path().to_path_buf()
        }
    };
    if args.store.is_some() {
        outln!("bamdb demo: store {}", dir.display())?;
    } else {
        outln!(
            "bamdb demo: store {} (temporary, removed at the end; keep one with --store DIR)",
            dir.display()
        )?;
    }
    let store = open_store(&dir)?;
    let shipment: ActivityDefinition = serde_json::from_str(SHIPMENT)
        .map_err(|e| CliError::fatal(format!("demo definition does not parse: {e}")))?;
    for def in [fixture::definition(fixture::FULL), shipment] {
        store
            .deploy(def)
            .map_err(|e| CliError::store("deploying the demo definitions", &dir, &e))?;
    }
    outln!("deployed PurchaseOrder and Shipment")?;
    let activities = usize::try_from(args.activities).unwrap_or(usize::MAX);
    let run = produce(&store, activities)?;
    report::print(&store, &run, args.store.is_some())?;
    close_store(store)?;
    Ok(EXIT_OK)
}

/// What the producing phase measured.
pub struct Run {
    pub prefix: String,
    pub activities: usize,
    pub events: u64,
    pub commits: u64,
    pub ingest: Duration,
    pub max_lag: u64,
    pub lag_at_end: u64,
    pub catch_up: Duration,
}

/// One producer application.
type App = fn(&apps::Shared) -> Result<(), String>;

fn produce(store: &Store, activities: usize) -> Result<Run, CliError> {
    // A store used before gets ids of its own for this run.
    let before = store.stats().committed_lsn;
    let prefix = if before > 10 {
        format!("R{before}-")
    } else {
        String::new()
    };
    let shared = apps::Shared::new(store, prefix.clone(), activities);
    let total = 3 * activities as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    outln!(
        "producing {activities} purchase orders from 3 applications (orders, shipping, billing), {} per flush",
        apps::CHUNK
    )?;
    let start = Instant::now();
    let mut max_lag = 0;
    let results = std::thread::scope(|s| {
        let apps: [(&str, App); 3] = [
            ("orders", apps::orders),
            ("shipping", apps::shipping),
            ("billing", apps::billing),
        ];
        let handles: Vec<_> = apps
            .into_iter()
            .map(|(name, app)| {
                let shared = &shared;
                let handle =
                    std::thread::Builder::new()
                        .name(name.into())
                        .spawn_scoped(s, move || {
                            let result = app(shared);
                            if result.is_err() {
                                shared.open_gates();
                            }
                            result
                        });
                (name, handle)
            })
            .collect();
        loop {
            let done = handles
                .iter()
                .all(|(_, h)| h.as_ref().map_or(true, |h| h.is_finished()));
            let lag = store.stats().lag;
            max_lag = max_lag.max(lag);
            bar.set_position(shared.reports.load(Ordering::Relaxed) as u64);
            bar.set_message(format!(
                "{} events, import lag {lag} frames",
                shared.events.load(Ordering::Relaxed)
            ));
            if done {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        handles
            .into_iter()
            .map(|(name, h)| match h {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|_| Err("the thread panicked".into()))
                    .map_err(|e| format!("{name}: {e}")),
                Err(e) => Err(format!("cannot start the {name} thread: {e}")),
            })
            .collect::<Vec<_>>()
    });
    let ingest = start.elapsed();
    let lag_at_end = store.stats().lag;
    bar.finish_and_clear();
    for r in results {
        r.map_err(|e| CliError::fatal(format!("demo producer failed: {e}")))?;
    }
    let sync_start = Instant::now();
    let spinner =
        ProgressBar::new_spinner().with_message("waiting for the bus to import everything");
    spinner.enable_steady_tick(Duration::from_millis(100));
    let synced = wait_for_import(store);
    spinner.finish_and_clear();
    synced?;
    Ok(Run {
        prefix,
        activities,
        events: shared.events.load(Ordering::Relaxed),
        commits: shared.commits.load(Ordering::Relaxed),
        ingest,
        max_lag,
        lag_at_end,
        catch_up: sync_start.elapsed(),
    })
}
