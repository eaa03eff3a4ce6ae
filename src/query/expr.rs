//! [`Expr`]: conditions combined with `and`, `or` and `not`, and what the
//! query engine asks of them: evaluation through a field reader, the
//! fields read, and whether value ranges rule them out.
//!
//! Logic is two-valued: a condition on an unset field is false (unless
//! it is `is null` / `is empty`), and `not` negates that, so
//! `not Region = EU` selects the instances without a Region too, where
//! `Region != EU` does not.

use std::fmt;

use super::condition::Condition;
use super::field::{Field, ValueRef};

/// A boolean expression over conditions.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per query and read in place; boxing each condition would add a pointer chase per row"
)]
pub enum Expr {
    /// One condition.
    Condition(Condition),
    /// Every part holds.
    And(Vec<Expr>),
    /// Some part holds.
    Or(Vec<Expr>),
    /// The part does not hold.
    Not(Box<Expr>),
}

/// What is known of a field's values over some rows (a file's or a
/// block's column range).
pub(crate) enum Knowledge<'a> {
    /// Nothing.
    Nothing,
    /// No row sets it.
    Unset,
    /// Every set value lies in `[lo, hi]`.
    Range(ValueRef<'a>, ValueRef<'a>),
}

impl Expr {
    /// Whether the expression holds, reading fields through `get`.
    pub(crate) fn eval<'a>(&self, get: &mut impl FnMut(&Field) -> Option<ValueRef<'a>>) -> bool {
        match self {
            Expr::Condition(c) => c.eval(get),
            Expr::And(parts) => parts.iter().all(|p| p.eval(get)),
            Expr::Or(parts) => parts.iter().any(|p| p.eval(get)),
            Expr::Not(part) => !part.eval(get),
        }
    }

    /// The parts of a top-level `and` (each holds for a row to pass), or
    /// the expression itself: a query can test each on its own, the
    /// cheapest way its fields allow.
    pub(crate) fn conjuncts(&self) -> Vec<&Expr> {
        match self {
            Expr::And(parts) => parts.iter().flat_map(Expr::conjuncts).collect(),
            other => vec![other],
        }
    }

    /// The fields the expression reads, each once, in order of appearance.
    pub fn fields(&self) -> Vec<&Field> {
        let mut out: Vec<&Field> = Vec::new();
        for c in self.conditions() {
            for f in std::iter::once(c.field()).chain(c.other_field()) {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out
    }

    /// Every condition, depth first.
    pub fn conditions(&self) -> Vec<&Condition> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Condition>) {
        match self {
            Expr::Condition(c) => out.push(c),
            Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|p| p.collect(out)),
            Expr::Not(part) => part.collect(out),
        }
    }

    pub(crate) fn conditions_mut(&mut self, visit: &mut impl FnMut(&mut Condition)) {
        match self {
            Expr::Condition(c) => visit(c),
            Expr::And(parts) | Expr::Or(parts) => {
                parts.iter_mut().for_each(|p| p.conditions_mut(visit));
            }
            Expr::Not(part) => part.conditions_mut(visit),
        }
    }

    /// `false` only when no row that `known` describes can pass.
    pub(crate) fn may_match<'a>(&self, known: &impl Fn(&Field) -> Knowledge<'a>) -> bool {
        match self {
            Expr::Condition(c) => {
                if c.other_field().is_some() || c.matches_value(None) {
                    // Unset rows may pass, or the operand is a field.
                    return true;
                }
                match known(c.field()) {
                    Knowledge::Nothing => true,
                    Knowledge::Unset => false,
                    Knowledge::Range(lo, hi) => c.may_match_range(lo, hi),
                }
            }
            Expr::And(parts) => parts.iter().all(|p| p.may_match(known)),
            Expr::Or(parts) => parts.iter().any(|p| p.may_match(known)),
            // A range that rules the part out says the negation may hold.
            Expr::Not(_) => true,
        }
    }

    /// Writes the expression, in parentheses when `parenthesize` (an `or`
    /// inside an `and`, any compound part of a `not`).
    fn write(&self, f: &mut fmt::Formatter<'_>, parenthesize: bool) -> fmt::Result {
        let compound = matches!(self, Expr::And(_) | Expr::Or(_));
        if parenthesize && compound {
            f.write_str("(")?;
        }
        match self {
            Expr::Condition(c) => write!(f, "{c}")?,
            Expr::And(parts) | Expr::Or(parts) => {
                let (word, inner) = match self {
                    Expr::And(_) => (" and ", true),
                    _ => (" or ", false),
                };
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(word)?;
                    }
                    // In an `and`, an `or` needs parentheses; in an `or`,
                    // an `and` binds tighter and needs none.
                    p.write(f, inner && matches!(p, Expr::Or(_)))?;
                }
            }
            Expr::Not(part) => {
                f.write_str("not ")?;
                part.write(f, true)?;
            }
        }
        if parenthesize && compound {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Display for Expr {
    /// The canonical form; it parses back to an equal expression.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}
