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
        Delimited::Csv.record(["id", "a,b", ""]),
        "id,\"a,b\",".to_owned()
    );
}

#[test]
fn tsv_escapes_tabs_breaks_and_backslashes() {
    assert_eq!(tsv_field("plain text"), "plain text");
    assert_eq!(tsv_field("a\tb\nc\\d\re"), "a\\tb\\nc\\\\d\\re");
    assert_eq!(Delimited::Tsv.record(["x", "y z", ""]), "x\ty z\t");
}

#[test]
fn values_are_plain() {
    assert_eq!(plain(None), "");
    assert_eq!(plain(Some(&Value::from("Ärzte \"x\""))), "Ärzte \"x\"");
    assert_eq!(plain(Some(&Value::Int(-5))), "-5");
    assert_eq!(plain(Some(&Value::Float(2.5))), "2.5");
    assert_eq!(plain(Some(&Value::Bool(true))), "true");
}
