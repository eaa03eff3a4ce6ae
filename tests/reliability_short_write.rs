//! Issue 6, short writes on the real `bamdb ingest` binary. strace's
//! `inject=write:retval=N` skips the system call (a write lost while
//! reported done), so it cannot make a short write. Here a small
//! LD_PRELOAD shim (`tests/reliability_short_write/shim.c`, compiled by this
//! test with the system C compiler) wraps `write`, `pwrite64` (what the
//! message box uses for its segment files) and the vectored calls: for a
//! file under a chosen directory it performs the REAL system call with half
//! the count (at least 1 byte), so half the data reaches the file and the
//! shorter count is returned, as the kernel may do.
//!
//! Modes, each followed by `Store::verify`, `Store::open` and the oracle of
//! tests/reliability_common (every acknowledged commit imported exactly
//! once, an unacknowledged one whole or not at all, nothing invented):
//! - one short write at the N-th write under the message box, or under the
//!   whole store (import files, checkpoint, manifest, quarantine too): the
//!   writer must continue the write; every commit is acknowledged, exit 0;
//! - every write under the message box, the whole store, or to the file
//!   receiving standard output (the receipts) is short: the same, and the
//!   receipt lines are whole;
//! - a short write at the N-th write under the message box, then every
//!   later write there fails with ENOSPC (the disk filled up mid-write): no
//!   receipt is written after the fault (the shim records the size of
//!   standard output when it injects), exit code 2, a message naming the
//!   error, and a reopen recovers every commit acknowledged before it (the
//!   half-written frame is a torn tail, cut and never acknowledged).
//!
//! Needs a C compiler (`cc`/`gcc`) and a dynamically linked binary; if the
//! shim cannot be built or is not loaded, prints `skipped: <why>` and passes.
//! CI: N = 1..=8. Long form:
//! `BAMDB_SHORT_WRITE_MAX_N=200 cargo test --release --test reliability_short_write -- --nocapture`

mod reliability_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use reliability_common::*;

const SHIM: &str = include_str!("reliability_short_write/shim.c");

/// Compiles the shim into `work`.
fn build_shim(work: &Path) -> Result<PathBuf, String> {
    let src = work.join("shim.c");
    let lib = work.join("shim.so");
    std::fs::write(&src, SHIM).unwrap();
    let mut last = String::new();
    for cc in ["cc", "gcc", "/usr/bin/gcc", "clang"] {
        match Command::new(cc)
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&lib)
            .arg(&src)
            .output()
        {
            Ok(o) if o.status.success() => return Ok(lib),
            Ok(o) => last = format!("{cc} failed: {}", String::from_utf8_lossy(&o.stderr).trim()),
            Err(e) => last = format!("{cc}: {e}"),
        }
    }
    Err(format!("no C compiler could build the shim ({last})"))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scope {
    /// The message box directory.
    Wal,
    /// The whole store directory.
    Store,
    /// The directory of the file that receives standard output.
    Stdout,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Nth,
    Every,
    Enospc,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Nth => "nth",
            Mode::Every => "every",
            Mode::Enospc => "enospc",
        }
    }
}

/// One shim log line: `what pid=.. fd=.. asked=.. done=.. stdout_size=..`.
struct Injection {
    what: String,
    stdout_size: u64,
}

fn parse_log(log: &str) -> Vec<Injection> {
    log.lines()
        .map(|l| {
            let what = l.split(' ').next().unwrap_or("").to_string();
            let stdout_size = l
                .rsplit("stdout_size=")
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            Injection { what, stdout_size }
        })
        .collect()
}

struct Env<'a> {
    dir: &'a Path,
    work: &'a Path,
    shim: &'a Path,
}

/// One run of `bamdb ingest` under the shim. `Ok(fired)`, or `Err(why)`
/// when the shim was not loaded at all.
fn run(
    env: &Env,
    scope: Scope,
    mode: Mode,
    n: u64,
    oracle: &mut Oracle,
    rng: &mut Rng,
) -> Result<bool, String> {
    let cycle = oracle.groups.len() as u64;
    // 6 + 2n groups, about one in ten cleared: at least n commits, so the
    // n-th write under the message box exists.
    let (input, committed) = oracle.cycle_input(cycle, 6 + 2 * n as usize, rng);
    let input_file = env.work.join("input.jsonl");
    let out_dir = env.work.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out_file = out_dir.join("receipts");
    let log_file = env.work.join("shim.log");
    let _ = std::fs::remove_file(&log_file);
    std::fs::write(&input_file, input).unwrap();
    let target = match scope {
        Scope::Wal => env.dir.join("wal"),
        Scope::Store => env.dir.to_path_buf(),
        Scope::Stdout => out_dir.clone(),
    };
    let target = target.canonicalize().unwrap();
    let o = Command::new(bin())
        .args(["ingest", "--store"])
        .arg(env.dir)
        .arg(&input_file)
        .env("LD_PRELOAD", env.shim)
        .env("SHORTW_DIR", &target)
        .env("SHORTW_MODE", mode.name())
        .env("SHORTW_N", n.to_string())
        .env("SHORTW_LOG", &log_file)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_file).unwrap())
        .output()
        .expect("run bamdb ingest");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let what = format!("{mode:?} short write under {scope:?}, N = {n}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    let log = parse_log(&std::fs::read_to_string(&log_file).unwrap_or_default());
    if !log.iter().any(|l| l.what == "loaded") {
        return Err(format!(
            "the shim was not loaded through LD_PRELOAD (exit {:?}: {err})",
            o.status
        ));
    }
    let out = std::fs::read(&out_file).unwrap();
    let receipts = parse_receipts(&out).unwrap_or_else(|e| panic!("{what}: {e}"));
    let shorts = log.iter().filter(|l| l.what == "short").count();
    let enospc = log.iter().position(|l| l.what == "enospc");
    match (mode, enospc) {
        (Mode::Enospc, Some(at)) => {
            assert!(
                shorts == 1 && log[..at].iter().any(|l| l.what == "short"),
                "{what}: one short write, then ENOSPC"
            );
            assert_eq!(
                out.len() as u64,
                log[at].stdout_size,
                "{what}: a receipt was written after the fault: {}",
                String::from_utf8_lossy(&out)
            );
            assert_eq!(o.status.code(), Some(2), "{what}: {err}");
            assert!(
                err.contains("No space left") && err.contains("bamdb:"),
                "{what}: the error is named: {err}"
            );
            assert!(receipts.len() < committed.len(), "{what}");
        }
        _ => {
            assert!(enospc.is_none(), "{what}: ENOSPC injected");
            assert_eq!(
                o.status.code(),
                Some(0),
                "{what}: a short write is continued, not an error: {err}"
            );
            assert_eq!(
                receipts.len(),
                committed.len(),
                "{what}: every commit acknowledged"
            );
            assert!(out.ends_with(b"\n"), "{what}: whole receipt lines");
        }
    }
    oracle
        .record(&committed, &receipts)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    verify_open_check(env.dir, oracle).unwrap_or_else(|e| panic!("{what}: {e}"));
    Ok(shorts > 0)
}

#[test]
fn short_writes_are_continued_and_a_short_write_then_enospc_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let shim = match build_shim(tmp.path()) {
        Ok(s) => s,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let max_n = env_count("BAMDB_SHORT_WRITE_MAX_N", 8);
    let mut rng = Rng::from_env();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let env = Env {
        dir: &dir,
        work: tmp.path(),
        shim: &shim,
    };
    let mut oracle = Oracle::default();
    let mut runs = 0;
    let plans: [(Scope, Mode, u64); 6] = [
        (Scope::Wal, Mode::Nth, max_n),
        (Scope::Store, Mode::Nth, max_n),
        (Scope::Wal, Mode::Enospc, max_n),
        (Scope::Wal, Mode::Every, 2),
        (Scope::Store, Mode::Every, 2),
        (Scope::Stdout, Mode::Every, 2),
    ];
    for (scope, mode, count) in plans {
        let mut fired = 0;
        for n in 1..=count {
            runs += 1;
            match run(&env, scope, mode, n, &mut oracle, &mut rng) {
                Ok(true) => fired += 1,
                Ok(false) => {}
                Err(why) => {
                    println!("skipped: {why}");
                    return;
                }
            }
        }
        eprintln!("{mode:?} under {scope:?}: a short write in {fired} of {count} runs");
        assert_eq!(
            fired, count,
            "{mode:?} under {scope:?}: the fault did not fire"
        );
    }
    eprintln!(
        "short writes: {runs} runs, {} groups acknowledged and recovered",
        oracle.acked()
    );
}
