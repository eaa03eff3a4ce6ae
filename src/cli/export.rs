//! `bamdb export`: the instances a selection selects, written to a file
//! in a format other tools read (see `bamdb::export`). The file appears
//! whole or not at all: it is written to a temporary file in the same
//! directory, synced, renamed over FILE, and the directory synced.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use bamdb::export::{self, ExportError, Format};
use bamdb::model::ActivityDefinition;
use bamdb::query::{Row, Search};
use bamdb::{SearchStream, StoreError};
use clap::ValueEnum;

use super::reading::{open_reading, ReadStore, Reading};
use super::selection::{query_failed, usage, Selection};
use super::{CliError, EXIT_OK};

const AFTER_HELP: &str = "Formats:
  parquet  Parquet, a row group per 32,768 rows, zstd (needs the `parquet` feature)
  arrow    Arrow IPC file, a record batch per 32,768 rows (needs the `arrow` feature)
  csv      RFC 4180 with a header line, the fields of `search --format csv`
  ocel     OCEL 2.0 JSON: objects = instances and their continuation parts,
           events = their begin, update and end, relationships from
           continuations and related instances
  xes      IEEE 1849 XES: a trace per instance, events begin (start), update
           and end (complete)
Columns (parquet, arrow, csv): id, status, begin, end, last_modified, then
every item of the definition in order. Text is dictionary-encoded, times are
timestamp[us, UTC], int Int64, float Float64, bool Boolean; unset is null
(csv: an empty field; the empty text is \"\").

FILE is written whole or not at all (a temporary file beside it, renamed when
complete); `-o -` writes a text format (csv, ocel, xes) to standard output.
The selection flags are those of `bamdb search`. Rows come in no set order
(the fastest: no sorting, two threads reading the store's files at once):
active instances first, then completed ones in chunks from the files.
--order-by sorts them as `search --order-by` does (a page of 65,536 rows at a
time; slower on large exports).

Examples:
  bamdb export --store DIR PurchaseOrder --format parquet -o orders.parquet
  bamdb export --store DIR PurchaseOrder --format csv --where 'Region = EU' -o -
  bamdb export --store DIR PurchaseOrder --format ocel --status completed -o orders.ocel.json
  bamdb export --store DIR PurchaseOrder --format xes --since now-7d --order-by begin -o week.xes

Exit codes:
  0  success (also when nothing matches: a file with no rows)
  2  bad expression, unknown field, an activity that is not deployed, a
     format this build lacks, a binary format to standard output, a file
     that cannot be written, or the store could not be used (not a store,
     locked, damaged, I/O)";

/// The `--format` of export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// Parquet (feature `parquet`).
    Parquet,
    /// Arrow IPC file (feature `arrow`).
    Arrow,
    /// CSV (RFC 4180).
    Csv,
    /// OCEL 2.0 JSON.
    Ocel,
    /// IEEE 1849 XES.
    Xes,
}

impl FormatArg {
    fn format(self) -> Format {
        match self {
            FormatArg::Parquet => Format::Parquet,
            FormatArg::Arrow => Format::Arrow,
            FormatArg::Csv => Format::Csv,
            FormatArg::Ocel => Format::Ocel,
            FormatArg::Xes => Format::Xes,
        }
    }
}

/// Arguments of `export`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct ExportArgs {
    #[command(flatten)]
    store: ReadStore,
    /// The activity name, e.g. PurchaseOrder.
    activity: String,
    #[command(flatten)]
    selection: Selection,
    /// Write the rows in this order: FIELD, FIELD asc or FIELD desc; repeat
    /// for more keys (then id). Without it, rows come in no set order
    /// (storage order, two files read at once), which is the fastest.
    #[arg(long = "order-by", value_name = "FIELD [asc|desc]")]
    order_by: Vec<String>,
    /// parquet, arrow, csv, ocel or xes (see below).
    #[arg(long, value_enum)]
    format: FormatArg,
    /// The file to write (replaced whole when the export succeeds); `-`
    /// for standard output (text formats).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

pub fn run(args: ExportArgs) -> Result<i32, CliError> {
    let format = args.format.format();
    if !format.available() {
        return Err(CliError::fatal(format!(
            "--format {format}: this bamdb was built without the `{format}` feature; \
             build it with `cargo install --features {format}`"
        )));
    }
    let to_stdout = args.output.as_os_str() == "-";
    if to_stdout && !format.is_text() {
        return Err(usage(&format!(
            "--format {format} is binary: write it to a file (-o FILE), not standard output"
        )));
    }
    let sel = args.selection.parse()?;
    let Some(status) = sel.status else {
        return Err(usage(
            "--status pending: pending records are not instances and cannot be exported; \
             use active, completed or all",
        ));
    };
    let search = sel.search(&args.activity, status, &args.order_by)?;

    let dir = &args.store.store;
    let store = open_reading(&args.store)?;
    let def = store
        .definition(&args.activity)
        .map_err(|e| query_failed("export", dir, &e))?;
    let job = Job {
        store: &store,
        dir,
        def: &def,
        search: &search,
        format,
    };
    if to_stdout {
        let out = BufWriter::with_capacity(1 << 16, std::io::stdout());
        job.write(out).map_err(|e| match e {
            Failed::Export(ExportError::Io(io)) if io.kind() == std::io::ErrorKind::BrokenPipe => {
                CliError::closed_stdout()
            }
            other => other.into_cli("standard output"),
        })?;
    } else {
        write_atomically(&args.output, |file| {
            job.write(BufWriter::with_capacity(1 << 20, file))
        })?;
    }
    store.close()?;
    Ok(EXIT_OK)
}

/// What went wrong while writing.
enum Failed {
    Export(ExportError),
    Cli(CliError),
}

impl Failed {
    fn into_cli(self, target: &str) -> CliError {
        match self {
            Failed::Export(e) => CliError::fatal(format!("export to {target} failed: {e}")),
            Failed::Cli(e) => e,
        }
    }
}

impl From<ExportError> for Failed {
    fn from(e: ExportError) -> Failed {
        Failed::Export(e)
    }
}

/// Rows per chunk passed from a reading thread to the encoding one.
const CHUNK_ROWS: usize = 1024;

/// Threads decoding records for an export in no set order. Two: with
/// the encoder that makes three on a two-core machine, and the decoding
/// (about 60% of the CPU) no longer waits on one core (BENCHMARKS.md,
/// "Export").
const READERS: usize = 2;

/// A chunk of rows from a reading thread, or the error that ended it.
type Chunk = Result<Vec<Row>, StoreError>;

/// A reading thread: the rows of `rows` in chunks of [`CHUNK_ROWS`] to
/// `tx`, tagged `reader`; chunks the encoder is done with come back on
/// `returned` and are dropped here, or reused for the next chunk.
fn read_chunks(
    reader: usize,
    rows: SearchStream,
    tx: std::sync::mpsc::SyncSender<(usize, Chunk)>,
    returned: &std::sync::mpsc::Receiver<Vec<Row>>,
) {
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                let _ = tx.send((reader, Err(e)));
                return;
            }
        };
        chunk.push(row);
        if chunk.len() == CHUNK_ROWS {
            let next = match returned.try_recv() {
                Ok(mut old) => {
                    old.clear();
                    old
                }
                Err(_) => Vec::with_capacity(CHUNK_ROWS),
            };
            // The writer stopped (it failed): nothing more to do.
            if tx
                .send((reader, Ok(std::mem::replace(&mut chunk, next))))
                .is_err()
            {
                return;
            }
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send((reader, Ok(chunk)));
    }
    // The encoder's input ends once every reader let go of its sender;
    // then drop here what comes back, until the encoder is done.
    drop(tx);
    while returned.recv().is_ok() {}
}

/// One export: where from, what, how.
struct Job<'a> {
    store: &'a Reading,
    dir: &'a Path,
    def: &'a ActivityDefinition,
    search: &'a Search,
    format: Format,
}

impl Job<'_> {
    fn failed(&self, e: &StoreError) -> Failed {
        Failed::Cli(query_failed("export", self.dir, e))
    }

    /// Writes the export to `out`; returns it flushed. The rows are read
    /// (records decoded) on [`READERS`] other threads while this one
    /// encodes them: a bounded channel of [`CHUNK_ROWS`]-row chunks
    /// between them.
    fn write<W: Write + Send>(&self, out: W) -> Result<W, Failed> {
        let rows = self
            .store
            .search_stream(self.search)
            .map_err(|e| self.failed(&e))?;
        // Storage order without --order-by: no order keys judged per page,
        // and the files are read by READERS threads at once (decoding
        // records is the slow half; the encoder is this thread).
        let readers = if self.search.order_by.is_empty() {
            match rows.page_rows(CHUNK_ROWS).unordered().split(READERS) {
                Ok(parts) => parts,
                Err(whole) => vec![*whole],
            }
        } else {
            vec![rows.page_rows(export::arrow_batch_rows())]
        };
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Chunk)>(1);
            // Each chunk goes back to the thread that decoded it, to be
            // dropped (or reused) there: freed where it was allocated, the
            // allocator keeps no memory waiting for another thread.
            let mut returns = Vec::new();
            for (reader, rows) in readers.into_iter().enumerate() {
                let tx = tx.clone();
                let (back, returned) = std::sync::mpsc::channel::<Vec<Row>>();
                returns.push(back);
                scope.spawn(move || read_chunks(reader, rows, tx, &returned));
            }
            // The readers hold the only senders: the channel ends with them.
            drop(tx);
            let each_row = |f: &mut dyn FnMut(&Row) -> Result<(), Failed>| {
                for (reader, chunk) in rx.iter() {
                    let chunk = chunk.map_err(|e| self.failed(&e))?;
                    for row in &chunk {
                        f(row)?;
                    }
                    if let Some(back) = returns.get(reader) {
                        let _ = back.send(chunk);
                    }
                }
                Ok(())
            };
            self.encode(out, each_row)
        })
    }

    /// Encodes the rows `each_row` hands to its callback, one after
    /// another, into `out` in the job's format.
    fn encode<W: Write + Send>(
        &self,
        out: W,
        each_row: impl FnOnce(&mut dyn FnMut(&Row) -> Result<(), Failed>) -> Result<(), Failed>,
    ) -> Result<W, Failed> {
        Ok(match self.format {
            Format::Csv => {
                let mut w = export::csv::CsvWriter::new(out, self.def)?;
                each_row(&mut |row| Ok(w.write_row(row)?))?;
                w.finish()?
            }
            #[cfg(feature = "arrow")]
            Format::Arrow => {
                let mut w = export::arrow::ArrowWriter::new(out, self.def)?;
                each_row(&mut |row| Ok(w.write_row(row)?))?;
                w.finish()?
            }
            #[cfg(feature = "parquet")]
            Format::Parquet => {
                let mut w = export::parquet::ParquetWriter::new(out, self.def)?;
                each_row(&mut |row| Ok(w.write_row(row)?))?;
                w.finish()?
            }
            Format::Ocel => {
                let mut w = export::ocel::OcelWriter::new(out, self.def)?;
                each_row(&mut |row| {
                    let (inst, parts) = self.instance(row)?;
                    Ok(w.write_instance(&inst, &parts)?)
                })?;
                w.finish()?
            }
            Format::Xes => {
                let mut w = export::xes::XesWriter::new(out, self.def)?;
                each_row(&mut |row| {
                    let (inst, parts) = self.instance(row)?;
                    Ok(w.write_instance(&inst, &parts)?)
                })?;
                w.finish()?
            }
            #[allow(unreachable_patterns)]
            other => {
                return Err(Failed::Cli(CliError::fatal(format!(
                    "--format {other}: not in this build"
                ))))
            }
        })
    }

    /// The instance of a row, with its parts (an archived one: its root
    /// alone, see [`export::root_part`]).
    fn instance(
        &self,
        row: &Row,
    ) -> Result<(bamdb::ActivityInstance, Vec<bamdb::model::InstancePart>), Failed> {
        let activity = &self.def.name;
        let Some(bamdb::model::Value::Text(id)) = row.get("id") else {
            return Err(Failed::Cli(CliError::fatal("export: a row without an id")));
        };
        let gone = || {
            Failed::Cli(CliError::fatal(format!(
                "export: instance {id:?} of {activity} vanished while it was exported; retry"
            )))
        };
        let inst = match self.store.get(activity, id).map_err(|e| self.failed(&e))? {
            Some(inst) => inst,
            None => self
                .store
                .get_archived(activity, id)
                .map_err(|e| self.failed(&e))?
                .ok_or_else(gone)?,
        };
        let parts = match self
            .store
            .parts(activity, id)
            .map_err(|e| self.failed(&e))?
        {
            Some(parts) => parts,
            None => vec![export::root_part(&inst)],
        };
        Ok((inst, parts))
    }
}

/// Writes `path` whole or not at all: `write` fills a temporary file in
/// the same directory, which is then synced and renamed over `path`, and
/// the directory synced. On any failure the temporary file is removed and
/// `path` is left as it was.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(File) -> Result<BufWriter<File>, Failed>,
) -> Result<(), CliError> {
    let shown = path.display().to_string();
    let io_failed = |what: &str, e: std::io::Error| {
        CliError::fatal(format!(
            "export to {shown} failed: cannot {what}: {e}; check the path, its permissions and free space"
        ))
    };
    let name = path
        .file_name()
        .ok_or_else(|| usage(&format!("-o {shown}: not a file name")))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    // Created as a new file would be (0666 less the umask), not 0600.
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(&parent)
        .map_err(|e| io_failed("create a temporary file in that directory", e))?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| io_failed("open the temporary file", e))?;
    let written = write(file).map_err(|e| e.into_cli(&shown))?;
    let file = written
        .into_inner()
        .map_err(|e| io_failed("write", e.into_error()))?;
    file.sync_all().map_err(|e| io_failed("sync the file", e))?;
    drop(file);
    tmp.persist(path)
        .map_err(|e| io_failed("rename the temporary file over it", e.error))?;
    File::open(&parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_failed("sync its directory", e))?;
    Ok(())
}
