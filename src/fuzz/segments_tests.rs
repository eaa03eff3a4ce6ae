use super::*;

/// The seed import file's records carry parts the bus can decode, so
/// the fuzzer starts from the parts decoder's happy path.
#[test]
fn the_seed_records_have_parts_that_decode() {
    let seeds = seed_corpus();
    let (_, _, bytes) = seeds
        .iter()
        .find(|(target, name, _)| *target == "import_file" && name == "three_records")
        .expect("seed");
    let disk = disk_with("x.seg", bytes);
    let file = ImportFile::open(&disk, Path::new("/f"), "x.seg").expect("opens");
    let mut n = 0;
    for rec in file.records() {
        let rec = rec.expect("record");
        assert!(!rec.parts.is_empty());
        crate::bus::check_parts(&rec).expect("parts decode");
        n += 1;
    }
    assert_eq!(n, 3);
}
