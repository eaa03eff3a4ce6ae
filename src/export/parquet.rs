//! Parquet (feature `parquet`): search rows written through the Arrow
//! record batches of [`super::arrow::BatchBuilder`], a row group every
//! [`super::arrow::BATCH_ROWS`] rows, so memory stays bounded by one row
//! group. The Arrow schema is stored in the file's metadata, so Arrow
//! readers (pyarrow, DuckDB) get the text columns back dictionary-encoded
//! and times as `timestamp[us, tz=UTC]`.
//!
//! Compression is zstd level 1 on every column. The `id` column, whose
//! values all differ, is written without a dictionary (a dictionary of
//! unique values only costs); the other columns try one, as Parquet
//! writers do.

use std::io::Write;

use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::model::ActivityDefinition;
use crate::query::Row;

use super::arrow::{encode, BatchBuilder, BATCH_ROWS};
use super::ExportError;

/// Writes search rows as a Parquet file.
pub struct ParquetWriter<W: Write + Send> {
    inner: ArrowWriter<W>,
    batch: BatchBuilder,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Starts the file of `def`'s rows on `out`.
    pub fn new(out: W, def: &ActivityDefinition) -> Result<ParquetWriter<W>, ExportError> {
        let batch = BatchBuilder::new(def, false);
        let level = ZstdLevel::try_new(1).map_err(encode)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(BATCH_ROWS))
            .set_column_dictionary_enabled(ColumnPath::from("id"), false)
            .build();
        let inner = ArrowWriter::try_new(out, batch.schema(), Some(props)).map_err(encode)?;
        Ok(ParquetWriter { inner, batch })
    }

    /// Writes one row.
    pub fn write_row(&mut self, row: &Row) -> Result<(), ExportError> {
        self.batch.push(row)?;
        if self.batch.len() >= BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<(), ExportError> {
        let batch = self.batch.finish()?;
        self.inner.write(&batch).map_err(encode)
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(mut self) -> Result<W, ExportError> {
        if !self.batch.is_empty() {
            self.flush_batch()?;
        }
        self.inner.into_inner().map_err(encode)
    }
}
