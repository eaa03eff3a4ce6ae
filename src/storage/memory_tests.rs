use super::*;

fn disk_with_dir() -> (MemStorage, PathBuf) {
    let disk = MemStorage::new();
    let dir = PathBuf::from("/db");
    disk.create_dir_all(&dir).unwrap();
    (disk, dir)
}

#[test]
fn unsynced_writes_are_lost_and_synced_ones_kept_on_power_loss() {
    let (disk, dir) = disk_with_dir();
    let path = dir.join("a");
    let f = disk.open_file(&path, OpenMode::CreateNew).unwrap();
    disk.sync_dir(&dir).unwrap();
    f.write_all_at(b"durable", 0).unwrap();
    f.sync_data().unwrap();
    f.write_all_at(b"VOLATILE", 7).unwrap();

    let after = disk.crash_image(CrashMode::DropUnsynced);
    assert_eq!(after.read_file(&path).unwrap(), b"durable");
    let kept = disk.crash_image(CrashMode::KeepAll);
    assert_eq!(kept.read_file(&path).unwrap(), b"durableVOLATILE");
}

#[test]
fn a_new_file_needs_a_directory_sync_to_survive() {
    let (disk, dir) = disk_with_dir();
    let path = dir.join("new");
    let f = disk.open_file(&path, OpenMode::CreateNew).unwrap();
    f.write_all_at(b"x", 0).unwrap();
    f.sync_all().unwrap();
    assert!(disk
        .crash_image(CrashMode::DropUnsynced)
        .read_file(&path)
        .is_none());
    disk.sync_dir(&dir).unwrap();
    let after = disk.crash_image(CrashMode::DropUnsynced);
    assert_eq!(after.read_file(&path).unwrap(), b"x");
}

#[test]
fn a_failed_sync_loses_its_writes_even_after_a_later_sync() {
    let (disk, dir) = disk_with_dir();
    let path = dir.join("a");
    let f = disk.open_file(&path, OpenMode::CreateNew).unwrap();
    disk.sync_dir(&dir).unwrap();
    f.write_all_at(b"lost", 0).unwrap();
    disk.inject(1, Fault::Eio);
    assert!(f.sync_data().is_err());
    // The page cache still shows the bytes, but they never reach the disk.
    assert_eq!(disk.read_file(&path).unwrap(), b"lost");
    f.sync_data().unwrap();
    let after = disk.crash_image(CrashMode::DropUnsynced);
    assert_eq!(after.read_file(&path).unwrap(), b"");
}

#[test]
fn crash_after_n_steps_fails_that_step_and_everything_after() {
    let (disk, dir) = disk_with_dir();
    let f = disk.open_file(&dir.join("a"), OpenMode::CreateNew).unwrap();
    disk.crash_after(2);
    f.write_all_at(b"1", 0).unwrap();
    assert!(f.write_all_at(b"2", 1).is_err());
    assert!(f.sync_data().is_err());
    assert!(f.read_at(&mut [0u8; 1], 0).is_err());
    assert!(disk.is_crashed());
}

#[test]
fn partial_write_fault_writes_half_and_fails() {
    let (disk, dir) = disk_with_dir();
    let path = dir.join("a");
    let f = disk.open_file(&path, OpenMode::CreateNew).unwrap();
    disk.inject(1, Fault::PartialWrite);
    let err = f.write_all_at(b"abcd", 0).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(5));
    assert_eq!(disk.read_file(&path).unwrap(), b"ab");
}

#[test]
fn rename_is_atomic_and_pending_until_directory_sync() {
    let (disk, dir) = disk_with_dir();
    let (tmp, fin) = (dir.join("m.tmp"), dir.join("m"));
    let f = disk.open_file(&tmp, OpenMode::CreateNew).unwrap();
    f.write_all_at(b"v1", 0).unwrap();
    f.sync_all().unwrap();
    disk.sync_dir(&dir).unwrap();
    disk.rename(&tmp, &fin).unwrap();
    let before = disk.crash_image(CrashMode::DropUnsynced);
    assert!(before.read_file(&fin).is_none());
    assert_eq!(before.read_file(&tmp).unwrap(), b"v1");
    for seed in 0..50 {
        let img = disk.crash_image(CrashMode::Random(seed));
        // Exactly one of the two names exists, never both, never neither.
        assert!(img.read_file(&fin).is_some() != img.read_file(&tmp).is_some());
    }
}

#[test]
fn random_crashes_produce_every_outcome_for_an_unsynced_write() {
    let (disk, dir) = disk_with_dir();
    let path = dir.join("a");
    let f = disk.open_file(&path, OpenMode::CreateNew).unwrap();
    disk.sync_dir(&dir).unwrap();
    f.write_all_at(&[7u8; 64], 0).unwrap();
    let mut lens = BTreeSet::new();
    for seed in 0..200 {
        let img = disk.crash_image(CrashMode::Random(seed));
        let data = img.read_file(&path).unwrap();
        assert!(data.iter().all(|&b| b == 7));
        lens.insert(data.len());
    }
    assert!(lens.contains(&0), "dropped");
    assert!(lens.contains(&64), "kept");
    assert!(lens.iter().any(|&l| l > 0 && l < 64), "torn");
}

#[test]
fn locks_are_exclusive_until_dropped() {
    let (disk, dir) = disk_with_dir();
    let lock_path = dir.join("LOCK");
    let guard = disk.try_lock(&lock_path).unwrap();
    assert!(guard.is_some());
    assert!(disk.try_lock(&lock_path).unwrap().is_none());
    drop(guard);
    assert!(disk.try_lock(&lock_path).unwrap().is_some());
}

#[test]
fn a_full_disk_takes_what_fits_then_fails_with_enospc_until_space_is_freed() {
    let (disk, dir) = disk_with_dir();
    disk.set_capacity(Some(10));
    let a = disk.open_file(&dir.join("a"), OpenMode::CreateNew).unwrap();
    a.write_all_at(b"123456", 0).unwrap();
    assert_eq!(disk.available_space(&dir), Some(4));

    let err = a.write_all_at(b"abcdefgh", 6).unwrap_err();
    assert!(crate::storage::is_no_space(&err), "{err}");
    assert_eq!(disk.read_file(&dir.join("a")).unwrap(), b"123456abcd");
    let err = a.allocate(11).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(28));
    assert_eq!(a.len().unwrap(), 10, "a refused extension changes nothing");
    // Overwriting in place needs no space.
    a.write_all_at(b"XY", 0).unwrap();

    disk.remove_file(&dir.join("a")).unwrap();
    assert_eq!(disk.available_space(&dir), Some(10));
    let b = disk.open_file(&dir.join("b"), OpenMode::CreateNew).unwrap();
    b.allocate(10).unwrap();
    disk.set_capacity(None);
    assert_eq!(disk.available_space(&dir), None);
    b.write_all_at(&[1; 100], 0).unwrap();
}
