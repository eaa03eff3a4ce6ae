//! `bamdb quarantine list|show|replay|export|drop`: the quarantine
//! lifecycle (README, "Quarantine lifecycle").

use bamdb::{QuarantineEntry, ReplayOutcome, Store, StoreError};

use super::{
    close_store, open_imported, print_line, print_pretty, CliError, ExistingStore, EXIT_OK,
    EXIT_PARTIAL,
};

/// Arguments of `quarantine`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Lists quarantine entries as JSON lines (oldest first), each with its
    /// `state`: `unresolved`, `resolved` (with `resolved_by_lsn` and
    /// `resolved_at`) or `dropped` (with `drop_reason` and `dropped_at`).
    /// Damaged quarantine records are reported on stderr (exit code 1).
    List {
        #[command(flatten)]
        store: ExistingStore,
        /// Only entries neither resolved nor dropped.
        #[arg(long)]
        unresolved: bool,
    },
    /// Shows one entry as JSON, with its events decoded as JSON event lines
    /// (`decoded_events`) or why they cannot be (`decode_error`); exit code
    /// 1 if there is no such entry.
    Show {
        #[command(flatten)]
        store: ExistingStore,
        /// The entry id (from `list`).
        id: u64,
    },
    /// Sends entries through the bus again, e.g. after deploying the missing
    /// definition; prints one JSON line per entry with the outcome
    /// (`imported`, `already_resolved`, `still_invalid`, `not_replayable`,
    /// `dropped`). Exit code 1 if an entry is not imported now.
    Replay {
        #[command(flatten)]
        store: ExistingStore,
        /// The entry id (from `list`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<u64>,
        /// Replay every unresolved entry.
        #[arg(long)]
        all: bool,
    },
    /// Prints the events of entries as JSON lines in the form `bamdb
    /// ingest` reads, with `{"op":"flush"}` after each entry's events, so
    /// they can be fixed by hand and ingested again (then drop the
    /// entries). Entries that hold no events (a damaged message box region,
    /// a deployment) are named on stderr and skipped. Exit code 1 if a
    /// named entry does not exist.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["ids", "unresolved"])))]
    Export {
        #[command(flatten)]
        store: ExistingStore,
        /// Entry ids (from `list`).
        ids: Vec<u64>,
        /// Every unresolved entry.
        #[arg(long)]
        unresolved: bool,
    },
    /// Drops entries: the operator's decision that they will not be
    /// replayed (fixed and ingested again, or not wanted). Recorded durably
    /// with the reason and the time; dropped entries stay listed and are
    /// named by `verify`. Prints one JSON line per dropped entry. Nothing is
    /// dropped, exit code 1, if an entry does not exist or is already
    /// resolved or dropped.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["ids", "all_unresolved"])))]
    Drop {
        #[command(flatten)]
        store: ExistingStore,
        /// Entry ids (from `list`).
        ids: Vec<u64>,
        /// Every unresolved entry.
        #[arg(long)]
        all_unresolved: bool,
        /// Why (kept with the entries; required).
        #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
        reason: String,
    },
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let dir = match &args.action {
        Action::List { store, .. }
        | Action::Show { store, .. }
        | Action::Replay { store, .. }
        | Action::Export { store, .. }
        | Action::Drop { store, .. } => store.store.clone(),
    };
    let store = open_imported(&dir)?;
    let code = match &args.action {
        Action::List { unresolved, .. } => list(&store, *unresolved)?,
        Action::Show { id, .. } => show(&store, *id)?,
        Action::Replay { id, .. } => replay(&store, *id)?,
        Action::Export {
            ids, unresolved, ..
        } => export(&store, ids, *unresolved)?,
        Action::Drop {
            ids,
            all_unresolved,
            reason,
            ..
        } => drop_entries(&store, ids, *all_unresolved, reason)?,
    };
    close_store(store)?;
    Ok(code)
}

fn entries(store: &Store) -> Result<(Vec<QuarantineEntry>, Vec<String>), CliError> {
    store
        .quarantine_entries()
        .map_err(|e| CliError::store("reading the quarantine", store.dir(), &e))
}

fn no_such_entry(id: u64) {
    eprintln!("bamdb: no quarantine entry {id}; `bamdb quarantine list` shows the ids");
}

fn list(store: &Store, only_unresolved: bool) -> Result<i32, CliError> {
    let (entries, damaged) = entries(store)?;
    for entry in entries
        .iter()
        .filter(|e| !only_unresolved || e.is_unresolved())
    {
        print_line(entry)?;
    }
    for problem in &damaged {
        eprintln!("bamdb: damaged quarantine record: {problem}");
    }
    Ok(if damaged.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    })
}

fn show(store: &Store, id: u64) -> Result<i32, CliError> {
    let (entries, _) = entries(store)?;
    match entries.iter().find(|e| e.id == id) {
        Some(entry) => {
            print_pretty(&shown(entry))?;
            Ok(EXIT_OK)
        }
        None => {
            no_such_entry(id);
            Ok(EXIT_PARTIAL)
        }
    }
}

/// An entry as `show` prints it: its fields, then its events decoded to the
/// JSON lines form `ingest` reads (so they can be fixed and sent again), or
/// why they cannot be decoded.
pub fn shown(entry: &QuarantineEntry) -> serde_json::Value {
    let mut value = serde_json::to_value(entry).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut value {
        match decoded(entry) {
            Ok(lines) => {
                map.insert("decoded_events".into(), serde_json::Value::Array(lines));
            }
            Err(why) => {
                map.insert("decode_error".into(), serde_json::Value::from(why));
            }
        }
    }
    value
}

/// The entry's events as the JSON lines `ingest` reads, or why it has none.
fn decoded(entry: &QuarantineEntry) -> Result<Vec<serde_json::Value>, String> {
    // The CLI opens every store with the default limits.
    let events = entry.decode_events(&bamdb::model::Limits::default())?;
    Ok(events.iter().map(bamdb::model::event_to_json).collect())
}

fn replay(store: &Store, id: Option<u64>) -> Result<i32, CliError> {
    let (entries, _) = entries(store)?;
    let ids: Vec<u64> = match id {
        Some(id) => {
            if !entries.iter().any(|e| e.id == id) {
                no_such_entry(id);
                return Ok(EXIT_PARTIAL);
            }
            vec![id]
        }
        None => entries
            .iter()
            .filter(|e| e.is_unresolved())
            .map(|e| e.id)
            .collect(),
    };
    let mut code = EXIT_OK;
    for id in ids {
        let outcome = store
            .replay_quarantined(id)
            .map_err(|e| CliError::store(&format!("replay of entry {id}"), store.dir(), &e))?;
        let (name, reasons) = outcome_name(&outcome);
        if !reasons.is_empty() {
            code = EXIT_PARTIAL;
        }
        print_line(&serde_json::json!({ "id": id, "outcome": name, "reasons": reasons }))?;
    }
    Ok(code)
}

/// A replay's outcome as the CLI and the HTTP API name it, with the
/// reasons it was not imported (none when it was).
pub fn outcome_name(outcome: &ReplayOutcome) -> (&'static str, Vec<String>) {
    match outcome {
        ReplayOutcome::Imported => ("imported", vec![]),
        ReplayOutcome::AlreadyResolved => ("already_resolved", vec![]),
        ReplayOutcome::StillInvalid(r) => ("still_invalid", r.clone()),
        ReplayOutcome::NotReplayable(r) => ("not_replayable", vec![r.clone()]),
        ReplayOutcome::Dropped { reason, at } => {
            ("dropped", vec![format!("dropped at {at}: {reason}")])
        }
    }
}

/// The entries `ids` names (each must exist), or every unresolved one.
/// Returns them and whether an id was unknown (named on stderr).
fn chosen(
    entries: Vec<QuarantineEntry>,
    ids: &[u64],
    unresolved: bool,
) -> (Vec<QuarantineEntry>, bool) {
    if unresolved {
        return (
            entries.into_iter().filter(|e| e.is_unresolved()).collect(),
            false,
        );
    }
    let mut missing = false;
    let mut out = Vec::new();
    for id in ids {
        match entries.iter().find(|e| e.id == *id) {
            Some(e) => out.push(e.clone()),
            None => {
                no_such_entry(*id);
                missing = true;
            }
        }
    }
    (out, missing)
}

fn export(store: &Store, ids: &[u64], unresolved: bool) -> Result<i32, CliError> {
    let (entries, _) = entries(store)?;
    let (chosen, missing) = chosen(entries, ids, unresolved);
    for entry in &chosen {
        match decoded(entry) {
            Ok(lines) => {
                if !entry.is_unresolved() {
                    eprintln!(
                        "bamdb: note: entry {} is not unresolved ({}); ingesting it again applies its events again",
                        entry.id,
                        state_name(entry)
                    );
                }
                for line in &lines {
                    print_line(line)?;
                }
                print_line(&serde_json::json!({ "op": "flush" }))?;
            }
            Err(why) => eprintln!("bamdb: entry {} skipped: {why}", entry.id),
        }
    }
    Ok(if missing { EXIT_PARTIAL } else { EXIT_OK })
}

fn state_name(entry: &QuarantineEntry) -> &'static str {
    match entry.state {
        bamdb::EntryState::Unresolved => "unresolved",
        bamdb::EntryState::Resolved { .. } => "resolved",
        bamdb::EntryState::Dropped { .. } => "dropped",
    }
}

fn drop_entries(
    store: &Store,
    ids: &[u64],
    all_unresolved: bool,
    reason: &str,
) -> Result<i32, CliError> {
    if reason.trim().is_empty() {
        return Err(CliError::fatal(
            "quarantine drop: --reason must say why (it is kept with the entries)",
        ));
    }
    let ids: Vec<u64> = if all_unresolved {
        let (entries, _) = entries(store)?;
        entries
            .iter()
            .filter(|e| e.is_unresolved())
            .map(|e| e.id)
            .collect()
    } else {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    if ids.is_empty() {
        eprintln!("bamdb: no unresolved quarantine entry; nothing dropped");
        return Ok(EXIT_OK);
    }
    match store.drop_quarantined(&ids, reason) {
        Ok(()) => {}
        Err(StoreError::InvalidInput { reason }) => {
            eprintln!("bamdb: {reason}");
            return Ok(EXIT_PARTIAL);
        }
        Err(e) => return Err(CliError::store("drop", store.dir(), &e)),
    }
    for id in ids {
        print_line(
            &serde_json::json!({ "id": id, "outcome": "dropped", "reason": reason.trim() }),
        )?;
    }
    Ok(EXIT_OK)
}
