//! CSV: a header row of [`Row::COLUMNS`], then one record per row, written as rows come.
//! Every cell goes through [`super::escape::escape`].

use super::escape::escape;
use super::{Row, Sink};
use std::io::{self, Write};

pub struct CsvSink<'w> {
    w: ::csv::Writer<&'w mut dyn Write>,
    header: bool,
}

impl<'w> CsvSink<'w> {
    pub fn new(out: &'w mut dyn Write) -> Self {
        CsvSink { w: ::csv::Writer::from_writer(out), header: false }
    }

    /// A sink that writes no header (the records that follow one written before).
    pub fn headless(out: &'w mut dyn Write) -> Self {
        CsvSink { w: ::csv::Writer::from_writer(out), header: true }
    }

    /// Write one record of already-flat cells (escaped here).
    pub fn record<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> io::Result<()> {
        self.w.write_record(cells.into_iter().map(|c| escape(c.as_ref()).into_owned())).map_err(csv_io)
    }

    /// Flush what was written.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    fn header_once<R: Row>(&mut self) -> io::Result<()> {
        if !self.header {
            self.header = true;
            self.record(R::COLUMNS.iter())?;
        }
        Ok(())
    }
}

impl<R: Row> Sink<R> for CsvSink<'_> {
    fn row(&mut self, row: &R) -> io::Result<()> {
        self.header_once::<R>()?;
        self.record(row.cells())
    }
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.header_once::<R>()?;
        self.w.flush()
    }
}

/// A csv error as an I/O error, keeping the I/O error (a closed pipe) when it was one.
fn csv_io(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, format!("{other:?}")),
    }
}
