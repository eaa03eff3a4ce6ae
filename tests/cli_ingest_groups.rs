//! Regression (issue 12, item 1): a line of a flush group that did not parse
//! was skipped and the rest of its group committed: begin A-1, an update with
//! a trailing comma, end A-1, flush gave exit 1, 2 events committed and A-1
//! completed with no items. A group (the lines up to a flush, a clear or the
//! end of input) is now all or nothing, with the buffered and the direct
//! stream, for lines that do not parse, values over a limit, lines too long
//! and groups too large for one frame; the next groups are committed.

mod cli_common;

use cli_common::*;

const BEGIN_A1: &str = r#"{"op":"begin","activity":"PurchaseOrder","id":"A-1"}"#;
const BAD_UPDATE_A1: &str =
    r#"{"op":"update","activity":"PurchaseOrder","id":"A-1","data":{"Amount":1.5},}"#;
const END_A1: &str = r#"{"op":"end","activity":"PurchaseOrder","id":"A-1"}"#;
const FLUSH: &str = r#"{"op":"flush"}"#;

/// Whether `PurchaseOrder id` can be read back.
fn exists(dir: &std::path::Path, id: &str) -> bool {
    let g = bamdb(&["get", "--store", s(dir), "PurchaseOrder", id], "");
    match code(&g) {
        0 => true,
        1 => false,
        c => panic!("get {id}: exit {c}: {}", stderr(&g)),
    }
}

fn events_imported(dir: &std::path::Path) -> u64 {
    let st = bamdb(&["stats", "--store", s(dir)], "");
    assert_eq!(code(&st), 0, "{}", stderr(&st));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&st)).unwrap();
    stats["counters"]["events_imported"].as_u64().unwrap()
}

/// The repro of the issue, then a good group: nothing of the first group is
/// written, its error names the bad line and the group's lines, the second
/// group is committed, exit 1.
fn trailing_comma_rejects_its_group(extra: &[&str]) {
    let (_tmp, dir) = deployed_store();
    let input = format!(
        "{BEGIN_A1}\n{BAD_UPDATE_A1}\n{END_A1}\n{FLUSH}\n{}",
        po_lines(0..1)
    );
    let mut args = vec!["ingest", "--store", s(&dir)];
    args.extend_from_slice(extra);
    let o = bamdb(&args, &input);
    no_panic(&o);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains("line 2: ") && err.contains("trailing comma"),
        "{err}"
    );
    assert!(
        err.contains("lines 1-4: group rejected, nothing of it was written: bad line 2;"),
        "{err}"
    );
    assert_eq!(err.matches("line 2:").count(), 1, "once per line: {err}");
    assert_eq!(
        receipts(&o).iter().map(|r| r.1).collect::<Vec<_>>(),
        vec![3]
    );
    assert!(!exists(&dir, "A-1"), "nothing of the bad group is written");
    assert!(exists(&dir, "PO-0"), "the next group is committed");
    assert_eq!(events_imported(&dir), 3);
}

#[test]
fn buffered_bad_line_rejects_its_whole_group() {
    trailing_comma_rejects_its_group(&[]);
}

#[test]
fn direct_bad_line_rejects_its_whole_group() {
    trailing_comma_rejects_its_group(&["--direct"]);
}

#[test]
fn value_over_a_limit_and_too_long_line_reject_their_groups() {
    let (_tmp, dir) = deployed_store();
    let long_id = "x".repeat(129); // the limit is 128 characters
    let over_limit = format!(r#"{{"op":"end","activity":"PurchaseOrder","id":"{long_id}"}}"#);
    let long_line = format!(
        r#"{{"op":"update","activity":"PurchaseOrder","id":"A-2","data":{{"Customer":"{}"}}}}"#,
        "c".repeat(3 << 20)
    );
    let input = format!(
        "{BEGIN_A1}\n{over_limit}\n{END_A1}\n{FLUSH}\n\
         {}{long_line}\n{FLUSH}\n{}",
        po_lines(1..2),
        po_lines(2..3)
    );
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(err.contains("lines 1-4: group rejected"), "{err}");
    assert!(err.contains("line 8: line is longer than"), "{err}");
    assert!(err.contains("lines 5-9: group rejected"), "{err}");
    assert!(err.len() < 10_000, "the long line is not echoed: {err}");
    assert!(!exists(&dir, "A-1"));
    assert!(
        !exists(&dir, "PO-1"),
        "the group of the long line is rejected"
    );
    assert!(exists(&dir, "PO-2"));
    assert_eq!(receipts(&o).len(), 1);
}

#[test]
fn group_larger_than_one_frame_is_rejected_not_split() {
    let (_tmp, dir) = deployed_store();
    // 100,001 events: one more than a frame holds.
    let mut input = String::new();
    for i in 0..100_001 {
        input.push_str(&format!(
            "{{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"B-{i}\"}}\n"
        ));
    }
    input.push_str(FLUSH);
    input.push('\n');
    input.push_str(&po_lines(0..1));
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains(
            "lines 1-100002: group rejected, nothing of it was written: too large for one commit"
        ),
        "{err}"
    );
    assert!(err.contains("100000"), "names the limit: {err}");
    assert_eq!(
        receipts(&o).iter().map(|r| r.1).collect::<Vec<_>>(),
        vec![3]
    );
    assert!(
        !exists(&dir, "B-0"),
        "no part of the large group is written"
    );
    assert_eq!(events_imported(&dir), 3);
}

/// With --threshold N a group also ends after its Nth event line (as the
/// help says), so a bad line rejects only its batch of N event lines.
#[test]
fn with_a_threshold_a_bad_line_rejects_its_batch_only() {
    let (_tmp, dir) = deployed_store();
    // Event lines 1-3: PO-0; 4, 6, 7: A-1 with the bad line 5 (not an
    // event, so not counted); 8-10: PO-1.
    let input = format!(
        "{}{BEGIN_A1}\n{BAD_UPDATE_A1}\n{}\n{}\n{}",
        po_lines(0..1),
        r#"{"op":"update","activity":"PurchaseOrder","id":"A-1","data":{"Amount":2.5}}"#,
        END_A1,
        po_lines(1..2).trim_end()
    );
    let o = bamdb(&["ingest", "--store", s(&dir), "--threshold", "3"], &input);
    no_panic(&o);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(err.contains("lines 4-7: group rejected"), "{err}");
    assert_eq!(
        receipts(&o).iter().map(|r| r.1).collect::<Vec<_>>(),
        vec![3, 3]
    );
    assert!(exists(&dir, "PO-0") && exists(&dir, "PO-1"));
    assert!(!exists(&dir, "A-1"));
}

/// A clear drops the group so far; bad lines before it are still reported,
/// and the lines after it form a new group.
#[test]
fn clear_ends_a_group_with_its_bad_lines() {
    let (_tmp, dir) = deployed_store();
    let input = format!(
        "{BEGIN_A1}\n{BAD_UPDATE_A1}\n{{\"op\":\"clear\"}}\n{}",
        po_lines(0..1)
    );
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(err.contains("lines 1-3: group rejected"), "{err}");
    assert_eq!(
        receipts(&o).iter().map(|r| r.1).collect::<Vec<_>>(),
        vec![3]
    );
    assert!(exists(&dir, "PO-0") && !exists(&dir, "A-1"));
}
