//! Regression (issue 12, item 1): every bad line was printed, and an error
//! could quote its input whole (an unknown op of 1.5 MB was echoed in full).
//! Now at most 20 bad lines and 20 rejected groups are shown, then counted,
//! and quoted input is clipped.

mod cli_common;

use cli_common::*;

/// Lines of stderr that report one bad line.
fn bad_line_messages(err: &str) -> usize {
    err.lines()
        .filter(|l| l.starts_with("bamdb: standard input line "))
        .count()
}

#[test]
fn fifty_bad_lines_in_one_group_show_twenty_and_a_count() {
    let (_tmp, dir) = deployed_store();
    let input = "not json\n".repeat(50) + &po_lines(0..1);
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert_eq!(bad_line_messages(&err), 20, "{err}");
    assert!(err.contains("... and 30 more bad lines"), "{err}");
    assert!(err.contains("lines 1-53: group rejected"), "{err}");
    assert!(err.contains("19, 20 and 30 more;"), "{err}");
    assert!(err.contains("(50 bad lines)"), "summary counts them: {err}");
}

#[test]
fn fifty_rejected_groups_show_twenty_and_a_count() {
    let (_tmp, dir) = deployed_store();
    let input = "not json\n{\"op\":\"flush\"}\n".repeat(50);
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    let groups = err.lines().filter(|l| l.contains("group rejected")).count();
    assert_eq!(groups, 20, "{err}");
    assert!(err.contains("... and 30 more rejected groups"), "{err}");
    assert!(err.contains("50 groups rejected"), "{err}");
    assert!(err.len() < 20_000, "{} bytes of errors", err.len());
}

#[test]
fn huge_bad_lines_are_not_echoed() {
    let (_tmp, dir) = deployed_store();
    let unknown_op = format!("{{\"op\":\"{}\"}}\n", "x".repeat(1_500_000));
    let unknown_field = format!("{{\"op\":\"flush\",\"{}\":1}}\n", "y".repeat(1_500_000));
    let garbage = "z".repeat(10 << 20) + "\n";
    let input = format!("{unknown_op}{unknown_field}{garbage}{}", po_lines(0..1));
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{}", &err[..err.len().min(2000)]);
    assert!(err.len() < 5_000, "{} bytes of errors", err.len());
    assert!(
        err.contains("line 1: ") && err.contains("unknown op"),
        "{err}"
    );
    assert!(err.contains("line 2: "), "{err}");
    assert!(err.contains("line 3: line is longer than"), "{err}");
    assert!(err.contains("bytes more)"), "says what was clipped: {err}");
}
