//! `bamdb deploy`: deploys activity definitions from a JSON file.

use std::io::Read;
use std::path::PathBuf;

use bamdb::model::ActivityDefinition;

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
    let read = if name == "-" {
        std::io::stdin()
            .take(MAX_FILE_BYTES)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(&args.file)
            .and_then(|f| f.take(MAX_FILE_BYTES).read_to_string(&mut text))
    };
    read.map_err(|e| {
        CliError::fatal(format!(
            "cannot read definitions file {name}: {e}; check the path"
        ))
    })?;
    let defs = parse(&text).map_err(|e| {
        CliError::fatal(format!(
            "definitions file {name}: {e}; expected one definition like \
             {{\"name\":\"PurchaseOrder\",\"items\":[{{\"name\":\"Amount\",\"type\":\"float\"}}]}} or an array of them"
        ))
    })?;
    let store = open_store(&args.store)?;
    for def in defs {
        let activity = def.name.clone();
        store.deploy(def).map_err(|e| {
            CliError::fatal(format!(
                "deploying {activity} from {name} into store {} failed: {e}; fix the definition and retry",
                args.store.display()
            ))
        })?;
        print_line(&serde_json::json!({ "deployed": activity }))?;
    }
    close_store(store)?;
    Ok(EXIT_OK)
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
                serde_json::from_value(v).map_err(|e| format!("definition {}: {e}", i + 1))
            })
            .collect::<Result<Vec<ActivityDefinition>, String>>()?,
        other => vec![serde_json::from_value(other).map_err(|e| e.to_string())?],
    };
    if defs.is_empty() {
        return Err("the array holds no definition".into());
    }
    Ok(defs)
}
