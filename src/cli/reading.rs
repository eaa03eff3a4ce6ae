//! How the read commands (`get`, `search`, `agg`, `stats`, `definitions`)
//! open a store. When no other process has it, they open it as its writer
//! and wait for the import of everything committed, so the answer includes
//! what was ingested, even by a process that crashed. When another process
//! has it open (an `ingest`, an application, a bus) or the directory
//! cannot be written (a read-only mount, another user's store), they open
//! it read-only alongside ([`StoreReader`]) and answer as of the writer's
//! last checkpoint; stderr says so. With `--read-only` they always read
//! that way, and never take the lock.

use std::io::ErrorKind;
use std::path::PathBuf;

use bamdb::model::{ActivityDefinition, ActivityInstance, InstancePart};
use bamdb::query::{Aggregate, AggregateResult, Search};
use bamdb::{PendingInstance, SearchStream, Store, StoreError, StoreReader, StoreStats};

use super::{await_import, close_store, err_line, existing_options, CliError};

/// `--store DIR` and `--read-only` of the read commands.
#[derive(Debug, clap::Args)]
pub struct ReadStore {
    /// The store directory; it must hold a store (made by deploy, ingest or
    /// demo). Anything else is exit code 2, and nothing is created.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// Never open the store as its writer, even when no other process has
    /// it: answer from its last checkpoint, take no lock, write nothing.
    /// For scripts and dashboards that poll a store an application opens
    /// now and then (a read as the writer holds the lock while it runs).
    #[arg(long)]
    pub read_only: bool,
    /// When reading alongside a writer (or with --read-only): also read
    /// what was committed since its last checkpoint from the message box,
    /// so every flush that returned is included. Costs reading and
    /// applying those frames.
    #[arg(long)]
    pub fresh: bool,
}

impl ReadStore {
    fn open_reader(&self) -> Result<StoreReader, CliError> {
        let dir = self.store.as_path();
        let opened = if self.fresh {
            StoreReader::open_fresh(dir)
        } else {
            StoreReader::open(dir)
        };
        opened.map_err(|e| CliError::store("open", dir, &e))
    }
}

/// A store opened for reading: as its writer, or read-only.
pub enum Reading {
    Writer(Store),
    /// Read-only; `fresh`: with what the message box holds after the
    /// checkpoint.
    Snapshot {
        reader: Box<StoreReader>,
        fresh: bool,
    },
}

/// Opens the store for a read command; see the module docs.
pub fn open_reading(args: &ReadStore) -> Result<Reading, CliError> {
    let dir = args.store.as_path();
    if args.read_only {
        return Ok(Reading::Snapshot {
            reader: Box::new(args.open_reader()?),
            fresh: args.fresh,
        });
    }
    match Store::open(dir, existing_options()) {
        Ok(store) => Ok(Reading::Writer(await_import(store)?)),
        Err(e) if held_or_unwritable(&e) => {
            let reader = args.open_reader()?;
            let why = match e {
                StoreError::Locked { .. } => "another process has it open",
                _ => "it cannot be written here",
            };
            let what = if args.fresh {
                format!(
                    "from what it committed (LSN {}), read-only",
                    reader.applied_lsn()
                )
            } else {
                format!(
                    "read-only from its last checkpoint (LSN {}): what was committed after \
                     it is not included (--fresh includes it)",
                    reader.applied_lsn()
                )
            };
            err_line(&format!(
                "bamdb: note: store {}: {why}; answering {what}",
                dir.display()
            ));
            Ok(Reading::Snapshot {
                reader: Box::new(reader),
                fresh: args.fresh,
            })
        }
        Err(e) => Err(CliError::store("open", dir, &e)),
    }
}

/// Whether a writer's open failed because the store is in use or cannot
/// be written, so that a read-only open may still answer.
fn held_or_unwritable(e: &StoreError) -> bool {
    match e {
        StoreError::Locked { .. } => true,
        StoreError::Io { source, .. } => matches!(
            source.kind(),
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
        ),
        _ => false,
    }
}

impl Reading {
    pub fn get(&self, activity: &str, id: &str) -> Result<Option<ActivityInstance>, StoreError> {
        match self {
            Reading::Writer(s) => s.get(activity, id),
            Reading::Snapshot { reader: r, .. } => r.get(activity, id),
        }
    }

    pub fn get_archived(
        &self,
        activity: &str,
        id: &str,
    ) -> Result<Option<ActivityInstance>, StoreError> {
        match self {
            Reading::Writer(s) => s.get_archived(activity, id),
            Reading::Snapshot { reader: r, .. } => r.get_archived(activity, id),
        }
    }

    pub fn parts(&self, activity: &str, id: &str) -> Result<Option<Vec<InstancePart>>, StoreError> {
        match self {
            Reading::Writer(s) => s.parts(activity, id),
            Reading::Snapshot { reader: r, .. } => r.parts(activity, id),
        }
    }

    pub fn definition(&self, activity: &str) -> Result<ActivityDefinition, StoreError> {
        match self {
            Reading::Writer(s) => s.definition(activity),
            Reading::Snapshot { reader: r, .. } => self.noted(r.definition(activity)),
        }
    }

    /// An activity unknown to a snapshot may have been deployed since its
    /// checkpoint: the refusal says so.
    fn noted<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        result.map_err(|e| match e {
            StoreError::InvalidInput { reason } => StoreError::InvalidInput {
                reason: format!("{reason}{}", self.checkpoint_note()),
            },
            other => other,
        })
    }

    /// For an answer that may be older than the writer: when it was read
    /// from the last checkpoint alone, says so (a definition deployed
    /// since is not in it); empty otherwise.
    pub fn checkpoint_note(&self) -> String {
        match self {
            Reading::Snapshot {
                reader,
                fresh: false,
            } => format!(
                " (as of the writer's last checkpoint, LSN {}: --fresh also reads what was \
                 committed since)",
                reader.applied_lsn()
            ),
            _ => String::new(),
        }
    }

    pub fn definitions(&self) -> Vec<ActivityDefinition> {
        match self {
            Reading::Writer(s) => s.definitions(),
            Reading::Snapshot { reader: r, .. } => r.definitions(),
        }
    }

    pub fn search_stream(&self, search: &Search) -> Result<SearchStream, StoreError> {
        match self {
            Reading::Writer(s) => s.search_stream(search),
            Reading::Snapshot { reader: r, .. } => self.noted(r.search_stream(search)),
        }
    }

    pub fn aggregate(&self, aggregate: &Aggregate) -> Result<AggregateResult, StoreError> {
        match self {
            Reading::Writer(s) => s.aggregate(aggregate),
            Reading::Snapshot { reader: r, .. } => self.noted(r.aggregate(aggregate)),
        }
    }

    pub fn pending(&self, activity: Option<&str>) -> Result<Vec<PendingInstance>, StoreError> {
        match self {
            Reading::Writer(s) => s.pending(activity),
            Reading::Snapshot { reader: r, .. } => r.pending(activity),
        }
    }

    pub fn stats(&self) -> StoreStats {
        match self {
            Reading::Writer(s) => s.stats(),
            Reading::Snapshot { reader: r, .. } => r.stats(),
        }
    }

    /// Closes a writer's open (see [`close_store`]); a read-only one has
    /// nothing to close.
    pub fn close(self) -> Result<(), CliError> {
        match self {
            Reading::Writer(s) => close_store(s),
            Reading::Snapshot { .. } => Ok(()),
        }
    }
}
