//! Damage that is not a crash: a flipped bit or a zeroed block in frames
//! that were durable. The reader must report the bad frame with its segment
//! and offset, skip exactly the damaged LSNs, and return every frame after
//! it. Recovery must not truncate it away as if it were a torn tail.

use std::path::PathBuf;

use bamdb::storage::{CrashMode, MemStorage};
use bamdb::wal::{CorruptRegion, ReadItem, Wal, WalOptions};

const DIR: &str = "/s/wal";

fn options() -> WalOptions {
    WalOptions {
        segment_size: 4096,
        max_frame_size: 1024,
        preallocate: true,
    }
}

fn read(wal: &Wal) -> (Vec<u64>, Vec<CorruptRegion>) {
    let mut lsns = Vec::new();
    let mut bad = Vec::new();
    for item in wal.reader(1) {
        match item.unwrap() {
            ReadItem::Frame(f) => {
                assert_eq!(f.payload, payload(f.lsn), "frame {} altered", f.lsn);
                lsns.push(f.lsn);
            }
            ReadItem::Corrupt(c) => bad.push(c),
        }
    }
    (lsns, bad)
}

fn payload(lsn: u64) -> Vec<u8> {
    vec![(lsn % 251) as u8; 100 + (lsn % 7) as usize * 10]
}

/// A store with several sealed segments, and the location of one frame in
/// the first one.
fn store() -> (MemStorage, u64) {
    let disk = MemStorage::new();
    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    for lsn in 1..=120 {
        assert_eq!(wal.append(&payload(lsn)).unwrap(), lsn);
    }
    assert!(wal.stats().segments >= 3);
    drop(wal);
    (disk, 120)
}

fn segment_path(base: u64) -> PathBuf {
    PathBuf::from(format!("{DIR}/{base:020}.wal"))
}

fn frame_offsets(disk: &MemStorage) -> Vec<(u64, u64)> {
    // (lsn, offset) of each frame of the first segment, found by reading.
    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    let out = wal
        .reader(1)
        .map_while(|i| match i.unwrap() {
            ReadItem::Frame(f) if f.location.segment == segment_path(1) => {
                Some((f.lsn, f.location.offset))
            }
            _ => None,
        })
        .collect();
    drop(wal);
    out
}

#[test]
fn one_flipped_bit_in_a_sealed_segment_costs_exactly_that_frame() {
    let (disk, last) = store();
    let offsets = frame_offsets(&disk);
    let (victim, offset) = offsets[3];
    let seg = segment_path(1);
    for byte in [0u64, 5, 9, 20, 30, 60] {
        let image = disk.crash_image(CrashMode::KeepAll);
        let mut bytes = image.read_file(&seg).unwrap();
        bytes[(offset + byte) as usize] ^= 0x10;
        image.corrupt_file(&seg, bytes);

        let wal = Wal::open_with_storage(image.shared(), DIR, options()).unwrap();
        let (lsns, bad) = read(&wal);
        let expected: Vec<u64> = (1..=last).filter(|&l| l != victim).collect();
        assert_eq!(lsns, expected, "byte {byte}");
        assert_eq!(bad.len(), 1, "byte {byte}: {bad:?}");
        assert_eq!(bad[0].location.segment, seg);
        assert_eq!(bad[0].location.offset, offset);
        assert_eq!(bad[0].lsns, (victim, victim));
        assert!(!bad[0].raw.is_empty());
        // Appending still works after the damage.
        assert_eq!(wal.append(b"more").unwrap(), last + 1);
    }
}

#[test]
fn a_zeroed_block_is_reported_and_reading_resumes_after_it() {
    let (disk, last) = store();
    let offsets = frame_offsets(&disk);
    let seg = segment_path(1);
    let mut bytes = disk.read_file(&seg).unwrap();
    let (from, to) = (offsets[2].1 as usize, offsets[6].1 as usize);
    bytes[from..to].fill(0);
    disk.corrupt_file(&seg, bytes);

    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    let (lsns, bad) = read(&wal);
    let lost: Vec<u64> = (offsets[2].0..offsets[6].0).collect();
    let expected: Vec<u64> = (1..=last).filter(|l| !lost.contains(l)).collect();
    assert_eq!(lsns, expected);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].lsns, (lost[0], *lost.last().unwrap()));
    assert_eq!(bad[0].location.offset, from as u64);
}

#[test]
fn a_segment_with_a_damaged_header_is_reported_with_all_its_lsns() {
    let (disk, last) = store();
    let second_base = {
        let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
        let base = wal
            .reader(1)
            .filter_map(|i| match i.unwrap() {
                ReadItem::Frame(f) if f.location.segment != segment_path(1) => Some(f.lsn),
                _ => None,
            })
            .next()
            .unwrap();
        drop(wal);
        base
    };
    let seg = segment_path(second_base);
    let mut bytes = disk.read_file(&seg).unwrap();
    bytes[3] ^= 1;
    disk.corrupt_file(&seg, bytes);
    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    assert_eq!(wal.recovery_report().damaged_segments.len(), 1);
    let (lsns, bad) = read(&wal);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].location.segment, seg);
    assert_eq!(bad[0].lsns.0, second_base);
    let (lo, hi) = bad[0].lsns;
    let expected: Vec<u64> = (1..=last).filter(|l| *l < lo || *l > hi).collect();
    assert_eq!(lsns, expected);
}

/// Damage in the last segment, followed by frames that were written after
/// the damaged one was durable: that is corruption, not a torn tail, and
/// recovery must keep the later frames.
#[test]
fn damage_in_the_active_segment_before_later_durable_frames_is_not_truncated() {
    let disk = MemStorage::new();
    let big = WalOptions {
        segment_size: 1 << 20,
        ..options()
    };
    let wal = Wal::open_with_storage(disk.shared(), DIR, big.clone()).unwrap();
    let mut locs = Vec::new();
    for lsn in 1..=20 {
        wal.append(&payload(lsn)).unwrap();
    }
    for item in wal.reader(1) {
        if let ReadItem::Frame(f) = item.unwrap() {
            locs.push(f.location);
        }
    }
    // Killed, not closed: no clean-end record, so recovery walks the
    // segment (after a clean close it trusts the record; readers still
    // report the damage).
    disk.crash_now();
    drop(wal);
    let disk = disk.crash_image(CrashMode::KeepAll);
    let seg = locs[0].segment.clone();
    let mut bytes = disk.read_file(&seg).unwrap();
    bytes[locs[9].offset as usize + 30] ^= 0xFF;
    disk.corrupt_file(&seg, bytes);

    let wal = Wal::open_with_storage(disk.shared(), DIR, big).unwrap();
    let report = wal.recovery_report();
    assert_eq!(report.truncated_bytes, 0, "{report:?}");
    assert_eq!(report.corrupt_frames.len(), 1);
    assert_eq!(report.corrupt_frames[0].offset, locs[9].offset);
    let (lsns, bad) = read(&wal);
    assert_eq!(lsns, (1..=20).filter(|&l| l != 10).collect::<Vec<_>>());
    assert_eq!(bad.len(), 1);
    assert_eq!(wal.append(&payload(21)).unwrap(), 21);
}

#[test]
fn a_missing_middle_segment_is_reported_as_missing_lsns() {
    let (disk, last) = store();
    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    let bases: Vec<u64> = {
        let mut b: Vec<u64> = wal
            .reader(1)
            .filter_map(|i| match i.unwrap() {
                ReadItem::Frame(f) => Some(f.location.segment),
                _ => None,
            })
            .map(|p| {
                p.file_stem()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
            })
            .collect();
        b.dedup();
        b
    };
    drop(wal);
    use bamdb::storage::Storage;
    disk.remove_file(&segment_path(bases[1])).unwrap();
    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    let (lsns, bad) = read(&wal);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].lsns, (bases[1], bases[2] - 1));
    let expected: Vec<u64> = (1..=last)
        .filter(|l| *l < bases[1] || *l >= bases[2])
        .collect();
    assert_eq!(lsns, expected);
}
