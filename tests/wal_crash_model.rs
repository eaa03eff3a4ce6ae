//! Crash the message box at every I/O step, and at random steps in random
//! operation sequences, on the in-memory disk; lose, keep, tear or reorder
//! what was not synced; crash again during recovery; and check against a
//! model: every acknowledged frame comes back byte-identical and in order,
//! an unacknowledged frame comes back whole or not at all, nothing is
//! invented.
//!
//! CI runs at least 10,000 crash states. The long form:
//! `BAMDB_CRASH_STATES=1000000 cargo test --release --test wal_crash_model -- --nocapture`

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bamdb::storage::{CrashMode, Fault, MemStorage};
use bamdb::wal::{ReadItem, Wal, WalOptions};
use proptest::prelude::*;

const DIR: &str = "/store/wal";

fn options() -> WalOptions {
    WalOptions {
        segment_size: 4096,
        max_frame_size: 1500,
        preallocate: true,
    }
}

fn payload(n: u64, len: usize) -> Vec<u8> {
    let mut p = n.to_le_bytes().to_vec();
    p.resize(len.max(8), (n % 251) as u8);
    p
}

/// Everything the log returns, asserting it holds no corruption (a crash
/// alone never corrupts durable data).
fn read_frames(wal: &Wal) -> Vec<(u64, Vec<u8>)> {
    wal.reader(1)
        .map(|item| match item.expect("read") {
            ReadItem::Frame(f) => (f.lsn, f.payload),
            ReadItem::Corrupt(c) => panic!("a crash produced corruption: {c:?}"),
        })
        .collect()
}

/// Checks a recovered log against the acknowledged frames and the one that
/// was in doubt; returns the frames now durable.
fn check(
    got: &[(u64, Vec<u8>)],
    acked: &[(u64, Vec<u8>)],
    in_doubt: &[Vec<u8>],
    context: &str,
) -> Vec<(u64, Vec<u8>)> {
    assert!(
        got.len() >= acked.len(),
        "{context}: lost acknowledged frames: {} < {}",
        got.len(),
        acked.len()
    );
    assert_eq!(
        &got[..acked.len()],
        acked,
        "{context}: acknowledged frames differ"
    );
    for (i, (lsn, p)) in got[acked.len()..].iter().enumerate() {
        assert_eq!(*lsn, (acked.len() + i + 1) as u64, "{context}: LSN gap");
        assert!(
            in_doubt.contains(p),
            "{context}: frame {lsn} was invented or torn"
        );
    }
    got.to_vec()
}

const MODES: [fn(u64) -> CrashMode; 3] = [
    |_| CrashMode::DropUnsynced,
    |_| CrashMode::KeepAll,
    CrashMode::Random,
];

static CRASH_STATES: AtomicU64 = AtomicU64::new(0);

/// Runs `appends` appends, crashing at I/O step `crash_at`; then recovers
/// from the image in `mode`, crashing recovery itself at step
/// `recovery_crash` (0 = no crash) and recovering again.
fn crash_once(crash_at: u64, mode: CrashMode, recovery_crash: u64, appends: u64) {
    let disk = MemStorage::new();
    disk.crash_after(crash_at);
    let mut acked = Vec::new();
    let mut in_doubt = Vec::new();
    if let Ok(wal) = Wal::open_with_storage(disk.shared(), DIR, options()) {
        for n in 1..=appends {
            let p = payload(n, (n * 97 % 700) as usize);
            match wal.append(&p) {
                Ok(lsn) => acked.push((lsn, p)),
                Err(_) => {
                    in_doubt.push(p);
                    break;
                }
            }
        }
    }
    let image = disk.crash_image(mode);
    if recovery_crash > 0 {
        image.crash_after(recovery_crash);
        let _ = Wal::open_with_storage(image.shared(), DIR, options());
    }
    let image = if recovery_crash > 0 {
        image.crash_image(CrashMode::DropUnsynced)
    } else {
        image
    };
    CRASH_STATES.fetch_add(1, Ordering::Relaxed);
    let context = format!("crash at step {crash_at}, {mode:?}, recovery crash {recovery_crash}");
    let wal = Wal::open_with_storage(image.shared(), DIR, options()).expect("the log always opens");
    let durable = check(&read_frames(&wal), &acked, &in_doubt, &context);
    // The recovered log accepts new frames right after the durable ones.
    let next = wal.append(b"after recovery").expect(&context);
    assert_eq!(next, durable.len() as u64 + 1, "{context}");
}

#[test]
fn crash_at_every_io_step_of_appends_rotations_and_recovery() {
    const APPENDS: u64 = 40;
    // Count the I/O steps of the whole workload once.
    let total_steps = {
        let disk = MemStorage::new();
        let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
        for n in 1..=APPENDS {
            wal.append(&payload(n, (n * 97 % 700) as usize)).unwrap();
        }
        assert!(wal.stats().segments >= 4, "the workload must rotate");
        disk.steps()
    };
    let target: u64 = std::env::var("BAMDB_CRASH_STATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let before = CRASH_STATES.load(Ordering::Relaxed);
    let mut seed: u64 = 0;
    while CRASH_STATES.load(Ordering::Relaxed) - before < target {
        for step in 1..=total_steps + 1 {
            let mode = MODES[(seed % 3) as usize](seed.wrapping_mul(0x9E37) ^ step);
            // Every fourth state also crashes recovery, at its first steps.
            let recovery_crash = if (seed + step) % 4 == 0 {
                1 + seed % 4
            } else {
                0
            };
            crash_once(step, mode, recovery_crash, APPENDS);
        }
        seed += 1;
    }
    let states = CRASH_STATES.load(Ordering::Relaxed) - before;
    println!("simulated crash states: {states} ({total_steps} I/O steps per run)");
    assert!(states >= target);
}

/// Threads append concurrently (group commit) until a crash; every
/// acknowledged frame survives, no frame appears twice or torn.
#[test]
fn concurrent_appenders_lose_nothing_acknowledged_at_a_crash() {
    for round in 0..60u64 {
        let disk = MemStorage::new();
        let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
        disk.crash_after(20 + round * 7);
        let acked = Arc::new(Mutex::new(Vec::new()));
        let tried = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let (wal, acked, tried) = (wal.clone(), acked.clone(), tried.clone());
                std::thread::spawn(move || {
                    for i in 0..1000u64 {
                        let p = payload(t * 1_000_000 + i, 16 + (i % 200) as usize);
                        tried.lock().unwrap().push(p.clone());
                        match wal.append(&p) {
                            Ok(lsn) => acked.lock().unwrap().push((lsn, p)),
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(wal);
        let mut acked = acked.lock().unwrap().clone();
        acked.sort();
        let tried: BTreeSet<Vec<u8>> = tried.lock().unwrap().iter().cloned().collect();
        for mode in [
            CrashMode::DropUnsynced,
            CrashMode::KeepAll,
            CrashMode::Random(round),
        ] {
            let image = disk.crash_image(mode);
            let wal = Wal::open_with_storage(image.shared(), DIR, options()).unwrap();
            let got = read_frames(&wal);
            CRASH_STATES.fetch_add(1, Ordering::Relaxed);
            for (i, (lsn, p)) in got.iter().enumerate() {
                assert_eq!(*lsn, i as u64 + 1);
                assert!(tried.contains(p), "invented frame {lsn}");
            }
            let got_set: BTreeSet<_> = got.iter().map(|(_, p)| p.clone()).collect();
            assert_eq!(got_set.len(), got.len(), "a frame appears twice");
            for (lsn, p) in &acked {
                assert_eq!(
                    got.get(*lsn as usize - 1),
                    Some(&(*lsn, p.clone())),
                    "lost {lsn}"
                );
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Append(usize),
    /// Crash after this many more I/O steps.
    CrashAfter(u8),
    /// Inject a fault at one of the next I/O steps.
    Fault(u8, u8),
    /// Power loss (or process death) now, then reopen.
    Reopen(u8, u64),
    Trim,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0usize..1400).prop_map(Op::Append),
        1 => (1u8..12).prop_map(Op::CrashAfter),
        1 => (1u8..6, 0u8..3).prop_map(|(at, kind)| Op::Fault(at, kind)),
        2 => (0u8..3, any::<u64>()).prop_map(|(m, s)| Op::Reopen(m, s)),
        1 => Just(Op::Trim),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_with_crashes_and_faults_match_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut disk = MemStorage::new();
        let mut wal = Wal::open_with_storage(disk.shared(), DIR, options()).ok();
        let mut acked: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut in_doubt: Vec<Vec<u8>> = Vec::new();
        let mut trimmed_through = 0u64;
        let mut counter = 0u64;
        for op in ops {
            match op {
                Op::Append(len) => {
                    counter += 1;
                    let p = payload(counter, len);
                    if let Some(w) = &wal {
                        match w.append(&p) {
                            Ok(lsn) => {
                                prop_assert!(in_doubt.is_empty(), "acknowledged after a failure");
                                prop_assert_eq!(lsn, acked.last().map_or(1, |a| a.0 + 1));
                                acked.push((lsn, p));
                            }
                            Err(_) => {
                                if in_doubt.is_empty() {
                                    in_doubt.push(p);
                                }
                            }
                        }
                    }
                }
                Op::CrashAfter(n) => disk.crash_after(u64::from(n)),
                Op::Fault(at, kind) => {
                    let fault = [Fault::Eio, Fault::NoSpace, Fault::PartialWrite][kind as usize];
                    disk.inject(u64::from(at), fault);
                }
                Op::Trim => {
                    if let Some(w) = &wal {
                        let applied = acked.last().map_or(0, |a| a.0) / 2;
                        // Even a failed trim may have removed some segments.
                        let _ = w.trim(applied);
                        trimmed_through = trimmed_through.max(applied);
                    }
                }
                Op::Reopen(mode, seed) => {
                    drop(wal.take());
                    let mode = MODES[mode as usize](seed);
                    disk = disk.crash_image(mode);
                    CRASH_STATES.fetch_add(1, Ordering::Relaxed);
                    let w = Wal::open_with_storage(disk.shared(), DIR, options())
                        .map_err(|e| TestCaseError::fail(format!("the log must open: {e}")))?;
                    let got: Vec<_> = read_frames(&w)
                        .into_iter()
                        .filter(|f| f.0 > trimmed_through)
                        .collect();
                    let kept: Vec<_> = acked.iter().filter(|a| a.0 > trimmed_through).cloned().collect();
                    prop_assert!(got.len() >= kept.len(), "lost acknowledged frames");
                    prop_assert_eq!(&got[..kept.len()], &kept[..]);
                    let extra = &got[kept.len()..];
                    prop_assert!(extra.len() <= in_doubt.len(), "invented frames");
                    for (lsn, p) in extra {
                        prop_assert_eq!(*lsn, acked.last().map_or(1, |a| a.0 + 1));
                        prop_assert!(in_doubt.contains(p), "a torn frame came back");
                        acked.push((*lsn, p.clone()));
                    }
                    in_doubt.clear();
                    wal = Some(w);
                }
            }
        }
    }
}
