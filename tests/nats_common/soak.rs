//! The fleet soak shared by the NATS tests: edge boxes (each a producer
//! process `bamdb ingest --box-dir` and a shipper process `bamdb ship`),
//! one central bus process (`bamdb bus --nats`), all killed with SIGKILL
//! at random moments and started again, while the caller's `faults` hurt
//! the NATS side (servers killed, outages, partitions). Then everything is
//! drained and the oracle checked over the central store:
//! - every acknowledged group is there, whole, with its Amount;
//! - no id that was never sent is;
//! - frames imported equal instances present (none doubled, none lost);
//! - each box is shipped and imported up to its last committed LSN.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bamdb::model::Value;
use bamdb::{BoxOptions, MessageBox, Store, StoreOptions};

use crate::reliability_common::{bin, deploy, Rng, ACTIVITY};

/// The fleet under test.
pub struct Fleet {
    pub dir: PathBuf,
    pub edges: usize,
    /// `--nats` of every process; a function so that a test can point an
    /// edge at another address (a network namespace's).
    pub url_of_edge: Box<dyn Fn(usize) -> String + Sync>,
    pub central_url: String,
    pub stream: String,
    pub replicas: usize,
    /// Extra words before an edge's commands (e.g. `ip netns exec NS`).
    pub edge_prefix: Box<dyn Fn(usize) -> Vec<String> + Sync>,
}

/// What the soak did, for the test's summary line.
#[derive(Debug, Default)]
pub struct Summary {
    pub acked: usize,
    pub in_doubt: usize,
    pub in_doubt_present: usize,
    pub producer_kills: u64,
    pub shipper_kills: u64,
    pub bus_kills: u64,
}

impl Summary {
    /// Prints the run's figures (`faults`: what the NATS side went
    /// through) and checks enough was acknowledged to tell.
    pub fn report(&self, what: &str, secs: u64, faults: &str) {
        eprintln!(
            "{what} soak {secs} s: {} acknowledged, {} in doubt ({} imported); kills: {} producers, {} shippers, {} bus; {faults}",
            self.acked,
            self.in_doubt,
            self.in_doubt_present,
            self.producer_kills,
            self.shipper_kills,
            self.bus_kills
        );
        assert!(self.acked > 100, "too little was acknowledged to tell");
    }
}

fn group(edge: usize, k: u64) -> String {
    format!(
        "{{\"op\":\"begin\",\"activity\":\"{ACTIVITY}\",\"id\":\"E{edge}-{k}\"}}\n\
         {{\"op\":\"update\",\"activity\":\"{ACTIVITY}\",\"id\":\"E{edge}-{k}\",\"data\":{{\"Amount\":{k}.0}}}}\n\
         {{\"op\":\"end\",\"activity\":\"{ACTIVITY}\",\"id\":\"E{edge}-{k}\"}}\n\
         {{\"op\":\"flush\"}}\n"
    )
}

impl Fleet {
    /// `edges` edge boxes in `dir`, every process given `url`.
    pub fn on(dir: &std::path::Path, edges: usize, url: String, replicas: usize) -> Fleet {
        Fleet {
            dir: dir.to_path_buf(),
            edges,
            url_of_edge: Box::new({
                let url = url.clone();
                move |_| url.clone()
            }),
            central_url: url,
            stream: "FLEET".into(),
            replicas,
            edge_prefix: Box::new(|_| Vec::new()),
        }
    }

    pub fn store(&self) -> PathBuf {
        self.dir.join("central")
    }

    pub fn edge_box(&self, n: usize) -> PathBuf {
        self.dir.join(format!("edge{n}"))
    }

    fn command(&self, prefix: Vec<String>) -> Command {
        match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(bin());
                c
            }
            None => Command::new(bin()),
        }
    }

    fn ship_command(&self, n: usize, drain: bool) -> Command {
        let mut c = self.command((self.edge_prefix)(n));
        c.arg("ship")
            .arg("--box")
            .arg(self.edge_box(n))
            .args(["--nats", &(self.url_of_edge)(n), "--stream", &self.stream])
            .args(["--replicas", &self.replicas.to_string()]);
        if drain {
            c.arg("--drain");
        }
        c
    }

    fn bus_command(&self, drain: bool) -> Command {
        let mut c = Command::new(bin());
        c.arg("bus")
            .arg("--store")
            .arg(self.store())
            .args(["--nats", &self.central_url, "--stream", &self.stream])
            .args(["--replicas", &self.replicas.to_string(), "--poll-ms", "2"]);
        if drain {
            c.arg("--drain");
        }
        c
    }

    /// Runs the soak for `secs`, calling `faults` on this thread (it
    /// returns when the deadline passed), then drains and checks.
    pub fn soak(
        &self,
        secs: u64,
        rng: &mut Rng,
        faults: impl FnOnce(Instant, &mut Rng),
    ) -> Summary {
        deploy(&self.store());
        let stop = AtomicBool::new(false);
        let shipper_kills = AtomicU64::new(0);
        let bus_kills = AtomicU64::new(0);
        let deadline = Instant::now() + Duration::from_secs(secs);
        let sent = std::thread::scope(|scope| {
            let producers: Vec<_> = (0..self.edges)
                .map(|n| {
                    let (rng, stop) = (rng.split(), &stop);
                    scope.spawn(move || self.producer_slot(n, rng, stop))
                })
                .collect();
            let shippers: Vec<_> = (0..self.edges)
                .map(|n| {
                    let (mut rng, stop, kills) = (rng.split(), &stop, &shipper_kills);
                    scope.spawn(move || {
                        killed_again_and_again(
                            || self.ship_command(n, false),
                            &mut rng,
                            stop,
                            kills,
                            "ship",
                        )
                    })
                })
                .collect();
            let bus = {
                let (mut rng, stop, kills) = (rng.split(), &stop, &bus_kills);
                scope.spawn(move || {
                    killed_again_and_again(|| self.bus_command(false), &mut rng, stop, kills, "bus")
                })
            };
            faults(deadline, rng);
            stop.store(true, Ordering::Relaxed);
            let sent: Vec<Sent> = producers.into_iter().map(|h| h.join().unwrap()).collect();
            for h in shippers {
                h.join().unwrap();
            }
            bus.join().unwrap();
            sent
        });
        self.drain();
        let mut summary = self.check(&sent);
        summary.producer_kills = sent.iter().map(|s| s.kills).sum();
        summary.shipper_kills = shipper_kills.load(Ordering::Relaxed);
        summary.bus_kills = bus_kills.load(Ordering::Relaxed);
        summary
    }

    /// One edge's producer: `bamdb ingest --box-dir` processes one after
    /// the other, each killed at a random moment, until `stop`.
    fn producer_slot(&self, n: usize, mut rng: Rng, stop: &AtomicBool) -> Sent {
        let mut sent = Sent::default();
        let mut k = 0;
        while !stop.load(Ordering::Relaxed) {
            let mut child = Command::new(bin())
                .arg("ingest")
                .arg("--box-dir")
                .arg(self.edge_box(n))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start bamdb ingest");
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            let life = rng.below(60);
            let mut groups = 0;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                let kill_now = groups == life;
                if stdin.write_all(group(n, k).as_bytes()).is_err() || stdin.flush().is_err() {
                    sent.in_doubt.push(k);
                    break;
                }
                if kill_now {
                    std::thread::sleep(Duration::from_micros(rng.below(2000)));
                    let _ = child.kill();
                    sent.kills += 1;
                }
                let mut line = String::new();
                match stdout.read_line(&mut line) {
                    Ok(read) if read > 0 && line.starts_with("{\"committed\":") => {
                        sent.acked.push(k)
                    }
                    _ => {
                        sent.in_doubt.push(k);
                        break;
                    }
                }
                if kill_now {
                    break;
                }
                groups += 1;
                // About 500 commits/s per edge: a fleet, not a benchmark.
                std::thread::sleep(Duration::from_millis(2));
            }
            drop(stdin);
            let status = child.wait().unwrap();
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
            assert!(!err.contains("panicked"), "producer {n}: {err}");
            if status.code().is_some() {
                assert_eq!(status.code(), Some(0), "producer {n}: {err}");
            }
        }
        sent
    }

    /// After the soak: every box shipped (adopted if its producer died),
    /// then the central bus drained.
    fn drain(&self) {
        for n in 0..self.edges {
            let out = self
                .ship_command(n, true)
                .stderr(Stdio::piped())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "ship --drain of edge {n}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let out = self.bus_command(true).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "bus --drain: {err}");
        assert!(!err.contains("panicked"), "bus --drain: {err}");
    }

    fn check(&self, sent: &[Sent]) -> Summary {
        let store = Store::open(self.store(), StoreOptions::default()).unwrap();
        assert!(store.sync(Duration::from_secs(60)));
        let present: BTreeSet<String> = store
            .instances(ACTIVITY)
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        let mut summary = Summary::default();
        for (n, s) in sent.iter().enumerate() {
            for k in &s.acked {
                let id = format!("E{n}-{k}");
                let instance = store.get(ACTIVITY, &id).unwrap();
                let instance = instance.unwrap_or_else(|| panic!("acknowledged {id} was lost"));
                assert!(instance.end.is_some(), "{id} not whole");
                assert_eq!(
                    instance.item("Amount"),
                    Some(&Value::Float(*k as f64)),
                    "{id}"
                );
                summary.acked += 1;
            }
            summary.in_doubt += s.in_doubt.len();
            summary.in_doubt_present += s
                .in_doubt
                .iter()
                .filter(|k| present.contains(&format!("E{n}-{k}")))
                .count();
        }
        assert_eq!(
            present.len(),
            summary.acked + summary.in_doubt_present,
            "an id never sent appeared"
        );
        let stats = store.stats();
        assert_eq!(
            stats.counters.frames_imported,
            present.len() as u64,
            "a frame imported twice (or lost)"
        );
        assert_eq!(stats.counters.frames_quarantined, 0);
        store.close().unwrap();
        let out = Command::new(bin())
            .arg("stats")
            .arg("--store")
            .arg(self.store())
            .output()
            .unwrap();
        assert!(out.status.success());
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for n in 0..self.edges {
            let outbox = MessageBox::open(self.edge_box(n), BoxOptions::default()).unwrap();
            let box_stats = outbox.stats().unwrap();
            assert_eq!(
                box_stats.applied_lsn, box_stats.committed_lsn,
                "edge {n}: not everything committed was shipped"
            );
            let id = format!("{:016x}", box_stats.box_id);
            assert_eq!(
                stats.boxes.get(&id).copied().unwrap_or(0),
                box_stats.committed_lsn,
                "edge {n}: the central store's mark"
            );
            // `bamdb stats` shows the box as a source, caught up.
            let source = &shown["sources"][&id];
            assert_eq!(source["applied_lsn"], box_stats.committed_lsn, "{shown}");
            assert_eq!(source["lag"], 0, "edge {n}: {shown}");
        }
        summary
    }
}

/// What one edge's producer sent: acknowledged and in-doubt group numbers.
#[derive(Debug, Default)]
struct Sent {
    acked: Vec<u64>,
    in_doubt: Vec<u64>,
    kills: u64,
}

/// Runs `make()`'s process again and again, each killed (SIGKILL) after
/// 0.2 to 2 s, until `stop`; the last one is killed too.
fn killed_again_and_again(
    make: impl Fn() -> Command,
    rng: &mut Rng,
    stop: &AtomicBool,
    kills: &AtomicU64,
    what: &str,
) {
    while !stop.load(Ordering::Relaxed) {
        let mut child: Child = make()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bamdb");
        let life = Instant::now() + Duration::from_millis(200 + rng.below(1800));
        while Instant::now() < life && !stop.load(Ordering::Relaxed) {
            if let Ok(Some(status)) = child.try_wait() {
                let out = child.wait_with_output().unwrap();
                panic!(
                    "{what} exited by itself ({status}): {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{what}: {err}");
        kills.fetch_add(1, Ordering::Relaxed);
    }
}
