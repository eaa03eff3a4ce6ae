//! bamdb-producers: producer processes writing their own message boxes
//! while a bus process (`bamdb bus`) imports them (issue 16).
//!
//! - `--role producer --box NAME`: opens the box NAME in the store's
//!   `boxes/` folder and commits one Order (begin + end, id `O-NAME-i`)
//!   per flush for `--secs` seconds, at `--rate` commits/s (0: as fast as
//!   it can). Writes `i nanos` (the time flush i returned) to
//!   `DIR/../NAME.times`, and prints `{"box":..,"commits":..,"secs":..}`.
//! - `--role reader --boxes NAME,NAME,..`: opens the store fresh
//!   (`StoreReader::open_fresh`) and, refreshing in a loop, looks for each
//!   box's next order with `get`; a box's frames are imported in LSN
//!   order, so when `O-NAME-i` is visible all earlier ones of NAME are.
//!   Writes `NAME i nanos` lines to `DIR/../reader.times`; stops after
//!   `--secs` seconds without anything new.
//! - `--role report --boxes ..`: joins the files: latency of commit i of
//!   box NAME = when the reader first saw it minus when its flush
//!   returned (one machine, one clock). Prints percentiles as JSON.
//!
//! `bamdb-producers --role producer|reader|report --dir STORE [--box NAME] [--boxes A,B] [--rate 0] [--secs 10]`

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bamdb::{BoxOptions, EventStream, MessageBox, StoreReader};

struct Args {
    role: String,
    dir: PathBuf,
    name: String,
    boxes: Vec<String>,
    rate: f64,
    secs: f64,
}

fn parse_args() -> Result<Args, String> {
    let (mut role, mut dir, mut name, mut boxes) = (None, None, String::new(), Vec::new());
    let (mut rate, mut secs) = (0.0, 10.0);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--role" => role = Some(value()?),
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--box" => name = value()?,
            "--boxes" => boxes = value()?.split(',').map(str::to_string).collect(),
            "--rate" => rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--secs" => secs = value()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "-h" | "--help" => {
                println!("usage: bamdb-producers --role producer|reader|report --dir STORE [--box NAME] [--boxes A,B] [--rate 0] [--secs 10]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        role: role.ok_or("--role is required")?,
        dir: dir.ok_or("--dir is required")?,
        name,
        boxes,
        rate,
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

fn producer(args: &Args) -> Result<(), String> {
    let outbox = MessageBox::open_in_store(&args.dir, &args.name, BoxOptions::default())
        .map_err(|e| e.to_string())?;
    let mut stream = outbox.buffered_stream();
    let pace = (args.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate));
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.secs);
    let mut next = start;
    let mut times = Vec::new();
    while Instant::now() < end {
        let id = format!("O-{}-{}", args.name, times.len());
        stream.begin("Order", &id).map_err(|e| e.to_string())?;
        stream.end("Order", &id).map_err(|e| e.to_string())?;
        stream.flush().map_err(|e| e.to_string())?;
        times.push(now_nanos());
        if let Some(pace) = pace {
            next += pace;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let mut out = BufWriter::new(
        File::create(side_file(&args.dir, &format!("{}.times", args.name)))
            .map_err(|e| e.to_string())?,
    );
    for (i, nanos) in times.iter().enumerate() {
        writeln!(out, "{i} {nanos}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    println!(
        "{{\"box\":\"{}\",\"commits\":{},\"secs\":{secs:.3}}}",
        args.name,
        times.len()
    );
    Ok(())
}

fn reader(args: &Args) -> Result<(), String> {
    let reader = StoreReader::open_fresh(&args.dir).map_err(|e| e.to_string())?;
    let mut out = BufWriter::new(
        File::create(side_file(&args.dir, "reader.times")).map_err(|e| e.to_string())?,
    );
    let quiet = Duration::from_secs_f64(args.secs);
    let mut last_change = Instant::now();
    let mut next = vec![0u64; args.boxes.len()];
    let mut refreshes = 0u64;
    while last_change.elapsed() < quiet {
        reader.refresh().map_err(|e| e.to_string())?;
        refreshes += 1;
        for (b, name) in args.boxes.iter().enumerate() {
            while reader
                .get("Order", &format!("O-{name}-{}", next[b]))
                .map_err(|e| e.to_string())?
                .is_some()
            {
                writeln!(out, "{name} {} {}", next[b], now_nanos()).map_err(|e| e.to_string())?;
                next[b] += 1;
                last_change = Instant::now();
            }
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    eprintln!(
        "reader: {refreshes} refreshes, {} orders seen",
        next.iter().sum::<u64>()
    );
    Ok(())
}

fn report(args: &Args) -> Result<(), String> {
    let mut seen: HashMap<(String, u64), u128> = HashMap::new();
    let file = File::open(side_file(&args.dir, "reader.times")).map_err(|e| e.to_string())?;
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| e.to_string())?;
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [name, i, nanos] = parts.as_slice() {
            let i: u64 = i.parse().map_err(|e| format!("{line}: {e}"))?;
            let nanos: u128 = nanos.parse().map_err(|e| format!("{line}: {e}"))?;
            seen.entry((name.to_string(), i)).or_insert(nanos);
        }
    }
    let mut latencies = Vec::new();
    let mut commits = 0usize;
    for name in &args.boxes {
        let path = side_file(&args.dir, &format!("{name}.times"));
        let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| e.to_string())?;
            let parts: Vec<&str> = line.split_whitespace().collect();
            if let [i, nanos] = parts.as_slice() {
                commits += 1;
                let i: u64 = i.parse().map_err(|e| format!("{line}: {e}"))?;
                let returned: u128 = nanos.parse().map_err(|e| format!("{line}: {e}"))?;
                if let Some(&visible) = seen.get(&(name.clone(), i)) {
                    latencies.push((visible as f64 - returned as f64) / 1e6);
                }
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len().max(1));
        latencies.get(i - 1).copied().unwrap_or(f64::NAN)
    };
    println!(
        "{{\"commits\":{commits},\"seen\":{},\"min_ms\":{:.3},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
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
        "producer" => producer(&args),
        "reader" => reader(&args),
        "report" => report(&args),
        other => Err(format!("unknown role {other}")),
    });
    if let Err(e) = result {
        eprintln!("bamdb-producers: {e}");
        std::process::exit(2);
    }
}
