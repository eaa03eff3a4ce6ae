//! `bamdb verify`: is the store sound? Reads every checksum (message box,
//! quarantine, manifest, import files, checkpoint) through
//! [`Store::verify`], then, if all of them hold, opens the store and checks
//! that the import runs. Damage that was handled (a damaged message box
//! region set aside in quarantine) is a note, not a problem.

use bamdb::{Problem, Store, StoreError, StoreOptions};

use super::{
    existing_options, out_line, print_pretty, wait_for_import, waiting_for_lock, CliError,
    ExistingStore, EXIT_OK, EXIT_PARTIAL,
};

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Reads every checksum: each frame of the message box (wal/) and of the
quarantine log (quarantine/), the manifest, every record of every import file
the manifest names, and the checkpoint. Prints notes (`note: ...`), one line
per problem (`problem: FILE [at byte N]: what`), then a summary; with --json,
one JSON object instead (`sound`, `problems`, `notes` and the counts).
Only when every checksum holds is the store opened to check that the import
catches up. The store must not be open in another process. A directory that
holds no store is reported (exit code 2) and left as it is.

Damage that was handled is a note, not a problem: a damaged message box
region that went to quarantine (it holds no batch, so it is never
replayable; drop it with `bamdb quarantine drop` once the loss is accounted
for). Dropped quarantine entries are noted with their reason and time.
Damage that no quarantine entry accounts for is a problem.

Exit codes:
  0  the store is sound (damage already set aside in quarantine is a note)
  1  problems found: damage that no quarantine entry accounts for (listed on
     stdout)
  2  usage error, or the store could not be checked (not a store, locked, I/O)"
)]
pub struct Args {
    #[command(flatten)]
    store: ExistingStore,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let dir = &args.store.store;
    let options = existing_options();
    let mut report = waiting_for_lock(|| Store::verify(dir, &options))
        .map_err(|e| CliError::store("verify", dir, &e))?;
    let q = &report.quarantine_entries;
    let mut summary = format!(
        "{} message box frames, {} quarantine records ({} unresolved, {} resolved, {} dropped), {} import files ({} records), {}",
        report.wal_frames,
        report.quarantine_records,
        q.unresolved,
        q.resolved,
        q.dropped,
        report.import_files,
        report.import_records,
        if report.checkpoint {
            "a checkpoint"
        } else {
            "no checkpoint"
        }
    );
    if report.is_sound() {
        // Every checksum holds: check that the store opens and imports.
        let (found, imported) = open_and_import(dir, options)?;
        let location = dir.display().to_string();
        report
            .problems
            .extend(found.into_iter().map(|reason| Problem {
                location: location.clone(),
                reason,
            }));
        if !imported.is_empty() {
            summary.push_str(&format!("; {imported}"));
        }
    }
    let code = if report.is_sound() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    };
    if args.json {
        let mut value = serde_json::to_value(&report)
            .map_err(|e| CliError::fatal(format!("cannot format the report as JSON: {e}")))?;
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("sound".into(), report.is_sound().into());
            map.insert("summary".into(), summary.into());
        }
        print_pretty(&value)?;
        return Ok(code);
    }
    for note in &report.notes {
        out_line(&format!("note: {note}"))?;
    }
    let problems = &report.problems;
    for p in problems {
        out_line(&format!("problem: {p}"))?;
    }
    if problems.is_empty() {
        out_line(&format!("store {}: sound ({summary})", dir.display()))?;
    } else {
        out_line(&format!(
            "store {}: NOT sound ({} problem(s); read {summary})",
            dir.display(),
            problems.len()
        ))?;
    }
    Ok(code)
}

/// Opens the store, waits for the import, and reports a degraded bus and
/// damaged quarantine records; returns the problems and a summary.
fn open_and_import(
    dir: &std::path::Path,
    options: StoreOptions,
) -> Result<(Vec<String>, String), CliError> {
    let store = match waiting_for_lock(|| Store::open(dir, options.clone())) {
        Ok(s) => s,
        Err(e @ StoreError::Corrupt { .. }) => return Ok((vec![e.to_string()], String::new())),
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
            entries.iter().filter(|e| e.is_unresolved()).count()
        }
        Err(e) => {
            problems.push(format!("quarantine unreadable: {e}"));
            0
        }
    };
    if let Err(e) = store.close() {
        problems.push(format!("close: {e}"));
    }
    let c = &stats.counters;
    let summary = format!(
        "{} frames imported, {} quarantined ({unresolved} unresolved), applied LSN {}",
        c.frames_imported, c.frames_quarantined, stats.applied_lsn
    );
    Ok((problems, summary))
}
