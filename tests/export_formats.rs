//! `bamdb export --format csv|ocel|xes` through the real binary: each
//! file read back equals `bamdb search --format json` of the same
//! selection (same ids, same values); OCEL's objects, parts, events and
//! relationships; XES's traces and events; the selection flags; exit
//! codes; and a failed export leaves no file behind.

mod export_common;

use std::collections::{HashMap, HashSet};

use export_common::{code, columns, export, s, search_json, stderr, stdout, store, ITEMS};
use serde_json::Value as J;

/// Parses RFC 4180 text (quoted fields, doubled quotes, line breaks in
/// quotes); a field is `None` when empty and unquoted.
fn parse_csv(text: &str) -> Vec<Vec<Option<String>>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let (field, quoted) = if chars.peek() == Some(&'"') {
            chars.next();
            let mut f = String::new();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        f.push('"');
                    } else {
                        break;
                    }
                } else {
                    f.push(c);
                }
            }
            (f, true)
        } else {
            let mut f = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' || c == '\n' {
                    break;
                }
                f.push(c);
                chars.next();
            }
            (f, false)
        };
        record.push((quoted || !field.is_empty()).then_some(field));
        match chars.next() {
            Some(',') => {}
            Some('\n') => records.push(std::mem::take(&mut record)),
            None => break,
            Some(c) => panic!("unexpected {c:?} after a field"),
        }
    }
    records
}

/// The ids of search rows, in order.
fn id_list(rows: &[J]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A search row's value as the CSV field text.
fn plain(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[test]
fn csv_equals_search() {
    let (tmp, dir) = store();
    for extra in [
        &[][..],
        &["--status", "completed"],
        &["--where", "Paid = true"],
        &["--order-by", "Amount desc"],
    ] {
        let out = tmp.path().join("orders.csv");
        let o = export(&dir, "csv", s(&out), extra);
        assert_eq!(code(&o), 0, "{extra:?}: {}", stderr(&o));
        let text = std::fs::read_to_string(&out).expect("the file");
        let mut records = parse_csv(&text);
        let header: Vec<_> = records[0].iter().map(|f| f.clone().unwrap()).collect();
        assert_eq!(header, columns());
        let mut rows = search_json(&dir, extra);
        assert!(!rows.is_empty());
        assert_eq!(records.len() - 1, rows.len(), "{extra:?}");
        if extra.first() == Some(&"--order-by") {
            // Sorted as the search sorts.
            let ids: Vec<String> = records[1..].iter().map(|r| r[0].clone().unwrap()).collect();
            assert_eq!(ids, id_list(&rows));
        } else {
            // Storage order: the same rows, maybe in another order.
            records[1..].sort_by(|a, b| a[0].cmp(&b[0]));
            rows.sort_by_key(|r| r["id"].as_str().unwrap().to_owned());
        }
        for (record, row) in records[1..].iter().zip(&rows) {
            for (field, column) in record.iter().zip(columns()) {
                assert_eq!(*field, plain(&row[column]), "{extra:?} column {column}");
            }
        }
    }
    // To standard output, the same text.
    let o = export(&dir, "csv", "-", &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let file = std::fs::read_to_string(tmp.path().join("orders.csv")).unwrap();
    assert_eq!(parse_csv(&stdout(&o)).len(), 3);
    assert!(file.starts_with("id,status,begin,end,last_modified,Customer"));
    assert!(stdout(&o).contains("\"Contoso, \"\"Ltd\"\" <&>\""));
    assert!(stdout(&o).contains(",\"\","), "the empty text is \"\"");
}

#[test]
fn ocel_objects_events_and_relationships() {
    let (tmp, dir) = store();
    let out = tmp.path().join("orders.ocel.json");
    let o = export(&dir, "ocel", s(&out), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let log: J = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).expect("JSON");
    for key in ["objectTypes", "eventTypes", "objects", "events"] {
        assert!(log[key].is_array(), "{key}");
    }
    let objects = log["objects"].as_array().unwrap();
    let by_id: HashMap<&str, &J> = objects
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o))
        .collect();
    assert_eq!(by_id.len(), objects.len(), "object ids are unique");

    // The instances: one object each, attributes = the search's items.
    let rows = search_json(&dir, &[]);
    for row in &rows {
        let id = row["id"].as_str().unwrap();
        let object = by_id[id];
        assert_eq!(object["type"], "PurchaseOrder");
        let attrs: HashMap<&str, &J> = object["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].as_str().unwrap(), &a["value"]))
            .collect();
        for item in ITEMS {
            match &row[item] {
                J::Null => assert!(!attrs.contains_key(item), "{id} {item} unset"),
                v => assert_eq!(attrs[item], v, "{id} {item}"),
            }
        }
    }
    // The continuation part and the relationships.
    let ship = by_id["SHIP-1"];
    assert_eq!(ship["type"], "PurchaseOrder continuation");
    let rel = |o: &J| -> HashSet<(String, String)> {
        o["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["objectId"].as_str().unwrap().to_owned(),
                    r["qualifier"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert!(rel(ship).contains(&("PO-1".into(), "continues".into())));
    let po1 = rel(by_id["PO-1"]);
    assert!(po1.contains(&("SHIP-1".into(), "continuation".into())));
    assert!(po1.contains(&("PO-2".into(), "related".into())));
    assert!(po1.contains(&("Shipment:SH-9".into(), "related".into())));
    assert_eq!(by_id["Shipment:SH-9"]["type"], "Shipment");

    // Events: the milestones, unique ids, every relationship resolves.
    let events = log["events"].as_array().unwrap();
    let ids: HashSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), events.len());
    let kinds = |part: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| rel(e).contains(&(part.to_owned(), "part".to_owned())))
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        kinds("PO-1"),
        [
            "PurchaseOrder begin",
            "PurchaseOrder update",
            "PurchaseOrder end"
        ]
    );
    assert_eq!(
        kinds("SHIP-1"),
        ["PurchaseOrder update", "PurchaseOrder end"]
    );
    assert_eq!(
        kinds("PO-2"),
        ["PurchaseOrder begin", "PurchaseOrder update"]
    );
    for thing in objects.iter().chain(events) {
        for (target, _) in rel(thing) {
            assert!(by_id.contains_key(target.as_str()), "{target} resolves");
        }
    }
    let types: HashSet<&str> = log["objectTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for o in objects {
        assert!(types.contains(o["type"].as_str().unwrap()));
    }
    let end_time = events
        .iter()
        .find(|e| {
            e["type"] == "PurchaseOrder end" && rel(e).contains(&("SHIP-1".into(), "part".into()))
        })
        .map(|e| e["time"].clone());
    assert_eq!(
        end_time,
        Some(rows[0]["end"].clone()),
        "the continuation's end ends PO-1"
    );
}

/// Unescapes the XML character entities the writer uses.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#9;", "\t")
        .replace("&#10;", "\n")
        .replace("&#13;", "\r")
        .replace("&amp;", "&")
}

/// `<TAG key="K" value="V"/>` as (tag, key, value).
fn attribute(line: &str) -> Option<(String, String, String)> {
    let line = line.trim().strip_prefix('<')?.strip_suffix("/>")?;
    let (tag, rest) = line.split_once(" key=\"")?;
    let (key, rest) = rest.split_once("\" value=\"")?;
    let value = rest.strip_suffix('"')?;
    Some((tag.to_owned(), unescape(key), unescape(value)))
}

/// A trace read back: its attributes (key -> (element, value)) and its
/// events' attributes (key -> value).
type Trace = (
    HashMap<String, (String, String)>,
    Vec<HashMap<String, String>>,
);

#[test]
fn xes_traces_equal_search() {
    let (tmp, dir) = store();
    let out = tmp.path().join("orders.xes");
    let o = export(&dir, "xes", s(&out), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<log "));
    assert!(text.trim_end().ends_with("</log>"));
    assert_eq!(
        text.matches("<trace>").count(),
        text.matches("</trace>").count()
    );
    assert_eq!(
        text.matches("<event>").count(),
        text.matches("</event>").count()
    );

    // Each trace: its attributes (before the first event) and its events.
    let mut traces: Vec<Trace> = Vec::new();
    let mut in_event = false;
    for line in text.lines() {
        match line.trim() {
            "<trace>" => traces.push((HashMap::new(), Vec::new())),
            "<event>" => {
                in_event = true;
                traces.last_mut().unwrap().1.push(HashMap::new());
            }
            "</event>" => in_event = false,
            _ => {
                let (Some((tag, key, value)), Some(trace)) = (attribute(line), traces.last_mut())
                else {
                    continue;
                };
                if in_event {
                    trace.1.last_mut().unwrap().insert(key, value);
                } else {
                    trace.0.insert(key, (tag, value));
                }
            }
        }
    }
    let mut rows = search_json(&dir, &[]);
    assert_eq!(traces.len(), rows.len());
    traces.sort_by(|a, b| a.0["concept:name"].cmp(&b.0["concept:name"]));
    rows.sort_by_key(|r| r["id"].as_str().unwrap().to_owned());
    for ((attrs, events), row) in traces.iter().zip(&rows) {
        assert_eq!(attrs["concept:name"].1, row["id"].as_str().unwrap());
        assert_eq!(attrs["bamdb:status"].1, row["status"].as_str().unwrap());
        for item in ITEMS {
            match &row[item] {
                J::Null => assert!(!attrs.contains_key(item)),
                J::String(v) => assert_eq!(&attrs[item].1, v, "{item}"),
                v => assert_eq!(attrs[item].1, v.to_string(), "{item}"),
            }
        }
        let times: Vec<&str> = events
            .iter()
            .map(|e| e["time:timestamp"].as_str())
            .collect();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted, "events in time order");
        let first = &events[0];
        assert_eq!(first["concept:name"], "PurchaseOrder");
        assert_eq!(first["lifecycle:transition"], "start");
        assert_eq!(first["time:timestamp"], row["begin"].as_str().unwrap());
    }
    let po1 = &traces[0];
    assert_eq!(po1.0["Amount"].0, "float");
    assert_eq!(po1.0["Qty"].0, "int");
    assert_eq!(po1.0["Paid"].0, "boolean");
    assert_eq!(po1.0["Shipped"].0, "date");
    let last = po1.1.last().unwrap();
    assert_eq!(last["concept:name"], "PurchaseOrder continuation");
    assert_eq!(last["lifecycle:transition"], "complete");
    assert_eq!(last["bamdb:part"], "SHIP-1");
}

#[test]
fn errors_are_exit_2_and_leave_no_file() {
    let (tmp, dir) = store();
    let out = tmp.path().join("keep.csv");
    std::fs::write(&out, "old").unwrap();
    for (format, args, says) in [
        ("csv", &["--where", "Nope = 1"][..], "Nope"),
        ("csv", &["--where", "Amount >"][..], "--where"),
        ("csv", &["--status", "pending"][..], "pending"),
        ("ocel", &["--since", "yesterday"][..], "--since"),
    ] {
        let o = export(&dir, format, s(&out), args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    let o = export_common::bamdb(
        &[
            "export",
            "--store",
            s(&dir),
            "Invoice",
            "--format",
            "csv",
            "-o",
            s(&out),
        ],
        "",
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("Invoice"), "{}", stderr(&o));
    let o = export(&tmp.path().join("nothing"), "csv", s(&out), &[]);
    assert_eq!(code(&o), 2);
    let o = export(&dir, "csv", s(&tmp.path().join("no/such/dir/x.csv")), &[]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("x.csv"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "old",
        "left as it was"
    );
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "no temporary file left: {names:?}"
    );
    // A binary format to standard output, or one this build lacks.
    for format in ["parquet", "arrow"] {
        let o = export(&dir, format, "-", &[]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
    }
}

#[test]
fn the_file_replaces_an_old_one_whole() {
    let (tmp, dir) = store();
    let out = tmp.path().join("orders.csv");
    std::fs::write(&out, "x".repeat(10_000)).unwrap();
    let o = export(&dir, "csv", s(&out), &["--where", "id = PO-2"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().nth(1).unwrap().starts_with("PO-2,active,"));
}
