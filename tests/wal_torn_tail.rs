//! A crash in the middle of writing the last frame leaves a torn tail.
//! Recovery must cut it off durably, before anything new is written, so it
//! can never reappear after a second crash, and must keep every frame that
//! was acknowledged.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bamdb::storage::{CrashMode, MemStorage};
use bamdb::wal::{ReadItem, Wal, WalOptions, FRAME_HEADER_LEN};

fn options() -> WalOptions {
    WalOptions {
        segment_size: 64 << 10,
        max_frame_size: 16 << 10,
        preallocate: true,
    }
}

fn frames(wal: &Wal) -> Vec<(u64, Vec<u8>)> {
    wal.reader(1)
        .map(|item| match item.unwrap() {
            ReadItem::Frame(f) => (f.lsn, f.payload),
            ReadItem::Corrupt(c) => panic!("torn tail reported as corruption: {c:?}"),
        })
        .collect()
}

fn only_segment(dir: &Path) -> PathBuf {
    let mut segs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    assert_eq!(segs.len(), 1);
    segs.pop().unwrap()
}

/// Every cut point of the last frame, on the real file system: the frames
/// before it survive, the torn one disappears, and new appends reuse its LSN.
#[test]
fn every_truncation_point_of_the_last_frame_is_cut_off_on_a_real_file() {
    let payloads: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i + 1; 50 + i as usize]).collect();
    let probe_dir = tempfile::tempdir().unwrap();
    let (last_start, last_len) = {
        let wal = Wal::open(probe_dir.path(), options()).unwrap();
        for p in &payloads[..3] {
            wal.append(p).unwrap();
        }
        let start = wal.stats().bytes;
        wal.append(&payloads[3]).unwrap();
        (start, wal.stats().bytes - start)
    };
    let image = std::fs::read(only_segment(probe_dir.path())).unwrap();
    let real_len = FRAME_HEADER_LEN as u64 + payloads[3].len() as u64;
    assert!(last_len >= real_len);

    for cut in 0..real_len {
        let dir = tempfile::tempdir().unwrap();
        let seg = dir
            .path()
            .join(only_segment(probe_dir.path()).file_name().unwrap());
        let mut torn = image.clone();
        for b in &mut torn[(last_start + cut) as usize..(last_start + last_len) as usize] {
            *b = 0;
        }
        std::fs::write(&seg, &torn).unwrap();
        // Some garbage after the torn frame, as a crashed write could leave.
        if cut > 0 {
            let f = OpenOptions::new().write(true).open(&seg).unwrap();
            f.write_all_at(&[0xAB; 3], last_start + last_len + 8)
                .unwrap();
        }

        let wal = Wal::open(dir.path(), options()).unwrap();
        let expected: Vec<_> = payloads[..3]
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u64 + 1, p.clone()))
            .collect();
        assert_eq!(frames(&wal), expected, "cut at {cut}");
        assert_eq!(wal.committed_lsn(), 3);
        let report = wal.recovery_report();
        assert_eq!(
            report.truncated_at.as_ref().map(|l| l.offset),
            if cut == 0 { None } else { Some(last_start) },
            "cut at {cut}: {report:?}"
        );
        assert_eq!(wal.append(b"next").unwrap(), 4);
        drop(wal);
        let wal = Wal::open(dir.path(), options()).unwrap();
        assert_eq!(frames(&wal).last().unwrap(), &(4, b"next".to_vec()));
    }
}

/// The truncation is durable before new frames: a second power loss right
/// after reopening cannot bring the torn bytes back.
#[test]
fn a_torn_tail_never_reappears_after_a_second_crash() {
    for seed in 0..300u64 {
        let disk = MemStorage::new();
        let wal = Wal::open_with_storage(disk.shared(), "/s/wal", options()).unwrap();
        let mut acked = Vec::new();
        for i in 0..5u64 {
            let p = vec![i as u8; 10 + (seed % 40) as usize];
            acked.push((wal.append(&p).unwrap(), p));
        }
        // An unacknowledged frame: written, never synced.
        disk.crash_after(2); // the write succeeds, the sync does not happen
        assert!(wal.append(&[0xEE; 100]).is_err());
        drop(wal);
        let first = disk.crash_image(CrashMode::Random(seed));

        // Reopen (recovery truncates), then crash again at once, losing
        // everything unsynced.
        let wal = Wal::open_with_storage(first.shared(), "/s/wal", options()).unwrap();
        let after_first = frames(&wal);
        drop(wal);
        let second = first.crash_image(CrashMode::DropUnsynced);
        let wal = Wal::open_with_storage(second.shared(), "/s/wal", options()).unwrap();
        let after_second = frames(&wal);
        assert_eq!(after_first, after_second, "seed {seed}");
        assert_eq!(&after_second[..5], &acked[..], "seed {seed}");
        assert!(after_second.len() <= 6);
        if let Some((_, p)) = after_second.get(5) {
            assert_eq!(
                p,
                &vec![0xEE; 100],
                "seed {seed}: a partial frame came back"
            );
        }
        // New frames never mix with torn bytes.
        let lsn = wal.append(b"fresh").unwrap();
        assert_eq!(lsn, after_second.len() as u64 + 1);
    }
}

/// A crash while a new segment was being created leaves a file without a
/// durable header: recovery removes it and carries on in the previous one.
#[test]
fn a_segment_whose_creation_was_cut_short_is_removed() {
    let small = WalOptions {
        segment_size: 4096,
        max_frame_size: 1024,
        preallocate: true,
    };
    let mut rotation_crashes_seen = 0;
    for crash_step in 1..12u64 {
        let disk = MemStorage::new();
        let wal = Wal::open_with_storage(disk.shared(), "/s/wal", small.clone()).unwrap();
        let mut acked = Vec::new();
        // Fill the first segment almost to the end.
        while wal.stats().bytes + 1100 < 4096 {
            acked.push(wal.append(&[1u8; 1000]).unwrap());
        }
        disk.crash_after(crash_step);
        let mut more = Vec::new();
        for _ in 0..3 {
            match wal.append(&[2u8; 1000]) {
                Ok(l) => more.push(l),
                Err(_) => break,
            }
        }
        if more.len() < 3 {
            rotation_crashes_seen += 1;
        }
        drop(wal);
        for mode in [CrashMode::DropUnsynced, CrashMode::KeepAll] {
            let image = disk.crash_image(mode);
            let wal = Wal::open_with_storage(image.shared(), "/s/wal", small.clone()).unwrap();
            let got = frames(&wal);
            let lsns: Vec<u64> = got.iter().map(|f| f.0).collect();
            let all_acked: Vec<u64> = acked.iter().chain(&more).copied().collect();
            assert!(lsns.starts_with(&all_acked), "step {crash_step}: {lsns:?}");
            assert!(lsns.len() <= all_acked.len() + 1);
            wal.append(b"after").unwrap();
        }
    }
    assert!(rotation_crashes_seen > 5);
}
