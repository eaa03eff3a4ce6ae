//! Recovery on open: find the durable end of the log, read-only until it
//! has decided, then make its decision durable before any new append.
//!
//! The decisions (see `docs/FORMAT.md`, "Recovery"):
//! - The last segment's frames are walked from its header. At the first
//!   invalid frame, the rest of the segment is searched for valid frames.
//!   If one of them was written after the invalid frame's LSN was already
//!   durable (its durable floor says so), the invalid frame is corruption:
//!   it is kept, reported, and the walk continues after it. Otherwise it is
//!   a torn tail: the file is truncated there and the truncation is synced,
//!   so the torn bytes can never reappear after a second crash.
//! - A last segment whose header never became durable (a crash while it was
//!   being created, so it holds nothing but zeros) is removed.
//! - A last segment with a damaged header but data in it is kept for the
//!   readers to report, and a new segment is started at an LSN past any it
//!   could hold, so no LSN is ever reused.
//! - Earlier segments are sealed and not touched; readers report damage in
//!   them when they reach it.
//! - After a clean close, the clean-end record (`clean_end.rs`) names the
//!   end of the last segment; once a few small reads confirm it, the walk
//!   and the read of the preallocated space are skipped, and nothing is
//!   written. A record that does not hold up means the full walk, after
//!   which the record is removed.
//! - Nothing here needs free disk space (it only reads, truncates, removes
//!   and syncs), so a log on a full disk can still be opened and read.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::clean_end::{read_clean_end, remove_clean_end, CleanEnd, CLEAN_END_FILE};
use super::format::{FrameHeader, SegmentHeader, FRAME_HEADER_LEN, SEGMENT_HEADER_LEN};
use super::segment::{
    parse_segment_file_name, read_header, segment_file_name, FrameScanner, Probe, Segment,
};
use super::{Location, Lsn, WalError, WalOptions};
use crate::storage::{OpenMode, Storage, StorageFile};

/// What recovery found and did when the log was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segment files found.
    pub segments: usize,
    /// Bytes of a torn tail that were cut off (0 after a clean shutdown).
    pub truncated_bytes: u64,
    /// Where the torn tail was cut.
    pub truncated_at: Option<Location>,
    /// Invalid frames followed by valid ones in the last segment: kept and
    /// left for readers to report.
    pub corrupt_frames: Vec<Location>,
    /// Segments whose header never became durable, removed.
    pub removed_incomplete_segments: Vec<Location>,
    /// Segments with a damaged header, kept for readers to report.
    pub damaged_segments: Vec<Location>,
    /// The end of the log was taken from the clean-end record a clean close
    /// left, instead of walking the last segment (so `corrupt_frames` is
    /// empty even if that segment holds damage; readers still report it).
    pub used_clean_end: bool,
}

/// The recovered log, ready for the writer.
pub(crate) struct Recovered {
    pub segments: BTreeMap<Lsn, Arc<Segment>>,
    /// The active segment (also in `segments`) and where to append in it.
    pub active: Option<(Arc<Segment>, u64)>,
    /// The LSN the next frame gets.
    pub next_lsn: Lsn,
    /// Offset of the last frame in the active segment (0: none).
    pub last_frame: u64,
    /// A clean-end record on disk describes this log and was trusted: it
    /// must be removed before anything is appended.
    pub clean_end: bool,
    pub report: RecoveryReport,
}

/// Whether recovery may take the end of the log from a clean-end record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CleanEndUse {
    /// Trust a record that verifies (every ordinary open).
    Trust,
    /// Walk the last segment regardless (a full check of the log).
    Ignore,
}

pub(crate) fn recover(
    storage: &dyn Storage,
    dir: &Path,
    options: &WalOptions,
    clean_end_use: CleanEndUse,
) -> Result<Recovered, WalError> {
    let mut report = RecoveryReport::default();
    let names = storage
        .list_dir(dir)
        .map_err(|e| WalError::io("list", dir, e))?;
    let has_clean_end = names.iter().any(|n| n == CLEAN_END_FILE);
    let mut bases: Vec<Lsn> = names
        .iter()
        .filter_map(|name| parse_segment_file_name(name))
        .collect();
    bases.sort_unstable();
    report.segments = bases.len();

    let mut segments = BTreeMap::new();
    let mut dir_changed = false;
    let last = bases.last().copied();
    for &base in &bases {
        let path = dir.join(segment_file_name(base));
        let file = storage
            .open_file(&path, OpenMode::ReadWrite)
            .map_err(|e| WalError::io("open segment", &path, e))?;
        let header = read_header(file.as_ref())
            .map_err(|e| WalError::io("read segment header", &path, e))?
            .and_then(|h| check_base(h, base));
        if Some(base) == last {
            if header.is_err() && holds_nothing(&file, &path)? {
                storage
                    .remove_file(&path)
                    .map_err(|e| WalError::io("remove incomplete segment", &path, e))?;
                dir_changed = true;
                report.removed_incomplete_segments.push(Location {
                    segment: path,
                    offset: 0,
                });
                continue;
            }
            segments.insert(base, Arc::new(Segment::new(base, path, file, header, None)));
        } else {
            let len = file
                .len()
                .map_err(|e| WalError::io("stat segment", &path, e))?;
            if header.is_err() {
                report.damaged_segments.push(Location {
                    segment: path.clone(),
                    offset: 0,
                });
            }
            segments.insert(
                base,
                Arc::new(Segment::new(base, path, file, header, Some(len))),
            );
        }
    }
    if dir_changed {
        storage
            .sync_dir(dir)
            .map_err(|e| WalError::io("fsync directory", dir, e))?;
    }

    // From here on, a clean-end record that is not trusted is removed once
    // recovery has decided: it must not outlive the appends that follow.
    let discard = || {
        if has_clean_end {
            remove_clean_end(storage, dir)
        } else {
            Ok(())
        }
    };
    // The last remaining segment decides where appending continues.
    let Some(last) = segments.values().next_back().cloned() else {
        discard()?;
        return Ok(Recovered {
            segments,
            active: None,
            next_lsn: 1,
            last_frame: 0,
            clean_end: false,
            report,
        });
    };
    let header = match &last.header {
        Ok(h) => *h,
        Err(reason) => {
            // Damaged header over real data: keep it sealed for readers to
            // report, and continue past every LSN it could hold.
            let len = last
                .file
                .len()
                .map_err(|e| WalError::io("stat segment", &last.path, e))?;
            last.seal(len);
            tracing::warn!(segment = %last.path.display(), %reason, "WAL segment header damaged; set aside");
            report.damaged_segments.push(Location {
                segment: last.path.clone(),
                offset: 0,
            });
            let capacity = len.saturating_sub(SEGMENT_HEADER_LEN as u64) / FRAME_HEADER_LEN as u64;
            discard()?;
            return Ok(Recovered {
                segments,
                active: None,
                next_lsn: last.base + capacity + 1,
                last_frame: 0,
                clean_end: false,
                report,
            });
        }
    };
    if has_clean_end && clean_end_use == CleanEndUse::Trust {
        if let Some(record) = trusted_clean_end(storage, dir, &last, &header, options)? {
            // Everything up to the recorded end was durable before the
            // record was written: no sync, no write at all.
            report.used_clean_end = true;
            return Ok(Recovered {
                segments,
                active: Some((last, record.end)),
                next_lsn: record.next_lsn,
                last_frame: record.last_frame,
                clean_end: true,
                report,
            });
        }
    }
    let (end, next_lsn, last_frame) = recover_tail(&last, header, options, &mut report)?;
    // No space is reserved here: opening a log on a full disk must work so
    // that it can be read. The writer reserves more when it needs it.
    // Whatever was found is declared committed: make it durable first, in
    // case it was only in the page cache of a process that died. This also
    // makes a truncation durable before any new append.
    last.file
        .sync_all()
        .map_err(|e| WalError::io("fsync segment", &last.path, e))?;
    discard()?;
    Ok(Recovered {
        segments,
        active: Some((last, end)),
        next_lsn,
        last_frame,
        clean_end: false,
        report,
    })
}

/// The clean-end record, if it verifies against the last segment; why not
/// is logged (a record that does not hold up is unusual: a clean close
/// writes it, and it is removed before anything else is written).
fn trusted_clean_end(
    storage: &dyn Storage,
    dir: &Path,
    last: &Segment,
    header: &SegmentHeader,
    options: &WalOptions,
) -> Result<Option<CleanEnd>, WalError> {
    let record = match read_clean_end(storage, dir) {
        Ok(Ok(record)) => record,
        Ok(Err(reason)) => {
            tracing::warn!(dir = %dir.display(), %reason, "WAL clean-end record invalid; walking the log");
            return Ok(None);
        }
        Err(e) => {
            tracing::warn!(error = %e, "WAL clean-end record unreadable; walking the log");
            return Ok(None);
        }
    };
    let io = |op| move |e| WalError::io(op, &last.path, e);
    let len = last.file.len().map_err(io("stat segment"))?;
    let checked = record
        .check(header, last.file.as_ref(), len, options.max_frame_size)
        .map_err(io("read segment"))?;
    match checked {
        Ok(()) => Ok(Some(record)),
        Err(reason) => {
            tracing::warn!(segment = %last.path.display(), %reason, "WAL clean-end record does not match the log; walking the log");
            Ok(None)
        }
    }
}

fn check_base(header: SegmentHeader, base: Lsn) -> Result<SegmentHeader, String> {
    if header.base_lsn == base {
        Ok(header)
    } else {
        Err(format!(
            "header names base LSN {} but the file name says {base}",
            header.base_lsn
        ))
    }
}

/// Whether a segment whose header is bad holds nothing but zeros after it:
/// then it was being created when the process stopped.
fn holds_nothing(file: &Arc<dyn StorageFile>, path: &Path) -> Result<bool, WalError> {
    let len = file
        .len()
        .map_err(|e| WalError::io("stat segment", path, e))?;
    let mut scanner = FrameScanner::new(file.clone(), 0, 0, len);
    scanner
        .is_zero_from(SEGMENT_HEADER_LEN as u64)
        .map_err(|e| WalError::io("read segment", path, e))
}

/// Walks the last segment, truncating a torn tail durably. Returns the
/// append offset, the next LSN and the offset of the last frame (0: none).
fn recover_tail(
    segment: &Segment,
    header: SegmentHeader,
    options: &WalOptions,
    report: &mut RecoveryReport,
) -> Result<(u64, Lsn, u64), WalError> {
    let path = &segment.path;
    let io_err = |op| move |e| WalError::io(op, path, e);
    let len = segment.file.len().map_err(io_err("stat segment"))?;
    let mut scanner = FrameScanner::new(
        segment.file.clone(),
        header.salt,
        options.max_frame_size,
        len,
    );
    let mut pos = SEGMENT_HEADER_LEN as u64;
    let mut expected = header.base_lsn;
    let mut last_frame = 0;
    loop {
        let reason = match scanner.probe(pos).map_err(io_err("read segment"))? {
            Probe::Frame(h) if h.lsn == expected => {
                last_frame = pos;
                pos += h.frame_len();
                expected += 1;
                continue;
            }
            Probe::Frame(h) => format!("frame has LSN {} where {expected} was expected", h.lsn),
            Probe::Invalid(e) => e.to_string(),
            Probe::End => String::from("a partial frame header"),
        };
        if scanner.is_zero_from(pos).map_err(io_err("read segment"))? {
            // Clean end: preallocated space (or nothing) follows.
            return Ok((pos, expected, last_frame));
        }
        let next =
            find_resume_point(&mut scanner, pos, expected).map_err(io_err("read segment"))?;
        match next {
            Some((resume, h)) => {
                tracing::warn!(segment = %path.display(), offset = pos, %reason, "corrupt WAL frame followed by valid frames; kept for readers to report");
                report.corrupt_frames.push(Location {
                    segment: path.clone(),
                    offset: pos,
                });
                pos = resume;
                expected = h.lsn;
            }
            None => {
                tracing::warn!(segment = %path.display(), offset = pos, %reason, "torn WAL tail truncated");
                segment
                    .file
                    .set_len(pos)
                    .map_err(io_err("truncate torn tail"))?;
                segment
                    .file
                    .sync_all()
                    .map_err(io_err("fsync truncated segment"))?;
                report.truncated_bytes = len - pos;
                report.truncated_at = Some(Location {
                    segment: path.clone(),
                    offset: pos,
                });
                return Ok((pos, expected, last_frame));
            }
        }
    }
}

/// After an invalid frame at `bad` (which should have had LSN `expected`),
/// decides between corruption and a torn tail. It is corruption only if some
/// later valid frame was written when `expected` was already durable; then
/// the walk resumes at the first valid frame after `bad`.
fn find_resume_point(
    scanner: &mut FrameScanner,
    bad: u64,
    expected: Lsn,
) -> std::io::Result<Option<(u64, FrameHeader)>> {
    let mut first = None;
    let mut from = bad + 1;
    while let Some((pos, header)) = scanner.find_next(bad, expected, from)? {
        first.get_or_insert((pos, header));
        if header.durable_floor() >= expected {
            return Ok(first);
        }
        from = pos + header.frame_len();
    }
    Ok(None)
}
