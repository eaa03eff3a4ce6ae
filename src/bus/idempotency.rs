//! Sequenced batches: a producer numbers a flush (`flush_sequenced`), and
//! the bus imports at most one batch per (producer id, sequence number),
//! however often it was committed: a flush retried after a crash whose
//! outcome the producer could not know, or the same batch shipped twice.
//!
//! The rule (Kafka's idempotent producer, without epochs): per producer id
//! the bus remembers the highest sequence number it imported; a sequenced
//! batch at or below it is a duplicate, skipped and counted. So a producer
//! numbers its flushes in increasing order (gaps allowed), and after a
//! restart goes on from a number it kept with its own data (its outbox row,
//! its input offset) or from [`crate::Store::last_sequence`]. Memory and
//! checkpoint space: one number per producer id that ever sequenced a
//! batch. A batch committed without a sequence (`flush`) is never a
//! duplicate.
//!
//! Frames copied from producers' own message boxes (`Boxed`) are keyed the
//! same way by (box id, the frame's LSN in its box): the bus process copies
//! a box's frames in LSN order, so the highest LSN copied per box is all it
//! needs to copy each frame exactly once across crashes of either side.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the bus remembers of sequenced batches (checkpointed with the
/// state, see `image`).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sequences {
    /// Per producer id, the highest sequence number imported.
    pub highest: BTreeMap<u32, u64>,
    /// Sequenced batches skipped as duplicates.
    pub duplicates: u64,
    /// Per producer's message box (its id), the highest LSN of it
    /// imported (checkpoint version 6 on).
    pub boxes: BTreeMap<u64, u64>,
}

/// [`Sequences`] as checkpoint version 5 stored them (no boxes).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SequencesV5 {
    pub highest: BTreeMap<u32, u64>,
    pub duplicates: u64,
}

impl From<SequencesV5> for Sequences {
    fn from(v5: SequencesV5) -> Sequences {
        Sequences {
            highest: v5.highest,
            duplicates: v5.duplicates,
            boxes: BTreeMap::new(),
        }
    }
}

impl Sequences {
    /// Whether `producer`'s batch `seq` was imported before; a duplicate
    /// is counted.
    pub fn is_duplicate(&mut self, producer: u32, seq: u64) -> bool {
        let duplicate = self.highest.get(&producer).is_some_and(|&h| seq <= h);
        if duplicate {
            self.duplicates += 1;
        }
        duplicate
    }

    /// `producer`'s batch `seq` was imported (or set aside in quarantine,
    /// where a replay, not a resend, brings it back).
    pub fn record(&mut self, producer: u32, seq: u64) {
        let highest = self.highest.entry(producer).or_insert(seq);
        *highest = (*highest).max(seq);
    }

    /// Whether the frame at `lsn` of the message box `box_id` was imported
    /// before (copied twice by a bus that crashed after copying it).
    pub fn is_copied(&self, box_id: u64, lsn: u64) -> bool {
        self.boxes.get(&box_id).is_some_and(|&h| lsn <= h)
    }

    /// The frame at `lsn` of box `box_id` was imported (or set aside).
    pub fn record_copied(&mut self, box_id: u64, lsn: u64) {
        let highest = self.boxes.entry(box_id).or_insert(lsn);
        *highest = (*highest).max(lsn);
    }
}

#[cfg(test)]
#[path = "idempotency_tests.rs"]
mod tests;
