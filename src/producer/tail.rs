//! Reading a producer's message box from outside its process: the frames
//! beyond a cursor, up to the box's `SYNCED` mark, in LSN order. Both
//! consumers of boxes use it: the store's bus copying boxes into the store
//! (`Store::import_boxes`) and the shipper publishing them to NATS
//! (`bamdb ship`).
//!
//! Only frames at or below `SYNCED` are read: a frame a power loss could
//! still take from the box (and whose LSN its producer would then reuse)
//! is never handed on. A box whose mark has not moved for a while is
//! *adopted* if no producer has it open: recovered and synced as its
//! producer would on open, so the frames a producer wrote before it
//! stopped are read even if it never comes back.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{BoxOptions, MessageBox, LOG_DIR, SYNCED_FILE};
use crate::error::StoreError;
use crate::storage::Storage;
use crate::wal::{read_mark, read_tail_until, Lsn, TailFrame, TailPosition, TailStart, WalOptions};

/// How long a box's `SYNCED` mark stays unmoved before its reader adopts
/// the box if no producer has it open (see [`adopt`]).
const ADOPT_AFTER: Duration = Duration::from_secs(2);

/// How far one box is read, and what is known of its producer.
#[derive(Debug)]
pub(crate) struct BoxTail {
    pub(crate) box_id: u64,
    /// The next LSN of the box to read.
    pub(crate) next: Lsn,
    /// Where the last read stopped, to read on without a rescan.
    position: Option<TailPosition>,
    /// The box's `SYNCED` mark as last read, and since when it is so.
    synced_seen: Lsn,
    stalled_since: Instant,
    /// The mark this reader left when it last adopted the box: not
    /// adopted again until the mark moves.
    adopted_at: Option<Lsn>,
}

/// Frames read from a box, in LSN order, the first at the cursor's `next`.
#[derive(Debug)]
pub(crate) struct BoxFrames {
    pub(crate) frames: Vec<TailFrame>,
    /// Where the read stopped (for [`BoxTail::advance`]).
    pub(crate) end: Option<TailPosition>,
    /// The box's durable mark when read: how far its producer has gone.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) synced: Lsn,
}

impl BoxFrames {
    /// The LSN of the last frame.
    pub(crate) fn last_lsn(&self) -> Lsn {
        self.frames.last().map_or(0, |f| f.lsn)
    }
}

impl BoxTail {
    /// A cursor on box `box_id` that reads from LSN `next` on.
    pub(crate) fn new(box_id: u64, next: Lsn) -> BoxTail {
        BoxTail {
            box_id,
            next,
            position: None,
            synced_seen: 0,
            stalled_since: Instant::now(),
            adopted_at: None,
        }
    }

    /// Reads what the box in `dir` holds from `next` on, up to its synced
    /// mark and about `max_bytes` of payload (at least one frame), frames
    /// of at most `max_frame_size` bytes. `None` when there is nothing new.
    /// `adopt_now` adopts the box at once if no producer has it open.
    pub(crate) fn read(
        &mut self,
        storage: &Arc<dyn Storage>,
        dir: &Path,
        max_frame_size: u32,
        max_bytes: u64,
        adopt_now: bool,
    ) -> Result<Option<BoxFrames>, StoreError> {
        let options = WalOptions {
            max_frame_size,
            ..WalOptions::default()
        };
        let synced = read_mark(storage.as_ref(), &dir.join(SYNCED_FILE), self.box_id)?;
        let mut durable = synced.unwrap_or(0);
        if durable != self.synced_seen {
            self.synced_seen = durable;
            self.stalled_since = Instant::now();
        }
        let stalled = adopt_now || self.stalled_since.elapsed() >= ADOPT_AFTER;
        if stalled && self.adopted_at != Some(durable) {
            match adopt(storage.clone(), dir, max_frame_size)? {
                Some(adopted) => {
                    self.adopted_at = Some(adopted);
                    self.synced_seen = adopted;
                    durable = adopted;
                }
                // Its producer is alive: look again after another stall.
                None => self.stalled_since = Instant::now(),
            }
        }
        if durable < self.next {
            return Ok(None);
        }
        let log = dir.join(LOG_DIR);
        let read =
            |start| read_tail_until(storage.as_ref(), &log, start, durable, &options, max_bytes);
        let mut tail = match self.position {
            Some(at) => read(TailStart::After(at))?,
            None => read(TailStart::Lsn(self.next))?,
        };
        if tail.end.is_none() && self.position.is_some() {
            // Its segment was trimmed meanwhile: find the LSN again.
            tail = read(TailStart::Lsn(self.next))?;
        }
        let Some(first) = tail.frames.first() else {
            if tail.end.is_none_or(|at| at.next <= self.next) && durable >= self.next {
                return Err(StoreError::Corrupt {
                    location: log.display().to_string(),
                    reason: format!(
                        "the box is synced up to LSN {durable}, but LSN {} cannot be read (deleted before it was handed on, or damaged)",
                        self.next
                    ),
                });
            }
            return Ok(None);
        };
        if first.lsn != self.next {
            return Err(StoreError::Corrupt {
                location: log.display().to_string(),
                reason: format!(
                    "the next frame to hand on is LSN {}, but the box starts at {}",
                    self.next, first.lsn
                ),
            });
        }
        Ok(Some(BoxFrames {
            frames: tail.frames,
            end: tail.end,
            synced: durable,
        }))
    }

    /// Moves the cursor past frames read up to `last` (an LSN of a
    /// [`BoxTail::read`]), whose read ended at `end`.
    pub(crate) fn advance(&mut self, last: Lsn, end: Option<TailPosition>) {
        self.next = last + 1;
        self.position = end;
    }

    /// Moves the cursor to `next`, forgetting where the last read ended
    /// (the next read finds the LSN again).
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) fn seek(&mut self, next: Lsn) {
        if next != self.next {
            self.next = next;
            self.position = None;
        }
    }
}

/// Recovers the box in `dir` if no producer has it open, as its producer
/// would on open: the log's frames that survive recovery are synced, and
/// its `SYNCED` mark set to the last; returns that mark, or `None` when a
/// producer holds the box (its mark is then its own to move).
///
/// Without this a box whose producer stopped for good after a power loss
/// took its mark (written in place, not synced) would never be read.
fn adopt(
    storage: Arc<dyn Storage>,
    dir: &Path,
    max_frame_size: u32,
) -> Result<Option<Lsn>, StoreError> {
    let mut options = BoxOptions {
        create_if_missing: false,
        ..BoxOptions::default()
    };
    // Recovery must take every frame the reader could hand on as a frame,
    // not as damage: the largest a box's producer may have written.
    options.wal.max_frame_size = max_frame_size;
    options.wal.segment_size = options.wal.segment_size.max(u64::from(max_frame_size));
    match MessageBox::open_if_free(storage, dir, options) {
        Ok(outbox) => {
            let synced = outbox.stats()?.committed_lsn;
            tracing::info!(dir = %dir.display(), synced, "adopted a message box no producer has open");
            Ok(Some(synced))
        }
        Err(StoreError::BoxLocked { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
