//! Keyed pseudonyms: HMAC-SHA256 of the original under the user's key, shaped like the
//! original.
//!
//! The same value under the same key always gives the same pseudonym, whatever file or run it
//! comes from, so a token issued in one capture and used in another still matches, and a
//! refresh chain keeps its links. Without the key the pseudonym says nothing about the value.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A pseudonym generator under one key.
#[derive(Clone)]
pub struct Keyed {
    key: Vec<u8>,
}

impl Keyed {
    pub fn new(key: &[u8]) -> Keyed {
        Keyed { key: key.to_vec() }
    }

    /// `n` pseudo-random bytes determined by (key, domain, value, attempt).
    pub fn bytes(&self, domain: &str, value: &[u8], attempt: u32, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 32);
        let mut block = 0u32;
        while out.len() < n {
            // The key is any byte string; HMAC accepts every length.
            let Ok(mut mac) = HmacSha256::new_from_slice(&self.key) else { break };
            mac.update(domain.as_bytes());
            mac.update(&[0]);
            mac.update(value);
            mac.update(&[0]);
            mac.update(&attempt.to_be_bytes());
            mac.update(&block.to_be_bytes());
            out.extend_from_slice(&mac.finalize().into_bytes());
            block += 1;
        }
        out.truncate(n);
        out
    }

    /// A pseudonym with the same length and character classes: each ASCII lower-case letter,
    /// upper-case letter and digit becomes another of its class; every other character
    /// (`.`, `-`, `_`, `=`, `+`, `/`, `@`, spaces) stays where it is. Non-ASCII letters become
    /// ASCII lower-case letters (the value keeps its character count, not its byte length).
    pub fn shape(&self, value: &str, attempt: u32) -> String {
        let n = value.chars().count();
        let r = self.bytes("shape", value.as_bytes(), attempt, n.max(1));
        value
            .chars()
            .zip(r.iter())
            .map(|(c, b)| match c {
                'a'..='z' => (b'a' + b % 26) as char,
                'A'..='Z' => (b'A' + b % 26) as char,
                '0'..='9' => (b'0' + b % 10) as char,
                c if c.is_alphanumeric() => (b'a' + b % 26) as char,
                c => c,
            })
            .collect()
    }

    /// A pseudonym for a base64url segment (a JWT signature, a JWE part): the same number of
    /// decoded bytes, encoded the same way, so the token still parses. None when `segment` is
    /// not base64url.
    pub fn b64_segment(&self, segment: &str) -> Option<String> {
        let trimmed = segment.trim_end_matches('=');
        let pad = segment.len() - trimmed.len();
        let standard = trimmed.bytes().any(|b| b == b'+' || b == b'/');
        let decoded = if standard {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed).ok()?
        } else {
            URL_SAFE_NO_PAD.decode(trimmed).ok()?
        };
        let fresh = self.bytes("b64", segment.as_bytes(), 0, decoded.len());
        let mut s = if standard {
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(fresh)
        } else {
            URL_SAFE_NO_PAD.encode(fresh)
        };
        s.push_str(&"=".repeat(pad));
        Some(s)
    }

    /// A random-looking hex string of `n` characters (for values with no shape worth keeping).
    pub fn hex(&self, value: &str, n: usize) -> String {
        let b = self.bytes("hex", value.as_bytes(), 0, n.div_ceil(2));
        let mut s: String = b.iter().map(|b| format!("{b:02x}")).collect();
        s.truncate(n);
        s
    }
}

/// A fresh random key (32 bytes, hex) for a run without `--key`.
pub fn random_key() -> anyhow::Result<String> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|e| anyhow::anyhow!("no random key could be made ({e}); give --key"))?;
    Ok(b.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_pseudonym_and_shape_kept() {
        let k = Keyed::new(b"k1");
        let v = "AbC-123_xyz.Q==";
        let p = k.shape(v, 0);
        assert_eq!(p, Keyed::new(b"k1").shape(v, 0));
        assert_ne!(p, Keyed::new(b"k2").shape(v, 0));
        assert_ne!(p, v);
        assert_eq!(p.len(), v.len());
        for (a, b) in v.chars().zip(p.chars()) {
            assert_eq!(a.is_ascii_lowercase(), b.is_ascii_lowercase());
            assert_eq!(a.is_ascii_uppercase(), b.is_ascii_uppercase());
            assert_eq!(a.is_ascii_digit(), b.is_ascii_digit());
            if !a.is_ascii_alphanumeric() {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn b64_segments_stay_decodable() {
        let k = Keyed::new(b"k");
        for n in 0..70 {
            let seg = URL_SAFE_NO_PAD.encode(vec![7u8; n]);
            let p = k.b64_segment(&seg).unwrap();
            assert_eq!(p.len(), seg.len());
            assert_eq!(URL_SAFE_NO_PAD.decode(&p).unwrap().len(), n);
        }
        assert!(k.b64_segment("not*b64").is_none());
    }
}
