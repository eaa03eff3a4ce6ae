use std::time::Duration;

use super::*;

const DAY: Duration = Duration::from_secs(86_400);

fn open(dir: &Path, highest: &[(u32, u64)]) -> Journal {
    Journal::open(
        dir,
        2,
        DAY,
        1000,
        |p| highest.iter().find(|(q, _)| *q == p).map(|(_, h)| *h),
        77,
    )
    .expect("open")
}

#[test]
fn a_key_is_committed_once_and_then_replayed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let j = open(dir.path(), &[]);
    let body = fingerprint(b"batch");
    let Claim::Commit { producer, seq } = j.claim("k1", &body, 5, 0).expect("claim") else {
        panic!("not a commit")
    };
    assert_eq!((producer, seq), (KEYED_BASE, 1));
    assert_eq!(
        j.claim("k1", &body, 5, 1).expect("again"),
        Claim::InProgress
    );
    j.done("k1", 42);
    assert_eq!(
        j.claim("k1", &body, 5, 1).expect("retry"),
        Claim::Replay { lsn: 42, events: 5 }
    );
    assert_eq!(
        j.claim("k1", &fingerprint(b"other"), 5, 1)
            .expect("other body"),
        Claim::Mismatch
    );
    // The next key of the same worker gets the next number.
    assert_eq!(
        j.claim("k2", &body, 1, 0).expect("k2"),
        Claim::Commit {
            producer: KEYED_BASE,
            seq: 2
        }
    );
}

#[test]
fn after_a_crash_open_keys_are_resolved_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let j = open(dir.path(), &[]);
        let body = fingerprint(b"a");
        // k1: committed and imported, but its "done" line was lost.
        assert!(matches!(
            j.claim("k1", &body, 1, 0),
            Ok(Claim::Commit { .. })
        ));
        // k2: claimed, never committed (the crash came first).
        assert!(matches!(
            j.claim("k2", &body, 1, 0),
            Ok(Claim::Commit { .. })
        ));
        // k3: acknowledged.
        assert!(matches!(
            j.claim("k3", &body, 1, 1),
            Ok(Claim::Commit { .. })
        ));
        j.done("k3", 9);
    }
    // The store imported producer KEYED_BASE's batch 1, not 2.
    let j = open(dir.path(), &[(KEYED_BASE, 1), (KEYED_BASE + 1, 1)]);
    let body = fingerprint(b"a");
    assert_eq!(
        j.claim("k1", &body, 1, 0).expect("k1"),
        Claim::Replay { lsn: 77, events: 1 }
    );
    assert_eq!(
        j.claim("k3", &body, 1, 0).expect("k3"),
        Claim::Replay { lsn: 9, events: 1 }
    );
    // k2 is free again, and gets a number above every journaled one.
    assert_eq!(
        j.claim("k2", &body, 1, 0).expect("k2"),
        Claim::Commit {
            producer: KEYED_BASE,
            seq: 2
        }
    );
}

#[test]
fn a_failed_commit_disables_the_worker_and_is_resolved_on_retry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let j = open(dir.path(), &[]);
    let body = fingerprint(b"x");
    assert!(matches!(
        j.claim("k", &body, 1, 0),
        Ok(Claim::Commit { .. })
    ));
    j.failed("k", 0);
    assert_eq!(
        j.claim("k", &body, 1, 1).expect("retry"),
        Claim::Unresolved {
            producer: KEYED_BASE,
            seq: 1
        }
    );
    assert_eq!(j.claim("other", &body, 1, 0).expect("w0"), Claim::Disabled);
    j.resolve("k", false, 5);
    assert!(matches!(
        j.claim("k", &body, 1, 1),
        Ok(Claim::Commit {
            producer,
            seq: 1
        }) if producer == KEYED_BASE + 1
    ));
}

#[test]
fn keys_are_checked_and_a_torn_last_line_is_ignored_but_a_damaged_one_is_not() {
    assert!(check_key("order-1001/retry").is_ok());
    assert!(check_key("").is_err());
    assert!(check_key("has space").is_err());
    assert!(check_key(&"x".repeat(256)).is_err());

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("idempotency.jsonl");
    std::fs::write(&path, "{\"key\":\"a\",\"producer\":1879048192,\"seq\":1,\"events\":1,\"body\":\"b\",\"at\":9999999999999999,\"lsn\":3}\n{\"key\":\"b\",\"pro").expect("write");
    let j = open(dir.path(), &[]);
    assert_eq!(
        j.claim("a", "b", 1, 0).expect("a"),
        Claim::Replay { lsn: 3, events: 1 }
    );
    drop(j);
    std::fs::write(&path, "garbage\n{\"key\":\"a\",\"lsn\":3}\n").expect("write");
    let err = Journal::open(dir.path(), 1, DAY, 10, |_| None, 0)
        .err()
        .expect("damaged");
    assert!(err.0.contains("line 1 is damaged"), "{err}");
}
