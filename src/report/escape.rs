//! The one escape boundary: every captured string that reaches a terminal, a CSV cell or a JSON
//! document passes through here. Which characters are escaped is [`crate::escape`]'s policy
//! (C0/C1 controls, DEL, bidi controls and marks, U+2028/2029, zero-width and invisible format
//! characters).
//!
//! - Text (tables, CSV, stderr): [`escape`] writes them visibly: `\n`, `\r`, `\t`, `\x1b`,
//!   `\u{202e}`.
//! - JSON: [`Escaping`] is a `serde_json` formatter that writes them as `\uXXXX` escapes (the
//!   value decodes to the same string; the bytes on the wire hold none of them raw). Use
//!   [`to_writer`] / [`to_writer_pretty`], never `serde_json::to_writer` directly.

use crate::escape::all_bytes;
pub use crate::escape::{escape, needs_escape};
use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter, PrettyFormatter};
use std::io::{self, Write};

/// A `serde_json` formatter that writes every [`needs_escape`] character as a `\uXXXX` escape
/// (surrogate pairs above U+FFFF), on top of the escapes JSON requires. Wraps the compact or
/// pretty formatter.
pub struct Escaping<F>(pub F);

impl<F: Formatter> Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        // Printable ASCII (nearly every captured string) has nothing to escape.
        if printable_ascii(fragment.as_bytes()) {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{:04x}", u)?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn write_char_escape<W: ?Sized + Write>(&mut self, w: &mut W, e: CharEscape) -> io::Result<()> {
        self.0.write_char_escape(w, e)
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Whether every byte is printable ASCII (0x20..0x7f).
fn printable_ascii(b: &[u8]) -> bool {
    all_bytes(b, |c| c.wrapping_sub(0x20) < 0x5f)
}

/// Whether `b` can go into a JSON string as it is: printable ASCII without `"` or `\`.
fn plain_json(b: &[u8]) -> bool {
    all_bytes(b, |c| (c.wrapping_sub(0x20) < 0x5f) & (c != b'"') & (c != b'\\'))
}

/// Append `s` as a JSON string, quotes included, byte for byte as [`to_writer`] writes it:
/// JSON's own escapes as `serde_json` writes them (`\"`, `\\`, `\n`, `\u001b`...) and every
/// [`needs_escape`] character as [`Escaping`] writes it (`\u007f`, `\u202e`, surrogate pairs).
/// For hand-written writers of hot rows (`exchanges --format ndjson`); a string of printable
/// ASCII (nearly all) is copied in one go.
pub fn push_json_str(out: &mut impl bytes::BufMut, s: &str) {
    out.put_u8(b'"');
    let b = s.as_bytes();
    if plain_json(b) {
        out.put_slice(b);
        out.put_u8(b'"');
        return;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let short: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x20..=0x7e => {
                i += 1;
                continue;
            }
            _ => b"",
        };
        out.put_slice(&b[start..i]);
        if !short.is_empty() {
            out.put_slice(short);
            i += 1;
        } else if c < 0x80 {
            // Other C0 controls (serde_json's `\u00XX`) and DEL ([`Escaping`]'s): the same form.
            out.put_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]]);
            i += 1;
        } else {
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            let n = ch.len_utf8();
            if needs_escape(ch) {
                let mut units = [0u16; 2];
                for u in ch.encode_utf16(&mut units) {
                    let u = *u as usize;
                    out.put_slice(&[b'\\', b'u', HEX[u >> 12], HEX[(u >> 8) & 0xf], HEX[(u >> 4) & 0xf], HEX[u & 0xf]]);
                }
            } else {
                out.put_slice(&b[i..i + n]);
            }
            i += n;
        }
        start = i;
    }
    out.put_slice(&b[start..]);
    out.put_u8(b'"');
}

/// Serialize `value` as compact JSON through [`Escaping`].
pub fn to_writer<W: Write, T: Serialize + ?Sized>(w: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Escaping(CompactFormatter));
    value.serialize(&mut ser)
}

/// Serialize `value` as indented JSON through [`Escaping`].
pub fn to_writer_pretty<W: Write, T: Serialize + ?Sized>(w: W, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Escaping(PrettyFormatter::new()));
    value.serialize(&mut ser)
}

/// Compact escaped JSON as a string (for tests and small values).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut v = Vec::new();
    let _ = to_writer(&mut v, value);
    String::from_utf8(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str =
        "a\x1b[31m\r\n\0\x7f\u{9b}\u{202e}\u{2066}\u{200e}\u{200f}\u{61c}\u{2028}\u{2029}\u{feff}\u{e0041}z";

    use std::borrow::Cow;

    #[test]
    fn text_is_visible() {
        assert_eq!(escape("a\x1b[31mb\n"), "a\\x1b[31mb\\n");
        assert!(matches!(escape("plain ü 日本"), Cow::Borrowed(_)));
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(escape("\u{9b}\u{61c}\u{2028}"), "\\x9b\\u{61c}\\u{2028}");
        assert!(!escape(HOSTILE).chars().any(needs_escape));
    }

    #[test]
    fn printable_ascii_at_every_position() {
        for len in 0..40 {
            let plain = "a".repeat(len);
            assert!(printable_ascii(plain.as_bytes()));
            for at in 0..len {
                for bad in [0x00u8, 0x1f, 0x7f, 0x80, 0xff] {
                    let mut b = plain.clone().into_bytes();
                    b[at] = bad;
                    assert!(!printable_ascii(&b), "len {len} at {at} byte {bad:#x}");
                }
            }
        }
        assert!(printable_ascii(b" ~"));
    }

    #[test]
    fn hand_written_strings_equal_the_formatter() {
        let mut cases: Vec<String> = (0u32..0x3100)
            .chain(0xd7f0..0xe100)
            .chain(0xfe00..0x1_0100)
            .chain(0xe0000..0xe0100)
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b{c}"))
            .collect();
        cases.extend([String::new(), HOSTILE.to_string(), "plain ascii/path?q=1".into(), "x\"y\\z".into()]);
        cases.push("é日本\u{1f600}\u{202e}".repeat(7));
        for s in cases {
            let mut hand = Vec::new();
            push_json_str(&mut hand, &s);
            assert_eq!(String::from_utf8(hand).unwrap(), to_string(&s), "{s:?}");
        }
    }

    #[test]
    fn json_escapes_and_round_trips() {
        for s in [to_string(&HOSTILE), {
            let mut v = Vec::new();
            to_writer_pretty(&mut v, &[HOSTILE]).unwrap();
            String::from_utf8(v).unwrap()
        }] {
            assert!(!s.chars().any(|c| needs_escape(c) && c != '\n'), "{s:?}");
            assert!(s.contains("\\u202e") && s.contains("\\u007f") && s.contains("\\udb40\\udc41"));
            let back: serde_json::Value = serde_json::from_str(&s).unwrap();
            let back = back.as_str().map(str::to_string).or_else(|| back[0].as_str().map(str::to_string));
            assert_eq!(back.as_deref(), Some(HOSTILE));
        }
    }
}

/// HTML text and attribute values: dangerous characters first become visible as in
/// [`escape`] (`\x1b`, `\u{202e}`), then `& < > " '` become entities. Safe in element content
/// and in double- or single-quoted attributes.
pub fn html(s: &str) -> String {
    let v = escape(s);
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markdown inline text: dangerous characters visible as in [`escape`], then a backslash
/// before every character Markdown could read as markup (emphasis, links, code, raw HTML,
/// entities, table pipes), so captured text renders literally and can never become HTML.
pub fn markdown(s: &str) -> String {
    let v = escape(s);
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' | '!' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Markdown code span holding `s` literally: fenced with more backticks than it contains,
/// padded when it starts or ends with one. In a table cell (`in_table`) pipes are written `\|`
/// (GFM reads that as a pipe inside the cell, code spans included).
pub fn markdown_code(s: &str, in_table: bool) -> String {
    let v = escape(s);
    let v = if in_table { v.replace('|', "\\|") } else { v.into_owned() };
    if v.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in v.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if v.starts_with('`') || v.ends_with('`') || v.starts_with(' ') { " " } else { "" };
    format!("{fence}{pad}{v}{pad}{fence}")
}

#[cfg(test)]
mod report_escape_tests {
    use super::*;

    #[test]
    fn html_and_markdown_escape_markup_and_controls() {
        assert_eq!(html("<b a=\"x\">&'\x1b"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;\\x1b");
        assert_eq!(markdown("a|b*<i>"), "a\\|b\\*\\<i\\>");
        assert_eq!(markdown_code("a`b|c", true), "``a`b\\|c``");
        assert_eq!(markdown_code("`x", false), "`` `x ``");
        assert_eq!(html("x\u{202e}y"), "x\\u{202e}y");
    }
}
