//! Corruption campaign over a real store's import files (issue 14): bits
//! flipped in each part of a version-4 file (records, keys, key table, key
//! filter, key samples, column section, item names, the records' compression
//! dictionary, chunk checksums, footer), one
//! damage per copy of the store.
//!
//! For each damaged copy, every answer is either the undamaged store's
//! answer or an error that names the damaged file: `get` of every id, a
//! search and an aggregation (which read the stored columns), never a
//! wrong answer served silently. And `Store::verify` reports a problem
//! located in that file.
//!
//! The parts are found from the footer as `docs/FORMAT.md` describes it,
//! so the test also holds the document to the code.
//!
//! CI: 5 positions per part of every file. Long form (every Nth byte of
//! every part, here every 7th, several thousand cases):
//! `BAMDB_IMPORT_CORRUPTION_STRIDE=7 cargo test --release --test reliability_import_corruption`

use std::path::{Path, PathBuf};
use std::time::Duration;

use bamdb::fixture::{self, CompletedOrder, ACTIVITY};
use bamdb::query::{Aggregate, Filter, Measure, Search};
use bamdb::{EventStream, Store, StoreOptions};

const ORDERS: u64 = 600;

fn options() -> StoreOptions {
    StoreOptions::default()
}

/// A store of completed orders in import files (the close checkpoints
/// them), and the ids.
fn build(dir: &Path) -> Vec<String> {
    let store = Store::open(dir, options()).unwrap();
    store
        .deploy(fixture::definition(fixture::QUERY_ITEMS))
        .unwrap();
    let mut s = store.buffered_stream(0);
    let mut ids = Vec::new();
    for i in 0..ORDERS {
        let order = CompletedOrder::new(i);
        order.report(&mut s).unwrap();
        ids.push(order.id.clone());
        if i % 50 == 49 {
            s.flush().unwrap();
        }
    }
    s.flush().unwrap();
    assert!(store.sync(Duration::from_secs(60)));
    drop(s);
    store.close().unwrap();
    ids
}

/// What the store answers: every get, a search, an aggregation; or the
/// first error.
fn answers(dir: &Path, ids: &[String]) -> Result<String, String> {
    let store = Store::open(dir, options()).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for id in ids {
        let got = store.get(ACTIVITY, id).map_err(|e| e.to_string())?;
        out += &format!("{got:?}\n");
    }
    let mut search = Search::new(ACTIVITY);
    search.filters = vec![
        Filter::parse("Region = EU").unwrap(),
        Filter::parse("Amount >= 500").unwrap(),
    ];
    let rows = store.search(&search).map_err(|e| e.to_string())?;
    out += &format!("{rows:?}\n");
    let mut agg = Aggregate::new(ACTIVITY);
    agg.group_by = vec!["Region".into()];
    agg.measures = ["count", "sum:Amount", "max:Shipped"]
        .iter()
        .map(|m| Measure::parse(m).unwrap())
        .collect();
    let result = store.aggregate(&agg).map_err(|e| e.to_string())?;
    out += &format!("{result:?}\n");
    store.close().map_err(|e| e.to_string())?;
    Ok(out)
}

/// The parts of a version-4 import file, from its footer (docs/FORMAT.md).
fn parts(bytes: &[u8]) -> Vec<(&'static str, std::ops::Range<usize>)> {
    assert_eq!(&bytes[..8], b"BAMDBSEG");
    assert_eq!(&bytes[8..12], &4u32.to_le_bytes(), "a version-4 file");
    let footer_at = bytes.len() - 208;
    let field = |i: usize| {
        u64::from_le_bytes(
            bytes[footer_at + i * 8..footer_at + i * 8 + 8]
                .try_into()
                .unwrap(),
        ) as usize
    };
    let (index, key_table, filter, samples, columns, dictionary, crc_table) = (
        field(0),
        field(5),
        field(6),
        field(8),
        field(10),
        field(11),
        field(12),
    );
    let names_len = u32::from_le_bytes(bytes[footer_at + 200..footer_at + 204].try_into().unwrap());
    let names = dictionary - names_len as usize;
    assert!(names < dictionary, "the file has an item-name table");
    vec![
        ("header", 0..12),
        ("records", 16..index),
        ("keys", index..key_table),
        ("key table", key_table..filter),
        ("key filter", filter..samples),
        ("key samples", samples..columns),
        ("columns", columns..names),
        ("item names", names..dictionary),
        ("records' dictionary", dictionary..crc_table),
        ("chunk checksums", crc_table..footer_at),
        ("footer", footer_at..bytes.len()),
    ]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn import_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("segments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_flipped_bit_in_an_import_file_is_detected_and_never_served() {
    let tmp = tempfile::tempdir().unwrap();
    let pristine = tmp.path().join("pristine");
    let ids = build(&pristine);
    let oracle = answers(&pristine, &ids).unwrap();
    let files = import_files(&pristine);
    assert!(!files.is_empty(), "the close wrote import files");
    let stride: Option<usize> = std::env::var("BAMDB_IMPORT_CORRUPTION_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| s > 0);
    let mut cases = 0;
    for (n, file) in files.iter().enumerate() {
        let good = std::fs::read(file).unwrap();
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        for (part, range) in parts(&good) {
            assert!(!range.is_empty(), "{name}: the {part} is empty");
            let positions: Vec<usize> = if let Some(stride) = stride {
                range.clone().step_by(stride).collect()
            } else {
                let len = range.len();
                [0, len / 3, len / 2, 2 * len / 3, len - 1]
                    .into_iter()
                    .map(|o| range.start + o)
                    .collect()
            };
            for at in positions {
                cases += 1;
                let bit = (at + n) % 8;
                let copy = tmp.path().join(format!("case-{cases}"));
                copy_dir(&pristine, &copy);
                let mut bad = good.clone();
                bad[at] ^= 1 << bit;
                std::fs::write(copy.join("segments").join(&name), &bad).unwrap();
                let what = format!("{name}: bit {bit} of byte {at} (in the {part})");
                // Verify first: it must name the file.
                let report = Store::verify(&copy, &options()).unwrap();
                assert!(
                    report.problems.iter().any(|p| p.location.contains(&name)),
                    "{what}: verify did not name the file: {report:?}"
                );
                match answers(&copy, &ids) {
                    Ok(got) => assert!(got == oracle, "{what}: a wrong answer was served"),
                    Err(e) => assert!(
                        e.contains(&name),
                        "{what}: the error does not name the file: {e}"
                    ),
                }
                std::fs::remove_dir_all(&copy).unwrap();
            }
        }
    }
    assert!(cases >= 10 * 5);
    eprintln!("{cases} damaged copies: each detected, none served a wrong answer");
}
