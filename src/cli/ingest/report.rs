//! What `ingest` tells the user: receipts on stdout, capped and clipped
//! errors on stderr, a progress bar on a terminal, and the final summary.
//!
//! stderr is written with errors ignored (never `eprintln!`, which panics
//! when stderr is a closed pipe): a message that cannot be shown must not
//! turn into a crash that hides the last committed LSN.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use bamdb::Receipt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::CliError;

/// Bad lines, and rejected groups, shown before the rest are only counted.
pub const SHOWN: usize = 20;
/// Reasons are clipped to this many characters: an error may quote input
/// (an unknown op, a field name), and input lines can be megabytes long.
const MAX_REASON_CHARS: usize = 300;
/// Bad line numbers listed in one group's message.
const MAX_LISTED_LINES: usize = 20;
/// Reasons of a refused direct batch listed in one message.
const MAX_LISTED_REASONS: usize = 5;
/// The progress bar appears once the input has taken this long.
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// Why a group was rejected.
pub enum Why<'a> {
    /// Lines of it are bad: the first numbers, and how many in all.
    BadLines(&'a [usize], usize),
    /// It does not fit in one frame (the encoder's reason).
    TooLarge(&'a str),
    /// The direct stream's validation refused it.
    Invalid(&'a [String]),
    /// The store refused it for another reason that does not stop ingest.
    Refused(&'a str),
}

/// Whether a receipt reached standard output.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Yes,
    /// Standard output is closed (its reader went away).
    StdoutClosed,
}

pub struct Reporter {
    source: String,
    quiet: bool,
    pub groups_committed: u64,
    pub events_committed: u64,
    pub last_lsn: Option<u64>,
    /// The last input line of the last committed group.
    pub last_committed_line: usize,
    pub groups_rejected: u64,
    pub bad_lines: u64,
    /// Groups of this run the bus skipped as already imported (a flush
    /// with a `seq` it had seen).
    pub duplicates: u64,
    progress: Progress,
}

impl Reporter {
    /// `source` names the input in messages; `input_len` is its size if
    /// known (for the progress bar).
    pub fn new(source: String, quiet: bool, input_len: Option<u64>) -> Self {
        Reporter {
            source,
            quiet,
            groups_committed: 0,
            events_committed: 0,
            last_lsn: None,
            last_committed_line: 0,
            groups_rejected: 0,
            bad_lines: 0,
            duplicates: 0,
            progress: Progress {
                enabled: !quiet && std::io::stderr().is_terminal(),
                start: Instant::now(),
                bar: None,
                total: input_len,
            },
        }
    }

    /// A line that cannot be part of any commit.
    pub fn bad_line(&mut self, number: usize, reason: &str) {
        self.bad_lines += 1;
        if !self.quiet && self.bad_lines <= SHOWN as u64 {
            let text = format!("bamdb: {} line {number}: {}", self.source, clip(reason));
            self.err(&text);
        }
    }

    /// A group of which nothing was written.
    pub fn rejected(&mut self, first: usize, last: usize, why: Why<'_>) {
        self.groups_rejected += 1;
        if self.quiet || self.groups_rejected > SHOWN as u64 {
            return;
        }
        let lines = if first == last {
            format!("line {first}")
        } else {
            format!("lines {first}-{last}")
        };
        let (cause, advice) = match why {
            Why::BadLines(listed, count) => (
                format!(
                    "{} {}",
                    if count == 1 { "bad line" } else { "bad lines" },
                    listing(listed.iter(), count, MAX_LISTED_LINES)
                ),
                "fix the bad lines and send the group again",
            ),
            Why::TooLarge(reason) => (
                format!("too large for one commit ({})", clip(reason)),
                "split it with {\"op\":\"flush\"} lines (or use --threshold) and send it again",
            ),
            Why::Invalid(reasons) => (
                format!(
                    "refused by validation: {}",
                    listing(
                        reasons.iter().map(|r| clip(r)),
                        reasons.len(),
                        MAX_LISTED_REASONS
                    )
                ),
                "fix the events (or deploy the missing definitions) and send the group again",
            ),
            Why::Refused(reason) => (clip(reason), "fix it and send the group again"),
        };
        let text = format!(
            "bamdb: {} {lines}: group rejected, nothing of it was written: {cause}; {advice}",
            self.source
        );
        self.err(&text);
    }

    /// A durable commit: prints its receipt unless quiet.
    pub fn committed(&mut self, receipt: Receipt, last_line: usize) -> Result<Written, CliError> {
        self.groups_committed += 1;
        self.events_committed += receipt.events as u64;
        self.last_lsn = Some(receipt.lsn);
        self.last_committed_line = last_line;
        self.progress.message(self.events_committed);
        if self.quiet {
            return Ok(Written::Yes);
        }
        let text = format!(
            "{{\"committed\":{},\"events\":{}}}",
            receipt.lsn, receipt.events
        );
        let write = || {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}").and_then(|()| out.flush())
        };
        let result = match &self.progress.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        match result {
            Ok(()) => Ok(Written::Yes),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Written::StdoutClosed),
            Err(e) => Err(CliError::fatal(format!(
                "cannot write to standard output: {e}; {}",
                self.position()
            ))),
        }
    }

    /// Called after each line with the bytes read so far.
    pub fn progress(&mut self, bytes: u64) {
        self.progress.update(bytes, self.events_committed);
    }

    /// The input is done; the summary waits for the import.
    pub fn waiting_for_import(&self) {
        if let Some(bar) = &self.progress.bar {
            bar.set_message(format!(
                "{} events committed, waiting for the bus to import them",
                self.events_committed
            ));
            bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    /// Where the input stands: for messages after which ingest stops.
    pub fn position(&self) -> String {
        match self.last_lsn {
            Some(lsn) => format!(
                "the last committed LSN is {lsn} (input up to line {})",
                self.last_committed_line
            ),
            None => "nothing was committed by this run".to_string(),
        }
    }

    /// Ingest stopped because standard output closed after a commit.
    pub fn stdout_closed(&mut self) {
        let text = format!(
            "bamdb: standard output was closed; ingest stopped: {}; {} after line {} \
             was not read; send it again from there",
            self.position(),
            self.source,
            self.last_committed_line
        );
        self.err(&text);
    }

    /// The counts of what was only counted, then the summary line.
    /// `imported`: what the bus did with this run's frames, as far as known.
    pub fn summary(&mut self, imported: Imported, store: &std::path::Path) {
        if let Some(bar) = self.progress.bar.take() {
            bar.finish_and_clear();
        }
        if !self.quiet {
            let hidden = self.bad_lines.saturating_sub(SHOWN as u64);
            if hidden > 0 {
                self.err(&format!("bamdb: ... and {hidden} more bad lines"));
            }
            let hidden = self.groups_rejected.saturating_sub(SHOWN as u64);
            if hidden > 0 {
                self.err(&format!("bamdb: ... and {hidden} more rejected groups"));
            }
        }
        let committed = match self.last_lsn {
            Some(lsn) => format!(
                "{} committed ({}, last LSN {lsn})",
                plural(self.groups_committed, "group"),
                plural(self.events_committed, "event")
            ),
            None => "0 groups committed".to_string(),
        };
        let rejected = if self.bad_lines > 0 {
            format!(
                "{} rejected ({})",
                plural(self.groups_rejected, "group"),
                plural(self.bad_lines, "bad line")
            )
        } else {
            format!("{} rejected", plural(self.groups_rejected, "group"))
        };
        let quarantine = match imported {
            Imported::Checked(0) => "0 frames quarantined by the bus".to_string(),
            Imported::Checked(n) => format!(
                "{} of this run quarantined by the bus (not imported; see \
                 `bamdb quarantine list --store {}`)",
                plural(n, "frame"),
                store.display()
            ),
            Imported::Unknown => "quarantine not checked".to_string(),
            Imported::ByTheBus => format!(
                "durable in message box {}; the bus process (`bamdb bus`) imports it",
                store.display()
            ),
        };
        let duplicates = match self.duplicates {
            0 => String::new(),
            n => format!(
                ", {} skipped as already imported (their seq was)",
                plural(n, "group")
            ),
        };
        self.err(&format!(
            "bamdb: summary: {committed}, {rejected}, {quarantine}{duplicates}"
        ));
    }

    /// Prints one line on stderr (even when quiet: for fatal errors).
    pub fn error(&self, text: &str) {
        self.err(text);
    }

    fn err(&self, text: &str) {
        let write = || {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{text}");
        };
        match &self.progress.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// What the summary can say of the bus's import of this run.
#[derive(Debug, Clone, Copy)]
pub enum Imported {
    /// This many frames of the run were quarantined.
    Checked(u64),
    /// The run stopped before the import could be checked.
    Unknown,
    /// The run wrote to a producer's message box (`--box`): a bus process
    /// imports it later.
    ByTheBus,
}

/// The progress bar: drawn on a terminal only, once the input took over
/// [`PROGRESS_AFTER`] (a short ingest is not worth the flicker).
struct Progress {
    enabled: bool,
    start: Instant,
    bar: Option<ProgressBar>,
    total: Option<u64>,
}

impl Progress {
    fn update(&mut self, bytes: u64, events: u64) {
        if !self.enabled {
            return;
        }
        if self.bar.is_none() {
            if self.start.elapsed() < PROGRESS_AFTER {
                return;
            }
            let (bar, template) = match self.total {
                Some(total) => (
                    ProgressBar::new(total),
                    "{bar:30} {bytes}/{total_bytes} read, {msg} [{elapsed}]",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "{spinner} {bytes} read, {msg} [{elapsed}]",
                ),
            };
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = bar.with_style(style);
            bar.set_message(format!("{events} events committed"));
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
        }
    }

    fn message(&self, events: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{events} events committed"));
        }
    }
}

/// "1 group", "2 groups".
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The first items, comma-separated, then "and N more" of `count` in all.
fn listing<T: std::fmt::Display>(
    items: impl Iterator<Item = T>,
    count: usize,
    max: usize,
) -> String {
    let shown: Vec<String> = items.take(max).map(|x| x.to_string()).collect();
    let mut text = shown.join(", ");
    if count > shown.len() {
        text.push_str(&format!(" and {} more", count - shown.len()));
    }
    text
}

/// A reason made safe to print: control characters (terminal escapes)
/// escaped, and at most [`MAX_REASON_CHARS`] characters.
pub fn clip(reason: &str) -> String {
    let mut out = String::new();
    for (shown, (at, c)) in reason.char_indices().enumerate() {
        if shown == MAX_REASON_CHARS {
            out.push_str(&format!("... ({} bytes more)", reason.len() - at));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
