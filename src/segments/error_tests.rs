use super::*;

#[test]
fn messages_name_the_file_and_the_place_and_split_into_location_and_reason() {
    let e = ImportFileError::corrupt(Path::new("/s/1.seg"), Some(16), "record checksum mismatch");
    assert_eq!(
        e.to_string(),
        "/s/1.seg at byte 16: record checksum mismatch"
    );
    assert_eq!(e.location(), "/s/1.seg at byte 16");
    assert_eq!(e.reason(), "record checksum mismatch");
    let e = ImportFileError::io("open", Path::new("/s/2.seg"))(io::Error::from_raw_os_error(5));
    assert!(e.to_string().starts_with("/s/2.seg: cannot open: "), "{e}");
    assert_eq!(e.location(), "/s/2.seg");
    let copy = e.clone();
    match copy {
        ImportFileError::Io { source, .. } => assert_eq!(source.raw_os_error(), Some(5)),
        other => panic!("{other:?}"),
    }
}
