//! `/activities/{name}/aggregate`: the aggregation page. A form (group-by,
//! time bucket, measures, the search's filters), the result as a table
//! whose rows link to the instances of their group, and as a chart: bars
//! when grouped without a bucket, lines over time when bucketed.

use std::fmt::Write as _;

use bamdb::model::Timestamp;
use bamdb::query::{Aggregate, AggregateResult, BucketUnit, Cell, Field, Filter, Operator, Zone};

use super::form::{AggregateForm, Params};
use super::html::{self, cell_text, esc, is_numeric_cell, link, query_string, TABLE_END};
use super::svg::{self, Bar, Scale, Series, PALETTE};
use super::{definition, query_failure, Context, Page};

/// Result rows shown in the table at most (a group-by on a field with
/// many values, such as `id`, would otherwise make a page of millions).
pub const MAX_TABLE_ROWS: usize = 1000;
/// Bars drawn at most.
pub const MAX_BARS: usize = 50;

/// The aggregation page of `activity`.
pub fn render(ctx: &Context<'_>, activity: &str, params: Params<'_>) -> Page {
    let def = match definition(ctx, activity) {
        Ok(def) => def,
        Err(page) => return page,
    };
    let form = AggregateForm::read(params);
    let mut body = String::new();
    html::other_view(
        &mut body,
        &html::search_href(activity),
        &form.selection.pairs(),
        "Search this selection",
    );
    form.render(&mut body, &html::aggregate_href(activity), &def);
    let status = match form.parse(activity) {
        Err(message) => {
            body.push_str(&html::error_box(&message));
            400
        }
        Ok(agg) => match ctx.store.aggregate(&agg) {
            Ok(result) => {
                chart(&mut body, activity, &form, &agg, &result);
                table(&mut body, activity, &form, &agg, &result);
                200
            }
            Err(e) => {
                let (status, message) = query_failure(&e);
                body.push_str(&html::error_box(&message));
                status
            }
        },
    };
    Page {
        status,
        body: html::layout(&format!("{activity}: aggregate"), &body),
    }
}

/// Key columns of the result: the group-by fields, then the bucket.
fn key_count(agg: &Aggregate) -> usize {
    agg.group_by.len() + usize::from(agg.bucket.is_some())
}

/// A chart cell as a number: counts, sums, averages, durations (in
/// microseconds); `None` for the rest (timestamps, text, null).
fn number(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Int(i) => Some(*i as f64),
        Cell::Float(f) => Some(*f),
        Cell::Duration(d) => Some(*d as f64),
        _ => None,
    }
}

fn chart(
    out: &mut String,
    activity: &str,
    form: &AggregateForm,
    agg: &Aggregate,
    r: &AggregateResult,
) {
    let keys = key_count(agg);
    if keys == 0 || r.rows.is_empty() {
        return;
    }
    let measures: Vec<(usize, &String)> = r.columns.iter().enumerate().skip(keys).collect();
    let numeric = |i: usize| {
        r.rows
            .iter()
            .any(|row| row.cells.get(i).is_some_and(is_numeric_cell))
    };
    let chosen = measures
        .iter()
        .find(|(_, name)| **name == form.chart)
        .or_else(|| measures.iter().find(|(i, _)| numeric(*i)))
        .copied();
    out.push_str("<h2>Chart</h2>\n");
    if measures.len() > 1 {
        // Links, not a script, switch the measure drawn.
        out.push_str("<p>Chart of: ");
        for (i, name) in &measures {
            let mut f = form.clone();
            f.chart = (*name).clone();
            let href = format!(
                "{}{}",
                html::aggregate_href(activity),
                query_string(&f.pairs())
            );
            if chosen.is_some_and(|(c, _)| c == *i) {
                let _ = write!(out, "<strong>{}</strong> ", esc(name));
            } else {
                let _ = write!(out, "{} ", link(&href, name));
            }
        }
        out.push_str("</p>\n");
    }
    let Some((col, name)) = chosen.filter(|(i, _)| numeric(*i)) else {
        out.push_str("<p class=\"muted\">No numeric measure to chart (timestamps are shown in the table).</p>\n");
        return;
    };
    let scale = if r
        .rows
        .iter()
        .any(|row| matches!(row.cells.get(col), Some(Cell::Duration(_))))
    {
        Scale::Duration
    } else {
        Scale::Number
    };
    let key_text =
        |cells: &[Cell]| -> String { cells.iter().map(cell_text).collect::<Vec<_>>().join(" / ") };
    out.push_str("<div class=\"scroll\">");
    match &agg.bucket {
        None => {
            let bars: Vec<Bar> = r
                .rows
                .iter()
                .take(MAX_BARS)
                .filter_map(|row| {
                    let value = row.cells.get(col).and_then(number)?;
                    Some(Bar {
                        label: key_text(row.cells.get(..keys).unwrap_or_default()),
                        value,
                    })
                })
                .collect();
            let caption = format!("{name} by {}", agg.group_by.join(", "));
            out.push_str(&svg::bar_chart(&bars, scale, &caption));
            out.push_str("</div>\n");
            if r.rows.len() > MAX_BARS {
                let _ = writeln!(
                    out,
                    "<p class=\"note\">The chart shows the first {MAX_BARS} of {} groups; the table has more.</p>",
                    r.rows.len()
                );
            }
        }
        Some((unit, field)) => {
            let bucket = agg.group_by.len();
            let mut series: Vec<Series> = Vec::new();
            let mut dropped_series = 0usize;
            let mut unbucketed = 0usize;
            for row in &r.rows {
                let (Some(Cell::Timestamp(t)), Some(v)) =
                    (row.cells.get(bucket), row.cells.get(col).and_then(number))
                else {
                    unbucketed += 1;
                    continue;
                };
                let group = key_text(row.cells.get(..bucket).unwrap_or_default());
                // Rows come sorted by group, then bucket: a group's rows
                // are consecutive, and in time order.
                let drawn = series.len();
                match series.last_mut() {
                    Some(s) if s.name == group => s.points.push((*t, v)),
                    _ if drawn == PALETTE.len() => dropped_series += 1,
                    _ => series.push(Series {
                        name: group,
                        points: vec![(*t, v)],
                    }),
                }
            }
            let caption = format!("{name} per {} of {field}", unit.name());
            out.push_str(&svg::time_series(&series, scale, &caption));
            out.push_str("</div>\n");
            if dropped_series > 0 {
                let _ = writeln!(
                    out,
                    "<p class=\"note\">The chart draws the first {} groups; the table has them all.</p>",
                    PALETTE.len()
                );
            }
            if unbucketed > 0 {
                let _ = writeln!(
                    out,
                    "<p class=\"muted\">{unbucketed} row{} without {} (or without a value) not drawn.</p>",
                    if unbucketed == 1 { "" } else { "s" },
                    esc(field)
                );
            }
        }
    }
}

fn table(
    out: &mut String,
    activity: &str,
    form: &AggregateForm,
    agg: &Aggregate,
    r: &AggregateResult,
) {
    let keys = key_count(agg);
    let _ = writeln!(
        out,
        "<h2>{} group{}</h2>",
        r.rows.len(),
        if r.rows.len() == 1 { "" } else { "s" }
    );
    let mut columns: Vec<&str> = r.columns.iter().map(String::as_str).collect();
    if keys > 0 {
        columns.push("");
    }
    html::table_start(out, &columns);
    for row in r.rows.iter().take(MAX_TABLE_ROWS) {
        out.push_str("<tr>");
        for cell in &row.cells {
            let class = match cell {
                Cell::Timestamp(_) => " class=\"t\"",
                c if is_numeric_cell(c) => " class=\"n\"",
                _ => "",
            };
            let _ = write!(out, "<td{class}>{}</td>", esc(&cell_text(cell)));
        }
        if keys > 0 {
            let _ = write!(
                out,
                "<td>{}</td>",
                link(&drill_down(activity, form, agg, &row.cells), "instances")
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str(TABLE_END);
    if r.rows.len() > MAX_TABLE_ROWS {
        let _ = writeln!(
            out,
            "<p class=\"note\">Showing the first {MAX_TABLE_ROWS} of {} groups; narrow the filters, \
             or use <code>bamdb agg</code> or the JSON API for all.</p>",
            r.rows.len()
        );
    }
}

/// The search page of one group's instances: the selection, plus one
/// condition per key cell (the bucket as a half-open time range).
fn drill_down(activity: &str, form: &AggregateForm, agg: &Aggregate, cells: &[Cell]) -> String {
    let mut pairs = form.selection.pairs();
    for (field, cell) in agg.group_by.iter().zip(cells) {
        pairs.push(("where", equals(field, cell)));
    }
    if let (Some((unit, field)), Some(cell)) = (&agg.bucket, cells.get(agg.group_by.len())) {
        match cell {
            Cell::Timestamp(start) => {
                pairs.push(("where", format!("{field} >= {start}")));
                if let Some(end) = bucket_end(*unit, *start) {
                    pairs.push(("where", format!("{field} < {end}")));
                }
            }
            _ => pairs.push(("where", format!("{field} is null"))),
        }
    }
    format!("{}{}", html::search_href(activity), query_string(&pairs))
}

/// The condition selecting a group's key cell, in the filter syntax; text
/// quoted by the library's own printer, which keeps any character.
fn equals(field: &str, cell: &Cell) -> String {
    match cell {
        Cell::Null => format!("{field} is null"),
        Cell::Text(t) => Filter::new(Field::new(field), Operator::Eq, t.as_str()).to_string(),
        // Full precision (not the rounded table text), so the filter
        // meets the group's value exactly.
        other => format!("{field} = {other}"),
    }
}

/// Where the bucket starting at `start` ends (the start of the next one);
/// `None` past the last writable time.
fn bucket_end(unit: BucketUnit, start: Timestamp) -> Option<Timestamp> {
    // Also for the first week, whose bucket is shown from Timestamp::MIN.
    unit.next_start_in(start, &Zone::utc())
}
