//! Real processes: a writer killed with SIGKILL at random moments must lose
//! nothing it acknowledged, and two processes racing to open one directory
//! must end with exactly one owner.
//!
//! The child roles run in this same test binary (the ignored test
//! `child_entry`, selected by an environment variable).
//! Long form: `BAMDB_KILL_CYCLES=10000 BAMDB_LOCK_RACES=1000 cargo test --release --test wal_process`

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bamdb::wal::{ReadItem, Wal, WalError, WalOptions};

const ROLE: &str = "BAMDB_WAL_CHILD";
const DIR_VAR: &str = "BAMDB_WAL_CHILD_DIR";
const CYCLE_VAR: &str = "BAMDB_WAL_CHILD_CYCLE";

fn options() -> WalOptions {
    WalOptions {
        segment_size: 64 << 10,
        max_frame_size: 8 << 10,
        preallocate: true,
    }
}

fn payload(cycle: u64, n: u64) -> Vec<u8> {
    format!("cycle {cycle} frame {n};")
        .repeat(1 + (n % 40) as usize)
        .into_bytes()
}

fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The child side. Not a test on its own: it does nothing unless a parent
/// set the role variable.
#[test]
#[ignore = "child process entry point, run by the tests below"]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let dir = std::env::var(DIR_VAR).unwrap();
    match role.as_str() {
        "writer" => {
            let cycle: u64 = std::env::var(CYCLE_VAR).unwrap().parse().unwrap();
            let wal = Wal::open(&dir, options()).unwrap();
            let mut out = std::io::stdout().lock();
            for n in 0.. {
                let lsn = wal.append(&payload(cycle, n)).unwrap();
                writeln!(out, "ACK {lsn} {cycle} {n}").unwrap();
                out.flush().unwrap();
            }
        }
        "locker" => {
            let status = match Wal::open(&dir, options()) {
                Ok(_wal) => {
                    println!("OPENED");
                    std::io::stdout().flush().unwrap();
                    // Hold the lock until the parent closes stdin.
                    let mut sink = String::new();
                    let _ = std::io::stdin().read_to_string(&mut sink);
                    return;
                }
                Err(WalError::Locked { .. }) => "LOCKED",
                Err(e) => panic!("{e}"),
            };
            println!("{status}");
        }
        other => panic!("unknown role {other}"),
    }
}

fn spawn(role: &str, dir: &Path, cycle: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(DIR_VAR, dir)
        .env(CYCLE_VAR, cycle.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Reads a locker child's output until it says whether it got the lock.
fn read_status(child: &mut Child) -> &'static str {
    let mut reader = BufReader::new(child.stdout.as_mut().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            return "EXITED";
        }
        for status in ["OPENED", "LOCKED"] {
            if line.contains(status) {
                return status;
            }
        }
    }
}

/// A small deterministic generator for kill moments.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn a_writer_killed_at_random_moments_loses_nothing_it_acknowledged() {
    let cycles = env_count("BAMDB_KILL_CYCLES", 100);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut acked: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let mut total_acks = 0;
    for cycle in 0..cycles {
        let mut child = spawn("writer", dir.path(), cycle);
        std::thread::sleep(Duration::from_millis(2 + next_random(&mut rng) % 40));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        for line in out.lines() {
            // The test harness may print its own prefix before our output.
            let Some(start) = line.find("ACK ") else {
                continue;
            };
            let fields: Vec<&str> = line[start..].split(' ').collect();
            if let ["ACK", lsn, c, n] = fields[..] {
                let (Ok(lsn), Ok(c), Ok(n)) = (lsn.parse(), c.parse(), n.parse()) else {
                    continue; // a line cut by the kill
                };
                let previous = acked.insert(lsn, (c, n));
                assert!(previous.is_none(), "LSN {lsn} acknowledged twice");
                total_acks += 1;
            }
        }

        let wal = Wal::open(dir.path(), options()).unwrap();
        let mut seen = BTreeMap::new();
        for item in wal.reader(1) {
            match item.unwrap() {
                ReadItem::Frame(f) => {
                    seen.insert(f.lsn, f.payload);
                }
                ReadItem::Corrupt(c) => panic!("cycle {cycle}: a kill produced corruption {c:?}"),
            }
        }
        for (lsn, (c, n)) in &acked {
            assert_eq!(
                seen.get(lsn),
                Some(&payload(*c, *n)),
                "cycle {cycle}: acknowledged frame {lsn} lost or altered"
            );
        }
        // Frames never acknowledged may survive, but whole: they parse.
        for (lsn, p) in &seen {
            let text = String::from_utf8(p.clone()).unwrap();
            assert!(text.starts_with("cycle "), "frame {lsn} is garbage");
            // Later cycles must not reuse an LSN that survived, so treat
            // survivors as acknowledged from now on.
            if !acked.contains_key(lsn) {
                let head: Vec<&str> = text.split(';').next().unwrap().split(' ').collect();
                let (c, n) = (head[1].parse().unwrap(), head[3].parse().unwrap());
                assert_eq!(p, &payload(c, n));
                acked.insert(*lsn, (c, n));
            }
        }
    }
    println!("{cycles} kill cycles, {total_acks} acknowledged frames checked");
    assert!(
        total_acks > 0,
        "the writer never got to acknowledge anything"
    );
}

#[test]
fn two_processes_racing_to_open_end_with_exactly_one_owner() {
    let races = env_count("BAMDB_LOCK_RACES", 20);
    let dir = tempfile::tempdir().unwrap();
    for race in 0..races {
        let mut children = [
            spawn("locker", dir.path(), race),
            spawn("locker", dir.path(), race),
        ];
        let mut results: Vec<&str> = children.iter_mut().map(read_status).collect();
        for child in &mut children {
            drop(child.stdin.take()); // let the owner go
            assert!(child.wait().unwrap().success());
        }
        results.sort();
        assert_eq!(results, ["LOCKED", "OPENED"], "race {race}");
    }
}

#[test]
fn a_second_open_in_the_same_process_is_locked_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::open(dir.path(), options()).unwrap();
    let err = Wal::open(dir.path(), options()).unwrap_err();
    assert!(matches!(err, WalError::Locked { .. }));
    assert!(err.to_string().contains("locked"));
    let clone = wal.clone();
    drop(wal);
    assert!(
        Wal::open(dir.path(), options()).is_err(),
        "a clone still holds it"
    );
    drop(clone);
    Wal::open(dir.path(), options()).unwrap();
}

#[test]
fn a_lock_left_by_a_killed_process_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn("locker", dir.path(), 0);
    assert_eq!(read_status(&mut child), "OPENED");
    assert!(matches!(
        Wal::open(dir.path(), options()),
        Err(WalError::Locked { .. })
    ));
    child.kill().unwrap();
    child.wait().unwrap();
    Wal::open(dir.path(), options()).unwrap();
}
