//! The store's figures, for monitoring and the `stats` command.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Store;
use crate::bus::quarantine::QuarantineCounts;
use crate::bus::state::BusState;
use crate::model::Counters;
use crate::wal::Lsn;

/// Figures about a store, for monitoring and the `stats` command.
#[derive(Debug, Clone, Serialize)]
pub struct StoreStats {
    /// The highest durable LSN in the message box.
    pub committed_lsn: Lsn,
    /// Every frame up to here is imported (or quarantined).
    pub applied_lsn: Lsn,
    /// Every frame up to here is in a durable checkpoint.
    pub checkpointed_lsn: Lsn,
    /// Frames committed but not yet imported.
    pub lag: u64,
    /// Bytes held in the message box.
    pub wal_bytes: u64,
    /// Message box segment files.
    pub wal_segments: usize,
    /// Import files (completed instances, in `segments/`).
    pub import_files: usize,
    /// Visible active instances.
    pub active: usize,
    /// Active runs: the files that hold the nodes of active and pending
    /// instances as of the last checkpoint.
    pub active_runs: usize,
    /// Their bytes.
    pub active_run_bytes: u64,
    /// Nodes changed since the last checkpoint, held in memory (bounded
    /// by `StoreOptions::active_cache_bytes`).
    pub active_changed: usize,
    /// Completed instances (in files and not yet written).
    pub completed: u64,
    /// Trees of events for ids not begun and not linked yet.
    pub pending: usize,
    /// Import counters.
    pub counters: Counters,
    /// Sequenced batches skipped because their (producer id, sequence) was
    /// imported before (see [`crate::EventStream::flush_sequenced`]).
    pub duplicates: u64,
    /// Per producer's message box (its id, 16 hex digits), the highest of
    /// its LSNs imported: how far `bamdb bus` has brought each box in.
    pub boxes: BTreeMap<String, Lsn>,
    /// Why the store is degraded, if it is: import retrying or halted,
    /// the message box writer stopped after an error, or too little disk
    /// space for the message box's next growth. Reads work in every case.
    pub degraded: Option<String>,
    /// The import stopped after its retries: nothing more is imported
    /// until the store is reopened (`degraded` says why; nothing committed
    /// is lost, it waits in the message box).
    pub import_halted: bool,
    /// Failed import steps that were retried since the store was opened.
    pub import_retries: u64,
    /// Quarantine entries by state (unresolved, resolved, dropped) and
    /// damaged quarantine records; `None` if the quarantine log could not
    /// be read (the reason is logged).
    pub quarantine: Option<QuarantineCounts>,
}

impl Store {
    /// Current figures.
    pub fn stats(&self) -> StoreStats {
        let bus = &self.bus;
        let wal = bus.wal().stats();
        let progress = bus.progress();
        // Reads keep working in every one of these states; writes do not.
        let reasons: Vec<String> = [
            progress.degraded,
            bus.wal()
                .poisoned()
                .map(|r| format!("message box writer stopped: {r}")),
            bus.wal().space_warning(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let degraded = (!reasons.is_empty()).then(|| reasons.join("; "));
        let st = bus.read_state();
        StoreStats {
            committed_lsn: wal.committed_lsn,
            applied_lsn: progress.applied,
            checkpointed_lsn: progress.checkpointed,
            lag: wal.committed_lsn.saturating_sub(progress.applied),
            wal_bytes: wal.bytes,
            wal_segments: wal.segments,
            degraded,
            import_halted: progress.halted,
            import_retries: progress.retries,
            quarantine: bus
                .quarantine()
                .counts()
                .map_err(|e| tracing::warn!(error = %e, "cannot count the quarantine entries"))
                .ok(),
            ..StoreStats::of_state(&st)
        }
    }
}

impl StoreStats {
    /// The figures `st` gives (instances, files, runs, counters); the
    /// message box's, the bus's and the quarantine's are zero or `None`,
    /// for the caller to fill in.
    pub(super) fn of_state(st: &BusState) -> StoreStats {
        let (active, pending) = st.active_and_pending();
        let runs = st.nodes.runs();
        let completed = (st.memtable.len() as u64
            + st.files.iter().map(|f| f.record_count).sum::<u64>())
        .saturating_sub(st.superseded_count());
        StoreStats {
            committed_lsn: st.applied_lsn,
            applied_lsn: st.applied_lsn,
            checkpointed_lsn: 0,
            lag: 0,
            wal_bytes: 0,
            wal_segments: 0,
            import_files: st.files.len(),
            active,
            active_runs: runs.len(),
            active_run_bytes: runs.iter().map(|r| r.bytes).sum(),
            active_changed: st.nodes.dirty_len(),
            completed,
            pending,
            counters: st.counters,
            duplicates: st.sequences.duplicates,
            boxes: st
                .sequences
                .boxes
                .iter()
                .map(|(id, lsn)| (format!("{id:016x}"), *lsn))
                .collect(),
            degraded: None,
            import_halted: false,
            import_retries: 0,
            quarantine: None,
        }
    }
}
