//! [`Measure`]: what an aggregation computes per group, its spec syntax,
//! and the accumulators that compute it (shared by the full scan and the
//! incremental maintenance, so both agree by construction).
//!
//! Spec syntax ([`Measure::parse`]): `count`, `count_distinct:F`,
//! `sum:F`, `avg:F`, `min:F`, `max:F`, `median:F`, `pN:F` (a percentile,
//! `N` a whole number from 0 to 100: `p50`, `p90`, `p95`, `p99`), and over
//! durations `avg:duration(A,B)`, `min:duration(A,B)`,
//! `max:duration(A,B)`, `median:duration(A,B)`, `pN:duration(A,B)`;
//! function names ignore ASCII case, field names are exact, spaces around
//! them are allowed.
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
//! - `count_distinct`: how many different values the field takes in the
//!   group (unset not counted; 0 when none is set), over any field type.
//!   Values compare as group keys do: text exactly (case and accents
//!   count: `EU`, `eu` and `Eu` are three), `-0.0` and `0.0` as one.
//! - `median` (= `p50`) and `pN`: over numeric items (a float) or
//!   durations (a duration), exact and interpolated linearly between the
//!   two closest ranks, as DuckDB's `quantile_cont` and numpy's default:
//!   with the `n` values sorted, `pos = N/100 * (n - 1)`, and the answer
//!   `v[floor(pos)] + (v[ceil(pos)] - v[floor(pos)]) * (pos - floor(pos))`.
//!   A duration percentile is then rounded to the nearest microsecond (a
//!   tie to the later). Null when no value is set.
//!
//! # Memory
//! `count_distinct` and the percentiles hold their values (selected at
//! the end in linear time, not sorted; merging two partial results
//! concatenates, so the answer does not depend on how a scan was split).
//! A store query ([`crate::Store::aggregate`]) holds at most
//! [`MAX_HELD_VALUES`] (2^24) of them in all, counting one value per
//! selected instance per such measure; beyond it the query is refused with
//! [`QueryError::TooManyValues`] (narrow it with filters or a time range)
//! rather than answered approximately. [`super::Aggregate::run`] over
//! instances already in memory has no such cap. A real-time aggregation
//! ([`crate::Store::declare_aggregation`]) refuses these measures: its
//! state must stay bounded whatever the data
//! ([`super::IncrementalAggregate`] itself maintains them exactly).
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
use super::held::{Distinct, Held};

pub use super::held::MAX_HELD_VALUES;

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
    /// `count_distinct:F`: how many different values a field takes.
    CountDistinct(String),
    /// `median:F`: the middle value of a numeric field (the 50th
    /// percentile, interpolated).
    Median(String),
    /// `pN:F`: the `N`th percentile (0 to 100) of a numeric field.
    Percentile(u8, String),
    /// `median:duration(from,to)`: the middle `to - from`.
    MedianDuration(String, String),
    /// `pN:duration(from,to)`: the `N`th percentile (0 to 100) of
    /// `to - from`.
    PercentileDuration(u8, String, String),
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
            err(
                "expected count or FUNCTION:FIELD with FUNCTION one of count_distinct, \
                 sum, avg, min, max, median, p50, p90, p95, p99 (any pN, N from 0 to 100)",
            )
        })?;
        let func = func.trim().to_ascii_lowercase();
        let arg = arg.trim();
        let percent = percentile_of(&func);
        let digits = func.strip_prefix('p').unwrap_or_default();
        if percent.is_none() && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(
                "a percentile is pN with N a whole number from 0 to 100 (p95)",
            ));
        }
        if let Some(inner) = duration_args(arg) {
            let (from, to) = inner
                .split_once(',')
                .ok_or_else(|| err("duration needs two fields: duration(FROM,TO)"))?;
            let (from, to) = (field_name(from.trim()), field_name(to.trim()));
            let (Some(from), Some(to)) = (from, to) else {
                return Err(err("duration fields must be names (letters, digits, _)"));
            };
            return match (func.as_str(), percent) {
                ("avg", _) => Ok(Measure::AvgDuration(from, to)),
                ("min", _) => Ok(Measure::MinDuration(from, to)),
                ("max", _) => Ok(Measure::MaxDuration(from, to)),
                ("median", _) => Ok(Measure::MedianDuration(from, to)),
                (_, Some(p)) => Ok(Measure::PercentileDuration(p, from, to)),
                _ => Err(err(
                    "durations support avg, min, max, median and percentiles (p95)",
                )),
            };
        }
        let field = field_name(arg).ok_or_else(|| {
            err("expected a field name (letters, digits, _) or duration(FROM,TO) after ':'")
        })?;
        match (func.as_str(), percent) {
            ("sum", _) => Ok(Measure::Sum(field)),
            ("avg", _) => Ok(Measure::Avg(field)),
            ("min", _) => Ok(Measure::Min(field)),
            ("max", _) => Ok(Measure::Max(field)),
            ("count_distinct", _) => Ok(Measure::CountDistinct(field)),
            ("median", _) => Ok(Measure::Median(field)),
            (_, Some(p)) => Ok(Measure::Percentile(p, field)),
            _ => Err(err(
                "unknown function: expected count_distinct, sum, avg, min, max, median \
                 or a percentile pN (p50, p90, p95, p99)",
            )),
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
            Measure::CountDistinct(f) => Field::new(f).resolve(def, "measure field").map(|_| ()),
            Measure::Sum(f) | Measure::Avg(f) | Measure::Median(f) | Measure::Percentile(_, f) => {
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
            | Measure::MinDuration(a, b)
            | Measure::MedianDuration(a, b)
            | Measure::PercentileDuration(_, a, b) => {
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
            Measure::CountDistinct(f) => Acc::Distinct(Field::new(f), Distinct::default()),
            Measure::Median(f) => Acc::Percentile(Field::new(f), 50, Held::default()),
            Measure::Percentile(p, f) => Acc::Percentile(Field::new(f), *p, Held::default()),
            Measure::MedianDuration(a, b) => {
                Acc::PercentileDuration(Field::new(a), Field::new(b), 50, Held::default())
            }
            Measure::PercentileDuration(p, a, b) => {
                Acc::PercentileDuration(Field::new(a), Field::new(b), *p, Held::default())
            }
        }
    }

    /// Whether the measure holds its values (`count_distinct`, `median`,
    /// percentiles): capped in a store query, refused in a real-time
    /// aggregation (see the module docs).
    pub fn holds_values(&self) -> bool {
        matches!(
            self,
            Measure::CountDistinct(_)
                | Measure::Median(_)
                | Measure::Percentile(..)
                | Measure::MedianDuration(..)
                | Measure::PercentileDuration(..)
        )
    }
}

/// `p95` → 95 (`p0` to `p100`, no sign, no leading zero but `p0`).
fn percentile_of(func: &str) -> Option<u8> {
    let digits = func.strip_prefix('p')?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse::<u8>().ok().filter(|p| *p <= 100)
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
            Measure::CountDistinct(x) => write!(f, "count_distinct:{x}"),
            Measure::Median(x) => write!(f, "median:{x}"),
            Measure::Percentile(p, x) => write!(f, "p{p}:{x}"),
            Measure::MedianDuration(a, b) => write!(f, "median:duration({a},{b})"),
            Measure::PercentileDuration(p, a, b) => write!(f, "p{p}:duration({a},{b})"),
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
    Distinct(Field, Distinct),
    /// A percentile (0 to 100) of a numeric field.
    Percentile(Field, u8, Held),
    /// A percentile (0 to 100) of a duration.
    PercentileDuration(Field, Field, u8, Held),
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
            Acc::Sum(f, _)
            | Acc::Avg(f, _)
            | Acc::Min(f, _)
            | Acc::Max(f, _)
            | Acc::Distinct(f, _)
            | Acc::Percentile(f, ..) => (Some(f), None),
            Acc::AvgDuration(a, b, ..)
            | Acc::MinDuration(a, b, _)
            | Acc::MaxDuration(a, b, _)
            | Acc::PercentileDuration(a, b, ..) => (Some(a), Some(b)),
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
            Acc::Distinct(_, d) => {
                if let Some(v) = a {
                    d.update(v, add);
                }
            }
            Acc::Percentile(_, _, h) => {
                if let Some(v) = a {
                    h.update(v, add);
                }
            }
            Acc::PercentileDuration(_, _, _, h) => {
                if let Some(d) = duration(a, b) {
                    h.int(d, add);
                }
            }
        }
    }

    /// [`Self::apply`] of two set timestamps (microseconds), added: the
    /// column loop's path for duration percentiles.
    #[inline]
    pub(crate) fn add_duration_micros(&mut self, from: i64, to: i64) {
        if let Acc::PercentileDuration(_, _, _, h) = self {
            h.int(to.saturating_sub(from), true);
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
            (Acc::Distinct(_, d), Acc::Distinct(_, o)) => d.merge(o),
            (Acc::Percentile(_, _, h), Acc::Percentile(_, _, o))
            | (Acc::PercentileDuration(_, _, _, h), Acc::PercentileDuration(_, _, _, o)) => {
                h.merge(o);
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
            Acc::Distinct(_, d) => Cell::Int(i64::try_from(d.len()).unwrap_or(i64::MAX)),
            Acc::Percentile(_, p, h) => h.number(*p),
            Acc::PercentileDuration(_, _, p, h) => h.duration(*p),
        }
    }
}
