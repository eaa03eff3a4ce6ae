//! The quarantine lifecycle on [`Store`]: list the entries, replay one,
//! drop some (see "Quarantine" in `docs/ARCHITECTURE.md`).

use serde::Serialize;

use super::{Store, StoreError};
use crate::bus::quarantine::{EntryState, QuarantineEntry};
use crate::bus::{self, quarantine::Record};

/// What a replay of a quarantine entry did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ReplayOutcome {
    /// The entry was imported.
    Imported,
    /// It was imported earlier.
    AlreadyResolved,
    /// It still fails, for these reasons; it stays in quarantine.
    StillInvalid(Vec<String>),
    /// A damaged region holds no batch that could be replayed.
    NotReplayable(String),
    /// The operator dropped it ([`Store::drop_quarantined`]); it is never
    /// replayed.
    Dropped {
        /// The reason given when it was dropped.
        reason: String,
        /// When it was dropped.
        at: crate::model::Timestamp,
    },
}

/// Longest reason accepted by [`Store::drop_quarantined`], in bytes.
pub const MAX_DROP_REASON: usize = 4096;

impl Store {
    /// Every quarantine entry, oldest first, and any damaged quarantine
    /// records (reported, never skipped silently).
    pub fn quarantine_entries(&self) -> Result<(Vec<QuarantineEntry>, Vec<String>), StoreError> {
        Ok(self.bus.quarantine().entries()?)
    }

    /// Sends a quarantined batch through the bus again (for example after
    /// the missing definition was deployed). Imported at most once, however
    /// often it is replayed. An entry the operator dropped, or one made
    /// from a damaged message box region, is not sent again.
    pub fn replay_quarantined(&self, id: u64) -> Result<ReplayOutcome, StoreError> {
        let quarantine = &self.bus.quarantine();
        // Held until the bus has applied the replay, so a drop cannot slip
        // in between.
        let _deciding = quarantine.deciding();
        let (entries, _) = self.quarantine_entries()?;
        let entry =
            entries
                .into_iter()
                .find(|e| e.id == id)
                .ok_or_else(|| StoreError::InvalidInput {
                    reason: format!("no quarantine entry {id}"),
                })?;
        match entry.state {
            EntryState::Resolved { .. } => return Ok(ReplayOutcome::AlreadyResolved),
            EntryState::Dropped {
                drop_reason,
                dropped_at,
            } => {
                return Ok(ReplayOutcome::Dropped {
                    reason: drop_reason,
                    at: dropped_at,
                })
            }
            EntryState::Unresolved => {}
        }
        let batch = match crate::bus::replayable_batch(&entry.payload) {
            Some(b) if !entry.is_damaged_region() => b,
            _ => {
                return Ok(ReplayOutcome::NotReplayable(if entry.is_damaged_region() {
                    "a damaged message box region holds no batch to replay; drop it once the loss is accounted for".into()
                } else {
                    "it is not an event batch (a definition or an operator action)".into()
                }))
            }
        };
        let lsn = self.bus.wal().append(&bus::replay_payload(id, batch))?;
        self.bus.wait(lsn)?;
        if self.bus.read_state().resolved.contains(&id) {
            Ok(ReplayOutcome::Imported)
        } else {
            Ok(ReplayOutcome::StillInvalid(
                self.bus.rejection(lsn).unwrap_or_default(),
            ))
        }
    }

    /// Drops quarantine entries: the operator's decision that they will not
    /// be replayed (fixed by hand and ingested again, or not wanted). The
    /// decision is appended durably to the quarantine log with `reason` and
    /// the time, as one record, so after a crash either every entry in
    /// `ids` is dropped or none is. Dropped entries stay listed (with the
    /// reason) and are named by `bamdb verify`; a replay answers
    /// [`ReplayOutcome::Dropped`].
    ///
    /// Nothing is recorded, and an [`StoreError::InvalidInput`] names the
    /// cause, if `reason` is empty or longer than [`MAX_DROP_REASON`]
    /// bytes, or any id is unknown, already resolved or already dropped.
    ///
    /// ```
    /// use bamdb::{EntryState, EventStream, ReplayOutcome, Store, StoreOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Store::open(dir.path(), StoreOptions::default())?;
    /// let mut stream = store.buffered_stream(0);
    /// stream.begin("Invoice", "INV-1")?; // Invoice is not deployed
    /// stream.flush()?;
    /// store.sync(std::time::Duration::from_secs(30));
    /// let (entries, _) = store.quarantine_entries()?;
    /// let id = entries[0].id;
    ///
    /// store.drop_quarantined(&[id], "test data, not wanted")?;
    /// let (entries, _) = store.quarantine_entries()?;
    /// assert!(matches!(&entries[0].state, EntryState::Dropped { drop_reason, .. }
    ///     if drop_reason == "test data, not wanted"));
    /// assert!(matches!(store.replay_quarantined(id)?, ReplayOutcome::Dropped { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn drop_quarantined(&self, ids: &[u64], reason: &str) -> Result<(), StoreError> {
        let invalid = |reason: String| Err(StoreError::InvalidInput { reason });
        let reason = reason.trim();
        if reason.is_empty() {
            return invalid("a reason is required to drop quarantine entries".into());
        }
        if reason.len() > MAX_DROP_REASON {
            return invalid(format!(
                "the reason is {} bytes; at most {MAX_DROP_REASON} are kept",
                reason.len()
            ));
        }
        if ids.is_empty() {
            return invalid("no quarantine entry named to drop".into());
        }
        let quarantine = &self.bus.quarantine();
        let _deciding = quarantine.deciding();
        let (entries, _) = self.quarantine_entries()?;
        let mut wanted: Vec<u64> = ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut refused = Vec::new();
        for id in &wanted {
            match entries.iter().find(|e| e.id == *id).map(|e| &e.state) {
                None => refused.push(format!("no quarantine entry {id}")),
                Some(EntryState::Unresolved) => {}
                Some(EntryState::Resolved { resolved_at, .. }) => refused.push(format!(
                    "entry {id} was imported by a replay at {resolved_at}"
                )),
                Some(EntryState::Dropped {
                    drop_reason,
                    dropped_at,
                }) => refused.push(format!(
                    "entry {id} was already dropped at {dropped_at} ({drop_reason})"
                )),
            }
        }
        if !refused.is_empty() {
            return invalid(format!("nothing dropped: {}", refused.join("; ")));
        }
        quarantine.append(&Record::Dropped {
            entries: wanted,
            reason: reason.to_owned(),
            time: crate::model::Timestamp::now().as_micros(),
        })?;
        Ok(())
    }
}
