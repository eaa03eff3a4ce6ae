//! [`Zone`]: the time zone an aggregation cuts its time buckets in (UTC
//! by default), and the little the buckets ask of it: the offset at an
//! instant, and the instants where a local time begins. Zones and their
//! rules come from `jiff` with its bundled copy of the IANA time zone
//! database, so a query answers the same on every machine.

use std::fmt;

use jiff::tz::{AmbiguousOffset, Offset, TimeZone};

use super::error::QueryError;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// A time zone for time buckets: UTC, a fixed offset from UTC, or an IANA
/// zone with its daylight-saving rules.
///
/// ```
/// use bamdb::query::Zone;
///
/// assert!(Zone::parse("UTC")?.is_utc());
/// assert_eq!(Zone::parse("Europe/Paris")?.to_string(), "Europe/Paris");
/// assert_eq!(Zone::parse("+05:30")?.to_string(), "+05:30");
/// assert!(Zone::parse("+00:00")?.is_utc());
/// assert!(Zone::parse("Mars/Olympus").is_err());
/// # Ok::<(), bamdb::query::QueryError>(())
/// ```
#[derive(Clone)]
pub struct Zone {
    /// As written back: `UTC`, `+05:30`, or the IANA name.
    name: String,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    /// A fixed offset in microseconds (UTC is 0).
    Fixed(i64),
    Tz(TimeZone),
}

/// The instants where a local time (a bucket's label) begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Starts {
    /// It occurs once.
    One(i64),
    /// It occurs twice (the clock went back): the earlier, then the later.
    Two(i64, i64),
    /// It was skipped (the clock went forward); what follows it in its
    /// bucket begins at the transition, this instant.
    Skipped(i64),
    /// It lies beyond what the zone database can tell.
    Unknown,
}

impl Zone {
    /// UTC, the default.
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            kind: Kind::Fixed(0),
        }
    }

    /// Parses `UTC` (or `Z`), a fixed offset `+HH:MM` / `-HH:MM` (or
    /// `+HH`, up to ±23:59; `+00:00` is UTC), or an IANA zone name such as
    /// `Europe/Paris` or `America/New_York` (exact, as the database spells
    /// it, ASCII case ignored).
    pub fn parse(text: &str) -> Result<Zone, QueryError> {
        let text = text.trim();
        let err = |reason: &str| QueryError::ZoneSyntax {
            zone: text.chars().take(64).collect(),
            reason: reason.to_owned(),
        };
        if text.eq_ignore_ascii_case("utc") || text.eq_ignore_ascii_case("z") {
            return Ok(Zone::utc());
        }
        if let Some(sign) = text.strip_prefix(['+', '-']).map(|_| text.starts_with('-')) {
            let body = text.get(1..).unwrap_or_default();
            let (h, m) = body.split_once(':').unwrap_or((body, "00"));
            let two = |s: &str| {
                (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| s.parse::<i64>().ok())
                    .flatten()
            };
            let (Some(h), Some(m)) = (two(h), two(m)) else {
                return Err(err("a fixed offset is +HH:MM or -HH:MM, like +05:30"));
            };
            if h > 23 || m > 59 {
                return Err(err("a fixed offset is at most 23:59 from UTC"));
            }
            let secs = (h * 3600 + m * 60) * if sign { -1 } else { 1 };
            if secs == 0 {
                return Ok(Zone::utc());
            }
            let name = format!("{}{h:02}:{m:02}", if sign { '-' } else { '+' });
            return Ok(Zone {
                name,
                kind: Kind::Fixed(secs * MICROS_PER_SECOND),
            });
        }
        let tz = TimeZone::get(text).map_err(|_| {
            err("not a time zone: expected UTC, an offset like +05:30, or an IANA name like Europe/Paris")
        })?;
        Ok(Zone {
            name: tz.iana_name().unwrap_or(text).to_owned(),
            kind: Kind::Tz(tz),
        })
    }

    /// The zone as written: `UTC`, `+05:30`, `Europe/Paris`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is UTC (buckets print with `Z`, as without a zone).
    pub fn is_utc(&self) -> bool {
        matches!(self.kind, Kind::Fixed(0))
    }

    /// The offset in microseconds when it never changes.
    pub(crate) fn fixed_offset(&self) -> Option<i64> {
        match self.kind {
            Kind::Fixed(o) => Some(o),
            Kind::Tz(_) => None,
        }
    }

    /// The offset from UTC at instant `t` (µs), in microseconds. Beyond
    /// the range the database covers (years -9999 to 9999, less a day at
    /// each end), the offset at its edge.
    pub(crate) fn offset_at(&self, t: i64) -> i64 {
        match &self.kind {
            Kind::Fixed(o) => *o,
            Kind::Tz(tz) => {
                let (min, max) = (jiff::Timestamp::MIN, jiff::Timestamp::MAX);
                let at = if t <= min.as_microsecond() {
                    min
                } else if t >= max.as_microsecond() {
                    max
                } else {
                    jiff::Timestamp::from_microsecond(t).unwrap_or(max)
                };
                i64::from(tz.to_offset(at).seconds()) * MICROS_PER_SECOND
            }
        }
    }

    /// The offset at `t`, in whole seconds (for printing).
    pub(crate) fn offset_seconds_at(&self, t: i64) -> i32 {
        i32::try_from(self.offset_at(t) / MICROS_PER_SECOND).unwrap_or(0)
    }

    /// The instants where the local time `local` (µs since
    /// 1970-01-01T00:00 local) begins.
    pub(crate) fn starts(&self, local: i64) -> Starts {
        let tz = match &self.kind {
            Kind::Fixed(o) => return Starts::One(local.saturating_sub(*o)),
            Kind::Tz(tz) => tz,
        };
        let Ok(as_utc) = jiff::Timestamp::from_microsecond(local) else {
            return Starts::Unknown;
        };
        let civil = Offset::UTC.to_datetime(as_utc);
        let off = |o: Offset| local - i64::from(o.seconds()) * MICROS_PER_SECOND;
        match tz.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => Starts::One(off(offset)),
            AmbiguousOffset::Fold { before, after } => Starts::Two(off(before), off(after)),
            AmbiguousOffset::Gap { after, .. } => {
                // `local` read with the offset after the gap lies before
                // the transition; the transition is the next one.
                let before_it = jiff::Timestamp::from_microsecond(off(after));
                match before_it.ok().and_then(|t| tz.following(t).next()) {
                    Some(tr) => Starts::Skipped(tr.timestamp().as_microsecond()),
                    None => Starts::Unknown,
                }
            }
        }
    }
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::utc()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
