//! Terminal tables (comfy-table). Every cell goes through [`super::escape::escape`]; tones
//! become colours only when [`super::Style::color`] says so.

use super::escape::escape;
use super::{Cell, Col, Row, Sink, Style, Tone};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Color, ColumnConstraint, ContentArrangement, Table};
use std::io::{self, Write};

/// A table with harken's style: condensed borders, wrapping to the terminal when stdout is
/// one (never mid-timestamp), coloured only when `style.color`.
pub fn new(cols: &[Col], style: &Style) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(cols.iter().map(|c| c.name).collect::<Vec<_>>());
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    for (i, c) in cols.iter().enumerate() {
        if let Some(col) = t.column_mut(i) {
            if c.nowrap {
                col.set_constraint(ColumnConstraint::ContentWidth);
            }
            if c.right {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    t
}

/// One table cell: escaped, coloured by its tone when colour is on.
pub fn cell(c: &Cell, style: &Style) -> comfy_table::Cell {
    let cell = comfy_table::Cell::new(escape(&c.text));
    if !style.color {
        return cell;
    }
    match c.tone {
        Tone::Plain => cell,
        Tone::Good => cell.fg(Color::Green),
        Tone::Warn => cell.fg(Color::Yellow),
        Tone::Bad => cell.fg(Color::Red),
        Tone::Dim => cell.fg(Color::DarkGrey),
    }
}

/// Add one row of cells.
pub fn add(t: &mut Table, cells: &[Cell], style: &Style) {
    t.add_row(cells.iter().map(|c| cell(c, style)).collect::<Vec<_>>());
}

/// Shorten text for a table cell (keeps the start, marks the cut with `…`).
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Collects rows, prints the table on [`Sink::finish`] (nothing when there was no row).
pub struct TableSink<'w> {
    out: &'w mut dyn Write,
    style: Style,
    table: Option<Table>,
}

impl<'w> TableSink<'w> {
    pub fn new(out: &'w mut dyn Write, style: &Style) -> Self {
        TableSink { out, style: *style, table: None }
    }
}

impl<R: Row> Sink<R> for TableSink<'_> {
    fn row(&mut self, row: &R) -> io::Result<()> {
        let style = self.style;
        let t = self.table.get_or_insert_with(|| new(R::TABLE, &style));
        add(t, &row.table_cells(), &style);
        Ok(())
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        if let Some(t) = self.table {
            writeln!(self.out, "{t}")?;
        }
        self.out.flush()
    }
}
