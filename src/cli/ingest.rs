//! `bamdb ingest`: reads JSON event lines and commits them, printing one
//! `{"committed":LSN,"events":N}` line per durable commit.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use bamdb::model::{parse_line_with, JsonLine, Limits};
use bamdb::{EventStream, Receipt, Store, StoreError};

use super::{close_store, open_store, out_line, CliError, EXIT_OK, EXIT_PARTIAL};

/// Arguments of `ingest`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Input: one JSON object per line, e.g.
  {\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\"}
  {\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\",\"data\":{\"Amount\":125.5}}
  {\"op\":\"end\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\"}
  {\"op\":\"flush\"}   commit what is buffered      {\"op\":\"clear\"}   roll it back
Other ops: continue (token), reference (type, name, data, long_data), relate
(related_activity, related_id); ts (RFC 3339) is optional on every event.
Blank lines are skipped. A bad line is reported on stderr with its number and
skipped; the exit code is then 1.

Output: one line {\"committed\":LSN,\"events\":N} per commit, printed only once
the commit is durable.

Exit codes:
  0  every line was committed
  1  some lines (or, with --direct, some batches) failed; the rest was committed
  2  usage error, or the store could not be used (locked, damaged, I/O)")]
pub struct Args {
    /// The store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    store: PathBuf,
    /// Use a direct stream: each commit is validated first and is visible
    /// to queries when its line is printed.
    #[arg(long)]
    direct: bool,
    /// Commit after every N buffered events (0: only at {"op":"flush"},
    /// when a batch is full, and at the end of input).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threshold: usize,
    /// The input file; `-` or nothing reads standard input.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let input: Box<dyn BufRead> = match &args.file {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(BufReader::new(std::fs::File::open(p).map_err(|e| {
            CliError::fatal(format!(
                "cannot open input file {}: {e}; check the path",
                p.display()
            ))
        })?)),
    };
    let source = match &args.file {
        Some(p) if p.as_os_str() != "-" => p.display().to_string(),
        _ => "standard input".to_string(),
    };
    let store = open_store(&args.store)?;
    let limits = Limits::default();
    let mut ingest = Ingest {
        store: &store,
        limits: &limits,
        threshold: args.threshold,
        source,
        failed: 0,
        pending_bytes: 0,
        batch_first_line: 0,
    };
    let result = if args.direct {
        ingest.lines(input, store.direct_stream())
    } else {
        ingest.lines(input, store.buffered_stream(0))
    };
    let failed = ingest.failed;
    result?;
    close_store(store)?;
    if failed > 0 {
        eprintln!("bamdb: {failed} input line(s) failed; see the errors above");
        Ok(EXIT_PARTIAL)
    } else {
        Ok(EXIT_OK)
    }
}

struct Ingest<'a> {
    store: &'a Store,
    limits: &'a Limits,
    threshold: usize,
    source: String,
    /// Lines (or direct batches) that failed.
    failed: usize,
    /// JSON bytes of the buffered events: keeps batches well under the
    /// encoded byte limit, so the stream never commits on its own.
    pending_bytes: usize,
    /// The first line of the buffered batch, for messages.
    batch_first_line: usize,
}

/// A batch is committed before its JSON reaches this share of the encoded
/// byte limit (encoded events are rarely more than twice their JSON).
const JSON_SHARE_OF_BATCH: usize = 4;

impl Ingest<'_> {
    fn lines<S: EventStream>(
        &mut self,
        mut input: Box<dyn BufRead + '_>,
        mut stream: S,
    ) -> Result<(), CliError> {
        let mut number = 0usize;
        let mut buf = Vec::new();
        loop {
            number += 1;
            buf.clear();
            let max = self.limits.max_json_line_bytes;
            let read = (&mut input)
                .take(max as u64 + 2)
                .read_until(b'\n', &mut buf)
                .map_err(|e| {
                    CliError::fatal(format!("reading {} at line {number}: {e}", self.source))
                })?;
            if read == 0 {
                break;
            }
            if !buf.ends_with(b"\n") && buf.len() > max {
                skip_rest_of_line(&mut input).map_err(|e| {
                    CliError::fatal(format!("reading {} at line {number}: {e}", self.source))
                })?;
                self.line_error(number, &format!("line is longer than {max} bytes"));
                continue;
            }
            let Ok(text) = std::str::from_utf8(&buf) else {
                self.line_error(number, "line is not valid UTF-8");
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            match parse_line_with(text, self.limits) {
                Err(e) => self.line_error(number, &e.to_string()),
                Ok(JsonLine::Flush) => self.commit(&mut stream)?,
                Ok(JsonLine::Clear) => {
                    stream.clear();
                    self.pending_bytes = 0;
                }
                Ok(JsonLine::Event(event)) => {
                    let full = stream.pending_events() >= self.limits.max_events_per_batch
                        || (self.pending_bytes + text.len()) * JSON_SHARE_OF_BATCH
                            > self.limits.max_batch_bytes;
                    if full {
                        self.commit(&mut stream)?;
                    }
                    if stream.pending_events() == 0 {
                        self.batch_first_line = number;
                    }
                    let before = stream.pending_events();
                    match stream.push(event.into_event(stream.now())) {
                        Ok(committed) => {
                            if let Some(receipt) = committed {
                                // The stream committed a full batch by itself
                                // (durable, as push returned Ok); this event
                                // starts the next one.
                                report(receipt)?;
                                self.pending_bytes = 0;
                                self.batch_first_line = number;
                            }
                            self.pending_bytes += text.len();
                        }
                        Err(e) => {
                            if before > 0 && stream.pending_events() == 0 {
                                // The full batch was flushed and failed (a
                                // direct stream rejected it): it is gone.
                                self.pending_bytes = 0;
                            }
                            if is_fatal(&e) {
                                return Err(self.store_error(number, &e));
                            }
                            self.line_error(number, &e.to_string());
                        }
                    }
                    if self.threshold > 0 && stream.pending_events() >= self.threshold {
                        self.commit(&mut stream)?;
                    }
                }
            }
        }
        self.commit(&mut stream)
    }

    /// Commits the buffered batch and reports it once it is durable.
    fn commit<S: EventStream>(&mut self, stream: &mut S) -> Result<(), CliError> {
        self.pending_bytes = 0;
        match stream.flush() {
            Ok(Some(receipt)) => report(receipt),
            Ok(None) => Ok(()),
            Err(StoreError::Rejected { reasons }) => {
                // Direct stream: the batch would be (or was) quarantined.
                self.failed += 1;
                eprintln!(
                    "bamdb: {}: the batch starting at line {} was rejected: {}; fix the events \
                     (or deploy the missing definitions) and send them again",
                    self.source,
                    self.batch_first_line,
                    reasons.join("; ")
                );
                Ok(())
            }
            Err(e) => Err(self.store_error(self.batch_first_line, &e)),
        }
    }

    fn line_error(&mut self, number: usize, reason: &str) {
        self.failed += 1;
        eprintln!(
            "bamdb: {} line {number}: {reason}; the line was skipped",
            self.source
        );
    }

    fn store_error(&self, number: usize, e: &StoreError) -> CliError {
        CliError::store(
            &format!("ingest ({} line {number})", self.source),
            self.store.dir(),
            e,
        )
    }
}

/// Errors that stop the ingest: the store can no longer take events.
fn is_fatal(e: &StoreError) -> bool {
    !matches!(
        e,
        StoreError::Model(_) | StoreError::InvalidInput { .. } | StoreError::Rejected { .. }
    )
}

fn report(receipt: Receipt) -> Result<(), CliError> {
    out_line(&format!(
        "{{\"committed\":{},\"events\":{}}}",
        receipt.lsn, receipt.events
    ))
}

/// Discards input up to and including the next newline.
fn skip_rest_of_line(input: &mut dyn BufRead) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            input.consume(pos + 1);
            return Ok(());
        }
        let len = buf.len();
        input.consume(len);
    }
}
