//! The escape policy: which characters must never reach output raw, and how they are shown in
//! text. A leaf module (it uses nothing of the crate) so that every layer can use it; the
//! renderers use it through [`crate::report::escape`], which adds the JSON form.
//!
//! Escaped: C0 and C1 controls and DEL; bidi embeddings, overrides and isolates
//! (U+202A–U+202E, U+2066–U+2069) and marks (U+200E, U+200F, U+061C); line and paragraph
//! separators (U+2028, U+2029); zero-width and invisible format characters (U+200B–U+200D,
//! U+2060–U+2064, U+206A–U+206F, U+FEFF, U+FFF9–U+FFFB, tags U+E0000–U+E007F). None of them
//! can then move the cursor, change colours, reorder or hide text.

use std::borrow::Cow;

/// Whether a character must never reach output raw.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c as u32,
            0x061c
                | 0x200b..=0x200f
                | 0x2028..=0x202e
                | 0x2060..=0x2064
                | 0x2066..=0x206f
                | 0xfeff
                | 0xfff9..=0xfffb
                | 0xe0000..=0xe007f
        )
}

/// Whether `ok` holds for every byte, checked 16 bytes at a time (a loop the compiler
/// vectorises: this runs on every string of every JSON row and every URL masked).
#[inline(always)]
pub fn all_bytes(b: &[u8], ok: impl Fn(u8) -> bool + Copy) -> bool {
    let fold = |acc: bool, c: &u8| acc & ok(*c);
    let mut chunks = b.chunks_exact(16);
    for c in &mut chunks {
        if !c.iter().fold(true, fold) {
            return false;
        }
    }
    chunks.remainder().iter().fold(true, fold)
}

/// Escape for a terminal or a CSV cell: dangerous characters become visible (`\x1b`,
/// `\u{202e}`); newlines are always escaped. Borrows when nothing needs escaping.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_visible(out: &mut String, c: char) {
    use std::fmt::Write as _;
    if !needs_escape(c) {
        out.push(c);
        return;
    }
    let _ = match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if (c as u32) < 0x100 => write!(out, "\\x{:02x}", c as u32),
        c => write!(out, "\\u{{{:x}}}", c as u32),
    };
}
