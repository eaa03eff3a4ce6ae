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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_or_below_the_highest_is_a_duplicate_per_producer() {
        let mut s = Sequences::default();
        assert!(!s.is_duplicate(1, 5));
        s.record(1, 5);
        assert!(s.is_duplicate(1, 5));
        assert!(s.is_duplicate(1, 0));
        assert!(!s.is_duplicate(1, 6));
        assert!(
            !s.is_duplicate(2, 5),
            "another producer's numbers are its own"
        );
        s.record(1, 9);
        s.record(1, 7); // never lowers the mark
        assert!(s.is_duplicate(1, 8));
        assert_eq!(s.duplicates, 3);
    }
}
