//! bamdb-fleet: edge boxes shipping through NATS JetStream to a central
//! bus (issue 20), measured against the same bus reading local boxes.
//! Starts its own nats-server (from PATH) in a temporary directory.
//!
//! - `rate`: 4 boxes, each holding `--frames` frames of `--per-frame`
//!   typical PurchaseOrders (begin, 3 updates, end). Local: one store
//!   imports the boxes with `Store::import_boxes`. NATS: 4 shippers (one
//!   thread each) publish the same boxes while a second store's NATS
//!   source imports them. Events/s from start until everything is
//!   imported, side by side, and the ratio.
//! - `latency`: 4 boxes committing one activity per flush at `--rate`
//!   commits/s in all (paced), shipped and imported continuously for
//!   `--secs`; the latency of each commit from its flush returning until
//!   the central store has imported its box up to it. p50/p90/p99/max.
//!   With `--local`, the same bus reads the boxes where they are
//!   (`Store::import_boxes` polled every millisecond) instead: the
//!   baseline.
//! - `outage`: as `latency` at `--rate` commits/s, but the nats-server is
//!   stopped after 5 s for `--outage-secs`; then started again. Prints
//!   how long after the restart the central store had caught up with
//!   everything committed before it.
//!
//! `bamdb-fleet rate|latency|outage [--frames N] [--per-frame N] [--rate N] [--secs N] [--outage-secs N] [--local]`
//! (build with `--features nats`; prints one JSON object).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bamdb::fixture::{definition, TypicalOrder, FULL, TYPICAL_EVENTS};
use bamdb::ship::{NatsSource, ShipOptions, Shipper, SourceOptions, StreamSettings};
use bamdb::{BoxOptions, EventStream, MessageBox, Store, StoreOptions};

const BOXES: usize = 4;

struct Args {
    mode: String,
    frames: u64,
    per_frame: u64,
    rate: f64,
    secs: f64,
    outage_secs: f64,
    local: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().ok_or("rate, latency or outage")?;
    let mut parsed = Args {
        mode,
        frames: 5_000,
        per_frame: 10,
        rate: 5_000.0,
        secs: 20.0,
        outage_secs: 600.0,
        local: false,
    };
    while let Some(flag) = args.next() {
        if flag == "--local" {
            parsed.local = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<f64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--frames" => parsed.frames = number(&value)? as u64,
            "--per-frame" => parsed.per_frame = number(&value)? as u64,
            "--rate" => parsed.rate = number(&value)?,
            "--secs" => parsed.secs = number(&value)?,
            "--outage-secs" => parsed.outage_secs = number(&value)?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(parsed)
}

/// A nats-server of this run, on a free port, its store in `dir`.
struct Server {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut server = Server {
            dir: dir.to_path_buf(),
            port,
            child: None,
        };
        server.restart();
        server
    }

    fn restart(&mut self) {
        std::fs::create_dir_all(&self.dir).expect("mkdir");
        let config = self.dir.join("nats.conf");
        std::fs::write(
            &config,
            format!(
                "listen: 127.0.0.1:{}\nmax_payload: 8MB\njetstream {{ store_dir: {:?} }}\n",
                self.port,
                self.dir.join("js")
            ),
        )
        .expect("write nats.conf");
        let child = Command::new("nats-server")
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server (apt-get install nats-server)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn settings(&self, stream: &str) -> StreamSettings {
        StreamSettings {
            url: format!("nats://127.0.0.1:{}", self.port),
            stream: stream.into(),
            replicas: 1,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn store(dir: &Path) -> Store {
    let store = Store::open(dir, StoreOptions::default()).expect("open store");
    store.deploy(definition(FULL)).expect("deploy");
    store
}

fn open_box(dir: &Path) -> MessageBox {
    MessageBox::open(dir, BoxOptions::default()).expect("open box")
}

/// Fills box `n` in `dir` with `frames` flushes of `per_frame` orders.
fn fill(dir: &Path, n: usize, frames: u64, per_frame: u64) -> u64 {
    let outbox = open_box(dir);
    let mut stream = outbox.buffered_stream();
    for f in 0..frames {
        for k in 0..per_frame {
            TypicalOrder::new(n, f * per_frame + k)
                .report(&mut stream)
                .expect("push");
        }
        stream.flush().expect("flush");
    }
    outbox.stats().expect("box stats").box_id
}

fn rate(args: &Args) -> serde_json::Value {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let boxes: Vec<PathBuf> = (0..BOXES).map(|n| root.join(format!("box{n}"))).collect();
    for (n, dir) in boxes.iter().enumerate() {
        fill(dir, n, args.frames, args.per_frame);
    }
    let events = BOXES as u64 * args.frames * args.per_frame * TYPICAL_EVENTS as u64;
    // Two copies of each box: one read locally, one shipped.
    let shipped: Vec<PathBuf> = (0..BOXES).map(|n| root.join(format!("ship{n}"))).collect();
    for (from, to) in boxes.iter().zip(&shipped) {
        copy_dir(from, to);
    }

    let local = store(&root.join("local"));
    let started = Instant::now();
    let total = args.frames * BOXES as u64;
    let mut copied = 0;
    while copied < total {
        copied += local.import_boxes(&boxes).expect("import_boxes").frames;
    }
    assert!(local.sync(Duration::from_secs(600)));
    let local_secs = started.elapsed().as_secs_f64();
    local.close().expect("close");

    let server = Server::start(&root.join("nats"));
    let central = store(&root.join("central"));
    let settings = server.settings("RATE");
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let ids: Vec<u64> = shipped
        .iter()
        .map(|d| open_box(d).stats().expect("stats").box_id)
        .collect();
    std::thread::scope(|scope| {
        for dir in &shipped {
            let mut options = ShipOptions::new(dir, settings.clone());
            options.drain = true;
            let shipper = Shipper::new(options).expect("shipper");
            let stop = &stop;
            scope.spawn(move || shipper.run(stop).expect("ship"));
        }
        let source = NatsSource::new(SourceOptions::new(settings.clone())).expect("source");
        let (central, stop) = (&central, &stop);
        let receiving = scope.spawn(move || source.run(central, stop).expect("source"));
        while ids
            .iter()
            .any(|&id| central.box_imported_lsn(id) < args.frames)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, Ordering::Relaxed);
        receiving.join().expect("source thread");
    });
    let nats_secs = started.elapsed().as_secs_f64();
    central.close().expect("close");
    let local_rate = events as f64 / local_secs;
    let nats_rate = events as f64 / nats_secs;
    serde_json::json!({
        "mode": "rate",
        "boxes": BOXES,
        "frames_per_box": args.frames,
        "activities_per_frame": args.per_frame,
        "events": events,
        "local_secs": local_secs,
        "local_events_per_sec": local_rate.round(),
        "nats_secs": nats_secs,
        "nats_events_per_sec": nats_rate.round(),
        "nats_vs_local": (nats_rate / local_rate * 1000.0).round() / 1000.0,
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Per box: (LSN, when its flush returned), in LSN order.
type Commits = Vec<Mutex<Vec<(u64, Instant)>>>;

/// Commits one order per flush to box `n` at `rate` commits/s until
/// `stop`, recording when each flush returned.
fn produce(outbox: &MessageBox, n: usize, rate: f64, commits: &Commits, stop: &AtomicBool) {
    let mut stream = outbox.buffered_stream();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let mut i: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        let due = started + interval * i;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        TypicalOrder::new(n, u64::from(i))
            .report(&mut stream)
            .expect("push");
        let lsn = stream.flush().expect("flush").expect("a batch").lsn;
        commits[n].lock().expect("lock").push((lsn, Instant::now()));
        i += 1;
    }
}

struct Fleet {
    _tmp: tempfile::TempDir,
    server: Server,
    boxes: Vec<MessageBox>,
    ids: Vec<u64>,
    central: Store,
    settings: StreamSettings,
}

fn fleet() -> Fleet {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().to_path_buf();
    let boxes: Vec<MessageBox> = (0..BOXES)
        .map(|n| open_box(&root.join(format!("box{n}"))))
        .collect();
    let ids = boxes
        .iter()
        .map(|b| b.stats().expect("stats").box_id)
        .collect();
    let server = Server::start(&root.join("nats"));
    let settings = server.settings("FLEET");
    Fleet {
        central: store(&root.join("central")),
        _tmp: tmp,
        server,
        boxes,
        ids,
        settings,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    (sorted[i] * 1000.0).round() / 1000.0
}

/// Runs shippers and the central source while `during` runs on this
/// thread; collects each commit's latency to visibility.
fn run_fleet(
    fleet: &mut Fleet,
    rate: f64,
    local: bool,
    during: impl FnOnce(&mut Server, &Commits, &Store, &[u64]),
) -> Vec<f64> {
    let commits: Commits = (0..BOXES).map(|_| Mutex::new(Vec::new())).collect();
    let stop_producing = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let latencies = Mutex::new(Vec::new());
    let Fleet {
        server,
        boxes,
        ids,
        central,
        settings,
        ..
    } = fleet;
    std::thread::scope(|scope| {
        if local {
            // The same bus reading the boxes where they are, as `bamdb bus
            // --poll-ms 1` does.
            let dirs: Vec<PathBuf> = boxes.iter().map(|b| b.dir().to_path_buf()).collect();
            let (central_ref, stop_ref) = (&*central, &stop);
            scope.spawn(move || {
                while !stop_ref.load(Ordering::Relaxed) {
                    if central_ref
                        .import_boxes(&dirs)
                        .expect("import_boxes")
                        .frames
                        == 0
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            });
        } else {
            for b in boxes.iter() {
                let shipper =
                    Shipper::new(ShipOptions::new(b.dir(), settings.clone())).expect("shipper");
                let stop = &stop;
                scope.spawn(move || shipper.run(stop).expect("ship"));
            }
            let source = NatsSource::new(SourceOptions::new(settings.clone())).expect("source");
            let (central_ref, stop_ref) = (&*central, &stop);
            scope.spawn(move || source.run(central_ref, stop_ref).expect("source"));
        }
        // One producer thread per box, each a quarter of the rate.
        for (n, outbox) in boxes.iter().enumerate() {
            let (commits_ref, stop_p) = (&commits, &stop_producing);
            scope.spawn(move || produce(outbox, n, rate / BOXES as f64, commits_ref, stop_p));
        }
        // The watcher: each box's imported LSN, polled every 100 us.
        let (ids_ref, commits_ref, latencies_ref, stop_ref) = (&*ids, &commits, &latencies, &stop);
        let central_ref = &*central;
        scope.spawn(move || {
            let mut seen = [0usize; BOXES];
            while !stop_ref.load(Ordering::Relaxed) {
                for (n, &id) in ids_ref.iter().enumerate() {
                    let imported = central_ref.box_imported_lsn(id);
                    let now = Instant::now();
                    let list = commits_ref[n].lock().expect("lock");
                    while seen[n] < list.len() && list[seen[n]].0 <= imported {
                        let at = list[seen[n]].1;
                        latencies_ref
                            .lock()
                            .expect("lock")
                            .push(now.saturating_duration_since(at).as_secs_f64() * 1000.0);
                        seen[n] += 1;
                    }
                }
                std::thread::sleep(Duration::from_micros(100));
            }
        });
        during(server, &commits, central, ids);
        stop_producing.store(true, Ordering::Relaxed);
        // Let the last commits arrive, then stop.
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline && !caught_up(&commits, central, ids) {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
    });
    let mut all = latencies.into_inner().expect("lock");
    all.sort_by(f64::total_cmp);
    all
}

fn caught_up(commits: &Commits, central: &Store, ids: &[u64]) -> bool {
    ids.iter().enumerate().all(|(n, &id)| {
        let last = commits[n].lock().expect("lock").last().map_or(0, |c| c.0);
        central.box_imported_lsn(id) >= last
    })
}

fn latency(args: &Args) -> serde_json::Value {
    let mut fleet = fleet();
    let secs = args.secs;
    let all = run_fleet(&mut fleet, args.rate, args.local, |_, _, _, _| {
        std::thread::sleep(Duration::from_secs_f64(secs));
    });
    serde_json::json!({
        "mode": "latency",
        "transport": if args.local { "local boxes" } else { "nats" },
        "boxes": BOXES,
        "commits_per_sec": args.rate,
        "secs": secs,
        "commits": all.len(),
        "p50_ms": percentile(&all, 0.50),
        "p90_ms": percentile(&all, 0.90),
        "p99_ms": percentile(&all, 0.99),
        "max_ms": percentile(&all, 1.0),
    })
}

fn outage(args: &Args) -> serde_json::Value {
    let mut fleet = fleet();
    let outage = Duration::from_secs_f64(args.outage_secs);
    let mut report = serde_json::json!({});
    let _ = run_fleet(
        &mut fleet,
        args.rate,
        false,
        |server, commits, central, ids| {
            std::thread::sleep(Duration::from_secs(5));
            server.stop();
            std::thread::sleep(outage);
            let backlog: usize = commits.iter().map(|c| c.lock().expect("lock").len()).sum();
            let pending: Vec<u64> = commits
                .iter()
                .map(|c| c.lock().expect("lock").last().map_or(0, |c| c.0))
                .collect();
            server.restart();
            let restarted = Instant::now();
            while ids
                .iter()
                .zip(&pending)
                .any(|(&id, &last)| central.box_imported_lsn(id) < last)
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            let caught_up = restarted.elapsed().as_secs_f64();
            let imported_before: u64 = ids.iter().map(|&id| central.box_imported_lsn(id)).sum();
            report = serde_json::json!({
                "mode": "outage",
                "boxes": BOXES,
                "commits_per_sec": args.rate,
                "outage_secs": args.outage_secs,
                "commits_at_restart": backlog,
                "imported_when_caught_up": imported_before,
                "catch_up_secs": (caught_up * 1000.0).round() / 1000.0,
            });
        },
    );
    report
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("bamdb-fleet: {e}\nusage: bamdb-fleet rate|latency|outage [--frames N] [--per-frame N] [--rate N] [--secs N] [--outage-secs N] [--local]");
            std::process::exit(2);
        }
    };
    let report = match args.mode.as_str() {
        "rate" => rate(&args),
        "latency" => latency(&args),
        "outage" => outage(&args),
        other => {
            eprintln!("bamdb-fleet: unknown mode {other}");
            std::process::exit(2);
        }
    };
    println!("{report}");
}
