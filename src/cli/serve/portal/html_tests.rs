use super::*;

#[test]
fn escaping_leaves_no_markup_and_no_control_character() {
    assert_eq!(esc("PO-1 Zürich 東京"), "PO-1 Zürich 東京");
    assert_eq!(
        esc("<script>alert(1)</script>"),
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    );
    assert_eq!(
        esc("\"'><img src=x onerror=alert(1)>"),
        "&quot;&#39;&gt;&lt;img src&#61;x onerror&#61;alert(1)&gt;"
    );
    assert_eq!(esc("a&b`c"), "a&amp;b&#96;c");
    assert_eq!(esc("\u{1b}[31mred"), "\\u{1b}[31mred");
    assert_eq!(esc("nul\0"), "nul\\u{0}");
    assert_eq!(esc("two\nlines\t"), "two\\nlines\\t");
    assert_eq!(esc("\u{9b}2J"), "\\u{9b}2J", "the one-byte CSI");
    assert_eq!(esc("x\u{202e}y"), "x\\u{202e}y", "right-to-left override");
}

#[test]
fn encoding_keeps_a_path_segment_one_segment() {
    assert_eq!(encode("PO-1_a.b~"), "PO-1_a.b~");
    assert_eq!(encode("a/b?c#d&e+f%g h"), "a%2Fb%3Fc%23d%26e%2Bf%25g%20h");
    assert_eq!(encode("ü"), "%C3%BC");
    for text in [
        "a/b?c#d&e+f%g h",
        "<script>",
        "東京",
        "\u{1b}[31m",
        "\0",
        "",
    ] {
        assert_eq!(decode(&encode(text)).as_deref(), Ok(text));
    }
    assert_eq!(
        decode("a+b").as_deref(),
        Ok("a+b"),
        "+ is no space in a path"
    );
    assert!(decode("%zz").is_err());
    assert!(decode("abc%4").is_err());
    assert!(decode("%ff%fe").is_err(), "not UTF-8");
}

#[test]
fn links_are_encoded_then_escaped() {
    assert_eq!(
        instance_href("PurchaseOrder", "PO/1?x"),
        "/activities/PurchaseOrder/instances/PO%2F1%3Fx"
    );
    assert_eq!(
        query_string(&[("where", "Amount > 5"), ("status", "all")]),
        "?where=Amount%20%3E%205&status=all"
    );
    assert_eq!(query_string::<&str, &str>(&[]), "");
    assert_eq!(
        link("/a?x=1&y=2", "<b>"),
        "<a href=\"/a?x&#61;1&amp;y&#61;2\">&lt;b&gt;</a>"
    );
}

#[test]
fn layout_has_viewport_style_nav_and_escaped_title() {
    let page = layout("<script>", "<p>body</p>");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("name=\"viewport\""));
    assert_eq!(page.matches("<style>").count(), 1);
    assert!(page.contains("<a href=\"/\">Home</a><a href=\"/quarantine\">Quarantine</a>"));
    assert!(page.contains("<h1>&lt;script&gt;</h1>"));
    assert!(!page.contains("<script"));
}

#[test]
fn values_and_cells_read_as_people_read_them() {
    let t = Timestamp::parse_rfc3339("2026-11-01T10:00:00Z").unwrap_or(Timestamp::EPOCH);
    assert_eq!(time_text(t), "2026-11-01T10:00:00Z");
    assert_eq!(
        time_text(Timestamp::from_micros(t.as_micros() + 5)),
        "2026-11-01T10:00:00.000005Z"
    );
    assert_eq!(value_text(&Value::Text("a \"q\"".into())), "a \"q\"");
    assert_eq!(value_text(&Value::Float(125.5)), "125.5");
    assert_eq!(value_text(&Value::Timestamp(t)), "2026-11-01T10:00:00Z");
    assert_eq!(cell_text(&Cell::Float(2.0 / 3.0)), "0.667");
    assert_eq!(cell_text(&Cell::Float(1234.5678)), "1234.57");
    assert_eq!(cell_text(&Cell::Duration(90_061_000_000)), "1d 01:01:01");
    assert_eq!(cell_text(&Cell::Null), "(empty)");
    assert_eq!(count_text(0), "0");
    assert_eq!(count_text(1_000), "1,000");
    assert_eq!(count_text(1_234_567), "1,234,567");
}
