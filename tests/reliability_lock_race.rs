//! Campaign 6 of issue 6: two real `bamdb ingest` processes race to open the
//! same store directory (the whole store through the CLI, not the WAL
//! alone as in tests/wal_process.rs). Both are started back to back and
//! both are sent one commit on a standard input that stays open: exactly one
//! prints a receipt (it owns the store), the other exits with code 2 and the
//! "locked" message, without a panic. Then the winner's input is closed, it
//! exits 0, and the store holds exactly the winner's commits.
//!
//! CI: 50 races. Long form:
//! `BAMDB_LOCK_RACES=1000 cargo test --release --test reliability_lock_race -- --nocapture`

mod reliability_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bamdb::{Store, StoreOptions};
use reliability_common::*;

fn spawn(dir: &std::path::Path) -> Child {
    Command::new(bin())
        .args(["ingest", "--store"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bamdb ingest")
}

fn group(race: u64, who: usize) -> String {
    format!(
        "{{\"op\":\"begin\",\"activity\":\"{ACTIVITY}\",\"id\":\"L-{race}-{who}\"}}\n\
         {{\"op\":\"end\",\"activity\":\"{ACTIVITY}\",\"id\":\"L-{race}-{who}\"}}\n\
         {{\"op\":\"flush\"}}\n"
    )
}

#[test]
fn two_ingest_processes_racing_for_one_store_exactly_one_wins() {
    let races = env_count("BAMDB_LOCK_RACES", 50);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let mut wins = [0u64; 2];
    for race in 0..races {
        let mut children = [spawn(&dir), spawn(&dir)];
        let mut stdins: Vec<_> = children
            .iter_mut()
            .map(|c| c.stdin.take().unwrap())
            .collect();
        for (who, stdin) in stdins.iter_mut().enumerate() {
            // The loser may already be gone.
            let _ = stdin.write_all(group(race, who).as_bytes());
            let _ = stdin.flush();
        }
        // The winner answers with a receipt; the loser's stdout ends.
        let firsts: Vec<String> = children
            .iter_mut()
            .map(|c| {
                let mut out = BufReader::new(c.stdout.take().unwrap());
                let mut line = String::new();
                out.read_line(&mut line).unwrap();
                line
            })
            .collect();
        let winners: Vec<usize> = (0..2).filter(|&i| !firsts[i].is_empty()).collect();
        assert_eq!(
            winners.len(),
            1,
            "race {race}: exactly one process owns the store: {firsts:?}"
        );
        let (winner, loser) = (winners[0], 1 - winners[0]);
        assert!(
            firsts[winner].starts_with("{\"committed\":"),
            "race {race}: {firsts:?}"
        );
        let mut loser_err = String::new();
        children[loser]
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut loser_err)
            .unwrap();
        let loser_status = children[loser].wait().unwrap();
        assert_eq!(
            loser_status.code(),
            Some(2),
            "race {race}: the loser exits 2: {loser_err}"
        );
        assert!(
            loser_err.contains("is locked") && !loser_err.contains("panicked"),
            "race {race}: the loser names the lock: {loser_err}"
        );
        drop(stdins);
        let mut winner_err = String::new();
        children[winner]
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut winner_err)
            .unwrap();
        let status = children[winner].wait().unwrap();
        assert_eq!(status.code(), Some(0), "race {race}: {winner_err}");
        wins[winner] += 1;

        let store = Store::open(&dir, StoreOptions::default()).unwrap();
        assert!(store.sync(Duration::from_secs(60)));
        assert!(store
            .get(ACTIVITY, &format!("L-{race}-{winner}"))
            .unwrap()
            .is_some());
        assert!(
            store
                .get(ACTIVITY, &format!("L-{race}-{loser}"))
                .unwrap()
                .is_none(),
            "race {race}: the loser wrote nothing"
        );
        assert_eq!(store.stats().counters.frames_imported, race + 1);
        store.close().unwrap();
    }
    eprintln!(
        "lock race: {races} races, first-spawned won {}, second won {}",
        wins[0], wins[1]
    );
}
