//! The portal in a real browser: headless Chromium (Debian's `chromium`,
//! which `.ci/run` installs) loads the home page, a search, the instance
//! page of the first result (its link read from the search page's DOM, as
//! a click would follow it) and the aggregation page, takes a screenshot of
//! each, and no page logs anything to the console (the portal has no
//! JavaScript: a console line would be a failed load or a policy error).
//! A probe page that logs on purpose shows that the check can fail.
//!
//! Screenshots are kept in `$CARGO_TARGET_TMPDIR/portal-screenshots/`;
//! with `BAMDB_SCREENSHOT_DIR=DIR` the aggregation page's is also copied
//! to `DIR/portal.png` (how `docs/portal.png` is made). Without Chromium
//! the test says so and passes.

mod serve_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serve_common::*;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Runs headless Chromium on `url` with a fresh profile: `--dump-dom`, or
/// a screenshot into `shot`. Returns the DOM (or nothing) and the console
/// lines it logged.
fn browse(bin: &str, profile: &Path, url: &str, shot: Option<&Path>) -> (String, Vec<String>) {
    browse_at(bin, profile, url, shot, "1000,1000")
}

/// [`browse`] in a window of `size` (`W,H` pixels).
fn browse_at(
    bin: &str,
    profile: &Path,
    url: &str,
    shot: Option<&Path>,
    size: &str,
) -> (String, Vec<String>) {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--window-size={size}"))
    .arg(format!("--user-data-dir={}", profile.display()));
    match shot {
        Some(path) => cmd.arg(format!("--screenshot={}", path.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd.arg(url).output().expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

/// Orders over a few weeks and regions, so the charts have a shape.
fn workload() -> String {
    let regions = ["EU", "US", "APAC", "LATAM"];
    let mut out = String::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..400u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let region = regions[(x % 4) as usize];
        let day = 1 + (i * 28 / 400) as u32;
        let amount = 50.0 + (x % 2000) as f64 / 2.0;
        let id = format!("PO-{i:04}");
        out.push_str(&format!(
            "{{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"2026-11-{day:02}T08:00:00Z\"}}\n\
             {{\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"2026-11-{day:02}T08:00:00Z\",\"data\":{{\"Customer\":\"Customer {}\",\"Region\":\"{region}\",\"Amount\":{amount}}}}}\n",
            x % 37
        ));
        if i % 9 != 0 {
            out.push_str(&format!(
                "{{\"op\":\"end\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"2026-11-{day:02}T{:02}:00:00Z\"}}\n",
                9 + x % 12
            ));
        }
    }
    out
}

#[test]
fn the_portal_works_in_headless_chromium_without_console_errors() {
    let Some(bin) = chromium() else {
        eprintln!("skipped: chromium is not installed (.ci/run installs it)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    deploy(&dir);
    let server = Server::start(&dir, &[]);
    let reply = server.post("/v1/events?visible=true", &[], workload().as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.text());
    let shots: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portal-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let base = format!("http://{}", server.addr);
    let profile = tmp.path().join("chromium-profile");

    // The check can fail: a page that logs is seen.
    let (_, probe) = browse(
        bin,
        &profile,
        "data:text/html,<script>console.error('probe')</script><p>probe",
        None,
    );
    assert!(
        probe.iter().any(|l| l.contains("probe")),
        "console lines are not seen: {probe:?}"
    );

    let (home, console) = browse(bin, &profile, &format!("{base}/"), None);
    assert!(console.is_empty(), "home: {console:?}");
    assert!(home.contains("PurchaseOrder"), "{home}");

    let search = format!(
        "{base}/activities/PurchaseOrder?where=Region+%3D+EU&where=Amount+%3E+100&limit=20"
    );
    let (dom, console) = browse(bin, &profile, &search, None);
    assert!(console.is_empty(), "search: {console:?}");
    let link = dom
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/activities/PurchaseOrder/instances/"))
        .unwrap_or_else(|| panic!("no instance link in the search page:\n{dom}"))
        .replace("&amp;", "&");
    let (_, console) = browse(bin, &profile, &search, Some(&shots.join("search.png")));
    assert!(console.is_empty(), "search: {console:?}");
    // On a phone's width (the page scales to it, tables scroll).
    let (_, console) = browse_at(
        bin,
        &profile,
        &search,
        Some(&shots.join("search-phone.png")),
        "390,844",
    );
    assert!(console.is_empty(), "search on a phone: {console:?}");

    let instance = format!("{base}{link}");
    let (dom, console) = browse(bin, &profile, &instance, None);
    assert!(console.is_empty(), "instance: {console:?}");
    assert!(dom.contains("<svg"), "no timeline on {instance}:\n{dom}");
    assert!(dom.contains("EU"), "{dom}");
    let (_, console) = browse(bin, &profile, &instance, Some(&shots.join("instance.png")));
    assert!(console.is_empty(), "instance: {console:?}");

    let agg = format!(
        "{base}/activities/PurchaseOrder/aggregate?group_by=Region&bucket_unit=day&bucket_field=begin&measure=count&measure=sum%3AAmount"
    );
    let (dom, console) = browse(bin, &profile, &agg, None);
    assert!(console.is_empty(), "aggregate: {console:?}");
    assert!(
        dom.contains("<svg") && dom.contains("polyline"),
        "no time series:\n{dom}"
    );
    let shot = shots.join("aggregate.png");
    let (_, console) = browse(bin, &profile, &agg, Some(&shot));
    assert!(console.is_empty(), "aggregate: {console:?}");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "not a screenshot"
    );
    for name in ["search.png", "search-phone.png", "instance.png"] {
        let bytes = std::fs::read(shots.join(name)).expect("screenshot");
        assert!(bytes.starts_with(b"\x89PNG"), "{name}");
    }
    if let Some(out) = std::env::var_os("BAMDB_SCREENSHOT_DIR") {
        std::fs::copy(&shot, Path::new(&out).join("portal.png")).expect("copy the screenshot");
    }
    eprintln!("screenshots in {}", shots.display());
    server.stop();
}
