//! When two events set the same item, the later event timestamp wins,
//! whatever order the frames arrive in; other items are kept.

mod common;

use bamdb::model::Value;
use bamdb::EventStream;
use common::*;

#[test]
fn the_later_timestamp_wins_per_item_regardless_of_arrival() {
    for late_first in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let mut a = store.buffered_stream(0);
        let mut b = store.buffered_stream(0);
        a.set_time(Some(ts("2026-11-22T10:00:00Z")));
        a.begin(PO, "PO-1").unwrap();
        a.update(
            PO,
            "PO-1",
            [
                ("Status", Value::from("Received")),
                ("Customer", "Contoso".into()),
            ],
        )
        .unwrap();
        b.set_time(Some(ts("2026-11-22T11:00:00Z")));
        b.update(PO, "PO-1", [("Status", "Shipped")]).unwrap();
        if late_first {
            b.flush().unwrap();
            a.flush().unwrap();
        } else {
            a.flush().unwrap();
            b.flush().unwrap();
        }
        settle(&store);
        let po = store.get(PO, "PO-1").unwrap().unwrap();
        assert_eq!(
            po.item("Status"),
            Some(&"Shipped".into()),
            "late_first={late_first}"
        );
        assert_eq!(po.item("Customer"), Some(&"Contoso".into()));
        assert_eq!(po.last_modified, Some(ts("2026-11-22T11:00:00Z")));
    }
}
