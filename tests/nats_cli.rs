//! `bamdb ship` and `bamdb bus --nats` as a user runs them (issue 20):
//! settings from flags and from a JSON file, a relative box path, the
//! errors for bad settings, a damaged message kept in quarantine, a frame
//! too large for a message, and what `bamdb stats` shows of the sources.

mod nats_common;
mod reliability_common;

use std::path::Path;
use std::process::{Command, Output};

use reliability_common::{bin, deploy, ACTIVITY};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run bamdb")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Commits one PurchaseOrder per id to the box `edge` in `dir`, named by a
/// relative path (its parent is the working directory).
fn produce(dir: &Path, ids: &[&str], amount_text: &str) {
    let mut lines = String::new();
    for id in ids {
        lines.push_str(&format!(
            "{{\"op\":\"begin\",\"activity\":\"{ACTIVITY}\",\"id\":\"{id}\"}}\n\
             {{\"op\":\"update\",\"activity\":\"{ACTIVITY}\",\"id\":\"{id}\",\"data\":{{\"Customer\":\"{amount_text}\"}}}}\n\
             {{\"op\":\"flush\"}}\n"
        ));
    }
    let input = dir.join("events.jsonl");
    std::fs::write(&input, lines).unwrap();
    ok(&run(
        dir,
        &["ingest", "--box-dir", "edge", "--quiet", "events.jsonl"],
    ));
}

#[test]
fn ship_and_bus_take_their_settings_from_files_and_stats_shows_the_source() {
    if !nats_common::available("nats_cli") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let server = nats_common::single(dir);
    deploy(&dir.join("central"));
    produce(dir, &["PO-1", "PO-2"], "ACME");
    std::fs::write(
        dir.join("ship.json"),
        format!(
            r#"{{"box": "edge", "nats": "{}", "stream": "FILED"}}"#,
            server.url()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("bus.json"),
        format!(
            r#"{{"store": "central", "nats": "{}", "stream": "FILED", "consumer": "hq"}}"#,
            server.url()
        ),
    )
    .unwrap();
    let shipped: serde_json::Value = serde_json::from_str(&ok(&run(
        dir,
        &["ship", "--config", "ship.json", "--drain"],
    )))
    .unwrap();
    assert_eq!(shipped["frames"], 2, "{shipped}");
    assert_eq!(shipped["shipped_lsn"], 2, "{shipped}");
    let drained: serde_json::Value =
        serde_json::from_str(&ok(&run(dir, &["bus", "--config", "bus.json", "--drain"]))).unwrap();
    assert_eq!(drained["nats"]["frames"], 2, "{drained}");
    let got = ok(&run(dir, &["get", "--store", "central", ACTIVITY, "PO-2"]));
    assert!(got.contains("ACME"), "{got}");
    let stats: serde_json::Value =
        serde_json::from_str(&ok(&run(dir, &["stats", "--store", "central"]))).unwrap();
    let sources = stats["sources"].as_object().unwrap();
    assert_eq!(sources.len(), 1, "{stats}");
    let (_, source) = sources.iter().next().unwrap();
    assert_eq!(source["applied_lsn"], 2, "{stats}");
    assert_eq!(source["lag"], 0, "{stats}");
    // Shipping again sends nothing: the stream holds it all.
    let again: serde_json::Value = serde_json::from_str(&ok(&run(
        dir,
        &["ship", "--config", "ship.json", "--drain"],
    )))
    .unwrap();
    assert_eq!(
        (again["frames"].as_u64(), again["shipped_lsn"].as_u64()),
        (Some(0), Some(2))
    );
}

#[test]
fn bad_settings_exit_2_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let url = "nats://127.0.0.1:1";
    let err = refused(&run(
        dir,
        &["ship", "--box", "b", "--nats", url, "--stream", "a.b"],
    ));
    assert!(err.contains("stream name \"a.b\""), "{err}");
    let err = refused(&run(dir, &["ship", "--nats", url, "--stream", "S"]));
    assert!(err.contains("--box is needed"), "{err}");
    let err = refused(&run(
        dir,
        &["ship", "--box", "b", "--nats", "", "--stream", "S"],
    ));
    assert!(err.contains("NATS URL is empty"), "{err}");
    let err = refused(&run(
        dir,
        &[
            "ship",
            "--box",
            "b",
            "--nats",
            url,
            "--stream",
            "S",
            "--replicas",
            "7",
        ],
    ));
    assert!(err.contains("1 to 5"), "{err}");
    std::fs::write(
        dir.join("bad.json"),
        r#"{"box": "b", "nats": "x", "colour": 1}"#,
    )
    .unwrap();
    let err = refused(&run(dir, &["ship", "--config", "bad.json"]));
    assert!(err.contains("unknown field `colour`"), "{err}");
    let err = refused(&run(dir, &["ship", "--config", "missing.json"]));
    assert!(err.contains("cannot read missing.json"), "{err}");
    let err = refused(&run(dir, &["bus", "--store", "s", "--stream", "S"]));
    assert!(err.contains("--nats"), "{err}");
    std::fs::write(dir.join("bus.json"), r#"{"box": "b"}"#).unwrap();
    let err = refused(&run(dir, &["bus", "--config", "bus.json"]));
    assert!(
        err.contains("\"box\" is a setting of `bamdb ship`"),
        "{err}"
    );
}

#[test]
fn a_frame_larger_than_a_message_stops_the_shipper_with_advice() {
    if !nats_common::available("nats_cli") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let server = nats_common::single(dir);
    produce(dir, &["PO-1"], &"x".repeat(4000));
    let url = server.url();
    let args = [
        "ship",
        "--box",
        "edge",
        "--nats",
        &url,
        "--stream",
        "BIG",
        "--drain",
        "--max-message-bytes",
        "1024",
    ];
    let err = refused(&run(dir, &args));
    assert!(err.contains("frame 1 of the box is"), "{err}");
    assert!(err.contains("max_payload"), "{err}");
    // Nothing was shipped, so the box keeps the frame.
    let box_stats = bamdb::MessageBox::open(dir.join("edge"), bamdb::BoxOptions::default())
        .unwrap()
        .stats()
        .unwrap();
    assert_eq!((box_stats.committed_lsn, box_stats.applied_lsn), (1, 0));
}

#[test]
fn a_damaged_message_is_kept_in_quarantine_and_the_rest_imported() {
    if !nats_common::available("nats_cli") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let server = nats_common::single(dir);
    deploy(&dir.join("central"));
    produce(dir, &["PO-1"], "ACME");
    let url = server.url();
    ok(&run(
        dir,
        &[
            "ship", "--box", "edge", "--nats", &url, "--stream", "S", "--drain",
        ],
    ));
    // Something else publishes bytes that are no shipped message.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(url.as_str()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        js.publish("bamdb.S.00000000000000aa", "not a shipped message".into())
            .await
            .unwrap()
            .await
            .unwrap();
    });
    let drained: serde_json::Value = serde_json::from_str(&ok(&run(
        dir,
        &[
            "bus", "--store", "central", "--nats", &url, "--stream", "S", "--drain",
        ],
    )))
    .unwrap();
    assert_eq!(drained["nats"]["damaged"], 1, "{drained}");
    assert_eq!(drained["nats"]["frames"], 1, "{drained}");
    let got = ok(&run(dir, &["get", "--store", "central", ACTIVITY, "PO-1"]));
    assert!(got.contains("ACME"), "{got}");
    let listed = ok(&run(dir, &["quarantine", "list", "--store", "central"]));
    assert_eq!(listed.lines().count(), 1, "{listed}");
}

#[test]
fn one_bus_imports_local_boxes_and_the_stream_together() {
    if !nats_common::available("nats_cli") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let server = nats_common::single(dir);
    deploy(&dir.join("central"));
    // A shipped edge box, and a local box in the store's boxes/ folder.
    produce(dir, &["PO-EDGE"], "Edge");
    let local = format!(
        "{{\"op\":\"begin\",\"activity\":\"{ACTIVITY}\",\"id\":\"PO-LOCAL\"}}\n{{\"op\":\"flush\"}}\n"
    );
    std::fs::write(dir.join("local.jsonl"), local).unwrap();
    ok(&run(
        dir,
        &[
            "ingest",
            "--store",
            "central",
            "--box",
            "shop",
            "--quiet",
            "local.jsonl",
        ],
    ));
    let url = server.url();
    ok(&run(
        dir,
        &[
            "ship", "--box", "edge", "--nats", &url, "--stream", "S", "--drain",
        ],
    ));
    let drained: serde_json::Value = serde_json::from_str(&ok(&run(
        dir,
        &[
            "bus", "--store", "central", "--nats", &url, "--stream", "S", "--drain",
        ],
    )))
    .unwrap();
    assert_eq!(drained["frames"], 1, "the local box: {drained}");
    assert_eq!(drained["nats"]["frames"], 1, "the stream: {drained}");
    for id in ["PO-EDGE", "PO-LOCAL"] {
        ok(&run(dir, &["get", "--store", "central", ACTIVITY, id]));
    }
    let stats: serde_json::Value =
        serde_json::from_str(&ok(&run(dir, &["stats", "--store", "central"]))).unwrap();
    assert_eq!(stats["boxes"].as_object().unwrap().len(), 2, "{stats}");
    assert_eq!(stats["sources"].as_object().unwrap().len(), 1, "{stats}");
}

/// The box is the buffer through an outage: with the server down its
/// quota fills and a flush fails with `BoxFull` (nothing written); once
/// the shipper got JetStream's acknowledgement the box trims and takes
/// flushes again.
#[test]
fn through_an_outage_a_full_box_refuses_flushes_until_shipped() {
    use bamdb::ship::{ShipOptions, Shipper, StreamSettings};
    use bamdb::{BoxOptions, EventStream, MessageBox, StoreError};
    use std::time::Duration;

    if !nats_common::available("nats_cli") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut options = BoxOptions {
        quota_bytes: Some(3 * 4096),
        quota_wait: Duration::from_millis(50),
        ..BoxOptions::default()
    };
    options.wal.segment_size = 4096;
    options.wal.max_frame_size = 1024;
    let outbox = MessageBox::open(dir.join("edge"), options).unwrap();
    let flush = |k: usize| {
        let mut stream = outbox.buffered_stream();
        let id = format!("PO-{k}");
        stream.begin(ACTIVITY, &id).unwrap();
        stream.end(ACTIVITY, &id).unwrap();
        stream.flush()
    };
    // No server yet: nothing is shipped, the quota fills.
    let mut written = 0;
    let full = loop {
        match flush(written) {
            Ok(_) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 10_000, "the quota never applied");
    };
    assert!(matches!(full, StoreError::BoxFull { .. }), "{full:?}");
    // The server comes back; the shipper drains the box.
    let server = nats_common::single(dir);
    let settings = StreamSettings {
        url: server.url(),
        stream: "Q".into(),
        replicas: 1,
    };
    let mut ship = ShipOptions::new(dir.join("edge"), settings);
    ship.drain = true;
    let report = Shipper::new(ship)
        .unwrap()
        .run(&std::sync::atomic::AtomicBool::new(false))
        .unwrap();
    assert_eq!(report.shipped_lsn, written as u64);
    assert_eq!(outbox.stats().unwrap().applied_lsn, written as u64);
    // Room again.
    flush(written).unwrap();
}

/// A frame the central bus refuses (an activity not deployed there) is
/// quarantined with its source box named, as for a local box.
#[test]
fn a_shipped_frame_refused_centrally_is_quarantined_naming_its_box() {
    if !nats_common::available("nats_cli") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let server = nats_common::single(dir);
    deploy(&dir.join("central"));
    let ghost = "{\"op\":\"begin\",\"activity\":\"Ghost\",\"id\":\"G-1\"}\n{\"op\":\"flush\"}\n";
    std::fs::write(dir.join("ghost.jsonl"), ghost).unwrap();
    ok(&run(
        dir,
        &["ingest", "--box-dir", "edge", "--quiet", "ghost.jsonl"],
    ));
    let box_id = bamdb::MessageBox::open(dir.join("edge"), bamdb::BoxOptions::default())
        .unwrap()
        .stats()
        .unwrap()
        .box_id;
    let url = server.url();
    ok(&run(
        dir,
        &[
            "ship", "--box", "edge", "--nats", &url, "--stream", "S", "--drain",
        ],
    ));
    ok(&run(
        dir,
        &[
            "bus", "--store", "central", "--nats", &url, "--stream", "S", "--drain",
        ],
    ));
    let listed = ok(&run(dir, &["quarantine", "list", "--store", "central"]));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("Ghost"), "{listed}");
    assert!(
        listed.contains(&format!("message box with id {box_id:016x}")),
        "{listed}"
    );
}

/// A central bus that lives through a nats-server outage (not killed with
/// it) imports what is shipped after the server is back: a fetch the
/// dying server never answered must not hold it.
#[test]
fn a_running_bus_imports_again_after_the_server_comes_back() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    if !nats_common::available("nats_cli") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut server = nats_common::single(dir);
    deploy(&dir.join("central"));
    let url = server.url();
    let bus = Command::new(bin())
        .current_dir(dir)
        .args(["bus", "--store", "central", "--nats", &url, "--stream", "S"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let visible = |id: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = run(dir, &["get", "--store", "central", "--fresh", ACTIVITY, id]);
            if out.status.success() {
                return;
            }
            assert!(Instant::now() < deadline, "{id} never became visible");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let ship = |ids: &[&str]| {
        produce(dir, ids, "ACME");
        ok(&run(
            dir,
            &[
                "ship", "--box", "edge", "--nats", &url, "--stream", "S", "--drain",
            ],
        ));
    };
    ship(&["PO-1"]);
    visible("PO-1");
    for round in 2..5 {
        server.kill();
        std::thread::sleep(Duration::from_millis(300));
        server.start();
        let id = format!("PO-{round}");
        ship(&[&id]);
        visible(&id);
    }
    Command::new("kill")
        .args(["-TERM", &bus.id().to_string()])
        .status()
        .unwrap();
    let out = bus.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
