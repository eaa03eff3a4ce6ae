//! One row = one store, batch size and thread count, run in a fresh child
//! process so its peak RSS and its I/O counters are its own.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use bamdb::wal::{Wal, WalOptions};
use bamdb::{EventStream, Store, StoreOptions};
use fs2::FileExt as _;
use serde::{Deserialize, Serialize};

use crate::workload::{self, Po, EVENTS_PER_ACTIVITY};

/// The stores, in table order. `okaywal` is a log only (a write-ahead log
/// with its own group commit and nothing behind it), the bar for issue 19.
pub const STORES: [&str; 7] = [
    "bamdb-buffered",
    "bamdb-direct",
    "raw-fdatasync",
    "okaywal",
    "sqlite",
    "fjall",
    "redb",
];

/// What a child reports for one row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowResult {
    pub store: String,
    pub batch: usize,
    pub threads: usize,
    pub commits: u64,
    pub events: u64,
    pub secs: f64,
    pub events_per_s: f64,
    /// `events / (secs + drain_secs)`: the rate at which the store had the
    /// events imported, not only committed (bamdb buffered keeps importing
    /// after the timed phase; for the peers the drain is 0 and this equals
    /// `events_per_s`).
    #[serde(default)]
    pub caught_up_events_per_s: f64,
    pub commits_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Encoded event bytes committed (the `encode_batch` size of each batch).
    pub event_bytes: u64,
    /// `write_bytes` of /proc/self/io from before the store was opened to
    /// after it was closed (for bamdb: after the bus imported everything).
    pub disk_write_bytes: u64,
    /// `disk_write_bytes / event_bytes`.
    pub write_amp: f64,
    /// Seconds after the timed phase until the store had imported
    /// everything and closed (bamdb buffered: the import backlog).
    pub drain_secs: f64,
    /// VmHWM of the child process, MiB.
    pub peak_rss_mib: f64,
    /// Anything a reader should know about this row.
    pub note: String,
}

/// Row parameters passed from the parent to the child.
pub struct RowSpec<'a> {
    pub store: &'a str,
    pub batch: usize,
    pub threads: usize,
    pub secs: f64,
    pub dir: &'a Path,
    /// For `mem`: total events to ingest instead of a time bound.
    pub total_events: u64,
}

/// Per-thread outcome of the timed loop.
struct Lane {
    commits: u64,
    latencies_ns: Vec<u64>,
}

/// Runs `threads` workers until `secs` have passed (or `max_commits` per
/// thread are done); each call of the worker is one commit, and returns the
/// time spent committing (the part that waits for durability).
fn drive<F, W>(threads: usize, secs: f64, max_commits: u64, make: F) -> (Vec<Lane>, f64)
where
    F: Fn(usize) -> W,
    W: FnMut(u64) -> Duration + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(threads + 1));
    let deadline = Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let mut work = make(t);
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut lane = Lane {
                    commits: 0,
                    latencies_ns: Vec::with_capacity(1 << 16),
                };
                barrier.wait();
                let start = Instant::now();
                while lane.commits < max_commits && start.elapsed() < deadline {
                    let lat = work(lane.commits);
                    lane.latencies_ns.push(lat.as_nanos() as u64);
                    lane.commits += 1;
                }
                lane
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let lanes = handles
        .into_iter()
        .map(|h| h.join().expect("a benchmark thread panicked"))
        .collect();
    (lanes, start.elapsed().as_secs_f64())
}

/// Runs one row and returns its result.
pub fn run(spec: &RowSpec) -> RowResult {
    let io_before = write_bytes();
    let mut note = String::new();
    let batch = spec.batch;
    let max_commits = if spec.total_events > 0 {
        (spec.total_events / (batch * EVENTS_PER_ACTIVITY) as u64).div_ceil(spec.threads as u64)
    } else {
        u64::MAX
    };
    let secs = if spec.total_events > 0 {
        1e9
    } else {
        spec.secs
    };
    let (lanes, elapsed, drain_secs) = match spec.store {
        "bamdb-buffered" | "bamdb-direct" | "mem" => {
            let direct = spec.store == "bamdb-direct";
            let store =
                Arc::new(Store::open(spec.dir, StoreOptions::default()).expect("open bamdb store"));
            store
                .deploy(workload::definition())
                .expect("deploy PurchaseOrder");
            let (lanes, elapsed) = drive(spec.threads, secs, max_commits, |t| {
                let store = store.clone();
                let mut buffered = store.buffered_stream(0);
                let mut direct_s = store.direct_stream();
                move |n| {
                    let first = n * batch as u64;
                    if direct {
                        for i in 0..batch as u64 {
                            Po::new(t, first + i)
                                .report(&mut direct_s)
                                .expect("buffer events");
                        }
                        let t0 = Instant::now();
                        direct_s.flush().expect("direct flush");
                        t0.elapsed()
                    } else {
                        for i in 0..batch as u64 {
                            Po::new(t, first + i)
                                .report(&mut buffered)
                                .expect("buffer events");
                        }
                        let t0 = Instant::now();
                        buffered.flush().expect("buffered flush");
                        t0.elapsed()
                    }
                }
            });
            let t0 = Instant::now();
            assert!(
                store.sync(Duration::from_secs(600)),
                "bamdb did not import the backlog within 10 minutes"
            );
            let stats = store.stats();
            if stats.counters.frames_quarantined > 0 {
                note.push_str("QUARANTINED FRAMES; ");
            }
            if stats.counters.events_imported < events_expected(&lanes, batch) {
                note.push_str("NOT ALL EVENTS IMPORTED; ");
            }
            let store = Arc::try_unwrap(store).unwrap_or_else(|_| panic!("store still shared"));
            if close_store(store) {
                note.push_str("close took over 10 s and was sent a wake-up frame; ");
            }
            (lanes, elapsed, t0.elapsed().as_secs_f64())
        }
        "raw-fdatasync" => {
            const RAW_LEN: u64 = 256 << 20;
            let file = OpenOptions::new()
                .create(true)
                .truncate(true)
                .read(true)
                .write(true)
                .open(spec.dir.join("raw"))
                .expect("create raw file");
            file.allocate(RAW_LEN).expect("preallocate raw file");
            file.sync_all().expect("sync raw file");
            // Same bytes per commit as a bamdb frame: the encoded batch plus
            // a 24-byte frame header, padded to 8.
            let payload = workload::encode(0, 0, batch, 0);
            let mut frame = vec![0u8; (payload.len() + 24).next_multiple_of(8)];
            frame[24..24 + payload.len()].copy_from_slice(&payload);
            let frame = Arc::new(frame);
            let shared = Arc::new(Mutex::new((file, 0u64)));
            if spec.threads > 1 {
                note.push_str("one file behind a mutex; ");
            }
            let (lanes, elapsed) = drive(spec.threads, secs, max_commits, |_| {
                let (shared, frame) = (shared.clone(), frame.clone());
                move |_| {
                    let t0 = Instant::now();
                    let mut g = shared.lock().expect("raw lock");
                    let (file, offset): &mut (File, u64) = &mut g;
                    if *offset + frame.len() as u64 > RAW_LEN {
                        *offset = 0;
                    }
                    file.write_all_at(&frame, *offset).expect("raw write");
                    file.sync_data().expect("raw fdatasync");
                    *offset += frame.len() as u64;
                    t0.elapsed()
                }
            });
            (lanes, elapsed, 0.0)
        }
        "okaywal" => {
            // One WAL shared by every thread (clones of one handle): a
            // commit appends one entry holding the encoded batch and
            // returns once it is fdatasync'ed, okaywal batching the syncs
            // of concurrent writers. Default configuration (1 MiB segments,
            // a checkpoint after 768 KiB); checkpoints drop the entries.
            let wal = okaywal::WriteAheadLog::recover(spec.dir.join("okaywal"), LogOnly)
                .expect("open okaywal");
            note.push_str("a log only, checkpoints drop the entries; ");
            let (lanes, elapsed) = drive(spec.threads, secs, max_commits, |t| {
                let wal = wal.clone();
                move |n| {
                    let bytes = workload::encode(t, n * batch as u64, batch, n);
                    let t0 = Instant::now();
                    let mut entry = wal.begin_entry().expect("okaywal begin_entry");
                    entry.write_chunk(&bytes).expect("okaywal write_chunk");
                    entry.commit().expect("okaywal commit");
                    t0.elapsed()
                }
            });
            wal.shutdown().expect("okaywal shutdown");
            (lanes, elapsed, 0.0)
        }
        "sqlite" => {
            let conn = open_sqlite(&spec.dir.join("po.sqlite"));
            let conn = Arc::new(Mutex::new(conn));
            if spec.threads > 1 {
                note.push_str("one connection behind a mutex; ");
            }
            let (lanes, elapsed) = drive(spec.threads, secs, max_commits, |t| {
                let conn = conn.clone();
                move |n| {
                    let first = n * batch as u64;
                    let pos: Vec<Po> = (0..batch as u64).map(|i| Po::new(t, first + i)).collect();
                    let t0 = Instant::now();
                    let mut g = conn.lock().expect("sqlite lock");
                    sqlite_commit(&mut g, &pos).expect("sqlite commit");
                    t0.elapsed()
                }
            });
            drop(Arc::try_unwrap(conn).map(|m| m.into_inner()));
            (lanes, elapsed, 0.0)
        }
        "fjall" => {
            let keyspace = fjall::Config::new(spec.dir.join("fjall"))
                .open()
                .expect("open fjall keyspace");
            let part = keyspace
                .open_partition("events", fjall::PartitionCreateOptions::default())
                .expect("open fjall partition");
            let counter = Arc::new(AtomicU64::new(0));
            let (lanes, elapsed) = drive(spec.threads, secs, max_commits, |t| {
                let (keyspace, part, counter) = (keyspace.clone(), part.clone(), counter.clone());
                move |n| {
                    let bytes = workload::encode(t, n * batch as u64, batch, n);
                    let key = counter.fetch_add(1, Ordering::Relaxed).to_be_bytes();
                    let t0 = Instant::now();
                    let mut b = keyspace
                        .batch()
                        .durability(Some(fjall::PersistMode::SyncAll));
                    b.insert(&part, key, bytes);
                    b.commit().expect("fjall commit");
                    t0.elapsed()
                }
            });
            drop(part);
            drop(keyspace);
            (lanes, elapsed, 0.0)
        }
        "redb" => {
            const TABLE: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("events");
            let db = Arc::new(redb::Database::create(spec.dir.join("redb")).expect("create redb"));
            let counter = Arc::new(AtomicU64::new(0));
            if spec.threads > 1 {
                note.push_str("write txns serialise inside redb; ");
            }
            let (lanes, elapsed) = drive(spec.threads, secs, max_commits, |t| {
                let (db, counter) = (db.clone(), counter.clone());
                move |n| {
                    let bytes = workload::encode(t, n * batch as u64, batch, n);
                    let key = counter.fetch_add(1, Ordering::Relaxed);
                    let t0 = Instant::now();
                    let txn = db.begin_write().expect("redb begin_write");
                    {
                        let mut table = txn.open_table(TABLE).expect("redb open_table");
                        table.insert(key, bytes.as_slice()).expect("redb insert");
                    }
                    txn.commit().expect("redb commit");
                    t0.elapsed()
                }
            });
            drop(db);
            (lanes, elapsed, 0.0)
        }
        other => panic!("unknown store {other}"),
    };
    let io_after = write_bytes();
    let commits: u64 = lanes.iter().map(|l| l.commits).sum();
    let mut lat: Vec<u64> = lanes.into_iter().flat_map(|l| l.latencies_ns).collect();
    lat.sort_unstable();
    let pct = |p: f64| {
        if lat.is_empty() {
            0.0
        } else {
            let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
            lat[i] as f64 / 1000.0
        }
    };
    let batch_bytes = workload::encode(0, 0, batch, 0).len() as u64;
    let event_bytes = commits * batch_bytes;
    let events = commits * (batch * EVENTS_PER_ACTIVITY) as u64;
    let disk = match (io_before, io_after) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => {
            note.push_str("/proc/self/io unavailable; ");
            0
        }
    };
    RowResult {
        store: spec.store.to_owned(),
        batch,
        threads: spec.threads,
        commits,
        events,
        secs: elapsed,
        events_per_s: events as f64 / elapsed,
        caught_up_events_per_s: events as f64 / (elapsed + drain_secs),
        commits_per_s: commits as f64 / elapsed,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        event_bytes,
        disk_write_bytes: disk,
        write_amp: if event_bytes > 0 {
            disk as f64 / event_bytes as f64
        } else {
            0.0
        },
        drain_secs,
        peak_rss_mib: peak_rss_mib(),
        note: note.trim_end_matches("; ").to_owned(),
    }
}

/// Closes a store, with a guard kept from an old bug: `Store::close` once
/// could miss its shutdown signal when it landed while the bus was between
/// its shutdown check and its wait for new commits, and the bus then slept
/// up to an hour (the wait now also ends on an interrupt counter read
/// before the check). A new commit wakes it, so if close has not returned
/// after 10 s (a close's final checkpoint takes well under that here),
/// this commits one tiny frame (a lone `begin`) every 100 ms until it
/// does. Returns whether that was needed.
fn close_store(store: Store) -> bool {
    let mut kick = store.buffered_stream(0);
    let closer = std::thread::spawn(move || store.close());
    let start = Instant::now();
    let mut kicked = 0u64;
    let mut next_kick = Duration::from_secs(10);
    while !closer.is_finished() {
        std::thread::sleep(Duration::from_millis(2));
        if !closer.is_finished() && start.elapsed() >= next_kick {
            kick.begin(workload::ACTIVITY, &format!("KICK{kicked:012}"))
                .expect("buffer the wake-up event");
            kick.flush().expect("commit the wake-up frame");
            kicked += 1;
            next_kick += Duration::from_millis(100);
        }
    }
    closer
        .join()
        .expect("the closing thread panicked")
        .expect("close bamdb store");
    kicked > 0
}

/// okaywal's side of a log only: nothing to recover into (a fresh directory
/// per row) and nothing to persist at a checkpoint, so a checkpointed
/// segment is recycled at once, as okaywal's own example and `LogVoid` do.
#[derive(Debug)]
struct LogOnly;

impl okaywal::LogManager for LogOnly {
    fn recover(&mut self, _entry: &mut okaywal::Entry<'_>) -> std::io::Result<()> {
        Ok(())
    }

    fn checkpoint_to(
        &mut self,
        _last_checkpointed_id: okaywal::EntryId,
        _checkpointed_entries: &mut okaywal::SegmentReader,
        _wal: &okaywal::WriteAheadLog,
    ) -> std::io::Result<()> {
        Ok(())
    }
}

fn events_expected(lanes: &[Lane], batch: usize) -> u64 {
    lanes.iter().map(|l| l.commits).sum::<u64>() * (batch * EVENTS_PER_ACTIVITY) as u64
}

fn open_sqlite(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open sqlite");
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .expect("set journal_mode");
    assert_eq!(mode, "wal", "SQLite did not switch to WAL");
    conn.execute_batch(
        "PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS purchase_order (
             id TEXT PRIMARY KEY,
             state TEXT, begin_ts INTEGER, end_ts INTEGER, last_ts INTEGER,
             po_number TEXT, customer TEXT, region TEXT,
             amount REAL, quantity INTEGER, status TEXT
         );",
    )
    .expect("create sqlite schema");
    conn
}

/// One transaction; one upsert per activity per event, as a direct tracker
/// would write them.
fn sqlite_commit(conn: &mut rusqlite::Connection, pos: &[Po]) -> rusqlite::Result<()> {
    let now = bamdb::model::Timestamp::now().as_micros();
    let tx = conn.transaction()?;
    {
        let mut begin = tx.prepare_cached(
            "INSERT INTO purchase_order (id, state, begin_ts, last_ts) VALUES (?1, 'active', ?2, ?2)
             ON CONFLICT(id) DO UPDATE SET state='active', begin_ts=excluded.begin_ts, last_ts=excluded.last_ts",
        )?;
        let mut u1 = tx.prepare_cached(
            "INSERT INTO purchase_order (id, po_number, customer, region, last_ts) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET po_number=excluded.po_number, customer=excluded.customer,
                 region=excluded.region, last_ts=excluded.last_ts",
        )?;
        let mut u2 = tx.prepare_cached(
            "INSERT INTO purchase_order (id, amount, quantity, last_ts) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET amount=excluded.amount, quantity=excluded.quantity,
                 last_ts=excluded.last_ts",
        )?;
        let mut u3 = tx.prepare_cached(
            "INSERT INTO purchase_order (id, status, last_ts) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET status=excluded.status, last_ts=excluded.last_ts",
        )?;
        let mut end = tx.prepare_cached(
            "INSERT INTO purchase_order (id, state, end_ts, last_ts) VALUES (?1, 'completed', ?2, ?2)
             ON CONFLICT(id) DO UPDATE SET state='completed', end_ts=excluded.end_ts, last_ts=excluded.last_ts",
        )?;
        for po in pos {
            begin.execute(rusqlite::params![po.id, now])?;
            u1.execute(rusqlite::params![
                po.id,
                po.po_number,
                po.customer,
                po.region,
                now
            ])?;
            u2.execute(rusqlite::params![po.id, po.amount, po.quantity, now])?;
            u3.execute(rusqlite::params![po.id, "Shipped", now])?;
            end.execute(rusqlite::params![po.id, now])?;
        }
    }
    tx.commit()
}

/// Recovery: a store whose message box holds `wal_mib` MiB of committed
/// frames the bus has never seen; time from `Store::open` until
/// `Store::sync` returns and the last activity is queryable.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryResult {
    pub wal_bytes: u64,
    pub frames: u64,
    pub events: u64,
    pub open_secs: f64,
    pub open_to_queryable_secs: f64,
    pub import_events_per_s: f64,
    pub peak_rss_mib: f64,
}

pub fn recovery(dir: &Path, wal_mib: u64) -> RecoveryResult {
    {
        let store = Store::open(dir, StoreOptions::default()).expect("open bamdb store");
        store
            .deploy(workload::definition())
            .expect("deploy PurchaseOrder");
        close_store(store);
    }
    // Frames of 1,000 activities, written with the bus stopped.
    const PER_FRAME: usize = 1000;
    let target = wal_mib << 20;
    let (mut bytes, mut frames) = (0u64, 0u64);
    let last_id;
    {
        let wal = Wal::open(dir.join("wal"), WalOptions::default()).expect("open the message box");
        loop {
            let first = frames * PER_FRAME as u64;
            let payload = workload::encode(0, first, PER_FRAME, frames + 1);
            wal.append(&payload).expect("append frame");
            bytes += payload.len() as u64;
            frames += 1;
            if bytes >= target {
                last_id = Po::new(0, first + PER_FRAME as u64 - 1).id;
                break;
            }
        }
    }
    let events = frames * (PER_FRAME * EVENTS_PER_ACTIVITY) as u64;
    let t0 = Instant::now();
    let store = Store::open(dir, StoreOptions::default()).expect("reopen bamdb store");
    let open_secs = t0.elapsed().as_secs_f64();
    assert!(
        store.sync(Duration::from_secs(1800)),
        "the backlog was not imported within 30 minutes"
    );
    let found = store
        .get(workload::ACTIVITY, &last_id)
        .expect("query the last activity");
    let secs = t0.elapsed().as_secs_f64();
    assert!(found.is_some(), "the last activity is not queryable");
    close_store(store);
    RecoveryResult {
        wal_bytes: bytes,
        frames,
        events,
        open_secs,
        open_to_queryable_secs: secs,
        import_events_per_s: events as f64 / secs,
        peak_rss_mib: peak_rss_mib(),
    }
}

/// `write_bytes` from /proc/self/io: bytes this process caused to be sent
/// to the storage layer (page-granular; the journal's own writes by jbd2
/// are not included).
fn write_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/io").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse().ok())
}

/// VmHWM from /proc/self/status, MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
