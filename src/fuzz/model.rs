//! Fuzz hooks for the event model: the batch codec and the JSON lines form.

use crate::model::{
    decode_batch, encode_batch, event_to_json, parse_line, JsonLine, Limits, Timestamp,
};

/// Decodes `data` as an event batch (it must not panic). If it decodes, the
/// re-encoded batch must decode to the same batch, and encoding is stable
/// (re-encoding that decodes to the same bytes again).
pub fn event_batch(data: &[u8]) {
    let limits = Limits::default();
    let Ok(batch) = decode_batch(data, &limits) else {
        return;
    };
    let bytes = match encode_batch(batch.producer, batch.seq, &batch.events, &limits) {
        Ok(bytes) => bytes,
        Err(e) => panic!("a decoded batch does not re-encode: {e}"),
    };
    let again = match decode_batch(&bytes, &limits) {
        Ok(again) => again,
        Err(e) => panic!("a re-encoded batch does not decode: {e}"),
    };
    assert_eq!(again, batch, "re-encoded batch decodes differently");
    let canonical = encode_batch(again.producer, again.seq, &again.events, &limits);
    assert_eq!(canonical.ok(), Some(bytes), "encoding is not stable");
}

/// Parses `data` as one JSON line (it must not panic). If it is an event,
/// printing it with [`event_to_json`] and parsing that again must give the
/// same event (a missing `ts` is filled with the epoch before printing).
pub fn json_line(data: &[u8]) {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(JsonLine::Event(first)) = parse_line(line) else {
        return;
    };
    let event = first.into_event(Timestamp::EPOCH);
    let printed = event_to_json(&event).to_string();
    match parse_line(&printed) {
        Ok(JsonLine::Event(second)) => {
            assert_eq!(
                second.into_event(Timestamp::EPOCH),
                event,
                "line: {printed}"
            );
        }
        other => panic!("printed line {printed} parses as {other:?}"),
    }
}
