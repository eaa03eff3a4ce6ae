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
