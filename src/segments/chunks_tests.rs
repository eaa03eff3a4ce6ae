#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

/// A file of `prefix` unchecked bytes, a checked region, and its table.
fn file(prefix: usize, region: &[u8]) -> (Vec<u8>, ChunkChecks) {
    let mut bytes = vec![7u8; prefix];
    bytes.extend_from_slice(region);
    let table = bytes.len();
    bytes.extend_from_slice(&checksum_table(region));
    (bytes, ChunkChecks::new(prefix..table, table))
}

#[test]
fn intact_chunks_verify_and_a_flip_is_found_in_the_chunk_that_holds_it() {
    let region: Vec<u8> = (0..3 * CHUNK_LEN + 100).map(|i| i as u8).collect();
    let (good, checks) = file(10, &region);
    checks.verify_all(&good).unwrap();
    for at in [
        10,
        10 + CHUNK_LEN - 1,
        10 + 2 * CHUNK_LEN + 5,
        10 + 3 * CHUNK_LEN + 99,
    ] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        let (_, fresh) = file(10, &region);
        let chunk_start = 10 + (at - 10) / CHUNK_LEN * CHUNK_LEN;
        assert_eq!(
            fresh.verify(&bad, at..at + 1),
            Err(BadChunk {
                offset: chunk_start
            })
        );
        // A read of another chunk is not held up by the damage.
        let other = if at < 10 + CHUNK_LEN {
            10 + CHUNK_LEN
        } else {
            10
        };
        assert_eq!(fresh.verify(&bad, other..other + 1), Ok(()));
    }
}

#[test]
fn a_damaged_checksum_table_entry_is_reported_not_trusted() {
    let region = vec![1u8; 2 * CHUNK_LEN];
    let (mut bytes, checks) = file(0, &region);
    let table = bytes.len() - 8;
    bytes[table + 4] ^= 0x10;
    assert!(checks.verify(&bytes, 0..1).is_ok());
    assert_eq!(
        checks.verify(&bytes, CHUNK_LEN..CHUNK_LEN + 1),
        Err(BadChunk { offset: CHUNK_LEN })
    );
}

#[test]
fn ranges_outside_the_region_are_not_checked_here() {
    let (bytes, checks) = file(50, &[3u8; 10]);
    assert!(checks.verify(&bytes, 0..50).is_ok());
    assert!(checks.verify(&bytes, 0..0).is_ok());
}
