//! A load test from a second process (this one) on loopback, bounded in
//! requests and time: 8 clients ingest concurrently (some with
//! Idempotency-Keys, each sent twice), and query while they do; every
//! request is answered (200, or 503 with Retry-After and retried), and
//! afterwards the store holds exactly what was acknowledged. The figures
//! of the goals come from `bench/serve.sh` (BENCHMARKS.md), not from here.

mod serve_common;

use std::time::{Duration, Instant};

use serve_common::*;

const CLIENTS: usize = 8;
const REQUESTS: usize = 12;
const ORDERS: usize = 10;

#[test]
fn concurrent_clients_are_all_answered_and_everything_acknowledged_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let server = Server::start(&dir, &["--workers", "6"]);
    let addr = server.addr;
    let deadline = Instant::now() + Duration::from_secs(120);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            std::thread::spawn(move || {
                let mut last = 0u64;
                for r in 0..REQUESTS {
                    let body: String = (0..ORDERS)
                        .map(|o| {
                            order_lines(
                                &format!("L-{c}-{r}-{o}"),
                                (c * 1000 + r * 10 + o) as f64,
                                "EU",
                            )
                        })
                        .collect();
                    let key = format!("load-{c}-{r}");
                    // Keyed requests of odd clients are sent twice.
                    let sends = if c % 2 == 1 { 2 } else { 1 };
                    for _ in 0..sends {
                        let headers: Vec<(&str, &str)> = if c % 2 == 1 {
                            vec![("Idempotency-Key", key.as_str())]
                        } else {
                            vec![]
                        };
                        loop {
                            assert!(Instant::now() < deadline, "load test over its time bound");
                            let reply =
                                request(addr, "POST", "/v1/events", &headers, body.as_bytes());
                            match reply.status {
                                200 => {
                                    last =
                                        last.max(reply.json()["committed"].as_u64().expect("lsn"));
                                    break;
                                }
                                503 => {
                                    let wait: u64 = reply
                                        .header("retry-after")
                                        .and_then(|v| v.parse().ok())
                                        .expect("Retry-After on 503");
                                    std::thread::sleep(Duration::from_millis(wait * 50));
                                }
                                other => panic!("status {other}: {}", reply.text()),
                            }
                        }
                    }
                    // A query between writes.
                    let q = request(
                        addr,
                        "GET",
                        "/v1/activities/PurchaseOrder/search?limit=5",
                        &[],
                        b"",
                    );
                    assert!(q.status == 200 || q.status == 503, "{}", q.text());
                }
                last
            })
        })
        .collect();
    let last = clients
        .into_iter()
        .map(|c| c.join().expect("client"))
        .max()
        .unwrap_or(0);
    loop {
        let stats = server.get("/v1/stats").json();
        if stats["applied_lsn"].as_u64().unwrap_or(0) >= last {
            break;
        }
        assert!(Instant::now() < deadline, "import did not catch up");
        std::thread::sleep(Duration::from_millis(10));
    }
    let total = (CLIENTS * REQUESTS * ORDERS) as u64;
    let agg = server
        .get("/v1/activities/PurchaseOrder/aggregate?measure=count&measure=sum:Amount")
        .json();
    let expected_sum: f64 = (0..CLIENTS)
        .flat_map(|c| {
            (0..REQUESTS)
                .flat_map(move |r| (0..ORDERS).map(move |o| (c * 1000 + r * 10 + o) as f64))
        })
        .sum();
    assert_eq!(agg["rows"][0][0].as_u64(), Some(total), "{agg}");
    assert_eq!(agg["rows"][0][1].as_f64(), Some(expected_sum), "{agg}");
    let metrics = server.get("/metrics").text();
    let replays = metrics
        .lines()
        .find_map(|l| l.strip_prefix("bamdb_ingest_replays_total "))
        .and_then(|v| v.parse::<u64>().ok());
    assert_eq!(replays, Some((CLIENTS / 2 * REQUESTS) as u64));
    server.stop();
}
