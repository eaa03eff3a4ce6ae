//! Checkpoints, and opening the state they leave. A checkpoint writes the
//! completed instances to a new import file and the active state to a
//! checkpoint file, and the manifest names both with the applied LSN (one
//! edit of the file set, see `file_set`); only then is the message box
//! trimmed. Then the merge policy and retention run. Opening reads the
//! manifest, the import files and the checkpoint, and removes the files an
//! interrupted edit left behind.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use super::file_set::{checkpoint_blob, Edit};
use super::image::{read_checkpoint, StateImage};
use super::quarantine::{Quarantine, Record};
use super::state::BusState;
use super::Bus;
use crate::error::StoreError;
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::segments::manifest::{Manifest, MANIFEST};
use crate::storage::Storage;
use crate::wal::Lsn;

/// Takes a checkpoint, retrying transient failures; false if the bus must
/// halt.
pub(crate) fn run_with_retry(bus: &Bus) -> bool {
    bus.retry("checkpoint", || take(bus)).is_some()
}

fn take(bus: &Bus) -> Result<(), StoreError> {
    let quarantine_next = bus.quarantine.next_id()?;
    let (snapshot, completed, applied) = {
        let st = bus.read_state();
        let body = postcard::to_allocvec(&st.image(quarantine_next)).map_err(|e| {
            ImportFileError::Encode {
                path: bus.files_dir.clone(),
                what: "checkpoint",
                reason: e.to_string(),
            }
        })?;
        let completed: Vec<_> = st.memtable.values().cloned().collect();
        (body, completed, st.applied_lsn)
    };
    let edit = Edit {
        add: if completed.is_empty() {
            Vec::new()
        } else {
            vec![completed.clone()]
        },
        checkpoint: Some((checkpoint_blob(&snapshot), applied)),
        ..Edit::default()
    };
    // Once the manifest names the new file, its records leave the memtable.
    bus.edit_files(edit, |st| {
        for rec in &completed {
            let key = (rec.activity.clone(), rec.id.clone());
            st.memtable.remove(&key);
            for token in &rec.continuations {
                st.aliases.remove(&(rec.activity.clone(), token.clone()));
            }
        }
    })?;
    if let Err(e) = bus.wal.trim(applied) {
        tracing::warn!(error = %e, "message box trim failed; retried at the next checkpoint");
    }
    super::merge::merge_if_needed(bus)?;
    super::retention::apply(bus)?;
    // Published last, so a caller that waits for it knows the whole
    // checkpoint (clean-up, trim, merge) is over.
    bus.publish_checkpointed(applied);
    Ok(())
}

/// What a store opens with.
pub(crate) struct Opened {
    pub state: BusState,
    pub manifest: Manifest,
    /// Message box LSNs already quarantined after the checkpoint.
    pub quarantined: HashSet<Lsn>,
}

/// Loads the manifest, the import files and the checkpoint, and removes
/// files an interrupted edit of the file set left behind. I/O failures are
/// [`StoreError::Io`]; damage is [`StoreError::Corrupt`], located.
pub(crate) fn open_state(
    storage: &dyn Storage,
    dir: &Path,
    quarantine: &Quarantine,
) -> Result<Opened, StoreError> {
    let manifest = Manifest::load(storage, dir)?.unwrap_or(Manifest {
        next_file: 1,
        ..Manifest::default()
    });
    let mut files = Vec::with_capacity(manifest.files.len());
    for name in &manifest.files {
        files.push(Arc::new(ImportFile::open(storage, dir, name)?));
    }
    let (snapshot, source) = match &manifest.checkpoint {
        None => (StateImage::default(), dir.join(MANIFEST)),
        Some(name) => {
            let path = dir.join(name);
            (read_checkpoint(storage, &path)?, path)
        }
    };
    if snapshot.applied_lsn != manifest.applied_lsn && manifest.checkpoint.is_some() {
        return Err(StoreError::Corrupt {
            location: source.display().to_string(),
            reason: format!(
                "checkpoint holds LSN {} but the manifest says {}",
                snapshot.applied_lsn, manifest.applied_lsn
            ),
        });
    }
    let quarantine_next = snapshot.quarantine_next.max(1);
    let state = BusState::restore(snapshot, files, &source)?;

    // Files the manifest does not name are left from an interrupted edit.
    let live: HashSet<&str> = manifest
        .files
        .iter()
        .map(String::as_str)
        .chain(manifest.checkpoint.as_deref())
        .chain([MANIFEST, "LOCK"])
        .collect();
    let names = storage.list_dir(dir).map_err(|source| StoreError::Io {
        op: "list",
        path: dir.to_path_buf(),
        source,
    })?;
    remove_unnamed(storage, dir, &names, &live)?;
    // The same in `archive/`, if retention ever made it.
    let archive = super::retention::archive_dir(dir);
    if let Ok(names) = storage.list_dir(&archive) {
        let live: HashSet<&str> = manifest.archives.iter().map(String::as_str).collect();
        remove_unnamed(storage, &archive, &names, &live)?;
    }

    let mut sources = HashSet::new();
    for (_, rec) in quarantine.records(quarantine_next)? {
        match rec {
            Ok(Record::Entry { source, .. }) => {
                sources.insert(source.lsns.0);
            }
            Ok(Record::Resolved { lsn, .. }) | Ok(Record::ReplayFailed { lsn, .. }) => {
                sources.insert(lsn);
            }
            // A drop comes from the operator, not from a message box frame.
            Ok(Record::Dropped { .. }) | Err(_) => {}
        }
    }
    Ok(Opened {
        state,
        manifest,
        quarantined: sources,
    })
}

/// Removes the files of `dir` (its listing: `names`) not in `live`, then
/// syncs the directory.
fn remove_unnamed(
    storage: &dyn Storage,
    dir: &Path,
    names: &[String],
    live: &HashSet<&str>,
) -> Result<(), StoreError> {
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { op, path, source }
    };
    let mut removed = false;
    for name in names.iter().filter(|n| !live.contains(n.as_str())) {
        let path = dir.join(name);
        storage
            .remove_file(&path)
            .map_err(io("remove stale file", &path))?;
        removed = true;
    }
    if removed {
        storage.sync_dir(dir).map_err(io("fsync directory", dir))?;
    }
    Ok(())
}
