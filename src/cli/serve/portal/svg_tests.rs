use super::*;

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

/// Every number in attribute values is finite (no NaN or inf leaked into
/// coordinates) and tags balance as far as a quick count can tell.
fn well_formed(svg: &str) {
    assert!(
        svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    assert_eq!(svg.matches("<svg").count(), 1);
    assert_eq!(svg.matches("<g>").count(), svg.matches("</g>").count());
}

#[test]
fn ticks_are_round_and_cover_the_range() {
    let (ticks, lo, hi) = nice_ticks(0.0, 97.0, 4, Scale::Number);
    assert_eq!(ticks, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
    assert_eq!((lo, hi), (0.0, 100.0));
    let (ticks, lo, hi) = nice_ticks(-3.0, 7.0, 4, Scale::Number);
    assert!(lo <= -3.0 && hi >= 7.0 && ticks.contains(&0.0), "{ticks:?}");
    let (ticks, lo, hi) = nice_ticks(0.0, 0.0, 4, Scale::Number);
    assert!(
        hi > lo && !ticks.is_empty(),
        "a flat range still has an axis"
    );
    let day = 86_400e6;
    let (ticks, _, _) = nice_ticks(0.0, 2.3 * day, 4, Scale::Duration);
    assert_eq!(
        ticks,
        [0.0, day, 2.0 * day, 3.0 * day],
        "durations step by clock units"
    );
    let (ticks, _, _) = nice_ticks(0.0, 100.0 * day, 4, Scale::Duration);
    assert!(ticks.iter().all(|t| t % day == 0.0), "{ticks:?}");
    assert_eq!(number_label(1234.0), "1234");
    assert_eq!(number_label(0.25), "0.25");
    assert_eq!(number_label(f64::NAN), "?");
    assert_eq!(Scale::Duration.label(3_600e6), "01:00:00");
}

#[test]
fn bars_are_drawn_with_escaped_labels() {
    let bars = [
        Bar {
            label: "EU".into(),
            value: 10.0,
        },
        Bar {
            label: "<script>alert(1)</script>".into(),
            value: 5.5,
        },
        Bar {
            label: "neg".into(),
            value: -2.0,
        },
        Bar {
            label: "nan".into(),
            value: f64::NAN,
        },
    ];
    let svg = bar_chart(&bars, Scale::Number, "count by Region");
    well_formed(&svg);
    assert_eq!(svg.matches("<rect").count(), 3, "the NaN bar is left out");
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;script&gt;"));
    well_formed(&bar_chart(&[], Scale::Number, "empty"));
}

#[test]
fn time_series_draws_lines_points_axes_and_a_legend() {
    let series = [
        Series {
            name: "EU".into(),
            points: vec![
                (at("2026-11-01T00:00:00Z"), 3.0),
                (at("2026-11-02T00:00:00Z"), 5.0),
                (at("2026-11-04T00:00:00Z"), 1.0),
            ],
        },
        Series {
            name: "\"'><img src=x onerror=alert(1)>".into(),
            points: vec![(at("2026-11-02T00:00:00Z"), 2.0)],
        },
    ];
    let svg = time_series(&series, Scale::Number, "count per day of end");
    well_formed(&svg);
    assert_eq!(
        svg.matches("<polyline").count(),
        1,
        "one point draws no line"
    );
    assert_eq!(svg.matches("<circle").count(), 4);
    assert!(svg.contains("2026-11-01"), "time axis labelled");
    assert!(!svg.contains("<img") && !svg.contains("onerror="));
    // One point, one series: a flat time range still draws.
    let one = [Series {
        name: String::new(),
        points: vec![(at("2026-11-01T00:00:00Z"), 0.0)],
    }];
    well_formed(&time_series(&one, Scale::Duration, "x"));
}

#[test]
fn timeline_puts_each_milestone_on_its_own_row() {
    let ms = [
        Milestone {
            label: "end".into(),
            at: at("2026-11-03T12:00:00Z"),
        },
        Milestone {
            label: "begin".into(),
            at: at("2026-11-01T08:00:00Z"),
        },
        Milestone {
            label: "Received".into(),
            at: at("2026-11-01T09:30:00Z"),
        },
    ];
    let svg = timeline(&ms);
    well_formed(&svg);
    assert_eq!(svg.matches("<circle").count(), 3);
    let begin = svg.find(">begin<").unwrap();
    let received = svg.find(">Received<").unwrap();
    let end = svg.find(">end<").unwrap();
    assert!(begin < received && received < end, "drawn in time order");
    assert!(svg.contains("2026-11-01T08:00:00Z") && svg.contains("2026-11-03T12:00:00Z"));
    let same = [
        Milestone {
            label: "begin".into(),
            at: at("2026-11-01T08:00:00Z"),
        },
        Milestone {
            label: "end".into(),
            at: at("2026-11-01T08:00:00Z"),
        },
    ];
    well_formed(&timeline(&same));
}
