//! `bamdb quarantine list|show|replay`.

use bamdb::{ReplayOutcome, Store};

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
    /// Lists every quarantine entry as one JSON line (oldest first); damaged
    /// quarantine records are reported on stderr (exit code 1).
    List {
        #[command(flatten)]
        store: ExistingStore,
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
    /// definition; prints one JSON line per entry with the outcome. Exit
    /// code 1 if an entry is still invalid or does not exist.
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
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let (dir, action) = match &args.action {
        Action::List { store } | Action::Show { store, .. } | Action::Replay { store, .. } => {
            (store.store.clone(), &args.action)
        }
    };
    let store = open_imported(&dir)?;
    let code = match action {
        Action::List { .. } => list(&store)?,
        Action::Show { id, .. } => show(&store, *id)?,
        Action::Replay { id, .. } => replay(&store, *id)?,
    };
    close_store(store)?;
    Ok(code)
}

fn entries(store: &Store) -> Result<(Vec<bamdb::QuarantineEntry>, Vec<String>), CliError> {
    store
        .quarantine_entries()
        .map_err(|e| CliError::store("reading the quarantine", store.dir(), &e))
}

fn list(store: &Store) -> Result<i32, CliError> {
    let (entries, damaged) = entries(store)?;
    for entry in &entries {
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
            eprintln!("bamdb: no quarantine entry {id}; `bamdb quarantine list` shows the ids");
            Ok(EXIT_PARTIAL)
        }
    }
}

/// An entry as `show` prints it: its fields, then its events decoded to the
/// JSON lines form `ingest` reads (so they can be fixed and sent again), or
/// why they cannot be decoded.
fn shown(entry: &bamdb::QuarantineEntry) -> serde_json::Value {
    let mut value = serde_json::to_value(entry).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut value {
        // The CLI opens every store with the default limits.
        match entry.decode_events(&bamdb::model::Limits::default()) {
            Ok(events) => {
                let lines = events.iter().map(bamdb::model::event_to_json).collect();
                map.insert("decoded_events".into(), serde_json::Value::Array(lines));
            }
            Err(why) => {
                map.insert("decode_error".into(), serde_json::Value::from(why));
            }
        }
    }
    value
}

fn replay(store: &Store, id: Option<u64>) -> Result<i32, CliError> {
    let (entries, _) = entries(store)?;
    let ids: Vec<u64> = match id {
        Some(id) => {
            if !entries.iter().any(|e| e.id == id) {
                eprintln!("bamdb: no quarantine entry {id}; `bamdb quarantine list` shows the ids");
                return Ok(EXIT_PARTIAL);
            }
            vec![id]
        }
        None => entries
            .iter()
            .filter(|e| !e.resolved)
            .map(|e| e.id)
            .collect(),
    };
    let mut code = EXIT_OK;
    for id in ids {
        let outcome = store
            .replay_quarantined(id)
            .map_err(|e| CliError::store(&format!("replay of entry {id}"), store.dir(), &e))?;
        let (name, reasons) = match &outcome {
            ReplayOutcome::Imported => ("imported", vec![]),
            ReplayOutcome::AlreadyResolved => ("already_resolved", vec![]),
            ReplayOutcome::StillInvalid(r) => ("still_invalid", r.clone()),
            ReplayOutcome::NotReplayable(r) => ("not_replayable", vec![r.clone()]),
        };
        if !reasons.is_empty() {
            code = EXIT_PARTIAL;
        }
        print_line(&serde_json::json!({ "id": id, "outcome": name, "reasons": reasons }))?;
    }
    Ok(code)
}
