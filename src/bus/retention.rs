//! Retention: completed instances whose end time is older than the online
//! window leave the online store at a checkpoint, archived (to
//! `<store>/archive/`, same file format) or dropped. Active instances are
//! never touched. Like a merge, it is one edit of the file set (see
//! `file_set`): new files first, the manifest swap, then the deletes.
//!
//! Once an instance has left the online store its id is free again: an
//! event for it starts a new instance (as in BAM, where archived data is
//! out of the online tables).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::file_set::Edit;
use super::Bus;
use crate::model::Timestamp;
use crate::options::{Retention, RetentionAction};
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::segments::record::StoredInstance;
use crate::storage::Storage;

/// The archive directory of a store, beside `segments/`.
pub(crate) fn archive_dir(files_dir: &Path) -> PathBuf {
    files_dir
        .parent()
        .map_or_else(|| PathBuf::from("archive"), |p| p.join("archive"))
}

/// The archive files `names` of the store whose import files are in
/// `files_dir`, opened: what a writer's bus and a read-only reader both
/// read, each from its own copy of the manifest.
pub(crate) fn open_archives(
    storage: &dyn Storage,
    files_dir: &Path,
    names: &[String],
) -> Result<Vec<ImportFile>, ImportFileError> {
    let dir = archive_dir(files_dir);
    names
        .iter()
        .map(|n| ImportFile::open(storage, &dir, n))
        .collect()
}

/// Applies the retention policy to the import files, if one is set.
pub(crate) fn apply(bus: &Bus) -> Result<(), ImportFileError> {
    match bus.options.retention {
        Some(policy) => apply_with(bus, policy).map(|_| ()),
        None => Ok(()),
    }
}

/// Applies `policy` now; returns how many instances left the online store.
pub(crate) fn apply_with(bus: &Bus, policy: Retention) -> Result<usize, ImportFileError> {
    let window = i64::try_from(policy.online_window.as_micros()).unwrap_or(i64::MAX);
    let cutoff = Timestamp::now().as_micros().saturating_sub(window);
    let victims: Vec<Arc<ImportFile>> = bus
        .read_state()
        .files
        .iter()
        .filter(|f| f.min_end < cutoff)
        .cloned()
        .collect();
    if victims.is_empty() {
        return Ok(0);
    }
    let mut edit = Edit {
        remove: victims.clone(),
        ..Edit::default()
    };
    let mut retired: Vec<StoredInstance> = Vec::new();
    for file in &victims {
        let (mut old, mut keep) = (Vec::new(), Vec::new());
        // Old versions of amended instances are left out (retention, like
        // a merge, runs right after a checkpoint that names them).
        let superseded = bus.read_state().superseded_in(file);
        for rec in file.records() {
            let rec = rec?;
            if superseded.contains(&(rec.activity.clone(), rec.id.clone())) {
                continue;
            }
            if rec.end.is_some_and(|end| end < cutoff) {
                old.push(Arc::new(rec));
            } else {
                keep.push(Arc::new(rec));
            }
        }
        retired.extend(old.iter().map(|r| r.as_ref().clone()));
        if !keep.is_empty() {
            edit.add.push(keep);
        }
        if policy.action == RetentionAction::Archive && !old.is_empty() {
            edit.archive.push(old);
        }
    }
    bus.edit_files(edit, |st, _| st.retire(&retired))?;
    tracing::info!(instances = retired.len(), ?policy.action, "retention applied");
    Ok(retired.len())
}
