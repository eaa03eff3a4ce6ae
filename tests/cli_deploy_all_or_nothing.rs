//! Regression: `bamdb deploy` of a JSON array deployed the definitions one
//! by one and stopped at the first bad one, leaving those before it
//! deployed. Now every definition is checked first (on its own, against
//! the deployed version, and against the others in the array); on an
//! error nothing is deployed and the error names the bad definition by
//! its position and name.

mod cli_common;

use std::path::Path;

use cli_common::*;

fn deployed(dir: &Path) -> Vec<String> {
    let o = bamdb(&["definitions", "--store", s(dir)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

fn deploy(dir: &Path, file: &Path, text: &str) -> std::process::Output {
    std::fs::write(file, text).unwrap();
    let o = bamdb(&["deploy", "--store", s(dir), s(file)], "");
    no_panic(&o);
    o
}

#[test]
fn a_bad_definition_in_an_array_deploys_none_of_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let file = tmp.path().join("defs.json");

    // Invalid on its own (an item name with a space), third of three, on a
    // fresh directory: no store is even created.
    let o = deploy(
        &dir,
        &file,
        r#"[{"name":"Alpha","items":[]},
            {"name":"Beta","items":[{"name":"B","type":"int"}]},
            {"name":"Gamma","items":[{"name":"Bad name","type":"int"}]}]"#,
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("definition 3 of 3 (\"Gamma\")"), "{err}");
    assert!(err.contains("nothing was deployed"), "{err}");
    assert!(!dir.exists(), "a refused file creates no store");

    deploy_defs(&dir); // PurchaseOrder: Customer, Region (text), Amount (float)

    // Incompatible with the deployed PurchaseOrder (Amount retyped).
    let o = deploy(
        &dir,
        &file,
        r#"[{"name":"Alpha","items":[]},
            {"name":"PurchaseOrder","items":[
              {"name":"Customer","type":"text","max_len":64},
              {"name":"Region","type":"text","max_len":16},
              {"name":"Amount","type":"int"}]}]"#,
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("definition 2 of 2 (\"PurchaseOrder\")"),
        "{err}"
    );
    assert!(err.contains("Amount"), "{err}");
    assert_eq!(deployed(&dir), ["PurchaseOrder"], "Alpha was not deployed");

    // Two versions of one activity in the array that do not fit together
    // (the second drops an item of the first).
    let o = deploy(
        &dir,
        &file,
        r#"[{"name":"Alpha","items":[{"name":"A","type":"int"},{"name":"B","type":"int"}]},
            {"name":"Alpha","items":[{"name":"A","type":"int"}]}]"#,
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("definition 2 of 2 (\"Alpha\")"), "{err}");
    assert_eq!(deployed(&dir), ["PurchaseOrder"]);

    // A file that does not parse names the definition too.
    let o = deploy(
        &dir,
        &file,
        r#"[{"name":"Alpha","items":[]},{"name":"Beta","items":[{"name":"B","type":"blob"}]}]"#,
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("definition 2 (\"Beta\")"),
        "{}",
        stderr(&o)
    );
    assert_eq!(deployed(&dir), ["PurchaseOrder"]);

    // A good array, including a compatible upgrade of a deployed activity
    // and of an earlier one in the same array: all deployed.
    let o = deploy(
        &dir,
        &file,
        r#"[{"name":"Alpha","items":[{"name":"A","type":"int"}]},
            {"name":"Alpha","items":[{"name":"A","type":"int"},{"name":"B","type":"bool"}]},
            {"name":"PurchaseOrder","items":[
              {"name":"Customer","type":"text","max_len":64},
              {"name":"Region","type":"text","max_len":16},
              {"name":"Amount","type":"float"},
              {"name":"Notes","type":"text","max_len":200}]}]"#,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3, "{}", stdout(&o));
    assert_eq!(deployed(&dir), ["Alpha", "PurchaseOrder"]);
    let o = bamdb(&["definitions", "--store", s(&dir)], "");
    assert!(stdout(&o).contains("\"Notes\""), "{}", stdout(&o));
}
