//! The one error type of the import-file layer: import files, the
//! manifest, and the blob container checkpoints are written in.
//!
//! A caller can act on the kind: [`ImportFileError::Io`] means the
//! operating system refused an operation (the bytes may be sound: look at
//! the disk, its space and permissions, and retry); every other variant
//! means the bytes on disk are not what this build can read (damage, or a
//! newer layout), and retrying changes nothing.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a file of the import-file layer could not be read or written. The
/// message names the file and, where one is known, the byte offset.
#[derive(Debug, thiserror::Error)]
pub enum ImportFileError {
    /// An operation on the file or its directory failed.
    #[error("{}: cannot {op}: {source}", .path.display())]
    Io {
        /// What was being done (`open`, `map`, `read`, `write`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The bytes do not verify: a checksum, magic number, length or offset
    /// is wrong.
    #[error("{}: {what}", Location::of(.path, .offset))]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Where the damaged structure starts, where that is known.
        offset: Option<u64>,
        /// What does not verify.
        what: String,
    },
    /// A length read from the file is over the limit this build accepts
    /// (checked before anything is allocated).
    #[error("{}: {what} of {len} bytes exceeds the limit of {limit}", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What claims the length.
        what: &'static str,
        /// The length the file claims.
        len: u64,
        /// The largest length accepted.
        limit: u64,
    },
    /// The file was written in a layout version this build does not read
    /// (by a newer bamdb, or damaged in a way the checksums cannot see).
    #[error("{}: unsupported version {version} (this build reads {reads})", .path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version the file's header names.
        version: u32,
        /// The versions this build reads.
        reads: &'static str,
    },
    /// Data could not be encoded for writing; nothing was written.
    #[error("{}: cannot encode {what}: {reason}", .path.display())]
    Encode {
        /// The file that was to be written.
        path: PathBuf,
        /// What was being encoded.
        what: &'static str,
        /// The encoder's message.
        reason: String,
    },
}

impl ImportFileError {
    /// An [`ImportFileError::Corrupt`] at `offset` of `path`.
    pub(crate) fn corrupt(path: &Path, offset: Option<u64>, what: impl Into<String>) -> Self {
        ImportFileError::Corrupt {
            path: path.to_path_buf(),
            offset,
            what: what.into(),
        }
    }

    /// A function that wraps an I/O error as [`ImportFileError::Io`], for
    /// `map_err`.
    pub(crate) fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Self + 'a {
        move |source| ImportFileError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ImportFileError::Io { path, .. }
            | ImportFileError::Corrupt { path, .. }
            | ImportFileError::TooLarge { path, .. }
            | ImportFileError::UnsupportedVersion { path, .. }
            | ImportFileError::Encode { path, .. } => path,
        }
    }

    /// Where: the file, and the byte offset where one is known
    /// (`FILE at byte N`, as `verify` prints locations).
    pub fn location(&self) -> String {
        let offset = match self {
            ImportFileError::Corrupt { offset, .. } => *offset,
            _ => None,
        };
        Location {
            path: self.path(),
            offset,
        }
        .to_string()
    }

    /// The message without the location, for callers that print the
    /// location on its own (it is the text after `"{location}: "`).
    pub fn reason(&self) -> String {
        let full = self.to_string();
        let prefix = format!("{}: ", self.location());
        match full.strip_prefix(&prefix) {
            Some(rest) => rest.to_owned(),
            None => full,
        }
    }
}

/// A copy of a cached error (a file's column projection keeps the error
/// of a failed build): an I/O error keeps its kind, its OS error code and
/// its message, not its inner error value.
impl Clone for ImportFileError {
    fn clone(&self) -> Self {
        match self {
            ImportFileError::Io { op, path, source } => ImportFileError::Io {
                op,
                path: path.clone(),
                source: match source.raw_os_error() {
                    Some(code) => io::Error::from_raw_os_error(code),
                    None => io::Error::new(source.kind(), source.to_string()),
                },
            },
            ImportFileError::Corrupt { path, offset, what } => ImportFileError::Corrupt {
                path: path.clone(),
                offset: *offset,
                what: what.clone(),
            },
            ImportFileError::TooLarge {
                path,
                what,
                len,
                limit,
            } => ImportFileError::TooLarge {
                path: path.clone(),
                what,
                len: *len,
                limit: *limit,
            },
            ImportFileError::UnsupportedVersion {
                path,
                version,
                reads,
            } => ImportFileError::UnsupportedVersion {
                path: path.clone(),
                version: *version,
                reads,
            },
            ImportFileError::Encode { path, what, reason } => ImportFileError::Encode {
                path: path.clone(),
                what,
                reason: reason.clone(),
            },
        }
    }
}

/// `FILE` or `FILE at byte N`.
struct Location<'a> {
    path: &'a Path,
    offset: Option<u64>,
}

impl<'a> Location<'a> {
    fn of(path: &'a Path, offset: &Option<u64>) -> Self {
        Location {
            path,
            offset: *offset,
        }
    }
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "{} at byte {offset}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
