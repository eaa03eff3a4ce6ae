//! The multi-process setup through the CLI, as real processes: producers
//! write their own message boxes (`bamdb ingest --box`), the bus runs as
//! its own process (`bamdb bus`), readers query alongside; and the lock
//! races: two buses on one store, two producers on one box, exactly one
//! wins and the other gets a clear error.

mod cli_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use cli_common::*;

fn group(id: &str) -> String {
    format!(
        "{{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\"}}\n\
         {{\"op\":\"end\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\"}}\n\
         {{\"op\":\"flush\"}}\n"
    )
}

/// Waits until one of `children` has exited; its index. Another process's
/// exit is not announced to this one, so it is looked for every 10 ms.
fn first_exit(children: &mut [Child]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        for (i, child) in children.iter_mut().enumerate() {
            if child.try_wait().expect("try_wait").is_some() {
                return i;
            }
        }
        assert!(Instant::now() < deadline, "neither process exited");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn terminate(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

fn rest_of_stderr(child: &mut Child) -> String {
    let mut text = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut text)
        .expect("read stderr");
    text
}

#[test]
fn a_producer_a_bus_and_a_reader_each_in_its_own_process() {
    let (_tmp, dir) = deployed_store();
    let store = s(&dir);
    let input = group("PO-1") + &group("PO-2");
    let o = bamdb(&["ingest", "--store", store, "--box", "shop"], &input);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(receipts(&o), vec![(1, 2), (2, 2)]);
    assert!(stderr(&o).contains("bamdb bus"), "{}", stderr(&o));
    // Not imported yet: no bus ran.
    let o = bamdb(&["get", "--store", store, "PurchaseOrder", "PO-1"], "");
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o = bamdb(&["bus", "--store", store, "--drain"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let copied: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(copied["frames"], 2);
    assert_eq!(copied["boxes"], 1);
    let o = bamdb(&["get", "--store", store, "PurchaseOrder", "PO-2"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // Draining again copies nothing more.
    let o = bamdb(&["bus", "--store", store, "--drain"], "");
    let copied: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(copied["frames"], 0);
}

#[test]
fn a_running_bus_imports_producers_as_they_commit_and_readers_query_alongside() {
    let (tmp, dir) = deployed_store();
    let store = s(&dir);
    let elsewhere = tmp.path().join("outbox");
    let mut bus = spawn(
        &["bus", "--store", store, "--box", s(&elsewhere)],
        Stdio::null(),
    );
    let o = bamdb(&["ingest", "--box-dir", s(&elsewhere)], &group("PO-7"));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A reader does not need the bus's lock; the import shows up.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let o = bamdb(&["get", "--store", store, "PurchaseOrder", "PO-7"], "");
        no_panic(&o);
        if code(&o) == 0 {
            break;
        }
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        assert!(Instant::now() < deadline, "the bus never imported PO-7");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Commands that need the writer lock say so while the bus runs.
    let defs_file = dir.with_extension("defs.json");
    let o = bamdb(&["deploy", "--store", store, s(&defs_file)], "");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("locked"), "{}", stderr(&o));
    terminate(&bus);
    let status = bus.wait().unwrap();
    let err = rest_of_stderr(&mut bus);
    assert_eq!(
        status.code(),
        Some(0),
        "a stopped bus closes cleanly: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("bamdb bus: stopped; copied 1 frame ("),
        "{err}"
    );
    assert!(err.contains(" from 1 box"), "{err}");
}

#[test]
fn two_bus_processes_on_one_store_exactly_one_wins() {
    let (_tmp, dir) = deployed_store();
    let store = s(&dir);
    for _ in 0..5 {
        let mut buses = [
            spawn(&["bus", "--store", store], Stdio::null()),
            spawn(&["bus", "--store", store], Stdio::null()),
        ];
        let loser = first_exit(&mut buses);
        let winner = 1 - loser;
        let status = buses[loser].wait().unwrap();
        let err = rest_of_stderr(&mut buses[loser]);
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains("is locked"), "the loser names the lock: {err}");
        assert!(
            buses[winner].try_wait().unwrap().is_none(),
            "the winner runs on"
        );
        terminate(&buses[winner]);
        assert_eq!(buses[winner].wait().unwrap().code(), Some(0));
    }
}

#[test]
fn two_producers_on_one_box_exactly_one_wins() {
    let (_tmp, dir) = deployed_store();
    let store = s(&dir);
    let args = ["ingest", "--store", store, "--box", "shared"];
    let mut producers = [spawn(&args, Stdio::piped()), spawn(&args, Stdio::piped())];
    let mut stdins: Vec<_> = producers
        .iter_mut()
        .map(|p| p.stdin.take().unwrap())
        .collect();
    for (who, stdin) in stdins.iter_mut().enumerate() {
        let _ = stdin.write_all(group(&format!("P-{who}")).as_bytes());
        let _ = stdin.flush();
    }
    let firsts: Vec<String> = producers
        .iter_mut()
        .map(|p| {
            let mut line = String::new();
            BufReader::new(p.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            line
        })
        .collect();
    let winners: Vec<usize> = (0..2).filter(|&i| !firsts[i].is_empty()).collect();
    assert_eq!(winners.len(), 1, "{firsts:?}");
    let (winner, loser) = (winners[0], 1 - winners[0]);
    let status = producers[loser].wait().unwrap();
    let err = rest_of_stderr(&mut producers[loser]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("is locked: another producer") && err.contains("its own box"),
        "{err}"
    );
    drop(stdins);
    assert_eq!(producers[winner].wait().unwrap().code(), Some(0));
    let o = bamdb(&["bus", "--store", store, "--drain"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let found = |id: String| code(&bamdb(&["get", "--store", store, "PurchaseOrder", &id], ""));
    assert_eq!(found(format!("P-{winner}")), 0);
    assert_eq!(found(format!("P-{loser}")), 1);
}

#[test]
fn bad_box_arguments_are_usage_errors() {
    let (_tmp, dir) = deployed_store();
    let store = s(&dir);
    let o = bamdb(&["ingest", "--store", store, "--box", "../up"], &group("X"));
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("message box name"), "{}", stderr(&o));
    let o = bamdb(&["ingest", "--box", "a"], &group("X"));
    assert_eq!(code(&o), 2);
    let o = bamdb(&["ingest", "--store", store, "--box", "a", "--direct"], "");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    let o = bamdb(
        &["bus", "--store", s(&dir.with_extension("none")), "--drain"],
        "",
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("not a store") || stderr(&o).contains("does not"),
        "{}",
        stderr(&o)
    );
    no_panic(&o);
}
