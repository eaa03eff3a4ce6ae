//! Searches and aggregations over one import file's column projection
//! ([`crate::segments::columns`]), with the same semantics as the row path
//! (the same `Filter::matches_value`, the same accumulators), so the two
//! agree by construction; `tests/query_columnar.rs` checks it.
//!
//! Everything in an import file is completed. A query the projection cannot
//! answer (a filter or group on `id`, a group on a number, a column with
//! mixed types or too many distinct texts, too many groups) returns `None`
//! and the caller scans that file's records instead.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use crate::model::{Status, Timestamp};
use crate::segments::columns::{ActivityColumns, Column, UNSET};

use super::bucket::bucket_cell;
use super::cell::{Cell, OrdCell};
use super::field::{status_name, Field, ValueRef};
use super::measure::Acc;
use super::plan::{Group, GroupKey, Plan};
use super::selection::Selection;
use super::zone::Zone;

/// Above this many possible groups in one file, slots go in a hash map
/// instead of a table indexed by the group code.
const DENSE_SLOTS: u64 = 1 << 16;

/// At most this many buckets of varying width (calendar units, zones
/// with daylight saving) in one file's range; more, and the file is read
/// by records.
const MAX_BUCKET_STARTS: usize = 1 << 20;

/// How a query reads one field over a file's rows.
#[derive(Clone, Copy)]
enum View<'a> {
    /// The same for every row: `status`, or an item no row sets.
    Const(Option<ValueRef<'a>>),
    Col(&'a Column),
}

impl<'a> View<'a> {
    fn of(cols: &'a ActivityColumns, field: &Field) -> Option<View<'a>> {
        let column = match field {
            Field::Id => return None,
            Field::Status => {
                return Some(View::Const(Some(ValueRef::Text(status_name(
                    Status::Completed,
                )))))
            }
            Field::Begin => &*cols.begin,
            Field::End => &*cols.end,
            Field::LastModified => &*cols.last_modified,
            Field::Item(name) => match cols.items.get(name) {
                Some(c) => &**c,
                None => return Some(View::Const(None)),
            },
        };
        match column {
            Column::Unavailable => None,
            Column::Unset => Some(View::Const(None)),
            c => Some(View::Col(c)),
        }
    }

    #[inline]
    fn get(self, row: usize) -> Option<ValueRef<'a>> {
        fn at<T: Copy>(values: &[T], set: &[bool], row: usize) -> Option<T> {
            match set.get(row) {
                Some(true) => values.get(row).copied(),
                _ => None,
            }
        }
        match self {
            View::Const(v) => v,
            View::Col(Column::Int { values, set }) => at(values, set, row).map(ValueRef::Int),
            View::Col(Column::Float { values, set }) => at(values, set, row).map(ValueRef::Float),
            View::Col(Column::Bool { values, set }) => at(values, set, row).map(ValueRef::Bool),
            View::Col(Column::Timestamp { values, set }) => {
                at(values, set, row).map(|t| ValueRef::Timestamp(Timestamp::from_micros(t)))
            }
            View::Col(Column::Text { codes, dict }) => codes
                .get(row)
                .and_then(|&c| dict.get(c as usize))
                .map(|s| ValueRef::Text(s)),
            View::Col(Column::Unset | Column::Unavailable) => None,
        }
    }
}

#[cfg(feature = "fuzzing")]
thread_local! {
    // Rows a query evaluated through column projections on this thread
    // (a test hook: `tests/query_block_ranges.rs` checks that skipped
    // blocks are not evaluated).
    static ROWS_EXAMINED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many rows searches and aggregations on this thread have evaluated
/// through column projections so far (test hook; see `ROWS_EXAMINED`).
#[cfg(feature = "fuzzing")]
pub fn rows_examined() -> u64 {
    ROWS_EXAMINED.with(|n| n.get())
}

/// The rows of `cols` a query selects, or `None` when the projection cannot
/// tell (see the module docs). Only the rows in `runs` (ascending, from
/// the block ranges) are evaluated, or every row when `runs` is `None`:
/// the caller has ruled the others out.
/// (The activity is the caller's: `cols` holds only its rows.)
pub(crate) fn select(
    cols: &ActivityColumns,
    selection: &Selection,
    runs: Option<&[Range<usize>]>,
) -> Option<Vec<u32>> {
    let Selection {
        status,
        since,
        until,
        filters,
        ..
    } = selection;
    let (since, until) = (*since, *until);
    if !status.admits(Status::Completed) {
        return Some(Vec::new());
    }
    let rows = u32::try_from(cols.rows()).ok()?;
    let mut sel: Vec<u32> = match runs {
        None => (0..rows).collect(),
        Some(runs) => runs
            .iter()
            .flat_map(|r| {
                let end = u32::try_from(r.end).unwrap_or(u32::MAX).min(rows);
                u32::try_from(r.start).unwrap_or(end).min(end)..end
            })
            .collect(),
    };
    #[cfg(feature = "fuzzing")]
    ROWS_EXAMINED.with(|n| n.set(n.get() + sel.len() as u64));
    if since.is_some() || until.is_some() {
        let lm = View::of(cols, &Field::LastModified)?;
        sel.retain(|&r| match lm.get(r as usize) {
            Some(ValueRef::Timestamp(t)) => {
                since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u)
            }
            _ => false,
        });
    }
    // Each part of a top-level `and` on its own: most read one field and
    // take the fast paths below.
    for part in filters.iter().flat_map(|f| f.expr().conjuncts()) {
        let fields = part.fields();
        let [field] = fields.as_slice() else {
            // Several fields (`A = 1 or B = 2`, `Shipped > Received`):
            // each row reads each of them.
            let views = fields
                .iter()
                .map(|f| View::of(cols, f))
                .collect::<Option<Vec<View<'_>>>>()?;
            sel.retain(|&r| {
                part.eval(&mut |f: &Field| {
                    let at = fields.iter().position(|g| *g == f)?;
                    views.get(at)?.get(r as usize)
                })
            });
            continue;
        };
        let passes = |v: Option<ValueRef<'_>>| part.eval(&mut |_: &Field| v);
        match View::of(cols, field)? {
            View::Const(v) => {
                if !passes(v) {
                    sel.clear();
                }
            }
            View::Col(Column::Text { codes, dict }) => {
                // Decide once per distinct text, then per row by code.
                let pass: Vec<bool> = dict
                    .iter()
                    .map(|s| passes(Some(ValueRef::Text(s))))
                    .collect();
                let unset = passes(None);
                sel.retain(|&r| match codes.get(r as usize) {
                    Some(&UNSET) | None => unset,
                    Some(&c) => pass.get(c as usize).copied().unwrap_or(unset),
                });
            }
            view => sel.retain(|&r| passes(view.get(r as usize))),
        }
    }
    Some(sel)
}

/// One part of a group code: a key column's code for a row, in
/// `0..radix`.
enum KeyPart<'a> {
    Const(Cell),
    Text {
        codes: &'a [u32],
        dict: &'a [String],
    },
    Bool(View<'a>),
    /// Buckets of one width (units up to a week, in UTC or at a fixed
    /// offset): counted from `base`.
    Bucket {
        view: View<'a>,
        base: i64,
        width: i64,
        buckets: u64,
        zone: &'a Zone,
    },
    /// Buckets of varying width: each start, ascending; a time's bucket
    /// is the last start not after it.
    Calendar {
        view: View<'a>,
        starts: Vec<i64>,
        zone: &'a Zone,
    },
}

impl KeyPart<'_> {
    fn radix(&self) -> u64 {
        match self {
            KeyPart::Const(_) => 1,
            KeyPart::Text { dict, .. } => dict.len() as u64 + 1,
            KeyPart::Bool(_) => 3,
            // The buckets, then one for unset.
            KeyPart::Bucket { buckets, .. } => buckets + 1,
            KeyPart::Calendar { starts, .. } => starts.len() as u64 + 1,
        }
    }

    #[inline]
    fn code(&self, row: usize) -> u64 {
        match self {
            KeyPart::Const(_) => 0,
            KeyPart::Text { codes, dict } => match codes.get(row) {
                Some(&c) if c != UNSET => u64::from(c),
                _ => dict.len() as u64,
            },
            KeyPart::Bool(view) => match view.get(row) {
                Some(ValueRef::Bool(false)) => 0,
                Some(ValueRef::Bool(true)) => 1,
                _ => 2,
            },
            KeyPart::Bucket {
                view,
                base,
                width,
                buckets,
                ..
            } => match view.get(row) {
                Some(ValueRef::Timestamp(t)) => bucket_index(t.as_micros(), *base, *width),
                _ => *buckets,
            },
            KeyPart::Calendar { view, starts, .. } => match view.get(row) {
                Some(ValueRef::Timestamp(t)) => {
                    let t = t.as_micros();
                    starts.partition_point(|&s| s <= t).saturating_sub(1) as u64
                }
                _ => starts.len() as u64,
            },
        }
    }

    fn cell(&self, code: u64) -> Cell {
        match self {
            KeyPart::Const(c) => c.clone(),
            KeyPart::Text { dict, .. } => usize::try_from(code)
                .ok()
                .and_then(|c| dict.get(c))
                .map_or(Cell::Null, |s| Cell::Text(s.clone())),
            KeyPart::Bool(_) => match code {
                0 => Cell::Bool(false),
                1 => Cell::Bool(true),
                _ => Cell::Null,
            },
            KeyPart::Bucket {
                base,
                width,
                buckets,
                zone,
                ..
            } => {
                if code >= *buckets {
                    return Cell::Null;
                }
                // Buckets are counted on the unit's grid, which for weeks
                // starts before the earliest timestamp; the cell is
                // clamped as the row path's `BucketUnit::floor` does.
                let start = i128::from(*base) + i128::from(code) * i128::from(*width);
                let end = start + i128::from(*width) - 1;
                match (i64::try_from(start), i64::try_from(end)) {
                    (Ok(s), Ok(e)) => bucket_cell(s, Timestamp::from_micros(e), zone),
                    _ => Cell::Null,
                }
            }
            KeyPart::Calendar { starts, zone, .. } => {
                let at = usize::try_from(code).ok();
                match at.and_then(|i| Some((starts.get(i)?, starts.get(i + 1)))) {
                    // The last microsecond in the bucket, for the clamp.
                    Some((&s, next)) => {
                        let inside = next.map_or(s, |&n| n.saturating_sub(1).max(s));
                        bucket_cell(s, Timestamp::from_micros(inside), zone)
                    }
                    None => Cell::Null,
                }
            }
        }
    }
}

/// Which bucket (counted from the one starting at `base`) holds `t`.
#[inline]
fn bucket_index(t: i64, base: i64, width: i64) -> u64 {
    match t.checked_sub(base) {
        Some(offset) => u64::try_from(offset.div_euclid(width)).unwrap_or(0),
        None => {
            let offset = i128::from(t) - i128::from(base);
            u64::try_from(offset.div_euclid(i128::from(width))).unwrap_or(0)
        }
    }
}

/// Adds the selected rows of `cols` (of those in `runs`, as [`select`])
/// to `groups`; `false` (and `groups` untouched) when the projection
/// cannot answer. `reserve(rows)` is asked, once the projection can
/// answer, whether the measures may hold values of that many rows; when
/// not, nothing is added and the answer is `true` (the run is refused).
pub(crate) fn aggregate_into(
    plan: &Plan,
    selection: &Selection,
    cols: &ActivityColumns,
    runs: Option<&[Range<usize>]>,
    groups: &mut BTreeMap<GroupKey, Group>,
    reserve: &dyn Fn(usize) -> bool,
) -> bool {
    let Some(sel) = select(cols, selection, runs) else {
        return false;
    };
    let Some(parts) = key_parts(plan, cols, &sel) else {
        return false;
    };
    let template = plan.new_group();
    let mut inputs = Vec::new();
    for acc in template.accs() {
        let (a, b) = acc.fields();
        let view = |f: Option<&Field>| match f {
            None => Some(View::Const(None)),
            Some(f) => View::of(cols, f),
        };
        let (Some(a), Some(b)) = (view(a), view(b)) else {
            return false;
        };
        inputs.push((a, b));
    }
    let Some(total) = parts
        .iter()
        .try_fold(1u64, |acc, p| acc.checked_mul(p.radix()))
    else {
        return false;
    };
    if !reserve(sel.len()) {
        return true;
    }

    let mut slots: Vec<(u64, Group)> = Vec::new();
    let mut dense: Vec<u32> = Vec::new();
    let mut sparse: HashMap<u64, u32> = HashMap::new();
    if total <= DENSE_SLOTS {
        dense = vec![u32::MAX; total as usize];
    }
    // First the group of each selected row (and the counts), then each
    // measure over all rows in one loop of its own: a loop per measure
    // reads one or two columns straight, where one loop over rows would
    // switch on every measure and value type for every row. Each
    // accumulator still sees its rows in the same order.
    let mut row_slots: Vec<u32> = Vec::with_capacity(sel.len());
    for &r in &sel {
        let row = r as usize;
        let code = parts
            .iter()
            .fold(0u64, |acc, p| acc * p.radix() + p.code(row));
        let slot = if total <= DENSE_SLOTS {
            match dense.get_mut(code as usize) {
                Some(s) => {
                    if *s == u32::MAX {
                        *s = slots.len() as u32;
                        slots.push((code, template.clone()));
                    }
                    *s
                }
                None => return false,
            }
        } else {
            let next = slots.len() as u32;
            let s = *sparse.entry(code).or_insert(next);
            if s == next {
                slots.push((code, template.clone()));
            }
            s
        };
        if let Some((_, group)) = slots.get_mut(slot as usize) {
            group.count_one();
        }
        row_slots.push(slot);
    }
    for (i, (a, b)) in inputs.iter().enumerate() {
        let rows = sel.iter().zip(&row_slots);
        fn acc_of(slots: &mut [(u64, Group)], slot: u32, i: usize) -> Option<&mut Acc> {
            slots
                .get_mut(slot as usize)
                .and_then(|(_, g)| g.accs_mut().get_mut(i))
        }
        match (a, template.accs().get(i)) {
            (_, Some(Acc::Count)) => {}
            (
                View::Col(Column::Timestamp {
                    values: from,
                    set: from_set,
                }),
                Some(Acc::PercentileDuration(..)),
            ) => {
                // Both milestones straight from their columns.
                let View::Col(Column::Timestamp {
                    values: to,
                    set: to_set,
                }) = b
                else {
                    for (&r, &slot) in rows {
                        let row = r as usize;
                        if let Some(acc) = acc_of(&mut slots, slot, i) {
                            acc.apply(a.get(row), b.get(row), true);
                        }
                    }
                    continue;
                };
                for (&r, &slot) in rows {
                    let row = r as usize;
                    if from_set.get(row) == Some(&true) && to_set.get(row) == Some(&true) {
                        if let (Some(acc), Some(&x), Some(&y)) =
                            (acc_of(&mut slots, slot, i), from.get(row), to.get(row))
                        {
                            acc.add_duration_micros(x, y);
                        }
                    }
                }
            }
            (View::Col(Column::Float { values, set }), Some(Acc::Sum(..) | Acc::Avg(..))) => {
                for (&r, &slot) in rows {
                    let row = r as usize;
                    if set.get(row) == Some(&true) {
                        if let (Some(acc), Some(&x)) =
                            (acc_of(&mut slots, slot, i), values.get(row))
                        {
                            acc.add_float(x);
                        }
                    }
                }
            }
            _ => {
                for (&r, &slot) in rows {
                    let row = r as usize;
                    if let Some(acc) = acc_of(&mut slots, slot, i) {
                        acc.apply(a.get(row), b.get(row), true);
                    }
                }
            }
        }
    }

    for (code, group) in slots {
        let mut rest = code;
        let mut key: GroupKey = Vec::with_capacity(parts.len());
        for part in parts.iter().rev() {
            let radix = part.radix();
            key.push(OrdCell(part.cell(rest % radix)));
            rest /= radix;
        }
        key.reverse();
        Group::merge_into(groups, key, group);
    }
    true
}

/// The key parts of `plan` over `cols`: group-by fields, then the bucket.
fn key_parts<'a>(
    plan: &'a Plan,
    cols: &'a ActivityColumns,
    sel: &[u32],
) -> Option<Vec<KeyPart<'a>>> {
    let mut parts = Vec::new();
    for field in &plan.group_by {
        parts.push(match View::of(cols, field)? {
            View::Const(v) => KeyPart::Const(Cell::key(v)),
            View::Col(Column::Text { codes, dict }) => KeyPart::Text { codes, dict },
            view @ View::Col(Column::Bool { .. }) => KeyPart::Bool(view),
            // Numbers and timestamps as keys: the row path.
            View::Col(_) => return None,
        });
    }
    if let Some((unit, field)) = &plan.bucket {
        let view = View::of(cols, field)?;
        let zone = &plan.zone;
        let times = sel.iter().filter_map(|&r| match view.get(r as usize) {
            Some(ValueRef::Timestamp(t)) => Some(t.as_micros()),
            _ => None,
        });
        let (lo, hi) = times.fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
        match (unit.grid(), zone.fixed_offset()) {
            (Some((width, _)), Some(_)) => {
                let (base, buckets) = if lo > hi {
                    (0, 0)
                } else {
                    let base = unit.start(lo, zone);
                    (base, bucket_index(hi, base, width) + 1)
                };
                parts.push(KeyPart::Bucket {
                    view,
                    base,
                    width,
                    buckets,
                    zone,
                });
            }
            _ => {
                let starts = if lo > hi {
                    Vec::new()
                } else {
                    unit.starts_between(lo, hi, zone, MAX_BUCKET_STARTS)?
                };
                parts.push(KeyPart::Calendar { view, starts, zone });
            }
        }
    }
    Some(parts)
}
