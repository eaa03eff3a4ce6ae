//! An in-memory disk that can lose power.
//!
//! Every file has a *volatile* image (what reads see, like the page cache)
//! and a *durable* image (what survives a power loss), plus the list of
//! writes made since the last sync. Directory entries work the same way:
//! creating, renaming and removing files are pending per directory until
//! [`Storage::sync_dir`].
//!
//! Tests use it to:
//! - crash at any I/O step ([`MemStorage::crash_after`]): from that step on
//!   every call fails, as if the process had died;
//! - inject one fault at a chosen step ([`MemStorage::inject`]): `EIO`,
//!   `ENOSPC`, or a partial write;
//! - take the image a power loss would leave ([`MemStorage::crash_image`]):
//!   unsynced writes kept, dropped, torn or reordered;
//! - fill up ([`MemStorage::set_capacity`]): writes and extensions past the
//!   capacity fail with `ENOSPC`, as on a full file system.
//!
//! A failed sync drops the unsynced writes from durability for good, as
//! Linux does when it marks dirty pages clean after a writeback error: a
//! later successful sync does not bring them back. That is why a writer
//! must never retry an fsync and trust it.
//!
//! Simplifications (documented so tests do not rely on more): directories
//! themselves are always durable; `sync_data` and `sync_all` are the same;
//! reads and `len` are not counted as I/O steps; files are never sparse
//! (every byte of a linked file's length counts against the capacity).
//!
//! (Over 500 lines on purpose: one type whose crash model, fault injection
//! and durability bookkeeping share one lock and one set of invariants;
//! split, each half would need the other to be read.)

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{LockGuard, OpenMode, Storage, StorageFile};

/// A fault to inject at one I/O step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call fails with an I/O error. A failed sync loses the unsynced
    /// writes of that file (or directory entries) from durability.
    Eio,
    /// The call fails with "no space left on device"; nothing is written.
    NoSpace,
    /// Half of the bytes are written, then the call fails with ENOSPC. On
    /// calls that are not writes this acts as [`Fault::Eio`].
    PartialWrite,
}

/// What a power loss leaves of the unsynced state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashMode {
    /// The process died but the machine did not: everything written stays.
    KeepAll,
    /// Power loss: only synced data and synced directory entries survive.
    DropUnsynced,
    /// Power loss with a disk that reorders: every unsynced write is kept,
    /// dropped or torn (a random prefix kept) independently, and a random
    /// prefix of each directory's unsynced entry changes survives. The
    /// number seeds the choice, so a failure can be replayed.
    Random(u64),
}

/// An in-memory [`Storage`] with crash and fault injection. Cloning shares
/// the same disk.
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    state: Arc<Mutex<MemState>>,
}

#[derive(Debug, Default)]
struct MemState {
    inodes: Vec<Inode>,
    names: BTreeMap<PathBuf, usize>,
    durable_names: BTreeMap<PathBuf, usize>,
    pending_dir_ops: BTreeMap<PathBuf, Vec<DirOp>>,
    dirs: BTreeSet<PathBuf>,
    locks: BTreeSet<PathBuf>,
    steps: u64,
    crash_at: Option<u64>,
    faults: BTreeMap<u64, Fault>,
    crashed: bool,
    sync_latency: std::time::Duration,
    capacity: Option<u64>,
}

#[derive(Debug, Default, Clone)]
struct Inode {
    current: Vec<u8>,
    durable: Vec<u8>,
    pending: Vec<Pending>,
}

#[derive(Debug, Clone)]
enum Pending {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

#[derive(Debug, Clone)]
enum DirOp {
    Link { name: PathBuf, ino: usize },
    Unlink { name: PathBuf },
    Rename { from: PathBuf, to: PathBuf },
}

impl MemStorage {
    /// An empty disk.
    pub fn new() -> Self {
        Self::default()
    }

    /// This disk as a shared [`Storage`].
    pub fn shared(&self) -> Arc<dyn Storage> {
        Arc::new(self.clone())
    }

    fn lock(&self) -> MutexGuard<'_, MemState> {
        // A panic while holding the lock only happens in a failing test;
        // the state is still consistent enough to inspect.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many I/O steps (writes, truncations, syncs, directory changes)
    /// have been made so far.
    pub fn steps(&self) -> u64 {
        self.lock().steps
    }

    /// Crash when `n` more I/O steps have been attempted: the `n`-th step and
    /// every call after it fail. `n = 1` crashes at the very next step.
    pub fn crash_after(&self, n: u64) {
        let mut s = self.lock();
        s.crash_at = Some(s.steps + n.max(1));
    }

    /// Crash now: every later call fails.
    pub fn crash_now(&self) {
        self.lock().crashed = true;
    }

    /// Whether the simulated process has crashed.
    pub fn is_crashed(&self) -> bool {
        self.lock().crashed
    }

    /// Makes every file sync take this long (outside the disk's lock), like
    /// a real device, so tests can watch concurrent syncs being shared.
    pub fn set_sync_latency(&self, latency: std::time::Duration) {
        self.lock().sync_latency = latency;
    }

    /// Limits the bytes all linked files may hold together (`None`: no
    /// limit). A write that would go past it writes what fits and fails
    /// with `ENOSPC`; an extension by `set_len` or `allocate` that would go
    /// past it fails with `ENOSPC` and changes nothing. Lowering it below
    /// what is used only refuses growth; raising it frees space.
    pub fn set_capacity(&self, capacity: Option<u64>) {
        self.lock().capacity = capacity;
    }

    /// Bytes held by linked files (what counts against the capacity).
    pub fn used_bytes(&self) -> u64 {
        self.lock().used()
    }

    /// Inject `fault` at the `n`-th I/O step from now (`n = 1`: the next).
    pub fn inject(&self, n: u64, fault: Fault) {
        let mut s = self.lock();
        let at = s.steps + n.max(1);
        s.faults.insert(at, fault);
    }

    /// The disk a crash in `mode` would leave, as a new independent storage
    /// (with no locks held and no capacity limit). This storage is left as
    /// it is, so several images can be taken of one moment; call
    /// [`MemStorage::crash_now`] to stop the old handles.
    pub fn crash_image(&self, mode: CrashMode) -> MemStorage {
        let s = self.lock();
        let mut rng = SplitMix(match mode {
            CrashMode::Random(seed) => seed,
            _ => 0,
        });
        let inodes = s
            .inodes
            .iter()
            .map(|inode| {
                let data = match mode {
                    CrashMode::KeepAll => inode.current.clone(),
                    CrashMode::DropUnsynced => inode.durable.clone(),
                    CrashMode::Random(_) => {
                        let mut data = inode.durable.clone();
                        for op in &inode.pending {
                            match (rng.below(4), op) {
                                (0, _) => {}
                                (
                                    1,
                                    Pending::Write {
                                        offset,
                                        data: bytes,
                                    },
                                ) => {
                                    let keep = rng.below(bytes.len() as u64 + 1) as usize;
                                    apply_write(&mut data, *offset, &bytes[..keep]);
                                }
                                (_, op) => apply_pending(&mut data, op),
                            }
                        }
                        data
                    }
                };
                Inode {
                    current: data.clone(),
                    durable: data,
                    pending: Vec::new(),
                }
            })
            .collect();
        let names = match mode {
            CrashMode::KeepAll => s.names.clone(),
            CrashMode::DropUnsynced => s.durable_names.clone(),
            CrashMode::Random(_) => {
                let mut names = s.durable_names.clone();
                for ops in s.pending_dir_ops.values() {
                    let keep = rng.below(ops.len() as u64 + 1) as usize;
                    for op in &ops[..keep] {
                        apply_dir_op(&mut names, op);
                    }
                }
                names
            }
        };
        MemStorage {
            state: Arc::new(Mutex::new(MemState {
                inodes,
                durable_names: names.clone(),
                names,
                dirs: s.dirs.clone(),
                ..MemState::default()
            })),
        }
    }

    /// The volatile bytes of the file at `path`, for tests that inspect or
    /// damage files directly.
    pub fn read_file(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.lock();
        let ino = *s.names.get(path)?;
        Some(s.inodes[ino].current.clone())
    }

    /// Overwrites the file at `path` durably, bypassing fault injection:
    /// simulates corruption on the medium.
    pub fn corrupt_file(&self, path: &Path, contents: Vec<u8>) -> bool {
        let mut s = self.lock();
        let Some(&ino) = s.names.get(path) else {
            return false;
        };
        let inode = &mut s.inodes[ino];
        inode.current = contents.clone();
        inode.durable = contents;
        inode.pending.clear();
        true
    }
}

impl MemState {
    /// Fails if the process has crashed or `dir` does not exist.
    fn check_dir(&self, dir: &Path) -> io::Result<()> {
        self.check_alive()?;
        if !self.dirs.contains(dir) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("directory {} does not exist", dir.display()),
            ));
        }
        Ok(())
    }

    /// Counts one I/O step; fails if the process has crashed, and returns the
    /// fault injected at this step, if any.
    fn step(&mut self) -> io::Result<Option<Fault>> {
        if self.crashed {
            return Err(crashed());
        }
        self.steps += 1;
        if self.crash_at == Some(self.steps) {
            self.crashed = true;
            return Err(crashed());
        }
        Ok(self.faults.remove(&self.steps))
    }

    fn used(&self) -> u64 {
        let linked: BTreeSet<usize> = self.names.values().copied().collect();
        linked
            .iter()
            .map(|&ino| self.inodes[ino].current.len() as u64)
            .sum()
    }

    /// How many bytes file `ino` may grow to at most, given the capacity.
    fn max_len(&self, ino: usize) -> u64 {
        let current = self.inodes[ino].current.len() as u64;
        match self.capacity {
            None => u64::MAX,
            Some(cap) => current + cap.saturating_sub(self.used()),
        }
    }

    fn check_alive(&self) -> io::Result<()> {
        if self.crashed {
            Err(crashed())
        } else {
            Ok(())
        }
    }

    fn parent_exists(&self, path: &Path) -> io::Result<PathBuf> {
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if self.dirs.contains(&parent) {
            Ok(parent)
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("directory {} does not exist", parent.display()),
            ))
        }
    }

    fn lookup(&self, path: &Path) -> io::Result<usize> {
        self.names.get(path).copied().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not exist", path.display()),
            )
        })
    }
}

fn crashed() -> io::Error {
    io::Error::other("simulated crash: the process is dead")
}

fn fault_error(fault: Fault) -> io::Error {
    match fault {
        Fault::NoSpace => io::Error::from_raw_os_error(28), // ENOSPC
        Fault::Eio | Fault::PartialWrite => io::Error::from_raw_os_error(5), // EIO
    }
}

fn apply_write(data: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    let start = offset as usize;
    let end = start + bytes.len();
    if data.len() < end {
        data.resize(end, 0);
    }
    data[start..end].copy_from_slice(bytes);
}

fn apply_pending(data: &mut Vec<u8>, op: &Pending) {
    match op {
        Pending::Write {
            offset,
            data: bytes,
        } => apply_write(data, *offset, bytes),
        Pending::SetLen(len) => data.resize(*len as usize, 0),
    }
}

fn apply_dir_op(names: &mut BTreeMap<PathBuf, usize>, op: &DirOp) {
    match op {
        DirOp::Link { name, ino } => {
            names.insert(name.clone(), *ino);
        }
        DirOp::Unlink { name } => {
            names.remove(name);
        }
        DirOp::Rename { from, to } => {
            if let Some(ino) = names.remove(from) {
                names.insert(to.clone(), ino);
            }
        }
    }
}

impl Storage for MemStorage {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.check_alive()?;
        for ancestor in path.ancestors() {
            s.dirs.insert(ancestor.to_path_buf());
        }
        Ok(())
    }

    fn open_file(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn StorageFile>> {
        let mut s = self.lock();
        let ino = match mode {
            OpenMode::Read | OpenMode::ReadWrite => {
                s.check_alive()?;
                s.lookup(path)?
            }
            OpenMode::CreateNew => {
                let parent = s.parent_exists(path)?;
                if s.names.contains_key(path) {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("{} already exists", path.display()),
                    ));
                }
                if let Some(fault) = s.step()? {
                    return Err(fault_error(fault));
                }
                let ino = s.inodes.len();
                s.inodes.push(Inode::default());
                s.names.insert(path.to_path_buf(), ino);
                let op = DirOp::Link {
                    name: path.to_path_buf(),
                    ino,
                };
                s.pending_dir_ops.entry(parent).or_default().push(op);
                ino
            }
        };
        Ok(Arc::new(MemFile {
            disk: self.clone(),
            ino,
            writable: mode != OpenMode::Read,
        }))
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.lock();
        s.check_dir(dir)?;
        Ok(s.names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn list_subdirs(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.lock();
        s.check_dir(dir)?;
        let mut names: Vec<String> = s
            .dirs
            .iter()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        let parent = s.parent_exists(path)?;
        s.lookup(path)?;
        if let Some(fault) = s.step()? {
            return Err(fault_error(fault));
        }
        s.names.remove(path);
        let op = DirOp::Unlink {
            name: path.to_path_buf(),
        };
        s.pending_dir_ops.entry(parent).or_default().push(op);
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.lock();
        let parent = s.parent_exists(from)?;
        if to.parent() != Some(parent.as_path()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "MemStorage renames only within one directory",
            ));
        }
        let ino = s.lookup(from)?;
        if let Some(fault) = s.step()? {
            return Err(fault_error(fault));
        }
        s.names.remove(from);
        s.names.insert(to.to_path_buf(), ino);
        let op = DirOp::Rename {
            from: from.to_path_buf(),
            to: to.to_path_buf(),
        };
        s.pending_dir_ops.entry(parent).or_default().push(op);
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        let fault = s.step()?;
        let ops = s.pending_dir_ops.remove(dir).unwrap_or_default();
        if let Some(fault) = fault {
            // The entries stay as they are in memory, but whether they
            // reach the disk is now unknown: keep them pending.
            s.pending_dir_ops.insert(dir.to_path_buf(), ops);
            return Err(fault_error(fault));
        }
        for op in &ops {
            apply_dir_op(&mut s.durable_names, op);
        }
        Ok(())
    }

    fn available_space(&self, _path: &Path) -> Option<u64> {
        let s = self.lock();
        s.capacity.map(|cap| cap.saturating_sub(s.used()))
    }

    fn try_lock(&self, path: &Path) -> io::Result<Option<LockGuard>> {
        let mut s = self.lock();
        s.check_alive()?;
        if !s.locks.insert(path.to_path_buf()) {
            return Ok(None);
        }
        Ok(Some(Box::new(MemLock {
            disk: self.clone(),
            path: path.to_path_buf(),
        })))
    }
}

struct MemLock {
    disk: MemStorage,
    path: PathBuf,
}

impl Drop for MemLock {
    fn drop(&mut self) {
        self.disk.lock().locks.remove(&self.path);
    }
}

#[derive(Debug)]
struct MemFile {
    disk: MemStorage,
    ino: usize,
    writable: bool,
}

impl MemFile {
    fn check_writable(&self) -> io::Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "file opened read-only",
            ))
        }
    }

    fn sync(&self) -> io::Result<()> {
        let latency = self.disk.lock().sync_latency;
        if !latency.is_zero() {
            std::thread::sleep(latency);
        }
        let mut s = self.disk.lock();
        let fault = s.step()?;
        let inode = &mut s.inodes[self.ino];
        let pending = std::mem::take(&mut inode.pending);
        if let Some(fault) = fault {
            // Writeback failed: these writes will never become durable.
            return Err(fault_error(fault));
        }
        for op in &pending {
            apply_pending(&mut inode.durable, op);
        }
        Ok(())
    }
}

impl StorageFile for MemFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let s = self.disk.lock();
        s.check_alive()?;
        let data = &s.inodes[self.ino].current;
        let start = (offset as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.check_writable()?;
        let mut s = self.disk.lock();
        let fault = s.step()?;
        let mut bytes = match fault {
            None => buf,
            Some(Fault::PartialWrite) => &buf[..buf.len() / 2],
            Some(fault) => return Err(fault_error(fault)),
        };
        // A full disk takes what fits, then refuses the rest (ENOSPC).
        let fits = s.max_len(self.ino).saturating_sub(offset);
        let full = (bytes.len() as u64) > fits;
        if full {
            bytes = &bytes[..usize::try_from(fits).unwrap_or(bytes.len())];
        }
        let inode = &mut s.inodes[self.ino];
        if !bytes.is_empty() {
            apply_write(&mut inode.current, offset, bytes);
            inode.pending.push(Pending::Write {
                offset,
                data: bytes.to_vec(),
            });
        }
        match fault {
            Some(fault) => Err(fault_error(fault)),
            None if full => Err(fault_error(Fault::NoSpace)),
            None => Ok(()),
        }
    }

    fn len(&self) -> io::Result<u64> {
        let s = self.disk.lock();
        s.check_alive()?;
        Ok(s.inodes[self.ino].current.len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.check_writable()?;
        let mut s = self.disk.lock();
        if let Some(fault) = s.step()? {
            return Err(fault_error(fault));
        }
        if len > s.inodes[self.ino].current.len() as u64 && len > s.max_len(self.ino) {
            return Err(fault_error(Fault::NoSpace));
        }
        let inode = &mut s.inodes[self.ino];
        inode.current.resize(len as usize, 0);
        inode.pending.push(Pending::SetLen(len));
        Ok(())
    }

    fn allocate(&self, len: u64) -> io::Result<()> {
        if self.len()? >= len {
            return Ok(());
        }
        self.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.sync()
    }

    fn sync_all(&self) -> io::Result<()> {
        self.sync()
    }
}

/// A small deterministic generator (SplitMix64), enough to pick crash
/// outcomes reproducibly without a dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
