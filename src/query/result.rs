//! [`AggregateResult`]: what an aggregation gives, column names and one
//! [`AggRow`] of typed [`Cell`]s per group, and its table form.

use std::fmt::Write as _;

use serde::Serialize;

use super::cell::Cell;

/// The result of an aggregation: column names and one row per group.
///
/// JSON form: `{"columns": [...], "rows": [[cell, ...], ...]}` with cells
/// as described at [`Cell`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateResult {
    /// Key columns, then measure columns.
    pub columns: Vec<String>,
    /// One row per group, sorted by key.
    pub rows: Vec<AggRow>,
}

/// One group: its key cells, then its measure cells, in column order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct AggRow {
    /// The cells, one per column.
    pub cells: Vec<Cell>,
}

impl AggRow {
    /// The cell of a column, by the result's column list.
    pub fn get<'a>(&'a self, result: &AggregateResult, column: &str) -> Option<&'a Cell> {
        let i = result.columns.iter().position(|c| c == column)?;
        self.cells.get(i)
    }
}

impl AggregateResult {
    /// A plain-text table for people: a header, a rule, one line per group;
    /// numbers and durations right-aligned, the rest left-aligned; floats
    /// rounded for reading (two decimals, three significant digits below 1;
    /// the rows themselves and the JSON form keep full precision).
    pub fn to_table(&self) -> String {
        let texts: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.cells.iter().map(table_text).collect())
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &texts {
            for (w, t) in widths.iter_mut().zip(row) {
                *w = (*w).max(t.chars().count());
            }
        }
        let right: Vec<bool> = (0..self.columns.len())
            .map(|i| {
                self.rows.iter().any(|r| {
                    matches!(
                        r.cells.get(i),
                        Some(Cell::Int(_) | Cell::Float(_) | Cell::Duration(_))
                    )
                })
            })
            .collect();
        let mut out = String::new();
        let mut line = |cells: &[String]| {
            let mut l = String::new();
            for (i, (t, w)) in cells.iter().zip(&widths).enumerate() {
                if i > 0 {
                    l.push_str("  ");
                }
                if right.get(i).copied().unwrap_or(false) {
                    let _ = write!(l, "{t:>w$}");
                } else {
                    let _ = write!(l, "{t:<w$}");
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(&self.columns);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&rule);
        for row in &texts {
            line(row);
        }
        out
    }
}

/// A cell as the table shows it.
fn table_text(cell: &Cell) -> String {
    match cell {
        Cell::Float(f) if f.is_finite() && *f != 0.0 && f.abs() < 1.0 => {
            // Three significant digits: 0.00123 stays readable.
            let decimals = (2 - f.abs().log10().floor() as i32).clamp(2, 17) as usize;
            format!("{f:.decimals$}")
        }
        Cell::Float(f) if f.is_finite() => format!("{f:.2}"),
        other => other.to_string(),
    }
}
