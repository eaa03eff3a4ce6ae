//! The filter forms of the search and aggregation pages: their query
//! parameters read into a [`Search`] or an [`Aggregate`], and the forms
//! drawn back with what was typed.
//!
//! The parameters take exactly the expressions of `bamdb search` and
//! `bamdb agg` (`where` as `--where`, parsed by [`Filter::parse`]; `measure`
//! as `--measure`; `group_by` and `columns` comma-separated; `bucket_unit`
//! and `bucket_field`, or `bucket` as `UNIT:FIELD`), so an expression that
//! works in one works in the other.

use std::fmt::Write as _;

use bamdb::model::{ActivityDefinition, ItemType, StatusFilter, Timestamp};
use bamdb::query::{Aggregate, BucketUnit, Cursor, Filter, Literal, Measure, OrderBy, Search};

use super::html::esc;

/// The search page's row limit when none is given.
pub const DEFAULT_LIMIT: usize = 50;
/// The most rows a search page shows: the page stays bounded however
/// many instances match.
pub const MAX_LIMIT: usize = 1000;
/// The forms offer at least this many `where` inputs, and always one
/// empty one beyond those filled in.
const MIN_WHERE_INPUTS: usize = 3;

/// The query pairs of a request.
#[derive(Clone, Copy)]
pub struct Params<'a>(pub &'a [(String, String)]);

impl<'a> Params<'a> {
    /// Every value of `key` that is not blank, trimmed, in order.
    pub fn all(&self, key: &str) -> Vec<&'a str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The last value of `key` that is not blank, trimmed.
    pub fn last(&self, key: &str) -> Option<&'a str> {
        self.all(key).pop()
    }

    /// Comma-separated lists of `key`, repeated or not, flattened.
    fn list(&self, key: &str) -> Vec<String> {
        self.all(key)
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// The selection parameters shared by both pages, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelectionForm {
    /// `where`: conditions, all of which must hold.
    pub wheres: Vec<String>,
    /// `status`: `active`, `completed` or `all` (empty: all).
    pub status: String,
    /// `since`: RFC 3339, on `last_modified`, inclusive.
    pub since: String,
    /// `until`: RFC 3339, on `last_modified`, exclusive.
    pub until: String,
}

impl SelectionForm {
    /// Reads the parameters; nothing is checked yet.
    pub fn read(p: Params<'_>) -> SelectionForm {
        SelectionForm {
            wheres: p.all("where").into_iter().map(str::to_owned).collect(),
            status: p.last("status").unwrap_or_default().to_owned(),
            since: p.last("since").unwrap_or_default().to_owned(),
            until: p.last("until").unwrap_or_default().to_owned(),
        }
    }

    /// The parsed selection, or the message a bad parameter gets (worded
    /// as the CLI words it, with the parameter's name).
    pub fn parse(&self) -> Result<ParsedSelection, String> {
        let filters = self
            .wheres
            .iter()
            .map(|e| Filter::parse(e).map_err(|e| format!("where: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let status = match self.status.to_ascii_lowercase().as_str() {
            "" | "all" => StatusFilter::All,
            "active" => StatusFilter::Active,
            "completed" => StatusFilter::Completed,
            other => {
                return Err(format!(
                    "status: {other:?} is not a status; choose active, completed or all"
                ))
            }
        };
        Ok(ParsedSelection {
            filters,
            status,
            since: parse_time("since", &self.since)?,
            until: parse_time("until", &self.until)?,
        })
    }

    /// The parameters again, for links that keep the selection (blank
    /// ones left out).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> =
            self.wheres.iter().map(|w| ("where", w.clone())).collect();
        for (key, value) in [
            ("status", &self.status),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !value.is_empty() {
                pairs.push((key, value.clone()));
            }
        }
        pairs
    }

    /// The form's selection inputs.
    fn render(&self, out: &mut String) {
        let spare_count = MIN_WHERE_INPUTS.saturating_sub(self.wheres.len()).max(1);
        let spare = std::iter::repeat_n("", spare_count);
        for w in self.wheres.iter().map(String::as_str).chain(spare) {
            let _ = writeln!(
                out,
                "<label>where <input type=\"text\" name=\"where\" value=\"{}\" list=\"fields\" \
                 placeholder=\"Amount &gt; 100\"></label>",
                esc(w)
            );
        }
        out.push_str("<br><label>status <select name=\"status\">");
        let chosen = self.status.to_ascii_lowercase();
        for s in ["all", "active", "completed"] {
            let selected = if chosen == s || (chosen.is_empty() && s == "all") {
                " selected"
            } else {
                ""
            };
            let _ = write!(out, "<option value=\"{s}\"{selected}>{s}</option>");
        }
        let _ = write!(
            out,
            "</select></label>\n\
             <label>since <input type=\"text\" name=\"since\" value=\"{}\" \
             placeholder=\"2026-11-01T00:00:00Z\"></label>\n\
             <label>until <input type=\"text\" name=\"until\" value=\"{}\" \
             placeholder=\"2026-12-01T00:00:00Z\"></label>\n",
            esc(&self.since),
            esc(&self.until)
        );
    }
}

/// A selection read and checked.
pub struct ParsedSelection {
    filters: Vec<Filter>,
    status: StatusFilter,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
}

/// An RFC 3339 time, or one relative to now (`now-7d`), as `--since`
/// reads.
fn parse_time(name: &str, text: &str) -> Result<Option<Timestamp>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    Literal::new(text, false)
        .timestamp()
        .map(Some)
        .ok_or_else(|| {
            format!(
            "{name}: {text:?} is not a time; write RFC 3339 like 2026-11-01T00:00:00Z, or now, \
             now-7d, now+2h (units s, m, h, d, w)"
        )
        })
}

/// The search page's parameters, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchForm {
    /// `where`, `status`, `since`, `until`.
    pub selection: SelectionForm,
    /// `limit`: at most this many rows (default 50, at most 1000).
    pub limit: String,
    /// `columns`: comma-separated (repeatable).
    pub columns: Vec<String>,
    /// `order_by`: keys `FIELD [asc|desc]`, comma-separated (repeatable).
    pub order_by: Vec<String>,
    /// `after`: the cursor of the page before (the "next page" link).
    pub after: String,
}

impl SearchForm {
    /// Reads the parameters; nothing is checked yet.
    pub fn read(p: Params<'_>) -> SearchForm {
        SearchForm {
            selection: SelectionForm::read(p),
            limit: p.last("limit").unwrap_or_default().to_owned(),
            columns: p.list("columns"),
            order_by: p.list("order_by"),
            after: p.last("after").unwrap_or_default().to_owned(),
        }
    }

    /// The parameters that make this search, without the cursor: the
    /// "next page" link adds its own.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.selection.pairs();
        for (key, value) in [
            ("limit", self.limit.clone()),
            ("columns", self.columns.join(",")),
            ("order_by", self.order_by.join(",")),
        ] {
            if !value.is_empty() {
                pairs.push((key, value));
            }
        }
        pairs
    }

    /// The search, and a note when the limit was lowered to the most a
    /// page shows; or the message for a bad parameter. The id column is
    /// added first when columns are chosen without it: the table links
    /// each row by its id.
    pub fn parse(&self, activity: &str) -> Result<(Search, Option<String>), String> {
        let sel = self.selection.parse()?;
        let mut search = Search::new(activity);
        search.filters = sel.filters;
        search.status = sel.status;
        search.since = sel.since;
        search.until = sel.until;
        let (limit, note) = match self.limit.as_str() {
            "" => (DEFAULT_LIMIT, None),
            text => match text.parse::<usize>() {
                Ok(0) | Err(_) => {
                    return Err(format!(
                        "limit: {text:?} is not a number of rows (1 to {MAX_LIMIT})"
                    ))
                }
                Ok(n) if n > MAX_LIMIT => (
                    MAX_LIMIT,
                    Some(format!(
                        "limit {n} lowered to {MAX_LIMIT}, the most a page shows; narrow the \
                         filters, or use `bamdb search` or the JSON API for more"
                    )),
                ),
                Ok(n) => (n, None),
            },
        };
        search.limit = Some(limit);
        search.order_by = self
            .order_by
            .iter()
            .map(|o| OrderBy::parse(o).map_err(|e| format!("order by: {e}")))
            .collect::<Result<_, _>>()?;
        if !self.after.trim().is_empty() {
            search.after = Some(Cursor::parse(&self.after).map_err(|e| format!("next page: {e}"))?);
        }
        if !self.columns.is_empty() {
            let mut columns = self.columns.clone();
            if !columns.iter().any(|c| c == "id") {
                columns.insert(0, "id".to_owned());
            }
            search.columns = Some(columns);
        }
        Ok((search, note))
    }

    /// The form, submitting to `action`.
    pub fn render(&self, out: &mut String, action: &str, def: &ActivityDefinition) {
        form_start(out, action, def);
        self.selection.render(out);
        let limit = if self.limit.is_empty() {
            DEFAULT_LIMIT.to_string()
        } else {
            self.limit.clone()
        };
        let _ = write!(
            out,
            "<br><label>limit <input type=\"number\" name=\"limit\" min=\"1\" max=\"{MAX_LIMIT}\" \
             value=\"{}\"></label>\n\
             <label>columns <input type=\"text\" name=\"columns\" value=\"{}\" \
             placeholder=\"id,status,Customer\"></label>\n\
             <label>order by <input type=\"text\" name=\"order_by\" value=\"{}\" \
             placeholder=\"Amount desc, id\"></label>\n\
             <button type=\"submit\">Search</button></form>\n",
            esc(&limit),
            esc(&self.columns.join(",")),
            esc(&self.order_by.join(", "))
        );
        syntax_help(out);
    }
}

/// The aggregation page's parameters, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AggregateForm {
    /// `where`, `status`, `since`, `until`.
    pub selection: SelectionForm,
    /// `group_by`: fields, comma-separated (repeatable).
    pub group_by: Vec<String>,
    /// `bucket_unit`: minute, hour, day, week, month, quarter or year (empty
    /// or `none`: no bucket).
    pub bucket_unit: String,
    /// `bucket_field`: the timestamp field bucketed.
    pub bucket_field: String,
    /// `measure`: one spec each (repeatable; none: count).
    pub measures: Vec<String>,
    /// `chart`: the measure column the chart draws (default: the first
    /// numeric one).
    pub chart: String,
}

impl AggregateForm {
    /// Reads the parameters; nothing is checked yet. `bucket=UNIT:FIELD`
    /// (the CLI's `--bucket`) fills the unit and field when they are not
    /// given on their own.
    pub fn read(p: Params<'_>) -> AggregateForm {
        let mut bucket_unit = p.last("bucket_unit").unwrap_or_default().to_owned();
        let mut bucket_field = p.last("bucket_field").unwrap_or_default().to_owned();
        if let Some((unit, field)) = p.last("bucket").and_then(|b| b.split_once(':')) {
            if bucket_unit.is_empty() {
                bucket_unit = unit.trim().to_owned();
            }
            if bucket_field.is_empty() {
                bucket_field = field.trim().to_owned();
            }
        }
        AggregateForm {
            selection: SelectionForm::read(p),
            group_by: p.list("group_by"),
            bucket_unit,
            bucket_field,
            measures: p.all("measure").into_iter().map(str::to_owned).collect(),
            chart: p.last("chart").unwrap_or_default().to_owned(),
        }
    }

    /// The aggregation, or the message for a bad parameter.
    pub fn parse(&self, activity: &str) -> Result<Aggregate, String> {
        let sel = self.selection.parse()?;
        let mut agg = Aggregate::new(activity);
        agg.filters = sel.filters;
        agg.status = sel.status;
        agg.since = sel.since;
        agg.until = sel.until;
        agg.group_by = self.group_by.clone();
        agg.bucket = match self.bucket_unit.to_ascii_lowercase().as_str() {
            // The field input may keep a value while the unit says none.
            "" | "none" => None,
            unit => {
                let unit = BucketUnit::parse(unit).map_err(|e| format!("bucket: {e}"))?;
                if self.bucket_field.is_empty() {
                    return Err(format!(
                        "bucket: choose the timestamp field to bucket by {} (e.g. end)",
                        unit.name()
                    ));
                }
                Some((unit, self.bucket_field.clone()))
            }
        };
        agg.measures = if self.measures.is_empty() {
            vec![Measure::Count]
        } else {
            self.measures
                .iter()
                .map(|m| Measure::parse(m).map_err(|e| format!("measure: {e}")))
                .collect::<Result<_, _>>()?
        };
        Ok(agg)
    }

    /// The parameters again (blank ones left out).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.selection.pairs();
        if !self.group_by.is_empty() {
            pairs.push(("group_by", self.group_by.join(",")));
        }
        for (key, value) in [
            ("bucket_unit", &self.bucket_unit),
            ("bucket_field", &self.bucket_field),
        ] {
            if !value.is_empty() {
                pairs.push((key, value.clone()));
            }
        }
        pairs.extend(self.measures.iter().map(|m| ("measure", m.clone())));
        if !self.chart.is_empty() {
            pairs.push(("chart", self.chart.clone()));
        }
        pairs
    }

    /// The form, submitting to `action`.
    pub fn render(&self, out: &mut String, action: &str, def: &ActivityDefinition) {
        form_start(out, action, def);
        self.selection.render(out);
        let _ = write!(
            out,
            "<br><label>group by <input type=\"text\" name=\"group_by\" value=\"{}\" \
             list=\"fields\" placeholder=\"Region\"></label>\n\
             <label>bucket <select name=\"bucket_unit\">",
            esc(&self.group_by.join(","))
        );
        let unit = self.bucket_unit.to_ascii_lowercase();
        let known = [
            "", "minute", "hour", "day", "week", "month", "quarter", "year",
        ];
        for u in known {
            let selected = if unit == u || (u.is_empty() && unit == "none") {
                " selected"
            } else {
                ""
            };
            let label = if u.is_empty() { "none" } else { u };
            let _ = write!(out, "<option value=\"{u}\"{selected}>{label}</option>");
        }
        if !known.contains(&unit.as_str()) && unit != "none" {
            // Kept so that the error about it still shows what was sent.
            let _ = write!(
                out,
                "<option value=\"{0}\" selected>{0}</option>",
                esc(&self.bucket_unit)
            );
        }
        let _ = write!(
            out,
            "</select></label> <label>of <input type=\"text\" name=\"bucket_field\" value=\"{}\" \
             list=\"timefields\" placeholder=\"end\"></label>\n<br>",
            esc(&self.bucket_field)
        );
        let typed: Vec<&str> = self.measures.iter().map(String::as_str).collect();
        let shown: Vec<&str> = if typed.is_empty() {
            vec!["count", ""]
        } else {
            typed.into_iter().chain([""]).collect()
        };
        for m in shown {
            let _ = writeln!(
                out,
                "<label>measure <input type=\"text\" name=\"measure\" value=\"{}\" \
                 placeholder=\"avg:Amount\"></label>",
                esc(m)
            );
        }
        if !self.chart.is_empty() {
            let _ = write!(
                out,
                "<input type=\"hidden\" name=\"chart\" value=\"{}\">",
                esc(&self.chart)
            );
        }
        out.push_str("<button type=\"submit\">Aggregate</button></form>\n");
        syntax_help(out);
    }
}

/// Opens a GET form, with the field names of `def` offered as suggestions
/// (a datalist: no script needed).
fn form_start(out: &mut String, action: &str, def: &ActivityDefinition) {
    out.push_str("<datalist id=\"fields\">");
    for name in ["id", "status", "begin", "end", "last_modified"]
        .into_iter()
        .chain(def.items.iter().map(|i| i.name.as_str()))
    {
        let _ = write!(out, "<option value=\"{}\">", esc(name));
    }
    out.push_str("</datalist><datalist id=\"timefields\">");
    for name in timestamp_fields(def) {
        let _ = write!(out, "<option value=\"{}\">", esc(name));
    }
    let _ = write!(
        out,
        "</datalist>\n<form class=\"q\" method=\"get\" action=\"{}\">\n",
        esc(action)
    );
}

/// The timestamp fields of `def`: `begin`, `end`, `last_modified`, then its
/// timestamp items.
pub fn timestamp_fields(def: &ActivityDefinition) -> impl Iterator<Item = &str> {
    ["begin", "end", "last_modified"].into_iter().chain(
        def.items
            .iter()
            .filter(|i| i.ty == ItemType::Timestamp)
            .map(|i| i.name.as_str()),
    )
}

/// The expression syntax, folded (a `details` element needs no script).
fn syntax_help(out: &mut String) {
    out.push_str(
        "<details class=\"muted\"><summary>Syntax (as in bamdb search and agg)</summary><ul>\
<li>where: conditions <code>FIELD OPERATOR [OPERAND]</code>; operators <code>= != &lt;&gt; &gt; &gt;= &lt; &lt;=</code>, \
<code>in (A, B)</code>, <code>not in (A, B)</code>, <code>between A and B</code>, <code>contains</code>, \
<code>starts with</code>, <code>ends with</code>, <code>icontains</code> (and <code>ieq</code>, <code>istarts with</code>, \
<code>iends with</code>: ignoring case), <code>is [not] null</code>, <code>is [not] empty</code>; combined with \
<code>and</code>, <code>or</code>, <code>not</code> and parentheses; e.g. <code>Region = EU or Region = US</code>, \
<code>Amount between 100 and 500</code>, <code>Customer icontains contoso</code>, <code>Shipped &gt; Received</code>, \
<code>end &gt;= now-7d</code>, <code>Note = 'two words '</code>. Every where input must hold.</li>\
<li>since / until: RFC 3339 times (or relative: <code>now-7d</code>) bounding last_modified (since inclusive, until exclusive).</li>\
<li>columns, group by: field names, comma-separated.</li>\
<li>measure: <code>count</code>, <code>count_distinct:F</code>, <code>sum:F</code>, <code>avg:F</code>, \
<code>min:F</code>, <code>max:F</code>, <code>median:F</code>, <code>p95:F</code> (any pN), \
<code>avg:duration(Received,Shipped)</code> (also min, max, median, pN).</li>\
<li>bucket: minute, hour, day, week, month, quarter or year of a timestamp field (UTC).</li>\
<li>order by (search): <code>FIELD [asc|desc]</code>, comma-separated; then id; unset values last.</li></ul></details>\n",
    );
}

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
