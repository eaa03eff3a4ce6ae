//! Reads the input one line at a time without ever holding more than one
//! line of at most the JSON line limit (a 10 MB line of garbage is skipped,
//! not buffered), and without its terminator or a leading byte order mark.

use std::io::{BufRead, Read};

/// One line of input, by its 1-based number.
pub enum Line<'a> {
    /// The text, without `\n` / `\r\n`.
    Text(&'a str),
    /// Longer than the limit; the rest of it was skipped.
    TooLong,
    /// Not UTF-8; the byte offset where the bad sequence starts.
    NotUtf8(usize),
}

pub struct LineReader<'r> {
    input: Box<dyn BufRead + 'r>,
    buf: Vec<u8>,
    /// The number of the line last returned.
    pub number: usize,
    /// Bytes read so far (for the progress bar).
    pub bytes: u64,
    max: usize,
}

/// The UTF-8 byte order mark, which some Windows tools write first.
const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<'r> LineReader<'r> {
    /// Lines of `input`; content longer than `max` bytes is [`Line::TooLong`].
    pub fn new(input: Box<dyn BufRead + 'r>, max: usize) -> Self {
        LineReader {
            input,
            buf: Vec::new(),
            number: 0,
            bytes: 0,
            max,
        }
    }

    /// The next line and its number, or `None` at the end of input.
    pub fn next_line(&mut self) -> std::io::Result<Option<(usize, Line<'_>)>> {
        self.buf.clear();
        // Room for the content, `\r\n` and the BOM of the first line.
        let cap = self.max as u64 + 2 + BOM.len() as u64;
        let read = (&mut self.input)
            .take(cap)
            .read_until(b'\n', &mut self.buf)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        self.bytes += read as u64;
        let ended = self.buf.ends_with(b"\n");
        if !ended && read as u64 == cap {
            self.bytes += skip_rest_of_line(&mut *self.input)?;
            return Ok(Some((self.number, Line::TooLong)));
        }
        let mut line = self.buf.as_slice();
        if self.number == 1 {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > self.max {
            return Ok(Some((self.number, Line::TooLong)));
        }
        let line = match std::str::from_utf8(line) {
            Ok(text) => Line::Text(text),
            Err(e) => Line::NotUtf8(e.valid_up_to()),
        };
        Ok(Some((self.number, line)))
    }
}

/// Discards input up to and including the next newline; returns the bytes
/// discarded.
fn skip_rest_of_line(input: &mut dyn BufRead) -> std::io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(skipped);
        }
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            input.consume(pos + 1);
            return Ok(skipped + pos as u64 + 1);
        }
        let len = buf.len();
        input.consume(len);
        skipped += len as u64;
    }
}
