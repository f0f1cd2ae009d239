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

/// Elements rendered per parallel task by [`Object::array`].
const PAR_CHUNK: usize = 256;
/// Chunks rendered before they are written (bounds the rendered bytes held at once).
const PAR_WINDOW: usize = 16;

/// An indented JSON object written field by field, byte for byte what [`write_document`]
/// writes for a struct with the same fields in the same order; large arrays
/// ([`Object::array`]) are rendered on both cores, a window of chunks at a time, and written
/// in order. Used by the commands whose documents hold one entry per token, finding or
/// conversation (tens of megabytes on gigabyte inputs), where one thread serializing the
/// whole document was the last single-threaded phase of the run.
pub struct Object<'w> {
    out: &'w mut dyn Write,
    n: usize,
}

impl<'w> Object<'w> {
    pub fn new(out: &'w mut dyn Write) -> io::Result<Self> {
        out.write_all(b"{")?;
        Ok(Object { out, n: 0 })
    }

    fn key(&mut self, name: &str) -> io::Result<()> {
        self.out.write_all(if self.n == 0 { &b"\n  "[..] } else { &b",\n  "[..] })?;
        escape::to_writer(&mut *self.out, name).map_err(json_io)?;
        self.out.write_all(b": ")?;
        self.n += 1;
        Ok(())
    }

    /// One field, rendered on this thread.
    pub fn field(&mut self, name: &str, value: &(impl Serialize + ?Sized)) -> io::Result<()> {
        self.key(name)?;
        let mut buf = Vec::new();
        escape::to_writer_pretty(&mut buf, value).map_err(json_io)?;
        write_indented(&mut *self.out, &buf, b"\n  ")
    }

    /// One field whose value is the array of `items`, rendered in parallel.
    pub fn array<T: Serialize + Sync>(&mut self, name: &str, items: &[T]) -> io::Result<()> {
        use rayon::prelude::*;
        self.key(name)?;
        if items.is_empty() {
            return self.out.write_all(b"[]");
        }
        self.out.write_all(b"[")?;
        for (w, window) in items.chunks(PAR_CHUNK * PAR_WINDOW).enumerate() {
            let rendered: Vec<io::Result<Vec<u8>>> = window
                .par_chunks(PAR_CHUNK)
                .enumerate()
                .map(|(c, chunk)| {
                    let mut buf = Vec::new();
                    let mut one = Vec::new();
                    for (i, item) in chunk.iter().enumerate() {
                        one.clear();
                        escape::to_writer_pretty(&mut one, item).map_err(json_io)?;
                        let first = w == 0 && c == 0 && i == 0;
                        buf.extend_from_slice(if first { &b"\n    "[..] } else { &b",\n    "[..] });
                        write_indented(&mut buf, &one, b"\n    ")?;
                    }
                    Ok(buf)
                })
                .collect();
            for r in rendered {
                self.out.write_all(r?.as_slice())?;
            }
        }
        self.out.write_all(b"\n  ]")
    }

    /// Close the object and end the document with a newline.
    pub fn close(self) -> io::Result<()> {
        self.out.write_all(if self.n == 0 { &b"}\n"[..] } else { &b"\n}\n"[..] })
    }
}

/// Write `rendered` with every newline followed by `newline`'s indentation (raw newlines only
/// occur between tokens: newlines inside strings are escaped).
fn write_indented(out: &mut (impl Write + ?Sized), rendered: &[u8], newline: &[u8]) -> io::Result<()> {
    for (i, line) in rendered.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.write_all(newline)?;
        }
        out.write_all(line)?;
    }
    Ok(())
}
