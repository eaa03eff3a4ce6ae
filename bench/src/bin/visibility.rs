//! bamdb-visibility: how long after a producer's flush returns the
//! activity is visible to a reader in another process (issue 16).
//!
//! - `--role writer`: opens the store (creating it), deploys Order, and
//!   runs `--threads` producer threads that each begin and end one Order
//!   per commit (buffered streams: a flush returns once durable) at a
//!   steady total of `--rate` commits/s for `--secs` seconds. Each thread
//!   writes its orders in turn; the time each flush returned (Unix
//!   nanoseconds) goes to `DIR/../writer.times` as `sequence nanos` lines,
//!   the sequence being the order's place among all commits in LSN order.
//! - `--role reader`: opens the store fresh (`StoreReader::open_fresh`:
//!   the last checkpoint and the message box after it), then refreshes in
//!   a loop until `--secs` seconds passed without a new commit; each time
//!   the number of completed orders grows it writes `count nanos` to
//!   `DIR/../reader.times`.
//! - `--role report`: joins the two files: commit k (in LSN order) became
//!   visible at the first reader line with count > k; prints the latency
//!   percentiles as JSON.
//!
//! Frames are applied in LSN order, so the k-th commit is visible exactly
//! when the reader counts more than k completed orders. Both processes run
//! on one machine and read the same clock.
//!
//! `bamdb-visibility --role writer|reader|report --dir DIR [--rate 10000] [--threads 4] [--secs 10]`

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bamdb::model::ActivityDefinition;
use bamdb::{EventStream, Store, StoreOptions, StoreReader};

struct Args {
    role: String,
    dir: PathBuf,
    rate: f64,
    threads: usize,
    secs: f64,
}

fn parse_args() -> Result<Args, String> {
    let (mut role, mut dir) = (None, None);
    let (mut rate, mut threads, mut secs) = (10_000.0, 4, 10.0);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--role" => role = Some(value()?),
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--rate" => rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--threads" => threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?,
            "--secs" => secs = value()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "-h" | "--help" => {
                println!("usage: bamdb-visibility --role writer|reader|report --dir DIR [--rate 10000] [--threads 4] [--secs 10]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        role: role.ok_or("--role is required")?,
        dir: dir.ok_or("--dir is required")?,
        rate,
        threads: threads.max(1),
        secs,
    })
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn side_file(dir: &Path, name: &str) -> PathBuf {
    dir.parent().unwrap_or(Path::new(".")).join(name)
}

fn writer(args: &Args) -> Result<(), String> {
    let store = Store::open(&args.dir, StoreOptions::default()).map_err(|e| e.to_string())?;
    let def: ActivityDefinition =
        serde_json::from_str(r#"{"name":"Order","items":[]}"#).map_err(|e| e.to_string())?;
    store.deploy(def).map_err(|e| e.to_string())?;
    let store = Arc::new(store);
    let per_thread = Duration::from_secs_f64(args.threads as f64 / args.rate);
    let end = Instant::now() + Duration::from_secs_f64(args.secs);
    // (LSN, the time its flush returned), from every thread.
    let times = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..args.threads)
        .map(|t| {
            let (store, times) = (store.clone(), times.clone());
            std::thread::spawn(move || -> Result<(), String> {
                let mut stream = store.buffered_stream_as(100 + t as u32, 0);
                let mut next = Instant::now();
                let mut mine = Vec::new();
                for i in 0u64.. {
                    if Instant::now() >= end {
                        break;
                    }
                    let id = format!("O-{t}-{i}");
                    stream.begin("Order", &id).map_err(|e| e.to_string())?;
                    stream.end("Order", &id).map_err(|e| e.to_string())?;
                    let receipt = stream.flush().map_err(|e| e.to_string())?;
                    let returned = now_nanos();
                    if let Some(r) = receipt {
                        mine.push((r.lsn, returned));
                    }
                    next += per_thread;
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
                times.lock().map_err(|e| e.to_string())?.extend(mine);
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a producer panicked".to_string())??;
    }
    let mut times = std::mem::take(&mut *times.lock().map_err(|e| e.to_string())?);
    times.sort_unstable();
    let mut out = BufWriter::new(
        File::create(side_file(&args.dir, "writer.times")).map_err(|e| e.to_string())?,
    );
    for (k, (_, nanos)) in times.iter().enumerate() {
        writeln!(out, "{k} {nanos}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    drop(store);
    Ok(())
}

fn reader(args: &Args) -> Result<(), String> {
    let reader = StoreReader::open_fresh(&args.dir).map_err(|e| e.to_string())?;
    let mut out = BufWriter::new(
        File::create(side_file(&args.dir, "reader.times")).map_err(|e| e.to_string())?,
    );
    let quiet = Duration::from_secs_f64(args.secs);
    let mut last_change = Instant::now();
    let mut seen = 0;
    let mut refreshes = 0u64;
    while last_change.elapsed() < quiet {
        reader.refresh().map_err(|e| e.to_string())?;
        refreshes += 1;
        let completed = reader.stats().completed;
        if completed > seen {
            writeln!(out, "{completed} {}", now_nanos()).map_err(|e| e.to_string())?;
            seen = completed;
            last_change = Instant::now();
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    eprintln!("reader: {refreshes} refreshes, {seen} orders seen");
    Ok(())
}

fn read_pairs(path: &Path) -> Result<Vec<(u64, u128)>, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let mut parts = line.split_whitespace();
        let (Some(a), Some(b)) = (parts.next(), parts.next()) else {
            continue;
        };
        out.push((
            a.parse().map_err(|e| format!("{line}: {e}"))?,
            b.parse().map_err(|e| format!("{line}: {e}"))?,
        ));
    }
    Ok(out)
}

fn report(args: &Args) -> Result<(), String> {
    let commits = read_pairs(&side_file(&args.dir, "writer.times"))?;
    let seen = read_pairs(&side_file(&args.dir, "reader.times"))?;
    let mut latencies = Vec::with_capacity(commits.len());
    let mut at = 0;
    for (k, returned) in commits {
        while at < seen.len() && seen[at].0 <= k {
            at += 1;
        }
        let Some(&(_, visible)) = seen.get(at) else {
            break; // never seen: the reader stopped first
        };
        // Negative: visible before the flush returned (a fresh reader can
        // read a frame written but not yet synced).
        latencies.push((visible as f64 - returned as f64) / 1e6);
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len().max(1));
        latencies.get(i - 1).copied().unwrap_or(f64::NAN)
    };
    let early = latencies.iter().filter(|&&l| l < 0.0).count();
    println!(
        "{{\"commits_seen\":{},\"visible_before_return\":{early},\"min_ms\":{:.3},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
        latencies.len(),
        pct(0.0),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

fn main() {
    let result = parse_args().and_then(|args| match args.role.as_str() {
        "writer" => writer(&args),
        "reader" => reader(&args),
        "report" => report(&args),
        other => Err(format!("unknown role {other}")),
    });
    if let Err(e) = result {
        eprintln!("bamdb-visibility: {e}");
        std::process::exit(2);
    }
}
