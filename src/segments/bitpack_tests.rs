#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn unpack_returns_what_pack_packed(values in proptest::collection::vec(any::<u64>(), 0..300), shift in 0u32..64) {
        let values: Vec<u64> = values.into_iter().map(|v| v >> shift).collect();
        let width = width_for(values.iter().copied().max().unwrap_or(0));
        let mut out = Vec::new();
        pack(values.iter().copied(), width, &mut out);
        prop_assert_eq!(Some(out.len()), packed_len(values.len(), width));
        let mut back = vec![0; values.len()];
        unpack(&out, values.len(), width, |i, v| back[i] = v);
        prop_assert_eq!(back, values);
    }
}
