//! Whole-file containers for the manifest and checkpoints, and the atomic
//! way to write any file: temp file, fsync, rename, directory fsync.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io;
use std::path::Path;

use byteorder::{ByteOrder, LittleEndian as LE};

use super::error::ImportFileError;
use crate::storage::{read_exact_at, OpenMode, Storage};

// Format: { magic [u8; 8] | version u32 | body_len u64 | body_crc u32 | header_crc u32 } body [body_len]
const MAGIC_LEN: usize = 8;
const VERSION_OFFSET: usize = MAGIC_LEN;
const LEN_OFFSET: usize = VERSION_OFFSET + size_of::<u32>();
const BODY_CRC_OFFSET: usize = LEN_OFFSET + size_of::<u64>();
const HEADER_CRC_OFFSET: usize = BODY_CRC_OFFSET + size_of::<u32>();
/// Size of a blob header.
pub(crate) const BLOB_HEADER_LEN: usize = HEADER_CRC_OFFSET + size_of::<u32>();

/// Wraps `body` with magic, version, length and checksums.
pub(crate) fn encode_blob(magic: &[u8; 8], version: u32, body: &[u8]) -> Vec<u8> {
    let mut header = [0u8; BLOB_HEADER_LEN];
    header[..MAGIC_LEN].copy_from_slice(magic);
    LE::write_u32(&mut header[VERSION_OFFSET..], version);
    LE::write_u64(&mut header[LEN_OFFSET..], body.len() as u64);
    LE::write_u32(&mut header[BODY_CRC_OFFSET..], crc32fast::hash(body));
    let hcrc = crc32fast::hash(&header[..HEADER_CRC_OFFSET]);
    LE::write_u32(&mut header[HEADER_CRC_OFFSET..], hcrc);
    let mut out = header.to_vec();
    out.extend_from_slice(body);
    out
}

/// Reads and verifies a blob file; returns its version and body. The body
/// length is checked against `max_len` and the file size before reading.
pub(crate) fn read_blob(
    storage: &dyn Storage,
    path: &Path,
    magic: &[u8; 8],
    max_len: u64,
) -> Result<(u32, Vec<u8>), ImportFileError> {
    let corrupt = |offset, what: String| ImportFileError::corrupt(path, offset, what);
    let file = storage
        .open_file(path, OpenMode::Read)
        .map_err(ImportFileError::io("open", path))?;
    let file_len = file.len().map_err(ImportFileError::io("stat", path))?;
    if file_len < BLOB_HEADER_LEN as u64 {
        return Err(corrupt(
            None,
            format!("{file_len} bytes is too short for the {BLOB_HEADER_LEN}-byte header"),
        ));
    }
    let mut header = [0u8; BLOB_HEADER_LEN];
    read_exact_at(file.as_ref(), &mut header, 0).map_err(ImportFileError::io("read", path))?;
    let (fields, hcrc) = header.split_at(HEADER_CRC_OFFSET);
    if crc32fast::hash(fields) != LE::read_u32(hcrc) {
        return Err(corrupt(Some(0), "header checksum mismatch".into()));
    }
    if fields.get(..MAGIC_LEN) != Some(&magic[..]) {
        return Err(corrupt(
            Some(0),
            "wrong magic: not this kind of file".into(),
        ));
    }
    let version = LE::read_u32(fields.get(VERSION_OFFSET..).unwrap_or(&[0; 4]));
    let len = LE::read_u64(fields.get(LEN_OFFSET..).unwrap_or(&[0; 8]));
    let crc = LE::read_u32(fields.get(BODY_CRC_OFFSET..).unwrap_or(&[0; 4]));
    if len > max_len {
        return Err(ImportFileError::TooLarge {
            path: path.to_path_buf(),
            what: "body",
            len,
            limit: max_len,
        });
    }
    if BLOB_HEADER_LEN as u64 + len != file_len {
        return Err(corrupt(
            None,
            format!(
                "file is {file_len} bytes but its header says {}",
                BLOB_HEADER_LEN as u64 + len
            ),
        ));
    }
    let mut body = vec![0u8; len as usize];
    read_exact_at(file.as_ref(), &mut body, BLOB_HEADER_LEN as u64)
        .map_err(ImportFileError::io("read", path))?;
    if crc32fast::hash(&body) != crc {
        return Err(corrupt(
            Some(BLOB_HEADER_LEN as u64),
            "body checksum mismatch".into(),
        ));
    }
    Ok((version, body))
}

/// Writes `bytes` as `dir/name` atomically and durably: a temp file is
/// written and fsynced, renamed over the name, and the directory fsynced.
/// A crash leaves either the old file or the new one, never a mix.
pub(crate) fn write_atomically(
    storage: &dyn Storage,
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    match storage.remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let file = storage.open_file(&tmp, OpenMode::CreateNew)?;
    if let Err(e) = file.write_all_at(bytes, 0).and_then(|()| file.sync_all()) {
        // On a full disk the partial temp file would hold space the message
        // box needs; the next attempt or open removes it anyway.
        let _ = storage.remove_file(&tmp);
        return Err(e);
    }
    storage.rename(&tmp, &dir.join(name))?;
    storage.sync_dir(dir)
}

#[cfg(test)]
#[path = "blob_tests.rs"]
mod tests;
