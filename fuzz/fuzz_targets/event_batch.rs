//! Decode arbitrary bytes as an event batch; valid batches must round-trip.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bamdb::fuzz::model::event_batch(data));
