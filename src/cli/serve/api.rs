//! The JSON query and admin endpoints under `/v1/` (documented in
//! `openapi.json` beside this file). Their query parameters are the CLI's
//! flags: `where` (repeated), `status`, `since`, `until`, `archived`,
//! and for searches `order_by` (repeated), `limit`, `offset`, `after` (a
//! cursor) and `columns`; for aggregates `group_by`, `bucket`, `tz`,
//! `measure`, `having`, `order_by` (each repeatable) and `limit`.

use std::time::Instant;

use bamdb::model::{StatusFilter, Timestamp};
use bamdb::query::{
    Aggregate, BucketUnit, Cursor, Filter, GroupOrder, Literal, Measure, OrderBy, Search,
    Selection, Zone,
};
use bamdb::StoreError;
use serde_json::{json, Value};

use super::http::{Request, Response};
use super::metrics::QueryKind;
use super::Server;
use crate::cli::quarantine::{outcome_name, shown};

/// Rows a search returns when the request names no `limit`, and the most
/// it may ask for: one response is held in memory.
pub const DEFAULT_LIMIT: usize = 1_000;
pub const MAX_LIMIT: usize = 100_000;

/// A 400 for a bad parameter.
fn bad(message: impl Into<String>) -> Response {
    Response::error(400, message)
}

/// The response for a store error of a query.
pub fn query_error(e: &StoreError) -> Response {
    match e {
        StoreError::Query(q) => bad(q.to_string()),
        StoreError::InvalidInput { reason } => Response::error(404, reason.clone()),
        other => Response::error(500, other.to_string()),
    }
}

/// Parses the selection parameters shared by search and aggregate into
/// `selection`; `None` status: pending records.
pub fn selection(req: &Request, selection: &mut Selection) -> Result<Option<()>, Response> {
    selection.filters = req
        .params("where")
        .filter(|w| !w.trim().is_empty())
        .map(|w| Filter::parse(w).map_err(|e| bad(format!("where {w:?}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    selection.status = match req.param("status").unwrap_or("all") {
        "active" => StatusFilter::Active,
        "completed" => StatusFilter::Completed,
        "all" => StatusFilter::All,
        "pending" => return Ok(None),
        other => {
            return Err(bad(format!(
                "status {other:?}: expected active, completed, all or pending"
            )))
        }
    };
    selection.since = time(req, "since")?;
    selection.until = time(req, "until")?;
    selection.include_archived = match req.param("archived") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(bad(format!("archived {other:?}: expected true or false"))),
    };
    Ok(Some(()))
}

/// An RFC 3339 time, or one relative to now (`now-7d`), as `--since` reads.
fn time(req: &Request, name: &str) -> Result<Option<Timestamp>, Response> {
    req.param(name)
        .map(|t| {
            Literal::new(t.trim(), false).timestamp().ok_or_else(|| {
                bad(format!(
                    "{name} {t:?}: not a time; write RFC 3339 like 2026-11-01T00:00:00Z, or \
                     now, now-7d, now+2h (units s, m, h, d, w)"
                ))
            })
        })
        .transpose()
}

/// `GET /v1/activities/{activity}/instances/{id}`.
pub fn get(server: &Server, activity: &str, id: &str) -> Response {
    let started = Instant::now();
    let response = match server.store.definition(activity) {
        Err(e) => query_error(&e),
        Ok(_) => match server.store.get(activity, id) {
            Ok(Some(instance)) => Response::json(200, &json!(instance)),
            Ok(None) => Response::error(
                404,
                format!("no {activity} with id {id:?} (an id not begun yet is pending, not an instance)"),
            ),
            Err(e) => Response::error(500, e.to_string()),
        },
    };
    server
        .metrics
        .query(QueryKind::Get)
        .record(started.elapsed());
    response
}

/// `GET /v1/activities/{activity}/search`.
pub fn search(server: &Server, activity: &str, req: &Request) -> Response {
    let started = Instant::now();
    let response = search_inner(server, activity, req).unwrap_or_else(|r| r);
    server
        .metrics
        .query(QueryKind::Search)
        .record(started.elapsed());
    response
}

fn limit(req: &Request) -> Result<usize, Response> {
    match req.param("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_LIMIT)
            .ok_or_else(|| {
                bad(format!(
                    "limit {text:?}: expected a number from 0 to {MAX_LIMIT}"
                ))
            }),
    }
}

fn search_inner(server: &Server, activity: &str, req: &Request) -> Result<Response, Response> {
    let mut search = Search::new(activity);
    let limit = limit(req)?;
    if selection(req, &mut search)?.is_none() {
        return pending(server, activity, req, limit);
    }
    search.limit = Some(limit);
    search.order_by = req
        .params("order_by")
        .map(|o| OrderBy::parse(o).map_err(|e| bad(format!("order_by {o:?}: {e}"))))
        .collect::<Result<_, _>>()?;
    search.offset = match req.param("offset") {
        None => 0,
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| bad(format!("offset {text:?}: expected a whole number")))?,
    };
    search.after = req
        .param("after")
        .map(|c| Cursor::parse(c).map_err(|e| bad(format!("after: {e}"))))
        .transpose()?;
    search.columns = req.param("columns").map(|c| {
        c.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let page = server
        .store
        .search_page(&search)
        .map_err(|e| query_error(&e))?;
    let next = page.next.as_ref().map(|c| c.to_string());
    Ok(Response::json(
        200,
        &json!({
            "rows": page.rows,
            "count": page.rows.len(),
            "truncated": next.is_some(),
            "next": next,
        }),
    ))
}

/// `status=pending`: the pending records of the activity.
fn pending(
    server: &Server,
    activity: &str,
    req: &Request,
    limit: usize,
) -> Result<Response, Response> {
    if req.param("where").is_some() || req.param("columns").is_some() {
        return Err(bad(
            "where and columns do not apply to status=pending (pending records are not instances)",
        ));
    }
    server
        .store
        .definition(activity)
        .map_err(|e| query_error(&e))?;
    let (since, until) = (time(req, "since")?, time(req, "until")?);
    let mut records = server
        .store
        .pending(Some(activity))
        .map_err(|e| query_error(&e))?;
    records.retain(|r| {
        let t = r.last_modified;
        since.is_none_or(|s| t.is_some_and(|t| t >= s))
            && until.is_none_or(|u| t.is_some_and(|t| t < u))
    });
    let truncated = records.len() > limit;
    records.truncate(limit);
    Ok(Response::json(
        200,
        &json!({ "rows": records, "count": records.len(), "truncated": truncated }),
    ))
}

/// `GET /v1/activities/{activity}/aggregate`.
pub fn aggregate(server: &Server, activity: &str, req: &Request) -> Response {
    let started = Instant::now();
    let response = aggregate_inner(server, activity, req).unwrap_or_else(|r| r);
    server
        .metrics
        .query(QueryKind::Aggregate)
        .record(started.elapsed());
    response
}

/// Parses an aggregation from the request's parameters (the portal and
/// the API read the same names).
pub fn parse_aggregate(activity: &str, req: &Request) -> Result<Aggregate, Response> {
    let mut agg = Aggregate::new(activity);
    if selection(req, &mut agg)?.is_none() {
        return Err(bad(
            "status=pending is for search (pending records are not instances)",
        ));
    }
    agg.group_by = req
        .params("group_by")
        .flat_map(|g| g.split(','))
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    agg.bucket = match req.param("bucket") {
        None => None,
        Some(text) => {
            let (unit, field) = text.split_once(':').ok_or_else(|| {
                bad(format!(
                    "bucket {text:?}: expected UNIT:FIELD, e.g. day:end"
                ))
            })?;
            let unit = BucketUnit::parse(unit.trim()).map_err(|e| bad(format!("bucket: {e}")))?;
            Some((unit, field.trim().to_owned()))
        }
    };
    let specs: Vec<&str> = req
        .params("measure")
        .filter(|m| !m.trim().is_empty())
        .collect();
    agg.measures = if specs.is_empty() {
        vec![Measure::Count]
    } else {
        specs
            .iter()
            .map(|m| Measure::parse(m.trim()).map_err(|e| bad(format!("measure {m:?}: {e}"))))
            .collect::<Result<_, _>>()?
    };
    if let Some(tz) = req.param("tz") {
        agg.zone = Zone::parse(tz.trim()).map_err(|e| bad(format!("tz {tz:?}: {e}")))?;
    }
    agg.having = req
        .params("having")
        .filter(|h| !h.trim().is_empty())
        .map(|h| Filter::parse(h).map_err(|e| bad(format!("having {h:?}: {e}"))))
        .collect::<Result<_, _>>()?;
    agg.order_by = req
        .params("order_by")
        .map(|o| GroupOrder::parse(o).map_err(|e| bad(format!("order_by {o:?}: {e}"))))
        .collect::<Result<_, _>>()?;
    agg.limit = req
        .param("limit")
        .map(|n| {
            n.trim()
                .parse()
                .map_err(|_| bad(format!("limit {n:?}: expected a whole number")))
        })
        .transpose()?;
    Ok(agg)
}

fn aggregate_inner(server: &Server, activity: &str, req: &Request) -> Result<Response, Response> {
    let agg = parse_aggregate(activity, req)?;
    let result = server.store.aggregate(&agg).map_err(|e| query_error(&e))?;
    Ok(Response::json(200, &json!(result)))
}

/// `GET /v1/definitions` and `GET /v1/definitions/{activity}`.
pub fn definitions(server: &Server, activity: Option<&str>) -> Response {
    match activity {
        None => Response::json(200, &json!(server.store.definitions())),
        Some(name) => match server.store.definition(name) {
            Ok(def) => Response::json(200, &json!(def)),
            Err(e) => query_error(&e),
        },
    }
}

/// `GET /v1/stats`: what `bamdb stats` prints.
pub fn stats(server: &Server) -> Response {
    Response::json(200, &json!(server.store.stats()))
}

/// `GET /v1/quarantine[?unresolved=true]`.
pub fn quarantine_list(server: &Server, req: &Request) -> Response {
    match server.store.quarantine_entries() {
        Ok((mut entries, damaged)) => {
            if req
                .param("unresolved")
                .is_some_and(|v| v == "true" || v == "1")
            {
                entries.retain(|e| e.is_unresolved());
            }
            Response::json(200, &json!({ "entries": entries, "damaged": damaged }))
        }
        Err(e) => Response::error(500, e.to_string()),
    }
}

fn entry_id(text: &str) -> Result<u64, Response> {
    text.parse::<u64>()
        .map_err(|_| bad(format!("quarantine entry id {text:?} is not a number")))
}

/// `GET /v1/quarantine/{id}`: the entry with its events decoded.
pub fn quarantine_show(server: &Server, id: &str) -> Response {
    let id = match entry_id(id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match server.store.quarantine_entries() {
        Ok((entries, _)) => match entries.iter().find(|e| e.id == id) {
            Some(entry) => Response::json(200, &shown(entry)),
            None => Response::error(404, format!("no quarantine entry {id}")),
        },
        Err(e) => Response::error(500, e.to_string()),
    }
}

/// `POST /v1/quarantine/{id}/replay`: 200 when imported (or already), 409
/// when it was not (still invalid, dropped, not replayable), with reasons.
pub fn quarantine_replay(server: &Server, id: &str) -> Response {
    let id = match entry_id(id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match replay(server, id) {
        Ok((name, reasons)) => {
            let status = if reasons.is_empty() { 200 } else { 409 };
            Response::json(
                status,
                &json!({ "id": id, "outcome": name, "reasons": reasons }),
            )
        }
        Err(r) => r,
    }
}

/// Replays entry `id`: its outcome name and reasons, or the error response.
pub fn replay(server: &Server, id: u64) -> Result<(&'static str, Vec<String>), Response> {
    match server.store.quarantine_entries() {
        Ok((entries, _)) if !entries.iter().any(|e| e.id == id) => {
            return Err(Response::error(404, format!("no quarantine entry {id}")))
        }
        Err(e) => return Err(Response::error(500, e.to_string())),
        Ok(_) => {}
    }
    server
        .store
        .replay_quarantined(id)
        .map(|outcome| outcome_name(&outcome))
        .map_err(|e| Response::error(500, e.to_string()))
}

/// `POST /v1/quarantine/{id}/drop` with `{"reason": "..."}` (or
/// `?reason=`): the entry is set aside for good.
pub fn quarantine_drop(server: &Server, id: &str, req: &Request) -> Response {
    let id = match entry_id(id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let from_body = serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|v| v.get("reason").and_then(Value::as_str).map(str::to_owned));
    let Some(reason) = from_body
        .or_else(|| req.param("reason").map(str::to_owned))
        .filter(|r| !r.trim().is_empty())
    else {
        return bad("a drop needs a reason: {\"reason\": \"...\"} in the body");
    };
    match server.store.drop_quarantined(&[id], &reason) {
        Ok(()) => Response::json(
            200,
            &json!({ "id": id, "outcome": "dropped", "reason": reason.trim() }),
        ),
        Err(StoreError::InvalidInput { reason }) => Response::error(409, reason),
        Err(e) => Response::error(500, e.to_string()),
    }
}
