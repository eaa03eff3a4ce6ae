//! `--wait SECS`: a command that needs the writer lock waits for another
//! process to close the store instead of failing with "locked" at once.

mod cli_common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bamdb::{Store, StoreOptions};
use cli_common::*;

#[test]
fn ingest_with_wait_starts_once_the_holder_closes_the_store() {
    let (_tmp, dir) = deployed_store();
    let held = Store::open(&dir, StoreOptions::default()).unwrap();
    let mut child = spawn(
        &["ingest", "--wait", "60", "--store", s(&dir)],
        Stdio::piped(),
    );
    let mut input = child.stdin.take().unwrap();
    input.write_all(po_lines(0..3).as_bytes()).unwrap();
    drop(input);
    // Without --wait it would have exited with "locked" at once; it is
    // still waiting while the lock is held.
    let held_since = Instant::now();
    while held_since.elapsed() < Duration::from_millis(500) {
        assert!(child.try_wait().unwrap().is_none(), "it did not wait");
        std::thread::sleep(Duration::from_millis(20));
    }
    held.close().unwrap();
    let out = child.wait_with_output().unwrap();
    no_panic(&out);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(receipts(&out).iter().map(|r| r.1).sum::<u64>(), 9);
    let store = Store::open(&dir, StoreOptions::default()).unwrap();
    assert!(store.get("PurchaseOrder", "PO-2").unwrap().is_some());
    store.close().unwrap();
}

#[test]
fn a_wait_that_runs_out_is_locked_with_advice_and_bad_waits_are_usage_errors() {
    let (_tmp, dir) = deployed_store();
    let held = Store::open(&dir, StoreOptions::default()).unwrap();
    let start = Instant::now();
    let o = bamdb(&["verify", "--store", s(&dir), "--wait", "0.3"], "");
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "it did not wait"
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("locked"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--wait"), "{}", stderr(&o));
    for bad in ["abc", "-1", "inf"] {
        let arg = format!("--wait={bad}");
        let o = bamdb(&["ingest", "--store", s(&dir), &arg], "");
        assert_eq!(code(&o), 2, "--wait {bad}");
        assert!(stderr(&o).contains("--wait"), "{}", stderr(&o));
    }
    held.close().unwrap();
}
