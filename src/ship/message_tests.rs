#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use proptest::prelude::*;

use super::*;

#[test]
fn a_message_reads_back_as_written() {
    let frames: [&[u8]; 3] = [b"one", b"", b"three"];
    let bytes = encode(7, 40, 45, &frames);
    assert_eq!(bytes.len(), overhead(3) + 8);
    let message = decode(&bytes).unwrap();
    assert_eq!(
        (message.box_id, message.first_lsn, message.synced),
        (7, 40, 45)
    );
    assert_eq!(message.frames, frames);
    assert_eq!(message.last_lsn(), 42);
}

#[test]
fn damage_is_refused_with_a_reason() {
    let bytes = encode(1, 1, 1, &[b"payload"]);
    let mut flipped = bytes.clone();
    flipped[30] ^= 1;
    assert!(matches!(
        decode(&flipped),
        Err(MessageError::Checksum { .. })
    ));
    let mut newer = bytes.clone();
    newer[4] = 2;
    assert_eq!(decode(&newer), Err(MessageError::Version(2)));
    assert!(matches!(decode(&bytes[..10]), Err(MessageError::Format(_))));
    assert!(matches!(
        decode(b"NOPE-and-some-more-bytes-to-be-long-enough"),
        Err(MessageError::Format(_))
    ));
    // A count beyond the limit is refused before anything is allocated.
    let mut many = encode(1, 1, 1, &[b"x"]);
    many[29..33].copy_from_slice(&u32::MAX.to_le_bytes());
    let crc = crc32fast::hash(&many[..many.len() - 4]);
    let at = many.len() - 4;
    many[at..].copy_from_slice(&crc.to_le_bytes());
    assert!(decode(&many).unwrap_err().to_string().contains("more than"));
    // LSN 0 is no frame's.
    assert!(matches!(
        decode(&encode(1, 0, 0, &[b"x"])),
        Err(MessageError::Format(_))
    ));
}

proptest! {
    #[test]
    fn any_frames_round_trip(
        box_id in any::<u64>(),
        first in 1u64..u64::MAX / 2,
        frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20),
    ) {
        let bytes = encode(box_id, first, first, &frames);
        let message = decode(&bytes).unwrap();
        prop_assert_eq!(message.box_id, box_id);
        prop_assert_eq!(message.first_lsn, first);
        let back: Vec<Vec<u8>> = message.frames.iter().map(|f| f.to_vec()).collect();
        prop_assert_eq!(back, frames);
    }

    #[test]
    fn any_bytes_decode_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes);
    }
}
