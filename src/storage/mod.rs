//! File access behind a small trait, so tests can inject crashes and faults.
