//! Floats that are short decimals (amounts, prices) stored as an integer
//! and a power of ten, the way the column section (`stored_columns.rs`)
//! and compact records (`compact.rs`) both store them: only when the
//! integer computes back to the float bit for bit, so `-0.0`, NaN,
//! infinities and long fractions never take this form.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// Powers of ten a decimal may be scaled by (all exact in f64).
const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0];
/// Integers beyond this are not exact in f64.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// How many digits a decimal may have: 0 to `MAX_DIGITS`.
pub(crate) const MAX_DIGITS: u8 = POW10.len() as u8 - 1;

/// `v` as the integer `n` with `v = n / 10^digits`, if that computes back
/// bit for bit (through [`value_of`], as decoding does).
pub(crate) fn integer_at(v: f64, digits: u8) -> Option<i64> {
    let scale = POW10.get(usize::from(digits)).copied()?;
    let n = (v * scale).round();
    (n.abs() < MAX_EXACT && value_of(n as i64, digits)?.to_bits() == v.to_bits())
        .then_some(n as i64)
}

/// `n / 10^digits`; `None` for more digits than [`MAX_DIGITS`].
pub(crate) fn value_of(n: i64, digits: u8) -> Option<f64> {
    POW10.get(usize::from(digits)).map(|scale| n as f64 / scale)
}

/// `v` as `(n, digits)` with the fewest digits that give it back.
pub(crate) fn fewest_digits(v: f64) -> Option<(i64, u8)> {
    (0..=MAX_DIGITS).find_map(|d| integer_at(v, d).map(|n| (n, d)))
}

#[cfg(test)]
#[path = "decimal_tests.rs"]
mod tests;
