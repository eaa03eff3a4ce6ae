//! deploy, get, stats, quarantine, verify and --help through the real
//! binary, with their exit codes.

mod cli_common;

use cli_common::*;

#[test]
fn help_on_every_command() {
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["deploy", "--help"],
        vec!["ingest", "--help"],
        vec!["get", "--help"],
        vec!["stats", "--help"],
        vec!["quarantine", "--help"],
        vec!["quarantine", "list", "--help"],
        vec!["quarantine", "show", "--help"],
        vec!["quarantine", "replay", "--help"],
        vec!["verify", "--help"],
    ] {
        let o = bamdb(&args, "");
        assert_eq!(code(&o), 0, "{args:?}");
        assert!(stdout(&o).contains("Usage:"), "{args:?}");
    }
    let o = bamdb(&["--help"], "");
    assert!(stdout(&o).contains("Exit codes"), "exit codes documented");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["nonsense"],
        vec!["get", "--store", "x"],
        vec!["quarantine", "replay", "--store", "x"],
        vec!["demo", "--activities", "0"],
    ] {
        let o = bamdb(&args, "");
        no_panic(&o);
        assert_eq!(code(&o), 2, "{args:?}");
    }
}

#[test]
fn deploy_one_definition_or_an_array_and_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let one = tmp.path().join("one.json");
    std::fs::write(
        &one,
        r#"{"name":"Invoice","items":[{"name":"Total","type":"float"}]}"#,
    )
    .unwrap();
    let o = bamdb(&["deploy", "--store", s(&dir), s(&one)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), r#"{"deployed":"Invoice"}"#);
    deploy_defs(&dir);

    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"name\":\"X\",\n \"items\": [}").unwrap();
    let o = bamdb(&["deploy", "--store", s(&dir), s(&bad)], "");
    no_panic(&o);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("bad.json") && stderr(&o).contains("line 2"),
        "{}",
        stderr(&o)
    );

    // Retyping an item is not a compatible upgrade.
    std::fs::write(
        &bad,
        r#"{"name":"Invoice","items":[{"name":"Total","type":"int"}]}"#,
    )
    .unwrap();
    let o = bamdb(&["deploy", "--store", s(&dir), s(&bad)], "");
    no_panic(&o);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("Invoice"), "{}", stderr(&o));

    let o = bamdb(&["deploy", "--store", s(&dir), "/no/such.json"], "");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("/no/such.json"));
}

#[test]
fn get_found_not_found_and_missing_store() {
    let (tmp, dir) = deployed_store();
    let o = bamdb(&["ingest", "--store", s(&dir)], &po_lines(0..1));
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let o = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-0"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["id"], "PO-0");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["items"]["Amount"], 0.5);

    let o = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-404"], "");
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("PO-404"));

    let missing = tmp.path().join("nowhere");
    let o = bamdb(
        &["get", "--store", s(&missing), "PurchaseOrder", "PO-0"],
        "",
    );
    no_panic(&o);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!missing.exists(), "get does not create a store");
}

#[test]
fn quarantine_list_show_and_replay_after_deploying_the_definition() {
    let (tmp, dir) = deployed_store();
    let input = "{\"op\":\"begin\",\"activity\":\"Invoice\",\"id\":\"INV-1\"}\n\
                 {\"op\":\"update\",\"activity\":\"Invoice\",\"id\":\"INV-1\",\"data\":{\"Total\":9.5}}\n";
    let o = bamdb(&["ingest", "--store", s(&dir)], input);
    assert_eq!(code(&o), 0, "buffered: committed, quarantined later");

    let o = bamdb(&["quarantine", "list", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    let id = lines[0]["id"].as_u64().unwrap();
    assert!(lines[0]["reasons"][0].as_str().unwrap().contains("Invoice"));
    assert_eq!(lines[0]["resolved"], false);

    let o = bamdb(
        &["quarantine", "show", "--store", s(&dir), &id.to_string()],
        "",
    );
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["id"].as_u64(), Some(id));
    // The events come back in the form `ingest` reads, so they can be fixed.
    let events = v["decoded_events"].as_array().expect("decoded events");
    assert_eq!(events.len(), 2, "{v}");
    assert_eq!(events[0]["op"], "begin");
    assert_eq!(events[1]["id"], "INV-1");
    assert_eq!(events[1]["data"]["Total"], 9.5);
    let o = bamdb(&["quarantine", "show", "--store", s(&dir), "999"], "");
    assert_eq!(code(&o), 1);

    // Still invalid: exit 1, entry stays.
    let o = bamdb(&["quarantine", "replay", "--store", s(&dir), "--all"], "");
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("still_invalid"));

    let def = tmp.path().join("invoice.json");
    std::fs::write(
        &def,
        r#"{"name":"Invoice","items":[{"name":"Total","type":"float"}]}"#,
    )
    .unwrap();
    assert_eq!(
        code(&bamdb(&["deploy", "--store", s(&dir), s(&def)], "")),
        0
    );
    let o = bamdb(
        &["quarantine", "replay", "--store", s(&dir), &id.to_string()],
        "",
    );
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("\"imported\""), "{}", stdout(&o));
    let o = bamdb(&["get", "--store", s(&dir), "Invoice", "INV-1"], "");
    assert_eq!(code(&o), 0);
    let o = bamdb(
        &["quarantine", "replay", "--store", s(&dir), &id.to_string()],
        "",
    );
    assert!(stdout(&o).contains("already_resolved"), "{}", stdout(&o));
    let o = bamdb(&["quarantine", "replay", "--store", s(&dir), "--all"], "");
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o).trim(), "", "nothing unresolved left");
}

#[test]
fn verify_sound_store_and_missing_store() {
    let (tmp, dir) = deployed_store();
    let o = bamdb(&["ingest", "--store", s(&dir)], &po_lines(0..3));
    assert_eq!(code(&o), 0);
    let o = bamdb(&["verify", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("sound"));
    let o = bamdb(&["verify", "--store", s(&tmp.path().join("nowhere"))], "");
    no_panic(&o);
    assert_eq!(code(&o), 2);
}

#[test]
fn damaged_manifest_is_a_clear_error() {
    let (_tmp, dir) = deployed_store();
    let o = bamdb(&["ingest", "--store", s(&dir)], &po_lines(0..3));
    assert_eq!(code(&o), 0);
    let manifest = dir.join("segments").join("MANIFEST");
    assert!(manifest.exists());
    std::fs::write(&manifest, b"garbage, not a manifest").unwrap();
    for args in [
        vec!["stats", "--store", s(&dir)],
        vec!["get", "--store", s(&dir), "PurchaseOrder", "PO-0"],
    ] {
        let o = bamdb(&args, "");
        no_panic(&o);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
    let o = bamdb(&["verify", "--store", s(&dir)], "");
    no_panic(&o);
    assert_eq!(
        code(&o),
        1,
        "verify reports it: {}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(stdout(&o).contains("problem"), "{}", stdout(&o));
}
