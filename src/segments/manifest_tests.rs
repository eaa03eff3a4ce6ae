use super::*;
use crate::storage::MemStorage;

#[test]
fn the_manifest_round_trips_and_damage_is_reported() {
    let disk = MemStorage::new();
    let dir = Path::new("/s");
    disk.create_dir_all(dir).unwrap();
    assert_eq!(Manifest::load(&disk, dir).unwrap(), None);
    let m = Manifest {
        applied_lsn: 42,
        checkpoint: Some("7.ckpt".into()),
        files: vec!["3.seg".into(), "5.seg".into()],
        next_file: 8,
        archives: vec!["6.seg".into()],
        active_runs: vec!["4.run".into()],
    };
    m.store(&disk, dir).unwrap();
    assert_eq!(Manifest::load(&disk, dir).unwrap(), Some(m));
    let path = dir.join(MANIFEST);
    let mut bytes = disk.read_file(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    disk.corrupt_file(&path, bytes);
    let err = Manifest::load(&disk, dir).unwrap_err().to_string();
    assert!(
        err.contains("MANIFEST") && err.contains("checksum"),
        "{err}"
    );
}

#[test]
fn a_version_1_manifest_reads_with_no_active_runs() {
    #[derive(serde::Serialize)]
    struct V1 {
        applied_lsn: Lsn,
        checkpoint: Option<String>,
        files: Vec<String>,
        next_file: u64,
        archives: Vec<String>,
    }
    let disk = MemStorage::new();
    let dir = Path::new("/s");
    disk.create_dir_all(dir).unwrap();
    let v1 = V1 {
        applied_lsn: 9,
        checkpoint: Some("2.ckpt".into()),
        files: vec!["1.seg".into()],
        next_file: 3,
        archives: Vec::new(),
    };
    let body = postcard::to_allocvec(&v1).unwrap();
    write_atomically(&disk, dir, MANIFEST, &encode_blob(&MAGIC, VERSION_1, &body)).unwrap();
    let m = Manifest::load(&disk, dir).unwrap().unwrap();
    assert_eq!(m.applied_lsn, 9);
    assert_eq!(m.checkpoint.as_deref(), Some("2.ckpt"));
    assert_eq!(m.files, vec!["1.seg".to_owned()]);
    assert_eq!(m.next_file, 3);
    assert!(m.active_runs.is_empty());
}
