//! The JSON lines form of events: one JSON object per line, keyed by `op`.
//!
//! ```text
//! {"op":"begin","activity":"PurchaseOrder","id":"PO-1","ts":"2026-11-22T10:00:00Z"}
//! {"op":"update","activity":"PurchaseOrder","id":"PO-1","data":{"Customer":"Contoso","Amount":125.5}}
//! {"op":"end","activity":"PurchaseOrder","id":"PO-1"}
//! {"op":"continue","activity":"PurchaseOrder","id":"PO-1","token":"SHIP-PO-1"}
//! {"op":"reference","activity":"PurchaseOrder","id":"PO-1","type":"DocumentUrl","name":"invoice","data":"...","long_data":"..."}
//! {"op":"relate","activity":"PurchaseOrder","id":"PO-1","related_activity":"Shipment","related_id":"SH-9"}
//! {"op":"flush"}
//! {"op":"flush","seq":42}
//! {"op":"clear"}
//! ```
//!
//! A flush with `seq` numbers the batch for its producer, so the store
//! imports it at most once however often it is sent (see
//! [`crate::EventStream::flush_sequenced`]).
//!
//! `ts` is optional on every event op (absent or `null` means "now", which
//! the caller fills in with [`JsonEvent::into_event`]); `long_data` is
//! optional on `reference`. Any other missing field, unknown field, field
//! that does not belong to the op, duplicate key or unknown op is an error
//! naming it. Update `data` keeps its order; values map per
//! [`crate::model::Value`]'s JSON table. Every event is checked against the
//! [`Limits`] before it is returned.

use std::collections::HashSet;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::Deserialize;

use super::{Event, EventKind, Limits, ModelError, Timestamp, Value};

/// One parsed JSON line.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonLine {
    /// An event op.
    Event(JsonEvent),
    /// `{"op":"flush"}`: commit the buffered events; with `"seq":N`, as
    /// the producer's batch number N (imported at most once).
    Flush {
        /// The batch's sequence number, if given.
        seq: Option<u64>,
    },
    /// `{"op":"clear"}`: roll back the buffered events.
    Clear,
}

/// An event read from JSON; its timestamp may still be missing.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonEvent {
    /// The `ts` field; `None` means "now".
    pub ts: Option<Timestamp>,
    /// The activity name.
    pub activity: String,
    /// The activity instance id.
    pub id: String,
    /// What happened.
    pub kind: EventKind,
}

impl JsonEvent {
    /// The event, with `now` as its timestamp if the line had none.
    pub fn into_event(self, now: Timestamp) -> Event {
        Event {
            ts: self.ts.unwrap_or(now),
            activity: self.activity,
            id: self.id,
            kind: self.kind,
        }
    }
}

/// The raw fields of a line; serde rejects unknown and duplicate keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    op: String,
    activity: Option<String>,
    id: Option<String>,
    ts: Option<Timestamp>,
    data: Option<Data>,
    token: Option<String>,
    #[serde(rename = "type")]
    ref_type: Option<String>,
    name: Option<String>,
    long_data: Option<String>,
    related_activity: Option<String>,
    related_id: Option<String>,
    seq: Option<u64>,
}

/// `data` is an object of items for `update` and a string for `reference`.
enum Data {
    Text(String),
    Items(Vec<(String, Value)>),
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of item values (update) or a string (reference)")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Data, E> {
        Ok(Data::Text(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Data, E> {
        Ok(Data::Text(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        // A scan of `items` while they are few (the usual update sets a
        // handful), a set beyond: a 2 MiB line can hold 200k items.
        const SCAN_UP_TO: usize = 16;
        let mut seen: Option<HashSet<String>> = None;
        let mut items: Vec<(String, Value)> = Vec::new();
        while let Some((name, value)) = map.next_entry::<String, Value>()? {
            let duplicate = match &mut seen {
                Some(set) => !set.insert(name.clone()),
                None if items.len() < SCAN_UP_TO => items.iter().any(|(n, _)| *n == name),
                None => {
                    let mut set: HashSet<String> = items.iter().map(|(n, _)| n.clone()).collect();
                    let duplicate = !set.insert(name.clone());
                    seen = Some(set);
                    duplicate
                }
            };
            if duplicate {
                return Err(serde::de::Error::custom(format!(
                    "item {name} appears twice in data"
                )));
            }
            items.push((name, value));
        }
        Ok(Data::Items(items))
    }
}

fn invalid(reason: String) -> ModelError {
    ModelError::InvalidInput { reason }
}

const EVENT_OPS: &str = "begin, update, end, continue, reference, relate, flush, clear";

/// Parses one JSON line with the default [`Limits`].
///
/// ```
/// use bamdb::model::{parse_line, EventKind, JsonLine, Value};
///
/// let line = r#"{"op":"update","activity":"PurchaseOrder","id":"PO-1","data":{"Amount":125.5}}"#;
/// let JsonLine::Event(ev) = parse_line(line)? else { panic!("not an event") };
/// assert_eq!(ev.kind, EventKind::Update(vec![("Amount".into(), Value::Float(125.5))]));
/// assert_eq!(ev.ts, None);
/// assert_eq!(parse_line(r#"{"op":"flush"}"#)?, JsonLine::Flush { seq: None });
/// assert_eq!(parse_line(r#"{"op":"flush","seq":7}"#)?, JsonLine::Flush { seq: Some(7) });
/// # Ok::<(), bamdb::model::ModelError>(())
/// ```
pub fn parse_line(line: &str) -> Result<JsonLine, ModelError> {
    parse_line_with(line, &Limits::default())
}

/// Parses one JSON line; lines over `limits.max_json_line_bytes` are
/// refused before parsing, and the event is validated against `limits`.
pub fn parse_line_with(line: &str, limits: &Limits) -> Result<JsonLine, ModelError> {
    if line.len() > limits.max_json_line_bytes {
        return Err(invalid(format!(
            "line is {} bytes, the limit is {}",
            line.len(),
            limits.max_json_line_bytes
        )));
    }
    let mut raw: RawLine = serde_json::from_str(line.trim_end_matches(['\r', '\n']))
        .map_err(|e| invalid(format!("bad JSON line: {e}")))?;
    let op = std::mem::take(&mut raw.op);
    let allowed: &[&str] = match op.as_str() {
        "flush" => &["seq"],
        "clear" => &[],
        "begin" | "end" => &["activity", "id", "ts"],
        "update" => &["activity", "id", "ts", "data"],
        "continue" => &["activity", "id", "ts", "token"],
        "reference" => &["activity", "id", "ts", "type", "name", "data", "long_data"],
        "relate" => &["activity", "id", "ts", "related_activity", "related_id"],
        other => {
            return Err(invalid(format!(
                "unknown op {other:?}, expected one of {EVENT_OPS}"
            )))
        }
    };
    if let Some(field) = present_fields(&raw).find(|f| !allowed.contains(f)) {
        return Err(invalid(format!("field {field} does not belong to op {op}")));
    }
    let need = |value: Option<String>, field: &str| {
        value.ok_or_else(|| invalid(format!("op {op} needs the field {field}")))
    };
    let kind = match op.as_str() {
        "flush" => return Ok(JsonLine::Flush { seq: raw.seq }),
        "clear" => return Ok(JsonLine::Clear),
        "begin" => EventKind::Begin,
        "end" => EventKind::End,
        "update" => match raw.data {
            Some(Data::Items(items)) => EventKind::Update(items),
            Some(Data::Text(_)) => {
                return Err(invalid(
                    "data of op update must be an object of item values".to_string(),
                ))
            }
            None => return Err(invalid("op update needs the field data".to_string())),
        },
        "continue" => EventKind::EnableContinuation {
            token: need(raw.token, "token")?,
        },
        "reference" => EventKind::AddReference {
            ref_type: need(raw.ref_type, "type")?,
            ref_name: need(raw.name, "name")?,
            data: match raw.data {
                Some(Data::Text(s)) => s,
                Some(Data::Items(_)) => {
                    return Err(invalid("data of op reference must be a string".to_string()))
                }
                None => return Err(invalid("op reference needs the field data".to_string())),
            },
            long_data: raw.long_data,
        },
        _ => EventKind::AddRelatedActivity {
            related_activity: need(raw.related_activity, "related_activity")?,
            related_id: need(raw.related_id, "related_id")?,
        },
    };
    let event = JsonEvent {
        ts: raw.ts,
        activity: need(raw.activity, "activity")?,
        id: need(raw.id, "id")?,
        kind,
    };
    Event::validate_head(
        event.ts.unwrap_or(Timestamp::EPOCH),
        &event.activity,
        &event.id,
        limits,
    )?;
    event.kind.validate(limits)?;
    Ok(JsonLine::Event(event))
}

/// Names of the fields present in a line, besides `op`.
fn present_fields(raw: &RawLine) -> impl Iterator<Item = &'static str> {
    [
        ("activity", raw.activity.is_some()),
        ("id", raw.id.is_some()),
        ("ts", raw.ts.is_some()),
        ("data", raw.data.is_some()),
        ("token", raw.token.is_some()),
        ("type", raw.ref_type.is_some()),
        ("name", raw.name.is_some()),
        ("long_data", raw.long_data.is_some()),
        ("related_activity", raw.related_activity.is_some()),
        ("related_id", raw.related_id.is_some()),
        ("seq", raw.seq.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
}

/// The JSON lines form of `event`, with its `ts` (fields in the order shown
/// in the module docs).
pub fn event_to_json(event: &Event) -> serde_json::Value {
    use serde_json::Value as J;
    let mut m = serde_json::Map::new();
    m.insert("op".into(), J::from(event.kind.op()));
    m.insert("activity".into(), J::from(event.activity.as_str()));
    m.insert("id".into(), J::from(event.id.as_str()));
    m.insert("ts".into(), J::from(event.ts.to_string()));
    match &event.kind {
        EventKind::Begin | EventKind::End => {}
        EventKind::Update(items) => {
            let data = items
                .iter()
                .map(|(name, value)| (name.clone(), value.to_json()))
                .collect();
            m.insert("data".into(), J::Object(data));
        }
        EventKind::EnableContinuation { token } => {
            m.insert("token".into(), J::from(token.as_str()));
        }
        EventKind::AddReference {
            ref_type,
            ref_name,
            data,
            long_data,
        } => {
            m.insert("type".into(), J::from(ref_type.as_str()));
            m.insert("name".into(), J::from(ref_name.as_str()));
            m.insert("data".into(), J::from(data.as_str()));
            if let Some(long) = long_data {
                m.insert("long_data".into(), J::from(long.as_str()));
            }
        }
        EventKind::AddRelatedActivity {
            related_activity,
            related_id,
        } => {
            m.insert(
                "related_activity".into(),
                J::from(related_activity.as_str()),
            );
            m.insert("related_id".into(), J::from(related_id.as_str()));
        }
    }
    J::Object(m)
}
