//! WAL commit throughput (filled in with the writer).
fn main() {}
