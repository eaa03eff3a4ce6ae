//! A failed write or fsync must stop the writer: the failing append is not
//! acknowledged, nor is any later one, the sync is never retried and
//! trusted, and reopening recovers everything acknowledged before the fault.

use bamdb::storage::{CrashMode, Fault, MemStorage};
use bamdb::wal::{ReadItem, Wal, WalError, WalOptions};

const DIR: &str = "/s/wal";

fn options() -> WalOptions {
    WalOptions {
        segment_size: 8192,
        max_frame_size: 1024,
        preallocate: true,
    }
}

fn frames(wal: &Wal) -> Vec<Vec<u8>> {
    wal.reader(1)
        .map(|i| match i.unwrap() {
            ReadItem::Frame(f) => f.payload,
            ReadItem::Corrupt(c) => panic!("{c:?}"),
        })
        .collect()
}

/// Appends until the injected fault fires; returns the acknowledged
/// payloads and the error.
fn run_into(disk: &MemStorage, fault: Fault, at: u64) -> (Vec<Vec<u8>>, WalError, Wal) {
    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    let mut acked = Vec::new();
    for i in 0..5u8 {
        let p = vec![i; 100];
        wal.append(&p).unwrap();
        acked.push(p);
    }
    disk.inject(at, fault);
    for i in 5..200u8 {
        let p = vec![i; 100];
        match wal.append(&p) {
            Ok(_) => acked.push(p),
            Err(e) => return (acked, e, wal),
        }
    }
    panic!("the fault never fired");
}

#[test]
fn an_fsync_error_poisons_the_writer_and_is_never_retried() {
    for at in [2, 4, 6] {
        let disk = MemStorage::new();
        // Step 1 of an append is its write, step 2 its sync.
        let (acked, err, wal) = run_into(&disk, Fault::Eio, at);
        assert!(
            matches!(
                err,
                WalError::Io {
                    op: "fdatasync",
                    ..
                }
            ),
            "{err}"
        );
        let steps = disk.steps();
        for _ in 0..3 {
            let again = wal.append(b"later").unwrap_err();
            assert!(matches!(again, WalError::Poisoned { .. }), "{again}");
            assert!(again.to_string().contains("reopen"));
        }
        assert_eq!(
            disk.steps(),
            steps,
            "nothing is written or synced after the failure"
        );
        assert!(wal.poisoned().is_some());
        drop(wal);
        // The failed sync dropped the frame's durability: it is gone after
        // a power loss, and everything acknowledged is there.
        let image = disk.crash_image(CrashMode::DropUnsynced);
        let wal = Wal::open_with_storage(image.shared(), DIR, options()).unwrap();
        assert_eq!(frames(&wal), acked);
        assert_eq!(wal.append(b"new").unwrap(), acked.len() as u64 + 1);
    }
}

#[test]
fn enospc_and_partial_writes_poison_without_losing_acknowledged_frames() {
    for fault in [Fault::NoSpace, Fault::PartialWrite, Fault::Eio] {
        for at in [1, 3] {
            let disk = MemStorage::new();
            let (acked, err, wal) = run_into(&disk, fault, at);
            // ENOSPC is reported as such (with the bytes needed), other
            // errors as I/O errors; both name the write.
            let expected = match fault {
                Fault::NoSpace => matches!(
                    err,
                    WalError::NoSpace {
                        op: "write frame",
                        needed: 1..,
                        ..
                    }
                ),
                _ => matches!(
                    err,
                    WalError::Io {
                        op: "write frame",
                        ..
                    }
                ),
            };
            assert!(expected, "{fault:?}: {err}");
            assert!(matches!(wal.append(b"x"), Err(WalError::Poisoned { .. })));
            drop(wal);
            for mode in [
                CrashMode::KeepAll,
                CrashMode::DropUnsynced,
                CrashMode::Random(at),
            ] {
                let image = disk.crash_image(mode);
                let wal = Wal::open_with_storage(image.shared(), DIR, options()).unwrap();
                assert_eq!(frames(&wal), acked, "{fault:?} at {at} {mode:?}");
            }
        }
    }
}

#[test]
fn a_failure_while_rotating_poisons_and_recovers() {
    // Fill most of the first segment, then fail each step of the rotation.
    for at in 1..=6 {
        let disk = MemStorage::new();
        let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
        let mut acked = Vec::new();
        while wal.stats().bytes + 1100 <= 8192 {
            let p = vec![acked.len() as u8; 1000];
            wal.append(&p).unwrap();
            acked.push(p);
        }
        disk.inject(at, Fault::Eio);
        let result = wal.append(&[0xAA; 1000]);
        let second = wal.append(&[0xBB; 1000]);
        match (&result, &second) {
            (Ok(_), _) => acked.push(vec![0xAA; 1000]),
            (Err(_), Err(WalError::Poisoned { .. })) => {}
            other => panic!("step {at}: {other:?}"),
        }
        if second.is_ok() {
            acked.push(vec![0xBB; 1000]);
        }
        drop(wal);
        let image = disk.crash_image(CrashMode::DropUnsynced);
        let wal = Wal::open_with_storage(image.shared(), DIR, options()).unwrap();
        let got = frames(&wal);
        assert_eq!(&got[..acked.len()], &acked[..], "step {at}");
        assert!(got.len() <= acked.len() + 1);
    }
}
