//! bamdb-http-load: load from a second process against `bamdb serve` on
//! loopback (issue 17), and the in-process figure it is compared with.
//!
//! - `ingest --addr A [--clients 8] [--per-request 100] [--secs 10]`: each
//!   client thread keeps one connection and POSTs requests of N typical
//!   PurchaseOrder activities (5 events each, `bamdb::fixture`) as JSON
//!   lines, one after another, for `--secs`; then waits until the
//!   server's import caught up. Prints events/s (until caught up) and the
//!   acknowledgement latency percentiles.
//! - `inprocess --dir D [--clients 8] [--per-request 100] [--secs 10]`:
//!   the same activities through `buffered_stream`s of a `Store` in this
//!   process, one flush per N activities, until `sync`.
//! - `fill --dir D --instances N [--active M]`: a store of N completed
//!   instances (the query data set of `bamdb::fixture`) and M active ones.
//! - `get --addr A --instances N [--requests 20000] [--clients 1]`: GETs
//!   of random instances over kept-alive connections; latency percentiles.
//! - `pages --addr A --path P [--requests 30]`: the latency of one page.
//!
//! Every mode is bounded in time (`--secs`) or in requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bamdb::fixture::{self, CompletedOrder, TypicalOrder, ACTIVITY, TYPICAL_EVENTS};
use bamdb::model::Timestamp;
use bamdb::{EventStream, Store, StoreOptions};

struct Args {
    mode: String,
    addr: String,
    dir: PathBuf,
    clients: usize,
    per_request: usize,
    secs: f64,
    instances: u64,
    active: u64,
    requests: usize,
    path: String,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        mode: String::new(),
        addr: "127.0.0.1:8080".into(),
        dir: PathBuf::new(),
        clients: 8,
        per_request: 100,
        secs: 10.0,
        instances: 0,
        active: 0,
        requests: 20_000,
        path: "/".into(),
    };
    let mut args = std::env::args().skip(1);
    a.mode = args
        .next()
        .ok_or("usage: bamdb-http-load ingest|inprocess|fill|get|pages ...")?;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<f64>().map_err(|e| format!("{v}: {e}"));
        match flag.as_str() {
            "--addr" => a.addr = value()?,
            "--dir" => a.dir = PathBuf::from(value()?),
            "--clients" => a.clients = num(value()?)? as usize,
            "--per-request" => a.per_request = num(value()?)? as usize,
            "--secs" => a.secs = num(value()?)?,
            "--instances" => a.instances = num(value()?)? as u64,
            "--active" => a.active = num(value()?)? as u64,
            "--requests" => a.requests = num(value()?)? as usize,
            "--path" => a.path = value()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// One kept-alive HTTP/1.1 connection.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Client {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        }
    }

    /// Sends one request; returns the status and the body.
    fn request(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.writer.write_all(head.as_bytes()).expect("write head");
        self.writer.write_all(body).expect("write body");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let mut len = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                if n.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().expect("length");
                }
            }
        }
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).expect("body");
        (status, body)
    }
}

/// The JSON lines of `per_request` typical activities of `client`,
/// numbered from `first`: the events of [`TypicalOrder::events`], written
/// with `format!` (the load generator shares the two cores with the
/// server: building `serde_json` values per event would take from it).
fn request_body(client: usize, first: u64, per_request: usize) -> String {
    use std::fmt::Write as _;
    let ts = Timestamp::now().to_string();
    let mut out = String::with_capacity(per_request * 5 * 160);
    for n in first..first + per_request as u64 {
        let o = TypicalOrder::new(client, n);
        let head = format!(r#""activity":"{ACTIVITY}","id":"{}","ts":"{ts}""#, o.id);
        let _ = writeln!(out, r#"{{"op":"begin",{head}}}"#);
        let _ = writeln!(
            out,
            r#"{{"op":"update",{head},"data":{{"PO_Number":"{}","Customer":"{}","Region":"{}"}}}}"#,
            o.po_number, o.customer, o.region
        );
        let _ = writeln!(
            out,
            r#"{{"op":"update",{head},"data":{{"Amount":{:?},"Quantity":{}}}}}"#,
            o.amount, o.quantity
        );
        let _ = writeln!(
            out,
            r#"{{"op":"update",{head},"data":{{"Status":"Shipped"}}}}"#
        );
        let _ = writeln!(out, r#"{{"op":"end",{head}}}"#);
    }
    debug_assert_eq!(out.lines().count(), per_request * TYPICAL_EVENTS);
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn print_latencies(what: &str, mut lat: Vec<Duration>) -> serde_json::Value {
    lat.sort();
    let ms = |d: Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
    serde_json::json!({
        "what": what,
        "requests": lat.len(),
        "p50_ms": ms(percentile(&lat, 0.50)),
        "p90_ms": ms(percentile(&lat, 0.90)),
        "p99_ms": ms(percentile(&lat, 0.99)),
        "max_ms": ms(percentile(&lat, 1.0)),
    })
}

fn ingest(a: &Args) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..a.clients)
        .map(|c| {
            let (addr, per, stop) = (a.addr.clone(), a.per_request, stop.clone());
            std::thread::spawn(move || {
                let mut client = Client::connect(&addr);
                let (mut lat, mut n, mut events, mut last_lsn) = (Vec::new(), 0u64, 0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let body = request_body(c, n, per);
                    let t = Instant::now();
                    let (status, reply) = client.request("POST", "/v1/events", body.as_bytes());
                    match status {
                        200 => {
                            lat.push(t.elapsed());
                            let v: serde_json::Value =
                                serde_json::from_slice(&reply).expect("receipt");
                            last_lsn = last_lsn.max(v["committed"].as_u64().unwrap_or(0));
                            events += (per * TYPICAL_EVENTS) as u64;
                            n += per as u64;
                        }
                        503 => std::thread::sleep(Duration::from_millis(5)),
                        other => panic!("status {other}: {}", String::from_utf8_lossy(&reply)),
                    }
                }
                (lat, events, last_lsn)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(a.secs));
    stop.store(true, Ordering::Relaxed);
    let (mut lat, mut events, mut last) = (Vec::new(), 0, 0);
    for h in handles {
        let (l, e, lsn) = h.join().expect("client");
        lat.extend(l);
        events += e;
        last = last.max(lsn);
    }
    let acked = started.elapsed();
    let mut probe = Client::connect(&a.addr);
    loop {
        let (_, body) = probe.request("GET", "/v1/stats", b"");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("stats");
        if v["applied_lsn"].as_u64().unwrap_or(0) >= last {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let caught_up = started.elapsed();
    print_ingest("http", a, lat, events, acked, caught_up);
}

/// One ingest figure: latencies, events/s until the last acknowledgement
/// and until the import caught up.
fn print_ingest(
    mode: &str,
    a: &Args,
    lat: Vec<Duration>,
    events: u64,
    acked: Duration,
    caught_up: Duration,
) {
    let what = if mode == "http" { "ack" } else { "flush" };
    let mut out = print_latencies(what, lat);
    out["mode"] = mode.into();
    out["clients"] = a.clients.into();
    out["per_request"] = a.per_request.into();
    out["events"] = events.into();
    out["events_per_s_acked"] = ((events as f64 / acked.as_secs_f64()).round()).into();
    out["events_per_s_imported"] = ((events as f64 / caught_up.as_secs_f64()).round()).into();
    println!("{out}");
}

fn inprocess(a: &Args) {
    let store = Store::open(&a.dir, StoreOptions::default()).expect("open");
    store
        .deploy(fixture::definition(fixture::TYPICAL_ITEMS))
        .expect("deploy");
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (events, lat) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..a.clients)
            .map(|c| {
                let (store, stop) = (&store, &stop);
                scope.spawn(move || {
                    let mut s = store.buffered_stream(0);
                    let (mut n, mut events, mut lat) = (0u64, 0u64, Vec::new());
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        for i in n..n + a.per_request as u64 {
                            TypicalOrder::new(c, i).report(&mut s).expect("push");
                        }
                        s.flush().expect("flush");
                        lat.push(t.elapsed());
                        n += a.per_request as u64;
                        events += (a.per_request * TYPICAL_EVENTS) as u64;
                    }
                    (events, lat)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(a.secs));
        stop.store(true, Ordering::Relaxed);
        let mut total = 0;
        let mut lat = Vec::new();
        for h in handles {
            let (e, l) = h.join().expect("thread");
            total += e;
            lat.extend(l);
        }
        (total, lat)
    });
    let acked = started.elapsed();
    assert!(store.sync(Duration::from_secs(3600)));
    let caught_up = started.elapsed();
    print_ingest("inprocess", a, lat, events, acked, caught_up);
    store.close().expect("close");
}

fn fill(a: &Args) {
    let store = Store::open(&a.dir, StoreOptions::default()).expect("open");
    store
        .deploy(fixture::definition(fixture::QUERY_ITEMS))
        .expect("deploy");
    let mut s = store.buffered_stream(0);
    for i in 0..a.instances {
        CompletedOrder::new(i).report(&mut s).expect("push");
        if i % 100 == 99 {
            s.flush().expect("flush");
        }
    }
    // Then `--active` orders begun and never ended (ids after the
    // completed ones), with a Customer and a Region.
    for i in a.instances..a.instances + a.active {
        let o = CompletedOrder::new(i);
        s.begin(ACTIVITY, &o.id).expect("push");
        s.update(
            ACTIVITY,
            &o.id,
            [
                ("Customer", bamdb::model::Value::from(o.customer.as_str())),
                ("Region", bamdb::model::Value::from(o.region)),
            ],
        )
        .expect("push");
        if i % 100 == 99 {
            s.flush().expect("flush");
        }
    }
    s.flush().expect("flush");
    assert!(store.sync(Duration::from_secs(3600)));
    assert!(store.wait_checkpointed(Duration::from_secs(3600)));
    drop(s);
    store.close().expect("close");
}

fn get(a: &Args) {
    let n = a.instances.max(1);
    let per_client = a.requests / a.clients.max(1);
    let handles: Vec<_> = (0..a.clients)
        .map(|c| {
            let addr = a.addr.clone();
            std::thread::spawn(move || {
                let mut client = Client::connect(&addr);
                let mut lat = Vec::with_capacity(per_client);
                for i in 0..per_client as u64 {
                    let id = CompletedOrder::id_of((i * 7919 + c as u64 * 104_729) % n);
                    let path = format!("/v1/activities/{ACTIVITY}/instances/{id}");
                    let t = Instant::now();
                    let (status, body) = client.request("GET", &path, b"");
                    lat.push(t.elapsed());
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                }
                lat
            })
        })
        .collect();
    let lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("client"))
        .collect();
    let mut out = print_latencies("get", lat);
    out["instances"] = n.into();
    out["clients"] = a.clients.into();
    println!("{out}");
}

fn pages(a: &Args) {
    let mut client = Client::connect(&a.addr);
    let mut lat = Vec::new();
    let mut bytes = 0;
    for _ in 0..a.requests {
        let t = Instant::now();
        let (status, body) = client.request("GET", &a.path, b"");
        lat.push(t.elapsed());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        bytes = body.len();
    }
    let mut out = print_latencies("page", lat);
    out["path"] = a.path.clone().into();
    out["bytes"] = bytes.into();
    println!("{out}");
}

fn main() {
    let a = parse_args().unwrap_or_else(|e| {
        eprintln!("bamdb-http-load: {e}");
        std::process::exit(2)
    });
    match a.mode.as_str() {
        "ingest" => ingest(&a),
        "inprocess" => inprocess(&a),
        "fill" => fill(&a),
        "get" => get(&a),
        "pages" => pages(&a),
        other => {
            eprintln!("bamdb-http-load: unknown mode {other}");
            std::process::exit(2)
        }
    }
}
