//! Regression (found by the fuzz seed corpus): a reader started at LSN N,
//! skipping frames below N, met a damaged frame below N, resynchronised on
//! frame N itself, and then reported frame N as lost and skipped it. Damage
//! among frames the reader was not asked for must not cost a requested frame.

use bamdb::storage::MemStorage;
use bamdb::wal::{ReadItem, Wal, WalOptions};

#[test]
fn a_reader_starting_after_a_damaged_frame_returns_every_requested_frame() {
    let disk = MemStorage::new();
    let options = WalOptions {
        segment_size: 1 << 20,
        max_frame_size: 4096,
        preallocate: false,
    };
    let wal = Wal::open_with_storage(disk.shared(), "/w", options.clone()).unwrap();
    let mut locations = Vec::new();
    for i in 1..=6u8 {
        wal.append(&[i; 40]).unwrap();
    }
    for item in wal.reader(1) {
        if let ReadItem::Frame(f) = item.unwrap() {
            locations.push(f.location);
        }
    }
    drop(wal);
    let seg = &locations[1].segment;
    let mut bytes = disk.read_file(seg).unwrap();
    bytes[locations[1].offset as usize + 30] ^= 1; // damage frame 2
    disk.corrupt_file(seg, bytes);

    let wal = Wal::open_with_storage(disk.shared(), "/w", options).unwrap();
    for start in 3..=6u64 {
        let items: Vec<ReadItem> = wal.reader(start).map(Result::unwrap).collect();
        let lsns: Vec<u64> = items
            .iter()
            .map(|i| match i {
                ReadItem::Frame(f) => f.lsn,
                ReadItem::Corrupt(c) => panic!("start {start}: reported {c:?}"),
            })
            .collect();
        assert_eq!(lsns, (start..=6).collect::<Vec<_>>());
    }
    // From the start, the damage is reported once.
    let corrupt = wal
        .reader(1)
        .filter(|i| matches!(i, Ok(ReadItem::Corrupt(_))))
        .count();
    assert_eq!(corrupt, 1);
}
