//! Runs the shell block under "Export" in README.md after the one of
//! "Quick start with the CLI" (whose store it exports), with `bamdb` being
//! the built binary (feature `parquet`); every command must exit 0. The
//! DuckDB line runs where the `duckdb` command is installed.

mod readme_common;

#[test]
fn readme_export_works_as_written() {
    let quick_start = readme_common::sh_block("## Quick start with the CLI");
    let export = readme_common::sh_block("## Export");
    assert!(export.contains("bamdb export"));
    let tmp = tempfile::tempdir().unwrap();
    let script = format!(
        "set -eu\n{quick_start}\nset -x\n\
         command -v duckdb >/dev/null || duckdb() {{ echo 'no duckdb: skipped' >&2; }}\n\
         {export}\n\
         head -c 4 orders.parquet; echo; grep -c '<trace>' orders.xes\n"
    );
    let out = readme_common::run_script(&script, tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README export block failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("PAR1"), "{stdout}");
    let csv = std::fs::read_to_string(tmp.path().join("orders.csv")).unwrap();
    assert!(csv.starts_with("id,status,begin,end,last_modified,Customer,Region,Amount\n"));
    assert!(csv.contains("PO-1,completed,"), "{csv}");
    let ocel: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("orders.ocel.json")).unwrap(),
    )
    .unwrap();
    assert!(ocel["objects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["id"] == "SHIP-1" && o["type"] == "PurchaseOrder continuation"));
}
