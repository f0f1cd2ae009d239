//! Compressed inputs: gzip (every member), zstd, bzip2 and zlib around any format, recognized by
//! their magic bytes (never by the file name) and undone before the format is detected.
//!
//! Two ways in, both streaming (the compressed bytes are never all decompressed in memory):
//! - [`open_stream`]: a path (or `-`) as a buffered reader of its decompressed content, for
//!   readers that go line by line (access logs);
//! - [`unwrap_source`]: a [`Source`] whose content is compressed becomes a memory-mapped
//!   unlinked temporary file holding the decompressed bytes, for readers that work on a slice
//!   (HAR, pcap, proxy sessions): the heap stays flat whatever the size.
//!
//! A stream that breaks part way is an error naming the compressed byte where it broke and how
//! much had been decompressed. Layers are peeled up to [`MAX_LAYERS`] deep (a `.gz` of a
//! `.zst`). Output is bounded by [`expansion_limit`] so a small "bomb" cannot fill the disk.

use super::{ReadError, Source};
use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::rc::Rc;

/// Compression layers undone, at most.
pub const MAX_LAYERS: usize = 3;

/// A compression recognized by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    Bzip2,
    Zlib,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Zlib => "zlib",
        })
    }
}

/// The compression whose magic bytes start `head`, if any.
pub fn sniff(head: &[u8]) -> Option<Compression> {
    match head {
        [0x1f, 0x8b, 0x08, ..] => Some(Compression::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Compression::Zstd),
        [b'B', b'Z', b'h', b'1'..=b'9', 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, ..] => Some(Compression::Bzip2),
        // An empty bzip2 stream (end-of-stream marker right away).
        [b'B', b'Z', b'h', b'1'..=b'9', 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, ..] => Some(Compression::Bzip2),
        // zlib: deflate (CM 8) with a window of at most 32 KiB, header checksum valid, no
        // preset dictionary (mitmproxy's .zhar, raw zlib dumps).
        [cmf, flg, ..]
            if cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
                && flg & 0x20 == 0 =>
        {
            Some(Compression::Zlib)
        }
        _ => None,
    }
}

/// Most decompressed bytes accepted from `compressed` bytes: 4096 times plus 64 MiB (deflate
/// cannot exceed ~1032:1; real logs and captures compress 5-50:1).
pub fn expansion_limit(compressed: u64) -> u64 {
    compressed.saturating_mul(4096).saturating_add(64 << 20)
}

/// Counts the bytes read through it, into a shared cell (to name where a stream broke).
struct Counting<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

/// A decoder of one layer over `r`.
pub fn decoder<'a, R: BufRead + 'a>(c: Compression, r: R) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match c {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zlib => Box::new(flate2::bufread::ZlibDecoder::new(r)),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
    })
}

/// Decompress one layer of `data` into an unlinked temporary file and map it.
fn layer_to_mapped(c: Compression, data: &[u8]) -> Result<Source, String> {
    let consumed = Rc::new(Cell::new(0u64));
    let counted = BufReader::with_capacity(64 * 1024, Counting { inner: data, n: consumed.clone() });
    let mut dec = decoder(c, counted).map_err(|e| format!("{c} data cannot be opened: {e}"))?;
    let file =
        tempfile::tempfile().map_err(|e| format!("cannot create a temporary file to decompress {c} data: {e}"))?;
    let mut out = io::BufWriter::with_capacity(256 * 1024, file);
    let limit = expansion_limit(data.len() as u64);
    let mut written = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let k = match dec.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let how = if e.kind() == io::ErrorKind::UnexpectedEof {
                    "the compressed stream is cut off".to_string()
                } else {
                    e.to_string()
                };
                return Err(format!(
                    "{c}-compressed, but unreadable inside: {how} (near compressed byte {}, after {written} bytes decompressed)",
                    consumed.get().min(data.len() as u64)
                ));
            }
        };
        written += k as u64;
        if written > limit {
            return Err(format!(
                "{c}-compressed data expands beyond {limit} bytes ({}x its {} compressed bytes plus 64 MiB); refused as a decompression bomb",
                4096,
                data.len()
            ));
        }
        out.write_all(&buf[..k]).map_err(|e| format!("cannot write decompressed {c} data to a temporary file: {e}"))?;
    }
    let file = out.into_inner().map_err(|e| format!("cannot write decompressed {c} data: {}", e.error()))?;
    if written == 0 {
        return Ok(Source::Owned(Vec::new()));
    }
    // SAFETY: the file is ours alone (unlinked at creation) and no longer written.
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => {
            let _ = m.advise(memmap2::Advice::Sequential);
            Ok(Source::Mapped(m))
        }
        Err(_) => {
            let mut v = Vec::new();
            let mut f = file;
            io::Seek::seek(&mut f, io::SeekFrom::Start(0)).map_err(|e| e.to_string())?;
            f.read_to_end(&mut v).map_err(|e| e.to_string())?;
            Ok(Source::Owned(v))
        }
    }
}

/// One compression layer undone: its kind, compressed and decompressed sizes.
pub type Layer = (Compression, u64, u64);

/// Undo every compression layer around a source's content. Returns the decompressed source
/// (the same one when nothing was compressed) and the layers undone, outermost first, with the
/// compressed and decompressed sizes.
pub fn unwrap_source(src: Source) -> Result<(Source, Vec<Layer>), ReadError> {
    let mut src = src;
    let mut layers = Vec::new();
    while let Some(c) = sniff(src.bytes()) {
        if layers.len() == MAX_LAYERS {
            return Err(ReadError::new(format!("byte 0: more than {MAX_LAYERS} nested compression layers; refused")));
        }
        let before = src.bytes().len() as u64;
        let next = layer_to_mapped(c, src.bytes()).map_err(|e| {
            let at = if layers.is_empty() { String::new() } else { format!(" (inside layer {})", layers.len() + 1) };
            ReadError::new(format!("{e}{at}"))
        })?;
        layers.push((c, before, next.bytes().len() as u64));
        src = next;
    }
    Ok((src, layers))
}

/// A path (or `-` for standard input) as a buffered reader of its decompressed content, every
/// compression layer undone on the fly. Returns the reader and the layers found. Errors while
/// reading name the compression (the caller names the file and line).
pub fn open_stream(path: &Path) -> io::Result<(Box<dyn BufRead + Send>, Vec<Compression>)> {
    let raw: Box<dyn Read + Send> =
        if path.as_os_str() == "-" { Box::new(io::stdin()) } else { Box::new(std::fs::File::open(path)?) };
    stream(raw)
}

/// [`open_stream`] over any reader.
pub fn stream(raw: Box<dyn Read + Send>) -> io::Result<(Box<dyn BufRead + Send>, Vec<Compression>)> {
    let mut r: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(256 * 1024, raw));
    let mut layers = Vec::new();
    loop {
        let head = r.fill_buf()?;
        let Some(c) = sniff(head) else { break };
        if layers.len() == MAX_LAYERS {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "more than 3 nested compression layers"));
        }
        layers.push(c);
        let dec: Box<dyn Read + Send> = match c {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
            Compression::Zlib => Box::new(flate2::bufread::ZlibDecoder::new(r)),
            Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
        };
        r = Box::new(BufReader::with_capacity(256 * 1024, Named { inner: dec, c }));
    }
    Ok((r, layers))
}

/// Names the compression in a decoding error.
struct Named<R> {
    inner: R,
    c: Compression,
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let how = if e.kind() == io::ErrorKind::UnexpectedEof {
                "the compressed stream is cut off".to_string()
            } else {
                e.to_string()
            };
            io::Error::new(e.kind(), format!("{}-compressed, but unreadable inside: {how}", self.c))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(&gz(b"x")), Some(Compression::Gzip));
        assert_eq!(sniff(&zstd::encode_all(&b"x"[..], 3).unwrap()), Some(Compression::Zstd));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"{}").unwrap();
        assert_eq!(sniff(&z.finish().unwrap()), Some(Compression::Zlib));
        let mut b = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        b.write_all(b"abc").unwrap();
        assert_eq!(sniff(&b.finish().unwrap()), Some(Compression::Bzip2));
        for text in [&b"{\"log\":1}"[..], b"123:abc", b"GET / HTTP/1.1", b"xyz", b"BZh", b"\xd4\xc3\xb2\xa1"] {
            assert_eq!(sniff(text), None, "{text:?}");
        }
    }

    #[test]
    fn multi_member_gzip_and_nested_layers() {
        let mut two = gz(b"hello ");
        two.extend(gz(b"world"));
        let nested = zstd::encode_all(&two[..], 3).unwrap();
        let (src, layers) = unwrap_source(Source::Owned(nested)).unwrap();
        assert_eq!(src.bytes(), b"hello world");
        assert_eq!(layers.iter().map(|l| l.0).collect::<Vec<_>>(), [Compression::Zstd, Compression::Gzip]);
        let (mut r, l) = stream(Box::new(io::Cursor::new(two))).unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!((s.as_str(), l), ("hello world", vec![Compression::Gzip]));
    }

    #[test]
    fn broken_streams_say_where() {
        let mut g = gz(&vec![b'a'; 100_000]);
        g.truncate(g.len() / 2);
        let e = unwrap_source(Source::Owned(g)).err().unwrap().message;
        assert!(e.contains("gzip-compressed, but unreadable inside") && e.contains("compressed byte"), "{e}");
        let mut g = gz(b"some text that is long enough to matter");
        let n = g.len();
        g[12..n - 8].iter_mut().for_each(|b| *b = 0xff);
        assert!(unwrap_source(Source::Owned(g)).is_err());
    }
}
