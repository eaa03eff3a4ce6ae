//! `bamdb verify` through the real binary: a clean store is sound; a byte
//! flipped in a message box frame, an import file or the manifest is found,
//! named, and exits 1; a locked store exits 2. Damage that was handled (a
//! damaged message box region set aside in quarantine, dropped or not) is
//! a note and exits 0 (regression: it failed verify for as long as the
//! message box segment was kept).

mod cli_common;
mod quarantine_common;

use std::path::{Path, PathBuf};

use cli_common::{bamdb, code, deployed_store, no_panic, po_lines, s, stderr, stdout};

/// A closed store with a deploy frame, several ingest frames, an import
/// file and a checkpoint.
fn store() -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = deployed_store();
    let o = bamdb(
        &["ingest", "--store", s(&dir), "--threshold", "1"],
        &po_lines(0..5),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    (tmp, dir)
}

fn verify(dir: &Path) -> (i32, String) {
    let o = bamdb(&["verify", "--store", s(dir)], "");
    no_panic(&o);
    (code(&o), format!("{}{}", stdout(&o), stderr(&o)))
}

fn flip(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    assert!(
        offset < bytes.len(),
        "{} is {} bytes",
        path.display(),
        bytes.len()
    );
    bytes[offset] ^= 0x5a;
    std::fs::write(path, bytes).unwrap();
}

fn only_file(dir: &Path, ext: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn a_clean_store_is_sound() {
    let (_tmp, dir) = store();
    let (c, out) = verify(&dir);
    assert_eq!(c, 0, "{out}");
    assert!(out.contains("sound"), "{out}");
    assert!(!out.contains("problem"), "{out}");
    assert!(out.contains("1 import files (5 records)"), "{out}");
    assert!(out.contains("a checkpoint"), "{out}");
    // Verifying changes nothing: a second run agrees.
    assert_eq!(verify(&dir).0, 0);
}

#[test]
fn a_damaged_message_box_frame_is_named() {
    let (_tmp, dir) = store();
    let wal = only_file(&dir.join("wal"), "wal");
    // The first frame (the deploy) starts after the 32-byte segment header
    // and its 24-byte frame header; later frames follow it, so this is
    // damage, not a torn tail.
    flip(&wal, 32 + 24 + 3);
    let (c, out) = verify(&dir);
    assert_eq!(c, 1, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("problem:"))
        .expect("a problem line");
    assert!(line.contains(s(&wal)), "{out}");
    assert!(line.contains("at byte 32"), "{out}");
    assert!(line.contains("LSN 1"), "{out}");
    assert!(out.contains("NOT sound"), "{out}");
}

#[test]
fn a_damaged_import_file_is_named() {
    let (_tmp, dir) = store();
    let seg = only_file(&dir.join("segments"), "seg");
    // Inside the first record, past the 16-byte file header.
    flip(&seg, 16 + 12);
    let (c, out) = verify(&dir);
    assert_eq!(c, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("problem:") && l.contains(s(&seg))),
        "{out}"
    );
}

#[test]
fn a_damaged_manifest_is_named() {
    let (_tmp, dir) = store();
    let manifest = dir.join("segments").join("MANIFEST");
    let len = std::fs::metadata(&manifest).unwrap().len() as usize;
    flip(&manifest, len - 2);
    let (c, out) = verify(&dir);
    assert_eq!(c, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("problem:") && l.contains(s(&manifest))),
        "{out}"
    );
}

#[test]
fn a_damaged_checkpoint_is_named() {
    let (_tmp, dir) = store();
    let ckpt = only_file(&dir.join("segments"), "ckpt");
    let len = std::fs::metadata(&ckpt).unwrap().len() as usize;
    flip(&ckpt, len - 1);
    let (c, out) = verify(&dir);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains(s(&ckpt)), "{out}");
}

#[test]
fn a_locked_store_is_exit_2() {
    let (_tmp, dir) = store();
    let held = bamdb::Store::open(&dir, bamdb::StoreOptions::default()).unwrap();
    let o = bamdb(&["verify", "--store", s(&dir)], "");
    no_panic(&o);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stderr(&o).contains("locked"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);
    drop(held);
}

#[test]
fn a_damaged_region_set_aside_in_quarantine_is_a_note_not_a_problem() {
    let (_tmp, dir, victim) = quarantine_common::store_with_damaged_frame();
    // Before the bus has read it, nothing accounts for the damage.
    let (c, out) = verify(&dir);
    assert_eq!(c, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("problem:") && l.contains(&format!("LSN {victim}"))),
        "{out}"
    );

    // The bus sets it aside; it can never be replayed.
    quarantine_common::import(&dir);
    let entries = quarantine_common::entries(&dir, true);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let id = entries[0]["id"].to_string();
    let o = bamdb(&["quarantine", "replay", "--store", s(&dir), &id], "");
    assert!(stdout(&o).contains("not_replayable"), "{}", stdout(&o));

    // Handled: a note naming the damage and the entry, exit 0.
    let (c, out) = verify(&dir);
    assert_eq!(c, 0, "{out}");
    assert!(!out.contains("problem:"), "{out}");
    let wal = only_file(&dir.join("wal"), "wal");
    assert!(
        out.lines().any(|l| l.starts_with("note:")
            && l.contains(s(&wal))
            && l.contains(&format!("LSN {victim}..={victim}"))
            && l.contains(&format!("quarantine entry {id}"))),
        "{out}"
    );
    assert!(out.contains("not replayable; unresolved"), "{out}");

    // Dropped by the operator: still a note, now with the decision.
    let o = bamdb(
        &[
            "quarantine",
            "drop",
            "--store",
            s(&dir),
            &id,
            "--reason",
            "deploy frame, sent again",
        ],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (c, out) = verify(&dir);
    assert_eq!(c, 0, "{out}");
    assert!(out.contains("deploy frame, sent again"), "{out}");

    // The JSON report carries the same notes.
    let o = bamdb(&["verify", "--store", s(&dir), "--json"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["sound"], true);
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);
    assert!(v["notes"].as_array().unwrap().len() >= 2, "{v}");
    assert_eq!(v["quarantine_entries"]["dropped"], 1);

    // Fresh damage elsewhere is still a problem, with its location.
    flip(&wal, 32 + 24 + 3);
    let (c, out) = verify(&dir);
    assert_eq!(c, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("problem:") && l.contains("LSN 1") && l.contains("at byte 32")),
        "{out}"
    );
}
