//! `bamdb get`: one instance by id or continuation token, once everything
//! committed is imported.

use super::{
    err_line, print_pretty,
    reading::{open_reading, ReadStore},
    CliError, EXIT_OK, EXIT_PARTIAL,
};

/// Arguments of `get`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Looks the id up among active and completed instances; with --archived, then
in the retention archive (instances past the retention window; without it,
an archived id is reported as archived). A continuation token finds the
instance it belongs to. Pending records (ids
not begun or linked yet) are not instances: `bamdb search --status pending`
lists them.

Exit codes:
  0  found; the instance is printed as JSON
  1  no such instance of a deployed activity (unknown id, archived and no
     --archived, or only reported under a continuation not linked yet)
  2  usage error, an activity that is not deployed (as search and agg), or
     the store could not be used (not a store, locked, damaged, I/O)"
)]
pub struct GetArgs {
    #[command(flatten)]
    store: ReadStore,
    /// The activity name, e.g. PurchaseOrder.
    activity: String,
    /// The instance id (or a continuation token of it).
    id: String,
    /// Also look in the retention archive.
    #[arg(long, alias = "include-archived")]
    archived: bool,
}

pub fn run(args: GetArgs) -> Result<i32, CliError> {
    let dir = &args.store.store;
    let store = open_reading(&args.store)?;
    // An activity that is not deployed is a mistake in the command, not a
    // lookup that found nothing: exit 2, as search and agg do.
    if store.definition(&args.activity).is_err() {
        return Err(CliError::fatal(format!(
            "activity {:?} is not deployed in store {}{}; `bamdb definitions --store {}` lists \
             the deployed ones (names are case-sensitive)",
            args.activity,
            dir.display(),
            store.checkpoint_note(),
            dir.display()
        )));
    }
    let failed = |e: &bamdb::StoreError| CliError::store("get", dir, e);
    let mut found = store
        .get(&args.activity, &args.id)
        .map_err(|e| failed(&e))?;
    let mut archived = false;
    if found.is_none() {
        found = store
            .get_archived(&args.activity, &args.id)
            .map_err(|e| failed(&e))?;
        archived = found.is_some();
    }
    let code = match found {
        Some(instance) if !archived || args.archived => {
            print_pretty(&instance)?;
            EXIT_OK
        }
        Some(_) => {
            err_line(&format!(
                "bamdb: {} {:?} is archived (it left the online store past the retention \
                 window); add --archived to read it from the archive",
                args.activity, args.id
            ));
            EXIT_PARTIAL
        }
        None => {
            err_line(&format!(
                "bamdb: no {} with id {:?} in store {}; check the id \
                 (`bamdb search --store DIR {} --status pending` lists ids not begun yet)",
                args.activity,
                args.id,
                dir.display(),
                args.activity
            ));
            EXIT_PARTIAL
        }
    };
    store.close()?;
    Ok(code)
}
