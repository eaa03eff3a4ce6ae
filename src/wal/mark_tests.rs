#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::storage::MemStorage;

#[test]
fn a_mark_only_advances_and_reads_back_for_its_owner_only() {
    let disk = MemStorage::new();
    let storage = disk.shared();
    let path = Path::new("/b/SYNCED");
    storage.create_dir_all(Path::new("/b")).unwrap();
    assert_eq!(read_mark(storage.as_ref(), path, 7).unwrap(), None);
    let mut mark = MarkWriter::open(storage.as_ref(), path, 7).unwrap();
    mark.advance(5).unwrap();
    mark.advance(3).unwrap();
    assert_eq!(read_mark(storage.as_ref(), path, 7).unwrap(), Some(5));
    assert_eq!(read_mark(storage.as_ref(), path, 8).unwrap(), None);
    drop(mark);
    let reopened = MarkWriter::open(storage.as_ref(), path, 7).unwrap();
    assert_eq!(reopened.value(), 5);
}

#[test]
fn a_torn_or_damaged_mark_reads_as_none() {
    let good = encode(1, 99);
    assert_eq!(decode(&good, 1), Some(99));
    for i in 0..MARK_LEN {
        let mut bad = good;
        if let Some(b) = bad.get_mut(i) {
            *b ^= 0x10;
        }
        assert_eq!(decode(&bad, 1), None, "byte {i} flipped");
    }
}
