//! How the store answers searches and aggregations: the instances held in
//! memory (active ones, and completed ones not yet in a file) row by row,
//! and each import file through its column projection, or its records
//! where the projection cannot answer.
//!
//! A query copies what it needs from the bus state (the in-memory
//! instances, and the list of files) under the state's read lock, then
//! scans the files without it: files never change, and a file merged or
//! retired away meanwhile stays readable through its map until the query
//! lets go of it. So a long scan, or the first one that builds the column
//! projections, does not hold up the import.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::bus::state::BusState;
use crate::query::{Aggregate, AggregateRun, Row, Search, StatusFilter};

use crate::segments::columns::FileColumns;
use crate::segments::file::ImportFile;
use crate::segments::{ActivityInstance, Status};

/// The projection of `file`; errors name the file.
fn projection(file: &ImportFile) -> Result<Arc<FileColumns>, String> {
    file.columns().map_err(|e| e.to_string())
}

/// What a query reads, as of one moment: the matching instances held in
/// memory, and the import files.
pub(crate) struct Snapshot {
    in_memory: Vec<ActivityInstance>,
    /// Each file, with the ids of its records that are old versions of
    /// amended instances (to be skipped; usually none).
    files: Vec<(Arc<ImportFile>, BTreeSet<String>)>,
}

impl Snapshot {
    /// Takes it; the caller holds the state's read lock only for this.
    pub(crate) fn take(state: &BusState, activity: &str, status: StatusFilter) -> Snapshot {
        Snapshot {
            in_memory: state.instances_in_memory(activity, status),
            files: if status.admits(Status::Completed) {
                state
                    .files
                    .iter()
                    .map(|file| {
                        let ids = state
                            .superseded_in(file)
                            .into_iter()
                            .filter(|(a, _)| a == activity)
                            .map(|(_, id)| id)
                            .collect();
                        (file.clone(), ids)
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// The file's instances of `activity`, without the superseded ones.
fn current_instances(
    file: &ImportFile,
    activity: &str,
    superseded: &BTreeSet<String>,
) -> Result<Vec<ActivityInstance>, String> {
    let mut all = file.instances_of(activity).map_err(|e| e.to_string())?;
    if !superseded.is_empty() {
        all.retain(|i| !superseded.contains(&i.id));
    }
    Ok(all)
}

pub(crate) fn search(snapshot: Snapshot, search: &Search) -> Result<Vec<Row>, String> {
    let mut candidates = snapshot.in_memory;
    for (file, superseded) in &snapshot.files {
        let columns = projection(file)?;
        let Some(cols) = columns.activities.get(&search.activity) else {
            continue;
        };
        // The column projection has no ids to skip superseded records by:
        // a file that holds some is read record by record.
        let selected = if superseded.is_empty() {
            search.select_columns(cols)
        } else {
            None
        };
        match selected {
            Some(rows) => {
                for row in rows {
                    let offset = cols.offsets.get(row as usize).copied().unwrap_or(0);
                    let rec = file.record(offset).map_err(|e| e.to_string())?;
                    candidates.push(rec.into_instance());
                }
                // The pages of the selected records stay mapped: the
                // next search would fault them in again, and they are
                // few (a full scan of the records releases its pages).
            }
            None => candidates.extend(current_instances(file, &search.activity, superseded)?),
        }
    }
    Ok(search.run(candidates))
}

/// Feeds the snapshot to an aggregation; the caller finishes it (which
/// can fail on an overflow, a query error rather than damage).
pub(crate) fn aggregate(snapshot: Snapshot, agg: &Aggregate) -> Result<AggregateRun<'_>, String> {
    let mut run = agg.start();
    run.add_rows(snapshot.in_memory);
    for (file, superseded) in &snapshot.files {
        let columns = projection(file)?;
        let Some(cols) = columns.activities.get(&agg.activity) else {
            continue;
        };
        if !superseded.is_empty() || !run.add_columns(cols) {
            run.add_rows(current_instances(file, &agg.activity, superseded)?);
        }
    }
    Ok(run)
}
