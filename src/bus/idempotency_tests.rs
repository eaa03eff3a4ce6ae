use super::*;

#[test]
fn at_or_below_the_highest_is_a_duplicate_per_producer() {
    let mut s = Sequences::default();
    assert!(!s.is_duplicate(1, 5));
    s.record(1, 5);
    assert!(s.is_duplicate(1, 5));
    assert!(s.is_duplicate(1, 0));
    assert!(!s.is_duplicate(1, 6));
    assert!(
        !s.is_duplicate(2, 5),
        "another producer's numbers are its own"
    );
    s.record(1, 9);
    s.record(1, 7); // never lowers the mark
    assert!(s.is_duplicate(1, 8));
    assert_eq!(s.duplicates, 3);
}
