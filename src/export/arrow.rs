//! Arrow (feature `arrow`): search rows into Arrow record batches typed by
//! the activity definition ([`BatchBuilder`]), and the Arrow IPC file
//! writer ([`ArrowWriter`]). The column mapping is in the module docs of
//! [`super`]: text dictionary-encoded (`Dictionary(Int32, Utf8)`), times
//! `Timestamp(Microsecond, "UTC")`, unset values null.
//!
//! Rows are gathered [`BATCH_ROWS`] at a time, so memory stays bounded by
//! one batch however many rows are written. In the IPC file each text
//! column keeps one dictionary that grows batch by batch (written as delta
//! dictionaries: the IPC file format allows no replacement), so its
//! memory grows with the number of distinct texts, not of rows.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, StringDictionaryBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::model::{ActivityDefinition, Value};
use crate::query::Row;

use super::{columns, row_values, Column, ColumnType, ExportError};

/// Rows per record batch (and Parquet row group): 32,768.
pub const BATCH_ROWS: usize = 1 << 15;

/// The Arrow type of a column.
pub fn data_type(ty: ColumnType) -> DataType {
    let dictionary = || DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    match ty {
        ColumnType::Id => DataType::Utf8,
        ColumnType::Status | ColumnType::Text => dictionary(),
        ColumnType::Int => DataType::Int64,
        ColumnType::Float => DataType::Float64,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    }
}

/// The Arrow schema of `def`'s export: [`super::columns`], each nullable
/// but `id` and `status`.
pub fn schema(def: &ActivityDefinition) -> Schema {
    Schema::new(
        columns(def)
            .iter()
            .map(|c| {
                let nullable = !matches!(c.ty, ColumnType::Id | ColumnType::Status);
                Field::new(c.name.clone(), data_type(c.ty), nullable)
            })
            .collect::<Vec<_>>(),
    )
}

/// One column's builder.
enum Builder {
    Utf8(StringBuilder),
    Dictionary(StringDictionaryBuilder<Int32Type>),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMicrosecondBuilder),
}

impl Builder {
    fn new(ty: ColumnType) -> Builder {
        match ty {
            ColumnType::Id => Builder::Utf8(StringBuilder::new()),
            ColumnType::Status | ColumnType::Text => {
                Builder::Dictionary(StringDictionaryBuilder::new())
            }
            ColumnType::Int => Builder::Int(Int64Builder::new()),
            ColumnType::Float => Builder::Float(Float64Builder::new()),
            ColumnType::Bool => Builder::Bool(BooleanBuilder::new()),
            ColumnType::Timestamp => {
                Builder::Time(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
        }
    }

    /// Appends `value` (null when `None`); `Err` with the value's type
    /// name when it does not fit.
    fn append(&mut self, value: Option<&Value>) -> Result<(), &'static str> {
        match (self, value) {
            (Builder::Utf8(b), Some(Value::Text(t))) => b.append_value(t),
            (Builder::Utf8(b), None) => b.append_null(),
            (Builder::Dictionary(b), Some(Value::Text(t))) => {
                b.append_value(t);
            }
            (Builder::Dictionary(b), None) => b.append_null(),
            (Builder::Int(b), Some(Value::Int(i))) => b.append_value(*i),
            (Builder::Int(b), None) => b.append_null(),
            (Builder::Float(b), Some(Value::Float(f))) => b.append_value(*f),
            // An int read into a float item (as the bus coerces it).
            (Builder::Float(b), Some(Value::Int(i))) => b.append_value(*i as f64),
            (Builder::Float(b), None) => b.append_null(),
            (Builder::Bool(b), Some(Value::Bool(v))) => b.append_value(*v),
            (Builder::Bool(b), None) => b.append_null(),
            (Builder::Time(b), Some(Value::Timestamp(t))) => b.append_value(t.as_micros()),
            (Builder::Time(b), None) => b.append_null(),
            (_, Some(other)) => return Err(other.type_name()),
        }
        Ok(())
    }

    /// The column so far; `keep_dictionary`: a dictionary column keeps
    /// its values for the next batch (see the module docs).
    fn finish(&mut self, keep_dictionary: bool) -> ArrayRef {
        match self {
            Builder::Utf8(b) => Arc::new(b.finish()),
            Builder::Dictionary(b) if keep_dictionary => Arc::new(b.finish_preserve_values()),
            Builder::Dictionary(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
        }
    }
}

/// Gathers search rows into record batches of `def`'s [`schema`].
pub struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<Column>,
    builders: Vec<Builder>,
    rows: usize,
    keep_dictionaries: bool,
}

impl BatchBuilder {
    /// A builder of `def`'s batches. `keep_dictionaries`: each text
    /// column's dictionary carries over from batch to batch (for an IPC
    /// file); otherwise each batch has its own.
    pub fn new(def: &ActivityDefinition, keep_dictionaries: bool) -> BatchBuilder {
        let columns = columns(def);
        BatchBuilder {
            schema: Arc::new(schema(def)),
            builders: columns.iter().map(|c| Builder::new(c.ty)).collect(),
            columns,
            rows: 0,
            keep_dictionaries,
        }
    }

    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Appends one row (a search row with the default columns, or any
    /// columns matched by name).
    pub fn push(&mut self, row: &Row) -> Result<(), ExportError> {
        let mut slots = Vec::with_capacity(self.columns.len());
        row_values(row, &self.columns, &mut slots);
        for ((builder, value), column) in self.builders.iter_mut().zip(slots).zip(&self.columns) {
            builder.append(value).map_err(|found| ExportError::Type {
                id: match row.get("id") {
                    Some(Value::Text(id)) => id.clone(),
                    _ => String::new(),
                },
                item: column.name.clone(),
                found,
                expected: type_name(column.ty),
            })?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Rows appended since the last batch.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was appended since the last batch.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rows appended since the last batch, as a batch.
    pub fn finish(&mut self) -> Result<RecordBatch, ExportError> {
        let keep = self.keep_dictionaries;
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(|b| b.finish(keep)).collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(encode)
    }
}

fn type_name(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Id | ColumnType::Status | ColumnType::Text => "text",
        ColumnType::Int => "int",
        ColumnType::Float => "float",
        ColumnType::Bool => "bool",
        ColumnType::Timestamp => "timestamp",
    }
}

/// An Arrow or Parquet error as an export error.
pub(super) fn encode(e: impl std::fmt::Display) -> ExportError {
    ExportError::Encode(e.to_string())
}

/// Where full batches go: an IPC file or a Parquet file.
pub(super) trait BatchSink {
    /// Writes one batch.
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError>;
}

impl<W: Write> BatchSink for arrow_ipc::writer::FileWriter<W> {
    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        self.write(batch).map_err(encode)
    }
}

/// Rows gathered into batches of [`BATCH_ROWS`], each written to the
/// sink as it fills.
pub(super) struct Batched<S: BatchSink> {
    sink: S,
    batch: BatchBuilder,
}

impl<S: BatchSink> Batched<S> {
    pub(super) fn new(sink: S, batch: BatchBuilder) -> Batched<S> {
        Batched { sink, batch }
    }

    /// Appends a row; writes the batch when full.
    pub(super) fn push(&mut self, row: &Row) -> Result<(), ExportError> {
        self.batch.push(row)?;
        if self.batch.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        let batch = self.batch.finish()?;
        self.sink.write_batch(&batch)
    }

    /// Writes the last batch; returns the sink.
    pub(super) fn finish(mut self) -> Result<S, ExportError> {
        if !self.batch.is_empty() {
            self.flush()?;
        }
        Ok(self.sink)
    }
}

/// Writes search rows as an Arrow IPC file, a record batch every
/// [`BATCH_ROWS`] rows.
pub struct ArrowWriter<W: Write> {
    inner: Batched<arrow_ipc::writer::FileWriter<W>>,
}

impl<W: Write> ArrowWriter<W> {
    /// Starts the file of `def`'s rows on `out`.
    pub fn new(out: W, def: &ActivityDefinition) -> Result<ArrowWriter<W>, ExportError> {
        let batch = BatchBuilder::new(def, true);
        let options = arrow_ipc::writer::IpcWriteOptions::default()
            .with_dictionary_handling(arrow_ipc::writer::DictionaryHandling::Delta);
        let file =
            arrow_ipc::writer::FileWriter::try_new_with_options(out, &batch.schema(), options)
                .map_err(encode)?;
        Ok(ArrowWriter {
            inner: Batched::new(file, batch),
        })
    }

    /// Writes one row.
    pub fn write_row(&mut self, row: &Row) -> Result<(), ExportError> {
        self.inner.push(row)
    }

    /// Writes the last batch and the file's footer; returns the output.
    pub fn finish(self) -> Result<W, ExportError> {
        let mut file = self.inner.finish()?;
        file.finish().map_err(encode)?;
        file.into_inner().map_err(encode)
    }
}
