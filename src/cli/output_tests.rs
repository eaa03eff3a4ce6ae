//! The delimited formats' quoting and escaping.

use super::*;

#[test]
fn csv_quotes_only_what_needs_it() {
    assert_eq!(csv_field("EU"), "EU");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("O\"Brien"), "\"O\"\"Brien\"");
    assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_field(" padded"), "\" padded\"");
    assert_eq!(csv_field(""), "");
    assert_eq!(
        Delimited::Csv.record([Some("id"), Some("a,b"), Some(""), None]),
        "id,\"a,b\",\"\",".to_owned()
    );
    // A lone unset value is an empty field, the empty text is "".
    assert_eq!(Delimited::Csv.record([None]), "");
    assert_eq!(Delimited::Csv.record([Some("")]), "\"\"");
}

#[test]
fn tsv_escapes_tabs_breaks_and_backslashes() {
    assert_eq!(tsv_field("plain text"), "plain text");
    assert_eq!(tsv_field("a\tb\nc\\d\re"), "a\\tb\\nc\\\\d\\re");
    assert_eq!(
        Delimited::Tsv.record([Some("x"), Some("y z"), Some(""), None]),
        "x\ty z\t\t"
    );
}

#[test]
fn values_are_plain() {
    assert_eq!(plain(None), None);
    let text = |v: Value| plain(Some(&v)).map(|c| c.into_owned());
    assert_eq!(
        text(Value::from("Ärzte \"x\"")).as_deref(),
        Some("Ärzte \"x\"")
    );
    assert_eq!(text(Value::Int(-5)).as_deref(), Some("-5"));
    assert_eq!(text(Value::Float(2.5)).as_deref(), Some("2.5"));
    assert_eq!(text(Value::Bool(true)).as_deref(), Some("true"));
}
