//! One shipped message: a run of consecutive frames of one producer's
//! message box, as the shipper publishes it to NATS JetStream and the
//! central bus reads it back (`docs/FORMAT.md`, "Shipped messages").
//!
//! ```text
//! magic "BSHP" | version u8 (1) | box id u64 | first LSN u64 | synced u64
//! | count u32 | count x { length u32 | payload } | crc32 u32
//! ```
//!
//! Little-endian; the CRC-32 (crc32fast) covers every byte before it. The
//! frames are LSNs `first`, `first + 1`, ... of the box; `synced` is the
//! box's durable mark when the shipper read it (how far its producer had
//! gone: the central store's measure of the box's lag).

use byteorder::{ByteOrder, LittleEndian};

use crate::wal::Lsn;

const MAGIC: [u8; 4] = *b"BSHP";
/// The version this code writes and reads.
pub const MESSAGE_VERSION: u8 = 1;
const HEADER_LEN: usize = 4 + 1 + 8 + 8 + 8 + 4;
const CRC_LEN: usize = 4;
/// Bytes a message adds to its frames: header, CRC and a length per frame.
pub const fn overhead(frames: usize) -> usize {
    HEADER_LEN + CRC_LEN + 4 * frames
}
/// Frames one message carries at most (a reader refuses more).
pub const MAX_FRAMES: usize = 4096;

/// A decoded message; its frames borrow the message's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedMessage<'a> {
    /// The box the frames come from.
    pub box_id: u64,
    /// The LSN of the first frame.
    pub first_lsn: Lsn,
    /// The box's durable mark when the frames were read.
    pub synced: Lsn,
    /// The frames' payloads, in LSN order.
    pub frames: Vec<&'a [u8]>,
}

impl ShippedMessage<'_> {
    /// The LSN of the last frame (`first_lsn` less one if there is none).
    pub fn last_lsn(&self) -> Lsn {
        (self.first_lsn + self.frames.len() as u64).saturating_sub(1)
    }
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Not a shipped message (another magic), or cut short.
    #[error("not a bamdb shipped message: {0}")]
    Format(String),
    /// Written by a newer version.
    #[error(
        "shipped message version {0} is not supported (this bamdb reads version {MESSAGE_VERSION})"
    )]
    Version(u8),
    /// The checksum does not match: damaged in transit or in the stream.
    #[error(
        "shipped message checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
    )]
    Checksum {
        /// The CRC the message carries.
        stored: u32,
        /// The CRC of its bytes.
        computed: u32,
    },
}

/// Encodes frames `first_lsn..` of box `box_id` as one message.
pub fn encode<P: AsRef<[u8]>>(box_id: u64, first_lsn: Lsn, synced: Lsn, frames: &[P]) -> Vec<u8> {
    let body: usize = frames.iter().map(|f| f.as_ref().len()).sum();
    let mut out = Vec::with_capacity(overhead(frames.len()) + body);
    out.extend_from_slice(&MAGIC);
    out.push(MESSAGE_VERSION);
    let mut word = [0u8; 8];
    for value in [box_id, first_lsn, synced] {
        LittleEndian::write_u64(&mut word, value);
        out.extend_from_slice(&word);
    }
    out.extend_from_slice(&(frames.len() as u32).to_le_bytes());
    for frame in frames {
        let frame = frame.as_ref();
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(frame);
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads a message, checking its checksum and every length against the
/// message's own size before anything is taken from it.
pub fn decode(bytes: &[u8]) -> Result<ShippedMessage<'_>, MessageError> {
    let short = || MessageError::Format(format!("{} bytes is too short", bytes.len()));
    if bytes.len() < HEADER_LEN + CRC_LEN {
        return Err(short());
    }
    if bytes[..4] != MAGIC {
        return Err(MessageError::Format("bad magic".into()));
    }
    let version = bytes[4];
    if version != MESSAGE_VERSION {
        return Err(MessageError::Version(version));
    }
    let (body, crc) = bytes.split_at(bytes.len() - CRC_LEN);
    let stored = LittleEndian::read_u32(crc);
    let computed = crc32fast::hash(body);
    if stored != computed {
        return Err(MessageError::Checksum { stored, computed });
    }
    let box_id = LittleEndian::read_u64(&body[5..13]);
    let first_lsn = LittleEndian::read_u64(&body[13..21]);
    let synced = LittleEndian::read_u64(&body[21..29]);
    let count = LittleEndian::read_u32(&body[29..33]) as usize;
    if count > MAX_FRAMES {
        return Err(MessageError::Format(format!(
            "{count} frames, more than the {MAX_FRAMES} a message may carry"
        )));
    }
    if first_lsn == 0 || first_lsn.checked_add(count as u64).is_none() {
        return Err(MessageError::Format(format!(
            "first LSN {first_lsn} with {count} frames is out of range"
        )));
    }
    let mut rest = &body[HEADER_LEN..];
    let mut frames = Vec::with_capacity(count.min(rest.len() / 4));
    for i in 0..count {
        let Some((len, after)) = rest.split_first_chunk::<4>() else {
            return Err(MessageError::Format(format!(
                "frame {i} of {count}: cut short"
            )));
        };
        let len = u32::from_le_bytes(*len) as usize;
        if len > after.len() {
            return Err(MessageError::Format(format!(
                "frame {i} of {count}: {len} bytes, but {} remain",
                after.len()
            )));
        }
        let (frame, after) = after.split_at(len);
        frames.push(frame);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(MessageError::Format(format!(
            "{} bytes after the last frame",
            rest.len()
        )));
    }
    Ok(ShippedMessage {
        box_id,
        first_lsn,
        synced,
        frames,
    })
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
