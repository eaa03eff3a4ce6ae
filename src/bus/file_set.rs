//! The import-file set has one owner and one edit step. A checkpoint, a
//! merge and a retention pass each describe what they change as an
//! [`Edit`]; [`Bus::edit_files`] carries it out in the one order that is
//! safe at every crash point:
//!
//! 1. write every new file (import files, archive files, an active run,
//!    the checkpoint),
//!    each atomically (temp, fsync, rename, directory fsync);
//! 2. swap the manifest to name them instead of what they replace (the
//!    commit point: before it the old manifest is in force, after it the
//!    new one);
//! 3. publish the new set to the state, under its write lock, with the
//!    caller's own changes to the state in the same step;
//! 4. delete what was replaced (garbage only: a failure here, or a crash,
//!    is cleaned up at the next open, which removes every file the
//!    manifest does not name).

use std::collections::HashSet;
use std::sync::Arc;

use super::state::BusState;
use super::{archive_dir, lock, Bus};
use crate::segments::active_run::ActiveRun;
use crate::segments::blob::{encode_blob, write_atomically};
use crate::segments::error::ImportFileError;
use crate::segments::file::{write_import_file, ImportFile};
use crate::segments::manifest::MANIFEST;
use crate::segments::record::StoredInstance;
use crate::wal::Lsn;

/// Writes a new active run under the name it is given.
pub(super) type WriteRun<'a> = Box<dyn FnOnce(&str) -> Result<(), ImportFileError> + 'a>;

/// A change to the import-file set.
#[derive(Default)]
pub(super) struct Edit<'a> {
    /// Record sets, each written as a new online import file.
    pub add: Vec<Vec<Arc<StoredInstance>>>,
    /// Record sets, each written as a new file in `archive/`.
    pub archive: Vec<Vec<Arc<StoredInstance>>>,
    /// Online files this edit replaces: out of the manifest, then deleted.
    pub remove: Vec<Arc<ImportFile>>,
    /// A new checkpoint: its encoded blob and the LSN it reflects. The
    /// previous checkpoint is deleted once the manifest names this one.
    pub checkpoint: Option<(Vec<u8>, Lsn)>,
    /// A new active run: appended to the runs, or, when `remove_runs` is
    /// not empty, put in their place (a merge of runs).
    pub write_run: Option<WriteRun<'a>>,
    /// Active runs this edit replaces: out of the manifest, then deleted.
    pub remove_runs: Vec<Arc<ActiveRun>>,
}

impl Bus {
    /// Carries out `edit` (see the module doc for the order); `publish`
    /// makes the caller's own changes to the state in the same step as the
    /// new file set becomes visible; it is given the new active run, if
    /// the edit wrote one (a merge of runs is published here).
    pub(super) fn edit_files(
        &self,
        edit: Edit<'_>,
        publish: impl FnOnce(&mut BusState, Option<Arc<ActiveRun>>),
    ) -> Result<(), ImportFileError> {
        let storage = self.storage.as_ref();
        let dir = &self.files_dir;
        let old = lock(&self.manifest).clone();
        let mut manifest = old.clone();
        let mut next_name = |ext: &str| {
            let name = format!("{:012}.{ext}", manifest.next_file);
            manifest.next_file += 1;
            name
        };

        // 1. New files.
        let mut added = Vec::with_capacity(edit.add.len());
        let mut added_names = Vec::with_capacity(edit.add.len());
        for records in &edit.add {
            let name = next_name("seg");
            write_import_file(storage, dir, &name, records)?;
            added.push(Arc::new(ImportFile::open(storage, dir, &name)?));
            added_names.push(name);
        }
        let mut archived_names = Vec::with_capacity(edit.archive.len());
        if !edit.archive.is_empty() {
            let archive = archive_dir(dir);
            storage
                .create_dir_all(&archive)
                .map_err(ImportFileError::io("create directory", &archive))?;
            for records in &edit.archive {
                let name = next_name("seg");
                write_import_file(storage, &archive, &name, records)?;
                archived_names.push(name);
            }
        }
        let run = match edit.write_run {
            None => None,
            Some(write) => {
                let name = next_name("run");
                write(&name)?;
                Some(Arc::new(ActiveRun::open(storage, dir, &name)?))
            }
        };
        let checkpoint_name = match &edit.checkpoint {
            None => None,
            Some((blob, _)) => {
                let name = next_name("ckpt");
                write_atomically(storage, dir, &name, blob)
                    .map_err(ImportFileError::io("write", &dir.join(&name)))?;
                Some(name)
            }
        };

        // 2. The manifest swap: the commit point.
        let removed: HashSet<&str> = edit.remove.iter().map(|f| f.name.as_str()).collect();
        manifest.files.retain(|n| !removed.contains(n.as_str()));
        manifest.files.extend(added_names);
        manifest.archives.extend(archived_names);
        let removed_runs: HashSet<&str> =
            edit.remove_runs.iter().map(|r| r.name.as_str()).collect();
        let at = manifest
            .active_runs
            .iter()
            .position(|n| removed_runs.contains(n.as_str()))
            .unwrap_or(manifest.active_runs.len());
        manifest
            .active_runs
            .retain(|n| !removed_runs.contains(n.as_str()));
        if let Some(run) = &run {
            manifest
                .active_runs
                .insert(at.min(manifest.active_runs.len()), run.name.clone());
        }
        if let (Some(name), Some((_, lsn))) = (checkpoint_name, &edit.checkpoint) {
            manifest.checkpoint = Some(name);
            manifest.applied_lsn = *lsn;
        }
        manifest
            .store(storage, dir)
            .map_err(ImportFileError::io("write", &dir.join(MANIFEST)))?;

        // 3. Publish.
        {
            let mut st = self.write_state();
            st.files.retain(|f| !removed.contains(f.name.as_str()));
            st.files.extend(added);
            st.forget_superseded(removed.iter().copied());
            if edit.remove_runs.is_empty() {
                publish(&mut st, run);
            } else {
                st.nodes.replace_runs(&edit.remove_runs, run);
                publish(&mut st, None);
            }
        }
        let replaced_checkpoint = old
            .checkpoint
            .filter(|_| edit.checkpoint.is_some())
            .filter(|name| manifest.checkpoint.as_ref() != Some(name));
        *lock(&self.manifest) = manifest;

        // 4. Garbage only from here.
        let garbage = edit
            .remove
            .iter()
            .map(|f| f.path.clone())
            .chain(edit.remove_runs.iter().map(|r| r.path.clone()))
            .chain(replaced_checkpoint.map(|name| dir.join(name)));
        let mut deleted = false;
        for path in garbage {
            deleted |= storage.remove_file(&path).is_ok();
        }
        if deleted {
            let _ = storage.sync_dir(dir);
        }
        Ok(())
    }
}

/// Encodes a checkpoint blob (see `image`).
pub(super) fn checkpoint_blob(body: &[u8]) -> Vec<u8> {
    use super::image::{CHECKPOINT_MAGIC, CHECKPOINT_VERSION};
    encode_blob(&CHECKPOINT_MAGIC, CHECKPOINT_VERSION, body)
}
