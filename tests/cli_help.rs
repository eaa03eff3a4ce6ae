//! Regression: `src/cli/mod.rs` set an `after_help` on the `get`, `verify`
//! and `demo` commands that replaced the longer text each command's own
//! module wrote (what `get` looks up, what `verify` reads, what the demo
//! plays), and the `quarantine` subcommands documented no exit codes.
//! Every command's `--help` (found from `bamdb --help`, so a new command is
//! checked too) now lists its exit codes, and the written texts show.

mod cli_common;

use cli_common::*;

/// The subcommands a `--help` output lists under "Commands:".
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect()
}

/// `bamdb PATH... --help`, checked to succeed.
fn help(path: &[String]) -> String {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let o = bamdb(&args, "");
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The exit codes a help text documents: the lines `  N  what` under
/// "Exit codes:".
fn documented_codes(text: &str) -> Vec<i32> {
    text.lines()
        .skip_while(|l| !l.starts_with("Exit codes:"))
        .skip(1)
        .filter_map(|l| {
            let t = l.trim_start();
            let (n, rest) = t.split_once("  ")?;
            (l.starts_with("  ") && !rest.is_empty()).then(|| n.parse().ok())?
        })
        .collect()
}

#[test]
fn every_command_documents_its_exit_codes() {
    let top = help(&[]);
    let commands = subcommands(&top);
    for expected in [
        "demo",
        "deploy",
        "ingest",
        "get",
        "search",
        "agg",
        "maintain",
        "stats",
        "definitions",
        "quarantine",
        "verify",
    ] {
        assert!(
            commands.iter().any(|c| c == expected),
            "{expected} in {commands:?}"
        );
    }
    let mut checked = 0;
    let mut todo: Vec<Vec<String>> = commands.into_iter().map(|c| vec![c]).collect();
    while let Some(path) = todo.pop() {
        let text = help(&path);
        for sub in subcommands(&text) {
            let mut p = path.clone();
            p.push(sub);
            todo.push(p);
        }
        let codes = documented_codes(&text);
        assert!(
            codes.contains(&0) && codes.contains(&2),
            "{path:?} --help documents exit codes 0 and 2, found {codes:?}:\n{text}"
        );
        checked += 1;
    }
    assert!(checked >= 14, "{checked} commands checked");
}

#[test]
fn the_long_help_each_command_wrote_is_shown_with_its_exit_codes() {
    for (command, text, code_line) in [
        (
            "get",
            "Looks the id up among active and completed instances",
            "2  usage error, an activity that is not deployed",
        ),
        (
            "verify",
            "Reads every checksum: each frame of the message box",
            "1  problems found: damage that no quarantine entry accounts for",
        ),
        (
            "demo",
            "Three producer threads play the order, shipping and billing",
            "0  the demo ran",
        ),
        (
            "search",
            "--status pending lists pending records",
            "0  success (also when nothing matches)",
        ),
        ("definitions", "one row per item", "0  success"),
        ("deploy", "All or nothing", "0  every definition deployed"),
    ] {
        let out = help(&[command.to_owned()]);
        assert!(out.contains(text), "{command}: missing {text:?}:\n{out}");
        assert!(
            out.contains(code_line),
            "{command}: missing {code_line:?}:\n{out}"
        );
    }
}
