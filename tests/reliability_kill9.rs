//! Campaign 2 of issue 6: kill -9 of a real `bamdb ingest` process, with the
//! bus importing, at random moments; then the store is verified, reopened
//! with `Store::open` and checked against the oracle (tests/reliability_common):
//! every acknowledged flush imported exactly once, an unacknowledged flush
//! whole or not at all (and it stays so), cleared events never, nothing
//! invented, counters exact, `Store::verify` without problems.
//!
//! The input is written through a pipe this test holds open, so the child
//! is always mid-ingest when it is killed: after a random number of
//! receipts (sometimes none: a kill during open and recovery) plus a random
//! delay of up to half a millisecond.
//!
//! CI: 200 cycles. Long form:
//! `BAMDB_KILL9_CYCLES=10000 cargo test --release --test reliability_kill9 -- --nocapture`
//! (`BAMDB_SEED=N` replays a run; the seed is printed.)

mod reliability_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reliability_common::*;

#[test]
fn kill9_during_ingest_loses_nothing_acknowledged() {
    let cycles = env_count("BAMDB_KILL9_CYCLES", 200);
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let mut oracle = Oracle::default();
    let started = Instant::now();
    let mut killed_before_first = 0;
    for cycle in 0..cycles {
        let (input, committed) = oracle.cycle_input(cycle, 8 + rng.below(12) as usize, &mut rng);
        let mut child = Command::new(bin())
            .args(["ingest", "--store"])
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bamdb ingest");
        let mut stdin = child.stdin.take().unwrap();
        let (release, hold) = mpsc::channel::<()>();
        let writer = std::thread::spawn(move || {
            // The child may be dead before it read everything.
            let _ = stdin.write_all(input.as_bytes());
            let _ = stdin.flush();
            // Keep the pipe open (no end of input, so no final commit or
            // clean close) until the child has been killed.
            let _ = hold.recv();
            drop(stdin);
        });
        let mut stderr = child.stderr.take().unwrap();
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut seen = Vec::new();
        let target = rng.below(committed.len() as u64 + 1);
        if target == 0 {
            killed_before_first += 1;
            // A kill during start-up, open and recovery, or the first commit.
            std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        } else {
            for _ in 0..target {
                let mut line = Vec::new();
                if out.read_until(b'\n', &mut line).unwrap() == 0 {
                    break;
                }
                seen.extend_from_slice(&line);
            }
            std::thread::sleep(Duration::from_micros(rng.below(500)));
        }
        child.kill().expect("kill -9");
        let status = child.wait().unwrap();
        drop(release);
        writer.join().unwrap();
        // Receipts printed before the kill were durable: they count too.
        out.read_to_end(&mut seen).unwrap();
        let err = err_reader.join().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(9),
            "cycle {cycle}: the child must still be running when killed: {status:?}, stderr: {err}"
        );
        assert!(!err.contains("panicked"), "cycle {cycle}: {err}");
        let receipts = parse_receipts(&seen).unwrap();
        oracle
            .record(&committed, &receipts)
            .unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
        verify_open_check(&dir, &mut oracle).unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
    }
    let present = oracle
        .groups
        .iter()
        .filter(|g| g.fate == Fate::Present)
        .count();
    let absent = oracle
        .groups
        .iter()
        .filter(|g| g.fate == Fate::Absent)
        .count();
    eprintln!(
        "kill9: {cycles} cycles in {:?}: {} groups acknowledged, {present} unacknowledged \
         imported whole, {absent} unacknowledged absent, {killed_before_first} kills before \
         the first receipt",
        started.elapsed(),
        oracle.acked()
    );
    assert!(oracle.acked() > 0);
}
