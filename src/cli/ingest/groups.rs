//! Flush groups, all or nothing: the lines up to a flush, a clear or the end
//! of input (with a threshold, also up to the group's Nth event line) become
//! one commit, or nothing of them is written.
//!
//! Events go into the stream as they are read (it holds them encoded, so a
//! group costs its encoded size, not its parsed size); a bad line rolls the
//! stream back with `clear()` and the rest of its group is only read, not
//! buffered. A stream commits by itself when its batch is full, which would
//! split a group; so every event is first pushed into a shadow encoder with
//! the same limits and the largest header a batch can have: the stream's
//! batch is never larger than the shadow's, so when the shadow is full the
//! group is rejected as too large before the stream could commit any of it.

use bamdb::model::{parse_line_with, BatchEncoder, JsonEvent, JsonLine, Limits, ModelError};
use bamdb::{EventStream, StoreError};

use super::input::{Line, LineReader};
use super::report::{Reporter, Why, Written, SHOWN};
use crate::cli::CliError;

/// How the input ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Every line was read.
    Input,
    /// Standard output closed after a commit; the rest was not read.
    StdoutClosed,
}

pub struct Ingest<'a, S: EventStream> {
    stream: S,
    shadow: BatchEncoder,
    limits: &'a Limits,
    threshold: usize,
    group: Group,
    report: Reporter,
    /// Names the store in fatal errors.
    /// The store written, for messages; `None`: a producer's message box.
    store_dir: Option<&'a std::path::Path>,
}

/// The group being read.
#[derive(Default)]
struct Group {
    /// Its first and last non-blank lines (0: no line yet).
    first: usize,
    last: usize,
    /// Event lines read (pushed or not), for the threshold.
    event_lines: usize,
    /// The first bad line numbers, and how many there are.
    bad: Vec<usize>,
    bad_count: usize,
    /// Why it cannot be one frame.
    too_large: Option<String>,
}

impl Group {
    fn failed(&self) -> bool {
        self.bad_count > 0 || self.too_large.is_some()
    }
}

impl<'a, S: EventStream> Ingest<'a, S> {
    pub fn new(
        stream: S,
        producer: u32,
        limits: &'a Limits,
        threshold: usize,
        report: Reporter,
        store_dir: Option<&'a std::path::Path>,
    ) -> Self {
        Ingest {
            stream,
            // u64::MAX: the longest sequence number varint, so the shadow's
            // header is never shorter than the stream's.
            shadow: BatchEncoder::with_limits(producer, u64::MAX, limits.clone()),
            limits,
            threshold,
            group: Group::default(),
            report,
            store_dir,
        }
    }

    /// Reads every line and commits its groups.
    pub fn run(&mut self, input: &mut LineReader<'_>) -> Result<End, CliError> {
        loop {
            let next = input.number + 1;
            let line = input.next_line().map_err(|e| {
                CliError::fatal(format!(
                    "reading the input at line {next}: {e}; {}",
                    self.report.position()
                ))
            })?;
            let Some((number, line)) = line else {
                break;
            };
            let flow = self.line(number, line)?;
            self.report.progress(input.bytes);
            if flow == Written::StdoutClosed {
                return Ok(End::StdoutClosed);
            }
        }
        match self.end_group(None)? {
            Written::Yes => Ok(End::Input),
            Written::StdoutClosed => Ok(End::StdoutClosed),
        }
    }

    fn line(&mut self, number: usize, line: Line<'_>) -> Result<Written, CliError> {
        let text = match line {
            Line::TooLong => {
                let max = self.limits.max_json_line_bytes;
                self.bad(number, &format!("line is longer than {max} bytes"));
                return Ok(Written::Yes);
            }
            Line::NotUtf8(at) => {
                self.bad(number, &format!("line is not valid UTF-8 (at byte {at})"));
                return Ok(Written::Yes);
            }
            Line::Text(text) if text.trim().is_empty() => return Ok(Written::Yes),
            Line::Text(text) => text,
        };
        match parse_line_with(text, self.limits) {
            Err(e) => self.bad(number, &e.to_string()),
            Ok(JsonLine::Flush { seq }) => {
                self.touch(number);
                return self.end_group(seq);
            }
            Ok(JsonLine::Clear) => {
                self.touch(number);
                self.clear_group();
            }
            Ok(JsonLine::Event(event)) => {
                self.touch(number);
                self.group.event_lines += 1;
                self.event(number, event)?;
                if self.threshold > 0 && self.group.event_lines >= self.threshold {
                    return self.end_group(None);
                }
            }
        }
        Ok(Written::Yes)
    }

    fn touch(&mut self, number: usize) {
        if self.group.first == 0 {
            self.group.first = number;
        }
        self.group.last = number;
    }

    /// A bad line: its group can no longer be committed.
    fn bad(&mut self, number: usize, reason: &str) {
        self.touch(number);
        self.report.bad_line(number, reason);
        if self.group.bad.len() < SHOWN {
            self.group.bad.push(number);
        }
        self.group.bad_count += 1;
        self.roll_back();
    }

    fn event(&mut self, number: usize, event: JsonEvent) -> Result<(), CliError> {
        if self.group.failed() {
            return Ok(()); // read, not buffered: nothing of the group is written
        }
        let event = event.into_event(self.stream.now());
        match self.shadow.push(&event) {
            Ok(()) => {}
            Err(ModelError::BatchFull { reason }) => {
                self.group.too_large = Some(reason);
                self.roll_back();
                return Ok(());
            }
            Err(e) => {
                self.bad(number, &e.to_string());
                return Ok(());
            }
        }
        match self.stream.push(event) {
            Ok(None) => Ok(()),
            Ok(Some(receipt)) => {
                // Cannot happen (see the module docs); if it did, the commit
                // is durable and must be acknowledged.
                self.report.committed(receipt, number).map(|_| ())
            }
            Err(e) if is_fatal(&e) => Err(self.store_error(&e)),
            Err(e) => {
                self.bad(number, &e.to_string());
                Ok(())
            }
        }
    }

    /// Commits the group, or reports why nothing of it was written.
    /// Commits the group, numbered `seq` if its flush line gave one.
    fn end_group(&mut self, seq: Option<u64>) -> Result<Written, CliError> {
        let group = std::mem::take(&mut self.group);
        if group.first == 0 {
            return Ok(Written::Yes);
        }
        if group.failed() {
            self.roll_back();
            let why = match &group.too_large {
                Some(reason) if group.bad_count == 0 => Why::TooLarge(reason),
                _ => Why::BadLines(&group.bad, group.bad_count),
            };
            self.report.rejected(group.first, group.last, why);
            return Ok(Written::Yes);
        }
        self.shadow.clear();
        let flushed = match seq {
            Some(seq) => self.stream.flush_sequenced(seq),
            None => self.stream.flush(),
        };
        match flushed {
            Ok(Some(receipt)) => self.report.committed(receipt, group.last),
            Ok(None) => Ok(Written::Yes),
            Err(StoreError::Rejected { reasons }) => {
                let why = Why::Invalid(&reasons);
                self.report.rejected(group.first, group.last, why);
                Ok(Written::Yes)
            }
            Err(e) if is_fatal(&e) => {
                self.group = group; // for the message
                Err(self.store_error(&e))
            }
            Err(e) => {
                let reason = e.to_string();
                self.report
                    .rejected(group.first, group.last, Why::Refused(&reason));
                Ok(Written::Yes)
            }
        }
    }

    /// `{"op":"clear"}`: the group so far is dropped; if it had bad lines it
    /// is reported as rejected, as it would have been at a flush.
    fn clear_group(&mut self) {
        let group = std::mem::take(&mut self.group);
        self.roll_back();
        if group.failed() {
            let why = match &group.too_large {
                Some(reason) if group.bad_count == 0 => Why::TooLarge(reason),
                _ => Why::BadLines(&group.bad, group.bad_count),
            };
            self.report.rejected(group.first, group.last, why);
        }
    }

    fn roll_back(&mut self) {
        self.stream.clear();
        self.shadow.clear();
    }

    /// The report, once the input is done.
    pub fn into_report(self) -> Reporter {
        self.report
    }

    /// Drops what the stream still holds (after a fatal error), so that
    /// dropping it does not warn about unflushed events.
    pub fn abandon(&mut self) {
        self.roll_back();
    }

    fn store_error(&self, e: &StoreError) -> CliError {
        let what = format!(
            "ingest of input lines {}-{} (before them, {})",
            self.group.first,
            self.group.last,
            self.report.position()
        );
        match self.store_dir {
            Some(dir) => CliError::store(&what, dir, e),
            None => CliError::message_box(&what, e),
        }
    }
}

/// Errors that stop the ingest: the store can no longer take events.
fn is_fatal(e: &StoreError) -> bool {
    !matches!(
        e,
        StoreError::Model(_) | StoreError::InvalidInput { .. } | StoreError::Rejected { .. }
    )
}
