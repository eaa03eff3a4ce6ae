//! Regression (issue 12, "Ingest reports"): ingest printed no summary, so
//! events the bus quarantined after their commit (an undeployed activity)
//! went unnoticed. Now a summary line on stderr counts committed and
//! rejected groups and the frames of this run the bus quarantined, points at
//! `quarantine list`; `--quiet` prints only it; `--strict` exits 1 then.

mod cli_common;

use cli_common::*;

/// A good group, then a group for the undeployed activity Invoice.
fn input() -> String {
    format!(
        "{}{{\"op\":\"flush\"}}\n\
         {{\"op\":\"begin\",\"activity\":\"Invoice\",\"id\":\"INV-1\"}}\n",
        po_lines(0..1)
    )
}

fn summary_line(err: &str) -> &str {
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("summary:")).collect();
    assert_eq!(lines.len(), 1, "one summary line: {err}");
    lines[0]
}

#[test]
fn summary_counts_groups_events_and_quarantined_frames() {
    let (_tmp, dir) = deployed_store();
    let o = bamdb(&["ingest", "--store", s(&dir)], &input());
    no_panic(&o);
    let err = stderr(&o);
    assert_eq!(
        code(&o),
        0,
        "quarantine is not a failure without --strict: {err}"
    );
    assert_eq!(receipts(&o).len(), 2);
    let summary = summary_line(&err);
    assert!(
        summary.contains("2 groups committed (4 events, last LSN"),
        "{summary}"
    );
    assert!(summary.contains("0 groups rejected"), "{summary}");
    assert!(
        summary.contains("1 frame of this run quarantined by the bus"),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("bamdb quarantine list --store {}", s(&dir))),
        "{summary}"
    );

    // A second run counts only its own frames.
    let o = bamdb(&["ingest", "--store", s(&dir)], &po_lines(1..2));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(summary_line(&err).contains("0 frames quarantined"), "{err}");
}

#[test]
fn quiet_prints_only_the_summary() {
    let (_tmp, dir) = deployed_store();
    let bad = "not json\n{\"op\":\"flush\"}\n";
    let o = bamdb(&["ingest", "--store", s(&dir), "--quiet"], &(input() + bad));
    no_panic(&o);
    assert_eq!(code(&o), 1, "a rejected group still exits 1");
    assert_eq!(stdout(&o), "", "no receipts");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "only the summary: {err}");
    assert!(
        summary_line(&err).contains("1 group rejected (1 bad line)"),
        "{err}"
    );
}

#[test]
fn strict_exits_1_when_the_bus_quarantined_frames() {
    let (_tmp, dir) = deployed_store();
    let o = bamdb(&["ingest", "--store", s(&dir), "--strict"], &input());
    no_panic(&o);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("1 frame of this run quarantined"));

    let o = bamdb(&["ingest", "--store", s(&dir), "--strict"], &po_lines(1..2));
    assert_eq!(code(&o), 0, "nothing quarantined: {}", stderr(&o));
}
