//! Rows out: one buffered writer for standard output, and the delimited
//! formats (`csv`, `tsv`) that `search` and `agg` write beside JSON and
//! tables.
//!
//! - **CSV** follows RFC 4180: fields separated by `,`, records by `\n`; a
//!   field holding `,`, `"`, a line break, or leading or trailing spaces is
//!   quoted with `"`, and a `"` inside doubled. Unset values are empty
//!   fields; the empty text is `""` (as DuckDB writes them), so the two
//!   stay apart and a one-column row is never a blank line.
//! - **TSV** is one record per line, fields separated by a tab; a tab, line
//!   break or backslash inside a value is written `\t`, `\n`, `\r`, `\\`
//!   (so every line is one record, as `cut`, `awk` and spreadsheets read
//!   it). Unset values and the empty text are both empty fields.
//!
//! Text is written as it is (UTF-8), numbers as the JSON output writes
//! them, times in RFC 3339, bools as `true`/`false`.

use std::borrow::Cow;
use std::io::{BufWriter, StdoutLock, Write};

use bamdb::model::Value;

use super::CliError;

/// Standard output, buffered: a long result is written in large pieces,
/// not a system call per line. A reader that went away (`| head`) ends
/// the command quietly, as [`super::out_line`] does.
pub struct Out {
    w: BufWriter<StdoutLock<'static>>,
}

impl Out {
    pub fn new() -> Out {
        Out {
            w: BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
        }
    }

    /// Writes `text` and a line break.
    pub fn line(&mut self, text: &str) -> Result<(), CliError> {
        self.w
            .write_all(text.as_bytes())
            .and_then(|()| self.w.write_all(b"\n"))
            .map_err(write_failed)
    }

    /// Writes `text` as it is.
    pub fn raw(&mut self, text: &str) -> Result<(), CliError> {
        self.w.write_all(text.as_bytes()).map_err(write_failed)
    }

    /// Writes `value` as JSON on one line, without a line break.
    pub fn json<T: serde::Serialize>(&mut self, value: &T) -> Result<(), CliError> {
        serde_json::to_writer(&mut self.w, value).map_err(|e| match e.io_error_kind() {
            Some(_) => write_failed(std::io::Error::from(e)),
            None => CliError::fatal(format!("cannot format the result as JSON: {e}")),
        })
    }

    /// Writes `value` as JSON on one line.
    pub fn json_line<T: serde::Serialize>(&mut self, value: &T) -> Result<(), CliError> {
        self.json(value)?;
        self.raw("\n")
    }

    /// Writes what is buffered.
    pub fn finish(mut self) -> Result<(), CliError> {
        self.w.flush().map_err(write_failed)
    }
}

fn write_failed(e: std::io::Error) -> CliError {
    match e.kind() {
        std::io::ErrorKind::BrokenPipe => CliError::closed_stdout(),
        _ => CliError::fatal(format!("cannot write to standard output: {e}")),
    }
}

/// The delimited formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimited {
    Csv,
    Tsv,
}

impl Delimited {
    /// One record of `fields`; `None` is an unset value.
    pub fn record<'a>(self, fields: impl IntoIterator<Item = Option<&'a str>>) -> String {
        let (sep, field): (char, fn(&str) -> Cow<'_, str>) = match self {
            Delimited::Csv => (',', csv_field),
            Delimited::Tsv => ('\t', tsv_field),
        };
        let mut out = String::new();
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            match f {
                None => {}
                Some("") if self == Delimited::Csv => out.push_str("\"\""),
                Some(f) => out.push_str(&field(f)),
            }
        }
        out
    }

    /// A header record of column names.
    pub fn header<'a>(self, names: impl IntoIterator<Item = &'a String>) -> String {
        self.record(names.into_iter().map(|n| Some(n.as_str())))
    }
}

/// A CSV field, quoted when it must be (the one rule `bamdb export`
/// writes too).
pub fn csv_field(text: &str) -> Cow<'_, str> {
    bamdb::export::csv::field(text)
}

/// A TSV field, its tabs, line breaks and backslashes escaped.
pub fn tsv_field(text: &str) -> Cow<'_, str> {
    if !text.contains(['\t', '\n', '\r', '\\']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A value as a delimited field: text as it is, the rest as in JSON
/// (times in RFC 3339); `None` where unset.
pub fn plain(value: Option<&Value>) -> Option<Cow<'_, str>> {
    value.map(bamdb::export::csv::plain)
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
