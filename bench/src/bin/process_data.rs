//! bamdb-process-data: writes the query data set of `bamdb::fixture` (the
//! same N completed PurchaseOrder instances the in-process query bench
//! uses) as the input files of the process-level benchmark
//! (`bench/process.sh`), one form per engine:
//!
//! - `definitions.json`: the PurchaseOrder definition (`QUERY_ITEMS`), for
//!   `bamdb deploy`;
//! - `events.jsonl`: `bamdb ingest` lines, per instance a begin, one update
//!   of the six items and an end, all stamped `Shipped` (as
//!   `CompletedOrder::report` does), with a `{"op":"flush"}` line after
//!   every `--group` instances so that each group is one commit;
//! - `orders.csv`: one row per instance, with a header, for `sqlite3
//!   .import` and DuckDB's `read_csv`. `Received` and `Shipped` are
//!   microseconds since the Unix epoch (integers): a day bucket is an
//!   integer division and a duration a subtraction in both SQL engines, the
//!   cheapest plan each has, and the same arithmetic bamdb does on its
//!   microsecond timestamps.
//!
//! `bamdb-process-data --n 1000000 --out DIR [--group 1000]`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use bamdb::fixture::{self, CompletedOrder, ACTIVITY};
use bamdb::model::Timestamp;

struct Args {
    n: u64,
    out: PathBuf,
    group: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut n = None;
    let mut out = None;
    let mut group = 1000;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--n" => n = Some(parse_count(&flag, &value()?)?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--group" => group = parse_count(&flag, &value()?)?,
            "-h" | "--help" => {
                println!(
                    "usage: bamdb-process-data --n N --out DIR [--group INSTANCES_PER_COMMIT]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let group = group.max(1);
    Ok(Args {
        n: n.ok_or("--n is required")?,
        out: out.ok_or("--out is required")?,
        group,
    })
}

fn parse_count(flag: &str, text: &str) -> Result<u64, String> {
    text.replace('_', "")
        .parse()
        .map_err(|e| format!("{flag} {text:?}: {e}"))
}

fn rfc3339(ts: Timestamp) -> Result<String, String> {
    ts.to_rfc3339()
        .ok_or_else(|| format!("timestamp {} out of range", ts.as_micros()))
}

fn create(path: &Path) -> Result<BufWriter<File>, String> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|e| format!("cannot create {}: {e}", path.display()))
}

fn write_all(args: &Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |e: std::io::Error| format!("writing {path}: {e}")
    };

    let defs = args.out.join("definitions.json");
    std::fs::write(&defs, fixture::definitions_json(fixture::QUERY_ITEMS)).map_err(io(&defs))?;

    let events = args.out.join("events.jsonl");
    let csv = args.out.join("orders.csv");
    let mut ev = create(&events)?;
    let mut rows = create(&csv)?;
    writeln!(rows, "id,customer,region,amount,quantity,received,shipped").map_err(io(&csv))?;
    for i in 0..args.n {
        let o = CompletedOrder::new(i);
        let ts = rfc3339(o.shipped)?;
        // Amount through serde_json, which writes a float as the shortest
        // text that reads back to the same f64 (and always with a `.`).
        let amount = serde_json::to_string(&o.amount).map_err(|e| e.to_string())?;
        writeln!(
            ev,
            "{{\"op\":\"begin\",\"activity\":\"{ACTIVITY}\",\"id\":\"{id}\",\"ts\":\"{ts}\"}}\n\
             {{\"op\":\"update\",\"activity\":\"{ACTIVITY}\",\"id\":\"{id}\",\"ts\":\"{ts}\",\"data\":{{\
             \"Customer\":\"{customer}\",\"Region\":\"{region}\",\"Amount\":{amount},\
             \"Quantity\":{quantity},\"Received\":\"{received}\",\"Shipped\":\"{ts}\"}}}}\n\
             {{\"op\":\"end\",\"activity\":\"{ACTIVITY}\",\"id\":\"{id}\",\"ts\":\"{ts}\"}}",
            id = o.id,
            customer = o.customer,
            region = o.region,
            quantity = o.quantity,
            received = rfc3339(o.received)?,
        )
        .map_err(io(&events))?;
        if (i + 1) % args.group == 0 || i + 1 == args.n {
            writeln!(ev, "{{\"op\":\"flush\"}}").map_err(io(&events))?;
        }
        writeln!(
            rows,
            "{},{},{},{},{},{},{}",
            o.id,
            o.customer,
            o.region,
            amount,
            o.quantity,
            o.received.as_micros(),
            o.shipped.as_micros()
        )
        .map_err(io(&csv))?;
    }
    ev.flush().map_err(io(&events))?;
    rows.flush().map_err(io(&csv))?;
    Ok(())
}

fn main() {
    let result = parse_args().and_then(|args| write_all(&args));
    if let Err(e) = result {
        eprintln!("bamdb-process-data: {e}");
        std::process::exit(2);
    }
}
