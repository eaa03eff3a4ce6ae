//! `StoreOptions::create_if_missing`: on by default (`Store::open` creates
//! a store as documented); off, opening a directory that holds no store is
//! `StoreError::NotAStore` and creates nothing. `Store::verify` never
//! creates a store (it used to leave a LOCK file in any directory).

use bamdb::{Store, StoreError, StoreOptions};

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn existing() -> StoreOptions {
    StoreOptions {
        create_if_missing: false,
        ..StoreOptions::default()
    }
}

#[test]
fn open_without_create_refuses_a_non_store_and_creates_nothing() {
    assert!(StoreOptions::default().create_if_missing);
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("data.csv"), "a,b").unwrap();
    let missing = tmp.path().join("missing");

    for dir in [&empty, &missing] {
        let before = dir.exists().then(|| names(dir));
        match Store::open(dir, existing()) {
            Err(e @ StoreError::NotAStore { .. }) => {
                let text = e.to_string();
                assert!(text.contains("is not a bamdb store"), "{text}");
                assert!(text.contains(&dir.display().to_string()), "{text}");
            }
            Err(e) => panic!("{}: expected NotAStore, got {e}", dir.display()),
            Ok(_) => panic!("{}: opened a non-store", dir.display()),
        }
        assert_eq!(dir.exists().then(|| names(dir)), before);
        match Store::verify(dir, &StoreOptions::default()) {
            Err(StoreError::NotAStore { .. }) => {}
            other => panic!("verify of {}: {:?}", dir.display(), other.map(|_| ())),
        }
        assert_eq!(dir.exists().then(|| names(dir)), before, "verify wrote");
    }

    // The default creates it; then it opens without creating.
    let dir = tmp.path().join("store");
    Store::open(&dir, StoreOptions::default())
        .unwrap()
        .close()
        .unwrap();
    assert!(dir.join("segments").is_dir());
    Store::open(&dir, existing()).unwrap().close().unwrap();
}
