//! Quarantine entries as the log's records describe them: what was set
//! aside, and what became of it (unresolved, imported by a replay, or
//! dropped by the operator). Also the running counts for `stats`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Record, Source};
use crate::bus::envelope::{self, Payload};
use crate::model::Timestamp;
use crate::wal::Lsn;

/// The first reason of an entry made from a damaged message box region
/// (written by the bus). Such an entry holds raw bytes, never a batch.
const DAMAGED_REGION: &str = "damaged message box region";

/// What became of a quarantine entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EntryState {
    /// Neither imported nor dropped: it waits for a fix and a replay, or
    /// for the operator's decision to drop it.
    Unresolved,
    /// A replay imported it.
    Resolved {
        /// The message box LSN of the replay frame that imported it.
        resolved_by_lsn: Lsn,
        /// When.
        resolved_at: Timestamp,
    },
    /// The operator dropped it (`Store::drop_quarantined`): it is kept and
    /// listed, but never replayed.
    Dropped {
        /// Why, in the operator's words.
        drop_reason: String,
        /// When.
        dropped_at: Timestamp,
    },
}

/// One quarantined item, with its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarantineEntry {
    /// Its id (stable; used by show, replay, export and drop). See
    /// `docs/FORMAT.md` ("Quarantine log") for why ids can have gaps.
    pub id: u64,
    /// Where it came from.
    pub source: Source,
    /// Why it could not be imported.
    pub reasons: Vec<String>,
    /// When it was quarantined.
    pub time: Timestamp,
    /// Events in it, as far as they decoded.
    pub events: u64,
    /// The original bytes (for a damaged region: what could be read).
    #[serde(skip)]
    pub payload: Vec<u8>,
    /// Bytes of payload kept.
    pub payload_len: usize,
    /// Whether a replay imported it (the same as `state` being
    /// [`EntryState::Resolved`]; kept for readers of the older output).
    pub resolved: bool,
    /// What became of it; serialised flat (`"state":"dropped",
    /// "drop_reason":..., "dropped_at":...`).
    #[serde(flatten)]
    pub state: EntryState,
    /// Reasons of replays that failed again, oldest first.
    pub failed_replays: Vec<Vec<String>>,
}

impl QuarantineEntry {
    /// The events it holds, decoded, or why they cannot be: a damaged
    /// region, or a payload that is not an event batch (a deployment, an
    /// operator action) or does not decode within `limits`.
    ///
    /// ```
    /// # use bamdb::{EntryState, QuarantineEntry, Source};
    /// # use bamdb::model::{Limits, Timestamp};
    /// let entry = QuarantineEntry {
    ///     id: 1,
    ///     source: Source { lsns: (1, 1), segment: "x".into(), offset: 0 },
    ///     reasons: vec!["damaged".into()],
    ///     time: Timestamp::from_micros(0),
    ///     events: 0,
    ///     payload: vec![0xFF],
    ///     payload_len: 1,
    ///     resolved: false,
    ///     state: EntryState::Unresolved,
    ///     failed_replays: vec![],
    /// };
    /// assert!(entry.decode_events(&Limits::default()).is_err());
    /// ```
    pub fn decode_events(
        &self,
        limits: &crate::model::Limits,
    ) -> Result<Vec<crate::model::Event>, String> {
        if self.is_damaged_region() {
            return Err("a damaged message box region: raw bytes, not events".into());
        }
        let batch = match envelope::parse(&self.payload) {
            Payload::Batch(b) => b,
            Payload::Replay { batch, .. } | Payload::Sequenced { batch, .. } => batch,
            Payload::Boxed { inner, .. } => envelope::parse_box_payload(inner)?.1,
            Payload::Deploy(_) => return Err("a definition deployment, not events".into()),
            Payload::Admin(_) => return Err("an operator action, not events".into()),
            Payload::Unknown(Some(b)) => return Err(format!("unknown payload kind 0x{b:02X}")),
            Payload::Unknown(None) => return Err("empty payload".into()),
        };
        crate::model::decode_batch(batch, limits)
            .map(|b| b.events)
            .map_err(|e| e.to_string())
    }

    /// True when it is neither resolved nor dropped.
    pub fn is_unresolved(&self) -> bool {
        self.state == EntryState::Unresolved
    }

    /// True when it was made from a damaged region of the message box: it
    /// holds the raw bytes that could be read, never a batch, so it can
    /// never be replayed (only dropped once the loss is accounted for).
    pub fn is_damaged_region(&self) -> bool {
        self.events == 0
            && self
                .reasons
                .first()
                .is_some_and(|r| r.starts_with(DAMAGED_REGION))
    }
}

/// Builds the entries from the log's records (in id order), and lists the
/// records that could not be read.
pub(super) fn build(
    records: impl IntoIterator<Item = (u64, Result<Record, String>)>,
) -> (Vec<QuarantineEntry>, Vec<String>) {
    let mut entries: BTreeMap<u64, QuarantineEntry> = BTreeMap::new();
    let mut damaged = Vec::new();
    for (id, rec) in records {
        match rec {
            Ok(Record::Entry {
                source,
                reasons,
                time,
                events,
                payload,
            }) => {
                entries.insert(
                    id,
                    QuarantineEntry {
                        id,
                        source,
                        reasons,
                        time: Timestamp::from_micros(time),
                        events,
                        payload_len: payload.len(),
                        payload,
                        resolved: false,
                        state: EntryState::Unresolved,
                        failed_replays: Vec::new(),
                    },
                );
            }
            Ok(Record::Resolved { entry, lsn, time }) => {
                // A replay that imported it wins over a drop recorded
                // before it (see `Store::drop_quarantined`): the data is in.
                if let Some(e) = entries.get_mut(&entry) {
                    e.resolved = true;
                    e.state = EntryState::Resolved {
                        resolved_by_lsn: lsn,
                        resolved_at: Timestamp::from_micros(time),
                    };
                }
            }
            Ok(Record::ReplayFailed { entry, reasons, .. }) => {
                if let Some(e) = entries.get_mut(&entry) {
                    e.failed_replays.push(reasons);
                }
            }
            Ok(Record::Dropped {
                entries: ids,
                reason,
                time,
            }) => {
                for entry in ids {
                    if let Some(e) = entries.get_mut(&entry) {
                        if e.state == EntryState::Unresolved {
                            e.state = EntryState::Dropped {
                                drop_reason: reason.clone(),
                                dropped_at: Timestamp::from_micros(time),
                            };
                        }
                    }
                }
            }
            Err(reason) => damaged.push(format!("record {id}: {reason}")),
        }
    }
    (entries.into_values().collect(), damaged)
}

/// How many entries are in each state, for `Store::stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QuarantineCounts {
    /// Entries neither resolved nor dropped.
    pub unresolved: u64,
    /// Entries a replay imported.
    pub resolved: u64,
    /// Entries the operator dropped.
    pub dropped: u64,
    /// Quarantine records that could not be read (see `bamdb verify`).
    pub damaged_records: u64,
}

/// The counts kept up to date as records are appended, so `stats` does
/// not read the log each time. Memory: one id per resolved or dropped
/// entry (as the bus's own resolved set), none per unresolved entry.
#[derive(Debug, Default)]
pub(super) struct Tally {
    entries: u64,
    resolved: BTreeSet<u64>,
    dropped: BTreeSet<u64>,
    damaged: u64,
    /// Every record with a smaller id is counted.
    pub end: u64,
}

impl Tally {
    /// Counts the record `id` (once: callers pass each id once, in order).
    pub fn add(&mut self, id: u64, rec: Result<&Record, ()>) {
        match rec {
            Ok(Record::Entry { .. }) => self.entries += 1,
            Ok(Record::Resolved { entry, .. }) => {
                // As in `build`: a replay that imported it wins over a drop.
                self.dropped.remove(entry);
                self.resolved.insert(*entry);
            }
            Ok(Record::ReplayFailed { .. }) => {}
            Ok(Record::Dropped { entries, .. }) => {
                for e in entries.iter().filter(|e| !self.resolved.contains(e)) {
                    self.dropped.insert(*e);
                }
            }
            Err(()) => self.damaged += 1,
        }
        self.end = self.end.max(id + 1);
    }

    pub fn counts(&self) -> QuarantineCounts {
        let handled = (self.resolved.len() + self.dropped.len()) as u64;
        QuarantineCounts {
            unresolved: self.entries.saturating_sub(handled),
            resolved: self.resolved.len() as u64,
            dropped: self.dropped.len() as u64,
            damaged_records: self.damaged,
        }
    }
}
