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
const PAR_WINDOW: usize = 4;

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
        let mut a = self.array_open(name)?;
        for window in items.chunks(PAR_CHUNK * PAR_WINDOW) {
            let rendered: Vec<io::Result<Vec<u8>>> = window.par_chunks(PAR_CHUNK).map(render_elements).collect();
            for r in rendered {
                a.write(&r?)?;
            }
        }
        a.close()
    }

    /// One field whose value is an array whose elements are rendered elsewhere, in order
    /// ([`render_elements`], on any thread) and written as they come ([`ArrayOut::write`]).
    pub fn array_open<'o>(&'o mut self, name: &str) -> io::Result<ArrayOut<'o, 'w>> {
        self.key(name)?;
        Ok(ArrayOut { o: self, any: false })
    }

    /// Close the object and end the document with a newline.
    pub fn close(self) -> io::Result<()> {
        self.out.write_all(if self.n == 0 { &b"}\n"[..] } else { &b"\n}\n"[..] })
    }
}

/// An array field of an [`Object`] being written ([`Object::array_open`]).
pub struct ArrayOut<'o, 'w> {
    o: &'o mut Object<'w>,
    any: bool,
}

impl ArrayOut<'_, '_> {
    /// Write elements rendered by [`render_elements`] (the next ones in order).
    pub fn write(&mut self, rendered: &[u8]) -> io::Result<()> {
        let Some(rest) = rendered.strip_prefix(b",") else { return Ok(()) };
        if !self.any {
            // The first element: the array opens, without the comma.
            self.any = true;
            self.o.out.write_all(b"[")?;
            return self.o.out.write_all(rest);
        }
        self.o.out.write_all(rendered)
    }

    /// Close the array (`[]` when nothing was written).
    pub fn close(self) -> io::Result<()> {
        self.o.out.write_all(if self.any { &b"\n  ]"[..] } else { &b"[]"[..] })
    }
}

/// Elements of an [`Object`]'s array field, rendered as they appear in the document (each led
/// by `,`, a newline and the indentation), on any thread, for [`ArrayOut::write`].
pub fn render_elements<T: Serialize>(items: impl IntoIterator<Item = T>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut one = Vec::new();
    for item in items {
        one.clear();
        escape::to_writer_pretty(&mut one, &item).map_err(json_io)?;
        buf.extend_from_slice(b",\n    ");
        write_indented(&mut buf, &one, b"\n    ")?;
    }
    Ok(buf)
}

/// Write `rendered` with every newline followed by `newline`'s indentation (raw newlines only
/// occur between tokens: newlines inside strings are escaped).
fn write_indented(out: &mut (impl Write + ?Sized), rendered: &[u8], newline: &[u8]) -> io::Result<()> {
    let mut start = 0;
    for at in memchr::memchr_iter(b'\n', rendered) {
        out.write_all(&rendered[start..at])?;
        out.write_all(newline)?;
        start = at + 1;
    }
    out.write_all(&rendered[start..])
}
