//! The checkpointed form of the bus state, and the one reader of
//! checkpoint files (for opening a store and for `verify`). The layout is
//! in `docs/FORMAT.md`, "Checkpoint".

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::aggregations::{AggregationSpec, Declared};
use super::state::{BusState, Key, Node};
use crate::model::{ActivityDefinition, Counters};
use crate::segments::blob::read_blob;
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::storage::Storage;
use crate::wal::Lsn;

pub(super) const CHECKPOINT_MAGIC: [u8; 8] = *b"BAMDBCKP";
/// 2: nodes keep every link with its stamp, and the checkpoint names the
/// superseded records of amended instances.
pub(super) const CHECKPOINT_VERSION: u32 = 2;
/// A checkpoint larger than this is refused when read (memory bound).
const MAX_CHECKPOINT: u64 = 4 << 30;

/// The part of the state a checkpoint persists.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct StateImage {
    pub applied_lsn: Lsn,
    /// Deployed definitions, JSON form.
    pub definitions: Vec<String>,
    pub nodes: Vec<(Key, Node)>,
    pub resolved: BTreeSet<u64>,
    pub counters: Counters,
    /// The quarantine's next entry id when the checkpoint was taken.
    pub quarantine_next: u64,
    /// Declared real-time aggregations (their totals are rebuilt on open).
    pub aggregations: Vec<AggregationSpec>,
    /// Records in import files that a newer version of their instance
    /// supersedes: (file name, roots).
    pub superseded: Vec<(String, Vec<Key>)>,
}

/// Reads and decodes a checkpoint file: the one reader, for opening a
/// store and for `verify`.
pub(crate) fn read_checkpoint(
    storage: &dyn Storage,
    path: &Path,
) -> Result<StateImage, ImportFileError> {
    let (version, body) = read_blob(storage, path, &CHECKPOINT_MAGIC, MAX_CHECKPOINT)?;
    if version != CHECKPOINT_VERSION {
        return Err(ImportFileError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
            reads: "2",
        });
    }
    postcard::from_bytes(&body).map_err(|e| {
        ImportFileError::corrupt(path, None, format!("checkpoint does not decode: {e}"))
    })
}

impl BusState {
    pub fn image(&self, quarantine_next: u64) -> StateImage {
        StateImage {
            applied_lsn: self.applied_lsn,
            definitions: self
                .definitions
                .values()
                .filter_map(|d| serde_json::to_string(d).ok())
                .collect(),
            nodes: self
                .nodes
                .iter()
                .map(|(k, n)| (k.clone(), n.clone()))
                .collect(),
            resolved: self.resolved.clone(),
            counters: self.counters,
            quarantine_next,
            aggregations: self.aggregations.values().map(|d| d.spec.clone()).collect(),
            superseded: self
                .superseded
                .iter()
                .map(|(name, roots)| (name.clone(), roots.iter().cloned().collect()))
                .collect(),
        }
    }

    /// The state a checkpoint (read from `path`) holds, over the import
    /// files the manifest names. Declared real-time aggregations are
    /// rebuilt by one scan.
    pub fn restore(
        snapshot: StateImage,
        files: Vec<Arc<ImportFile>>,
        path: &Path,
    ) -> Result<BusState, ImportFileError> {
        let damaged = |what: String| ImportFileError::corrupt(path, None, what);
        let mut definitions = BTreeMap::new();
        for json in &snapshot.definitions {
            let def: ActivityDefinition = serde_json::from_str(json)
                .map_err(|e| damaged(format!("checkpoint definition: {e}")))?;
            definitions.insert(def.name.clone(), def);
        }
        let mut state = BusState {
            applied_lsn: snapshot.applied_lsn,
            definitions,
            nodes: snapshot.nodes.into_iter().collect(),
            resolved: snapshot.resolved,
            counters: snapshot.counters,
            memtable: BTreeMap::new(),
            aliases: HashMap::new(),
            files,
            aggregations: BTreeMap::new(),
            superseded: snapshot
                .superseded
                .into_iter()
                .map(|(name, roots)| (name, roots.into_iter().collect()))
                .collect(),
        };
        for spec in snapshot.aggregations {
            let instances = state.all_instances(&spec.activity)?;
            let declared = Declared::build(spec, instances)
                .map_err(|e| damaged(format!("checkpoint aggregation: {e}")))?;
            state
                .aggregations
                .insert(declared.spec.name.clone(), declared);
        }
        Ok(state)
    }
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
