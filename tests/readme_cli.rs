//! Runs the shell block under "Quick start with the CLI" in README.md, with
//! `bamdb` being the built binary, in a fresh directory; every command must
//! exit 0.

mod readme_common;

#[test]
fn readme_cli_quick_start_works_as_written() {
    let block = readme_common::sh_block("## Quick start with the CLI");
    assert!(block.contains("bamdb ingest"));
    let tmp = tempfile::tempdir().unwrap();
    // -e: stop at the first failing command; -x: show which one.
    let script = format!("set -eux\n{block}\n");
    let out = readme_common::run_script(&script, tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "README CLI block failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"committed\""), "{stdout}");
    assert!(stdout.contains("\"Contoso\""), "{stdout}");
    assert!(stdout.contains("\"outcome\":\"imported\""), "{stdout}");
    assert!(stdout.contains("sound"), "{stdout}");
    // The query-language questions answered.
    assert!(
        stdout.contains("id,status,begin,end,last_modified,Customer,Region,Amount"),
        "csv header: {stdout}"
    );
    assert!(stdout.contains("count_distinct:Customer"), "{stdout}");
    assert!(stdout.contains("p95:Amount"), "{stdout}");
}
