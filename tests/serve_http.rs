//! `bamdb serve` against a real server on a loopback port: every endpoint,
//! every refusal with its status and nothing written, tokens, idempotent
//! retries across a restart, timeouts of slow clients, 503 when busy, and
//! markup in ids and values escaped in the portal.

mod serve_common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serve_common::*;

const NDJSON: (&str, &str) = ("Content-Type", "application/x-ndjson");

/// Waits (on a condition, polled) until the import reached `lsn`.
fn wait_imported(server: &Server, lsn: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stats = server.get("/v1/stats").json();
        if stats["applied_lsn"].as_u64().unwrap_or(0) >= lsn {
            return;
        }
        assert!(Instant::now() < deadline, "import stuck: {stats}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn committed_lsn(server: &Server) -> u64 {
    server.get("/v1/stats").json()["committed_lsn"]
        .as_u64()
        .expect("committed_lsn")
}

#[test]
fn ingest_then_every_query_endpoint_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let server = Server::start(&dir, &[]);
    let body = [
        order_lines("PO-1", 100.5, "EU"),
        order_lines("PO-2", 700.0, "US"),
        order_lines("PO-3", 900.0, "EU"),
    ]
    .concat();
    let reply = server.post("/v1/events", &[NDJSON], body.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let receipt = reply.json();
    assert_eq!(receipt["events"], 9);
    let lsn = receipt["committed"].as_u64().expect("lsn");
    wait_imported(&server, lsn);

    let one = server.get("/v1/activities/PurchaseOrder/instances/PO-2");
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["items"]["Amount"], 700.0);
    assert_eq!(one.json()["status"], "completed");
    assert_eq!(
        server
            .get("/v1/activities/PurchaseOrder/instances/PO-9")
            .status,
        404
    );

    let found = server
        .get("/v1/activities/PurchaseOrder/search?where=Amount%3E500&where=Region+%3D+EU")
        .json();
    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["rows"][0]["id"], "PO-3");
    let limited = server
        .get("/v1/activities/PurchaseOrder/search?limit=2&columns=id,Amount")
        .json();
    assert_eq!(limited["count"], 2);
    assert_eq!(limited["truncated"], true);
    assert!(limited["rows"][0].get("Region").is_none());

    let agg = server
        .get("/v1/activities/PurchaseOrder/aggregate?group_by=Region&measure=count&measure=sum:Amount")
        .json();
    assert_eq!(
        agg["columns"],
        serde_json::json!(["Region", "count", "sum:Amount"])
    );
    assert_eq!(agg["rows"].as_array().map(Vec::len), Some(2), "{agg}");

    let defs = server.get("/v1/definitions").json();
    assert_eq!(defs[0]["name"], "PurchaseOrder");
    assert_eq!(server.get("/v1/definitions/PurchaseOrder").status, 200);
    assert_eq!(server.get("/v1/definitions/Nope").status, 404);
    let stats = server.get("/v1/stats").json();
    assert_eq!(
        stats["completed"].as_u64().unwrap_or(0) + stats["active"].as_u64().unwrap_or(0),
        3
    );
    assert_eq!(server.get("/v1/health").json()["status"], "ok");
    let quarantine = server.get("/v1/quarantine").json();
    assert_eq!(quarantine["entries"], serde_json::json!([]));
    assert_eq!(server.get("/v1/quarantine/7").status, 404);

    let metrics = server.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/plain"));
    let text = metrics.text();
    for line in [
        "bamdb_commits_total 1",
        "bamdb_ingested_events_total 9",
        "bamdb_events_imported_total 9",
        "bamdb_import_lag_frames 0",
        "bamdb_degraded 0",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    let fsyncs = metric(&text, "bamdb_fsync_seconds_count");
    assert!(fsyncs >= 1.0, "no fsync counted:\n{text}");
    assert!(metric(&text, "bamdb_query_seconds_count{kind=\"search\"}") >= 2.0);

    let home = server.get("/");
    assert_eq!(home.status, 200);
    assert!(home
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/html"));
    server.stop();
}

/// The value of one sample line `NAME VALUE`.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} missing"))
}

#[test]
fn the_openapi_file_names_exactly_the_served_endpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let server = Server::start(&dir, &[]);
    let doc = server.get("/v1/openapi.json").json();
    let paths = doc["paths"].as_object().expect("paths");
    let mut methods = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{activity}", "PurchaseOrder")
            .replace("{id}", "1");
        for (method, op) in item.as_object().expect("path item") {
            methods += 1;
            let reply = match method.as_str() {
                "get" => server.get(&concrete),
                "post" => server.post(&concrete, &[NDJSON], b"{}"),
                other => panic!("unexpected method {other} in openapi.json"),
            };
            let documented: Vec<u16> = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|k| k.parse().expect("status"))
                .collect();
            assert!(
                documented.contains(&reply.status),
                "{method} {concrete}: {} not among the documented {documented:?}: {}",
                reply.status,
                reply.text()
            );
            // Every other method is refused with 405.
            let other = if method == "get" { "POST" } else { "GET" };
            let wrong = request(server.addr, other, &concrete, &[], b"");
            assert_eq!(wrong.status, 405, "{other} {concrete}: {}", wrong.text());
            assert!(wrong.header("allow").is_some());
        }
    }
    assert!(methods >= 14, "only {methods} operations documented");
    // An endpoint not in the file is 404, and says where the list is.
    let unknown = server.get("/v1/nope");
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("openapi.json"));
    server.stop();
}

#[test]
fn refused_requests_have_their_status_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let server = Server::start(&dir, &["--max-body-bytes", "4000"]);
    let before = committed_lsn(&server);

    // Bad JSON: every bad line named, the good ones not written either.
    let body = format!(
        "{}not json\n{{\"op\":\"begin\",\"activity\":\"PurchaseOrder\"}}\n",
        order_lines("PO-OK", 1.0, "EU")
    );
    let reply = server.post("/v1/events", &[NDJSON], body.as_bytes());
    assert_eq!(reply.status, 400, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["written"], false);
    let lines: Vec<u64> = v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [4, 5]);

    // Unknown activity and a wrong type: 422, each line named.
    let body = format!(
        "{}{{\"op\":\"begin\",\"activity\":\"Nope\",\"id\":\"1\"}}\n{{\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-OK\",\"data\":{{\"Amount\":\"lots\"}}}}\n",
        order_lines("PO-OK", 1.0, "EU")
    );
    let reply = server.post("/v1/events", &[NDJSON], body.as_bytes());
    assert_eq!(reply.status, 422, "{}", reply.text());
    let errors = reply.json()["errors"].clone();
    assert_eq!(errors[0]["line"], 4);
    assert!(errors[0]["reason"]
        .as_str()
        .unwrap_or("")
        .contains("Nope is not deployed"));
    assert_eq!(errors[1]["line"], 5);

    // Too large for --max-body-bytes.
    let big = order_lines("PO-BIG", 1.0, "EU").repeat(30);
    let reply = server.post("/v1/events", &[NDJSON], big.as_bytes());
    assert_eq!(reply.status, 413, "{}", reply.text());

    // flush inside a request, an empty request, an unknown content type.
    let reply = server.post("/v1/events", &[NDJSON], b"{\"op\":\"flush\"}\n");
    assert_eq!(reply.status, 400);
    assert_eq!(server.post("/v1/events", &[NDJSON], b"\n\n").status, 400);
    let reply = server.post(
        "/v1/events",
        &[("Content-Type", "application/xml")],
        b"<a/>",
    );
    assert_eq!(reply.status, 415);

    // Wrong method, unknown endpoint, bad query parameters.
    let reply = request(server.addr, "GET", "/v1/events", &[], b"");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"));
    assert_eq!(
        request(server.addr, "DELETE", "/v1/stats", &[], b"").status,
        405
    );
    let bad_where = server.get("/v1/activities/PurchaseOrder/search?where=Amount%20~%205");
    assert_eq!(bad_where.status, 400, "{}", bad_where.text());
    assert_eq!(
        server
            .get("/v1/activities/PurchaseOrder/search?where=Nope%3D1")
            .status,
        400
    );
    assert_eq!(server.get("/v1/activities/Nope/search").status, 404);
    assert_eq!(
        server
            .get("/v1/activities/PurchaseOrder/search?limit=x")
            .status,
        400
    );
    assert_eq!(
        server
            .get("/v1/activities/PurchaseOrder/search?since=yesterday")
            .status,
        400
    );
    assert_eq!(
        server
            .get("/v1/activities/PurchaseOrder/aggregate?bucket=fortnight:end")
            .status,
        400
    );
    assert_eq!(
        server
            .get("/v1/activities/PurchaseOrder/aggregate?measure=mode:Amount")
            .status,
        400
    );

    // A body without a length; a head that is not HTTP.
    let reply = raw(&server, b"POST /v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 411"), "{reply}");
    let reply = raw(&server, b"\x16\x03\x01 hello\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");

    assert_eq!(committed_lsn(&server), before, "a refused request wrote");
    let metrics = server.get("/metrics").text();
    assert!(metric(&metrics, "bamdb_ingest_rejected_total") >= 5.0);
    server.stop();
}

/// Sends raw bytes, returns what the server answered before closing.
fn raw(server: &Server, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_token_guards_writes_and_admin_actions_but_not_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    // Listening beyond loopback without a token is refused at start.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bamdb"))
        .args(["serve", "--listen", "0.0.0.0:0", "--store"])
        .arg(&dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token"));

    let token = "s3cret-token-0123456789";
    let token_file = tmp.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).expect("token file");
    let server = Server::start(&dir, &["--token-file", token_file.to_str().expect("utf-8")]);
    let body = order_lines("PO-T", 5.0, "EU");
    let before = committed_lsn(&server);
    let none = server.post("/v1/events", &[NDJSON], body.as_bytes());
    assert_eq!(none.status, 401);
    assert!(none.header("www-authenticate").is_some());
    let wrong = server.post(
        "/v1/events",
        &[NDJSON, ("Authorization", "Bearer s3cret-token-0123456788")],
        body.as_bytes(),
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(server.post("/v1/quarantine/0/replay", &[], b"").status, 401);
    assert_eq!(
        server
            .post("/v1/quarantine/0/drop", &[], b"{\"reason\":\"x\"}")
            .status,
        401
    );
    assert_eq!(
        server
            .post("/quarantine/0/replay", &[], b"token=wrong")
            .status,
        401
    );
    assert_eq!(committed_lsn(&server), before, "a refused request wrote");

    // A page of another site cannot post here, token or not.
    let bearer = format!("Bearer {token}");
    for (name, value) in [
        ("Origin", "http://evil.example"),
        ("Origin", "null"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let reply = server.post(
            "/v1/events",
            &[NDJSON, ("Authorization", bearer.as_str()), (name, value)],
            body.as_bytes(),
        );
        assert_eq!(reply.status, 403, "{name}: {value}: {}", reply.text());
    }
    assert_eq!(committed_lsn(&server), before, "a cross-site request wrote");
    let same_origin = format!("http://{}", server.addr);
    let ok = server.post(
        "/v1/events",
        &[NDJSON, ("Authorization", bearer.as_str())],
        body.as_bytes(),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    let portal_form = server.post(
        "/v1/events",
        &[
            NDJSON,
            ("Authorization", bearer.as_str()),
            ("Origin", same_origin.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        body.as_bytes(),
    );
    assert_eq!(portal_form.status, 200, "{}", portal_form.text());
    assert_eq!(server.get("/v1/stats").status, 200);
    assert_eq!(server.get("/metrics").status, 200);
    assert_eq!(server.get("/").status, 200);
    server.stop();
}

#[test]
fn an_idempotency_key_counts_a_retried_request_once_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let server = Server::start(&dir, &[]);
    let order = order_lines("PO-1000", 1000.0, "EU");
    let key = ("Idempotency-Key", "order-1000-save");
    let mut lsns = Vec::new();
    for attempt in 0..10 {
        let reply = server.post("/v1/events", &[NDJSON, key], order.as_bytes());
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(
            reply.header("idempotent-replayed").is_some(),
            attempt > 0,
            "attempt {attempt}"
        );
        lsns.push(reply.json()["committed"].as_u64().expect("lsn"));
    }
    assert!(lsns.windows(2).all(|w| w[0] == w[1]), "{lsns:?}");
    // The same key for another body is a mistake, not a replay.
    let other = order_lines("PO-1001", 5.0, "EU");
    assert_eq!(
        server
            .post("/v1/events", &[NDJSON, key], other.as_bytes())
            .status,
        422
    );
    assert_eq!(
        server
            .post(
                "/v1/events",
                &[NDJSON, ("Idempotency-Key", "has space")],
                other.as_bytes()
            )
            .status,
        400
    );
    wait_imported(&server, lsns[0]);
    let sum = server
        .get("/v1/activities/PurchaseOrder/aggregate?measure=sum:Amount&measure=count")
        .json();
    assert_eq!(sum["rows"][0], serde_json::json!([1000.0, 1]), "{sum}");
    let metrics = server.get("/metrics").text();
    assert_eq!(metric(&metrics, "bamdb_ingest_replays_total"), 9.0);
    assert_eq!(metric(&metrics, "bamdb_commits_total"), 1.0);
    server.stop();

    // After a restart the key is still known.
    let server = Server::start(&dir, &[]);
    let reply = server.post("/v1/events", &[NDJSON, key], order.as_bytes());
    assert_eq!(reply.status, 200);
    assert!(reply.header("idempotent-replayed").is_some());
    assert_eq!(reply.json()["committed"].as_u64(), Some(lsns[0]));
    // A new key is a new commit.
    let reply = server.post(
        "/v1/events",
        &[NDJSON, ("Idempotency-Key", "k2")],
        other.as_bytes(),
    );
    assert_eq!(reply.status, 200);
    assert!(reply.header("idempotent-replayed").is_none());
    wait_imported(&server, reply.json()["committed"].as_u64().expect("lsn"));
    let sum = server
        .get("/v1/activities/PurchaseOrder/aggregate?measure=sum:Amount")
        .json();
    assert_eq!(sum["rows"][0][0], 1005.0);
    server.stop();
}

#[test]
fn cloud_events_are_ingested_and_bad_ones_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let server = Server::start(&dir, &[]);
    let ce = |id: &str, ty: &str, data: &str| {
        format!(
            "{{\"specversion\":\"1.0\",\"id\":\"{id}\",\"source\":\"/erp\",\"type\":\"{ty}\",\"time\":\"2026-11-02T10:00:00Z\",\"data\":{data}}}"
        )
    };
    let batch = format!(
        "[{},{},{}]",
        ce(
            "e1",
            "bamdb.begin",
            r#"{"activity":"PurchaseOrder","id":"CE-1"}"#
        ),
        ce(
            "e2",
            "bamdb.update",
            r#"{"activity":"PurchaseOrder","id":"CE-1","data":{"Amount":42.5}}"#
        ),
        ce(
            "e3",
            "bamdb.end",
            r#"{"activity":"PurchaseOrder","id":"CE-1"}"#
        ),
    );
    let kind = ("Content-Type", "application/cloudevents-batch+json");
    let reply = server.post("/v1/events", &[kind], batch.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    wait_imported(&server, reply.json()["committed"].as_u64().expect("lsn"));
    let got = server
        .get("/v1/activities/PurchaseOrder/instances/CE-1")
        .json();
    assert_eq!(got["items"]["Amount"], 42.5);
    assert_eq!(got["begin"], "2026-11-02T10:00:00.000000Z");

    let bad = format!(
        "[{},{}]",
        ce(
            "b1",
            "bamdb.begin",
            r#"{"activity":"PurchaseOrder","id":"CE-2"}"#
        ),
        ce(
            "b2",
            "bamdb.explode",
            r#"{"activity":"PurchaseOrder","id":"CE-2"}"#
        ),
    );
    let reply = server.post("/v1/events", &[kind], bad.as_bytes());
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["errors"][0]["event"], 2);
    assert_eq!(reply.json()["errors"][0]["id"], "b2");
    server.stop();
}

#[test]
fn quarantine_can_be_listed_shown_replayed_and_dropped_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    // A frame for an activity that is not deployed goes to quarantine.
    std::fs::write(
        tmp.path().join("q.jsonl"),
        "{\"op\":\"begin\",\"activity\":\"Shipment\",\"id\":\"S-<b>1</b>\"}\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bamdb"))
        .args(["ingest", "--store"])
        .arg(&dir)
        .arg(tmp.path().join("q.jsonl"))
        .output()
        .expect("ingest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(&dir, &[]);
    let list = server.get("/v1/quarantine?unresolved=true").json();
    let id = list["entries"][0]["id"].as_u64().expect("an entry");
    let shown = server.get(&format!("/v1/quarantine/{id}")).json();
    assert_eq!(shown["decoded_events"][0]["activity"], "Shipment");
    let replay = server.post(&format!("/v1/quarantine/{id}/replay"), &[], b"");
    assert_eq!(replay.status, 409, "{}", replay.text());
    assert_eq!(replay.json()["outcome"], "still_invalid");
    // The portal's button: a form post, answered with a redirect back.
    let form = server.post(
        &format!("/quarantine/{id}/replay"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"",
    );
    assert_eq!(form.status, 303);
    assert!(form
        .header("location")
        .unwrap_or("")
        .starts_with("/quarantine?replayed="));
    let page = server.get(form.header("location").expect("location"));
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("S-<b>1</b>"), "markup not escaped");
    assert_eq!(
        server
            .post(&format!("/v1/quarantine/{id}/drop"), &[], b"{}")
            .status,
        400
    );
    let dropped = server.post(
        &format!("/v1/quarantine/{id}/drop"),
        &[],
        b"{\"reason\":\"test data\"}",
    );
    assert_eq!(dropped.status, 200, "{}", dropped.text());
    let again = server.post(&format!("/v1/quarantine/{id}/replay"), &[], b"");
    assert_eq!(again.json()["outcome"], "dropped");
    assert_eq!(
        server.get("/v1/quarantine?unresolved=true").json()["entries"],
        serde_json::json!([])
    );
    assert_eq!(server.post("/v1/quarantine/x/replay", &[], b"").status, 400);
    server.stop();
}

#[test]
fn slow_clients_time_out_and_a_full_server_answers_503() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let server = Server::start(&dir, &["--workers", "1", "--request-timeout", "1"]);
    // The one worker is held by a kept-alive connection (one request
    // answered, the next not sent yet); one more connection waits in the
    // queue; the next is refused at once.
    let mut slow = TcpStream::connect(server.addr).expect("connect");
    slow.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut first = [0u8; 12];
    slow.read_exact(&mut first).expect("first answer");
    assert_eq!(&first, b"HTTP/1.1 200");
    let mut rest = [0u8; 4096];
    slow.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let _ = slow.read(&mut rest);
    let _queued = TcpStream::connect(server.addr).expect("connect");
    let refused = try_request(server.addr, "GET", "/v1/stats", &[], b"").expect("an answer");
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.header("retry-after"), Some("1"));

    // Then the held connection starts a head and never ends it (a
    // half-open client).
    slow.write_all(b"GET /v1/stats HTTP/1.1\r\nX-Slow: ")
        .expect("write");
    // The slow client is answered 408 and closed after the request timeout.
    let started = Instant::now();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(_queued);
    // And the server serves again.
    let deadline = Instant::now() + Duration::from_secs(30);
    while try_request(server.addr, "GET", "/v1/health", &[], b"")
        .map(|r| r.status)
        .ok()
        != Some(200)
    {
        assert!(Instant::now() < deadline, "server did not recover");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.stop();
}

#[test]
fn markup_and_control_characters_in_ids_and_values_are_escaped_in_the_portal() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let server = Server::start(&dir, &[]);
    let nasty_id = "<script>alert(1)</script>";
    let nasty_value = "\"'><img src=x onerror=alert(2)>\u{1b}[31m\u{7}";
    let body = format!(
        "{}\n{}\n",
        serde_json::json!({"op":"begin","activity":"PurchaseOrder","id":nasty_id}),
        serde_json::json!({"op":"update","activity":"PurchaseOrder","id":nasty_id,"data":{"Customer":nasty_value,"Region":"<b>EU</b>"}}),
    );
    let reply = server.post("/v1/events", &[NDJSON], body.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    wait_imported(&server, reply.json()["committed"].as_u64().expect("lsn"));
    let encoded_id = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    for path in [
        "/".to_owned(),
        "/activities/PurchaseOrder".to_owned(),
        format!("/activities/PurchaseOrder/instances/{encoded_id}"),
        "/activities/PurchaseOrder/aggregate?group_by=Customer".to_owned(),
        "/activities/PurchaseOrder/aggregate?group_by=Region".to_owned(),
        format!("/activities/{encoded_id}"),
        "/quarantine?replayed=%3Cscript%3E&outcome=%3Cimg%20src%3Dx%20onerror%3Dalert(3)%3E"
            .to_owned(),
    ] {
        let page = server.get(&path);
        let html = page.text();
        assert!(page.status < 500, "{path}: {}", page.status);
        for raw in ["<script>alert", "<img src=x", "<b>EU", "\u{1b}", "\u{7}"] {
            assert!(!html.contains(raw), "{path} shows {raw:?} raw:\n{html}");
        }
    }
    let instance = server.get(&format!("/activities/PurchaseOrder/instances/{encoded_id}"));
    assert_eq!(instance.status, 200, "{}", instance.text());
    assert!(instance
        .text()
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    server.stop();
}
