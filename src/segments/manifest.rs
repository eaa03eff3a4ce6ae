//! The manifest: which import files and which checkpoint make up the store,
//! and up to which LSN of the message box they hold. Replaced atomically;
//! whatever it does not name is garbage from an interrupted checkpoint.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::blob::{encode_blob, read_blob, write_atomically, BLOB_HEADER_LEN};
use super::error::ImportFileError;
use crate::storage::Storage;
use crate::wal::Lsn;

/// File name of the manifest in the store's `segments/` directory.
pub(crate) const MANIFEST: &str = "MANIFEST";
const MAGIC: [u8; 8] = *b"BAMDBMAN";
/// 2: names the active runs. Version 1 (no runs) is still read.
const VERSION: u32 = 2;
const VERSION_1: u32 = 1;
const MAX_LEN: u64 = 64 << 20;

/// The durable description of the primary import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// Every frame up to this LSN is reflected in the files below.
    pub applied_lsn: Lsn,
    /// The checkpoint of the bus's active state, if one was written.
    pub checkpoint: Option<String>,
    /// Live import files, oldest first.
    pub files: Vec<String>,
    /// The number the next file gets (files are never reused).
    pub next_file: u64,
    /// Archive files (in the store's `archive/` directory): completed
    /// instances past the retention window, readable on request.
    pub archives: Vec<String>,
    /// Active runs (`segments::active_run`): the nodes of active and
    /// pending instances as of the checkpoint, oldest first.
    pub active_runs: Vec<String>,
}

/// The body of a version-1 manifest.
#[derive(Deserialize)]
struct ManifestV1 {
    applied_lsn: Lsn,
    checkpoint: Option<String>,
    files: Vec<String>,
    next_file: u64,
    archives: Vec<String>,
}

impl Manifest {
    /// Reads the manifest; `Ok(None)` if the store has none yet.
    pub fn load(storage: &dyn Storage, dir: &Path) -> Result<Option<Manifest>, ImportFileError> {
        let names = storage
            .list_dir(dir)
            .map_err(ImportFileError::io("list", dir))?;
        if !names.iter().any(|n| n == MANIFEST) {
            return Ok(None);
        }
        let path = dir.join(MANIFEST);
        let (version, body) = read_blob(storage, &path, &MAGIC, MAX_LEN)?;
        let damaged = |e: postcard::Error| {
            ImportFileError::corrupt(
                &path,
                Some(BLOB_HEADER_LEN as u64),
                format!("body does not decode: {e}"),
            )
        };
        match version {
            VERSION => postcard::from_bytes(&body).map(Some).map_err(damaged),
            VERSION_1 => {
                let v1: ManifestV1 = postcard::from_bytes(&body).map_err(damaged)?;
                Ok(Some(Manifest {
                    applied_lsn: v1.applied_lsn,
                    checkpoint: v1.checkpoint,
                    files: v1.files,
                    next_file: v1.next_file,
                    archives: v1.archives,
                    active_runs: Vec::new(),
                }))
            }
            _ => Err(ImportFileError::UnsupportedVersion {
                path,
                version,
                reads: "versions 1 and 2",
            }),
        }
    }

    /// Replaces the manifest atomically and durably.
    pub fn store(&self, storage: &dyn Storage, dir: &Path) -> std::io::Result<()> {
        let body = postcard::to_allocvec(self).map_err(std::io::Error::other)?;
        write_atomically(storage, dir, MANIFEST, &encode_blob(&MAGIC, VERSION, &body))
    }
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
