//! `{"op":"flush","seq":N}`: `bamdb ingest` numbers a group for its
//! producer, so sending the same input again imports nothing twice.

mod cli_common;

use cli_common::*;

#[test]
fn sending_the_same_numbered_input_twice_imports_it_once() {
    let (_tmp, dir) = deployed_store();
    let d = s(&dir);
    let input = format!(
        "{}{{\"op\":\"flush\",\"seq\":1}}\n{}{{\"op\":\"flush\",\"seq\":2}}\n",
        po_lines(0..3),
        po_lines(3..5)
    );
    let first = bamdb(&["ingest", "--store", d, "--producer", "5"], &input);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    assert!(!stderr(&first).contains("skipped"), "{}", stderr(&first));
    let again = bamdb(&["ingest", "--store", d, "--producer", "5"], &input);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(
        stderr(&again).contains("2 groups skipped as already imported"),
        "{}",
        stderr(&again)
    );
    let o = bamdb(&["stats", "--store", d], "");
    let stats: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(stats["duplicates"], 2, "{stats}");
    assert_eq!(
        stats["counters"]["frames_imported"], 2,
        "the 2 groups once: {stats}"
    );
    // Another producer's numbers are its own.
    let other = bamdb(&["ingest", "--store", d, "--producer", "6"], &input);
    assert!(!stderr(&other).contains("skipped"), "{}", stderr(&other));
    let bad = bamdb(&["ingest", "--store", d], "{\"op\":\"flush\",\"seq\":-1}\n");
    assert_eq!(code(&bad), 1, "a bad line: {}", stderr(&bad));
}
