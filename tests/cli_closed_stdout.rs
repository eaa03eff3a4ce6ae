//! Regression: `bamdb demo | head -1` panicked (exit 101, a backtrace:
//! `println!` on a closed pipe), and read commands exited 2 when their
//! reader went away. A closed standard output now ends the demo and the
//! read commands quietly, with exit code 0, as `grep` or `cat` under a
//! pager do.

mod cli_common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use cli_common::*;

/// Runs `bamdb ARGS`, reads the first line of its output, closes the pipe,
/// and returns (exit code, that line, stderr).
fn first_line_then_close(args: &[&str]) -> (i32, String, String) {
    let mut child = spawn(args, Stdio::null());
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read the first line");
    drop(out); // the reader goes away, like `head -1`
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read stderr");
    let status = child.wait().expect("wait");
    (status.code().expect("exited, not killed"), line, err)
}

#[test]
fn demo_into_a_closed_pipe_stops_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let (code, line, err) =
        first_line_then_close(&["demo", "--activities", "300", "--store", s(&dir)]);
    assert!(line.starts_with("bamdb demo: store"), "{line}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(code, 0, "{err}");
    assert!(err.trim().is_empty(), "nothing to report: {err}");
}

#[test]
fn long_search_output_into_a_closed_pipe_stops_quietly() {
    let (_tmp, dir) = deployed_store();
    // Far more than a pipe buffer (64 KiB) of output, so the writes after
    // the close are certain to fail with EPIPE.
    let o = bamdb(&["ingest", "--store", s(&dir)], &po_lines(0..3000));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for format in ["jsonl", "json", "table", "csv", "tsv"] {
        let (code, line, err) = first_line_then_close(&[
            "search",
            "--store",
            s(&dir),
            "PurchaseOrder",
            "--format",
            format,
        ]);
        assert!(
            line.contains("PO-") || line.contains("id") || line.trim() == "[",
            "{format}: {line}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(code, 0, "{format}: {err}");
        assert!(err.trim().is_empty(), "{format}: {err}");
    }
    // The store is fine afterwards.
    let o = bamdb(&["verify", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}
