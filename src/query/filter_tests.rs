//! Tests of [`Filter`]: the CLI syntax and its errors, and every operator
//! on every value type, including unset items.

use std::cmp::Ordering;

use super::condition::cmp_int_float;
use super::field::ValueRef;
use super::test_util::{done, inst, ts};
use super::{Field, Filter, Operator, QueryError};
use crate::model::{ActivityInstance, Value};

fn f(expr: &str) -> Filter {
    Filter::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// The one condition of a single-condition filter.
fn cond(filter: &Filter) -> &super::Condition {
    filter.condition().expect("a single condition")
}

fn matches(expr: &str, i: &ActivityInstance) -> bool {
    f(expr).matches(i)
}

#[test]
fn parses_the_cli_forms() {
    let cases = [
        ("Amount>500", "Amount", Operator::Gt, "500"),
        ("Amount >= 500", "Amount", Operator::Ge, "500"),
        ("Amount<=500", "Amount", Operator::Le, "500"),
        ("Amount <5", "Amount", Operator::Lt, "5"),
        ("Region = EU", "Region", Operator::Eq, "EU"),
        ("Region!=EU", "Region", Operator::Ne, "EU"),
        ("Status is empty", "Status", Operator::IsEmpty, ""),
        (
            "Status  IS   NOT  empty ",
            "Status",
            Operator::IsNotEmpty,
            "",
        ),
        (
            "Customer starts with Con",
            "Customer",
            Operator::StartsWith,
            "Con",
        ),
        (
            "Customer Starts With  Big Co ",
            "Customer",
            Operator::StartsWith,
            "Big Co",
        ),
        (
            "end >= 2026-11-01T00:00:00Z",
            "end",
            Operator::Ge,
            "2026-11-01T00:00:00Z",
        ),
        (
            "Note = \" two words \"",
            "Note",
            Operator::Eq,
            " two words ",
        ),
        ("Note = \"\"", "Note", Operator::Eq, ""),
        ("Note = a=b", "Note", Operator::Eq, "a=b"),
    ];
    for (expr, field, op, operand) in cases {
        let filter = f(expr);
        assert_eq!(cond(&filter).field().name(), field, "{expr}");
        assert_eq!(cond(&filter).operator(), op, "{expr}");
        assert_eq!(cond(&filter).operand_text(), operand, "{expr}");
    }
}

#[test]
fn system_fields_are_lowercase_and_exact() {
    assert_eq!(cond(&f("status = active")).field(), &Field::Status);
    assert_eq!(
        cond(&f("last_modified is empty")).field(),
        &Field::LastModified
    );
    assert_eq!(
        cond(&f("Status = x")).field(),
        &Field::Item("Status".into())
    );
    assert_eq!(cond(&f("END is empty")).field(), &Field::Item("END".into()));
}

#[test]
fn display_parses_back_to_the_same_filter() {
    for expr in [
        "Amount>500",
        "Note = \" padded \"",
        "Note = \"\"",
        "X is not empty",
        "Customer starts with Con",
        "end < 2026-11-01T00:00:00Z",
    ] {
        let filter = f(expr);
        assert_eq!(f(&filter.to_string()), filter, "{expr} -> {filter}");
    }
}

#[test]
fn syntax_errors_name_the_expression_and_the_problem() {
    // (expression, what the message says, the column it points at)
    let cases = [
        ("", "expected a condition, found nothing", 1),
        (">5", "expected a field name", 1),
        ("Amount", "expected an operator", 7),
        (
            "Amount ~ 5",
            "expected an operator after \"Amount\", found \"~\"",
            8,
        ),
        ("Amount is 5", "expected an operator", 8),
        ("Customer startswith x", "expected an operator", 10),
        ("Amount is emptyish", "expected an operator", 8),
        (
            "Amount is empty 5",
            "expected `and`, `or` or the end, found \"5\"",
            17,
        ),
        ("Amount =", "missing operand", 9),
        ("Amount >=   ", "missing operand", 13),
        ("Note = \"abc", "unterminated \" quote", 8),
        ("Note = 'abc", "unterminated ' quote", 8),
        (
            "Region = EU or or Amount > 5",
            "expected a condition, found `or`",
            16,
        ),
        ("Region = EU and", "expected a condition after `and`", 13),
        (
            "(Region = EU",
            "expected ')' to close the '(' at column 1, found the end",
            13,
        ),
        ("Region = EU)", "a ')' without its '('", 12),
        ("Region in EU", "expected '(' after `in`", 11),
        (
            "Region in (EU US)",
            "expected ',' or ')' in the list of `in`, found \"US)\"",
            15,
        ),
        ("Region in ()", "expected a value for `in`, found \")\"", 12),
        (
            "Amount between 1 or 5",
            "expected `and` between the bounds of `between`",
            18,
        ),
        (
            "Amount between 1 and",
            "expected a value for `between`, found the end",
            21,
        ),
        ("Amount < `Limit", "unterminated ` quote", 10),
        ("Note contains `Limit`", "does not take a field", 15),
        ("Ünïcode = 1", "expected a field name", 1),
        (
            "Näme = 1",
            "expected an operator after \"N\", found \"äme\"",
            2,
        ),
    ];
    for (expr, needle, column) in cases {
        let err = Filter::parse(expr).expect_err(expr);
        let QueryError::FilterSyntax { column: at, .. } = &err else {
            panic!("{expr}: {err:?}");
        };
        assert_eq!(*at, column, "{expr}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(needle), "{expr}: {msg}");
        assert!(msg.contains(&format!("{expr:?}")), "{expr}: {msg}");
    }
    let deep = format!("{}X = 1{}", "(".repeat(100), ")".repeat(100));
    let msg = Filter::parse(&deep).unwrap_err().to_string();
    assert!(msg.contains("nested"), "{msg}");
}

#[test]
fn old_single_condition_forms_still_parse_the_same() {
    // Forms of the grammar before `and`/`or`: a bare operand keeps its
    // inner spacing and may hold symbols.
    for (expr, operand) in [
        ("Note = two  words", "two  words"),
        ("Note = a=b", "a=b"),
        ("Note = \" padded \"", " padded "),
        ("Customer starts with Con Ltd", "Con Ltd"),
        ("Amount>-5", "-5"),
    ] {
        assert_eq!(cond(&f(expr)).operand_text(), operand, "{expr}");
    }
}

#[test]
fn comparisons_on_ints() {
    let i = inst("PO-1", &[("Amount", Value::Int(500))]);
    for (expr, want) in [
        ("Amount = 500", true),
        ("Amount != 500", false),
        ("Amount > 500", false),
        ("Amount >= 500", true),
        ("Amount < 500", false),
        ("Amount <= 500", true),
        ("Amount > 499", true),
        ("Amount < 501", true),
        ("Amount = 500.0", true),
        ("Amount > 499.5", true),
        ("Amount < 500.5", true),
        ("Amount > 500.5", false),
        ("Amount != 500.25", true),
        ("Amount = abc", false),
        ("Amount != abc", false),
        ("Amount is empty", false),
        ("Amount is not empty", true),
        ("Amount starts with 5", false),
    ] {
        assert_eq!(matches(expr, &i), want, "{expr}");
    }
}

#[test]
fn comparisons_on_floats() {
    let i = inst("PO-1", &[("Price", Value::Float(12.5))]);
    for (expr, want) in [
        ("Price = 12.5", true),
        ("Price > 12", true),
        ("Price < 13", true),
        ("Price >= 12.5", true),
        ("Price <= 12.4", false),
        ("Price != 12", true),
        ("Price = 12", false),
        ("Price > 1e1", true),
        ("Price = NaN", false),
    ] {
        assert_eq!(matches(expr, &i), want, "{expr}");
    }
}

#[test]
fn int_float_comparison_is_exact_at_the_edges() {
    assert_eq!(
        cmp_int_float(i64::MAX, 9.223_372_036_854_776e18),
        Some(Ordering::Less)
    );
    assert_eq!(
        cmp_int_float(i64::MIN, -9.223_372_036_854_776e18),
        Some(Ordering::Equal)
    );
    // 2^53 + 1 is not a float; rounding the int would call them equal.
    assert_eq!(
        cmp_int_float((1 << 53) + 1, 9_007_199_254_740_992.0),
        Some(Ordering::Greater)
    );
    assert_eq!(cmp_int_float(-3, -2.5), Some(Ordering::Less));
    assert_eq!(cmp_int_float(-2, -2.5), Some(Ordering::Greater));
    assert_eq!(cmp_int_float(0, f64::NAN), None);
    assert_eq!(cmp_int_float(0, f64::INFINITY), Some(Ordering::Less));
}

#[test]
fn comparisons_on_text() {
    let i = inst("PO-7", &[("Customer", Value::from("Contoso"))]);
    for (expr, want) in [
        ("Customer = Contoso", true),
        ("Customer = contoso", false),
        ("Customer != Fabrikam", true),
        ("Customer starts with Con", true),
        ("Customer starts with con", false),
        ("Customer starts with \"\"", true),
        ("Customer > Con", true),
        ("Customer < D", true),
        ("Customer = \"Contoso\"", true),
        ("id = PO-7", true),
        ("id starts with PO-", true),
        ("id > PO-10", true),
        ("id is empty", false),
    ] {
        assert_eq!(matches(expr, &i), want, "{expr}");
    }
}

#[test]
fn unset_items_only_match_is_empty() {
    let i = inst("PO-1", &[]);
    for (expr, want) in [
        ("Region is empty", true),
        ("Region is not empty", false),
        ("Region = EU", false),
        ("Region != EU", false),
        ("Region starts with E", false),
        ("Amount > 0", false),
        ("Amount < 0", false),
        ("Amount != 0", false),
        ("end is empty", true),
        ("end < 2100-01-01T00:00:00Z", false),
        ("begin is not empty", true),
    ] {
        assert_eq!(matches(expr, &i), want, "{expr}");
    }
}

#[test]
fn comparisons_on_timestamps() {
    let i = done(
        inst(
            "PO-1",
            &[("Received", Value::Timestamp(ts("2026-11-01T10:00:00Z")))],
        ),
        "2026-11-02T00:00:00Z",
    );
    for (expr, want) in [
        ("end >= 2026-11-01T00:00:00Z", true),
        ("end = 2026-11-02T00:00:00Z", true),
        ("end = 2026-11-02T01:00:00+01:00", true),
        ("end > 2026-11-02T00:00:00Z", false),
        ("end < 2026-11-02T00:00:00.000001Z", true),
        ("Received > 2026-11-01T09:59:59Z", true),
        ("Received <= 2026-11-01T09:59:59Z", false),
        ("Received != 2026-11-01T10:00:00Z", false),
        ("Received = yesterday", false),
        ("begin < end", false),
        ("last_modified = 2026-11-02T00:00:00Z", true),
    ] {
        assert_eq!(matches(expr, &i), want, "{expr}");
    }
}

#[test]
fn status_and_bools() {
    let active = inst("PO-1", &[("Urgent", Value::Bool(true))]);
    let completed = done(inst("PO-2", &[]), "2026-11-02T00:00:00Z");
    assert!(matches("status = active", &active));
    assert!(matches("status = Active", &active));
    assert!(!matches("status = completed", &active));
    assert!(matches("status != completed", &active));
    assert!(matches("status = completed", &completed));
    assert!(!matches("status is empty", &completed));
    assert!(matches("Urgent = true", &active));
    assert!(!matches("Urgent != true", &active));
    assert!(matches("Urgent > false", &active));
    assert!(!matches("Urgent = yes", &active));
    assert!(!matches("Urgent = true", &completed));
}

#[test]
fn emptiness_filters_ignore_the_operand_given_to_new() {
    let filter = Filter::new(Field::Item("X".into()), Operator::IsEmpty, "junk");
    assert_eq!(cond(&filter).operand_text(), "");
    assert_eq!(filter.to_string(), "X is empty");
}

#[test]
fn a_range_rules_a_filter_out_only_when_no_value_in_it_can_pass() {
    // Every filter, against ranges around its operand: the answer must
    // agree with trying every value of the range.
    for expr in [
        "X = 5", "X != 5", "X > 5", "X >= 5", "X < 5", "X <= 5", "X >= 4.5",
    ] {
        let filter = Filter::parse(expr).unwrap();
        for lo in 0..10i64 {
            for hi in lo..10 {
                let some_pass = (lo..=hi).any(|v| filter.matches_value(Some(ValueRef::Int(v))));
                let may = cond(&filter).may_match_range(ValueRef::Int(lo), ValueRef::Int(hi));
                // Never ruled out when a value passes; for integers and
                // these operators, ruled out whenever none does.
                assert!(may || !some_pass, "{expr} over {lo}..={hi}");
                if !expr.contains("!=") && !expr.contains('.') {
                    assert_eq!(may, some_pass, "{expr} over {lo}..={hi}");
                }
            }
        }
    }
    // An operand that does not read as the column's type decides nothing.
    let filter = Filter::parse("X > abc").unwrap();
    assert!(cond(&filter).may_match_range(ValueRef::Int(0), ValueRef::Int(1)));
}
