//! [`Filter`]: a condition expression on an instance, parsed from the
//! `--where` grammar (see [`super::grammar`] for the whole grammar).
//!
//! ```text
//! Amount > 500                         Region = EU or Region = US
//! Region in (EU, US)                   Status not in ('Lost', "Cancelled")
//! Amount between 100 and 500           Customer icontains contoso
//! Customer starts with Con             Note ends with '!'
//! Shipped > Received                   end >= now-7d
//! Region is null                       Note is not empty
//! not (Region = EU and Amount < 10)    end >= 2026-11-01T00:00:00Z
//! ```
//!
//! - **Combining**: `and` binds tighter than `or`; parentheses group;
//!   `not` negates what follows. Keywords ignore ASCII case.
//! - **Values**: bare (`EU`, `500`, `two words`: up to `and`, `or`, `)`
//!   or the end), or quoted with `'` or `"` (the quote doubled inside
//!   stands for itself: `'O''Brien'`). In lists and `between`, a bare
//!   value is one word.
//! - **Fields as operands**: in a comparison (`=`, `!=`, `<>`, `<`, `<=`,
//!   `>`, `>=`) of a number, time or bool field, a bare word that names a
//!   field of a type it compares with (an item, or `begin`, `end`,
//!   `last_modified`) is that field: `Shipped > Received`,
//!   `Price > Limit`. A store query resolves such words against the
//!   activity's definition ([`Filter::resolve`]); unresolved, they are
//!   text. Beside a text field a bare word is always text
//!   (`Status = Shipped` is the text even where an item is named
//!   Shipped); write a field in backticks to compare text fields:
//!   ``Billing = `Shipping` ``.
//! - **Times**: RFC 3339 with any offset, or relative to when the filter
//!   is parsed: `now`, `now-7d`, `now+2h` (units `s`, `m`, `h`, `d`, `w`).
//! - **Unset fields**: `is null` matches an unset field; `is empty` an
//!   unset field or the empty text (for other types the two agree). Every
//!   other condition is false on an unset field, so `Region != EU` does
//!   **not** select instances without a Region (as in SQL), while
//!   `not Region = EU` does (the logic is two-valued).
//!
//! See [`super::condition`] for how values compare.

use std::fmt;

use crate::model::{ActivityDefinition, ActivityInstance};

use super::condition::{Condition, Operand, Operator};
use super::error::QueryError;
use super::expr::{Expr, Knowledge};
#[cfg(test)]
use super::field::ValueRef;
use super::field::{Field, FieldType};
use super::grammar;
use super::literal::Literal;

/// A condition expression on an instance.
///
/// ```
/// use bamdb::query::Filter;
///
/// let f = Filter::parse("Region in (EU, US) and (Amount >= 500 or Express = true)")?;
/// assert_eq!(f.to_string(), "Region in (EU, US) and (Amount >= 500 or Express = true)");
/// assert_eq!(f.fields().len(), 3);
///
/// let err = Filter::parse("Region = EU or or Amount > 5").unwrap_err();
/// assert!(err.to_string().contains("column 16"), "{err}");
/// # Ok::<(), bamdb::query::QueryError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: Expr,
}

impl Filter {
    /// A filter of one condition, `field op operand`; `operand` is ignored
    /// for the emptiness and null tests. For `in` the operand is a
    /// comma-separated list, for `between` two values separated by ` and `
    /// (each part trimmed).
    pub fn new(field: Field, op: Operator, operand: impl Into<String>) -> Filter {
        let text: String = operand.into();
        let lit = |t: &str| Literal::new(t.trim(), true);
        let operand = match op {
            _ if !op.takes_operand() => Operand::None,
            Operator::In | Operator::NotIn => Operand::List(text.split(',').map(lit).collect()),
            Operator::Between | Operator::NotBetween => match text.split_once(" and ") {
                Some((a, b)) => Operand::Range(lit(a), lit(b)),
                None => Operand::Range(lit(&text), lit(&text)),
            },
            _ => Operand::Value(Literal::new(text, true)),
        };
        Filter::from(Condition::new(field, op, operand))
    }

    /// Parses the grammar described in the module docs. An error names
    /// the column (counted in characters from 1) of the bad token.
    pub fn parse(expr: &str) -> Result<Filter, QueryError> {
        Ok(Filter {
            expr: grammar::parse(expr)?,
        })
    }

    /// The expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The condition, when the filter is exactly one.
    pub fn condition(&self) -> Option<&Condition> {
        match &self.expr {
            Expr::Condition(c) => Some(c),
            _ => None,
        }
    }

    /// The fields the filter reads, each once, in order of appearance.
    pub fn fields(&self) -> Vec<&Field> {
        self.expr.fields()
    }

    /// Whether `inst` satisfies the filter.
    pub fn matches(&self, inst: &ActivityInstance) -> bool {
        self.expr.eval(&mut |f: &Field| f.get(inst))
    }

    /// Whether a filter over one field passes
    /// with that field's value (`None`: unset).
    #[cfg(test)]
    pub(crate) fn matches_value(&self, value: Option<ValueRef<'_>>) -> bool {
        self.expr.eval(&mut |_: &Field| value)
    }

    /// `false` only when no row that `known` describes can pass.
    pub(crate) fn may_match<'a>(&self, known: &impl Fn(&Field) -> Knowledge<'a>) -> bool {
        self.expr.may_match(known)
    }

    /// Resolves bare word operands that name a field of `def` (or a
    /// system field) into field operands: `Shipped > Received`. A store
    /// query does this before it runs; call it to run a filter of your
    /// own the same way.
    ///
    /// ```
    /// use bamdb::model::ActivityDefinition;
    /// use bamdb::query::{Field, Filter, Operand};
    ///
    /// let def: ActivityDefinition = serde_json::from_str(
    ///     r#"{"name":"Order","items":[{"name":"Received","type":"timestamp"},
    ///                                 {"name":"Shipped","type":"timestamp"}]}"#,
    /// )?;
    /// let mut f = Filter::parse("Shipped > Received")?;
    /// f.resolve(&def);
    /// let c = f.condition().unwrap();
    /// assert_eq!(c.operand(), &Operand::Field(Field::Item("Received".into())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolve(&mut self, def: &ActivityDefinition) {
        // A word is a field only beside a number, time or bool field, and
        // only one of a type that compares with it: `Status = Shipped`
        // stays the text "Shipped" even where an item is named Shipped.
        let is_field = |left: &Field, word: &str| {
            let ty = |f: &Field| f.resolve(def, "filter field").ok();
            match (ty(left), ty(&Field::new(word))) {
                (Some(FieldType::Text | FieldType::Status) | None, _) | (_, None) => false,
                (Some(a), Some(b)) => a == b || (a.is_numeric() && b.is_numeric()),
            }
        };
        self.expr.conditions_mut(&mut |c| c.resolve(&is_field));
    }

    /// Whether a literal is a time relative to when the filter was parsed
    /// (`now-7d`): such a filter selects differently as time passes.
    pub fn has_relative_time(&self) -> bool {
        self.expr.conditions().iter().any(|c| match c.operand() {
            Operand::Value(l) => l.is_relative_time(),
            Operand::List(items) => items.iter().any(Literal::is_relative_time),
            Operand::Range(a, b) => a.is_relative_time() || b.is_relative_time(),
            Operand::None | Operand::Field(_) => false,
        })
    }

    /// Checks the filter against the activity's definition: every field
    /// exists, and every operator and operand suits its field's type. A
    /// bare word naming a field counts as that field, as [`Self::resolve`]
    /// would make it.
    pub(crate) fn validate(&self, def: &ActivityDefinition) -> Result<(), QueryError> {
        let mut resolved = self.clone();
        resolved.resolve(def);
        for c in resolved.expr.conditions() {
            let ty = c.field().resolve(def, "filter field")?;
            if let Operand::Value(lit) = c.operand() {
                // A word left unresolved though it names a field: one of a
                // type that does not compare (`Amount = Region`).
                let named = lit.as_word().map(Field::new);
                if let Some(Ok(other)) = named.as_ref().map(|f| f.resolve(def, "")) {
                    if ty != FieldType::Text && ty != FieldType::Status && other != ty {
                        return Err(QueryError::TypeMismatch {
                            context: format!("condition `{c}`"),
                            reason: format!(
                                "{} is {} and {} is {}: they do not compare",
                                c.field(),
                                ty.name(),
                                lit.text(),
                                other.name()
                            ),
                        });
                    }
                }
            }
            let other = c
                .other_field()
                .map(|f| f.resolve(def, "filter operand"))
                .transpose()?;
            c.check_type(ty, other)?;
        }
        Ok(())
    }
}

impl From<Condition> for Filter {
    fn from(c: Condition) -> Filter {
        Filter {
            expr: Expr::Condition(c),
        }
    }
}

impl From<Expr> for Filter {
    fn from(expr: Expr) -> Filter {
        Filter { expr }
    }
}

impl fmt::Display for Filter {
    /// The canonical form; it parses back to an equal filter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}
