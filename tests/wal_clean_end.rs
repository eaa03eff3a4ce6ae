//! The clean-end record: a clean close records where the log ends, and the
//! next open takes the end from it (a few small reads) instead of walking
//! every frame of the last segment and reading its preallocated space. The
//! record is only a hint: when it is damaged, names another segment or an
//! older end, recovery walks the log as after a crash; and nothing written
//! past a trusted end can ever be read as a frame.

use std::path::{Path, PathBuf};

use bamdb::storage::{CrashMode, Fault, MemStorage, OpenMode, Storage};
use bamdb::wal::{ReadItem, Wal, WalOptions, FRAME_HEADER_LEN};

const DIR: &str = "/s/wal";

/// Large enough segments that the frames of a test leave zero-filled
/// reserved space after them, as in a real store.
fn options() -> WalOptions {
    WalOptions {
        segment_size: 64 << 10,
        max_frame_size: 4096,
        preallocate: true,
    }
}

fn payload(lsn: u64) -> Vec<u8> {
    vec![(lsn % 251) as u8; 40 + (lsn % 5) as usize * 8]
}

fn record_path() -> PathBuf {
    Path::new(DIR).join("CLEAN")
}

fn segment_path(base: u64) -> PathBuf {
    Path::new(DIR).join(format!("{base:020}.wal"))
}

fn open(disk: &MemStorage) -> Wal {
    Wal::open_with_storage(disk.shared(), DIR, options()).unwrap()
}

fn frames(wal: &Wal) -> Vec<(u64, Vec<u8>)> {
    wal.reader(1)
        .map(|item| match item.unwrap() {
            ReadItem::Frame(f) => (f.lsn, f.payload),
            ReadItem::Corrupt(c) => panic!("unexpected corruption {c:?}"),
        })
        .collect()
}

fn expected(lsns: std::ops::RangeInclusive<u64>) -> Vec<(u64, Vec<u8>)> {
    lsns.map(|l| (l, payload(l))).collect()
}

/// A log of `n` frames closed cleanly; returns the end of the last frame.
fn closed_log(disk: &MemStorage, n: u64) -> u64 {
    let wal = open(disk);
    for lsn in 1..=n {
        assert_eq!(wal.append(&payload(lsn)).unwrap(), lsn);
    }
    let end = wal.stats().bytes;
    drop(wal);
    end
}

/// Stops the log like a killed process: no clean close.
fn kill(disk: &MemStorage, wal: Wal) -> MemStorage {
    disk.crash_now();
    drop(wal);
    disk.crash_image(CrashMode::KeepAll)
}

/// Puts `bytes` back as the record, durably (what a writer that does not
/// know the record would leave: an old record it never removed).
fn put_record(disk: &MemStorage, bytes: &[u8]) {
    let path = record_path();
    let _ = disk.remove_file(&path);
    let file = disk.open_file(&path, OpenMode::CreateNew).unwrap();
    file.write_all_at(bytes, 0).unwrap();
    file.sync_all().unwrap();
    disk.sync_dir(Path::new(DIR)).unwrap();
}

#[test]
fn a_clean_close_records_the_end_and_the_next_open_uses_it() {
    let disk = MemStorage::new();
    let end = closed_log(&disk, 10);
    let record = disk
        .read_file(&record_path())
        .expect("a clean close writes the record");
    assert_eq!(record.len(), 56);
    assert_eq!(&record[..8], b"BAMDBEND");
    // The segment is longer than its frames: reserved, zero-filled space.
    assert!(disk.read_file(&segment_path(1)).unwrap().len() as u64 > end);

    let wal = open(&disk);
    assert!(wal.recovery_report().used_clean_end);
    assert_eq!(frames(&wal), expected(1..=10));
    assert_eq!(wal.committed_lsn(), 10);
    assert_eq!(wal.stats().bytes, end);
    assert_eq!(wal.append(&payload(11)).unwrap(), 11);
    drop(wal);
    let wal = open(&disk);
    assert!(wal.recovery_report().used_clean_end);
    assert_eq!(frames(&wal), expected(1..=11));
}

#[test]
fn an_open_that_uses_the_record_and_appends_nothing_writes_nothing() {
    let disk = MemStorage::new();
    closed_log(&disk, 10);
    let record = disk.read_file(&record_path()).unwrap();
    let steps = disk.steps();
    let wal = open(&disk);
    assert!(wal.recovery_report().used_clean_end);
    assert_eq!(frames(&wal).len(), 10);
    drop(wal);
    assert_eq!(disk.steps(), steps, "no write, truncation or sync");
    assert_eq!(disk.read_file(&record_path()), Some(record));
}

#[test]
fn the_first_append_after_using_the_record_removes_it_durably() {
    let disk = MemStorage::new();
    closed_log(&disk, 3);
    let wal = open(&disk);
    assert!(disk.read_file(&record_path()).is_some());
    wal.append(&payload(4)).unwrap();
    assert!(disk.read_file(&record_path()).is_none());
    // Durably: a power loss right now does not bring it back.
    let image = disk.crash_image(CrashMode::DropUnsynced);
    assert!(image.read_file(&record_path()).is_none());
    let wal = Wal::open_with_storage(image.shared(), DIR, options()).unwrap();
    assert!(!wal.recovery_report().used_clean_end);
    assert_eq!(frames(&wal), expected(1..=4));
}

#[test]
fn a_damaged_record_falls_back_to_the_full_walk_and_is_replaced() {
    let disk = MemStorage::new();
    closed_log(&disk, 10);
    let good = disk.read_file(&record_path()).unwrap();
    let mut flipped = good.clone();
    flipped[30] ^= 0x04;
    let damaged = [
        flipped,
        good[..20].to_vec(),
        [good.clone(), vec![0]].concat(),
    ];
    for bytes in damaged {
        put_record(&disk, &bytes);
        let wal = open(&disk);
        assert!(!wal.recovery_report().used_clean_end, "{bytes:?}");
        assert_eq!(frames(&wal), expected(1..=10));
        // Removed once recovery decided, and written anew at the close.
        assert!(disk.read_file(&record_path()).is_none());
        drop(wal);
        assert_eq!(disk.read_file(&record_path()), Some(good.clone()));
    }
}

#[test]
fn a_record_of_an_older_end_is_not_trusted_when_frames_follow_it() {
    let disk = MemStorage::new();
    closed_log(&disk, 5);
    let old = disk.read_file(&record_path()).unwrap();
    let wal = open(&disk);
    for lsn in 6..=8 {
        wal.append(&payload(lsn)).unwrap();
    }
    let disk = kill(&disk, wal);
    // As if a writer that ignores the record had appended after it.
    put_record(&disk, &old);
    let wal = open(&disk);
    assert!(!wal.recovery_report().used_clean_end);
    assert_eq!(frames(&wal), expected(1..=8));
}

#[test]
fn a_record_of_an_older_end_is_not_trusted_when_a_torn_frame_follows_it() {
    let disk = MemStorage::new();
    let end = closed_log(&disk, 5);
    let old = disk.read_file(&record_path()).unwrap();
    let wal = open(&disk);
    wal.append(&payload(6)).unwrap();
    let disk = kill(&disk, wal);
    put_record(&disk, &old);
    // Tear frame 6: its payload never reached the disk.
    let seg = segment_path(1);
    let mut bytes = disk.read_file(&seg).unwrap();
    let payload_at = (end + FRAME_HEADER_LEN as u64) as usize;
    bytes[payload_at..payload_at + 16].fill(0);
    disk.corrupt_file(&seg, bytes);

    let wal = open(&disk);
    let report = wal.recovery_report();
    assert!(!report.used_clean_end);
    assert_eq!(report.truncated_at.as_ref().map(|l| l.offset), Some(end));
    assert_eq!(frames(&wal), expected(1..=5));
}

#[test]
fn a_record_naming_an_earlier_segment_is_not_trusted() {
    let disk = MemStorage::new();
    closed_log(&disk, 5);
    let old = disk.read_file(&record_path()).unwrap();
    let wal = open(&disk);
    let mut lsn = 6;
    while wal.stats().segments < 2 {
        wal.append(&[7u8; 4000]).unwrap();
        lsn += 1;
    }
    let disk = kill(&disk, wal);
    put_record(&disk, &old);
    let wal = open(&disk);
    assert!(!wal.recovery_report().used_clean_end);
    assert_eq!(frames(&wal).len() as u64, lsn - 1);
}

/// A record trusted while bytes it does not account for lie past its end
/// (zeros where a frame should start, an old frame further on: what a
/// writer ignoring the record could leave). Appending must never let those
/// bytes come back as a frame after a crash.
#[test]
fn bytes_past_a_trusted_end_never_become_frames() {
    let disk = MemStorage::new();
    let end = closed_log(&disk, 5);
    let old = disk.read_file(&record_path()).unwrap();
    let wal = open(&disk);
    let stale = vec![0xAB; payload(6).len()];
    wal.append(&stale).unwrap();
    wal.append(&payload(7)).unwrap();
    let disk = kill(&disk, wal);
    put_record(&disk, &old);
    let seg = segment_path(1);
    let mut bytes = disk.read_file(&seg).unwrap();
    bytes[end as usize..end as usize + FRAME_HEADER_LEN].fill(0);
    disk.corrupt_file(&seg, bytes);

    let wal = open(&disk);
    assert!(wal.recovery_report().used_clean_end);
    assert_eq!(frames(&wal), expected(1..=5));
    // Same length as the stale frame 6: the new frame ends exactly where
    // the stale frame 7 starts.
    assert_eq!(wal.append(&payload(6)).unwrap(), 6);
    let disk = kill(&disk, wal);
    let image = disk.crash_image(CrashMode::DropUnsynced);
    let wal = Wal::open_with_storage(image.shared(), DIR, options()).unwrap();
    assert_eq!(frames(&wal), expected(1..=6), "a stale frame came back");
    assert_eq!(wal.append(b"next").unwrap(), 7);
}

#[test]
fn a_full_recovery_walks_the_log_even_with_a_record() {
    let disk = MemStorage::new();
    let end = closed_log(&disk, 5);
    // Bytes in the reserved space past the recorded end.
    let seg = segment_path(1);
    let mut bytes = disk.read_file(&seg).unwrap();
    bytes[end as usize + 200] = 0x55;
    disk.corrupt_file(&seg, bytes);

    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    assert!(wal.recovery_report().used_clean_end);
    drop(wal);
    let wal = Wal::open_with_full_recovery(disk.shared(), DIR, options()).unwrap();
    let report = wal.recovery_report();
    assert!(!report.used_clean_end);
    assert_eq!(report.truncated_at.as_ref().map(|l| l.offset), Some(end));
    assert_eq!(frames(&wal), expected(1..=5));
}

#[test]
fn a_writer_stopped_by_a_failure_leaves_no_record() {
    let disk = MemStorage::new();
    let wal = open(&disk);
    wal.append(&payload(1)).unwrap();
    disk.inject(2, Fault::Eio); // the write succeeds, its sync fails
    assert!(wal.append(&payload(2)).is_err());
    drop(wal);
    assert!(disk.read_file(&record_path()).is_none());
    let wal = open(&disk);
    assert!(!wal.recovery_report().used_clean_end);
}

#[test]
fn a_clean_close_on_a_real_directory_leaves_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), options()).unwrap();
    wal.append(b"one").unwrap();
    drop(wal);
    let record = std::fs::read(dir.path().join("CLEAN")).unwrap();
    assert_eq!(record.len(), 56);
    assert!(!dir.path().join("CLEAN.tmp").exists());
    let wal = Wal::open(dir.path(), options()).unwrap();
    assert!(wal.recovery_report().used_clean_end);
    assert_eq!(wal.append(b"two").unwrap(), 2);
    assert!(!dir.path().join("CLEAN").exists());
}

/// The first append after a trusted open cuts the segment at the recorded
/// end and reserves the same space again: a full disk keeps the room the
/// segment had.
#[test]
fn the_first_append_after_using_the_record_keeps_the_reservation() {
    let disk = MemStorage::new();
    let wal = open(&disk);
    // 20 KiB of frames: the reservation doubled from 16 to 32 KiB.
    for _ in 0..20 {
        wal.append(&[9u8; 1000]).unwrap();
    }
    drop(wal);
    let reserved = disk.read_file(&segment_path(1)).unwrap().len();
    assert_eq!(reserved, 32 << 10);
    disk.set_capacity(Some(disk.used_bytes()));
    let wal = open(&disk);
    assert!(wal.recovery_report().used_clean_end);
    wal.append(&[9u8; 1000]).unwrap();
    assert_eq!(disk.read_file(&segment_path(1)).unwrap().len(), reserved);
    assert_eq!(frames(&wal).len(), 21);
}

#[test]
fn a_disk_too_full_for_the_record_is_no_error_and_leaves_nothing() {
    let disk = MemStorage::new();
    let wal = open(&disk);
    wal.append(&payload(1)).unwrap();
    disk.set_capacity(Some(disk.used_bytes()));
    wal.record_clean_end().unwrap();
    assert!(disk.read_file(&record_path()).is_none());
    assert!(disk.read_file(&Path::new(DIR).join("CLEAN.tmp")).is_none());
    // The reserved space still takes frames.
    assert_eq!(wal.append(&payload(2)).unwrap(), 2);
    drop(wal);
    let wal = open(&disk);
    assert!(!wal.recovery_report().used_clean_end);
    assert_eq!(frames(&wal), expected(1..=2));
}

#[test]
fn a_failed_sync_of_the_record_is_reported_and_nothing_is_trusted() {
    let disk = MemStorage::new();
    let wal = open(&disk);
    wal.append(&payload(1)).unwrap();
    // The record's steps: create, write, sync.
    disk.inject(3, Fault::Eio);
    let err = wal.record_clean_end().unwrap_err();
    assert!(err.to_string().contains("clean-end record"), "{err}");
    assert!(disk.read_file(&record_path()).is_none());
    assert_eq!(wal.append(&payload(2)).unwrap(), 2);
    drop(wal);
    let wal = open(&disk);
    assert_eq!(frames(&wal), expected(1..=2));
}
