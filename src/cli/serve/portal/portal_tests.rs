use std::time::Duration;

use bamdb::fixture::{self, CompletedOrder, ACTIVITY};
use bamdb::model::{Timestamp, Value};
use bamdb::{EventStream, Store, StoreOptions};

use super::*;

/// Ids and values a hostile or careless producer could send.
const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"'><img src=x onerror=alert(1)>";
const ESCAPE: &str = "\u{1b}[31m";
const NUL: &str = "nul\0";

/// A store with 20 completed orders, two active ones (one of them with
/// markup and control characters everywhere it can hold them) and one
/// quarantined batch.
struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        store.deploy(fixture::definition(fixture::FULL)).unwrap();
        let mut s = store.direct_stream();
        for i in 0..20 {
            CompletedOrder::new(i).report(&mut s).unwrap();
        }
        s.set_time(Some(at("2026-12-01T08:00:00Z")));
        s.begin(ACTIVITY, "PO-ACTIVE").unwrap();
        s.update(ACTIVITY, "PO-ACTIVE", [("Region", "EU")]).unwrap();
        s.begin(ACTIVITY, SCRIPT).unwrap();
        s.update(
            ACTIVITY,
            SCRIPT,
            [
                ("Customer", Value::from(IMG)),
                ("Region", Value::from(ESCAPE)),
                ("Status", Value::from(NUL)),
                ("PO_Number", Value::from(SCRIPT)),
                ("Amount", Value::Float(12.5)),
                ("Received", Value::Timestamp(at("2026-12-01T09:00:00Z"))),
            ],
        )
        .unwrap();
        s.enable_continuation(ACTIVITY, SCRIPT, "<script>token</script>")
            .unwrap();
        s.add_reference(ACTIVITY, SCRIPT, SCRIPT, IMG, ESCAPE, Some(SCRIPT))
            .unwrap();
        s.add_related_activity(ACTIVITY, SCRIPT, ACTIVITY, "PO-ACTIVE")
            .unwrap();
        s.add_related_activity(ACTIVITY, SCRIPT, "Invoice", IMG)
            .unwrap();
        s.flush().unwrap();
        // Another application reports under the token.
        s.update(
            ACTIVITY,
            "<script>token</script>",
            [("Shipped", Value::Timestamp(at("2026-12-02T10:00:00Z")))],
        )
        .unwrap();
        s.flush().unwrap();
        // Not deployed: quarantined by the bus.
        let mut b = store.buffered_stream(0);
        b.begin("Invoice", SCRIPT).unwrap();
        b.update("Invoice", SCRIPT, [("Note", IMG)]).unwrap();
        b.flush().unwrap();
        assert!(store.sync(Duration::from_secs(30)));
        Fixture { _dir: dir, store }
    }

    /// The page at `target` (`path?query`), its query decoded as the
    /// server decodes it (percent-decoding, `+` as space).
    fn get_as(&self, target: &str, token_required: bool) -> Option<Page> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                let d = |s: &str| html::decode(&s.replace('+', " ")).unwrap();
                (d(k), d(v))
            })
            .collect();
        let ctx = Context {
            store: &self.store,
            token_required,
        };
        page(&ctx, path, &pairs)
    }

    fn get(&self, target: &str) -> Page {
        self.get_as(target, false)
            .unwrap_or_else(|| panic!("{target} is a portal page"))
    }

    fn close(self) {
        self.store.close().unwrap();
    }
}

/// No markup from data, and no raw control character, reached the page.
fn assert_clean(target: &str, body: &str) {
    let lower = body.to_ascii_lowercase();
    for bad in ["<script", "<img", "onerror="] {
        assert!(!lower.contains(bad), "{target}: {bad} in\n{body}");
    }
    if let Some(c) = body.chars().find(|c| c.is_control() && *c != '\n') {
        panic!("{target}: raw control character {c:?} in\n{body}");
    }
}

/// The number of result rows of a search page.
fn result_rows(body: &str) -> usize {
    body.matches("<tr><td><a href=\"/activities/PurchaseOrder/instances/")
        .count()
}

/// Undoes the HTML escaping of an href (only `&` and `=` occur in the
/// links built: everything else is percent-encoded).
fn unescape_href(href: &str) -> String {
    href.replace("&amp;", "&").replace("&#61;", "=")
}

#[test]
fn hostile_data_never_reaches_a_page_as_markup_or_control_characters() {
    let f = Fixture::new();
    let id = html::encode(SCRIPT);
    let targets = [
        "/".to_owned(),
        "/activities/PurchaseOrder".to_owned(),
        "/activities/PurchaseOrder?status=active&columns=Customer,Region,Status,PO_Number".to_owned(),
        format!("/activities/PurchaseOrder/instances/{id}"),
        format!("/activities/PurchaseOrder/instances/{}", html::encode("<script>token</script>")),
        "/activities/PurchaseOrder/aggregate?group_by=Customer".to_owned(),
        "/activities/PurchaseOrder/aggregate?group_by=Region,Status&bucket_unit=day&bucket_field=begin".to_owned(),
        "/activities/PurchaseOrder/aggregate?group_by=PO_Number&measure=count&measure=max:Amount".to_owned(),
        "/quarantine".to_owned(),
        format!("/quarantine?replayed={id}&outcome={}", html::encode(IMG)),
        format!("/activities/{id}"),
        format!("/activities/{id}/aggregate"),
        format!("/activities/PurchaseOrder/instances/{}", html::encode(IMG)),
        format!("/activities/PurchaseOrder?where={}", html::encode(SCRIPT)),
        format!("/activities/PurchaseOrder?where=Customer%20%3D%20{}", html::encode(IMG)),
        format!("/activities/PurchaseOrder?columns={}", html::encode(IMG)),
        format!("/activities/PurchaseOrder/aggregate?measure={}&group_by={}", html::encode(SCRIPT), html::encode(ESCAPE)),
        format!("/activities/PurchaseOrder?since={}&limit={}", html::encode(NUL), html::encode(IMG)),
    ];
    for target in &targets {
        let page = f.get(target);
        assert_clean(target, &page.body);
    }
    // The data is there, shown escaped.
    let page = f.get(&format!("/activities/PurchaseOrder/instances/{id}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page
        .body
        .contains("&quot;&#39;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;"));
    assert!(page.body.contains("\\u{1b}[31m"));
    assert!(page.body.contains("nul\\u{0}"));
    let page = f.get(&format!(
        "/quarantine?replayed=7&outcome={}",
        html::encode(SCRIPT)
    ));
    assert!(page.body.contains("Replay of entry 7: &lt;script&gt;"));
    f.close();
}

#[test]
fn routes_decode_each_segment_and_refuse_other_paths() {
    assert_eq!(route("/"), Ok(Some(Route::Home)));
    assert_eq!(route(""), Ok(Some(Route::Home)));
    assert_eq!(route("/quarantine/"), Ok(Some(Route::Quarantine)));
    assert_eq!(
        route("/activities/PurchaseOrder"),
        Ok(Some(Route::Search("PurchaseOrder".into())))
    );
    assert_eq!(
        route("/activities/PurchaseOrder/aggregate"),
        Ok(Some(Route::Aggregate("PurchaseOrder".into())))
    );
    assert_eq!(
        route("/activities/PurchaseOrder/instances/PO%2F1%20a+b"),
        Ok(Some(Route::Instance(
            "PurchaseOrder".into(),
            "PO/1 a+b".into()
        )))
    );
    for other in [
        "/favicon.ico",
        "/activities",
        "/activities/A/other",
        "/quarantine/1/replay",
        "/v2/x",
    ] {
        assert_eq!(route(other), Ok(None), "{other}");
    }
    assert!(route("/activities/A/instances/%zz").is_err());
    assert!(route("/activities//aggregate").is_err());
}

#[test]
fn status_codes_follow_what_went_wrong() {
    let f = Fixture::new();
    let cases = [
        ("/", 200),
        ("/quarantine", 200),
        ("/activities/PurchaseOrder", 200),
        ("/activities/PurchaseOrder/aggregate", 200),
        ("/activities/PurchaseOrder/instances/PO-ACTIVE", 200),
        ("/activities/Nope", 404),
        ("/activities/Nope/aggregate", 404),
        ("/activities/Nope/instances/x", 404),
        ("/activities/PurchaseOrder/instances/PO-unknown", 404),
        ("/activities/PurchaseOrder?where=Amount%20%3E", 400),
        ("/activities/PurchaseOrder?where=Colour%20%3D%20red", 400),
        ("/activities/PurchaseOrder?where=Amount%20%3E%20abc", 400),
        ("/activities/PurchaseOrder?status=pending", 400),
        ("/activities/PurchaseOrder?since=yesterday", 400),
        ("/activities/PurchaseOrder?columns=Colour", 400),
        ("/activities/PurchaseOrder?limit=-1", 400),
        (
            "/activities/PurchaseOrder/aggregate?measure=sum:Customer",
            400,
        ),
        (
            "/activities/PurchaseOrder/aggregate?bucket_unit=day&bucket_field=Region",
            400,
        ),
        ("/activities/PurchaseOrder/aggregate?group_by=Colour", 400),
        ("/activities/PurchaseOrder/instances/%ff", 400),
    ];
    for (target, status) in cases {
        let page = f.get(target);
        assert_eq!(page.status, status, "{target}:\n{}", page.body);
        if status >= 400 {
            assert!(
                page.body.contains("class=\"err\""),
                "{target}: the error is shown"
            );
        }
    }
    assert!(f.get_as("/favicon.ico", false).is_none());
    let page = f.get("/activities/PurchaseOrder?where=Colour%20%3D%20red");
    assert!(page.body.contains("unknown filter field"), "{}", page.body);
    assert!(
        page.body.contains("value=\"Colour &#61; red\""),
        "the form keeps what was typed"
    );
    let page = f.get("/activities/Nope");
    assert!(page.body.contains("activity Nope is not deployed"));
    assert!(
        page.body.contains("href=\"/activities/PurchaseOrder\""),
        "deployed ones offered"
    );
    f.close();
}

#[test]
fn home_counts_activities_and_shows_the_store() {
    let f = Fixture::new();
    let page = f.get("/");
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("name=\"viewport\""));
    assert!(
        body.contains("<a href=\"/activities/PurchaseOrder?status&#61;active\">2</a>"),
        "{body}"
    );
    assert!(
        body.contains("<a href=\"/activities/PurchaseOrder?status&#61;completed\">20</a>"),
        "{body}"
    );
    assert!(body.contains("href=\"/activities/PurchaseOrder/aggregate\""));
    assert!(
        body.contains("Recent quarantine") && body.contains("href=\"/quarantine#q"),
        "{body}"
    );
    assert!(body.contains("applied LSN") && body.contains("lag (frames)"));
    f.close();
}

#[test]
fn search_lists_bounded_rows_linked_to_their_instances() {
    let f = Fixture::new();
    let page = f.get("/activities/PurchaseOrder");
    assert_eq!(result_rows(&page.body), 22);
    let page = f.get("/activities/PurchaseOrder?limit=5");
    assert_eq!(result_rows(&page.body), 5);
    assert!(page.body.contains("Next page"), "links the rows left");
    // Ordered by Amount, largest first, 8 a page: following "Next page"
    // lists every instance once, in the library's order.
    let mut search = bamdb::query::Search::new(ACTIVITY);
    search.order_by = vec![bamdb::query::OrderBy::desc("Amount")];
    let want: Vec<String> = f
        .store
        .search(&search)
        .unwrap()
        .iter()
        .map(|r| match r.get("id") {
            Some(Value::Text(id)) => html::encode(id),
            other => panic!("a row without an id: {other:?}"),
        })
        .collect();
    let mut target = "/activities/PurchaseOrder?order_by=Amount+desc&limit=8".to_owned();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = f.get(&target);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Ordered by Amount desc, then id"));
        for part in page
            .body
            .split("<tr><td><a href=\"/activities/PurchaseOrder/instances/")
            .skip(1)
        {
            seen.push(part.split('"').next().unwrap().to_owned());
        }
        let Some(at) = page.body.find("\">Next page</a>") else {
            break;
        };
        let start = page.body[..at].rfind("href=\"").unwrap() + 6;
        target = unescape_href(&page.body[start..at]);
    }
    assert_eq!(seen, want);
    let page = f.get("/activities/PurchaseOrder?order_by=Amount+sideways");
    assert_eq!(page.status, 400);
    assert!(page.body.contains("asc or desc"), "{}", page.body);
    let page = f.get("/activities/PurchaseOrder?status=active");
    assert_eq!(result_rows(&page.body), 2);
    assert!(page
        .body
        .contains("href=\"/activities/PurchaseOrder/instances/PO-ACTIVE\""));
    // The same expressions as the CLI, with the same answer as the library.
    let mut search = bamdb::query::Search::new(ACTIVITY);
    search.filters = vec![
        bamdb::query::Filter::parse("Region = EU").unwrap(),
        bamdb::query::Filter::parse("Amount>100").unwrap(),
    ];
    let expected = f.store.search(&search).unwrap().len();
    let page = f.get("/activities/PurchaseOrder?where=Region+%3D+EU&where=Amount%3E100&where=");
    assert_eq!(page.status, 200);
    assert_eq!(result_rows(&page.body), expected);
    let page = f.get("/activities/PurchaseOrder?columns=Customer,Amount&limit=3");
    assert!(
        page.body
            .contains("<th>id</th><th>Customer</th><th>Amount</th></tr>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Aggregate this selection"));
    f.close();
}

#[test]
fn instance_page_shows_items_milestones_parts_and_relations() {
    let f = Fixture::new();
    let order = CompletedOrder::new(3);
    let page = f.get(&format!("/activities/PurchaseOrder/instances/{}", order.id));
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert!(body.contains("completed"));
    assert!(body.contains(&html::esc(&order.customer)));
    assert!(
        body.contains("(unset)"),
        "items not set are listed too: {body}"
    );
    assert!(body.contains("<svg"), "a timeline");
    for label in [">begin<", ">Received<", ">Shipped<", ">end<"] {
        assert!(body.contains(label), "{label} on the timeline");
    }
    let id = html::encode(SCRIPT);
    let page = f.get(&format!("/activities/PurchaseOrder/instances/{id}"));
    let body = &page.body;
    assert!(body.contains("active"));
    assert!(
        body.contains("&lt;script&gt;token&lt;/script&gt;"),
        "the continuation token"
    );
    assert!(
        body.contains(">Shipped<"),
        "reported under the token, merged"
    );
    // The parts table: the token is a part of its own, with what it set.
    let parts = body
        .split("<h2>Parts</h2>")
        .nth(1)
        .and_then(|rest| rest.split("<h2>").next())
        .expect("a parts section");
    assert!(
        parts.contains("<th scope=\"col\">producer</th>") || parts.contains(">producer<"),
        "{parts}"
    );
    assert!(
        parts.contains("<code>&lt;script&gt;token&lt;/script&gt;</code>"),
        "the token's part: {parts}"
    );
    assert!(
        parts.contains(">Shipped<"),
        "what the token's part set: {parts}"
    );
    assert!(
        body.contains("href=\"/activities/PurchaseOrder/instances/PO-ACTIVE\""),
        "related"
    );
    assert!(
        body.contains(&format!(
            "href=\"/activities/Invoice/instances/{}\"",
            html::esc(&html::encode(IMG))
        )),
        "related instance of another activity, encoded"
    );
    // Reached by its continuation token: the same instance, said so.
    let token = html::encode("<script>token</script>");
    let page = f.get(&format!("/activities/PurchaseOrder/instances/{token}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("is a continuation token of instance"));
    f.close();
}

#[test]
fn aggregate_draws_bars_when_grouped_and_lines_when_bucketed() {
    let f = Fixture::new();
    let page = f.get("/activities/PurchaseOrder/aggregate");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<th>count</th>") && !page.body.contains("<svg"),
        "one row, no chart"
    );
    let page = f.get(
        "/activities/PurchaseOrder/aggregate?group_by=Region&measure=count&measure=avg:Amount",
    );
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<rect"), "bars");
    assert!(page.body.contains("Chart of: <strong>count</strong>"));
    assert!(!page.body.contains("<polyline"));
    let page = f.get("/activities/PurchaseOrder/aggregate?group_by=Region&measure=count&measure=avg:Amount&chart=avg:Amount");
    assert!(page.body.contains("Chart of: <a"), "switched to avg");
    let page = f.get(
        "/activities/PurchaseOrder/aggregate?bucket_unit=day&bucket_field=Received&measure=avg:duration(Received,Shipped)&status=completed",
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<polyline"),
        "a time series: {}",
        page.body
    );
    let page = f.get("/activities/PurchaseOrder/aggregate?bucket=week:end&group_by=Region");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<circle"));
    f.close();
}

#[test]
fn each_group_links_to_exactly_its_instances() {
    let f = Fixture::new();
    for target in [
        "/activities/PurchaseOrder/aggregate?group_by=Region,Customer",
        "/activities/PurchaseOrder/aggregate?group_by=Quantity&bucket_unit=day&bucket_field=Shipped",
        "/activities/PurchaseOrder/aggregate?group_by=Amount&where=Region%20%3D%20EU",
        "/activities/PurchaseOrder/aggregate?group_by=status,PO_Number",
    ] {
        let page = f.get(target);
        assert_eq!(page.status, 200, "{target}");
        let mut groups = 0;
        for row in page.body.split("<tr>").skip(2) {
            let Some(href) = row
                .split("<a href=\"")
                .nth(1)
                .and_then(|h| h.split('"').next())
            else {
                continue;
            };
            // The count is the last number cell of the row.
            let count: usize = row
                .rsplit("<td class=\"n\">")
                .next()
                .and_then(|c| c.split('<').next())
                .and_then(|c| c.parse().ok())
                .unwrap();
            let search = f.get(&format!("{}&limit=1000", unescape_href(href)));
            assert_eq!(search.status, 200, "{href}: {}", search.body);
            assert_eq!(result_rows(&search.body), count, "{target}: {href}");
            groups += 1;
        }
        assert!(groups > 1, "{target}");
    }
    f.close();
}

#[test]
fn quarantine_lists_entries_with_replay_buttons() {
    let f = Fixture::new();
    let page = f.get("/quarantine");
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<form method=post action=\"/quarantine/"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/replay\">"));
    assert!(!page.body.contains("name=token"));
    assert!(page.body.contains("unresolved"));
    let page = f.get_as("/quarantine", true).unwrap();
    assert!(page
        .body
        .contains("<input type=password name=token placeholder=token required>"));
    // Once dropped, no button.
    let (entries, _) = f.store.quarantine_entries().unwrap();
    let ids: Vec<u64> = entries.iter().map(|e| e.id).collect();
    f.store.drop_quarantined(&ids, "test").unwrap();
    let page = f.get("/quarantine");
    assert!(!page.body.contains("<form method=post"));
    assert!(page.body.contains("dropped"));
    let page = f.get("/quarantine?replayed=1&outcome=imported");
    assert!(page.body.contains("Replay of entry 1: imported"));
    f.close();
}
