//! `bamdb deploy`: deploys activity definitions from a JSON file.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use bamdb::model::{check_upgrade, ActivityDefinition};

use super::{close_store, open_store, print_line, CliError, EXIT_OK};

/// Most bytes of a definitions file.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Arguments of `deploy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    store: PathBuf,
    /// A JSON file holding one activity definition or an array of them,
    /// e.g. {"name":"PurchaseOrder","items":[{"name":"Amount","type":"float"}]};
    /// `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let name = args.file.display().to_string();
    let mut text = String::new();
    // One byte over the limit tells a file that is too big from one that
    // just fits.
    let read = if name == "-" {
        std::io::stdin()
            .take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(&args.file)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text))
    };
    read.map_err(|e| {
        CliError::fatal(format!(
            "cannot read definitions file {name}: {e}; check the path"
        ))
    })?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(CliError::fatal(format!(
            "definitions file {name} is larger than {} MiB; a definitions file holds a few \
             definitions, check the path",
            MAX_FILE_BYTES >> 20
        )));
    }
    let defs = parse(&text).map_err(|e| {
        CliError::fatal(format!(
            "definitions file {name}: {e}; expected one definition like \
             {{\"name\":\"PurchaseOrder\",\"items\":[{{\"name\":\"Amount\",\"type\":\"float\"}}]}} or an array of them"
        ))
    })?;
    // All or nothing: check every definition before deploying any; first
    // on its own and against the file (so a bad file creates no store),
    // then against what the store has deployed.
    let refused = |e: String| {
        CliError::fatal(format!(
            "{name}: {e}; nothing was deployed into store {}; fix the definition and retry",
            args.store.display()
        ))
    };
    check_all(&[], &defs).map_err(refused)?;
    let store = open_store(&args.store)?;
    check_all(&store.definitions(), &defs).map_err(refused)?;
    let deployed: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    // One frame: the bus deploys every definition or none.
    store.deploy_all(defs).map_err(|e| {
        CliError::store(
            &format!("deploying {name} (nothing was deployed)"),
            &args.store,
            &e,
        )
    })?;
    close_store(store)?;
    for activity in deployed {
        print_line(&serde_json::json!({ "deployed": activity }))?;
    }
    Ok(EXIT_OK)
}

/// Checks each definition on its own, against the deployed version of its
/// activity, and against the earlier definitions of the same activity in
/// the file (a later one must be a compatible upgrade of an earlier one);
/// the error names the first bad one by position (from 1) and name.
fn check_all(deployed: &[ActivityDefinition], defs: &[ActivityDefinition]) -> Result<(), String> {
    let mut latest: HashMap<&str, &ActivityDefinition> = HashMap::new();
    for def in deployed {
        latest.insert(&def.name, def);
    }
    for (i, def) in defs.iter().enumerate() {
        let at = || format!("definition {} of {} ({:?})", i + 1, defs.len(), def.name);
        def.validate().map_err(|e| format!("{}: {e}", at()))?;
        if let Some(old) = latest.get(def.name.as_str()) {
            if *old != def {
                check_upgrade(old, def).map_err(|e| format!("{}: {e}", at()))?;
            }
        }
        latest.insert(&def.name, def);
    }
    Ok(())
}

/// Parses the file; the error names the line and column.
fn parse(text: &str) -> Result<Vec<ActivityDefinition>, String> {
    // Parse as a value first so that a single bad definition reports its
    // own error (an untagged enum only says "did not match").
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let defs = match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let named = match v.get("name").and_then(|n| n.as_str()) {
                    Some(n) => format!(" ({n:?})"),
                    None => String::new(),
                };
                serde_json::from_value(v).map_err(|e| format!("definition {}{named}: {e}", i + 1))
            })
            .collect::<Result<Vec<ActivityDefinition>, String>>()?,
        other => vec![serde_json::from_value(other).map_err(|e| e.to_string())?],
    };
    if defs.is_empty() {
        return Err("the array holds no definition".into());
    }
    Ok(defs)
}
