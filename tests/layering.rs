//! The dependency direction of the crate's modules is what
//! `docs/ARCHITECTURE.md` says it is: every `crate::` path in a module's
//! source names a module its row in the "Dependency direction" table
//! allows, and the files inside a module folder do not import each other
//! in a circle. A new upward import (or a circle) fails here, naming the
//! file and the path.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `module -> modules it may use`, from the table in ARCHITECTURE.md.
fn allowed() -> BTreeMap<String, BTreeSet<String>> {
    let doc = fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let section = doc
        .split("## Dependency direction")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"Dependency direction\" section");
    let mut table = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(module), Some(uses)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Some(module) = module.strip_prefix('`').and_then(|m| m.strip_suffix('`')) else {
            continue; // the header and the rule line
        };
        let uses = uses
            .split(',')
            .filter_map(|u| u.trim().strip_prefix('`')?.strip_suffix('`'))
            .map(str::to_owned)
            .collect();
        table.insert(module.to_owned(), uses);
    }
    assert!(table.len() > 5, "the table was not found: {table:?}");
    table
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Drops line comments, so paths in doc and prose are not counted.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first path segment after each `prefix` (`crate::`, `super::`):
/// `crate::bus::Bus` gives `bus`; `crate::{a, b::c}` gives `a` and `b`.
fn heads(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // `bamdb::crate::`-like or `$crate::`: not ours
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(segment(&item));
        } else {
            out.push(segment(rest));
        }
    }
    out.retain(|h| !h.is_empty());
    out
}

fn segment(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Root re-exports (`crate::Store`) resolved to the module that defines
/// them, from `pub use module::...` lines of lib.rs.
fn root_exports() -> BTreeMap<String, String> {
    let lib = fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let mut out = BTreeMap::new();
    for stmt in code_of(&lib).split(';') {
        let Some(path) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let module = segment(path);
        let names = match path.find('{') {
            Some(i) => path[i + 1..].trim_end_matches('}').to_owned(),
            None => path.rsplit("::").next().unwrap_or("").to_owned(),
        };
        for name in names.split(',') {
            out.insert(segment(name.rsplit("::").next().unwrap()), module.clone());
        }
    }
    out
}

#[test]
fn modules_import_only_what_the_architecture_table_allows() {
    let allowed = allowed();
    let exports = root_exports();
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let module = rel
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "main" || module == "cli" {
            continue; // the root, and the binary (it sees the public API only)
        }
        let Some(may) = allowed.get(&module) else {
            wrong.push(format!(
                "src/{module}: not in ARCHITECTURE.md's table; add its row"
            ));
            continue;
        };
        let code = code_of(&fs::read_to_string(file).unwrap());
        for head in heads(&code, "crate::") {
            let target = match exports.get(&head) {
                Some(m) => m.clone(),
                None => head.clone(),
            };
            if target != module && !may.contains(&target) && !may.contains("*") {
                wrong.push(format!(
                    "{}: uses crate::{head} (module {target}), which `{module}` may not use",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the dependency direction:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn files_inside_a_module_do_not_import_each_other_in_a_circle() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // Per folder: file stem -> sibling stems it names.
    let mut graphs: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let test_only = stem.ends_with("_tests") || stem == "test_util" || stem == "arb";
        if stem == "mod" || stem == "lib" || stem == "main" || test_only {
            continue;
        }
        let dir = file.parent().unwrap().to_path_buf();
        let siblings: BTreeSet<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter_map(|p| {
                let name = p.file_stem()?.to_string_lossy().into_owned();
                (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
            })
            .filter(|n| n != "mod" && *n != stem)
            .collect();
        let code = code_of(&fs::read_to_string(file).unwrap());
        // `crate::a::b::x` from a file in src/a/b/ names its sibling `x`.
        let module_path = dir
            .strip_prefix(&src)
            .unwrap()
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("::");
        let mut named: Vec<String> = heads(&code, "super::");
        if !module_path.is_empty() {
            named.extend(heads(&code, &format!("crate::{module_path}::")));
        }
        let edges = named.into_iter().filter(|n| siblings.contains(n)).collect();
        graphs.entry(dir).or_default().insert(stem, edges);
    }
    let mut circles = Vec::new();
    for (dir, graph) in &graphs {
        for start in graph.keys() {
            // A path from `start` back to itself, by depth-first search.
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((node, path)) = stack.pop() {
                for next in graph.get(&node).into_iter().flatten() {
                    if next == start {
                        let mut circle = path.clone();
                        circle.push(next.clone());
                        circles.push(format!(
                            "{}: {}",
                            dir.strip_prefix(&src).unwrap().display(),
                            circle.join(" -> ")
                        ));
                    } else if seen.insert(next.clone()) {
                        let mut p = path.clone();
                        p.push(next.clone());
                        stack.push((next.clone(), p));
                    }
                }
            }
        }
    }
    circles.sort();
    circles.dedup();
    assert!(
        circles.is_empty(),
        "files that import each other in a circle:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_path_scanner_finds_groups_and_skips_comments() {
    let code = code_of("use crate::{a, b::c, D};\n// crate::x\nlet y = crate::e::f();");
    assert_eq!(heads(&code, "crate::"), ["a", "b", "D", "e"]);
}
