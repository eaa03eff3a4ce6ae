//! Parse arbitrary bytes as a JSON line; events must print and parse back.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bamdb::fuzz::model::json_line(data));
