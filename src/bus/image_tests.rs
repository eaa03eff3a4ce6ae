use super::*;
use crate::bus::test_util::*;
use crate::model::{EventKind, Value};

#[test]
fn a_state_image_restores_the_same_state() {
    let mut st = deployed();
    st.apply_batch(frame(
        1,
        vec![
            ev(1, "A", EventKind::Begin),
            update(2, "A", &[("Count", Value::Int(3))]),
            link(3, "A", "T"),
            ev(4, "P", EventKind::End),
        ],
    ))
    .unwrap();
    st.applied_lsn = 42;
    st.resolved.insert(9);
    // The nodes travel in the dirty set here (a checkpoint writes them
    // as a run: see nodes_tests.rs); the image carries everything else.
    let bytes = postcard::to_allocvec(&st.image(17, st.nodes.census())).unwrap();
    let image: StateImage = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(image.quarantine_next, 17);
    assert_eq!(image.census, st.nodes.census());
    let checkpoint = Checkpoint {
        image,
        legacy_nodes: st.nodes.snapshot().into_iter().collect(),
    };
    let back =
        BusState::restore(checkpoint, Vec::new(), Vec::new(), Path::new("/c/x.ckpt")).unwrap();
    assert_eq!(back.applied_lsn, 42);
    assert_eq!(back.nodes.snapshot(), st.nodes.snapshot());
    assert_eq!(back.definitions, st.definitions);
    assert_eq!(back.resolved, st.resolved);
    assert_eq!(back.counters, st.counters);
    assert_eq!(back.get(&key("T")).unwrap(), st.get(&key("T")).unwrap());
}

#[test]
fn a_damaged_or_foreign_checkpoint_is_reported_not_loaded() {
    use crate::segments::blob::{encode_blob, write_atomically};
    use crate::storage::{MemStorage, Storage};
    let disk = MemStorage::new();
    let dir = std::path::Path::new("/c");
    disk.create_dir_all(dir).unwrap();
    let path = dir.join("x.ckpt");
    let write = |bytes: &[u8]| write_atomically(&disk, dir, "x.ckpt", bytes).unwrap();
    write(&encode_blob(
        &CHECKPOINT_MAGIC,
        CHECKPOINT_VERSION + 1,
        b"{}",
    ));
    let err = read_checkpoint(&disk, &path).unwrap_err();
    assert!(
        matches!(err, ImportFileError::UnsupportedVersion { version: 4, .. }),
        "{err}"
    );
    write(&encode_blob(
        &CHECKPOINT_MAGIC,
        CHECKPOINT_VERSION,
        &[0xff; 3],
    ));
    let err = read_checkpoint(&disk, &path).unwrap_err();
    assert!(matches!(err, ImportFileError::Corrupt { .. }), "{err}");
    assert!(err.to_string().starts_with("/c/x.ckpt"), "{err}");
    assert!(err.to_string().contains("does not decode"), "{err}");
}
