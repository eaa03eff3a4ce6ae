//! Helpers of the tests that need a real file system mounted for them
//! (loop-mounted ext4 or tmpfs): they need root, and skip without it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Runs `program args`: its trimmed standard output, or an error naming
/// the command and what it printed on standard error.
pub fn sh(program: &str, args: &[&str]) -> Result<String, String> {
    let o = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// Ok as root; otherwise the reason the mounting tests skip.
pub fn need_root() -> Result<(), String> {
    let uid = sh("id", &["-u"])?;
    if uid != "0" {
        return Err(format!("not root (uid {uid})"));
    }
    Ok(())
}

/// A file system mounted at this path, unmounted on drop (lazily if still
/// busy), which also detaches its loop device. Each test adds the
/// constructor for the mount it needs.
pub struct Mount(pub PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let p = self.0.to_str().unwrap_or_default();
        if sh("umount", &[p]).is_err() {
            let _ = sh("umount", &["-l", p]);
        }
    }
}
