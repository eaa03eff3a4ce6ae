//! `POST /v1/events`: a batch of events, one flush, all or nothing.
//!
//! The body is JSON lines (the form `bamdb ingest` reads, without the
//! `flush`/`clear` ops: a request is one flush) or CloudEvents 1.0 JSON
//! (`application/cloudevents-batch+json`, an array; or one event as
//! `application/cloudevents+json`), each event's `data` holding the fields
//! of a JSON line and its `type` the op (`bamdb.begin`, `bamdb.update`,
//! ...). Every line is parsed and every event checked against the deployed
//! definitions before anything is written; any bad one refuses the whole
//! request (4xx naming each), nothing written. Otherwise the batch is
//! committed as one frame and the answer, `{"committed":LSN,"events":N}`,
//! is sent once it is durable.

use std::time::Instant;

use bamdb::model::{parse_line_with, Event, JsonLine, Limits, Timestamp};
use bamdb::{BufferedEventStream, EventStream, StoreError};
use serde_json::{json, Map, Value};

use super::http::{Request, Response};
use super::idempotency::{check_key, fingerprint, Claim};
use super::Server;

/// The streams a worker commits through: unkeyed requests as the server's
/// producer id, keyed ones as the worker's own (see `idempotency`).
pub struct Streams {
    pub plain: BufferedEventStream,
    pub keyed: BufferedEventStream,
}

/// A refused request: its status, message and the bad lines or events.
struct Refusal {
    status: u16,
    message: String,
    errors: Vec<Value>,
}

impl Refusal {
    fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    fn response(self) -> Response {
        let mut body = json!({ "error": self.message, "written": false });
        if !self.errors.is_empty() {
            body["errors"] = Value::Array(self.errors);
        }
        Response::json(self.status, &body)
    }
}

/// The events of a request, with where each came from (a line number for
/// JSON lines, a position for CloudEvents) for error messages.
struct Parsed {
    events: Vec<Event>,
    origins: Vec<Origin>,
}

/// Where an event came from: kept cheap (built for every event), turned
/// into JSON only for an error.
pub(super) enum Origin {
    /// A JSON line, by its 1-based number.
    Line(usize),
    /// A CloudEvent, by its 1-based position, with its `id` attribute.
    Event(usize, Value),
}

impl Origin {
    /// The error entry for this origin: where, then why.
    fn error(&self, reason: String) -> Value {
        let mut out = self.fields();
        out.insert("reason".into(), Value::String(reason));
        Value::Object(out)
    }

    fn fields(&self) -> Map<String, Value> {
        let mut out = Map::new();
        match self {
            Origin::Line(n) => {
                out.insert("line".into(), json!(n));
            }
            Origin::Event(n, id) => {
                out.insert("event".into(), json!(n));
                out.insert("id".into(), id.clone());
            }
        }
        out
    }
}

/// How the body is framed, from its Content-Type.
enum Framing {
    JsonLines,
    CloudEventsBatch,
    CloudEvent,
}

fn framing(content_type: Option<&str>) -> Result<Framing, Refusal> {
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match media.as_str() {
        "" | "application/x-ndjson" | "application/jsonl" | "application/json-lines"
        | "application/json" | "text/plain"
        // What `curl --data-binary @file` sends unless told otherwise.
        | "application/x-www-form-urlencoded" => Ok(Framing::JsonLines),
        "application/cloudevents-batch+json" => Ok(Framing::CloudEventsBatch),
        "application/cloudevents+json" => Ok(Framing::CloudEvent),
        other => Err(Refusal::new(
            415,
            format!(
                "Content-Type {other:?} is not accepted: send JSON lines (application/x-ndjson) \
                 or CloudEvents (application/cloudevents-batch+json)"
            ),
        )),
    }
}

/// Serves one ingest request.
pub fn post_events(server: &Server, slot: usize, streams: &mut Streams, req: &Request) -> Response {
    let arrived = Instant::now();
    let response = match accept(server, slot, streams, req) {
        Ok(response) => {
            server.metrics.ingest_latency.record(arrived.elapsed());
            response
        }
        Err(refusal) => {
            if refusal.status < 500 && refusal.status != 409 {
                server
                    .metrics
                    .ingest_rejected
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            refusal.response()
        }
    };
    if response.status == 503 {
        server
            .metrics
            .overloaded
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return response.with("Retry-After", "1");
    }
    response
}

fn accept(
    server: &Server,
    slot: usize,
    streams: &mut Streams,
    req: &Request,
) -> Result<Response, Refusal> {
    let key = req.header("idempotency-key");
    if let Some(key) = key {
        check_key(key).map_err(|e| Refusal::new(400, e))?;
    }
    let framing = framing(req.header("content-type"))?;
    let limits = Limits::default();
    let now = Timestamp::now();
    let parsed = match framing {
        Framing::JsonLines => json_lines(&req.body, &limits, now)?,
        Framing::CloudEventsBatch => cloud_events(&req.body, true, &limits, now)?,
        Framing::CloudEvent => cloud_events(&req.body, false, &limits, now)?,
    };
    if parsed.events.is_empty() {
        return Err(Refusal::new(400, "the request holds no events"));
    }
    let lag = server.store.stats().lag;
    if lag > server.options.max_lag {
        return Err(Refusal::new(
            503,
            format!(
                "the import is {lag} frames behind (the limit is {}); retry shortly",
                server.options.max_lag
            ),
        ));
    }
    let events = parsed.events.len() as u64;
    let stream = match key {
        None => &mut streams.plain,
        Some(_) => &mut streams.keyed,
    };
    // Encoded once, into the stream; checked (without a copy) after.
    buffer(stream, &parsed.events)?;
    if let Err(reasons) = server.store.check_events(parsed.events) {
        stream.clear();
        let mut refusal = Refusal::new(
            422,
            "events do not match the deployed definitions; nothing was written",
        );
        refusal.errors = reasons
            .into_iter()
            .map(|reason| located(&parsed.origins, reason))
            .collect();
        return Err(refusal);
    }
    let response = match key {
        None => commit(stream, None).map(|lsn| receipt(server, lsn, events, false)),
        Some(key) => keyed(server, slot, stream, key, req, events),
    };
    // Nothing stays buffered for the next request, whatever happened.
    stream.clear();
    let response = response?;
    if req
        .param("visible")
        .is_some_and(|v| v == "true" || v == "1")
    {
        // As a direct stream: answered once queries see the batch too.
        let lsn = server.store.stats().committed_lsn;
        if !server.store.wait_applied(lsn, VISIBLE_WAIT) {
            return Err(Refusal::new(
                503,
                "committed and durable, but not imported within 30 s; it will be, retry the query later",
            ));
        }
    }
    Ok(response)
}

/// How long `?visible=true` waits for the import.
const VISIBLE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A keyed request: committed at most once per key; see `idempotency`.
fn keyed(
    server: &Server,
    slot: usize,
    stream: &mut BufferedEventStream,
    key: &str,
    req: &Request,
    count: u64,
) -> Result<Response, Refusal> {
    let body = fingerprint(&req.body);
    let journal_failed = |e: super::idempotency::JournalError| {
        Refusal::new(500, format!("idempotency journal: {e}"))
    };
    // At most two rounds: an unresolved key is resolved, then claimed anew.
    for _ in 0..2 {
        match server.journal.claim(key, &body, count, slot).map_err(journal_failed)? {
            Claim::Commit { producer: _, seq } => {
                return match commit(stream, Some(seq)) {
                    Ok(lsn) => {
                        server.journal.done(key, lsn);
                        Ok(receipt(server, lsn, count, false))
                    }
                    Err(refusal) => {
                        server.journal.failed(key, slot);
                        Err(refusal)
                    }
                };
            }
            Claim::Replay { lsn, events } => {
                server
                    .metrics
                    .ingest_replays
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Ok(receipt(server, lsn, events, true));
            }
            Claim::InProgress => {
                return Err(Refusal::new(
                    409,
                    "a request with this Idempotency-Key is being committed now; retry when it is answered",
                ))
            }
            Claim::Mismatch => {
                return Err(Refusal::new(
                    422,
                    "this Idempotency-Key was used for a different request body; use a new key for a new batch",
                ))
            }
            Claim::Disabled => {
                return Err(Refusal::new(
                    503,
                    "a commit failed on this server; keyed requests need a restart of `bamdb serve` to be safe",
                ))
            }
            Claim::Unresolved { producer, seq } => {
                if !server.store.sync(std::time::Duration::from_secs(30)) {
                    return Err(Refusal::new(503, "the import is behind; retry shortly"));
                }
                let imported = server.store.last_sequence(producer).is_some_and(|h| h >= seq);
                server
                    .journal
                    .resolve(key, imported, server.store.stats().applied_lsn);
            }
        }
    }
    Err(Refusal::new(
        503,
        "the Idempotency-Key could not be resolved; retry",
    ))
}

fn receipt(server: &Server, lsn: u64, events: u64, replayed: bool) -> Response {
    if !replayed {
        use std::sync::atomic::Ordering::Relaxed;
        server.metrics.ingest_commits.fetch_add(1, Relaxed);
        server.metrics.ingest_events.fetch_add(events, Relaxed);
    }
    let response = Response::json(200, &json!({ "committed": lsn, "events": events }));
    if replayed {
        response.with("Idempotent-Replayed", "true")
    } else {
        response
    }
}

/// Buffers the events of one request: all of them, or a 413 and none
/// (they do not fit one commit).
fn buffer(stream: &mut BufferedEventStream, events: &[Event]) -> Result<(), Refusal> {
    for event in events {
        match stream.try_push(event) {
            Ok(true) => {}
            Ok(false) => {
                stream.clear();
                return Err(Refusal::new(
                    413,
                    "the batch does not fit one commit (at most 100,000 events and 16 MiB \
                     encoded); send it in smaller requests",
                ));
            }
            Err(e) => {
                stream.clear();
                return Err(Refusal::new(400, e.to_string()));
            }
        }
    }
    Ok(())
}

/// Commits what is buffered as one frame; returns its LSN once durable.
fn commit(stream: &mut BufferedEventStream, seq: Option<u64>) -> Result<u64, Refusal> {
    let flushed = match seq {
        Some(seq) => stream.flush_sequenced(seq),
        None => stream.flush(),
    };
    match flushed {
        Ok(Some(receipt)) => Ok(receipt.lsn),
        Ok(None) => Err(Refusal::new(500, "nothing was committed")),
        Err(e) => Err(store_refusal(&e)),
    }
}

fn store_refusal(e: &StoreError) -> Refusal {
    Refusal::new(
        500,
        format!("the commit failed: {e}; whether it was written is unknown unless an Idempotency-Key was sent"),
    )
}

/// A reason of the definitions check (`event N (...): ...`) with where
/// that event came from.
fn located(origins: &[Origin], reason: String) -> Value {
    let index = reason
        .strip_prefix("event ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok());
    match index.and_then(|i| origins.get(i)) {
        Some(origin) => origin.error(reason),
        None => json!({ "reason": reason }),
    }
}

/// JSON lines: every bad line is named; `flush` and `clear` are refused.
fn json_lines(body: &[u8], limits: &Limits, now: Timestamp) -> Result<Parsed, Refusal> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut parsed = Parsed {
        events: Vec::new(),
        origins: Vec::new(),
    };
    let mut errors = Vec::new();
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let number = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let reason = match std::str::from_utf8(raw) {
            Err(e) => format!("not UTF-8 (at byte {})", e.valid_up_to()),
            Ok(text) => match parse_line_with(text, limits) {
                Ok(JsonLine::Event(ev)) => {
                    parsed.events.push(ev.into_event(now));
                    parsed.origins.push(Origin::Line(number));
                    continue;
                }
                Ok(JsonLine::Flush { .. } | JsonLine::Clear) => {
                    "flush and clear are not accepted here: one request is one flush (send \
                     several requests for several commits)"
                        .to_owned()
                }
                Err(e) => e.to_string(),
            },
        };
        errors.push(Origin::Line(number).error(reason));
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(Refusal {
            status: 400,
            message: format!("{} bad line(s); nothing was written", errors.len()),
            errors,
        })
    }
}

/// The ops a CloudEvent `type` may name (`bamdb.<op>`).
const CLOUD_OPS: [&str; 6] = ["begin", "update", "end", "continue", "reference", "relate"];

/// CloudEvents 1.0 in structured JSON mode: a batch (an array) or one.
fn cloud_events(
    body: &[u8],
    batch: bool,
    limits: &Limits,
    now: Timestamp,
) -> Result<Parsed, Refusal> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Refusal::new(400, format!("the body is not JSON: {e}")))?;
    let items = match (batch, value) {
        (true, Value::Array(items)) => items,
        (false, v @ Value::Object(_)) => vec![v],
        (true, _) => return Err(Refusal::new(
            400,
            "a CloudEvents batch (application/cloudevents-batch+json) is a JSON array of events",
        )),
        (false, _) => return Err(Refusal::new(400, "a CloudEvent is a JSON object")),
    };
    let mut parsed = Parsed {
        events: Vec::new(),
        origins: Vec::new(),
    };
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let number = i + 1;
        let ce_id = item.get("id").cloned().unwrap_or(Value::Null);
        match cloud_event(item, limits, now) {
            Ok(event) => {
                parsed.events.push(event);
                parsed.origins.push(Origin::Event(number, ce_id));
            }
            Err(reason) => errors.push(Origin::Event(number, ce_id).error(reason)),
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(Refusal {
            status: 400,
            message: format!("{} bad event(s); nothing was written", errors.len()),
            errors,
        })
    }
}

/// One CloudEvent as a bamdb event: `type` `bamdb.<op>`, `data` the fields
/// of the JSON line, `time` its `ts` unless `data` has one.
fn cloud_event(item: Value, limits: &Limits, now: Timestamp) -> Result<Event, String> {
    let Value::Object(mut ce) = item else {
        return Err("a CloudEvent is a JSON object".into());
    };
    if ce.get("specversion").and_then(Value::as_str) != Some("1.0") {
        return Err("specversion must be \"1.0\"".into());
    }
    for attr in ["id", "source"] {
        if ce
            .get(attr)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!("the required attribute {attr} is missing or empty"));
        }
    }
    let op = ce
        .get("type")
        .and_then(Value::as_str)
        .and_then(|t| t.strip_prefix("bamdb."))
        .filter(|op| CLOUD_OPS.contains(op))
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "type must be one of {}",
                CLOUD_OPS.map(|o| format!("bamdb.{o}")).join(", ")
            )
        })?;
    if let Some(t) = ce.get("datacontenttype").and_then(Value::as_str) {
        if !t.starts_with("application/json") {
            return Err(format!(
                "datacontenttype {t:?}: only application/json data is accepted"
            ));
        }
    }
    if ce.contains_key("data_base64") {
        return Err("data_base64 is not accepted: send data as JSON".into());
    }
    let Some(Value::Object(mut fields)) = ce.remove("data") else {
        return Err(
            "data must be an object with the fields of a JSON line (activity, id, ...)".into(),
        );
    };
    if fields.contains_key("op") {
        return Err("data must not hold op: the type names it".into());
    }
    fields.insert("op".into(), Value::String(op));
    if !fields.contains_key("ts") {
        if let Some(time) = ce.remove("time") {
            fields.insert("ts".into(), time);
        }
    }
    let line = Value::Object(fields).to_string();
    match parse_line_with(&line, limits) {
        Ok(JsonLine::Event(ev)) => Ok(ev.into_event(now)),
        Ok(_) => Err("not an event".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
#[path = "ingest_tests.rs"]
mod tests;
