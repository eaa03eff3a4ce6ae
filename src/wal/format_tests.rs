#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use super::*;

const SALT: u32 = 0xDEAD_BEEF;
const MAX: u32 = 1 << 20;

fn decode_whole(frame: &[u8], salt: u32) -> Result<(FrameHeader, Vec<u8>), FrameError> {
    let header = FrameHeader::decode(frame, salt, MAX)?;
    let end = FRAME_HEADER_LEN + header.len as usize;
    let payload = frame.get(FRAME_HEADER_LEN..end).ok_or(FrameError::Short)?;
    if !header.verify_payload(frame, payload, salt) {
        return Err(FrameError::BadChecksum);
    }
    Ok((header, payload.to_vec()))
}

#[test]
fn frame_round_trips_with_padding_to_eight_bytes() {
    for len in [0usize, 1, 7, 8, 9, 100, 4096] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut out = Vec::new();
        encode_frame(&mut out, &payload, 42, 3, SALT);
        assert_eq!(out.len() % FRAME_ALIGN, 0);
        assert_eq!(out.len(), frame_len(len));
        let (header, back) = decode_whole(&out, SALT).unwrap();
        assert_eq!(back, payload);
        assert_eq!(header.lsn, 42);
        assert_eq!(header.span, 3);
        assert_eq!(header.durable_floor(), 39);
        assert_eq!(header.frame_len(), out.len() as u64);
    }
}

#[test]
fn every_truncation_point_of_a_frame_is_detected() {
    let payload = b"an activity batch of some length".repeat(3);
    let mut frame = Vec::new();
    encode_frame(&mut frame, &payload, 7, 1, SALT);
    let full = FRAME_HEADER_LEN + payload.len();
    for cut in 0..full {
        // A torn write leaves a prefix followed by zeros (preallocated space).
        let mut torn = frame[..cut].to_vec();
        torn.resize(frame.len(), 0);
        assert!(
            decode_whole(&torn, SALT).is_err(),
            "frame torn at byte {cut} still validated"
        );
        // Or a prefix followed by nothing at all.
        assert!(decode_whole(&frame[..cut], SALT).is_err());
    }
}

#[test]
fn every_bit_flip_in_a_frame_header_or_payload_is_detected() {
    let payload = b"PurchaseOrder PO-000000001 Contoso".to_vec();
    let mut frame = Vec::new();
    encode_frame(&mut frame, &payload, 1234, 2, SALT);
    let covered = FRAME_HEADER_LEN + payload.len();
    for bit in 0..covered * 8 {
        let mut bad = frame.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(
            decode_whole(&bad, SALT).is_err(),
            "flipping bit {bit} went undetected"
        );
    }
}

#[test]
fn every_bit_flip_in_a_segment_header_is_detected() {
    let header = SegmentHeader {
        salt: SALT,
        base_lsn: 99,
    };
    let bytes = header.encode();
    assert_eq!(SegmentHeader::decode(&bytes).unwrap(), header);
    for bit in 0..SEGMENT_HEADER_LEN * 8 {
        let mut bad = bytes;
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(SegmentHeader::decode(&bad).is_err(), "bit {bit}");
    }
    for cut in 0..SEGMENT_HEADER_LEN {
        assert_eq!(
            SegmentHeader::decode(&bytes[..cut]),
            Err(HeaderError::Short)
        );
    }
}

#[test]
fn zero_filled_space_never_validates_as_a_frame() {
    let zeros = [0u8; 64];
    for salt in [1u32, SALT, u32::MAX] {
        assert!(decode_whole(&zeros, salt).is_err());
    }
}

#[test]
fn a_frame_from_a_segment_with_another_salt_does_not_validate() {
    let mut frame = Vec::new();
    encode_frame(&mut frame, b"stale bytes from an older segment", 5, 1, SALT);
    assert!(decode_whole(&frame, SALT ^ 1).is_err());
    assert!(decode_whole(&frame, SALT.wrapping_add(12345)).is_err());
}

#[test]
fn a_verified_length_over_the_limit_is_refused_before_any_read() {
    let mut frame = Vec::new();
    encode_frame(&mut frame, &[1u8; 100], 5, 1, SALT);
    assert_eq!(
        FrameHeader::decode(&frame, SALT, 99),
        Err(FrameError::TooLong {
            len: 100,
            limit: 99
        })
    );
}

#[test]
fn a_length_claiming_four_gib_is_rejected_by_the_header_checksum() {
    let mut frame = Vec::new();
    encode_frame(&mut frame, b"x", 5, 1, SALT);
    frame[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        FrameHeader::decode(&frame, SALT, u32::MAX),
        Err(FrameError::BadHeaderChecksum)
    );
}

#[test]
fn segment_header_errors_name_the_problem() {
    let mut bytes = SegmentHeader {
        salt: 1,
        base_lsn: 1,
    }
    .encode();
    bytes[0] = b'X';
    assert_eq!(SegmentHeader::decode(&bytes), Err(HeaderError::BadMagic));
    assert!(HeaderError::BadMagic.to_string().contains("magic"));
}

/// Found by the `wal_frame` fuzz target: a frame with the flags byte set and
/// both checksums recomputed decoded as valid, though version 1 always
/// writes zero flags, so it re-encoded differently from what was read.
#[test]
fn a_frame_with_flags_set_is_refused_even_with_valid_checksums() {
    let mut frame = Vec::new();
    encode_frame(&mut frame, &[7u8; 26], 3, 1, SALT);
    frame[FRAME_FLAGS_OFFSET] = 0x80;
    let hcrc = header_crc(&frame[..FRAME_HEADER_CRC_OFFSET], SALT);
    frame[FRAME_HEADER_CRC_OFFSET..FRAME_CRC_OFFSET].copy_from_slice(&hcrc.to_le_bytes());
    let crc = payload_crc(
        &frame[..FRAME_CRC_OFFSET],
        &frame[FRAME_HEADER_LEN..][..26],
        SALT,
    );
    frame[FRAME_CRC_OFFSET..FRAME_HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        FrameHeader::decode(&frame, SALT, 1 << 16),
        Err(FrameError::UnknownFlags(0x80))
    );
}
