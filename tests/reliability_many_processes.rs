//! The many-process soak of issue 16: 8 producer processes (`bamdb ingest
//! --box pN`, each its own message box), one bus process (`bamdb bus`) and
//! 4 reader threads running reader processes (`bamdb stats`, read-only
//! opens) back to back, with kill -9 of any of them at random moments and
//! restarts.
//!
//! Each producer commits one group per PurchaseOrder `Pi-k` (begin, Amount
//! k, end: one flush, one frame) and waits for its receipt before the
//! next; a receipt means acknowledged. A producer killed between writing a
//! group and its receipt leaves that group in doubt: imported whole or not
//! at all. Checked:
//! - by every reader process, at the snapshot it reports: no active or
//!   pending instance (a frame is never half imported), as many completed
//!   instances as frames imported (none invented, none imported twice) and
//!   as the boxes' imported LSNs add up to (the oracle at that snapshot:
//!   box frames 1..=m of each box, one group each), nothing quarantined;
//!   and per reader thread the applied LSN never goes backwards;
//! - at the end, after `bamdb bus --drain`: every acknowledged group is in
//!   the store with its Amount, no id that was never sent is, and the
//!   frames imported equal the instances present (each exactly once); each
//!   box is told it is imported up to its last LSN.
//!
//! CI: 20 seconds of soak. Long form (RELIABILITY.md):
//! `BAMDB_SOAK_SECS=1800 cargo test --release --test reliability_many_processes -- --nocapture`
//! (`BAMDB_SEED=N` replays the random choices; timing still differs.)

mod reliability_common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bamdb::model::Value;
use bamdb::{BoxOptions, MessageBox, Store, StoreOptions};
use reliability_common::*;

const PRODUCERS: usize = 8;
const READERS: usize = 4;

fn group(producer: usize, k: u64) -> String {
    format!(
        "{{\"op\":\"begin\",\"activity\":\"{ACTIVITY}\",\"id\":\"P{producer}-{k}\"}}\n\
         {{\"op\":\"update\",\"activity\":\"{ACTIVITY}\",\"id\":\"P{producer}-{k}\",\"data\":{{\"Amount\":{k}.0}}}}\n\
         {{\"op\":\"end\",\"activity\":\"{ACTIVITY}\",\"id\":\"P{producer}-{k}\"}}\n\
         {{\"op\":\"flush\"}}\n"
    )
}

/// What one producer slot sent: acknowledged and in-doubt group numbers.
#[derive(Debug, Default)]
struct Sent {
    acked: Vec<u64>,
    in_doubt: Vec<u64>,
    kills: u64,
}

fn spawn(args: &[&str], stdin: Stdio) -> Child {
    Command::new(bin())
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bamdb")
}

/// One producer slot: runs `bamdb ingest --box pN` processes one after
/// the other, killing each at a random moment, until `stop`.
fn producer_slot(dir: &Path, n: usize, mut rng: Rng, stop: &AtomicBool) -> Sent {
    let mut sent = Sent::default();
    let mut k = 0;
    let store = dir.to_str().unwrap();
    let name = format!("p{n}");
    while !stop.load(Ordering::Relaxed) {
        let mut child = spawn(
            &["ingest", "--store", store, "--box", &name],
            Stdio::piped(),
        );
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // Kill after this many groups (sometimes 0: during its open).
        let life = rng.below(40);
        let mut groups = 0;
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
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
                Ok(n) if n > 0 && line.starts_with("{\"committed\":") => sent.acked.push(k),
                _ => {
                    sent.in_doubt.push(k);
                    break;
                }
            }
            if kill_now {
                break;
            }
            groups += 1;
        }
        drop(stdin);
        let status = child.wait().unwrap();
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
        assert!(!err.contains("panicked"), "producer {n}: {err}");
        // A process that was not killed must have ended well (its input
        // was closed at the stop).
        if status.code().is_some() {
            assert_eq!(status.code(), Some(0), "producer {n}: {err}");
        }
    }
    sent
}

/// What one reader thread saw.
#[derive(Debug, Default)]
struct Seen {
    snapshots: u64,
    kills: u64,
    highest_applied: u64,
}

/// One reader slot: runs `bamdb stats` processes back to back, killing
/// some, and checks each answer.
fn reader_slot(dir: &Path, n: usize, mut rng: Rng, stop: &AtomicBool) -> Seen {
    let mut seen = Seen::default();
    let store = dir.to_str().unwrap();
    while !stop.load(Ordering::Relaxed) {
        let mut child = spawn(&["stats", "--store", store], Stdio::null());
        if rng.below(5) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(5000)));
            let _ = child.kill();
            seen.kills += 1;
        }
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "reader {n}: {err}");
        if out.status.code().is_none() {
            continue; // killed
        }
        assert!(out.status.success(), "reader {n}: {err}");
        let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let applied = stats["applied_lsn"].as_u64().unwrap();
        let completed = stats["completed"].as_u64().unwrap();
        let frames = stats["counters"]["frames_imported"].as_u64().unwrap();
        assert!(
            applied >= seen.highest_applied,
            "reader {n}: the applied LSN went back from {} to {applied}",
            seen.highest_applied
        );
        seen.highest_applied = applied;
        assert_eq!(
            stats["active"], 0,
            "reader {n}: a half-imported frame: {stats}"
        );
        assert_eq!(
            stats["pending"], 0,
            "reader {n}: a half-imported frame: {stats}"
        );
        assert_eq!(
            completed, frames,
            "reader {n}: instances and frames imported differ at LSN {applied}: {stats}"
        );
        // The oracle at this snapshot: each box's frames 1..=m are imported
        // (in order, each one group, so one instance), nothing else.
        let boxed: u64 = stats["boxes"]
            .as_object()
            .unwrap()
            .values()
            .map(|m| m.as_u64().unwrap())
            .sum();
        assert_eq!(
            completed, boxed,
            "reader {n}: the boxes' marks say {boxed} frames at LSN {applied}: {stats}"
        );
        assert_eq!(stats["counters"]["frames_quarantined"], 0, "{stats}");
        seen.snapshots += 1;
    }
    seen
}

#[test]
fn many_producers_a_bus_and_readers_killed_at_random_lose_and_double_nothing() {
    let secs = env_count("BAMDB_SOAK_SECS", 20);
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let stop = AtomicBool::new(false);
    let bus_kills = Mutex::new(0u64);
    let (sent, seen) = std::thread::scope(|scope| {
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|n| {
                let (dir, rng, stop) = (&dir, rng.split(), &stop);
                scope.spawn(move || producer_slot(dir, n, rng, stop))
            })
            .collect();
        let readers: Vec<_> = (0..READERS)
            .map(|n| {
                let (dir, rng, stop) = (&dir, rng.split(), &stop);
                scope.spawn(move || reader_slot(dir, n, rng, stop))
            })
            .collect();
        // The bus: killed every 0.1 to 1 s, started again at once.
        let deadline = Instant::now() + Duration::from_secs(secs);
        let store = dir.to_str().unwrap();
        while Instant::now() < deadline {
            let mut bus = spawn(&["bus", "--store", store, "--poll-ms", "2"], Stdio::null());
            std::thread::sleep(Duration::from_millis(100 + rng.below(900)));
            bus.kill().unwrap();
            let out = bus.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                !err.contains("panicked") && !err.contains("bamdb bus: message box"),
                "bus: {err}"
            );
            *bus_kills.lock().unwrap() += 1;
        }
        stop.store(true, Ordering::Relaxed);
        let sent: Vec<Sent> = producers.into_iter().map(|h| h.join().unwrap()).collect();
        let seen: Vec<Seen> = readers.into_iter().map(|h| h.join().unwrap()).collect();
        (sent, seen)
    });

    let drained = Command::new(bin())
        .args(["bus", "--store"])
        .arg(&dir)
        .arg("--drain")
        .output()
        .unwrap();
    assert!(
        drained.status.success(),
        "{}",
        String::from_utf8_lossy(&drained.stderr)
    );
    let store = Store::open(&dir, StoreOptions::default()).unwrap();
    assert!(store.sync(Duration::from_secs(60)));
    let present: BTreeSet<String> = store
        .instances(ACTIVITY)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    let mut acked = 0;
    let mut in_doubt_present = 0;
    for (n, s) in sent.iter().enumerate() {
        for k in &s.acked {
            let id = format!("P{n}-{k}");
            let instance = store.get(ACTIVITY, &id).unwrap();
            let instance = instance.unwrap_or_else(|| panic!("acknowledged {id} was lost"));
            assert!(instance.end.is_some(), "{id} not whole");
            assert_eq!(
                instance.item("Amount"),
                Some(&Value::Float(*k as f64)),
                "{id}"
            );
            acked += 1;
        }
        in_doubt_present += s
            .in_doubt
            .iter()
            .filter(|k| present.contains(&format!("P{n}-{k}")))
            .count();
    }
    let sent_ids: usize = sent.iter().map(|s| s.acked.len() + s.in_doubt.len()).sum();
    assert_eq!(
        present.len(),
        acked + in_doubt_present,
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
    for n in 0..PRODUCERS {
        let path = dir.join("boxes").join(format!("p{n}"));
        let outbox = MessageBox::open(&path, BoxOptions::default()).unwrap();
        let box_stats = outbox.stats().unwrap();
        assert_eq!(box_stats.applied_lsn, box_stats.committed_lsn, "box p{n}");
    }
    let snapshots: u64 = seen.iter().map(|s| s.snapshots).sum();
    assert!(snapshots > 0, "no reader answered");
    eprintln!(
        "soak {secs} s: {acked} acknowledged, {} in doubt ({in_doubt_present} imported), {sent_ids} sent; \
         kills: {} producers, {} bus, {} readers; {snapshots} reader snapshots checked",
        sent_ids - acked,
        sent.iter().map(|s| s.kills).sum::<u64>(),
        bus_kills.lock().unwrap(),
        seen.iter().map(|s| s.kills).sum::<u64>(),
    );
}
