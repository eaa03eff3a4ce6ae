//! The condition grammar: text to an [`Expr`], with errors that point at
//! the column of the bad token.
//!
//! ```text
//! expr      := and ("or" and)*
//! and       := unary ("and" unary)*
//! unary     := "not" unary | "(" expr ")" | condition
//! condition := FIELD cmp value
//!            | FIELD "is" ["not"] ("empty" | "null")
//!            | FIELD ["not"] "in" "(" word ("," word)* ")"
//!            | FIELD ["not"] "between" word "and" word
//!            | FIELD text-op value
//! cmp       := "=" | "!=" | "<>" | ">" | ">=" | "<" | "<="
//! text-op   := "contains" | "starts with" | "ends with" | "ieq"
//!            | "icontains" | "istarts with" | "iends with"
//! value     := quoted | `FIELD` | bare words up to "and", "or", ")" or the end
//! word      := quoted | one bare word (ends at space, "," or ")")
//! quoted    := '...' | "..." (the quote doubled inside stands for itself)
//! ```
//!
//! Keywords ignore ASCII case; fields are exact (ASCII letters, digits,
//! `_`). A bare value keeps its inner spacing (`Note = two  words`), so
//! today's one-condition forms read as before; quote a value holding
//! `and`, `or`, parentheses or surrounding spaces. A word of a bare value
//! may not start with `=`, `<`, `>` or `!` (`Region == EU`, or a typo such
//! as `andd` that swallowed the next condition, would otherwise compare as
//! text): quote such a value.

use super::condition::{Condition, Operand, Operator};
use super::error::QueryError;
use super::expr::Expr;
use super::field::Field;
use super::literal::{is_keyword, Literal};

/// The most nested parentheses and `not`s: deeper input is refused
/// rather than risk the stack.
const MAX_DEPTH: usize = 64;
/// The most values in one `in` list.
const MAX_LIST: usize = 10_000;

/// Parses a whole expression.
pub(crate) fn parse(text: &str) -> Result<Expr, QueryError> {
    let mut p = Parser { text, pos: 0 };
    p.skip_space();
    if p.at_end() {
        return Err(p.error("expected a condition, found nothing"));
    }
    let expr = p.or(0)?;
    p.skip_space();
    if !p.at_end() {
        let what = if p.peek() == Some(')') {
            "a ')' without its '('".to_owned()
        } else {
            format!("{:?}", p.token_here())
        };
        return Err(p.error(&format!("expected `and`, `or` or the end, found {what}")));
    }
    Ok(expr)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The error at the current position (columns count characters from 1).
    fn error(&self, reason: &str) -> QueryError {
        self.error_at(self.pos, reason)
    }

    fn error_at(&self, pos: usize, reason: &str) -> QueryError {
        QueryError::FilterSyntax {
            expr: self.text.to_owned(),
            column: self.text[..pos].chars().count() + 1,
            reason: reason.to_owned(),
        }
    }

    /// The next whitespace-delimited token, for messages.
    fn token_here(&self) -> &str {
        let rest = self.rest();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        &rest[..end]
    }

    /// Consumes `word` (ignoring ASCII case) when it is next and ends at
    /// a non-name character.
    fn keyword(&mut self, word: &str) -> bool {
        let rest = self.rest();
        let Some(head) = rest.get(..word.len()) else {
            return false;
        };
        if !head.eq_ignore_ascii_case(word) {
            return false;
        }
        if rest[word.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return false;
        }
        self.pos += word.len();
        true
    }

    /// Consumes the words of a multi-word keyword (`starts with`), with
    /// whitespace between them; nothing when they are not all there.
    fn keywords(&mut self, words: &[&str]) -> bool {
        let start = self.pos;
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                let before = self.pos;
                self.skip_space();
                if self.pos == before {
                    self.pos = start;
                    return false;
                }
            }
            if !self.keyword(w) {
                self.pos = start;
                return false;
            }
        }
        true
    }

    fn or(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut parts = vec![self.and(depth)?];
        loop {
            self.skip_space();
            if !self.keyword("or") {
                break;
            }
            self.skip_space();
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(flatten(parts, |e| matches!(e, Expr::Or(_))))
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, QueryError> {
        let mut parts = vec![self.unary(depth)?];
        loop {
            self.skip_space();
            let before = self.pos;
            if !self.keyword("and") {
                break;
            }
            self.skip_space();
            if self.at_end() {
                return Err(self.error_at(before, "expected a condition after `and`"));
            }
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(flatten(parts, |e| matches!(e, Expr::And(_))))
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, QueryError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(&format!(
                "more than {MAX_DEPTH} nested parentheses or `not`s"
            )));
        }
        self.skip_space();
        if self.at_end() {
            return Err(self.error("expected a condition, found the end"));
        }
        if self.peek() == Some('(') {
            let open = self.pos;
            self.pos += 1;
            self.skip_space();
            let inner = self.or(depth + 1)?;
            self.skip_space();
            if self.peek() != Some(')') {
                let found = if self.at_end() {
                    "the end".to_owned()
                } else {
                    format!("{:?}", self.token_here())
                };
                return Err(self.error(&format!(
                    "expected ')' to close the '(' at column {}, found {found}",
                    self.text[..open].chars().count() + 1
                )));
            }
            self.pos += 1;
            return Ok(inner);
        }
        let start = self.pos;
        if self.keyword("not") {
            // `not` is the operator unless it is a field named `not`
            // compared with a symbol (`not = 1`).
            self.skip_space();
            if !self.rest().starts_with(['=', '!', '<', '>']) && !self.at_end() {
                return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
            }
            self.pos = start;
        }
        self.condition().map(Expr::Condition)
    }

    fn condition(&mut self) -> Result<Condition, QueryError> {
        let start = self.pos;
        if self.peek() == Some('`') {
            // `` `sum:Amount` > 5 ``: a name with punctuation (the result
            // columns a having reads).
            let name = self.quoted_name()?;
            self.pos += name.len() + 2;
            return self.condition_on(Field::new(name));
        }
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(self.error(&format!(
                "expected a field name (letters, digits, _), found {:?}",
                self.token_here()
            )));
        }
        let name = &self.text[start..start + len];
        if name.eq_ignore_ascii_case("and") || name.eq_ignore_ascii_case("or") {
            return Err(self.error(&format!(
                "expected a condition, found `{name}` (a field may not be named and/or)"
            )));
        }
        self.pos += len;
        self.condition_on(Field::new(name))
    }

    /// The text between the backticks at the position (not consumed): a
    /// name, not empty, without control characters.
    fn quoted_name(&self) -> Result<&'a str, QueryError> {
        let open = self.pos;
        let inner = self.text.get(open + 1..).unwrap_or_default();
        let len = inner
            .find('`')
            .ok_or_else(|| self.error_at(open, "unterminated ` quote"))?;
        let name = inner.get(..len).unwrap_or_default();
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(self.error_at(open, &format!("`{name}` is not a field name")));
        }
        Ok(name)
    }

    /// The operator and operand after `field`.
    fn condition_on(&mut self, field: Field) -> Result<Condition, QueryError> {
        self.skip_space();
        let op_at = self.pos;
        let op = self.operator().ok_or_else(|| {
            let found = if self.at_end() {
                "the end".to_owned()
            } else {
                format!("{:?}", self.token_here())
            };
            self.error_at(
                op_at,
                &format!(
                    "expected an operator after {:?}, found {found} (=, !=, <>, >, >=, <, <=, \
                     in, not in, between, not between, contains, starts with, ends with, ieq, \
                     icontains, istarts with, iends with, is [not] empty, is [not] null)",
                    field.name()
                ),
            )
        })?;
        self.skip_space();
        let operand = match op {
            _ if !op.takes_operand() => Operand::None,
            Operator::In | Operator::NotIn => Operand::List(self.list(op)?),
            Operator::Between | Operator::NotBetween => {
                let lo = self.word(op)?;
                self.skip_space();
                if !self.keyword("and") {
                    return Err(self.error(&format!(
                        "expected `and` between the bounds of `{op}`, found {:?}",
                        self.token_here()
                    )));
                }
                self.skip_space();
                let hi = self.word(op)?;
                Operand::Range(lo, hi)
            }
            _ if self.peek() == Some('`') => Operand::Field(self.field_ref(op)?),
            _ => Operand::Value(self.value(op)?),
        };
        Ok(Condition::new(field, op, operand))
    }

    fn operator(&mut self) -> Option<Operator> {
        const SYMBOLS: [(&str, Operator); 7] = [
            (">=", Operator::Ge),
            ("<=", Operator::Le),
            ("!=", Operator::Ne),
            ("<>", Operator::Ne),
            ("=", Operator::Eq),
            (">", Operator::Gt),
            ("<", Operator::Lt),
        ];
        for (sym, op) in SYMBOLS {
            if self.rest().starts_with(sym) {
                self.pos += sym.len();
                return Some(op);
            }
        }
        const WORDS: [(&[&str], Operator); 15] = [
            (&["is", "not", "empty"], Operator::IsNotEmpty),
            (&["is", "empty"], Operator::IsEmpty),
            (&["is", "not", "null"], Operator::IsNotNull),
            (&["is", "null"], Operator::IsNull),
            (&["not", "in"], Operator::NotIn),
            (&["in"], Operator::In),
            (&["not", "between"], Operator::NotBetween),
            (&["between"], Operator::Between),
            (&["starts", "with"], Operator::StartsWith),
            (&["ends", "with"], Operator::EndsWith),
            (&["contains"], Operator::Contains),
            (&["ieq"], Operator::EqIgnoreCase),
            (&["istarts", "with"], Operator::StartsWithIgnoreCase),
            (&["iends", "with"], Operator::EndsWithIgnoreCase),
            (&["icontains"], Operator::ContainsIgnoreCase),
        ];
        WORDS
            .iter()
            .find(|(words, _)| self.keywords(words))
            .map(|(_, op)| *op)
    }

    /// `` `Name` ``: a field as the operand of a comparison, whatever the
    /// activity's items are (a bare word is one only when it names one).
    fn field_ref(&mut self, op: Operator) -> Result<Field, QueryError> {
        let open = self.pos;
        let name = self.quoted_name()?;
        let len = name.len();
        self.pos += 1;
        if !matches!(
            op,
            Operator::Eq | Operator::Ne | Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le
        ) {
            return Err(self.error_at(
                open,
                &format!(
                    "`{op}` does not take a field as its operand; only =, !=, <>, <, <=, >, >= do"
                ),
            ));
        }
        self.pos += len + 1;
        Ok(Field::new(name))
    }

    /// A quoted literal at the current position, if one starts here.
    fn quoted(&mut self) -> Result<Option<Literal>, QueryError> {
        let Some(q) = self.peek().filter(|c| *c == '\'' || *c == '"') else {
            return Ok(None);
        };
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(open, &format!("unterminated {q} quote")));
            };
            self.pos += c.len_utf8();
            if c == q {
                if self.peek() == Some(q) {
                    self.pos += 1;
                    text.push(q);
                    continue;
                }
                return Ok(Some(Literal::new(text, true)));
            }
            text.push(c);
        }
    }

    /// The operand of a single-value operator: quoted, or the bare text up
    /// to `and`, `or`, a `)` or the end (inner spacing kept).
    fn value(&mut self, op: Operator) -> Result<Literal, QueryError> {
        if let Some(lit) = self.quoted()? {
            return Ok(lit);
        }
        let start = self.pos;
        let mut end = start;
        loop {
            self.skip_space();
            if self.at_end() || self.peek() == Some(')') {
                break;
            }
            let word_at = self.pos;
            if word_at > start && (self.keyword("and") || self.keyword("or")) {
                self.pos = word_at;
                break;
            }
            // `Region == EU`, or a typo that swallowed the next condition
            // (`Region = EU andd Qty > 1`): an operator inside a bare value
            // is refused rather than compared as text.
            if self.rest().starts_with(['=', '<', '>', '!']) {
                return Err(self.error(&format!(
                    "{:?} inside the value after `{op}` looks like an operator: check the \
                     condition (equality is one `=`), or quote the value if it is text",
                    self.token_here()
                )));
            }
            let len = self
                .rest()
                .find(|c: char| c.is_whitespace() || c == ')')
                .unwrap_or(self.rest().len());
            self.pos += len;
            end = self.pos;
        }
        self.pos = end;
        if end == start {
            return Err(self.error(&format!(
                "missing operand after `{op}` (write \"\" for the empty text)"
            )));
        }
        Ok(Literal::new(&self.text[start..end], false))
    }

    /// One word: quoted, or bare up to a space, `,` or `)`.
    fn word(&mut self, op: Operator) -> Result<Literal, QueryError> {
        if let Some(lit) = self.quoted()? {
            return Ok(lit);
        }
        let len = self
            .rest()
            .find(|c: char| c.is_whitespace() || c == ',' || c == ')' || c == '(')
            .unwrap_or(self.rest().len());
        let word = &self.text[self.pos..self.pos + len];
        if len == 0 || is_keyword(word) {
            let found = if self.at_end() {
                "the end".to_owned()
            } else {
                format!("{:?}", self.token_here())
            };
            return Err(self.error(&format!("expected a value for `{op}`, found {found}")));
        }
        self.pos += len;
        Ok(Literal::new(word, false))
    }

    /// `( word, word, ... )`.
    fn list(&mut self, op: Operator) -> Result<Vec<Literal>, QueryError> {
        if self.peek() != Some('(') {
            return Err(self.error(&format!(
                "expected '(' after `{op}`, as in `Region {op} (EU, US)`"
            )));
        }
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if items.len() >= MAX_LIST {
                return Err(self.error(&format!("more than {MAX_LIST} values in one list")));
            }
            items.push(self.word(op)?);
            self.skip_space();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => {
                    let found = if self.at_end() {
                        "the end".to_owned()
                    } else {
                        format!("{:?}", self.token_here())
                    };
                    return Err(self.error(&format!(
                        "expected ',' or ')' in the list of `{op}`, found {found}"
                    )));
                }
            }
        }
    }
}

/// The parts, with those of nested expressions of the same kind spliced
/// in (`a and (b and c)` is one `and` of three).
fn flatten(parts: Vec<Expr>, same: impl Fn(&Expr) -> bool) -> Vec<Expr> {
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        if same(&p) {
            match p {
                Expr::And(inner) | Expr::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        } else {
            out.push(p);
        }
    }
    out
}
