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

use std::sync::Arc;

use crate::bus::state::BusState;
use crate::query::{Aggregate, AggregateRun, Row, Search, StatusFilter};

use crate::segments::columns::FileColumns;
use crate::segments::file::SegmentFile;
use crate::segments::{ActivityInstance, Status};

/// The projection of `file`; errors name the file.
fn projection(file: &SegmentFile) -> Result<Arc<FileColumns>, String> {
    file.columns()
        .map_err(|e| format!("{}: {e}", file.path.display()))
}

/// What a query reads, as of one moment: the matching instances held in
/// memory, and the import files.
pub(crate) struct Snapshot {
    in_memory: Vec<ActivityInstance>,
    files: Vec<Arc<SegmentFile>>,
}

impl Snapshot {
    /// Takes it; the caller holds the state's read lock only for this.
    pub(crate) fn take(state: &BusState, activity: &str, status: StatusFilter) -> Snapshot {
        Snapshot {
            in_memory: state.instances_in_memory(activity, status),
            files: if status.admits(Status::Completed) {
                state.files.clone()
            } else {
                Vec::new()
            },
        }
    }
}

pub(crate) fn search(snapshot: Snapshot, search: &Search) -> Result<Vec<Row>, String> {
    let mut candidates = snapshot.in_memory;
    for file in &snapshot.files {
        let columns = projection(file)?;
        let Some(cols) = columns.activities.get(&search.activity) else {
            continue;
        };
        match search.select_columns(cols) {
            Some(rows) => {
                for row in rows {
                    let offset = cols.offsets.get(row as usize).copied().unwrap_or(0);
                    let rec = file
                        .record(offset)
                        .map_err(|e| format!("{}: {e}", file.path.display()))?;
                    candidates.push(rec.into_instance());
                }
                // The pages of the selected records stay mapped: the
                // next search would fault them in again, and they are
                // few (a full scan of the records releases its pages).
            }
            None => candidates.extend(file.instances_of(&search.activity)?),
        }
    }
    Ok(search.run(candidates))
}

/// Feeds the snapshot to an aggregation; the caller finishes it (which
/// can fail on an overflow, a query error rather than damage).
pub(crate) fn aggregate(snapshot: Snapshot, agg: &Aggregate) -> Result<AggregateRun<'_>, String> {
    let mut run = agg.start();
    run.add_rows(snapshot.in_memory);
    for file in &snapshot.files {
        let columns = projection(file)?;
        let Some(cols) = columns.activities.get(&agg.activity) else {
            continue;
        };
        if !run.add_columns(cols) {
            run.add_rows(file.instances_of(&agg.activity)?);
        }
    }
    Ok(run)
}
