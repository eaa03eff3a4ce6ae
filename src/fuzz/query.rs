//! Fuzz hooks of the query language: the `--where` grammar, and the
//! order keys and paging cursors a search is given.

use crate::model::{ActivityDefinition, ActivityInstance, Status, Timestamp, Value};
use crate::query::{Cursor, Filter, OrderBy, Search};

/// Parses `data` as a paging cursor and as an order key: neither may
/// panic. What parses prints back to itself, and a search with it
/// validates and runs over instances without panicking, whatever order
/// the cursor was made for.
pub fn cursor(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let def = definition();
    let mut other = instance();
    other.id = "O-2".into();
    other.items.retain(|(name, _)| name != "Amount");
    if let Ok(cursor) = Cursor::parse(text) {
        match Cursor::parse(&cursor.to_string()) {
            Ok(again) => assert_eq!(again, cursor, "{text:?}"),
            Err(e) => panic!("{text:?} printed as {cursor}, which does not parse: {e}"),
        }
        for order_by in [
            vec![],
            vec![OrderBy::desc("Amount"), OrderBy::asc("Region")],
        ] {
            let mut search = Search::new("Order");
            search.order_by = order_by;
            search.after = Some(cursor.clone());
            let _ = search.validate(&def);
            let _ = search.run_page(vec![instance(), other.clone()]);
        }
    }
    if let Ok(key) = OrderBy::parse(text) {
        assert_eq!(
            OrderBy::parse(&key.to_string()).as_ref(),
            Ok(&key),
            "{text:?}"
        );
        let mut search = Search::new("Order");
        search.order_by = vec![key];
        search.limit = Some(1);
        let _ = search.validate(&def);
        let page = search.run_page(vec![instance(), other.clone()]);
        if let Some(next) = page.next {
            search.after = Some(next);
            let rest = search.run_page(vec![instance(), other]);
            assert_eq!(rest.rows.len(), 1, "two rows, one a page: {text:?}");
        }
    }
}

/// Parses `data` as a filter (it must not panic, however deep or odd).
/// A filter that parses prints in a canonical form that parses back to
/// the same filter (relative times aside: they read the clock), and it
/// validates against a definition and evaluates on an instance without
/// panicking, resolved or not.
pub fn filter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = Filter::parse(text) else {
        return;
    };
    let printed = filter.to_string();
    match Filter::parse(&printed) {
        Ok(again) => {
            if !filter.has_relative_time() {
                assert_eq!(again, filter, "{text:?} printed as {printed:?}");
            }
        }
        Err(e) => panic!("{text:?} printed as {printed:?}, which does not parse: {e}"),
    }
    let def = definition();
    let inst = instance();
    let _ = filter.matches(&inst);
    let _ = filter.validate(&def);
    let mut resolved = filter;
    resolved.resolve(&def);
    let _ = resolved.matches(&inst);
    if let Ok(again) = Filter::parse(&resolved.to_string()) {
        let mut again = again;
        again.resolve(&def);
        assert_eq!(
            again.matches(&inst),
            resolved.matches(&inst),
            "{resolved} after printing"
        );
    } else {
        panic!("resolved {resolved} does not parse back");
    }
}

fn definition() -> ActivityDefinition {
    let json = r#"{"name":"Order","items":[
        {"name":"Region","type":"text","max_len":16},
        {"name":"Amount","type":"int"},
        {"name":"Price","type":"float"},
        {"name":"Urgent","type":"bool"},
        {"name":"Received","type":"timestamp"},
        {"name":"Shipped","type":"timestamp"}]}"#;
    match serde_json::from_str(json) {
        Ok(def) => def,
        Err(e) => panic!("the fuzz definition: {e}"),
    }
}

fn instance() -> ActivityInstance {
    ActivityInstance {
        activity: "Order".into(),
        id: "O-1".into(),
        status: Status::Active,
        begin: Some(Timestamp::from_micros(1_000)),
        end: None,
        last_modified: Some(Timestamp::from_micros(2_000)),
        items: vec![
            ("Region".into(), Value::from("EU")),
            ("Amount".into(), Value::Int(-3)),
            ("Price".into(), Value::Float(2.5)),
            ("Urgent".into(), Value::Bool(true)),
            (
                "Received".into(),
                Value::Timestamp(Timestamp::from_micros(1_500)),
            ),
        ],
        continuations: vec![],
        references: vec![],
        relationships: vec![],
    }
}
