//! The message box's everyday behaviour: append, read, rotate, reopen,
//! trim, limits and options.

use std::sync::Arc;
use std::time::Duration;

use bamdb::storage::{MemStorage, Storage};
use bamdb::wal::{ReadItem, Wal, WalError, WalOptions};

fn small() -> WalOptions {
    WalOptions {
        segment_size: 4096,
        max_frame_size: 2048,
        preallocate: true,
    }
}

fn payload(i: u64) -> Vec<u8> {
    format!("frame {i} ")
        .repeat((i % 17) as usize + 1)
        .into_bytes()
}

fn read_all(wal: &Wal, from: u64) -> Vec<(u64, Vec<u8>)> {
    wal.reader(from)
        .map(|item| match item.unwrap() {
            ReadItem::Frame(f) => (f.lsn, f.payload),
            ReadItem::Corrupt(c) => panic!("unexpected corruption {c:?}"),
        })
        .collect()
}

#[test]
fn appended_frames_read_back_in_order_across_segments_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), small()).unwrap();
    for i in 1..=200 {
        assert_eq!(wal.append(&payload(i)).unwrap(), i);
    }
    assert_eq!(wal.committed_lsn(), 200);
    assert!(wal.stats().segments > 5, "{:?}", wal.stats());
    let expected: Vec<_> = (1..=200).map(|i| (i, payload(i))).collect();
    assert_eq!(read_all(&wal, 1), expected);
    assert_eq!(read_all(&wal, 150), expected[149..].to_vec());
    drop(wal);

    let wal = Wal::open(dir.path(), small()).unwrap();
    assert_eq!(wal.committed_lsn(), 200);
    assert_eq!(wal.recovery_report().truncated_bytes, 0);
    assert_eq!(read_all(&wal, 1), expected);
    assert_eq!(wal.append(b"after reopen").unwrap(), 201);
}

#[test]
fn a_reader_that_caught_up_sees_later_commits() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), small()).unwrap();
    let mut reader = wal.reader(1);
    assert!(reader.next().is_none());
    wal.append(b"a").unwrap();
    let wal2 = wal.clone();
    let t = std::thread::spawn(move || {
        for i in 0..50u8 {
            wal2.append(&[i; 100]).unwrap();
        }
    });
    let mut seen = 0;
    let mut last = 0;
    while seen < 51 {
        match reader.next() {
            Some(item) => {
                let ReadItem::Frame(f) = item.unwrap() else {
                    panic!("corrupt")
                };
                assert_eq!(f.lsn, last + 1);
                last = f.lsn;
                seen += 1;
            }
            None => {
                wal.wait_for_commit(last, Duration::from_secs(10));
            }
        }
    }
    t.join().unwrap();
    assert!(reader.next().is_none());
}

#[test]
fn wait_for_commit_times_out_and_can_be_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), small()).unwrap();
    assert_eq!(wal.wait_for_commit(0, Duration::from_millis(10)), 0);
    let w = wal.clone();
    let waiter = std::thread::spawn(move || w.wait_for_commit(0, Duration::from_secs(600)));
    // Interrupt until the waiter returns (it may not be waiting yet).
    while !waiter.is_finished() {
        wal.interrupt_waiters();
        std::thread::yield_now();
    }
    assert_eq!(waiter.join().unwrap(), 0);
}

#[test]
fn a_frame_over_the_limit_is_refused_and_nothing_is_written() {
    let disk = MemStorage::new();
    let wal = Wal::open_with_storage(disk.shared(), "/db/wal", small()).unwrap();
    wal.append(b"ok").unwrap();
    let steps = disk.steps();
    let err = wal.append(&vec![0u8; 2049]).unwrap_err();
    assert!(matches!(
        err,
        WalError::FrameTooLarge {
            len: 2049,
            limit: 2048
        }
    ));
    assert!(err.to_string().contains("nothing was written"));
    assert_eq!(disk.steps(), steps, "no I/O for a refused frame");
    assert_eq!(wal.append(b"still fine").unwrap(), 2);
}

#[test]
fn trimming_removes_only_wholly_applied_sealed_segments() {
    let disk = MemStorage::new();
    let wal = Wal::open_with_storage(disk.shared(), "/db/wal", small()).unwrap();
    for i in 1..=100 {
        wal.append(&payload(i)).unwrap();
    }
    let before = wal.stats().segments;
    assert_eq!(wal.trim(0).unwrap(), 0);
    let removed = wal.trim(60).unwrap();
    assert!(removed > 0 && removed < before);
    // Every frame above the applied LSN is still readable.
    let left = read_all(&wal, 61);
    assert_eq!(left.first().map(|f| f.0), Some(61));
    assert_eq!(left.len(), 40);
    // The trim is durable.
    let after = disk.crash_image(bamdb::storage::CrashMode::DropUnsynced);
    let wal = Wal::open_with_storage(after.shared(), "/db/wal", small()).unwrap();
    assert_eq!(wal.stats().segments, before - removed);
    let all = read_all(&wal, 1);
    assert!(all[0].0 <= 61 && all.last().unwrap().0 == 100);
    // The active segment is never trimmed.
    assert!(wal.trim(u64::MAX - 1).unwrap() <= before);
    assert_eq!(wal.append(b"x").unwrap(), 101);
}

#[test]
fn invalid_options_are_refused_with_the_reason() {
    let disk: Arc<dyn Storage> = MemStorage::new().shared();
    for (options, needle) in [
        (
            WalOptions {
                segment_size: 100,
                ..WalOptions::default()
            },
            "segment_size",
        ),
        (
            WalOptions {
                max_frame_size: 0,
                ..WalOptions::default()
            },
            "max_frame_size",
        ),
        (
            WalOptions {
                segment_size: 8192,
                max_frame_size: 10_000,
                preallocate: false,
            },
            "exceeds segment_size",
        ),
    ] {
        let err = Wal::open_with_storage(disk.clone(), "/db", options).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn without_preallocation_frames_still_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let options = WalOptions {
        preallocate: false,
        ..small()
    };
    let wal = Wal::open(dir.path(), options.clone()).unwrap();
    for i in 1..=50 {
        wal.append(&payload(i)).unwrap();
    }
    drop(wal);
    let wal = Wal::open(dir.path(), options).unwrap();
    assert_eq!(read_all(&wal, 1).len(), 50);
}

#[test]
fn a_frame_as_large_as_the_limit_fits() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), small()).unwrap();
    wal.append(b"small").unwrap();
    let big = vec![7u8; 2048];
    assert_eq!(wal.append(&big).unwrap(), 2);
    assert_eq!(read_all(&wal, 2), vec![(2, big)]);
}

#[test]
fn concurrent_committers_share_syncs() {
    let disk = MemStorage::new();
    disk.set_sync_latency(Duration::from_millis(2));
    let wal = Wal::open_with_storage(disk.shared(), "/db/wal", WalOptions::default()).unwrap();
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let wal = wal.clone();
            std::thread::spawn(move || {
                let mut lsns = Vec::new();
                for i in 0..25u8 {
                    lsns.push(wal.append(&[t, i]).unwrap());
                }
                lsns
            })
        })
        .collect();
    let mut lsns: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    lsns.sort_unstable();
    assert_eq!(lsns, (1..=200).collect::<Vec<_>>(), "every LSN once");
    let stats = wal.stats();
    assert_eq!(stats.committed_lsn, 200);
    // One committer alone would need 200 syncs; shared syncs need far fewer.
    assert!(stats.syncs <= 100, "{} syncs for 200 commits", stats.syncs);
    let frames = read_all(&wal, 1);
    assert_eq!(frames.len(), 200);
}
