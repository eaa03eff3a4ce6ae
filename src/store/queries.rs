//! The read questions a [`super::Store`] and a [`super::StoreReader`]
//! answer alike, written once over the state they read: each takes how to
//! read-lock its `BusState`, so a query's snapshot is taken under the lock
//! and run outside it.

use std::sync::RwLockReadGuard;

use super::search_stream::SearchStream;
use super::PendingInstance;
use crate::bus::state::BusState;
use crate::error::StoreError;
use crate::model::{ActivityDefinition, ActivityInstance, InstancePart};
use crate::query::run::{self, Snapshot};
use crate::query::{Aggregate, AggregateResult, Row, Search, SearchPage};
use crate::segments::file::ImportFile;

/// How a handle read-locks its state, and opens its archive.
pub(super) trait ReadState {
    fn state(&self) -> RwLockReadGuard<'_, BusState>;

    /// The archive files, opened, oldest first.
    fn archive_files(&self) -> Result<Vec<ImportFile>, StoreError>;
}

pub(super) fn archived(
    h: &impl ReadState,
    activity: &str,
) -> Result<Vec<ActivityInstance>, StoreError> {
    let mut out = Vec::new();
    for file in h.archive_files()? {
        for rec in file.records() {
            let rec = rec?;
            if rec.activity == activity {
                out.push(rec.to_instance());
            }
        }
    }
    Ok(out)
}

pub(super) fn get_archived(
    h: &impl ReadState,
    activity: &str,
    id: &str,
) -> Result<Option<ActivityInstance>, StoreError> {
    for file in h.archive_files()?.iter().rev() {
        if let Some(rec) = file.get(activity, id)? {
            return Ok(Some(rec.to_instance()));
        }
    }
    Ok(None)
}

pub(super) fn get(
    h: &impl ReadState,
    activity: &str,
    id: &str,
) -> Result<Option<ActivityInstance>, StoreError> {
    let key = (activity.to_owned(), id.to_owned());
    Ok(h.state().get(&key)?)
}

pub(super) fn parts(
    h: &impl ReadState,
    activity: &str,
    id: &str,
) -> Result<Option<Vec<InstancePart>>, StoreError> {
    let key = (activity.to_owned(), id.to_owned());
    Ok(h.state().parts(&key)?)
}

pub(super) fn instances(
    h: &impl ReadState,
    activity: &str,
) -> Result<Vec<ActivityInstance>, StoreError> {
    Ok(h.state().all_instances(activity)?)
}

pub(super) fn search(h: &impl ReadState, search: &Search) -> Result<Vec<Row>, StoreError> {
    Ok(search_page(h, search)?.rows)
}

pub(super) fn search_page(h: &impl ReadState, search: &Search) -> Result<SearchPage, StoreError> {
    let (snapshot, search) = search_snapshot(h, search)?;
    Ok(run::search(&snapshot, &search)?)
}

pub(super) fn search_stream(
    h: &impl ReadState,
    search: &Search,
) -> Result<SearchStream, StoreError> {
    let (snapshot, search) = search_snapshot(h, search)?;
    Ok(SearchStream::new(snapshot, search))
}

/// The search checked and resolved against its definition, and the
/// snapshot it reads.
fn search_snapshot(h: &impl ReadState, search: &Search) -> Result<(Snapshot, Search), StoreError> {
    let def = definition(h, &search.activity)?;
    search.validate(&def)?;
    let mut search = search.clone();
    search.resolve(&def);
    let mut snapshot = Snapshot::for_search(&*h.state(), &search)?;
    if search.include_archived {
        snapshot.add_instances(archived(h, &search.activity)?);
    }
    Ok((snapshot, search))
}

pub(super) fn aggregate(
    h: &impl ReadState,
    aggregate: &Aggregate,
) -> Result<AggregateResult, StoreError> {
    let def = definition(h, &aggregate.activity)?;
    aggregate.validate(&def)?;
    let mut aggregate = aggregate.clone();
    aggregate.resolve(&def);
    let aggregate = &aggregate;
    let mut snapshot = Snapshot::take(&*h.state(), &aggregate.activity, aggregate.status)?;
    if aggregate.include_archived {
        snapshot.add_instances(archived(h, &aggregate.activity)?);
    }
    let run = run::aggregate(snapshot, aggregate)?;
    Ok(run.finish()?)
}

pub(super) fn definition(
    h: &impl ReadState,
    activity: &str,
) -> Result<ActivityDefinition, StoreError> {
    h.state()
        .definitions
        .get(activity)
        .cloned()
        .ok_or_else(|| StoreError::InvalidInput {
            reason: format!("activity {activity} is not deployed"),
        })
}

pub(super) fn definitions(h: &impl ReadState) -> Vec<ActivityDefinition> {
    h.state().definitions.values().cloned().collect()
}

pub(super) fn last_sequence(h: &impl ReadState, producer: u32) -> Option<u64> {
    h.state().sequences.highest.get(&producer).copied()
}

pub(super) fn pending(
    h: &impl ReadState,
    activity: Option<&str>,
) -> Result<Vec<PendingInstance>, StoreError> {
    Ok(h.state().pending_instances(activity)?)
}
