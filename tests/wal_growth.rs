//! Regression (issue 12, "Full disk"): a new store preallocated a whole
//! 64 MiB message-box segment for its first event, and reopening a log
//! reserved the full segment size again, so a log on a full disk could not
//! even be opened for reading. Now a segment starts with a small
//! reservation that doubles as it fills, up to the segment size; recovery
//! reserves nothing; running out of space is a `NoSpace` error naming the
//! OS error and the bytes needed, and poisons the writer.

use std::path::Path;

use bamdb::storage::{CrashMode, MemStorage, Storage};
use bamdb::wal::{ReadItem, Wal, WalError, WalOptions};
use bamdb::{EventStream, Store, StoreOptions};

fn options(segment_size: u64) -> WalOptions {
    WalOptions {
        segment_size,
        max_frame_size: 4096,
        preallocate: true,
    }
}

fn read_all(wal: &Wal) -> Vec<(u64, Vec<u8>)> {
    wal.reader(1)
        .map(|item| match item.expect("read") {
            ReadItem::Frame(f) => (f.lsn, f.payload),
            ReadItem::Corrupt(c) => panic!("unexpected corruption {c:?}"),
        })
        .collect()
}

fn segment_lens(dir: &Path) -> Vec<u64> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .collect()
}

#[test]
fn a_segment_starts_small_and_doubles_its_reservation_up_to_the_segment_size() {
    let dir = tempfile::tempdir().unwrap();
    let size = 64 << 10;
    let wal = Wal::open(dir.path(), options(size)).unwrap();
    assert_eq!(segment_lens(dir.path()), [16 << 10], "a quarter reserved");
    let frame = vec![7u8; 1000]; // 1024 bytes with its header and padding
    let mut seen = Vec::new();
    for i in 1..=140u64 {
        assert_eq!(wal.append(&frame).unwrap(), i);
        let lens = segment_lens(dir.path());
        if seen.last() != Some(&lens) {
            seen.push(lens);
        }
    }
    // 16 KiB, 32 KiB, 64 KiB; then sealed at its exact end (32 header bytes
    // and 63 frames) and a new small segment, which grows again.
    let sealed = 32 + 63 * 1024;
    assert_eq!(
        seen,
        [
            vec![16 << 10],
            vec![32 << 10],
            vec![64 << 10],
            vec![sealed, 16 << 10],
            vec![sealed, 32 << 10],
            vec![sealed, 64 << 10],
            vec![sealed, sealed, 16 << 10],
        ]
    );
    let got = read_all(&wal);
    assert_eq!(got.len(), 140);
    drop(wal);
    let wal = Wal::open(dir.path(), options(size)).unwrap();
    assert_eq!(read_all(&wal).len(), 140);
    assert_eq!(wal.append(b"after").unwrap(), 141);
}

#[test]
fn a_frame_larger_than_the_doubled_reservation_gets_what_it_needs() {
    let disk = MemStorage::new();
    let wal = Wal::open_with_storage(disk.shared(), "/w", options(16 << 10)).unwrap();
    let big = vec![1u8; 4096];
    for _ in 0..3 {
        wal.append(&big).unwrap();
    }
    let len = disk
        .read_file(Path::new("/w/00000000000000000001.wal"))
        .unwrap()
        .len();
    assert_eq!(len, 16 << 10);
    assert_eq!(read_all(&wal).len(), 3);
}

#[test]
fn a_fresh_store_with_one_event_takes_far_less_than_a_segment_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    store
        .deploy(
            serde_json::from_str(r#"{"name":"PO","items":[{"name":"Amount","type":"float"}]}"#)
                .unwrap(),
        )
        .unwrap();
    let mut s = store.direct_stream();
    s.begin("PO", "PO-1").unwrap();
    s.update("PO", "PO-1", [("Amount", 1.5)]).unwrap();
    s.end("PO", "PO-1").unwrap();
    s.flush().unwrap();
    store.close().unwrap();

    let (mut bytes, mut blocks) = (0u64, 0u64);
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                bytes += meta.len();
                blocks += std::os::unix::fs::MetadataExt::blocks(&meta) * 512;
            }
        }
    }
    // The default segment is 64 MiB; its first reservation is 1 MiB.
    assert!(bytes <= 2 << 20, "files hold {bytes} bytes");
    assert!(blocks <= 2 << 20, "files take {blocks} bytes of disk");
}

#[test]
fn a_log_on_a_full_disk_opens_and_reads_refuses_appends_by_name_and_recovers_after_space_is_freed()
{
    let disk = MemStorage::new();
    let size = 64 << 10;
    let wal = Wal::open_with_storage(disk.shared(), "/w", options(size)).unwrap();
    let frame = vec![3u8; 1000];
    for _ in 0..10 {
        wal.append(&frame).unwrap();
    }
    // 16 KiB reserved, 10 frames of 1 KiB used: the disk is now full.
    drop(wal);
    // Without the clean-end record the close left (removed before the
    // first append, it would free 56 bytes).
    disk.remove_file(Path::new("/w/CLEAN")).unwrap();
    disk.set_capacity(Some(disk.used_bytes()));

    let wal = Wal::open_with_storage(disk.shared(), "/w", options(size)).unwrap();
    assert_eq!(read_all(&wal).len(), 10, "reading needs no space");
    // The reserved space is still usable: 5 more frames fit in it.
    for _ in 0..5 {
        wal.append(&frame).unwrap();
    }
    let err = wal.append(&frame).expect_err("the disk is full");
    assert!(
        // The 16th frame ends 32 bytes past the 16 KiB reserved.
        matches!(
            err,
            WalError::NoSpace {
                needed: 32,
                available: Some(0),
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("No space left on device (os error 28)"),
        "{text}"
    );
    assert!(
        text.contains("needs 32 bytes, 0 free on that file system"),
        "{text}"
    );
    assert!(text.contains("00000000000000000001.wal"), "{text}");
    // The writer is poisoned, the reason kept; what was acknowledged reads.
    assert!(matches!(wal.append(b"x"), Err(WalError::Poisoned { .. })));
    assert!(wal.poisoned().unwrap().contains("No space left on device"));
    let acked = read_all(&wal);
    assert_eq!(acked.len(), 15);
    drop(wal);

    disk.set_capacity(None);
    let wal = Wal::open_with_storage(disk.shared(), "/w", options(size)).unwrap();
    assert_eq!(read_all(&wal), acked);
    assert_eq!(wal.append(b"after").unwrap(), 16);
}

#[test]
fn a_new_segment_on_a_disk_too_full_for_its_reservation_still_takes_a_frame() {
    let disk = MemStorage::new();
    disk.create_dir_all(Path::new("/w")).unwrap();
    // Room for the header and one small frame, not for 16 KiB.
    disk.set_capacity(Some(32 + 64));
    let wal = Wal::open_with_storage(disk.shared(), "/w", options(64 << 10)).unwrap();
    assert_eq!(wal.append(b"fits").unwrap(), 1);
    let err = wal.append(&[0u8; 100]).unwrap_err();
    assert!(matches!(err, WalError::NoSpace { .. }), "{err:?}");
    drop(wal);
    let wal = Wal::open_with_storage(disk.shared(), "/w", options(64 << 10)).unwrap();
    assert_eq!(read_all(&wal), [(1, b"fits".to_vec())]);
}

/// A crash at every I/O step of a run that grows a segment twice and
/// rotates: whatever a power loss keeps of an unsynced growth (old length,
/// new length, torn frames in the new space), recovery finds every
/// acknowledged frame and reports no corruption.
#[test]
fn a_crash_during_a_growth_loses_nothing_acknowledged() {
    let size = 8192;
    let frame = |i: u64| vec![i as u8; 200 + (i as usize * 37) % 300];
    let total_steps = {
        let disk = MemStorage::new();
        let wal = Wal::open_with_storage(disk.shared(), "/w", options(size)).unwrap();
        for i in 1..=40 {
            wal.append(&frame(i)).unwrap();
        }
        disk.steps()
    };
    for at in 1..=total_steps {
        for mode in [
            CrashMode::DropUnsynced,
            CrashMode::KeepAll,
            CrashMode::Random(at),
        ] {
            let disk = MemStorage::new();
            let mut acked = 0u64;
            disk.crash_after(at);
            if let Ok(wal) = Wal::open_with_storage(disk.shared(), "/w", options(size)) {
                for i in 1..=40 {
                    match wal.append(&frame(i)) {
                        Ok(lsn) => acked = lsn,
                        Err(_) => break,
                    }
                }
            }
            let image = disk.crash_image(mode);
            let wal = Wal::open_with_storage(image.shared(), "/w", options(size))
                .unwrap_or_else(|e| panic!("step {at} {mode:?}: reopen: {e}"));
            let got = read_all(&wal);
            assert!(
                got.len() as u64 >= acked,
                "step {at} {mode:?}: {} < {acked}",
                got.len()
            );
            for (lsn, payload) in &got {
                assert_eq!(payload, &frame(*lsn), "step {at} {mode:?}");
            }
            assert_eq!(wal.append(b"next").unwrap(), got.len() as u64 + 1);
        }
    }
}
