//! A message box's identity file, `BOX`: the box's id (which tells this box
//! from any other, even one made later in the same directory) and its
//! producer id (written in every batch it commits). Written once, when the
//! box is made, by write-then-rename, and never changed.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::ErrorKind;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use byteorder::{ByteOrder, LE};

use crate::error::StoreError;
use crate::storage::{OpenMode, Storage};

// Format: { magic "BAMDBBOX" | version u32 | box id u64 | producer id u32 | crc32 u32 of the 24 bytes before it }
const MAGIC: [u8; 8] = *b"BAMDBBOX";
const VERSION: u32 = 1;
const LEN: usize = 28;
/// The identity file's name in a box directory.
pub(crate) const IDENTITY_FILE: &str = "BOX";

/// Who a message box is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    /// Random, fixed when the box is made; never 0.
    pub box_id: u64,
    /// Written in every batch the box's producer commits.
    pub producer_id: u32,
}

/// The identity of the box in `dir`; `None` if it has none (not a box, or
/// one whose making was interrupted before the rename).
pub(crate) fn read_identity(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<Option<Identity>, StoreError> {
    let path = dir.join(IDENTITY_FILE);
    let file = match storage.open_file(&path, OpenMode::Read) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StoreError::Io {
                op: "open message box identity",
                path,
                source,
            })
        }
    };
    let mut buf = [0u8; LEN];
    let read = file.read_at(&mut buf, 0).map_err(|source| StoreError::Io {
        op: "read message box identity",
        path: path.clone(),
        source,
    })?;
    decode(buf.get(..read).unwrap_or(&buf))
        .map(Some)
        .map_err(|reason| StoreError::Corrupt {
            location: path.display().to_string(),
            reason,
        })
}

/// Makes the identity of a new box in `dir` (which exists): the file is
/// written and synced under a temporary name, renamed, and the directory
/// synced, so a crash leaves either no identity or a whole one.
pub(crate) fn create_identity(
    storage: &dyn Storage,
    dir: &Path,
    producer_id: Option<u32>,
) -> Result<Identity, StoreError> {
    let box_id = random_u64().max(1);
    let identity = Identity {
        box_id,
        // Away from the ids a store hands its own streams (small numbers).
        producer_id: producer_id.unwrap_or((box_id >> 32) as u32 | 0x8000_0000),
    };
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { op, path, source }
    };
    let tmp = dir.join("BOX.tmp");
    match storage.remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove", &tmp)(e)),
    }
    let file = storage
        .open_file(&tmp, OpenMode::CreateNew)
        .map_err(io("create message box identity", &tmp))?;
    file.write_all_at(&encode(identity), 0)
        .map_err(io("write message box identity", &tmp))?;
    file.sync_all()
        .map_err(io("fsync message box identity", &tmp))?;
    drop(file);
    let path = dir.join(IDENTITY_FILE);
    storage
        .rename(&tmp, &path)
        .map_err(io("rename message box identity", &path))?;
    storage
        .sync_dir(dir)
        .map_err(io("fsync message box directory", dir))?;
    Ok(identity)
}

fn encode(identity: Identity) -> [u8; LEN] {
    let mut buf = [0u8; LEN];
    let (body, crc) = buf.split_at_mut(LEN - 4);
    let (magic, rest) = body.split_at_mut(8);
    magic.copy_from_slice(&MAGIC);
    let (version, rest) = rest.split_at_mut(4);
    LE::write_u32(version, VERSION);
    let (id, producer) = rest.split_at_mut(8);
    LE::write_u64(id, identity.box_id);
    LE::write_u32(producer, identity.producer_id);
    LE::write_u32(crc, crc32fast::hash(body));
    buf
}

fn decode(buf: &[u8]) -> Result<Identity, String> {
    if buf.len() < LEN {
        return Err(format!(
            "the identity is {} bytes, not {LEN} (a damaged box)",
            buf.len()
        ));
    }
    let (body, rest) = buf.split_at(LEN - 4);
    let (magic, fields) = body.split_at(8);
    if magic != MAGIC {
        return Err("not a message box identity (wrong magic)".into());
    }
    if LE::read_u32(rest) != crc32fast::hash(body) {
        return Err("the identity's checksum does not match (a damaged box)".into());
    }
    let (version, fields) = fields.split_at(4);
    let version = LE::read_u32(version);
    if version != VERSION {
        return Err(format!(
            "message box version {version}; this build reads version {VERSION}"
        ));
    }
    let (id, producer) = fields.split_at(8);
    let box_id = LE::read_u64(id);
    if box_id == 0 {
        return Err("the box id is 0 (a damaged box)".into());
    }
    Ok(Identity {
        box_id,
        producer_id: LE::read_u32(producer),
    })
}

/// 64 random bits, from the standard library's randomly seeded hasher
/// mixed with the time and the process id (no extra crate for one number).
fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    h.write_u128(now);
    h.write_u32(std::process::id());
    h.finish()
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
