use super::*;

fn now() -> Timestamp {
    Timestamp::from_micros(1_000_000)
}

#[test]
fn json_lines_name_every_bad_line_and_refuse_flush() {
    let body = b"{\"op\":\"begin\",\"activity\":\"A\",\"id\":\"1\"}\n\nnot json\r\n{\"op\":\"flush\"}\n\xff\n";
    let refusal = json_lines(body, &Limits::default(), now())
        .err()
        .expect("refused");
    assert_eq!(refusal.status, 400);
    let lines: Vec<u64> = refusal
        .errors
        .iter()
        .map(|e| e["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [3, 4, 5]);
    let ok = json_lines(
        b"\xEF\xBB\xBF{\"op\":\"begin\",\"activity\":\"A\",\"id\":\"1\"}\r\n",
        &Limits::default(),
        now(),
    )
    .ok()
    .expect("parsed");
    assert_eq!(ok.events.len(), 1);
    assert_eq!(ok.events[0].ts, now());
}

#[test]
fn cloud_events_map_type_data_and_time() {
    let body = br#"[
      {"specversion":"1.0","id":"e1","source":"/erp","type":"bamdb.update","time":"2026-11-22T10:00:00Z",
       "data":{"activity":"PurchaseOrder","id":"PO-1","data":{"Amount":5}}},
      {"specversion":"1.0","id":"e2","source":"/erp","type":"com.example.other","data":{}},
      {"specversion":"0.3","id":"e3","source":"/erp","type":"bamdb.end","data":{"activity":"A","id":"1"}}
    ]"#;
    let refusal = cloud_events(body, true, &Limits::default(), now())
        .err()
        .expect("refused");
    let events: Vec<u64> = refusal
        .errors
        .iter()
        .map(|e| e["event"].as_u64().expect("event"))
        .collect();
    assert_eq!(events, [2, 3]);
    let one = br#"{"specversion":"1.0","id":"e1","source":"/erp","type":"bamdb.update","time":"2026-11-22T10:00:00Z","data":{"activity":"PurchaseOrder","id":"PO-1","data":{"Amount":5}}}"#;
    let parsed = cloud_events(one, false, &Limits::default(), now())
        .ok()
        .expect("parsed");
    let ev = &parsed.events[0];
    assert_eq!(ev.activity, "PurchaseOrder");
    assert_eq!(
        ev.ts,
        Timestamp::parse_rfc3339("2026-11-22T10:00:00Z").expect("ts")
    );
    assert!(cloud_events(b"{}", true, &Limits::default(), now()).is_err());
}

#[test]
fn definition_reasons_are_located_to_their_line() {
    let origins = vec![Origin::Line(2), Origin::Line(5)];
    let v = located(
        &origins,
        "event 1 (begin X/1): activity X is not deployed".into(),
    );
    assert_eq!(v["line"], 5);
    assert!(v["reason"]
        .as_str()
        .expect("reason")
        .contains("not deployed"));
    let v = located(&origins, "something else".into());
    assert!(v.get("line").is_none());
}

#[test]
fn content_types_choose_the_framing() {
    assert!(matches!(framing(None), Ok(Framing::JsonLines)));
    assert!(matches!(
        framing(Some("application/cloudevents-batch+json; charset=utf-8")),
        Ok(Framing::CloudEventsBatch)
    ));
    assert!(matches!(framing(Some("application/xml")), Err(r) if r.status == 415));
}
