//! Tests of [`BucketUnit`] in UTC, at fixed offsets and in zones with
//! daylight saving (Europe/Paris, America/New_York): calendar units and
//! their edges, both changes of the clock, the limits of the supported
//! range, the printed form of zoned buckets, and that the column path's
//! bucket starts ([`BucketUnit::starts_between`]) put every time in the
//! bucket [`BucketUnit::floor_in`] gives.

use proptest::prelude::*;

use super::test_util::ts;
use super::{BucketUnit, Cell, Zone};
use crate::model::Timestamp;

const UNITS: [BucketUnit; 7] = [
    BucketUnit::Minute,
    BucketUnit::Hour,
    BucketUnit::Day,
    BucketUnit::Week,
    BucketUnit::Month,
    BucketUnit::Quarter,
    BucketUnit::Year,
];

fn zone(name: &str) -> Zone {
    Zone::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The bucket start of `t` in `z`, as RFC 3339 in UTC.
fn floor(unit: BucketUnit, t: &str, z: &str) -> String {
    unit.floor_in(ts(t), &zone(z)).to_string()
}

/// The bucket's key cell as printed.
fn label(unit: BucketUnit, t: &str, z: &str) -> String {
    let z = zone(z);
    let t = ts(t);
    super::bucket::bucket_cell(unit.start(t.as_micros(), &z), t, &z).to_string()
}

#[test]
fn calendar_units_in_utc() {
    let t = "2026-08-17T13:47:12.5Z";
    assert_eq!(
        floor(BucketUnit::Month, t, "UTC"),
        "2026-08-01T00:00:00.000000Z"
    );
    assert_eq!(
        floor(BucketUnit::Quarter, t, "UTC"),
        "2026-07-01T00:00:00.000000Z"
    );
    assert_eq!(
        floor(BucketUnit::Year, t, "UTC"),
        "2026-01-01T00:00:00.000000Z"
    );
    // Edges: the first and last microsecond of a month, a quarter, a year.
    let cases = [
        (
            BucketUnit::Month,
            "2026-03-01T00:00:00Z",
            "2026-03-01T00:00:00.000000Z",
        ),
        (
            BucketUnit::Month,
            "2026-02-28T23:59:59.999999Z",
            "2026-02-01T00:00:00.000000Z",
        ),
        (
            BucketUnit::Month,
            "2028-02-29T12:00:00Z",
            "2028-02-01T00:00:00.000000Z",
        ),
        (
            BucketUnit::Quarter,
            "2026-03-31T23:59:59.999999Z",
            "2026-01-01T00:00:00.000000Z",
        ),
        (
            BucketUnit::Quarter,
            "2026-04-01T00:00:00Z",
            "2026-04-01T00:00:00.000000Z",
        ),
        (
            BucketUnit::Quarter,
            "2026-12-31T23:59:59Z",
            "2026-10-01T00:00:00.000000Z",
        ),
        (
            BucketUnit::Year,
            "2026-12-31T23:59:59.999999Z",
            "2026-01-01T00:00:00.000000Z",
        ),
        (
            BucketUnit::Year,
            "2027-01-01T00:00:00Z",
            "2027-01-01T00:00:00.000000Z",
        ),
        (
            BucketUnit::Year,
            "1969-12-31T23:59:59Z",
            "1969-01-01T00:00:00.000000Z",
        ),
    ];
    for (unit, t, want) in cases {
        assert_eq!(floor(unit, t, "UTC"), want, "{unit:?} {t}");
    }
    // UTC buckets print as before: timestamps with Z.
    assert_eq!(
        label(BucketUnit::Month, t, "UTC"),
        "2026-08-01T00:00:00.000000Z"
    );
    assert!(matches!(
        super::bucket::bucket_cell(0, Timestamp::EPOCH, &Zone::utc()),
        Cell::Timestamp(_)
    ));
}

#[test]
fn every_unit_at_the_limits_of_the_range() {
    for z in [
        "UTC",
        "+14:00",
        "-12:00",
        "Europe/Paris",
        "Pacific/Kiritimati",
    ] {
        for unit in UNITS {
            for t in [Timestamp::MIN, Timestamp::MAX] {
                let start = unit.floor_in(t, &zone(z));
                assert!(start <= t, "{unit:?} {z} {t}: {start}");
                assert!(start.in_range(), "{unit:?} {z} {t}: {start}");
            }
            // Out of range: nothing panics.
            let _ = unit.floor_in(Timestamp::from_micros(i64::MIN), &zone(z));
            let _ = unit.floor_in(Timestamp::from_micros(i64::MAX), &zone(z));
        }
    }
    assert_eq!(BucketUnit::Year.floor(Timestamp::MIN), Timestamp::MIN);
    assert_eq!(
        floor(BucketUnit::Quarter, "9999-12-31T23:59:59.999999Z", "UTC"),
        "9999-10-01T00:00:00.000000Z"
    );
    assert_eq!(
        BucketUnit::Day.next_start_in(Timestamp::MAX, &Zone::utc()),
        None
    );
}

#[test]
fn fixed_offsets_shift_every_unit() {
    let t = "2026-01-01T02:00:00Z"; // 07:30 on Jan 1 at +05:30, 18:00 Dec 31 at -08:00
    assert_eq!(
        floor(BucketUnit::Day, t, "+05:30"),
        "2025-12-31T18:30:00.000000Z"
    );
    assert_eq!(
        label(BucketUnit::Day, t, "+05:30"),
        "2026-01-01T00:00:00.000000+05:30"
    );
    assert_eq!(
        label(BucketUnit::Hour, t, "+05:30"),
        "2026-01-01T07:00:00.000000+05:30"
    );
    assert_eq!(
        label(BucketUnit::Day, t, "-08:00"),
        "2025-12-31T00:00:00.000000-08:00"
    );
    assert_eq!(
        label(BucketUnit::Year, t, "-08:00"),
        "2025-01-01T00:00:00.000000-08:00"
    );
    assert_eq!(
        label(BucketUnit::Year, t, "+05:30"),
        "2026-01-01T00:00:00.000000+05:30"
    );
    // 2026-01-01 is a Thursday: its ISO week began Monday 2025-12-29.
    assert_eq!(
        label(BucketUnit::Week, t, "+05:30"),
        "2025-12-29T00:00:00.000000+05:30"
    );
    assert_eq!(
        label(BucketUnit::Quarter, t, "-08:00"),
        "2025-10-01T00:00:00.000000-08:00"
    );
    // +00:00 and Z are UTC.
    assert_eq!(
        label(BucketUnit::Day, t, "+00:00"),
        "2026-01-01T00:00:00.000000Z"
    );
    assert_eq!(Zone::parse("z").unwrap(), Zone::utc());
}

#[test]
fn bad_zones_are_refused_clearly() {
    for bad in [
        "Mars/Olympus",
        "+5:30",
        "+24:00",
        "+05:60",
        "",
        "05:30",
        "+05:30:00",
    ] {
        let msg = Zone::parse(bad).unwrap_err().to_string();
        assert!(msg.contains("invalid time zone"), "{bad}: {msg}");
    }
    assert_eq!(zone("europe/paris").name(), "Europe/Paris");
    assert_eq!(zone("-08").name(), "-08:00");
}

#[test]
fn days_across_daylight_saving_in_paris_are_23_and_25_hours() {
    // 2026-03-29: 02:00+01:00 became 03:00+02:00 (01:00Z).
    let spring = "2026-03-29T12:00:00Z";
    assert_eq!(
        label(BucketUnit::Day, spring, "Europe/Paris"),
        "2026-03-29T00:00:00.000000+01:00"
    );
    let start = BucketUnit::Day.floor_in(ts(spring), &zone("Europe/Paris"));
    let next = BucketUnit::Day
        .next_start_in(ts(spring), &zone("Europe/Paris"))
        .unwrap();
    assert_eq!(next.as_micros() - start.as_micros(), 23 * 3_600_000_000);
    assert_eq!(
        label(BucketUnit::Day, "2026-03-29T22:00:00Z", "Europe/Paris"),
        "2026-03-30T00:00:00.000000+02:00"
    );
    // 2026-10-25: 03:00+02:00 became 02:00+01:00 (01:00Z).
    let fall = "2026-10-25T12:00:00Z";
    let start = BucketUnit::Day.floor_in(ts(fall), &zone("Europe/Paris"));
    let next = BucketUnit::Day
        .next_start_in(ts(fall), &zone("Europe/Paris"))
        .unwrap();
    assert_eq!(start.to_string(), "2026-10-24T22:00:00.000000Z");
    assert_eq!(next.as_micros() - start.as_micros(), 25 * 3_600_000_000);
    // Months and weeks start at local midnight whatever the offset.
    assert_eq!(
        label(BucketUnit::Month, spring, "Europe/Paris"),
        "2026-03-01T00:00:00.000000+01:00"
    );
    assert_eq!(
        label(BucketUnit::Month, "2026-04-15T00:00:00Z", "Europe/Paris"),
        "2026-04-01T00:00:00.000000+02:00"
    );
    assert_eq!(
        label(BucketUnit::Week, fall, "Europe/Paris"),
        "2026-10-19T00:00:00.000000+02:00"
    );
    assert_eq!(
        label(BucketUnit::Year, "2025-12-31T23:30:00Z", "Europe/Paris"),
        "2026-01-01T00:00:00.000000+01:00"
    );
}

#[test]
fn hours_across_daylight_saving_in_paris() {
    let paris = "Europe/Paris";
    // Spring: 01:59+01:00, then 03:00+02:00: no 02:00 hour.
    assert_eq!(
        label(BucketUnit::Hour, "2026-03-29T00:59:59Z", paris),
        "2026-03-29T01:00:00.000000+01:00"
    );
    assert_eq!(
        label(BucketUnit::Hour, "2026-03-29T01:00:00Z", paris),
        "2026-03-29T03:00:00.000000+02:00"
    );
    // Fall: 02:00 to 03:00 local twice; two distinct hour buckets.
    let first = label(BucketUnit::Hour, "2026-10-25T00:30:00Z", paris);
    let second = label(BucketUnit::Hour, "2026-10-25T01:30:00Z", paris);
    assert_eq!(first, "2026-10-25T02:00:00.000000+02:00");
    assert_eq!(second, "2026-10-25T02:00:00.000000+01:00");
    assert_eq!(
        floor(BucketUnit::Hour, "2026-10-25T00:30:00Z", paris),
        "2026-10-25T00:00:00.000000Z"
    );
    assert_eq!(
        floor(BucketUnit::Hour, "2026-10-25T01:30:00Z", paris),
        "2026-10-25T01:00:00.000000Z"
    );
    assert_eq!(
        floor(BucketUnit::Minute, "2026-10-25T01:30:30Z", paris),
        "2026-10-25T01:30:00.000000Z"
    );
    // The two cells differ and sort by instant.
    let z = zone(paris);
    let a = super::bucket::bucket_cell(
        BucketUnit::Hour.start(ts("2026-10-25T00:30:00Z").as_micros(), &z),
        ts("2026-10-25T00:30:00Z"),
        &z,
    );
    let b = super::bucket::bucket_cell(
        BucketUnit::Hour.start(ts("2026-10-25T01:30:00Z").as_micros(), &z),
        ts("2026-10-25T01:30:00Z"),
        &z,
    );
    assert_eq!(a.total_cmp(&b), std::cmp::Ordering::Less);
    assert_eq!(
        serde_json::to_string(&b).unwrap(),
        "\"2026-10-25T02:00:00.000000+01:00\""
    );
}

#[test]
fn new_york_changes_at_2am_local() {
    let ny = "America/New_York";
    // 2026-03-08 02:00-05:00 became 03:00-04:00 (07:00Z).
    assert_eq!(
        label(BucketUnit::Day, "2026-03-08T12:00:00Z", ny),
        "2026-03-08T00:00:00.000000-05:00"
    );
    assert_eq!(
        label(BucketUnit::Hour, "2026-03-08T07:00:00Z", ny),
        "2026-03-08T03:00:00.000000-04:00"
    );
    // 2026-11-01 02:00-04:00 became 01:00-05:00 (06:00Z): 01:xx twice.
    assert_eq!(
        label(BucketUnit::Hour, "2026-11-01T05:10:00Z", ny),
        "2026-11-01T01:00:00.000000-04:00"
    );
    assert_eq!(
        label(BucketUnit::Hour, "2026-11-01T06:10:00Z", ny),
        "2026-11-01T01:00:00.000000-05:00"
    );
    assert_eq!(
        label(BucketUnit::Day, "2026-11-01T06:10:00Z", ny),
        "2026-11-01T00:00:00.000000-04:00"
    );
}

fn arb_zone() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "UTC",
        "+05:30",
        "-08:00",
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe",
        "America/Santiago",
    ])
}

proptest! {
    /// The column path's starts put each time where `floor_in` does,
    /// around the changes of 2026 (and over a few years for the longer
    /// units).
    #[test]
    fn starts_between_agree_with_floor(
        z in arb_zone(),
        unit in prop::sample::select(UNITS.to_vec()),
        times in prop::collection::vec(0i64..(400 * 24 * 60), 1..40),
        seconds in 0i64..3600,
    ) {
        let zone = zone(z);
        let base = ts("2025-12-01T00:00:00Z").as_micros();
        let times: Vec<i64> = times.iter().map(|m| base + m * 60_000_000 + seconds * 1_000).collect();
        let lo = *times.iter().min().unwrap();
        let hi = *times.iter().max().unwrap();
        let starts = unit.starts_between(lo, hi, &zone, usize::MAX).unwrap();
        prop_assert!(starts.windows(2).all(|w| w[0] < w[1]));
        for &t in &times {
            let at = starts.partition_point(|&s| s <= t);
            prop_assert!(at > 0, "{} before the first start", t);
            prop_assert_eq!(starts[at - 1], unit.start(t, &zone), "{:?} {} {}", unit, z, Timestamp::from_micros(t));
        }
    }
}
