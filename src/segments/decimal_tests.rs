#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn short_decimals_take_the_fewest_digits_and_come_back_bit_for_bit() {
    for (v, expected) in [
        (205.54, (20_554, 2)),
        (1.0, (1, 0)),
        (-0.5, (-5, 1)),
        (0.0, (0, 0)),
    ] {
        assert_eq!(fewest_digits(v), Some(expected), "{v}");
        let (n, d) = expected;
        assert_eq!(value_of(n, d).unwrap().to_bits(), v.to_bits());
    }
}

#[test]
fn values_a_decimal_cannot_give_back_are_refused() {
    for v in [-0.0, f64::NAN, f64::INFINITY, 0.1 + 0.2, 1e-7, 1e300] {
        assert_eq!(fewest_digits(v), None, "{v}");
    }
    assert_eq!(value_of(1, MAX_DIGITS + 1), None);
    assert_eq!(integer_at(1.5, MAX_DIGITS + 1), None);
}
