//! The log handle: appending with group commit, rotation, trimming.
//!
//! Appends take the append lock only to assign an LSN and write the frame
//! into the page cache. Durability is a separate step: the first committer
//! to find no sync running becomes the leader, snapshots how far the log has
//! been written, syncs outside every lock, and publishes the new durable
//! point; committers whose frames that sync covered return together.
//!
//! Any write or sync error poisons the writer: the failing append is not
//! acknowledged, nor is any later one, until the log is reopened and
//! recovery decides what is durable. A failed fsync is never retried, since
//! the kernel may already have dropped the data it could not write.
//!
//! At a clean close ([`Wal::record_clean_end`], or dropping the last
//! handle) with every written frame durable, the log records where it ends
//! (`clean_end.rs`), so the next open need not walk the last segment; the
//! first append while such a record exists removes it first.
//!
//! (About 670 lines: append, group commit, rotation, trim and the clean
//! close share the append and commit locks, whose order is documented
//! once, here: the append lock is taken before the commit lock.)

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::clean_end::{remove_clean_end, write_clean_end, CleanEnd};
use super::format::{encode_frame, frame_len, SEGMENT_HEADER_LEN};
use super::reader::WalReader;
use super::recovery::{recover, CleanEndUse, RecoveryReport};
use super::segment::{create_segment, initial_reservation, next_reservation, reserve, Segment};
use super::shared::{
    lock, CommitPoint, CommitState, SyncHistogram, SyncTimes, WalShared, WriterState,
};
use super::{Lsn, WalError, WalOptions};
use crate::storage::{is_no_space, FsStorage, Storage};

/// The message box: a directory of log segments. Cheap to clone; clones
/// share the same log. The directory lock is released when the last clone
/// is dropped.
#[derive(Clone, Debug)]
pub struct Wal {
    pub(super) shared: Arc<WalShared>,
}

/// Sizes and positions of the log, for statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalStats {
    /// The highest durable LSN (0 if none).
    pub committed_lsn: Lsn,
    /// The LSN the next frame will get.
    pub next_lsn: Lsn,
    /// Segment files in the directory.
    pub segments: usize,
    /// Bytes of frames held: sealed segments plus the active one's used part.
    pub bytes: u64,
    /// Syncs that made frames durable since open (group commit shares them).
    pub syncs: u64,
    /// How long those syncs took.
    pub sync_latency: SyncHistogram,
}

impl Wal {
    /// Opens (creating if needed) the log in `dir` on the real file system,
    /// running recovery first.
    pub fn open(dir: impl AsRef<Path>, options: WalOptions) -> Result<Wal, WalError> {
        Wal::open_with_storage(FsStorage::shared(), dir, options)
    }

    /// Opens the log on any [`Storage`], such as the in-memory disk used by
    /// crash tests.
    pub fn open_with_storage(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
        options: WalOptions,
    ) -> Result<Wal, WalError> {
        Wal::open_inner(storage, dir.as_ref(), options, CleanEndUse::Trust)
    }

    /// Like [`Wal::open_with_storage`], but recovery walks every frame of
    /// the last segment and reads the space after them even when a clean
    /// close recorded where the log ends: for a full check of the log,
    /// which then also reports (and cuts) anything found past that end.
    pub fn open_with_full_recovery(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
        options: WalOptions,
    ) -> Result<Wal, WalError> {
        Wal::open_inner(storage, dir.as_ref(), options, CleanEndUse::Ignore)
    }

    fn open_inner(
        storage: Arc<dyn Storage>,
        dir: &Path,
        options: WalOptions,
        clean_end_use: CleanEndUse,
    ) -> Result<Wal, WalError> {
        options.validate()?;
        let dir = dir.to_path_buf();
        storage
            .create_dir_all(&dir)
            .map_err(|e| WalError::io("create directory", &dir, e))?;
        let lock_path = dir.join("LOCK");
        let guard = storage
            .try_lock(&lock_path)
            .map_err(|e| WalError::io("lock", &lock_path, e))?
            .ok_or_else(|| WalError::Locked { dir: dir.clone() })?;

        let mut recovered = recover(storage.as_ref(), &dir, &options, clean_end_use)?;
        let next_lsn = recovered.next_lsn;
        let (active, offset, last_frame) = match recovered.active.take() {
            Some((active, offset)) => (active, offset, recovered.last_frame),
            None => {
                let seg = create_segment(storage.as_ref(), &dir, next_lsn, &options)?;
                let seg = Arc::new(seg);
                recovered.segments.insert(seg.base, seg.clone());
                (seg, SEGMENT_HEADER_LEN as u64, 0)
            }
        };
        let reserved = active
            .file
            .len()
            .map_err(|e| WalError::io("stat segment", &active.path, e))?;
        let point = CommitPoint {
            lsn: next_lsn - 1,
            segment: active.base,
            end: offset,
        };
        let shared = WalShared {
            storage,
            dir,
            segments: RwLock::new(recovered.segments),
            writer: Mutex::new(WriterState {
                active,
                offset,
                reserved,
                can_reserve: true,
                grew: false,
                next_lsn,
                last_frame,
                clean_end_on_disk: recovered.clean_end,
                buf: Vec::new(),
            }),
            commit: Mutex::new(CommitState {
                point,
                ..CommitState::default()
            }),
            commit_cv: Condvar::new(),
            committed_lsn: AtomicU64::new(point.lsn),
            written_lsn: AtomicU64::new(point.lsn),
            last_group: AtomicU64::new(1),
            gather_target: AtomicU64::new(0),
            gather: Mutex::new(()),
            gather_cv: Condvar::new(),
            syncs: AtomicU64::new(0),
            sync_times: SyncTimes::default(),
            report: recovered.report,
            options,
            _lock: Mutex::new(guard),
        };
        Ok(Wal {
            shared: Arc::new(shared),
        })
    }

    /// Appends one frame and returns its LSN once it is durable. Concurrent
    /// callers share syncs. Nothing is written if the payload is too large.
    pub fn append(&self, payload: &[u8]) -> Result<Lsn, WalError> {
        let lsn = self.shared.write_frame(payload)?;
        self.shared.commit(lsn)?;
        Ok(lsn)
    }

    /// Appends one frame per payload, in order, and returns their LSNs
    /// once all are durable: one sync for the lot. (Other appenders' frames
    /// may come between them.) On
    /// an error some of the frames may have been written; they are
    /// committed by a later sync or by recovery, or lost with the rest, so
    /// a caller must be able to tell them apart on a retry (the bus does, by
    /// each frame's origin).
    pub fn append_all<P: AsRef<[u8]>>(&self, payloads: &[P]) -> Result<Vec<Lsn>, WalError> {
        let mut lsns = Vec::with_capacity(payloads.len());
        for payload in payloads {
            lsns.push(self.shared.write_frame(payload.as_ref())?);
        }
        if let Some(&last) = lsns.last() {
            self.shared.commit(last)?;
        }
        Ok(lsns)
    }

    /// The options the log was opened with.
    pub fn options(&self) -> &WalOptions {
        &self.shared.options
    }

    /// The highest durable LSN; every frame up to it can be read.
    pub fn committed_lsn(&self) -> Lsn {
        self.shared.committed_lsn.load(Ordering::Acquire)
    }

    /// Waits until the committed LSN exceeds `after`, the timeout passes, or
    /// [`Wal::interrupt_waiters`] is called; returns the committed LSN.
    pub fn wait_for_commit(&self, after: Lsn, timeout: Duration) -> Lsn {
        let seen = self.interrupts();
        self.wait_for_commit_since(after, seen, timeout)
    }

    /// How many times [`Wal::interrupt_waiters`] has been called. A waiter
    /// that reads this before checking its own stop condition and passes it
    /// to [`Wal::wait_for_commit_since`] cannot miss an interrupt.
    pub fn interrupts(&self) -> u64 {
        lock(&self.shared.commit).interrupts
    }

    /// Like [`Wal::wait_for_commit`], but also returns at once if an
    /// interrupt happened since `seen` was read.
    pub fn wait_for_commit_since(&self, after: Lsn, seen: u64, timeout: Duration) -> Lsn {
        let deadline = Instant::now() + timeout;
        let mut c = lock(&self.shared.commit);
        let interrupts = seen;
        while c.point.lsn <= after && c.poisoned.is_none() && c.interrupts == interrupts {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            c = self
                .shared
                .commit_cv
                .wait_timeout(c, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        c.point.lsn
    }

    /// Wakes every thread in [`Wal::wait_for_commit`] (for shutdown).
    pub fn interrupt_waiters(&self) {
        lock(&self.shared.commit).interrupts += 1;
        self.shared.commit_cv.notify_all();
    }

    /// Reads committed frames with LSN `from` or higher, in order. Frames
    /// already trimmed are skipped: reading starts at the oldest segment.
    pub fn reader(&self, from: Lsn) -> WalReader {
        WalReader::new(self.shared.clone(), from)
    }

    /// Deletes, durably, every sealed segment whose frames all have an LSN
    /// of at most `applied` (they have been imported). Returns how many.
    pub fn trim(&self, applied: Lsn) -> Result<usize, WalError> {
        let doomed: Vec<Arc<Segment>> = {
            let mut segments = self
                .shared
                .segments
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let bases: Vec<Lsn> = segments.keys().copied().collect();
            let removable: Vec<Lsn> = bases
                .windows(2)
                .filter(|w| w[1] <= applied.saturating_add(1))
                .map(|w| w[0])
                .collect();
            removable
                .iter()
                .filter_map(|b| segments.remove(b))
                .collect()
        };
        if doomed.is_empty() {
            return Ok(0);
        }
        for seg in &doomed {
            self.shared
                .storage
                .remove_file(&seg.path)
                .map_err(|e| WalError::io("remove trimmed segment", &seg.path, e))?;
        }
        self.shared
            .storage
            .sync_dir(&self.shared.dir)
            .map_err(|e| WalError::io("fsync directory", &self.shared.dir, e))?;
        Ok(doomed.len())
    }

    /// What recovery found when the log was opened.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.shared.report
    }

    /// Why the writer stopped, if it did.
    pub fn poisoned(&self) -> Option<String> {
        lock(&self.shared.commit).poisoned.clone()
    }

    /// Current sizes and positions.
    pub fn stats(&self) -> WalStats {
        let (active_base, active_used, next_lsn) = {
            let w = lock(&self.shared.writer);
            (w.active.base, w.offset, w.next_lsn)
        };
        let segments = self
            .shared
            .segments
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let bytes = segments
            .values()
            .map(|s| match s.sealed_len() {
                Some(len) => len,
                None if s.base == active_base => active_used,
                None => 0,
            })
            .sum();
        WalStats {
            committed_lsn: self.committed_lsn(),
            next_lsn,
            segments: segments.len(),
            bytes,
            syncs: self.shared.syncs.load(Ordering::Relaxed),
            sync_latency: self.shared.sync_times.snapshot(),
        }
    }

    /// Why appends will soon fail for lack of disk space, if they will:
    /// the file system holding the log has less free space than the log's
    /// next growth reserves, and than one first reservation of a segment
    /// (only where the storage can tell free space).
    pub fn space_warning(&self) -> Option<String> {
        let (growth, left) = {
            let w = lock(&self.shared.writer);
            (
                self.shared.next_growth(&w),
                w.reserved.saturating_sub(w.offset),
            )
        };
        let free = self.shared.storage.available_space(&self.shared.dir)?;
        // A growth that does not fit falls back to just the next frame, so
        // a large growth alone is no cause for alarm: warn below the
        // smaller of it and one first reservation.
        let alarm = growth.min(initial_reservation(self.shared.options.segment_size));
        if free >= alarm {
            return None;
        }
        Some(format!(
            "disk nearly full: {free} bytes free on the file system of {}; the message box \
             needs up to {growth} bytes at its next growth ({left} reserved bytes left), and \
             appends fail with \"No space left on device\" once it cannot grow",
            self.shared.dir.display()
        ))
    }

    /// Records where the log ends (the clean-end record, see "Clean-end
    /// record" in `docs/FORMAT.md`) if every frame written is durable and
    /// the writer is not poisoned, so the next open need not walk the last
    /// segment. For a clean close; dropping the last handle does the same
    /// and only logs an error. Appending afterwards is allowed: it removes
    /// the record first. A disk too full for the record is not an error
    /// (the record is simply not written). An error leaves everything
    /// acknowledged intact; the next open walks the log, as after a crash.
    pub fn record_clean_end(&self) -> Result<(), WalError> {
        self.shared.record_clean_end()
    }

    /// The directory of the log.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }
}

impl WalShared {
    fn poison(&self, c: &mut CommitState, reason: String) {
        tracing::error!(%reason, "WAL writer poisoned; no further appends are acknowledged");
        c.poisoned.get_or_insert(reason);
        self.commit_cv.notify_all();
    }

    fn check_poisoned(&self) -> Result<(), WalError> {
        match &lock(&self.commit).poisoned {
            Some(reason) => Err(WalError::Poisoned {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Assigns the next LSN and writes the frame (not yet durable).
    fn write_frame(&self, payload: &[u8]) -> Result<Lsn, WalError> {
        let limit = self.options.max_frame_size;
        if payload.len() > limit as usize {
            return Err(WalError::FrameTooLarge {
                len: payload.len(),
                limit,
            });
        }
        let mut w = lock(&self.writer);
        self.check_poisoned()?;
        if w.clean_end_on_disk {
            if let Err(e) = self.leave_clean_end(&mut w) {
                self.poison(&mut lock(&self.commit), e.to_string());
                return Err(e);
            }
        }
        let len = frame_len(payload.len()) as u64;
        if w.offset + len > self.options.segment_size && w.offset > SEGMENT_HEADER_LEN as u64 {
            if let Err(e) = self.rotate(&mut w) {
                self.poison(&mut lock(&self.commit), e.to_string());
                return Err(e);
            }
        }
        let end = w.offset + len;
        if end > w.reserved && w.can_reserve && self.options.preallocate {
            if let Err(e) = self.grow(&mut w, end) {
                self.poison(&mut lock(&self.commit), e.to_string());
                return Err(e);
            }
        }
        let lsn = w.next_lsn;
        let durable = self.committed_lsn.load(Ordering::Acquire);
        let span = u16::try_from(lsn - durable).unwrap_or(u16::MAX);
        let salt = w.active.header.as_ref().map(|h| h.salt).unwrap_or(0);
        let mut buf = std::mem::take(&mut w.buf);
        buf.clear();
        encode_frame(&mut buf, payload, lsn, span, salt);
        let written = w.active.file.write_all_at(&buf, w.offset);
        w.buf = buf;
        if let Err(e) = written {
            let err = WalError::space("write frame", &w.active.path, e, len, self.storage.as_ref());
            self.poison(&mut lock(&self.commit), err.to_string());
            return Err(err);
        }
        w.last_frame = w.offset;
        w.offset += len;
        if w.offset > w.reserved {
            w.grew = true;
        }
        w.next_lsn += 1;
        drop(w);
        // SeqCst pairs with the leader's store of the target and load of
        // the written LSN: at least one side sees the other.
        self.written_lsn.store(lsn, Ordering::SeqCst);
        let target = self.gather_target.load(Ordering::SeqCst);
        if target != 0 && lsn >= target {
            let _guard = lock(&self.gather);
            self.gather_cv.notify_one();
        }
        Ok(lsn)
    }

    /// Returns once `lsn` is durable, leading a sync if none is running.
    fn commit(&self, lsn: Lsn) -> Result<(), WalError> {
        let mut c = lock(&self.commit);
        loop {
            if c.point.lsn >= lsn {
                return Ok(());
            }
            if let Some(reason) = &c.poisoned {
                return Err(WalError::Poisoned {
                    reason: reason.clone(),
                });
            }
            if c.syncing {
                c = self.commit_cv.wait(c).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            c.syncing = true;
            drop(c);
            self.gather_group(self.committed_lsn.load(Ordering::Acquire));
            let (segment, target, full) = {
                let mut w = lock(&self.writer);
                let target = CommitPoint {
                    lsn: w.next_lsn - 1,
                    segment: w.active.base,
                    end: w.offset,
                };
                (w.active.clone(), target, std::mem::take(&mut w.grew))
            };
            let started = Instant::now();
            let synced = if full {
                segment.file.sync_all()
            } else {
                segment.file.sync_data()
            };
            self.sync_times.record(started.elapsed());
            self.syncs.fetch_add(1, Ordering::Relaxed);
            c = lock(&self.commit);
            c.syncing = false;
            match synced {
                Ok(()) => self.publish(&mut c, target),
                Err(e) => {
                    let op = if full { "fsync" } else { "fdatasync" };
                    let err = WalError::io(op, &segment.path, e);
                    self.poison(&mut c, err.to_string());
                    return Err(err);
                }
            }
        }
    }

    /// Before syncing, gives the other committers of the last group a moment
    /// to write their frames, so one sync covers them all. Without this, the
    /// leader of one sync returns first and starts the next sync alone while
    /// the rest are still waking up, halving the group. Free for a single
    /// committer (its group is 1), and bounded well below one sync's time.
    fn gather_group(&self, durable: Lsn) {
        const MAX_WAIT: Duration = Duration::from_micros(200);
        let target = durable + self.last_group.load(Ordering::Relaxed);
        if self.written_lsn.load(Ordering::SeqCst) >= target {
            return;
        }
        let deadline = Instant::now() + MAX_WAIT;
        self.gather_target.store(target, Ordering::SeqCst);
        let mut guard = lock(&self.gather);
        while self.written_lsn.load(Ordering::SeqCst) < target {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            guard = self
                .gather_cv
                .wait_timeout(guard, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        self.gather_target.store(0, Ordering::SeqCst);
    }

    fn publish(&self, c: &mut CommitState, point: CommitPoint) {
        if point.lsn > c.point.lsn {
            self.last_group
                .store(point.lsn - c.point.lsn, Ordering::Relaxed);
            c.point = point;
            self.committed_lsn.store(point.lsn, Ordering::Release);
        }
        self.commit_cv.notify_all();
    }

    /// Reserves more of the active segment so a frame ending at `needed`
    /// fits: the reservation doubles, up to the segment size. The longer
    /// file is made durable by the fsync (not fdatasync) of the commit that
    /// covers the frame (`grew`); no frame in the new space is acknowledged
    /// before that fsync succeeded. A crash before it leaves the old length
    /// or the new one with zeros past the last frame: recovery's clean end.
    fn grow(&self, w: &mut WriterState, needed: u64) -> Result<(), WalError> {
        let wanted = next_reservation(w.reserved, needed, self.options.segment_size);
        let active = &w.active;
        let reserved = reserve(
            self.storage.as_ref(),
            active.file.as_ref(),
            &active.path,
            w.reserved,
            wanted,
            needed,
        )?;
        match reserved {
            Some(len) => {
                w.reserved = len;
                w.grew = true;
            }
            None => w.can_reserve = false,
        }
        Ok(())
    }

    /// Bytes the next growth of the log will reserve: doubling the active
    /// segment, or a new segment once it is full.
    fn next_growth(&self, w: &WriterState) -> u64 {
        let size = self.options.segment_size;
        if w.reserved < size {
            next_reservation(w.reserved, w.reserved, size) - w.reserved
        } else {
            initial_reservation(size)
        }
    }

    /// Before the first append after an open that took the end of the log
    /// from the clean-end record: cuts the active segment at that end and
    /// removes the record, both durably. Removing it matters: with the
    /// record still there, a crash after this append would make the next
    /// open stop at the old end and drop acknowledged frames. The cut makes
    /// sure no bytes past the end that recovery did not read (such as a
    /// frame torn by a writer that ignored the record) can ever be taken
    /// for a frame; growth reserves zeros again.
    fn leave_clean_end(&self, w: &mut WriterState) -> Result<(), WalError> {
        let active = w.active.clone();
        let path = &active.path;
        let io = |op| move |e| WalError::io(op, path, e);
        let len = active.file.len().map_err(io("stat segment"))?;
        if len > w.offset {
            active
                .file
                .set_len(w.offset)
                .map_err(io("cut segment at its recorded end"))?;
            // Reserve the same space again (zeros), so a full disk keeps
            // the room the segment had; `reserve` falls back to nothing
            // more if the space was taken meanwhile.
            w.reserved = w.offset;
            if self.options.preallocate {
                let storage = self.storage.as_ref();
                match reserve(storage, active.file.as_ref(), path, w.offset, len, w.offset)? {
                    Some(reserved) => w.reserved = reserved,
                    None => w.can_reserve = false,
                }
            }
            active.file.sync_all().map_err(io("fsync segment"))?;
        }
        remove_clean_end(self.storage.as_ref(), &self.dir)?;
        w.clean_end_on_disk = false;
        Ok(())
    }

    /// See [`Wal::record_clean_end`].
    fn record_clean_end(&self) -> Result<(), WalError> {
        let mut w = lock(&self.writer);
        let point = {
            let c = lock(&self.commit);
            if c.poisoned.is_some() {
                return Ok(());
            }
            c.point
        };
        if w.clean_end_on_disk {
            return Ok(());
        }
        let settled = point.lsn + 1 == w.next_lsn
            && point.segment == w.active.base
            && point.end == w.offset
            && !w.grew;
        let Ok(header) = &w.active.header else {
            return Ok(());
        };
        if !settled {
            return Ok(());
        }
        let record = CleanEnd {
            salt: header.salt,
            base_lsn: w.active.base,
            end: w.offset,
            last_frame: w.last_frame,
            next_lsn: w.next_lsn,
        };
        // From here on the record may exist, even if writing it fails
        // half-way: the next append must remove it first.
        w.clean_end_on_disk = true;
        match write_clean_end(self.storage.as_ref(), &self.dir, &record) {
            // A full disk is already reported where it matters (appends,
            // the space warning); a close, or a command that only read,
            // does not fail for the lack of an optional record.
            Err(WalError::Io { source, .. }) if is_no_space(&source) => {
                tracing::info!(dir = %self.dir.display(), "disk full: WAL clean-end record not written; the next open walks the log");
                Ok(())
            }
            other => other,
        }
    }

    /// Seals the active segment (exact length, synced) and starts the next.
    /// Every frame of the old segment is durable before the new one exists,
    /// so only the last segment can ever end in a torn frame.
    fn rotate(&self, w: &mut WriterState) -> Result<(), WalError> {
        let old = w.active.clone();
        let path = &old.path;
        let io = |op| move |e| WalError::io(op, path, e);
        old.file.set_len(w.offset).map_err(io("seal segment"))?;
        old.file.sync_all().map_err(io("fsync sealed segment"))?;
        old.seal(w.offset);
        let sealed = CommitPoint {
            lsn: w.next_lsn - 1,
            segment: old.base,
            end: w.offset,
        };
        self.publish(&mut lock(&self.commit), sealed);
        let seg = Arc::new(create_segment(
            self.storage.as_ref(),
            &self.dir,
            w.next_lsn,
            &self.options,
        )?);
        self.segments
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(seg.base, seg.clone());
        w.reserved = seg
            .file
            .len()
            .map_err(|e| WalError::io("stat segment", &seg.path, e))?;
        w.active = seg;
        w.offset = SEGMENT_HEADER_LEN as u64;
        w.last_frame = 0;
        w.can_reserve = true;
        w.grew = false;
        Ok(())
    }
}

impl Drop for WalShared {
    /// The last handle is gone: a clean close. Failing to record the end
    /// costs the next open a walk of the log, nothing more, so an error is
    /// only logged. Nothing is recorded while a panic unwinds.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Err(e) = self.record_clean_end() {
            tracing::warn!(error = %e, "WAL clean-end record not written; the next open walks the log");
        }
    }
}
