//! bamdb-open-activities: the workload of issue 15 (active instances on
//! disk), one phase per process so that each phase's memory is its own.
//!
//! - `open`: N PurchaseOrders begin, get five items, enable a shipping
//!   token and end their own part (producer 1), 100 per commit by default:
//!   every one stays active until its shipping part ends.
//! - `touch`: an update of one item on `--percent`% of them (spread over
//!   the ids), then close: what the closing checkpoint writes, against the
//!   size of the whole active state.
//! - `complete`: the shipping parts of all N arrive from a second producer
//!   (update + end under the token), 100 per commit: every order completes.
//! - `declare`: declares the real-time aggregation `by_region` (count,
//!   sum and max of Amount by Region), which builds its totals by a scan.
//! - `aggregation`: opens the store and reads `by_region`: what an open
//!   costs with a declared aggregation (`open_ms`).
//!
//! Prints one JSON object: the phase, events/s, the time `Store::open`
//! took, the peak RSS (VmHWM) and the peak anonymous memory (RssAnon,
//! sampled every 20 ms), and the bytes of the files the phase added to
//! `segments/` (active runs, checkpoint, import files), with the active
//! runs' bytes before and after. Uses only the public API, so the same file
//! builds against an older bamdb for a comparison in one run.
//!
//! `bamdb-open-activities --dir DIR --n N --phase open|touch|complete|declare|aggregation [--batch 100] [--percent 1]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bamdb::fixture::{self, ACTIVITY};
use bamdb::model::{Timestamp, Value};
use bamdb::query::{Aggregate, Measure};
use bamdb::{EventStream, Store, StoreOptions};

struct Args {
    dir: PathBuf,
    n: u64,
    phase: String,
    batch: u64,
    percent: f64,
}

fn parse_args() -> Result<Args, String> {
    let (mut dir, mut n, mut phase) = (None, None, None);
    let (mut batch, mut percent) = (100, 1.0);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--n" => n = Some(value()?.parse().map_err(|e| format!("--n: {e}"))?),
            "--phase" => phase = Some(value()?),
            "--batch" => batch = value()?.parse().map_err(|e| format!("--batch: {e}"))?,
            "--percent" => percent = value()?.parse().map_err(|e| format!("--percent: {e}"))?,
            "-h" | "--help" => {
                println!("usage: bamdb-open-activities --dir DIR --n N --phase open|touch|complete|declare|aggregation [--batch 100] [--percent 1]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        dir: dir.ok_or("--dir is required")?,
        n: n.ok_or("--n is required")?,
        phase: phase.ok_or("--phase is required")?,
        batch: batch.max(1),
        percent,
    })
}

/// A field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Sizes of the files in `segments/`, by name.
fn segment_files(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("segments")) {
        for e in entries.flatten() {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            out.insert(e.file_name().to_string_lossy().into_owned(), len);
        }
    }
    out
}

fn run_bytes(files: &BTreeMap<String, u64>) -> u64 {
    files
        .iter()
        .filter(|(n, _)| n.ends_with(".run"))
        .map(|(_, l)| l)
        .sum()
}

fn id(i: u64) -> String {
    format!("PO-{i:09}")
}

/// The real-time aggregation of the `declare` and `aggregation` phases.
fn by_region() -> Aggregate {
    let mut agg = Aggregate::new(ACTIVITY);
    agg.group_by.push("Region".into());
    agg.measures = vec![
        Measure::Count,
        Measure::Sum("Amount".into()),
        Measure::Max("Amount".into()),
    ];
    agg
}

fn token(i: u64) -> String {
    format!("SHIP-{i:09}")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    // Peak anonymous memory, sampled.
    let peak_anon = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak_anon.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(status_kib("RssAnon:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let before = segment_files(&args.dir);
    let opened = Instant::now();
    let store = Store::open(&args.dir, StoreOptions::default())?;
    let open_ms = opened.elapsed().as_secs_f64() * 1e3;
    if args.phase == "open" {
        store.deploy(fixture::definition(fixture::FULL))?;
    }
    let base = Timestamp::from_micros(1_780_000_000_000_000);
    let start = Instant::now();
    let mut events = 0u64;
    let mut groups = None;
    match args.phase.as_str() {
        "open" => {
            let mut s = store.buffered_stream_as(1, 0);
            s.set_time(Some(base));
            for i in 0..args.n {
                let id = id(i);
                s.begin(ACTIVITY, &id)?;
                s.update(
                    ACTIVITY,
                    &id,
                    [
                        ("Customer", Value::from(format!("Customer {}", i % 5000))),
                        (
                            "Region",
                            Value::from(["EU", "US", "APAC", "LATAM"][i as usize % 4]),
                        ),
                        ("Amount", Value::from((i % 10_000) as f64 * 1.25)),
                        ("Quantity", Value::from((i % 50) as i64)),
                        ("Status", Value::from("Received")),
                    ],
                )?;
                s.enable_continuation(ACTIVITY, &id, &token(i))?;
                s.end(ACTIVITY, &id)?;
                events += 4;
                if (i + 1) % args.batch == 0 {
                    s.flush()?;
                }
            }
            s.flush()?;
        }
        "touch" => {
            let every = (100.0 / args.percent.max(1e-6)).round().max(1.0) as u64;
            let mut s = store.buffered_stream_as(3, 0);
            s.set_time(Some(Timestamp::from_micros(base.as_micros() + 1_000_000)));
            let mut i = 0;
            while i < args.n {
                s.update(ACTIVITY, &id(i), [("Status", "Checked")])?;
                events += 1;
                if events.is_multiple_of(args.batch) {
                    s.flush()?;
                }
                i += every;
            }
            s.flush()?;
        }
        "complete" => {
            let mut s = store.buffered_stream_as(2, 0);
            s.set_time(Some(Timestamp::from_micros(
                base.as_micros() + 86_400_000_000,
            )));
            for i in 0..args.n {
                let t = token(i);
                s.update(ACTIVITY, &t, [("Status", "Shipped")])?;
                s.end(ACTIVITY, &t)?;
                events += 2;
                if (i + 1) % args.batch == 0 {
                    s.flush()?;
                }
            }
            s.flush()?;
        }
        "declare" => store.declare_aggregation("by_region", &by_region())?,
        "aggregation" => {
            let result = store
                .aggregation("by_region")
                .ok_or("no aggregation by_region: run the declare phase first")?;
            groups = Some(result.rows.len());
        }
        other => return Err(format!("unknown phase {other:?}").into()),
    }
    let pushed = start.elapsed().as_secs_f64();
    if !store.sync(Duration::from_secs(24 * 3600)) {
        return Err("the bus did not catch up".into());
    }
    let imported = start.elapsed().as_secs_f64();
    let stats = format!("{:?}", store.stats());
    store.close()?;
    let closed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let after = segment_files(&args.dir);
    let added: u64 = after
        .iter()
        .filter(|(n, _)| !before.contains_key(*n))
        .map(|(_, l)| l)
        .sum();
    let added_runs: u64 = after
        .iter()
        .filter(|(n, _)| n.ends_with(".run") && !before.contains_key(*n))
        .map(|(_, l)| l)
        .sum();
    let report = serde_json::json!({
        "phase": args.phase,
        "n": args.n,
        "batch": args.batch,
        "events": events,
        "open_ms": open_ms,
        "push_s": pushed,
        "import_s": imported,
        "close_s": closed,
        "events_per_s": events as f64 / imported,
        "peak_rss_mib": status_kib("VmHWM:") as f64 / 1024.0,
        "peak_anon_mib": peak_anon.load(Ordering::Relaxed) as f64 / 1024.0,
        "segments_bytes_added": added,
        "run_bytes_added": added_runs,
        "run_bytes_before": run_bytes(&before),
        "run_bytes_after": run_bytes(&after),
        "stats": stats,
        "groups": groups,
    });
    println!("{report}");
    Ok(())
}
