//! Commit throughput of the message box, with a raw `write + fdatasync`
//! baseline measured in the same run so the ratios hold on a noisy machine.
//!
//! `cargo bench --bench wal` (files go to the system temp directory, which
//! should be on the disk you care about). Groups: `commit/<size>` with
//! `raw_fdatasync`, and `bamdb_<threads>t` for 1, 4 and 8 committing threads.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use bamdb::wal::{Wal, WalOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fs2::FileExt as _;

const SIZES: [(usize, &str); 3] = [(256, "256B"), (4096, "4KiB"), (65536, "64KiB")];
const THREADS: [usize; 3] = [1, 4, 8];
/// Large enough that a measurement never wraps: every write lands in fresh,
/// reserved space, as a log's appends do (rewriting already written blocks
/// would skip the file system's extent conversion and flatter the baseline).
const RAW_FILE_LEN: u64 = 4 << 30;

/// One commit = one positional write of the frame's bytes into a
/// preallocated file plus `fdatasync`: the physical limit for appending.
fn raw_commits(iters: u64, size: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(dir.path().join("raw"))
        .unwrap();
    file.allocate(RAW_FILE_LEN).unwrap();
    file.sync_all().unwrap();
    // Same bytes per commit as a bamdb frame: 24-byte header, padded to 8.
    let buf = vec![0x5Au8; (size + 24).next_multiple_of(8)];
    let mut offset = 0u64;
    let start = Instant::now();
    for _ in 0..iters {
        if offset + buf.len() as u64 > RAW_FILE_LEN {
            offset = 0;
        }
        file.write_all_at(&buf, offset).unwrap();
        file.sync_data().unwrap();
        offset += buf.len() as u64;
    }
    start.elapsed()
}

/// `iters` appends spread over `threads` committing threads.
fn bamdb_commits(iters: u64, size: usize, threads: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let payload = Arc::new(vec![0x5Au8; size]);
    let barrier = Arc::new(Barrier::new(threads + 1));
    let per_thread = iters.div_ceil(threads as u64);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (wal, payload, barrier) = (wal.clone(), payload.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..per_thread {
                    wal.append(&payload).unwrap();
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = start.elapsed();
    // Report time per commit actually made.
    elapsed.mul_f64(iters as f64 / (per_thread * threads as u64) as f64)
}

fn commit_throughput(c: &mut Criterion) {
    for (size, label) in SIZES {
        let mut group = c.benchmark_group(format!("commit/{label}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(1));
        group.bench_function("raw_fdatasync", |b| {
            b.iter_custom(|iters| raw_commits(iters, size))
        });
        for threads in THREADS {
            group.bench_function(BenchmarkId::new("bamdb", format!("{threads}t")), |b| {
                b.iter_custom(|iters| bamdb_commits(iters, size, threads))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, commit_throughput);
criterion_main!(benches);
