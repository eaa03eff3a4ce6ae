//! One segment file: naming, creation, and a buffered scanner that finds
//! and verifies the frames in it.

use std::hash::{BuildHasher, RandomState};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::format::{FrameError, FrameHeader, SegmentHeader, FRAME_ALIGN, FRAME_HEADER_LEN};
use super::{Lsn, WalError, WalOptions, SEGMENT_HEADER_LEN};
use crate::storage::{is_no_space, read_up_to, OpenMode, Storage, StorageFile};

const SEGMENT_SUFFIX: &str = ".wal";
/// Bytes read at a time while scanning a segment.
const SCAN_CHUNK: usize = 256 << 10;
const ACTIVE: u64 = u64::MAX;

/// The file name of the segment whose first frame has LSN `base`.
pub(crate) fn segment_file_name(base: Lsn) -> String {
    format!("{base:020}{SEGMENT_SUFFIX}")
}

/// The base LSN named by a segment file name, if it is one.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<Lsn> {
    let digits = name.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A segment of the log, shared by the writer and readers.
#[derive(Debug)]
pub(crate) struct Segment {
    pub base: Lsn,
    pub path: PathBuf,
    pub file: Arc<dyn StorageFile>,
    /// The verified header, or why it could not be read.
    pub header: Result<SegmentHeader, String>,
    /// Length of a sealed segment; `ACTIVE` while frames are appended.
    sealed_len: AtomicU64,
}

impl Segment {
    pub fn new(
        base: Lsn,
        path: PathBuf,
        file: Arc<dyn StorageFile>,
        header: Result<SegmentHeader, String>,
        sealed_len: Option<u64>,
    ) -> Self {
        Segment {
            base,
            path,
            file,
            header,
            sealed_len: AtomicU64::new(sealed_len.unwrap_or(ACTIVE)),
        }
    }

    /// The length of a sealed segment, `None` while it is active.
    pub fn sealed_len(&self) -> Option<u64> {
        match self.sealed_len.load(Ordering::Acquire) {
            ACTIVE => None,
            len => Some(len),
        }
    }

    pub fn seal(&self, len: u64) {
        self.sealed_len.store(len, Ordering::Release);
    }
}

/// A random, non-zero salt for a new segment.
pub(crate) fn random_salt() -> u32 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = (
        std::time::SystemTime::now(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    );
    let h = RandomState::new().hash_one(seed);
    match (h ^ (h >> 32)) as u32 {
        0 => 1,
        salt => salt,
    }
}

/// The most a new segment reserves: a store that holds one event should
/// not take a whole segment of disk.
const MAX_INITIAL_RESERVATION: u64 = 1 << 20;

/// What a new segment reserves: a quarter of the segment size (so small
/// segments grow too, and crash tests cover growth), at most 1 MiB.
pub(crate) fn initial_reservation(segment_size: u64) -> u64 {
    (segment_size / 4).min(MAX_INITIAL_RESERVATION)
}

/// The reservation after growing one of `reserved` bytes for a frame that
/// ends at `needed`: doubled, at least the initial reservation, at most
/// the segment size, and always enough for the frame.
pub(crate) fn next_reservation(reserved: u64, needed: u64, segment_size: u64) -> u64 {
    reserved
        .saturating_mul(2)
        .max(initial_reservation(segment_size))
        .min(segment_size)
        .max(needed)
}

/// Creates a segment durably: header written, initial space reserved, file
/// and directory synced. Returns the active segment.
pub(crate) fn create_segment(
    storage: &dyn Storage,
    dir: &Path,
    base: Lsn,
    options: &WalOptions,
) -> Result<Segment, WalError> {
    let path = dir.join(segment_file_name(base));
    let header = SegmentHeader {
        salt: random_salt(),
        base_lsn: base,
    };
    let header_len = SEGMENT_HEADER_LEN as u64;
    let file = storage
        .open_file(&path, OpenMode::CreateNew)
        .map_err(|e| WalError::space("create segment", &path, e, header_len, storage))?;
    file.write_all_at(&header.encode(), 0)
        .map_err(|e| WalError::space("write segment header", &path, e, header_len, storage))?;
    if options.preallocate {
        // Only the header is needed now: on a disk too full for the initial
        // reservation the segment starts without one, and the first frame
        // asks for exactly what it needs (see `reserve`).
        let wanted = initial_reservation(options.segment_size);
        reserve(
            storage,
            file.as_ref(),
            &path,
            header_len,
            wanted,
            header_len,
        )?;
    }
    file.sync_all()
        .map_err(|e| WalError::io("fsync new segment", &path, e))?;
    storage
        .sync_dir(dir)
        .map_err(|e| WalError::io("fsync directory", dir, e))?;
    Ok(Segment::new(base, path, file, Ok(header), None))
}

/// Reserves disk blocks so the segment file (now `have` bytes long) is
/// `wanted` bytes, or at least `needed` bytes when the disk is too full for
/// `wanted`. Returns the reserved length, or `None` when the file system
/// cannot reserve (appends then grow the file and commits use fsync). The
/// new length is not durable until the file is fsynced; until then a crash
/// leaves the old length or a longer one, the extension reading as zeros,
/// which recovery treats as free space.
pub(crate) fn reserve(
    storage: &dyn Storage,
    file: &dyn StorageFile,
    path: &Path,
    have: u64,
    wanted: u64,
    needed: u64,
) -> Result<Option<u64>, WalError> {
    let err = match file.allocate(wanted) {
        Ok(()) => return Ok(Some(wanted.max(have))),
        Err(e) if unsupported(&e) => return Ok(None),
        Err(e) => e,
    };
    if !is_no_space(&err) || needed >= wanted {
        let short = wanted.saturating_sub(have);
        return Err(WalError::space(
            "reserve space for segment",
            path,
            err,
            short,
            storage,
        ));
    }
    match file.allocate(needed) {
        Ok(()) => Ok(Some(needed.max(have))),
        Err(e) => {
            let short = needed.saturating_sub(have);
            Err(WalError::space(
                "reserve space for segment",
                path,
                e,
                short,
                storage,
            ))
        }
    }
}

/// Whether reserving failed only because the file system cannot do it.
fn unsupported(e: &io::Error) -> bool {
    const EOPNOTSUPP: i32 = 95;
    e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(EOPNOTSUPP)
}

/// Reads and verifies frames of one segment through a buffer. Memory is
/// bounded by the larger of the scan chunk and the frame size limit.
pub(crate) struct FrameScanner {
    file: Arc<dyn StorageFile>,
    salt: u32,
    max_len: u32,
    limit: u64,
    buf: Vec<u8>,
    buf_start: u64,
}

/// The outcome of probing one position.
pub(crate) enum Probe {
    /// A whole, verified frame.
    Frame(FrameHeader),
    /// Fewer than a frame header's bytes remain before the limit.
    End,
    /// Something that is not a valid frame.
    Invalid(FrameError),
}

impl FrameScanner {
    pub fn new(file: Arc<dyn StorageFile>, salt: u32, max_len: u32, limit: u64) -> Self {
        FrameScanner {
            file,
            salt,
            max_len,
            limit,
            buf: Vec::new(),
            buf_start: 0,
        }
    }

    /// Scanning never reads at or past `limit`.
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// Up to `len` bytes at `pos` (fewer at the limit), from the buffer,
    /// refilled when needed.
    fn window(&mut self, pos: u64, len: usize) -> io::Result<&[u8]> {
        let available = self.limit.saturating_sub(pos);
        let len = len.min(usize::try_from(available).unwrap_or(usize::MAX));
        let buf_end = self.buf_start + self.buf.len() as u64;
        if pos < self.buf_start || pos + len as u64 > buf_end {
            let want = len
                .max(SCAN_CHUNK)
                .min(usize::try_from(available).unwrap_or(usize::MAX));
            self.buf.resize(want, 0);
            let n = read_up_to(self.file.as_ref(), &mut self.buf, pos)?;
            self.buf.truncate(n);
            self.buf_start = pos;
        }
        let start = (pos - self.buf_start) as usize;
        let end = (start + len).min(self.buf.len());
        Ok(self.buf.get(start..end).unwrap_or(&[]))
    }

    /// Verifies the frame at `pos` completely (header and payload).
    pub fn probe(&mut self, pos: u64) -> io::Result<Probe> {
        let (salt, max_len) = (self.salt, self.max_len);
        let header_bytes = self.window(pos, FRAME_HEADER_LEN)?;
        if header_bytes.len() < FRAME_HEADER_LEN {
            return Ok(Probe::End);
        }
        let header = match FrameHeader::decode(header_bytes, salt, max_len) {
            Ok(h) => h,
            Err(e) => return Ok(Probe::Invalid(e)),
        };
        let total = FRAME_HEADER_LEN + header.len as usize;
        let bytes = self.window(pos, total)?;
        if bytes.len() < total {
            return Ok(Probe::Invalid(FrameError::Short));
        }
        let (head, payload) = bytes.split_at(FRAME_HEADER_LEN);
        if !header.verify_payload(head, payload, salt) {
            return Ok(Probe::Invalid(FrameError::BadChecksum));
        }
        Ok(Probe::Frame(header))
    }

    /// The header of the frame at `pos`, verified by its own checksum
    /// only (the payload is not read): enough to step over frames whose
    /// payload is not wanted.
    pub fn probe_header(&mut self, pos: u64) -> io::Result<Option<FrameHeader>> {
        let (salt, max_len) = (self.salt, self.max_len);
        let bytes = self.window(pos, FRAME_HEADER_LEN)?;
        Ok(FrameHeader::decode(bytes, salt, max_len).ok())
    }

    /// The payload of the frame just verified by [`FrameScanner::probe`].
    pub fn payload(&mut self, pos: u64, header: &FrameHeader) -> io::Result<Vec<u8>> {
        let total = FRAME_HEADER_LEN + header.len as usize;
        let bytes = self.window(pos, total)?;
        Ok(bytes.get(FRAME_HEADER_LEN..).unwrap_or(&[]).to_vec())
    }

    /// Up to `max` raw bytes of `[from, to)`, for reporting a damaged region.
    pub fn raw(&mut self, from: u64, to: u64, max: usize) -> io::Result<Vec<u8>> {
        let len = usize::try_from(to.saturating_sub(from)).unwrap_or(usize::MAX);
        Ok(self.window(from, len.min(max))?.to_vec())
    }

    /// After an invalid frame at `bad` that should have had LSN `expected`,
    /// finds the next valid frame at or after `from` with an LSN of at least
    /// `expected`. Frames are aligned and at least a header long, so an LSN
    /// is plausible only if it fits in the space since `bad`; that filter
    /// keeps the search cheap over zeroed or garbage regions.
    pub fn find_next(
        &mut self,
        bad: u64,
        expected: Lsn,
        from: u64,
    ) -> io::Result<Option<(u64, FrameHeader)>> {
        let mut pos = from.next_multiple_of(FRAME_ALIGN as u64);
        while pos + FRAME_HEADER_LEN as u64 <= self.limit {
            let max_lsn = expected + (pos - bad) / FRAME_HEADER_LEN as u64;
            let candidate = FrameHeader::peek_lsn(self.window(pos, FRAME_HEADER_LEN)?);
            if let Some(lsn) = candidate {
                if (expected..=max_lsn).contains(&lsn) {
                    if let Probe::Frame(header) = self.probe(pos)? {
                        return Ok(Some((pos, header)));
                    }
                }
            }
            pos += FRAME_ALIGN as u64;
        }
        Ok(None)
    }

    /// Whether every byte from `pos` to the limit is zero.
    pub fn is_zero_from(&mut self, mut pos: u64) -> io::Result<bool> {
        while pos < self.limit {
            let chunk = self.window(pos, SCAN_CHUNK)?;
            if chunk.is_empty() {
                return Ok(true);
            }
            if chunk.iter().any(|&b| b != 0) {
                return Ok(false);
            }
            pos += chunk.len() as u64;
        }
        Ok(true)
    }
}

/// Reads a segment header from an open file.
pub(crate) fn read_header(file: &dyn StorageFile) -> io::Result<Result<SegmentHeader, String>> {
    let mut buf = [0u8; SEGMENT_HEADER_LEN];
    let n = read_up_to(file, &mut buf, 0)?;
    Ok(SegmentHeader::decode(&buf[..n]).map_err(|e| e.to_string()))
}
