//! What `bamdb search` and `bamdb agg` share: the selection flags
//! (activity, status, conditions, time range), the output format, and how
//! a query error is told. Expressions are parsed before the store is
//! opened, so a typo fails fast with exit code 2.

use std::path::Path;

use bamdb::model::{StatusFilter, Timestamp};
use bamdb::query::{Filter, Literal, QueryError};
use bamdb::StoreError;
use clap::ValueEnum;

use super::CliError;

const WHERE_HELP: &str = "A condition; repeat --where for several (all must hold). Grammar:
  FIELD OP VALUE     OP: = != <> > >= < <=
  FIELD in (A, B, ...)            FIELD not in (A, B, ...)
  FIELD between A and B           FIELD not between A and B   (inclusive)
  FIELD contains X | starts with X | ends with X              (text)
  FIELD icontains X | istarts with X | iends with X | ieq X   (ignoring case)
  FIELD is null | is not null     (unset)
  FIELD is empty | is not empty   (unset, or the empty text)
  COND and COND | COND or COND | not COND | ( ... )   (and binds tighter)
Fields: items of the activity or the system fields id, status, begin, end,
last_modified; a name in backticks (`and`) may be any item. Values: bare
(up to and/or/')') or quoted with ' or \" (double the quote inside:
'O''Brien'); quote a value holding operators or spaces. Another field as the
value: a bare word naming a number, time or bool field compares with that
field (Shipped > Received); beside a text field a bare word is text, so write
the other field in backticks (Customer = `Region`). Times: RFC 3339
(2026-11-01T00:00:00Z) or relative: now, now-7d, now+2h (units s m h d w).
An unset field fails every condition but is null / is empty, so
'Region != EU' leaves out instances without a Region; 'not Region = EU'
keeps them. Syntax errors point at the column of the bad token.
Examples: 'Region = EU or Region = US'   'Status in (Shipped, Invoiced)'
          'Amount between 100 and 500'   'Customer icontains contoso'
          'Shipped > Received'           'end >= now-7d'";

/// Which instances by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Only active (begun, not ended) instances.
    Active,
    /// Only completed instances.
    Completed,
    /// Both active and completed.
    All,
    /// search only: pending records instead of instances (events for ids
    /// not begun, and not linked to a begun instance, yet).
    Pending,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON document (search: an array of row objects; agg:
    /// {"columns":[...],"rows":[[...]]}).
    Json,
    /// JSON lines: one object per row (search) or per group (agg).
    Jsonl,
    /// An aligned text table for people.
    Table,
    /// Comma-separated values (RFC 4180), with a header line.
    Csv,
    /// Tab-separated values (tabs, line breaks and backslashes escaped), with a header line.
    Tsv,
}

/// Selection arguments shared by `search` and `agg`.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// A condition (see below); repeat for several, all must hold.
    #[arg(long = "where", value_name = "EXPR", help_heading = "Selection", long_help = WHERE_HELP)]
    filters: Vec<String>,
    /// Active, completed or all (both) instances; search also takes
    /// pending: pending records instead of instances.
    #[arg(long, value_enum, default_value = "all", help_heading = "Selection")]
    status: StatusArg,
    /// Only instances last modified at or after T (RFC 3339, e.g. 2026-11-01T00:00:00Z, or now-7d).
    #[arg(long, value_name = "T", help_heading = "Selection")]
    since: Option<String>,
    /// Only instances last modified before T (RFC 3339, or relative: now-1h).
    #[arg(long, value_name = "T", help_heading = "Selection")]
    until: Option<String>,
    /// Also read the retention archive (completed instances past the
    /// retention window, see `bamdb maintain --retain`); reads it whole.
    #[arg(long, alias = "include-archived", help_heading = "Selection")]
    archived: bool,
}

pub(super) struct Parsed {
    pub(super) filters: Vec<Filter>,
    /// `None`: pending records.
    pub(super) status: Option<StatusFilter>,
    pub(super) since: Option<Timestamp>,
    pub(super) until: Option<Timestamp>,
    pub(super) archived: bool,
}

impl Selection {
    pub(super) fn parse(&self) -> Result<Parsed, CliError> {
        let filters = self
            .filters
            .iter()
            .map(|e| Filter::parse(e).map_err(|e| usage(&format!("--where: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let status = match self.status {
            StatusArg::Active => Some(StatusFilter::Active),
            StatusArg::Completed => Some(StatusFilter::Completed),
            StatusArg::All => Some(StatusFilter::All),
            StatusArg::Pending => None,
        };
        Ok(Parsed {
            filters,
            status,
            since: parse_time("--since", self.since.as_deref())?,
            until: parse_time("--until", self.until.as_deref())?,
            archived: self.archived,
        })
    }
}

impl Parsed {
    /// A search of `activity` selecting what these flags select (`status`:
    /// the instances' status, pending aside), ordered by `order_by`
    /// (`--order-by` values, parsed here).
    pub(super) fn search(
        self,
        activity: &str,
        status: StatusFilter,
        order_by: &[String],
    ) -> Result<bamdb::query::Search, CliError> {
        let mut search = bamdb::query::Search::new(activity);
        search.filters = self.filters;
        search.status = status;
        search.since = self.since;
        search.until = self.until;
        search.include_archived = self.archived;
        search.order_by = order_by
            .iter()
            .map(|o| {
                bamdb::query::OrderBy::parse(o).map_err(|e| usage(&format!("--order-by: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(search)
    }
}

/// An RFC 3339 time, or one relative to now (`now-7d`), as in `--where`.
fn parse_time(flag: &str, text: Option<&str>) -> Result<Option<Timestamp>, CliError> {
    text.map(|t| {
        Literal::new(t.trim(), false).timestamp().ok_or_else(|| {
            usage(&format!(
                "{flag} {t:?}: not a time; write RFC 3339 like 2026-11-01T00:00:00Z, or \
                 now, now-7d, now+2h (units s, m, h, d, w)"
            ))
        })
    })
    .transpose()
}

pub(super) fn usage(message: &str) -> CliError {
    CliError::fatal(format!("{message}; see --help for the syntax"))
}

/// A store error of a query: query and input errors are usage errors with
/// their own message; the rest gets the store advice.
pub(super) fn query_failed(what: &str, dir: &Path, err: &StoreError) -> CliError {
    match err {
        StoreError::Query(q) => CliError::fatal(query_advice(q)),
        StoreError::InvalidInput { reason } => CliError::fatal(format!(
            "{what} in store {}: {reason}; check the activity name (case-sensitive) or deploy it first",
            dir.display()
        )),
        other => CliError::store(what, dir, other),
    }
}

fn query_advice(q: &QueryError) -> String {
    match q {
        QueryError::UnknownField { .. } => {
            format!("{q}; check the spelling (names are case-sensitive)")
        }
        _ => format!("{q}; see --help for the syntax"),
    }
}
