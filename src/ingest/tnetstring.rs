//! tnetstrings, the serialization of mitmproxy flow dumps: `<length>:<payload><tag>` where the
//! tag says the type (`,` bytes, `;` text, `#` integer, `^` float, `!` boolean, `~` null,
//! `}` dictionary, `]` list).
//!
//! Values borrow from the input (no copy of bodies). Hostile input is bounded: lengths are
//! checked against the bytes that remain, a length has at most [`MAX_LEN_DIGITS`] digits, and
//! nesting deeper than [`MAX_DEPTH`] is refused, so parsing is linear in the input and the
//! stack stays small.

/// Nesting depth accepted (mitmproxy flows nest about 5 deep).
pub const MAX_DEPTH: usize = 64;
/// Digits of a length prefix accepted (up to 10^12 - 1 bytes).
pub const MAX_LEN_DIGITS: usize = 12;

/// One tnetstring value, borrowed from the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Bytes(&'a [u8]),
    Str(&'a [u8]),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Dict(Vec<(Value<'a>, Value<'a>)>),
    List(Vec<Value<'a>>),
}

/// Why bytes are not a tnetstring, and at which byte (from the start of the input).
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub at: usize,
    pub message: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "byte {}: {}", self.at, self.message)
    }
}

impl<'a> Value<'a> {
    /// The value of a dictionary key, whether keys are byte strings (Python 2 dumps) or text.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Dict(items) => items.iter().find(|(k, _)| k.as_bytes() == Some(key.as_bytes())).map(|(_, v)| v),
            _ => None,
        }
    }
    /// The first of several keys present (a field renamed across format versions); a `null`
    /// value counts as absent.
    pub fn get_any(&self, keys: &[&str]) -> Option<&Value<'a>> {
        keys.iter().find_map(|k| self.get(k).filter(|v| !v.is_null()))
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// Bytes of a byte string or text.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) | Value::Str(b) => Some(b),
            _ => None,
        }
    }
    /// Text of a byte string or text (invalid UTF-8 replaced).
    pub fn text(&self) -> Option<String> {
        self.as_bytes().map(|b| String::from_utf8_lossy(b).into_owned())
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.is_finite() => Some(*f as i64),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
}

/// Parse one value starting at `pos` of `data`. Returns the value and the position after it.
pub fn parse(data: &[u8], pos: usize) -> Result<(Value<'_>, usize), Error> {
    parse_at(data, pos, 0)
}

fn parse_at(data: &[u8], pos: usize, depth: usize) -> Result<(Value<'_>, usize), Error> {
    let err = |at: usize, m: String| Error { at, message: m };
    if depth > MAX_DEPTH {
        return Err(err(pos, format!("values nested more than {MAX_DEPTH} deep")));
    }
    let rest = data.get(pos..).unwrap_or(&[]);
    if rest.is_empty() {
        return Err(err(pos, "the data ends where a value should start".into()));
    }
    let Some(colon) = rest.iter().take(MAX_LEN_DIGITS + 1).position(|&c| c == b':') else {
        let cut = rest.len() <= MAX_LEN_DIGITS && rest.iter().all(u8::is_ascii_digit);
        return Err(err(
            pos,
            if cut {
                "the data ends inside a length prefix".into()
            } else {
                format!("expected a length prefix `<digits>:`, found {}", crate::ingest::show_head(rest))
            },
        ));
    };
    let digits = &rest[..colon];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(err(
            pos,
            format!("expected a length prefix `<digits>:`, found {}", crate::ingest::show_head(rest)),
        ));
    }
    // At most 12 digits: fits u64.
    let len = digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    let start = pos + colon + 1;
    let avail = (data.len() - start) as u64;
    if len >= avail {
        return Err(err(
            pos,
            format!("a value declares {len} bytes but the data ends after {}", avail.saturating_sub(1)),
        ));
    }
    let end = start + len as usize;
    let payload = &data[start..end];
    let tag = data[end];
    let next = end + 1;
    let bad = |what: &str| err(start, format!("{what} {}", crate::ingest::show_head(payload)));
    let v = match tag {
        b',' => Value::Bytes(payload),
        b';' => Value::Str(payload),
        b'#' => {
            let s = std::str::from_utf8(payload).map_err(|_| bad("an integer that is not text:"))?;
            match s.parse::<i64>() {
                Ok(i) => Value::Int(i),
                // Python integers are unbounded; keep a huge one as a float.
                Err(_) => Value::Float(s.parse::<f64>().map_err(|_| bad("not an integer:"))?),
            }
        }
        b'^' => {
            let s = std::str::from_utf8(payload).map_err(|_| bad("a float that is not text:"))?;
            Value::Float(s.parse::<f64>().map_err(|_| bad("not a float:"))?)
        }
        b'!' => match payload {
            b"true" => Value::Bool(true),
            b"false" => Value::Bool(false),
            _ => return Err(bad("not a boolean:")),
        },
        b'~' => {
            if !payload.is_empty() {
                return Err(bad("a null with a payload:"));
            }
            Value::Null
        }
        b'}' => {
            let mut items = Vec::new();
            let mut p = start;
            while p < end {
                let (k, after_k) = parse_at(&data[..end], p, depth + 1)?;
                if after_k >= end {
                    return Err(err(p, "a dictionary key has no value".into()));
                }
                let (v, after_v) = parse_at(&data[..end], after_k, depth + 1)?;
                items.push((k, v));
                p = after_v;
            }
            Value::Dict(items)
        }
        b']' => {
            let mut items = Vec::new();
            let mut p = start;
            while p < end {
                let (v, after) = parse_at(&data[..end], p, depth + 1)?;
                items.push(v);
                p = after;
            }
            Value::List(items)
        }
        other => {
            return Err(err(end, format!("unknown type tag {:?} (0x{other:02x})", other as char)));
        }
    };
    Ok((v, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_type() {
        let inner = "1:a,3:xyz;1:b,2:42#1:c,4:1.50^1:d,4:true!1:e,0:~1:f,4:1:1#]";
        let d = format!("{}:{inner}}}", inner.len());
        let d = d.as_bytes();
        let (v, n) = parse(d, 0).unwrap();
        assert_eq!(n, d.len());
        assert_eq!(v.get("a").unwrap().as_bytes(), Some(&b"xyz"[..]));
        assert_eq!(v.get("b").unwrap().as_i64(), Some(42));
        assert_eq!(v.get("c").unwrap().as_f64(), Some(1.5));
        assert_eq!(v.get("d").unwrap().as_bool(), Some(true));
        assert!(v.get("e").unwrap().is_null());
        assert_eq!(v.get("f").unwrap().as_list().unwrap().len(), 1);
        assert!(v.get_any(&["e", "b"]).is_some_and(|x| x.as_i64() == Some(42)));
    }

    #[test]
    fn hostile_input_is_an_error_never_a_panic() {
        for bad in [
            &b""[..],
            b"5:abc,",
            b"99999999999999999999:x,",
            b"3:abcX",
            b"x:abc,",
            b"2:1:}",
            b"4:1:a,}",
            b"3:abc",
            b"1:a#",
            b"4:nope!",
            b"1:x~",
            b"123",
        ] {
            assert!(parse(bad, 0).is_err(), "{bad:?}");
        }
        // Deep nesting is refused before the stack is at risk.
        let mut deep = b"0:]".to_vec();
        for _ in 0..200 {
            deep = [format!("{}:", deep.len()).into_bytes(), deep, b"]".to_vec()].concat();
        }
        let e = parse(&deep, 0).unwrap_err();
        assert!(e.message.contains("nested"), "{e}");
    }
}
