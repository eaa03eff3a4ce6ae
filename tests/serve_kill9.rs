//! The reliability oracle over HTTP: a client sends flush groups to `bamdb
//! serve` (one request each, with an Idempotency-Key), the server is
//! killed with SIGKILL at a random moment, restarted, and the request that
//! was in flight is sent again with the same key. Then every acknowledged
//! group must be in the store exactly once (the retried one too: counted
//! once whether or not its first attempt was committed), a group never
//! sent must be absent, nothing invented (tests/reliability_common).
//!
//! CI: 12 cycles. Long form:
//! `BAMDB_SERVE_KILL9_CYCLES=500 cargo test --release --test serve_kill9 -- --nocapture`
//! (`BAMDB_SEED=N` replays a run; the seed is printed.)

mod reliability_common;
mod serve_common;

use std::sync::mpsc;
use std::time::Duration;

use bamdb::{Store, StoreOptions};
use reliability_common::*;
use serve_common::{try_request, Server};

/// The committed groups of one cycle's input, as request bodies (the
/// group's lines without its flush), in commit order.
fn request_bodies(input: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut current = String::new();
    for line in input.lines() {
        if line.starts_with("{\"op\":\"flush\"") {
            bodies.push(std::mem::take(&mut current));
        } else if line.starts_with("{\"op\":\"clear\"") {
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    bodies
}

fn send(server: std::net::SocketAddr, key: &str, body: &str) -> Option<(u64, u64)> {
    let reply = try_request(
        server,
        "POST",
        "/v1/events",
        &[
            ("Idempotency-Key", key),
            ("Content-Type", "application/x-ndjson"),
        ],
        body.as_bytes(),
    )
    .ok()?;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let v = reply.json();
    Some((v["committed"].as_u64()?, v["events"].as_u64()?))
}

#[test]
fn kill9_of_the_server_keeps_every_acknowledged_batch_and_a_retry_counts_once() {
    let cycles = env_count("BAMDB_SERVE_KILL9_CYCLES", 12);
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let mut oracle = Oracle::default();
    let mut retried_replays = 0;
    for cycle in 0..cycles {
        let (input, committed) = oracle.cycle_input(cycle, 6 + rng.below(10) as usize, &mut rng);
        let bodies = request_bodies(&input);
        assert_eq!(bodies.len(), committed.len());
        let keys: Vec<String> = committed.iter().map(|g| format!("group-{g}")).collect();
        let server = Server::start(&dir, &[]);
        let addr = server.addr;
        let (tx, rx) = mpsc::channel();
        let client = {
            let (bodies, keys) = (bodies.clone(), keys.clone());
            std::thread::spawn(move || {
                for (key, body) in keys.iter().zip(&bodies) {
                    match send(addr, key, body) {
                        Some(receipt) => {
                            if tx.send(receipt).is_err() {
                                return;
                            }
                        }
                        None => return,
                    }
                }
            })
        };
        // Kill after a random number of receipts (sometimes none), then a
        // random moment of up to 2 ms into the next request.
        let wait_for = rng.below(bodies.len() as u64 + 1) as usize;
        let mut receipts = Vec::new();
        while receipts.len() < wait_for {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(r) => receipts.push(r),
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(2_000)));
        server.kill9();
        client.join().expect("client");
        receipts.extend(rx.try_iter());

        // Restart, and send the request that was in flight again.
        let server = Server::start(&dir, &[]);
        if let Some(i) = (receipts.len() < bodies.len()).then_some(receipts.len()) {
            let retry = try_request(
                server.addr,
                "POST",
                "/v1/events",
                &[
                    ("Idempotency-Key", &keys[i]),
                    ("Content-Type", "application/x-ndjson"),
                ],
                bodies[i].as_bytes(),
            )
            .expect("retry");
            assert_eq!(retry.status, 200, "{}", retry.text());
            if retry.header("idempotent-replayed").is_some() {
                retried_replays += 1;
            }
            let v = retry.json();
            receipts.push((
                v["committed"].as_u64().expect("lsn"),
                v["events"].as_u64().expect("events"),
            ));
        }
        server.stop();
        oracle
            .record(&committed, &receipts)
            .unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
        let store = Store::open(&dir, StoreOptions::default()).expect("reopen");
        oracle
            .check(&store)
            .unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
        store.close().expect("close");
    }
    eprintln!(
        "{cycles} cycles, {} groups acknowledged, {retried_replays} retries answered from the journal",
        oracle.acked()
    );
}
