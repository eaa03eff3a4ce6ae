//! `/activities/{name}`: the search page, a filter form and the matching
//! instances in the chosen order (at most `limit` of them, so the page
//! stays bounded, with a link to the next page), each linked to its
//! instance page.

use std::collections::HashMap;
use std::fmt::Write as _;

use bamdb::model::{ActivityDefinition, Value};
use bamdb::query::{Row, Search};

use super::form::{Params, SearchForm};
use super::html::{self, esc, link, value_text, TABLE_END};
use super::{definition, query_failure, Context, Page};

/// The default columns of a search, in the CLI's order, before the items.
const SYSTEM_COLUMNS: [&str; 5] = ["id", "status", "begin", "end", "last_modified"];

/// The search page of `activity`.
pub fn render(ctx: &Context<'_>, activity: &str, params: Params<'_>) -> Page {
    let def = match definition(ctx, activity) {
        Ok(def) => def,
        Err(page) => return page,
    };
    let form = SearchForm::read(params);
    let mut body = String::new();
    html::other_view(
        &mut body,
        &html::aggregate_href(activity),
        &form.selection.pairs(),
        "Aggregate this selection",
    );
    form.render(&mut body, &html::search_href(activity), &def);
    let status = match form.parse(activity) {
        Err(message) => {
            body.push_str(&html::error_box(&message));
            400
        }
        Ok((search, note)) => {
            if let Some(note) = note {
                let _ = writeln!(body, "<p class=\"note\">{}</p>", esc(&note));
            }
            match ctx.store.search_page(&search) {
                Ok(page) => {
                    results(&mut body, activity, &def, &search, &page.rows);
                    if let Some(next) = page.next {
                        let mut pairs = form.pairs();
                        pairs.push(("after", next.to_string()));
                        let href = format!(
                            "{}{}",
                            html::search_href(activity),
                            html::query_string(&pairs)
                        );
                        let _ = writeln!(body, "<p>{}</p>", link(&href, "Next page"));
                    }
                    200
                }
                Err(e) => {
                    let (status, message) = query_failure(&e);
                    body.push_str(&html::error_box(&message));
                    status
                }
            }
        }
    };
    Page {
        status,
        body: html::layout(&format!("{activity}: search"), &body),
    }
}

/// The result table: the chosen columns, or the default ones (system
/// fields, then every item of the definition, so rows line up even where
/// an item is unset).
fn results(
    out: &mut String,
    activity: &str,
    def: &ActivityDefinition,
    search: &Search,
    rows: &[Row],
) {
    let columns: Vec<&str> = match &search.columns {
        Some(cols) => cols.iter().map(String::as_str).collect(),
        None => SYSTEM_COLUMNS
            .into_iter()
            .chain(def.items.iter().map(|i| i.name.as_str()))
            .collect(),
    };
    let _ = writeln!(
        out,
        "<h2>{} instance{}{}</h2>",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        if search.after.is_some() {
            " (a next page)"
        } else {
            ""
        }
    );
    if rows.is_empty() {
        out.push_str("<p>No instance matches.</p>\n");
        return;
    }
    let order = if search.order_by.is_empty() {
        "end time (active instances last)".to_owned()
    } else {
        let keys: Vec<String> = search.order_by.iter().map(|o| o.to_string()).collect();
        keys.join(", ")
    };
    let _ = writeln!(
        out,
        "<p class=\"muted\">Ordered by {}, then id; unset values last.</p>",
        esc(&order)
    );
    // Column positions by name: a row is laid out in one pass over its
    // values, however many items the definition has.
    let position: HashMap<&str, usize> = columns.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    html::table_start(out, &columns);
    let mut cells: Vec<Option<&Value>> = vec![None; columns.len()];
    for row in rows {
        cells.iter_mut().for_each(|c| *c = None);
        for (name, value) in &row.values {
            if let (Some(&i), Some(v)) = (position.get(name.as_str()), value) {
                if let Some(slot) = cells.get_mut(i) {
                    *slot = Some(v);
                }
            }
        }
        out.push_str("<tr>");
        for (column, cell) in columns.iter().zip(&cells) {
            match (column, cell) {
                (&"id", Some(Value::Text(id))) => {
                    let _ = write!(
                        out,
                        "<td>{}</td>",
                        link(&html::instance_href(activity, id), id)
                    );
                }
                (_, Some(v @ (Value::Int(_) | Value::Float(_)))) => {
                    let _ = write!(out, "<td class=\"n\">{}</td>", esc(&value_text(v)));
                }
                (_, Some(v @ Value::Timestamp(_))) => {
                    let _ = write!(out, "<td class=\"t\">{}</td>", esc(&value_text(v)));
                }
                (_, Some(v)) => {
                    let _ = write!(out, "<td>{}</td>", esc(&value_text(v)));
                }
                (_, None) => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str(TABLE_END);
}
