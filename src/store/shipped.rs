//! The bus's side of frames shipped from producers' message boxes on other
//! machines (through NATS JetStream: `bamdb ship` and `bamdb bus --nats`).
//! The transport hands frames over as (box id, LSN, payload); this appends
//! them to the store's message box as copies (`Boxed` payloads), the same
//! copies a local box's frames become, so the import, quarantine and the
//! exactly-once mark are the ones of local boxes.
//!
//! Exactly once per (box, LSN), whatever the transport redelivers or a
//! shipper publishes twice: a frame at or below the box's highest LSN
//! appended (or, after a restart, imported) is skipped. In LSN order per
//! box: a frame beyond the next one expected is refused, so the transport
//! delivers it again once the frames before it came; the bus never skips
//! past a frame it has not seen.

use super::Store;
use crate::bus::boxed_payload;
use crate::error::StoreError;
use crate::wal::Lsn;

/// One frame of a producer's message box, received from elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedFrame<'a> {
    /// The box's id (its `BOX` file).
    pub box_id: u64,
    /// The frame's LSN in its box.
    pub lsn: Lsn,
    /// The frame's payload as the box holds it.
    pub payload: &'a [u8],
}

/// A frame [`Store::append_shipped`] refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedFrame {
    /// Its index in the frames given.
    pub index: usize,
    /// Its box.
    pub box_id: u64,
    /// Its LSN.
    pub lsn: Lsn,
    /// Why; the frame was not appended.
    pub reason: RefusedBecause,
}

/// Why a shipped frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedBecause {
    /// A frame before it in its box was not received yet: the box's next
    /// LSN is `expected`. Hand the frame again after that one.
    OutOfOrder {
        /// The LSN of the box the store waits for.
        expected: Lsn,
    },
    /// Larger than the store's message box takes (`max` bytes, the store's
    /// `WalOptions::max_frame_size` less the copy's header).
    TooLarge {
        /// The largest payload the store takes.
        max: u32,
    },
}

impl std::fmt::Display for RefusedBecause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefusedBecause::OutOfOrder { expected } => {
                write!(f, "out of order: the box's next LSN is {expected}")
            }
            RefusedBecause::TooLarge { max } => write!(
                f,
                "larger than the store's message box takes ({max} bytes; raise its max_frame_size)"
            ),
        }
    }
}

/// What one [`Store::append_shipped`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShippedAppend {
    /// Frames appended to the store's message box.
    pub appended: u64,
    /// Frames skipped: appended or imported before (redelivered, or
    /// published twice).
    pub duplicates: u64,
    /// Frames neither appended nor skipped.
    pub refused: Vec<RefusedFrame>,
    /// Once [`Store::wait_applied`] of this LSN returns true, every frame
    /// given that was not refused is imported (or set aside in
    /// quarantine): the moment to acknowledge them to their transport.
    pub durable_at: Lsn,
}

impl Store {
    /// Appends frames received from producers' message boxes elsewhere to
    /// the store's message box, with one sync, skipping those appended or
    /// imported before and refusing those that come before their turn (see
    /// the module docs). Frames of one box must be given in LSN order.
    /// The bus imports them in the background, as any frame.
    ///
    /// The first call of a store handle waits until the store's own log is
    /// imported, so it knows what each box already gave.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bamdb::{ShippedFrame, Store, StoreOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path(), StoreOptions::default())?;
    /// // LSN 2 of box 7 before LSN 1: refused until LSN 1 came.
    /// let early = [ShippedFrame { box_id: 7, lsn: 2, payload: b"..." }];
    /// assert_eq!(store.append_shipped(&early)?.refused.len(), 1);
    /// let one = ShippedFrame { box_id: 7, lsn: 1, payload: b"..." };
    /// let done = store.append_shipped(&[one, early[0]])?;
    /// assert_eq!((done.appended, done.duplicates), (2, 0));
    /// // Delivered again: skipped.
    /// assert_eq!(store.append_shipped(&[one])?.duplicates, 1);
    /// assert!(store.wait_applied(done.durable_at, Duration::from_secs(10)));
    /// assert_eq!(store.stats().boxes["0000000000000007"], 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn append_shipped(&self, frames: &[ShippedFrame<'_>]) -> Result<ShippedAppend, StoreError> {
        let mut pump = crate::bus::lock(&self.pump);
        self.catch_up(&mut pump)?;
        let max = self.max_boxed_frame();
        let mut report = ShippedAppend::default();
        // The highest LSN per box once this call's frames are appended;
        // kept only if the append succeeds.
        let mut highest: Vec<(u64, Lsn)> = Vec::new();
        let mut payloads = Vec::new();
        for (index, frame) in frames.iter().enumerate() {
            let slot = match highest.iter().position(|(id, _)| *id == frame.box_id) {
                Some(slot) => slot,
                None => {
                    let known = match pump.shipped.get(&frame.box_id) {
                        Some(&lsn) => lsn,
                        None => self.imported_of_box(frame.box_id),
                    };
                    highest.push((frame.box_id, known));
                    highest.len() - 1
                }
            };
            let expected = highest[slot].1 + 1;
            let refuse = |reason| RefusedFrame {
                index,
                box_id: frame.box_id,
                lsn: frame.lsn,
                reason,
            };
            if frame.lsn < expected {
                report.duplicates += 1;
            } else if frame.lsn > expected {
                report
                    .refused
                    .push(refuse(RefusedBecause::OutOfOrder { expected }));
            } else if frame.payload.len() > max as usize {
                report
                    .refused
                    .push(refuse(RefusedBecause::TooLarge { max }));
            } else {
                payloads.push(boxed_payload(frame.box_id, frame.lsn, frame.payload));
                highest[slot].1 = frame.lsn;
            }
        }
        if !payloads.is_empty() {
            self.bus.throttle();
            self.bus.wal().append_all(&payloads)?;
            report.appended = payloads.len() as u64;
            pump.shipped.extend(highest);
        }
        // Covers the copies of earlier calls that this call's duplicates
        // stand for, too.
        report.durable_at = self.bus.wal().committed_lsn();
        Ok(report)
    }

    /// The highest LSN of producer box `box_id` imported (0: none yet):
    /// how far a box, local or shipped, is brought in. A box's frames are
    /// imported in LSN order, so every LSN up to this one is in.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let store = bamdb::Store::open(dir.path(), bamdb::StoreOptions::default())?;
    /// assert_eq!(store.box_imported_lsn(42), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn box_imported_lsn(&self, box_id: u64) -> Lsn {
        self.imported_of_box(box_id)
    }

    /// Appends payloads to the store's message box as they are, with one
    /// sync: a transport's message it cannot read is kept this way, and
    /// the bus sets it aside in quarantine with the reason.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) fn append_raw(&self, payloads: &[&[u8]]) -> Result<Vec<Lsn>, StoreError> {
        self.bus.throttle();
        Ok(self.bus.wal().append_all(payloads)?)
    }

    /// Per box shipped to this store handle, the highest LSN appended.
    #[cfg_attr(not(feature = "nats"), allow(dead_code))]
    pub(crate) fn shipped_marks(&self) -> Vec<(u64, Lsn)> {
        let pump = crate::bus::lock(&self.pump);
        pump.shipped.iter().map(|(&id, &lsn)| (id, lsn)).collect()
    }
}

#[cfg(test)]
#[path = "shipped_tests.rs"]
mod tests;
