//! [`BucketUnit`]: the time buckets aggregations group by. A bucket is the
//! start of the UTC minute, hour, day, or ISO week (Monday 00:00 UTC)
//! holding a time; see [`BucketUnit::floor`] for the one week that cannot
//! start on its Monday.

use crate::model::Timestamp;

use super::error::QueryError;

const MICROS_PER_MINUTE: i64 = 60 * 1_000_000;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;
const MICROS_PER_WEEK: i64 = 7 * MICROS_PER_DAY;
/// 1970-01-01 was a Thursday: the ISO week holding the epoch began on
/// Monday 1969-12-29, three days earlier.
const WEEK_ORIGIN: i64 = -3 * MICROS_PER_DAY;

/// The width of a time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketUnit {
    /// A UTC minute.
    Minute,
    /// A UTC hour.
    Hour,
    /// A UTC day.
    Day,
    /// An ISO week: Monday 00:00 UTC to the next Monday.
    Week,
}

impl BucketUnit {
    /// Parses `minute`, `hour`, `day` or `week` (ignoring ASCII case).
    pub fn parse(unit: &str) -> Result<BucketUnit, QueryError> {
        match unit.trim().to_ascii_lowercase().as_str() {
            "minute" => Ok(BucketUnit::Minute),
            "hour" => Ok(BucketUnit::Hour),
            "day" => Ok(BucketUnit::Day),
            "week" => Ok(BucketUnit::Week),
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
        }
    }

    /// The width of a bucket in microseconds.
    pub(crate) fn width(self) -> i64 {
        self.width_and_origin().0
    }

    fn width_and_origin(self) -> (i64, i64) {
        match self {
            BucketUnit::Minute => (MICROS_PER_MINUTE, 0),
            BucketUnit::Hour => (MICROS_PER_HOUR, 0),
            BucketUnit::Day => (MICROS_PER_DAY, 0),
            BucketUnit::Week => (MICROS_PER_WEEK, WEEK_ORIGIN),
        }
    }

    /// The start of the bucket holding `t`. The week holding 0000-01-01
    /// (a Saturday) began in year -1, which no timestamp can show: its
    /// bucket starts at [`Timestamp::MIN`] instead (see the module docs).
    pub fn floor(self, t: Timestamp) -> Timestamp {
        clamp_start(self.grid_start(t.as_micros()), t)
    }

    /// The start of the bucket holding `t` on the unit's grid, which may
    /// lie before [`Timestamp::MIN`] (for weeks); [`clamp_start`] makes it
    /// a cell.
    pub(crate) fn grid_start(self, t: i64) -> i64 {
        let (width, origin) = self.width_and_origin();
        let (t, width, origin) = (i128::from(t), i128::from(width), i128::from(origin));
        let start = (t - origin).div_euclid(width) * width + origin;
        i64::try_from(start).unwrap_or(i64::MIN)
    }
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
