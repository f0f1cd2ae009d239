//! NDJSON: one JSON object per line, written as rows come. Escaped by
//! [`super::escape::Escaping`].

use super::escape;
use super::{json_io, Row, Sink};
use serde::Serialize;
use std::io::{self, Write};

/// One value as one JSON line.
pub fn write_line(out: &mut dyn Write, value: &(impl Serialize + ?Sized)) -> io::Result<()> {
    escape::to_writer(&mut *out, value).map_err(json_io)?;
    out.write_all(b"\n")
}

pub struct LineSink<'w> {
    out: &'w mut dyn Write,
}

impl<'w> LineSink<'w> {
    pub fn new(out: &'w mut dyn Write) -> Self {
        LineSink { out }
    }
}

impl<R: Row> Sink<R> for LineSink<'_> {
    fn row(&mut self, row: &R) -> io::Result<()> {
        write_line(self.out, row)
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.out.flush()
    }
}
