//! Parquet (feature `parquet`): search rows written through the Arrow
//! record batches of [`super::arrow::BatchBuilder`], a row group every
//! [`super::arrow::BATCH_ROWS`] rows, so memory stays bounded by one row
//! group. The Arrow schema is stored in the file's metadata, so Arrow
//! readers (pyarrow, DuckDB) get the text columns back dictionary-encoded
//! and times as `timestamp[us, tz=UTC]`.
//!
//! # Encodings and compression ([`properties`])
//!
//! zstd level 1 on every column (zstd is linked already for the import
//! files, so it adds no C library). The id, the floats and the times are
//! written without a dictionary (their values seldom repeat: a dictionary
//! only costs), the times delta-encoded (`DELTA_BINARY_PACKED`: times of
//! one instance and of neighbouring rows lie close together); text, ints
//! and bools try a dictionary, as Parquet writers do. Measured on the
//! 1,000,000 instances of `bench/export.sh` (BENCHMARKS.md, "Export"),
//! ordered by end: dictionaries everywhere 41.9 MB, no dictionary for
//! times and floats 24.7 MB, and delta-encoded times 15.0 MB, against
//! 40.3 MB for DuckDB 1.5's own export of the same rows (snappy, its
//! default); in storage order, as `bamdb export` writes, 10.0 MB.
//!
//! # Why these crates
//!
//! arrow-rs (`arrow-array`, `arrow-schema`, `arrow-ipc`, and `parquet`
//! with only its `arrow` and `zstd` features) is the Parquet writer that
//! pyarrow, DuckDB and Spark read without surprises, writes the Arrow
//! schema into the file (so the dictionaries and the UTC time zone come
//! back as written) and streams row group by row group. Its cost, measured
//! in BENCHMARKS.md: 24 more crates and a stripped `bamdb` of 10.4 MB
//! instead of 6.5 MB, which is why it sits behind the features and the
//! default build has none of it.

use std::io::Write;

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{WriterProperties, WriterPropertiesBuilder};
use parquet::schema::types::ColumnPath;

use crate::model::ActivityDefinition;
use crate::query::Row;

use super::arrow::{encode, BatchBuilder, BatchSink, Batched, BATCH_ROWS};
use super::{columns, ColumnType, ExportError};

/// The writer properties of `bamdb export` for `def` (see the module
/// docs): zstd level 1, a row group per [`BATCH_ROWS`] rows, no
/// dictionary for the id, the times and the floats (which seldom repeat)
/// and delta encoding for the times.
pub fn properties(def: &ActivityDefinition) -> Result<WriterPropertiesBuilder, ExportError> {
    let level = ZstdLevel::try_new(1).map_err(encode)?;
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(Some(BATCH_ROWS));
    for column in columns(def) {
        let path = ColumnPath::from(column.name.as_str());
        props = match column.ty {
            ColumnType::Id | ColumnType::Float => props.set_column_dictionary_enabled(path, false),
            ColumnType::Timestamp => props
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_encoding(path, Encoding::DELTA_BINARY_PACKED),
            _ => props,
        };
    }
    Ok(props)
}

impl<W: Write + Send> BatchSink for ArrowWriter<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.write(batch).map_err(encode)
    }
}

/// Writes search rows as a Parquet file.
pub struct ParquetWriter<W: Write + Send> {
    inner: Batched<ArrowWriter<W>>,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Starts the file of `def`'s rows on `out`, with [`properties`].
    pub fn new(out: W, def: &ActivityDefinition) -> Result<ParquetWriter<W>, ExportError> {
        ParquetWriter::with_properties(out, def, properties(def)?.build())
    }

    /// Starts the file with other writer properties (compression,
    /// encodings, row group size; start from [`properties`]).
    pub fn with_properties(
        out: W,
        def: &ActivityDefinition,
        props: WriterProperties,
    ) -> Result<ParquetWriter<W>, ExportError> {
        let batch = BatchBuilder::new(def, false);
        let writer = ArrowWriter::try_new(out, batch.schema(), Some(props)).map_err(encode)?;
        Ok(ParquetWriter {
            inner: Batched::new(writer, batch),
        })
    }

    /// Writes one row.
    pub fn write_row(&mut self, row: &Row) -> Result<(), ExportError> {
        self.inner.push(row)
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(self) -> Result<W, ExportError> {
        self.inner.finish()?.into_inner().map_err(encode)
    }
}
