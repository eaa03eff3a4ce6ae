#![allow(clippy::unwrap_used, clippy::float_cmp)]

use std::cmp::Ordering;

use super::*;

fn sum(values: &[f64]) -> Rounded {
    let mut s = ExactSum::default();
    for &v in values {
        s.add_f64(v, true);
    }
    s.round()
}

#[test]
fn exact_values_round_trip_including_subnormals_and_extremes() {
    for x in [
        1.0,
        -1.5,
        0.1,
        f64::MAX,
        -f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        2.225073858507201e-308, // largest subnormal
        123_456_789.123_456_79,
    ] {
        assert_eq!(sum(&[x]), Rounded::Float(x), "{x:e}");
    }
    assert_eq!(sum(&[]), Rounded::Float(0.0));
}

#[test]
fn the_sum_is_correctly_rounded_and_independent_of_order() {
    // Naive left-to-right summation gives 0 or 2 here depending on order.
    let values = [1e100, 1.0, -1e100, 1.0];
    assert_eq!(sum(&values), Rounded::Float(2.0));
    let mut rev = values;
    rev.reverse();
    assert_eq!(sum(&rev), Rounded::Float(2.0));
    // 0.1 + 0.2 + 0.3 exactly is 0.6000000000000000055..., nearest 0.6.
    assert_eq!(sum(&[0.1, 0.2, 0.3]), Rounded::Float(0.6));
    assert_eq!(sum(&[0.3, 0.2, 0.1]), Rounded::Float(0.6));
    // A tie between two floats rounds to even: 2^53 + 1 is halfway.
    assert_eq!(
        sum(&[9007199254740992.0, 1.0]),
        Rounded::Float(9007199254740992.0)
    );
    assert_eq!(
        sum(&[9007199254740994.0, 1.0]),
        Rounded::Float(9007199254740996.0)
    );
    // Just past the tie rounds up.
    assert_eq!(
        sum(&[9007199254740992.0, 1.0, 1e-300]),
        Rounded::Float(9007199254740994.0)
    );
}

#[test]
fn a_total_beyond_the_float_range_is_an_overflow_with_its_sign() {
    assert_eq!(
        sum(&[f64::MAX, f64::MAX]),
        Rounded::Overflow(Ordering::Greater)
    );
    assert_eq!(
        sum(&[-f64::MAX, -f64::MAX]),
        Rounded::Overflow(Ordering::Less)
    );
    // Back in range once the overflowing part is cancelled.
    assert_eq!(
        sum(&[f64::MAX, f64::MAX, -f64::MAX]),
        Rounded::Float(f64::MAX)
    );
}

#[test]
fn removing_and_merging_are_exact() {
    let mut a = ExactSum::default();
    a.add_f64(f64::MAX, true);
    a.add_f64(0.1, true);
    a.add_i128(i128::from(i64::MAX), true);
    a.add_f64(f64::MAX, false);
    a.add_i128(i128::from(i64::MAX), false);
    assert_eq!(a.round(), Rounded::Float(0.1));
    a.add_f64(0.1, false);
    assert!(a.is_zero());

    let mut b = ExactSum::default();
    b.add_f64(-3.25, true);
    let mut c = ExactSum::default();
    c.add_f64(1.0, true);
    c.add_i128(-7, true);
    b.merge(&c);
    assert_eq!(b.round(), Rounded::Float(-9.25));
}

#[test]
fn a_mean_is_finite_when_the_total_overflows_and_is_rounded_once() {
    let mut s = ExactSum::default();
    for _ in 0..4 {
        s.add_f64(f64::MAX, true);
    }
    assert_eq!(s.round(), Rounded::Overflow(Ordering::Greater));
    assert_eq!(s.div_round(4), Rounded::Float(f64::MAX));
    let mut t = ExactSum::default();
    for x in [1.0, 2.0, 2.0] {
        t.add_f64(x, true);
    }
    assert_eq!(t.div_round(3), Rounded::Float(5.0 / 3.0));
    let mut tiny = ExactSum::default();
    tiny.add_f64(5e-324, true);
    assert_eq!(
        tiny.div_round(2),
        Rounded::Float(0.0),
        "half the least subnormal ties to even 0"
    );
    tiny.add_f64(5e-324, true);
    tiny.add_f64(5e-324, true);
    assert_eq!(
        tiny.div_round(2),
        Rounded::Float(1e-323),
        "1.5 ulps round to 2"
    );
    let mut neg = ExactSum::default();
    neg.add_i128(-7, true);
    assert_eq!(neg.div_round(2), Rounded::Float(-3.5));
}
