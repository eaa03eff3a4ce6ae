#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

#[test]
fn each_kind_round_trips_and_unknown_bytes_are_named() {
    assert_eq!(
        parse(&[FORMAT_VERSION, 9]),
        Payload::Batch(&[FORMAT_VERSION, 9])
    );
    assert_eq!(parse(&deploy("{}")), Payload::Deploy(b"{}"));
    assert_eq!(
        parse(&replay(7, &[FORMAT_VERSION])),
        Payload::Replay {
            entry: 7,
            batch: &[FORMAT_VERSION]
        }
    );
    assert_eq!(parse(&[0xD2, 1, 2]), Payload::Unknown(Some(0xD2)));
    assert_eq!(
        parse(&sequenced(7, &[FORMAT_VERSION, 9])),
        Payload::Sequenced {
            seq: 7,
            batch: &[FORMAT_VERSION, 9]
        }
    );
    assert_eq!(parse(&[0xD4, 1, 2]), Payload::Unknown(Some(0xD4)));
    let copied = boxed(0xB0B, 12, &sequenced(3, &[FORMAT_VERSION]));
    let Payload::Boxed { box_id, lsn, inner } = parse(&copied) else {
        panic!("not boxed: {:?}", parse(&copied));
    };
    assert_eq!((box_id, lsn), (0xB0B, 12));
    assert_eq!(
        parse_box_payload(inner),
        Ok((Some(3), &[FORMAT_VERSION][..]))
    );
    assert_eq!(parse(&copied[..16]), Payload::Unknown(Some(0xD5)));
    let refused = parse_box_payload(&deploy("{}")).unwrap_err();
    assert!(refused.contains("a deployment"), "{refused}");
    assert_eq!(parse(&[0x77]), Payload::Unknown(Some(0x77)));
    assert_eq!(parse(&[]), Payload::Unknown(None));
}
