//! How far each box shipped to a central store is: written by the
//! store's NATS source (`bamdb bus --nats`) at most once a second, read by
//! `bamdb stats`. Advisory figures: the import's own per-box mark
//! (`StoreStats::boxes`) is the authority on what is imported.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::wal::Lsn;

/// The file of a store where its NATS source writes how far each box is.
pub const SOURCES_FILE: &str = "nats-sources.json";

/// The largest status file read (about 50,000 boxes).
const MAX_FILE: u64 = 16 << 20;

/// How far one source box is, as `bamdb stats` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    /// The box's highest LSN appended to the store.
    pub applied_lsn: Lsn,
    /// The box's durable mark as its latest message told (how far its
    /// producer had gone when the shipper read it).
    pub synced_lsn: Lsn,
    /// `synced_lsn - applied_lsn`: frames of the box known to be on their
    /// way.
    pub lag: u64,
    /// Frames refused as out of order since the bus started.
    pub out_of_order: u64,
    /// When the latest message of the box arrived (milliseconds since the
    /// Unix epoch).
    pub last_message_ms: u64,
}

/// The source boxes' status a store's NATS source last wrote, by box id;
/// `None` if it has none (or it cannot be read).
pub fn read_sources(dir: &Path) -> Option<BTreeMap<String, SourceStatus>> {
    let path = dir.join(SOURCES_FILE);
    // A few hundred bytes per box: anything larger is not this file.
    if std::fs::metadata(&path).ok()?.len() > MAX_FILE {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}
