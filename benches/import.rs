//! The event bus: import throughput when the message box is already full
//! (import alone), and visibility latency from a buffered flush returning
//! to `get` seeing it. The workload is the typical activity of
//! `bamdb::fixture::TypicalOrder`, as in the bench crate's ingest rows.
//!
//! `cargo bench --bench import`

use std::time::{Duration, Instant};

use bamdb::fixture::{self, TypicalOrder, ACTIVITY as PO, TYPICAL_EVENTS};
use bamdb::model::{encode_batch, Event, Limits, Timestamp};
use bamdb::wal::{Wal, WalOptions};
use bamdb::{EventStream, Store, StoreOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn definition() -> bamdb::model::ActivityDefinition {
    fixture::definition(fixture::TYPICAL_ITEMS)
}

/// A store with the definition deployed and `frames` batches of 100
/// activities committed but not imported; returns the events written.
fn full_store(dir: &std::path::Path, frames: u64) -> u64 {
    let store = Store::open(dir, StoreOptions::default()).unwrap();
    store.deploy(definition()).unwrap();
    store.close().unwrap();
    let wal = Wal::open(dir.join("wal"), WalOptions::default()).unwrap();
    let ts = Timestamp::now();
    let mut events = 0;
    for f in 0..frames {
        let batch: Vec<Event> = (0..100)
            .flat_map(|a| TypicalOrder::new(0, f * 100 + a).events(ts))
            .collect();
        events += batch.len() as u64;
        wal.append(&encode_batch(1, f, &batch, &Limits::default()).unwrap())
            .unwrap();
    }
    events
}

fn import_alone(c: &mut Criterion) {
    const FRAMES: u64 = 200; // 20,000 activities, 100,000 events
    let mut group = c.benchmark_group("import");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(FRAMES * 100 * TYPICAL_EVENTS as u64));
    group.bench_function("full_wal_100_per_frame", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().unwrap();
                full_store(dir.path(), FRAMES);
                // Opening runs message box recovery before the bus starts;
                // the bus may already be importing when it returns, so this
                // slightly understates the import rate.
                let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
                let start = Instant::now();
                assert!(store.sync(Duration::from_secs(120)));
                total += start.elapsed();
                assert_eq!(
                    store.stats().counters.events_imported,
                    FRAMES * 100 * TYPICAL_EVENTS as u64
                );
            }
            total
        })
    });
    group.finish();
}

fn visibility_latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("visibility");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    store.deploy(definition()).unwrap();
    let mut stream = store.buffered_stream(0);
    let mut n = 0u64;
    group.bench_function("buffered_flush_to_get", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let order = TypicalOrder::new(0, n);
                for e in order.events(Timestamp::now()) {
                    stream.push(e).unwrap();
                }
                stream.flush().unwrap();
                let id = order.id;
                let start = Instant::now();
                while store.get(PO, &id).unwrap().is_none() {
                    std::hint::spin_loop();
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

/// Percentiles of the same latency, which criterion's mean hides: printed
/// as `visibility p50 .. p99 ..` at the end of the run.
fn visibility_percentiles(_: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    store.deploy(definition()).unwrap();
    let mut stream = store.buffered_stream(0);
    let mut samples = Vec::with_capacity(2000);
    for n in 0..2000u64 {
        let order = TypicalOrder::new(0, n);
        for e in order.events(Timestamp::now()) {
            stream.push(e).unwrap();
        }
        stream.flush().unwrap();
        let id = order.id;
        let start = Instant::now();
        while store.get(PO, &id).unwrap().is_none() {
            std::hint::spin_loop();
        }
        samples.push(start.elapsed());
        // A moderate load: about 1,000 flushes per second.
        std::thread::sleep(Duration::from_micros(500));
    }
    samples.sort();
    let pct = |p: usize| samples[samples.len() * p / 100];
    println!(
        "visibility after a buffered flush (2000 flushes, ~1000/s): p50 {:?} p99 {:?} max {:?}",
        pct(50),
        pct(99),
        samples[samples.len() - 1]
    );
}

/// Sustained full-speed buffered ingest: 4 producer threads, 100 typical
/// activities per flush, for `BAMDB_SUSTAINED_SECS` (default 10) seconds.
/// Prints the ingest rate, the largest import lag and message box size
/// seen (sampled every 50 ms), and how long the bus needed to catch up.
fn sustained_ingest(_: &mut Criterion) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let secs: u64 = std::env::var("BAMDB_SUSTAINED_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), StoreOptions::default()).unwrap());
    store.deploy(definition()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let producers: Vec<_> = (0..4usize)
        .map(|t| {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut s = store.buffered_stream(0);
                let mut n = 0;
                let mut events = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let ts = Timestamp::now();
                    for _ in 0..100 {
                        n += 1;
                        for e in TypicalOrder::new(t, n).events(ts) {
                            s.push(e).unwrap();
                            events += 1;
                        }
                    }
                    s.flush().unwrap();
                }
                events
            })
        })
        .collect();
    let (mut max_lag, mut max_wal) = (0u64, 0u64);
    while start.elapsed() < Duration::from_secs(secs) {
        let st = store.stats();
        max_lag = max_lag.max(st.lag);
        max_wal = max_wal.max(st.wal_bytes);
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let events: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
    let ingest = start.elapsed();
    let catch_up = Instant::now();
    assert!(store.sync(Duration::from_secs(300)));
    let st = store.stats();
    println!(
        "sustained ingest ({secs} s, 4 threads, 100 activities/flush): {:.0} events/s ingested, {} frames; max lag {} frames, max WAL {:.1} MiB, final WAL {:.1} MiB; caught up {:?} after the producers stopped; {} import files",
        events as f64 / ingest.as_secs_f64(),
        st.committed_lsn,
        max_lag,
        max_wal as f64 / (1 << 20) as f64,
        st.wal_bytes as f64 / (1 << 20) as f64,
        catch_up.elapsed(),
        st.import_files,
    );
}

criterion_group!(
    benches,
    import_alone,
    visibility_latency,
    visibility_percentiles,
    sustained_ingest
);
criterion_main!(benches);
