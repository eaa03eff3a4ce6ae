//! [`Condition`]: one test of a field, `field operator operand` (the leaf
//! of a [`super::Filter`]'s expression), and how it meets values.
//!
//! # Evaluation
//! The operand is typed against the value it meets:
//! - int and float values compare numerically (an int item against `2.5`
//!   works, exactly, without rounding the int through `f64`);
//! - timestamp values compare with an RFC 3339 or relative (`now-7d`)
//!   operand;
//! - text values compare by Unicode code point order; `contains`,
//!   `starts with`, `ends with` are for text; the `i` forms (`ieq`,
//!   `icontains`, `istarts with`, `iends with`) compare the lowercase forms
//!   of both sides (Unicode lowercase mapping);
//! - `status` compares with `active` / `completed` (ignoring ASCII case);
//! - bool values compare with `true` / `false` (false < true).
//!
//! An operand that cannot be read as the value's type matches nothing;
//! [`super::Search::validate`] reports such conditions before they run.
//!
//! An unset field matches `is null` and `is empty` and nothing else:
//! `Region != EU` and `Region not in (EU)` do **not** match instances
//! without a Region, as in SQL. `is empty` also matches the empty text;
//! `is null` only an unset field.

use std::cmp::Ordering;
use std::fmt;

use super::error::QueryError;
use super::field::{Field, FieldType, ValueRef};
use super::literal::Literal;

/// A condition's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operator {
    /// `=`
    Eq,
    /// `!=` or `<>` (does not match an unset field)
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `is empty`: unset, or the empty text.
    IsEmpty,
    /// `is not empty`: set, and not the empty text.
    IsNotEmpty,
    /// `is null`: unset.
    IsNull,
    /// `is not null`: set.
    IsNotNull,
    /// `starts with`: a text prefix.
    StartsWith,
    /// `ends with`: a text suffix.
    EndsWith,
    /// `contains`: a substring.
    Contains,
    /// `ieq`: equal text ignoring case.
    EqIgnoreCase,
    /// `istarts with`
    StartsWithIgnoreCase,
    /// `iends with`
    EndsWithIgnoreCase,
    /// `icontains`
    ContainsIgnoreCase,
    /// `in (a, b, ...)`: equal to one of the list.
    In,
    /// `not in (a, b, ...)`: set and equal to none of the list.
    NotIn,
    /// `between a and b`: `a <= value <= b`.
    Between,
    /// `not between a and b`: set and outside `[a, b]`.
    NotBetween,
}

impl Operator {
    /// The operator as written in the grammar.
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
            Operator::IsNull => "is null",
            Operator::IsNotNull => "is not null",
            Operator::StartsWith => "starts with",
            Operator::EndsWith => "ends with",
            Operator::Contains => "contains",
            Operator::EqIgnoreCase => "ieq",
            Operator::StartsWithIgnoreCase => "istarts with",
            Operator::EndsWithIgnoreCase => "iends with",
            Operator::ContainsIgnoreCase => "icontains",
            Operator::In => "in",
            Operator::NotIn => "not in",
            Operator::Between => "between",
            Operator::NotBetween => "not between",
        }
    }

    /// Whether the operator takes an operand (all but the emptiness and
    /// null tests).
    pub fn takes_operand(self) -> bool {
        !matches!(
            self,
            Operator::IsEmpty | Operator::IsNotEmpty | Operator::IsNull | Operator::IsNotNull
        )
    }

    fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Gt
                | Operator::Ge
                | Operator::Lt
                | Operator::Le
                | Operator::Between
                | Operator::NotBetween
        )
    }

    fn is_text_only(self) -> bool {
        matches!(
            self,
            Operator::StartsWith
                | Operator::EndsWith
                | Operator::Contains
                | Operator::EqIgnoreCase
                | Operator::StartsWithIgnoreCase
                | Operator::EndsWithIgnoreCase
                | Operator::ContainsIgnoreCase
        )
    }

    /// Whether a comparison's outcome passes (the single-operand
    /// comparisons; `false` for the others).
    fn accepts(self, ord: Ordering) -> bool {
        match self {
            Operator::Eq => ord == Ordering::Equal,
            Operator::Ne => ord != Ordering::Equal,
            Operator::Gt => ord == Ordering::Greater,
            Operator::Ge => ord != Ordering::Less,
            Operator::Lt => ord == Ordering::Less,
            Operator::Le => ord != Ordering::Greater,
            _ => false,
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a condition compares its field with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Nothing (`is empty`, `is null` and their negations).
    None,
    /// One value.
    Value(Literal),
    /// The list of `in` / `not in`.
    List(Vec<Literal>),
    /// The bounds of `between` / `not between`, inclusive.
    Range(Literal, Literal),
    /// Another field of the same instance (`Shipped > Received`).
    Field(Field),
}

/// One test of a field: `field operator operand`.
///
/// ```
/// use bamdb::query::{Field, Filter, Operator};
///
/// let f = Filter::parse("Amount>=500")?;
/// let c = f.condition().expect("a single condition");
/// assert_eq!(c.field(), &Field::Item("Amount".into()));
/// assert_eq!(c.operator(), Operator::Ge);
/// assert_eq!(c.operand_text(), "500");
/// # Ok::<(), bamdb::query::QueryError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    field: Field,
    op: Operator,
    operand: Operand,
}

impl Condition {
    /// A condition from its parts. The operand must suit the operator:
    /// none for the emptiness and null tests (any given is dropped), a
    /// list for `in`, a range for `between`, one value or a field for the
    /// rest.
    pub fn new(field: Field, op: Operator, operand: Operand) -> Condition {
        let operand = if op.takes_operand() {
            operand
        } else {
            Operand::None
        };
        Condition { field, op, operand }
    }

    /// The field tested.
    pub fn field(&self) -> &Field {
        &self.field
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.op
    }

    /// The operand.
    pub fn operand(&self) -> &Operand {
        &self.operand
    }

    /// The operand as the grammar writes it (`500`, `(EU, US)`,
    /// `1 and 5`, a field's name); empty when there is none.
    pub fn operand_text(&self) -> String {
        match &self.operand {
            Operand::None => String::new(),
            Operand::Value(l) => l.text().to_owned(),
            Operand::List(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                format!("({})", items.join(", "))
            }
            Operand::Range(lo, hi) => format!("{lo} and {hi}"),
            Operand::Field(f) => f.name().to_owned(),
        }
    }

    /// The other field compared with, if the operand is one.
    pub(crate) fn other_field(&self) -> Option<&Field> {
        match &self.operand {
            Operand::Field(f) => Some(f),
            _ => None,
        }
    }

    /// Resolves a bare word operand naming a field into that field
    /// (`is_field(field, word)` says whether `word` is a field to compare
    /// `field` with).
    /// Only the comparisons (`=`, `!=`, `<`, ...) take a field.
    pub(crate) fn resolve(&mut self, is_field: &impl Fn(&Field, &str) -> bool) {
        let comparison = matches!(
            self.op,
            Operator::Eq | Operator::Ne | Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le
        );
        if let (true, Operand::Value(lit)) = (comparison, &self.operand) {
            if let Some(word) = lit.as_word().filter(|w| is_field(&self.field, w)) {
                self.operand = Operand::Field(Field::new(word));
            }
        }
    }

    /// Whether the condition passes, reading fields through `get`.
    pub(crate) fn eval<'a>(&self, get: &mut impl FnMut(&Field) -> Option<ValueRef<'a>>) -> bool {
        let value = get(&self.field);
        match &self.operand {
            Operand::Field(other) => match (value, get(other)) {
                (Some(a), Some(b)) => compare_values(a, b).is_some_and(|o| self.op.accepts(o)),
                _ => false,
            },
            _ => self.matches_value(value),
        }
    }

    /// Whether the field's value (`None`: unset) passes. For a condition
    /// with a field operand, `false` (use [`Self::eval`]).
    pub(crate) fn matches_value(&self, value: Option<ValueRef<'_>>) -> bool {
        let text_empty = matches!(value, Some(ValueRef::Text("")));
        match (self.op, value) {
            (Operator::IsNull, v) => v.is_none(),
            (Operator::IsNotNull, v) => v.is_some(),
            (Operator::IsEmpty, v) => v.is_none() || text_empty,
            (Operator::IsNotEmpty, v) => v.is_some() && !text_empty,
            (_, None) => false,
            (op, Some(v)) => match &self.operand {
                Operand::Value(lit) if op.is_text_only() => match v {
                    ValueRef::Text(s) => text_match(op, s, lit),
                    _ => false,
                },
                Operand::Value(lit) => self.compare(v, lit).is_some_and(|o| op.accepts(o)),
                Operand::List(items) => {
                    let mut ords = items.iter().map(|l| self.compare(v, l));
                    match op {
                        Operator::In => ords.any(|o| o == Some(Ordering::Equal)),
                        Operator::NotIn => ords.all(|o| o.is_some_and(|o| o != Ordering::Equal)),
                        _ => false,
                    }
                }
                Operand::Range(lo, hi) => match (self.compare(v, lo), self.compare(v, hi)) {
                    (Some(a), Some(b)) => {
                        let inside = a != Ordering::Less && b != Ordering::Greater;
                        match op {
                            Operator::Between => inside,
                            Operator::NotBetween => !inside,
                            _ => false,
                        }
                    }
                    _ => false,
                },
                Operand::None | Operand::Field(_) => false,
            },
        }
    }

    /// Whether some set value between `lo` and `hi` (the smallest and
    /// largest set values of a column, of one type) could pass. `false`
    /// only when none can; unset values are the caller's to consider.
    pub(crate) fn may_match_range(&self, lo: ValueRef<'_>, hi: ValueRef<'_>) -> bool {
        let within = |lit: &Literal| match (self.compare(lo, lit), self.compare(hi, lit)) {
            (Some(l), Some(h)) => Some((l, h)),
            // The operand does not read as the column's type: let the
            // rows decide.
            _ => None,
        };
        match (&self.operand, self.op) {
            (Operand::Value(lit), op) if !op.is_text_only() => {
                let Some((lo, hi)) = within(lit) else {
                    return true;
                };
                match op {
                    Operator::Eq => lo != Ordering::Greater && hi != Ordering::Less,
                    Operator::Gt => hi == Ordering::Greater,
                    Operator::Ge => hi != Ordering::Less,
                    Operator::Lt => lo == Ordering::Less,
                    Operator::Le => lo != Ordering::Greater,
                    _ => true,
                }
            }
            (Operand::List(items), Operator::In) => items.iter().any(|lit| {
                within(lit).is_none_or(|(lo, hi)| lo != Ordering::Greater && hi != Ordering::Less)
            }),
            (Operand::Range(a, b), Operator::Between) => {
                // Some value of [lo, hi] lies in [a, b]: hi >= a and lo <= b.
                let hi_vs_a = self.compare(hi, a);
                let lo_vs_b = self.compare(lo, b);
                hi_vs_a.is_none_or(|o| o != Ordering::Less)
                    && lo_vs_b.is_none_or(|o| o != Ordering::Greater)
            }
            _ => true,
        }
    }

    /// Orders the value against a literal, or `None` when the literal
    /// cannot be read as the value's type.
    fn compare(&self, value: ValueRef<'_>, lit: &Literal) -> Option<Ordering> {
        match value {
            ValueRef::Text(s) if self.field == Field::Status => {
                Some(if s.eq_ignore_ascii_case(lit.text()) {
                    Ordering::Equal
                } else {
                    s.cmp(lit.text().to_ascii_lowercase().as_str())
                })
            }
            ValueRef::Text(s) => Some(s.cmp(lit.text())),
            ValueRef::Int(i) => match (lit.int, lit.float) {
                (Some(o), _) => Some(i.cmp(&o)),
                (None, Some(o)) => cmp_int_float(i, o),
                (None, None) => None,
            },
            ValueRef::Float(f) => match (lit.int, lit.float) {
                (Some(o), _) => cmp_int_float(o, f).map(Ordering::reverse),
                (None, Some(o)) => f.partial_cmp(&o),
                (None, None) => None,
            },
            ValueRef::Bool(b) => lit.boolean.map(|o| b.cmp(&o)),
            ValueRef::Timestamp(t) => lit.timestamp.map(|o| t.cmp(&o)),
        }
    }

    /// Checks the condition against its field's type `ty` (and the other
    /// field's type `other`, for a field operand): the operator must suit
    /// them and every literal must read as the type.
    pub(crate) fn check_type(
        &self,
        ty: FieldType,
        other: Option<FieldType>,
    ) -> Result<(), QueryError> {
        let mismatch = |reason: String| QueryError::TypeMismatch {
            context: format!("condition `{self}`"),
            reason,
        };
        let field = self.field.name();
        if !self.op.takes_operand() {
            return Ok(());
        }
        if self.op.is_text_only() {
            if ty != FieldType::Text || other.is_some() {
                return Err(mismatch(format!(
                    "`{}` compares text with a text operand, and {field} is {}",
                    self.op,
                    ty.name()
                )));
            }
            return Ok(());
        }
        if matches!(ty, FieldType::Bool | FieldType::Status) && self.op.is_ordering() {
            return Err(mismatch(format!(
                "{field} is {} and only supports =, !=, in and not in",
                ty.name()
            )));
        }
        if let Some(other_ty) = other {
            let comparable = ty == other_ty || (ty.is_numeric() && other_ty.is_numeric());
            let other_name = self.other_field().map_or("", Field::name);
            return if comparable && ty != FieldType::Status {
                Ok(())
            } else {
                Err(mismatch(format!(
                    "{field} is {} and {other_name} is {}: they do not compare",
                    ty.name(),
                    other_ty.name()
                )))
            };
        }
        let literals: Vec<&Literal> = match &self.operand {
            Operand::Value(l) => vec![l],
            Operand::List(items) => items.iter().collect(),
            Operand::Range(a, b) => vec![a, b],
            Operand::None | Operand::Field(_) => Vec::new(),
        };
        for lit in literals {
            check_literal(lit, ty, field).map_err(mismatch)?;
        }
        Ok(())
    }
}

/// Whether `lit` reads as a value of `ty`; the reason when not.
fn check_literal(lit: &Literal, ty: FieldType, field: &str) -> Result<(), String> {
    let operand = lit.text();
    match ty {
        FieldType::Text => Ok(()),
        FieldType::Int | FieldType::Float if lit.int.is_none() && lit.float.is_none() => {
            Err(format!(
                "operand {operand:?} is not a number ({field} is {})",
                ty.name()
            ))
        }
        FieldType::Timestamp if lit.timestamp.is_none() => Err(format!(
            "operand {operand:?} is not a time: write RFC 3339 like 2026-11-01T00:00:00Z, \
             or now, now-7d, now+2h (units s, m, h, d, w) ({field} is a timestamp)"
        )),
        FieldType::Bool if lit.boolean.is_none() => Err(format!(
            "operand {operand:?} is not true or false ({field} is bool)"
        )),
        FieldType::Status
            if !operand.eq_ignore_ascii_case("active")
                && !operand.eq_ignore_ascii_case("completed") =>
        {
            Err(format!("status is active or completed, not {operand:?}"))
        }
        _ => Ok(()),
    }
}

/// A text operator (`contains`, `istarts with`, ...) on text `s`.
fn text_match(op: Operator, s: &str, lit: &Literal) -> bool {
    let folded = || s.to_lowercase();
    match op {
        Operator::StartsWith => s.starts_with(lit.text()),
        Operator::EndsWith => s.ends_with(lit.text()),
        Operator::Contains => s.contains(lit.text()),
        Operator::EqIgnoreCase => folded() == lit.folded,
        Operator::StartsWithIgnoreCase => folded().starts_with(&lit.folded),
        Operator::EndsWithIgnoreCase => folded().ends_with(&lit.folded),
        Operator::ContainsIgnoreCase => folded().contains(&lit.folded),
        _ => false,
    }
}

/// Orders two set values of comparable types (numbers across int and
/// float, exactly); `None` for types that do not compare.
fn compare_values(a: ValueRef<'_>, b: ValueRef<'_>) -> Option<Ordering> {
    match (a, b) {
        (ValueRef::Text(x), ValueRef::Text(y)) => Some(x.cmp(y)),
        (ValueRef::Int(x), ValueRef::Int(y)) => Some(x.cmp(&y)),
        (ValueRef::Float(x), ValueRef::Float(y)) => x.partial_cmp(&y),
        (ValueRef::Int(x), ValueRef::Float(y)) => cmp_int_float(x, y),
        (ValueRef::Float(x), ValueRef::Int(y)) => cmp_int_float(y, x).map(Ordering::reverse),
        (ValueRef::Bool(x), ValueRef::Bool(y)) => Some(x.cmp(&y)),
        (ValueRef::Timestamp(x), ValueRef::Timestamp(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

impl fmt::Display for Condition {
    /// The canonical form; it parses back to an equal condition.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A name other than letters, digits and _ (a result column such
        // as `sum:Amount` in a having) is written in backticks.
        let name = self.field.name();
        let field =
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                name.to_owned()
            } else {
                format!("`{name}`")
            };
        match &self.operand {
            Operand::None => write!(f, "{field} {}", self.op),
            Operand::Value(l) => write!(f, "{field} {} {l}", self.op),
            Operand::Field(other) => write!(f, "{field} {} `{other}`", self.op),
            Operand::List(_) | Operand::Range(..) => {
                write!(f, "{field} {} {}", self.op, self.operand_text())
            }
        }
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
