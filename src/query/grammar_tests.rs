//! Tests of the condition grammar's operators beyond the single
//! comparison: `or`, `not`, parentheses, `in`, `between`, the text
//! operators and their case-insensitive forms, `is null` against
//! `is empty`, field operands, quoting and relative times; each on the
//! types it applies to, with unset items.

use super::field::ValueRef;
use super::test_util::{def, inst, ts};
use super::{Filter, Operand};
use crate::model::{ActivityInstance, Timestamp, Value};

fn f(expr: &str) -> Filter {
    Filter::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// Parsed and resolved against the fixture definition, as a store
/// query runs it.
fn resolved(expr: &str) -> Filter {
    let mut filter = f(expr);
    filter.resolve(&def());
    filter
}

fn check(cases: &[(&str, bool)], i: &ActivityInstance) {
    for (expr, want) in cases {
        let filter = resolved(expr);
        assert_eq!(filter.matches(i), *want, "{expr} on {:?}", i.items);
        // The canonical form reads back to the same filter.
        let again = resolved(&filter.to_string());
        assert_eq!(again, filter, "{expr} -> {filter}");
        filter
            .validate(&def())
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
    }
}

#[test]
fn or_and_not_and_parentheses() {
    let eu = inst(
        "PO-1",
        &[("Region", Value::from("EU")), ("Amount", Value::Int(50))],
    );
    check(
        &[
            ("Region = EU or Region = US", true),
            ("Region = US or Region = EU", true),
            ("Region = US or Amount > 100", false),
            ("Region = EU and Amount > 100 or Amount = 50", true),
            ("Region = EU and (Amount > 100 or Amount = 50)", true),
            ("Region = US and (Amount > 100 or Amount = 50)", false),
            ("(Region = US or Region = EU) and Amount < 100", true),
            ("not Region = EU", false),
            ("not (Region = US or Amount > 100)", true),
            ("not not Region = EU", true),
            ("Region = US OR Region = EU", true),
            ("Region = EU AnD Amount = 50", true),
        ],
        &eu,
    );
    // `not` is two-valued: it selects the instances without a Region,
    // where `!=` does not.
    let none = inst("PO-2", &[]);
    check(
        &[
            ("not Region = EU", true),
            ("Region != EU", false),
            ("Region not in (EU)", false),
            ("not Region in (EU)", true),
        ],
        &none,
    );
}

#[test]
fn and_binds_tighter_than_or() {
    let filter = f("A = 1 or B = 2 and C = 3");
    assert_eq!(filter.to_string(), "A = 1 or B = 2 and C = 3");
    let i = inst("x", &[("A", Value::Int(1)), ("C", Value::Int(9))]);
    // A = 1 or (B = 2 and C = 3): true by A alone.
    assert!(filter.matches(&i));
    let grouped = f("(A = 1 or B = 2) and C = 3");
    assert!(!grouped.matches(&i));
    assert_eq!(grouped.to_string(), "(A = 1 or B = 2) and C = 3");
}

#[test]
fn in_and_not_in_on_every_type() {
    let i = inst(
        "PO-1",
        &[
            ("Region", Value::from("EU")),
            ("Amount", Value::Int(-5)),
            ("Price", Value::Float(2.5)),
            ("Urgent", Value::Bool(true)),
            ("Received", Value::Timestamp(ts("2026-11-02T00:00:00Z"))),
        ],
    );
    check(
        &[
            ("Region in (EU, US)", true),
            ("Region in ('US', \"APAC\")", false),
            ("Region not in (US, APAC)", true),
            ("Region not in (EU)", false),
            ("Region in (eu)", false),
            ("Amount in (-5, 7)", true),
            ("Amount in (-5.0)", true),
            ("Amount not in (5, -4)", true),
            ("Price in (2.5)", true),
            ("Price in (2, 3)", false),
            ("Urgent in (true)", true),
            ("Urgent not in (true)", false),
            ("Received in (2026-11-02T01:00:00+01:00)", true),
            ("status in (active, completed)", true),
            ("status not in (Completed)", true),
            ("id in (PO-1, PO-2)", true),
            ("Customer in (x)", false),
            ("Customer not in (x)", false),
        ],
        &i,
    );
}

#[test]
fn between_is_inclusive_on_numbers_and_times() {
    let i = inst(
        "PO-1",
        &[
            ("Amount", Value::Int(100)),
            ("Price", Value::Float(-0.5)),
            ("Received", Value::Timestamp(ts("2026-11-02T00:00:00Z"))),
        ],
    );
    check(
        &[
            ("Amount between 100 and 500", true),
            ("Amount between 0 and 100", true),
            ("Amount between 101 and 500", false),
            ("Amount between 99.5 and 100.5", true),
            ("Amount not between 101 and 500", true),
            ("Amount not between 100 and 100", false),
            ("Price between -1 and 0", true),
            ("Price not between -1 and 0", false),
            (
                "Received between 2026-11-01T00:00:00Z and 2026-11-02T00:00:00Z",
                true,
            ),
            (
                "Received between 2026-11-02T00:00:00.000001Z and 2026-12-01T00:00:00Z",
                false,
            ),
            ("Region between A and Z", false),
            ("Region not between A and Z", false),
        ],
        &i,
    );
}

#[test]
fn text_operators_and_their_case_insensitive_forms() {
    let i = inst(
        "PO-1",
        &[
            ("Customer", Value::from("Contoso Ltd Ärzte")),
            ("Region", Value::from("")),
        ],
    );
    check(
        &[
            ("Customer contains Ltd", true),
            ("Customer contains ltd", false),
            ("Customer icontains ltd", true),
            ("Customer icontains 'ÄRZTE'", true),
            ("Customer ends with Ärzte", true),
            ("Customer ends with ärzte", false),
            ("Customer iends with ÄRZTE", true),
            ("Customer starts with Con", true),
            ("Customer istarts with CONTOSO", true),
            ("Customer ieq 'contoso ltd ärzte'", true),
            ("Customer ieq contoso", false),
            ("Customer contains ''", true),
            ("Customer contains 'o L'", true),
            ("Region contains x", false),
            ("Region icontains ''", true),
        ],
        &i,
    );
}

#[test]
fn is_null_differs_from_is_empty_only_for_the_empty_text() {
    let blank = inst(
        "PO-1",
        &[("Region", Value::from("")), ("Amount", Value::Int(0))],
    );
    check(
        &[
            ("Region is empty", true),
            ("Region is null", false),
            ("Region is not null", true),
            ("Region is not empty", false),
            ("Region = ''", true),
            ("Amount is empty", false),
            ("Amount is null", false),
            ("Customer is null", true),
            ("Customer is empty", true),
            ("Customer is not null", false),
            ("end is null", true),
            ("begin is not null", true),
        ],
        &blank,
    );
}

#[test]
fn a_bare_word_naming_a_field_is_that_field() {
    let i = inst(
        "PO-1",
        &[
            ("Received", Value::Timestamp(ts("2026-11-02T00:00:00Z"))),
            ("Shipped", Value::Timestamp(ts("2026-11-03T00:00:00Z"))),
            ("Amount", Value::Int(3)),
            ("Price", Value::Float(2.5)),
            ("Region", Value::from("Customer")),
            ("Customer", Value::from("EU")),
        ],
    );
    check(
        &[
            ("Shipped > Received", true),
            ("Shipped < Received", false),
            ("Shipped > `Received`", true),
            ("Received > begin", true),
            ("Amount > Price", true),
            ("Price >= Amount", false),
            ("Amount != Price", true),
            // Beside a text field a word is text; backticks make it the
            // field.
            ("Region = 'Customer'", true),
            ("Region = Customer", true),
            ("Region = `Customer`", false),
            ("Customer = `Customer`", true),
            // A field that is unset on either side matches nothing.
            ("Shipped > end", false),
            ("end != Shipped", false),
        ],
        &i,
    );
    let filter = resolved("Shipped > Received");
    assert_eq!(
        filter.condition().map(|c| c.operand().clone()),
        Some(Operand::Field(super::Field::Item("Received".into())))
    );
    // Unresolved, the word is text (here: not a time, so no match).
    assert!(!f("Shipped > Received").matches(&i));
    // Fields that do not compare are refused by validation.
    let err = resolved("Amount > `Region`").validate(&def()).unwrap_err();
    assert!(err.to_string().contains("do not compare"), "{err}");
    let err = resolved("Amount = Region").validate(&def()).unwrap_err();
    assert!(
        err.to_string()
            .contains("Amount is int and Region is text: they do not compare"),
        "{err}"
    );
    let err = resolved("Urgent < `Urgent`").validate(&def()).unwrap_err();
    assert!(err.to_string().contains("only supports"), "{err}");
    let err = resolved("Amount > `Nope`").validate(&def()).unwrap_err();
    assert!(
        err.to_string().contains("unknown filter operand \"Nope\""),
        "{err}"
    );
}

#[test]
fn quotes_single_double_and_doubled() {
    let i = inst(
        "PO-1",
        &[("Customer", Value::from("O'Brien \"Jr\" and or"))],
    );
    check(
        &[
            ("Customer = 'O''Brien \"Jr\" and or'", true),
            ("Customer = \"O'Brien \"\"Jr\"\" and or\"", true),
            ("Customer starts with 'O''B'", true),
            ("Customer in ('x', 'O''Brien \"Jr\" and or')", true),
        ],
        &i,
    );
    // Today's bug: 'EU' was the text with its quotes.
    let eu = inst("PO-2", &[("Region", Value::from("EU"))]);
    check(&[("Region = 'EU'", true), ("Region = \"EU\"", true)], &eu);
}

#[test]
fn relative_times_count_from_now() {
    let now = Timestamp::now().as_micros();
    let hour = 3_600_000_000;
    let at = |micros: i64| {
        let mut i = inst("PO-1", &[]);
        i.last_modified = Some(Timestamp::from_micros(micros));
        i
    };
    assert!(f("last_modified >= now-2h").matches(&at(now - hour)));
    assert!(!f("last_modified >= now-2h").matches(&at(now - 3 * hour)));
    assert!(f("last_modified < now+1d").matches(&at(now + hour)));
    assert!(f("last_modified between now-1w and now").matches(&at(now - 24 * hour)));
    assert!(f("last_modified > NOW-30m").matches(&at(now)));
    assert!(f("last_modified > now-10s").has_relative_time());
    assert!(!f("last_modified > 2026-11-01T00:00:00Z").has_relative_time());
    for bad in ["now-7", "now-7y", "now7d", "now--7d", "now-99999999999999w"] {
        let err = resolved(&format!("Received > {bad}"))
            .validate(&def())
            .unwrap_err();
        assert!(err.to_string().contains("is not a time"), "{bad}: {err}");
    }
}

#[test]
fn ranges_rule_out_only_what_cannot_match() {
    // Every range [lo, hi] of small ints against a set of expressions:
    // `may_match` must be true whenever some value of the range passes,
    // and (for these operators) false whenever none does.
    use super::expr::Knowledge;
    for expr in [
        "X in (2, 7)",
        "X between 3 and 5",
        "X = 4 or X = 8",
        "X > 6 and X < 8",
        "X not in (4)",
        "not X = 4",
        "X not between 3 and 5",
    ] {
        let filter = f(expr);
        let exact = !expr.contains("not");
        for lo in 0..10i64 {
            for hi in lo..10 {
                let some_pass = (lo..=hi).any(|v| filter.matches_value(Some(ValueRef::Int(v))));
                let known =
                    |_: &super::Field| Knowledge::Range(ValueRef::Int(lo), ValueRef::Int(hi));
                let may = filter.may_match(&known);
                assert!(may || !some_pass, "{expr} over {lo}..={hi}");
                if exact {
                    assert_eq!(may, some_pass, "{expr} over {lo}..={hi}");
                }
            }
        }
        // No row sets the field: only conditions true on unset pass.
        let unset = |_: &super::Field| Knowledge::Unset;
        assert_eq!(
            filter.may_match(&unset),
            filter.matches_value(None),
            "{expr}"
        );
    }
}

#[test]
fn a_backticked_field_may_hold_punctuation_and_prints_back() {
    let f = Filter::parse("`sum:Amount` > 1000 and count >= 10").unwrap();
    assert_eq!(f.to_string(), "`sum:Amount` > 1000 and count >= 10");
    assert_eq!(Filter::parse(&f.to_string()).unwrap(), f);
    let f = Filter::parse("`p95:duration(A, B)` < `avg:duration(A,B)`").unwrap();
    assert_eq!(Filter::parse(&f.to_string()).unwrap(), f);
    for bad in ["`` > 1", "`sum:Amount > 1", "`a\u{7}b` = 1"] {
        let msg = Filter::parse(bad).unwrap_err().to_string();
        assert!(msg.contains("column 1"), "{bad}: {msg}");
    }
}

#[test]
fn an_operator_inside_a_bare_value_is_refused_and_quoted_ones_print_back() {
    for (expr, column) in [
        ("Region == EU", 9),
        ("Region = EU andd Amount > 1", 25),
        ("Region != <none>", 11),
    ] {
        let err = Filter::parse(expr).unwrap_err().to_string();
        assert!(
            err.contains(&format!("column {column}")) && err.contains("looks like an operator"),
            "{expr}: {err}"
        );
    }
    // Quoted, such text is a value, and prints back quoted.
    for expr in [
        "Region = '<none>'",
        "Region = \"=EU\"",
        "Region in ('>', b)",
    ] {
        let filter = f(expr);
        assert_eq!(
            Filter::parse(&filter.to_string()).unwrap(),
            filter,
            "{expr}"
        );
    }
    // An operator character inside a word is text as before.
    assert!(Filter::parse("Region = a->b").is_ok());
}
