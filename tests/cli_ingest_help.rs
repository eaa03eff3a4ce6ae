//! Regression (issue 12, "Exit codes and help match"): the input format of
//! ingest was documented nowhere a user sees it (the long help written in
//! ingest.rs was replaced by the exit codes; reference, relate, clear and
//! the ts field were never shown). `bamdb ingest --help` now documents every
//! op and field, groups, receipts, the summary and the exit codes.

mod cli_common;

use cli_common::*;

#[test]
fn long_help_documents_the_whole_input_format() {
    let o = bamdb(&["ingest", "--help"], "");
    assert_eq!(code(&o), 0);
    // Whitespace-insensitive: the text is wrapped by hand.
    let help = stdout(&o).split_whitespace().collect::<Vec<_>>().join(" ");
    for op in [
        "begin",
        "update",
        "end",
        "continue",
        "reference",
        "relate",
        "flush",
        "clear",
    ] {
        assert!(
            help.contains(&format!("{{\"op\":\"{op}\"")),
            "op {op}: {help}"
        );
    }
    for field in [
        "\"activity\"",
        "\"id\"",
        "\"ts\"",
        "\"data\"",
        "\"token\"",
        "\"type\"",
        "\"name\"",
        "\"long_data\"",
        "\"related_activity\"",
        "\"related_id\"",
    ] {
        assert!(help.contains(field), "field {field}: {help}");
    }
    for topic in [
        "RFC 3339",
        "blank lines are skipped",
        "byte order mark",
        "all or nothing",
        "{\"committed\":LSN,\"events\":N}",
        "summary",
        "--producer",
        "Exit codes:",
        "standard output is closed",
    ] {
        assert!(help.contains(topic), "{topic}: {help}");
    }
}

#[test]
fn short_help_points_at_the_long_one() {
    let o = bamdb(&["ingest", "-h"], "");
    assert_eq!(code(&o), 0);
    let help = stdout(&o);
    assert!(help.contains("see --help"), "{help}");
    assert!(help.contains("Exit codes:"), "{help}");
}
