//! The clean-end record: a small file, `CLEAN`, that a writer leaves in the
//! log directory when it closes cleanly, naming where the log ends. With it,
//! opening the log costs a few small reads instead of walking every frame of
//! the last segment and reading its preallocated space to check that it is
//! zero (see "Recovery" in `docs/FORMAT.md`).
//!
//! The record is a hint that recovery checks, never a source of truth it
//! cannot verify: it names the last segment (base LSN and salt), the offset
//! of its last frame and the end of that frame. Recovery trusts it only if
//! that segment is the last one, the frame there verifies with the expected
//! LSN and ends at the recorded end, and the bytes at the end are zero (no
//! frame, whole or torn, was written after it). Anything else, or a record
//! that does not decode, means the full walk.
//!
//! The record stays true because nothing is appended while it exists: the
//! writer removes it durably (and cuts the segment at the recorded end)
//! before the first append after an open that trusted it.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io;
use std::path::{Path, PathBuf};

use byteorder::{ByteOrder, LittleEndian as LE};

use super::format::{FrameHeader, SegmentHeader, FRAME_ALIGN, FRAME_HEADER_LEN};
use super::{Lsn, WalError, SEGMENT_HEADER_LEN};
use crate::storage::{read_up_to, OpenMode, Storage, StorageFile};

/// The record's file name in the log directory.
pub(crate) const CLEAN_END_FILE: &str = "CLEAN";
/// Where the record is written before it is renamed into place.
const CLEAN_END_TMP: &str = "CLEAN.tmp";

/// First bytes of the record.
pub const CLEAN_END_MAGIC: [u8; 8] = *b"BAMDBEND";
/// Version of the record layout written by this code.
pub const CLEAN_END_VERSION: u32 = 1;

// Format: { magic [u8; 8] | version u32 | salt u32 | base_lsn u64 | end u64 | last_frame u64 | next_lsn u64 | reserved u32 | crc u32 }
const MAGIC_OFFSET: usize = 0;
const VERSION_OFFSET: usize = MAGIC_OFFSET + CLEAN_END_MAGIC.len();
const SALT_OFFSET: usize = VERSION_OFFSET + size_of::<u32>();
const BASE_OFFSET: usize = SALT_OFFSET + size_of::<u32>();
const END_OFFSET: usize = BASE_OFFSET + size_of::<u64>();
const LAST_FRAME_OFFSET: usize = END_OFFSET + size_of::<u64>();
const NEXT_LSN_OFFSET: usize = LAST_FRAME_OFFSET + size_of::<u64>();
const RESERVED_OFFSET: usize = NEXT_LSN_OFFSET + size_of::<u64>();
const CRC_OFFSET: usize = RESERVED_OFFSET + size_of::<u32>();
/// Size of the record file.
pub const CLEAN_END_LEN: usize = CRC_OFFSET + size_of::<u32>();

const _: () = assert!(CLEAN_END_LEN == 56);

/// Where the log ended when its writer closed cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CleanEnd {
    /// Salt of the last segment: tells it from another file with the same
    /// name.
    pub salt: u32,
    /// Base LSN of the last segment.
    pub base_lsn: Lsn,
    /// Offset just past the last frame: where the next frame goes.
    pub end: u64,
    /// Offset of the last frame; 0 when the segment holds none.
    pub last_frame: u64,
    /// The LSN the next frame gets.
    pub next_lsn: Lsn,
}

impl CleanEnd {
    /// The record's bytes, with its checksum.
    pub fn encode(&self) -> [u8; CLEAN_END_LEN] {
        let mut buf = [0u8; CLEAN_END_LEN];
        buf[MAGIC_OFFSET..VERSION_OFFSET].copy_from_slice(&CLEAN_END_MAGIC);
        LE::write_u32(&mut buf[VERSION_OFFSET..], CLEAN_END_VERSION);
        LE::write_u32(&mut buf[SALT_OFFSET..], self.salt);
        LE::write_u64(&mut buf[BASE_OFFSET..], self.base_lsn);
        LE::write_u64(&mut buf[END_OFFSET..], self.end);
        LE::write_u64(&mut buf[LAST_FRAME_OFFSET..], self.last_frame);
        LE::write_u64(&mut buf[NEXT_LSN_OFFSET..], self.next_lsn);
        let crc = crc32fast::hash(&buf[..CRC_OFFSET]);
        LE::write_u32(&mut buf[CRC_OFFSET..], crc);
        buf
    }

    /// Decodes a record, checking its length, checksum, magic and version
    /// before any field is used.
    #[expect(
        clippy::indexing_slicing,
        reason = "bytes is exactly CLEAN_END_LEN long, checked first"
    )]
    pub fn decode(bytes: &[u8]) -> Result<CleanEnd, String> {
        if bytes.len() != CLEAN_END_LEN {
            return Err(format!(
                "{} bytes where the record has {CLEAN_END_LEN}",
                bytes.len()
            ));
        }
        let (body, crc) = bytes.split_at(CRC_OFFSET);
        if crc32fast::hash(body) != LE::read_u32(crc) {
            return Err(String::from("checksum mismatch"));
        }
        if body[MAGIC_OFFSET..VERSION_OFFSET] != CLEAN_END_MAGIC {
            return Err(String::from("bad magic"));
        }
        let version = LE::read_u32(&body[VERSION_OFFSET..]);
        if version != CLEAN_END_VERSION {
            return Err(format!(
                "version {version} (this build reads {CLEAN_END_VERSION})"
            ));
        }
        Ok(CleanEnd {
            salt: LE::read_u32(&body[SALT_OFFSET..]),
            base_lsn: LE::read_u64(&body[BASE_OFFSET..]),
            end: LE::read_u64(&body[END_OFFSET..]),
            last_frame: LE::read_u64(&body[LAST_FRAME_OFFSET..]),
            next_lsn: LE::read_u64(&body[NEXT_LSN_OFFSET..]),
        })
    }

    /// Checks the record against the last segment with a few small reads:
    /// `Ok(())` if recovery may take its end as the end of the log, or why
    /// not. `len` is the segment file's length.
    pub fn check(
        &self,
        header: &SegmentHeader,
        file: &dyn StorageFile,
        len: u64,
        max_frame_size: u32,
    ) -> io::Result<Result<(), String>> {
        let first = SEGMENT_HEADER_LEN as u64;
        if self.base_lsn != header.base_lsn || self.salt != header.salt {
            return Ok(Err(format!(
                "it names segment {} (salt {:#x}), the last segment is {} (salt {:#x})",
                self.base_lsn, self.salt, header.base_lsn, header.salt
            )));
        }
        let aligned = |at: u64| at % FRAME_ALIGN as u64 == 0;
        if self.end < first || self.end > len || !aligned(self.end) {
            return Ok(Err(format!(
                "its end {} is not a frame boundary in a file of {len} bytes",
                self.end
            )));
        }
        if self.last_frame == 0 {
            if self.end != first || self.next_lsn != self.base_lsn {
                return Ok(Err(String::from(
                    "it names no last frame but an end or LSN past the segment start",
                )));
            }
        } else {
            if self.last_frame < first || self.last_frame >= self.end || !aligned(self.last_frame) {
                return Ok(Err(format!(
                    "its last frame offset {} is out of place",
                    self.last_frame
                )));
            }
            let mut bytes = [0u8; FRAME_HEADER_LEN];
            let n = read_up_to(file, &mut bytes, self.last_frame)?;
            let header =
                FrameHeader::decode(bytes.get(..n).unwrap_or(&[]), self.salt, max_frame_size);
            let fits = header.is_ok_and(|h| {
                h.lsn.checked_add(1) == Some(self.next_lsn)
                    && self.last_frame.checked_add(h.frame_len()) == Some(self.end)
            });
            if !fits {
                return Ok(Err(format!(
                    "no frame with LSN {} ending at {} stands at offset {}",
                    self.next_lsn.saturating_sub(1),
                    self.end,
                    self.last_frame
                )));
            }
        }
        // Whatever follows must be the zeros the end was followed by when
        // the record was written: a frame or a torn one here means something
        // was appended after it, and only the full walk can tell what.
        let mut after = [0u8; FRAME_HEADER_LEN];
        let n = read_up_to(file, &mut after, self.end)?;
        if after.get(..n).is_some_and(|b| b.iter().any(|&x| x != 0)) {
            return Ok(Err(format!(
                "bytes were written after its end {}",
                self.end
            )));
        }
        Ok(Ok(()))
    }
}

/// The path of the record in `dir`.
pub(crate) fn clean_end_path(dir: &Path) -> PathBuf {
    dir.join(CLEAN_END_FILE)
}

/// Reads the record in `dir`: `Ok(Err(why))` if it is not a valid record.
/// Nothing larger than a record is read, whatever the file's size.
pub(crate) fn read_clean_end(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<Result<CleanEnd, String>, WalError> {
    let path = clean_end_path(dir);
    let file = storage
        .open_file(&path, OpenMode::Read)
        .map_err(|e| WalError::io("open clean-end record", &path, e))?;
    let len = file
        .len()
        .map_err(|e| WalError::io("stat clean-end record", &path, e))?;
    if len != CLEAN_END_LEN as u64 {
        return Ok(Err(format!(
            "{len} bytes where the record has {CLEAN_END_LEN}"
        )));
    }
    let mut buf = [0u8; CLEAN_END_LEN];
    let n = read_up_to(file.as_ref(), &mut buf, 0)
        .map_err(|e| WalError::io("read clean-end record", &path, e))?;
    Ok(CleanEnd::decode(buf.get(..n).unwrap_or(&[])))
}

/// Writes the record atomically and durably: a temporary file, synced,
/// renamed over the record, and the directory synced. Call only when the
/// log is durable up to `record.end`.
pub(crate) fn write_clean_end(
    storage: &dyn Storage,
    dir: &Path,
    record: &CleanEnd,
) -> Result<(), WalError> {
    let tmp = dir.join(CLEAN_END_TMP);
    match storage.remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(WalError::io("remove stale clean-end record", &tmp, e)),
    }
    let bytes = record.encode();
    let file = storage
        .open_file(&tmp, OpenMode::CreateNew)
        .map_err(|e| WalError::io("create clean-end record", &tmp, e))?;
    let written = file
        .write_all_at(&bytes, 0)
        .map_err(|e| WalError::io("write clean-end record", &tmp, e))
        .and_then(|()| {
            file.sync_all()
                .map_err(|e| WalError::io("fsync clean-end record", &tmp, e))
        });
    if let Err(e) = written {
        // Not needed, and on a full disk it holds space: best effort.
        let _ = storage.remove_file(&tmp);
        return Err(e);
    }
    let path = clean_end_path(dir);
    storage
        .rename(&tmp, &path)
        .map_err(|e| WalError::io("rename clean-end record", &path, e))?;
    storage
        .sync_dir(dir)
        .map_err(|e| WalError::io("fsync directory after the clean-end record", dir, e))
}

/// Removes the record durably (the file, then a sync of the directory), so
/// a crash after the next append can never find it.
pub(crate) fn remove_clean_end(storage: &dyn Storage, dir: &Path) -> Result<(), WalError> {
    let path = clean_end_path(dir);
    match storage.remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(WalError::io("remove clean-end record", &path, e)),
    }
    storage.sync_dir(dir).map_err(|e| {
        WalError::io(
            "fsync directory after removing the clean-end record",
            dir,
            e,
        )
    })
}

#[cfg(test)]
#[path = "clean_end_tests.rs"]
mod tests;
