//! [`ExactSum`]: the exact sum of any number of finite floats and ints, so
//! that a sum or average does not depend on the order its values were
//! added, removed or merged in (scan order, files, arrival), and is rounded
//! once, correctly, at the end.
//!
//! Every finite `f64` is an integer multiple of 2^-1074 below 2^1024 in
//! magnitude, so the sum is kept as a two's-complement fixed-point integer
//! in units of 2^-1074, wide enough for 2^64 such values (2^2162) with
//! room to spare. Adding, removing (adding the negation) and merging are
//! integer additions: exact, associative and commutative. The result is
//! rounded to the nearest `f64`, ties to even; a total beyond the `f64`
//! range is reported as such instead of becoming infinity. An average is
//! the exact total divided by the count, rounded once, so it is finite
//! whenever the true mean is, even if the total is not.

use std::cmp::Ordering;

/// Limbs of the fixed-point integer: 2240 bits, more than the 2163 bits a
/// total of 2^64 values needs, and the 64 guard bits of a division.
const LIMBS: usize = 35;
/// The bit position of 2^0 in the fixed-point integer.
const UNIT: u32 = 1074;
/// Extra fraction bits kept when dividing, enough to round any quotient.
const GUARD: u32 = 64;

/// An exact running total (see the module docs).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ExactSum {
    /// Little-endian limbs, two's complement.
    limbs: Box<[u64; LIMBS]>,
}

impl std::fmt::Debug for ExactSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExactSum({:?})", self.round())
    }
}

/// A rounded total: a float, or beyond the float range on this side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Rounded {
    /// The nearest float (ties to even).
    Float(f64),
    /// Beyond ±`f64::MAX`: positive (`Greater`) or negative (`Less`).
    Overflow(Ordering),
}

impl Default for ExactSum {
    fn default() -> Self {
        ExactSum {
            limbs: Box::new([0; LIMBS]),
        }
    }
}

impl ExactSum {
    /// Adds (`add`) or subtracts a finite float; non-finite values are not
    /// numbers to sum and are ignored (validation refuses them on input).
    pub fn add_f64(&mut self, x: f64, add: bool) {
        if !x.is_finite() || x == 0.0 {
            return;
        }
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as u32;
        let frac = bits & ((1 << 52) - 1);
        // x = mant * 2^(shift - 1074)
        let (mant, shift) = if exp == 0 {
            (frac, 0)
        } else {
            (frac | (1 << 52), exp - 1)
        };
        // Subtracting a negative value adds.
        let negative = (x < 0.0) == add;
        self.add_shifted(mant, shift, negative);
    }

    /// Adds (`add`) or subtracts an integer.
    pub fn add_i128(&mut self, i: i128, add: bool) {
        let negative = (i < 0) == add;
        let m = i.unsigned_abs();
        self.add_shifted(m as u64, UNIT, negative);
        self.add_shifted((m >> 64) as u64, UNIT + 64, negative);
    }

    /// Adds what `other` holds.
    pub fn merge(&mut self, other: &ExactSum) {
        let mut carry = false;
        for (a, b) in self.limbs.iter_mut().zip(other.limbs.iter()) {
            let (s, c1) = a.overflowing_add(*b);
            let (s, c2) = s.overflowing_add(u64::from(carry));
            *a = s;
            carry = c1 || c2;
        }
    }

    /// The fixed-point integer's limbs, little-endian (its persisted form).
    pub fn limbs(&self) -> Vec<u64> {
        self.limbs.to_vec()
    }

    /// The total whose limbs [`Self::limbs`] gave; any other number of
    /// limbs is refused.
    pub fn from_limbs(limbs: Vec<u64>) -> Result<ExactSum, String> {
        let n = limbs.len();
        let limbs: Box<[u64; LIMBS]> = limbs
            .into_boxed_slice()
            .try_into()
            .map_err(|_| format!("an exact sum of {n} limbs, not {LIMBS}"))?;
        Ok(ExactSum { limbs })
    }

    /// Whether the total is zero.
    #[cfg(test)]
    pub fn is_zero(&self) -> bool {
        self.limbs.iter().all(|&l| l == 0)
    }

    /// The total, rounded to the nearest float.
    pub fn round(&self) -> Rounded {
        let (negative, magnitude) = self.sign_magnitude();
        round_scaled(negative, magnitude, 0, false)
    }

    /// The total divided by `n` (> 0), rounded once to the nearest float.
    pub fn div_round(&self, n: u64) -> Rounded {
        let (negative, mut magnitude) = self.sign_magnitude();
        // Shift in guard bits (one limb) before dividing, so that the
        // quotient carries enough bits to round even a subnormal mean.
        magnitude.copy_within(0..LIMBS - 1, 1);
        magnitude[0] = 0;
        let mut rem: u128 = 0;
        for limb in magnitude.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*limb);
            *limb = (cur / u128::from(n.max(1))) as u64;
            rem = cur % u128::from(n.max(1));
        }
        round_scaled(negative, magnitude, GUARD, rem != 0)
    }

    /// Adds or subtracts `m << shift` (shift in bits).
    fn add_shifted(&mut self, m: u64, shift: u32, negative: bool) {
        if m == 0 {
            return;
        }
        let limb = (shift / 64) as usize;
        let r = shift % 64;
        let lo = m << r;
        let hi = if r == 0 { 0 } else { m >> (64 - r) };
        if negative {
            self.sub_at(limb, lo);
            self.sub_at(limb + 1, hi);
        } else {
            self.add_at(limb, lo);
            self.add_at(limb + 1, hi);
        }
    }

    fn add_at(&mut self, mut i: usize, v: u64) {
        let mut carry = v;
        while carry != 0 && i < LIMBS {
            let (s, c) = self.limbs[i].overflowing_add(carry);
            self.limbs[i] = s;
            carry = u64::from(c);
            i += 1;
        }
    }

    fn sub_at(&mut self, mut i: usize, v: u64) {
        let mut borrow = v;
        while borrow != 0 && i < LIMBS {
            let (s, b) = self.limbs[i].overflowing_sub(borrow);
            self.limbs[i] = s;
            borrow = u64::from(b);
            i += 1;
        }
    }

    fn sign_magnitude(&self) -> (bool, [u64; LIMBS]) {
        let mut m = *self.limbs;
        let negative = m[LIMBS - 1] >> 63 == 1;
        if negative {
            // Two's complement negation: invert and add one.
            let mut carry = true;
            for limb in &mut m {
                let (s, c) = (!*limb).overflowing_add(u64::from(carry));
                *limb = s;
                carry = c;
            }
        }
        (negative, m)
    }
}

/// Rounds `q * 2^(-1074 - guard)`, plus a little more when `sticky`, to
/// the nearest float, ties to even.
fn round_scaled(negative: bool, q: [u64; LIMBS], guard: u32, sticky: bool) -> Rounded {
    let Some(top) = q.iter().rposition(|&l| l != 0) else {
        // Only a remainder below the guard bits: rounds to zero.
        return Rounded::Float(if negative { -0.0 } else { 0.0 });
    };
    let p = top as u32 * 64 + (63 - q[top].leading_zeros());
    // Bits below `shift` are rounded off: keep 53 significant bits, but no
    // bit finer than 2^-1074 (subnormals).
    let shift = p.saturating_sub(52).max(guard);
    let bit = |i: u32| (q[(i / 64) as usize] >> (i % 64)) & 1 == 1;
    let mut mant: u64 = 0;
    for i in (shift..=p).rev() {
        mant = (mant << 1) | u64::from(bit(i));
    }
    let half = shift > 0 && bit(shift - 1);
    let lower = sticky
        || (shift > 1 && {
            let below = shift - 1;
            let full = (below / 64) as usize;
            q[..full].iter().any(|&l| l != 0)
                || (below % 64 != 0 && q[full] & ((1u64 << (below % 64)) - 1) != 0)
        });
    let mut exp_shift = shift - guard; // mant * 2^(exp_shift - 1074)
    if half && (lower || mant & 1 == 1) {
        mant += 1;
        if mant == 1 << 53 {
            mant >>= 1;
            exp_shift += 1;
        }
    }
    let bits = if mant >= 1 << 52 {
        // Normal: mant * 2^(exp_shift - 1074) = 1.f * 2^(exp_shift - 1022).
        let biased = u64::from(exp_shift) + 1;
        if biased >= 2047 {
            let side = if negative {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            return Rounded::Overflow(side);
        }
        (biased << 52) | (mant & ((1 << 52) - 1))
    } else {
        // Subnormal: exp_shift is 0 here.
        mant
    };
    let value = f64::from_bits(bits);
    Rounded::Float(if negative { -value } else { value })
}

#[cfg(test)]
#[path = "exact_sum_tests.rs"]
mod tests;
