//! `bamdb verify`: is the store sound?

use bamdb::{Store, StoreError, StoreOptions};

use super::{out_line, wait_for_import, CliError, ExistingStore, EXIT_OK, EXIT_PARTIAL};

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Prints one line per problem found, then a summary.

Exit codes:
  0  the store is sound
  1  problems found (listed on stdout)
  2  usage error, or the store could not be opened (missing, locked, I/O)")]
pub struct Args {
    #[command(flatten)]
    store: ExistingStore,
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let dir = &args.store.store;
    if !dir.is_dir() {
        // Same message as every command that reads a store.
        return super::open_existing(dir).map(|_| EXIT_PARTIAL);
    }
    let store = match Store::open(dir, StoreOptions::default()) {
        Ok(s) => s,
        Err(e @ StoreError::Corrupt { .. }) => {
            out_line(&format!("problem: {e}"))?;
            out_line(&format!("store {}: NOT sound (1 problem)", dir.display()))?;
            return Ok(EXIT_PARTIAL);
        }
        Err(e) => return Err(CliError::store("open", dir, &e)),
    };
    let mut problems = Vec::new();
    if let Err(e) = wait_for_import(&store) {
        problems.push(e.to_string());
    }
    let stats = store.stats();
    if let Some(reason) = &stats.degraded {
        problems.push(format!("import degraded: {reason}"));
    }
    let unresolved = match store.quarantine_entries() {
        Ok((entries, damaged)) => {
            for d in damaged {
                problems.push(format!("damaged quarantine record: {d}"));
            }
            entries.iter().filter(|e| !e.resolved).count()
        }
        Err(e) => {
            problems.push(format!("quarantine unreadable: {e}"));
            0
        }
    };
    if let Err(e) = store.close() {
        problems.push(format!("close: {e}"));
    }
    for p in &problems {
        out_line(&format!("problem: {p}"))?;
    }
    let c = &stats.counters;
    let summary = format!(
        "{} frames imported, {} quarantined ({unresolved} unresolved), applied LSN {}",
        c.frames_imported, c.frames_quarantined, stats.applied_lsn
    );
    if problems.is_empty() {
        out_line(&format!("store {}: sound ({summary})", dir.display()))?;
        Ok(EXIT_OK)
    } else {
        out_line(&format!(
            "store {}: NOT sound ({} problem(s); {summary})",
            dir.display(),
            problems.len()
        ))?;
        Ok(EXIT_PARTIAL)
    }
}
