//! The files of `src/query` and `src/wal` import each other in one
//! direction only. They used to import each other in circles
//! (`query/{aggregate,columnar,search}.rs`, `wal/{reader,writer}.rs`), so
//! no file could be read, changed or tested without the others. Each
//! module's `mod.rs` now lists its files in layer order ("Each file imports
//! only files listed before it"); this test holds the code to that list:
//! every `super::<file>` or `crate::<module>::<file>` path in a file must
//! name a file listed before it, and every file must be listed.

use std::collections::BTreeSet;
use std::path::Path;

/// The backticked names of the mod.rs paragraph that states the order.
fn layer_order(mod_rs: &str) -> Vec<String> {
    let doc: Vec<&str> = mod_rs
        .lines()
        .map(str::trim_start)
        .filter_map(|l| l.strip_prefix("//!"))
        .collect();
    let start = doc
        .iter()
        .position(|l| l.contains("Each file imports only files listed before it"))
        .expect("mod.rs states the layer order");
    let mut order = Vec::new();
    for line in &doc[start..] {
        if line.trim().is_empty() {
            break;
        }
        // Names in backticks, up to the sentence ending the list.
        let list = line.split(". ").next().unwrap_or(line);
        let mut parts = list.split('`');
        parts.next();
        while let (Some(name), Some(_)) = (parts.next(), parts.next()) {
            order.push(name.to_owned());
        }
        if line.contains(". ") {
            break;
        }
    }
    order
}

/// The sibling files a source file refers to through `super::` or
/// `crate::<module>::` paths (including inside `use super::{a::X, b::Y}`).
fn sibling_refs(source: &str, module: &str, siblings: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut refs = BTreeSet::new();
    let absolute = format!("crate::{module}::");
    for prefix in ["super::", absolute.as_str()] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end].split(',').map(str::trim).collect()
            } else {
                vec![rest]
            };
            for name in names {
                let ident: String = name
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if siblings.contains(&ident) {
                    refs.insert(ident);
                }
            }
        }
    }
    refs
}

fn check_module(module: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(module);
    let mod_rs = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    let order = layer_order(&mod_rs);
    let files: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_owned()))
        .filter(|n| n != "mod" && !n.ends_with("_tests") && n != "test_util")
        .collect();
    let listed: BTreeSet<String> = order.iter().cloned().collect();
    assert_eq!(
        files, listed,
        "src/{module}/mod.rs must list every file of the module in layer order"
    );
    for (i, name) in order.iter().enumerate() {
        let source = std::fs::read_to_string(dir.join(format!("{name}.rs"))).unwrap();
        let below: BTreeSet<&String> = order[..i].iter().collect();
        for used in sibling_refs(&source, module, &files) {
            assert!(
                below.contains(&used),
                "src/{module}/{name}.rs imports {used}.rs, which is not below it in the \
                 order of src/{module}/mod.rs: {order:?}"
            );
        }
    }
}

#[test]
fn query_files_import_downward_only() {
    check_module("query");
}

#[test]
fn wal_files_import_downward_only() {
    check_module("wal");
}
