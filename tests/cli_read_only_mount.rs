//! A store on a read-only file system can be queried: the read commands
//! cannot take the writer lock there (EROFS) and answer read-only. Needs
//! root to mount a tmpfs and remount it read-only; prints why and passes
//! without it.

mod cli_common;
mod mount_common;

use cli_common::*;
use mount_common::*;

fn read_only_tmpfs(tmp: &std::path::Path) -> Result<Mount, String> {
    need_root()?;
    let at = tmp.join("mnt");
    std::fs::create_dir_all(&at).map_err(|e| e.to_string())?;
    let at_s = at.to_str().ok_or("path")?;
    sh("mount", &["-t", "tmpfs", "-o", "size=64m", "tmpfs", at_s])?;
    Ok(Mount(at))
}

#[test]
fn a_store_on_a_read_only_mount_answers_reads_and_refuses_writes_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let mount = match read_only_tmpfs(tmp.path()) {
        Ok(m) => m,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let dir = mount.0.join("store");
    let d = s(&dir);
    deploy_defs(&dir);
    let o = bamdb(&["ingest", "--store", d], &po_lines(0..4));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let at = mount.0.to_str().unwrap();
    if let Err(why) = sh("mount", &["-o", "remount,ro", at]) {
        eprintln!("skipped: cannot remount read-only: {why}");
        return;
    }
    for args in [
        vec!["stats", "--store", d],
        vec!["get", "--store", d, "PurchaseOrder", "PO-2"],
        vec!["search", "--store", d, "PurchaseOrder"],
        vec!["get", "--store", d, "--fresh", "PurchaseOrder", "PO-2"],
    ] {
        let o = bamdb(&args, "");
        no_panic(&o);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("cannot be written"), "{}", stderr(&o));
    }
    let o = bamdb(&["search", "--store", d, "PurchaseOrder"], "");
    assert_eq!(stdout(&o).lines().count(), 4);
    // A writer is refused with the operating system's reason.
    let o = bamdb(&["ingest", "--store", d], &po_lines(9..10));
    no_panic(&o);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).to_lowercase().contains("read-only"),
        "{}",
        stderr(&o)
    );
}
