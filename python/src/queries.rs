//! Searches and aggregations from Python arguments: the same grammar as
//! `bamdb search` and `bamdb agg` (`where="Amount > 100"`,
//! `order_by="Amount desc"`, `measures=["count", "p95:Amount"]`), checked
//! before the store is asked.

use bamdb::model::{StatusFilter, Timestamp};
use bamdb::query::{
    Aggregate, BucketUnit, Cursor, Filter, GroupOrder, Literal, Measure, OrderBy, Search,
    Selection, Zone,
};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::convert::timestamp;
use crate::errors::query;

/// One string or a list of strings (`where="A = 1"` or `where=[...]`).
pub fn strings(arg: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(arg) = arg else {
        return Ok(Vec::new());
    };
    if arg.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(s) = arg.cast::<PyString>() {
        return Ok(vec![s.to_str()?.to_owned()]);
    }
    arg.extract::<Vec<String>>()
        .map_err(|_| query(format!("{what}: give a string or a list of strings")))
}

/// The selection arguments `search` and `aggregate` share.
pub struct SelectionArgs<'a, 'py> {
    pub where_: Option<&'a Bound<'py, PyAny>>,
    pub status: &'a str,
    pub since: Option<&'a Bound<'py, PyAny>>,
    pub until: Option<&'a Bound<'py, PyAny>>,
    pub archived: bool,
}

impl SelectionArgs<'_, '_> {
    fn fill(&self, sel: &mut Selection) -> PyResult<()> {
        sel.filters = strings(self.where_, "where")?
            .iter()
            .map(|e| Filter::parse(e).map_err(|e| query(format!("where: {e}"))))
            .collect::<PyResult<_>>()?;
        sel.status = match self.status {
            "active" => StatusFilter::Active,
            "completed" => StatusFilter::Completed,
            "all" => StatusFilter::All,
            other => {
                return Err(query(format!(
                    "status {other:?}: give \"active\", \"completed\" or \"all\""
                )))
            }
        };
        sel.since = time_arg("since", self.since)?;
        sel.until = time_arg("until", self.until)?;
        sel.include_archived = self.archived;
        Ok(())
    }
}

/// A time bound: an aware datetime, or text as `--since` reads it
/// (RFC 3339, or `now-7d`).
fn time_arg(what: &str, arg: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Timestamp>> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = arg.cast::<PyString>() {
        let text = s.to_str()?;
        return Literal::new(text.trim(), false)
            .timestamp()
            .map(Some)
            .ok_or_else(|| {
                query(format!(
                    "{what} {text:?}: not a time; write RFC 3339 like 2026-11-01T00:00:00Z, \
                     or now, now-7d, now+2h (units s, m, h, d, w)"
                ))
            });
    }
    timestamp(arg)
        .map(Some)
        .map_err(|why| query(format!("{what}: {why}")))
}

/// The rows part of a search.
pub struct RowArgs<'a, 'py> {
    pub order_by: Option<&'a Bound<'py, PyAny>>,
    pub limit: Option<usize>,
    pub offset: usize,
    pub after: Option<&'a str>,
    pub columns: Option<Vec<String>>,
}

pub fn search(activity: &str, sel: &SelectionArgs, rows: RowArgs) -> PyResult<Search> {
    let mut search = Search::new(activity);
    sel.fill(&mut search.selection)?;
    search.order_by = strings(rows.order_by, "order_by")?
        .iter()
        .map(|o| OrderBy::parse(o).map_err(|e| query(format!("order_by: {e}"))))
        .collect::<PyResult<_>>()?;
    search.limit = rows.limit;
    search.offset = rows.offset;
    search.after = rows
        .after
        .map(|c| Cursor::parse(c).map_err(|e| query(format!("after: {e}"))))
        .transpose()?;
    search.columns = rows.columns;
    Ok(search)
}

/// The grouping part of an aggregation.
pub struct GroupArgs<'a, 'py> {
    pub group_by: Option<&'a Bound<'py, PyAny>>,
    pub measures: Option<&'a Bound<'py, PyAny>>,
    pub bucket: Option<&'a str>,
    pub tz: Option<&'a str>,
    pub having: Option<&'a Bound<'py, PyAny>>,
    pub order_by: Option<&'a Bound<'py, PyAny>>,
    pub limit: Option<usize>,
}

pub fn aggregate(activity: &str, sel: &SelectionArgs, groups: GroupArgs) -> PyResult<Aggregate> {
    let mut agg = Aggregate::new(activity);
    sel.fill(&mut agg.selection)?;
    agg.group_by = strings(groups.group_by, "group_by")?;
    let mut measures = strings(groups.measures, "measures")?;
    if measures.is_empty() {
        measures.push("count".into());
    }
    agg.measures = measures
        .iter()
        .map(|m| Measure::parse(m).map_err(|e| query(format!("measures: {e}"))))
        .collect::<PyResult<_>>()?;
    if let Some(bucket) = groups.bucket {
        let (unit, field) = bucket.split_once(':').ok_or_else(|| {
            query(format!(
                "bucket {bucket:?}: expected UNIT:FIELD, e.g. \"hour:end\" or \"day:Received\""
            ))
        })?;
        let unit = BucketUnit::parse(unit).map_err(|e| query(format!("bucket: {e}")))?;
        agg.bucket = Some((unit, field.trim().to_owned()));
    }
    if let Some(tz) = groups.tz {
        agg.zone = Zone::parse(tz).map_err(|e| query(format!("tz: {e}")))?;
    }
    agg.having = strings(groups.having, "having")?
        .iter()
        .map(|h| Filter::parse(h).map_err(|e| query(format!("having: {e}"))))
        .collect::<PyResult<_>>()?;
    agg.order_by = strings(groups.order_by, "order_by")?
        .iter()
        .map(|o| GroupOrder::parse(o).map_err(|e| query(format!("order_by: {e}"))))
        .collect::<PyResult<_>>()?;
    agg.limit = groups.limit;
    Ok(agg)
}
