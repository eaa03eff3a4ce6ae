//! The fleet over one real nats-server (issue 20): three edge boxes, each
//! a producer process and a shipper process, and a central bus process,
//! all killed with SIGKILL at random moments and started again, while the
//! nats-server itself is killed at random moments and kept down for a
//! while (an outage) before it is started again. Nothing acknowledged by a
//! producer is lost or doubled in the central store (the oracle of
//! `nats_common::soak`).
//!
//! CI: 20 seconds of soak (`.ci/run` runs it with `--features nats`).
//! Long form (RELIABILITY.md):
//! `BAMDB_SOAK_SECS=1800 cargo test --release --features nats --test nats_fleet -- --nocapture`

mod nats_common;
mod reliability_common;

use std::time::{Duration, Instant};

use nats_common::soak::Fleet;
use reliability_common::{env_count, Rng};

#[test]
fn edge_boxes_ship_through_nats_outages_and_kills_losing_and_doubling_nothing() {
    if !nats_common::available("nats_fleet") {
        return;
    }
    let secs = env_count("BAMDB_SOAK_SECS", 20);
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut server = nats_common::single(tmp.path());
    let fleet = Fleet::on(tmp.path(), 3, server.url(), 1);
    let mut outages = 0;
    let summary = fleet.soak(secs, &mut rng, |deadline, rng| {
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1000 + rng.below(3000)));
            server.kill();
            outages += 1;
            // Down for a while: the shippers wait, the boxes keep it all.
            std::thread::sleep(Duration::from_millis(200 + rng.below(2000)));
            server.start();
        }
    });
    summary.report("fleet", secs, &format!("{outages} nats-server outages"));
}
