//! [`Timestamp`]: a point in time as UTC microseconds since the Unix epoch.
//!
//! Text form is RFC 3339 (hand-rolled here, no time crate): output is always
//! UTC with exactly six fraction digits, `2026-11-22T10:00:00.000123Z`. Input
//! accepts any RFC 3339 date-time: `T`, `t` or a space between date and time,
//! an optional fraction of any length (digits past the sixth are truncated,
//! that is rounded towards the past), and `Z`, `z` or a `+hh:mm`/`-hh:mm`
//! offset, which is converted to UTC. Leap seconds (`:60`) are refused: the
//! store counts POSIX time, which has no leap seconds.
//!
//! Only years 0000 to 9999 can be written in RFC 3339, so that is the
//! supported range ([`Timestamp::MIN`]..=[`Timestamp::MAX`]); event
//! validation refuses timestamps outside it.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;
const MICROS_PER_DAY: i64 = SECONDS_PER_DAY * MICROS_PER_SECOND;

/// A point in time: UTC microseconds since 1970-01-01T00:00:00Z.
///
/// Serialized (serde) as an RFC 3339 string with microsecond precision.
///
/// ```
/// use bamdb::model::Timestamp;
///
/// let ts: Timestamp = "2026-11-22T11:00:00.000123+01:00".parse()?;
/// assert_eq!(ts.to_string(), "2026-11-22T10:00:00.000123Z");
/// assert_eq!(Timestamp::from_micros(ts.as_micros()), ts);
/// # Ok::<(), bamdb::model::ModelError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// 0000-01-01T00:00:00.000000Z, the earliest time RFC 3339 can write.
    pub const MIN: Timestamp = Timestamp(-62_167_219_200 * MICROS_PER_SECOND);
    /// 9999-12-31T23:59:59.999999Z, the latest time RFC 3339 can write.
    pub const MAX: Timestamp = Timestamp(253_402_300_800 * MICROS_PER_SECOND - 1);
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// Wraps microseconds since the Unix epoch. Any `i64` is accepted; use
    /// [`Timestamp::in_range`] to check it can be written as RFC 3339.
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The current time from the system clock (clamped into the supported
    /// range should the clock be absurd).
    pub fn now() -> Self {
        let micros = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(Self::MAX.0),
            Err(e) => i64::try_from(e.duration().as_micros())
                .map(|m| -m)
                .unwrap_or(Self::MIN.0),
        };
        Timestamp(micros.clamp(Self::MIN.0, Self::MAX.0))
    }

    /// Whether this time lies in years 0000..=9999, so RFC 3339 can write it.
    pub const fn in_range(self) -> bool {
        self.0 >= Self::MIN.0 && self.0 <= Self::MAX.0
    }

    /// Parses an RFC 3339 date-time (any offset) into UTC microseconds.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        parse(text.as_bytes()).ok_or_else(|| TimestampError {
            input: shorten(text),
        })
    }

    /// Formats as RFC 3339 in UTC with six fraction digits, or `None` when
    /// the time is outside years 0000..=9999.
    pub fn to_rfc3339(self) -> Option<String> {
        if !self.in_range() {
            return None;
        }
        let days = self.0.div_euclid(MICROS_PER_DAY);
        let in_day = self.0.rem_euclid(MICROS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let secs = in_day / MICROS_PER_SECOND;
        let micros = in_day % MICROS_PER_SECOND;
        Some(format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ))
    }
}

/// The text was not an RFC 3339 date-time in years 0000..=9999.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an RFC 3339 timestamp in years 0000..=9999 (like 2026-11-22T10:00:00Z)")]
pub struct TimestampError {
    input: String,
}

/// Keeps error messages short when the input was huge.
fn shorten(text: &str) -> String {
    text.chars().take(64).collect()
}

impl fmt::Display for Timestamp {
    /// RFC 3339 when in range, otherwise `@<micros>us` so that nothing panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_rfc3339() {
            Some(s) => f.write_str(&s),
            None => write!(f, "@{}us", self.0),
        }
    }
}

impl FromStr for Timestamp {
    type Err = crate::model::ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse_rfc3339(s).map_err(|e| crate::model::ModelError::InvalidInput {
            reason: e.to_string(),
        })
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.to_rfc3339() {
            Some(text) => s.serialize_str(&text),
            None => Err(serde::ser::Error::custom(format!(
                "timestamp {}us is outside years 0000..=9999",
                self.0
            ))),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse_rfc3339(v).map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`). Exact for every year an `i64` day count can hold.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month 1..=12, day 1..=31).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A cursor over ASCII bytes; every read is bounds-checked.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, expected: &[u8]) -> Option<u8> {
        let b = self.peek().filter(|b| expected.contains(b))?;
        self.pos += 1;
        Some(b)
    }

    fn digits(&mut self, n: usize) -> Option<i64> {
        let mut v = 0i64;
        for _ in 0..n {
            let b = self.peek().filter(u8::is_ascii_digit)?;
            v = v * 10 + i64::from(b - b'0');
            self.pos += 1;
        }
        Some(v)
    }
}

/// `date-time = full-date ("T"/"t"/" ") partial-time time-offset`.
fn parse(bytes: &[u8]) -> Option<Timestamp> {
    let mut c = Cursor { bytes, pos: 0 };
    let year = c.digits(4)?;
    c.eat(b"-")?;
    let month = c.digits(2)?;
    c.eat(b"-")?;
    let day = c.digits(2)?;
    c.eat(b"Tt ")?;
    let hour = c.digits(2)?;
    c.eat(b":")?;
    let minute = c.digits(2)?;
    c.eat(b":")?;
    let second = c.digits(2)?;
    let mut micros = 0i64;
    if c.eat(b".").is_some() {
        let mut count = 0;
        while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
            if count < 6 {
                micros = micros * 10 + i64::from(b - b'0');
            }
            count += 1;
            c.pos += 1;
        }
        if count == 0 {
            return None;
        }
        for _ in count..6 {
            micros *= 10;
        }
    }
    let offset_minutes = match c.eat(b"Zz+-")? {
        b'Z' | b'z' => 0,
        sign => {
            let h = c.digits(2)?;
            c.eat(b":")?;
            let m = c.digits(2)?;
            if h > 23 || m > 59 {
                return None;
            }
            if sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
    };
    if c.pos != bytes.len() {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let local_secs =
        days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    let utc_secs = local_secs - offset_minutes * 60;
    let ts = Timestamp(utc_secs * MICROS_PER_SECOND + micros);
    ts.in_range().then_some(ts)
}

#[cfg(test)]
#[path = "timestamp_tests.rs"]
mod tests;
