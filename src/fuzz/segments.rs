//! Fuzz entry points for the primary import's files.

use std::path::Path;
use std::sync::Arc;

use crate::bus::state::{Node, Stamp};
use crate::segments::active_run::{merge_runs, write_run, ActiveRun, Found, RunEntry};
use crate::segments::columns::ColumnId;
use crate::segments::file::{write_import_file, ImportFile};
use crate::segments::manifest::Manifest;
use crate::segments::record::{StoredInstance, StoredValue};
use crate::storage::{MemStorage, OpenMode, Storage};

fn disk_with(name: &str, data: &[u8]) -> MemStorage {
    let disk = MemStorage::new();
    let dir = Path::new("/f");
    let written = disk
        .create_dir_all(dir)
        .and_then(|()| disk.open_file(&dir.join(name), OpenMode::CreateNew))
        .and_then(|f| f.write_all_at(data, 0));
    assert!(written.is_ok(), "setting up the in-memory disk failed");
    disk
}

/// Opens `data` as an import file and reads everything in it (records,
/// their parts, lookups, the column directory, every checksummed chunk,
/// the column projection): never a panic; a projection that verified
/// against the records has one row per record.
pub fn import_file(data: &[u8]) {
    let disk = disk_with("x.seg", data);
    let Ok(file) = ImportFile::open(&disk, Path::new("/f"), "x.seg") else {
        return;
    };
    let records: Vec<StoredInstance> = file.records().filter_map(Result::ok).collect();
    for rec in records.iter().take(64) {
        // Lookups must not panic; with a damaged index they may miss.
        let _ = file.get(&rec.activity, &rec.id);
        // Nor may decoding the parts a late event would reopen.
        let _ = crate::bus::check_parts(rec);
    }
    let _ = file.get("PurchaseOrder", "PO-1");
    // The stored sections (version 3 and later): the directory (with its
    // block ranges, version 4), each activity's columns as a query
    // decodes them, every chunk, and the stored columns (block ranges
    // included) against the records; none may panic.
    if let Ok(Some(dir)) = file.column_directory() {
        for act in &dir.activities {
            let mut wanted = vec![ColumnId::Begin, ColumnId::End, ColumnId::LastModified];
            wanted.extend(act.items.iter().map(|(name, _)| ColumnId::Item(name)));
            // Some rows only, as a narrow window reads them (before the
            // whole columns, which would be kept and used instead).
            let rows = usize::try_from(act.rows).unwrap_or(usize::MAX);
            let runs = [0..rows.min(1), rows / 2..rows / 2 + 1];
            let _ = file.activity_columns(&act.name, &wanted, Some(&runs));
            let _ = file.activity_columns(&act.name, &wanted, None);
        }
    }
    let sections_ok = file.verify_sections().is_ok();
    // The column projection holds one row per record it could read.
    if let Ok(columns) = file.columns() {
        let rows: usize = columns.activities.values().map(|a| a.rows()).sum();
        // A projection that verified against the records has a row for
        // each (a damaged one that did not verify may claim fewer).
        if sections_ok {
            assert_eq!(rows, records.len(), "projection rows vs records");
        }
    }
}

/// Parses `data` as a manifest: never a panic; a manifest that parses
/// stores and parses back equal.
pub fn manifest(data: &[u8]) {
    let disk = disk_with("MANIFEST", data);
    if let Ok(Some(m)) = Manifest::load(&disk, Path::new("/f")) {
        let again = MemStorage::new();
        let dir = Path::new("/g");
        assert!(again.create_dir_all(dir).is_ok());
        assert!(m.store(&again, dir).is_ok());
        assert_eq!(Manifest::load(&again, dir).ok().flatten(), Some(m));
    }
}

/// Opens `data` as an active run and reads everything in it (lookups,
/// the whole scan, seeks, a merge, the full check): never a panic. A
/// scan that ends without an error saw each key once, in order, and a
/// lookup that finds one of its keys finds its entry; when the full check
/// passes, every lookup of a scanned key finds it (the filter holds every
/// key) and the counts are the footer's.
pub fn active_run(data: &[u8]) {
    let disk = disk_with("x.run", data);
    let Ok(run) = ActiveRun::open(&disk, Path::new("/f"), "x.run").map(Arc::new) else {
        return;
    };
    for (activity, id) in [("", ""), ("PurchaseOrder", "PO-1"), ("Z", "\u{10FFFF}")] {
        let _ = run.may_contain(activity, id);
        let _ = run.get(activity, id);
        let _ = run.iter_from(activity, id).take(16).count();
    }
    let mut scanned: Vec<RunEntry<'_>> = Vec::new();
    let mut complete = true;
    for entry in run.iter() {
        match entry {
            Ok(e) => scanned.push(e),
            Err(_) => complete = false,
        }
    }
    let verified = run.verify();
    if !complete {
        assert!(verified.is_err(), "verify passed a run whose scan failed");
        return;
    }
    for e in scanned.iter().take(256) {
        match run.get(e.activity, e.id) {
            Ok(Some(answer)) => {
                let expected = e.value.map_or(Found::Tombstone, Found::Value);
                assert_eq!(answer, expected, "get vs iter of {e:?}");
            }
            // A filter forged with valid checksums may miss a key; the
            // full check then fails.
            Ok(None) | Err(_) => assert!(verified.is_err(), "get missed {e:?}"),
        }
    }
    // A seek from a scanned key sees the rest of the scan.
    if let Some(mid) = scanned.get(scanned.len() / 2) {
        let tail: Vec<_> = run.iter_from(mid.activity, mid.id).collect();
        let expected = scanned.get(scanned.len() / 2..).unwrap_or(&[]);
        assert_eq!(tail.len(), expected.len(), "iter_from length");
        for (got, want) in tail.iter().zip(expected) {
            assert_eq!(got.as_ref().ok(), Some(want), "iter_from entry");
        }
    }
    // A run merged with itself is itself.
    let runs = [run.clone(), run.clone()];
    let merged: Vec<_> = merge_runs(&runs).collect();
    assert_eq!(merged.len(), scanned.len(), "merge length");
    for (got, want) in merged.iter().zip(&scanned) {
        assert_eq!(got.as_ref().ok(), Some(want), "merged entry");
    }
    if let Ok(summary) = verified {
        assert_eq!(summary.entries, scanned.len() as u64);
        assert_eq!(summary.entries, run.entries);
        let tombstones = scanned.iter().filter(|e| e.value.is_none()).count();
        assert_eq!(summary.tombstones, tombstones as u64);
    }
}

/// Active-run seeds: a small run over a few blocks (values and
/// tombstones), an empty run, and a run of tombstones only.
fn active_run_seeds(disk: &MemStorage, dir: &Path, out: &mut Vec<(&'static str, String, Vec<u8>)>) {
    let ids: Vec<String> = (0..60).map(|i| format!("PO-{i:03}")).collect();
    let value: Vec<u8> = (0..=255).collect();
    let small = ids.iter().enumerate().map(|(i, id)| {
        Ok(RunEntry {
            activity: if i < 30 { "Invoice" } else { "PurchaseOrder" },
            id,
            value: (i % 4 != 3).then(|| value.get(..i * 4).unwrap_or(&[])),
        })
    });
    let tombstones = ids.iter().take(5).map(|id| {
        Ok(RunEntry {
            activity: "PurchaseOrder",
            id,
            value: None,
        })
    });
    let runs: [(&str, Vec<_>); 3] = [
        ("small_run", small.collect()),
        ("empty_run", Vec::new()),
        ("tombstones", tombstones.collect()),
    ];
    for (name, entries) in runs {
        let count = entries.len() as u64;
        if write_run(disk, dir, name, count, entries).is_ok() {
            if let Some(bytes) = disk.read_file(&dir.join(name)) {
                out.push(("active_run", name.to_string(), bytes));
            }
        }
    }
}

/// Seed inputs: `(target, file name, bytes)`.
pub fn seed_corpus() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let disk = MemStorage::new();
    let dir = Path::new("/s");
    let _ = disk.create_dir_all(dir);
    // Each record carries its parts (the root and its continuation, with
    // their stamps), encoded as the bus encodes them.
    let parts = |i: u32| {
        let stamp = |ts: i64| Stamp {
            ts,
            producer: 1,
            seq: u64::from(i),
            index: 0,
        };
        let mut root = Node {
            begun: Some(stamp(1)),
            ended: Some(stamp(2)),
            last_modified: Some(2),
            ..Node::default()
        };
        root.items.insert(
            "Amount".into(),
            (StoredValue::Float(f64::from(i)), stamp(1)),
        );
        root.tokens.insert(format!("SHIP-{i}"), stamp(1));
        let ship = Node {
            ended: Some(stamp(2 + i64::from(i))),
            linked_by: [format!("PO-{i}")].into(),
            parent: Some(format!("PO-{i}")),
            ..Node::default()
        };
        // A Vec, as the bus encodes (postcard prefixes its length).
        let nodes = vec![(format!("PO-{i}"), root), (format!("SHIP-{i}"), ship)];
        postcard::to_allocvec(&nodes).unwrap_or_default()
    };
    let rec = |i: u32| {
        Arc::new(StoredInstance {
            parts: parts(i),
            activity: "PurchaseOrder".into(),
            id: format!("PO-{i}"),
            begin: Some(1),
            end: Some(2 + i64::from(i)),
            last_modified: Some(2),
            items: vec![("Amount".into(), StoredValue::Float(f64::from(i)))],
            continuations: vec![format!("SHIP-{i}")],
            references: vec![],
            relationships: vec![],
        })
    };
    let records: Vec<_> = (0..3).map(rec).collect();
    if write_import_file(&disk, dir, "a.seg", &records).is_ok() {
        if let Some(bytes) = disk.read_file(&dir.join("a.seg")) {
            out.push(("import_file", "three_records".to_string(), bytes.clone()));
            out.push((
                "import_file",
                "truncated".to_string(),
                bytes[..bytes.len() / 2].to_vec(),
            ));
            let mut flipped = bytes.clone();
            if let Some(b) = flipped.get_mut(20) {
                *b ^= 1;
            }
            out.push(("import_file", "flipped_record".to_string(), flipped));
        }
    }
    // Enough records for a compression dictionary (`compress.rs`).
    let many: Vec<_> = (0..80).map(rec).collect();
    if write_import_file(&disk, dir, "b.seg", &many).is_ok() {
        if let Some(bytes) = disk.read_file(&dir.join("b.seg")) {
            out.push(("import_file", "compressed_records".to_string(), bytes));
        }
    }
    out.push(("import_file", "empty".to_string(), Vec::new()));
    out.push((
        "import_file",
        "magic_only".to_string(),
        b"BAMDBSEG\x02\0\0\0\0\0\0\0".to_vec(),
    ));
    let m = Manifest {
        applied_lsn: 42,
        checkpoint: Some("000000000007.ckpt".into()),
        files: vec!["000000000003.seg".into()],
        next_file: 8,
        archives: vec![],
        active_runs: vec![],
    };
    if m.store(&disk, dir).is_ok() {
        if let Some(bytes) = disk.read_file(&dir.join("MANIFEST")) {
            out.push(("manifest", "valid".to_string(), bytes.clone()));
            out.push((
                "manifest",
                "truncated".to_string(),
                bytes[..bytes.len() - 3].to_vec(),
            ));
        }
    }
    out.push(("manifest", "empty".to_string(), Vec::new()));
    out.push((
        "manifest",
        "garbage".to_string(),
        b"BAMDBMAN garbage garbage garbage!".to_vec(),
    ));
    out.push(("manifest", "zeros".to_string(), vec![0u8; 64]));
    active_run_seeds(&disk, dir, &mut out);
    out
}

#[cfg(test)]
#[path = "segments_tests.rs"]
mod tests;
