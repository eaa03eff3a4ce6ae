//! File access behind a small trait, so the same code runs on the real file
//! system and on an in-memory disk that can crash and inject faults.
//!
//! Everything that touches bytes on disk (the message box, the import
//! files, the quarantine) goes through [`Storage`] and [`StorageFile`].
//! [`FsStorage`] is the real implementation; [`MemStorage`] keeps a durable
//! and a volatile image of every file so tests can crash at any I/O step and
//! see exactly what a power loss would leave behind.
//!
//! Files are accessed with positional reads and writes (`pread`/`pwrite`), so
//! one handle can be shared by a writer and any number of readers.

mod fs;
mod memory;

use std::any::Any;
use std::fmt::Debug;
use std::io;
use std::path::Path;
use std::sync::Arc;

pub use fs::FsStorage;
pub(crate) use fs::{advise, release_pages, Access};
pub use memory::{CrashMode, Fault, MemStorage};

/// How [`Storage::open_file`] opens a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Open an existing file for reading only.
    Read,
    /// Open an existing file for reading and writing.
    ReadWrite,
    /// Create a new file for reading and writing; fail if it exists.
    CreateNew,
}

/// A held exclusive lock; dropping it releases the lock.
pub type LockGuard = Box<dyn Any + Send + Sync>;

/// A directory tree of files.
///
/// Directory entries (create, rename, remove) are only durable after
/// [`Storage::sync_dir`] on the parent directory, as on a POSIX file system.
pub trait Storage: Send + Sync + Debug {
    /// Creates a directory and its parents (directories are assumed durable).
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Opens or creates a file.
    fn open_file(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn StorageFile>>;
    /// Names (not paths) of the regular files directly in `dir`.
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Names of the directories directly in `dir` (a link to a directory
    /// counts), sorted.
    fn list_subdirs(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Removes a file's directory entry.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Atomically replaces `to` with `from` (same directory).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes the entries of `dir` durable (fsync of the directory).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Takes an exclusive lock named by `path` (creating the file if needed).
    ///
    /// Returns `Ok(None)` when another holder has it, in this process or any
    /// other. A lock whose holder died is free again.
    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>>;
    /// Bytes an unprivileged writer can still allocate on the file system
    /// that holds `path`, where the storage can tell (`None` otherwise).
    /// Only for error messages and warnings: space can change at any moment.
    fn available_space(&self, _path: &Path) -> Option<u64> {
        None
    }
}

/// Whether an I/O error means the file system is full (`ENOSPC`, or a
/// quota exceeded, `EDQUOT`).
pub fn is_no_space(e: &io::Error) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    e.kind() == io::ErrorKind::StorageFull || matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT))
}

/// One open file, shared between threads.
pub trait StorageFile: Send + Sync + Debug {
    /// Reads up to `buf.len()` bytes at `offset`; fewer only at end of file.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// Writes all of `buf` at `offset`, extending the file if needed.
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// The file's current length.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Truncates or extends (with zeros) the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// Reserves disk blocks so the file is at least `len` bytes (zeros),
    /// without shrinking it. Fails with the operating system's error (for
    /// example `ENOSPC`), leaving the file at least as long as it was; a
    /// failed call may still have extended it with zeros.
    fn allocate(&self, len: u64) -> io::Result<()>;
    /// Makes written data durable (`fdatasync`); enough when the file did not
    /// grow.
    fn sync_data(&self) -> io::Result<()>;
    /// Makes data and metadata durable (`fsync`); needed when the file grew.
    fn sync_all(&self) -> io::Result<()>;
    /// A read-only memory map of the whole file, where the storage has real
    /// files (`Ok(None)` otherwise: read the bytes instead).
    ///
    /// # Safety
    ///
    /// The map derefs to `&[u8]`, whose bytes Rust assumes do not change,
    /// but it is not a snapshot: memmap2 maps the file `MAP_SHARED`, so a
    /// later write to the file, by this process or any other, shows through
    /// it (undefined behaviour), and a truncation makes reads past the new
    /// end fault (SIGBUS). The caller guarantees that the file is sealed:
    /// never written or truncated again while the map, or any slice
    /// borrowed from it, lives, by this process or any other. (Unlinking it
    /// or renaming another file over its name is fine: the inode stays
    /// alive for the map.)
    unsafe fn map_sealed(&self) -> io::Result<Option<memmap2::Mmap>> {
        Ok(None)
    }
}

/// Reads exactly `buf.len()` bytes at `offset`, or fails with `UnexpectedEof`.
pub fn read_exact_at(file: &dyn StorageFile, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = file.read_at(&mut buf[done..], offset + done as u64)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("file ends before offset {}", offset + buf.len() as u64),
            ));
        }
        done += n;
    }
    Ok(())
}

/// Reads up to `buf.len()` bytes at `offset`, stopping early only at end of
/// file; returns how many were read.
pub fn read_up_to(file: &dyn StorageFile, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = file.read_at(&mut buf[done..], offset + done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}
