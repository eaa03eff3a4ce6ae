//! Reading a message box from another process: no lock, no writes, no
//! recovery. A read-only view of a store (`StoreReader::open_fresh`) reads
//! the frames its writer committed beyond the last checkpoint.
//!
//! It reads the frames that follow each other from the requested LSN,
//! segment after segment, and stops at the first position that does not
//! hold the next one: the end of what the writer has written (the zeroed
//! rest of a segment, a frame being written), or damage, which the
//! writer's own reader reports and quarantines. It never resynchronises
//! past a gap, so what it returns is always a run without holes. A segment
//! the writer trims meanwhile ends the run (its frames are in a newer
//! checkpoint). A frame the writer has written but not yet synced can be
//! read: a reader may see a flush a moment before it returns.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::Path;

use super::format::SEGMENT_HEADER_LEN;
use super::segment::{parse_segment_file_name, read_header, FrameScanner, Probe};
use super::{Lsn, WalError, WalOptions};
use crate::storage::{OpenMode, Storage};

/// A frame read from another process's message box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailFrame {
    /// Its LSN.
    pub lsn: Lsn,
    /// The bytes handed to `append`.
    pub payload: Vec<u8>,
}

/// Where a read of the tail stopped: [`read_tail_after`] reads on from
/// there without scanning the segment again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailPosition {
    /// The base LSN of the segment it stopped in.
    segment: Lsn,
    /// The byte offset of the next frame in it.
    offset: u64,
    /// The LSN of the next frame.
    pub next: Lsn,
}

/// What a read of the tail gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tail {
    /// The frames, in order, without holes.
    pub frames: Vec<TailFrame>,
    /// Where it stopped; `None` if it found no segment to start in.
    pub end: Option<TailPosition>,
}

/// The frames of the message box in `dir` from LSN `from` on, in order and
/// without holes, up to about `max_bytes` of payload (the run stops after
/// the frame that reaches it). Empty if there are none, or if the segment
/// that holds `from` is gone. Frames before `from` in its segment are
/// stepped over by their headers.
pub fn read_tail(
    storage: &dyn Storage,
    dir: &Path,
    from: Lsn,
    options: &WalOptions,
    max_bytes: u64,
) -> Result<Tail, WalError> {
    read_tail_until(
        storage,
        dir,
        TailStart::Lsn(from),
        Lsn::MAX,
        options,
        max_bytes,
    )
}

/// [`read_tail`] from where an earlier read stopped (`at`). Empty, with no
/// end, if its segment is gone (trimmed): read from an LSN then.
pub fn read_tail_after(
    storage: &dyn Storage,
    dir: &Path,
    at: TailPosition,
    options: &WalOptions,
    max_bytes: u64,
) -> Result<Tail, WalError> {
    read_tail_until(
        storage,
        dir,
        TailStart::After(at),
        Lsn::MAX,
        options,
        max_bytes,
    )
}

/// Where [`read_tail_until`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailStart {
    /// At this LSN (as [`read_tail`]).
    Lsn(Lsn),
    /// Where an earlier read stopped (as [`read_tail_after`]).
    After(TailPosition),
}

/// [`read_tail`] or [`read_tail_after`], stopping before the first frame
/// with an LSN above `last`: for a reader that knows how far the log is
/// durable (a producer's message box records it, see `mark`) and must not
/// take a frame that a power loss could still undo.
pub fn read_tail_until(
    storage: &dyn Storage,
    dir: &Path,
    start: TailStart,
    last: Lsn,
    options: &WalOptions,
    max_bytes: u64,
) -> Result<Tail, WalError> {
    let Some(segments) = list_segments(storage, dir)? else {
        return Ok(Tail::default());
    };
    // Where the run starts, and the first LSN it keeps.
    let (at, from) = match start {
        TailStart::Lsn(from) => {
            let Some((&first, _)) = segments.range(..=from.max(1)).next_back() else {
                return Ok(Tail::default());
            };
            let at = TailPosition {
                segment: first,
                offset: SEGMENT_HEADER_LEN as u64,
                next: first,
            };
            (at, from)
        }
        TailStart::After(at) if segments.contains_key(&at.segment) => (at, at.next),
        TailStart::After(_) => return Ok(Tail::default()),
    };
    let bounds = Bounds {
        from,
        last,
        max_bytes,
    };
    read_run(storage, dir, &segments, at, bounds, options)
}

/// Which frames a run keeps: LSNs `from..=last`, up to about `max_bytes`.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    from: Lsn,
    last: Lsn,
    max_bytes: u64,
}

/// The segment files of `dir` by base LSN; `None` if `dir` is missing.
fn list_segments(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<Option<BTreeMap<Lsn, String>>, WalError> {
    let names = match storage.list_dir(dir) {
        Ok(names) => names,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(WalError::io("list", dir, e)),
    };
    Ok(Some(
        names
            .into_iter()
            .filter_map(|n| parse_segment_file_name(&n).map(|base| (base, n)))
            .collect(),
    ))
}

/// Reads frames from `start` on, keeping those from LSN `from`.
fn read_run(
    storage: &dyn Storage,
    dir: &Path,
    segments: &BTreeMap<Lsn, String>,
    start: TailPosition,
    bounds: Bounds,
    options: &WalOptions,
) -> Result<Tail, WalError> {
    let Bounds {
        from,
        last,
        max_bytes,
    } = bounds;
    let mut frames = Vec::new();
    let mut bytes = 0u64;
    let mut at = start;
    for (&base, name) in segments.range(start.segment..) {
        if base != at.segment {
            if base != at.next {
                break; // a hole between segments
            }
            at = TailPosition {
                segment: base,
                offset: SEGMENT_HEADER_LEN as u64,
                next: base,
            };
        }
        let path = dir.join(name);
        let file = match storage.open_file(&path, OpenMode::Read) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => break, // trimmed
            Err(e) => return Err(WalError::io("open segment", &path, e)),
        };
        let io = |e| WalError::io("read segment", &path, e);
        let header = match read_header(file.as_ref()).map_err(io)? {
            Ok(h) if h.base_lsn == base => h,
            _ => break, // not (yet) a segment of this log
        };
        let len = file.len().map_err(io)?;
        let mut scanner = FrameScanner::new(file, header.salt, options.max_frame_size, len);
        loop {
            if at.next > last {
                return Ok(Tail {
                    frames,
                    end: Some(at),
                });
            }
            if at.next < from {
                // Before the requested start: its header says how far to
                // step; the payload is not needed.
                match scanner.probe_header(at.offset).map_err(io)? {
                    Some(h) if h.lsn == at.next => {
                        at.offset += h.frame_len();
                        at.next += 1;
                        continue;
                    }
                    _ => break,
                }
            }
            let h = match scanner.probe(at.offset).map_err(io)? {
                Probe::Frame(h) if h.lsn == at.next => h,
                _ => break,
            };
            let payload = scanner.payload(at.offset, &h).map_err(io)?;
            bytes += payload.len() as u64;
            frames.push(TailFrame {
                lsn: h.lsn,
                payload,
            });
            at.offset += h.frame_len();
            at.next += 1;
            if bytes >= max_bytes {
                return Ok(Tail {
                    frames,
                    end: Some(at),
                });
            }
        }
    }
    Ok(Tail {
        frames,
        end: Some(at),
    })
}

#[cfg(test)]
#[path = "tail_tests.rs"]
mod tests;
