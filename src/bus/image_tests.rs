use super::*;
use crate::bus::test_util::*;
use crate::model::{EventKind, Value};
use crate::query::{Aggregate, Measure};

/// A real-time aggregation of `PO`: count and sum of Count by Region.
fn by_region() -> AggregationSpec {
    let mut agg = Aggregate::new(PO);
    agg.group_by.push("Region".into());
    agg.measures = vec![Measure::Count, Measure::Sum("Count".into())];
    AggregationSpec::new("by_region", &agg)
}

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
    st.declare(by_region()).unwrap();
    st.apply_batch(frame(
        2,
        vec![
            update(5, "B", &[("Region", Value::from("EU"))]),
            update(6, "A", &[("Region", Value::from("EU"))]),
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
    assert_eq!(image.aggregations.len(), 1);
    let checkpoint = Checkpoint {
        image,
        legacy_nodes: st.nodes.snapshot().into_iter().collect(),
        legacy_aggregations: Vec::new(),
        sequences: Default::default(),
    };
    let back =
        BusState::restore(checkpoint, Vec::new(), Vec::new(), Path::new("/c/x.ckpt")).unwrap();
    assert_eq!(back.applied_lsn, 42);
    assert_eq!(back.nodes.snapshot(), st.nodes.snapshot());
    assert_eq!(back.definitions, st.definitions);
    assert_eq!(back.resolved, st.resolved);
    assert_eq!(back.counters, st.counters);
    assert_eq!(back.get(&key("T")).unwrap(), st.get(&key("T")).unwrap());
    let totals = |s: &BusState| s.aggregations["by_region"].running.result();
    assert_eq!(totals(&back), totals(&st));
}

/// An older checkpoint names its aggregations without their totals: they
/// are rebuilt from the instances, to the same result.
#[test]
fn aggregations_of_an_older_checkpoint_are_rebuilt_by_a_scan() {
    let mut st = deployed();
    st.declare(by_region()).unwrap();
    st.apply_batch(frame(
        1,
        vec![
            ev(1, "A", EventKind::Begin),
            update(
                2,
                "A",
                &[("Region", Value::from("EU")), ("Count", Value::Int(3))],
            ),
            ev(3, "B", EventKind::Begin),
        ],
    ))
    .unwrap();
    let mut image = st.image(0, st.nodes.census());
    image.aggregations.clear();
    let checkpoint = Checkpoint {
        image,
        legacy_nodes: st.nodes.snapshot().into_iter().collect(),
        legacy_aggregations: vec![by_region()],
        sequences: Default::default(),
    };
    let back =
        BusState::restore(checkpoint, Vec::new(), Vec::new(), Path::new("/c/x.ckpt")).unwrap();
    let totals = |s: &BusState| s.aggregations["by_region"].running.result();
    assert_eq!(totals(&back), totals(&st));
    assert_eq!(totals(&back).rows.len(), 2, "{:?}", totals(&back));
}

/// Totals that do not fit their aggregation make the checkpoint damaged,
/// named as such, instead of answering wrong.
#[test]
fn totals_that_do_not_fit_their_aggregation_are_reported() {
    let mut st = deployed();
    st.declare(by_region()).unwrap();
    st.apply_batch(frame(1, vec![ev(1, "A", EventKind::Begin)]))
        .unwrap();
    let mut image = st.image(0, st.nodes.census());
    let mut other = Aggregate::new(PO);
    other.measures = vec![Measure::Count];
    image.aggregations[0].spec = AggregationSpec::new("by_region", &other);
    let checkpoint = Checkpoint {
        image,
        ..Checkpoint::default()
    };
    let err = BusState::restore(checkpoint, Vec::new(), Vec::new(), Path::new("/c/x.ckpt"))
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(err, ImportFileError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("aggregation by_region"), "{err}");
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
        matches!(err, ImportFileError::UnsupportedVersion { version: 7, .. }),
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

/// Version 5 appends the sequence marks to the image; a version-4 body is
/// the image alone and restores with none; bytes after the end are damage.
#[test]
fn sequences_travel_in_the_checkpoint_and_a_version_4_one_has_none() {
    let path = Path::new("/c/x.ckpt");
    let mut st = deployed();
    st.sequences.record(7, 42);
    st.sequences.duplicates = 3;
    st.sequences.record_copied(0xB0B, 17);
    let body = st.checkpoint_body(1, st.nodes.census()).unwrap();
    let back = decode(CHECKPOINT_VERSION, &body, path).unwrap();
    assert_eq!(back.sequences, st.sequences);
    let restored = BusState::restore(back, Vec::new(), Vec::new(), path).unwrap();
    assert_eq!(restored.sequences, st.sequences);

    let mut v5 = postcard::to_allocvec(&st.image(1, st.nodes.census())).unwrap();
    let v5_sequences = SequencesV5 {
        highest: st.sequences.highest.clone(),
        duplicates: 3,
    };
    v5 = postcard::to_extend(&v5_sequences, v5).unwrap();
    let five = decode(5, &v5, path).unwrap();
    assert_eq!(five.sequences.highest, st.sequences.highest);
    assert!(five.sequences.boxes.is_empty(), "version 5 had no boxes");

    let v4 = postcard::to_allocvec(&st.image(1, st.nodes.census())).unwrap();
    let old = decode(4, &v4, path).unwrap();
    assert_eq!(old.sequences, Default::default());
    assert_eq!(old.image.quarantine_next, 1);

    let mut long = body;
    long.push(0);
    let err = decode(CHECKPOINT_VERSION, &long, path).unwrap_err();
    assert!(err.to_string().contains("after its end"), "{err}");
}
