//! Tests of values (JSON mapping) and coercion to item types.

use super::*;

#[test]
fn json_values_map_per_the_table() {
    let v = |s: &str| serde_json::from_str::<Value>(s);
    assert_eq!(v("\"x\"").unwrap(), Value::Text("x".into()));
    assert_eq!(
        v("\"2026-11-22T10:00:00Z\"").unwrap(),
        Value::Text("2026-11-22T10:00:00Z".into())
    );
    assert_eq!(v("-3").unwrap(), Value::Int(-3));
    assert_eq!(v("9223372036854775807").unwrap(), Value::Int(i64::MAX));
    assert!(v("9223372036854775808")
        .unwrap_err()
        .to_string()
        .contains("out of range"));
    assert_eq!(v("3.0").unwrap(), Value::Float(3.0));
    assert_eq!(v("1e3").unwrap(), Value::Float(1000.0));
    assert_eq!(v("true").unwrap(), Value::Bool(true));
    assert!(v("null").is_err());
    assert!(v("[1]").is_err());
    assert!(v("{}").is_err());
    let j = |s: &str| Value::from_json(&serde_json::from_str(s).unwrap());
    assert_eq!(j("7"), Ok(Value::Int(7)));
    assert_eq!(j("7.5"), Ok(Value::Float(7.5)));
    assert!(j("18446744073709551615").is_err());
    assert!(j("null").is_err());
    let ts = Timestamp::from_micros(1);
    assert_eq!(
        Value::Timestamp(ts).to_json(),
        serde_json::json!("1970-01-01T00:00:00.000001Z")
    );
    assert_eq!(
        serde_json::to_string(&Value::Float(125.5)).unwrap(),
        "125.5"
    );
}

#[test]
fn coercion_table() {
    use ItemType as T;
    let text = |s: &str| Value::Text(s.into());
    let t64 = T::Text { max_len: 4 };
    let ok = |v: Value, t: T, want: Value| assert_eq!(coerce(&v, &t), Ok(want), "{v:?} -> {t:?}");
    let no = |v: Value, t: T| assert!(coerce(&v, &t).is_err(), "{v:?} -> {t:?} should fail");
    let ts = Timestamp::parse_rfc3339("2026-11-22T10:00:00Z").unwrap();

    ok(text("abcd"), t64, text("abcd"));
    ok(text("ääää"), t64, text("ääää"));
    assert_eq!(
        coerce(&text("abcde"), &t64),
        Err(CoerceError::TextTooLong { len: 5, max_len: 4 })
    );
    ok(
        text("2026-11-22T11:00:00+01:00"),
        T::Timestamp,
        Value::Timestamp(ts),
    );
    assert!(coerce(&text("yesterday"), &T::Timestamp)
        .unwrap_err()
        .to_string()
        .contains("is not an RFC 3339 timestamp"));
    no(text("1"), T::Int);
    no(text("1.0"), T::Float);
    no(text("true"), T::Bool);

    ok(Value::Int(5), T::Int, Value::Int(5));
    ok(Value::Int(5), T::Float, Value::Float(5.0));
    ok(
        Value::Int(1 << 53),
        T::Float,
        Value::Float(9_007_199_254_740_992.0),
    );
    assert_eq!(
        coerce(&Value::Int((1 << 53) + 1), &T::Float),
        Err(CoerceError::InexactFloat((1 << 53) + 1))
    );
    no(Value::Int(5), T::Timestamp);
    no(Value::Int(5), t64);
    no(Value::Int(1), T::Bool);

    ok(Value::Float(2.5), T::Float, Value::Float(2.5));
    no(Value::Float(2.0), T::Int);
    no(Value::Float(2.0), t64);

    ok(Value::Bool(true), T::Bool, Value::Bool(true));
    no(Value::Bool(true), T::Int);
    no(Value::Bool(true), t64);

    ok(Value::Timestamp(ts), T::Timestamp, Value::Timestamp(ts));
    no(Value::Timestamp(ts), t64);
    no(Value::Timestamp(ts), T::Int);
    assert_eq!(
        coerce(&Value::Float(1.0), &T::Int).unwrap_err().to_string(),
        "a float value cannot be stored in an item of type int"
    );
}
