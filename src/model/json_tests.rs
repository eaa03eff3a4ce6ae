//! Tests of the JSON lines form: every op, bad lines, round trips.

use proptest::prelude::*;

use super::arb;
use super::*;

fn event(line: &str) -> JsonEvent {
    match parse_line(line) {
        Ok(JsonLine::Event(e)) => e,
        other => panic!("{line}: expected an event, got {other:?}"),
    }
}

fn error(line: &str) -> String {
    match parse_line(line) {
        Err(ModelError::InvalidInput { reason }) => reason,
        other => panic!("{line}: expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn every_op_parses() {
    let ts = Timestamp::parse_rfc3339("2026-11-22T10:00:00Z").unwrap();
    let e = event(
        r#"{"op":"begin","activity":"PurchaseOrder","id":"PO-1","ts":"2026-11-22T10:00:00Z"}"#,
    );
    assert_eq!(
        (e.ts, e.activity.as_str(), e.id.as_str(), &e.kind),
        (Some(ts), "PurchaseOrder", "PO-1", &EventKind::Begin)
    );
    let e = event(
        r#"{"op":"update","activity":"PurchaseOrder","id":"PO-1","data":{"Customer":"Contoso","Amount":125.5,"Quantity":3,"Paid":false}}"#,
    );
    assert_eq!(e.ts, None);
    assert_eq!(
        e.kind,
        EventKind::Update(vec![
            ("Customer".into(), Value::Text("Contoso".into())),
            ("Amount".into(), Value::Float(125.5)),
            ("Quantity".into(), Value::Int(3)),
            ("Paid".into(), Value::Bool(false)),
        ])
    );
    assert_eq!(
        event(r#"{"op":"end","activity":"A","id":"1","ts":null}"#).kind,
        EventKind::End
    );
    assert_eq!(
        event(r#"{"op":"continue","activity":"PurchaseOrder","id":"PO-1","token":"SHIP-PO-1"}"#)
            .kind,
        EventKind::EnableContinuation {
            token: "SHIP-PO-1".into()
        }
    );
    assert_eq!(
        event(r#"{"op":"reference","activity":"A","id":"1","type":"DocumentUrl","name":"invoice","data":"http://x","long_data":"..."}"#).kind,
        EventKind::AddReference { ref_type: "DocumentUrl".into(), ref_name: "invoice".into(), data: "http://x".into(), long_data: Some("...".into()) }
    );
    assert_eq!(
        event(r#"{"op":"reference","activity":"A","id":"1","type":"T","name":"n","data":""}"#).kind,
        EventKind::AddReference {
            ref_type: "T".into(),
            ref_name: "n".into(),
            data: String::new(),
            long_data: None
        }
    );
    assert_eq!(
        event(r#"{"op":"relate","activity":"PurchaseOrder","id":"PO-1","related_activity":"Shipment","related_id":"SH-9"}"#).kind,
        EventKind::AddRelatedActivity { related_activity: "Shipment".into(), related_id: "SH-9".into() }
    );
    assert_eq!(
        parse_line(r#"{"op":"flush"}"#),
        Ok(JsonLine::Flush { seq: None })
    );
    assert_eq!(
        parse_line(r#"{"op":"flush","seq":18446744073709551615}"#),
        Ok(JsonLine::Flush {
            seq: Some(u64::MAX)
        })
    );
    for bad in [
        r#"{"op":"flush","seq":-1}"#,
        r#"{"op":"flush","seq":"7"}"#,
        r#"{"op":"flush","seq":1.5}"#,
        r#"{"op":"clear","seq":1}"#,
        r#"{"op":"begin","activity":"A","id":"1","seq":1}"#,
    ] {
        assert!(parse_line(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_line("{\"op\":\"clear\"}\r\n"), Ok(JsonLine::Clear));
    let now = Timestamp::from_micros(5);
    assert_eq!(
        event(r#"{"op":"end","activity":"A","id":"1"}"#)
            .into_event(now)
            .ts,
        now
    );
}

#[test]
fn bad_lines_give_a_clear_error() {
    assert_eq!(error(r#"{"op":"start","activity":"A","id":"1"}"#), "unknown op \"start\", expected one of begin, update, end, continue, reference, relate, flush, clear");
    assert!(
        error(r#"{"op":"begin","activity":"A","id":"1","colour":"red"}"#)
            .contains("unknown field `colour`")
    );
    assert_eq!(
        error(r#"{"op":"begin","id":"1"}"#),
        "op begin needs the field activity"
    );
    assert_eq!(
        error(r#"{"op":"begin","activity":"A"}"#),
        "op begin needs the field id"
    );
    assert!(error(r#"{"activity":"A","id":"1"}"#).contains("missing field `op`"));
    assert_eq!(
        error(r#"{"op":"update","activity":"A","id":"1"}"#),
        "op update needs the field data"
    );
    assert_eq!(
        error(r#"{"op":"update","activity":"A","id":"1","data":"x"}"#),
        "data of op update must be an object of item values"
    );
    assert_eq!(
        error(r#"{"op":"reference","activity":"A","id":"1","type":"T","name":"n","data":{}}"#),
        "data of op reference must be a string"
    );
    assert_eq!(
        error(r#"{"op":"reference","activity":"A","id":"1","name":"n","data":""}"#),
        "op reference needs the field type"
    );
    assert_eq!(
        error(r#"{"op":"continue","activity":"A","id":"1"}"#),
        "op continue needs the field token"
    );
    assert_eq!(
        error(r#"{"op":"relate","activity":"A","id":"1","related_id":"2"}"#),
        "op relate needs the field related_activity"
    );
    assert_eq!(
        error(r#"{"op":"begin","activity":"A","id":"1","token":"T"}"#),
        "field token does not belong to op begin"
    );
    assert_eq!(
        error(r#"{"op":"flush","activity":"A"}"#),
        "field activity does not belong to op flush"
    );
    assert!(error(r#"{"op":"begin","activity":"A","id":"1","id":"2"}"#)
        .contains("duplicate field `id`"));
    assert!(
        error(r#"{"op":"update","activity":"A","id":"1","data":{"X":1,"X":2}}"#)
            .contains("item X appears twice in data")
    );
    // A duplicate is found whether it comes among the first items (a scan)
    // or after many (a set): before, at and after the switch.
    for dup_at in [3, 16, 17, 40] {
        let items: Vec<String> = (0..dup_at)
            .map(|i| format!("\"I{i}\":{i}"))
            .chain(std::iter::once(format!("\"I{}\":0", dup_at / 2)))
            .collect();
        let line = format!(
            r#"{{"op":"update","activity":"A","id":"1","data":{{{}}}}}"#,
            items.join(",")
        );
        let dup = format!("item I{} appears twice in data", dup_at / 2);
        assert!(error(&line).contains(&dup), "{dup_at}: {}", error(&line));
    }
    assert!(
        error(r#"{"op":"update","activity":"A","id":"1","data":{"X":null}}"#)
            .contains("bad JSON line")
    );
    assert!(
        error(r#"{"op":"update","activity":"A","id":"1","data":{"X":[1]}}"#)
            .contains("bad JSON line")
    );
    assert!(
        error(r#"{"op":"update","activity":"A","id":"1","data":{"X":1e999}}"#)
            .contains("bad JSON line")
    );
    assert!(
        error(r#"{"op":"begin","activity":"A","id":"1","ts":"yesterday"}"#)
            .contains("is not an RFC 3339 timestamp")
    );
    assert_eq!(
        error(&format!(
            r#"{{"op":"begin","activity":"A","id":"{}"}}"#,
            "x".repeat(200)
        )),
        "id is 200 characters, the limit is 128"
    );
    assert_eq!(
        error(r#"{"op":"begin","activity":"","id":"1"}"#),
        "activity is empty"
    );
    assert!(error("not json").starts_with("bad JSON line"));
    assert!(error("").starts_with("bad JSON line"));
    assert!(error(r#"{"op":"flush"} {"op":"flush"}"#).starts_with("bad JSON line"));
    assert!(error("[1,2]").starts_with("bad JSON line"));
}

#[test]
fn long_lines_are_refused_before_parsing() {
    let limits = Limits {
        max_json_line_bytes: 100,
        ..Limits::default()
    };
    let line = format!(
        r#"{{"op":"reference","activity":"A","id":"1","type":"T","name":"n","data":"{}"}}"#,
        "d".repeat(100)
    );
    assert_eq!(
        parse_line_with(&line, &limits),
        Err(ModelError::InvalidInput {
            reason: format!("line is {} bytes, the limit is 100", line.len())
        })
    );
    // Not even valid JSON: the length check comes first.
    let junk = "{".repeat(Limits::default().max_json_line_bytes + 1);
    assert!(error(&junk).starts_with("line is 2162689 bytes, the limit is 2162688"));
}

#[test]
fn printed_form_matches_the_documented_shape() {
    let e = event(
        r#"{"op":"update","activity":"PurchaseOrder","id":"PO-1","ts":"2026-11-22T10:00:00Z","data":{"Customer":"Contoso","Amount":125.5}}"#,
    );
    let json = event_to_json(&e.into_event(Timestamp::EPOCH));
    assert_eq!(
        json.to_string(),
        r#"{"op":"update","activity":"PurchaseOrder","id":"PO-1","ts":"2026-11-22T10:00:00.000000Z","data":{"Customer":"Contoso","Amount":125.5}}"#
    );
}

proptest! {
    #[test]
    fn print_then_parse_round_trips(e in arb::event()) {
        let line = event_to_json(&e).to_string();
        let JsonLine::Event(back) = parse_line(&line).unwrap() else { panic!("{line}") };
        let mut expected = e.clone();
        // Timestamp values print as RFC 3339 strings and read back as text.
        if let EventKind::Update(items) = &mut expected.kind {
            for (_, v) in items.iter_mut() {
                if let Value::Timestamp(t) = v {
                    *v = Value::Text(t.to_string());
                }
            }
        }
        prop_assert_eq!(back.into_event(Timestamp::EPOCH), expected);
    }
}
