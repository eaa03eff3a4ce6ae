//! Parse arbitrary bytes as a `--where` filter; it must print and parse back.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bamdb::fuzz::query::filter(data));
