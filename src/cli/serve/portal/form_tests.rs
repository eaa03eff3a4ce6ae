use super::*;

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn search_takes_the_cli_expressions() {
    let query = q(&[
        ("where", "Amount>500"),
        ("where", "  "),
        ("where", "Region = EU"),
        ("where", "Customer starts with Con"),
        ("status", "completed"),
        ("since", "2026-11-01T00:00:00Z"),
        ("until", "2026-12-01T00:00:00+01:00"),
        ("limit", "20"),
        ("columns", "Customer, Amount"),
        ("token", "ignored"),
    ]);
    let form = SearchForm::read(Params(&query));
    let (search, note) = form.parse("PurchaseOrder").expect("valid");
    assert_eq!(note, None);
    let expected: Vec<Filter> = ["Amount>500", "Region = EU", "Customer starts with Con"]
        .iter()
        .map(|e| Filter::parse(e).expect("the CLI parses it"))
        .collect();
    assert_eq!(search.filters, expected, "blank where inputs are skipped");
    assert_eq!(search.status, StatusFilter::Completed);
    assert_eq!(
        search.since,
        Timestamp::parse_rfc3339("2026-11-01T00:00:00Z").ok()
    );
    assert_eq!(
        search.until,
        Timestamp::parse_rfc3339("2026-11-30T23:00:00Z").ok()
    );
    assert_eq!(search.limit, Some(20));
    assert_eq!(
        search.columns,
        Some(vec!["id".into(), "Customer".into(), "Amount".into()]),
        "id comes first: rows link by it"
    );
}

#[test]
fn search_defaults_and_limits() {
    let (search, note) = SearchForm::read(Params(&[])).parse("A").expect("valid");
    assert_eq!(search.limit, Some(DEFAULT_LIMIT));
    assert_eq!(search.status, StatusFilter::All);
    assert_eq!(search.columns, None);
    assert_eq!(note, None);
    let query = q(&[("limit", "5000")]);
    let (search, note) = SearchForm::read(Params(&query)).parse("A").expect("valid");
    assert_eq!(search.limit, Some(MAX_LIMIT));
    assert!(note.is_some_and(|n| n.contains("lowered")));
    let query = q(&[("columns", "id,status")]);
    let (search, _) = SearchForm::read(Params(&query)).parse("A").expect("valid");
    assert_eq!(search.columns, Some(vec!["id".into(), "status".into()]));
}

#[test]
fn bad_parameters_say_which_and_why() {
    for (pairs, expected) in [
        (vec![("where", "Amount >")], "where: invalid filter"),
        (vec![("where", "> 5")], "where: invalid filter"),
        (vec![("status", "pending")], "status: \"pending\""),
        (vec![("since", "yesterday")], "since: \"yesterday\""),
        (vec![("until", "2026-13-01T00:00:00Z")], "until:"),
        (vec![("limit", "ten")], "limit: \"ten\""),
        (vec![("limit", "0")], "limit: \"0\""),
    ] {
        let query = q(&pairs);
        let err = SearchForm::read(Params(&query))
            .parse("A")
            .err()
            .unwrap_or_default();
        assert!(err.starts_with(expected), "{pairs:?}: {err}");
    }
    for (pairs, expected) in [
        (vec![("measure", "mode:Amount")], "measure: invalid measure"),
        (
            vec![("bucket_unit", "fortnight"), ("bucket_field", "end")],
            "bucket: invalid time bucket",
        ),
        (
            vec![("bucket_unit", "day")],
            "bucket: choose the timestamp field",
        ),
    ] {
        let query = q(&pairs);
        let err = AggregateForm::read(Params(&query))
            .parse("A")
            .err()
            .unwrap_or_default();
        assert!(err.starts_with(expected), "{pairs:?}: {err}");
    }
}

#[test]
fn aggregate_takes_the_cli_expressions() {
    let query = q(&[
        ("group_by", "Region"),
        ("group_by", "status, Customer"),
        ("bucket_unit", "Day"),
        ("bucket_field", "Received"),
        ("measure", "count"),
        ("measure", "avg:duration(Received, Shipped)"),
        ("measure", ""),
        ("where", "Amount >= 10"),
        ("status", "active"),
    ]);
    let agg = AggregateForm::read(Params(&query))
        .parse("PurchaseOrder")
        .expect("valid");
    assert_eq!(agg.group_by, ["Region", "status", "Customer"]);
    assert_eq!(agg.bucket, Some((BucketUnit::Day, "Received".to_owned())));
    assert_eq!(
        agg.measures,
        vec![
            Measure::Count,
            Measure::parse("avg:duration(Received,Shipped)").expect("valid")
        ]
    );
    assert_eq!(agg.status, StatusFilter::Active);
    assert_eq!(agg.filters.len(), 1);

    let agg = AggregateForm::read(Params(&[])).parse("A").expect("valid");
    assert_eq!(agg.measures, vec![Measure::Count], "count by default");
    assert_eq!(agg.bucket, None);
    assert!(agg.group_by.is_empty());

    let query = q(&[("bucket", "hour:end")]);
    let agg = AggregateForm::read(Params(&query))
        .parse("A")
        .expect("valid");
    assert_eq!(
        agg.bucket,
        Some((BucketUnit::Hour, "end".to_owned())),
        "the CLI's --bucket form"
    );

    let query = q(&[("bucket_unit", "none"), ("bucket_field", "end")]);
    let agg = AggregateForm::read(Params(&query))
        .parse("A")
        .expect("valid");
    assert_eq!(agg.bucket, None, "a field left in the form without a unit");
}

#[test]
fn pairs_read_back_to_the_same_form() {
    let query = q(&[
        ("where", "Note = \"a & b\""),
        ("status", "completed"),
        ("group_by", "Region"),
        ("bucket_unit", "week"),
        ("bucket_field", "end"),
        ("measure", "sum:Amount"),
        ("chart", "sum:Amount"),
    ]);
    let form = AggregateForm::read(Params(&query));
    let again: Vec<(String, String)> = form
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(AggregateForm::read(Params(&again)), form);
}

#[test]
fn forms_show_what_was_typed_escaped() {
    let def = bamdb::fixture::definition(bamdb::fixture::FULL);
    let query = q(&[("where", "Customer = \"<script>\""), ("limit", "\"><img>")]);
    let mut out = String::new();
    SearchForm::read(Params(&query)).render(&mut out, "/activities/PurchaseOrder", &def);
    assert!(out.contains("value=\"Customer &#61; &quot;&lt;script&gt;&quot;\""));
    assert!(!out.contains("<script") && !out.contains("<img"));
    assert_eq!(
        out.matches("name=\"where\"").count(),
        3,
        "one filled, two spare"
    );
    assert!(
        out.contains("<option value=\"Received\">"),
        "timestamp fields suggested"
    );
    let mut out = String::new();
    AggregateForm::read(Params(&[])).render(&mut out, "/x", &def);
    assert!(
        out.contains("name=\"measure\" value=\"count\""),
        "count by default"
    );
}
