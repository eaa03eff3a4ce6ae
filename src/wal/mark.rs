//! A mark: a tiny file that one process overwrites in place with an LSN and
//! another reads, to say how far something has got. A producer's message
//! box has two (see `docs/FORMAT.md`, "Message box marks"): `SYNCED`, how
//! far its log is durable, written by the producer after each commit; and
//! `APPLIED`, how far the bus has imported it, written by the bus.
//!
//! A mark is advice that may lag, never a promise that may lead: its writer
//! writes a value only once it is true (after the fsync, after the
//! import), and it is not synced itself. A crash can leave the old value,
//! or a torn one, which the checksum turns into "no mark" (`None`); a
//! reader then knows less, never something false.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use byteorder::{ByteOrder, LE};

use super::{Lsn, WalError};
use crate::storage::{OpenMode, Storage, StorageFile};

// Format: { magic "BMRK" | owner u64 | lsn u64 | crc32 u32 of the 20 bytes before it }
const MAGIC: [u8; 4] = *b"BMRK";
const MARK_LEN: usize = 24;

/// An open mark file, for its writer.
#[derive(Debug)]
pub struct MarkWriter {
    file: Arc<dyn StorageFile>,
    path: PathBuf,
    owner: u64,
    written: Lsn,
}

impl MarkWriter {
    /// Opens (creating if missing) the mark at `path` for the log `owner`
    /// (an id that tells this log from another one at the same path).
    pub fn open(storage: &dyn Storage, path: &Path, owner: u64) -> Result<MarkWriter, WalError> {
        let file = match storage.open_file(path, OpenMode::ReadWrite) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => storage
                .open_file(path, OpenMode::CreateNew)
                .map_err(|e| WalError::io("create mark", path, e))?,
            Err(e) => return Err(WalError::io("open mark", path, e)),
        };
        let written = read_from(file.as_ref(), owner).unwrap_or(0);
        Ok(MarkWriter {
            file,
            path: path.to_path_buf(),
            owner,
            written,
        })
    }

    /// Records `lsn`, if it is above what was recorded (a mark never goes
    /// back). Not synced: see the module docs.
    pub fn advance(&mut self, lsn: Lsn) -> Result<(), WalError> {
        if lsn <= self.written {
            return Ok(());
        }
        self.file
            .write_all_at(&encode(self.owner, lsn), 0)
            .map_err(|e| WalError::io("write mark", &self.path, e))?;
        self.written = lsn;
        Ok(())
    }

    /// The value last recorded (or read when opened).
    pub fn value(&self) -> Lsn {
        self.written
    }
}

/// The LSN the mark at `path` records for `owner`; `None` if there is no
/// mark, it is torn or damaged, or it belongs to another log.
pub fn read_mark(storage: &dyn Storage, path: &Path, owner: u64) -> Result<Option<Lsn>, WalError> {
    match storage.open_file(path, OpenMode::Read) {
        Ok(file) => Ok(read_from(file.as_ref(), owner)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WalError::io("open mark", path, e)),
    }
}

fn read_from(file: &dyn StorageFile, owner: u64) -> Option<Lsn> {
    let mut buf = [0u8; MARK_LEN];
    match file.read_at(&mut buf, 0) {
        Ok(MARK_LEN) => decode(&buf, owner),
        _ => None,
    }
}

fn encode(owner: u64, lsn: Lsn) -> [u8; MARK_LEN] {
    let mut buf = [0u8; MARK_LEN];
    let (body, crc) = buf.split_at_mut(20);
    let (magic, rest) = body.split_at_mut(4);
    magic.copy_from_slice(&MAGIC);
    let (o, l) = rest.split_at_mut(8);
    LE::write_u64(o, owner);
    LE::write_u64(l, lsn);
    LE::write_u32(crc, crc32fast::hash(body));
    buf
}

fn decode(buf: &[u8; MARK_LEN], owner: u64) -> Option<Lsn> {
    let (body, crc) = buf.split_at(20);
    let (magic, rest) = body.split_at(4);
    let (o, l) = rest.split_at(8);
    let valid = magic == MAGIC && LE::read_u32(crc) == crc32fast::hash(body);
    (valid && LE::read_u64(o) == owner).then(|| LE::read_u64(l))
}

#[cfg(test)]
#[path = "mark_tests.rs"]
mod tests;
