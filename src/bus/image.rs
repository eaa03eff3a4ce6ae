//! The checkpointed form of the bus state, and the one reader of
//! checkpoint files (for opening a store and for `verify`). The layout is
//! in `docs/FORMAT.md`, "Checkpoint".

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::aggregations::{AggregationSpec, Declared, DeclaredImage};
use super::idempotency::{Sequences, SequencesV5};
use super::nodes::{Census, Nodes};
use super::state::{BusState, Key, Node};
use crate::model::{ActivityDefinition, Counters};
use crate::segments::active_run::ActiveRun;
use crate::segments::blob::read_blob;
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::storage::Storage;
use crate::wal::Lsn;

pub(super) const CHECKPOINT_MAGIC: [u8; 8] = *b"BAMDBCKP";
/// 6: the sequences also hold the highest LSN imported per producer's
/// message box.
/// 5: the image is followed by the highest sequence number imported per
/// producer and the count of duplicates skipped (see `idempotency`).
/// 4: each declared real-time aggregation is stored with its totals, so
/// opening a store does not rebuild them by a scan.
/// 3: the nodes of active and pending instances live in active runs (the
/// manifest names them); the checkpoint holds their census (read: its
/// aggregations are rebuilt by one scan).
/// 2: nodes keep every link with its stamp, and the checkpoint names the
/// superseded records of amended instances (read: its nodes join the dirty
/// set, and the next checkpoint writes them as the store's first run).
pub(super) const CHECKPOINT_VERSION: u32 = 6;
const CHECKPOINT_VERSION_5: u32 = 5;
const CHECKPOINT_VERSION_4: u32 = 4;
const CHECKPOINT_VERSION_3: u32 = 3;
const CHECKPOINT_VERSION_2: u32 = 2;
/// A checkpoint larger than this is refused when read (memory bound).
const MAX_CHECKPOINT: u64 = 4 << 30;

/// The part of the state a checkpoint persists (the nodes are in the
/// active runs, see `nodes`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct StateImage {
    pub applied_lsn: Lsn,
    /// Deployed definitions, JSON form.
    pub definitions: Vec<String>,
    pub resolved: BTreeSet<u64>,
    pub counters: Counters,
    /// The quarantine's next entry id when the checkpoint was taken.
    pub quarantine_next: u64,
    /// Declared real-time aggregations with their totals.
    pub aggregations: Vec<DeclaredImage>,
    /// Records in import files that a newer version of their instance
    /// supersedes: (file name, roots).
    pub superseded: Vec<(String, Vec<Key>)>,
    /// The census of the active runs the manifest names with it.
    pub census: Census,
}

/// A version-3 checkpoint: aggregations without their totals.
#[derive(Deserialize)]
struct StateImageV3 {
    applied_lsn: Lsn,
    definitions: Vec<String>,
    resolved: BTreeSet<u64>,
    counters: Counters,
    quarantine_next: u64,
    aggregations: Vec<AggregationSpec>,
    superseded: Vec<(String, Vec<Key>)>,
    census: Census,
}

/// A version-2 checkpoint: every node in it.
#[derive(Deserialize)]
struct StateImageV2 {
    applied_lsn: Lsn,
    definitions: Vec<String>,
    nodes: Vec<(Key, Node)>,
    resolved: BTreeSet<u64>,
    counters: Counters,
    quarantine_next: u64,
    aggregations: Vec<AggregationSpec>,
    superseded: Vec<(String, Vec<Key>)>,
}

/// A checkpoint as read: the image, the nodes a version-2 checkpoint held,
/// and the aggregations an older checkpoint stored without totals (both
/// empty from version 4 on), and the sequences (empty before version 5).
#[derive(Debug, Default)]
pub(crate) struct Checkpoint {
    pub image: StateImage,
    pub legacy_nodes: Vec<(Key, Node)>,
    pub legacy_aggregations: Vec<AggregationSpec>,
    pub sequences: Sequences,
}

/// Reads and decodes a checkpoint file: the one reader, for opening a
/// store and for `verify`.
pub(crate) fn read_checkpoint(
    storage: &dyn Storage,
    path: &Path,
) -> Result<Checkpoint, ImportFileError> {
    let (version, body) = read_blob(storage, path, &CHECKPOINT_MAGIC, MAX_CHECKPOINT)?;
    decode(version, &body, path)
}

/// Decodes the body of a checkpoint of `version` read from `path`.
pub(super) fn decode(
    version: u32,
    body: &[u8],
    path: &Path,
) -> Result<Checkpoint, ImportFileError> {
    let damaged = |e: postcard::Error| {
        ImportFileError::corrupt(path, None, format!("checkpoint does not decode: {e}"))
    };
    match version {
        CHECKPOINT_VERSION => {
            let (image, rest) = postcard::take_from_bytes(body).map_err(damaged)?;
            let (sequences, rest) = postcard::take_from_bytes(rest).map_err(damaged)?;
            expect_end(rest, path)?;
            Ok(Checkpoint {
                image,
                sequences,
                ..Checkpoint::default()
            })
        }
        CHECKPOINT_VERSION_5 => {
            let (image, rest) = postcard::take_from_bytes(body).map_err(damaged)?;
            let (sequences, rest) =
                postcard::take_from_bytes::<SequencesV5>(rest).map_err(damaged)?;
            expect_end(rest, path)?;
            Ok(Checkpoint {
                image,
                sequences: sequences.into(),
                ..Checkpoint::default()
            })
        }
        CHECKPOINT_VERSION_4 => Ok(Checkpoint {
            image: postcard::from_bytes(body).map_err(damaged)?,
            ..Checkpoint::default()
        }),
        CHECKPOINT_VERSION_3 => {
            let v3: StateImageV3 = postcard::from_bytes(body).map_err(damaged)?;
            Ok(Checkpoint {
                image: StateImage {
                    applied_lsn: v3.applied_lsn,
                    definitions: v3.definitions,
                    resolved: v3.resolved,
                    counters: v3.counters,
                    quarantine_next: v3.quarantine_next,
                    aggregations: Vec::new(),
                    superseded: v3.superseded,
                    census: v3.census,
                },
                legacy_nodes: Vec::new(),
                legacy_aggregations: v3.aggregations,
                sequences: Sequences::default(),
            })
        }
        CHECKPOINT_VERSION_2 => {
            let v2: StateImageV2 = postcard::from_bytes(body).map_err(damaged)?;
            Ok(Checkpoint {
                image: StateImage {
                    applied_lsn: v2.applied_lsn,
                    definitions: v2.definitions,
                    resolved: v2.resolved,
                    counters: v2.counters,
                    quarantine_next: v2.quarantine_next,
                    aggregations: Vec::new(),
                    superseded: v2.superseded,
                    census: Census::default(),
                },
                legacy_nodes: v2.nodes,
                legacy_aggregations: v2.aggregations,
                sequences: Sequences::default(),
            })
        }
        _ => Err(ImportFileError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
            reads: "2 to 6",
        }),
    }
}

/// Bytes after a checkpoint's last value are damage.
fn expect_end(rest: &[u8], path: &Path) -> Result<(), ImportFileError> {
    if rest.is_empty() {
        return Ok(());
    }
    Err(ImportFileError::corrupt(
        path,
        None,
        format!("checkpoint has {} bytes after its end", rest.len()),
    ))
}

impl BusState {
    /// The body of a checkpoint of the state (current version): its image,
    /// then its sequences.
    pub fn checkpoint_body(
        &self,
        quarantine_next: u64,
        census: Census,
    ) -> Result<Vec<u8>, postcard::Error> {
        let body = postcard::to_allocvec(&self.image(quarantine_next, census))?;
        postcard::to_extend(&self.sequences, body)
    }

    /// The image of the state (`census`: the census the runs will have
    /// once the checkpoint's run is written).
    pub fn image(&self, quarantine_next: u64, census: Census) -> StateImage {
        StateImage {
            applied_lsn: self.applied_lsn,
            definitions: self
                .definitions
                .values()
                .filter_map(|d| serde_json::to_string(d).ok())
                .collect(),
            resolved: self.resolved.clone(),
            counters: self.counters,
            quarantine_next,
            aggregations: self.aggregations.values().map(Declared::image).collect(),
            superseded: self
                .superseded
                .iter()
                .map(|(name, roots)| (name.clone(), roots.iter().cloned().collect()))
                .collect(),
            census,
        }
    }

    /// The state a checkpoint (read from `path`) holds, over the import
    /// files and active runs the manifest names. Declared real-time
    /// aggregations come with their totals (an older checkpoint's are
    /// rebuilt by one scan).
    pub fn restore(
        checkpoint: Checkpoint,
        files: Vec<Arc<ImportFile>>,
        runs: Vec<Arc<ActiveRun>>,
        path: &Path,
    ) -> Result<BusState, ImportFileError> {
        let Checkpoint {
            image: snapshot,
            legacy_nodes,
            legacy_aggregations,
            sequences,
        } = checkpoint;
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
            nodes: Nodes::open(runs, snapshot.census),
            resolved: snapshot.resolved,
            counters: snapshot.counters,
            memtable: crate::fast_hash::FastMap::default(),
            aliases: crate::fast_hash::FastMap::default(),
            files,
            aggregations: BTreeMap::new(),
            superseded: snapshot
                .superseded
                .into_iter()
                .map(|(name, roots)| (name, roots.into_iter().collect()))
                .collect(),
            sequences,
        };
        for (key, node) in legacy_nodes {
            state.nodes.insert(key, node);
        }
        for image in snapshot.aggregations {
            let declared = Declared::restore(image)
                .map_err(|e| damaged(format!("checkpoint aggregation: {e}")))?;
            state
                .aggregations
                .insert(declared.spec.name.clone(), declared);
        }
        for spec in legacy_aggregations {
            let mut declared = Declared::empty(spec)
                .map_err(|e| damaged(format!("checkpoint aggregation: {e}")))?;
            state.for_each_instance(&declared.spec.activity, |i| {
                declared.running.apply(None, Some(&i));
            })?;
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
