//! Appending after an open that took the end of the log from the clean-end
//! record, then crashing at every I/O step: every acknowledged frame must
//! come back. The hazard is a record that outlives the appends: the next
//! open would believe the old end and drop the frames after it. The writer
//! removes the record durably before its first append; if it did not, the
//! last test here (damage to the first frame after the old end, which
//! hides the appends from the record's own check) loses acknowledged
//! frames.

use std::path::Path;

use bamdb::storage::{CrashMode, MemStorage};
use bamdb::wal::{ReadItem, Wal, WalOptions, FRAME_HEADER_LEN};

const DIR: &str = "/s/wal";

fn options() -> WalOptions {
    WalOptions {
        segment_size: 8192,
        max_frame_size: 1024,
        preallocate: true,
    }
}

fn payload(n: u64) -> Vec<u8> {
    let mut p = n.to_le_bytes().to_vec();
    p.resize(40 + (n * 37 % 300) as usize, (n % 251) as u8);
    p
}

/// (LSN, payload) of each frame.
type Frames = Vec<(u64, Vec<u8>)>;

/// Frames read back, and the damaged regions as LSN ranges.
fn read(wal: &Wal) -> (Frames, Vec<(u64, u64)>) {
    let mut frames = Vec::new();
    let mut damaged = Vec::new();
    for item in wal.reader(1) {
        match item.unwrap() {
            ReadItem::Frame(f) => frames.push((f.lsn, f.payload)),
            ReadItem::Corrupt(c) => damaged.push(c.lsns),
        }
    }
    (frames, damaged)
}

/// A log of five frames, closed cleanly (it holds the record).
fn closed_log() -> (MemStorage, Frames) {
    let disk = MemStorage::new();
    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    let acked = (1..=5).map(|n| (wal.append(&payload(n)).unwrap(), payload(n)));
    let acked = acked.collect();
    drop(wal);
    assert!(disk.read_file(&Path::new(DIR).join("CLEAN")).is_some());
    (disk, acked)
}

#[test]
fn appends_after_using_the_record_survive_a_crash_at_every_step() {
    let modes = [
        CrashMode::DropUnsynced,
        CrashMode::KeepAll,
        CrashMode::Random(7),
        CrashMode::Random(8),
    ];
    let mut states = 0;
    for crash_step in 1..60u64 {
        for mode in modes {
            let (disk, mut acked) = closed_log();
            let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
            assert!(wal.recovery_report().used_clean_end);
            disk.crash_after(crash_step);
            let mut in_doubt = None;
            for n in 6..=40 {
                match wal.append(&payload(n)) {
                    Ok(lsn) => acked.push((lsn, payload(n))),
                    Err(_) => {
                        in_doubt = Some(payload(n));
                        break;
                    }
                }
            }
            drop(wal);
            let image = disk.crash_image(mode);
            let context = format!("crash at step {crash_step}, {mode:?}");
            let wal = Wal::open_with_storage(image.shared(), DIR, options()).expect(&context);
            let (got, damaged) = read(&wal);
            assert!(damaged.is_empty(), "{context}: {damaged:?}");
            assert!(
                got.len() >= acked.len(),
                "{context}: lost acknowledged frames"
            );
            assert_eq!(&got[..acked.len()], &acked[..], "{context}");
            for (lsn, p) in &got[acked.len()..] {
                assert_eq!(*lsn, acked.len() as u64 + 1, "{context}");
                assert_eq!(Some(p), in_doubt.as_ref(), "{context}: invented frame");
            }
            assert_eq!(
                wal.append(b"after").expect(&context),
                got.len() as u64 + 1,
                "{context}"
            );
            states += 1;
        }
    }
    assert!(states > 200);
}

#[test]
fn damage_to_the_first_frame_after_the_old_end_costs_only_that_frame() {
    let (disk, mut acked) = closed_log();
    let wal = Wal::open_with_storage(disk.shared(), DIR, options()).unwrap();
    assert!(wal.recovery_report().used_clean_end);
    let end = wal.stats().bytes;
    for n in 6..=9 {
        acked.push((wal.append(&payload(n)).unwrap(), payload(n)));
    }
    disk.crash_now();
    drop(wal);
    let image = disk.crash_image(CrashMode::DropUnsynced);
    // The medium loses the header of frame 6, the first after the old end.
    let seg = Path::new(DIR).join(format!("{:020}.wal", 1));
    let mut bytes = image.read_file(&seg).unwrap();
    bytes[end as usize..end as usize + FRAME_HEADER_LEN].fill(0);
    image.corrupt_file(&seg, bytes);

    let wal = Wal::open_with_storage(image.shared(), DIR, options()).unwrap();
    assert!(!wal.recovery_report().used_clean_end);
    let (got, damaged) = read(&wal);
    assert_eq!(damaged, vec![(6, 6)]);
    let expected: Vec<_> = acked.iter().filter(|(l, _)| *l != 6).cloned().collect();
    assert_eq!(
        got, expected,
        "acknowledged frames after the damage were lost"
    );
}
