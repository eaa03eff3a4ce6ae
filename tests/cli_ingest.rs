//! `bamdb ingest`: receipts once per durable commit, bad lines named (their
//! group rejected, the other groups committed), flush/clear ops, thresholds,
//! the direct stream, a locked store.

mod cli_common;

use cli_common::*;

#[test]
fn receipts_match_commits_and_stats() {
    let (_tmp, dir) = deployed_store();
    let mut input = po_lines(0..2);
    input.push_str("{\"op\":\"flush\"}\n");
    input.push_str(&po_lines(2..3));
    input.push_str("{\"op\":\"flush\"}\n{\"op\":\"flush\"}\n"); // empty flush: no commit
    input.push_str(&po_lines(3..4)); // flushed by the end of input
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = receipts(&o);
    assert_eq!(r.iter().map(|x| x.1).collect::<Vec<_>>(), vec![6, 3, 3]);
    assert!(
        r.windows(2).all(|w| w[0].0 < w[1].0),
        "LSNs increase: {r:?}"
    );

    let st = bamdb(&["stats", "--store", s(&dir)], "");
    assert_eq!(code(&st), 0, "{}", stderr(&st));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&st)).unwrap();
    assert_eq!(stats["committed_lsn"].as_u64(), Some(r[2].0));
    assert_eq!(stats["applied_lsn"].as_u64(), Some(r[2].0));
    assert_eq!(stats["counters"]["events_imported"].as_u64(), Some(12));
    assert_eq!(stats["completed"].as_u64(), Some(4));
}

#[test]
fn threshold_commits_every_n_events_and_reports_each() {
    let (tmp, dir) = deployed_store();
    let file = tmp.path().join("events.jsonl");
    std::fs::write(&file, po_lines(0..10)).unwrap(); // 30 events
    let o = bamdb(
        &["ingest", "--store", s(&dir), "--threshold", "7", s(&file)],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = receipts(&o);
    assert_eq!(
        r.iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![7, 7, 7, 7, 2]
    );
    assert!(r.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn bad_lines_are_named_and_the_other_groups_are_imported() {
    let (_tmp, dir) = deployed_store();
    let long_id = "x".repeat(500);
    // Lines 1-4: a good group; 5-9: a group with three bad lines and a
    // blank one; 10-12: a good group ended by the end of input.
    let input = format!(
        "{}{{\"op\":\"flush\"}}\n\
         not json\n\
         {{\"op\":\"explode\"}}\n\
         \n\
         {{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"{long_id}\"}}\n\
         {{\"op\":\"flush\"}}\n\
         {}",
        po_lines(0..1),
        po_lines(1..2)
    );
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    assert_eq!(code(&o), 1, "exit 1 when a group was rejected");
    let err = stderr(&o);
    assert!(err.contains("line 5:"), "names line 5: {err}");
    assert!(err.contains("line 6:") && err.contains("explode"), "{err}");
    assert!(err.contains("line 8:"), "names line 8 (too long id): {err}");
    assert!(
        !err.contains("line 7:"),
        "blank line is not an error: {err}"
    );
    assert!(err.contains("lines 5-9: group rejected"), "{err}");
    assert!(err.contains("bad lines 5, 6, 8;"), "{err}");
    assert_eq!(
        receipts(&o).iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![3, 3]
    );
    for id in ["PO-0", "PO-1"] {
        let g = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", id], "");
        assert_eq!(code(&g), 0, "{id}: {}", stderr(&g));
    }
}

#[test]
fn clear_rolls_back_the_buffer() {
    let (_tmp, dir) = deployed_store();
    let input = format!("{}{{\"op\":\"clear\"}}\n{}", po_lines(0..1), po_lines(1..2));
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(receipts(&o).len(), 1);
    let g = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-0"], "");
    assert_eq!(code(&g), 1, "cleared events are never imported");
    let g = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-1"], "");
    assert_eq!(code(&g), 0);
}

#[test]
fn direct_stream_rejects_an_invalid_batch_and_commits_the_rest() {
    let (_tmp, dir) = deployed_store();
    let input = format!(
        "{}{{\"op\":\"flush\"}}\n\
         {{\"op\":\"begin\",\"activity\":\"Nope\",\"id\":\"N-1\"}}\n\
         {{\"op\":\"flush\"}}\n{}",
        po_lines(0..1),
        po_lines(1..2)
    );
    let o = bamdb(&["ingest", "--store", s(&dir), "--direct"], &input);
    no_panic(&o);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("lines 5-6: group rejected"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("Nope"), "{}", stderr(&o));
    assert_eq!(receipts(&o).len(), 2);
    let q = bamdb(&["quarantine", "list", "--store", s(&dir)], "");
    assert_eq!(
        stdout(&q).trim(),
        "",
        "direct: nothing written for the bad batch"
    );
}

#[test]
fn input_file_missing_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let o = bamdb(&["ingest", "--store", s(&dir), "/no/such/file.jsonl"], "");
    no_panic(&o);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("/no/such/file.jsonl"), "{}", stderr(&o));
}

#[test]
fn locked_store_is_refused_without_panic() {
    let (_tmp, dir) = deployed_store();
    let held = bamdb::Store::open(&dir, bamdb::StoreOptions::default()).unwrap();
    // Writers are refused; readers answer read-only (tests/cli_read_only.rs).
    for args in [
        vec!["ingest", "--store", s(&dir)],
        vec!["verify", "--store", s(&dir)],
        vec!["quarantine", "list", "--store", s(&dir)],
    ] {
        let o = bamdb(&args, &po_lines(0..1));
        no_panic(&o);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("locked"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(stdout(&o).is_empty());
    }
    held.close().unwrap();
}
