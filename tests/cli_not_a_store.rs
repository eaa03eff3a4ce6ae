//! Regression: read commands (`stats`, `get`, `search`, `agg`, `verify`,
//! `quarantine list/show`, `maintain`, ...) run on a directory that was not
//! a store created one there (LOCK, a 64 MiB message-box segment, folders)
//! and exited 0. Now only `deploy`, `ingest` and `demo` create a store;
//! every other command says the directory is not a store, exits 2 and
//! leaves it exactly as it was.

mod cli_common;

use std::path::{Path, PathBuf};

use cli_common::*;

/// Every command that must not create a store, with its arguments after
/// `--store DIR`.
fn readers() -> Vec<(Vec<&'static str>, Vec<&'static str>)> {
    vec![
        (vec!["stats"], vec![]),
        (vec!["get"], vec!["PurchaseOrder", "PO-1"]),
        (vec!["search"], vec!["PurchaseOrder"]),
        (vec!["search"], vec!["PurchaseOrder", "--status", "pending"]),
        (vec!["agg"], vec!["PurchaseOrder"]),
        (vec!["maintain"], vec![]),
        (vec!["maintain"], vec!["--remove", "PurchaseOrder", "PO-1"]),
        (vec!["maintain"], vec!["--retain", "30d"]),
        (vec!["definitions"], vec![]),
        (vec!["verify"], vec![]),
        (vec!["quarantine", "list"], vec![]),
        (vec!["quarantine", "show"], vec!["1"]),
        (vec!["quarantine", "replay"], vec!["--all"]),
    ]
}

/// Everything under `path`: relative names with file sizes and contents'
/// length, or a marker for a missing path / a plain file.
fn listing(path: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            if p.is_dir() {
                out.push(format!("{rel}/"));
                walk(base, &p, out);
            } else {
                let data = std::fs::read(&p).unwrap();
                out.push(format!(
                    "{rel} {} bytes {:?}",
                    data.len(),
                    &data[..data.len().min(32)]
                ));
            }
        }
    }
    if !path.exists() {
        return vec!["<missing>".into()];
    }
    if path.is_file() {
        return vec![format!("<file> {:?}", std::fs::read(path).unwrap())];
    }
    let mut out = vec![];
    walk(path, path, &mut out);
    out
}

#[test]
fn read_commands_on_a_non_store_exit_2_and_touch_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let other = tmp.path().join("other");
    std::fs::create_dir_all(other.join("wal")).unwrap();
    std::fs::write(other.join("notes.txt"), "not a store").unwrap();
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, "hello").unwrap();

    for (dir, why) in [
        (&missing, "the directory does not exist"),
        (&empty, "no segments/ directory"),
        (&other, "no segments/ directory"),
        (&file, "it is not a directory"),
    ] {
        for (command, rest) in readers() {
            let before = listing(dir);
            let mut args = command.clone();
            args.extend(["--store", s(dir)]);
            args.extend(rest.iter().copied());
            let o = bamdb(&args, "");
            no_panic(&o);
            assert_eq!(code(&o), 2, "{args:?}: {}{}", stdout(&o), stderr(&o));
            let err = stderr(&o);
            assert!(
                err.contains(&format!("{} is not a bamdb store ({why})", dir.display())),
                "{args:?}: {err}"
            );
            assert!(
                err.contains("bamdb deploy") && err.contains("bamdb ingest"),
                "says how to create one: {err}"
            );
            assert_eq!(err.lines().count(), 1, "one line: {err}");
            assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
            assert_eq!(listing(dir), before, "{args:?} changed {}", dir.display());
        }
    }
}

#[test]
fn deploy_and_ingest_create_a_store_that_the_readers_then_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new");
    let o = bamdb(&["ingest", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(dir.join("segments").is_dir(), "ingest created a store");
    let o = bamdb(&["stats", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let dir = tmp.path().join("deployed");
    deploy_defs(&dir);
    assert!(dir.join("segments").is_dir(), "deploy created a store");
    for (command, rest) in readers() {
        let mut args = command.clone();
        args.extend(["--store", s(&dir)]);
        args.extend(rest.iter().copied());
        let o = bamdb(&args, "");
        no_panic(&o);
        assert!(
            !stderr(&o).contains("not a bamdb store"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}
