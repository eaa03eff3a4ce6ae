//! [`Measure`]: what an aggregation computes per group, its spec syntax,
//! and the accumulators that compute it (shared by the full scan and the
//! incremental maintenance, so both agree by construction).
//!
//! Spec syntax ([`Measure::parse`]): `count`, `sum:F`, `avg:F`, `min:F`,
//! `max:F`, and `avg:duration(A,B)`, `min:duration(A,B)`,
//! `max:duration(A,B)`; function names ignore ASCII case, field names are
//! exact, spaces around them are allowed.
//!
//! # Rules
//! - Unset values are ignored: `sum`/`avg`/`min`/`max` see only instances
//!   where the field is set, and give null when none is.
//! - `sum`: an int while every value summed is an int (summed exactly in
//!   `i128`; a float if the total leaves the `i64` range); once a float
//!   takes part, a float: the exact total of every value, ints and floats,
//!   rounded once to the nearest float. Exact, so it does not depend on
//!   the order instances are scanned or arrived in. A float total beyond
//!   the float range (±1.7976931348623157e308) shows as ±`f64::MAX`; a
//!   store query ([`crate::Store::aggregate`]) refuses it instead with
//!   [`QueryError::Overflow`] naming the measure and the group.
//! - `avg`: always a float: the exact total divided by the number of
//!   values, rounded once, so it is finite whenever the mean is (even if
//!   the total is not).
//! - `min`/`max`: numeric items, and timestamps (items or system fields).
//! - durations: `B - A` in microseconds, for instances where **both** are
//!   set; an instance missing either milestone is excluded from that
//!   measure (not counted as zero). A negative duration (B before A) is
//!   kept as is. `avg` rounds down to the microsecond.
//!
//! (About 500 lines: each measure's parser and accumulator sit together so
//! the full scan and the incremental path cannot drift apart.)

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use crate::model::{ActivityDefinition, ActivityInstance};

use super::cell::{Cell, OrdCell};
use super::error::QueryError;
use super::exact_sum::{ExactSum, Rounded};
use super::field::{Field, FieldType, ValueRef};

/// One aggregate measure.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Measure {
    /// `count`: instances in the group.
    Count,
    /// `sum:F`: total of a numeric field.
    Sum(String),
    /// `avg:F`: mean of a numeric field.
    Avg(String),
    /// `min:F`: least value of a numeric or timestamp field.
    Min(String),
    /// `max:F`: greatest value of a numeric or timestamp field.
    Max(String),
    /// `avg:duration(from,to)`: mean of `to - from`.
    AvgDuration(String, String),
    /// `max:duration(from,to)`: longest `to - from`.
    MaxDuration(String, String),
    /// `min:duration(from,to)`: shortest `to - from`.
    MinDuration(String, String),
}

impl Measure {
    /// Parses a measure spec (see the module docs).
    ///
    /// ```
    /// use bamdb::query::Measure;
    ///
    /// assert_eq!(Measure::parse("sum:Amount")?, Measure::Sum("Amount".into()));
    /// assert_eq!(
    ///     Measure::parse("max:duration(Received, Shipped)")?,
    ///     Measure::MaxDuration("Received".into(), "Shipped".into())
    /// );
    /// assert!(Measure::parse("sum:duration(Received,Shipped)").is_err());
    /// # Ok::<(), bamdb::query::QueryError>(())
    /// ```
    pub fn parse(spec: &str) -> Result<Measure, QueryError> {
        let err = |reason: &str| QueryError::MeasureSyntax {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let text = spec.trim();
        if text.eq_ignore_ascii_case("count") {
            return Ok(Measure::Count);
        }
        let (func, arg) = text.split_once(':').ok_or_else(|| {
            err("expected count or FUNCTION:FIELD with FUNCTION one of sum, avg, min, max")
        })?;
        let func = func.trim().to_ascii_lowercase();
        let arg = arg.trim();
        if let Some(inner) = duration_args(arg) {
            let (from, to) = inner
                .split_once(',')
                .ok_or_else(|| err("duration needs two fields: duration(FROM,TO)"))?;
            let (from, to) = (field_name(from.trim()), field_name(to.trim()));
            let (Some(from), Some(to)) = (from, to) else {
                return Err(err("duration fields must be names (letters, digits, _)"));
            };
            return match func.as_str() {
                "avg" => Ok(Measure::AvgDuration(from, to)),
                "min" => Ok(Measure::MinDuration(from, to)),
                "max" => Ok(Measure::MaxDuration(from, to)),
                _ => Err(err("durations support avg, min and max")),
            };
        }
        let field = field_name(arg).ok_or_else(|| {
            err("expected a field name (letters, digits, _) or duration(FROM,TO) after ':'")
        })?;
        match func.as_str() {
            "sum" => Ok(Measure::Sum(field)),
            "avg" => Ok(Measure::Avg(field)),
            "min" => Ok(Measure::Min(field)),
            "max" => Ok(Measure::Max(field)),
            _ => Err(err("unknown function: expected sum, avg, min or max")),
        }
    }

    /// Checks the measure's fields against the definition: they exist and
    /// have a type the measure accepts.
    pub fn validate(&self, def: &ActivityDefinition) -> Result<(), QueryError> {
        let mismatch = |reason: String| QueryError::TypeMismatch {
            context: format!("measure `{self}`"),
            reason,
        };
        match self {
            Measure::Count => Ok(()),
            Measure::Sum(f) | Measure::Avg(f) => {
                let ty = Field::new(f).resolve(def, "measure field")?;
                if ty.is_numeric() {
                    Ok(())
                } else {
                    Err(mismatch(format!("{f} is {}, not a number", ty.name())))
                }
            }
            Measure::Min(f) | Measure::Max(f) => {
                let ty = Field::new(f).resolve(def, "measure field")?;
                if ty.is_numeric() || ty == FieldType::Timestamp {
                    Ok(())
                } else {
                    Err(mismatch(format!(
                        "{f} is {}, not a number or timestamp",
                        ty.name()
                    )))
                }
            }
            Measure::AvgDuration(a, b)
            | Measure::MaxDuration(a, b)
            | Measure::MinDuration(a, b) => {
                for f in [a, b] {
                    let ty = Field::new(f).resolve(def, "measure field")?;
                    if ty != FieldType::Timestamp {
                        return Err(mismatch(format!("{f} is {}, not a timestamp", ty.name())));
                    }
                }
                Ok(())
            }
        }
    }

    /// A fresh accumulator; `removable` keeps per-value counts for min/max
    /// so that values can be removed again.
    pub(crate) fn accumulator(&self, removable: bool) -> Acc {
        let extreme = || {
            if removable {
                Extreme::Counted(BTreeMap::new())
            } else {
                Extreme::Running(None)
            }
        };
        match self {
            Measure::Count => Acc::Count,
            Measure::Sum(f) => Acc::Sum(Field::new(f), NumSum::default()),
            Measure::Avg(f) => Acc::Avg(Field::new(f), NumSum::default()),
            Measure::Min(f) => Acc::Min(Field::new(f), extreme()),
            Measure::Max(f) => Acc::Max(Field::new(f), extreme()),
            Measure::AvgDuration(a, b) => Acc::AvgDuration(Field::new(a), Field::new(b), 0, 0),
            Measure::MinDuration(a, b) => Acc::MinDuration(Field::new(a), Field::new(b), extreme()),
            Measure::MaxDuration(a, b) => Acc::MaxDuration(Field::new(a), Field::new(b), extreme()),
        }
    }
}

impl fmt::Display for Measure {
    /// The canonical spec, also the result column name: `sum:Amount`,
    /// `avg:duration(Received,Shipped)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measure::Count => f.write_str("count"),
            Measure::Sum(x) => write!(f, "sum:{x}"),
            Measure::Avg(x) => write!(f, "avg:{x}"),
            Measure::Min(x) => write!(f, "min:{x}"),
            Measure::Max(x) => write!(f, "max:{x}"),
            Measure::AvgDuration(a, b) => write!(f, "avg:duration({a},{b})"),
            Measure::MaxDuration(a, b) => write!(f, "max:duration({a},{b})"),
            Measure::MinDuration(a, b) => write!(f, "min:duration({a},{b})"),
        }
    }
}

/// `duration(X)` → `X`, ignoring case of `duration`.
fn duration_args(arg: &str) -> Option<&str> {
    let head = arg.get(..8)?;
    if !head.eq_ignore_ascii_case("duration") {
        return None;
    }
    arg.get(8..)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
}

fn field_name(s: &str) -> Option<String> {
    let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then(|| s.to_owned())
}

/// Running totals of a numeric field. Floats are summed exactly
/// ([`ExactSum`]), so the result is the same whatever order the values
/// were added, removed or merged in, and is rounded once.
#[derive(Debug, Clone, Default)]
pub(crate) struct NumSum {
    pub(super) ints: u64,
    pub(super) int_sum: i128,
    pub(super) floats: u64,
    /// Made on the first float: groups of ints carry no big total.
    pub(super) float_sum: Option<ExactSum>,
}

impl NumSum {
    fn update(&mut self, v: Option<ValueRef<'_>>, add: bool) {
        match (v, add) {
            (Some(ValueRef::Int(i)), true) => {
                self.ints += 1;
                self.int_sum += i128::from(i);
            }
            (Some(ValueRef::Int(i)), false) => {
                self.ints = self.ints.saturating_sub(1);
                self.int_sum -= i128::from(i);
            }
            (Some(ValueRef::Float(x)), add) => {
                if add {
                    self.floats += 1;
                } else {
                    self.floats = self.floats.saturating_sub(1);
                }
                self.float_sum
                    .get_or_insert_with(ExactSum::default)
                    .add_f64(x, add);
                if self.floats == 0 {
                    self.float_sum = None;
                }
            }
            _ => {}
        }
    }

    fn merge(&mut self, other: &NumSum) {
        self.ints += other.ints;
        self.int_sum += other.int_sum;
        self.floats += other.floats;
        if let Some(o) = &other.float_sum {
            self.float_sum
                .get_or_insert_with(ExactSum::default)
                .merge(o);
        }
    }

    /// Ints and floats together, exactly.
    fn exact_total(&self) -> ExactSum {
        let mut total = self.float_sum.clone().unwrap_or_default();
        total.add_i128(self.int_sum, true);
        total
    }

    #[expect(
        clippy::cast_precision_loss,
        reason = "an int total beyond i64 is shown as the nearest float"
    )]
    fn sum(&self) -> Cell {
        match (self.ints, self.floats) {
            (0, 0) => Cell::Null,
            (_, 0) => i64::try_from(self.int_sum)
                .map(Cell::Int)
                .unwrap_or(Cell::Float(self.int_sum as f64)),
            _ => rounded_cell(self.exact_total().round()),
        }
    }

    /// Whether the sum lies beyond the float range (shown saturated).
    fn sum_overflows(&self) -> bool {
        self.floats > 0 && matches!(self.exact_total().round(), Rounded::Overflow(_))
    }

    fn avg(&self) -> Cell {
        let n = self.ints + self.floats;
        if n == 0 {
            Cell::Null
        } else {
            // Exact total, divided, rounded once: finite whenever the mean
            // is, even when the total is not.
            rounded_cell(self.exact_total().div_round(n))
        }
    }
}

/// A rounded total as a cell: beyond the float range it saturates at
/// ±`f64::MAX` (never infinity, which JSON cannot carry).
fn rounded_cell(r: Rounded) -> Cell {
    match r {
        Rounded::Float(x) => Cell::Float(x),
        Rounded::Overflow(Ordering::Less) => Cell::Float(-f64::MAX),
        Rounded::Overflow(_) => Cell::Float(f64::MAX),
    }
}

/// The least or greatest value seen.
#[derive(Debug, Clone)]
pub(crate) enum Extreme {
    /// Add-only: just the current extreme.
    Running(Option<OrdCell>),
    /// Removable: every value with its multiplicity.
    Counted(BTreeMap<OrdCell, u64>),
}

impl Extreme {
    fn update(&mut self, cell: Cell, add: bool, want_max: bool) {
        let cell = OrdCell(cell);
        match self {
            Extreme::Running(cur) => {
                let better = match cur {
                    None => true,
                    Some(c) => {
                        let ord = cell.cmp(c);
                        ord != std::cmp::Ordering::Equal
                            && (ord == std::cmp::Ordering::Greater) == want_max
                    }
                };
                if add && better {
                    *cur = Some(cell);
                }
            }
            Extreme::Counted(map) => {
                if add {
                    *map.entry(cell).or_insert(0) += 1;
                } else if let Some(n) = map.get_mut(&cell) {
                    *n -= 1;
                    if *n == 0 {
                        map.remove(&cell);
                    }
                }
            }
        }
    }

    fn merge(&mut self, other: &Extreme, want_max: bool) {
        match (self, other) {
            (Extreme::Counted(mine), Extreme::Counted(theirs)) => {
                for (c, n) in theirs {
                    *mine.entry(c.clone()).or_insert(0) += n;
                }
            }
            (me, Extreme::Counted(theirs)) => {
                for c in theirs.keys() {
                    me.update(c.0.clone(), true, want_max);
                }
            }
            (me, Extreme::Running(Some(c))) => me.update(c.0.clone(), true, want_max),
            (_, Extreme::Running(None)) => {}
        }
    }

    fn result(&self, want_max: bool) -> Cell {
        let found = match self {
            Extreme::Running(cur) => cur.as_ref(),
            Extreme::Counted(map) if want_max => map.keys().next_back(),
            Extreme::Counted(map) => map.keys().next(),
        };
        found.map_or(Cell::Null, |c| c.0.clone())
    }
}

/// The accumulator of one measure in one group.
#[derive(Debug, Clone)]
pub(crate) enum Acc {
    Count,
    Sum(Field, NumSum),
    Avg(Field, NumSum),
    Min(Field, Extreme),
    Max(Field, Extreme),
    AvgDuration(Field, Field, u64, i128),
    MinDuration(Field, Field, Extreme),
    MaxDuration(Field, Field, Extreme),
}

/// `to - from` in microseconds when both are set timestamps.
fn duration(from: Option<ValueRef<'_>>, to: Option<ValueRef<'_>>) -> Option<i64> {
    match (from?, to?) {
        (ValueRef::Timestamp(a), ValueRef::Timestamp(b)) => {
            Some(b.as_micros().saturating_sub(a.as_micros()))
        }
        _ => None,
    }
}

/// A min/max input: numbers and timestamps only.
fn orderable(v: Option<ValueRef<'_>>) -> Option<Cell> {
    match v? {
        ValueRef::Int(i) => Some(Cell::Int(i)),
        ValueRef::Float(f) => Some(Cell::Float(f)),
        ValueRef::Timestamp(t) => Some(Cell::Timestamp(t)),
        ValueRef::Text(_) | ValueRef::Bool(_) => None,
    }
}

impl Acc {
    /// Adds (`add`) or removes the instance's contribution.
    pub(crate) fn update(&mut self, inst: &ActivityInstance, add: bool) {
        let (a, b) = self.fields();
        let a = a.and_then(|f| f.get(inst));
        let b = b.and_then(|f| f.get(inst));
        self.apply(a, b, add);
    }

    /// The fields the measure reads: none (count), one, or the two
    /// milestones of a duration, in that order.
    pub(crate) fn fields(&self) -> (Option<&Field>, Option<&Field>) {
        match self {
            Acc::Count => (None, None),
            Acc::Sum(f, _) | Acc::Avg(f, _) | Acc::Min(f, _) | Acc::Max(f, _) => (Some(f), None),
            Acc::AvgDuration(a, b, ..) | Acc::MinDuration(a, b, _) | Acc::MaxDuration(a, b, _) => {
                (Some(a), Some(b))
            }
        }
    }

    /// Adds (`add`) or removes one instance's values of [`Acc::fields`].
    pub(crate) fn apply(&mut self, a: Option<ValueRef<'_>>, b: Option<ValueRef<'_>>, add: bool) {
        match self {
            Acc::Count => {}
            Acc::Sum(_, s) | Acc::Avg(_, s) => s.update(a, add),
            Acc::Min(_, e) => {
                if let Some(c) = orderable(a) {
                    e.update(c, add, false);
                }
            }
            Acc::Max(_, e) => {
                if let Some(c) = orderable(a) {
                    e.update(c, add, true);
                }
            }
            Acc::AvgDuration(_, _, n, sum) => {
                if let Some(d) = duration(a, b) {
                    if add {
                        *n += 1;
                        *sum += i128::from(d);
                    } else {
                        *n = n.saturating_sub(1);
                        *sum -= i128::from(d);
                    }
                }
            }
            Acc::MinDuration(_, _, e) => {
                if let Some(d) = duration(a, b) {
                    e.update(Cell::Duration(d), add, false);
                }
            }
            Acc::MaxDuration(_, _, e) => {
                if let Some(d) = duration(a, b) {
                    e.update(Cell::Duration(d), add, true);
                }
            }
        }
    }

    /// [`Self::apply`] of a set float, added: the column loop's path
    /// for sums and averages.
    #[inline]
    pub(crate) fn add_float(&mut self, x: f64) {
        if let Acc::Sum(_, s) | Acc::Avg(_, s) = self {
            s.update(Some(ValueRef::Float(x)), true);
        }
    }

    /// Adds what `other` (the same measure, over other instances) holds.
    pub(crate) fn merge(&mut self, other: &Acc) {
        match (self, other) {
            (Acc::Sum(_, s), Acc::Sum(_, o)) | (Acc::Avg(_, s), Acc::Avg(_, o)) => s.merge(o),
            (Acc::Min(_, e), Acc::Min(_, o))
            | (Acc::MinDuration(_, _, e), Acc::MinDuration(_, _, o)) => {
                e.merge(o, false);
            }
            (Acc::Max(_, e), Acc::Max(_, o))
            | (Acc::MaxDuration(_, _, e), Acc::MaxDuration(_, _, o)) => {
                e.merge(o, true);
            }
            (Acc::AvgDuration(_, _, n, sum), Acc::AvgDuration(_, _, on, osum)) => {
                *n += on;
                *sum += osum;
            }
            _ => {}
        }
    }

    /// Whether the measure's value lies beyond the float range: a float
    /// `sum` whose exact total exceeds ±`f64::MAX` ([`Acc::result`] shows
    /// it saturated).
    pub(crate) fn overflows(&self) -> bool {
        matches!(self, Acc::Sum(_, s) if s.sum_overflows())
    }

    /// The measure's value, given the group's instance count.
    pub(crate) fn result(&self, count: u64) -> Cell {
        match self {
            Acc::Count => Cell::Int(i64::try_from(count).unwrap_or(i64::MAX)),
            Acc::Sum(_, s) => s.sum(),
            Acc::Avg(_, s) => s.avg(),
            Acc::Min(_, e) | Acc::MinDuration(_, _, e) => e.result(false),
            Acc::Max(_, e) | Acc::MaxDuration(_, _, e) => e.result(true),
            Acc::AvgDuration(_, _, 0, _) => Cell::Null,
            Acc::AvgDuration(_, _, n, sum) => {
                let avg = sum.div_euclid(i128::from(*n));
                Cell::Duration(i64::try_from(avg).unwrap_or(i64::MAX))
            }
        }
    }
}
