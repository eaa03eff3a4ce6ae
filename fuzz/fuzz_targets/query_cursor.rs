//! Parse arbitrary bytes as a paging cursor and an order key; what parses
//! must print back to itself and page without panicking.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bamdb::fuzz::query::cursor(data));
