//! Amending completed instances: an event that reaches a completed instance
//! (a late update, a part that ended after the root, a replayed frame, a
//! link naming one of its parts) reopens it. Its parts come back into the
//! active state from the record, the event is applied by the same rules as
//! any other, and the instance completes again as a new version.
//!
//! Import files are immutable, so the old version stays in its file and
//! is *superseded*: the bus remembers (file, root key) pairs whose record
//! is no longer the instance's current version, lookups and scans skip
//! them, and merges and retention leave them out of the files they write.
//! The superseded set is part of the checkpoint, so it becomes durable with
//! the new version (see `docs/FORMAT.md`).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::state::{BusState, Key, Node};
use super::tree::decode_parts;
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::segments::keys::KeyProbe;
use crate::segments::record::StoredInstance;

/// Where a completed instance's current version is.
pub(super) enum Place {
    /// In the memtable (not in a file yet).
    Memtable,
    /// In this import file.
    File(String),
}

/// A completed instance found for a key.
pub(super) struct Found {
    pub root: Key,
    pub place: Place,
    pub record: Arc<StoredInstance>,
}

/// A completed instance to reopen, its parts decoded.
pub(super) struct Reopen {
    pub root: Key,
    pub place: Place,
    pub parts: Vec<(String, Node)>,
}

impl BusState {
    /// The current version of the completed instance with this id or
    /// continuation token, if any, and where it is.
    pub(super) fn find_completed(&self, key: &Key) -> Result<Option<Found>, ImportFileError> {
        let root = self.aliases.get(key).unwrap_or(key);
        if let Some(rec) = self.memtable.get(root) {
            return Ok(Some(Found {
                root: root.clone(),
                place: Place::Memtable,
                record: rec.clone(),
            }));
        }
        let probe = KeyProbe::of(&key.0, &key.1);
        for file in self.files.iter().rev() {
            let Some(rec) = file.get_probed(&key.0, &key.1, &probe)? else {
                continue;
            };
            let root = (rec.activity.clone(), rec.id.clone());
            if self.is_superseded(&file.name, &root) {
                continue; // an older version; the current one is elsewhere
            }
            return Ok(Some(Found {
                root,
                place: Place::File(file.name.clone()),
                record: Arc::new(rec),
            }));
        }
        Ok(None)
    }

    /// Whether the record of `root` in file `name` is an old version.
    pub(crate) fn is_superseded(&self, name: &str, root: &Key) -> bool {
        self.superseded
            .get(name)
            .is_some_and(|roots| roots.contains(root))
    }

    /// The superseded roots of `file` (empty for most files).
    pub(crate) fn superseded_in(&self, file: &ImportFile) -> BTreeSet<Key> {
        self.superseded.get(&file.name).cloned().unwrap_or_default()
    }

    /// The completed instances that these keys (event ids and link
    /// tokens) reach, with their parts decoded; nothing changes yet, so a
    /// frame whose instances cannot be read is refused whole.
    pub(super) fn to_reopen(&self, keys: &[&Key]) -> Result<Vec<Reopen>, String> {
        let mut out: Vec<Reopen> = Vec::new();
        for &key in keys {
            if self.nodes.contains_key(key) {
                continue;
            }
            let Some(found) = self.find_completed(key).map_err(|e| e.to_string())? else {
                continue;
            };
            if out.iter().any(|r| r.root == found.root) {
                continue;
            }
            if found.record.parts.is_empty() {
                return Err(format!(
                    "instance {}/{} was completed by an older bamdb (import file version 1, \
                     no parts stored) and cannot be amended",
                    found.root.0, found.root.1
                ));
            }
            let parts = decode_parts(&found.record).map_err(|e| {
                format!("completed instance {}/{}: {e}", found.root.0, found.root.1)
            })?;
            out.push(Reopen {
                root: found.root,
                place: found.place,
                parts,
            });
        }
        Ok(out)
    }

    /// Brings a completed instance's parts back into the active state and
    /// supersedes its record.
    pub(super) fn reopen(&mut self, reopen: Reopen) {
        let Reopen { root, place, parts } = reopen;
        match place {
            Place::Memtable => {
                if let Some(rec) = self.memtable.remove(&root) {
                    for token in &rec.continuations {
                        self.aliases.remove(&(root.0.clone(), token.clone()));
                    }
                }
            }
            Place::File(name) => {
                self.superseded
                    .entry(name)
                    .or_default()
                    .insert(root.clone());
            }
        }
        for (id, node) in parts {
            self.nodes.insert((root.0.clone(), id), node);
        }
        self.counters.instances_completed = self.counters.instances_completed.saturating_sub(1);
    }

    /// Forgets the superseded records of files that left the live set (a
    /// merge or retention wrote their current records elsewhere).
    pub(crate) fn forget_superseded<'a>(&mut self, gone: impl IntoIterator<Item = &'a str>) {
        for name in gone {
            self.superseded.remove(name);
        }
    }

    /// Superseded records in the live files.
    pub(crate) fn superseded_count(&self) -> u64 {
        self.files
            .iter()
            .map(|f| self.superseded.get(&f.name).map_or(0, |s| s.len() as u64))
            .sum()
    }
}
