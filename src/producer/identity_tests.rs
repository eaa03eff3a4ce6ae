#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use crate::storage::MemStorage;

#[test]
fn an_identity_round_trips_and_damage_is_named() {
    let disk = MemStorage::new();
    let storage = disk.shared();
    let dir = Path::new("/box");
    storage.create_dir_all(dir).unwrap();
    assert_eq!(read_identity(storage.as_ref(), dir).unwrap(), None);
    let made = create_identity(storage.as_ref(), dir, Some(9)).unwrap();
    assert_eq!(made.producer_id, 9);
    assert_eq!(read_identity(storage.as_ref(), dir).unwrap(), Some(made));
    let other = create_identity(storage.as_ref(), Path::new("/box"), None).unwrap();
    assert_ne!(other.box_id, made.box_id, "a new box gets a new id");
    assert!(other.producer_id >= 0x8000_0000);

    let good = encode(made);
    for i in 0..LEN {
        let mut bad = good;
        if let Some(b) = bad.get_mut(i) {
            *b ^= 1;
        }
        assert!(decode(&bad).is_err(), "byte {i} flipped");
    }
    let short = decode(&good[..10]).unwrap_err();
    assert!(short.contains("10 bytes"), "{short}");
}
