//! [`BucketUnit`]: the time buckets aggregations group by. A bucket is the
//! instant where the local minute, hour, day, ISO week (Monday), month,
//! quarter or year holding a time begins, in the aggregation's [`Zone`]
//! (UTC by default); see [`BucketUnit::floor_in`]. In UTC and at fixed
//! offsets the units up to a week have one width, counted on a grid; the
//! others (and every unit in a zone with daylight saving) are cut by the
//! calendar through `jiff`.

use jiff::civil::{Date, Time};
use jiff::tz::Offset;
use jiff::{Span, ToSpan};

use crate::model::Timestamp;

use super::cell::Cell;
use super::error::QueryError;
use super::zone::{Starts, Zone};

const MICROS_PER_MINUTE: i64 = 60 * 1_000_000;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;
const MICROS_PER_WEEK: i64 = 7 * MICROS_PER_DAY;
/// 1970-01-01 was a Thursday: the ISO week holding the epoch began on
/// Monday 1969-12-29, three days earlier.
const WEEK_ORIGIN: i64 = -3 * MICROS_PER_DAY;

/// The width of a time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BucketUnit {
    /// A minute.
    Minute,
    /// An hour (in a zone with daylight saving, the repeated hour of a
    /// fall-back is two buckets, one per offset).
    Hour,
    /// A day, midnight to midnight (23 or 25 hours across a
    /// daylight-saving change).
    Day,
    /// An ISO week: Monday 00:00 to the next Monday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter: January, April, July or October to the next.
    Quarter,
    /// A calendar year.
    Year,
}

impl BucketUnit {
    /// Parses `minute`, `hour`, `day`, `week`, `month`, `quarter` or
    /// `year` (ignoring ASCII case).
    pub fn parse(unit: &str) -> Result<BucketUnit, QueryError> {
        match unit.trim().to_ascii_lowercase().as_str() {
            "minute" => Ok(BucketUnit::Minute),
            "hour" => Ok(BucketUnit::Hour),
            "day" => Ok(BucketUnit::Day),
            "week" => Ok(BucketUnit::Week),
            "month" => Ok(BucketUnit::Month),
            "quarter" => Ok(BucketUnit::Quarter),
            "year" => Ok(BucketUnit::Year),
            _ => Err(QueryError::BucketSyntax {
                unit: unit.to_owned(),
            }),
        }
    }

    /// The unit's lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            BucketUnit::Minute => "minute",
            BucketUnit::Hour => "hour",
            BucketUnit::Day => "day",
            BucketUnit::Week => "week",
            BucketUnit::Month => "month",
            BucketUnit::Quarter => "quarter",
            BucketUnit::Year => "year",
        }
    }

    /// The width and origin of the unit's grid on a local time line, for
    /// the units of one width (up to a week).
    pub(crate) fn grid(self) -> Option<(i64, i64)> {
        match self {
            BucketUnit::Minute => Some((MICROS_PER_MINUTE, 0)),
            BucketUnit::Hour => Some((MICROS_PER_HOUR, 0)),
            BucketUnit::Day => Some((MICROS_PER_DAY, 0)),
            BucketUnit::Week => Some((MICROS_PER_WEEK, WEEK_ORIGIN)),
            BucketUnit::Month | BucketUnit::Quarter | BucketUnit::Year => None,
        }
    }

    /// Whether a repeated local time (a fall-back) starts a bucket of its
    /// own: for minutes and hours, whose labels repeat; a day or longer
    /// begins at the first occurrence of its start.
    fn splits_folds(self) -> bool {
        matches!(self, BucketUnit::Minute | BucketUnit::Hour)
    }

    /// The start of the UTC bucket holding `t`. The week holding
    /// 0000-01-01 (a Saturday) began in year -1, which no timestamp can
    /// show: its bucket starts at [`Timestamp::MIN`] instead (see the
    /// module docs).
    pub fn floor(self, t: Timestamp) -> Timestamp {
        self.floor_in(t, &Zone::utc())
    }

    /// The start of the bucket holding `t` in `zone`: the instant where
    /// the local unit holding `t` begins. Across a daylight-saving change
    /// a day is 23 or 25 hours long, and the two repeated local hours of a
    /// fall-back are two hour buckets; where the local start of a unit was
    /// skipped (the clock went forward over it), the bucket starts at the
    /// change. Starts before [`Timestamp::MIN`] show as it.
    ///
    /// ```
    /// use bamdb::model::Timestamp;
    /// use bamdb::query::{BucketUnit, Zone};
    ///
    /// let paris = Zone::parse("Europe/Paris")?;
    /// let t: Timestamp = "2026-03-29T12:00:00Z".parse().unwrap();
    /// // The day the clocks went forward began at 00:00+01:00.
    /// let day = BucketUnit::Day.floor_in(t, &paris);
    /// assert_eq!(day.to_string(), "2026-03-28T23:00:00.000000Z");
    /// let month = BucketUnit::Month.floor_in(t, &paris);
    /// assert_eq!(month.to_string(), "2026-02-28T23:00:00.000000Z");
    /// # Ok::<(), bamdb::query::QueryError>(())
    /// ```
    pub fn floor_in(self, t: Timestamp, zone: &Zone) -> Timestamp {
        clamp_start(self.start(t.as_micros(), zone), t)
    }

    /// The start of the bucket holding `t` (µs) in `zone`, which may lie
    /// before [`Timestamp::MIN`]; [`clamp_start`] makes it a cell.
    pub(crate) fn start(self, t: i64, zone: &Zone) -> i64 {
        if let (Some(offset), Some((width, origin))) = (zone.fixed_offset(), self.grid()) {
            return grid_start(t, offset, width, origin);
        }
        let offset = zone.offset_at(t);
        let label = self.label(t.saturating_add(offset));
        match self.pick(zone.starts(label), t) {
            Some(start) => start,
            None => label.saturating_sub(offset),
        }
    }

    /// The start of the unit holding local time `local` (both µs on the
    /// local time line). Calendar units beyond the years the calendar
    /// covers (-9999 to 9999) join its first or last unit.
    fn label(self, local: i64) -> i64 {
        if let Some((width, origin)) = self.grid() {
            return grid_start(local, 0, width, origin);
        }
        let date = civil_date(local);
        let first = match self {
            BucketUnit::Month => date.first_of_month(),
            BucketUnit::Quarter => {
                let month = (date.month() - 1) / 3 * 3 + 1;
                Date::new(date.year(), month, 1).unwrap_or(date)
            }
            _ => Date::new(date.year(), 1, 1).unwrap_or(date),
        };
        local_micros(first).unwrap_or(local)
    }

    /// The label after `label` (`None` past the calendar's end).
    fn next_label(self, label: i64) -> Option<i64> {
        if let Some((width, _)) = self.grid() {
            return label.checked_add(width);
        }
        let months: Span = match self {
            BucketUnit::Month => 1.month(),
            BucketUnit::Quarter => 3.months(),
            _ => 1.year(),
        };
        local_micros(civil_date(label).checked_add(months).ok()?)
    }

    /// The bucket start among a label's starts for a time `t` in it.
    fn pick(self, starts: Starts, t: i64) -> Option<i64> {
        match starts {
            Starts::One(s) | Starts::Skipped(s) => Some(s),
            Starts::Two(_, second) if self.splits_folds() && second <= t => Some(second),
            Starts::Two(first, _) => Some(first),
            Starts::Unknown => None,
        }
    }

    /// The start of the bucket after the one holding `t` in `zone`;
    /// `None` past the last writable time.
    ///
    /// ```
    /// use bamdb::model::Timestamp;
    /// use bamdb::query::{BucketUnit, Zone};
    ///
    /// let t: Timestamp = "2026-02-10T08:00:00Z".parse().unwrap();
    /// let next = BucketUnit::Month.next_start_in(t, &Zone::utc()).unwrap();
    /// assert_eq!(next.to_string(), "2026-03-01T00:00:00.000000Z");
    /// ```
    pub fn next_start_in(self, t: Timestamp, zone: &Zone) -> Option<Timestamp> {
        let t = t.as_micros();
        let widest = match self.grid() {
            Some((width, _)) => width,
            None => 366 * MICROS_PER_DAY,
        };
        // A bucket is at most a day longer than its unit (a zone's
        // change of offset), so the next start lies within this range.
        let hi = t.checked_add(widest)?.checked_add(MICROS_PER_DAY)?;
        let starts = self.starts_between(t, hi, zone, usize::MAX)?;
        let next = starts.into_iter().find(|&s| s > t)?;
        Some(Timestamp::from_micros(next)).filter(|n| n.in_range())
    }

    /// Every bucket start from the one holding `lo` to the one holding
    /// `hi` (µs), ascending, so that the bucket of a time in between is
    /// the last start not after it (as [`Self::start`] gives); `None` when
    /// there would be more than `max`, or the zone database cannot tell.
    pub(crate) fn starts_between(
        self,
        lo: i64,
        hi: i64,
        zone: &Zone,
        max: usize,
    ) -> Option<Vec<i64>> {
        let mut out = vec![self.start(lo, zone)];
        let mut label = self.label(lo.saturating_add(zone.offset_at(lo)));
        let last = self.label(hi.saturating_add(zone.offset_at(hi)));
        while label <= last {
            match zone.starts(label) {
                Starts::One(s) | Starts::Skipped(s) => out.push(s),
                Starts::Two(first, second) => {
                    out.push(first);
                    if self.splits_folds() {
                        out.push(second);
                    }
                }
                Starts::Unknown => return None,
            }
            if out.len() > max {
                return None;
            }
            let Some(next) = self.next_label(label) else {
                break;
            };
            label = next;
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

/// The start of the grid cell holding `t` for a grid of `width` through
/// `origin` on the local line (`t + offset`), back on the UTC line.
fn grid_start(t: i64, offset: i64, width: i64, origin: i64) -> i64 {
    let (t, offset) = (i128::from(t), i128::from(offset));
    let (width, origin) = (i128::from(width), i128::from(origin));
    let start = (t + offset - origin).div_euclid(width) * width + origin - offset;
    i64::try_from(start).unwrap_or(if start < 0 { i64::MIN } else { i64::MAX })
}

/// The calendar date of local time `local` (µs), within the years the
/// calendar covers.
fn civil_date(local: i64) -> Date {
    Offset::UTC.to_datetime(clamped_instant(local)).date()
}

/// `t` (µs) as a `jiff` instant, the nearest one beyond its range.
pub(crate) fn clamped_instant(t: i64) -> jiff::Timestamp {
    let (min, max) = (jiff::Timestamp::MIN, jiff::Timestamp::MAX);
    if t <= min.as_microsecond() {
        min
    } else if t >= max.as_microsecond() {
        max
    } else {
        jiff::Timestamp::from_microsecond(t).unwrap_or(max)
    }
}

/// Local midnight starting `date`, in µs on the local time line.
fn local_micros(date: Date) -> Option<i64> {
    let at = Offset::UTC.to_timestamp(date.to_datetime(Time::midnight()));
    at.ok().map(jiff::Timestamp::as_microsecond)
}

/// A bucket start as shown: not before [`Timestamp::MIN`] when the time in
/// the bucket (`inside`) is in range, so every accepted timestamp has a
/// bucket that can be written.
pub(crate) fn clamp_start(start: i64, inside: Timestamp) -> Timestamp {
    if inside.in_range() {
        Timestamp::from_micros(start.max(Timestamp::MIN.as_micros()))
    } else {
        Timestamp::from_micros(start)
    }
}

/// A bucket's key cell: its start (clamped as [`clamp_start`]), shown in
/// UTC as a timestamp, or in another zone with the zone's offset there.
pub(crate) fn bucket_cell(start: i64, inside: Timestamp, zone: &Zone) -> Cell {
    let at = clamp_start(start, inside);
    if zone.is_utc() {
        Cell::Timestamp(at)
    } else {
        Cell::ZonedTimestamp {
            at,
            offset_seconds: zone.offset_seconds_at(at.as_micros()),
        }
    }
}
