#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

fn record() -> CleanEnd {
    CleanEnd {
        salt: 0xDEAD_BEEF,
        base_lsn: 41,
        end: 4096,
        last_frame: 4000,
        next_lsn: 77,
    }
}

#[test]
fn a_record_round_trips() {
    let bytes = record().encode();
    assert_eq!(&bytes[..8], b"BAMDBEND");
    assert_eq!(CleanEnd::decode(&bytes), Ok(record()));
}

#[test]
fn every_flipped_bit_is_refused() {
    let bytes = record().encode();
    for bit in 0..bytes.len() * 8 {
        let mut damaged = bytes;
        damaged[bit / 8] ^= 1 << (bit % 8);
        assert!(CleanEnd::decode(&damaged).is_err(), "bit {bit}");
    }
}

#[test]
fn a_record_of_the_wrong_length_or_version_is_refused() {
    let bytes = record().encode();
    assert!(CleanEnd::decode(&bytes[..CLEAN_END_LEN - 1]).is_err());
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(CleanEnd::decode(&longer).is_err());
    let mut v2 = bytes;
    LE::write_u32(&mut v2[VERSION_OFFSET..], 2);
    let crc = crc32fast::hash(&v2[..CRC_OFFSET]);
    LE::write_u32(&mut v2[CRC_OFFSET..], crc);
    let err = CleanEnd::decode(&v2).unwrap_err();
    assert!(err.contains("version 2"), "{err}");
}
