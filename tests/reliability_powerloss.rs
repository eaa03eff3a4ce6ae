//! Campaign 3 of issue 6: power loss on a real kernel. A small ext4 image
//! (mkfs.ext4 on a sparse file) is loop-mounted, once with `data=ordered`
//! and once with `data=writeback`; one `bamdb ingest` writes into it,
//! reading input this test feeds cycle by cycle. At random points (after a
//! random number of receipts) the image file is copied with
//! `cp --sparse=always` without any `sync`: the copy holds only what the
//! kernel had written to the image file, which is what a power loss
//! leaves. The copy is loop-mounted (ext4 replays its journal), `Store::verify`
//! must find no problem, `Store::open` must succeed, and the oracle
//! (tests/reliability_common) must hold: every commit acknowledged before
//! the copy started is there exactly once, later ones whole or absent,
//! cleared events never, nothing invented.
//!
//! The writer is stopped (SIGSTOP) while the image is copied and resumed
//! after, so the copy is not torn by the writer's own later writes; the
//! kernel's write-back and journal threads keep running during the copy.
//!
//! Each snapshot is an independent store; to keep a long run linear, the
//! groups compared one by one are those of this and the previous cycle and
//! of every cycle with a commit still in doubt, with the global counters
//! and visible instance count against the whole record
//! (`Oracle::check_recent`); every `BAMDB_POWERLOSS_FULL_EVERY` snapshots
//! (25) and at the last one of each mode, every group (`Oracle::check`).
//!
//! Needs root and loop devices (`losetup -f`); otherwise prints
//! `skipped: <why>` and passes. Mounts and loop devices are released by
//! guards, on failure too.
//! The same runs with the writer committing to a producer's message box
//! (`bamdb ingest --box p`, issue 16): each snapshot is then drained into
//! its store by `bamdb bus --drain` before the same checks.
//! CI: 50 snapshots per data mode and target (200 in all). Long form:
//! `BAMDB_POWERLOSS_SNAPSHOTS=2500 cargo test --release --test reliability_powerloss -- --nocapture`
//! (the count is per data mode and target: 10,000 snapshots in all).

mod mount_common;
mod reliability_common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use mount_common::*;
use reliability_common::*;

fn environment() -> Result<(), String> {
    need_root()?;
    sh("losetup", &["-f"]).map_err(|e| format!("no free loop device: {e}"))?;
    sh("mkfs.ext4", &["-V"]).map_err(|e| format!("mkfs.ext4 missing: {e}"))?;
    Ok(())
}

impl Mount {
    /// `image` loop-mounted at `at` with ext4's `data=` mode `data`.
    fn new(image: &Path, at: &Path, data: &str) -> Result<Mount, String> {
        std::fs::create_dir_all(at).unwrap();
        sh(
            "mount",
            &[
                "-o",
                &format!("loop,data={data}"),
                image.to_str().unwrap(),
                at.to_str().unwrap(),
            ],
        )?;
        Ok(Mount(at.to_path_buf()))
    }
}

/// The writer, killed on drop (before the mount guard is dropped).
struct Writer(Child);

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(pid: u32, sig: &str) {
    sh("kill", &[sig, &pid.to_string()]).unwrap();
}

/// Where the writer commits: the store itself (`bamdb ingest --store`), or
/// a producer's message box in it (`--box p`), which a bus process run on
/// each snapshot (`bamdb bus --drain`) imports before the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Store,
    Box,
}

fn campaign(data: &str, target: Target, snapshots: u64, rng: &mut Rng) {
    let tmp = tempfile::tempdir().unwrap();
    let image = tmp.path().join("fs.img");
    // The copy is checked in memory (tmpfs) when there is one: opening and
    // closing the store there syncs, and syncs through a loop device on a
    // disk-backed file cost tens of milliseconds each. Where the copy lives
    // after it was taken does not change what it holds.
    let snap_tmp = match tempfile::tempdir_in("/dev/shm") {
        Ok(t) => t,
        Err(_) => tempfile::tempdir().unwrap(),
    };
    let snap = snap_tmp.path().join("snap.img");
    sh("truncate", &["-s", "200M", image.to_str().unwrap()]).unwrap();
    sh("mkfs.ext4", &["-q", "-F", image.to_str().unwrap()]).unwrap();
    let live = Mount::new(&image, &tmp.path().join("live"), data).unwrap();
    let dir = live.0.join("store");
    deploy(&dir);

    let mut command = Command::new(bin());
    command.args(["ingest", "--store"]).arg(&dir);
    if target == Target::Box {
        command.args(["--box", "p"]);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bamdb ingest");
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let writer = Writer(child);
    let (feed, inputs) = mpsc::channel::<String>();
    let feeder = std::thread::spawn(move || {
        for text in inputs {
            stdin.write_all(text.as_bytes()).unwrap();
            stdin.flush().unwrap();
        }
    });

    let mut oracle = Oracle::default();
    let mut committed: Vec<usize> = Vec::new();
    let mut receipts: Vec<(u64, u64)> = Vec::new();
    // The first group of each cycle's input.
    let mut cycle_starts: Vec<usize> = Vec::new();
    let full_every = env_count("BAMDB_POWERLOSS_FULL_EVERY", 25).max(1);
    let mut full_checks = 0;
    let started = Instant::now();
    let mut phase = [std::time::Duration::ZERO; 3];
    for s in 0..snapshots {
        cycle_starts.push(oracle.groups.len());
        let (text, more) = oracle.cycle_input(s, 4 + rng.below(8) as usize, rng);
        committed.extend(more.iter().copied());
        feed.send(text).unwrap();
        // Wait for a random number of receipts, up to all that were sent.
        let wanted =
            receipts.len() as u64 + rng.below((committed.len() - receipts.len()) as u64 + 1);
        while (receipts.len() as u64) < wanted {
            let mut line = Vec::new();
            assert!(out.read_until(b'\n', &mut line).unwrap() > 0, "writer died");
            receipts.extend(parse_receipts(&line).unwrap());
        }
        let acked = receipts.len();
        let t0 = Instant::now();
        signal(pid, "-STOP");
        let copied = sh(
            "cp",
            &[
                "--sparse=always",
                image.to_str().unwrap(),
                snap.to_str().unwrap(),
            ],
        );
        signal(pid, "-CONT");
        copied.unwrap();

        let mut view = oracle.clone();
        view.record(&committed[..acked], &receipts[..acked])
            .unwrap_or_else(|e| panic!("{data} snapshot {s}: {e}"));
        for &g in &committed[acked..] {
            view.groups[g].fate = Fate::Unknown;
        }
        // Compared one by one: the groups of the previous and this cycle,
        // and of every cycle with a commit still in doubt; every group
        // every `full_every` snapshots and at the last one.
        let in_doubt = committed.get(acked).copied().unwrap_or(usize::MAX);
        let first_cycle = cycle_starts
            .iter()
            .rposition(|&start| start <= in_doubt)
            .unwrap_or(0)
            .min(cycle_starts.len().saturating_sub(2));
        let full = (s + 1) % full_every == 0 || s + 1 == snapshots;
        let from = if full {
            None
        } else {
            Some(cycle_starts[first_cycle])
        };
        let t1 = Instant::now();
        {
            let m = Mount::new(&snap, &snap_tmp.path().join("snap"), data)
                .unwrap_or_else(|e| panic!("{data} snapshot {s}: mount: {e}"));
            let t2 = Instant::now();
            let store = m.0.join("store");
            if target == Target::Box {
                let o = Command::new(bin())
                    .args(["bus", "--drain", "--store"])
                    .arg(&store)
                    .output()
                    .unwrap();
                assert!(
                    o.status.success(),
                    "{data} snapshot {s}: bus: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            verify_open_check_from(&store, &mut view, from)
                .unwrap_or_else(|e| panic!("{data} {target:?} snapshot {s} ({acked} acked): {e}"));
            phase[1] += t2 - t1;
            phase[2] += t2.elapsed();
        }
        phase[0] += t1 - t0;
        full_checks += u64::from(full);
        std::fs::remove_file(&snap).unwrap();
        if (s + 1) % 500 == 0 {
            eprintln!(
                "powerloss data={data}: {} snapshots, {:?}; copy {:?}, mount {:?}, check {:?}",
                s + 1,
                started.elapsed(),
                phase[0],
                phase[1],
                phase[2]
            );
        }
    }
    drop(feed);
    feeder.join().unwrap();
    drop(writer);
    drop(live);
    eprintln!(
        "powerloss data={data} {target:?}: {snapshots} snapshots in {:?}, {} commits acknowledged, \
         {full_checks} full checks (copy {:?}, mount {:?}, verify+open+check {:?})",
        started.elapsed(),
        receipts.len(),
        phase[0],
        phase[1],
        phase[2]
    );
}

#[test]
fn power_loss_snapshots_of_a_loop_mounted_ext4_keep_every_acknowledged_commit() {
    if let Err(why) = environment() {
        println!("skipped: {why}");
        return;
    }
    let snapshots = env_count("BAMDB_POWERLOSS_SNAPSHOTS", 50);
    let mut rng = Rng::from_env();
    for target in [Target::Store, Target::Box] {
        for data in ["ordered", "writeback"] {
            campaign(data, target, snapshots, &mut rng);
        }
    }
}
