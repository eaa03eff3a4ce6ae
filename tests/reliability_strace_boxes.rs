//! Campaign 4 (tests/reliability_strace.rs) extended to producers' message
//! boxes and to the bus process, separately (issue 16): real fault
//! injection with `strace -e inject=...:when=N`, restricted with `-P`
//! - to a producer's box log (and the file receiving its receipts), on
//!   `bamdb ingest --store S --box p`: after the fault no receipt is
//!   printed, the process exits 2 naming the error; the box reopens and
//!   the bus imports every acknowledged flush once, the one in doubt whole
//!   or not at all;
//! - to the store's own message box, on `bamdb bus --store S --drain`
//!   copying a full box: the bus stops (exit 2) naming the error; a new
//!   bus imports every frame of the box exactly once.
//!
//! Faults: `fdatasync` EIO and `pwrite64`/`write` ENOSPC at the N-th call.
//! Needs `strace` (.ci/run installs it) and ptrace; otherwise prints
//! `skipped: <why>` and passes.
//! CI: N = 1..=6 per fault and side. Long form:
//! `BAMDB_STRACE_MAX_N=100 cargo test --release --test reliability_strace_boxes -- --nocapture`

mod reliability_common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use bamdb::{Store, StoreOptions};
use reliability_common::*;

const FAULTS: [(&str, &str, &str); 2] = [
    ("fdatasync EIO", "fdatasync:error=EIO", "Input/output error"),
    (
        "write ENOSPC",
        "pwrite64,write,pwritev,pwritev2:error=ENOSPC",
        "No space left",
    ),
];

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

fn groups(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|k| {
            format!(
                "{{\"op\":\"begin\",\"activity\":\"{ACTIVITY}\",\"id\":\"{prefix}-{k}\"}}\n\
                 {{\"op\":\"end\",\"activity\":\"{ACTIVITY}\",\"id\":\"{prefix}-{k}\"}}\n\
                 {{\"op\":\"flush\"}}\n"
            )
        })
        .collect()
}

/// `strace` restricted to `paths` and every file in them, injecting
/// `inject` at its `n`-th call, running `bamdb ARGS`.
fn traced(paths: &[&Path], log: &Path, inject: &str, n: u64, args: &[&str]) -> Command {
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-y", "-o"]).arg(log);
    for path in paths {
        cmd.arg("-P").arg(path);
        if let Ok(entries) = std::fs::read_dir(path) {
            for e in entries {
                cmd.arg("-P").arg(e.unwrap().path());
            }
        }
    }
    cmd.args([
        "-e",
        "trace=fdatasync,fsync,write,pwrite64,pwritev,pwritev2",
        "-e",
        &format!("inject={inject}:when={n}"),
        bin(),
    ])
    .args(args);
    cmd
}

/// Drains every box into the store with a clean bus; the ids present, each
/// imported exactly once (frames imported = instances).
fn drain_and_read(dir: &Path, what: &str) -> BTreeSet<String> {
    let o = Command::new(bin())
        .args(["bus", "--drain", "--store"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let store = Store::open(dir, StoreOptions::default()).unwrap();
    assert!(store.sync(Duration::from_secs(60)));
    let ids: BTreeSet<String> = store
        .instances(ACTIVITY)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(
        store.stats().counters.frames_imported,
        ids.len() as u64,
        "{what}: a frame imported twice"
    );
    store.close().unwrap();
    ids
}

fn check_fault(what: &str, o: &std::process::Output, log: &str, message: &str) -> bool {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{what}: {err}");
    match log.lines().position(|l| l.contains("(INJECTED)")) {
        None => {
            assert_eq!(o.status.code(), Some(0), "{what}: not fired, {err}");
            false
        }
        Some(at) => {
            let late: Vec<&str> = log
                .lines()
                .skip(at + 1)
                .filter(|l| l.contains("{\\\"committed\\\""))
                .collect();
            assert!(
                late.is_empty(),
                "{what}: acknowledged after the fault: {late:?}"
            );
            assert_eq!(o.status.code(), Some(2), "{what}: {err}");
            assert!(err.contains(message), "{what}: the error is named: {err}");
            true
        }
    }
}

#[test]
fn faults_in_a_producers_box_lose_nothing_acknowledged() {
    if let Err(why) = strace_usable() {
        println!("skipped: {why}");
        return;
    }
    let max_n = env_count("BAMDB_STRACE_MAX_N", 6);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let store = dir.to_str().unwrap();
    // Make the box, so its log can be named to strace.
    let made = Command::new(bin())
        .args(["ingest", "--store", store, "--box", "p"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(made.status.success());
    let log_dir = dir.join("boxes/p/log");
    let mut expected = BTreeSet::new();
    let mut in_doubt = BTreeSet::new();
    for (name, inject, message) in FAULTS {
        let mut fired = 0;
        for n in 1..=max_n {
            let what = format!("{name} at call {n} of the producer");
            let prefix = format!("B{}-{n}", name.len());
            let input = tmp.path().join("input.jsonl");
            std::fs::write(&input, groups(&prefix, 4 + 2 * n as usize)).unwrap();
            let out = tmp.path().join("out");
            let log = tmp.path().join("strace.log");
            let args = [
                "ingest",
                "--store",
                store,
                "--box",
                "p",
                input.to_str().unwrap(),
            ];
            let o = traced(&[&log_dir, &out], &log, inject, n, &args)
                .stdout(std::fs::File::create(&out).unwrap())
                .output()
                .unwrap();
            let log = std::fs::read_to_string(&log).unwrap();
            if check_fault(&what, &o, &log, message) {
                fired += 1;
            }
            let acked = parse_receipts(&std::fs::read(&out).unwrap()).unwrap().len();
            expected.extend((0..acked).map(|k| format!("{prefix}-{k}")));
            in_doubt.insert(format!("{prefix}-{acked}"));
            let present = drain_and_read(&dir, &what);
            for id in &expected {
                assert!(present.contains(id), "{what}: acknowledged {id} lost");
            }
            for id in &present {
                assert!(
                    expected.contains(id) || in_doubt.contains(id),
                    "{what}: {id} was never acknowledged nor in doubt"
                );
            }
        }
        eprintln!("producer, {name}: fired in {fired} of {max_n} runs");
        assert!(fired > 0, "{name}: the fault never fired");
    }
}

#[test]
fn faults_in_the_bus_store_copy_each_frame_once() {
    if let Err(why) = strace_usable() {
        println!("skipped: {why}");
        return;
    }
    let max_n = env_count("BAMDB_STRACE_MAX_N", 6);
    let tmp = tempfile::tempdir().unwrap();
    let mut runs = 0;
    for (name, inject, message) in FAULTS {
        let mut fired = 0;
        for n in 1..=max_n {
            runs += 1;
            let what = format!("{name} at call {n} of the bus");
            let dir = tmp.path().join(format!("store{runs}"));
            deploy(&dir);
            let store = dir.to_str().unwrap();
            let o = Command::new(bin())
                .args(["ingest", "--store", store, "--box", "p"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    let mut stdin = child.stdin.take().unwrap();
                    stdin.write_all(groups("F", 20).as_bytes())?;
                    drop(stdin);
                    child.wait_with_output()
                })
                .unwrap();
            assert!(o.status.success());
            let log = tmp.path().join("strace.log");
            let o = traced(
                &[&dir.join("wal")],
                &log,
                inject,
                n,
                &["bus", "--drain", "--store", store],
            )
            .output()
            .unwrap();
            let log = std::fs::read_to_string(&log).unwrap();
            if check_fault(&what, &o, &log, message) {
                fired += 1;
            }
            let present = drain_and_read(&dir, &what);
            let all: BTreeSet<String> = (0..20).map(|k| format!("F-{k}")).collect();
            assert_eq!(present, all, "{what}");
        }
        eprintln!("bus, {name}: fired in {fired} of {max_n} runs");
        assert!(fired > 0, "{name}: the fault never fired");
    }
}
