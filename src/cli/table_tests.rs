use super::*;

#[test]
fn control_characters_and_escapes_are_shown_not_sent() {
    assert_eq!(escape("PO-1"), "PO-1");
    assert_eq!(escape("a\u{1b}[31mred"), "a\\u{1b}[31mred");
    assert_eq!(escape("two\nlines\r\t"), "two\\nlines\\r\\t");
    assert_eq!(escape("\u{9b}2J"), "\\u{9b}2J", "the one-byte CSI");
    assert_eq!(
        escape("x\u{202e}y"),
        "x\\u{202e}y",
        "right-to-left override"
    );
    assert_eq!(escape("Zürich 東京"), "Zürich 東京");
}

#[test]
fn table_aligns_escaped_cells() {
    let t = table(
        &["id".into(), "n".into()],
        &[
            vec![("a\nb".into(), false), ("5".into(), true)],
            vec![("c".into(), false), ("10".into(), true)],
        ],
    );
    assert_eq!(t, "id    n\n----  --\na\\nb   5\nc     10\n");
}
