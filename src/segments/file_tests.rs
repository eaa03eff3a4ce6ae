#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::model::Reference;
use crate::segments::record::StoredValue;
use crate::storage::MemStorage;
use crate::storage::OpenMode;

fn rec(id: &str, tokens: &[&str], end: i64) -> Arc<StoredInstance> {
    Arc::new(StoredInstance {
        parts: Vec::new(),
        activity: "PurchaseOrder".into(),
        id: id.into(),
        begin: Some(end - 10),
        end: Some(end),
        last_modified: Some(end),
        items: vec![
            ("Amount".into(), StoredValue::Float(1.5)),
            ("Customer".into(), StoredValue::Text(id.repeat(2))),
        ],
        continuations: tokens.iter().map(|t| t.to_string()).collect(),
        references: vec![Reference {
            ref_type: "Url".into(),
            name: "n".into(),
            data: "d".into(),
            long_data: None,
        }],
        relationships: vec![],
    })
}

fn written(records: &[Arc<StoredInstance>]) -> (MemStorage, ImportFile) {
    let disk = MemStorage::new();
    let dir = Path::new("/s");
    disk.create_dir_all(dir).unwrap();
    write_import_file(&disk, dir, "1.seg", records).unwrap();
    let file = ImportFile::open(&disk, dir, "1.seg").unwrap();
    (disk, file)
}

#[test]
fn records_are_found_by_id_and_by_continuation_token() {
    // 1,000 keys: many in-memory samples, lookups in every run between.
    let n = 500;
    let records: Vec<_> = (0..n)
        .rev()
        .map(|i| rec(&format!("PO-{i:03}"), &[&format!("SHIP-{i}")], 1000 + i))
        .collect();
    let (_, file) = written(&records);
    assert_eq!(file.record_count, n as u64);
    for i in 0..n {
        let by_id = file
            .get("PurchaseOrder", &format!("PO-{i:03}"))
            .unwrap()
            .unwrap();
        assert_eq!(by_id, *records[(n - 1 - i) as usize]);
        let by_token = file
            .get("PurchaseOrder", &format!("SHIP-{i}"))
            .unwrap()
            .unwrap();
        assert_eq!(by_token.id, by_id.id);
    }
    assert!(file.get("PurchaseOrder", "PO-999").unwrap().is_none());
    assert!(file.get("Shipment", "PO-001").unwrap().is_none());
    // Before the first key, between sampled runs, after the last.
    assert!(file.get("Invoice", "PO-001").unwrap().is_none());
    assert!(file.get("PurchaseOrder", "A").unwrap().is_none());
    assert!(file.get("PurchaseOrder", "PO-0205").unwrap().is_none());
    assert!(file.get("PurchaseOrder", "SHIP-2").unwrap().is_some());
    assert!(file.get("PurchaseOrder", "ZZZ").unwrap().is_none());
    let ids: Vec<String> = file.records().map(|r| r.unwrap().id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert_eq!(ids.len(), n as usize);
}

#[test]
fn every_damaged_byte_is_detected_on_open_or_on_read() {
    let records: Vec<_> = (0..3)
        .map(|i| rec(&format!("PO-{i}"), &[], 10 + i))
        .collect();
    let (disk, _) = written(&records);
    let path = Path::new("/s/1.seg");
    let good = disk.read_file(path).unwrap();
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x08;
        disk.corrupt_file(path, bad);
        let detected = match ImportFile::open(&disk, Path::new("/s"), "1.seg") {
            Err(_) => true,
            Ok(f) => {
                let all_ok = f.records().all(|r| r.is_ok())
                    && f.verify_sections().is_ok()
                    && (0..3).all(|k| {
                        f.get("PurchaseOrder", &format!("PO-{k}"))
                            .map(|r| r.is_some())
                            .unwrap_or(false)
                    });
                !all_ok
            }
        };
        // The 4 reserved header bytes are not checked; everything else is
        // (the footer's reserved bytes are under its checksum).
        assert!(
            detected || (12..16).contains(&i),
            "flip at byte {i} went unnoticed"
        );
    }
}

#[test]
fn truncated_files_are_refused() {
    let records = vec![rec("PO-1", &[], 5)];
    let (disk, _) = written(&records);
    let path = Path::new("/s/1.seg");
    let good = disk.read_file(path).unwrap();
    for cut in 0..good.len() {
        disk.corrupt_file(path, good[..cut].to_vec());
        assert!(
            ImportFile::open(&disk, Path::new("/s"), "1.seg").is_err(),
            "cut {cut}"
        );
    }
}

#[test]
fn the_key_filter_has_no_false_negatives_and_few_false_positives() {
    let n = 50_000;
    let mut filter = KeyFilter::with_keys(n);
    for i in 0..n {
        filter.insert(KeyProbe::of("PurchaseOrder", &format!("PO-{i:09}")).hash);
    }
    for i in 0..n {
        assert!(filter.may_contain(KeyProbe::of("PurchaseOrder", &format!("PO-{i:09}")).hash));
    }
    let false_positives = (n..11 * n)
        .filter(|i| filter.may_contain(KeyProbe::of("PurchaseOrder", &format!("PO-{i:09}")).hash))
        .count();
    eprintln!("{false_positives} false positives in 500,000");
    // 500,000 absent keys: the filter is sized for about 0.02%.
    assert!(
        false_positives < 250,
        "{false_positives} false positives in 500,000"
    );
}

#[test]
fn keys_longer_than_the_in_memory_prefix_are_found_and_ruled_out_exactly() {
    let long = "L".repeat(60);
    let records: Vec<_> = (10..90)
        .map(|i| rec(&format!("{long}{i:03}"), &[], 1000 + i))
        .collect();
    let (_, file) = written(&records);
    for i in 10..90 {
        let got = file.get("PurchaseOrder", &format!("{long}{i:03}")).unwrap();
        assert_eq!(got.unwrap().id, format!("{long}{i:03}"));
    }
    for i in [0, 5, 9, 90, 99, 500] {
        assert!(file
            .get("PurchaseOrder", &format!("{long}{i:03}"))
            .unwrap()
            .is_none());
    }
    assert!(file.get("PurchaseOrder", &long).unwrap().is_none());
    assert!(file.get("PurchaseOrde", &long).unwrap().is_none());
    assert!(file.get("PurchaseOrderX", &long).unwrap().is_none());
}

#[test]
fn open_failures_say_whether_the_disk_or_the_bytes_are_at_fault() {
    let (disk, _) = written(&[rec("PO-1", &[], 5)]);
    let dir = Path::new("/s");
    // The operating system refuses: I/O, naming the operation and file.
    match ImportFile::open(&disk, dir, "2.seg").unwrap_err() {
        ImportFileError::Io { op, path, source } => {
            assert_eq!(op, "open");
            assert_eq!(path, dir.join("2.seg"));
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
    let path = dir.join("1.seg");
    let good = disk.read_file(&path).unwrap();
    // A short file, and a damaged footer: corruption, with the place.
    disk.corrupt_file(&path, good[..20].to_vec());
    let err = ImportFile::open(&disk, dir, "1.seg").unwrap_err();
    assert!(
        matches!(&err, ImportFileError::Corrupt { path: p, offset: None, .. } if *p == path),
        "{err:?}"
    );
    let mut bad = good.clone();
    let footer_at = good.len() - crate::segments::layout::V3_FOOTER_LEN;
    bad[footer_at] ^= 1;
    disk.corrupt_file(&path, bad);
    let err = ImportFile::open(&disk, dir, "1.seg").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("/s/1.seg at byte {footer_at}: footer checksum mismatch")
    );
    // A layout this build does not read.
    let mut newer = good.clone();
    newer[8] = 9;
    disk.corrupt_file(&path, newer);
    let err = ImportFile::open(&disk, dir, "1.seg").unwrap_err();
    assert!(
        matches!(err, ImportFileError::UnsupportedVersion { version: 9, .. }),
        "{err:?}"
    );
}

#[test]
fn a_damaged_record_is_located_to_its_first_byte() {
    let (disk, _) = written(&[rec("PO-1", &[], 5)]);
    let path = Path::new("/s/1.seg");
    let mut bad = disk.read_file(path).unwrap();
    bad[HEADER_LEN + RECORD_HEADER_LEN + 1] ^= 1;
    disk.corrupt_file(path, bad);
    let file = ImportFile::open(&disk, Path::new("/s"), "1.seg").unwrap();
    let err = file.get("PurchaseOrder", "PO-1").unwrap_err();
    assert_eq!(err.location(), format!("/s/1.seg at byte {HEADER_LEN}"));
    assert_eq!(err.reason(), "record checksum mismatch");
}

/// Files written by the previous build (version 2, key structures built
/// at open, no stored columns) are still read: lookups, records and the
/// column projection built from the records. The bytes are the fuzz
/// corpus's copy of such a file.
#[test]
fn version_2_files_are_still_read() {
    let v2 = include_bytes!("../../fuzz/corpus/import_file/three_records_v2");
    assert_eq!(&v2[8..12], &2u32.to_le_bytes());
    let disk = MemStorage::new();
    let dir = Path::new("/s");
    disk.create_dir_all(dir).unwrap();
    let f = disk
        .open_file(&dir.join("old.seg"), OpenMode::CreateNew)
        .unwrap();
    f.write_all_at(v2, 0).unwrap();
    let file = ImportFile::open(&disk, dir, "old.seg").unwrap();
    assert_eq!(file.record_count, 3);
    assert!(file.column_directory().unwrap().is_none());
    for i in 0..3 {
        let by_id = file
            .get("PurchaseOrder", &format!("PO-{i}"))
            .unwrap()
            .unwrap();
        let by_token = file
            .get("PurchaseOrder", &format!("SHIP-{i}"))
            .unwrap()
            .unwrap();
        assert_eq!(by_id, by_token);
    }
    assert!(file.get("PurchaseOrder", "PO-9").unwrap().is_none());
    let cols = file.columns().unwrap();
    assert_eq!(cols.activities["PurchaseOrder"].rows(), 3);
    file.verify_sections().unwrap();
}

/// Files written before compact records (version 3: stored sections,
/// records in their postcard form, compressed or not) are still read:
/// lookups by id and token, the stored columns, and `verify`'s checks.
/// The bytes are the fuzz corpus's copies of such files.
#[test]
fn version_3_files_are_still_read() {
    let disk = MemStorage::new();
    let dir = Path::new("/s");
    disk.create_dir_all(dir).unwrap();
    for (name, bytes) in [
        (
            "plain.seg",
            &include_bytes!("../../fuzz/corpus/import_file/three_records_v3")[..],
        ),
        (
            "zstd.seg",
            &include_bytes!("../../fuzz/corpus/import_file/compressed_records_v3")[..],
        ),
    ] {
        assert_eq!(&bytes[8..12], &3u32.to_le_bytes());
        let f = disk
            .open_file(&dir.join(name), OpenMode::CreateNew)
            .unwrap();
        f.write_all_at(bytes, 0).unwrap();
        let file = ImportFile::open(&disk, dir, name).unwrap();
        assert!(file.column_directory().unwrap().is_some());
        let records: Vec<_> = file.entries().map(|e| e.unwrap().1).collect();
        assert_eq!(records.len() as u64, file.record_count);
        assert!(records.len() >= 3);
        assert!(records
            .iter()
            .all(|r| r.parts.first().is_some_and(|&b| b != 0)));
        for rec in &records {
            let found = file.get(&rec.activity, &rec.id).unwrap().unwrap();
            assert_eq!(&found, rec);
            for token in &rec.continuations {
                let by_token = file.get(&rec.activity, token).unwrap().unwrap();
                assert_eq!(by_token.activity, rec.activity);
            }
        }
        let cols = file.columns().unwrap();
        let rows: usize = cols.activities.values().map(|a| a.rows()).sum();
        assert_eq!(rows, records.len());
        file.verify_sections().unwrap();
    }
}

/// A continuation token that repeats another record's id is indexed once,
/// pointing at the record whose own id it is (the first in file order),
/// as the version-2 writer did.
#[test]
fn a_key_that_repeats_is_indexed_once() {
    let records = vec![rec("PO-1", &[], 10), rec("PO-2", &["PO-1", "T-2"], 20)];
    let (_, file) = written(&records);
    assert_eq!(file.layout.key_count, 3);
    assert_eq!(
        file.get("PurchaseOrder", "PO-1").unwrap().unwrap().id,
        "PO-1"
    );
    assert_eq!(
        file.get("PurchaseOrder", "T-2").unwrap().unwrap().id,
        "PO-2"
    );
}

/// A record's own id wins the key over another record's token that
/// repeats it, wherever the two sort (version 3 pointed the key at
/// whichever record came first).
#[test]
fn a_records_own_id_wins_over_a_token_that_repeats_it() {
    let records = vec![rec("PO-1", &["PO-2"], 10), rec("PO-2", &[], 20)];
    let (_, file) = written(&records);
    assert_eq!(file.layout.key_count, 2);
    for id in ["PO-1", "PO-2"] {
        assert_eq!(file.get("PurchaseOrder", id).unwrap().unwrap().id, id);
    }
}

/// Files whose index ends beyond 4 GiB store 8-byte offsets in the keys
/// and the key table (forced here): lookups read them as well as the
/// 4-byte ones.
#[test]
fn wide_and_narrow_offsets_are_both_read() {
    let records: Vec<_> = (0..100)
        .map(|i| rec(&format!("PO-{i}"), &[&format!("T-{i}")], i))
        .collect();
    let mut sizes = Vec::new();
    for narrow_below in [u64::from(u32::MAX), 0] {
        let disk = MemStorage::new();
        let dir = Path::new("/s");
        disk.create_dir_all(dir).unwrap();
        super::super::write::write_with_narrow_below(&disk, dir, "1.seg", &records, narrow_below)
            .unwrap();
        let file = ImportFile::open(&disk, dir, "1.seg").unwrap();
        assert_eq!(
            file.layout.offset_width,
            if narrow_below == 0 { 8 } else { 4 }
        );
        for i in 0..100 {
            for key in [format!("PO-{i}"), format!("T-{i}")] {
                let found = file.get("PurchaseOrder", &key).unwrap().unwrap();
                assert_eq!(found.id, format!("PO-{i}"));
            }
        }
        file.verify_sections().unwrap();
        sizes.push(disk.read_file(&dir.join("1.seg")).unwrap().len());
    }
    // 200 keys, 4 bytes less in each key and in each table entry (and
    // perhaps a chunk checksum less).
    let saved = sizes[1] - sizes[0];
    assert!((200 * 8..=200 * 8 + 4).contains(&saved), "{saved}");
}
