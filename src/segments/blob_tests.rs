#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;
use crate::storage::{CrashMode, MemStorage};

#[test]
fn blobs_round_trip_and_every_flipped_byte_is_detected() {
    let disk = MemStorage::new();
    let dir = Path::new("/d");
    disk.create_dir_all(dir).unwrap();
    let bytes = encode_blob(b"TESTBLOB", 3, b"hello body");
    write_atomically(&disk, dir, "b", &bytes).unwrap();
    let path = dir.join("b");
    assert_eq!(
        read_blob(&disk, &path, b"TESTBLOB", 100).unwrap(),
        (3, b"hello body".to_vec())
    );
    assert!(read_blob(&disk, &path, b"OTHERMAG", 100).is_err());
    assert!(read_blob(&disk, &path, b"TESTBLOB", 5)
        .unwrap_err()
        .to_string()
        .contains("limit"));
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x40;
        disk.corrupt_file(&path, bad);
        assert!(
            read_blob(&disk, &path, b"TESTBLOB", 100).is_err(),
            "byte {i}"
        );
    }
}

#[test]
fn a_short_blob_is_corrupt_and_a_missing_one_an_io_error() {
    let disk = MemStorage::new();
    let dir = Path::new("/d");
    disk.create_dir_all(dir).unwrap();
    let path = dir.join("b");
    match read_blob(&disk, &path, b"TESTBLOB", 100).unwrap_err() {
        ImportFileError::Io {
            op: "open",
            path: p,
            ..
        } => assert_eq!(p, path),
        other => panic!("{other:?}"),
    }
    let bytes = encode_blob(b"TESTBLOB", 1, b"body");
    write_atomically(&disk, dir, "b", &bytes[..BLOB_HEADER_LEN - 1]).unwrap();
    let err = read_blob(&disk, &path, b"TESTBLOB", 100).unwrap_err();
    assert!(
        matches!(err, ImportFileError::Corrupt { offset: None, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("/d/b: 27 bytes is too short"),
        "{err}"
    );
}

#[test]
fn an_atomic_write_leaves_the_old_or_the_new_file_at_any_crash() {
    for step in 1..8 {
        for seed in 0..20 {
            let disk = MemStorage::new();
            let dir = Path::new("/d");
            disk.create_dir_all(dir).unwrap();
            write_atomically(&disk, dir, "m", &encode_blob(b"TESTBLOB", 1, b"old")).unwrap();
            disk.crash_after(step);
            let _ = write_atomically(&disk, dir, "m", &encode_blob(b"TESTBLOB", 1, b"new"));
            let image = disk.crash_image(CrashMode::Random(seed));
            let (_, body) = read_blob(&image, &dir.join("m"), b"TESTBLOB", 100).unwrap();
            assert!(body == b"old" || body == b"new", "step {step} seed {seed}");
        }
    }
}
