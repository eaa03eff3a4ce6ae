#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

fn bodies(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            format!(
                "PurchaseOrder PO-{i:09} Customer {:05} Region EU Amount {}.5",
                i % 5000,
                i % 1000
            )
            .into_bytes()
        })
        .collect()
}

#[test]
fn records_come_back_as_they_went_in_and_smaller() {
    let bodies = bodies(2000);
    let dictionary = train(&bodies).unwrap();
    assert!(dictionary.len() <= DICTIONARY_LEN);
    let mut c = Compressor::new(&dictionary).unwrap();
    let d = Decompressor::new(&dictionary).unwrap();
    let mut stored = 0;
    // One buffer for every frame, as the writer does: a frame must not
    // keep bytes of the one before.
    let mut frame = Vec::new();
    for body in &bodies {
        c.compress_into(body, &mut frame).unwrap();
        stored += frame.len();
        assert_eq!(&d.decompress(&frame, 1 << 20).unwrap(), body);
    }
    let plain: usize = bodies.iter().map(Vec::len).sum();
    assert!(stored * 2 < plain, "{stored} of {plain} bytes");
}

#[test]
fn small_files_are_not_compressed_and_samples_spread_over_the_file() {
    assert_eq!(sample_step(MIN_RECORDS - 1), None);
    assert_eq!(sample_step(MIN_RECORDS), Some(1));
    assert_eq!(sample_step(TRAINING_SAMPLES), Some(1));
    assert_eq!(sample_step(TRAINING_SAMPLES + 1), Some(2));
    for records in [20 * TRAINING_SAMPLES + 7, 3 * TRAINING_SAMPLES / 2] {
        let taken = records.div_ceil(sample_step(records).unwrap());
        assert!(
            taken <= TRAINING_SAMPLES && taken > TRAINING_SAMPLES / 2,
            "{taken} of {records}"
        );
    }
}

#[test]
fn damage_and_claims_over_the_limit_are_errors_not_panics() {
    let bodies = bodies(500);
    let dictionary = train(&bodies).unwrap();
    let mut c = Compressor::new(&dictionary).unwrap();
    let d = Decompressor::new(&dictionary).unwrap();
    let mut frame = vec![0xAA; 4096];
    c.compress_into(&bodies[7], &mut frame).unwrap();
    assert!(d.decompress(&frame, bodies[7].len() - 1).is_err());
    for i in 0..frame.len() {
        for bit in 0..8 {
            let mut bad = frame.clone();
            bad[i] ^= 1 << bit;
            // Either an error or some bytes; the record's CRC (checked
            // before) is what catches damage.
            let _ = d.decompress(&bad, 1 << 20);
        }
        assert!(d.decompress(&frame[..i], 1 << 20).is_err());
    }
    // Another dictionary does not decode it to the same bytes.
    let other = train(
        &bodies
            .iter()
            .map(|b| b.iter().rev().copied().collect())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let wrong = Decompressor::new(&other).unwrap();
    assert_ne!(
        wrong.decompress(&frame, 1 << 20).ok().as_ref(),
        Some(&bodies[7])
    );
}
