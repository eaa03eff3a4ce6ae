//! [`Literal`]: an operand of a condition as written (`500`, `EU`,
//! `'two words'`, `2026-11-01T00:00:00Z`, `now-7d`), read ahead of time
//! as each type it could meet, so evaluating a condition parses nothing.
//!
//! Time literals are RFC 3339 (any offset, converted to UTC) or relative
//! to the moment the condition is parsed: `now`, `now-7d`, `now+2h`, with
//! the units `s` (seconds), `m` (minutes), `h` (hours), `d` (days of 24
//! hours) and `w` (weeks).

use crate::model::Timestamp;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// An operand as written, with the values it reads as.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    text: String,
    /// Written in quotes: never a field name, always this text.
    quoted: bool,
    pub(crate) int: Option<i64>,
    pub(crate) float: Option<f64>,
    pub(crate) timestamp: Option<Timestamp>,
    pub(crate) boolean: Option<bool>,
    /// The text in lowercase, for the case-insensitive operators.
    pub(crate) folded: String,
}

impl Literal {
    /// A literal from its text; `quoted` when it was written in quotes
    /// (then it is text, never a field name).
    pub fn new(text: impl Into<String>, quoted: bool) -> Literal {
        let text = text.into();
        // Quotes matter only to a word that could name a field: kept
        // there, dropped elsewhere, so equal literals compare equal
        // however they were written.
        let quoted = quoted && is_name_like(&text) && !is_keyword(&text);
        Literal {
            int: text.parse().ok(),
            float: text.parse::<f64>().ok().filter(|f| f.is_finite()),
            timestamp: parse_time(&text),
            // Bools ignore ASCII case, as keywords do (`Paid = TRUE`).
            boolean: if text.eq_ignore_ascii_case("true") {
                Some(true)
            } else if text.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            },
            folded: text.to_lowercase(),
            quoted,
            text,
        }
    }

    /// Whether it is a time relative to the moment it was parsed (`now-7d`).
    pub fn is_relative_time(&self) -> bool {
        !self.quoted
            && self
                .text
                .get(..3)
                .is_some_and(|h| h.eq_ignore_ascii_case("now"))
            && self.timestamp.is_some()
            && Timestamp::parse_rfc3339(&self.text).is_err()
    }

    /// The time it reads as (RFC 3339, or relative to when it was made).
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    /// The text as written (without quotes).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether it is a name-like word written in quotes (`'Received'`):
    /// text, even where a field has that name.
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// An unquoted name-like word (`Received`): it names a field when the
    /// activity has one by that name (see [`super::Filter`]). Never one of
    /// the grammar's keywords (write `` `empty` `` for a field so named).
    pub(crate) fn as_word(&self) -> Option<&str> {
        let t = self.text.as_str();
        (!self.quoted && is_name_like(t) && self.boolean.is_none() && !is_keyword(t)).then_some(t)
    }
}

impl std::fmt::Display for Literal {
    /// The literal as the grammar reads it back: bare when it can be,
    /// else in double quotes with inner double quotes doubled.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = &self.text;
        let bare = !self.quoted
            && !t.is_empty()
            && !t.starts_with(['"', '\'', '`', '=', '<', '>', '!'])
            && !t.contains(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ','))
            && !is_keyword(t);
        if bare {
            f.write_str(t)
        } else {
            write!(f, "\"{}\"", t.replace('"', "\"\""))
        }
    }
}

/// Whether `t` could be a field name: an ASCII letter or `_`, then
/// letters, digits and `_`.
fn is_name_like(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An RFC 3339 time, or `now[±N unit]` relative to the clock now.
fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(t) = Timestamp::parse_rfc3339(text) {
        return Some(t);
    }
    let rest = text.get(..3).filter(|h| h.eq_ignore_ascii_case("now"))?;
    let offset = relative_micros(&text[rest.len()..])?;
    Timestamp::now()
        .as_micros()
        .checked_add(offset)
        .map(Timestamp::from_micros)
}

/// `""` (zero), or `-7d` / `+2h`: the offset in microseconds.
pub(crate) fn relative_micros(text: &str) -> Option<i64> {
    if text.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let unit_at = rest.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = rest.split_at(unit_at);
    let n: i64 = digits.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(seconds)?
        .checked_mul(MICROS_PER_SECOND)?
        .checked_mul(sign)
}

/// The grammar's words, which a bare literal may not be (they would be
/// read as the grammar's): `Note = "and"` keeps its quotes.
pub(crate) fn is_keyword(word: &str) -> bool {
    const KEYWORDS: [&str; 17] = [
        "and",
        "or",
        "not",
        "in",
        "between",
        "is",
        "empty",
        "null",
        "contains",
        "icontains",
        "starts",
        "istarts",
        "ends",
        "iends",
        "with",
        "ieq",
        "like",
    ];
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}
