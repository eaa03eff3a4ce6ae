//! [`Filter`]: one condition `field operator operand` on an instance.
//!
//! CLI syntax, parsed by [`Filter::parse`]:
//!
//! ```text
//! Amount>500            Region = EU           Customer starts with Con
//! Status is empty       end is not empty      end >= 2026-11-01T00:00:00Z
//! Note = "two words "   (double quotes keep spaces; no escapes inside)
//! ```
//!
//! The field is a run of ASCII letters, digits and `_`. Spaces around the
//! symbolic operators (`=`, `!=`, `>`, `>=`, `<`, `<=`) are optional; the
//! word operators (`is empty`, `is not empty`, `starts with`) are matched
//! ignoring case and need spaces between their words. The operand is the
//! rest, trimmed; one pair of surrounding double quotes is removed.
//!
//! # Evaluation
//! The operand is typed against the value it meets, at evaluation time:
//! - int and float values compare numerically (an int item against `2.5`
//!   works, exactly, without rounding the int through `f64`);
//! - timestamp values (items, `begin`, `end`, `last_modified`) compare with
//!   an RFC 3339 operand (any offset, converted to UTC);
//! - text values (items, `id`) compare by Unicode code point order;
//!   `starts with` is for text only;
//! - `status` compares with `active` / `completed` (ignoring ASCII case);
//! - bool values compare with `true` / `false` (false < true).
//!
//! An operand that cannot be read as the value's type matches nothing;
//! [`super::Search::validate`] reports such filters before they run.
//!
//! An unset field is *empty*: it matches `is empty` and nothing else. In
//! particular `Region != EU` does **not** match instances without a Region,
//! as in SQL, so that `X = v` and `X != v` together select exactly the
//! instances where X is set; ask for `is empty` explicitly.

use std::cmp::Ordering;
use std::fmt;

use crate::model::{ActivityInstance, Timestamp};

use super::error::QueryError;
use super::field::{Field, FieldType, ValueRef};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `=`
    Eq,
    /// `!=` (does not match an empty field)
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `is empty`: the field is unset.
    IsEmpty,
    /// `is not empty`: the field is set.
    IsNotEmpty,
    /// `starts with`: a text prefix (case-sensitive).
    StartsWith,
}

impl Operator {
    /// The operator as written in the CLI syntax.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::IsEmpty => "is empty",
            Operator::IsNotEmpty => "is not empty",
            Operator::StartsWith => "starts with",
        }
    }

    /// Whether the operator takes an operand (all but the emptiness tests).
    pub fn takes_operand(self) -> bool {
        !matches!(self, Operator::IsEmpty | Operator::IsNotEmpty)
    }

    fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le
        )
    }

    fn accepts(self, ord: Ordering) -> bool {
        match self {
            Operator::Eq => ord == Ordering::Equal,
            Operator::Ne => ord != Ordering::Equal,
            Operator::Gt => ord == Ordering::Greater,
            Operator::Ge => ord != Ordering::Less,
            Operator::Lt => ord == Ordering::Less,
            Operator::Le => ord != Ordering::Greater,
            Operator::IsEmpty | Operator::IsNotEmpty | Operator::StartsWith => false,
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One condition on an instance: `field operator operand`.
///
/// ```
/// use bamdb::query::{Field, Filter, Operator};
///
/// let f = Filter::parse("Amount>=500")?;
/// assert_eq!(f.field(), &Field::Item("Amount".into()));
/// assert_eq!(f.operator(), Operator::Ge);
/// assert_eq!(f.operand(), "500");
/// assert_eq!(f.to_string(), "Amount >= 500");
/// # Ok::<(), bamdb::query::QueryError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    field: Field,
    op: Operator,
    operand: String,
    parsed: Parsed,
}

/// The operand read ahead of time as each type it could meet.
#[derive(Debug, Clone, PartialEq)]
struct Parsed {
    int: Option<i64>,
    float: Option<f64>,
    timestamp: Option<Timestamp>,
    boolean: Option<bool>,
}

impl Parsed {
    fn new(text: &str) -> Parsed {
        Parsed {
            int: text.parse().ok(),
            float: text.parse::<f64>().ok().filter(|f| f.is_finite()),
            timestamp: Timestamp::parse_rfc3339(text).ok(),
            boolean: match text {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
        }
    }
}

impl Filter {
    /// A filter from its parts. `operand` is ignored (stored empty) for
    /// `is empty` / `is not empty`.
    pub fn new(field: Field, op: Operator, operand: impl Into<String>) -> Filter {
        let operand = if op.takes_operand() {
            operand.into()
        } else {
            String::new()
        };
        let parsed = Parsed::new(&operand);
        Filter {
            field,
            op,
            operand,
            parsed,
        }
    }

    /// Parses the CLI syntax described in the module docs.
    pub fn parse(expr: &str) -> Result<Filter, QueryError> {
        let err = |reason: &str| QueryError::FilterSyntax {
            expr: expr.to_owned(),
            reason: reason.to_owned(),
        };
        let text = expr.trim();
        let name_len = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let (name, rest) = text.split_at(name_len);
        if name.is_empty() {
            return Err(err(
                "expected a field name (letters, digits, _) at the start",
            ));
        }
        let rest = rest.trim_start();
        if rest.is_empty() {
            return Err(err(&format!(
                "expected an operator after {name:?} (=, !=, >, >=, <, <=, is empty, \
                 is not empty, starts with)"
            )));
        }
        let (op, rest) = parse_operator(rest).ok_or_else(|| {
            err(&format!(
                "unknown operator after {name:?}: expected =, !=, >, >=, <, <=, is empty, \
                 is not empty or starts with"
            ))
        })?;
        let operand = rest.trim();
        if !op.takes_operand() {
            if !operand.is_empty() {
                return Err(err(&format!(
                    "{:?} takes no operand, found {operand:?}",
                    op.as_str()
                )));
            }
            return Ok(Filter::new(Field::new(name), op, ""));
        }
        if operand.is_empty() {
            return Err(err(&format!(
                "missing operand after {:?} (write \"\" for the empty text)",
                op.as_str()
            )));
        }
        let operand = match operand.strip_prefix('"') {
            Some(inner) => inner
                .strip_suffix('"')
                .ok_or_else(|| err("unterminated double quote in the operand"))?,
            None => operand,
        };
        Ok(Filter::new(Field::new(name), op, operand))
    }

    /// The field tested.
    pub fn field(&self) -> &Field {
        &self.field
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.op
    }

    /// The operand text, as written (unquoted); empty for the emptiness
    /// tests.
    pub fn operand(&self) -> &str {
        &self.operand
    }

    /// Whether `inst` satisfies the filter (see the module docs).
    pub fn matches(&self, inst: &ActivityInstance) -> bool {
        self.matches_value(self.field.get(inst))
    }

    /// Whether the field's value (`None`: unset) passes.
    pub(crate) fn matches_value(&self, value: Option<ValueRef<'_>>) -> bool {
        match (self.op, value) {
            (Operator::IsEmpty, v) => v.is_none(),
            (Operator::IsNotEmpty, v) => v.is_some(),
            (_, None) => false,
            (Operator::StartsWith, Some(ValueRef::Text(s))) => s.starts_with(&self.operand),
            (Operator::StartsWith, Some(_)) => false,
            (op, Some(v)) => self.compare(v).is_some_and(|ord| op.accepts(ord)),
        }
    }

    /// Whether some set value between `lo` and `hi` (the smallest and
    /// largest set values of a column, of one type) could pass. `false`
    /// only when none can; unset values are the caller's to consider.
    pub(crate) fn may_match_range(&self, lo: ValueRef<'_>, hi: ValueRef<'_>) -> bool {
        let (lo, hi) = match (self.compare(lo), self.compare(hi)) {
            (Some(lo), Some(hi)) => (lo, hi),
            // The operand does not read as the column's type: let the
            // rows decide.
            _ => return true,
        };
        match self.op {
            Operator::Eq => lo != Ordering::Greater && hi != Ordering::Less,
            Operator::Gt => hi == Ordering::Greater,
            Operator::Ge => hi != Ordering::Less,
            Operator::Lt => lo == Ordering::Less,
            Operator::Le => lo != Ordering::Greater,
            Operator::Ne | Operator::IsEmpty | Operator::IsNotEmpty | Operator::StartsWith => true,
        }
    }

    /// Orders the value against the operand, or `None` when the operand
    /// cannot be read as the value's type.
    fn compare(&self, value: ValueRef<'_>) -> Option<Ordering> {
        let p = &self.parsed;
        match value {
            ValueRef::Text(s) if self.field == Field::Status => {
                Some(if s.eq_ignore_ascii_case(&self.operand) {
                    Ordering::Equal
                } else {
                    s.cmp(self.operand.to_ascii_lowercase().as_str())
                })
            }
            ValueRef::Text(s) => Some(s.cmp(self.operand.as_str())),
            ValueRef::Int(i) => match (p.int, p.float) {
                (Some(o), _) => Some(i.cmp(&o)),
                (None, Some(o)) => cmp_int_float(i, o),
                (None, None) => None,
            },
            ValueRef::Float(f) => match (p.int, p.float) {
                (Some(o), _) => cmp_int_float(o, f).map(Ordering::reverse),
                (None, Some(o)) => f.partial_cmp(&o),
                (None, None) => None,
            },
            ValueRef::Bool(b) => p.boolean.map(|o| b.cmp(&o)),
            ValueRef::Timestamp(t) => p.timestamp.map(|o| t.cmp(&o)),
        }
    }

    /// Checks the filter against a field type: the operator must suit it
    /// and the operand must read as it. Used by the `validate` methods.
    pub(crate) fn check_type(&self, ty: FieldType) -> Result<(), QueryError> {
        let mismatch = |reason: String| QueryError::TypeMismatch {
            context: format!("filter `{self}`"),
            reason,
        };
        let field = self.field.name();
        if !self.op.takes_operand() {
            return Ok(());
        }
        if self.op == Operator::StartsWith {
            return if ty == FieldType::Text {
                Ok(())
            } else {
                Err(mismatch(format!(
                    "`starts with` is for text, and {field} is {}",
                    ty.name()
                )))
            };
        }
        let p = &self.parsed;
        let operand = &self.operand;
        match ty {
            FieldType::Text => Ok(()),
            FieldType::Int | FieldType::Float if p.int.is_none() && p.float.is_none() => {
                Err(mismatch(format!(
                    "operand {operand:?} is not a number ({field} is {})",
                    ty.name()
                )))
            }
            FieldType::Int | FieldType::Float => Ok(()),
            FieldType::Timestamp if p.timestamp.is_none() => Err(mismatch(format!(
                "operand {operand:?} is not an RFC 3339 timestamp like \
                 2026-11-01T00:00:00Z ({field} is a timestamp)"
            ))),
            FieldType::Timestamp => Ok(()),
            FieldType::Bool | FieldType::Status if self.op.is_ordering() => Err(mismatch(format!(
                "{field} is {} and only supports = and !=",
                ty.name()
            ))),
            FieldType::Bool if p.boolean.is_none() => Err(mismatch(format!(
                "operand {operand:?} is not true or false ({field} is bool)"
            ))),
            FieldType::Bool => Ok(()),
            FieldType::Status
                if !operand.eq_ignore_ascii_case("active")
                    && !operand.eq_ignore_ascii_case("completed") =>
            {
                Err(mismatch(format!(
                    "status is active or completed, not {operand:?}"
                )))
            }
            FieldType::Status => Ok(()),
        }
    }
}

impl fmt::Display for Filter {
    /// The canonical CLI form; it parses back to an equal filter (operands
    /// with surrounding spaces or quotes are quoted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.op.takes_operand() {
            return write!(f, "{} {}", self.field, self.op);
        }
        let o = &self.operand;
        if o.is_empty() || o.trim() != o || o.starts_with('"') {
            write!(f, "{} {} \"{o}\"", self.field, self.op)
        } else {
            write!(f, "{} {} {o}", self.field, self.op)
        }
    }
}

/// Splits the operator off the start of `rest`.
fn parse_operator(rest: &str) -> Option<(Operator, &str)> {
    const SYMBOLS: [(&str, Operator); 6] = [
        (">=", Operator::Ge),
        ("<=", Operator::Le),
        ("!=", Operator::Ne),
        ("=", Operator::Eq),
        (">", Operator::Gt),
        ("<", Operator::Lt),
    ];
    for (sym, op) in SYMBOLS {
        if let Some(after) = rest.strip_prefix(sym) {
            return Some((op, after));
        }
    }
    const WORDS: [(&[&str], Operator); 3] = [
        (&["is", "not", "empty"], Operator::IsNotEmpty),
        (&["is", "empty"], Operator::IsEmpty),
        (&["starts", "with"], Operator::StartsWith),
    ];
    WORDS
        .iter()
        .find_map(|(words, op)| strip_words(rest, words).map(|after| (*op, after)))
}

/// Strips `words` (ignoring ASCII case, separated by whitespace) from the
/// start of `text`; the last word must end at whitespace or the end.
fn strip_words<'a>(text: &'a str, words: &[&str]) -> Option<&'a str> {
    let mut rest = text;
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            let trimmed = rest.trim_start();
            if trimmed.len() == rest.len() {
                return None;
            }
            rest = trimmed;
        }
        let head = rest.get(..word.len())?;
        if !head.eq_ignore_ascii_case(word) {
            return None;
        }
        rest = rest.get(word.len()..)?;
    }
    match rest.chars().next() {
        None => Some(rest),
        Some(c) if c.is_whitespace() => Some(rest),
        Some(_) => None,
    }
}

/// Orders an `i64` against an `f64` exactly (no rounding of the int);
/// `None` for NaN.
pub(crate) fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63 as f64 is exact; every i64 lies in [-2^63, 2^63).
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_63 {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    #[expect(
        clippy::cast_possible_truncation,
        reason = "whole is integral and in [-2^63, 2^63)"
    )]
    let whole_int = whole as i64;
    Some(i.cmp(&whole_int).then_with(|| {
        // Same integer part: the fraction decides.
        0.0f64.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal)
    }))
}
