//! CSV (RFC 4180): a header line of the [`super::columns`], then one
//! record per row; fields separated by `,`, records ended by `\n`. A field
//! holding `,`, `"`, a line break, or leading or trailing spaces is quoted
//! with `"`, a `"` inside doubled. Unset values are empty fields; the empty
//! text is `""`, so the two stay apart. Times are RFC 3339 in UTC with six
//! fraction digits, numbers as the JSON output writes them, bools
//! `true`/`false`: the same fields as `bamdb search --format csv`.

use std::borrow::Cow;
use std::io::Write;

use crate::model::{ActivityDefinition, Value};
use crate::query::Row;

use super::{columns, row_values, Column, ExportError};

/// A CSV field, quoted when it must be (see the module docs).
pub fn field(text: &str) -> Cow<'_, str> {
    let needs_quotes =
        text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ');
    if needs_quotes {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(text)
    }
}

/// A value as a CSV field's text (before quoting): text as it is, times
/// in RFC 3339, the rest as JSON writes it.
pub fn plain(value: &Value) -> Cow<'_, str> {
    match value {
        Value::Text(t) => Cow::Borrowed(t),
        Value::Timestamp(t) => Cow::Owned(t.to_string()),
        other => Cow::Owned(other.to_string()),
    }
}

/// Writes rows as CSV.
///
/// ```
/// use bamdb::export::csv::CsvWriter;
/// use bamdb::model::{ActivityDefinition, Value};
/// use bamdb::query::Row;
///
/// let def: ActivityDefinition = serde_json::from_str(
///     r#"{"name":"PurchaseOrder","items":[{"name":"Customer","type":"text","max_len":64}]}"#,
/// )?;
/// let mut w = CsvWriter::new(Vec::new(), &def)?;
/// w.write_row(&Row {
///     values: vec![
///         ("id".into(), Some(Value::from("PO-1"))),
///         ("status".into(), Some(Value::from("active"))),
///         ("Customer".into(), Some(Value::from("Contoso, Ltd"))),
///     ],
/// })?;
/// let text = String::from_utf8(w.finish()?)?;
/// assert_eq!(text, "id,status,begin,end,last_modified,Customer\nPO-1,active,,,,\"Contoso, Ltd\"\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CsvWriter<W: Write> {
    out: W,
    columns: Vec<Column>,
    line: String,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header line of `def`'s columns to `out`.
    pub fn new(out: W, def: &ActivityDefinition) -> Result<CsvWriter<W>, ExportError> {
        let mut w = CsvWriter {
            out,
            columns: columns(def),
            line: String::new(),
        };
        let names = w
            .columns
            .iter()
            .map(|c| Some(Cow::Borrowed(c.name.as_str())));
        record(&mut w.line, &mut w.out, names)?;
        Ok(w)
    }

    /// Writes one row.
    pub fn write_row(&mut self, row: &Row) -> Result<(), ExportError> {
        let mut slots = Vec::with_capacity(self.columns.len());
        row_values(row, &self.columns, &mut slots);
        let fields = slots.into_iter().map(|v| v.map(plain));
        record(&mut self.line, &mut self.out, fields)
    }

    /// Flushes and returns the output.
    pub fn finish(mut self) -> Result<W, ExportError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes one record of `fields` (`None`: unset) through the buffer `line`.
fn record<'a>(
    line: &mut String,
    out: &mut impl Write,
    fields: impl Iterator<Item = Option<Cow<'a, str>>>,
) -> Result<(), ExportError> {
    line.clear();
    for (i, f) in fields.enumerate() {
        if i > 0 {
            line.push(',');
        }
        match f.as_deref() {
            None => {}
            Some("") => line.push_str("\"\""),
            Some(text) => line.push_str(&field(text)),
        }
    }
    line.push('\n');
    out.write_all(line.as_bytes())?;
    Ok(())
}
