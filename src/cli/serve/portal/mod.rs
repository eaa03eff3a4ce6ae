//! The tracking portal: server-rendered HTML pages for the people who read
//! the data, with no script. The server hands every GET outside `/v1/` and
//! `/metrics` to [`page`]; each page reads through the public `bamdb` API
//! only.
//!
//! Pages (query parameters in brackets):
//! - `/`: deployed activities with their counts, recent quarantine, stats.
//! - `/activities/{name}` (`where`*, `status`, `since`, `until`, `limit`,
//!   `columns`): search.
//! - `/activities/{name}/aggregate` (`where`*, `status`, `since`, `until`,
//!   `group_by`, `bucket_unit`, `bucket_field`, `bucket`, `measure`*,
//!   `chart`): aggregation, table and chart.
//! - `/activities/{name}/instances/{id}`: one instance.
//! - `/quarantine` (`replayed`, `outcome`): the quarantine entries.
//!
//! The path arrives as sent (percent-encoded): each segment is decoded
//! here, after splitting on `/`, so an id holding `/` (sent as `%2F`)
//! still names one instance.

mod aggregate;
mod form;
mod home;
pub(super) mod html;
mod instance;
mod quarantine;
mod search;
mod svg;

use bamdb::model::ActivityDefinition;
use bamdb::query::QueryError;
use bamdb::StoreError;

/// A rendered page.
pub struct Page {
    /// The HTTP status.
    pub status: u16,
    /// The HTML.
    pub body: String,
}

/// What a page may read and how it may link.
pub struct Context<'a> {
    /// The store served.
    pub store: &'a bamdb::Store,
    /// Whether write forms (replay) must carry a token field.
    pub token_required: bool,
}

/// The page at `path` (no query string), with the decoded query pairs;
/// `None` when `path` is not a portal page.
pub fn page(ctx: &Context<'_>, path: &str, query: &[(String, String)]) -> Option<Page> {
    let route = match route(path) {
        Ok(Some(route)) => route,
        Ok(None) => return None,
        Err(message) => return Some(error_page(400, "Bad address", &message)),
    };
    let params = form::Params(query);
    Some(match route {
        Route::Home => home::render(ctx),
        Route::Quarantine => quarantine::render(ctx, params),
        Route::Search(activity) => search::render(ctx, &activity, params),
        Route::Aggregate(activity) => aggregate::render(ctx, &activity, params),
        Route::Instance(activity, id) => instance::render(ctx, &activity, &id),
    })
}

/// A portal page, with its decoded path parts.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Home,
    Quarantine,
    Search(String),
    Aggregate(String),
    Instance(String, String),
}

/// The route of `path`; `Ok(None)` for no portal page, an error for a
/// segment that does not decode. One trailing `/` is allowed.
fn route(path: &str) -> Result<Option<Route>, String> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let raw: Vec<&str> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    };
    // Only the shapes below decode their parts: anything else is not a
    // portal page, whatever its bytes.
    Ok(Some(match raw.as_slice() {
        [] => Route::Home,
        ["quarantine"] => Route::Quarantine,
        ["activities", name] => Route::Search(part(name)?),
        ["activities", name, "aggregate"] => Route::Aggregate(part(name)?),
        ["activities", name, "instances", id] => Route::Instance(part(name)?, part(id)?),
        _ => return Ok(None),
    }))
}

/// A decoded path part; empty parts are refused (no activity or id is
/// empty, and `//` is more likely a broken link).
fn part(raw: &str) -> Result<String, String> {
    let decoded = html::decode(raw)?;
    if decoded.is_empty() {
        return Err("the address has an empty part".to_owned());
    }
    Ok(decoded)
}

/// A page holding only a message (not found, bad address, store error).
fn error_page(status: u16, title: &str, message: &str) -> Page {
    let body = format!(
        "{}<p><a href=\"/\">Back to the home page</a></p>",
        html::error_box(message)
    );
    Page {
        status,
        body: html::layout(title, &body),
    }
}

/// The deployed definition of `activity`, or the page to answer instead:
/// 404 naming the deployed activities when it is not deployed, 500 when
/// the store cannot tell.
fn definition(ctx: &Context<'_>, activity: &str) -> Result<ActivityDefinition, Page> {
    match ctx.store.definition(activity) {
        Ok(def) => Ok(def),
        // The one InvalidInput `definition` gives: not deployed.
        Err(StoreError::InvalidInput { .. }) => {
            let mut names: Vec<String> = ctx
                .store
                .definitions()
                .into_iter()
                .map(|d| d.name)
                .collect();
            names.sort();
            let mut body = html::error_box(&format!(
                "activity {activity} is not deployed (names are case-sensitive)"
            ));
            if !names.is_empty() {
                body.push_str("<p>Deployed activities:</p><ul>");
                for name in &names {
                    body.push_str("<li>");
                    body.push_str(&html::link(&html::search_href(name), name));
                    body.push_str("</li>");
                }
                body.push_str("</ul>");
            }
            Err(Page {
                status: 404,
                body: html::layout("Unknown activity", &body),
            })
        }
        Err(e) => Err(error_page(500, "Store error", &store_message(&e))),
    }
}

/// The status and message for a failed search or aggregation: the query's
/// own fault is a 400 with its message (and the advice the CLI gives), a
/// vanished activity a 404, anything else the store's 500.
fn query_failure(e: &StoreError) -> (u16, String) {
    match e {
        StoreError::Query(q @ QueryError::UnknownField { .. }) => (
            400,
            format!("{q}; check the spelling (names are case-sensitive)"),
        ),
        StoreError::Query(q) => (400, q.to_string()),
        StoreError::InvalidInput { reason } => (404, reason.clone()),
        other => (500, store_message(other)),
    }
}

/// A store error as the pages say it.
fn store_message(e: &StoreError) -> String {
    format!("the store could not answer: {e}")
}

#[cfg(test)]
#[path = "portal_tests.rs"]
mod tests;
