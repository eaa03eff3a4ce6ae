//! The message box: an fsync-committed write-ahead-log segment directory.
//!
//! Each [`Wal::append`] writes one checksummed frame and returns its LSN only
//! once the frame is durable. Concurrent appenders share one sync (group
//! commit). Readers see committed frames only, in LSN order, with corrupt
//! regions reported by location instead of silently skipped. The layout and
//! the recovery decisions are documented in `docs/FORMAT.md`.
//!
//! ```
//! use bamdb::wal::{ReadItem, Wal, WalOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let wal = Wal::open(dir.path(), WalOptions::default())?;
//! let lsn = wal.append(b"one flushed batch")?;
//! assert_eq!(wal.committed_lsn(), lsn);
//!
//! let frames: Vec<_> = wal.reader(1).collect::<Result<_, _>>()?;
//! match &frames[..] {
//!     [ReadItem::Frame(frame)] => assert_eq!(frame.payload, b"one flushed batch"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layering
//! Each file imports only files listed before it (no circles): `format`
//! (byte layouts), `mark` (the small files that say how far a log is
//! synced or imported), `segment` (files and the frame scanner), `clean_end`
//! (the record a clean close leaves), `recovery`, `shared` (the state the
//! writer and its readers share), `reader`, `writer` (which hands out
//! readers), `tail` (frames read by another process, without the
//! writer). This file holds the options, errors and [`Location`] that all
//! of them use.

mod clean_end;
mod format;
mod mark;
mod reader;
mod recovery;
mod segment;
mod shared;
mod tail;
mod writer;

use std::fmt;
use std::io;
use std::path::PathBuf;

pub use format::{FrameError, HeaderError, FORMAT_VERSION, FRAME_HEADER_LEN, SEGMENT_HEADER_LEN};
pub use mark::{read_mark, MarkWriter};
pub use reader::{CorruptRegion, Frame, ReadItem, WalReader};
pub use recovery::RecoveryReport;
pub use shared::{SyncHistogram, SYNC_BUCKETS_MICROS};
pub use tail::{
    read_tail, read_tail_after, read_tail_until, Tail, TailFrame, TailPosition, TailStart,
};
pub use writer::{Wal, WalStats};

#[cfg(feature = "fuzzing")]
pub(crate) use format::{encode_frame, FrameHeader, SegmentHeader};

/// Log sequence number: the position of a frame in the log. The first frame
/// has LSN 1; 0 means "nothing".
pub type Lsn = u64;

/// Options for [`Wal::open`].
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// A segment is sealed and a new one started once the next frame would
    /// not fit. Default 64 MiB; at least 4 KiB, at most 4 GiB.
    pub segment_size: u64,
    /// Frames with a larger payload are refused and nothing is written.
    /// Default 16 MiB; at most 1 GiB and at most the segment size.
    pub max_frame_size: u32,
    /// Reserve disk blocks ahead of the appends (`fallocate`), so most
    /// commits do not grow the file and `fdatasync` suffices. A new segment
    /// reserves a quarter of `segment_size`, at most 1 MiB, and its
    /// reservation doubles whenever the next frame would not fit, up to
    /// `segment_size` (see "Writing and committing" in `docs/FORMAT.md`).
    /// Default true.
    pub preallocate: bool,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: 64 << 20,
            max_frame_size: 16 << 20,
            preallocate: true,
        }
    }
}

impl WalOptions {
    fn validate(&self) -> Result<(), WalError> {
        let invalid = |reason: String| Err(WalError::InvalidOptions { reason });
        if !(4096..=4 << 30).contains(&self.segment_size) {
            return invalid(format!(
                "segment_size {} must be between 4 KiB and 4 GiB",
                self.segment_size
            ));
        }
        if self.max_frame_size == 0 || self.max_frame_size > 1 << 30 {
            return invalid(format!(
                "max_frame_size {} must be between 1 byte and 1 GiB",
                self.max_frame_size
            ));
        }
        if u64::from(self.max_frame_size) > self.segment_size {
            return invalid(format!(
                "max_frame_size {} exceeds segment_size {}",
                self.max_frame_size, self.segment_size
            ));
        }
        Ok(())
    }
}

/// A place in the message box: a segment file and a byte offset in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The segment file.
    pub segment: PathBuf,
    /// Byte offset from the start of the file.
    pub offset: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.segment.display(), self.offset)
    }
}

/// Errors of the message box.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalError {
    /// A file operation failed.
    #[error("WAL I/O error: {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Another handle, in this process or another, has the directory open.
    #[error("WAL directory {dir} is locked: another process or handle has it open")]
    Locked {
        /// The directory.
        dir: PathBuf,
    },
    /// The file system is full (`ENOSPC`, or a quota is exhausted): the
    /// message box could not reserve or write what it needed. Like any
    /// write error it stops the writer; everything acknowledged before
    /// stays readable, and appends work again after space is freed and the
    /// log is reopened.
    #[error(
        "WAL out of disk space: {op} {path}: {source}; needs {needed} bytes, {}",
        free_space(.available)
    )]
    NoSpace {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// How many more bytes the operation needed.
        needed: u64,
        /// Bytes free on that file system when the error was seen, if known.
        available: Option<u64>,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// An earlier write or sync failed; nothing more is acknowledged until
    /// the log is reopened, which recovers everything acknowledged.
    #[error("WAL writer stopped after an earlier failure ({reason}); reopen the store to recover")]
    Poisoned {
        /// The failure that poisoned the writer.
        reason: String,
    },
    /// The payload exceeds [`WalOptions::max_frame_size`]; nothing was written.
    #[error("frame of {len} bytes exceeds the limit of {limit} bytes; nothing was written")]
    FrameTooLarge {
        /// The payload length.
        len: usize,
        /// The configured limit.
        limit: u32,
    },
    /// A segment cannot be used at all (for example a damaged header on a
    /// file that recovery cannot set aside).
    #[error("corrupt WAL at {location}: {reason}")]
    Corrupt {
        /// Where.
        location: Location,
        /// What was wrong.
        reason: String,
    },
    /// The options are out of range.
    #[error("invalid WAL options: {reason}")]
    InvalidOptions {
        /// Which option and why.
        reason: String,
    },
}

impl WalError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        WalError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// An error of an operation that needed `needed` more bytes on disk:
    /// [`WalError::NoSpace`], with the free space, when the disk is full;
    /// [`WalError::Io`] otherwise.
    pub(crate) fn space(
        op: &'static str,
        path: &std::path::Path,
        source: io::Error,
        needed: u64,
        storage: &dyn crate::storage::Storage,
    ) -> Self {
        if !crate::storage::is_no_space(&source) {
            return WalError::io(op, path, source);
        }
        WalError::NoSpace {
            op,
            path: path.to_path_buf(),
            needed,
            available: storage.available_space(path),
            source,
        }
    }
}

fn free_space(available: &Option<u64>) -> String {
    match *available {
        Some(bytes) => format!("{bytes} free on that file system"),
        None => String::from("free space unknown"),
    }
}
