//! The bytes of a sealed file (an import file, an active run): mapped
//! where the storage can map, read into memory where it cannot (the
//! in-memory test disk). One opener, so that the one `unsafe` map of a
//! segment file and its fallback live in one place.

use std::path::Path;

use super::error::ImportFileError;
use crate::storage::{read_exact_at, Access, OpenMode, Storage};

/// A sealed file's bytes.
pub(crate) enum SealedBytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for SealedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SealedBytes::Mapped(m) => m,
            SealedBytes::Owned(v) => v,
        }
    }
}

impl SealedBytes {
    /// Opens the sealed file at `path`; `access` says how it will be read
    /// (a hint for the map).
    ///
    /// Callers pass only sealed files: written whole under a temporary
    /// name, synced and renamed into place before anyone opens them, and
    /// never written or truncated after. Merges, retention and retried
    /// checkpoints write new files and unlink or rename over the old
    /// ones, which leaves a mapped inode alive and unchanged.
    pub fn open(
        storage: &dyn Storage,
        path: &Path,
        access: Access,
    ) -> Result<SealedBytes, ImportFileError> {
        let file = storage
            .open_file(path, OpenMode::Read)
            .map_err(ImportFileError::io("open", path))?;
        // SAFETY: `map_sealed` maps the file MAP_SHARED, so the map would
        // show a later write to the file and fault past a truncation. The
        // file is sealed (see above): nobody writes or truncates it while
        // it is mapped. The store's directory lock keeps other bamdb
        // writers out; a process that ignores it is outside the contract.
        let mapped = unsafe { file.map_sealed() };
        match mapped.map_err(ImportFileError::io("map", path))? {
            Some(map) => {
                if access != Access::Normal {
                    crate::storage::advise(&map, access);
                }
                Ok(SealedBytes::Mapped(map))
            }
            None => {
                let len = file.len().map_err(ImportFileError::io("stat", path))?;
                let Ok(size) = usize::try_from(len) else {
                    return Err(ImportFileError::TooLarge {
                        path: path.to_path_buf(),
                        what: "file",
                        len,
                        limit: usize::MAX as u64,
                    });
                };
                let mut buf = vec![0u8; size];
                read_exact_at(file.as_ref(), &mut buf, 0)
                    .map_err(ImportFileError::io("read", path))?;
                Ok(SealedBytes::Owned(buf))
            }
        }
    }

    /// Tells the kernel how the file is about to be read (mapped files
    /// only).
    pub fn advise(&self, access: Access) {
        if let SealedBytes::Mapped(map) = self {
            crate::storage::advise(map, access);
        }
    }

    /// Lets go of the pages a read touched (mapped files only; the page
    /// cache keeps them), so resident memory does not grow with the data
    /// read.
    pub fn release_pages(&self) {
        if let SealedBytes::Mapped(map) = self {
            crate::storage::release_pages(map);
        }
    }
}
