//! Helpers of the CLI tests: run the real `bamdb` binary.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use bamdb::fixture;

/// Small orders `PO-i` as JSON lines: `Amount` `i + 0.5`, `Region` `EU`.
#[allow(unused_imports)] // not every CLI test ingests orders
pub use bamdb::fixture::json_lines as po_lines;

/// The definitions file the CLI tests deploy: PurchaseOrder with
/// `Customer`, `Region` and `Amount`, as in the README's walkthrough.
pub fn defs() -> String {
    fixture::definitions_json(fixture::BRIEF)
}

/// Runs `bamdb ARGS` with `stdin` as standard input, written by another
/// thread: an input of megabytes while the command floods its output must
/// not hang the test.
pub fn bamdb(args: &[&str], stdin: &str) -> Output {
    let mut child = spawn(args, Stdio::piped());
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_owned();
    // The command may exit before reading it all (a locked store, say).
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for bamdb");
    writer.join().expect("stdin writer");
    out
}

/// Starts `bamdb ARGS` with `stdin`, its stdout and stderr piped, and
/// backtraces on (so [`no_panic`] can see one).
pub fn spawn(args: &[&str], stdin: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bamdb"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bamdb")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit code; fails on a signal.
pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

/// Asserts no panic or backtrace leaked to stderr.
pub fn no_panic(o: &Output) {
    let err = stderr(o);
    assert!(
        !err.contains("panicked") && !err.contains("stack backtrace"),
        "panic in stderr: {err}"
    );
}

/// Deploys [`defs`] into the store `dir`.
pub fn deploy_defs(dir: &Path) {
    let file = dir.with_extension("defs.json");
    std::fs::write(&file, defs()).expect("write defs");
    let o = bamdb(&["deploy", "--store", s(dir), s(&file)], "");
    assert_eq!(code(&o), 0, "deploy: {}", stderr(&o));
}

/// A fresh temporary directory holding the store `store` with [`defs`]
/// deployed. Keep the `TempDir` alive as long as the store is used.
pub fn deployed_store() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path().join("store");
    deploy_defs(&dir);
    (tmp, dir)
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The `{"committed":LSN,"events":N}` lines of an ingest.
pub fn receipts(o: &Output) -> Vec<(u64, u64)> {
    stdout(o)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("receipt is JSON");
            (
                v["committed"].as_u64().expect("committed"),
                v["events"].as_u64().expect("events"),
            )
        })
        .collect()
}
