//! bamdb-bench: ingests the typical PurchaseOrder workload durably into
//! bamdb (buffered and direct streams), a raw `write + fdatasync` file,
//! okaywal (a write-ahead log only: one entry of the encoded batch per
//! commit, its own group commit, checkpoints that drop the entries), SQLite,
//! fjall and redb, side by side in one run, each row in a fresh child
//! process. See `BENCHMARKS-peers.md` at the repository root.
//!
//! Every row reports events/s over the timed phase and "ev/s caught up",
//! events over the timed phase plus the drain (bamdb buffered's bus is
//! still importing when the producers stop; the peers' drain is 0). The
//! goals of issue 7 and of issue 19 (write path CPU) are checked against
//! the medians.
//!
//! `bamdb-bench [--quick]` runs everything and writes
//! `bench/results/{results.json,events_per_s.svg}`; the table and the two
//! goal tables go to stdout. `bamdb-bench --row STORE --batch N --threads N --secs S --dir D`
//! is the child form (one JSON line on stdout).

mod report;
mod rows;
mod workload;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use serde::Serialize;

use rows::{RecoveryResult, RowResult, RowSpec, STORES};

#[derive(Parser, Debug)]
#[command(
    about = "bamdb against raw write+fdatasync, okaywal (a log only), SQLite, fjall and redb",
    long_about = "bamdb against raw write+fdatasync, okaywal (a log only), SQLite, fjall and redb: \
        durable commits of the typical PurchaseOrder activity, batches of 1, 10 and 100 activities, \
        1 and 4 threads, each row in its own process. The table quotes events/s over the timed phase \
        and ev/s caught up (events over the timed phase plus the import drain; equal for the peers), \
        then checks the goals of issue 7 and of issue 19 (\"not measured\" where --only left a row out)."
)]
struct Cli {
    /// Under a minute: short rows, one repeat, small recovery and memory runs.
    #[arg(long)]
    quick: bool,
    /// Seconds per row (default 3, quick 0.5).
    #[arg(long)]
    secs: Option<f64>,
    /// Runs of every row; the table quotes medians (default 3, quick 1).
    #[arg(long)]
    repeats: Option<usize>,
    /// Only these stores (comma-separated), e.g. bamdb-buffered,okaywal. Stores:
    /// bamdb-buffered, bamdb-direct, raw-fdatasync, okaywal, sqlite, fjall, redb.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Backlog for the recovery measurement, MiB (default 256, quick 32; 0
    /// skips). The goal's 1 GiB is judged by scaling linearly.
    #[arg(long)]
    recovery_mib: Option<u64>,
    /// Events for the memory measurement (default 10,000,000, quick 1,000,000; 0 skips).
    #[arg(long)]
    mem_events: Option<u64>,
    /// Where the stores go (default: the system temp directory).
    #[arg(long)]
    tmp: Option<PathBuf>,
    /// Where results.json and events_per_s.svg go (default: bench/results).
    #[arg(long)]
    out: Option<PathBuf>,

    // The child form.
    /// Run one row in this process: a store name, `mem` or `recovery`.
    #[arg(long, hide = true)]
    row: Option<String>,
    #[arg(long, hide = true, default_value_t = 1)]
    batch: usize,
    #[arg(long, hide = true, default_value_t = 1)]
    threads: usize,
    #[arg(long, hide = true)]
    dir: Option<PathBuf>,
    #[arg(long, hide = true, default_value_t = 0)]
    total_events: u64,
}

#[derive(Serialize)]
struct Machine {
    nproc: usize,
    kernel: String,
    df_t: String,
    date: String,
    tmp: String,
}

#[derive(Serialize)]
struct Results {
    machine: Machine,
    mode: &'static str,
    secs_per_row: f64,
    repeats: usize,
    encoded_bytes_per_batch: Vec<(usize, usize)>,
    rows: Vec<RowResult>,
    runs: Vec<RowResult>,
    recovery: Option<RecoveryResult>,
    memory: Option<RowResult>,
    /// The goals of issue 7.
    goals: Vec<report::Goal>,
    /// The goals of issue 19 (write path CPU), from the same rows.
    goals_issue19: Vec<report::Goal>,
}

fn main() {
    let cli = Cli::parse();
    if let Some(row) = &cli.row {
        child(&cli, row);
        return;
    }
    let quick = cli.quick;
    let secs = cli.secs.unwrap_or(if quick { 0.5 } else { 3.0 });
    let repeats = cli.repeats.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let recovery_mib = cli.recovery_mib.unwrap_or(if quick { 32 } else { 256 });
    let mem_events = cli
        .mem_events
        .unwrap_or(if quick { 1_000_000 } else { 10_000_000 });
    let tmp = cli.tmp.clone().unwrap_or_else(std::env::temp_dir);
    let out = cli
        .out
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("results"));
    std::fs::create_dir_all(&out).expect("create the results directory");
    let stores: Vec<&str> = STORES
        .iter()
        .copied()
        .filter(|s| cli.only.is_empty() || cli.only.iter().any(|o| o == s))
        .collect();

    let machine = machine(&tmp);
    eprintln!(
        "bamdb-bench: {} cores, kernel {}, {}\n{}",
        machine.nproc, machine.kernel, machine.date, machine.df_t
    );
    // Rows for one configuration run next to each other, and repeats go
    // round-robin, so drift on a shared machine hits every store alike.
    // A discarded warm-up row: the first fsyncs of a run are often slow.
    let _ = spawn_row(&tmp, "raw-fdatasync", 1, 1, secs.min(1.0), 0);
    let mut runs = Vec::new();
    for rep in 0..repeats {
        for batch in [1usize, 10, 100] {
            for threads in [1usize, 4] {
                for store in &stores {
                    let Some(r) = spawn_row(&tmp, store, batch, threads, secs, 0) else {
                        continue;
                    };
                    eprintln!(
                        "[{}/{repeats}] {store:15} b{batch:<3} t{threads} {:>10.0} ev/s ({:>8.0} caught up) {:>8.0} commits/s p50 {:>7.0} µs p99 {:>7.0} µs wa {:.2} rss {:.1} MiB {}",
                        rep + 1,
                        r.events_per_s,
                        r.caught_up_events_per_s,
                        r.commits_per_s,
                        r.p50_us,
                        r.p99_us,
                        r.write_amp,
                        r.peak_rss_mib,
                        r.note
                    );
                    runs.push(r);
                }
            }
        }
    }
    let mut rows = Vec::new();
    for batch in [1usize, 10, 100] {
        for threads in [1usize, 4] {
            for store in &stores {
                let same: Vec<&RowResult> = runs
                    .iter()
                    .filter(|r| r.store == *store && r.batch == batch && r.threads == threads)
                    .collect();
                if !same.is_empty() {
                    rows.push(report::median_row(&same));
                }
            }
        }
    }
    let bamdb_measured = stores.iter().any(|s| s.starts_with("bamdb"));
    let memory = (mem_events > 0 && bamdb_measured)
        .then(|| {
            eprintln!("memory: bamdb buffered, {mem_events} events, batch 100, 4 threads ...");
            let r = spawn_row(&tmp, "mem", 100, 4, 0.0, mem_events)?;
            eprintln!(
                "memory: peak RSS {:.1} MiB, {:.0} events/s, drain {:.1} s",
                r.peak_rss_mib, r.events_per_s, r.drain_secs
            );
            Some(r)
        })
        .flatten();
    let recovery = (recovery_mib > 0 && bamdb_measured)
        .then(|| {
            eprintln!("recovery: {recovery_mib} MiB backlog ...");
            let r = spawn_recovery(&tmp, recovery_mib)?;
            eprintln!(
                "recovery: {:.0} MiB queryable after {:.2} s ({:.0} events/s)",
                r.wal_bytes as f64 / (1u64 << 20) as f64,
                r.open_to_queryable_secs,
                r.import_events_per_s
            );
            Some(r)
        })
        .flatten();
    let goals = report::goals(&rows, recovery.as_ref(), memory.as_ref());
    let goals_issue19 = report::goals_issue19(&rows);

    let title = format!(
        "PurchaseOrder ingest, durable commits ({} cores, {}, {})",
        machine.nproc,
        machine.date.split('T').next().unwrap_or(""),
        if quick { "--quick" } else { "full" }
    );
    std::fs::write(out.join("events_per_s.svg"), report::svg(&rows, &title))
        .expect("write the chart");
    let results = Results {
        machine,
        mode: if quick { "quick" } else { "full" },
        secs_per_row: secs,
        repeats,
        encoded_bytes_per_batch: [1usize, 10, 100]
            .iter()
            .map(|&b| (b, workload::encode(0, 0, b, 0).len()))
            .collect(),
        rows,
        runs,
        recovery,
        memory,
        goals,
        goals_issue19,
    };
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&results).expect("serialise results"),
    )
    .expect("write results.json");

    println!("{}", report::table(&results.rows, repeats));
    println!(
        "Encoded bytes per commit (batch: bytes): {}\n",
        results
            .encoded_bytes_per_batch
            .iter()
            .map(|(b, n)| format!("{b}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "Goals of issue 7:\n\n{}",
        report::goals_table(&results.goals)
    );
    println!(
        "Goals of issue 19 (write path CPU; throughput goals use bamdb-buffered's caught-up rate):\n\n{}",
        report::goals_table(&results.goals_issue19)
    );
    println!(
        "Results: {}\nChart: {}",
        out.join("results.json").display(),
        out.join("events_per_s.svg").display()
    );
}

fn child(cli: &Cli, row: &str) {
    let dir = cli.dir.clone().expect("--dir is required with --row");
    let json = if row == "recovery" {
        serde_json::to_string(&rows::recovery(&dir, cli.total_events))
    } else {
        serde_json::to_string(&rows::run(&RowSpec {
            store: row,
            batch: cli.batch,
            threads: cli.threads,
            secs: cli.secs.unwrap_or(1.0),
            dir: &dir,
            total_events: cli.total_events,
        }))
    };
    println!("{}", json.expect("serialise the row result"));
}

fn spawn_child(tmp: &Path, args: &[String]) -> Option<String> {
    let dir = tempfile::Builder::new()
        .prefix("bamdb-bench-")
        .tempdir_in(tmp)
        .expect("create a row directory");
    let exe = std::env::current_exe().expect("find the harness executable");
    let output = Command::new(exe)
        .args(args)
        .arg("--dir")
        .arg(dir.path())
        .output()
        .expect("spawn a row");
    if !output.status.success() {
        eprintln!(
            "row {args:?} FAILED ({}), left out of the results:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn spawn_row(
    tmp: &Path,
    store: &str,
    batch: usize,
    threads: usize,
    secs: f64,
    total: u64,
) -> Option<RowResult> {
    let args = [
        "--row".to_owned(),
        store.to_owned(),
        "--batch".into(),
        batch.to_string(),
        "--threads".into(),
        threads.to_string(),
        "--secs".into(),
        secs.to_string(),
        "--total-events".into(),
        total.to_string(),
    ];
    let out = spawn_child(tmp, &args)?;
    Some(serde_json::from_str(out.trim()).expect("parse a row result"))
}

fn spawn_recovery(tmp: &Path, mib: u64) -> Option<RecoveryResult> {
    let args = [
        "--row".to_owned(),
        "recovery".into(),
        "--total-events".into(),
        mib.to_string(),
    ];
    let out = spawn_child(tmp, &args)?;
    Some(serde_json::from_str(out.trim()).expect("parse the recovery result"))
}

fn machine(tmp: &Path) -> Machine {
    let run = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    Machine {
        nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
        kernel: run("uname", &["-r"]),
        df_t: run("df", &["-T", &tmp.display().to_string()]),
        date: run("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
        tmp: tmp.display().to_string(),
    }
}
