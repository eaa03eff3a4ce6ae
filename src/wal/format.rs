//! Byte layouts of the message box: the segment header and the frame header.
//! `docs/FORMAT.md` describes the same layouts; keep them in step.
//!
//! Every field is little-endian. Offsets are computed from the previous
//! field, so a layout change cannot leave a stale literal behind.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use byteorder::{ByteOrder, LittleEndian as LE};

use super::Lsn;

/// First bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"BAMDBWAL";
/// Version of the segment and frame layout written by this code.
pub const FORMAT_VERSION: u32 = 1;

// Format: { magic [u8; 8] | version u32 | salt u32 | base_lsn u64 | reserved u32 | header_crc u32 }
const SEG_MAGIC_OFFSET: usize = 0;
const SEG_VERSION_OFFSET: usize = SEG_MAGIC_OFFSET + SEGMENT_MAGIC.len();
const SEG_SALT_OFFSET: usize = SEG_VERSION_OFFSET + size_of::<u32>();
const SEG_BASE_OFFSET: usize = SEG_SALT_OFFSET + size_of::<u32>();
const SEG_RESERVED_OFFSET: usize = SEG_BASE_OFFSET + size_of::<u64>();
const SEG_CRC_OFFSET: usize = SEG_RESERVED_OFFSET + size_of::<u32>();
/// Size of the segment header; the first frame starts here.
pub const SEGMENT_HEADER_LEN: usize = SEG_CRC_OFFSET + size_of::<u32>();

// Format: { len u32 | kind u8 | flags u8 | span u16 | lsn u64 | header_crc u32 | crc u32 } payload [len] zero padding to 8
const FRAME_LEN_OFFSET: usize = 0;
const FRAME_KIND_OFFSET: usize = FRAME_LEN_OFFSET + size_of::<u32>();
const FRAME_FLAGS_OFFSET: usize = FRAME_KIND_OFFSET + size_of::<u8>();
const FRAME_SPAN_OFFSET: usize = FRAME_FLAGS_OFFSET + size_of::<u8>();
const FRAME_LSN_OFFSET: usize = FRAME_SPAN_OFFSET + size_of::<u16>();
const FRAME_HEADER_CRC_OFFSET: usize = FRAME_LSN_OFFSET + size_of::<u64>();
const FRAME_CRC_OFFSET: usize = FRAME_HEADER_CRC_OFFSET + size_of::<u32>();
/// Size of a frame header.
pub const FRAME_HEADER_LEN: usize = FRAME_CRC_OFFSET + size_of::<u32>();
/// Frames start at multiples of this within a segment.
pub const FRAME_ALIGN: usize = 8;

/// The only frame kind so far: an opaque payload handed to `append`.
pub const FRAME_KIND_DATA: u8 = 1;

const _: () = assert!(SEGMENT_HEADER_LEN == 32);
const _: () = assert!(FRAME_HEADER_LEN == 24);
const _: () = assert!(SEGMENT_HEADER_LEN % FRAME_ALIGN == 0);

/// A decoded, checksum-verified segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Random per segment; seeds every frame checksum in it.
    pub salt: u32,
    /// LSN of the first frame the segment holds (or will hold).
    pub base_lsn: Lsn,
}

/// Why a header did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// Fewer bytes than a header.
    Short,
    /// The magic bytes are wrong: not a bamdb segment.
    BadMagic,
    /// A format version this code does not read.
    UnsupportedVersion(u32),
    /// The checksum does not match.
    BadChecksum,
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::Short => write!(f, "header is truncated"),
            HeaderError::BadMagic => write!(f, "not a bamdb WAL segment (bad magic)"),
            HeaderError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "format version {v} is not supported (this build reads {FORMAT_VERSION})"
                )
            }
            HeaderError::BadChecksum => write!(f, "header checksum mismatch"),
        }
    }
}

impl SegmentHeader {
    /// Encodes the header with its checksum.
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut buf = [0u8; SEGMENT_HEADER_LEN];
        buf[SEG_MAGIC_OFFSET..SEG_VERSION_OFFSET].copy_from_slice(&SEGMENT_MAGIC);
        LE::write_u32(&mut buf[SEG_VERSION_OFFSET..], FORMAT_VERSION);
        LE::write_u32(&mut buf[SEG_SALT_OFFSET..], self.salt);
        LE::write_u64(&mut buf[SEG_BASE_OFFSET..], self.base_lsn);
        let crc = crc32fast::hash(&buf[..SEG_CRC_OFFSET]);
        LE::write_u32(&mut buf[SEG_CRC_OFFSET..], crc);
        buf
    }

    /// Decodes and verifies a header; the checksum is checked before any
    /// field is trusted.
    #[expect(
        clippy::indexing_slicing,
        reason = "body has the fixed header size, checked above"
    )]
    pub fn decode(bytes: &[u8]) -> Result<Self, HeaderError> {
        let buf = bytes.get(..SEGMENT_HEADER_LEN).ok_or(HeaderError::Short)?;
        let (body, crc) = buf.split_at(SEG_CRC_OFFSET);
        if crc32fast::hash(body) != LE::read_u32(crc) {
            if body.get(..SEGMENT_MAGIC.len()) != Some(&SEGMENT_MAGIC[..]) {
                return Err(HeaderError::BadMagic);
            }
            return Err(HeaderError::BadChecksum);
        }
        if body.get(..SEGMENT_MAGIC.len()) != Some(&SEGMENT_MAGIC[..]) {
            return Err(HeaderError::BadMagic);
        }
        let version = LE::read_u32(&body[SEG_VERSION_OFFSET..]);
        if version != FORMAT_VERSION {
            return Err(HeaderError::UnsupportedVersion(version));
        }
        Ok(SegmentHeader {
            salt: LE::read_u32(&body[SEG_SALT_OFFSET..]),
            base_lsn: LE::read_u64(&body[SEG_BASE_OFFSET..]),
        })
    }
}

/// A decoded frame header whose own checksum verified (the payload checksum
/// is checked separately, once the payload has been read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length in bytes.
    pub len: u32,
    /// Frame kind, [`FRAME_KIND_DATA`].
    pub kind: u8,
    /// How far this frame's LSN was ahead of the durable LSN when it was
    /// written (saturating). Recovery uses it to tell a torn tail from
    /// corruption: see `docs/FORMAT.md`.
    pub span: u16,
    /// The frame's log sequence number.
    pub lsn: Lsn,
    /// Checksum of the header fields and payload, seeded with the salt.
    pub crc: u32,
}

/// Why a frame is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer bytes than the frame needs.
    Short,
    /// The header checksum does not match (zeroed, torn or damaged header).
    BadHeaderChecksum,
    /// The header verified but names a kind this code does not know.
    UnknownKind(u8),
    /// The header verified but sets flags, which version 1 never does.
    UnknownFlags(u8),
    /// The header verified but the length breaks the configured limit.
    TooLong {
        /// The length the header claims.
        len: u32,
        /// The configured limit.
        limit: u32,
    },
    /// The payload checksum does not match.
    BadChecksum,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Short => write!(f, "frame is truncated"),
            FrameError::BadHeaderChecksum => write!(f, "frame header checksum mismatch"),
            FrameError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            FrameError::UnknownFlags(b) => write!(f, "unknown frame flags {b:#04x}"),
            FrameError::TooLong { len, limit } => {
                write!(f, "frame length {len} exceeds the limit {limit}")
            }
            FrameError::BadChecksum => write!(f, "frame checksum mismatch"),
        }
    }
}

impl FrameHeader {
    /// The LSN read from a header candidate without verifying anything; used
    /// only as a cheap filter while searching for the next valid frame.
    pub fn peek_lsn(bytes: &[u8]) -> Option<Lsn> {
        bytes
            .get(FRAME_LSN_OFFSET..FRAME_LSN_OFFSET + size_of::<u64>())
            .map(LE::read_u64)
    }

    /// Decodes and verifies a frame header with the segment's `salt`; the
    /// length is checked against `max_len` before it is returned, so a torn
    /// or damaged length never causes a large read.
    #[expect(
        clippy::indexing_slicing,
        reason = "fields has the fixed header size, checked above"
    )]
    pub fn decode(bytes: &[u8], salt: u32, max_len: u32) -> Result<Self, FrameError> {
        let buf = bytes.get(..FRAME_HEADER_LEN).ok_or(FrameError::Short)?;
        let (fields, crcs) = buf.split_at(FRAME_HEADER_CRC_OFFSET);
        if header_crc(fields, salt) != LE::read_u32(crcs) {
            return Err(FrameError::BadHeaderChecksum);
        }
        let header = FrameHeader {
            len: LE::read_u32(&fields[FRAME_LEN_OFFSET..]),
            kind: fields[FRAME_KIND_OFFSET],
            span: LE::read_u16(&fields[FRAME_SPAN_OFFSET..]),
            lsn: LE::read_u64(&fields[FRAME_LSN_OFFSET..]),
            crc: LE::read_u32(&crcs[FRAME_CRC_OFFSET - FRAME_HEADER_CRC_OFFSET..]),
        };
        if header.kind != FRAME_KIND_DATA {
            return Err(FrameError::UnknownKind(header.kind));
        }
        // Version 1 writes the flags as zero (docs/FORMAT.md); a frame that
        // sets any is not one this code wrote, so it is not served.
        let flags = fields[FRAME_FLAGS_OFFSET];
        if flags != 0 {
            return Err(FrameError::UnknownFlags(flags));
        }
        if header.len > max_len {
            return Err(FrameError::TooLong {
                len: header.len,
                limit: max_len,
            });
        }
        Ok(header)
    }

    /// Verifies `payload` (exactly `len` bytes) against this header.
    pub fn verify_payload(&self, header_bytes: &[u8], payload: &[u8], salt: u32) -> bool {
        let Some(covered) = header_bytes.get(..FRAME_CRC_OFFSET) else {
            return false;
        };
        payload.len() == self.len as usize && payload_crc(covered, payload, salt) == self.crc
    }

    /// Total bytes the frame occupies in the segment, padding included.
    pub fn frame_len(&self) -> u64 {
        frame_len(self.len as usize) as u64
    }

    /// The lowest LSN that was durable when this frame was written.
    pub fn durable_floor(&self) -> Lsn {
        self.lsn.saturating_sub(u64::from(self.span))
    }
}

/// Total bytes a frame with a payload of `payload_len` occupies.
pub fn frame_len(payload_len: usize) -> usize {
    (FRAME_HEADER_LEN + payload_len).next_multiple_of(FRAME_ALIGN)
}

/// Encodes a whole frame (header, payload, zero padding) into `out`.
#[expect(
    clippy::indexing_slicing,
    reason = "the buffer is resized to the frame length first"
)]
pub fn encode_frame(out: &mut Vec<u8>, payload: &[u8], lsn: Lsn, span: u16, salt: u32) {
    let start = out.len();
    out.resize(start + frame_len(payload.len()), 0);
    let Some(frame) = out.get_mut(start..) else {
        return;
    };
    let (header, rest) = frame.split_at_mut(FRAME_HEADER_LEN);
    LE::write_u32(&mut header[FRAME_LEN_OFFSET..], payload.len() as u32);
    header[FRAME_KIND_OFFSET] = FRAME_KIND_DATA;
    header[FRAME_FLAGS_OFFSET] = 0;
    LE::write_u16(&mut header[FRAME_SPAN_OFFSET..], span);
    LE::write_u64(&mut header[FRAME_LSN_OFFSET..], lsn);
    let hcrc = header_crc(&header[..FRAME_HEADER_CRC_OFFSET], salt);
    LE::write_u32(&mut header[FRAME_HEADER_CRC_OFFSET..], hcrc);
    let crc = payload_crc(&header[..FRAME_CRC_OFFSET], payload, salt);
    LE::write_u32(&mut header[FRAME_CRC_OFFSET..], crc);
    rest[..payload.len()].copy_from_slice(payload);
}

fn header_crc(fields: &[u8], salt: u32) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(salt);
    h.update(fields);
    h.finalize()
}

fn payload_crc(header: &[u8], payload: &[u8], salt: u32) -> u32 {
    // A different seed from the header checksum, so the two never coincide
    // by construction.
    let mut h = crc32fast::Hasher::new_with_initial(salt ^ 0x5A5A_5A5A);
    h.update(header);
    h.update(payload);
    h.finalize()
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
