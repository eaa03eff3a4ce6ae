//! The accumulators of the measures that hold their values: percentiles
//! ([`Held`]: `median`, `p50`..`p99`, of numbers and of durations) and
//! `count_distinct` ([`Distinct`]). Both are exact: they keep every value
//! (a distinct value once, with its multiplicity), merge by concatenating
//! (so the answer does not depend on how a scan was split), and can take
//! a value out again (the maintained form). What they may hold per query
//! is capped ([`MAX_HELD_VALUES`]); see [`super::Measure`].

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::cell::{Cell, OrdCell};
use super::field::ValueRef;

/// The most values the measures of one store query may hold together
/// (percentile inputs, plus one per instance for `count_distinct`):
/// 2^24, 128 MiB of 8-byte values. Beyond it the query is refused with
/// [`super::QueryError::TooManyValues`] rather than answered approximately.
pub const MAX_HELD_VALUES: u64 = 1 << 24;

/// The values of a percentile measure: numbers (ints and floats apart, so
/// that ints interpolate without a detour through floats) or durations
/// (in `ints`, microseconds).
#[derive(Debug, Clone, Default)]
pub(crate) struct Held {
    pub(super) ints: Vec<i64>,
    pub(super) floats: Vec<f64>,
}

impl Held {
    /// Adds (`add`) or removes a number.
    pub(crate) fn update(&mut self, v: ValueRef<'_>, add: bool) {
        match v {
            ValueRef::Int(i) => self.int(i, add),
            ValueRef::Float(x) => {
                if add {
                    self.floats.push(x);
                } else if let Some(at) = self.floats.iter().position(|y| y.total_cmp(&x).is_eq()) {
                    self.floats.swap_remove(at);
                }
            }
            ValueRef::Text(_) | ValueRef::Bool(_) | ValueRef::Timestamp(_) => {}
        }
    }

    /// Adds (`add`) or removes an int or a duration.
    #[inline]
    pub(crate) fn int(&mut self, i: i64, add: bool) {
        if add {
            self.ints.push(i);
        } else if let Some(at) = self.ints.iter().position(|&j| j == i) {
            self.ints.swap_remove(at);
        }
    }

    pub(crate) fn merge(&mut self, other: &Held) {
        self.ints.extend_from_slice(&other.ints);
        self.floats.extend_from_slice(&other.floats);
    }

    /// The `percent`th percentile of numbers, interpolated linearly
    /// between the two closest ranks (see [`rank`]); null when empty.
    #[expect(
        clippy::cast_precision_loss,
        reason = "the interpolated percentile is a float, as DuckDB's quantile_cont"
    )]
    pub(crate) fn number(&self, percent: u8) -> Cell {
        if self.floats.is_empty() {
            return match select(&mut self.ints.clone(), percent) {
                None => Cell::Null,
                Some((lo, hi, frac)) => {
                    let delta = (i128::from(hi) - i128::from(lo)) as f64;
                    Cell::Float(lo as f64 + delta * frac)
                }
            };
        }
        let mut all = self.floats.clone();
        all.extend(self.ints.iter().map(|&i| i as f64));
        match select_by(&mut all, percent, f64::total_cmp) {
            None => Cell::Null,
            Some((lo, hi, frac)) if lo == hi || frac == 0.0 => Cell::Float(lo),
            Some((lo, hi, frac)) => {
                let v = lo + (hi - lo) * frac;
                // `hi - lo` beyond the float range: weigh each instead.
                Cell::Float(if v.is_finite() {
                    v
                } else {
                    lo * (1.0 - frac) + hi * frac
                })
            }
        }
    }

    /// The `percent`th percentile of durations: as [`Self::number`],
    /// then rounded to the nearest microsecond (a tie rounds up, to the
    /// later); null when empty.
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        reason = "the offset between two ranks is interpolated as a float, then rounded to whole microseconds"
    )]
    pub(crate) fn duration(&self, percent: u8) -> Cell {
        match select(&mut self.ints.clone(), percent) {
            None => Cell::Null,
            Some((lo, hi, frac)) => {
                let delta = (i128::from(hi) - i128::from(lo)) as f64;
                // Non-negative (hi >= lo): `round` takes a tie up.
                let step = (delta * frac).round() as i128;
                let v = i128::from(lo) + step;
                Cell::Duration(i64::try_from(v).unwrap_or(i64::MAX))
            }
        }
    }
}

/// Where the `percent`th percentile of `n` values lies: the 0-based rank
/// below it, the rank above it, and how far between them (`pos =
/// percent/100 * (n - 1)`, as DuckDB's `quantile_cont` and numpy's
/// default `linear` method).
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "ranks are below 2^24 values (MAX_HELD_VALUES) in a store query, exact in a float"
)]
pub(crate) fn rank(n: usize, percent: u8) -> (usize, usize, f64) {
    let q = f64::from(percent.min(100)) / 100.0;
    let pos = q * (n.saturating_sub(1)) as f64;
    let lo = pos.floor();
    let hi = pos.ceil();
    let last = n.saturating_sub(1);
    ((lo as usize).min(last), (hi as usize).min(last), pos - lo)
}

/// The values at the two ranks around the percentile, and the fraction
/// between them; `values` is reordered (selection, not a full sort).
fn select(values: &mut [i64], percent: u8) -> Option<(i64, i64, f64)> {
    select_by(values, percent, i64::cmp)
}

fn select_by<T: Copy>(
    values: &mut [T],
    percent: u8,
    cmp: impl Fn(&T, &T) -> Ordering + Copy,
) -> Option<(T, T, f64)> {
    if values.is_empty() {
        return None;
    }
    let (lo, hi, frac) = rank(values.len(), percent);
    let (_, &mut at_lo, above) = values.select_nth_unstable_by(lo, cmp);
    if hi == lo {
        return Some((at_lo, at_lo, 0.0));
    }
    // The next rank is the least value above the one selected.
    let at_hi = above
        .iter()
        .copied()
        .min_by(|a, b| cmp(a, b))
        .unwrap_or(at_lo);
    Some((at_lo, at_hi, frac))
}

/// The distinct values of a field, each with how many instances hold it
/// (so that one can leave again). Values compare as group keys do
/// ([`Cell::key`]): text exactly (case and accents count), `-0.0` and
/// `0.0` as one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Distinct(pub(super) BTreeMap<OrdCell, u64>);

impl Distinct {
    pub(crate) fn update(&mut self, v: ValueRef<'_>, add: bool) {
        let key = OrdCell(Cell::key(Some(v)));
        if add {
            *self.0.entry(key).or_insert(0) += 1;
        } else if let Some(n) = self.0.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.0.remove(&key);
            }
        }
    }

    pub(crate) fn merge(&mut self, other: &Distinct) {
        for (v, n) in &other.0 {
            *self.0.entry(v.clone()).or_insert(0) += n;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}
