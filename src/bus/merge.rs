//! The merge policy: keeps the number of small import files bounded, so
//! a lookup probes a bounded number of files and a file's fixed costs
//! (index, filter, mapping) stay small per record.

use std::sync::Arc;

use super::file_set::Edit;
use super::Bus;
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;

/// Import files allowed before some are merged.
const MAX_FILES: usize = 8;
/// How many files one merge combines.
const MERGE_FANIN: usize = 4;
/// A merge reads its sources into memory: it takes at most this many
/// records, so its memory is bounded whatever the data size. Files that
/// reached this size are left alone; beyond them the number of files grows
/// by one per this many completed instances.
const MAX_MERGE_RECORDS: u64 = 40_000;

/// Keeps the number of small import files bounded: once more than
/// `MAX_FILES` files are smaller than half of `MAX_MERGE_RECORDS`, the
/// `MERGE_FANIN` smallest are merged into one (size-tiered, so each record
/// is rewritten about log4(n) times, not at every merge). The merged file
/// replaces its sources in one edit of the file set (see `file_set`).
pub(super) fn merge_if_needed(bus: &Bus) -> Result<(), ImportFileError> {
    let sources: Vec<Arc<ImportFile>> = {
        let st = bus.read_state();
        let mut small: Vec<Arc<ImportFile>> = st
            .files
            .iter()
            .filter(|f| f.record_count < MAX_MERGE_RECORDS / 2)
            .cloned()
            .collect();
        if small.len() <= MAX_FILES {
            return Ok(());
        }
        small.sort_by_key(|f| f.record_count);
        let mut picked = Vec::new();
        let mut total = 0;
        for f in small.into_iter().take(MERGE_FANIN) {
            if total + f.record_count > MAX_MERGE_RECORDS && picked.len() >= 2 {
                break;
            }
            total += f.record_count;
            picked.push(f);
        }
        picked
    };
    // Superseded records (old versions of amended instances) are left
    // out. Safe: a merge runs right after a checkpoint, so the durable
    // checkpoint already names them superseded, and their instances'
    // current versions are durable too.
    let mut records = Vec::new();
    for file in &sources {
        let superseded = bus.read_state().superseded_in(file);
        for rec in file.records() {
            let rec = rec?;
            if !superseded.contains(&(rec.activity.clone(), rec.id.clone())) {
                records.push(Arc::new(rec));
            }
        }
    }
    let count = records.len();
    bus.edit_files(
        Edit {
            add: vec![records],
            remove: sources.clone(),
            ..Edit::default()
        },
        |_, _| {},
    )?;
    tracing::debug!(
        files = sources.len(),
        records = count,
        "import files merged"
    );
    Ok(())
}
