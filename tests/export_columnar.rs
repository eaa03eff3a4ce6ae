//! `bamdb export --format parquet|arrow` (features `arrow`, `parquet`):
//! the file read back with the parquet and arrow-ipc readers has the
//! documented schema and equals `bamdb search --format json`; rows are
//! batched 32,768 at a time.

mod export_common;

use std::fs::File;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch, RecordBatchReader};
use arrow_schema::{DataType, Schema, TimeUnit};
use bamdb::model::Timestamp;
use export_common::{code, columns, export, s, search_json, stderr, store};
use serde_json::Value as J;

/// The value at `row` of `array` as the JSON a search prints.
fn json_at(array: &dyn Array, row: usize) -> J {
    if array.is_null(row) {
        return J::Null;
    }
    match array.data_type() {
        DataType::Utf8 => J::from(array.as_string::<i32>().value(row)),
        DataType::Dictionary(_, _) => {
            let dict = array.as_dictionary::<Int32Type>();
            let key = dict.keys().value(row) as usize;
            J::from(dict.values().as_string::<i32>().value(key))
        }
        DataType::Int64 => J::from(array.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => J::from(array.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => J::from(array.as_boolean().value(row)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let micros = array.as_primitive::<TimestampMicrosecondType>().value(row);
            J::from(Timestamp::from_micros(micros).to_string())
        }
        other => panic!("unexpected type {other}"),
    }
}

fn check_schema(schema: &Schema) {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, columns());
    let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let time = DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC")));
    let want = [
        DataType::Utf8,
        dict.clone(),
        time.clone(),
        time.clone(),
        time.clone(),
        dict.clone(),
        dict,
        DataType::Float64,
        DataType::Int64,
        DataType::Boolean,
        time,
    ];
    for (field, want) in schema.fields().iter().zip(want) {
        assert_eq!(field.data_type(), &want, "{}", field.name());
    }
}

/// The rows of `batches` equal the search's `rows` (in storage order:
/// compared by id).
fn check_rows(batches: &[RecordBatch], rows: &[J]) {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r["id"].as_str().unwrap().to_owned());
    let mut got: Vec<J> = batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows()).map(move |r| {
                let mut row = serde_json::Map::new();
                for (field, column) in b.schema().fields().iter().zip(b.columns()) {
                    row.insert(field.name().clone(), json_at(column, r));
                }
                J::Object(row)
            })
        })
        .collect();
    got.sort_by_key(|r| r["id"].as_str().unwrap().to_owned());
    assert_eq!(got.len(), rows.len());
    for (got, want) in got.iter().zip(&rows) {
        for column in columns() {
            assert_eq!(got[column], want[column], "{column} of {}", want["id"]);
        }
    }
}

#[test]
fn parquet_reads_back_equal_to_search() {
    let (tmp, dir) = store();
    for extra in [&[][..], &["--status", "active"]] {
        let out = tmp.path().join("orders.parquet");
        let o = export(&dir, "parquet", s(&out), extra);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            File::open(&out).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
        check_schema(&reader.schema());
        let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        check_rows(&batches, &search_json(&dir, extra));
    }
}

#[test]
fn arrow_reads_back_equal_to_search() {
    let (tmp, dir) = store();
    let out = tmp.path().join("orders.arrow");
    let o = export(&dir, "arrow", s(&out), &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let reader = arrow_ipc::reader::FileReader::try_new(File::open(&out).unwrap(), None).unwrap();
    check_schema(&reader.schema());
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    check_rows(&batches, &search_json(&dir, &[]));
}

/// More rows than a batch: several record batches (row groups), each
/// text column's dictionary carried across them in the IPC file.
#[test]
fn many_rows_come_in_batches() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let defs = tmp.path().join("defs.json");
    std::fs::write(&defs, export_common::defs_json()).unwrap();
    let o = export_common::bamdb(&["deploy", "--store", s(&dir), s(&defs)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let n = 70_000;
    let mut lines = String::new();
    for i in 0..n {
        lines.push_str(&format!(
            "{{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-{i}\",\"ts\":\"2026-11-01T10:00:00Z\"}}\n\
             {{\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-{i}\",\"ts\":\"2026-11-01T10:00:00Z\",\"data\":{{\"Region\":\"R{}\",\"Qty\":{i}}}}}\n",
            i % 7 + i / 60_000
        ));
        if i % 5000 == 4999 {
            lines.push_str("{\"op\":\"flush\"}\n");
        }
    }
    let o = export_common::bamdb(&["ingest", "--quiet", "--store", s(&dir), "-"], &lines);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for format in ["arrow", "parquet"] {
        let out = tmp.path().join(format!("orders.{format}"));
        let o = export(&dir, format, s(&out), &[]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let batches: Vec<RecordBatch> = if format == "arrow" {
            arrow_ipc::reader::FileReader::try_new(File::open(&out).unwrap(), None)
                .unwrap()
                .map(|b| b.unwrap())
                .collect()
        } else {
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                File::open(&out).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect()
        };
        let total: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(total, n, "{format}");
        let mut regions = std::collections::BTreeSet::new();
        let mut qty_sum = 0i64;
        for b in &batches {
            let region = b.column_by_name("Region").unwrap();
            let qty = b.column_by_name("Qty").unwrap().as_primitive::<Int64Type>();
            for r in 0..b.num_rows() {
                regions.insert(json_at(region, r).as_str().unwrap().to_owned());
                qty_sum += qty.value(r);
            }
        }
        assert_eq!(regions.len(), 8, "{format}: R0..R7");
        assert_eq!(qty_sum, (0..n as i64).sum::<i64>(), "{format}");
    }
}
