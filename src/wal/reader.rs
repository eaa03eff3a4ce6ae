//! Reading committed frames in LSN order.
//!
//! A reader never returns a frame beyond the durable point. Where a frame
//! is damaged it yields a [`CorruptRegion`] naming the segment, the offset
//! and the LSNs lost, then resynchronises on the next valid frame and
//! carries on: corruption is reported, never skipped silently.

use std::sync::Arc;

use super::format::{FrameHeader, SEGMENT_HEADER_LEN};
use super::segment::{FrameScanner, Probe, Segment};
use super::shared::WalShared;
use super::{Location, Lsn, WalError};

/// One committed frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Its LSN.
    pub lsn: Lsn,
    /// The bytes handed to `append`.
    pub payload: Vec<u8>,
    /// Where it is stored.
    pub location: Location,
}

/// A damaged stretch of the log that held committed frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptRegion {
    /// Where the damage starts.
    pub location: Location,
    /// What was wrong.
    pub reason: String,
    /// The LSNs lost in it, first and last (inclusive).
    pub lsns: (Lsn, Lsn),
    /// The damaged bytes, up to the frame size limit, for the quarantine.
    pub raw: Vec<u8>,
}

/// What a [`WalReader`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadItem {
    /// A verified frame.
    Frame(Frame),
    /// A damaged region, reported once; reading resumes after it.
    Corrupt(CorruptRegion),
}

/// Iterates committed frames from an LSN on. When it has caught up with the
/// durable point it returns `None`; calling `next` again later picks up
/// frames committed since (the iterator is not fused).
pub struct WalReader {
    shared: Arc<WalShared>,
    expected: Lsn,
    current: Option<Cursor>,
}

struct Cursor {
    segment: Arc<Segment>,
    scanner: Option<FrameScanner>,
    pos: u64,
    /// The LSN the frame at `pos` must carry: frames follow each other from
    /// the segment's base without gaps, so a valid frame with another LSN is
    /// out of place (stale or misdirected bytes) and is never served.
    next_in_segment: Lsn,
}

impl std::fmt::Debug for WalReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalReader")
            .field("expected", &self.expected)
            .finish()
    }
}

impl WalReader {
    pub(super) fn new(shared: Arc<WalShared>, from: Lsn) -> Self {
        WalReader {
            shared,
            expected: from.max(1),
            current: None,
        }
    }

    /// The LSN of the next frame this reader will return.
    pub fn next_lsn(&self) -> Lsn {
        self.expected
    }

    fn segment_after(&self, base: Lsn) -> Option<Arc<Segment>> {
        let segments = self
            .shared
            .segments
            .read()
            .unwrap_or_else(|e| e.into_inner());
        segments.range(base + 1..).next().map(|(_, s)| s.clone())
    }

    /// The segment holding `expected`: the last one starting at or before
    /// it, or the oldest if it was trimmed.
    fn segment_for(&self, lsn: Lsn) -> Option<Arc<Segment>> {
        let segments = self
            .shared
            .segments
            .read()
            .unwrap_or_else(|e| e.into_inner());
        segments
            .range(..=lsn)
            .next_back()
            .or_else(|| segments.iter().next())
            .map(|(_, s)| s.clone())
    }

    fn open_cursor(&self, segment: Arc<Segment>) -> Cursor {
        let scanner = segment.header.as_ref().ok().map(|h| {
            FrameScanner::new(
                segment.file.clone(),
                h.salt,
                self.shared.options.max_frame_size,
                0,
            )
        });
        Cursor {
            next_in_segment: segment.base,
            segment,
            scanner,
            pos: SEGMENT_HEADER_LEN as u64,
        }
    }

    fn corrupt(&self, cursor: &Cursor, reason: String, last: Lsn, raw: Vec<u8>) -> ReadItem {
        ReadItem::Corrupt(CorruptRegion {
            location: Location {
                segment: cursor.segment.path.clone(),
                offset: cursor.pos,
            },
            reason,
            lsns: (self.expected, last),
            raw,
        })
    }

    fn step(&mut self) -> Result<Option<ReadItem>, WalError> {
        loop {
            let point = self.shared.commit_point();
            if self.expected > point.lsn {
                return Ok(None);
            }
            let cursor = match self.current.take() {
                Some(c) => c,
                None => match self.segment_for(self.expected) {
                    Some(seg) => {
                        self.expected = self.expected.max(seg.base);
                        self.open_cursor(seg)
                    }
                    None => return Ok(None),
                },
            };
            let mut cursor = cursor;
            let sealed = cursor.segment.sealed_len();
            let limit = match sealed {
                Some(len) => len,
                None if cursor.segment.base == point.segment => point.end,
                None => SEGMENT_HEADER_LEN as u64,
            };
            let Some(scanner) = cursor.scanner.as_mut() else {
                // The header is unreadable: every LSN up to the next segment
                // is lost. Report it once and move on.
                let next = self.segment_after(cursor.segment.base);
                let last = next.as_ref().map_or(point.lsn, |n| n.base - 1);
                let reason = match &cursor.segment.header {
                    Err(reason) => format!("segment header unreadable: {reason}"),
                    Ok(_) => String::from("segment header unreadable"),
                };
                cursor.pos = 0;
                let item = self.corrupt(&cursor, reason, last, Vec::new());
                self.expected = last + 1;
                return Ok(Some(item));
            };
            scanner.set_limit(limit);
            let io = |e| WalError::io("read segment", &cursor.segment.path, e);
            match scanner.probe(cursor.pos).map_err(io)? {
                Probe::Frame(h) if h.lsn == cursor.next_in_segment && h.lsn < self.expected => {
                    // Before the requested start: skip.
                    cursor.pos += h.frame_len();
                    cursor.next_in_segment += 1;
                    self.current = Some(cursor);
                }
                Probe::Frame(h) if h.lsn == cursor.next_in_segment && h.lsn == self.expected => {
                    let payload = scanner.payload(cursor.pos, &h).map_err(io)?;
                    let frame = Frame {
                        lsn: h.lsn,
                        payload,
                        location: Location {
                            segment: cursor.segment.path.clone(),
                            offset: cursor.pos,
                        },
                    };
                    cursor.pos += h.frame_len();
                    cursor.next_in_segment += 1;
                    self.expected += 1;
                    self.current = Some(cursor);
                    return Ok(Some(ReadItem::Frame(frame)));
                }
                Probe::Frame(h) if h.lsn == cursor.next_in_segment => {
                    // In place, but further on than this reader expected:
                    // the LSNs in between are missing. Report them, then
                    // read it.
                    let reason = format!(
                        "frame has LSN {} where {} was expected",
                        h.lsn, self.expected
                    );
                    let item = self.corrupt(&cursor, reason, h.lsn - 1, Vec::new());
                    self.expected = h.lsn;
                    self.current = Some(cursor);
                    return Ok(Some(item));
                }
                Probe::Frame(h) => {
                    let reason = format!(
                        "a valid frame with LSN {} stands where LSN {} belongs",
                        h.lsn, cursor.next_in_segment
                    );
                    if let Some(item) = self.resync(cursor, reason, limit, point.lsn)? {
                        return Ok(Some(item));
                    }
                }
                Probe::End if sealed.is_some() => {
                    // End of a sealed segment: continue in the next one.
                    let Some(next) = self.segment_after(cursor.segment.base) else {
                        self.current = Some(cursor);
                        return Ok(None);
                    };
                    if next.base > self.expected {
                        let reason = format!(
                            "segment ends before LSN {}, the next starts at {}",
                            self.expected, next.base
                        );
                        let item = self.corrupt(&cursor, reason, next.base - 1, Vec::new());
                        self.expected = next.base;
                        self.current = Some(self.open_cursor(next));
                        return Ok(Some(item));
                    }
                    self.current = Some(self.open_cursor(next));
                }
                Probe::End => {
                    // The durable point lies in another segment than this
                    // active one claims: nothing more to read here yet.
                    self.current = Some(cursor);
                    return Ok(None);
                }
                Probe::Invalid(e) => {
                    if let Some(item) = self.resync(cursor, e.to_string(), limit, point.lsn)? {
                        return Ok(Some(item));
                    }
                }
            }
        }
    }

    /// Moves past the damaged region at the cursor, and reports it if it
    /// cost any LSN this reader was asked for (damage among frames skipped
    /// before the requested start is not this reader's to report).
    fn resync(
        &mut self,
        mut cursor: Cursor,
        reason: String,
        limit: u64,
        durable: Lsn,
    ) -> Result<Option<ReadItem>, WalError> {
        let max_raw = self.shared.options.max_frame_size as usize;
        let path = cursor.segment.path.clone();
        let io = |e| WalError::io("read segment", &path, e);
        let Some(scanner) = cursor.scanner.as_mut() else {
            return Err(WalError::Corrupt {
                location: Location {
                    segment: path.clone(),
                    offset: cursor.pos,
                },
                reason,
            });
        };
        let bad = cursor.pos;
        let found: Option<(u64, FrameHeader)> = scanner
            .find_next(bad, cursor.next_in_segment, bad + 1)
            .map_err(io)?;
        let (resume_pos, last_lost) = match found {
            Some((pos, h)) => (pos, h.lsn - 1),
            None => {
                let last = match cursor.segment.sealed_len() {
                    Some(_) => self
                        .segment_after(cursor.segment.base)
                        .map_or(durable, |n| n.base - 1),
                    None => durable,
                };
                (limit, last)
            }
        };
        // The next frame at `resume_pos` carries the LSN after the lost ones
        // (for a region that runs to the limit: the next one appended).
        cursor.next_in_segment = last_lost + 1;
        if last_lost < self.expected {
            cursor.pos = resume_pos;
            self.current = Some(cursor);
            return Ok(None);
        }
        let raw = scanner.raw(bad, resume_pos, max_raw).map_err(io)?;
        let item = self.corrupt(&cursor, reason, last_lost, raw);
        self.expected = last_lost + 1;
        cursor.pos = resume_pos;
        self.current = Some(cursor);
        Ok(Some(item))
    }
}

impl Iterator for WalReader {
    type Item = Result<ReadItem, WalError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step().transpose()
    }
}
