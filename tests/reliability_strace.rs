//! Campaign 4 of issue 6: real fault injection on the real `bamdb ingest`
//! binary with `strace -f -e inject=...`, restricted with `-P` to the
//! store's message box (its segment files and directory) and to the file
//! that receives standard output, so the log orders the injected fault and
//! every receipt line:
//! - `fdatasync` and `fsync` failing with EIO at the N-th call,
//! - `pwrite64`/`write` failing with ENOSPC at the N-th call.
//!
//! For each run: after the injected fault no `{"committed":..}` line is
//! written (the writer stops acknowledging; it never retries and trusts),
//! the process exits 2 with a message naming the error, and a reopen (after
//! `Store::verify` finds no problem) recovers every commit acknowledged
//! before the fault, the unacknowledged one whole or not at all
//! (tests/reliability_common's oracle).
//!
//! Each run sends at least N commits, so the N-th call exists. Short writes
//! are not injected here: strace's `retval=` replaces the syscall, so it
//! models a write that is lost while reported done (a lying disk), not a
//! short write; tests/reliability_short_write.rs makes real short writes
//! with an LD_PRELOAD shim.
//!
//! Needs `strace` (.ci/run installs it) and ptrace; otherwise prints
//! `skipped: <why>` and passes.
//! CI: N = 1..=8 for each of the three faults. Long form:
//! `BAMDB_STRACE_MAX_N=200 cargo test --release --test reliability_strace -- --nocapture`

mod reliability_common;

use std::path::Path;
use std::process::{Command, Stdio};

use reliability_common::*;

fn strace_usable() -> Result<(), String> {
    match Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "true"])
        .output()
    {
        Err(e) => Err(format!("strace is not installed ({e})")),
        Ok(o) if !o.status.success() => Err(format!(
            "strace cannot trace here (ptrace not permitted?): {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => Ok(()),
    }
}

struct Fault {
    name: &'static str,
    inject: &'static str,
    message: &'static str,
}

const FAULTS: [Fault; 3] = [
    Fault {
        name: "fdatasync EIO",
        inject: "fdatasync:error=EIO",
        message: "Input/output error",
    },
    Fault {
        name: "fsync EIO",
        inject: "fsync:error=EIO",
        message: "Input/output error",
    },
    Fault {
        name: "write ENOSPC",
        inject: "pwrite64,write,pwritev,pwritev2:error=ENOSPC",
        message: "No space left",
    },
];

/// One run under strace; returns whether the fault fired.
/// `from`: the first group the check compares one by one
/// ([`verify_open_check_from`]); `None` compares every group.
fn run(
    dir: &Path,
    work: &Path,
    fault: &Fault,
    n: u64,
    from: Option<usize>,
    oracle: &mut Oracle,
    rng: &mut Rng,
) -> bool {
    let cycle = oracle.groups.len() as u64;
    // 6 + 2n groups, about one in ten cleared: at least n commits, so the
    // n-th fdatasync and write exist.
    let (input, committed) = oracle.cycle_input(cycle, 6 + 2 * n as usize, rng);
    let input_file = work.join("input.jsonl");
    let out_file = work.join("out");
    let log_file = work.join("strace.log");
    std::fs::write(&input_file, input).unwrap();
    let out = std::fs::File::create(&out_file).unwrap();
    let wal = dir.join("wal");
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-y", "-o"]).arg(&log_file);
    cmd.arg("-P").arg(&wal).arg("-P").arg(&out_file);
    for e in std::fs::read_dir(&wal).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "wal") {
            cmd.arg("-P").arg(p);
        }
    }
    cmd.args([
        "-e",
        "trace=fdatasync,fsync,write,pwrite64,pwritev,pwritev2",
        "-e",
        &format!("inject={}:when={n}", fault.inject),
        bin(),
        "ingest",
        "--store",
    ])
    .arg(dir)
    .arg(&input_file)
    .stdin(Stdio::null())
    .stdout(out);
    let o = cmd.output().expect("run strace");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let what = format!("{} at call {n}", fault.name);
    assert!(!err.contains("panicked"), "{what}: {err}");
    let log = std::fs::read_to_string(&log_file).unwrap();
    let receipts = parse_receipts(&std::fs::read(&out_file).unwrap()).unwrap();
    let fired = log.lines().position(|l| l.contains("(INJECTED)"));
    match fired {
        None => {
            assert_eq!(o.status.code(), Some(0), "{what}: not fired, {err}");
            assert_eq!(receipts.len(), committed.len(), "{what}");
        }
        Some(at) => {
            let late: Vec<&str> = log
                .lines()
                .skip(at + 1)
                .filter(|l| l.contains("{\\\"committed\\\""))
                .collect();
            assert!(
                late.is_empty(),
                "{what}: acknowledged after the fault: {late:?}\n{log}"
            );
            assert_eq!(o.status.code(), Some(2), "{what}: {err}");
            assert!(
                err.contains(fault.message) && err.contains("bamdb:"),
                "{what}: the error is named: {err}"
            );
            // Every commit acknowledged: only possible when the fault hit
            // the close, recording where the message box ends.
            assert!(
                receipts.len() < committed.len() || err.contains("clean-end record"),
                "{what}: {err}"
            );
        }
    }
    oracle
        .record(&committed, &receipts)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    verify_open_check_from(dir, oracle, from).unwrap_or_else(|e| panic!("{what}: {e}"));
    fired.is_some()
}

#[test]
fn injected_fsync_and_write_faults_stop_acknowledgements_and_lose_nothing_acknowledged() {
    if let Err(why) = strace_usable() {
        println!("skipped: {why}");
        return;
    }
    let max_n = env_count("BAMDB_STRACE_MAX_N", 8);
    let mut rng = Rng::from_env();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let mut oracle = Oracle::default();
    let mut runs = 0;
    let mut previous_start = 0;
    for fault in &FAULTS {
        let mut fired = 0;
        for n in 1..=max_n {
            runs += 1;
            // This and the previous run's groups one by one and the
            // global totals; every group every 20 runs and at each fault's
            // last run.
            let this_start = oracle.groups.len();
            let full = runs % 20 == 0 || n == max_n;
            let from = (!full).then_some(previous_start);
            if run(&dir, tmp.path(), fault, n, from, &mut oracle, &mut rng) {
                fired += 1;
            }
            previous_start = this_start;
        }
        eprintln!("{}: fired in {fired} of {max_n} runs", fault.name);
        assert!(fired > 0, "{}: the fault never fired", fault.name);
    }
    eprintln!(
        "strace: {runs} runs, {} groups acknowledged and recovered",
        oracle.acked()
    );
}
