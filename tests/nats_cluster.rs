//! The fleet over a three-node JetStream cluster (issue 20): three
//! nats-server processes on loopback, the stream with 3 replicas, and one
//! node at a time killed (SIGKILL) at random moments and started again a
//! while later, beside the kills of producers, shippers and the central
//! bus. Every process is given all three URLs. Nothing acknowledged by a
//! producer is lost or doubled (the oracle of `nats_common::soak`).
//!
//! CI: 20 seconds of soak. Long form (RELIABILITY.md):
//! `BAMDB_SOAK_SECS=1800 cargo test --release --features nats --test nats_cluster -- --nocapture`

mod nats_common;
mod reliability_common;

use std::time::{Duration, Instant};

use nats_common::soak::Fleet;
use reliability_common::{env_count, Rng};

#[test]
fn a_replicated_stream_survives_a_node_killed_losing_and_doubling_nothing() {
    if !nats_common::available("nats_cluster") {
        return;
    }
    let secs = env_count("BAMDB_SOAK_SECS", 20);
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut servers = nats_common::cluster(tmp.path());
    let fleet = Fleet::on(tmp.path(), 3, nats_common::urls(&servers), 3);
    let mut node_kills = 0;
    let summary = fleet.soak(secs, &mut rng, |deadline, rng| {
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2000 + rng.below(3000)));
            let victim = rng.below(3) as usize;
            servers[victim].kill();
            node_kills += 1;
            // Two of three hold the quorum meanwhile.
            std::thread::sleep(Duration::from_millis(500 + rng.below(3000)));
            servers[victim].start();
        }
    });
    assert!(servers.iter().all(|s| s.running()));
    summary.report(
        "cluster",
        secs,
        &format!("{node_kills} nats-server node kills"),
    );
}
