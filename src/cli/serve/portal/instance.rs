//! `/activities/{name}/instances/{id}`: one instance, its parts merged: its
//! status and times, every item of the definition, its milestones on a
//! timeline, the continuation tokens other applications reported under,
//! its references and its related instances.

use std::fmt::Write as _;

use bamdb::model::{ActivityDefinition, InstancePart, ItemType, Value};
use bamdb::query::Cell;
use bamdb::ActivityInstance;

use super::html::{self, esc, link, opt_time_text, value_text, TABLE_END};
use super::svg::{self, Milestone};
use super::{definition, error_page, store_message, Context, Page};

/// The page of instance `id` (or of the instance a continuation token
/// `id` belongs to) of `activity`.
pub fn render(ctx: &Context<'_>, activity: &str, id: &str) -> Page {
    let def = match definition(ctx, activity) {
        Ok(def) => def,
        Err(page) => return page,
    };
    let inst = match ctx.store.get(activity, id) {
        Ok(Some(inst)) => inst,
        Ok(None) => {
            let body = format!(
                "{}<p>{}</p>",
                html::error_box(&format!(
                    "no instance {id} of {activity} (it may not have begun yet: events for ids \
                     never begun wait as pending records)"
                )),
                link(&html::search_href(activity), &format!("Search {activity}"))
            );
            return Page {
                status: 404,
                body: html::layout("Instance not found", &body),
            };
        }
        Err(e) => return error_page(500, "Store error", &store_message(&e)),
    };
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<p>{} · {}</p>",
        link(&html::search_href(activity), &format!("Search {activity}")),
        link(&html::aggregate_href(activity), "Aggregate")
    );
    if inst.id != id {
        let _ = writeln!(
            body,
            "<p class=\"note\">{} is a continuation token of instance {}.</p>",
            esc(id),
            link(&html::instance_href(activity, &inst.id), &inst.id)
        );
    }
    summary(&mut body, &inst);
    items(&mut body, &def, &inst);
    timeline(&mut body, &def, &inst);
    let known = match ctx.store.parts(activity, &inst.id) {
        Ok(parts) => parts,
        Err(e) => {
            // The rest of the page is still true: say what is missing.
            body.push_str(&html::error_box(&format!(
                "the instance's parts could not be read: {}",
                store_message(&e)
            )));
            None
        }
    };
    parts(&mut body, &inst, known.as_deref());
    references(&mut body, &inst);
    relationships(&mut body, &inst);
    Page {
        status: 200,
        body: html::layout(&format!("{activity} {}", inst.id), &body),
    }
}

fn summary(out: &mut String, inst: &ActivityInstance) {
    let status = match inst.status {
        bamdb::Status::Active => "active",
        bamdb::Status::Completed => "completed",
    };
    let took = match (inst.begin, inst.end) {
        (Some(b), Some(e)) => {
            Cell::Duration(e.as_micros().saturating_sub(b.as_micros())).to_string()
        }
        _ => String::new(),
    };
    html::table_start(
        out,
        &["id", "status", "begin", "end", "took", "last modified"],
    );
    let _ = writeln!(
        out,
        "<tr><td>{}</td><td>{status}</td><td class=\"t\">{}</td><td class=\"t\">{}</td>\
         <td class=\"n\">{}</td><td class=\"t\">{}</td></tr>",
        esc(&inst.id),
        esc(&opt_time_text(inst.begin)),
        esc(&opt_time_text(inst.end)),
        esc(&took),
        esc(&opt_time_text(inst.last_modified))
    );
    out.push_str(TABLE_END);
}

/// Every item of the definition, set or not, then any value the instance
/// holds for a name the definition lacks (none, as definitions only grow;
/// shown rather than hidden should it happen).
fn items(out: &mut String, def: &ActivityDefinition, inst: &ActivityInstance) {
    out.push_str("<h2>Items</h2>\n");
    html::table_start(out, &["item", "type", "value"]);
    let row = |out: &mut String, name: &str, ty: &str, value: Option<&Value>| {
        let class = match value {
            Some(Value::Timestamp(_)) => " class=\"t\"",
            Some(Value::Int(_) | Value::Float(_)) => " class=\"n\"",
            _ => "",
        };
        let value = match value {
            Some(v) => esc(&value_text(v)),
            None => "<span class=\"muted\">(unset)</span>".to_owned(),
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"muted\">{}</td><td{class}>{value}</td></tr>",
            esc(name),
            esc(ty)
        );
    };
    for item in &def.items {
        row(out, &item.name, item.ty.type_name(), inst.item(&item.name));
    }
    for (name, value) in &inst.items {
        if def.item(name).is_none() {
            row(out, name, value.type_name(), Some(value));
        }
    }
    out.push_str(TABLE_END);
}

/// Begin, end and every timestamp item of the definition that is set.
fn timeline(out: &mut String, def: &ActivityDefinition, inst: &ActivityInstance) {
    let mut milestones: Vec<Milestone> = Vec::new();
    if let Some(at) = inst.begin {
        milestones.push(Milestone {
            label: "begin".to_owned(),
            at,
        });
    }
    for item in def.items.iter().filter(|i| i.ty == ItemType::Timestamp) {
        if let Some(Value::Timestamp(at)) = inst.item(&item.name) {
            milestones.push(Milestone {
                label: item.name.clone(),
                at: *at,
            });
        }
    }
    if let Some(at) = inst.end {
        milestones.push(Milestone {
            label: "end".to_owned(),
            at,
        });
    }
    out.push_str("<h2>Milestones</h2>\n");
    if milestones.is_empty() {
        out.push_str("<p>No milestone is set yet.</p>\n");
        return;
    }
    out.push_str("<div class=\"scroll\">");
    out.push_str(&svg::timeline(&milestones));
    out.push_str("</div>\n");
}

/// The instance's parts (the root and each continuation) and, for each,
/// which producer (application) reported which item, when.
fn parts(out: &mut String, inst: &ActivityInstance, parts: Option<&[InstancePart]>) {
    out.push_str("<h2>Parts</h2>\n");
    if let Some(parts) = parts.filter(|p| !p.is_empty()) {
        out.push_str(
            "<p class=\"muted\">Who reported what: each part is the instance's own id or a \
             continuation token another application reported under; each item with the \
             producer id of the application that set it, and when. The merged values are \
             above.</p>\n",
        );
        html::table_start(
            out,
            &[
                "part",
                "continues",
                "begin",
                "end",
                "item",
                "value",
                "set at",
                "producer",
            ],
        );
        for part in parts {
            let head = format!(
                "<td><code>{}</code></td><td>{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td>",
                esc(&part.id),
                part.parent.as_deref().map(esc).unwrap_or_default(),
                esc(&opt_time_text(part.begin)),
                esc(&opt_time_text(part.end)),
            );
            if part.items.is_empty() {
                let _ = writeln!(
                    out,
                    "<tr>{head}<td colspan=\"4\" class=\"muted\">(no items)</td></tr>"
                );
            }
            for item in &part.items {
                let _ = writeln!(
                    out,
                    "<tr>{head}<td>{}</td><td>{}</td><td class=\"t\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(&item.name),
                    esc(&value_text(&item.value)),
                    esc(&html::time_text(item.at)),
                    item.producer
                );
            }
        }
        out.push_str(TABLE_END);
        return;
    }
    if inst.continuations.is_empty() {
        out.push_str("<p>No continuation: every event came under the instance's own id.</p>\n");
        return;
    }
    // A record of a version-1 file keeps no parts: only the tokens are known.
    out.push_str(
        "<p class=\"muted\">Other applications reported into this instance under these \
         tokens; their events are merged above.</p>\n<ul>",
    );
    for token in &inst.continuations {
        let _ = write!(out, "<li><code>{}</code></li>", esc(token));
    }
    out.push_str("</ul>\n");
}

fn references(out: &mut String, inst: &ActivityInstance) {
    out.push_str("<h2>References</h2>\n");
    if inst.references.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    html::table_start(out, &["type", "name", "data", "long data"]);
    for r in &inst.references {
        // Long data can be long: folded, so the table stays readable.
        let long = match &r.long_data {
            Some(text) => format!(
                "<details><summary>{} characters</summary><code>{}</code></details>",
                text.chars().count(),
                esc(text)
            ),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{long}</td></tr>",
            esc(&r.ref_type),
            esc(&r.name),
            esc(&r.data)
        );
    }
    out.push_str(TABLE_END);
}

fn relationships(out: &mut String, inst: &ActivityInstance) {
    out.push_str("<h2>Related instances</h2>\n");
    if inst.relationships.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    html::table_start(out, &["activity", "id"]);
    for r in &inst.relationships {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            link(&html::search_href(&r.activity), &r.activity),
            link(&html::instance_href(&r.activity, &r.id), &r.id)
        );
    }
    out.push_str(TABLE_END);
}
