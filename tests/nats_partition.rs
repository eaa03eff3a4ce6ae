//! A network partition between an edge box and the NATS server (issue
//! 20), made by the test itself: the edge's shipper runs in a network
//! namespace of its own (`ip netns`), joined to the host by a veth pair,
//! and the link is cut (set down) at random moments for 0.5 to 4 s, then
//! healed. A second edge ships from the host meanwhile; producers,
//! shippers and the central bus are killed at random as in the other
//! fleet tests. The partitioned box keeps everything and catches up after
//! each heal: nothing acknowledged is lost or doubled.
//!
//! Needs root (or CAP_NET_ADMIN) for `ip netns add`; where that is
//! refused the test prints "skipped: ..." and passes.
//! Long form: `BAMDB_SOAK_SECS=1800 cargo test --release --features nats --test nats_partition -- --nocapture`

mod nats_common;
mod reliability_common;

use std::process::Command;
use std::time::{Duration, Instant};

use nats_common::soak::Fleet;
use reliability_common::{env_count, Rng};

/// A network namespace with a veth pair to the host; removed on drop.
struct Namespace {
    name: String,
    host_link: String,
    host_address: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Namespace {
    fn create() -> Result<Namespace, String> {
        let id = std::process::id() % 200 + 20;
        let name = format!("bamdb-edge-{id}");
        ip(&["netns", "add", &name])?;
        let ns = Namespace {
            host_link: format!("bamdbh{id}"),
            host_address: format!("10.77.{id}.1"),
            name,
        };
        let edge_link = format!("bamdbe{id}");
        let edge_address = format!("10.77.{id}.2/24");
        let host_address = format!("{}/24", ns.host_address);
        ip(&[
            "link",
            "add",
            &ns.host_link,
            "type",
            "veth",
            "peer",
            "name",
            &edge_link,
        ])?;
        ip(&["link", "set", &edge_link, "netns", &ns.name])?;
        ip(&["addr", "add", &host_address, "dev", &ns.host_link])?;
        ip(&["link", "set", &ns.host_link, "up"])?;
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", ns.name.as_str(), "ip"];
            all.extend_from_slice(args);
            ip(&all)
        };
        inside(&["addr", "add", &edge_address, "dev", &edge_link])?;
        inside(&["link", "set", &edge_link, "up"])?;
        inside(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    fn cut(&self) {
        ip(&["link", "set", &self.host_link, "down"]).unwrap();
    }

    fn heal(&self) {
        ip(&["link", "set", &self.host_link, "up"]).unwrap();
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = ip(&["link", "del", &self.host_link]);
        let _ = ip(&["netns", "del", &self.name]);
    }
}

#[test]
fn a_partitioned_edge_box_catches_up_after_the_heal() {
    if !nats_common::available("nats_partition") {
        return;
    }
    let ns = match Namespace::create() {
        Ok(ns) => ns,
        Err(e) => {
            eprintln!("skipped: nats_partition: cannot make a network namespace here: {e}");
            return;
        }
    };
    let secs = env_count("BAMDB_SOAK_SECS", 20);
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let server = nats_common::single_on_all_addresses(tmp.path());
    let local = server.url();
    let remote = format!("nats://{}:{}", ns.host_address, server.port);
    let namespace = ns.name.clone();
    let fleet = Fleet {
        dir: tmp.path().to_path_buf(),
        edges: 2,
        url_of_edge: Box::new({
            let (local, remote) = (local.clone(), remote.clone());
            move |n| {
                if n == 0 {
                    remote.clone()
                } else {
                    local.clone()
                }
            }
        }),
        central_url: local,
        stream: "FLEET".into(),
        replicas: 1,
        edge_prefix: Box::new(move |n| {
            if n == 0 {
                ["ip", "netns", "exec", namespace.as_str()]
                    .map(String::from)
                    .to_vec()
            } else {
                Vec::new()
            }
        }),
    };
    let mut partitions = 0;
    let summary = fleet.soak(secs, &mut rng, |deadline, rng| {
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1000 + rng.below(2000)));
            ns.cut();
            partitions += 1;
            std::thread::sleep(Duration::from_millis(500 + rng.below(3500)));
            ns.heal();
        }
    });
    summary.report(
        "partition",
        secs,
        &format!("{partitions} partitions healed"),
    );
}
