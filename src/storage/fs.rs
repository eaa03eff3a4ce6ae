//! The real file system.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use fs2::FileExt as _;

use super::{LockGuard, OpenMode, Storage, StorageFile};

/// [`Storage`] on the operating system's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsStorage;

impl FsStorage {
    /// The real file system, shared.
    pub fn shared() -> Arc<dyn Storage> {
        Arc::new(FsStorage)
    }
}

#[derive(Debug)]
struct FsFile(File);

impl Storage for FsStorage {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn open_file(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn StorageFile>> {
        let mut options = OpenOptions::new();
        match mode {
            OpenMode::Read => options.read(true),
            OpenMode::ReadWrite => options.read(true).write(true),
            OpenMode::CreateNew => options.read(true).write(true).create_new(true),
        };
        Ok(Arc::new(FsFile(options.open(path)?)))
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                if let Some(name) = entry.file_name().to_str() {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn list_subdirs(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            // `Path::is_dir` follows a link, `file_type` would not.
            if entry.path().is_dir() {
                if let Some(name) = entry.file_name().to_str() {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        // The parent of a relative name ("box" has parent "") is the
        // working directory.
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // flock(2): held per open file description, so a second open in this
        // process is refused too, and the kernel releases it when the holder
        // dies.
        match file.try_lock_exclusive() {
            Ok(()) => Ok(Some(Box::new(file))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.raw_os_error() == fs2::lock_contended_error().raw_os_error() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn available_space(&self, path: &Path) -> Option<u64> {
        // The path may not exist yet (a message-box segment about to be
        // created): ask
        // about the nearest ancestor that does.
        path.ancestors()
            .find(|p| p.exists())
            .and_then(|p| fs2::available_space(p).ok())
    }
}

impl StorageFile for FsFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        loop {
            match self.0.read_at(buf, offset) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_all_at(buf, offset)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    fn allocate(&self, len: u64) -> io::Result<()> {
        let current = self.len()?;
        if current >= len {
            return Ok(());
        }
        allocate_range(&self.0, current, len - current)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn sync_all(&self) -> io::Result<()> {
        self.0.sync_all()
    }

    unsafe fn map_sealed(&self) -> io::Result<Option<memmap2::Mmap>> {
        if self.len()? == 0 {
            return Ok(None);
        }
        // SAFETY: the caller guarantees the file is sealed (see the trait's
        // `# Safety`): memmap2 maps it MAP_SHARED, so its bytes could only
        // change under the map if someone wrote or truncated the file, and
        // nobody does while it is mapped.
        let map = unsafe { memmap2::Mmap::map(&self.0)? };
        Ok(Some(map))
    }
}

/// Reserves blocks for `[offset, offset + len)`, extending the file's size
/// to cover them. `posix_fallocate` returns its error code instead of
/// setting `errno` (fs2's `allocate` read `errno` anyway and reported
/// "Success (os error 0)" for a full disk), so the code is taken from the
/// return value here.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn allocate_range(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let too_large = || io::Error::new(io::ErrorKind::InvalidInput, "file size out of range");
    let offset = libc::off_t::try_from(offset).map_err(|_| too_large())?;
    let len = libc::off_t::try_from(len).map_err(|_| too_large())?;
    loop {
        // SAFETY: plain system call on a file descriptor this `File` owns
        // and keeps open for the duration of the call; no memory is passed.
        let code = unsafe { libc::posix_fallocate(file.as_raw_fd(), offset, len) };
        match code {
            0 => return Ok(()),
            libc::EINTR => continue,
            code => return Err(io::Error::from_raw_os_error(code)),
        }
    }
}

/// Elsewhere fs2 reserves the space (its macOS path reports errors from
/// `fcntl`, which does set `errno`).
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn allocate_range(file: &File, offset: u64, len: u64) -> io::Result<()> {
    file.allocate(offset + len)
}

/// Drops the process's references to the pages of a sealed file's map, so
/// pages touched by a scan stop counting in its resident memory (they stay
/// in the page cache and are read back on the next access).
/// How a mapped file is about to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// The kernel's default.
    Normal,
    /// Point lookups: no read-ahead, no mapping around a fault.
    Random,
    /// Front to back: read ahead.
    Sequential,
}

/// Advises the kernel how `map` will be read (a hint: a failure is only
/// logged).
pub(crate) fn advise(map: &memmap2::Mmap, access: Access) {
    let advice = match access {
        Access::Normal => memmap2::Advice::Normal,
        Access::Random => memmap2::Advice::Random,
        Access::Sequential => memmap2::Advice::Sequential,
    };
    if let Err(e) = map.advise(advice) {
        tracing::debug!(error = %e, "madvise failed; the default read-ahead stays");
    }
}

pub(crate) fn release_pages(map: &memmap2::Mmap) {
    // SAFETY: MADV_DONTNEED on a read-only shared mapping of a file only
    // discards this process's page-table entries; the next access faults
    // the pages in again from the page cache or the file. The map comes from
    // `map_sealed`, whose file is never modified while mapped, so the bytes
    // read afterwards are the same. No reference into the map is
    // invalidated: the mapping itself stays in place.
    let result = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
    if let Err(e) = result {
        tracing::debug!(error = %e, "madvise(DONTNEED) failed; pages stay resident");
    }
}
