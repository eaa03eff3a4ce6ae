//! Runs the shell block under "A fleet" in README.md as written (a real
//! nats-server on a free port instead of 4222), with `bamdb` the built
//! binary (the `nats` feature), in a fresh directory; every command must
//! exit 0 and the central store must list both edge boxes as sources.

mod nats_common;
mod readme_common;
mod reliability_common;

use std::net::TcpListener;

#[test]
fn readme_fleet_works_as_written() {
    if !nats_common::available("readme_fleet") {
        return;
    }
    let block = readme_common::sh_block("## A fleet");
    assert!(block.contains("bamdb ship"));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let block = block.replace("4222", &port.to_string());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("defs.json"),
        bamdb::fixture::definitions_json(bamdb::fixture::BRIEF),
    )
    .unwrap();
    let events = |ids: &[&str]| {
        ids.iter()
            .map(|id| {
                format!(
                    "{{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\"}}\n\
                     {{\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"data\":{{\"Customer\":\"Contoso\"}}}}\n\
                     {{\"op\":\"flush\"}}\n"
                )
            })
            .collect::<String>()
    };
    std::fs::write(dir.join("shop-events.jsonl"), events(&["PO-1", "PO-2"])).unwrap();
    std::fs::write(dir.join("sales-events.jsonl"), events(&["PO-3"])).unwrap();
    let script = format!("set -eux\n{block}\n");
    let out = readme_common::run_script(&script, dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README fleet block failed:\n{stdout}\n{stderr}"
    );
    // The stats printed last: both boxes, caught up.
    // The one pretty-printed object; every other line is one JSON line.
    let stats_at = stdout.find("\n{\n").expect("the stats JSON") + 1;
    let stats: serde_json::Value = serde_json::from_str(&stdout[stats_at..]).unwrap();
    let sources = stats["sources"].as_object().expect("sources");
    assert_eq!(sources.len(), 2, "{stats}");
    assert!(sources.values().all(|s| s["lag"] == 0), "{stats}");
    assert_eq!(
        stats["completed"].as_u64().unwrap() + stats["active"].as_u64().unwrap(),
        3,
        "{stats}"
    );
}
