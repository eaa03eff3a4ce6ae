use super::*;
use crate::storage::MemStorage;
use crate::wal::Wal;

fn options() -> WalOptions {
    WalOptions {
        segment_size: 64 << 10,
        max_frame_size: 4 << 10,
        ..WalOptions::default()
    }
}

#[test]
fn reads_what_a_writer_committed_across_segments_while_it_is_open() {
    let disk = MemStorage::new();
    let dir = Path::new("/w");
    let wal = Wal::open_with_storage(disk.shared(), dir, options()).unwrap();
    let payloads: Vec<Vec<u8>> = (0..300u32)
        .map(|i| vec![(i % 251) as u8; 100 + (i as usize * 37) % 900])
        .collect();
    for p in &payloads {
        wal.append(p).unwrap();
    }
    let segments = disk.shared().list_dir(dir).unwrap().len();
    assert!(
        segments > 2,
        "only {segments} files: the test wants several segments"
    );
    let tail = read_tail(disk.shared().as_ref(), dir, 1, &options(), u64::MAX)
        .unwrap()
        .frames;
    assert_eq!(tail.len(), payloads.len());
    for (i, f) in tail.iter().enumerate() {
        assert_eq!(f.lsn, i as u64 + 1);
        assert_eq!(f.payload, payloads[i]);
    }
    let from_middle = read_tail(disk.shared().as_ref(), dir, 123, &options(), u64::MAX)
        .unwrap()
        .frames;
    assert_eq!(from_middle.first().map(|f| f.lsn), Some(123));
    assert_eq!(from_middle.len(), 300 - 122);
    let capped = read_tail(disk.shared().as_ref(), dir, 1, &options(), 1)
        .unwrap()
        .frames;
    assert_eq!(
        capped.len(),
        1,
        "stops after the frame that reaches the cap"
    );
    let past = read_tail(disk.shared().as_ref(), dir, 301, &options(), u64::MAX).unwrap();
    assert!(past.frames.is_empty());
    assert_eq!(past.end.map(|at| at.next), Some(301));
    assert_eq!(
        read_tail(disk.shared().as_ref(), Path::new("/none"), 1, &options(), 9).unwrap(),
        Tail::default()
    );
    drop(wal);
}

#[test]
fn reading_on_from_where_a_read_stopped_gives_exactly_the_new_frames() {
    let disk = MemStorage::new();
    let dir = Path::new("/w");
    let wal = Wal::open_with_storage(disk.shared(), dir, options()).unwrap();
    let storage = disk.shared();
    let mut seen = Vec::new();
    let mut end = None;
    for round in 0..6u32 {
        for i in 0..(40 + round * 17) {
            wal.append(&vec![(i % 200) as u8; 300 + i as usize])
                .unwrap();
        }
        let tail = match end {
            None => read_tail(storage.as_ref(), dir, 1, &options(), 20_000).unwrap(),
            Some(at) => read_tail_after(storage.as_ref(), dir, at, &options(), 20_000).unwrap(),
        };
        seen.extend(tail.frames.iter().map(|f| f.lsn));
        end = tail.end;
    }
    // Capped reads leave frames for the next read; read to the end.
    while let Some(at) = end {
        let tail = read_tail_after(storage.as_ref(), dir, at, &options(), 20_000).unwrap();
        if tail.frames.is_empty() {
            break;
        }
        seen.extend(tail.frames.iter().map(|f| f.lsn));
        end = tail.end;
    }
    let committed = wal.committed_lsn();
    assert_eq!(seen, (1..=committed).collect::<Vec<_>>());
    drop(wal);
}

#[test]
fn a_damaged_frame_ends_the_run_without_a_hole() {
    let disk = MemStorage::new();
    let dir = Path::new("/w");
    let wal = Wal::open_with_storage(disk.shared(), dir, options()).unwrap();
    for i in 0..10u8 {
        wal.append(&[i; 64]).unwrap();
    }
    drop(wal);
    let name = disk
        .shared()
        .list_dir(dir)
        .unwrap()
        .into_iter()
        .find(|n| parse_segment_file_name(n).is_some())
        .unwrap();
    let path = dir.join(name);
    let mut bytes = disk.read_file(&path).unwrap();
    // Flip a byte in the fifth frame's payload (frames are 64-byte
    // payloads after the segment header, aligned).
    let payload_at = bytes
        .windows(64)
        .position(|w| w.iter().all(|&b| b == 4))
        .unwrap();
    bytes[payload_at + 10] ^= 0xff;
    assert!(disk.corrupt_file(&path, bytes));
    let tail = read_tail(disk.shared().as_ref(), dir, 1, &options(), u64::MAX)
        .unwrap()
        .frames;
    assert_eq!(
        tail.iter().map(|f| f.lsn).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
}
