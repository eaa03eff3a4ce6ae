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
//! The check after each cycle is proportional to the cycle's work, so a
//! long run is linear, not quadratic: `Store::verify`, `Store::open`, the
//! groups of this cycle and of the previous one (its in-doubt group must
//! not have changed) compared one by one, and the global counters
//! (`frames_imported`, `events_imported`, nothing quarantined) and number of
//! visible instances against the whole record, which shows an invented,
//! duplicated or lost instance anywhere. Every `BAMDB_KILL9_FULL_EVERY`
//! cycles (50) and after the last one, every instance ever sent is compared
//! (`Oracle::check`).
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
    let full_every = env_count("BAMDB_KILL9_FULL_EVERY", 50).max(1);
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let mut oracle = Oracle::default();
    let started = Instant::now();
    let mut killed_before_first = 0;
    let mut full_checks = 0;
    // The first group of the previous cycle: the per-cycle check compares
    // the groups from there on (this cycle's and the previous cycle's).
    let mut previous_start = 0;
    let mut phase = [Duration::ZERO; 3];
    for cycle in 0..cycles {
        let this_start = oracle.groups.len();
        let t0 = Instant::now();
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
        let t1 = Instant::now();
        phase[0] += t1 - t0;
        // Every cycle: verify, open, this and the previous cycle's groups
        // one by one, the global counters and instance count. Every
        // `full_every` cycles and after the last: every group ever sent.
        let full = (cycle + 1) % full_every == 0 || cycle + 1 == cycles;
        let from = if full { None } else { Some(previous_start) };
        verify_open_check_from(&dir, &mut oracle, from)
            .unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
        phase[if full { 2 } else { 1 }] += t1.elapsed();
        if full {
            full_checks += 1;
        }
        previous_start = this_start;
        if (cycle + 1) % 1000 == 0 {
            eprintln!(
                "kill9: {} cycles, {:?}, {} groups acknowledged; time in runs {:?}, \
                 per-cycle checks {:?}, full checks {:?}",
                cycle + 1,
                started.elapsed(),
                oracle.acked(),
                phase[0],
                phase[1],
                phase[2]
            );
        }
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
         the first receipt, {full_checks} full checks (time in runs {:?}, per-cycle checks {:?}, \
         full checks {:?})",
        started.elapsed(),
        oracle.acked(),
        phase[0],
        phase[1],
        phase[2]
    );
    assert!(oracle.acked() > 0);
}
