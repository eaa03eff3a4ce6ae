//! Retention: completed instances whose end time is older than the online
//! window leave the online store at a checkpoint, archived (to
//! `<store>/archive/`, same file format) or dropped. Active instances are
//! never touched. Like a merge, it writes the new files first, swaps the
//! manifest, and only then deletes what was replaced; files the manifest
//! does not name are removed at the next open.
//!
//! Once an instance has left the online store its id is free again: an
//! event for it starts a new instance (as in BAM, where archived data is
//! out of the online tables).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{lock, Shared};
use crate::model::Timestamp;
use crate::segments::file::{write_import_file, ImportFile};
use crate::segments::record::StoredInstance;
use crate::store::RetentionAction;

/// The archive directory of a store, beside `segments/`.
pub(crate) fn archive_dir(segments_dir: &Path) -> PathBuf {
    segments_dir
        .parent()
        .map_or_else(|| PathBuf::from("archive"), |p| p.join("archive"))
}

/// Applies the retention policy to the import files, if one is set.
pub(crate) fn apply(shared: &Shared) -> Result<(), String> {
    match shared.options.retention {
        Some(policy) => apply_with(shared, policy).map(|_| ()),
        None => Ok(()),
    }
}

/// Applies `policy` now; returns how many instances left the online store.
pub(crate) fn apply_with(
    shared: &Shared,
    policy: crate::store::Retention,
) -> Result<usize, String> {
    let window = i64::try_from(policy.online_window.as_micros()).unwrap_or(i64::MAX);
    let cutoff = Timestamp::now().as_micros().saturating_sub(window);
    let victims: Vec<Arc<ImportFile>> = shared
        .read_state()
        .files
        .iter()
        .filter(|f| f.min_end < cutoff)
        .cloned()
        .collect();
    if victims.is_empty() {
        return Ok(0);
    }
    let storage = shared.storage.as_ref();
    let dir = &shared.segments_dir;
    let archive = archive_dir(dir);
    storage
        .create_dir_all(&archive)
        .map_err(|e| format!("create {}: {e}", archive.display()))?;
    let mut manifest = lock(&shared.manifest).clone();
    let mut retired: Vec<StoredInstance> = Vec::new();
    let mut new_files = Vec::new();
    for file in &victims {
        let (mut old, mut keep) = (Vec::new(), Vec::new());
        // Old versions of amended instances are left out (retention, like
        // a merge, runs right after a checkpoint that names them).
        let superseded = shared.read_state().superseded_in(file);
        for rec in file.records() {
            let rec = rec.map_err(|e| e.to_string())?;
            if superseded.contains(&(rec.activity.clone(), rec.id.clone())) {
                continue;
            }
            if rec.end.is_some_and(|end| end < cutoff) {
                old.push(Arc::new(rec));
            } else {
                keep.push(Arc::new(rec));
            }
        }
        if !keep.is_empty() {
            let name = format!("{:012}.seg", manifest.next_file);
            manifest.next_file += 1;
            write_import_file(storage, dir, &name, &keep).map_err(|e| e.to_string())?;
            new_files.push(Arc::new(
                ImportFile::open(storage, dir, &name).map_err(|e| e.to_string())?,
            ));
            manifest.segments.push(name);
        }
        if policy.action == RetentionAction::Archive && !old.is_empty() {
            let name = format!("{:012}.seg", manifest.next_file);
            manifest.next_file += 1;
            write_import_file(storage, &archive, &name, &old).map_err(|e| e.to_string())?;
            manifest.archives.push(name);
        }
        retired.extend(old.iter().map(|r| r.as_ref().clone()));
    }
    let gone: HashSet<&str> = victims.iter().map(|f| f.name.as_str()).collect();
    manifest.segments.retain(|n| !gone.contains(n.as_str()));
    manifest
        .store(storage, dir)
        .map_err(|e| format!("write manifest: {e}"))?;
    {
        let mut st = shared.write_state();
        st.files.retain(|f| !gone.contains(f.name.as_str()));
        st.files.extend(new_files);
        st.forget_superseded(gone.iter().copied());
        st.retire(&retired);
    }
    *lock(&shared.manifest) = manifest;
    for file in &victims {
        let _ = storage.remove_file(&file.path);
    }
    let _ = storage.sync_dir(dir);
    tracing::info!(instances = retired.len(), ?policy.action, "retention applied");
    Ok(retired.len())
}
