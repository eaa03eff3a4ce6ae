//! The import counters a store keeps (checkpointed with the bus state).

use serde::{Deserialize, Serialize};

/// Import counters, checkpointed with the state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Frames applied to the primary import.
    pub frames_imported: u64,
    /// Events in those frames.
    pub events_imported: u64,
    /// Frames (or damaged regions) sent to quarantine.
    pub frames_quarantined: u64,
    /// Events in quarantined frames (as far as they could be decoded).
    pub events_quarantined: u64,
    /// Instances that completed.
    pub instances_completed: u64,
    /// Quarantined frames later imported by a replay.
    pub frames_replayed: u64,
}
