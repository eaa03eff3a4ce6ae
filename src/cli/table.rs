//! Text tables for people (`search`, `agg` and `definitions` with
//! `--format table`), and the escaping of what goes into them.
//!
//! Values and ids are the producers' data: a control character or a
//! terminal escape sequence in them would, printed raw, move the cursor,
//! recolour or retitle the operator's terminal, or fake table rows with a
//! newline. Every cell is therefore escaped, Rust-style (`\n`, `\t`,
//! `\u{1b}`), before it is measured and aligned.

use std::fmt::Write;

/// `text` with every control character (C0, DEL, C1, which covers ESC and
/// the one-byte CSI) and every bidirectional formatting character (which
/// can make a terminal show text in another order than it is) escaped as
/// `\n`, `\r`, `\t` or `\u{XX}`. Everything else is kept as it is.
pub fn escape(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            // escape_default gives \n \r \t and \u{..} for the rest.
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A table without its final line break, for printing as lines. Only
/// that one: a row whose shown cells are all empty is an empty line, and
/// trimming every trailing one would drop such rows at the end.
pub fn lines(table: &str) -> &str {
    table.strip_suffix('\n').unwrap_or(table)
}

/// One cell: its text (escaped by [`table`]) and whether it is a number
/// (right-aligned).
pub type Cell = (String, bool);

/// An aligned table: header, rule, rows; number cells right-aligned, the
/// rest left-aligned, two spaces between columns, no trailing blanks, and
/// every header and cell escaped.
pub fn table(columns: &[String], rows: &[Vec<Cell>]) -> String {
    let columns: Vec<String> = columns.iter().map(|c| escape(c)).collect();
    let rows: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| r.iter().map(|(t, right)| (escape(t), *right)).collect())
        .collect();
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in &rows {
        for (i, (t, _)) in row.iter().enumerate() {
            let n = t.chars().count();
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(n),
                None => widths.push(n),
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[Cell]| {
        let mut l = String::new();
        for (i, ((t, right), w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            if *right {
                let _ = write!(l, "{t:>w$}");
            } else {
                let _ = write!(l, "{t:<w$}");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    let header: Vec<Cell> = columns.into_iter().map(|c| (c, false)).collect();
    line(&header);
    let rule: Vec<Cell> = widths.iter().map(|w| ("-".repeat(*w), false)).collect();
    line(&rule);
    for row in &rows {
        line(row);
    }
    out
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
