//! HTML building blocks of the portal: escaping, percent-encoding of links,
//! the page layout, and the text forms of values and result cells.
//!
//! Ids, values, reasons and names are the producers' data, and any of them
//! may hold markup or control characters. Everything from data goes through
//! [`esc`] (text and attribute values alike), and every link that carries
//! data is built by [`encode`], so no data can open a tag, close an
//! attribute, or reach the reader's screen as a raw control character.

use std::fmt::Write as _;

use bamdb::model::{Timestamp, Value};
use bamdb::query::Cell;

/// `text` safe in HTML text and in quoted or unquoted attribute values:
/// `& < > " ' = \`` as character references (`=` and the backtick too, so
/// that not even an unquoted attribute could be split), and control and
/// bidirectional formatting characters shown visibly as Rust escapes
/// (`\n`, `\u{1b}`, `\0`), as the CLI's tables show them.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    push_esc(&mut out, text);
    out
}

/// [`esc`] appending to `out`.
pub fn push_esc(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '=' => out.push_str("&#61;"),
            '`' => out.push_str("&#96;"),
            c if is_invisible(c) => {
                // escape_default gives \n \r \t \0-free forms like \u{1b};
                // its output is plain ASCII without any of the characters
                // above, so it needs no further escaping.
                let _ = write!(out, "{}", c.escape_default());
            }
            c => out.push(c),
        }
    }
}

/// Control characters (C0, DEL, C1) and the bidirectional formatting
/// characters, which could make text read in another order than it is.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Percent-encodes `text` for one path segment or one query value: every
/// byte but the unreserved `A-Z a-z 0-9 - . _ ~` becomes `%XX`, so `/`, `?`,
/// `#`, `&`, `+` and `%` in an id cannot change what a link means.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes one percent-encoded path segment; an error says what is wrong
/// (a `%` without two hex digits, or bytes that are not UTF-8). `+` stays
/// `+`: in a path it is no space.
pub fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("{text:?} has a '%' not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} does not decode to UTF-8 text"))
}

/// `?k=v&k=v` with each key and value percent-encoded; empty for no pairs.
/// (Not yet HTML-escaped: pass the whole link through [`esc`].)
pub fn query_string<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&encode(k.as_ref()));
        out.push('=');
        out.push_str(&encode(v.as_ref()));
    }
    out
}

/// The search page of an activity.
pub fn search_href(activity: &str) -> String {
    format!("/activities/{}", encode(activity))
}

/// The aggregation page of an activity.
pub fn aggregate_href(activity: &str) -> String {
    format!("/activities/{}/aggregate", encode(activity))
}

/// The page of one instance.
pub fn instance_href(activity: &str, id: &str) -> String {
    format!("/activities/{}/instances/{}", encode(activity), encode(id))
}

/// The line under a search or aggregation page's title: a link to the
/// other view of the same selection (`href` with `pairs` as its query),
/// and one to the home page.
pub fn other_view<K: AsRef<str>, V: AsRef<str>>(
    out: &mut String,
    href: &str,
    pairs: &[(K, V)],
    label: &str,
) {
    let _ = writeln!(
        out,
        "<p>{} · <a href=\"/\">all activities</a></p>",
        link(&format!("{href}{}", query_string(pairs)), label)
    );
}

/// `<a href="...">text</a>` with both escaped.
pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(href), esc(text))
}

/// Kept small and inline: the portal serves no other files, and pages
/// must read on a phone (tables scroll sideways inside `.scroll`).
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72em;padding:0 .8em 2em;line-height:1.4;color:#222}\
nav{padding:.6em 0;border-bottom:1px solid #ccc}nav a{margin-right:1em}\
h1{font-size:1.4em;overflow-wrap:anywhere}h2{font-size:1.1em;margin-top:1.6em}\
.scroll{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}td.t{white-space:nowrap}\
.err{background:#fde8e8;border:1px solid #e0a0a0;padding:.5em}\
.note{background:#eef4fd;border:1px solid #a8c4ec;padding:.5em}\
.warn{background:#fff6dd;border:1px solid #e5c66b;padding:.5em}\
form.q label{display:inline-block;margin:.2em .8em .2em 0}\
input[type=text]{min-width:14em;max-width:100%}\
.muted{color:#666;font-size:.9em}\
svg{max-width:100%;height:auto;font-family:system-ui,sans-serif}.scroll>svg{min-width:600px}\
code{overflow-wrap:anywhere}";

/// A whole page: `title` (plain text, escaped here) and `body` (HTML).
pub fn layout(title: &str, body: &str) -> String {
    let title = esc(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} - bamdb</title><style>{STYLE}</style></head>\n<body>\
<nav><a href=\"/\">Home</a><a href=\"/quarantine\">Quarantine</a></nav>\n\
<h1>{title}</h1>\n{body}\n</body></html>\n"
    )
}

/// A value as text (not yet escaped): text as it is, timestamps in
/// RFC 3339 without a zero fraction.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Timestamp(t) => time_text(*t),
    }
}

/// A timestamp in RFC 3339, dropping a `.000000` fraction for reading.
pub fn time_text(t: Timestamp) -> String {
    let s = t.to_string();
    match s.strip_suffix(".000000Z") {
        Some(whole) => format!("{whole}Z"),
        None => s,
    }
}

/// An optional timestamp, empty when unset.
pub fn opt_time_text(t: Option<Timestamp>) -> String {
    t.map(time_text).unwrap_or_default()
}

/// A result cell as text (not yet escaped), floats rounded for reading as
/// the CLI's tables round them (two decimals, three significant digits
/// below 1); durations as `[Nd ]HH:MM:SS`.
pub fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Float(f) if f.is_finite() && *f != 0.0 && f.abs() < 1.0 => {
            let decimals = (2 - f.abs().log10().floor() as i32).clamp(2, 17) as usize;
            format!("{f:.decimals$}")
        }
        Cell::Float(f) if f.is_finite() => format!("{f:.2}"),
        Cell::Timestamp(t) => time_text(*t),
        other => other.to_string(),
    }
}

/// Whether a value or cell is shown right-aligned (numbers, durations).
pub fn is_numeric_cell(cell: &Cell) -> bool {
    matches!(cell, Cell::Int(_) | Cell::Float(_) | Cell::Duration(_))
}

/// `<div class="scroll"><table>` with an escaped header row; the caller
/// appends rows and [`TABLE_END`].
pub fn table_start(out: &mut String, columns: &[&str]) {
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for c in columns {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("</tr></thead><tbody>\n");
}

/// Closes [`table_start`].
pub const TABLE_END: &str = "</tbody></table></div>\n";

/// An error box with an escaped message.
pub fn error_box(message: &str) -> String {
    format!("<p class=\"err\" role=\"alert\">{}</p>\n", esc(message))
}

/// `n` with thousands separated by commas, for counts.
pub fn count_text(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
