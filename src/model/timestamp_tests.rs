//! Unit tests for the RFC 3339 parser and formatter.

use super::*;

fn p(s: &str) -> Option<i64> {
    Timestamp::parse_rfc3339(s).ok().map(Timestamp::as_micros)
}

#[test]
fn parses_and_formats_known_instants() {
    assert_eq!(p("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(p("1970-01-01T00:00:00.000001Z"), Some(1));
    assert_eq!(p("1969-12-31T23:59:59.999999Z"), Some(-1));
    assert_eq!(p("2000-03-01T00:00:00Z"), Some(951_868_800_000_000));
    assert_eq!(p("2026-11-22T10:00:00Z"), Some(1_795_341_600_000_000));
    let ts = Timestamp::from_micros(1_795_341_600_000_123);
    assert_eq!(ts.to_string(), "2026-11-22T10:00:00.000123Z");
    assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00.000000Z");
    assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59.999999Z");
    assert_eq!(
        Timestamp::from_micros(-1).to_string(),
        "1969-12-31T23:59:59.999999Z"
    );
}

#[test]
fn offsets_convert_to_utc() {
    let utc = p("2026-11-22T10:00:00Z");
    assert_eq!(p("2026-11-22T11:30:00+01:30"), utc);
    assert_eq!(p("2026-11-22T05:00:00-05:00"), utc);
    assert_eq!(p("2026-11-22t10:00:00z"), utc);
    assert_eq!(p("2026-11-22 10:00:00+00:00"), utc);
    assert_eq!(p("2026-11-22T10:00:00-00:00"), utc);
    assert_eq!(p("2026-11-23T09:59:00+23:59"), utc);
    assert_eq!(p("2026-11-21T10:01:00-23:59"), utc);
}

#[test]
fn fractions_of_any_length() {
    assert_eq!(p("1970-01-01T00:00:00.5Z"), Some(500_000));
    assert_eq!(p("1970-01-01T00:00:00.123456789Z"), Some(123_456));
    assert_eq!(p("1969-12-31T23:59:59.9999999Z"), Some(-1));
}

#[test]
fn rejects_malformed_and_impossible() {
    for bad in [
        "",
        "2026-11-22",
        "2026-11-22T10:00Z",
        "2026-11-22T10:00:00",
        "2026-11-22T10:00:00.Z",
        "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-22T24:00:00Z",
        "2026-11-22T10:60:00Z",
        "2026-11-22T10:00:60Z",
        "2026-11-22T10:00:00+24:00",
        "2026-11-22T10:00:00+01",
        "2026-11-22T10:00:00Zjunk",
        "+2026-11-22T10:00:00Z",
        "0000-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59-00:01",
        "２０２６-11-22T10:00:00Z",
    ] {
        assert_eq!(p(bad), None, "{bad:?} should be refused");
    }
    assert!(p("2024-02-29T00:00:00Z").is_some());
    assert!(p("2000-02-29T00:00:00Z").is_some());
    assert_eq!(p("1900-02-29T00:00:00Z"), None);
}

#[test]
fn out_of_range_does_not_format() {
    assert_eq!(Timestamp::from_micros(i64::MAX).to_rfc3339(), None);
    assert_eq!(
        Timestamp::from_micros(i64::MIN).to_string(),
        format!("@{}us", i64::MIN)
    );
    assert!(serde_json::to_string(&Timestamp::from_micros(i64::MAX)).is_err());
}

#[test]
fn serde_round_trip() {
    let ts = Timestamp::from_micros(1_795_341_600_000_123);
    let json = serde_json::to_string(&ts).unwrap();
    assert_eq!(json, "\"2026-11-22T10:00:00.000123Z\"");
    assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), ts);
    assert!(serde_json::from_str::<Timestamp>("12").is_err());
}

#[test]
fn now_is_in_range_and_after_2025() {
    let now = Timestamp::now();
    assert!(now.in_range());
    assert!(now > Timestamp::parse_rfc3339("2025-01-01T00:00:00Z").unwrap());
}

proptest::proptest! {
    #[test]
    fn format_then_parse_is_identity(micros in Timestamp::MIN.0..=Timestamp::MAX.0) {
        let ts = Timestamp(micros);
        let text = ts.to_rfc3339().unwrap();
        proptest::prop_assert_eq!(Timestamp::parse_rfc3339(&text).unwrap(), ts);
    }

    #[test]
    fn civil_round_trip(days in -800_000i64..3_000_000) {
        let (y, m, d) = civil_from_days(days);
        proptest::prop_assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
        proptest::prop_assert_eq!(days_from_civil(y, m, d), days);
    }
}
