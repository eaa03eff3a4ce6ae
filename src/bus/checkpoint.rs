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
use super::quarantine::{Quarantine, Record};
use super::snapshot::{read_checkpoint, Snapshot};
use super::state::BusState;
use super::Bus;
use crate::segments::file::SegmentFile;
use crate::segments::manifest::{Manifest, MANIFEST};
use crate::storage::Storage;
use crate::wal::Lsn;

/// Takes a checkpoint, retrying transient failures; false if the bus must
/// halt.
pub(crate) fn run_with_retry(bus: &Bus) -> bool {
    bus.retry("checkpoint", || take(bus)).is_some()
}

fn take(bus: &Bus) -> Result<(), String> {
    let quarantine_next = bus.quarantine.next_id().map_err(|e| e.to_string())?;
    let (snapshot, completed, applied) = {
        let st = bus.read_state();
        let body = postcard::to_allocvec(&st.snapshot(quarantine_next))
            .map_err(|e| format!("encode checkpoint: {e}"))?;
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
/// files an interrupted checkpoint left behind.
pub(crate) fn open_state(
    storage: &dyn Storage,
    dir: &Path,
    quarantine: &Quarantine,
) -> Result<Opened, String> {
    let manifest = Manifest::load(storage, dir)?.unwrap_or(Manifest {
        next_file: 1,
        ..Manifest::default()
    });
    let mut files = Vec::with_capacity(manifest.segments.len());
    for name in &manifest.segments {
        let file = SegmentFile::open(storage, dir, name)
            .map_err(|e| format!("import file {}: {e}", dir.join(name).display()))?;
        files.push(Arc::new(file));
    }
    let snapshot: Snapshot = match &manifest.checkpoint {
        None => Snapshot::default(),
        Some(name) => {
            let path = dir.join(name);
            read_checkpoint(storage, &path)
                .map_err(|e| format!("checkpoint {}: {e}", path.display()))?
        }
    };
    if snapshot.applied_lsn != manifest.applied_lsn && manifest.checkpoint.is_some() {
        return Err(format!(
            "checkpoint holds LSN {} but the manifest says {}",
            snapshot.applied_lsn, manifest.applied_lsn
        ));
    }
    let quarantine_next = snapshot.quarantine_next.max(1);
    let state = BusState::restore(snapshot, files)?;

    // Files the manifest does not name are left from an interrupted
    // checkpoint: remove them.
    let live: HashSet<&str> = manifest
        .segments
        .iter()
        .map(String::as_str)
        .chain(manifest.checkpoint.as_deref())
        .chain([MANIFEST])
        .collect();
    let names = storage
        .list_dir(dir)
        .map_err(|e| format!("list {}: {e}", dir.display()))?;
    let mut removed = false;
    for name in names
        .iter()
        .filter(|n| !live.contains(n.as_str()) && *n != "LOCK")
    {
        storage
            .remove_file(&dir.join(name))
            .map_err(|e| format!("remove stale {name}: {e}"))?;
        removed = true;
    }
    if removed {
        storage
            .sync_dir(dir)
            .map_err(|e| format!("fsync {}: {e}", dir.display()))?;
    }

    // The same for archive files an interrupted retention pass left.
    let archive = super::retention::archive_dir(dir);
    if let Ok(names) = storage.list_dir(&archive) {
        let live: HashSet<&str> = manifest.archives.iter().map(String::as_str).collect();
        let mut removed = false;
        for name in names.iter().filter(|n| !live.contains(n.as_str())) {
            storage
                .remove_file(&archive.join(name))
                .map_err(|e| format!("remove stale archive {name}: {e}"))?;
            removed = true;
        }
        if removed {
            storage
                .sync_dir(&archive)
                .map_err(|e| format!("fsync {}: {e}", archive.display()))?;
        }
    }

    let mut sources = HashSet::new();
    let records = quarantine
        .records(quarantine_next)
        .map_err(|e| format!("quarantine: {e}"))?;
    for (_, rec) in records {
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
