//! `bamdb search` order, pages and formats through the real binary:
//! `--order-by` keys and directions, `--limit`/`--offset`, walking every
//! page with the cursor printed on standard error, `--count`, CSV and TSV
//! that read back to the JSON rows, `--no-header`, and the errors of a bad
//! order or cursor.

mod cli_common;

use std::path::Path;
use std::process::Output;

use cli_common::{bamdb, code, deployed_store, no_panic, s, stderr, stdout};
use serde_json::Value as J;

/// 40 orders: Amount = (i * 7) % 13 (many ties), Customer with a comma
/// and a quote in some, Region EU/US; every third one active.
fn events() -> String {
    let mut out = String::new();
    for i in 0..40 {
        let id = format!("PO-{i:03}");
        let t = format!("2026-11-01T{:02}:{:02}:00Z", i / 60, i % 60);
        let customer = match i % 4 {
            0 => "Contoso, Ltd".to_owned(),
            1 => "O\"Brien\ttabs".to_owned(),
            _ => format!("Fabrikam {i}"),
        };
        let region = if i % 2 == 0 { "EU" } else { "US" };
        let amount = (i * 7) % 13;
        out.push_str(&format!(
            "{{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"{t}\"}}\n"
        ));
        out.push_str(&format!(
            "{{\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"{t}\",\
             \"data\":{{\"Customer\":{},\"Region\":\"{region}\",\"Amount\":{amount}}}}}\n",
            serde_json::to_string(&customer).unwrap()
        ));
        if i % 3 != 0 {
            out.push_str(&format!(
                "{{\"op\":\"end\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"{t}\"}}\n"
            ));
        }
    }
    out
}

fn store() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, dir) = deployed_store();
    let o = bamdb(&["ingest", "--store", s(&dir)], &events());
    assert_eq!(code(&o), 0, "ingest: {}", stderr(&o));
    (tmp, dir)
}

fn search(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["search", "--store", s(dir), "PurchaseOrder"];
    args.extend_from_slice(extra);
    let o = bamdb(&args, "");
    no_panic(&o);
    o
}

fn rows(o: &Output) -> Vec<J> {
    assert_eq!(code(o), 0, "{}", stderr(o));
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn ids(rows: &[J]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The cursor printed on standard error, if any.
fn cursor(o: &Output) -> Option<String> {
    stderr(o)
        .lines()
        .find_map(|l| l.strip_prefix("more rows: continue with --after "))
        .map(|c| c.trim().to_owned())
}

#[test]
fn order_by_limit_offset_and_every_page_by_cursor() {
    let (_tmp, dir) = store();
    let all = rows(&search(
        &dir,
        &["--order-by", "Amount desc", "--columns", "id,Amount"],
    ));
    assert_eq!(all.len(), 40);
    // Descending by Amount, ties by id ascending.
    let mut want: Vec<(i64, String)> = (0..40)
        .map(|i| (-((i * 7) % 13), format!("PO-{i:03}")))
        .collect();
    want.sort();
    let want: Vec<String> = want.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids(&all), want);

    let window = search(
        &dir,
        &["--order-by", "Amount desc", "--offset", "5", "--limit", "7"],
    );
    assert_eq!(ids(&rows(&window)), want[5..12]);
    assert!(cursor(&window).is_some(), "rows are left: a cursor");

    // Pages of 6 by cursor: every row once, in order.
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..20 {
        let mut args = vec!["--order-by", "Amount desc", "--limit", "6"];
        if let Some(c) = &after {
            args.extend(["--after", c.as_str()]);
        }
        let o = search(&dir, &args);
        walked.extend(ids(&rows(&o)));
        after = cursor(&o);
        if after.is_none() {
            break;
        }
    }
    assert_eq!(walked, want);

    // Two keys: Region ascending, then Amount ascending, then id.
    let two = rows(&search(
        &dir,
        &["--order-by", "Region", "--order-by", "Amount asc"],
    ));
    let keys: Vec<(String, i64)> = two
        .iter()
        .map(|r| {
            (
                r["Region"].as_str().unwrap().to_owned(),
                r["Amount"].as_f64().unwrap() as i64,
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn count_csv_tsv_and_json_agree_with_the_rows() {
    let (_tmp, dir) = store();
    let o = search(
        &dir,
        &["--where", "Region = EU or Amount in (3, 5)", "--count"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let want = rows(&search(
        &dir,
        &["--where", "Region = EU or Amount in (3, 5)"],
    ));
    assert_eq!(stdout(&o).trim(), want.len().to_string());

    let cols = "id,Customer,Amount,end";
    let json = rows(&search(&dir, &["--columns", cols]));
    let array: Vec<J> = serde_json::from_str(&stdout(&search(
        &dir,
        &["--columns", cols, "--format", "json"],
    )))
    .expect("one JSON array");
    assert_eq!(array, json);

    let csv = stdout(&search(&dir, &["--columns", cols, "--format", "csv"]));
    let records = parse_csv(&csv);
    assert_eq!(records[0], ["id", "Customer", "Amount", "end"]);
    assert_eq!(records.len(), json.len() + 1);
    for (record, row) in records[1..].iter().zip(&json) {
        assert_eq!(record[0], row["id"].as_str().unwrap());
        assert_eq!(record[1], row["Customer"].as_str().unwrap());
        assert_eq!(record[2], row["Amount"].to_string());
        assert_eq!(record[3], row["end"].as_str().unwrap_or(""));
    }

    let tsv = stdout(&search(
        &dir,
        &["--columns", cols, "--format", "tsv", "--no-header"],
    ));
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(lines.len(), json.len(), "one line per row, no header");
    for (line, row) in lines.iter().zip(&json) {
        let fields: Vec<String> = line.split('\t').map(unescape_tsv).collect();
        assert_eq!(fields[0], row["id"].as_str().unwrap());
        assert_eq!(fields[1], row["Customer"].as_str().unwrap());
    }
}

#[test]
fn a_bad_order_or_cursor_is_a_usage_error() {
    let (_tmp, dir) = store();
    for (args, says) in [
        (vec!["--order-by", "Amount sideways"], "asc or desc"),
        (vec!["--order-by", "Nope"], "Nope"),
        (vec!["--after", "c1zz"], "cursor"),
        (vec!["--count", "--limit", "3"], "--count"),
    ] {
        let o = search(&dir, &args);
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    // A cursor of one order used with another.
    let o = search(&dir, &["--order-by", "Amount desc", "--limit", "2"]);
    let c = cursor(&o).expect("a cursor");
    let o = search(&dir, &["--order-by", "Amount", "--after", &c]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("Amount desc"), "{}", stderr(&o));
}

/// RFC 4180 records (quoted fields may hold commas, quotes, line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

fn unescape_tsv(field: &str) -> String {
    let mut out = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}
