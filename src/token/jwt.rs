//! JOSE compact serialization: telling a JWT (JWS with JSON claims) from a JWS with some other
//! payload, an encrypted JWE, a truncated or garbled token, and an opaque token that merely
//! contains dots (RFC 6750's `mF_9.B5f-4.1JqM`).
//!
//! Nothing here verifies a signature unless a key set is given ([`Keys`], `--jwks`): the
//! decoded claims are what the token *says*, which is what a server would read once it had
//! checked the signature. Decoding never panics, whatever the input (see the tests).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;

use crate::intern::{Str, Strs};
use crate::recent::Recent;

/// How deep nested JWTs (`cty: JWT`) are followed.
const MAX_NESTING: usize = 3;

/// What a token string is, as far as its shape tells.
// Shapes are built, read and dropped one token at a time: the size difference is harmless.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum Shape {
    /// Not JOSE: an opaque token (it may still contain dots).
    Opaque,
    /// A signed token (JWS compact, three segments).
    Jws(Jws),
    /// An encrypted token (JWE compact, five segments): nothing inside can be read.
    Jwe { header: Header },
    /// Looks like JOSE (starts `eyJ`, or its header decodes) but is broken; says why.
    Malformed { reason: String },
}

impl Shape {
    pub fn is_jose(&self) -> bool {
        matches!(self, Shape::Jws(_) | Shape::Jwe { .. })
    }
    /// The claims, when this is a JWS whose payload is a JSON object.
    pub fn claims(&self) -> Option<&Claims> {
        match self {
            Shape::Jws(j) => j.claims(),
            _ => None,
        }
    }
    /// The claims, taken out of the shape (no copy).
    pub fn into_claims(self) -> Option<Box<Claims>> {
        let Shape::Jws(mut j) = self else { return None };
        loop {
            match j.payload {
                Payload::Claims(c) => return Some(c),
                Payload::Nested(inner) => match *inner {
                    Shape::Jws(next) => j = next,
                    _ => return None,
                },
                _ => return None,
            }
        }
    }
}

/// The protected header fields harken reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Header {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc: Option<Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typ: Option<Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cty: Option<Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<Str>,
}

/// A decoded JWS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Jws {
    pub header: Header,
    pub payload: Payload,
    /// Signature length in bytes (0 for an unsecured `alg: none` token).
    pub signature_bytes: usize,
}

impl Jws {
    /// The innermost claims (following nested JWTs).
    pub fn claims(&self) -> Option<&Claims> {
        match &self.payload {
            Payload::Claims(c) => Some(c),
            Payload::Nested(inner) => inner.claims(),
            _ => None,
        }
    }
}

/// What a JWS carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// A JSON object: JWT claims.
    Claims(Box<Claims>),
    /// A nested JWT (`cty: JWT`): the inner token's shape.
    Nested(Box<Shape>),
    /// Valid JSON that is not an object (a string, number, array): not JWT claims.
    NotClaims { bytes: usize },
    /// UTF-8 text that is not JSON: a JWS, but not a JWT.
    Text { bytes: usize },
    /// Bytes that are not UTF-8 text.
    Binary { bytes: usize },
}

/// The registered and commonly used claims (RFC 7519, RFC 8693, RFC 9068), read leniently:
/// a claim of an unexpected type is left out rather than failing the token.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Claims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<Str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<Str>,
    #[serde(skip_serializing_if = "<[Str]>::is_empty")]
    pub aud: Strs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<Str>,
    /// From `scope` (space-separated string or array) or `scp` (string or array).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Strs>,
    #[serde(skip_serializing_if = "<[Str]>::is_empty")]
    pub roles: Strs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azp: Option<Str>,
    /// `client_id`, else `cid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<Str>,
}

/// The claims [`Claims`] reads, in the order of [`Claims::from_fields`]'s slots.
const CLAIM_KEYS: [&str; 13] =
    ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "scp", "roles", "azp", "client_id", "cid"];

/// The header fields [`Header`] reads, in the order of [`header_of`]'s slots.
const HEADER_KEYS: [&str; 5] = ["alg", "enc", "typ", "cty", "kid"];

impl Claims {
    /// The claims of an object already parsed (a JSON log's `jwt_claims`).
    pub fn from_object(o: &Map<String, Value>) -> Claims {
        Claims::from_fields(CLAIM_KEYS.map(|k| o.get(k).map(Raw::of)))
    }

    /// The claims from their values, one slot per [`CLAIM_KEYS`] entry (None: absent).
    fn from_fields(f: [Option<Raw<'_>>; 13]) -> Claims {
        let [iss, sub, aud, exp, nbf, iat, jti, scope, scp, roles, azp, client_id, cid] = f;
        // Issuers, audiences, scopes, parties and clients repeat across tokens: pooled.
        // Subjects and token ids are each token's own.
        let own = |v: Option<Raw<'_>>| v.as_ref().and_then(Raw::text).map(|v| Str::new(&v));
        let s = |v: &Option<Raw<'_>>| v.as_ref().and_then(Raw::text).map(|v| Str::interned(&v));
        let list = |v: Option<Raw<'_>>| v.map(|v| Strs::interned(v.strings())).unwrap_or_default();
        let date = |v: Option<Raw<'_>>| v.as_ref().and_then(Raw::date);
        Claims {
            iss: s(&iss),
            sub: own(sub),
            aud: list(aud),
            exp: date(exp),
            nbf: date(nbf),
            iat: date(iat),
            jti: own(jti),
            // `scope` when present, whatever its value; else `scp`.
            scopes: scope.or(scp).map(|v| Strs::interned(v.scopes())),
            roles: list(roles),
            azp: s(&azp),
            client_id: s(&client_id).or_else(|| s(&cid)),
        }
    }
}

/// A claim's value as [`Claims`] reads it: a string (borrowed from the token's text when it
/// has no escapes), a number, an array (its strings and numbers, as text), or anything else.
/// Read straight from the payload's text ([`object_fields`]), not through a [`Value`] tree:
/// every JWT of a capture is decoded, most of them once.
enum Raw<'a> {
    Str(Cow<'a, str>),
    Num(serde_json::Number),
    List(Vec<Cow<'a, str>>),
    Other,
}

impl<'a> Raw<'a> {
    fn of(v: &'a Value) -> Raw<'a> {
        match v {
            Value::String(s) => Raw::Str(Cow::Borrowed(s)),
            Value::Number(n) => Raw::Num(n.clone()),
            Value::Array(a) => Raw::List(a.iter().filter_map(str_of).collect()),
            _ => Raw::Other,
        }
    }

    /// A string claim as text, or a number written out.
    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Raw::Str(s) => Some(Cow::Borrowed(s)),
            Raw::Num(n) => Some(Cow::Owned(n.to_string())),
            _ => None,
        }
    }

    /// A string, or the strings (and numbers) of an array.
    fn strings(&self) -> Vec<Cow<'_, str>> {
        match self {
            Raw::Str(s) => vec![Cow::Borrowed(s.as_ref())],
            Raw::List(l) => l.iter().map(|s| Cow::Borrowed(s.as_ref())).collect(),
            _ => Vec::new(),
        }
    }

    /// `scope`/`scp`: a space-separated string or an array of strings.
    fn scopes(&self) -> Vec<String> {
        match self {
            Raw::Str(s) => s.split_whitespace().map(str::to_string).collect(),
            Raw::List(l) => l.iter().flat_map(|s| s.split_whitespace().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    }

    /// A NumericDate (seconds since the epoch; fractions allowed; numeric strings tolerated).
    fn date(&self) -> Option<i64> {
        let f = match self {
            Raw::Num(n) => n.as_f64()?,
            Raw::Str(s) => s.trim().parse::<f64>().ok()?,
            _ => return None,
        };
        // Year 1 .. 9999: anything else is not a date a server would honour.
        (f.is_finite() && (-62_135_596_800.0..=253_402_300_799.0).contains(&f)).then_some(f.floor() as i64)
    }
}

impl<'de> Deserialize<'de> for Raw<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Raw<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Raw<'de>, E> {
                Ok(Raw::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw<'de>, E> {
                Ok(Raw::Str(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw<'de>, E> {
                Ok(Raw::Num(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw<'de>, E> {
                Ok(Raw::Num(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw<'de>, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Raw::Other, Raw::Num))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Raw<'de>, E> {
                Ok(Raw::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Raw<'de>, E> {
                Ok(Raw::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Raw<'de>, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Raw::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Raw<'de>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = s.next_element::<Raw<'de>>()? {
                    match item {
                        Raw::Str(t) => items.push(t),
                        Raw::Num(n) => items.push(Cow::Owned(n.to_string())),
                        _ => {}
                    }
                }
                Ok(Raw::List(items))
            }
        }
        d.deserialize_any(V)
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// The values of `keys` in a JSON object (the last of a repeated key, as a parsed object
/// keeps), everything else skipped; None when the JSON is not an object.
struct Fields<const N: usize>(&'static [&'static str; N]);

impl<'de, const N: usize> Visitor<'de> for Fields<N> {
    type Value = Option<[Option<Raw<'de>>; N]>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out: [Option<Raw<'de>>; N] = std::array::from_fn(|_| None);
        while let Some(Key(k)) = m.next_key::<Key<'de>>()? {
            match self.0.iter().position(|n| *n == k) {
                Some(i) => out[i] = Some(m.next_value::<Raw<'de>>()?),
                None => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// [`Fields`] of a whole JSON text (trailing characters are an error, as for any JSON).
fn object_fields<'a, R: serde_json::de::Read<'a>, const N: usize>(
    mut de: serde_json::Deserializer<R>,
    keys: &'static [&'static str; N],
) -> Result<Option<[Option<Raw<'a>>; N]>, serde_json::Error> {
    let v = de.deserialize_any(Fields(keys))?;
    de.end()?;
    Ok(v)
}

/// A string claim as text (borrowed: most are pooled, not copied), or a number written out.
fn str_of(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// `scope`/`scp`: a space-separated string or an array of strings.
pub fn scope_list(v: &Value) -> Vec<String> {
    Raw::of(v).scopes()
}

/// A NumericDate (seconds since the epoch; fractions allowed; numeric strings tolerated).
pub(crate) fn num_date(v: &Value) -> Option<i64> {
    Raw::of(v).date()
}

/// base64url without padding, tolerating `=` padding and the standard alphabet.
pub fn b64url(s: &str) -> Option<Vec<u8>> {
    let t = s.trim_end_matches('=');
    if t.bytes().any(|b| b == b'+' || b == b'/') {
        return base64::engine::general_purpose::STANDARD_NO_PAD.decode(t).ok();
    }
    URL_SAFE_NO_PAD.decode(t).ok()
}

/// The header fields of a segment that decodes to a JSON object (only string values count).
fn header_of(bytes: &[u8]) -> Option<Header> {
    let fields = object_fields(serde_json::Deserializer::from_slice(bytes), &HEADER_KEYS).ok()??;
    let [alg, enc, typ, cty, kid] = fields.map(|v| match v {
        Some(Raw::Str(s)) => Some(Str::interned(&s)),
        _ => None,
    });
    Some(Header { alg, enc, typ, cty, kid })
}

/// [`header_of`] an encoded header segment, remembering the last eight on this thread
/// ([`Recent`]): the tokens of one issuer share a handful of headers (algorithm, type, and one
/// of a few key ids as the issuer rotates its keys), so a capture's stream of distinct tokens
/// mostly skips decoding them (the 1 GB benchmark HAR, where every request carries a new token
/// signed with one of four keys, decoded a header for three tokens in four with the last one
/// only). Segments past 1 KiB are not remembered.
fn header_of_segment(segment: &str) -> Option<Header> {
    thread_local! {
        static SEEN: std::cell::RefCell<Recent<Option<Header>, 8, 1024>> = const { std::cell::RefCell::new(Recent::new()) };
    }
    SEEN.with_borrow_mut(|seen| seen.get_or(segment.as_bytes(), || b64url(segment).and_then(|b| header_of(&b))))
}

/// The signature length each fixed-size algorithm produces.
fn signature_len(alg: &str) -> Option<&'static [usize]> {
    Some(match alg {
        "HS256" => &[32],
        "ES256" | "ES256K" => &[64],
        "HS384" => &[48],
        "HS512" => &[64],
        "ES384" => &[96],
        "ES512" => &[132],
        "EdDSA" | "Ed25519" => &[64],
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => &[128, 256, 384, 512, 768, 1024],
        _ => return None,
    })
}

/// Classify and decode a token string. Never fails: every input gets a [`Shape`].
pub fn decode(token: &str) -> Shape {
    decode_at(token, 0)
}

fn decode_at(token: &str, depth: usize) -> Shape {
    let token = token.trim();
    let malformed = |r: String| Shape::Malformed { reason: r };
    let parts: Vec<&str> = token.split('.').collect();
    let looks_jose = token.starts_with("eyJ");
    let header = parts.first().and_then(|h| header_of_segment(h));
    let Some(header) = header else {
        if looks_jose {
            return malformed(format!(
                "starts like a JWT (eyJ…) but its header segment does not decode to a JSON object ({} segment{})",
                parts.len(),
                if parts.len() == 1 { "" } else { "s" }
            ));
        }
        return Shape::Opaque;
    };
    // A JOSE header names an algorithm; a base64 blob that happens to decode to JSON without
    // `alg` is not JOSE.
    if header.alg.is_none() {
        return if looks_jose && parts.len() >= 2 {
            malformed("its header decodes to JSON but has no \"alg\"".into())
        } else {
            Shape::Opaque
        };
    }
    match parts.len() {
        5 => {
            if header.enc.is_none() {
                return malformed("five segments (JWE) but the header has no \"enc\"".into());
            }
            if parts.iter().enumerate().any(|(i, p)| (i != 1 && p.is_empty()) || b64url(p).is_none()) {
                return malformed("a JWE segment is empty or not base64url (truncated?)".into());
            }
            Shape::Jwe { header }
        }
        3 => {
            let Some(pbytes) = b64url(parts[1]) else {
                return malformed("the payload segment is not base64url (truncated or garbled)".into());
            };
            let Some(sig) = b64url(parts[2]) else {
                return malformed("the signature segment is not base64url (truncated or garbled)".into());
            };
            let alg = header.alg.clone().unwrap_or_default();
            if alg.eq_ignore_ascii_case("none") {
                if !sig.is_empty() {
                    return malformed("alg is \"none\" but a signature is present".into());
                }
            } else if sig.is_empty() {
                return malformed(format!("no signature, though the header says alg {alg} (truncated?)"));
            } else if let Some(lens) = signature_len(&alg) {
                if !lens.contains(&sig.len()) {
                    return malformed(format!(
                        "the signature is {} bytes; {alg} makes {} (truncated?)",
                        sig.len(),
                        lens.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(" or ")
                    ));
                }
            }
            let payload = payload_of(&header, &pbytes, depth);
            match payload {
                Ok(payload) => Shape::Jws(Jws { header, payload, signature_bytes: sig.len() }),
                Err(r) => malformed(r),
            }
        }
        n => malformed(format!(
            "its header is a JOSE header (alg {}) but it has {n} segment{}; a JWS has 3, a JWE 5 (truncated?)",
            header.alg.as_deref().unwrap_or("?"),
            if n == 1 { "" } else { "s" }
        )),
    }
}

fn payload_of(header: &Header, bytes: &[u8], depth: usize) -> Result<Payload, String> {
    let n = bytes.len();
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(Payload::Binary { bytes: n });
    };
    let nested = header.cty.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("JWT"));
    if nested && depth < MAX_NESTING {
        let inner = decode_at(text, depth + 1);
        if inner.is_jose() {
            return Ok(Payload::Nested(Box::new(inner)));
        }
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return match object_fields(serde_json::Deserializer::from_str(text), &CLAIM_KEYS) {
            Ok(Some(fields)) => Ok(Payload::Claims(Box::new(Claims::from_fields(fields)))),
            Ok(None) => Ok(Payload::NotClaims { bytes: n }),
            Err(e) => Err(format!("the payload starts as JSON but does not parse ({e}): truncated or garbled")),
        };
    }
    match serde_json::from_str::<IgnoredAny>(text) {
        Ok(_) => Ok(Payload::NotClaims { bytes: n }),
        Err(_) => Ok(Payload::Text { bytes: n }),
    }
}

/// One sentence describing a shape, for tables and notes.
pub fn describe(shape: &Shape) -> String {
    match shape {
        Shape::Opaque => "opaque (not JOSE)".into(),
        Shape::Jwe { header } => format!(
            "JWE, encrypted (alg {}, enc {}): contents cannot be read",
            header.alg.as_deref().unwrap_or("?"),
            header.enc.as_deref().unwrap_or("?")
        ),
        Shape::Malformed { reason } => format!("malformed: {reason}"),
        Shape::Jws(j) => {
            let alg = j.header.alg.as_deref().unwrap_or("?");
            match &j.payload {
                Payload::Claims(_) => format!("JWT (JWS {alg}) with claims"),
                Payload::Nested(inner) => format!("nested JWT (outer JWS {alg}): {}", describe(inner)),
                Payload::NotClaims { bytes } => {
                    format!("JWS {alg}, payload is JSON but not a claims object ({bytes} bytes): not a JWT")
                }
                Payload::Text { bytes } => {
                    format!("JWS {alg}, payload is not JSON claims ({bytes} bytes of text): not a JWT")
                }
                Payload::Binary { bytes } => format!("JWS {alg}, payload is binary ({bytes} bytes): not a JWT"),
            }
        }
    }
}

/// Verification keys (`--jwks FILE`): a JWK Set `{"keys":[…]}` or a single JWK.
#[derive(Default)]
pub struct Keys {
    keys: Vec<(Option<String>, Option<String>, jsonwebtoken::DecodingKey)>,
    /// Keys that could not be used, and why.
    pub skipped: Vec<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("keys", &self.keys.len()).field("skipped", &self.skipped).finish()
    }
}

/// The result of checking one JWS signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signature {
    /// No key set was given: the signature was not checked (the default).
    Unchecked,
    /// A key of the set verified it.
    Verified,
    /// A key matching the token (by `kid`, or the only candidates) did not verify it.
    Invalid,
    /// No key in the set fits this token (`kid` or algorithm family).
    NoKey,
    /// `alg: none`, or an algorithm harken cannot check.
    Unsupported,
}

impl Keys {
    /// Parse a JWK Set (or one JWK). Keys that cannot be used are listed in `skipped`.
    pub fn parse(text: &str) -> Result<Keys, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let list: Vec<Value> = match v {
            Value::Object(ref o) if o.get("keys").is_some_and(Value::is_array) => {
                o.get("keys").and_then(Value::as_array).cloned().unwrap_or_default()
            }
            Value::Object(_) => vec![v],
            _ => return Err("expected a JWK Set {\"keys\":[…]} or one JWK object".into()),
        };
        let mut out = Keys::default();
        for (i, k) in list.into_iter().enumerate() {
            let kid = k.get("kid").and_then(Value::as_str).map(str::to_string);
            let alg = k.get("alg").and_then(Value::as_str).map(str::to_string);
            let name = kid.clone().unwrap_or_else(|| format!("key #{i}"));
            match serde_json::from_value::<jsonwebtoken::jwk::Jwk>(k)
                .map_err(|e| e.to_string())
                .and_then(|j| jsonwebtoken::DecodingKey::from_jwk(&j).map_err(|e| e.to_string()))
            {
                Ok(dk) => out.keys.push((kid, alg, dk)),
                Err(e) => out.skipped.push(format!("{name}: {e}")),
            }
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Check a compact JWS against the keys. Returns the outcome and the `kid` (or key
    /// number) that verified it.
    pub fn verify(&self, token: &str) -> (Signature, Option<String>) {
        let token = token.trim();
        let Shape::Jws(j) = decode(token) else { return (Signature::Unsupported, None) };
        self.verify_jws(token, &j)
    }

    /// [`Self::verify`] for a token already decoded (`j` is `decode(token)`'s JWS).
    pub fn verify_jws(&self, token: &str, j: &Jws) -> (Signature, Option<String>) {
        let token = token.trim();
        let Some(alg_name) = j.header.alg.as_deref() else { return (Signature::Unsupported, None) };
        let Ok(alg) = alg_name.parse::<jsonwebtoken::Algorithm>() else { return (Signature::Unsupported, None) };
        let Some((message, signature)) = token.rsplit_once('.') else { return (Signature::Unsupported, None) };
        let candidates: Vec<usize> = match &j.header.kid {
            Some(kid) if self.keys.iter().any(|(k, _, _)| k.as_deref() == Some(kid)) => {
                (0..self.keys.len()).filter(|&i| self.keys[i].0.as_deref() == Some(kid)).collect()
            }
            Some(_) if self.keys.iter().all(|(k, _, _)| k.is_some()) => Vec::new(),
            _ => (0..self.keys.len()).filter(|&i| self.keys[i].1.as_deref().is_none_or(|a| a == alg_name)).collect(),
        };
        let mut tried = false;
        for i in candidates {
            let (kid, _, key) = &self.keys[i];
            match jsonwebtoken::crypto::verify(signature, message.as_bytes(), key, alg) {
                Ok(true) => return (Signature::Verified, Some(kid.clone().unwrap_or_else(|| format!("key #{i}")))),
                Ok(false) => tried = true,
                Err(_) => {}
            }
        }
        (if tried { Signature::Invalid } else { Signature::NoKey }, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn jwt(header: &str, claims: &str, sig_len: usize) -> String {
        format!("{}.{}.{}", b64(header), b64(claims), URL_SAFE_NO_PAD.encode(vec![7u8; sig_len]))
    }

    #[test]
    fn rfc6750_token_is_opaque() {
        assert_eq!(decode("mF_9.B5f-4.1JqM"), Shape::Opaque);
        assert_eq!(decode("abc"), Shape::Opaque);
        assert_eq!(decode("a.b.c.d.e"), Shape::Opaque);
    }

    #[test]
    fn claims_are_read_leniently() {
        let t = jwt(
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            r#"{"iss":"https://login.example","sub":"u1","aud":["a","b"],"exp":1700000000,"nbf":"1699990000","iat":1699990000.5,"scp":["x","y z"],"roles":"admin","cid":"c1","jti":7}"#,
            256,
        );
        let s = decode(&t);
        let c = s.claims().expect("claims");
        assert_eq!(c.iss.as_deref(), Some("https://login.example"));
        assert_eq!(c.aud, Strs::interned(["a", "b"]));
        assert_eq!(c.exp, Some(1_700_000_000));
        assert_eq!(c.nbf, Some(1_699_990_000));
        assert_eq!(c.iat, Some(1_699_990_000));
        assert_eq!(c.scopes, Some(Strs::interned(["x", "y", "z"])));
        assert_eq!(c.roles, Strs::interned(["admin"]));
        assert_eq!(c.client_id.as_deref(), Some("c1"));
        assert_eq!(c.jti.as_deref(), Some("7"));
        let t = jwt(r#"{"alg":"HS256"}"#, r#"{"scope":"openid profile","exp":1e300}"#, 32);
        let c = decode(&t).claims().cloned().expect("claims");
        assert_eq!(c.scopes, Some(Strs::interned(["openid", "profile"])));
        assert_eq!(c.exp, None, "an absurd exp is ignored, not a panic");
    }

    #[test]
    fn remembered_header_is_the_header_of_that_segment() {
        let (a, b) = (r#"{"alg":"RS256","kid":"k1"}"#, r#"{"alg":"ES256","kid":"k2"}"#);
        let long = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, "k".repeat(2000));
        // More distinct headers than the memo holds, twice over, so slots are replaced.
        let keys: Vec<String> = (0..11).map(|k| format!(r#"{{"alg":"RS256","kid":"key-{k}"}}"#)).collect();
        let mut sequence = vec![(a, 256), (a, 256), (b, 64), (a, 256), ("{}", 0), (&long, 32), (&long, 32), (b, 64)];
        sequence.extend(keys.iter().chain(keys.iter().rev()).chain(&keys).map(|k| (k.as_str(), 256)));
        for (i, (header, sig)) in sequence.into_iter().enumerate() {
            let t = jwt(header, &format!(r#"{{"sub":"u{i}"}}"#), sig);
            let fresh = b64url(&b64(header)).and_then(|x| header_of(&x));
            assert_eq!(header_of_segment(&b64(header)), fresh, "{header}");
            match decode(&t) {
                Shape::Jws(j) => assert_eq!(Some(j.header), fresh),
                other => assert!(fresh.is_none_or(|h| h.alg.is_none()), "{other:?}"),
            }
        }
    }

    #[test]
    fn jwe_and_nested() {
        let h = b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
        let jwe = format!("{h}.{}.{}.{}.{}", b64("k"), b64("iv"), b64("ct"), b64("tag"));
        assert!(matches!(decode(&jwe), Shape::Jwe { .. }));
        let inner = jwt(r#"{"alg":"HS256"}"#, r#"{"sub":"inner"}"#, 32);
        let outer =
            format!("{}.{}.{}", b64(r#"{"alg":"HS256","cty":"JWT"}"#), b64(&inner), URL_SAFE_NO_PAD.encode([1u8; 32]));
        let s = decode(&outer);
        assert!(matches!(&s, Shape::Jws(Jws { payload: Payload::Nested(_), .. })), "{s:?}");
        assert_eq!(s.claims().and_then(|c| c.sub.as_deref()), Some("inner"));
    }

    #[test]
    fn malformed_tokens_say_why() {
        for bad in ["eyJhbGciOi", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0", "eyJ.eyJ.eyJ"] {
            assert!(matches!(decode(bad), Shape::Malformed { .. }), "{bad}");
        }
        // Header is JSON, payload starts as JSON but is cut.
        let t = format!("{}.{}.{}", b64(r#"{"alg":"HS256"}"#), b64(r#"{"sub":"x"#), URL_SAFE_NO_PAD.encode([1u8; 32]));
        match decode(&t) {
            Shape::Malformed { reason } => assert!(reason.contains("payload"), "{reason}"),
            s => panic!("{s:?}"),
        }
    }

    #[test]
    fn truncations_never_panic_and_never_pass_as_complete() {
        let full = jwt(r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"sub":"1234567890","name":"Jöhn","iat":1516239022}"#, 32);
        assert!(matches!(decode(&full), Shape::Jws(_)));
        for cut in 0..full.len() {
            let Some(prefix) = full.get(..cut) else { continue };
            let s = decode(prefix);
            assert!(!matches!(s, Shape::Jws(_) | Shape::Jwe { .. }), "prefix {cut} accepted: {s:?}");
        }
        // Arbitrary bytes-as-text: no panic.
        for i in 0..2000u32 {
            let s: String =
                (0..(i % 40)).map(|j| char::from_u32(((i * 31 + j * 7) % 128).max(32)).unwrap_or('a')).collect();
            let _ = decode(&s);
            let _ = decode(&format!("eyJ{s}.{s}.{s}"));
        }
    }

    #[test]
    fn claims_read_from_the_text_are_those_of_the_parsed_object() {
        // Repeated keys (the last counts), escaped keys, numbers where strings are expected,
        // arrays with numbers and nested values, `scope` present but not a list, `client_id`
        // not a string (then `cid`), dates as strings and fractions, unknown nested values.
        let payloads = [
            r#"{"iss":"a","iss":"b","sub":7,"aud":["x",3,{"y":1},["z"]],"exp":"1700000000.5","scope":null,"scp":"s t"}"#,
            r#"{"\u0069ss":"esc\"aped","scp":["a b",2],"client_id":{"k":1},"cid":"c1","iat":1.5e9,"nbf":-1}"#,
            r#"{"aud":"one","roles":["r1","r2"],"azp":1.25,"jti":"j\n1","exp":1e300,"x":[[[]]]}"#,
            r#"{"scope":["read write","admin"],"client_id":"c","sub":null,"exp":-99999999999999}"#,
        ];
        for p in payloads {
            let Ok(Value::Object(o)) = serde_json::from_str::<Value>(p) else { panic!("{p}") };
            let fields = object_fields(serde_json::Deserializer::from_str(p), &CLAIM_KEYS).unwrap().unwrap();
            assert_eq!(Claims::from_fields(fields), Claims::from_object(&o), "{p}");
        }
        // Not an object, and not JSON.
        assert!(object_fields(serde_json::Deserializer::from_str("[1,{}]"), &CLAIM_KEYS).unwrap().is_none());
        assert!(object_fields(serde_json::Deserializer::from_str("{\"a\":1} x"), &CLAIM_KEYS).is_err());
    }
}
