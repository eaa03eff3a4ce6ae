//! The command line: one module per command group. Every command uses only
//! the public library API.

mod agg;
mod bus;
mod definitions;
mod demo;
mod deploy;
mod export;
mod get;
mod ingest;
mod maintain;
mod output;
mod quarantine;
mod reading;
mod search;
mod selection;
mod serve;
#[cfg(feature = "nats")]
mod ship;
mod stats;
mod table;
mod verify;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bamdb::wal::WalError;
use bamdb::{Store, StoreError, StoreOptions};
use clap::{Parser, Subcommand};

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: not found, verify found problems, or some input lines failed.
pub const EXIT_PARTIAL: i32 = 1;
/// Exit code: usage error or store error (not a store, locked, damaged, I/O).
pub const EXIT_ERROR: i32 = 2;

const EXIT_CODES: &str = "Only deploy, ingest and demo create a store; every other command needs an
existing one (a directory with a segments/ subdirectory) and changes nothing
when --store names anything else.
A closed standard output (`bamdb ... | head`) ends a command quietly.

Exit codes:
  0  success
  1  not found (get), problems found (verify), some input lines or replays failed
  2  usage error, or the store could not be used (not a store, locked, damaged, I/O)";

const EXIT_DEPLOY: &str = "All or nothing: every definition of the file is checked (its own rules,
compatibility with the deployed version and with the others in the file)
before any is deployed; an error names the bad definition by its position
and name, and then nothing is deployed. Re-deploying a deployed definition
unchanged is a no-op.

Exit codes:
  0  every definition deployed
  2  the file is not a valid definition, a definition conflicts with a
     deployed one or another in the file (nothing deployed), or the store
     could not be used (locked, damaged, I/O)";

const EXIT_STATS: &str = "Exit codes:
  0  success
  2  the store could not be used (not a store, locked, damaged, I/O)";

const EXIT_QUARANTINE: &str = "Exit codes:
  0  success
  1  list: damaged quarantine records (named on stderr); show: no such entry;
     replay: an entry was not imported (still invalid, not replayable,
     dropped, or no such entry); export: no such entry; drop: nothing
     dropped (an entry does not exist or is already resolved or dropped)
  2  usage error (drop without --reason), or the store could not be used
     (not a store, locked, damaged, I/O)";

/// bamdb: an embedded business-activity tracking store.
#[derive(Debug, Parser)]
#[command(name = "bamdb", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// For the commands that need the store's writer lock (deploy, ingest,
    /// maintain, quarantine, verify): when another process has the store
    /// open, wait up to SECS for it to close instead of failing with
    /// "locked" at once. Read commands do not need the lock.
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_wait)]
    wait: Option<Duration>,
}

fn parse_wait(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0 * 365.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{text:?} is not a number of seconds (0 to a year)"))
}

/// `--wait`: how long an open waits for another process's writer lock.
static LOCK_WAIT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// How often a waiting open tries the lock again. (A lock's release is not
/// announced to other processes; trying again is how a waiter learns it.)
const LOCK_RETRY: Duration = Duration::from_millis(50);

/// Runs `open` (anything that takes the writer lock) until it is not
/// [`StoreError::Locked`] or the `--wait` time is over.
pub fn waiting_for_lock<T>(
    mut open: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let wait = LOCK_WAIT.get().copied().unwrap_or_default();
    let deadline = Instant::now() + wait;
    loop {
        match open() {
            Err(StoreError::Locked { .. } | StoreError::Wal(WalError::Locked { .. }))
                if Instant::now() + LOCK_RETRY <= deadline =>
            {
                std::thread::sleep(LOCK_RETRY);
            }
            other => return other,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a demo of the whole pipeline: producers, continuations,
    /// quarantine, import and an aggregation.
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
    Get(get::GetArgs),
    /// Finds instances by conditions; JSON lines, or a table. With
    /// --status pending, lists pending records instead.
    Search(search::SearchArgs),
    /// Writes the instances a selection selects to a file: Parquet,
    /// Arrow, CSV, OCEL 2.0 JSON or XES.
    Export(export::ExportArgs),
    /// Groups instances and computes counts, sums, averages and durations;
    /// a table, or JSON.
    Agg(agg::AggArgs),
    /// Lists dangling active instances; completes or removes them by hand.
    Maintain(maintain::Args),
    /// Runs the event bus as its own process: imports what producer
    /// processes commit to their message boxes, until stopped.
    Bus(bus::Args),
    /// Serves the store over HTTP: ingest, queries, Prometheus metrics and
    /// a portal of HTML pages.
    Serve(serve::Args),
    /// Publishes a producer's message box to NATS JetStream for a central
    /// bus (`bus --nats`), until stopped.
    #[cfg(feature = "nats")]
    Ship(ship::Args),
    /// Prints the store's figures as JSON.
    #[command(after_help = EXIT_STATS)]
    Stats(stats::StatsArgs),
    /// Prints the deployed activity definitions: JSON (the form `deploy`
    /// reads), or a table of their items.
    Definitions(definitions::Args),
    /// Lists, shows, replays, exports and drops what was set aside in
    /// quarantine.
    #[command(after_help = EXIT_QUARANTINE, mut_subcommands = with_exit_codes)]
    Quarantine(quarantine::Args),
    /// Checks that the store is sound: reads every checksum (message box,
    /// quarantine, manifest, import files, checkpoint), then checks the
    /// import.
    Verify(verify::Args),
}

/// Gives a subcommand of `quarantine` the group's exit codes, unless it
/// documents its own (an `after_help` set here would replace its text).
fn with_exit_codes(cmd: clap::Command) -> clap::Command {
    if cmd.get_after_help().is_some() {
        cmd
    } else {
        cmd.after_help(EXIT_QUARANTINE)
    }
}

/// Runs a parsed command line; returns the exit code.
/// A closed standard output is a quiet success (exit code 0).
pub fn run(cli: Cli) -> Result<i32, CliError> {
    if let Some(wait) = cli.wait {
        let _ = LOCK_WAIT.set(wait);
    }
    let result = match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Deploy(a) => deploy::run(a),
        Command::Ingest(a) => ingest::run(a),
        Command::Get(a) => get::run(a),
        Command::Search(a) => search::search(a),
        Command::Agg(a) => agg::agg(a),
        Command::Export(a) => export::run(a),
        Command::Maintain(a) => maintain::run(a),
        Command::Bus(a) => bus::run(a),
        Command::Serve(a) => serve::run(a),
        #[cfg(feature = "nats")]
        Command::Ship(a) => ship::run(a),
        Command::Stats(a) => stats::run(a),
        Command::Definitions(a) => definitions::run(a),
        Command::Quarantine(a) => quarantine::run(a),
        Command::Verify(a) => verify::run(a),
    };
    match result {
        Err(e) if e.is_closed_stdout() => Ok(EXIT_OK),
        other => other,
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

    /// Standard output was closed by its reader (`| head`): the command
    /// stops quietly with exit code 0, as a pager or `head` expects.
    fn closed_stdout() -> Self {
        CliError {
            code: EXIT_OK,
            message: String::new(),
        }
    }

    /// Whether this is the quiet stop of a closed standard output (a
    /// command that must report what it did, like ingest, can tell).
    pub fn is_closed_stdout(&self) -> bool {
        self.code == EXIT_OK && self.message.is_empty()
    }

    /// A store error while doing `what` on the store in `dir`, with advice.
    pub fn store(what: &str, dir: &Path, err: &StoreError) -> Self {
        if let StoreError::NotAStore { .. } = err {
            return CliError::fatal(format!("{err}; {NOT_A_STORE_ADVICE}"));
        }
        CliError::fatal(format!(
            "{what} failed for store {}: {err}; {}",
            dir.display(),
            advice(err)
        ))
    }

    /// An error of a producer's message box while doing `what`, with advice.
    pub fn message_box(what: &str, err: &StoreError) -> Self {
        CliError::fatal(format!("{what} failed: {err}; {}", advice(err)))
    }
}

/// What to do about `err`.
fn advice(err: &StoreError) -> &'static str {
    {
        match err {
            StoreError::Locked { .. } | StoreError::Wal(WalError::Locked { .. }) => {
                "close the other process that has it open, or pass --wait SECS to wait for it; get, search, agg, stats and definitions read alongside it"
            }
            StoreError::Wal(WalError::Poisoned { .. }) => {
                "the message box stopped after a failed write or sync; reopen the store (what was acknowledged is durable)"
            }
            StoreError::Wal(WalError::NoSpace { .. }) => {
                "free space on that file system, then retry (what was acknowledged is durable)"
            }
            StoreError::Wal(WalError::FrameTooLarge { .. }) => {
                "send smaller batches, or raise the frame size limit"
            }
            StoreError::Corrupt { .. } => "run `bamdb verify --store DIR` for details",
            StoreError::BoxFull { .. } => {
                "start the bus (`bamdb bus --store DIR`), or raise the box's quota; nothing of this group was written"
            }
            StoreError::BoxLocked { .. } => {
                "give each producer process its own box (--box NAME)"
            }
            StoreError::Degraded { .. } => {
                "the import is retrying; fix the cause (disk space, permissions); nothing committed is lost"
            }
            StoreError::Halted { .. } => {
                "fix the cause (disk space, permissions), then reopen the store; nothing committed is lost"
            }
            StoreError::Io { .. } | StoreError::Wal(_) => {
                "check the path, its permissions and free space"
            }
            _ => "check the input and retry",
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What to do about a `--store` that is not a store.
const NOT_A_STORE_ADVICE: &str =
    "check the --store path, or create a store with `bamdb deploy` or `bamdb ingest`";

/// `--store DIR` of the commands that read an existing store.
#[derive(Debug, clap::Args)]
pub struct ExistingStore {
    /// The store directory; it must hold a store (made by deploy, ingest or
    /// demo). Anything else is exit code 2, and nothing is created.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
}

/// Opens the store in `dir`, creating it if needed (deploy, ingest, demo).
pub fn open_store(dir: &Path) -> Result<Store, CliError> {
    waiting_for_lock(|| Store::open(dir, StoreOptions::default()))
        .map_err(|e| CliError::store("open", dir, &e))
}

/// The options of every command that must not create a store.
pub fn existing_options() -> StoreOptions {
    StoreOptions {
        create_if_missing: false,
        ..StoreOptions::default()
    }
}

/// Opens an existing store: a directory that holds no store (or a missing
/// one, or a file) is an error that names it, and nothing is created.
pub fn open_existing(dir: &Path) -> Result<Store, CliError> {
    waiting_for_lock(|| Store::open(dir, existing_options()))
        .map_err(|e| CliError::store("open", dir, &e))
}

/// How long query commands wait for the import of what was committed.
const SYNC_TIMEOUT: Duration = Duration::from_secs(300);

/// Opens an existing store for a command that reads it, and waits until
/// the bus has imported everything committed when it opened, so that the
/// answer includes what the user ingested.
///
/// When the import has halted (a full disk that fails every checkpoint, a
/// damaged file), a read still answers from what was imported, with a
/// warning on stderr naming the cause and how far the import got: nothing
/// committed is lost, it waits in the message box.
pub fn open_imported(dir: &Path) -> Result<Store, CliError> {
    await_import(open_existing(dir)?)
}

/// Waits for `store`'s import as [`open_imported`] does.
pub fn await_import(store: Store) -> Result<Store, CliError> {
    if let Err(e) = wait_for_import(&store) {
        let stats = store.stats();
        if !stats.import_halted {
            return Err(e);
        }
        err_line(&format!(
            "bamdb: warning: {e}; answering from what was imported (LSN {} of {})",
            stats.applied_lsn, stats.committed_lsn
        ));
    }
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
        if let Some(reason) = stats.degraded.filter(|_| stats.import_halted) {
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

/// Closes the store. A halted import is a warning on stderr, not a
/// failure: what was acknowledged is durable in the message box, and a
/// command that needed the import has already failed on it.
pub fn close_store(store: Store) -> Result<(), CliError> {
    let dir = store.dir().to_path_buf();
    match store.close() {
        Ok(()) => Ok(()),
        Err(StoreError::Halted { reason }) => {
            err_line(&format!(
                "bamdb: warning: store {}: {reason}",
                dir.display()
            ));
            Ok(())
        }
        Err(e) => Err(CliError::store("close", &dir, &e)),
    }
}

/// Writes one line to stdout and flushes it: the one way the CLI writes to
/// standard output (`println!` panics on a closed pipe). A reader that went
/// away (`| head`) ends the command quietly with exit code 0
/// ([`CliError::is_closed_stdout`]); other write errors are exit code 2.
pub fn out_line(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => CliError::closed_stdout(),
            _ => CliError::fatal(format!("cannot write to standard output: {e}")),
        })
}

/// `outln!("format", args)?`: [`out_line`] with `format!` arguments.
macro_rules! outln {
    () => {
        $crate::cli::out_line("")
    };
    ($($arg:tt)*) => {
        $crate::cli::out_line(&format!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes one line to stderr; a closed stderr is ignored (`eprintln!`
/// would panic), since there is nowhere left to report it.
pub fn err_line(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
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
