//! The command line: one module per command group. Every command uses only
//! the public library API.

mod demo;
mod deploy;
mod ingest;
mod quarantine;
mod query;
mod search;
mod verify;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bamdb::{Store, StoreError, StoreOptions};
use clap::{Parser, Subcommand};

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: not found, verify found problems, or some input lines failed.
pub const EXIT_PARTIAL: i32 = 1;
/// Exit code: usage error or store error (locked, missing, damaged, I/O).
pub const EXIT_ERROR: i32 = 2;

const EXIT_CODES: &str = "Exit codes:
  0  success
  1  not found (get), problems found (verify), some input lines or replays failed
  2  usage error, or the store could not be used (locked, missing, damaged, I/O)";

const EXIT_DEMO: &str = "Exit codes:
  0  success
  2  the store could not be used (locked, damaged, I/O)";

const EXIT_DEPLOY: &str = "Exit codes:
  0  every definition deployed
  2  the file is not a valid definition, a definition conflicts with a
     deployed one, or the store could not be used (locked, damaged, I/O)";

const EXIT_GET: &str = "Exit codes:
  0  found
  1  no such instance
  2  unknown activity, or the store could not be used";

const EXIT_STATS: &str = "Exit codes:
  0  success
  2  the store could not be used (missing, locked, damaged, I/O)";

const EXIT_QUARANTINE: &str = "Exit codes:
  0  success
  1  list: damaged quarantine records (named on stderr); show: no such entry;
     replay: an entry is still invalid or does not exist
  2  the store could not be used (missing, locked, damaged, I/O)";

const EXIT_VERIFY: &str = "Exit codes:
  0  every checksum and the import are sound
  1  problems found, each listed with its location
  2  the store could not be opened (missing, locked)";

/// bamdb: an embedded business-activity tracking store.
#[derive(Debug, Parser)]
#[command(name = "bamdb", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a demo of the whole pipeline: producers, continuations,
    /// quarantine, import and an aggregation.
    #[command(after_help = EXIT_DEMO)]
    Demo(demo::Args),
    /// Deploys activity definitions from a JSON file (one definition or an
    /// array).
    #[command(after_help = EXIT_DEPLOY)]
    Deploy(deploy::Args),
    /// Reads JSON event lines and commits them in groups, all or nothing;
    /// prints {"committed":LSN,"events":N} once each commit is durable.
    #[command(
        after_help = ingest::help::AFTER_HELP,
        after_long_help = ingest::help::AFTER_LONG_HELP
    )]
    Ingest(ingest::Args),
    /// Prints one activity instance, all its parts merged, as JSON.
    #[command(after_help = EXIT_GET)]
    Get(query::GetArgs),
    /// Finds instances by conditions; JSON lines, or a table.
    Search(search::SearchArgs),
    /// Groups instances and computes counts, sums, averages and durations;
    /// a table, or JSON.
    Agg(search::AggArgs),
    /// Lists dangling active instances; completes or removes them by hand.
    Maintain(search::MaintainArgs),
    /// Prints the store's figures as JSON.
    #[command(after_help = EXIT_STATS)]
    Stats(query::StatsArgs),
    /// Lists, shows and replays what was set aside in quarantine.
    #[command(after_help = EXIT_QUARANTINE)]
    Quarantine(quarantine::Args),
    /// Checks that the store is sound: reads every checksum (message box,
    /// quarantine, manifest, import files, checkpoint), then checks the
    /// import.
    #[command(after_help = EXIT_VERIFY)]
    Verify(verify::Args),
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<i32, CliError> {
    match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Deploy(a) => deploy::run(a),
        Command::Ingest(a) => ingest::run(a),
        Command::Get(a) => query::get(a),
        Command::Search(a) => search::search(a),
        Command::Agg(a) => search::agg(a),
        Command::Maintain(a) => search::maintain(a),
        Command::Stats(a) => query::stats(a),
        Command::Quarantine(a) => quarantine::run(a),
        Command::Verify(a) => verify::run(a),
    }
}

/// A failure that ends the command: one line for stderr and an exit code.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: i32,
    message: String,
}

impl CliError {
    /// A store or usage error (exit code 2).
    pub fn fatal(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_ERROR,
            message: message.into(),
        }
    }

    /// A store error while doing `what` on the store in `dir`, with advice.
    pub fn store(what: &str, dir: &Path, err: &StoreError) -> Self {
        let advice = match err {
            StoreError::Locked { .. } => {
                "close the other process that has it open (or wait for it to finish), then retry"
            }
            StoreError::Corrupt { .. } => "run `bamdb verify --store DIR` for details",
            StoreError::Degraded { .. } => {
                "fix the cause (disk space, permissions), then reopen the store; nothing committed is lost"
            }
            StoreError::Io { .. } | StoreError::Wal(_) => {
                "check the path, its permissions and free space"
            }
            _ => "check the input and retry",
        };
        CliError::fatal(format!(
            "{what} failed for store {}: {err}; {advice}",
            dir.display()
        ))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `--store DIR` of the commands that read an existing store.
#[derive(Debug, clap::Args)]
pub struct ExistingStore {
    /// The store directory (must exist).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
}

/// Opens the store in `dir`, creating it if needed.
pub fn open_store(dir: &Path) -> Result<Store, CliError> {
    Store::open(dir, StoreOptions::default()).map_err(|e| CliError::store("open", dir, &e))
}

/// Opens an existing store: a missing directory is an error, not a new store.
pub fn open_existing(dir: &Path) -> Result<Store, CliError> {
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a directory"
        } else {
            "does not exist"
        };
        return Err(CliError::fatal(format!(
            "store directory {} {what}; check the --store path (`bamdb deploy` or `bamdb ingest` create a store)",
            dir.display()
        )));
    }
    open_store(dir)
}

/// How long query commands wait for the import of what was committed.
const SYNC_TIMEOUT: Duration = Duration::from_secs(300);

/// Opens an existing store for a command that reads it, and waits until
/// the bus has imported everything committed when it opened, so that the
/// answer includes what the user ingested.
pub fn open_imported(dir: &Path) -> Result<Store, CliError> {
    let store = open_existing(dir)?;
    wait_for_import(&store)?;
    Ok(store)
}

/// Waits until everything committed is imported, so queries see it. Fails
/// early when import halts.
pub fn wait_for_import(store: &Store) -> Result<(), CliError> {
    let start = Instant::now();
    loop {
        if store.sync(Duration::from_millis(200)) {
            return Ok(());
        }
        let stats = store.stats();
        if let Some(reason) = stats.degraded.filter(|r| r.starts_with("import halted")) {
            return Err(CliError::fatal(format!(
                "store {}: {reason}; fix the cause and reopen the store (nothing committed is lost)",
                store.dir().display()
            )));
        }
        if start.elapsed() > SYNC_TIMEOUT {
            return Err(CliError::fatal(format!(
                "store {}: import did not catch up within {} s ({} frames behind); retry later",
                store.dir().display(),
                SYNC_TIMEOUT.as_secs(),
                stats.lag
            )));
        }
    }
}

/// Closes the store, reporting a halted import.
pub fn close_store(store: Store) -> Result<(), CliError> {
    let dir = store.dir().to_path_buf();
    store
        .close()
        .map_err(|e| CliError::store("close", &dir, &e))
}

/// Writes one line to stdout and flushes it (no panic on a closed pipe).
pub fn out_line(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            // The reader went away (`| head`): stop quietly, like other tools.
            std::io::ErrorKind::BrokenPipe => CliError {
                code: EXIT_ERROR,
                message: String::new(),
            },
            _ => CliError::fatal(format!("cannot write to standard output: {e}")),
        })
}

/// Prints JSON to stdout, pretty.
pub fn print_pretty<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::fatal(format!("cannot format the result as JSON: {e}")))?;
    out_line(&text)
}

/// Prints JSON to stdout on one line.
pub fn print_line<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string(value)
        .map_err(|e| CliError::fatal(format!("cannot format the result as JSON: {e}")))?;
    out_line(&text)
}
