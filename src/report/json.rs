//! JSON: a document, or an array of rows written as they come. Escaped by
//! [`super::escape::Escaping`].

use super::escape;
use super::{json_io, Row, Sink};
use serde::Serialize;
use std::io::{self, Write};

/// One indented JSON document followed by a newline.
pub fn write_document(out: &mut dyn Write, value: &(impl Serialize + ?Sized)) -> io::Result<()> {
    escape::to_writer_pretty(&mut *out, value).map_err(json_io)?;
    out.write_all(b"\n")
}

/// An indented JSON array written one element at a time.
pub struct ArraySink<'w> {
    out: &'w mut dyn Write,
    n: usize,
    buf: Vec<u8>,
}

impl<'w> ArraySink<'w> {
    pub fn new(out: &'w mut dyn Write) -> Self {
        ArraySink { out, n: 0, buf: Vec::new() }
    }

    /// Write one element of the array.
    pub fn element(&mut self, value: &(impl Serialize + ?Sized)) -> io::Result<()> {
        self.buf.clear();
        escape::to_writer_pretty(&mut self.buf, value).map_err(json_io)?;
        self.out.write_all(if self.n == 0 { b"[\n  " } else { b",\n  " })?;
        // Indent the element one level: raw newlines only occur between tokens (newlines
        // inside strings are escaped).
        for (i, line) in self.buf.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                self.out.write_all(b"\n  ")?;
            }
            self.out.write_all(line)?;
        }
        self.n += 1;
        Ok(())
    }

    /// Close the array.
    pub fn close(self) -> io::Result<()> {
        self.out.write_all(if self.n == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

impl<R: Row> Sink<R> for ArraySink<'_> {
    fn row(&mut self, row: &R) -> io::Result<()> {
        self.element(row)
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.close()
    }
}
