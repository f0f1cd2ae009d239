//! Typed column tables for `harken export`: built row by row, written as Parquet (through a
//! polars `DataFrame`), CSV or NDJSON with the same columns.

#[cfg(feature = "polars")]
use polars::prelude::*;

/// One column's values.
pub enum Values {
    Str(Vec<Option<String>>),
    I64(Vec<Option<i64>>),
    F64(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

/// A column: name and values.
pub struct Col {
    pub name: &'static str,
    pub values: Values,
}

/// A table under construction: fixed columns, rows appended with [`Table::row`].
pub struct Table {
    pub name: &'static str,
    pub cols: Vec<Col>,
}

/// One cell of a row being appended.
pub enum Cell {
    S(Option<String>),
    I(Option<i64>),
    F(Option<f64>),
    B(Option<bool>),
}

impl Table {
    /// A table with these columns; the type of each is fixed by its first cell.
    pub fn new(name: &'static str, schema: &[(&'static str, char)]) -> Table {
        let cols = schema
            .iter()
            .map(|&(name, t)| Col {
                name,
                values: match t {
                    'i' => Values::I64(Vec::new()),
                    'f' => Values::F64(Vec::new()),
                    'b' => Values::Bool(Vec::new()),
                    _ => Values::Str(Vec::new()),
                },
            })
            .collect();
        Table { name, cols }
    }

    pub fn len(&self) -> usize {
        match self.cols.first().map(|c| &c.values) {
            Some(Values::Str(v)) => v.len(),
            Some(Values::I64(v)) => v.len(),
            Some(Values::F64(v)) => v.len(),
            Some(Values::Bool(v)) => v.len(),
            None => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append a row: one cell per column, in order, of the column's type (a mismatched cell
    /// is stored as null: a programming error, caught by the tests, never a panic).
    pub fn row(&mut self, cells: Vec<Cell>) {
        for (col, cell) in self.cols.iter_mut().zip(cells) {
            match (&mut col.values, cell) {
                (Values::Str(v), Cell::S(x)) => v.push(x),
                (Values::I64(v), Cell::I(x)) => v.push(x),
                (Values::F64(v), Cell::F(x)) => v.push(x),
                (Values::Bool(v), Cell::B(x)) => v.push(x),
                (Values::Str(v), _) => v.push(None),
                (Values::I64(v), _) => v.push(None),
                (Values::F64(v), _) => v.push(None),
                (Values::Bool(v), _) => v.push(None),
            }
        }
    }

    /// The rows whose index is in `idx`, as a new table.
    pub fn take(&self, idx: &[usize]) -> Table {
        fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
            idx.iter().filter_map(|&i| v.get(i).cloned()).collect()
        }
        let cols = self
            .cols
            .iter()
            .map(|c| Col {
                name: c.name,
                values: match &c.values {
                    Values::Str(v) => Values::Str(pick(v, idx)),
                    Values::I64(v) => Values::I64(pick(v, idx)),
                    Values::F64(v) => Values::F64(pick(v, idx)),
                    Values::Bool(v) => Values::Bool(pick(v, idx)),
                },
            })
            .collect();
        Table { name: self.name, cols }
    }

    /// As a polars frame (Parquet types: BYTE_ARRAY UTF8, INT64, DOUBLE, BOOLEAN; all nullable).
    #[cfg(feature = "polars")]
    pub fn frame(&self) -> PolarsResult<DataFrame> {
        let cols: Vec<Column> = self
            .cols
            .iter()
            .map(|c| {
                let name: PlSmallStr = c.name.into();
                match &c.values {
                    Values::Str(v) => Series::new(name, v.as_slice()),
                    Values::I64(v) => Series::new(name, v.as_slice()),
                    Values::F64(v) => Series::new(name, v.as_slice()),
                    Values::Bool(v) => Series::new(name, v.as_slice()),
                }
                .into_column()
            })
            .collect();
        DataFrame::new(self.len(), cols)
    }

    /// Column names, in order.
    pub fn header(&self) -> Vec<&'static str> {
        self.cols.iter().map(|c| c.name).collect()
    }

    /// One row as JSON values.
    pub fn json_row(&self, i: usize) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        for c in &self.cols {
            let v = match &c.values {
                Values::Str(v) => v.get(i).cloned().flatten().map(serde_json::Value::String),
                Values::I64(v) => v.get(i).copied().flatten().map(Into::into),
                Values::F64(v) => v.get(i).copied().flatten().and_then(serde_json::Number::from_f64).map(Into::into),
                Values::Bool(v) => v.get(i).copied().flatten().map(Into::into),
            };
            m.insert(c.name.to_string(), v.unwrap_or(serde_json::Value::Null));
        }
        m
    }

    /// One row as CSV cells (null is empty).
    pub fn csv_row(&self, i: usize) -> Vec<String> {
        self.cols
            .iter()
            .map(|c| match &c.values {
                Values::Str(v) => v.get(i).cloned().flatten().unwrap_or_default(),
                Values::I64(v) => v.get(i).copied().flatten().map(|x| x.to_string()).unwrap_or_default(),
                Values::F64(v) => v.get(i).copied().flatten().map(|x| x.to_string()).unwrap_or_default(),
                Values::Bool(v) => v.get(i).copied().flatten().map(|x| x.to_string()).unwrap_or_default(),
            })
            .collect()
    }
}
